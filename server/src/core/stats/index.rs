//! The statistics index: kept in memory, loaded at start, kept current by tailing SurrealDB's
//! change feed. No other area calls it: every write to an indexed table lands in the table's
//! change feed (declared by migration 4 and checked again at every start), and the tailer
//! applies it. See `docs/statistics.md` for the design, its memory cost and its consistency.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::columns::{INDEXED, TableIndex};
use super::eval::Tables;
use crate::core::error::{Error, Result};
use crate::core::query::Entity;
use crate::core::store::{Store, record_key};
use crate::vars;

/// Records read per page while loading.
const LOAD_PAGE: usize = 5_000;
/// Change sets read per poll of the feed.
const FEED_PAGE: u32 = 1_000;
/// How often the tailer polls when nobody asks.
const POLL: Duration = Duration::from_millis(250);
/// Retention of the change feeds (how far behind the tailer may fall).
pub const FEED_RETENTION: &str = "1h";

pub struct IndexData {
    pub tables: HashMap<Entity, TableIndex>,
    pub loaded: HashSet<Entity>,
}

impl Tables for IndexData {
    fn table(&self, e: Entity) -> Option<&TableIndex> {
        if self.loaded.contains(&e) { self.tables.get(&e) } else { None }
    }
}

/// Where the tailer is in the change feed.
struct Feed {
    /// The next `SINCE`: a versionstamp, or a start time before the first read.
    since: Since,
}

enum Since {
    Time(i64),
    Version(u64),
}

/// Counters the benchmark and the logs report.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IndexStats {
    pub ready: bool,
    pub records: HashMap<String, usize>,
    pub bytes: usize,
    pub load_ms: u64,
    pub changes_applied: u64,
}

pub struct StatsIndex {
    data: RwLock<IndexData>,
    store: Store,
    feed: tokio::sync::Mutex<Feed>,
    ready: AtomicBool,
    load_ms: AtomicU64,
    applied: AtomicU64,
    /// Pages of lists answered from the index ([`super::list_page`]).
    lists: AtomicU64,
}

impl StatsIndex {
    pub fn new(store: Store) -> Arc<StatsIndex> {
        Arc::new(StatsIndex {
            data: RwLock::new(IndexData {
                tables: INDEXED.iter().map(|e| (*e, TableIndex::new(*e))).collect(),
                loaded: HashSet::new(),
            }),
            store,
            feed: tokio::sync::Mutex::new(Feed { since: Since::Time(0) }),
            ready: AtomicBool::new(false),
            load_ms: AtomicU64::new(0),
            applied: AtomicU64::new(0),
            lists: AtomicU64::new(0),
        })
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// How many list pages the index answered since the start.
    pub fn lists_served(&self) -> u64 {
        self.lists.load(Ordering::Relaxed)
    }

    pub(super) fn count_list(&self) {
        self.lists.fetch_add(1, Ordering::Relaxed);
    }

    pub fn read(&self) -> RwLockReadGuard<'_, IndexData> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn stats(&self) -> IndexStats {
        let d = self.read();
        IndexStats {
            ready: self.is_ready(),
            records: d.tables.iter().map(|(e, t)| (e.table().to_string(), t.records())).collect(),
            bytes: d.tables.values().map(TableIndex::bytes).sum(),
            load_ms: self.load_ms.load(Ordering::Relaxed),
            changes_applied: self.applied.load(Ordering::Relaxed),
        }
    }

    /// Load every table, then follow the change feed until `stop`.
    pub fn spawn(self: &Arc<Self>, stop: CancellationToken) {
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.load().await {
                tracing::error!(error = %format!("{e:#}"), "statistics index: loading failed; statistics use the database");
                return;
            }
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(POLL) => {
                        if let Err(e) = this.catch_up().await {
                            tracing::warn!(error = %format!("{e:#}"), "statistics index: reading the change feed failed");
                        }
                    }
                }
            }
        });
    }

    /// Make sure every indexed table has its change feed (another area's later migration may have
    /// redefined a table), then read each table into memory. Changes made while loading are
    /// replayed from the feed afterwards (applying a change twice is harmless).
    pub async fn load(self: &Arc<Self>) -> Result<()> {
        let started = Instant::now();
        ensure_feeds(&self.store).await?;
        // Replay from a little before the scans start; the scans see at least that state. The
        // embedded engines' versionstamps are hybrid logical clocks (milliseconds << 16); for a
        // remote server we replay the whole retained feed (idempotent, only slower).
        let since = match self.store.info().engine.as_str() {
            "memory" | "surrealkv" => ((crate::core::store::now_millis() - 5_000).max(0) as u64) << 16,
            _ => 0,
        };
        *self.feed.lock().await = Feed { since: Since::Version(since) };
        // All tables at once, each on its own task: the cost is decoding records (CPU), so the
        // big tables load on every core instead of one after the other.
        let loads: Vec<_> = INDEXED
            .iter()
            .map(|e| {
                let (this, e) = (self.clone(), *e);
                tokio::spawn(async move { this.load_table(e).await })
            })
            .collect();
        for load in loads {
            load.await.map_err(|e| Error::Internal(anyhow::anyhow!("loading the statistics index: {e}")))??;
        }
        self.ready.store(true, Ordering::Release);
        self.catch_up().await?;
        let ms = started.elapsed().as_millis() as u64;
        self.load_ms.store(ms, Ordering::Relaxed);
        let s = self.stats();
        tracing::info!(ms, records = ?s.records, mib = s.bytes / (1024 * 1024), "statistics index loaded");
        Ok(())
    }

    async fn load_table(&self, entity: Entity) -> Result<()> {
        self.load_table_paged(entity, LOAD_PAGE).await
    }

    /// Read a table in pages of `page` records, each page a key-range scan that starts after the
    /// last key read (`table:key>..`), so every page costs the same whatever the table's size.
    /// (A `WHERE id > $after ORDER BY id` filter reads the table from its start on every page:
    /// quadratic, 524 s for 2.4M records.) Keys are time-ordered, so the scan order is the
    /// record order.
    async fn load_table_paged(&self, entity: Entity, page: usize) -> Result<()> {
        let spec = super::columns::TableSpec::for_entity(entity);
        let first = format!("SELECT {} FROM type::record($tb, ..) LIMIT {page}", spec.projection());
        let next = format!("SELECT {} FROM type::record($tb, $after>..) LIMIT {page}", spec.projection());
        let mut after: Option<String> = None;
        loop {
            let mut r = match &after {
                None => self.store.query(&first, vars! { "tb" => entity.table() }).await?,
                Some(a) => self.store.query(&next, vars! { "tb" => entity.table(), "after" => a }).await?,
            };
            let rows: Vec<Value> = r.rows(0)?;
            let n = rows.len();
            if let Some(last) = rows.last().and_then(|v| v.get("id")).and_then(Value::as_str) {
                after = Some(record_key(last).to_string());
            }
            {
                let mut d = self.data.write().unwrap_or_else(|e| e.into_inner());
                if let Some(t) = d.tables.get_mut(&entity) {
                    for row in &rows {
                        t.upsert(row);
                    }
                }
            }
            if n < page {
                break;
            }
        }
        self.data.write().unwrap_or_else(|e| e.into_inner()).loaded.insert(entity);
        Ok(())
    }

    /// Apply what the change feed holds beyond what was applied. Statistics requests call this
    /// first, so a write acknowledged before the request is counted (read-your-writes). Returns
    /// whether the feed was read to its end (not when the index is still loading, nor under an
    /// ingest heavier than the pages one call reads).
    pub async fn catch_up(&self) -> Result<bool> {
        if !self.is_ready() {
            return Ok(false);
        }
        let mut feed = self.feed.lock().await;
        // A bounded number of pages per call: under a heavy ingest a request answers with what
        // was applied so far rather than waiting for the writers to stop.
        for _ in 0..20 {
            let since = match feed.since {
                Since::Version(v) => v.to_string(),
                // Only numbers and a timestamp we format ourselves reach the query text.
                Since::Time(ms) => format!("d\"{}\"", rfc3339(ms)),
            };
            let sql = format!("SHOW CHANGES FOR DATABASE SINCE {since} LIMIT {FEED_PAGE}");
            let mut r = match self.store.query(&sql, vars! {}).await {
                Ok(r) => r,
                Err(e) if matches!(feed.since, Since::Time(_)) => {
                    // A start time the engine cannot map to a versionstamp: read the whole feed.
                    tracing::debug!(error = %e, "change feed: start time refused; reading from the beginning");
                    feed.since = Since::Version(0);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let sets: Vec<Value> = r.rows(0)?;
            let n = sets.len();
            if n == 0 {
                return Ok(true);
            }
            let mut last = None;
            {
                let mut d = self.data.write().unwrap_or_else(|e| e.into_inner());
                for set in &sets {
                    if let Some(v) = set.get("versionstamp").and_then(Value::as_u64) {
                        last = Some(v);
                    }
                    for change in set.get("changes").and_then(Value::as_array).into_iter().flatten() {
                        apply(&mut d, change);
                        self.applied.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            if let Some(v) = last {
                feed.since = Since::Version(v + 1);
            }
            if n < FEED_PAGE as usize {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn table_of(id: &str) -> Option<Entity> {
    let table = id.split_once(':')?.0.trim_matches('`');
    INDEXED.iter().copied().find(|e| e.table() == table)
}

fn apply(d: &mut IndexData, change: &Value) {
    if let Some(doc) = change.get("update").filter(|v| v.is_object()) {
        let Some(entity) = doc.get("id").and_then(Value::as_str).and_then(table_of) else { return };
        if let Some(t) = d.tables.get_mut(&entity) {
            t.upsert(doc);
        }
    } else if let Some(del) = change.get("delete") {
        let Some(id) = del.get("id").and_then(Value::as_str) else { return };
        let Some(entity) = table_of(id) else { return };
        if let Some(t) = d.tables.get_mut(&entity) {
            t.remove(record_key(id));
        }
    }
}

/// Declare the change feed of every indexed table (idempotent).
pub async fn ensure_feeds(store: &Store) -> Result<()> {
    let mut sql = String::new();
    for e in INDEXED {
        sql.push_str(&format!(
            "DEFINE TABLE IF NOT EXISTS `{t}` SCHEMALESS; ALTER TABLE `{t}` CHANGEFEED {FEED_RETENTION};\n",
            t = e.table()
        ));
    }
    store.query(&sql, vars! {}).await.map(|_| ()).map_err(|e| match e {
        Error::Internal(e) => Error::Internal(e.context("declaring the change feeds")),
        other => other,
    })
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` from epoch milliseconds.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = super::eval::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, (rem % 3600) / 60, rem % 60, ms.rem_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_710_428_400_123), "2024-03-14T15:00:00.123Z");
    }

    /// Paged loading reads every record exactly once, whatever the page size.
    #[tokio::test]
    async fn loads_every_record_in_pages() {
        let store = Store::open("mem://", None, None).await.unwrap();
        for _ in 0..7 {
            let key = crate::core::store::new_id();
            store
                .query("CREATE type::record('alert', $k) CONTENT { org: 'o', status: 'New', date: 1 }", vars! { "k" => key })
                .await
                .unwrap();
        }
        for page in [2, 7, 100] {
            let index = StatsIndex::new(store.clone());
            index.load_table_paged(Entity::Alert, page).await.unwrap();
            assert_eq!(index.read().tables[&Entity::Alert].records(), 7, "page size {page}");
        }
    }

    #[test]
    fn tables_of_ids() {
        assert_eq!(table_of("alert:abc"), Some(Entity::Alert));
        assert_eq!(table_of("task_log:⟨x⟩"), Some(Entity::Log));
        assert_eq!(table_of("user:abc"), None);
    }
}
