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
}

impl Service for Engine {
    fn make(state: &AppState) -> Self {
        Engine {
            queue: Queue::new(state.settings.analysis.concurrency),
            catalog: RwLock::new(Arc::new(Catalog::default())),
            secrets: OnceLock::new(),
            finished: broadcast::channel(1024).0,
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
}

#[derive(Deserialize)]
struct Started {
    org: String,
    #[serde(rename = "analyzerId")]
    analyzer_id: String,
    #[serde(rename = "startDate")]
    start_date: i64,
}

/// Remove leftover job directories, scan the definitions, give every analyzer its budget (with
/// the starts still in its window), queue every job that did not finish (InProgress ones again:
/// their process died with the last server), then run the dispatcher.
pub async fn start(state: &AppState, shutdown: tokio_util::sync::CancellationToken) -> anyhow::Result<()> {
    let engine = state.service::<Engine>();
    // Nothing runs yet: job directories left by a crash are removed.
    let jobs_dir = state.settings.data_dir.join("jobs");
    if tokio::fs::try_exists(&jobs_dir).await.unwrap_or(false) {
        if let Err(e) = tokio::fs::remove_dir_all(&jobs_dir).await {
            tracing::warn!(dir = %jobs_dir.display(), error = %e, "leftover job directories could not be removed");
        }
    }
    let catalog = engine.rescan(state).await;
    tracing::info!(definitions = catalog.definitions.len(), refused = catalog.errors.len(), "analyzer definitions read");
    let mut r = state.store.query("SELECT id, org, rate, rateUnit FROM analyzer", vars! {}).await?;
    let analyzers: Vec<super::analyzer::Limits> = r.rows(0)?;
    let longest = analyzers.iter().filter_map(|a| budget(a.rate, a.rate_unit)).map(|b| b.window).max();
    for a in &analyzers {
        engine.queue.set_budget(&lane(&a.org, &a.id), budget(a.rate, a.rate_unit));
    }
    if let Some(window) = longest {
        let since = crate::core::store::now_millis() - i64::try_from(window.as_millis()).unwrap_or(i64::MAX / 2);
        let mut r = state
            .store
            .query(
                "SELECT org, analyzerId, startDate FROM job WHERE startDate > $since AND fromCache != true ORDER BY startDate",
                vars! { "since" => since },
            )
            .await?;
        for s in r.rows::<Started>(0)? {
            engine.queue.record_start(&lane(&s.org, &s.analyzer_id), s.start_date);
        }
    }
    let mut r = state
        .store
        .query(
            "UPDATE job SET status = 'Waiting', startDate = NONE, requeuedAt = time::millis(time::now()) WHERE status = 'InProgress' RETURN NONE;
             SELECT id, org, analyzerId, lane, createdAt FROM job WHERE status = 'Waiting' ORDER BY createdAt",
            vars! {},
        )
        .await?;
    let pending: Vec<Pending> = r.rows(1)?;
    if !pending.is_empty() {
        tracing::info!(jobs = pending.len(), "analysis jobs queued again after a restart");
    }
    for p in pending {
        engine.queue.push(&lane(&p.org, p.lane.as_deref().unwrap_or(&p.analyzer_id)), p.id);
    }
    let st = state.clone();
    tokio::spawn(async move { dispatch(st, shutdown).await });
    Ok(())
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
