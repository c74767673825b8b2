//! Record keys in the statistics index, compactly.
//!
//! A partition holds one key per slot, and a table finds a record's slot from its key. Held as
//! strings (an `Arc<str>` per slot, and a map from that string to the organisation and slot),
//! a key cost ~150 bytes a record, more than all of an alert's columns. Here:
//! - [`Keys`]: the keys Waggle makes ([`crate::core::store::new_id`]: 26 characters of lowercase
//!   Crockford base32, 128 bits) are held as the number they spell, 16 bytes, no allocation.
//!   Any other key (imported from elsewhere, a test's `abc`) is kept as text on the side, its
//!   place in the slot's number.
//! - [`SlotTable`]: key -> (organisation, slot) is a table of 8-byte entries that holds no key:
//!   a probe compares with the key its slot holds.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::hash::{BuildHasher, RandomState};

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const NOT_A_DIGIT: u8 = 0xff;
/// Byte -> its value in `ALPHABET`.
const DIGIT: [u8; 256] = {
    let mut t = [NOT_A_DIGIT; 256];
    let mut i = 0;
    while i < 32 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
};
/// A free slot.
const FREE: u128 = 0;
/// The bit of a key held as text: the rest is its place in `Keys::text`.
const TEXT: u128 = 1 << 127;

/// The number a canonical key spells (below 2^126: its first character is `0` or `1`, as in
/// every key made before the year 3000), or `None` (held as text). The all-zero key, the
/// free-slot marker, is held as text too.
fn encode(key: &str) -> Option<u128> {
    let b = key.as_bytes();
    if b.len() != 26 || b[0] > b'1' {
        return None;
    }
    let mut n: u128 = 0;
    for c in b {
        let d = DIGIT[*c as usize];
        if d == NOT_A_DIGIT {
            return None;
        }
        n = (n << 5) | u128::from(d);
    }
    (n != FREE).then_some(n)
}

fn decode(mut n: u128) -> String {
    let mut out = [0u8; 26];
    for i in (0..26).rev() {
        out[i] = ALPHABET[(n & 31) as usize];
        n >>= 5;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One key per slot of a partition (`None`: a free slot).
#[derive(Default)]
pub struct Keys {
    ids: Vec<u128>,
    /// The keys held as text; the places of removed ones are in `unused`.
    text: Vec<Box<str>>,
    unused: Vec<u32>,
}

impl Keys {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn push(&mut self, key: Option<&str>) {
        let n = self.ids.len() + 1;
        super::reserve_for(&mut self.ids, n);
        self.ids.push(FREE);
        if let Some(k) = key {
            self.set(self.ids.len() as u32 - 1, k);
        }
    }

    pub fn set(&mut self, slot: u32, key: &str) {
        self.clear(slot);
        self.ids[slot as usize] = match encode(key) {
            Some(n) => n,
            None => {
                let at = match self.unused.pop() {
                    Some(at) => {
                        self.text[at as usize] = key.into();
                        at
                    }
                    None => {
                        self.text.push(key.into());
                        self.text.len() as u32 - 1
                    }
                };
                TEXT | u128::from(at)
            }
        };
    }

    pub fn clear(&mut self, slot: u32) {
        if let Some(id) = self.ids.get_mut(slot as usize) {
            if *id & TEXT != 0 {
                let at = (*id & !TEXT) as u32;
                self.text[at as usize] = Box::default();
                self.unused.push(at);
            }
            *id = FREE;
        }
    }

    pub fn is_live(&self, slot: u32) -> bool {
        self.ids.get(slot as usize).is_some_and(|id| *id != FREE)
    }

    fn text_of(&self, id: u128) -> &str {
        &self.text[(id & !TEXT) as usize]
    }

    pub fn get(&self, slot: u32) -> Option<Cow<'_, str>> {
        match self.ids.get(slot as usize).copied()? {
            FREE => None,
            id if id & TEXT != 0 => Some(Cow::Borrowed(self.text_of(id))),
            n => Some(Cow::Owned(decode(n))),
        }
    }

    /// Whether `slot` holds `key`.
    pub fn holds(&self, slot: u32, key: &str) -> bool {
        match self.ids.get(slot as usize).copied() {
            None | Some(FREE) => false,
            Some(id) if id & TEXT != 0 => self.text_of(id) == key,
            Some(n) => encode(key) == Some(n),
        }
    }

    /// The keys of two slots in text order (free slots first).
    pub fn cmp(&self, a: u32, b: u32) -> Ordering {
        let (x, y) = (self.ids.get(a as usize).copied().unwrap_or(FREE), self.ids.get(b as usize).copied().unwrap_or(FREE));
        if (x | y) & TEXT == 0 {
            // Same length, an alphabet in ASCII order: the numbers sort as the text.
            return x.cmp(&y);
        }
        self.get(a).cmp(&self.get(b))
    }

    /// The hash [`SlotTable`] files `slot` under (the same as [`Keys::hash_of`] its key).
    fn hash_at(&self, hasher: &RandomState, slot: u32) -> u64 {
        match self.ids[slot as usize] {
            id if id & TEXT != 0 => hasher.hash_one(self.text_of(id)),
            n => hasher.hash_one(n),
        }
    }

    fn hash_of(hasher: &RandomState, key: &str) -> u64 {
        match encode(key) {
            Some(n) => hasher.hash_one(n),
            None => hasher.hash_one(key),
        }
    }

    pub fn bytes(&self) -> usize {
        self.ids.capacity() * 16 + self.text.capacity() * 16 + self.text.iter().map(|k| k.len()).sum::<usize>() + self.unused.capacity() * 4
    }
}

/// Record key -> (organisation number, slot), for a table whose partitions hold the keys.
#[derive(Default)]
pub struct SlotTable {
    table: hashbrown::HashTable<(u32, u32)>,
    hasher: RandomState,
}

impl SlotTable {
    /// The (organisation, slot) holding `key`; `keys_of(org)` gives an organisation's keys.
    pub fn get<'k>(&self, key: &str, keys_of: impl Fn(u32) -> Option<&'k Keys>) -> Option<(u32, u32)> {
        let hash = Keys::hash_of(&self.hasher, key);
        self.table.find(hash, |&(o, s)| keys_of(o).is_some_and(|k| k.holds(s, key))).copied()
    }

    /// File `(org, slot)`, whose keys (`keys_of(org)`) already hold its key; `keys_of` also
    /// rehashes the others when the table grows.
    pub fn insert<'k>(&mut self, org: u32, slot: u32, keys_of: impl Fn(u32) -> Option<&'k Keys>) {
        let Some(keys) = keys_of(org) else { return };
        let hash = keys.hash_at(&self.hasher, slot);
        let hasher = &self.hasher;
        self.table.insert_unique(hash, (org, slot), |&(o, s)| keys_of(o).map_or(0, |k| k.hash_at(hasher, s)));
    }

    /// Take `key` out, returning where it was.
    pub fn remove<'k>(&mut self, key: &str, keys_of: impl Fn(u32) -> Option<&'k Keys>) -> Option<(u32, u32)> {
        let hash = Keys::hash_of(&self.hasher, key);
        match self.table.find_entry(hash, |&(o, s)| keys_of(o).is_some_and(|k| k.holds(s, key))) {
            Ok(entry) => Some(entry.remove().0),
            Err(_) => None,
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.table.iter().copied()
    }

    pub fn bytes(&self) -> usize {
        self.table.capacity() * 9
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_keys_are_numbers_and_others_text() {
        let made = crate::core::store::new_id();
        assert!(encode(&made).is_some(), "{made}");
        let mut keys = Keys::default();
        for k in [made.as_str(), "abc", "AVz3-imported", "00000000000000000000000000", "7zzzzzzzzzzzzzzzzzzzzzzzzz", "8zzzzzzzzzzzzzzzzzzzzzzzzz"] {
            keys.push(Some(k));
            let slot = keys.len() as u32 - 1;
            assert_eq!(keys.get(slot).as_deref(), Some(k));
            assert!(keys.holds(slot, k));
            assert!(!keys.holds(slot, "other"));
        }
        let texts = |k: &Keys| k.text.len() - k.unused.len();
        assert_eq!(texts(&keys), 5, "only the key Waggle made is a number");
        keys.clear(1);
        assert_eq!(keys.get(1), None);
        assert!(!keys.is_live(1));
        assert_eq!(texts(&keys), 4);
        keys.set(1, &made);
        assert_eq!(texts(&keys), 4);
        keys.set(1, "text again");
        assert_eq!(keys.get(1).as_deref(), Some("text again"));
        assert_eq!(keys.text.len(), 5, "the place of the removed one is taken again");
        keys.set(0, "made is text now");
        assert_eq!((keys.get(0).as_deref(), texts(&keys)), (Some("made is text now"), 6));
    }

    #[test]
    fn keys_sort_as_their_text() {
        let texts = ["01hzzzzzzzzzzzzzzzzzzzzzzz", "01j0000000000000000000000a", "abc", "01j0000000000000000000000b", "zz", "01"];
        let mut keys = Keys::default();
        for t in texts {
            keys.push(Some(t));
        }
        let mut slots: Vec<u32> = (0..texts.len() as u32).collect();
        slots.sort_by(|a, b| keys.cmp(*a, *b));
        let mut sorted = texts.to_vec();
        sorted.sort();
        assert_eq!(slots.iter().map(|s| texts[*s as usize]).collect::<Vec<_>>(), sorted);
    }

    #[test]
    fn the_slot_table_finds_keys_through_their_partitions() {
        let mut parts = vec![Keys::default(), Keys::default()];
        let mut table = SlotTable::default();
        let mut made = Vec::new();
        for i in 0..5_000u32 {
            let org = i % 2;
            let key = if i % 7 == 0 { format!("imported-{i}") } else { crate::core::store::new_id() };
            parts[org as usize].push(Some(&key));
            let slot = parts[org as usize].len() as u32 - 1;
            table.insert(org, slot, |o| parts.get(o as usize));
            made.push((key, org, slot));
        }
        assert_eq!(table.len(), 5_000);
        for (key, org, slot) in &made {
            assert_eq!(table.get(key, |o| parts.get(o as usize)), Some((*org, *slot)));
        }
        assert_eq!(table.get("missing", |o| parts.get(o as usize)), None);
        let (key, org, slot) = &made[10];
        assert_eq!(table.remove(key, |o| parts.get(o as usize)), Some((*org, *slot)));
        assert_eq!(table.get(key, |o| parts.get(o as usize)), None);
        assert_eq!(table.get(&made[11].0, |o| parts.get(o as usize)), Some((made[11].1, made[11].2)));
    }
}
