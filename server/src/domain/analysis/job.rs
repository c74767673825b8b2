//! Jobs: an analyzer run on an observable (or on a value given to the Cortex API). Created
//! Waiting and persisted, then queued; reports are kept apart (`job_report`).

use std::time::Duration;

use app::model::{Attachment, Job, JobReport, JobStatus, OverQuota, Permission};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::analyzer;
use super::engine::{self, Engine};
use crate::core::attachment::{self, StoredFile};
use crate::core::audit::Tx;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::query::Entity;
use crate::core::search::{self, Page, Search};
use crate::core::state::AppState;
use crate::core::store::{OrgStore, new_id, now_millis};
use crate::core::validate;
use crate::domain::case::observable;
use crate::vars;

pub const TYPE: &str = "case_artifact_job";
const TABLE: &str = "job";
/// The longest one request waits for a report (under the server's 5-minute request timeout);
/// a client that wants longer asks again.
pub const MAX_WAIT: Duration = Duration::from_secs(4 * 60);
/// The most jobs one status request names.
pub const MAX_STATUS_IDS: usize = 1000;

/// What to analyse.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub data_type: String,
    pub data: Option<String>,
    /// A file the organisation holds.
    pub attachment: Option<Attachment>,
    pub tlp: u8,
    pub pap: u8,
    pub message: Option<String>,
    pub parameters: Map<String, Value>,
    pub observable: Option<String>,
    pub case: Option<String>,
    pub alert: Option<String>,
}

/// A job as stored: the client's shape plus the organisation.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Row {
    #[serde(flatten)]
    pub job: Job,
    pub org: String,
    #[serde(default, rename = "reportOf")]
    pub report_of: Option<String>,
    /// An external server's id of the job, once sent.
    #[serde(default, rename = "remoteJob")]
    pub remote_job: Option<String>,
    /// The queue's lane (the analyzer's id for local ones).
    #[serde(default)]
    pub lane: Option<String>,
}

/// What analysing an observable of the caller's organisation takes: a case's, or an alert's.
async fn target(state: &AppState, caller: &Caller, observable_id: &str) -> Result<Input> {
    if crate::domain::alert::is_observable_id(observable_id) {
        let (alert, o) = crate::domain::alert::get_observable(state, caller, observable_id).await?;
        return Ok(Input {
            data_type: o.data_type,
            data: o.data,
            attachment: o.attachment,
            tlp: o.tlp,
            pap: alert.pap,
            message: o.message,
            parameters: Map::new(),
            observable: Some(o.id),
            case: None,
            alert: Some(alert.id),
        });
    }
    let o = observable::get(state, caller, observable_id).await?;
    Ok(Input {
        data_type: o.data_type,
        data: o.data,
        attachment: o.attachment,
        tlp: o.tlp,
        pap: 2,
        message: o.message,
        parameters: Map::new(),
        observable: Some(o.id),
        case: Some(o.case_id),
        alert: None,
    })
}

/// The analyzers that take an observable (of a case or an alert): the organisation's, then
/// those of the external Cortex servers.
pub async fn analyzers_for(state: &AppState, caller: &Caller, observable_id: &str) -> Result<Vec<app::model::Analyzer>> {
    let t = target(state, caller, observable_id).await?;
    analyzers_of_type(state, caller, &t.data_type).await
}

async fn analyzers_of_type(state: &AppState, caller: &Caller, data_type: &str) -> Result<Vec<app::model::Analyzer>> {
    let mut list = analyzer::for_type(state, caller, data_type).await?;
    list.extend(super::remote::analyzers(state).await.into_iter().filter(|(_, a)| a.data_type_list.iter().any(|t| t == data_type)).map(|(server, a)| remote_view(&server, a)));
    Ok(list)
}

/// An external server's analyzer in the shape of the organisation's.
pub fn remote_view(server: &str, a: crate::core::analysis::cortex_client::RemoteAnalyzer) -> app::model::Analyzer {
    app::model::Analyzer {
        id: a.id,
        cortex_id: server.to_string(),
        definition_id: a.name.clone(),
        name: a.name,
        version: a.version,
        description: a.description,
        data_type_list: a.data_type_list,
        configuration: Map::new(),
        rate: None,
        rate_unit: None,
        job_cache: None,
        job_timeout: None,
        over_quota: OverQuota::Queue,
        quota: None,
        missing: false,
        created_at: 0,
        created_by: String::new(),
        updated_at: None,
    }
}

/// Run the analyzer `analyzer_key` (id or name) on an observable of the caller's organisation
/// (a case's or an alert's).
pub async fn run_on_observable(state: &AppState, caller: &Caller, observable_id: &str, analyzer_key: &str, force: bool) -> Result<Job> {
    run_on_observable_at(state, caller, app::model::LOCAL_ENGINE, observable_id, analyzer_key, force).await
}

/// [`run_on_observable`] with an analyzer of the embedded engine (`local`) or of an external
/// Cortex server (its name).
pub async fn run_on_observable_at(state: &AppState, caller: &Caller, cortex_id: &str, observable_id: &str, analyzer_key: &str, force: bool) -> Result<Job> {
    caller.require(Permission::ManageAnalyze, "run analyzers")?;
    let input = target(state, caller, observable_id).await?;
    create_at(state, caller, cortex_id, analyzer_key, input, force).await
}

/// Every analyzer that takes the observable's type, run on it; what could not start says why.
pub async fn run_all_on_observable(state: &AppState, caller: &Caller, observable_id: &str) -> Result<Vec<(String, Result<Job>)>> {
    caller.require(Permission::ManageAnalyze, "run analyzers")?;
    // The observable is read once, for every analyzer.
    let input = target(state, caller, observable_id).await?;
    let mut out = Vec::new();
    for a in analyzers_of_type(state, caller, &input.data_type).await? {
        out.push((a.name.clone(), create_at(state, caller, &a.cortex_id, &a.id, input.clone(), false).await));
    }
    Ok(out)
}

/// The cache key of an input for an analyzer.
fn cache_key(analyzer_id: &str, input: &Input) -> String {
    let what = match (&input.attachment, &input.data) {
        (Some(a), _) => format!("file:{}", a.id),
        (None, Some(d)) => format!("data:{d}"),
        (None, None) => String::new(),
    };
    let params: std::collections::BTreeMap<&String, &Value> = input.parameters.iter().collect();
    let doc = json!([analyzer_id, input.data_type, input.tlp, what, params]);
    hex::encode(Sha256::digest(doc.to_string().as_bytes()))
}

/// Whether the caller may run the organisation's analyzer `analyzer_key`: checked before a
/// file sent with the request is read and stored.
pub async fn check_can_run(state: &AppState, caller: &Caller, analyzer_key: &str) -> Result<()> {
    caller.require(Permission::ManageAnalyze, "run analyzers")?;
    analyzer::row(&caller.store(state), analyzer_key).await?.ok_or_else(|| Error::not_found("analyzer", analyzer_key))?;
    Ok(())
}

/// Which analyzer runs a job, and where: the embedded engine (`local`) or an external Cortex.
pub(super) struct Runner {
    pub cortex_id: String,
    /// The analyzer's id where it runs.
    pub analyzer_id: String,
    pub analyzer_name: String,
    pub definition: String,
    pub data_types: Vec<String>,
    /// Minutes a report is reused (0: never).
    pub cache_minutes: u32,
    pub over_quota: OverQuota,
    /// The queue's lane (with the organisation): local analyzers' rates are per lane.
    pub lane: String,
}

/// The runner of a local analyzer of the caller's organisation (its id or name).
async fn local_runner(state: &AppState, store: &OrgStore, analyzer_key: &str) -> Result<Runner> {
    let a = analyzer::row(store, analyzer_key).await?.ok_or_else(|| Error::not_found("analyzer", analyzer_key))?;
    let def = state
        .service::<Engine>()
        .definition(&a.definition_id)
        .ok_or_else(|| Error::BadRequest(format!("The analyzer {} cannot run: its definition {} is not in the analyzers directories", a.name, a.definition_id)))?;
    Ok(Runner {
        cortex_id: app::model::LOCAL_ENGINE.to_string(),
        lane: a.id.clone(),
        cache_minutes: a.job_cache(),
        over_quota: a.over_quota,
        analyzer_id: a.id,
        analyzer_name: a.name,
        definition: a.definition_id,
        data_types: def.data_type_list.clone(),
    })
}

/// Create a job of a local analyzer (or answer from the cache) and queue it.
pub async fn create(state: &AppState, caller: &Caller, analyzer_key: &str, input: Input, force: bool) -> Result<Job> {
    create_at(state, caller, app::model::LOCAL_ENGINE, analyzer_key, input, force).await
}

/// Create a job of an analyzer of the embedded engine (`local`) or of an external Cortex server
/// (`cortex_id`: its name), and queue it.
pub async fn create_at(state: &AppState, caller: &Caller, cortex_id: &str, analyzer_key: &str, input: Input, force: bool) -> Result<Job> {
    caller.require(Permission::ManageAnalyze, "run analyzers")?;
    let store = caller.store(state);
    let runner = if cortex_id == app::model::LOCAL_ENGINE {
        local_runner(state, &store, analyzer_key).await?
    } else {
        super::remote::runner(state, cortex_id, analyzer_key).await?
    };
    submit(state, caller, &store, runner, input, None, force).await
}

/// Run a local analyzer on a file the client sent with the request (the Cortex API's multipart
/// run): the organisation holds the file from the job's creation on, in the same transaction
/// (the analyzer reads it, the cache matches it, downloads are allowed); if no job takes it,
/// the file is removed unless something else holds it.
pub async fn create_with_file(state: &AppState, caller: &Caller, analyzer_key: &str, input: Input, file: StoredFile, force: bool) -> Result<Job> {
    let input = Input { data: None, attachment: Some(file.attachment().clone()), ..input };
    let created = async {
        caller.require(Permission::ManageAnalyze, "run analyzers")?;
        let store = caller.store(state);
        let runner = local_runner(state, &store, analyzer_key).await?;
        submit(state, caller, &store, runner, input, Some(&file), force).await
    }
    .await;
    attachment::discard_on_error(state, Some(file), created).await
}

/// Create the job (with `file`, registered for the organisation in the same transaction) or
/// answer from the cache, and queue it.
async fn submit(state: &AppState, caller: &Caller, store: &OrgStore, r: Runner, input: Input, file: Option<&StoredFile>, force: bool) -> Result<Job> {
    let engine = state.service::<Engine>();
    if !r.data_types.iter().any(|t| *t == input.data_type) {
        return Err(Error::BadRequest(format!("The analyzer {} does not take {} observables", r.analyzer_name, input.data_type)));
    }
    if input.data.is_none() && input.attachment.is_none() {
        return Err(Error::attribute(TYPE, "data", "string", "data or a file is required"));
    }
    validate::tlp(TYPE, "tlp", input.tlp)?;
    validate::tlp(TYPE, "pap", input.pap)?;
    let key = cache_key(&format!("{}/{}", r.cortex_id, r.analyzer_id), &input);
    let now = now_millis();
    if !force && r.cache_minutes > 0 {
        let since = now - i64::from(r.cache_minutes) * 60_000;
        if let Some(hit) = cached(store, &key, since).await? {
            return from_cache(state, caller, store, hit, &input).await;
        }
    }
    let id = new_id();
    let mut doc = Map::new();
    doc.insert("analyzerId".into(), json!(r.analyzer_id));
    doc.insert("analyzerName".into(), json!(r.analyzer_name));
    doc.insert("analyzerDefinition".into(), json!(r.definition));
    doc.insert("cortexId".into(), json!(r.cortex_id));
    doc.insert("lane".into(), json!(r.lane));
    doc.insert("status".into(), json!(JobStatus::Waiting));
    doc.insert("dataType".into(), json!(input.data_type));
    if let Some(d) = &input.data {
        doc.insert("data".into(), json!(d));
    }
    if let Some(f) = &input.attachment {
        doc.insert("attachment".into(), json!(f));
    }
    doc.insert("tlp".into(), json!(input.tlp));
    doc.insert("pap".into(), json!(input.pap));
    if let Some(m) = input.message.as_deref().filter(|m| !m.is_empty()) {
        doc.insert("message".into(), json!(validate::text(TYPE, "message", m)?));
    }
    doc.insert("parameters".into(), Value::Object(input.parameters.clone()));
    if let Some(o) = &input.observable {
        doc.insert("observable".into(), json!(o));
    }
    if let Some(c) = &input.case {
        doc.insert("case".into(), json!(c));
    }
    if let Some(a) = &input.alert {
        doc.insert("alert".into(), json!(a));
    }
    doc.insert("cacheKey".into(), json!(key));
    // Queued by this process (see `engine::start`: another takes it over if this one stops).
    doc.insert("node".into(), json!(engine.node));
    doc.insert("createdAt".into(), json!(now));
    doc.insert("createdBy".into(), json!(caller.login));
    let created = match file {
        None => store.create(TABLE, &id, doc).await?,
        Some(f) => {
            let mut tx = Tx::new(caller);
            attachment::register(&mut tx, f);
            let (vid, vdoc) = (tx.bind(&id), tx.bind(Value::Object(doc)));
            let idx = tx.push(format!("CREATE type::record('{TABLE}', {vid}) CONTENT object::extend({vdoc}, {{ org: $org }}) RETURN AFTER"));
            tx.run(state, store).await?.one::<Value>(idx)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("job not created")))?
        }
    };
    let lane = engine::lane(&store_org(store), &r.lane);
    match r.over_quota {
        OverQuota::Queue => engine.queue.push(&lane, id.clone()),
        OverQuota::Refuse => {
            if let Err(over) = engine.queue.push_within_budget(&lane, id.clone()) {
                store.delete(TABLE, &id).await?;
                let when = over.frees_at.map(|t| format!(" (next run allowed in {} s)", ((t - now) / 1000).max(1))).unwrap_or_default();
                return Err(Error::RateLimited(format!("The rate limit of {} is reached{when}", r.analyzer_name)));
            }
        }
    }
    decode(created)
}

fn store_org(store: &OrgStore) -> String {
    store.org_id().to_string()
}

fn decode(v: Value) -> Result<Job> {
    serde_json::from_value(v).map_err(|e| Error::Internal(anyhow::anyhow!("decoding a job: {e}")))
}

async fn cached(store: &OrgStore, key: &str, since: i64) -> Result<Option<Row>> {
    let mut r = store
        .query(
            "SELECT * FROM job WHERE org = $org AND cacheKey = $k AND createdAt > $since AND status IN ['Waiting', 'InProgress', 'Success'] \
             ORDER BY createdAt DESC LIMIT 1",
            vars! { "k" => key, "since" => since },
        )
        .await?;
    r.one(0)
}

/// A cache hit: the earlier job itself while it runs; once it succeeded, a copy for this
/// observable (its history shows it, its mini-report is set) that shares the earlier report.
async fn from_cache(state: &AppState, caller: &Caller, store: &OrgStore, hit: Row, input: &Input) -> Result<Job> {
    let same_target = hit.job.observable == input.observable;
    if hit.job.status != JobStatus::Success || same_target {
        return Ok(Job { from_cache: true, ..hit.job });
    }
    let source = hit.report_of.clone().unwrap_or_else(|| hit.job.id.clone());
    let id = new_id();
    let mut doc = serde_json::to_value(&hit.job).map_err(|e| Error::Internal(e.into()))?;
    if let Some(m) = doc.as_object_mut() {
        m.remove("id");
        m.insert("cortexJobId".into(), json!(id));
        m.insert("observable".into(), json!(input.observable));
        m.insert("case".into(), json!(input.case));
        m.insert("alert".into(), json!(input.alert));
        m.insert("fromCache".into(), json!(true));
        m.insert("reportOf".into(), json!(source));
        m.insert("createdAt".into(), json!(now_millis()));
        m.insert("createdBy".into(), json!(caller.login));
    }
    let Value::Object(doc) = doc else { return Err(Error::Internal(anyhow::anyhow!("a job is an object"))) };
    let created = store.create(TABLE, &id, doc).await?;
    let job = decode(created)?;
    if let Some(report) = read_report(store, &source).await? {
        super::run::set_mini_report(state, store, caller, &job, &report).await?;
    }
    Ok(job)
}

pub(super) async fn read_report(store: &OrgStore, job_id: &str) -> Result<Option<JobReport>> {
    let mut r = store
        .query("SELECT * OMIT id, org, job FROM job_report WHERE id = type::record('job_report', $id) AND org = $org", vars! { "id" => job_id })
        .await?;
    r.one(0)
}

async fn row(store: &OrgStore, id: &str) -> Result<Option<Row>> {
    store.get(TABLE, id).await
}

pub async fn get(state: &AppState, caller: &Caller, id: &str) -> Result<Job> {
    Ok(row(&caller.store(state), id).await?.ok_or_else(|| Error::not_found("job", id))?.job)
}

/// A job and its report (none while it waits or runs).
pub async fn report(state: &AppState, caller: &Caller, id: &str) -> Result<(Job, Option<JobReport>)> {
    let store = caller.store(state);
    let r = row(&store, id).await?.ok_or_else(|| Error::not_found("job", id))?;
    let report = if r.job.status.is_finished() { read_report(&store, r.report_of.as_deref().unwrap_or(&r.job.id)).await? } else { None };
    Ok((r.job, report))
}

/// The job and its report once it has finished, or as it is after `at_most` (at most
/// [`MAX_WAIT`]).
pub async fn wait_report(state: &AppState, caller: &Caller, id: &str, at_most: Duration) -> Result<(Job, Option<JobReport>)> {
    let mut finished = state.service::<Engine>().subscribe();
    let deadline = tokio::time::Instant::now() + at_most.min(MAX_WAIT);
    loop {
        let (job, report) = report(state, caller, id).await?;
        if job.status.is_finished() {
            return Ok((job, report));
        }
        loop {
            match tokio::time::timeout_at(deadline, finished.recv()).await {
                Err(_) => return Ok((job, report)),
                Ok(Ok(done)) if done != job.id => continue,
                // Ours, or messages were missed: read the job again.
                Ok(_) => break,
            }
        }
    }
}

/// The jobs run on an observable, newest first.
pub async fn for_observable(state: &AppState, caller: &Caller, observable_id: &str) -> Result<Vec<Job>> {
    let store = caller.store(state);
    let mut r = store
        .query(
            "SELECT * FROM job WHERE org = $org AND observable = $o AND status != 'Deleted' ORDER BY createdAt DESC LIMIT 200",
            vars! { "o" => observable_id },
        )
        .await?;
    r.rows(0)
}

/// The observables of a case with a job waiting or running.
pub async fn running_in_case(state: &AppState, caller: &Caller, case_id: &str) -> Result<Vec<String>> {
    let mut r = caller
        .store(state)
        .query(
            "SELECT VALUE observable FROM job WHERE org = $org AND case = $case AND status IN ['Waiting', 'InProgress'] LIMIT 1000",
            vars! { "case" => case_id },
        )
        .await?;
    let mut list: Vec<Option<String>> = r.rows(0)?;
    list.sort();
    list.dedup();
    Ok(list.into_iter().flatten().collect())
}

/// The status of each of `ids` that is a job of the organisation (the others are left out).
pub async fn statuses(state: &AppState, caller: &Caller, ids: &[String]) -> Result<Vec<(String, JobStatus)>> {
    if ids.len() > MAX_STATUS_IDS {
        return Err(Error::BadRequest(format!("At most {MAX_STATUS_IDS} jobs at a time")));
    }
    #[derive(Deserialize)]
    struct IdStatus {
        id: String,
        status: JobStatus,
    }
    let mut r = caller
        .store(state)
        .query("SELECT id, status FROM array::map($ids, |$i| type::record('job', $i)) WHERE org = $org", vars! { "ids" => ids })
        .await?;
    Ok(r.rows::<IdStatus>(0)?.into_iter().map(|s| (s.id, s.status)).collect())
}

pub async fn search(state: &AppState, caller: &Caller, search: &Search) -> Result<Page<Job>> {
    search::run(&caller.store(state), Entity::Job, search, true).await
}

/// Delete a job: a waiting one never starts; it shows as Deleted (Cortex's behaviour).
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    caller.require(Permission::ManageAnalyze, "delete jobs")?;
    let store = caller.store(state);
    let r = row(&store, id).await?.ok_or_else(|| Error::not_found("job", id))?;
    state.service::<Engine>().queue.remove(&engine::job_lane(&r.org, r.lane.as_deref(), &r.job.analyzer_id), &r.job.id);
    store.merge(TABLE, &r.job.id, Map::from_iter([("status".to_string(), json!(JobStatus::Deleted))])).await?;
    Ok(())
}

/// Remove finished jobs (and their reports) created more than `days` days ago
/// (organisation-admins); how many were removed.
pub async fn purge(state: &AppState, caller: &Caller, days: u32) -> Result<u64> {
    caller.require(Permission::ManageAnalyzer, "purge jobs")?;
    let before = now_millis() - i64::from(days) * 86_400_000;
    let store = caller.store(state);
    let mut r = store
        .query(
            "LET $old = SELECT VALUE id FROM job WHERE org = $org AND createdAt < $before AND status IN ['Success', 'Failure', 'Deleted'];
             DELETE job_report WHERE org = $org AND job IN array::map($old, |$j| record::id($j));
             DELETE $old;
             RETURN array::len($old);",
            vars! { "before" => before },
        )
        .await?;
    Ok(r.one::<u64>(3)?.unwrap_or(0))
}

/// Add a report's artifacts (all, or those at `indices`) as observables of the job's case; each
/// one on its own (one already in the case is reported, the others are still added).
pub async fn add_artifacts(state: &AppState, caller: &Caller, id: &str, indices: Option<&[usize]>) -> Result<Vec<(String, Result<app::model::Observable>)>> {
    let (j, report) = report(state, caller, id).await?;
    let case = j.case.clone().ok_or_else(|| Error::BadRequest("This job was not run on a case observable".into()))?;
    let report = report.filter(|r| r.success).ok_or_else(|| Error::BadRequest("The job has no successful report".into()))?;
    let store = caller.store(state);
    let mut out = Vec::new();
    for (i, a) in report.artifacts.iter().enumerate() {
        if indices.is_some_and(|list| !list.contains(&i)) {
            continue;
        }
        let input = app::model::NewObservables {
            data_type: a.data_type.clone(),
            data: a.data.clone().into_iter().collect(),
            message: Some(a.message.clone().unwrap_or_else(|| format!("Extracted by {}", j.analyzer_name))),
            tlp: Some(a.tlp.unwrap_or(j.tlp)),
            tags: Some(a.tags.clone()),
            ..Default::default()
        };
        let label = a.data.clone().or_else(|| a.attachment.as_ref().map(|f| f.name.clone())).unwrap_or_default();
        let added = match &a.attachment {
            Some(f) => match crate::core::attachment::held(state, &store, f).await {
                Ok(file) => observable::add_file(state, caller, &case, input, file).await,
                Err(e) => Err(e),
            },
            None => observable::add_one(state, caller, &case, input).await,
        };
        out.push((label, added));
    }
    Ok(out)
}
