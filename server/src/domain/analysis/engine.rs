//! The engine's long-lived parts: the definitions found on disk, the sealing key, the queue, and
//! the dispatcher that starts queued jobs. `start` (called by the composition root) scans the
//! analyzers directories and rebuilds the queue from the database.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::broadcast;

use super::catalog::{Definition, Scan};
use super::settings::SecretBox;
use crate::core::analysis::queue::{Budget, Lane, Queue};
use crate::core::error::{Error, Result};
use crate::core::state::{AppState, Service};
use crate::core::store::Store;
use crate::vars;

/// Definitions by id, and what could not be read.
#[derive(Default)]
pub struct Catalog {
    pub definitions: HashMap<String, Arc<Definition>>,
    pub errors: Vec<(String, String)>,
    pub scanned_at: i64,
}

pub struct Engine {
    pub queue: Queue,
    catalog: RwLock<Arc<Catalog>>,
    secrets: OnceLock<std::result::Result<SecretBox, String>>,
    /// Ids of jobs that just finished (waiters re-read the job).
    finished: broadcast::Sender<String>,
    /// This process among the Waggle processes sharing a database: the jobs it queued and runs
    /// carry it (`node`), and it says it is alive in `analysis_node` (see [`start`]).
    pub node: String,
}

/// How often a process on a SurrealDB server says it is alive and looks for the jobs of
/// processes that stopped doing so.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// A process not heard of for this long is gone: its jobs are queued again by another.
const NODE_GONE_MS: i64 = 35_000;

/// Queue again the jobs of processes gone (every job not finished, with the embedded engine,
/// where this process is the only one), as this process's: their ids, organisations and lanes.
const REQUEUE_ALL: &str = "UPDATE job SET status = 'Waiting', startDate = NONE, node = $node, requeuedAt = time::millis(time::now()) \
     WHERE status IN ['Waiting', 'InProgress'] RETURN id, org, analyzerId, lane, createdAt";
const REQUEUE_GONE: &str = "UPDATE job SET status = 'Waiting', startDate = NONE, node = $node, requeuedAt = time::millis(time::now()) \
     WHERE status IN ['Waiting', 'InProgress'] AND node != $node \
     AND (IF node = NONE THEN true ELSE (type::record('analysis_node', node).seen ?? 0) < $gone END) \
     RETURN id, org, analyzerId, lane, createdAt";

impl Service for Engine {
    fn make(state: &AppState) -> Self {
        Engine {
            queue: Queue::new(state.settings.analysis.concurrency),
            catalog: RwLock::new(Arc::new(Catalog::default())),
            secrets: OnceLock::new(),
            finished: broadcast::channel(1024).0,
            node: crate::core::store::new_id(),
        }
    }
}

impl Engine {
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn definition(&self, id: &str) -> Option<Arc<Definition>> {
        self.catalog().definitions.get(id).cloned()
    }

    /// Read the analyzers directories again.
    pub async fn rescan(&self, state: &AppState) -> Arc<Catalog> {
        let dirs = state.settings.analysis.analyzer_dirs.clone();
        let scan: Scan = tokio::task::spawn_blocking(move || super::catalog::scan(&dirs)).await.unwrap_or_default();
        for e in &scan.errors {
            tracing::warn!(path = %e.path.display(), error = %e.message, "analyzer definition refused");
        }
        let catalog = Arc::new(Catalog {
            definitions: scan.definitions.into_iter().map(|d| (d.id.clone(), Arc::new(d))).collect(),
            errors: scan.errors.into_iter().map(|e| (e.path.display().to_string(), e.message)).collect(),
            scanned_at: crate::core::store::now_millis(),
        });
        *self.catalog.write().unwrap_or_else(|e| e.into_inner()) = catalog.clone();
        catalog
    }

    /// The key that seals analyzer secrets (`<data>/secrets.key`, made on first use).
    pub fn secrets(&self, state: &AppState) -> Result<&SecretBox> {
        self.secrets
            .get_or_init(|| SecretBox::load_or_create(&state.settings.data_dir).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::Internal(anyhow::anyhow!("the analyzer secrets key cannot be read: {e}")))
    }

    pub(super) fn announce(&self, job: &str) {
        let _ = self.finished.send(job.to_string());
    }

    pub(super) fn subscribe(&self) -> broadcast::Receiver<String> {
        self.finished.subscribe()
    }
}

/// The lane of an analyzer of an organisation.
pub fn lane(org: &str, analyzer: &str) -> Lane {
    Lane { org: org.to_string(), analyzer: analyzer.to_string() }
}

/// The lane of a job: the one it was queued in (`lane`), or its analyzer's for a job that
/// names none.
pub fn job_lane(org: &str, lane_name: Option<&str>, analyzer_id: &str) -> Lane {
    lane(org, lane_name.unwrap_or(analyzer_id))
}

/// The budget of an analyzer: `rate` runs per `unit`, or none.
pub fn budget(rate: Option<u32>, unit: Option<app::model::RateUnit>) -> Option<Budget> {
    match (rate, unit) {
        (Some(rate), Some(unit)) => Some(Budget { rate, window: Duration::from_secs(unit.seconds()) }),
        _ => None,
    }
}

#[derive(Deserialize)]
struct Pending {
    id: String,
    org: String,
    #[serde(rename = "analyzerId")]
    analyzer_id: String,
    #[serde(default)]
    lane: Option<String>,
    #[serde(rename = "createdAt", default)]
    created_at: i64,
}

#[derive(Deserialize)]
struct Started {
    id: String,
    org: String,
    #[serde(rename = "analyzerId")]
    analyzer_id: String,
    #[serde(default)]
    lane: Option<String>,
    #[serde(rename = "startDate")]
    start_date: i64,
}

/// Remove leftover job directories, scan the definitions, give every analyzer its budget (with
/// the starts still in its window), queue every job that did not finish (InProgress ones again:
/// their process died with the last server), then run the dispatcher.
pub async fn start(state: &AppState, shutdown: tokio_util::sync::CancellationToken) -> anyhow::Result<()> {
    let engine = state.service::<Engine>();
    let shared = shared(state);
    if shared {
        heartbeat(state, &engine.node).await?;
    }
    // Nothing runs yet here: job directories left by a crash are removed (on a shared data
    // directory, those of the processes alive are kept).
    remove_leftover_job_dirs(state, shared).await;
    let catalog = engine.rescan(state).await;
    tracing::info!(definitions = catalog.definitions.len(), refused = catalog.errors.len(), "analyzer definitions read");
    let longest = load_budgets(&state.store, &state.service::<Engine>()).await?;
    // The starts counted here are not counted again when the change feed, replayed from before
    // this start, brings them to `follow_other_budgets`.
    let mut counted = HashMap::new();
    if let Some(window) = longest {
        let since = crate::core::store::now_millis() - i64::try_from(window.as_millis()).unwrap_or(i64::MAX / 2);
        let mut r = state
            .store
            .query(
                "SELECT id, org, analyzerId, lane, startDate FROM job WHERE startDate > $since AND fromCache != true ORDER BY startDate",
                vars! { "since" => since },
            )
            .await?;
        for s in r.rows::<Started>(0)? {
            engine.queue.record_start(&job_lane(&s.org, s.lane.as_deref(), &s.analyzer_id), s.start_date);
            counted.insert(crate::core::store::record_key(&s.id).to_string(), s.start_date);
        }
    }
    // Alone on an embedded database, every job not finished is this process's to run (InProgress
    // ones again: their process died with the last server). On a SurrealDB server, only those of
    // processes gone: the others are running theirs.
    let pending = requeue(state, &engine.node, if shared { REQUEUE_GONE } else { REQUEUE_ALL }).await?;
    if !pending.is_empty() {
        tracing::info!(jobs = pending.len(), "analysis jobs queued again after a restart");
    }
    // Alone on an embedded database there is no other process: every job is this one's, the
    // watchers count nothing (and a test can stand in for another process).
    follow_other_budgets(state, counted);
    if shared {
        let (st, stop) = (state.clone(), shutdown.clone());
        tokio::spawn(async move { follow_other_processes(st, stop).await });
    }
    let st = state.clone();
    tokio::spawn(async move { dispatch(st, shutdown).await });
    Ok(())
}

/// Give every analyzer its budget from the database; the longest window.
async fn load_budgets(store: &Store, engine: &Engine) -> Result<Option<Duration>> {
    let mut r = store.query("SELECT id, org, rate, rateUnit FROM analyzer", vars! {}).await?;
    let analyzers: Vec<super::analyzer::Limits> = r.rows(0)?;
    for a in &analyzers {
        engine.queue.set_budget(&lane(&a.org, &a.id), budget(a.rate, a.rate_unit));
    }
    Ok(analyzers.iter().filter_map(|a| budget(a.rate, a.rate_unit)).map(|b| b.window).max())
}

/// The longest budget window there is (a month), for forgetting the starts already counted.
const LONGEST_WINDOW_MS: i64 = 31 * 86_400_000;

/// On a SurrealDB server the processes share the analyzers' budgets: each follows, through the
/// change feed (within a poll of the commit), the budgets the others set and the jobs they
/// start, and counts those starts in its own queue. Two processes starting the last run of a
/// budget in the same poll may both start it: one run over, at most, per process.
///
/// The watchers hold the store and the engine, not the state: the statistics index holds its
/// watchers, and a state held by one of them would never be dropped (nor the database closed
/// at a clean stop).
fn follow_other_budgets(state: &AppState, counted: HashMap<String, i64>) {
    let (store, engine) = (state.store.clone(), state.service::<Engine>());
    state.stats.watch("analyzer", move |_| {
        let (store, engine) = (store.clone(), engine.clone());
        tokio::spawn(async move {
            if let Err(e) = load_budgets(&store, &engine).await {
                tracing::warn!(error = ?e, "analysis: reading the analyzers' budgets failed");
            }
        });
    });
    let engine = state.service::<Engine>();
    // Starts already counted (job -> start): those read at start, and a job's later changes (its
    // end, its report) repeat its start date. Those older than any window are forgotten when the
    // map doubles.
    let prune_at = (counted.len() * 2).max(1024);
    let counted: std::sync::Mutex<(HashMap<String, i64>, usize)> = std::sync::Mutex::new((counted, prune_at));
    state.stats.watch("job", move |changes| {
        let (counted, prune_at) = &mut *counted.lock().unwrap_or_else(|e| e.into_inner());
        for doc in changes.iter().filter_map(|c| c.get("update")) {
            let text = |f: &str| doc.get(f).and_then(serde_json::Value::as_str);
            let start = doc.get("startDate").and_then(serde_json::Value::as_i64);
            let (Some(id), Some(org), Some(analyzer), Some(start)) = (text("id"), text("org"), text("analyzerId"), start) else { continue };
            if text("node") == Some(engine.node.as_str()) || doc.get("fromCache").and_then(serde_json::Value::as_bool) == Some(true) {
                continue;
            }
            if counted.insert(crate::core::store::record_key(id).to_string(), start) != Some(start) {
                engine.queue.record_start(&job_lane(org, text("lane"), analyzer), start);
            }
        }
        if counted.len() > *prune_at {
            let since = crate::core::store::now_millis() - LONGEST_WINDOW_MS;
            counted.retain(|_, t| *t > since);
            *prune_at = (counted.len() * 2).max(1024);
        }
    });
}

fn shared(state: &AppState) -> bool {
    state.store.is_shared()
}

/// Where this process's jobs get their directories: `<data>/jobs`, and on a SurrealDB server
/// `<data>/jobs/<node>` (processes sharing a data directory keep out of each other's).
pub fn jobs_dir(state: &AppState) -> std::path::PathBuf {
    let dir = state.settings.data_dir.join("jobs");
    if shared(state) { dir.join(&state.service::<Engine>().node) } else { dir }
}

async fn remove_leftover_job_dirs(state: &AppState, shared: bool) {
    let root = state.settings.data_dir.join("jobs");
    let mut leftovers = Vec::new();
    if !shared {
        leftovers.push(root);
    } else if let Ok(mut entries) = tokio::fs::read_dir(&root).await {
        let gone = crate::core::store::now_millis() - NODE_GONE_MS;
        let alive: Vec<String> = match state.store.query("SELECT VALUE record::id(id) FROM analysis_node WHERE seen >= $gone", vars! { "gone" => gone }).await {
            Ok(mut r) => r.rows(0).unwrap_or_default(),
            Err(_) => return,
        };
        while let Ok(Some(e)) = entries.next_entry().await {
            if !alive.iter().any(|n| e.file_name().to_str() == Some(n)) {
                leftovers.push(e.path());
            }
        }
    }
    for dir in leftovers {
        if tokio::fs::try_exists(&dir).await.unwrap_or(false) {
            if let Err(e) = tokio::fs::remove_dir_all(&dir).await {
                tracing::warn!(dir = %dir.display(), error = %e, "leftover job directories could not be removed");
            }
        }
    }
}

/// Queue again the jobs `sql` takes over (oldest first).
async fn requeue(state: &AppState, node: &str, sql: &str) -> Result<Vec<Pending>> {
    let gone = crate::core::store::now_millis() - NODE_GONE_MS;
    let mut r = state.store.query(sql, vars! { "node" => node, "gone" => gone }).await?;
    let mut pending: Vec<Pending> = r.rows(0)?;
    pending.sort_by_key(|p| p.created_at);
    let engine = state.service::<Engine>();
    for p in &pending {
        engine.queue.push(&job_lane(&p.org, p.lane.as_deref(), &p.analyzer_id), crate::core::store::record_key(&p.id).to_string());
    }
    Ok(pending)
}

/// Say this process is alive (`analysis_node:<node>`).
async fn heartbeat(state: &AppState, node: &str) -> Result<()> {
    state
        .store
        .query("UPSERT type::record('analysis_node', $node) SET seen = $now RETURN NONE", vars! { "node" => node, "now" => crate::core::store::now_millis() })
        .await
        .map(|_| ())
}

/// On a SurrealDB server shared with other Waggle processes: say this one is alive every
/// [`HEARTBEAT`], and take over the jobs of a process that stopped saying so (it crashed, or
/// stopped with jobs queued). At a clean stop its record goes, so its jobs are taken at once.
async fn follow_other_processes(state: AppState, stop: tokio_util::sync::CancellationToken) {
    let node = state.service::<Engine>().node.clone();
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(HEARTBEAT) => {}
        }
        if let Err(e) = heartbeat(&state, &node).await {
            tracing::warn!(error = ?e, "analysis: saying this process is alive failed");
            continue;
        }
        match requeue(&state, &node, REQUEUE_GONE).await {
            Ok(p) if !p.is_empty() => tracing::info!(jobs = p.len(), "analysis jobs of a stopped Waggle process taken over"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "analysis: looking for the jobs of stopped processes failed"),
        }
    }
    let _ = state.store.query("DELETE type::record('analysis_node', $node)", vars! { "node" => node }).await;
}

/// Start queued jobs as the queue allows, each in its own task holding its permit, until
/// `shutdown`: then running jobs are dropped (their processes killed, their directories
/// removed) and stay InProgress, to run again at the next start.
async fn dispatch(state: AppState, shutdown: tokio_util::sync::CancellationToken) {
    let engine = state.service::<Engine>();
    loop {
        let started = tokio::select! {
            () = shutdown.cancelled() => return,
            s = engine.queue.next() => s,
        };
        let (st, stop) = (state.clone(), shutdown.clone());
        tokio::spawn(async move {
            let job = started.job.clone();
            let run = async {
                if let Err(e) = super::run::execute(&st, &started.job, started.at).await {
                    tracing::error!(job = %job, error = ?e, "analysis job could not be run");
                    super::run::fail(&st, &job, &format!("The job could not be run: {e}")).await;
                }
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = run => {}
            }
            drop(started);
            st.service::<Engine>().announce(&job);
        });
    }
}

/// The embedded engine as one more analysis server (`local`): none when no analyzers directory
/// is configured; green with definitions, orange when some were refused or jobs pile up, red
/// when the directories hold none.
pub fn local_status(state: &AppState) -> Option<app::model::ServerStatus> {
    use app::model::Health;
    let dirs = &state.settings.analysis.analyzer_dirs;
    if dirs.is_empty() {
        return None;
    }
    let engine = state.service::<Engine>();
    let catalog = engine.catalog();
    let waiting = engine.queue.waiting();
    let (status, message) = if catalog.definitions.is_empty() {
        (Health::Error, Some(format!("no analyzer definition in {}", dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "))))
    } else if !catalog.errors.is_empty() {
        (Health::Warning, Some(format!("{} definitions, {} refused", catalog.definitions.len(), catalog.errors.len())))
    } else if waiting > BACKLOG_WARNING {
        (Health::Warning, Some(format!("{waiting} jobs waiting")))
    } else {
        (Health::Ok, Some(format!("{} definitions, {waiting} jobs waiting", catalog.definitions.len())))
    };
    Some(app::model::ServerStatus {
        name: app::model::LOCAL_ENGINE.into(),
        url: String::new(),
        version: Some(env!("CARGO_PKG_VERSION").to_string()),
        status,
        message,
        checked_at: Some(crate::core::store::now_millis()),
    })
}

/// More waiting jobs than this turn the engine's health orange.
const BACKLOG_WARNING: usize = 1000;
