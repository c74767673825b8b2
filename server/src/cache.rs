//! Rows read often and written rarely, kept in memory: the users behind API keys and sessions
//! (`auth`), and each organisation's data types, custom field definitions and alert source
//! settings ([`Catalog`]).
//!
//! Coherence, the same for every [`EpochCache`]: each service function that writes what a
//! cache holds calls [`EpochCache::changed`] after its write commits, which bumps the epoch and
//! empties the map. A reader remembers the epoch before its database read and keeps what it
//! read only if no write happened meanwhile, so a stale row can never be cached. The TTL is a
//! backstop for writes this process cannot see (several Waggle servers on one SurrealDB
//! server).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use app::model::{CustomFieldDefinition, ObservableDataType};
use serde_json::Value;

use crate::error::Result;
use crate::store::OrgStore;
use crate::vars;

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

/// How long an organisation's settings are kept without a write seen by this process.
const CATALOG_TTL: Duration = Duration::from_secs(10);
const CATALOG_MAX: usize = 10_000;

/// What every alert, case and observable creation checks against, per organisation: read once
/// instead of one planned query per request. Written by `data_type`, `custom_field` and the
/// alert source settings (`alert::set_source`), which call the matching `*_changed`.
pub struct Catalog {
    data_types: EpochCache<String, Arc<Vec<ObservableDataType>>>,
    custom_fields: EpochCache<String, Arc<Vec<CustomFieldDefinition>>>,
    /// (organisation, source) -> whether its alerts are upserted.
    alert_sources: EpochCache<(String, String), bool>,
}

impl Default for Catalog {
    fn default() -> Self {
        Self {
            data_types: EpochCache::new(CATALOG_TTL, CATALOG_MAX),
            custom_fields: EpochCache::new(CATALOG_TTL, CATALOG_MAX),
            alert_sources: EpochCache::new(CATALOG_TTL, 100_000),
        }
    }
}

impl Catalog {
    /// The organisation's observable data types, sorted by name.
    pub async fn data_types(&self, store: &OrgStore) -> Result<Arc<Vec<ObservableDataType>>> {
        let load = async { Ok(Some(Arc::new(crate::data_type::read_all(store).await?))) };
        Ok(self.data_types.get_or_load(store.org_id(), load).await?.unwrap_or_default())
    }

    /// The data type named `name`, if the organisation has it.
    pub async fn data_type(&self, store: &OrgStore, name: &str) -> Result<Option<ObservableDataType>> {
        Ok(self.data_types(store).await?.iter().find(|t| t.name == name).cloned())
    }

    pub fn data_types_changed(&self) {
        self.data_types.changed();
    }

    /// The organisation's custom field definitions, sorted by reference.
    pub async fn custom_fields(&self, store: &OrgStore) -> Result<Arc<Vec<CustomFieldDefinition>>> {
        let load = async { Ok(Some(Arc::new(crate::custom_field::read_all(store).await?))) };
        Ok(self.custom_fields.get_or_load(store.org_id(), load).await?.unwrap_or_default())
    }

    pub fn custom_fields_changed(&self) {
        self.custom_fields.changed();
    }

    /// Whether alerts from `source` are upserted (its setting; no setting: no).
    pub async fn upserts_alerts_from(&self, store: &OrgStore, source: &str) -> Result<bool> {
        let key = (store.org_id().to_string(), source.to_string());
        let load = async {
            let mut r = store
                .query("SELECT VALUE `upsert` FROM type::record('alert_source', [$org, $s]) WHERE org = $org", vars! { "s" => source })
                .await?;
            Ok(Some(r.one::<Value>(0)?.and_then(|v| v.as_bool()).unwrap_or(false)))
        };
        Ok(self.alert_sources.get_or_load(&key, load).await?.unwrap_or(false))
    }

    pub fn alert_sources_changed(&self) {
        self.alert_sources.changed();
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
