//! The ingestion queue: new alerts from concurrent requests are written together, in shared
//! transactions (one `INSERT` of the alerts and one of their audit entries), so that a burst of
//! feeders costs one commit per batch instead of one per alert. A request is answered only
//! once its batch is committed (durably, with `surrealkv://...?sync=every`).
//!
//! Several writers ([`LANES`]) take batches from the queue, so one batch is being written while
//! another commits. Each counts its alerts in its own counter records (see `core::store::counter`):
//! concurrent batches never write the same record.
//!
//! A batch that fails because one of its alerts exists after all (a concurrent creation of the
//! same `(type, source, sourceRef)`) is not retried as a whole: each of its requests falls back
//! to its own transaction and gets its own answer. Alerts with files take that path directly
//! (their attachments are registered in the same transaction).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, oneshot};

use super::TYPE;
use crate::core::audit::{AuditBus, AuditEvent, creation_entry, strip_internal};
use crate::core::auth::Caller;
use crate::core::error::Error;
use crate::core::state::{AppState, Service};
use crate::core::store::{Store, counter};
use crate::vars;

/// The most alerts written in one transaction.
const MAX_BATCH: usize = 256;
/// Requests waiting for a batch (beyond this, submitters wait: back-pressure).
const QUEUE: usize = 8192;
/// Batches written at once, each counting in its own records (see `core::store::counter`).
const LANES: usize = counter::ALERT_LANES;

/// What became of a submitted alert.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Committed.
    Created,
    /// Not written: create it alone (its batch could not be written as a whole).
    Retry,
    Failed(Error),
}

struct Job {
    org: String,
    id: String,
    doc: Map<String, Value>,
    login: String,
    request_id: Option<String>,
    reply: oneshot::Sender<Outcome>,
}

/// The queue; its writer starts with the first alert.
pub struct Ingest {
    sender: OnceLock<mpsc::Sender<Job>>,
}

impl Service for Ingest {
    fn make(_: &AppState) -> Self {
        Ingest { sender: OnceLock::new() }
    }
}

impl Ingest {
    /// Queue a new alert (`doc`: its record without `id` and `org`) and wait for its batch.
    pub(crate) async fn submit(&self, state: &AppState, caller: &Caller, id: &str, doc: Map<String, Value>) -> Outcome {
        let sender = self.sender.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            let rx = Arc::new(tokio::sync::Mutex::new(rx));
            // Other Waggle processes may write alerts to the same database: this one's counter
            // records are a slot picked at random (see `counter::ALERT_SLOTS`).
            let slot = if state.store.is_shared() { rand::random::<usize>() % counter::ALERT_SLOTS } else { 0 };
            for lane in 0..LANES {
                tokio::spawn(writer(state.store.clone(), state.audit.clone(), rx.clone(), slot * LANES + lane));
            }
            tx
        });
        let (reply, answer) = oneshot::channel();
        let job = Job {
            org: caller.org_id.clone(),
            id: id.to_string(),
            doc,
            login: caller.login.clone(),
            request_id: caller.request_id.clone(),
            reply,
        };
        if sender.send(job).await.is_err() {
            return Outcome::Retry;
        }
        // The writer gone (shutting down) before answering: the request writes it itself.
        answer.await.unwrap_or(Outcome::Retry)
    }
}

/// Take what is waiting (up to [`MAX_BATCH`]) and write it, batch after batch, until every
/// sender is gone. `lane`: which of the [`LANES`] writers this is.
async fn writer(store: Store, bus: Arc<AuditBus>, rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>, lane: usize) {
    loop {
        let mut batch = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(j) => batch.push(j),
                    Err(_) => break,
                }
            }
            batch
        };
        // One transaction per organisation (the store handle is scoped to one).
        while !batch.is_empty() {
            let org = batch[0].org.clone();
            let (mine, rest): (Vec<Job>, Vec<Job>) = batch.into_iter().partition(|j| j.org == org);
            batch = rest;
            write_batch(&store, &bus, &org, mine, lane).await;
        }
    }
}

/// The alert as the stream shows it (without its revision).
fn public(row: &Map<String, Value>) -> Value {
    let mut v = strip_internal(Value::Object(row.clone()));
    if let Value::Object(m) = &mut v {
        m.remove("rev");
    }
    v
}

fn key(doc: &Map<String, Value>) -> (Value, Value, Value) {
    (doc.get("type").cloned().unwrap_or_default(), doc.get("source").cloned().unwrap_or_default(), doc.get("sourceRef").cloned().unwrap_or_default())
}

async fn write_batch(store: &Store, bus: &AuditBus, org: &str, jobs: Vec<Job>, lane: usize) {
    // The same alert twice in a batch: the first is written, the others answered later, alone.
    let mut keys = HashSet::new();
    let (jobs, again): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|j| keys.insert(key(&j.doc)));
    for j in again {
        let _ = j.reply.send(Outcome::Retry);
    }
    let mut alerts = Vec::with_capacity(jobs.len());
    let mut audits = Vec::with_capacity(jobs.len());
    let mut events = Vec::with_capacity(jobs.len());
    for j in &jobs {
        let mut row = j.doc.clone();
        row.insert("id".into(), json!(j.id));
        let created_at = j.doc.get("createdAt").and_then(Value::as_i64).unwrap_or_else(crate::core::store::now_millis);
        let (entry, audit) = creation_entry(TYPE, &j.id, &j.id, j.request_id.clone(), &j.login, created_at, j.doc.clone());
        events.push(AuditEvent { org: org.to_string(), entry, object: Some(public(&row)) });
        alerts.push(Value::Object(row));
        audits.push(audit);
    }
    // The status counters: one addition per status for the batch (migration 8), in this lane's
    // records.
    let mut per_status: HashMap<String, i64> = HashMap::new();
    for a in &alerts {
        *per_status.entry(a.get("status").and_then(Value::as_str).unwrap_or("New").to_string()).or_default() += 1;
    }
    let counts: Vec<Value> = per_status.into_iter().map(|(s, n)| json!([counter::key("alerts", &s, lane), n])).collect();
    let result = store
        .org(org)
        .query(
            "BEGIN TRANSACTION;
             INSERT INTO alert array::map($alerts, |$a| object::extend($a, { org: $org })) RETURN NONE;
             INSERT INTO audit array::map($audits, |$a| object::extend($a, { org: $org })) RETURN NONE;
             FOR $c IN $counts { UPSERT type::record('counter', array::concat([$org], $c[0])) SET value += $c[1] RETURN NONE; };
             COMMIT TRANSACTION;",
            vars! { "alerts" => alerts, "audits" => audits, "counts" => counts },
        )
        .await;
    match result {
        Ok(_) => {
            bus.publish(events);
            for j in jobs {
                let _ = j.reply.send(Outcome::Created);
            }
        }
        Err(Error::Conflict { .. }) => {
            for j in jobs {
                let _ = j.reply.send(Outcome::Retry);
            }
        }
        Err(e) => {
            tracing::error!(error = ?e, alerts = jobs.len(), "writing a batch of alerts failed");
            for j in jobs {
                let _ = j.reply.send(Outcome::Failed(Error::Internal(anyhow::anyhow!("writing the alert failed"))));
            }
        }
    }
}
