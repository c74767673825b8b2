//! Rows read often and written rarely, kept in memory: the users behind API keys and sessions
//! (`core::auth`), and each organisation's data types, custom field definitions and alert
//! source settings (`domain::catalog::Catalog`).
//!
//! Coherence, the same for every [`EpochCache`]: each service function that writes what a
//! cache holds calls [`EpochCache::changed`] after its write commits, which bumps the epoch and
//! empties the map. A reader remembers the epoch before its database read and keeps what it
//! read only if no write happened meanwhile, so a stale row can never be cached.
//!
//! Several Waggle processes on one SurrealDB server: the writes of the others reach each
//! process through the change feed ([`crate::core::stats::index::StatsIndex::watch`]), whose
//! watchers call [`EpochCache::changed`] too, within a poll of the commit; a reader that meets a
//! name its cached value lacks reads it again ([`EpochCache::refresh`]), so what another process
//! just created is known at once. The TTL is a last backstop.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use crate::core::error::Result;

/// A map kept coherent with the database by its writers (see the module documentation).
pub struct EpochCache<K, V> {
    epoch: AtomicU64,
    map: RwLock<HashMap<K, (V, Instant)>>,
    ttl: Duration,
    max: usize,
}

impl<K: Eq + Hash, V: Clone> EpochCache<K, V> {
    /// Entries live `ttl`; past `max` entries the map starts again empty.
    pub fn new(ttl: Duration, max: usize) -> Self {
        Self { epoch: AtomicU64::new(0), map: RwLock::new(HashMap::new()), ttl, max }
    }

    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(key).filter(|(_, at)| at.elapsed() < self.ttl).map(|(v, _)| v.clone())
    }

    fn put(&self, key: K, value: V, read_at_epoch: u64) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        // Checked under the lock `changed` takes: a write after our read is never overtaken.
        if self.epoch.load(Ordering::Acquire) != read_at_epoch {
            return;
        }
        if map.len() >= self.max {
            map.clear();
        }
        map.insert(key, (value, Instant::now()));
    }

    /// What the cache holds was written: forget it all.
    pub fn changed(&self) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        map.clear();
    }

    /// Read `key` again from the database (`load`) whatever memory holds: for a reader that
    /// met a name its cached value lacks, which another Waggle process may have just written.
    pub async fn refresh<Q, F>(&self, key: &Q, load: F) -> Result<Option<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
        F: Future<Output = Result<Option<V>>>,
    {
        self.map.write().unwrap_or_else(|e| e.into_inner()).remove(key);
        self.get_or_load(key, load).await
    }

    /// The value from memory, or read by `load` and remembered (`None` is not remembered: a
    /// row created later is seen at once).
    pub async fn get_or_load<Q, F>(&self, key: &Q, load: F) -> Result<Option<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
        F: Future<Output = Result<Option<V>>>,
    {
        if let Some(v) = self.get(key) {
            return Ok(Some(v));
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        let Some(v) = load.await? else { return Ok(None) };
        self.put(key.to_owned(), v.clone(), epoch);
        Ok(Some(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_read_racing_a_write_is_not_kept() {
        let c: EpochCache<String, u32> = EpochCache::new(Duration::from_secs(60), 10);
        // The read starts, a write commits and says so, then the read's (old) value arrives.
        let read = c.get_or_load("k", async {
            c.changed();
            Ok(Some(1))
        });
        assert_eq!(read.await.unwrap(), Some(1));
        assert_eq!(c.get("k"), None, "a value read before a write must not be kept");
        assert_eq!(c.get_or_load("k", async { Ok(Some(2)) }).await.unwrap(), Some(2));
        assert_eq!(c.get("k"), Some(2));
        c.changed();
        assert_eq!(c.get("k"), None);
    }

    #[tokio::test]
    async fn entries_expire_and_none_is_not_kept() {
        let c: EpochCache<String, u32> = EpochCache::new(Duration::from_millis(30), 10);
        assert_eq!(c.get_or_load("k", async { Ok(None) }).await.unwrap(), None);
        assert_eq!(c.get_or_load("k", async { Ok(Some(3)) }).await.unwrap(), Some(3));
        assert_eq!(c.get("k"), Some(3));
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(c.get("k"), None);
    }
}
