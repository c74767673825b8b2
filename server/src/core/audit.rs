//! The audit trail and the live stream.
//!
//! Every change goes through a [`Tx`]: the records it writes and their audit entries commit in
//! one transaction (who, what, when, the request id, the changed fields before and after), and
//! once committed the entries are published on the [`AuditBus`], which feeds `/api/stream`.
//! `/api/flow` and `/api/audit/_search` read the stored trail; all of it is scoped to the
//! caller's organisation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::model::{AuditEntry, AuditOperation};
use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::store::{OrgStore, Response, Vars, new_id, now_millis};
use crate::vars;

/// A committed change as the stream delivers it: the entry, the object as it is now (as it was,
/// for a deletion) and its organisation.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub org: String,
    pub entry: AuditEntry,
    pub object: Option<Value>,
}

/// A multi-statement write, run as one transaction together with its audit entries.
///
/// Statements are SurrealQL over bound variables only ([`Tx::bind`]); `$org` (the
/// organisation), `$now`, `$login` and `$rid` (the request id) are always bound. Result indexes
/// count `BEGIN` as statement 0, so the first [`Tx::push`] returns 1.
pub struct Tx {
    sql: String,
    vars: Vars,
    count: usize,
    audits: Vec<usize>,
    /// Entries built here for [`Tx::create_many`], published after the commit like the others.
    built: Vec<AuditEvent>,
    now: i64,
}

impl Tx {
    pub fn new(caller: &Caller) -> Tx {
        Tx::on_behalf(&caller.login, caller.request_id.as_deref())
    }

    /// A change the server makes by itself for `login` (a background job finishing), audited
    /// under that login.
    pub fn on_behalf(login: &str, request_id: Option<&str>) -> Tx {
        let now = now_millis();
        Tx {
            sql: "BEGIN TRANSACTION;\n".into(),
            vars: vars! { "now" => now, "login" => login, "rid" => request_id },
            count: 1,
            audits: Vec::new(),
            built: Vec::new(),
            now,
        }
    }

    /// The time of this change (epoch ms), the same for every record it writes.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Bind a value; returns its placeholder (`$v3`).
    pub fn bind(&mut self, v: impl Serialize) -> String {
        let name = format!("v{}", self.vars.len());
        self.vars.insert(name.clone(), serde_json::to_value(v).unwrap_or(Value::Null));
        format!("${name}")
    }

    /// Add a statement; returns its result index.
    pub fn push(&mut self, stmt: impl AsRef<str>) -> usize {
        self.sql.push_str(stmt.as_ref());
        self.sql.push_str(";\n");
        self.count += 1;
        self.count - 1
    }

    /// Record an audit entry for an object of `object_type` (TheHive's type name, e.g.
    /// `Entity::Case.v0_type()`; never client input). `object_id`, `root_id`, `details`,
    /// `before` and `object` are SurrealQL expressions over bound variables (`object`: what the
    /// stream shows).
    #[allow(clippy::too_many_arguments)]
    pub fn audit(
        &mut self,
        op: AuditOperation,
        object_type: &'static str,
        object_id: &str,
        root_id: &str,
        details: &str,
        before: Option<&str>,
        object: Option<&str>,
    ) {
        let n = self.audits.len();
        let aid = self.bind(new_id());
        self.push(format!(
            "LET $audit{n} = (CREATE type::record('audit', {aid}) CONTENT {{ org: $org, operation: '{op}', objectType: '{ty}', \
             objectId: {object_id}, rootId: {root_id}, requestId: $rid, startDate: $now, createdAt: $now, createdBy: $login, \
             details: {details}, before: {before} }} RETURN AFTER)[0]",
            op = op.as_str(),
            ty = object_type,
            before = before.unwrap_or("NONE"),
        ));
        let idx = self.push(format!("{{ entry: $audit{n}, object: {} }}", object.unwrap_or("NONE")));
        self.audits.push(idx);
    }

    /// Create records of `table` in `root_id` (a case) with one INSERT, and their audit entries
    /// with another: for bulk additions, where four statements per record (the record, its
    /// entry, two results) would cost more than the writes. Each doc holds the fields (`id`
    /// excluded, `org` added); returns the result index of the created records, in order.
    pub fn create_many(&mut self, table: &'static str, object_type: &'static str, root_id: &str, docs: Vec<Map<String, Value>>, org: &str) -> usize {
        let login = self.vars.get("login").and_then(Value::as_str).unwrap_or_default().to_string();
        let request_id = self.vars.get("rid").and_then(Value::as_str).map(str::to_string);
        let mut rows = Vec::with_capacity(docs.len());
        let mut entries = Vec::with_capacity(docs.len());
        for details in docs {
            let id = new_id();
            let (entry, stored) = creation_entry(object_type, &id, root_id, request_id.clone(), &login, self.now, details.clone());
            entries.push(stored);
            let mut row = details;
            row.insert("id".into(), json!(id));
            self.built.push(AuditEvent { org: org.to_string(), entry, object: Some(Value::Object(row.clone())) });
            rows.push(Value::Object(row));
        }
        let (vrows, ventries) = (self.bind(&rows), self.bind(&entries));
        let idx = self.push(format!("INSERT INTO {table} array::map({vrows}, |$r| object::extend($r, {{ org: $org }})) RETURN AFTER"));
        self.push(format!("INSERT INTO audit array::map({ventries}, |$a| object::extend($a, {{ org: $org }})) RETURN NONE"));
        idx
    }

    /// Update one record of the organisation with `patch` (MERGE) and audit the change
    /// (details = the patch, before = the patched fields' previous values). The audit root is
    /// the record itself, or with `child` its `case`. Returns the result index of the updated
    /// record; a missing record aborts the transaction with NotFound.
    pub fn update_record(&mut self, table: &'static str, audit_type: &'static str, id: &str, patch: &Value, child: bool) -> usize {
        let (vid, vpatch, vtable) = (self.bind(id), self.bind(patch), self.bind(table));
        self.push(format!(
            "LET $u = (UPDATE type::record({vtable}, {vid}) MERGE {vpatch} WHERE org = $org RETURN $before AS before, $after AS after)"
        ));
        self.push(format!("IF array::len($u) = 0 {{ THROW 'waggle:notfound: {audit_type} not found' }}"));
        let root = if child { "$u[0].after.case".to_string() } else { vid.clone() };
        self.audit(
            AuditOperation::Update,
            audit_type,
            &vid,
            &root,
            &vpatch,
            Some(&format!("object::from_entries(array::map(object::keys({vpatch}), |$k| [$k, $u[0].before[$k]]))")),
            Some("$u[0].after"),
        );
        self.push("$u[0].after")
    }

    /// Delete one record of the organisation and audit it (before = the record). The audit
    /// root is the record itself, or with `child` its `case`. A missing record aborts the
    /// transaction with NotFound.
    pub fn delete_record(&mut self, table: &'static str, audit_type: &'static str, id: &str, child: bool) {
        let (vid, vtable) = (self.bind(id), self.bind(table));
        self.push(format!("LET $d = (DELETE type::record({vtable}, {vid}) WHERE org = $org RETURN BEFORE)[0]"));
        self.push(format!("IF $d = NONE {{ THROW 'waggle:notfound: {audit_type} not found' }}"));
        let root = if child { "$d.case".to_string() } else { vid.clone() };
        self.audit(AuditOperation::Delete, audit_type, &vid, &root, "{}", Some("$d"), Some("$d"));
    }

    /// Commit; then publish the audit entries. A `THROW "waggle:..."` in a statement aborts
    /// everything and becomes the matching error.
    pub async fn run(mut self, state: &AppState, store: &OrgStore) -> Result<Response> {
        self.sql.push_str("COMMIT TRANSACTION;");
        let mut resp = store.query(&self.sql, self.vars).await?;
        let mut events = self.built;
        for idx in self.audits {
            let v = resp.value(idx)?;
            let object = v.get("object").cloned().filter(|o| !o.is_null()).map(strip_internal);
            match v.get("entry").cloned().map(strip_internal).map(serde_json::from_value::<AuditEntry>) {
                Some(Ok(entry)) => events.push(AuditEvent { org: store.org_id().to_string(), entry, object }),
                Some(Err(e)) => tracing::warn!(error = %e, "unreadable audit entry"),
                None => {}
            }
        }
        state.audit.publish(events);
        Ok(resp)
    }
}

/// Create one record of `table` in the caller's organisation from `doc` (with `createdAt` and
/// `createdBy` added), audited under the record its field `root` names (a case's child: `case`)
/// or under itself; answers the record. For the simple records of one table (comments, pages,
/// events, links...): a record written with others goes through a [`Tx`] of its own.
pub async fn create_one<T: serde::de::DeserializeOwned>(
    state: &AppState,
    caller: &Caller,
    table: &'static str,
    audit_type: &'static str,
    mut doc: Map<String, Value>,
    root: Option<&str>,
) -> Result<T> {
    let mut tx = Tx::new(caller);
    doc.insert("createdAt".into(), json!(tx.now()));
    doc.insert("createdBy".into(), json!(caller.login));
    let (vid, vdoc) = (tx.bind(new_id()), tx.bind(&doc));
    tx.push(format!("LET $one = (CREATE type::record('{table}', {vid}) CONTENT object::extend({vdoc}, {{ org: $org }}) RETURN AFTER)[0]"));
    let root = root.map(|f| format!("$one.{f}")).unwrap_or_else(|| vid.clone());
    tx.audit(AuditOperation::Creation, audit_type, &vid, &root, &vdoc, None, Some("$one"));
    let idx = tx.push("$one");
    tx.run(state, &caller.store(state)).await?.one(idx)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("{audit_type} not created")))
}

/// Change one record of the organisation with `patch` (with `updatedAt` and `updatedBy`
/// added), audited as [`Tx::update_record`] does; answers the record as it is now.
pub async fn update_one<T: serde::de::DeserializeOwned>(
    state: &AppState,
    caller: &Caller,
    table: &'static str,
    audit_type: &'static str,
    id: &str,
    mut patch: Map<String, Value>,
    child: bool,
) -> Result<T> {
    let mut tx = Tx::new(caller);
    patch.insert("updatedAt".into(), json!(tx.now()));
    patch.insert("updatedBy".into(), json!(caller.login));
    let idx = tx.update_record(table, audit_type, id, &Value::Object(patch), child);
    tx.run(state, &caller.store(state)).await?.one(idx)?.ok_or_else(|| Error::not_found(audit_type, id))
}

/// Delete one record of the organisation, audited as [`Tx::delete_record`] does.
pub async fn delete_one(state: &AppState, caller: &Caller, table: &'static str, audit_type: &'static str, id: &str, child: bool) -> Result<()> {
    let mut tx = Tx::new(caller);
    tx.delete_record(table, audit_type, id, child);
    tx.run(state, &caller.store(state)).await?;
    Ok(())
}

/// The audit entry of a record's creation, built outside SurrealQL (batched writes), and the
/// document to store for it (without the empty fields).
pub fn creation_entry(
    object_type: &str,
    object_id: &str,
    root_id: &str,
    request_id: Option<String>,
    login: &str,
    at: i64,
    details: Map<String, Value>,
) -> (AuditEntry, Value) {
    let entry = AuditEntry {
        id: new_id(),
        operation: AuditOperation::Creation,
        object_type: object_type.to_string(),
        object_id: object_id.to_string(),
        root_id: root_id.to_string(),
        request_id,
        start_date: at,
        details,
        before: None,
        created_at: at,
        created_by: login.to_string(),
    };
    let mut stored = serde_json::to_value(&entry).unwrap_or_default();
    if let Value::Object(m) = &mut stored {
        m.remove("before");
        if m.get("requestId").is_some_and(Value::is_null) {
            m.remove("requestId");
        }
    }
    (entry, stored)
}

/// A record as clients see it: without the organisation field, with its plain id.
pub fn strip_internal(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        m.remove("org");
        if let Some(Value::String(id)) = m.get("id") {
            let key = crate::core::store::record_key(id).to_string();
            m.insert("id".into(), Value::String(key));
        }
    }
    v
}

/// Keep in `patch` only the fields that change `current` (a field absent from `current` is
/// null): an update that changes nothing writes nothing and audits nothing.
pub fn keep_changes(current: &impl Serialize, patch: &mut Map<String, Value>) {
    let before = serde_json::to_value(current).unwrap_or_default();
    patch.retain(|k, v| before.get(k).unwrap_or(&Value::Null) != v);
}

/// How long a stream may stay unread before it is dropped.
const STREAM_IDLE: Duration = Duration::from_secs(10 * 60);
/// The most streams kept at once (each holds a position in the event buffer).
const MAX_STREAMS: usize = 10_000;
/// The most streams one user keeps at once (a browser tab holds one): opening another drops
/// that user's least recently read, so no user can push the others' streams out.
pub const MAX_STREAMS_PER_USER: usize = 16;
/// How many events a stream may fall behind before the oldest are skipped.
const BUS_CAPACITY: usize = 8_192;

struct Stream {
    org: String,
    user_id: String,
    rx: Arc<tokio::sync::Mutex<broadcast::Receiver<Arc<Vec<AuditEvent>>>>>,
    last_used: Instant,
}

/// Committed changes, in commit order, for the live streams of every organisation; the changes
/// of one transaction travel together, so a reader never sees part of one.
pub struct AuditBus {
    tx: broadcast::Sender<Arc<Vec<AuditEvent>>>,
    /// This process's own commits only (not relayed from others): what reacts to a change
    /// once per platform listens here.
    local: broadcast::Sender<Arc<Vec<AuditEvent>>>,
    streams: Mutex<HashMap<String, Stream>>,
    /// The entries this process published lately, so that the change feed does not bring them
    /// a second time ([`AuditBus::relay`]).
    published: Mutex<Recent>,
    /// How long a stream read waits for the first event.
    pub wait: Duration,
}

/// The last [`RECENT`] audit entry ids published, as hashes.
#[derive(Default)]
struct Recent {
    set: std::collections::HashSet<u64>,
    order: std::collections::VecDeque<u64>,
}

/// How many published entries are remembered: the feed brings them back within a poll (250 ms),
/// a minute of the heaviest ingest measured.
const RECENT: usize = 131_072;

impl Recent {
    fn remember(&mut self, id: &str) {
        let h = id_hash(id);
        if self.set.insert(h) {
            self.order.push_back(h);
            if self.order.len() > RECENT {
                if let Some(old) = self.order.pop_front() {
                    self.set.remove(&old);
                }
            }
        }
    }
}

fn id_hash(id: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(id)
}

impl Default for AuditBus {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(BUS_CAPACITY);
        let (local, _) = broadcast::channel(BUS_CAPACITY);
        AuditBus { tx, local, streams: Mutex::new(HashMap::new()), published: Mutex::default(), wait: Duration::from_secs(20) }
    }
}

impl AuditBus {
    /// Publish the changes of one committed transaction.
    pub fn publish(&self, events: Vec<AuditEvent>) {
        if events.is_empty() {
            return;
        }
        {
            let mut recent = self.published.lock().unwrap_or_else(|e| e.into_inner());
            for e in &events {
                recent.remember(&e.entry.id);
            }
        }
        // No receiver (no open stream) is not an error.
        let events = Arc::new(events);
        if self.local.receiver_count() > 0 {
            let _ = self.local.send(events.clone());
        }
        let _ = self.tx.send(events);
    }

    /// The changes this process commits from now on (each once, whichever process shares the
    /// database).
    pub fn subscribe_local(&self) -> broadcast::Receiver<Arc<Vec<AuditEvent>>> {
        self.local.subscribe()
    }

    /// Publish the audit entries one transaction created, as the change feed brings them
    /// (`{"update": row}`, see [`crate::core::stats::index::StatsIndex::watch`]), unless this
    /// process published them itself: so a stream on one Waggle process shows what another
    /// process sharing the database committed. The object shown is the entry's details (what
    /// was deleted, for a deletion), as in the stored flow.
    pub fn relay(&self, changes: &[Value]) {
        if self.tx.receiver_count() == 0 {
            return;
        }
        let mut events = Vec::new();
        {
            let recent = self.published.lock().unwrap_or_else(|e| e.into_inner());
            for row in changes.iter().filter_map(|c| c.get("update")) {
                let Some(org) = row.get("org").and_then(Value::as_str).map(str::to_string) else { continue };
                let Ok(entry) = serde_json::from_value::<AuditEntry>(strip_internal(row.clone())) else { continue };
                if recent.set.contains(&id_hash(&entry.id)) {
                    continue;
                }
                events.extend(as_events(&org, vec![entry]));
            }
        }
        if !events.is_empty() {
            let _ = self.tx.send(Arc::new(events));
        }
    }

    /// A new stream for the caller: it receives the changes of the caller's organisation
    /// committed from now on.
    pub fn open(&self, caller: &Caller) -> String {
        let id = new_id();
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        streams.retain(|_, s| s.last_used.elapsed() < STREAM_IDLE);
        let mine: Vec<(&String, Instant)> = streams.iter().filter(|(_, s)| s.user_id == caller.user_id).map(|(k, s)| (k, s.last_used)).collect();
        if mine.len() >= MAX_STREAMS_PER_USER {
            if let Some(oldest) = mine.iter().min_by_key(|(_, t)| *t).map(|(k, _)| (*k).clone()) {
                streams.remove(&oldest);
            }
        }
        if streams.len() >= MAX_STREAMS {
            if let Some(oldest) = streams.iter().min_by_key(|(_, s)| s.last_used).map(|(k, _)| k.clone()) {
                streams.remove(&oldest);
            }
        }
        streams.insert(
            id.clone(),
            Stream {
                org: caller.org_id.clone(),
                user_id: caller.user_id.clone(),
                rx: Arc::new(tokio::sync::Mutex::new(self.tx.subscribe())),
                last_used: Instant::now(),
            },
        );
        id
    }

    /// Wait (up to [`AuditBus::wait`]) for changes on a stream of the caller's, and return the
    /// ones committed since the last read. A stream of another user or organisation does not
    /// exist for the caller.
    pub async fn read(&self, caller: &Caller, stream_id: &str) -> Result<Vec<AuditEvent>> {
        let (rx, org) = {
            let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
            let s = streams
                .get_mut(stream_id)
                .filter(|s| s.user_id == caller.user_id && s.org == caller.org_id && s.last_used.elapsed() < STREAM_IDLE)
                .ok_or_else(|| Error::not_found("stream", stream_id))?;
            s.last_used = Instant::now();
            (s.rx.clone(), s.org.clone())
        };
        let mut rx = rx.lock().await;
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + self.wait;
        loop {
            let next = if out.is_empty() {
                tokio::time::timeout_at(deadline, rx.recv()).await
            } else {
                // Gather the transactions already committed after this one.
                match rx.try_recv() {
                    Ok(e) => Ok(Ok(e)),
                    Err(broadcast::error::TryRecvError::Lagged(n)) => Ok(Err(broadcast::error::RecvError::Lagged(n))),
                    Err(_) => break,
                }
            };
            match next {
                Err(_) => break, // timed out: an empty answer, the client polls again
                Ok(Ok(batch)) => {
                    out.extend(batch.iter().filter(|e| e.org == org).cloned());
                    if out.len() >= 1000 {
                        break;
                    }
                }
                Ok(Err(broadcast::error::RecvError::Lagged(n))) => {
                    tracing::warn!(stream = stream_id, skipped = n, "audit stream fell behind; oldest events skipped");
                }
                Ok(Err(broadcast::error::RecvError::Closed)) => break,
            }
        }
        if let Some(s) = self.streams.lock().unwrap_or_else(|e| e.into_inner()).get_mut(stream_id) {
            s.last_used = Instant::now();
        }
        Ok(out)
    }
}

/// The changes one request made, as the stream and the activity panel show them.
#[derive(Debug, Clone)]
pub struct ChangeGroup {
    /// The change of the root object itself when there is one (a case and its template tasks:
    /// the case), else the first change.
    pub base: AuditEvent,
    /// Every change of the request counted by object type and operation, in first-seen order.
    pub summary: Vec<(String, AuditOperation, u64)>,
}

/// Group events by request (TheHive's operation groups), keeping their order; events without a
/// request id stay alone.
pub fn group(events: Vec<AuditEvent>) -> Vec<ChangeGroup> {
    let mut groups: Vec<(Option<String>, Vec<AuditEvent>)> = Vec::new();
    for e in events {
        let key = e.entry.request_id.clone();
        match groups.iter_mut().find(|(k, _)| key.is_some() && *k == key) {
            Some((_, v)) => v.push(e),
            None => groups.push((key, vec![e])),
        }
    }
    groups
        .into_iter()
        .filter_map(|(_, evs)| {
            let mut summary: Vec<(String, AuditOperation, u64)> = Vec::new();
            for e in &evs {
                match summary.iter_mut().find(|(t, op, _)| *t == e.entry.object_type && *op == e.entry.operation) {
                    Some((_, _, n)) => *n += 1,
                    None => summary.push((e.entry.object_type.clone(), e.entry.operation, 1)),
                }
            }
            let pos = evs.iter().position(|e| e.entry.object_id == e.entry.root_id).unwrap_or(0);
            let base = evs.into_iter().nth(pos)?;
            Some(ChangeGroup { base, summary })
        })
        .collect()
}

/// The latest changes of the caller's organisation, newest first; only those of `root_id`
/// (a case and everything in it) when given.
pub async fn flow(state: &AppState, caller: &Caller, root_id: Option<&str>, count: usize) -> Result<Vec<AuditEntry>> {
    let store = caller.store(state);
    let count = count.clamp(1, 1000);
    let mut r = match root_id {
        Some(root) => {
            store
                .query(
                    "SELECT * FROM audit WHERE org = $org AND rootId = $root ORDER BY createdDesc LIMIT $n",
                    vars! { "root" => root, "n" => count },
                )
                .await?
        }
        None => store.query("SELECT * FROM audit WHERE org = $org ORDER BY createdDesc LIMIT $n", vars! { "n" => count }).await?,
    };
    let mut entries: Vec<AuditEntry> = r.rows(0)?;
    for e in &mut entries {
        // A deleted record's `before` is the record as stored: show it as clients see records.
        if let Some(b) = e.before.take() {
            e.before = match strip_internal(Value::Object(b)) {
                Value::Object(m) => Some(m),
                _ => None,
            };
        }
    }
    Ok(entries)
}

/// Flow entries as stream events (the object is the entry's details, or what was deleted).
pub fn as_events(org: &str, entries: Vec<AuditEntry>) -> Vec<AuditEvent> {
    entries
        .into_iter()
        .map(|entry| {
            let object = match entry.operation {
                AuditOperation::Delete => entry.before.clone().map(Value::Object),
                _ => Some(Value::Object(entry.details.clone())),
            };
            AuditEvent { org: org.to_string(), entry, object }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(rid: Option<&str>, ty: &str, op: AuditOperation) -> AuditEvent {
        AuditEvent {
            org: "o".into(),
            entry: AuditEntry {
                id: new_id(),
                operation: op,
                object_type: ty.into(),
                object_id: "x".into(),
                root_id: "r".into(),
                request_id: rid.map(str::to_string),
                start_date: 1,
                details: Map::new(),
                before: None,
                created_at: 1,
                created_by: "a".into(),
            },
            object: Some(json!({"title": "t"})),
        }
    }

    #[test]
    fn groups_by_request() {
        let g = group(vec![
            entry(Some("r1"), "case", AuditOperation::Creation),
            entry(Some("r1"), "case_task", AuditOperation::Creation),
            entry(Some("r1"), "case_task", AuditOperation::Creation),
            entry(Some("r2"), "case", AuditOperation::Update),
            entry(None, "case", AuditOperation::Update),
        ]);
        assert_eq!(g.len(), 3);
        assert_eq!(g[0].base.entry.object_type, "case");
        assert_eq!(g[0].base.object.as_ref().unwrap()["title"], "t");
        assert_eq!(g[0].summary, vec![("case".to_string(), AuditOperation::Creation, 1), ("case_task".to_string(), AuditOperation::Creation, 2)]);
        assert_eq!(g[1].summary, vec![("case".to_string(), AuditOperation::Update, 1)]);
    }

    #[test]
    fn internal_fields_are_stripped() {
        let v = strip_internal(json!({"id": "case:abc", "org": "o1", "title": "x"}));
        assert_eq!(v, json!({"id": "abc", "title": "x"}));
    }
}
