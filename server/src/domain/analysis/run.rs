//! Running one job: claim it (Waiting -> InProgress), build the analyzer's input, run the
//! process (`core::analysis::runner`), then store the report, its file artifacts and the
//! observable's mini-report in one transaction (InProgress -> Success | Failure).

use std::time::Duration;

use app::model::{JobArtifact, JobReport, JobStatus};
use serde_json::{Map, Value, json};

use super::engine::Engine;
use super::job::Row;
use super::{analyzer, settings};
use crate::core::analysis::runner::{self, InputFile, Limits, Protocol, RunOutcome, RunSpec};
use crate::core::attachment::{self, StoredFile};
use crate::core::audit::Tx;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::store::{OrgStore, now_millis};
use crate::vars;

/// The most artifacts kept from one report.
pub(super) const MAX_ARTIFACTS: usize = 1000;

/// Run the job `id` if it is still waiting; `at` is when the queue started it.
pub(super) async fn execute(state: &AppState, id: &str, at: i64) -> Result<()> {
    let mut r = state
        .store
        .query(
            "UPDATE type::record('job', $id) SET status = 'InProgress', startDate = $now, node = $node WHERE status = 'Waiting' RETURN AFTER",
            vars! { "id" => id, "now" => at, "node" => state.service::<super::engine::Engine>().node.clone() },
        )
        .await?;
    let Some(row): Option<Row> = r.one(0)? else { return Ok(()) };
    let store = state.store.org(&row.org);
    let report = if row.job.cortex_id != app::model::LOCAL_ENGINE {
        super::remote::run(state, &row).await
    } else {
        match prepare(state, &store, &row).await {
            Ok(spec) => to_report(state, runner::run(spec).await).await,
            Err(message) => (failure(message, None), Vec::new()),
        }
    };
    finish(state, &store, &row, report.0, report.1).await
}

/// Mark a job failed when it could not even be run (its report says why).
pub(super) async fn fail(state: &AppState, id: &str, message: &str) {
    let q = state
        .store
        .query(
            "UPDATE type::record('job', $id) SET status = 'Failure', endDate = $now, errorMessage = $m WHERE status IN ['Waiting', 'InProgress'] RETURN AFTER",
            vars! { "id" => id, "now" => now_millis(), "m" => message },
        )
        .await;
    if let Ok(Some(row)) = q.and_then(|mut r| r.one::<Row>(0)) {
        let store = state.store.org(&row.org);
        let doc = json!({ "org": row.org, "job": row.job.id, "success": false, "errorMessage": message });
        let _ = store.query("UPSERT type::record('job_report', $id) CONTENT $doc WHERE org = $org OR org = NONE", vars! { "id" => row.job.id, "doc" => doc }).await;
    }
}

pub(super) fn failure(message: String, input: Option<String>) -> JobReport {
    JobReport { success: false, summary: Value::Null, full: Value::Null, artifacts: Vec::new(), operations: Vec::new(), error_message: Some(message), input }
}

/// The process to run and its input; or why the job cannot run.
async fn prepare(state: &AppState, store: &OrgStore, row: &Row) -> std::result::Result<RunSpec, String> {
    let engine = state.service::<Engine>();
    let job = &row.job;
    let a = analyzer::row(store, &job.analyzer_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("The analyzer {} was disabled", job.analyzer_name))?;
    let def = engine
        .definition(&a.definition_id)
        .ok_or_else(|| format!("The definition {} is no longer in the analyzers directories", a.definition_id))?;
    let command = def.command_path().map_err(|e| e.to_string())?;
    let secrets = engine.secrets(state).map_err(|e| e.to_string())?;
    let configuration = settings::open_secrets(&def.configuration_items, secrets, a.configuration.clone())
        .map_err(|e| format!("The analyzer's configuration cannot be read ({}: {})", e.name, e.message))?;
    let defaults = settings::InputDefaults { job_cache: u64::from(a.job_cache()), job_timeout: u64::from(a.job_timeout()), proxy_http: None, proxy_https: None };
    let config = settings::input_config(&def, &configuration, &defaults);
    let mut input = Map::new();
    input.insert("dataType".into(), json!(job.data_type));
    input.insert("tlp".into(), json!(job.tlp));
    input.insert("pap".into(), json!(job.pap));
    input.insert("message".into(), json!(job.message.clone().unwrap_or_default()));
    input.insert("parameters".into(), Value::Object(job.parameters.clone()));
    input.insert("config".into(), Value::Object(config));
    let mut file = None;
    match (&job.attachment, &job.data) {
        (Some(att), _) => {
            let source = attachment::content_path(state, &att.id).map_err(|e| e.to_string())?;
            let name = attachment::safe_name(&att.name);
            input.insert("file".into(), json!(name));
            input.insert("filename".into(), json!(att.name));
            input.insert("contentType".into(), json!(att.content_type));
            file = Some(InputFile { source, name });
        }
        (None, Some(data)) => {
            input.insert("data".into(), json!(data));
        }
        (None, None) => return Err("The job has neither data nor a file".into()),
    }
    Ok(RunSpec {
        cwd: def.cwd().map_err(|e| e.to_string())?,
        command,
        protocol: Protocol::JobDirectory,
        input: Value::Object(input),
        file,
        timeout: Duration::from_secs(u64::from(a.job_timeout()) * 60),
        jobs_dir: super::engine::jobs_dir(state),
        job_id: job.id.clone(),
        limits: Limits::default(),
        keep_dir: state.settings.analysis.keep_job_dirs,
        env: analyzer_env(&state.settings.analysis.path),
    })
}

/// The analyzers' PATH: the configured directories first, then the server's own.
fn analyzer_env(first: &[std::path::PathBuf]) -> Vec<(String, String)> {
    if first.is_empty() {
        return Vec::new();
    }
    let mut dirs: Vec<std::path::PathBuf> = first.to_vec();
    dirs.extend(std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default());
    match std::env::join_paths(dirs) {
        Ok(p) => vec![("PATH".to_string(), p.to_string_lossy().to_string())],
        Err(_) => Vec::new(),
    }
}

/// The report of a run, and the files it extracted (stored, not yet held by a record).
async fn to_report(state: &AppState, outcome: RunOutcome) -> (JobReport, Vec<StoredFile>) {
    let (output, files) = match outcome {
        RunOutcome::Failed { message } => return (failure(message, None), Vec::new()),
        RunOutcome::Report { output, artifacts } => (output, artifacts),
    };
    if output.get("success").and_then(Value::as_bool) != Some(true) {
        let message = output.get("errorMessage").map(text_of);
        let input = output.get("input").map(text_of);
        return (failure(message.unwrap_or_else(|| "The analyzer reported a failure without a message".into()), input), Vec::new());
    }
    let mut stored = Vec::new();
    let mut artifacts = Vec::new();
    for a in output.get("artifacts").and_then(Value::as_array).into_iter().flatten().take(MAX_ARTIFACTS) {
        let Some(name) = a.get("file").and_then(Value::as_str) else {
            artifacts.extend(artifact(a, None));
            continue;
        };
        let Some(f) = files.iter().find(|f| f.name == name) else { continue };
        let label = a.get("filename").and_then(Value::as_str).unwrap_or(name);
        match attachment::save_bytes(state, label, a.get("contentType").and_then(Value::as_str), f.bytes.clone().into()).await {
            Ok(file) => {
                artifacts.extend(artifact(a, Some(file.attachment().clone())));
                stored.push(file);
            }
            Err(e) => tracing::warn!(error = ?e, "an analyzer's file artifact could not be stored"),
        }
    }
    (success(&output, artifacts), stored)
}

/// A value as text: a string as it is, anything else as JSON.
pub(super) fn text_of(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

/// An artifact of a report (Cortex's shape): a value, or the file already stored for it.
pub(super) fn artifact(a: &Value, file: Option<app::model::Attachment>) -> Option<JobArtifact> {
    let data_type = a.get("dataType").and_then(Value::as_str)?.to_string();
    let data = match &file {
        Some(_) => None,
        None => Some(text_of(a.get("data")?)),
    };
    Some(JobArtifact {
        data_type,
        data,
        attachment: file,
        message: a.get("message").and_then(Value::as_str).map(str::to_string),
        tags: a.get("tags").and_then(|t| serde_json::from_value(t.clone()).ok()).unwrap_or_default(),
        tlp: a.get("tlp").and_then(Value::as_u64).and_then(|t| u8::try_from(t).ok()),
    })
}

/// A successful report (`output`: the analyzer's or a Cortex server's) with its artifacts.
pub(super) fn success(output: &Value, artifacts: Vec<JobArtifact>) -> JobReport {
    JobReport {
        success: true,
        summary: output.get("summary").cloned().unwrap_or(json!({})),
        full: output.get("full").cloned().unwrap_or(json!({})),
        artifacts,
        operations: output.get("operations").and_then(Value::as_array).cloned().unwrap_or_default(),
        error_message: None,
        input: None,
    }
}

/// Apply the report's operations, store the report and end the job; set the observable's
/// mini-report. A job deleted while it ran stays Deleted (its report is kept).
async fn finish(state: &AppState, store: &OrgStore, row: &Row, mut report: JobReport, files: Vec<StoredFile>) -> Result<()> {
    let job = &row.job;
    // Applied before the job ends, so whoever sees it finished sees their effects too.
    if report.success && !report.operations.is_empty() {
        report.operations = operations(state, row, &report.operations).await;
    }
    let status = if report.success { JobStatus::Success } else { JobStatus::Failure };
    let mut tx = Tx::on_behalf(&job.created_by, None);
    let mut doc = serde_json::to_value(&report).map_err(|e| Error::Internal(e.into()))?;
    if let Some(m) = doc.as_object_mut() {
        m.insert("org".into(), json!(row.org));
        m.insert("job".into(), json!(job.id));
    }
    let (vid, vdoc) = (tx.bind(&job.id), tx.bind(doc));
    tx.push(format!("UPSERT type::record('job_report', {vid}) CONTENT {vdoc}"));
    for f in &files {
        attachment::register(&mut tx, f);
    }
    let patch = json!({
        "status": status,
        "endDate": tx.now(),
        "errorMessage": report.error_message,
        "artifactCount": report.artifacts.len(),
    });
    let vpatch = tx.bind(patch);
    tx.push(format!("UPDATE type::record('job', {vid}) MERGE {vpatch} WHERE org = $org AND status = 'InProgress'"));
    // A case observable's mini-report is written with the job's end; an alert's after it.
    let observable = match (&job.observable, &job.case, report.success) {
        (Some(o), Some(_), true) => crate::domain::case::observable::get_in(store, o).await?.map(|_| o.clone()),
        _ => None,
    };
    if let Some(o) = &observable {
        mini_report(&mut tx, o, &job.analyzer_name, &report);
    }
    let result = tx.run(state, store).await;
    if result.is_err() {
        attachment::discard(state, files).await;
    }
    result?;
    if let (Some(o), Some(_), true) = (&job.observable, &job.alert, report.success) {
        let set = match crate::core::auth::on_behalf(state, &job.created_by, &row.org).await {
            Ok(caller) => crate::domain::alert::set_observable_report(state, &caller, o, &job.analyzer_name, entry(&report)).await,
            Err(e) => Err(e),
        };
        if let Err(e) = set {
            tracing::warn!(job = %job.id, error = ?e, "the alert observable's mini-report could not be set");
        }
    }
    tracing::info!(job = %job.id, analyzer = %job.analyzer_name, status = status.as_str(), "analysis job finished");
    Ok(())
}

/// Apply a report's operations through the services, as the job's creator (with the rights they
/// have now); each one says how it went (`status`, and `message` when it failed).
async fn operations(state: &AppState, row: &Row, ops: &[Value]) -> Vec<Value> {
    let caller = match crate::core::auth::on_behalf(state, &row.job.created_by, &row.org).await {
        Ok(c) => c,
        Err(e) => {
            let why = format!("Operations not applied: {e}");
            return ops.iter().map(|op| with_status(op, Err(why.clone()))).collect();
        }
    };
    let mut out = Vec::with_capacity(ops.len());
    for op in ops.iter().take(100) {
        let r = operation(state, &caller, row, op).await;
        out.push(with_status(op, r));
    }
    out
}

fn with_status(op: &Value, r: std::result::Result<(), String>) -> Value {
    let mut v = op.clone();
    if let Some(m) = v.as_object_mut() {
        match r {
            Ok(()) => {
                m.insert("status".into(), json!("Success"));
            }
            Err(e) => {
                m.insert("status".into(), json!("Failure"));
                m.insert("message".into(), json!(e));
            }
        }
    }
    v
}

async fn operation(state: &AppState, caller: &crate::core::auth::Caller, row: &Row, op: &Value) -> std::result::Result<(), String> {
    use crate::domain::case::{self, observable, task};
    let text = |k: &str| op.get(k).and_then(Value::as_str).map(str::to_string);
    let job = &row.job;
    let need_case = || job.case.clone().ok_or_else(|| "the job was not run on a case observable".to_string());
    let err = |e: Error| app::model::ApiError::from(e).to_string();
    match op.get("type").and_then(Value::as_str).unwrap_or_default() {
        "AddTagToArtifact" if job.alert.is_some() => {
            let tag = text("tag").ok_or("no tag")?;
            let o = job.observable.clone().ok_or("the job was not run on an observable")?;
            let (_, current) = crate::domain::alert::get_observable(state, caller, &o).await.map_err(err)?;
            if !current.tags.contains(&tag) {
                let mut tags = current.tags;
                tags.push(tag);
                let patch = app::model::AlertObservablePatch { tags: Some(tags), ..Default::default() };
                crate::domain::alert::update_observable(state, caller, &o, patch).await.map_err(err)?;
            }
        }
        "AddTagToArtifact" => {
            let tag = text("tag").ok_or("no tag")?;
            let o = job.observable.clone().ok_or("the job was not run on an observable")?;
            let current = observable::get(state, caller, &o).await.map_err(err)?;
            if current.tags.contains(&tag) {
                return Ok(());
            }
            let mut tags = current.tags;
            tags.push(tag);
            observable::update(state, caller, &o, app::model::ObservablePatch { tags: Some(tags), ..Default::default() }).await.map_err(err)?;
        }
        "AddTagToCase" => {
            let tag = text("tag").ok_or("no tag")?;
            case::change_tags(state, caller, &[need_case()?], &[tag], &[]).await.map_err(err)?;
        }
        "AssignCase" => {
            let owner = text("owner").ok_or("no owner")?;
            case::update(state, caller, &need_case()?, app::model::CasePatch { owner: Some(owner), ..Default::default() }).await.map_err(err)?;
        }
        "CreateTask" => {
            let title = text("title").ok_or("no title")?;
            let input = app::model::NewTask { title, description: text("description"), ..Default::default() };
            task::create(state, caller, &need_case()?, input).await.map_err(err)?;
        }
        "AddArtifactToCase" => {
            let input = app::model::NewObservables {
                data_type: text("dataType").ok_or("no dataType")?,
                data: vec![text("data").ok_or("no data")?],
                message: text("message"),
                tlp: op.get("tlp").and_then(Value::as_u64).and_then(|t| u8::try_from(t).ok()),
                tags: op.get("tags").and_then(|t| serde_json::from_value(t.clone()).ok()),
                ioc: op.get("ioc").and_then(Value::as_bool),
                sighted: op.get("sighted").and_then(Value::as_bool),
                ignore_similarity: op.get("ignoreSimilarity").and_then(Value::as_bool),
                ..Default::default()
            };
            observable::add_one(state, caller, &need_case()?, input).await.map_err(err)?;
        }
        "MarkAlertAsRead" => {
            let alert = job.alert.clone().ok_or("the job was not run on an alert's observable")?;
            crate::domain::alert::mark_read(state, caller, &alert).await.map_err(err)?;
        }
        "AddTagToAlert" => {
            let tag = text("tag").ok_or("no tag")?;
            let alert = job.alert.clone().ok_or("the job was not run on an alert's observable")?;
            let current = crate::domain::alert::get(state, caller, &alert).await.map_err(err)?;
            if !current.tags.contains(&tag) {
                let mut tags = current.tags;
                tags.push(tag);
                crate::domain::alert::update(state, caller, &alert, app::model::AlertPatch { tags: Some(tags), ..Default::default() }).await.map_err(err)?;
            }
        }
        other => return Err(format!("{other} does not apply to an analysis of an observable")),
    }
    Ok(())
}

/// The taxonomies of a report as an observable's `reports` entry.
fn entry(report: &JobReport) -> Value {
    json!({ "taxonomies": report.summary.get("taxonomies").cloned().unwrap_or(json!([])) })
}

fn mini_report(tx: &mut Tx, observable: &str, analyzer_name: &str, report: &JobReport) {
    let entry = Value::Object(Map::from_iter([(analyzer_name.to_string(), entry(report))]));
    let (vo, ventry) = (tx.bind(observable), tx.bind(&entry));
    tx.push(format!(
        "LET $mini = (UPDATE type::record('observable', {vo}) SET reports = object::extend(reports OR {{}}, {ventry}) WHERE org = $org RETURN AFTER)[0]"
    ));
    let details = tx.bind(json!({ "reports": entry }));
    tx.audit(app::model::AuditOperation::Update, "case_artifact", &vo, "$mini.case", &details, None, Some("$mini"));
}

/// Set the mini-report of a job's observable (a case's or an alert's) from a report already
/// stored (a cache hit).
pub(super) async fn set_mini_report(state: &AppState, store: &OrgStore, caller: &crate::core::auth::Caller, job: &app::model::Job, report: &JobReport) -> Result<()> {
    let Some(o) = job.observable.as_deref().filter(|_| report.success) else { return Ok(()) };
    if job.alert.is_some() {
        return crate::domain::alert::set_observable_report(state, caller, o, &job.analyzer_name, entry(report)).await;
    }
    let mut tx = Tx::new(caller);
    mini_report(&mut tx, o, &job.analyzer_name, report);
    tx.run(state, store).await?;
    Ok(())
}
