//! The database: connection, migrations, and the organisation-scoped handle every service uses.
//!
//! SurrealQL lives here and in `migrations/*.surql`; values are always bound as parameters.
//! Records are stored as JSON-shaped documents with camelCase fields (TheHive's names), dates as
//! epoch milliseconds, and the record key as the id clients see.

pub mod counter;
mod migrate;
mod session;
pub mod warm;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use surrealdb::Surreal;
use surrealdb::engine::any::Any;
use surrealdb::opt::Config;
use surrealdb::opt::capabilities::Capabilities;

pub use migrate::{MIGRATIONS, SCHEMA_VERSION};
pub use session::{SESSION_CERT_DECLINED, SESSION_ORG, SESSION_STARTED, SESSION_USER, SessionStore};

use crate::core::error::{Error, Result};

/// Bound query parameters.
pub type Vars = Map<String, Value>;

/// Build a [`Vars`] map: `vars! { "org" => org, "id" => id }`.
#[macro_export]
macro_rules! vars {
    ($($k:expr => $v:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut m = $crate::core::store::Vars::new();
        $( m.insert(($k).to_string(), ::serde_json::json!($v)); )*
        m
    }};
}

/// What the startup log and the status endpoint say about storage.
#[derive(Debug, Clone)]
pub struct StorageInfo {
    pub engine: String,
    pub location: String,
    pub sync: String,
}

/// The database handle. Cheap to clone, and every clone shares one SDK handle: cloning a
/// `Surreal` handle opens a new engine session (three concurrent maps allocated, then an
/// asynchronous registration the first query waits for), which cost every request milliseconds
/// when each request cloned the store. Queries bind their variables, so sharing a session is safe.
#[derive(Clone)]
pub struct Store {
    db: Arc<Surreal<Any>>,
    info: Arc<StorageInfo>,
}

/// A database URL split into what we need to know about it.
fn describe(url: &str) -> anyhow::Result<(String, StorageInfo)> {
    let (scheme, rest) = url.split_once("://").context("database URL must look like scheme://...")?;
    match scheme {
        "mem" | "memory" => Ok((
            "mem://".into(),
            StorageInfo { engine: "memory".into(), location: "(in memory, lost at exit)".into(), sync: "none".into() },
        )),
        "surrealkv" => {
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            if path.is_empty() {
                anyhow::bail!("surrealkv:// needs a path");
            }
            let mut params: Vec<(String, String)> = query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (k.to_string(), v.to_string())
                })
                .collect();
            if !params.iter().any(|(k, _)| k == "sync") {
                params.push(("sync".into(), "every".into()));
            }
            let sync = params.iter().find(|(k, _)| k == "sync").map(|(_, v)| v.clone()).unwrap_or_default();
            let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let sync_text = match sync.as_str() {
                "every" => "fsync on every commit (grouped)".to_string(),
                "never" => "never fsync (left to the OS: NOT durable)".to_string(),
                d => format!("background fsync every {d} (commits in that window may be lost)"),
            };
            Ok((
                format!("surrealkv://{path}?{}", query.join("&")),
                StorageInfo { engine: "surrealkv".into(), location: path.to_string(), sync: sync_text },
            ))
        }
        "ws" | "wss" | "http" | "https" => Ok((
            url.to_string(),
            StorageInfo {
                engine: "surrealdb server".into(),
                location: url.to_string(),
                sync: "decided by the server".into(),
            },
        )),
        "rocksdb" => Ok((
            url.to_string(),
            StorageInfo { engine: "rocksdb".into(), location: rest.to_string(), sync: "see URL (sync=...)".into() },
        )),
        other => anyhow::bail!("unsupported database scheme {other}:// (use surrealkv://, mem:// or ws://)"),
    }
}

/// What the embedded engine (surrealkv) may hold in memory, from Waggle's memory budget. Left
/// to SurrealDB, both are sized from the machine: on 24 GiB, an 11 GiB block cache and 1 GiB
/// memtables (see `docs/benchmarks.md`, memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineMemory {
    /// Each memtable (the one written and those waiting to be flushed).
    pub memtable: u64,
    /// Cached SSTable blocks and value-log values.
    pub block_cache: u64,
}

impl EngineMemory {
    /// An eighth of the budget for the memtable (16-256 MiB), a quarter for the block cache.
    pub fn from_budget(budget: u64) -> EngineMemory {
        const MIB: u64 = 1 << 20;
        EngineMemory { memtable: (budget / 8).clamp(16 * MIB, 256 * MIB), block_cache: (budget / 4).max(16 * MIB) }
    }

    /// Applies to the embedded stores opened from now on (process-wide: the engine reads it
    /// when a store opens; Waggle's patched surrealkv, `vendor/README.md`).
    pub fn apply(self) {
        surrealkv::waggle_limits::set(self.memtable, self.block_cache);
    }
}

impl Store {
    /// Open (and migrate) the database at `url`.
    pub async fn open(url: &str, user: Option<&str>, password: Option<&str>) -> anyhow::Result<Store> {
        let (url, info) = describe(url)?;
        if info.engine == "surrealkv" {
            let parent = std::path::Path::new(&info.location).parent().map(|p| p.to_path_buf());
            if let Some(parent) = parent.filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(&parent)
                    .with_context(|| format!("cannot create data directory {}", parent.display()))?;
            }
        }
        // The embedded engine runs with scripting and every network function disabled.
        let capabilities = Capabilities::new().with_scripting(false).with_no_net_targets_allowed();
        let config = Config::new().capabilities(capabilities).query_timeout(Duration::from_secs(120));
        // The embedded engine releases its lock file asynchronously after the previous owner
        // (an exiting process, or a stopped server in the same process) lets go: wait a little.
        let mut waited = Duration::ZERO;
        let db = loop {
            match surrealdb::engine::any::connect((url.as_str(), config.clone())).await {
                Ok(db) => break db,
                Err(e) if e.to_string().contains("already locked") && waited < Duration::from_secs(10) => {
                    if waited.is_zero() {
                        tracing::warn!(url = %url, "the database is locked by another process; waiting up to 10 s");
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    waited += Duration::from_millis(100);
                }
                Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot open database {url}"))),
            }
        };
        if let (Some(user), Some(password)) = (user, password) {
            db.signin(surrealdb::opt::auth::Root { username: user.to_string(), password: password.to_string() })
                .await
                .context("cannot sign in to the SurrealDB server")?;
        }
        db.use_ns("waggle").use_db("waggle").await.context("cannot select namespace/database")?;
        let store = Store { db: Arc::new(db), info: Arc::new(info) };
        migrate::run(&store).await?;
        Ok(store)
    }

    pub fn info(&self) -> &StorageInfo {
        &self.info
    }

    /// Whether other Waggle processes may share the database: a SurrealDB server, not the
    /// embedded engines.
    pub fn is_shared(&self) -> bool {
        !matches!(self.info().engine.as_str(), "memory" | "surrealkv")
    }

    /// Run SurrealQL with bound variables. A transaction conflict is retried a few times: a
    /// failed transaction wrote nothing, so running it again is safe. The waits grow and are
    /// jittered, so writers that conflicted do not meet again in step.
    pub async fn query(&self, sql: &str, vars: Vars) -> Result<Response> {
        let mut attempt = 0;
        loop {
            let started = std::time::Instant::now();
            let res = self.db.query(sql).bind(Value::Object(vars.clone())).await;
            log_duration(sql, started.elapsed());
            let mut res = match res {
                Ok(r) => r,
                Err(e) if is_conflict(&e) && attempt < MAX_RETRIES => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let errors = res.take_errors();
            if errors.is_empty() {
                return Ok(Response { inner: res });
            }
            let mut errors: Vec<(usize, surrealdb::Error)> = errors.into_iter().collect();
            errors.sort_by_key(|(i, _)| *i);
            if errors.iter().any(|(_, e)| is_conflict(e)) && attempt < MAX_RETRIES {
                attempt += 1;
                tokio::time::sleep(backoff(attempt)).await;
                continue;
            }
            // The first real failure explains the rest ("transaction cancelled" follow-ups).
            let (idx, first) = errors
                .iter()
                .find(|(_, e)| !e.message().contains("not executed") && !e.message().contains("cancelled"))
                .unwrap_or(&errors[0]);
            return Err(classify(*idx, first.clone(), sql));
        }
    }

    /// The raw database handle, for the store's own modules.
    pub(crate) fn db(&self) -> &Surreal<Any> {
        &self.db
    }

    /// A handle on one organisation's records.
    pub fn org(&self, org: &str) -> OrgStore {
        OrgStore { store: self.clone(), org: org.to_string() }
    }
}

/// Runs of a conflicting transaction after the first.
const MAX_RETRIES: u32 = 10;

/// The wait before retry `attempt` (from 1): 4 ms doubling up to 256 ms, times 0.5-1.5.
fn backoff(attempt: u32) -> Duration {
    let base = 2u64 << attempt.min(7);
    Duration::from_micros(base * 1000 / 2 + rand::random::<u64>() % (base * 1000))
}

fn is_conflict(e: &surrealdb::Error) -> bool {
    let m = e.message();
    // A unique index violation quotes the value, which may itself contain "conflict".
    !m.contains("already contains") && (m.contains("conflict") || m.contains("Conflict") || m.contains("can be retried"))
}

/// Errors raised on purpose in SurrealQL (`THROW "..."`) carry a prefix telling what they are.
fn classify(index: usize, e: surrealdb::Error, sql: &str) -> Error {
    let msg = e.message().to_string();
    if let Some(rest) = msg.split("waggle:").nth(1) {
        let rest = rest.trim_end_matches(['"', '\'', '`']).trim();
        let (kind, text) = rest.split_once(':').unwrap_or(("", rest));
        let text = text.trim().to_string();
        return match kind {
            "notfound" => Error::NotFound(text),
            "conflict" => Error::Conflict { message: text, object: None },
            "forbidden" => Error::Authorization(text),
            _ => Error::BadRequest(text),
        };
    }
    if msg.contains("already contains") {
        return Error::Conflict { message: "An object with the same unique attributes already exists".into(), object: None };
    }
    Error::Internal(anyhow::anyhow!("statement {index} failed: {msg}; in: {}", sql.chars().take(400).collect::<String>()))
}

/// Every query's duration at `debug` (`WAGGLE_LOG=waggle::store=debug`), slow ones at `warn`.
fn log_duration(sql: &str, took: Duration) {
    if took >= SLOW_QUERY {
        tracing::warn!(ms = took.as_millis() as u64, sql = %sql_head(sql), "slow query");
    } else if tracing::enabled!(tracing::Level::DEBUG) {
        tracing::debug!(us = took.as_micros() as u64, sql = %sql_head(sql), "query");
    }
}

/// Queries slower than this are logged as warnings.
const SLOW_QUERY: Duration = Duration::from_secs(2);

/// The start of a query on one line, for the logs.
fn sql_head(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect()
}

/// The results of a multi-statement query.
pub struct Response {
    inner: surrealdb::IndexedResults,
}

impl Response {
    /// All rows of statement `idx`, deserialised.
    pub fn rows<T: DeserializeOwned>(&mut self, idx: usize) -> Result<Vec<T>> {
        let v: surrealdb::types::Value = self.inner.take(idx)?;
        let rows = match v.into_json_value() {
            Value::Array(a) => a,
            Value::Null => Vec::new(),
            other => vec![other],
        };
        rows.into_iter()
            .map(|r| serde_json::from_value(normalize(r)).map_err(|e| Error::Internal(anyhow::anyhow!("decoding row: {e}"))))
            .collect()
    }

    /// The first row of statement `idx`, if any.
    pub fn one<T: DeserializeOwned>(&mut self, idx: usize) -> Result<Option<T>> {
        Ok(self.rows(idx)?.into_iter().next())
    }

    /// Statement `idx`'s value as JSON.
    pub fn value(&mut self, idx: usize) -> Result<Value> {
        let v: surrealdb::types::Value = self.inner.take(idx)?;
        Ok(normalize(v.into_json_value()))
    }
}

/// Record ids come back as `table:key` (sometimes `table:⟨key⟩`); clients see only the key.
fn normalize(v: Value) -> Value {
    match v {
        Value::Object(mut m) => {
            if let Some(Value::String(id)) = m.get("id") {
                let key = record_key(id).to_string();
                m.insert("id".into(), Value::String(key));
            }
            Value::Object(m)
        }
        other => other,
    }
}

/// The key part of `table:key`, `table:⟨key⟩` or `` table:`key` ``.
pub fn record_key(id: &str) -> &str {
    let key = id.split_once(':').map(|(_, k)| k).unwrap_or(id);
    key.trim_start_matches(['⟨', '`']).trim_end_matches(['⟩', '`'])
}

/// A new record key: time-ordered (so insertion order is creation order) and random enough to
/// be unguessable (80 random bits after 48 bits of milliseconds), lowercase Crockford base32.
pub fn new_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let ms = now_millis() as u128;
    let rnd: u128 = rand::thread_rng().r#gen::<u128>() & ((1u128 << 80) - 1);
    let mut n = (ms << 80) | rnd;
    let mut out = [0u8; 26];
    for i in (0..26).rev() {
        out[i] = ALPHABET[(n & 31) as usize];
        n >>= 5;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A handle bound to one organisation. Every query it runs is restricted to records whose `org`
/// is this organisation: services never see another tenant's data unless they hold its handle.
#[derive(Clone)]
pub struct OrgStore {
    store: Store,
    org: String,
}

impl OrgStore {
    pub fn org_id(&self) -> &str {
        &self.org
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Run tenant-scoped SurrealQL. The text must restrict every read and write with `$org`
    /// (which this binds); a query that does not mention it is refused.
    pub async fn query(&self, sql: &str, mut vars: Vars) -> Result<Response> {
        if !sql.contains("$org") {
            return Err(Error::Internal(anyhow::anyhow!("unscoped tenant query refused: {sql}")));
        }
        vars.insert("org".into(), Value::String(self.org.clone()));
        self.store.query(sql, vars).await
    }

    /// One record of `table` by key, only if it belongs to this organisation.
    pub async fn get<T: DeserializeOwned>(&self, table: &str, id: &str) -> Result<Option<T>> {
        let mut r = self
            .query(
                "SELECT * FROM type::record($tb, $id) WHERE org = $org",
                vars! { "tb" => table, "id" => id },
            )
            .await?;
        r.one(0)
    }

    /// Create a record in this organisation; `doc` must not carry `org` or `id`.
    pub async fn create(&self, table: &str, id: &str, mut doc: Map<String, Value>) -> Result<Value> {
        doc.remove("org");
        doc.remove("id");
        let mut r = self
            .query(
                "CREATE type::record($tb, $id) CONTENT object::extend($doc, { org: $org }) RETURN AFTER",
                vars! { "tb" => table, "id" => id, "doc" => Value::Object(doc) },
            )
            .await?;
        r.one::<Value>(0)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("create returned nothing")))
    }

    /// Merge `patch` into a record of this organisation; `None` when there is no such record.
    pub async fn merge(&self, table: &str, id: &str, mut patch: Map<String, Value>) -> Result<Option<Value>> {
        patch.remove("org");
        patch.remove("id");
        let mut r = self
            .query(
                "UPDATE type::record($tb, $id) MERGE $patch WHERE org = $org RETURN AFTER",
                vars! { "tb" => table, "id" => id, "patch" => Value::Object(patch) },
            )
            .await?;
        r.one(0)
    }

    /// Delete a record of this organisation; false when there was none.
    pub async fn delete(&self, table: &str, id: &str) -> Result<bool> {
        let mut r = self
            .query("DELETE type::record($tb, $id) WHERE org = $org RETURN BEFORE", vars! { "tb" => table, "id" => id })
            .await?;
        Ok(!r.rows::<Value>(0)?.is_empty())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn engine_memory_follows_the_budget() {
        const MIB: u64 = 1 << 20;
        // The default budget (1 GiB): 128 MiB memtables, a 256 MiB block cache.
        assert_eq!(EngineMemory::from_budget(1024 * MIB), EngineMemory { memtable: 128 * MIB, block_cache: 256 * MIB });
        // Small budgets keep a workable memtable; large ones do not grow it past 256 MiB.
        assert_eq!(EngineMemory::from_budget(128 * MIB), EngineMemory { memtable: 16 * MIB, block_cache: 32 * MIB });
        assert_eq!(EngineMemory::from_budget(8192 * MIB), EngineMemory { memtable: 256 * MIB, block_cache: 2048 * MIB });
    }

    use super::*;

    #[test]
    fn ids_are_ordered_and_unique() {
        let a = new_id();
        std::thread::sleep(Duration::from_millis(2));
        let b = new_id();
        assert_eq!(a.len(), 26);
        assert!(a < b);
        assert_ne!(new_id(), new_id());
    }

    #[test]
    fn record_keys() {
        assert_eq!(record_key("case:abc"), "abc");
        assert_eq!(record_key("case:⟨01abc⟩"), "01abc");
        assert_eq!(record_key("case:`01abc`"), "01abc");
        assert_eq!(record_key("abc"), "abc");
    }

    #[test]
    fn urls() {
        let (u, i) = describe("surrealkv:///tmp/x/db").unwrap();
        assert_eq!(u, "surrealkv:///tmp/x/db?sync=every");
        assert!(i.sync.contains("every commit"));
        let (u, _) = describe("surrealkv://data/db?sync=never").unwrap();
        assert_eq!(u, "surrealkv://data/db?sync=never");
        assert!(describe("ftp://x").is_err());
        assert!(describe("nothing").is_err());
    }
}
