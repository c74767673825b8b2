//! The statistics index: kept in memory, loaded at start, kept current by tailing SurrealDB's
//! change feed. No other area calls it: every write to an indexed table lands in the table's
//! change feed (declared by migration 4 and checked again at every start), and the tailer
//! applies it. See `docs/statistics.md` for the design, its memory cost and its consistency.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::path::PathBuf;
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::columns::{INDEXED, TableIndex};
use super::eval::Tables;
use super::snapshot;
use crate::core::error::{Error, Result};
use crate::core::query::Entity;
use crate::core::store::{Store, now_millis, record_key};
use crate::vars;

/// Records read per page while loading.
const LOAD_PAGE: usize = 5_000;
/// Change sets read per poll of the feed.
const FEED_PAGE: u32 = 1_000;
/// How often the tailer polls when nobody asks.
const POLL: Duration = Duration::from_millis(250);
/// Retention of the change feeds (how far behind the tailer may fall).
pub const FEED_RETENTION: &str = "1h";
const FEED_RETENTION_MS: i64 = 3_600_000;
/// A snapshot is used only while the feed surely still holds what followed it.
const SNAPSHOT_MAX_AGE_MS: i64 = FEED_RETENTION_MS - 300_000;
/// Changes become visible in the feed within this margin of their versionstamp's clock.
const FEED_MARGIN_MS: i64 = 5_000;

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
    /// How the last load went: `snapshot` or `rebuild` (and why).
    pub loaded_from: String,
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
    /// Where the snapshot is kept (`None`: no snapshot, e.g. a remote database).
    snapshot: Option<PathBuf>,
    /// Changes applied when the snapshot on disk was written or read (`u64::MAX`: none matches).
    snapshot_applied: AtomicU64,
    loaded_from: std::sync::Mutex<String>,
    /// Who else follows the feed (see [`StatsIndex::watch`]).
    watchers: RwLock<Vec<(&'static str, Watcher)>>,
}

/// Told the changes of one transaction to one table (each `{"update": record}` or
/// `{"delete": {"id": ...}}`, in order).
pub type Watcher = Arc<dyn Fn(&[Value]) + Send + Sync>;

impl StatsIndex {
    pub fn new(store: Store) -> Arc<StatsIndex> {
        Self::with_snapshot(store, None)
    }

    /// An index that keeps a snapshot at `snapshot` (see [`super::snapshot`]). Only the
    /// embedded engines: their versionstamps tell how old a snapshot is.
    pub fn with_snapshot(store: Store, snapshot: Option<PathBuf>) -> Arc<StatsIndex> {
        let snapshot = snapshot.filter(|_| store.info().engine == "surrealkv");
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
            snapshot,
            snapshot_applied: AtomicU64::new(u64::MAX),
            loaded_from: std::sync::Mutex::new(String::new()),
            watchers: RwLock::new(Vec::new()),
        })
    }

    /// Follow the changes of `table` (which must have a change feed) as they reach the feed,
    /// whichever Waggle process made them: how the processes sharing a SurrealDB server keep
    /// what they hold in memory current (caches, the live stream). Called from the tailer,
    /// within a poll ([`POLL`]) of the commit, once the index is loaded; `f` must be quick.
    pub fn watch(&self, table: &'static str, f: impl Fn(&[Value]) + Send + Sync + 'static) {
        self.watchers.write().unwrap_or_else(|e| e.into_inner()).push((table, Arc::new(f)));
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
            loaded_from: self.loaded_from.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        }
    }

    /// Load every table (from the snapshot when it can be trusted), then follow the change feed
    /// until `stop`, writing a snapshot every [`snapshot::EVERY`] while records change and a
    /// last one at `stop`. The server awaits the handle before closing the database.
    pub fn spawn(self: &Arc<Self>, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            this.tail(stop).await;
            // The watchers hold parts of the application state (which holds this index): let
            // go of them, so the database closes once the server stops.
            this.watchers.write().unwrap_or_else(|e| e.into_inner()).clear();
        })
    }

    /// Load, then follow the change feed until `stop`; a last snapshot at the end.
    async fn tail(self: &Arc<Self>, stop: CancellationToken) {
        let this = self;
        {
            let load = tokio::select! {
                _ = stop.cancelled() => return,
                r = this.load() => r,
            };
            if let Err(e) = load {
                tracing::error!(error = %format!("{e:#}"), "statistics index: loading failed; statistics use the database");
                return;
            }
            // After a rebuild (no snapshot matches yet), a first snapshot at once, so that the
            // next start (even after a crash) is quick.
            this.snapshot_if_changed().await;
            let mut last_snapshot = Instant::now();
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(POLL) => {
                        if let Err(e) = this.catch_up().await {
                            tracing::warn!(error = %format!("{e:#}"), "statistics index: reading the change feed failed");
                        }
                        if last_snapshot.elapsed() >= snapshot::EVERY {
                            last_snapshot = Instant::now();
                            this.snapshot_if_changed().await;
                        }
                    }
                }
            }
            this.snapshot_if_changed().await;
        }
    }

    /// Write a snapshot if records changed since the last one (logged, never fatal).
    async fn snapshot_if_changed(self: &Arc<Self>) {
        if self.snapshot.is_none() || !self.is_ready() || self.applied.load(Ordering::Relaxed) == self.snapshot_applied.load(Ordering::Relaxed) {
            return;
        }
        let started = Instant::now();
        match self.write_snapshot().await {
            Ok(bytes) => tracing::info!(ms = started.elapsed().as_millis() as u64, mib = bytes / (1 << 20), "statistics index snapshot written"),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "statistics index: writing the snapshot failed"),
        }
    }

    /// Write the snapshot now: the feed read to its end, the index encoded under the feed's
    /// lock (so the position and the data agree; readers go on, the feed waits), then the file
    /// written through a temporary file, and the token recorded in the database. Returns its
    /// size in bytes.
    pub async fn write_snapshot(self: &Arc<Self>) -> Result<usize> {
        let Some(path) = self.snapshot.clone() else { return Ok(0) };
        let token = crate::core::store::new_id();
        let tmp = path.with_extension("tmp");
        let (file, size, applied) = {
            let mut feed = self.feed.lock().await;
            let complete = self.catch_up_with(&mut feed).await?;
            let Since::Version(mut since) = feed.since else { return Ok(0) };
            if complete {
                // Read to its end: nothing older than the margin can still appear.
                since = since.max(((now_millis() - FEED_MARGIN_MS).max(0) as u64) << 16);
                feed.since = Since::Version(since);
            }
            let applied = self.applied.load(Ordering::Relaxed);
            let header = snapshot::Header { since, written_ms: now_millis(), token: token.clone() };
            // Streamed to a temporary file under the index's read lock (to the page cache: a
            // quarter of a gigabyte at a million records is not held in memory as well)...
            let (this, tmp) = (self.clone(), tmp.clone());
            let (file, size) = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
                let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
                let (file, size) = snapshot::write(&this.read(), &header, file)?;
                Ok((file.into_inner().map_err(std::io::IntoInnerError::into_error)?, size))
            })
            .await
            .map_err(|e| Error::Internal(anyhow::anyhow!("writing the snapshot: {e}")))?
            .map_err(|e| Error::Internal(anyhow::Error::new(e).context("writing the snapshot")))?;
            (file, size, applied)
        };
        // ...then made durable and put in place, the locks released.
        tokio::task::spawn_blocking(move || put_in_place(file, &tmp, &path))
            .await
            .map_err(|e| Error::Internal(anyhow::anyhow!("writing the snapshot: {e}")))?
            .map_err(|e| Error::Internal(anyhow::Error::new(e).context("writing the snapshot")))?;
        self.store
            .query("UPSERT stats_snapshot:current CONTENT { token: $snapshot, at: $at }", vars! { "snapshot" => token, "at" => now_millis() })
            .await?;
        self.snapshot_applied.store(applied, Ordering::Relaxed);
        Ok(size)
    }

    /// The snapshot, if it exists and can be trusted ([`super::snapshot`]); else why not.
    async fn read_snapshot(&self) -> std::result::Result<(snapshot::Header, IndexData), String> {
        let Some(path) = self.snapshot.clone() else { return Err("no snapshot kept".into()) };
        let decoded = tokio::task::spawn_blocking(move || match std::fs::File::open(&path).and_then(|f| Ok((f.metadata()?.len(), f))) {
            Ok((len, file)) => snapshot::read(std::io::BufReader::with_capacity(1 << 20, file), len as usize),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("no snapshot".into()),
            Err(e) => Err(format!("unreadable: {e}")),
        })
        .await
        .map_err(|e| e.to_string())??;
        let (header, data) = decoded;
        let mut r = self
            .store
            .query("SELECT VALUE token FROM stats_snapshot:current", vars! {})
            .await
            .map_err(|e| format!("reading the snapshot token: {e:?}"))?;
        let token: Option<String> = r.one(0).map_err(|e| format!("reading the snapshot token: {e:?}"))?;
        if token.as_deref() != Some(header.token.as_str()) {
            return Err("taken from another state of the database".into());
        }
        let since_ms = (header.since >> 16) as i64;
        if now_millis() - since_ms > SNAPSHOT_MAX_AGE_MS {
            return Err(format!("older than the change feed's retention ({} min)", (now_millis() - since_ms) / 60_000));
        }
        Ok((header, data))
    }

    /// Make sure every indexed table has its change feed (another area's later migration may have
    /// redefined a table), then read each table into memory. Changes made while loading are
    /// replayed from the feed afterwards (applying a change twice is harmless).
    pub async fn load(self: &Arc<Self>) -> Result<()> {
        let started = Instant::now();
        ensure_feeds(&self.store).await?;
        if self.snapshot.is_some() {
            match self.read_snapshot().await {
                Ok((header, data)) => {
                    *self.data.write().unwrap_or_else(|e| e.into_inner()) = data;
                    *self.feed.lock().await = Feed { since: Since::Version(header.since) };
                    self.ready.store(true, Ordering::Release);
                    let read_ms = started.elapsed().as_millis() as u64;
                    // Replay what followed the snapshot, to the end of the feed.
                    while !self.catch_up().await? {}
                    self.snapshot_applied.store(self.applied.load(Ordering::Relaxed), Ordering::Relaxed);
                    let ms = started.elapsed().as_millis() as u64;
                    self.load_ms.store(ms, Ordering::Relaxed);
                    *self.loaded_from.lock().unwrap_or_else(|e| e.into_inner()) = "snapshot".into();
                    let s = self.stats();
                    tracing::info!(ms, read_ms, replayed = s.changes_applied, records = ?s.records, mib = s.bytes / (1024 * 1024), "statistics index loaded from its snapshot");
                    return Ok(());
                }
                Err(why) => {
                    tracing::info!(reason = %why, "statistics index: snapshot not used; reading every record");
                    *self.loaded_from.lock().unwrap_or_else(|e| e.into_inner()) = format!("rebuild: {why}");
                }
            }
        } else {
            *self.loaded_from.lock().unwrap_or_else(|e| e.into_inner()) = "rebuild".into();
        }
        // Replay from a little before the scans start; the scans see at least that state. The
        // embedded engines' versionstamps are hybrid logical clocks (milliseconds << 16); for a
        // remote server we replay the whole retained feed (idempotent, only slower).
        let since = match self.store.info().engine.as_str() {
            "memory" | "surrealkv" => ((now_millis() - FEED_MARGIN_MS).max(0) as u64) << 16,
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
        self.catch_up_with(&mut feed).await
    }

    async fn catch_up_with(&self, feed: &mut Feed) -> Result<bool> {
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
            let watchers = self.watchers.read().unwrap_or_else(|e| e.into_inner()).clone();
            let mut told: Vec<(Watcher, Vec<Value>)> = Vec::new();
            {
                let mut d = self.data.write().unwrap_or_else(|e| e.into_inner());
                for set in &sets {
                    if let Some(v) = set.get("versionstamp").and_then(Value::as_u64) {
                        last = Some(v);
                    }
                    let changes = set.get("changes").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                    for change in changes {
                        apply(&mut d, change);
                        self.applied.fetch_add(1, Ordering::Relaxed);
                    }
                    for (table, f) in &watchers {
                        let mine: Vec<Value> = changes.iter().filter(|c| change_table(c) == Some(*table)).cloned().collect();
                        if !mine.is_empty() {
                            told.push((f.clone(), mine));
                        }
                    }
                }
            }
            // Outside the index's lock: a watcher may read the index.
            for (f, changes) in told {
                f(&changes);
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

/// The table a change is to.
fn change_table(change: &Value) -> Option<&str> {
    let id = change.get("update").or_else(|| change.get("delete"))?.get("id")?.as_str()?;
    Some(id.split_once(':')?.0.trim_matches('`'))
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

/// Make a written temporary file durable and rename it to `path`, so that a crash leaves the
/// old file or the new one, whole.
fn put_in_place(file: std::fs::File, tmp: &std::path::Path, path: &std::path::Path) -> std::io::Result<()> {
    file.sync_all()?;
    drop(file);
    std::fs::rename(tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
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

    /// Every record of every table as text (key, organisation, each column's value decoded),
    /// sorted: two indexes holding the same records compare equal whatever their slots.
    fn canonical(d: &IndexData) -> Vec<String> {
        use super::super::columns::Column;
        let mut out = Vec::new();
        for e in INDEXED {
            let t = &d.tables[e];
            for (org, p) in t.partitions() {
                for slot in (0..p.len() as u32).filter(|s| p.keys.is_live(*s)) {
                    let key = p.keys.get(slot).unwrap_or_default();
                    let s = slot as usize;
                    let cells: Vec<String> = p
                        .cols
                        .iter()
                        .enumerate()
                        .map(|(i, c)| match c {
                            Column::Code(v) => format!("{:?}", t.dicts[i].value(v[s])),
                            Column::Num(v) => format!("{:?}", v[s]),
                            Column::Date(v) => format!("{}", v[s]),
                            Column::Bool(v) => format!("{}", v[s]),
                            Column::Codes(v) => format!("{:?}", v[s].iter().map(|c| t.dicts[i].value(*c)).collect::<Vec<_>>()),
                        })
                        .collect();
                    out.push(format!("{} {key} {org} {}", e.table(), cells.join("|")));
                }
            }
        }
        out.sort();
        out
    }

    async fn seed(store: &Store, from: usize, n: usize) {
        for i in from..from + n {
            let key = crate::core::store::new_id();
            store
                .query(
                    "CREATE type::record('alert', $k) CONTENT { org: $org, status: 'New', date: $i, severity: 2, tags: ['t1', $tag], type: 'siem', source: 'bench', sourceRef: $ref }",
                    vars! { "k" => key, "org" => if i % 2 == 0 { "o1" } else { "o2" }, "i" => i as i64, "tag" => format!("tag{}", i % 3), "ref" => format!("r{i}") },
                )
                .await
                .unwrap();
            let key = crate::core::store::new_id();
            store
                .query(
                    "CREATE type::record('observable', $k) CONTENT { org: 'o1', case: 'c1', dataType: 'ip', data: $d, ioc: true, tags: [] }",
                    vars! { "k" => key, "d" => format!("10.0.{}.{}", i / 200, i % 200) },
                )
                .await
                .unwrap();
        }
    }

    /// A surrealkv store in a temp dir with `n` alerts and observables, its snapshot path, and
    /// an index rebuilt from it.
    async fn seeded(n: usize) -> (tempfile::TempDir, Store, std::path::PathBuf, Arc<StatsIndex>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("surrealkv://{}", dir.path().join("db").display()), None, None).await.unwrap();
        let path = dir.path().join(snapshot::FILE);
        seed(&store, 0, n).await;
        let index = loaded(&store, &path).await;
        (dir, store, path, index)
    }

    async fn loaded(store: &Store, path: &std::path::Path) -> Arc<StatsIndex> {
        let index = StatsIndex::with_snapshot(store.clone(), Some(path.to_path_buf()));
        index.load().await.unwrap();
        index
    }

    /// A snapshot holds exactly what the index held; what changed after it is replayed from the
    /// feed; the derived maps (duplicate keys, value index) come back too.
    #[tokio::test]
    async fn a_snapshot_and_the_feed_after_it_give_the_rebuilt_index() {
        let (_dir, store, path, first) = seeded(40).await;
        assert!(first.stats().loaded_from.starts_with("rebuild"), "{}", first.stats().loaded_from);
        assert!(first.write_snapshot().await.unwrap() > 0);

        // Read back as it was.
        let second = loaded(&store, &path).await;
        assert_eq!(second.stats().loaded_from, "snapshot");
        assert_eq!(canonical(&second.read()), canonical(&first.read()));

        // Changes after the snapshot: created, updated, deleted records.
        seed(&store, 40, 10).await;
        store.query("UPDATE alert SET status = 'Ignored', tags = ['late'] WHERE date < 5", vars! {}).await.unwrap();
        store.query("DELETE alert WHERE date >= 5 AND date < 8", vars! {}).await.unwrap();
        let third = loaded(&store, &path).await;
        assert_eq!(third.stats().loaded_from, "snapshot");
        let rebuilt = StatsIndex::new(store.clone());
        rebuilt.load().await.unwrap();
        assert_eq!(canonical(&third.read()), canonical(&rebuilt.read()));
        assert_eq!(third.read().tables[&Entity::Alert].records(), 47);
        // The duplicate check and the value index answer as after a rebuild.
        let key = super::super::values::alert_key("siem", "bench", "r45");
        assert_eq!(third.read().alert_may_exist("o2", key), Some(true));
        assert_eq!(third.read().alert_may_exist("o2", super::super::values::alert_key("siem", "bench", "r6")), Some(false));
        assert_eq!(third.read().case_observable_counts("o1", "c1"), rebuilt.read().case_observable_counts("o1", "c1"));
        assert_eq!(third.read().case_observable_counts("o1", "c1"), Some((50, 50)));
    }

    /// A corrupted, truncated, foreign or too old snapshot is not used: the index is rebuilt
    /// from the database, and says why.
    #[tokio::test]
    async fn a_snapshot_that_cannot_be_trusted_is_rebuilt() {
        let (_dir, store, path, first) = seeded(20).await;
        first.write_snapshot().await.unwrap();
        let good = std::fs::read(&path).unwrap();
        let expect = canonical(&first.read());
        let rebuilt_because = |index: &StatsIndex| index.stats().loaded_from;

        // One flipped byte in the middle.
        let mut bad = good.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 0x55;
        std::fs::write(&path, &bad).unwrap();
        let i = loaded(&store, &path).await;
        assert!(rebuilt_because(&i).contains("checksum"), "{}", rebuilt_because(&i));
        assert_eq!(canonical(&i.read()), expect);

        // Torn: half the file.
        std::fs::write(&path, &good[..good.len() / 2]).unwrap();
        let i = loaded(&store, &path).await;
        assert!(rebuilt_because(&i).starts_with("rebuild:"), "{}", rebuilt_because(&i));
        assert_eq!(canonical(&i.read()), expect);

        // Not a snapshot at all.
        std::fs::write(&path, b"hello").unwrap();
        let i = loaded(&store, &path).await;
        assert!(rebuilt_because(&i).contains("not a statistics index snapshot"), "{}", rebuilt_because(&i));

        // Taken from another state of the database (the token moved on).
        std::fs::write(&path, &good).unwrap();
        store.query("UPSERT stats_snapshot:current SET token = 'another'", vars! {}).await.unwrap();
        let i = loaded(&store, &path).await;
        assert!(rebuilt_because(&i).contains("another state"), "{}", rebuilt_because(&i));

        // Older than the feed's retention: the feed may have lost what followed it.
        let d = first.read();
        let old = ((now_millis() - FEED_RETENTION_MS - 60_000) as u64) << 16;
        let bytes = snapshot::encode(&d, &snapshot::Header { since: old, written_ms: now_millis(), token: "t-old".into() });
        drop(d);
        std::fs::write(&path, bytes).unwrap();
        store.query("UPSERT stats_snapshot:current SET token = 't-old'", vars! {}).await.unwrap();
        let i = loaded(&store, &path).await;
        assert!(rebuilt_because(&i).contains("older than the change feed"), "{}", rebuilt_because(&i));
        assert_eq!(canonical(&i.read()), expect);
    }

    #[test]
    fn tables_of_ids() {
        assert_eq!(table_of("alert:abc"), Some(Entity::Alert));
        assert_eq!(table_of("task_log:⟨x⟩"), Some(Entity::Log));
        assert_eq!(table_of("user:abc"), None);
    }
}
