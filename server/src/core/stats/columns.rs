//! The columnar layout of the statistics index: per table, per organisation, one column per
//! field statistics use. Strings are dictionary-coded (`u32`, 0 = absent), numbers and dates are
//! plain vectors, tag lists are small boxed slices of codes.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::agg::HANDLING_DURATION;
use super::keys::{Keys, SlotTable};
use super::values::{AlertKeys, ValueIndex};
use crate::core::query::{Entity, FieldKind, schema};

/// How a column stores its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColKind {
    /// Dictionary-coded string (keywords, links, enumerations).
    Code,
    /// f64, NaN = absent.
    Num,
    /// i64 epoch ms, `i64::MIN` = absent.
    Date,
    /// 0 = absent, 1 = false, 2 = true.
    Bool,
    /// A list of strings (tags).
    Codes,
}

/// The indexed columns of a table: (database path, kind).
pub struct TableSpec {
    pub entity: Entity,
    pub columns: Vec<(String, ColKind)>,
}

/// Fields whose values are (nearly) unique per record: a dictionary of them would cost more than
/// it saves. Queries on them go to the database.
const HIGH_CARDINALITY: &[&str] = &["sourceRef", "data", "externalLink", "objectId", "rootId", "requestId", "mergeInto", "mergeFrom"];

/// The entities the index holds.
pub const INDEXED: &[Entity] =
    &[Entity::Case, Entity::Task, Entity::Log, Entity::Observable, Entity::Alert, Entity::Job, Entity::Audit];

impl TableSpec {
    pub fn for_entity(entity: Entity) -> TableSpec {
        let mut columns: Vec<(String, ColKind)> = Vec::new();
        for (_, path, kind) in schema(entity).all_fields() {
            let col = match kind {
                FieldKind::Keyword | FieldKind::Link => ColKind::Code,
                FieldKind::Number => ColKind::Num,
                FieldKind::Date => ColKind::Date,
                FieldKind::Bool => ColKind::Bool,
                FieldKind::Keywords => ColKind::Codes,
                FieldKind::Text | FieldKind::Object => continue,
            };
            if HIGH_CARDINALITY.contains(path) || columns.iter().any(|(p, _)| p == path) {
                continue;
            }
            columns.push((path.to_string(), col));
        }
        match entity {
            Entity::Observable => columns.push(("attachment.contentType".into(), ColKind::Code)),
            Entity::Case => columns.push((HANDLING_DURATION.into(), ColKind::Num)),
            _ => {}
        }
        TableSpec { entity, columns }
    }

    pub fn column(&self, path: &str) -> Option<(usize, ColKind)> {
        self.columns.iter().position(|(p, _)| p == path).map(|i| (i, self.columns[i].1))
    }

    /// The database fields to read for this table (a projection for the initial load).
    pub fn projection(&self) -> String {
        let mut fields: Vec<String> = vec!["id".into(), "org".into()];
        for (p, _) in &self.columns {
            if p == HANDLING_DURATION {
                continue;
            }
            fields.push(crate::core::query::path(p));
        }
        if self.entity == Entity::Observable {
            // The value index (see `values`): not columns, read at load.
            fields.extend(["data", "attachment.id", "ignoreSimilarity"].map(crate::core::query::path));
        }
        if self.entity == Entity::Case {
            for f in ["startDate", "endDate"] {
                if !self.columns.iter().any(|(p, _)| p == f) {
                    fields.push(format!("`{f}`"));
                }
            }
        }
        fields.join(", ")
    }
}

/// A string dictionary shared by every organisation's partition of a column.
#[derive(Default)]
pub struct Dict {
    pub values: Vec<Arc<str>>,
    pub codes: HashMap<Arc<str>, u32>,
}

impl Dict {
    pub fn code(&mut self, s: &str) -> u32 {
        if let Some(c) = self.codes.get(s) {
            return *c;
        }
        let v: Arc<str> = Arc::from(s);
        self.values.push(v.clone());
        let c = self.values.len() as u32; // codes start at 1; 0 = absent
        self.codes.insert(v, c);
        c
    }

    pub fn lookup(&self, s: &str) -> Option<u32> {
        self.codes.get(s).copied()
    }

    pub fn value(&self, code: u32) -> Option<&str> {
        if code == 0 { None } else { self.values.get(code as usize - 1).map(|s| &**s) }
    }

    /// Codes run from 1 to `len()`.
    pub fn len(&self) -> usize {
        self.values.len()
    }
}

pub enum Column {
    Code(Vec<u32>),
    Num(Vec<f64>),
    Date(Vec<i64>),
    Bool(Vec<u8>),
    Codes(CodeLists),
}

/// A column of code lists (tags), each distinct list held once: records mostly share a few
/// lists (a feeder's tags, an alert's observable types), so a record costs a `u32`, not a
/// boxed slice and its allocation. A list no record holds any more is dropped and its number
/// reused.
#[derive(Default)]
pub struct CodeLists {
    /// The list number of each slot; 0 = the empty list.
    ids: Vec<u32>,
    /// List `n` at `n - 1`, with how many slots hold it.
    lists: Vec<(Box<[u32]>, u32)>,
    numbers: HashMap<Box<[u32]>, u32>,
    unused: Vec<u32>,
}

impl CodeLists {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn push(&mut self, list: &[u32]) {
        let n = self.ids.len() + 1;
        super::reserve_for(&mut self.ids, n);
        self.ids.push(0);
        self.set(self.ids.len() - 1, list);
    }

    pub fn set(&mut self, slot: usize, list: &[u32]) {
        let old = self.ids[slot];
        let new = if list.is_empty() {
            0
        } else if let Some(n) = self.numbers.get(list) {
            *n
        } else {
            let n = match self.unused.pop() {
                Some(n) => {
                    self.lists[n as usize - 1] = (list.into(), 0);
                    n
                }
                None => {
                    self.lists.push((list.into(), 0));
                    self.lists.len() as u32
                }
            };
            self.numbers.insert(list.into(), n);
            n
        };
        if new != 0 {
            self.lists[new as usize - 1].1 += 1;
        }
        self.ids[slot] = new;
        if old != 0 {
            let held = &mut self.lists[old as usize - 1];
            held.1 -= 1;
            if held.1 == 0 {
                let list = std::mem::take(&mut held.0);
                self.numbers.remove(&list);
                self.unused.push(old);
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u32]> {
        (0..self.ids.len()).map(|s| &self[s])
    }

    /// What a snapshot keeps: each slot's list number, and the lists by number (a dropped
    /// list is empty).
    pub fn parts(&self) -> (&[u32], impl Iterator<Item = &[u32]>) {
        (&self.ids, self.lists.iter().map(|(l, _)| &**l))
    }

    /// Rebuilt from [`CodeLists::parts`]; `None` if a slot names a list that is not there.
    pub fn from_parts(ids: Vec<u32>, lists: Vec<Vec<u32>>) -> Option<CodeLists> {
        let mut c = CodeLists { ids, lists: lists.into_iter().map(|l| (l.into_boxed_slice(), 0)).collect(), numbers: HashMap::new(), unused: Vec::new() };
        for id in &c.ids {
            if *id != 0 {
                c.lists.get_mut(*id as usize - 1)?.1 += 1;
            }
        }
        for (i, (list, held)) in c.lists.iter_mut().enumerate() {
            let n = i as u32 + 1;
            if *held == 0 || list.is_empty() || c.numbers.contains_key(&**list) {
                if *held != 0 {
                    return None; // an empty or repeated list held by a slot
                }
                *list = Box::default();
                c.unused.push(n);
            } else {
                c.numbers.insert(list.clone(), n);
            }
        }
        Some(c)
    }

    fn bytes(&self) -> usize {
        self.ids.capacity() * 4 + self.lists.capacity() * 24 + self.numbers.capacity() * 17 + self.lists.iter().map(|(l, _)| l.len() * 8).sum::<usize>()
    }
}

impl std::ops::Index<usize> for CodeLists {
    type Output = [u32];

    fn index(&self, slot: usize) -> &[u32] {
        match self.ids[slot] {
            0 => &[],
            n => &self.lists[n as usize - 1].0,
        }
    }
}

impl Column {
    fn new(kind: ColKind) -> Column {
        match kind {
            ColKind::Code => Column::Code(Vec::new()),
            ColKind::Num => Column::Num(Vec::new()),
            ColKind::Date => Column::Date(Vec::new()),
            ColKind::Bool => Column::Bool(Vec::new()),
            ColKind::Codes => Column::Codes(CodeLists::default()),
        }
    }

    fn push_absent(&mut self) {
        fn push<T>(v: &mut Vec<T>, x: T) {
            let n = v.len() + 1;
            super::reserve_for(v, n);
            v.push(x);
        }
        match self {
            Column::Code(v) => push(v, 0),
            Column::Num(v) => push(v, f64::NAN),
            Column::Date(v) => push(v, i64::MIN),
            Column::Bool(v) => push(v, 0),
            Column::Codes(v) => v.push(&[]),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Column::Code(v) => v.len(),
            Column::Num(v) => v.len(),
            Column::Date(v) => v.len(),
            Column::Bool(v) => v.len(),
            Column::Codes(v) => v.len(),
        }
    }

    fn bytes(&self) -> usize {
        match self {
            Column::Code(v) => v.capacity() * 4,
            Column::Num(v) => v.capacity() * 8,
            Column::Date(v) => v.capacity() * 8,
            Column::Bool(v) => v.capacity(),
            Column::Codes(v) => v.bytes(),
        }
    }
}

/// One value extracted from a document, ready to store.
pub enum Cell {
    Absent,
    Code(u32),
    Num(f64),
    Date(i64),
    Bool(bool),
    Codes(Box<[u32]>),
}

/// One organisation's records of a table.
pub struct Partition {
    /// Record key per slot; none for a free slot (deleted record).
    pub keys: Keys,
    pub free: Vec<u32>,
    pub cols: Vec<Column>,
    pub live: usize,
    /// One bit per slot, set for a live record (what every selection starts from).
    pub live_words: Vec<u64>,
    /// Observables only: the value index (alert similarity).
    pub values: Option<Box<ValueIndex>>,
    /// Alerts only: their keys (the duplicate check of a new alert).
    pub alert_keys: Option<Box<AlertKeys>>,
}

impl Partition {
    pub fn new(spec: &TableSpec) -> Partition {
        let values = match (spec.entity, spec.column("case"), spec.column("ioc")) {
            (Entity::Observable, Some((case, _)), Some((ioc, _))) => Some(Box::new(ValueIndex::new(case, ioc))),
            _ => None,
        };
        let alert_keys = (spec.entity == Entity::Alert).then(Box::<AlertKeys>::default);
        Partition {
            keys: Keys::default(),
            free: Vec::new(),
            cols: spec.columns.iter().map(|(_, k)| Column::new(*k)).collect(),
            live: 0,
            live_words: Vec::new(),
            values,
            alert_keys,
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// A slot for a new record.
    pub fn allocate(&mut self, key: &str) -> u32 {
        self.live += 1;
        let slot = if let Some(slot) = self.free.pop() {
            self.keys.set(slot, key);
            slot
        } else {
            self.keys.push(Some(key));
            for c in &mut self.cols {
                c.push_absent();
            }
            (self.keys.len() - 1) as u32
        };
        self.set_live(slot, true);
        slot
    }

    fn set_live(&mut self, slot: u32, live: bool) {
        let (w, b) = (slot as usize / 64, slot % 64);
        if self.live_words.len() <= w {
            self.live_words.resize(w + 1, 0);
        }
        if live {
            self.live_words[w] |= 1 << b;
        } else {
            self.live_words[w] &= !(1 << b);
        }
    }

    /// `live` and `live_words` from `keys` (after a snapshot is read).
    pub fn recount(&mut self) {
        self.live = 0;
        self.live_words = vec![0; self.keys.len().div_ceil(64)];
        for s in 0..self.keys.len() {
            if self.keys.is_live(s as u32) {
                self.live += 1;
                self.live_words[s / 64] |= 1 << (s % 64);
            }
        }
    }

    pub fn release(&mut self, slot: u32) {
        if self.keys.is_live(slot) {
            if let Some(v) = self.values.as_mut() {
                v.forget(&self.cols, slot);
            }
            if let Some(k) = self.alert_keys.as_mut() {
                k.forget(slot);
            }
            self.keys.clear(slot);
            self.live -= 1;
            self.set_live(slot, false);
            self.free.push(slot);
            for i in 0..self.cols.len() {
                self.set(slot, i, Cell::Absent);
            }
        }
    }

    pub fn set(&mut self, slot: u32, col: usize, cell: Cell) {
        let s = slot as usize;
        match (&mut self.cols[col], cell) {
            (Column::Code(v), Cell::Code(c)) => v[s] = c,
            (Column::Code(v), _) => v[s] = 0,
            (Column::Num(v), Cell::Num(x)) => v[s] = x,
            (Column::Num(v), _) => v[s] = f64::NAN,
            (Column::Date(v), Cell::Date(x)) => v[s] = x,
            (Column::Date(v), _) => v[s] = i64::MIN,
            (Column::Bool(v), Cell::Bool(b)) => v[s] = if b { 2 } else { 1 },
            (Column::Bool(v), _) => v[s] = 0,
            (Column::Codes(v), Cell::Codes(c)) => v.set(s, &c),
            (Column::Codes(v), _) => v.set(s, &[]),
        }
    }

    pub fn bytes(&self) -> usize {
        self.keys.bytes() + self.live_words.capacity() * 8 + self.cols.iter().map(Column::bytes).sum::<usize>() + self.values.as_ref().map_or(0, |v| v.bytes())
            + self.alert_keys.as_ref().map_or(0, |k| k.bytes())
    }
}

/// The value at a dotted path of a JSON document.
pub fn at_path<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let mut v = doc;
    for seg in path.split('.') {
        v = v.get(seg)?;
    }
    if v.is_null() { None } else { Some(v) }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Extract the cell of column `kind` at `path` from `doc`, coding strings with `dict`.
pub fn extract(doc: &Value, path: &str, kind: ColKind, dict: &mut Dict) -> Cell {
    if path == HANDLING_DURATION {
        let start = at_path(doc, "startDate").and_then(number);
        let end = at_path(doc, "endDate").and_then(number);
        return match (start, end) {
            (Some(s), Some(e)) => Cell::Num(e - s),
            _ => Cell::Absent,
        };
    }
    let Some(v) = at_path(doc, path) else { return Cell::Absent };
    match kind {
        ColKind::Code => match v {
            // A link stored as a record id (`case:abc`) is the key.
            Value::String(s) => Cell::Code(dict.code(crate::core::store::record_key(s))),
            other => text(other).map(|s| Cell::Code(dict.code(&s))).unwrap_or(Cell::Absent),
        },
        ColKind::Num => number(v).map(Cell::Num).unwrap_or(Cell::Absent),
        ColKind::Date => number(v).map(|x| Cell::Date(x as i64)).unwrap_or(Cell::Absent),
        ColKind::Bool => match v {
            Value::Bool(b) => Cell::Bool(*b),
            Value::String(s) if s == "true" || s == "false" => Cell::Bool(s == "true"),
            _ => Cell::Absent,
        },
        ColKind::Codes => match v {
            Value::Array(a) => {
                let mut codes: Vec<u32> = a.iter().filter_map(text).map(|s| dict.code(&s)).collect();
                codes.sort_unstable();
                codes.dedup();
                Cell::Codes(codes.into_boxed_slice())
            }
            other => text(other).map(|s| Cell::Codes(Box::new([dict.code(&s)]))).unwrap_or(Cell::Absent),
        },
    }
}

/// The keys of organisation number `o` ([`TableIndex`]'s `parts`), what its [`SlotTable`]
/// compares with.
fn keys_of<'a>(parts: &'a [(Arc<str>, Partition)]) -> impl Fn(u32) -> Option<&'a Keys> {
    move |o| parts.get(o as usize).map(|(_, p)| &p.keys)
}

/// A table's index: its spec, its dictionaries, and a partition per organisation.
pub struct TableIndex {
    pub spec: TableSpec,
    pub dicts: Vec<Dict>,
    /// Organisation -> its number, the position of its partition in `parts`.
    org_numbers: HashMap<Arc<str>, u32>,
    parts: Vec<(Arc<str>, Partition)>,
    /// Record key -> (organisation number, slot).
    slots: SlotTable,
}

impl TableIndex {
    pub fn new(entity: Entity) -> TableIndex {
        let spec = TableSpec::for_entity(entity);
        let dicts = spec.columns.iter().map(|_| Dict::default()).collect();
        TableIndex::from_parts(spec, dicts)
    }

    /// An empty index of `spec` with these dictionaries (a snapshot's).
    pub fn from_parts(spec: TableSpec, dicts: Vec<Dict>) -> TableIndex {
        TableIndex { spec, dicts, org_numbers: HashMap::new(), parts: Vec::new(), slots: SlotTable::default() }
    }

    /// The records of an organisation.
    pub fn partition(&self, org: &str) -> Option<&Partition> {
        self.org_numbers.get(org).map(|n| &self.parts[*n as usize].1)
    }

    pub fn partitions(&self) -> impl Iterator<Item = (&Arc<str>, &Partition)> {
        self.parts.iter().map(|(o, p)| (o, p))
    }

    /// The organisation and slot holding a record.
    pub fn slot(&self, key: &str) -> Option<(&Arc<str>, u32)> {
        self.slots.get(key, keys_of(&self.parts)).map(|(o, s)| (&self.parts[o as usize].0, s))
    }

    /// Add a partition read from a snapshot, its keys filed (the organisation must be new).
    pub fn insert_partition(&mut self, org: Arc<str>, part: Partition) {
        let n = self.parts.len() as u32;
        self.org_numbers.insert(org.clone(), n);
        self.parts.push((org, part));
        let keys = &self.parts[n as usize].1.keys;
        for slot in (0..keys.len() as u32).filter(|s| keys.is_live(*s)) {
            self.slots.insert(n, slot, keys_of(&self.parts));
        }
    }

    fn org_number(&mut self, org: &str) -> u32 {
        if let Some(n) = self.org_numbers.get(org) {
            return *n;
        }
        let n = self.parts.len() as u32;
        let org: Arc<str> = Arc::from(org);
        self.org_numbers.insert(org.clone(), n);
        self.parts.push((org, Partition::new(&self.spec)));
        n
    }

    /// Insert or replace a record from its document (which carries `id` and `org`).
    pub fn upsert(&mut self, doc: &Value) {
        let Some(id) = doc.get("id").and_then(Value::as_str) else { return };
        let key = crate::core::store::record_key(id);
        let Some(org) = doc.get("org").and_then(Value::as_str) else {
            // Not tenant data (or malformed): make sure no stale copy stays.
            self.remove(key);
            return;
        };
        let org_n = self.org_number(org);
        let (slot, existed) = match self.slots.get(key, keys_of(&self.parts)) {
            Some((o, s)) if o == org_n => (s, true),
            Some(_) => {
                self.remove(key);
                return self.upsert(doc);
            }
            None => {
                let slot = self.parts[org_n as usize].1.allocate(key);
                self.slots.insert(org_n, slot, keys_of(&self.parts));
                (slot, false)
            }
        };
        let part = &mut self.parts[org_n as usize].1;
        let mut values = part.values.take();
        if let (Some(v), true) = (values.as_mut(), existed) {
            v.forget(&part.cols, slot);
        }
        for (i, (path, kind)) in self.spec.columns.iter().enumerate() {
            let cell = extract(doc, path, *kind, &mut self.dicts[i]);
            part.set(slot, i, cell);
        }
        if let Some(v) = values.as_mut() {
            v.remember(&part.cols, slot, doc);
        }
        part.values = values;
        if let Some(k) = part.alert_keys.as_mut() {
            if existed {
                k.forget(slot);
            }
            k.remember(slot, doc);
        }
    }

    pub fn remove(&mut self, key: &str) {
        if let Some((org, slot)) = self.slots.remove(key, keys_of(&self.parts)) {
            self.parts[org as usize].1.release(slot);
        }
    }

    pub fn records(&self) -> usize {
        self.slots.len()
    }

    /// Approximate memory held, in bytes.
    pub fn bytes(&self) -> usize {
        let dicts: usize = self.dicts.iter().map(|d| d.values.iter().map(|s| s.len() + 48).sum::<usize>()).sum();
        dicts + self.slots.bytes() + self.parts.iter().map(|(_, p)| p.bytes()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A partition loaded with vectors of exactly its length (as from a snapshot) does not
    /// double them for its next record.
    #[test]
    fn a_new_record_grows_a_loaded_partition_by_an_eighth() {
        let spec = TableSpec::for_entity(Entity::Alert);
        let mut part = Partition::new(&spec);
        let n = 100_000;
        for i in 0..n {
            part.allocate(&format!("k{i}"));
        }
        for c in &mut part.cols {
            match c {
                Column::Code(v) => v.shrink_to_fit(),
                Column::Num(v) => v.shrink_to_fit(),
                Column::Date(v) => v.shrink_to_fit(),
                Column::Bool(v) => v.shrink_to_fit(),
                Column::Codes(v) => v.ids.shrink_to_fit(),
            }
        }
        part.allocate("one more");
        let most = n + 1 + (n + 1) / 8 + 1024;
        for c in &part.cols {
            let cap = match c {
                Column::Code(v) => v.capacity(),
                Column::Num(v) => v.capacity(),
                Column::Date(v) => v.capacity(),
                Column::Bool(v) => v.capacity(),
                Column::Codes(v) => v.ids.capacity(),
            };
            assert!(cap > n && cap <= most, "capacity {cap} for {} records", n + 1);
        }
    }

    #[test]
    fn code_lists_are_held_once_and_dropped_when_unused() {
        let mut c = CodeLists::default();
        for s in 0..1_000 {
            c.push(if s % 2 == 0 { &[1, 2] } else { &[3] });
        }
        c.push(&[]);
        assert_eq!((c.len(), c.lists.len()), (1_001, 2), "two distinct lists, the empty one not held");
        assert_eq!((&c[0], &c[1], c[1_000].len()), (&[1, 2][..], &[3][..], 0));
        // Every slot of [3] moves to [4]: [3] is dropped, and the next new list takes its number.
        for s in (1..1_000).step_by(2) {
            c.set(s, &[4]);
        }
        assert_eq!(&c[999], &[4][..]);
        assert!(!c.numbers.contains_key(&[3][..]));
        assert_eq!(c.unused, [2]);
        c.set(1, &[5]);
        assert_eq!((c.lists.len(), &c[1]), (3, &[5][..]));
        c.set(0, &[]);
        assert!(c[0].is_empty());
        assert_eq!(c.iter().filter(|l| *l == [1u32, 2]).count(), 499);
        // What a snapshot keeps gives the same column back, a dropped list's number free again.
        c.set(3, &[6]);
        c.set(3, &[4]);
        let (ids, lists) = c.parts();
        let back = CodeLists::from_parts(ids.to_vec(), lists.map(<[u32]>::to_vec).collect()).unwrap();
        assert!(back.iter().eq(c.iter()));
        assert_eq!((back.unused.clone(), back.numbers.len()), (vec![4], 3));
        assert!(CodeLists::from_parts(vec![0, 3], vec![vec![1], vec![2]]).is_none(), "a slot naming a missing list");
        assert!(CodeLists::from_parts(vec![1, 2], vec![vec![1], vec![1]]).is_none(), "a list twice");
    }
}
