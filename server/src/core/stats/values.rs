//! The observable value index, part of the statistics index: which case observables hold a
//! value (by data type and data, or by file), and how many observables and IOCs each case has.
//! Alert similarity reads it instead of one indexed query per alert observable and one count
//! per similar case (`alert::similarity`).
//!
//! Values are kept as 128-bit hashes (two SipHash keys), not as strings: 16 bytes per
//! observable instead of the value itself; two different values sharing a 128-bit hash is not
//! a practical concern. Observables marked `ignoreSimilarity` are not indexed (similarity skips
//! them).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, DefaultHasher, Hash, Hasher, RandomState};

use hashbrown::HashTable;

use serde_json::Value;

use super::columns::{Column, Partition, at_path};
use super::eval::Tables;
use super::index::IndexData;
use crate::core::query::Entity;

/// What a value is known by: `(dataType, data)` for a value, the stored file's id for a file.
pub fn value_key(data_type: &str, data: Option<&str>, attachment_id: Option<&str>) -> Option<u128> {
    let half = |seed: u8| {
        let mut h = DefaultHasher::new();
        seed.hash(&mut h);
        match (data, attachment_id) {
            (Some(d), _) => ("data", data_type, d).hash(&mut h),
            (None, Some(a)) => ("file", a).hash(&mut h),
            (None, None) => return None,
        }
        Some(h.finish())
    };
    Some((u128::from(half(1)?) << 64) | u128::from(half(2)?))
}

/// The key of a stored observable (`None`: not compared).
fn doc_key(doc: &Value) -> Option<u128> {
    if at_path(doc, "ignoreSimilarity").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    let data_type = at_path(doc, "dataType").and_then(Value::as_str).unwrap_or("");
    let data = match at_path(doc, "data") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let attachment = at_path(doc, "attachment.id").and_then(Value::as_str);
    value_key(data_type, data.as_deref(), attachment)
}

/// One organisation's observables by value, and its cases' observable and IOC counts.
///
/// The slots holding a value form a chain: `heads` finds a value's newest slot by its key (the
/// table holds 4-byte slots and compares through `slot_key`), `next` links each slot to the one
/// before it with the same value. About 28 bytes an observable, without an allocation per value.
pub struct ValueIndex {
    heads: HashTable<u32>,
    hasher: RandomState,
    /// The next slot holding the same value ([`END`]: none).
    next: Vec<u32>,
    /// The key each slot is indexed under (0: none).
    slot_key: Vec<u128>,
    /// Case code (of the `case` column) -> (observables, IOCs).
    per_case: HashMap<u32, (u32, u32)>,
    case_col: usize,
    ioc_col: usize,
}

/// The end of a chain.
const END: u32 = u32::MAX;

impl ValueIndex {
    pub fn new(case_col: usize, ioc_col: usize) -> ValueIndex {
        ValueIndex { heads: HashTable::new(), hasher: RandomState::new(), next: Vec::new(), slot_key: Vec::new(), per_case: HashMap::new(), case_col, ioc_col }
    }

    /// The case code and the IOC flag of a slot.
    pub fn case_and_ioc(&self, cols: &[Column], slot: u32) -> (u32, bool) {
        let s = slot as usize;
        let case = match &cols[self.case_col] {
            Column::Code(v) => v.get(s).copied().unwrap_or(0),
            _ => 0,
        };
        let ioc = matches!(&cols[self.ioc_col], Column::Bool(v) if v.get(s) == Some(&2));
        (case, ioc)
    }

    /// Take a slot out (before its record changes or goes), from what its columns hold.
    pub fn forget(&mut self, cols: &[Column], slot: u32) {
        let (case, ioc) = self.case_and_ioc(cols, slot);
        if case != 0 {
            if let Some(c) = self.per_case.get_mut(&case) {
                c.0 = c.0.saturating_sub(1);
                c.1 = c.1.saturating_sub(u32::from(ioc));
                if c.0 == 0 {
                    self.per_case.remove(&case);
                }
            }
        }
        let key = self.slot_key.get(slot as usize).copied().unwrap_or(0);
        if key != 0 {
            self.unlink(slot, key);
            self.slot_key[slot as usize] = 0;
        }
    }

    /// Take `slot` out of the chain of `key` (the key it holds).
    fn unlink(&mut self, slot: u32, key: u128) {
        let ValueIndex { heads, hasher, next, slot_key, .. } = self;
        let after = next[slot as usize];
        let Ok(mut head) = heads.find_entry(hasher.hash_one(key), |&h| slot_key[h as usize] == key) else { return };
        if *head.get() == slot {
            if after == END {
                head.remove();
            } else {
                *head.get_mut() = after;
            }
            return;
        }
        let mut at = *head.get();
        while next[at as usize] != slot {
            at = next[at as usize];
            if at == END {
                return;
            }
        }
        next[at as usize] = after;
    }

    /// Put `slot` at the head of the chain of `key`.
    fn link(&mut self, slot: u32, key: u128) {
        let ValueIndex { heads, hasher, next, slot_key, .. } = self;
        let s = slot as usize;
        super::extend_to(slot_key, s + 1, 0);
        super::extend_to(next, s + 1, END);
        slot_key[s] = key;
        let hash = hasher.hash_one(key);
        match heads.find_mut(hash, |&h| slot_key[h as usize] == key) {
            Some(head) => {
                next[s] = *head;
                *head = slot;
            }
            None => {
                next[s] = END;
                heads.insert_unique(hash, slot, |&h| hasher.hash_one(slot_key[h as usize]));
            }
        }
    }

    /// Put a slot in (after its columns were set from `doc`).
    pub fn remember(&mut self, cols: &[Column], slot: u32, doc: &Value) {
        let (case, ioc) = self.case_and_ioc(cols, slot);
        if case != 0 {
            let c = self.per_case.entry(case).or_default();
            c.0 += 1;
            c.1 += u32::from(ioc);
        }
        if let Some(key) = doc_key(doc) {
            self.link(slot, key);
        }
    }

    /// The slots holding a value, the last indexed first.
    pub fn slots(&self, key: u128) -> impl Iterator<Item = u32> + '_ {
        let head = self.heads.find(self.hasher.hash_one(key), |&h| self.slot_key[h as usize] == key).copied().unwrap_or(END);
        std::iter::successors(Some(head).filter(|h| *h != END), |at| Some(self.next[*at as usize]).filter(|n| *n != END))
    }

    /// The (observables, IOCs) of a case, by its code in the `case` column.
    pub fn case_counts(&self, case: u32) -> (u32, u32) {
        self.per_case.get(&case).copied().unwrap_or_default()
    }

    /// The key each slot is indexed under (0: none), what a snapshot keeps.
    pub fn slot_keys(&self) -> &[u128] {
        &self.slot_key
    }

    /// The (`case`, `ioc`) columns it reads.
    pub fn columns(&self) -> (usize, usize) {
        (self.case_col, self.ioc_col)
    }

    /// Rebuilt from a snapshot: the slot keys, and the columns and keys of the partition.
    pub fn from_slot_keys((case_col, ioc_col): (usize, usize), slot_key: Vec<u128>, cols: &[Column], keys: &super::keys::Keys) -> ValueIndex {
        let mut v = ValueIndex::new(case_col, ioc_col);
        v.slot_key = vec![0; slot_key.len()];
        v.next = vec![END; slot_key.len()];
        for slot in 0..keys.len() {
            if !keys.is_live(slot as u32) {
                continue;
            }
            let (case, ioc) = v.case_and_ioc(cols, slot as u32);
            if case != 0 {
                let c = v.per_case.entry(case).or_default();
                c.0 += 1;
                c.1 += u32::from(ioc);
            }
            if let Some(k) = slot_key.get(slot).copied().filter(|k| *k != 0) {
                v.link(slot as u32, k);
            }
        }
        v
    }

    pub fn bytes(&self) -> usize {
        self.heads.capacity() * 5 + self.next.capacity() * 4 + self.slot_key.capacity() * 16 + self.per_case.capacity() * 16
    }
}

/// What an alert is known by: a 64-bit hash of `(type, source, sourceRef)`, unique in an
/// organisation. Two keys sharing a hash cost one query: the index answers "may exist" for
/// both, and the database decides.
pub fn alert_key(kind: &str, source: &str, source_ref: &str) -> u64 {
    let mut h = DefaultHasher::new();
    ("alert", kind, source, source_ref).hash(&mut h);
    h.finish().max(1)
}

/// One organisation's alerts by key ([`alert_key`]), so that creating an alert knows without a
/// query that no alert has its key (`alert::create`'s duplicate check). It may lag the database
/// by a poll of the change feed: an alert it does not know yet is refused by the database's
/// unique index when it is written, and its batch falls back to one transaction per alert.
#[derive(Default)]
pub struct AlertKeys {
    by_key: HashMap<u64, u32>,
    /// The key each slot is indexed under (0: none).
    slot_key: Vec<u64>,
}

impl AlertKeys {
    /// Take a slot out (before its record changes or goes).
    pub fn forget(&mut self, slot: u32) {
        let key = self.slot_key.get(slot as usize).copied().unwrap_or(0);
        if key != 0 {
            if let Some(n) = self.by_key.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    self.by_key.remove(&key);
                }
            }
            self.slot_key[slot as usize] = 0;
        }
    }

    /// Put a slot in, from its record.
    pub fn remember(&mut self, slot: u32, doc: &Value) {
        let s = slot as usize;
        super::extend_to(&mut self.slot_key, s + 1, 0);
        let field = |name| at_path(doc, name).and_then(Value::as_str);
        if let (Some(kind), Some(source), Some(source_ref)) = (field("type"), field("source"), field("sourceRef")) {
            let key = alert_key(kind, source, source_ref);
            *self.by_key.entry(key).or_default() += 1;
            self.slot_key[s] = key;
        }
    }

    /// The key each slot is indexed under (0: none), what a snapshot keeps.
    pub fn slot_keys(&self) -> &[u64] {
        &self.slot_key
    }

    /// Rebuilt from a snapshot's slot keys.
    pub fn from_slot_keys(slot_key: Vec<u64>) -> AlertKeys {
        let mut by_key: HashMap<u64, u32> = HashMap::with_capacity(slot_key.len());
        for k in slot_key.iter().filter(|k| **k != 0) {
            *by_key.entry(*k).or_default() += 1;
        }
        AlertKeys { by_key, slot_key }
    }

    pub fn contains(&self, key: u64) -> bool {
        self.by_key.contains_key(&key)
    }

    pub fn bytes(&self) -> usize {
        self.by_key.capacity() * 17 + self.slot_key.capacity() * 8
    }
}

/// What alert similarity asks the loaded index (`None` from each: not loaded yet; ask the
/// database).
impl IndexData {
    /// For each key: the cases of `org` holding the value (at most `limit` observables read),
    /// each with whether it is an IOC there.
    pub fn cases_with_values(&self, org: &str, keys: &[u128], limit: usize) -> Option<Vec<HashMap<String, bool>>> {
        let t = self.table(Entity::Observable)?;
        let case_dict = &t.dicts[t.spec.column("case")?.0];
        let Some(part) = t.partition(org) else { return Some(vec![HashMap::new(); keys.len()]) };
        let values = part.values.as_ref()?;
        Some(
            keys.iter()
                .map(|k| {
                    let mut cases: HashMap<String, bool> = HashMap::new();
                    for slot in values.slots(*k).take(limit) {
                        let (case, ioc) = values.case_and_ioc(&part.cols, slot);
                        if let Some(c) = case_dict.value(case) {
                            *cases.entry(c.to_string()).or_insert(false) |= ioc;
                        }
                    }
                    cases
                })
                .collect(),
        )
    }

    /// Whether an alert of `org` with this key ([`alert_key`]) may exist: `Some(false)` when the
    /// index knows none (see [`AlertKeys`]), `None` while the alerts are not loaded.
    pub fn alert_may_exist(&self, org: &str, key: u64) -> Option<bool> {
        let t = self.table(Entity::Alert)?;
        Some(t.partition(org).and_then(|p| p.alert_keys.as_ref()).is_some_and(|k| k.contains(key)))
    }

    /// Which of these cases of `org` are live (not deleted, not merged away as duplicates).
    pub fn live_cases<'a>(&self, org: &str, ids: impl Iterator<Item = &'a String>) -> Option<HashSet<String>> {
        let t = self.table(Entity::Case)?;
        let (status, resolution) = (t.spec.column("status")?.0, t.spec.column("resolutionStatus")?.0);
        let code_of = |part: &Partition, col: usize, slot: u32| match &part.cols[col] {
            Column::Code(v) => t.dicts[col].value(v.get(slot as usize).copied().unwrap_or(0)),
            _ => None,
        };
        Some(
            ids.filter(|id| {
                let Some((o, slot)) = t.slot(id.as_str()) else { return false };
                let Some(part) = t.partition(o).filter(|_| &**o == org) else { return false };
                code_of(part, status, slot) != Some("Deleted") && code_of(part, resolution, slot) != Some("Duplicated")
            })
            .cloned()
            .collect(),
        )
    }

    /// The (observables, IOCs) of a case of `org`.
    pub fn case_observable_counts(&self, org: &str, case_id: &str) -> Option<(u64, u64)> {
        let t = self.table(Entity::Observable)?;
        let Some(part) = t.partition(org) else { return Some((0, 0)) };
        let values = part.values.as_ref()?;
        let Some(code) = t.dicts[t.spec.column("case")?.0].lookup(case_id) else { return Some((0, 0)) };
        let (n, iocs) = values.case_counts(code);
        Some((u64::from(n), u64::from(iocs)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_tell_values_types_and_files_apart() {
        let ip = value_key("ip", Some("10.0.0.1"), None).unwrap();
        assert_eq!(Some(ip), value_key("ip", Some("10.0.0.1"), Some("ignored")));
        assert_ne!(Some(ip), value_key("domain", Some("10.0.0.1"), None));
        assert_ne!(Some(ip), value_key("ip", Some("10.0.0.2"), None));
        assert_ne!(value_key("file", None, Some("abc")), value_key("file", Some("abc"), None));
        assert_eq!(value_key("ip", None, None), None);
        // A number stored as a number matches the same value given as text.
        assert_eq!(doc_key(&serde_json::json!({"dataType": "autonomous-system", "data": 64500})), value_key("autonomous-system", Some("64500"), None));
        assert_eq!(doc_key(&serde_json::json!({"dataType": "ip", "data": "1.2.3.4", "ignoreSimilarity": true})), None);
    }

    #[test]
    fn chains_follow_slots_in_and_out() {
        // Slots 0..6: case 1 for all, slot 3 an IOC.
        let cols = vec![Column::Code(vec![1; 6]), Column::Bool(vec![1, 1, 1, 2, 1, 1])];
        let mut v = ValueIndex::new(0, 1);
        let doc = |d: &str| serde_json::json!({"dataType": "ip", "data": d});
        let (a, b) = (value_key("ip", Some("a"), None).unwrap(), value_key("ip", Some("b"), None).unwrap());
        for (slot, d) in [(0, "a"), (1, "b"), (2, "a"), (3, "a"), (4, "b")] {
            v.remember(&cols, slot, &doc(d));
        }
        let slots = |v: &ValueIndex, k| v.slots(k).collect::<Vec<_>>();
        assert_eq!(slots(&v, a), [3, 2, 0]);
        assert_eq!(slots(&v, b), [4, 1]);
        assert_eq!(v.case_counts(1), (5, 1));
        // Out of the middle, the head and the tail of a chain.
        v.forget(&cols, 2);
        assert_eq!(slots(&v, a), [3, 0]);
        v.forget(&cols, 3);
        assert_eq!(slots(&v, a), [0]);
        assert_eq!(v.case_counts(1), (3, 0));
        v.forget(&cols, 1);
        assert_eq!(slots(&v, b), [4]);
        v.forget(&cols, 0);
        assert_eq!(slots(&v, a), [] as [u32; 0]);
        // A slot reused for another value; a value not held.
        v.remember(&cols, 0, &doc("b"));
        assert_eq!(slots(&v, b), [0, 4]);
        assert_eq!(slots(&v, value_key("ip", Some("c"), None).unwrap()), [] as [u32; 0]);
        // Rebuilt from its slot keys, as a snapshot does.
        let mut keys = super::super::keys::Keys::default();
        for slot in 0..6 {
            keys.push(Some(&format!("k{slot}")));
        }
        keys.clear(2);
        let w = ValueIndex::from_slot_keys(v.columns(), vec![b, 0, a, 0, b, a], &cols, &keys);
        assert_eq!(slots(&w, b), [4, 0]);
        assert_eq!(slots(&w, a), [5], "a dead slot's key is not indexed");
        assert_eq!(w.case_counts(1), (5, 1));
    }
}
