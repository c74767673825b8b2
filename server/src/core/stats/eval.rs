//! Filters and aggregations evaluated over the columnar index, under its read lock.
//!
//! A v0 [`Filter`] becomes a [`Pred`] over one organisation's partition: string conditions are
//! decided once per dictionary entry (so a scan compares integers), `_parent`/`_child` are
//! joined through the other table's partition. Conditions the index cannot decide (free text,
//! custom fields) were replaced by the database's answer (a set of ids) before we get here.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::{Map, Number, Value, json};

use super::agg::{Agg, BucketOrder, FieldRef, Interval, Metric};
use super::columns::{ColKind, Column, Dict, Partition, TableIndex, TableSpec};
use crate::core::error::Error;
use crate::core::query::{Entity, FieldKind, Filter, Op, Sort, schema};

/// Gives the table index of an entity (the live one, or one loaded for this request).
pub trait Tables {
    fn table(&self, e: Entity) -> Option<&TableIndex>;
}

static EMPTY_SPECS: LazyLock<HashMap<Entity, (TableSpec, Partition)>> = LazyLock::new(|| {
    super::columns::INDEXED
        .iter()
        .map(|e| {
            let spec = TableSpec::for_entity(*e);
            let p = Partition::new(&spec);
            (*e, (spec, p))
        })
        .collect()
});

/// One organisation's view of one table.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub entity: Entity,
    pub spec: &'a TableSpec,
    pub dicts: &'a [Dict],
    pub part: &'a Partition,
    pub table: Option<&'a TableIndex>,
}

impl<'a> View<'a> {
    pub fn of(tables: &'a dyn Tables, e: Entity, org: &str) -> Result<View<'a>, Error> {
        if let Some(t) = tables.table(e) {
            if let Some(p) = t.partition(org) {
                return Ok(View { entity: e, spec: &t.spec, dicts: &t.dicts, part: p, table: Some(t) });
            }
            let (_, empty) = EMPTY_SPECS.get(&e).ok_or_else(|| not_indexed(e))?;
            return Ok(View { entity: e, spec: &t.spec, dicts: &t.dicts, part: empty, table: Some(t) });
        }
        Err(not_indexed(e))
    }

    fn col(&self, path: &str) -> Option<(usize, ColKind)> {
        self.spec.column(path)
    }

    /// Live slots.
    pub fn all(&self) -> Vec<u32> {
        (0..self.part.len() as u32).filter(|s| self.part.keys.is_live(*s)).collect()
    }

    fn key(&self, slot: u32) -> Option<Cow<'a, str>> {
        self.part.keys.get(slot)
    }

    fn slot_of(&self, key: &str) -> Option<u32> {
        // Only a record of this partition (organisation) counts.
        self.table.and_then(|t| t.slot(key)).and_then(|(_, s)| self.part.keys.holds(s, key).then_some(s))
    }
}

fn not_indexed(e: Entity) -> Error {
    Error::Internal(anyhow::anyhow!("{} is not in the statistics index", e.v0_type()))
}

/// A compiled condition over a partition.
pub enum Pred {
    True,
    False,
    And(Vec<Pred>),
    Or(Vec<Pred>),
    Not(Box<Pred>),
    /// The coded value is in `set` (indexed by code); `absent` is the answer for no value.
    Code { col: usize, set: Vec<bool>, absent: bool },
    /// Some code of the list is in `set`; `empty` is the answer for an empty list.
    Codes { col: usize, set: Vec<bool>, empty: bool },
    Num { col: usize, op: Op, v: f64 },
    Date { col: usize, op: Op, v: i64 },
    NumRange { col: usize, from: Option<f64>, to: Option<f64> },
    DateRange { col: usize, from: Option<i64>, to: Option<i64> },
    /// Flag equals `v` (absent = false).
    Bool { col: usize, v: bool },
    Present { col: usize },
    Slots(Vec<bool>),
}

fn compare<T: PartialOrd>(a: T, op: Op, b: T) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Lte => a <= b,
        Op::Gt => a > b,
        Op::Gte => a >= b,
    }
}

impl Pred {
    #[inline]
    pub fn eval(&self, p: &Partition, s: usize) -> bool {
        match self {
            Pred::True => true,
            Pred::False => false,
            Pred::And(v) => v.iter().all(|x| x.eval(p, s)),
            Pred::Or(v) => v.iter().any(|x| x.eval(p, s)),
            Pred::Not(x) => !x.eval(p, s),
            Pred::Code { col, set, absent } => match &p.cols[*col] {
                Column::Code(v) => {
                    let c = v[s] as usize;
                    if c == 0 { *absent } else { set.get(c).copied().unwrap_or(false) }
                }
                _ => false,
            },
            Pred::Codes { col, set, empty } => match &p.cols[*col] {
                Column::Codes(v) => {
                    let l = &v[s];
                    if l.is_empty() { *empty } else { l.iter().any(|c| set.get(*c as usize).copied().unwrap_or(false)) }
                }
                _ => false,
            },
            Pred::Num { col, op, v } => match &p.cols[*col] {
                Column::Num(x) => {
                    let a = x[s];
                    if a.is_nan() { *op == Op::Ne } else { compare(a, *op, *v) }
                }
                _ => false,
            },
            Pred::Date { col, op, v } => match &p.cols[*col] {
                Column::Date(x) => {
                    let a = x[s];
                    if a == i64::MIN { *op == Op::Ne } else { compare(a, *op, *v) }
                }
                _ => false,
            },
            Pred::NumRange { col, from, to } => match &p.cols[*col] {
                Column::Num(x) => {
                    let a = x[s];
                    !a.is_nan() && from.is_none_or(|f| a >= f) && to.is_none_or(|t| a < t)
                }
                _ => false,
            },
            Pred::DateRange { col, from, to } => match &p.cols[*col] {
                Column::Date(x) => {
                    let a = x[s];
                    a != i64::MIN && from.is_none_or(|f| a >= f) && to.is_none_or(|t| a < t)
                }
                _ => false,
            },
            Pred::Bool { col, v } => match &p.cols[*col] {
                Column::Bool(x) => (x[s] == 2) == *v,
                _ => false,
            },
            Pred::Present { col } => match &p.cols[*col] {
                Column::Code(v) => v[s] != 0,
                Column::Num(v) => !v[s].is_nan(),
                Column::Date(v) => v[s] != i64::MIN,
                Column::Bool(v) => v[s] != 0,
                Column::Codes(v) => !v[s].is_empty(),
            },
            Pred::Slots(set) => set.get(s).copied().unwrap_or(false),
        }
    }
}

/// Whether the index can decide `filter` for `entity` by itself (no database round trip).
pub fn supported(filter: &Filter, entity: Entity) -> bool {
    let spec = spec_of(entity);
    let has = |path: &str| spec.is_some_and(|s| s.column(path).is_some());
    match filter {
        Filter::All | Filter::Nothing | Filter::Ids(_) => true,
        Filter::And(v) | Filter::Or(v) => v.iter().all(|f| supported(f, entity)),
        Filter::Not(f) => supported(f, entity),
        Filter::Cmp(f, _, _) | Filter::Between(f, _, _) | Filter::In(f, _) | Filter::Exists(f) => has(&f.path),
        Filter::Like(f, _) | Filter::Wildcard(f, _) => {
            has(&f.path) && matches!(f.kind, FieldKind::Keyword | FieldKind::Keywords | FieldKind::Link)
        }
        Filter::FullText(_) => false,
        Filter::ParentId(_, _) => true,
        Filter::Parent(p, q) | Filter::Child(p, q) => spec_of(*p).is_some() && supported(q, *p),
    }
}

fn spec_of(e: Entity) -> Option<&'static TableSpec> {
    EMPTY_SPECS.get(&e).map(|(s, _)| s)
}

fn search(msg: impl Into<String>) -> Error {
    Error::Search(msg.into())
}

fn as_f64(v: &Value, path: &str) -> Result<f64, Error> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| search(format!("{path} expects a number"))),
        Value::String(s) => s.trim().parse().map_err(|_| search(format!("{path} expects a number, not {s:?}"))),
        other => Err(search(format!("{path} expects a number, not {other}"))),
    }
}

fn as_bool(v: &Value, path: &str) -> Result<bool, Error> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
        other => Err(search(format!("{path} expects true or false, not {other}"))),
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `*` and `?` glob match, case-insensitive.
fn glob(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(sp) = star {
            p = sp + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == '*' {
        p += 1;
    }
    p == pattern.len()
}

/// A set over a dictionary's codes: `f` decides each value once.
fn dict_set(dict: &Dict, f: impl Fn(&str) -> bool) -> Vec<bool> {
    let mut set = vec![false; dict.len() + 1];
    for (i, v) in dict.values.iter().enumerate() {
        set[i + 1] = f(v);
    }
    set
}

fn string_cmp(a: &str, op: Op, b: &str) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Lte => a <= b,
        Op::Gt => a > b,
        Op::Gte => a >= b,
    }
}

/// Compile `filter` for the view's partition.
pub fn compile(filter: &Filter, view: &View, tables: &dyn Tables, org: &str) -> Result<Pred, Error> {
    Ok(match filter {
        Filter::All => Pred::True,
        Filter::Nothing => Pred::False,
        Filter::And(v) => Pred::And(v.iter().map(|f| compile(f, view, tables, org)).collect::<Result<_, _>>()?),
        Filter::Or(v) => Pred::Or(v.iter().map(|f| compile(f, view, tables, org)).collect::<Result<_, _>>()?),
        Filter::Not(f) => Pred::Not(Box::new(compile(f, view, tables, org)?)),
        Filter::Ids(ids) => {
            let mut set = vec![false; view.part.len()];
            for id in ids {
                if let Some(s) = view.slot_of(id) {
                    set[s as usize] = true;
                }
            }
            Pred::Slots(set)
        }
        Filter::Cmp(f, op, v) => {
            let (col, kind) = view.col(&f.path).ok_or_else(|| unsupported(&f.path))?;
            match kind {
                ColKind::Code => {
                    let b = as_text(v);
                    let set = dict_set(&view.dicts[col], |x| string_cmp(x, *op, &b));
                    Pred::Code { col, set, absent: *op == Op::Ne }
                }
                ColKind::Codes => match op {
                    Op::Ne => {
                        let b = as_text(v);
                        let set = dict_set(&view.dicts[col], |x| x == b);
                        Pred::Not(Box::new(Pred::Codes { col, set, empty: false }))
                    }
                    _ => {
                        let b = as_text(v);
                        let set = dict_set(&view.dicts[col], |x| string_cmp(x, *op, &b));
                        Pred::Codes { col, set, empty: false }
                    }
                },
                ColKind::Num => Pred::Num { col, op: *op, v: as_f64(v, &f.path)? },
                ColKind::Date => Pred::Date { col, op: *op, v: as_f64(v, &f.path)? as i64 },
                ColKind::Bool => {
                    let b = as_bool(v, &f.path)?;
                    match op {
                        Op::Eq => Pred::Bool { col, v: b },
                        Op::Ne => Pred::Not(Box::new(Pred::Bool { col, v: b })),
                        _ => return Err(search(format!("{} is true or false: it cannot be compared", f.path))),
                    }
                }
            }
        }
        Filter::Between(f, from, to) => {
            let (col, kind) = view.col(&f.path).ok_or_else(|| unsupported(&f.path))?;
            match kind {
                ColKind::Num => Pred::NumRange {
                    col,
                    from: from.as_ref().map(|x| as_f64(x, &f.path)).transpose()?,
                    to: to.as_ref().map(|x| as_f64(x, &f.path)).transpose()?,
                },
                ColKind::Date => Pred::DateRange {
                    col,
                    from: from.as_ref().map(|x| as_f64(x, &f.path).map(|x| x as i64)).transpose()?,
                    to: to.as_ref().map(|x| as_f64(x, &f.path).map(|x| x as i64)).transpose()?,
                },
                ColKind::Code | ColKind::Codes => {
                    let (a, b) = (from.as_ref().map(as_text), to.as_ref().map(as_text));
                    let set = dict_set(&view.dicts[col], |x| a.as_deref().is_none_or(|a| x >= a) && b.as_deref().is_none_or(|b| x < b));
                    if kind == ColKind::Code { Pred::Code { col, set, absent: false } } else { Pred::Codes { col, set, empty: false } }
                }
                ColKind::Bool => return Err(search(format!("{} is true or false: no range", f.path))),
            }
        }
        Filter::In(f, values) => {
            let (col, kind) = view.col(&f.path).ok_or_else(|| unsupported(&f.path))?;
            match kind {
                ColKind::Code | ColKind::Codes => {
                    let wanted: Vec<String> = values.iter().map(as_text).collect();
                    let set = dict_set(&view.dicts[col], |x| wanted.iter().any(|w| w == x));
                    if kind == ColKind::Code { Pred::Code { col, set, absent: false } } else { Pred::Codes { col, set, empty: false } }
                }
                ColKind::Num => Pred::Or(
                    values.iter().map(|v| Ok(Pred::Num { col, op: Op::Eq, v: as_f64(v, &f.path)? })).collect::<Result<_, Error>>()?,
                ),
                ColKind::Date => Pred::Or(
                    values
                        .iter()
                        .map(|v| Ok(Pred::Date { col, op: Op::Eq, v: as_f64(v, &f.path)? as i64 }))
                        .collect::<Result<_, Error>>()?,
                ),
                ColKind::Bool => Pred::Or(
                    values.iter().map(|v| Ok(Pred::Bool { col, v: as_bool(v, &f.path)? })).collect::<Result<_, Error>>()?,
                ),
            }
        }
        Filter::Exists(f) => {
            let (col, _) = view.col(&f.path).ok_or_else(|| unsupported(&f.path))?;
            Pred::Present { col }
        }
        Filter::Like(f, needle) => {
            let (col, kind) = view.col(&f.path).ok_or_else(|| unsupported(&f.path))?;
            let needle = needle.to_lowercase();
            let set = dict_set(&view.dicts[col], |x| x.to_lowercase().contains(&needle));
            match kind {
                ColKind::Code => Pred::Code { col, set, absent: false },
                ColKind::Codes => Pred::Codes { col, set, empty: false },
                _ => return Err(unsupported(&f.path)),
            }
        }
        Filter::Wildcard(f, pattern) => {
            let (col, kind) = view.col(&f.path).ok_or_else(|| unsupported(&f.path))?;
            let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
            let set = dict_set(&view.dicts[col], |x| glob(&pattern, &x.to_lowercase().chars().collect::<Vec<_>>()));
            match kind {
                ColKind::Code => Pred::Code { col, set, absent: false },
                ColKind::Codes => Pred::Codes { col, set, empty: false },
                _ => return Err(unsupported(&f.path)),
            }
        }
        Filter::FullText(_) => return Err(unsupported("full text")),
        Filter::ParentId(parent, id) => {
            let link = link_of(view.entity, *parent)?;
            let (col, _) = view.col(link).ok_or_else(|| unsupported(link))?;
            let set = dict_set(&view.dicts[col], |x| x == id);
            Pred::Code { col, set, absent: false }
        }
        Filter::Parent(parent, q) => {
            let link = link_of(view.entity, *parent)?;
            let (col, _) = view.col(link).ok_or_else(|| unsupported(link))?;
            let pview = View::of(tables, *parent, org)?;
            let pred = compile(q, &pview, tables, org)?;
            let dict = &view.dicts[col];
            let mut set = vec![false; dict.len() + 1];
            for s in 0..pview.part.len() {
                if pview.part.keys.is_live(s as u32) && pred.eval(pview.part, s) {
                    if let Some(c) = pview.key(s as u32).and_then(|k| dict.lookup(&k)) {
                        set[c as usize] = true;
                    }
                }
            }
            Pred::Code { col, set, absent: false }
        }
        Filter::Child(child, q) => {
            let link = schema(view.entity)
                .children
                .iter()
                .find(|(c, _)| c == child)
                .map(|(_, l)| *l)
                .ok_or_else(|| search(format!("{} has no child {}", view.entity.v0_type(), child.v0_type())))?;
            let cview = View::of(tables, *child, org)?;
            let (ccol, _) = cview.col(link).ok_or_else(|| unsupported(link))?;
            let pred = compile(q, &cview, tables, org)?;
            let mut set = vec![false; view.part.len()];
            if let Column::Code(links) = &cview.part.cols[ccol] {
                for s in 0..cview.part.len() {
                    if cview.part.keys.is_live(s as u32) && pred.eval(cview.part, s) {
                        if let Some(parent_key) = cview.dicts[ccol].value(links[s]) {
                            if let Some(ps) = view.slot_of(parent_key) {
                                set[ps as usize] = true;
                            }
                        }
                    }
                }
            }
            Pred::Slots(set)
        }
    })
}

fn link_of(entity: Entity, parent: Entity) -> Result<&'static str, Error> {
    schema(entity)
        .parent
        .filter(|(p, _)| *p == parent)
        .map(|(_, l)| l)
        .ok_or_else(|| search(format!("{} has no parent {}", entity.v0_type(), parent.v0_type())))
}

fn unsupported(what: &str) -> Error {
    // `resolve` sends what the index cannot decide to the database first: reaching this is a bug.
    Error::Internal(anyhow::anyhow!("statistics index cannot evaluate {what}"))
}

/// The slots of `view` matching `pred`.
pub fn select(view: &View, pred: &Pred) -> Vec<u32> {
    let part = view.part;
    let n = part.len();
    let live = Bits { words: part.live_words.clone(), n };
    pred.bits(part, n, Some(&live)).slots()
}

/// One bit per slot of a partition, 64 to a word: a predicate evaluated a column at a time
/// (a tight loop over one vector each) instead of slot by slot through the whole predicate
/// tree, which cost 50-80 ms per filtered list over a million alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bits {
    words: Vec<u64>,
    n: usize,
}

impl Bits {
    pub fn from_fn(n: usize, f: impl Fn(usize) -> bool) -> Bits {
        let mut words = vec![0u64; n.div_ceil(64)];
        for (w, word) in words.iter_mut().enumerate() {
            let base = w * 64;
            let end = (base + 64).min(n);
            let mut x = 0u64;
            for s in base..end {
                x |= u64::from(f(s)) << (s - base);
            }
            *word = x;
        }
        Bits { words, n }
    }

    /// `f` tested only on the slots set in `within` (all of `0..n` without it): the others are
    /// clear. Full words are read straight through; sparse ones bit by bit.
    pub fn build(n: usize, within: Option<&Bits>, f: impl Fn(usize) -> bool) -> Bits {
        let Some(mask) = within else { return Bits::from_fn(n, f) };
        let mut words = vec![0u64; n.div_ceil(64)];
        for (w, (word, m)) in words.iter_mut().zip(&mask.words).enumerate() {
            let base = w * 64;
            let mut x = 0u64;
            if *m == u64::MAX {
                for i in 0..64 {
                    x |= u64::from(f(base + i)) << i;
                }
            } else {
                let mut m = *m;
                while m != 0 {
                    let i = m.trailing_zeros() as usize;
                    x |= u64::from(f(base + i)) << i;
                    m &= m - 1;
                }
            }
            *word = x;
        }
        Bits { words, n }
    }

    fn all(n: usize, v: bool) -> Bits {
        let mut b = Bits { words: vec![if v { u64::MAX } else { 0 }; n.div_ceil(64)], n };
        b.trim();
        b
    }

    /// Clear the bits past `n` in the last word.
    fn trim(&mut self) {
        if self.n % 64 != 0 {
            if let Some(last) = self.words.last_mut() {
                *last &= (1u64 << (self.n % 64)) - 1;
            }
        }
    }

    pub fn and(&mut self, o: &Bits) {
        self.words.iter_mut().zip(&o.words).for_each(|(a, b)| *a &= b);
    }

    fn or(&mut self, o: &Bits) {
        self.words.iter_mut().zip(&o.words).for_each(|(a, b)| *a |= b);
    }

    fn not(&mut self) {
        self.words.iter_mut().for_each(|a| *a = !*a);
        self.trim();
    }

    fn none(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    /// The slots whose bit is set, ascending.
    pub fn slots(&self) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.words.iter().map(|w| w.count_ones() as usize).sum());
        for (i, w) in self.words.iter().enumerate() {
            let mut w = *w;
            while w != 0 {
                out.push((i * 64) as u32 + w.trailing_zeros());
                w &= w - 1;
            }
        }
        out
    }
}

impl Pred {
    /// How much a slot costs to test, roughly: one vector read, a tag list, a tree.
    fn cost(&self) -> u8 {
        match self {
            Pred::True | Pred::False => 0,
            Pred::Code { .. } | Pred::Num { .. } | Pred::Date { .. } | Pred::NumRange { .. } | Pred::DateRange { .. } | Pred::Bool { .. } | Pred::Present { .. } => 1,
            Pred::Slots(_) => 1,
            Pred::Codes { .. } => 2,
            Pred::And(_) | Pred::Or(_) | Pred::Not(_) => 3,
        }
    }

    /// The bits of the slots `0..n` of `p` (only those set in `within`, when given) for which
    /// the predicate holds. The children of an `And` are tested only where the earlier ones
    /// held, so an expensive condition (a tag list) reads only the slots left.
    pub fn bits(&self, p: &Partition, n: usize, within: Option<&Bits>) -> Bits {
        let wrong_kind = || Bits::all(n, false);
        match self {
            Pred::True => within.cloned().unwrap_or_else(|| Bits::all(n, true)),
            Pred::False => Bits::all(n, false),
            Pred::And(v) => {
                let mut acc: Option<Bits> = within.cloned();
                // Cheap conditions first: the later ones read only the slots left.
                let mut v: Vec<&Pred> = v.iter().collect();
                v.sort_by_key(|x| x.cost());
                for x in v {
                    let b = x.bits(p, n, acc.as_ref());
                    let done = b.none();
                    acc = Some(b);
                    if done {
                        break;
                    }
                }
                acc.unwrap_or_else(|| Bits::all(n, true))
            }
            Pred::Or(v) => {
                let mut acc = Bits::all(n, false);
                for x in v {
                    acc.or(&x.bits(p, n, within));
                }
                acc
            }
            Pred::Not(x) => {
                let mut b = x.bits(p, n, within);
                b.not();
                if let Some(m) = within {
                    b.and(m);
                }
                b
            }
            Pred::Code { col, set, absent } => match &p.cols[*col] {
                Column::Code(v) => Bits::build(n, within, |s| {
                    let c = v[s] as usize;
                    if c == 0 { *absent } else { set.get(c).copied().unwrap_or(false) }
                }),
                _ => wrong_kind(),
            },
            Pred::Codes { col, set, empty } => {
                let Column::Codes(x) = &p.cols[*col] else { return wrong_kind() };
                Bits::build(n, within, |s| {
                    let l = &x[s];
                    if l.is_empty() { *empty } else { l.iter().any(|c| set.get(*c as usize).copied().unwrap_or(false)) }
                })
            }
            Pred::Num { col, op, v } => {
                let Column::Num(x) = &p.cols[*col] else { return wrong_kind() };
                let (op, v) = (*op, *v);
                Bits::build(n, within, |s| {
                    let a = x[s];
                    if a.is_nan() { op == Op::Ne } else { compare(a, op, v) }
                })
            }
            Pred::NumRange { col, from, to } => {
                let Column::Num(x) = &p.cols[*col] else { return wrong_kind() };
                let (from, to) = (*from, *to);
                Bits::build(n, within, |s| {
                    let a = x[s];
                    !a.is_nan() && from.is_none_or(|f| a >= f) && to.is_none_or(|t| a < t)
                })
            }
            Pred::Bool { col, v } => {
                let Column::Bool(x) = &p.cols[*col] else { return wrong_kind() };
                let v = *v;
                Bits::build(n, within, |s| (x[s] == 2) == v)
            }
            Pred::Date { col, op, v } => {
                let Column::Date(x) = &p.cols[*col] else { return wrong_kind() };
                let (op, v) = (*op, *v);
                Bits::build(n, within, |s| {
                    let a = x[s];
                    if a == i64::MIN { op == Op::Ne } else { compare(a, op, v) }
                })
            }
            Pred::DateRange { col, from, to } => {
                let Column::Date(x) = &p.cols[*col] else { return wrong_kind() };
                let (from, to) = (from.unwrap_or(i64::MIN + 1), to.unwrap_or(i64::MAX));
                let open_end = to == i64::MAX;
                Bits::build(n, within, |s| {
                    let a = x[s];
                    a != i64::MIN && a >= from && (open_end || a < to)
                })
            }
            // The other kinds: slot by slot, as `eval` does.
            other => Bits::build(n, within, |s| other.eval(p, s)),
        }
    }
}

fn filter_slots(view: &View, sel: &[u32], pred: &Pred) -> Vec<u32> {
    sel.iter().copied().filter(|s| pred.eval(view.part, *s as usize)).collect()
}

/// A number as TheHive writes it (JSON has no NaN: empty results are 0).
fn num(x: f64) -> Value {
    Number::from_f64(if x.is_finite() { x } else { 0.0 }).map(Value::Number).unwrap_or(json!(0))
}

/// Placeholder for `top` documents, filled in by the caller from the database.
pub const TOP_KEYS: &str = "$waggle_top_keys";

/// Run `aggs` over `sel`, merging their results into one object (TheHive's shape).
pub fn run(aggs: &[Agg], view: &View, tables: &dyn Tables, org: &str, sel: &[u32]) -> Result<Map<String, Value>, Error> {
    let mut out = Map::new();
    for a in aggs {
        run_one(a, view, tables, org, sel, &mut out)?;
    }
    Ok(out)
}

fn metric_values<'a>(view: &'a View, field: &FieldRef, sel: &'a [u32]) -> Result<Box<dyn Iterator<Item = f64> + 'a>, Error> {
    let (col, _) = view.col(&field.path).ok_or_else(|| unsupported(&field.path))?;
    let div = field.computed.unwrap_or(1.0);
    Ok(match &view.part.cols[col] {
        Column::Num(v) => Box::new(sel.iter().map(move |s| v[*s as usize]).filter(|x| !x.is_nan()).map(move |x| x / div)),
        Column::Date(v) => Box::new(sel.iter().map(move |s| v[*s as usize]).filter(|x| *x != i64::MIN).map(|x| x as f64)),
        _ => return Err(Error::BadRequest(format!("{} is not numeric", field.name))),
    })
}

fn run_one(agg: &Agg, view: &View, tables: &dyn Tables, org: &str, sel: &[u32], out: &mut Map<String, Value>) -> Result<(), Error> {
    match agg {
        Agg::Count { name, query } => {
            let n = match query {
                Some(q) => {
                    let pred = compile(q, view, tables, org)?;
                    sel.iter().filter(|s| pred.eval(view.part, **s as usize)).count()
                }
                None => sel.len(),
            };
            out.insert(name.clone(), json!(n));
        }
        Agg::Metric { op, name, field, query } => {
            let filtered;
            let sel = match query {
                Some(q) => {
                    let pred = compile(q, view, tables, org)?;
                    filtered = filter_slots(view, sel, &pred);
                    &filtered[..]
                }
                None => sel,
            };
            let values = metric_values(view, field, sel)?;
            let v = match op {
                Metric::Sum => values.sum::<f64>(),
                Metric::Avg => {
                    let (s, n) = values.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
                    if n == 0 { 0.0 } else { s / n as f64 }
                }
                Metric::Min => values.fold(f64::INFINITY, f64::min),
                Metric::Max => values.fold(f64::NEG_INFINITY, f64::max),
            };
            out.insert(name.clone(), num(v));
        }
        Agg::Field { field, size, order, select, .. } => {
            let groups = group_by_field(view, field, sel)?;
            let mut buckets: Vec<(String, Vec<u32>, Option<Map<String, Value>>)> =
                groups.into_iter().map(|(k, v)| (k, v, None)).collect();
            let by_sub = order.iter().any(|o| matches!(o, BucketOrder::Sub { .. }));
            if by_sub {
                for b in &mut buckets {
                    b.2 = Some(run(select, view, tables, org, &b.1)?);
                }
            }
            let order: Vec<BucketOrder> =
                if order.is_empty() { vec![BucketOrder::Count { descending: true }] } else { order.clone() };
            buckets.sort_by(|a, b| {
                for o in &order {
                    let c = match o {
                        BucketOrder::Count { descending } => {
                            let c = a.1.len().cmp(&b.1.len());
                            if *descending { c.reverse() } else { c }
                        }
                        BucketOrder::Key { descending } => {
                            let c = key_cmp(&a.0, &b.0);
                            if *descending { c.reverse() } else { c }
                        }
                        BucketOrder::Sub { name, descending } => {
                            let x = a.2.as_ref().and_then(|m| m.get(name)).and_then(Value::as_f64).unwrap_or(0.0);
                            let y = b.2.as_ref().and_then(|m| m.get(name)).and_then(Value::as_f64).unwrap_or(0.0);
                            let c = x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal);
                            if *descending { c.reverse() } else { c }
                        }
                    };
                    if c != std::cmp::Ordering::Equal {
                        return c;
                    }
                }
                key_cmp(&a.0, &b.0)
            });
            buckets.truncate(*size);
            for (key, slots, sub) in buckets {
                let sub = match sub {
                    Some(s) => s,
                    None => run(select, view, tables, org, &slots)?,
                };
                merge_into(out, key, Value::Object(sub));
            }
        }
        Agg::Time { fields, interval, select, .. } => {
            for field in fields {
                let (col, _) = view.col(&field.path).ok_or_else(|| unsupported(&field.path))?;
                let Column::Date(dates) = &view.part.cols[col] else {
                    return Err(Error::BadRequest(format!("{} is not a date", field.name)));
                };
                let mut buckets: std::collections::BTreeMap<i64, Vec<u32>> = std::collections::BTreeMap::new();
                for s in sel {
                    let d = dates[*s as usize];
                    if d != i64::MIN {
                        buckets.entry(floor(d, *interval)).or_default().push(*s);
                    }
                }
                let (Some(first), Some(last)) = (buckets.keys().next().copied(), buckets.keys().next_back().copied()) else {
                    continue;
                };
                // Like Elasticsearch's date histogram: empty buckets between the first and the last.
                let mut b = first;
                let mut n = 0;
                while b <= last {
                    n += 1;
                    if n > 10_000 {
                        return Err(Error::BadRequest("Too many time buckets: choose a larger _interval or a shorter period".into()));
                    }
                    let slots = buckets.remove(&b).unwrap_or_default();
                    let sub = run(select, view, tables, org, &slots)?;
                    let mut per_field = Map::new();
                    per_field.insert(field.name.clone(), Value::Object(sub));
                    merge_into(out, b.to_string(), Value::Object(per_field));
                    b = next(b, *interval);
                }
            }
        }
        Agg::Category { categories, select, .. } => {
            for (name, q) in categories {
                let pred = compile(q, view, tables, org)?;
                let slots = filter_slots(view, sel, &pred);
                let sub = run(select, view, tables, org, &slots)?;
                merge_into(out, name.clone(), Value::Object(sub));
            }
        }
        Agg::Top { size, sort, query, .. } => {
            let mut slots = match query {
                Some(q) => {
                    let pred = compile(q, view, tables, org)?;
                    filter_slots(view, sel, &pred)
                }
                None => sel.to_vec(),
            };
            sort_slots(view, &mut slots, sort)?;
            slots.truncate(*size);
            let keys: Vec<Value> = slots.iter().filter_map(|s| view.key(*s)).map(|k| Value::String(k.into_owned())).collect();
            out.insert("top".into(), json!({ TOP_KEYS: keys }));
        }
    }
    Ok(())
}

/// Merge `value` at `key`: objects merge recursively (several aggregations fill one bucket).
pub fn merge_into(out: &mut Map<String, Value>, key: String, value: Value) {
    match (out.get_mut(&key), value) {
        (Some(Value::Object(existing)), Value::Object(new)) => {
            for (k, v) in new {
                merge_into(existing, k, v);
            }
        }
        (_, v) => {
            out.insert(key, v);
        }
    }
}

/// Numeric keys compare as numbers, others as strings.
fn key_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        _ => a.cmp(b),
    }
}

fn number_key(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x}") }
}

fn group_by_field(view: &View, field: &FieldRef, sel: &[u32]) -> Result<Vec<(String, Vec<u32>)>, Error> {
    let (col, _) = view.col(&field.path).ok_or_else(|| unsupported(&field.path))?;
    let dict = &view.dicts[col];
    Ok(match &view.part.cols[col] {
        Column::Code(v) => {
            let mut by: Vec<Vec<u32>> = vec![Vec::new(); dict.len() + 1];
            for s in sel {
                let c = v[*s as usize] as usize;
                if c != 0 {
                    by[c].push(*s);
                }
            }
            by.into_iter()
                .enumerate()
                .filter(|(_, v)| !v.is_empty())
                .filter_map(|(c, v)| dict.value(c as u32).map(|k| (k.to_string(), v)))
                .collect()
        }
        Column::Codes(v) => {
            let mut by: Vec<Vec<u32>> = vec![Vec::new(); dict.len() + 1];
            for s in sel {
                for c in v[*s as usize].iter() {
                    by[*c as usize].push(*s);
                }
            }
            by.into_iter()
                .enumerate()
                .filter(|(_, v)| !v.is_empty())
                .filter_map(|(c, v)| dict.value(c as u32).map(|k| (k.to_string(), v)))
                .collect()
        }
        Column::Num(v) => {
            let mut by: HashMap<u64, Vec<u32>> = HashMap::new();
            for s in sel {
                let x = v[*s as usize];
                if !x.is_nan() {
                    by.entry(x.to_bits()).or_default().push(*s);
                }
            }
            let div = field.computed.unwrap_or(1.0);
            by.into_iter().map(|(k, v)| (number_key(f64::from_bits(k) / div), v)).collect()
        }
        Column::Date(v) => {
            let mut by: HashMap<i64, Vec<u32>> = HashMap::new();
            for s in sel {
                let x = v[*s as usize];
                if x != i64::MIN {
                    by.entry(x).or_default().push(*s);
                }
            }
            by.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
        }
        Column::Bool(v) => {
            let (mut t, mut f) = (Vec::new(), Vec::new());
            for s in sel {
                match v[*s as usize] {
                    2 => t.push(*s),
                    1 => f.push(*s),
                    _ => {}
                }
            }
            let mut out = Vec::new();
            if !f.is_empty() {
                out.push(("false".to_string(), f));
            }
            if !t.is_empty() {
                out.push(("true".to_string(), t));
            }
            out
        }
    })
}

fn sort_slots(view: &View, slots: &mut [u32], sort: &[Sort]) -> Result<(), Error> {
    let default = [Sort { field: crate::core::query::Field { path: "createdAt".into(), kind: FieldKind::Date }, descending: true }];
    let sort = if sort.is_empty() { &default[..] } else { sort };
    let mut keys = Vec::new();
    for s in sort {
        let (col, _) = view
            .col(&s.field.path)
            .ok_or_else(|| Error::BadRequest(format!("top cannot sort by {}: choose a keyword, number or date field", s.field.path)))?;
        keys.push((col, s.descending));
    }
    slots.sort_by(|a, b| cmp_slots(view, &keys, *a, *b));
    Ok(())
}

/// Compare two slots on `keys` (column, descending). Absent values come first in ascending
/// order, as the database orders NONE before any value.
fn cmp_slots(view: &View, keys: &[(usize, bool)], a: u32, b: u32) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (a, b) = (a as usize, b as usize);
    for (col, desc) in keys {
        let c = match &view.part.cols[*col] {
            Column::Code(v) => view.dicts[*col].value(v[a]).cmp(&view.dicts[*col].value(v[b])),
            Column::Num(v) => match (v[a].is_nan(), v[b].is_nan()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                (false, false) => v[a].total_cmp(&v[b]),
            },
            Column::Date(v) => v[a].cmp(&v[b]),
            Column::Bool(v) => v[a].cmp(&v[b]),
            Column::Codes(v) => v[a].len().cmp(&v[b].len()),
        };
        let c = if *desc { c.reverse() } else { c };
        if c != Ordering::Equal {
            return c;
        }
    }
    Ordering::Equal
}

/// The columns a list sorted by `sort` reads, or `None` when a field is not one the index can
/// order as the database does (text and tag lists are not columns in that sense).
pub fn list_order(view: &View, sort: &[Sort]) -> Option<Vec<(usize, bool)>> {
    sort.iter()
        .map(|s| match view.col(&s.field.path) {
            Some((col, kind)) if kind != ColKind::Codes => Some((col, s.descending)),
            _ => None,
        })
        .collect()
}

/// The record keys of `slots` at positions `from..from + limit` in `order`. Ties are broken by
/// record key, ascending, as the database's index reads order them, so that successive pages
/// neither overlap nor skip. Only the page is sorted: a selection moves it to the front first.
pub fn page_keys(view: &View, mut slots: Vec<u32>, order: &[(usize, bool)], from: usize, limit: usize) -> Vec<String> {
    let end = from.saturating_add(limit).min(slots.len());
    if from >= end {
        return Vec::new();
    }
    let cmp = |a: &u32, b: &u32| cmp_slots(view, order, *a, *b).then_with(|| view.part.keys.cmp(*a, *b));
    // A first page of a large selection: keep the best `end` while reading the selection once
    // (most slots lose against the worst kept one, one comparison each), instead of a selection
    // algorithm that moves every slot.
    if end <= 1_000 && slots.len() > 8 * end {
        // Sorted by a date first (the lists' usual order): that date as an i64 in list order
        // (`!d` reverses it), compared before anything else.
        let first: Option<(&[i64], bool)> = match order.first() {
            Some((col, desc)) => match &view.part.cols[*col] {
                Column::Date(v) => Some((v.as_slice(), *desc)),
                _ => None,
            },
            None => None,
        };
        let rank = |s: u32| first.map_or(0, |(v, desc)| if desc { !v[s as usize] } else { v[s as usize] });
        let mut best: Vec<(i64, u32)> = Vec::with_capacity(end + 1);
        for s in slots {
            let r = rank(s);
            if best.len() == end {
                let (wr, ws) = best[end - 1];
                if r > wr || (r == wr && cmp(&s, &ws).is_ge()) {
                    continue;
                }
            }
            let at = best.partition_point(|(br, b)| *br < r || (*br == r && cmp(b, &s).is_lt()));
            best.insert(at, (r, s));
            best.truncate(end);
        }
        return best[from..end].iter().filter_map(|(_, s)| view.key(*s)).map(Cow::into_owned).collect();
    }
    if end < slots.len() {
        slots.select_nth_unstable_by(end - 1, cmp);
        slots.truncate(end);
    }
    slots.sort_unstable_by(cmp);
    slots[from..end].iter().filter_map(|s| view.key(*s)).map(Cow::into_owned).collect()
}

const DAY: i64 = 86_400_000;

/// The start of the bucket holding `t` (UTC; weeks start on Monday).
pub fn floor(t: i64, interval: Interval) -> i64 {
    let days = t.div_euclid(DAY);
    match interval {
        Interval::Fixed(len) => t.div_euclid(len) * len,
        // 1970-01-01 was a Thursday: Monday is 3 days before.
        Interval::Week => (days - (days + 3).rem_euclid(7)) * DAY,
        Interval::Month => {
            let (y, m, _) = civil_from_days(days);
            days_from_civil(y, m, 1) * DAY
        }
        Interval::Year => {
            let (y, _, _) = civil_from_days(days);
            days_from_civil(y, 1, 1) * DAY
        }
    }
}

/// The start of the bucket after the one starting at `b`.
pub fn next(b: i64, interval: Interval) -> i64 {
    match interval {
        Interval::Fixed(len) => b + len,
        Interval::Week => b + 7 * DAY,
        Interval::Month => {
            let (y, m, _) = civil_from_days(b.div_euclid(DAY));
            let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            days_from_civil(y, m, 1) * DAY
        }
        Interval::Year => {
            let (y, _, _) = civil_from_days(b.div_euclid(DAY));
            days_from_civil(y + 1, 1, 1) * DAY
        }
    }
}

/// Calendar arithmetic shared with the charts (one implementation of Hinnant's algorithm).
pub use app::date::{civil_from_days, days_from_civil};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_buckets() {
        // 2024-03-14 (a Thursday) 15:00 UTC
        let t = 1_710_428_400_000;
        assert_eq!(floor(t, Interval::Fixed(DAY)), 1_710_374_400_000); // 2024-03-14
        assert_eq!(floor(t, Interval::Week), 1_710_115_200_000); // Monday 2024-03-11
        assert_eq!(floor(t, Interval::Month), 1_709_251_200_000); // 2024-03-01
        assert_eq!(floor(t, Interval::Year), 1_704_067_200_000); // 2024-01-01
        assert_eq!(next(1_709_251_200_000, Interval::Month), 1_711_929_600_000); // 2024-04-01
        assert_eq!(next(1_704_067_200_000, Interval::Year), 1_735_689_600_000); // 2025-01-01
        assert_eq!(next(days_from_civil(2023, 12, 1) * DAY, Interval::Month), days_from_civil(2024, 1, 1) * DAY);
        for d in [-1000, 0, 59, 60, 365, 11_000, 19_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        // Before 1970 too
        assert_eq!(floor(-1, Interval::Fixed(DAY)), -DAY);
    }

    /// The column-at-a-time bits select exactly the slots the slot-by-slot evaluation does, for
    /// every kind of predicate, with deleted slots and absent values among them.
    #[test]
    fn bits_agree_with_slot_by_slot_evaluation() {
        let mut t = TableIndex::new(Entity::Alert);
        for i in 0..1000usize {
            let status = ["New", "Updated", "Ignored"][i % 3];
            let mut doc = json!({"id": format!("alert:k{i}"), "org": "o", "status": status,
                "severity": i % 4 + 1, "date": i as i64 * 1000, "follow": i % 2 == 0,
                "tags": if i % 5 == 0 { json!([]) } else { json!([format!("t{}", i % 7)]) }});
            if i % 11 == 0 {
                // Absent values.
                doc.as_object_mut().unwrap().retain(|k, _| k == "id" || k == "org");
            }
            t.upsert(&doc);
        }
        for i in (0..1000).step_by(13) {
            t.remove(&format!("k{i}"));
        }
        let (spec, dicts, part) = (&t.spec, &t.dicts, t.partition("o").unwrap());
        let col = |p: &str| spec.column(p).unwrap_or_else(|| panic!("no column {p}")).0;
        let codes = |c: usize, values: &[&str]| {
            let mut set = vec![false; dicts[c].len() + 1];
            for v in values {
                set[dicts[c].lookup(v).unwrap() as usize] = true;
            }
            set
        };
        let (status, tags, sev, date, follow) = (col("status"), col("tags"), col("severity"), col("date"), col("follow"));
        let new = || Pred::Code { col: status, set: codes(status, &["New"]), absent: false };
        let preds = vec![
            Pred::True,
            Pred::False,
            new(),
            Pred::Code { col: status, set: codes(status, &["New", "Ignored"]), absent: true },
            Pred::Codes { col: tags, set: codes(tags, &["t3", "t4"]), empty: false },
            Pred::Codes { col: tags, set: codes(tags, &["t1"]), empty: true },
            Pred::Num { col: sev, op: Op::Gte, v: 3.0 },
            Pred::Num { col: sev, op: Op::Ne, v: 2.0 },
            Pred::Date { col: date, op: Op::Lt, v: 500_000 },
            Pred::Date { col: date, op: Op::Ne, v: 3_000 },
            Pred::DateRange { col: date, from: Some(100_000), to: None },
            Pred::DateRange { col: date, from: None, to: Some(700_000) },
            Pred::NumRange { col: sev, from: Some(2.0), to: Some(4.0) },
            Pred::Bool { col: follow, v: true },
            Pred::Present { col: status },
            Pred::Present { col: tags },
            Pred::And(vec![new(), Pred::Num { col: sev, op: Op::Gte, v: 3.0 }, Pred::Codes { col: tags, set: codes(tags, &["t2"]), empty: false }]),
            Pred::And(vec![Pred::False, new()]),
            Pred::And(vec![]),
            Pred::Or(vec![new(), Pred::Date { col: date, op: Op::Gt, v: 900_000 }]),
            Pred::Not(Box::new(new())),
            Pred::Not(Box::new(Pred::Or(vec![Pred::Bool { col: follow, v: false }, Pred::Present { col: tags }]))),
            Pred::Slots((0..1000).map(|s| s % 3 == 1).collect()),
        ];
        let n = part.len();
        let live = Bits::from_fn(n, |s| part.keys.is_live(s as u32));
        assert_eq!(live.words, part.live_words, "the partition's live bits follow its records");
        for (i, pred) in preds.iter().enumerate() {
            let expected: Vec<u32> = (0..n).filter(|s| part.keys.is_live(*s as u32) && pred.eval(part, *s)).map(|s| s as u32).collect();
            assert_eq!(pred.bits(part, n, Some(&live)).slots(), expected, "predicate {i}");
            let mut all = pred.bits(part, n, None);
            all.and(&live);
            assert_eq!(all.slots(), expected, "predicate {i}, no mask");
        }
    }

    /// The first page of a large selection (kept best while reading) equals a full sort.
    #[test]
    fn first_pages_equal_a_full_sort() {
        let mut t = TableIndex::new(Entity::Alert);
        for i in 0..2000usize {
            t.upsert(&json!({"id": format!("alert:k{i:05}"), "org": "o", "severity": (i * 7919) % 4 + 1, "date": ((i * 104_729) % 500) as i64}));
        }
        let d = super::super::index::IndexData { tables: [(Entity::Alert, t)].into_iter().collect(), loaded: [Entity::Alert].into_iter().collect() };
        let view = View::of(&d, Entity::Alert, "o").unwrap();
        let all: Vec<u32> = (0..2000).collect();
        for order in [vec![(view.col("date").unwrap().0, true)], vec![(view.col("severity").unwrap().0, false), (view.col("date").unwrap().0, true)]] {
            let full = page_keys(&view, all.clone(), &order, 0, 2000);
            for (from, limit) in [(0, 15), (15, 15), (0, 1), (100, 50)] {
                assert_eq!(page_keys(&view, all.clone(), &order, from, limit), full[from..from + limit].to_vec(), "{from} {limit}");
            }
        }
    }

    #[test]
    fn globbing() {
        let g = |p: &str, t: &str| glob(&p.chars().collect::<Vec<_>>(), &t.chars().collect::<Vec<_>>());
        assert!(g("*phish*", "spear-phishing"));
        assert!(g("mal?are", "malware"));
        assert!(!g("mal?are", "malwware"));
        assert!(g("*", ""));
        assert!(!g("a*", "ba"));
    }
}
