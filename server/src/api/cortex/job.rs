//! Running analyzers on values and files, and the jobs of the caller's organisation: reports,
//! waiting for them, artifacts, statuses, deletion, search; downloads of the files they hold.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio_util::io::ReaderStream;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{artifact_object, job_object, job_with_report};
use crate::api::json::ApiJson;
use crate::api::support::{JsonOrMultipart, download, input, list_response, query_param, read_upload, search_args};
use crate::core::attachment::{self, safe_name};
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::query::Entity;
use crate::core::search::Search;
use crate::core::state::AppState;
use crate::domain::analysis::job;

/// The table named in attribute errors.
const TABLE: &str = "job";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(run_analyzer))
        .routes(routes!(get_job, delete_job))
        .routes(routes!(get_report))
        .routes(routes!(wait_report))
        .routes(routes!(get_artifacts))
        .routes(routes!(search_jobs))
        .routes(routes!(job_statuses))
        .routes(routes!(get_file))
}

/// What a run takes (`label` is accepted and not kept).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunBody {
    data_type: String,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    tlp: Option<u8>,
    #[serde(default)]
    pap: Option<u8>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    parameters: Option<Map<String, Value>>,
}

const RUN: &[&str] = &["data", "dataType", "tlp", "pap", "message", "parameters", "label"];

fn run_input(body: &Map<String, Value>) -> Result<job::Input> {
    let b: RunBody = input(TABLE, body, RUN)?;
    Ok(job::Input {
        data_type: b.data_type,
        data: b.data,
        tlp: b.tlp.unwrap_or(2),
        pap: b.pap.unwrap_or(2),
        message: b.message,
        parameters: b.parameters.unwrap_or_default(),
        ..Default::default()
    })
}

fn truthy(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes")
}

/// Run an analyzer on a value (`{data, dataType, tlp, pap, message, parameters}`) or on a file
/// (multipart: the same attributes in `_json`, the file in a part named `data` or
/// `attachment`); `?force=1` bypasses the cache.
#[utoipa::path(post, path = "/cortex/api/analyzer/{id}/run", tag = "cortex", params(("id" = String, Path, description = "Analyzer id or name"), ("force" = Option<String>, Query, description = "1: bypass the cache")), responses((status = 200, description = "The job"), (status = 400, description = "Invalid input"), (status = 403, description = "Not allowed"), (status = 404, description = "Not an analyzer of this organisation"), (status = 429, description = "Over the analyzer's rate (analyzers set to refuse)")))]
pub async fn run_analyzer(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, RawQuery(raw): RawQuery, body: JsonOrMultipart) -> Result<Response> {
    let force = query_param(raw.as_deref(), "force").is_some_and(|f| truthy(&f));
    // Checked before the body is read (a file would be stored): who may not run this analyzer
    // learns nothing about their input.
    job::check_can_run(&state, &caller, &id).await?;
    let j = match body {
        JsonOrMultipart::Json(body) => job::create(&state, &caller, &id, run_input(&body)?, force).await?,
        JsonOrMultipart::Multipart(m) => {
            let upload = read_upload(&state, m).await?;
            let given = match run_input(&upload.json) {
                Ok(i) => i,
                Err(e) => return attachment::discard_on_error(&state, upload.file, Err(e)).await,
            };
            let file = upload.file.ok_or_else(|| Error::attribute(TABLE, "data", "file", "the multipart body has no file"))?;
            job::create_with_file(&state, &caller, &id, given, file, force).await?
        }
    };
    Ok(axum::Json(job_object(&j, &caller.org_name)).into_response())
}

#[utoipa::path(get, path = "/cortex/api/job/{id}", tag = "cortex", params(("id" = String, Path, description = "Job id")), responses((status = 200, description = "The job"), (status = 404, description = "Not a job of this organisation")))]
pub async fn get_job(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(job_object(&job::get(&state, &caller, &id).await?, &caller.org_name)))
}

/// Delete a job: a waiting one never starts; it shows as Deleted.
#[utoipa::path(delete, path = "/cortex/api/job/{id}", tag = "cortex", params(("id" = String, Path, description = "Job id")), responses((status = 200, description = "Deleted"), (status = 403, description = "Not allowed")))]
pub async fn delete_job(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode> {
    job::delete(&state, &caller, &id).await?;
    Ok(StatusCode::OK)
}

/// The job with its `report`: the report once finished, else `"Waiting"` or `"Running"`.
#[utoipa::path(get, path = "/cortex/api/job/{id}/report", tag = "cortex", params(("id" = String, Path, description = "Job id")), responses((status = 200, description = "The job and its report")))]
pub async fn get_report(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let (j, report) = job::report(&state, &caller, &id).await?;
    Ok(axum::Json(job_with_report(&j, report.as_ref(), &caller.org_name)))
}

/// A Cortex duration (`1minute`, `1 second`, `30seconds`, `500ms`, `Inf`); `Inf` and no
/// duration wait as long as the server lets one request wait.
fn parse_duration(text: Option<&str>) -> Result<Duration> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(Duration::MAX) };
    let lower = text.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "+inf" | "infinite" | "infinity") {
        return Ok(Duration::MAX);
    }
    let split = lower.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(lower.len());
    let (number, unit) = lower.split_at(split);
    let bad = || Error::BadRequest(format!("atMost must be a duration such as 1minute, 30seconds or 500ms, not {text}"));
    let n: f64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit.trim().trim_end_matches('s') {
        "m" if unit.trim() == "ms" => 0.001,
        "" | "second" | "sec" => 1.0,
        "milli" | "millisecond" | "msec" => 0.001,
        "m" | "min" | "minute" => 60.0,
        "h" | "hour" => 3600.0,
        "d" | "day" => 86_400.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(n * seconds).map_err(|_| bad())
}

/// The job with its report once it has finished, or as it is after `atMost` (at most
/// [`job::MAX_WAIT`]).
#[utoipa::path(get, path = "/cortex/api/job/{id}/waitreport", tag = "cortex", params(("id" = String, Path, description = "Job id"), ("atMost" = Option<String>, Query, description = "How long to wait: 1minute, 30seconds, Inf")), responses((status = 200, description = "The job and its report")))]
pub async fn wait_report(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Result<impl IntoResponse> {
    let at_most = parse_duration(query_param(raw.as_deref(), "atMost").as_deref())?;
    let (j, report) = job::wait_report(&state, &caller, &id, at_most).await?;
    Ok(axum::Json(job_with_report(&j, report.as_ref(), &caller.org_name)))
}

/// The artifacts the job's report extracted (none before it succeeded).
#[utoipa::path(get, path = "/cortex/api/job/{id}/artifacts", tag = "cortex", params(("id" = String, Path, description = "Job id")), responses((status = 200, description = "Artifacts")))]
pub async fn get_artifacts(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response> {
    let (j, report) = job::report(&state, &caller, &id).await?;
    let list: Vec<Value> = report.filter(|r| r.success).map(|r| r.artifacts.iter().map(|a| artifact_object(a, &j)).collect()).unwrap_or_default();
    let total = list.len() as u64;
    Ok(list_response(list, total))
}

/// Cortex's names for the job fields Waggle calls otherwise.
fn field_name(name: &str) -> &str {
    match name {
        "workerId" => "analyzerId",
        "workerName" => "analyzerName",
        "workerDefinitionId" | "analyzerDefinitionId" => "analyzerDefinition",
        other => other,
    }
}

/// A query with Cortex's field names translated (object keys and `_field` values).
fn translate_query(q: &Value) -> Value {
    match q {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("_field", Value::String(f)) => Value::String(field_name(f).to_string()),
                        _ => translate_query(v),
                    };
                    (field_name(k).to_string(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(translate_query).collect()),
        other => other.clone(),
    }
}

/// Search the organisation's jobs (deleted ones left out), TheHive's query language with
/// Cortex's field names.
#[utoipa::path(post, path = "/cortex/api/job/_search", tag = "cortex", responses((status = 200, description = "Jobs"), (status = 400, description = "Invalid query")))]
pub async fn search_jobs(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<Response> {
    let args = search_args(raw.as_deref(), &body)?;
    let query = json!({ "_and": [translate_query(&args.query), { "_not": { "_field": "status", "_value": "Deleted" } }] });
    let sort: Vec<String> = args
        .sort
        .iter()
        .map(|s| {
            let (sign, name) = s.split_at(s.find(|c| c != '+' && c != '-').unwrap_or(0));
            format!("{sign}{}", field_name(name))
        })
        .collect();
    let search = Search::parse(Entity::Job, &query, &sort, args.range.as_deref())?;
    let page = job::search(&state, &caller, &search).await?;
    Ok(list_response(page.items.iter().map(|j| job_object(j, &caller.org_name)).collect(), page.total))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusBody {
    job_ids: Vec<String>,
}

/// The status of each job named: `{"jobIds": [...]}` -> `{"<id>": "Success", ...}` (ids that are
/// not jobs of the organisation are left out).
#[utoipa::path(post, path = "/cortex/api/job/status", tag = "cortex", responses((status = 200, description = "Status by job id"), (status = 400, description = "No jobIds")))]
pub async fn job_statuses(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let b: StatusBody = input(TABLE, &body, &["jobIds"])?;
    let found = job::statuses(&state, &caller, &b.job_ids).await?;
    Ok(axum::Json(found.into_iter().map(|(id, s)| (id, json!(s))).collect::<Map<String, Value>>()))
}

/// A file the organisation holds (a job's input or an extracted artifact), as a download.
#[utoipa::path(get, path = "/cortex/api/datastore/{id}", tag = "cortex", params(("id" = String, Path, description = "SHA-256 of the file"), ("name" = Option<String>, Query, description = "Download name")), responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 404, description = "Not a file of this organisation")))]
pub async fn get_file(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Result<Response> {
    let (att, path) = attachment::open(&state, &caller, &id).await?;
    let file = tokio::fs::File::open(&path).await.map_err(|e| Error::Internal(anyhow::anyhow!("opening attachment: {e}")))?;
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(att.size);
    let name = query_param(raw.as_deref(), "name").filter(|n| !n.trim().is_empty()).unwrap_or(att.name);
    Ok(download(Body::from_stream(ReaderStream::new(file)), len, &safe_name(&name), "application/octet-stream"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cortex_durations() {
        let d = |s: &str| parse_duration(Some(s)).unwrap();
        assert_eq!(d("1minute"), Duration::from_secs(60));
        assert_eq!(d("1 second"), Duration::from_secs(1));
        assert_eq!(d("30seconds"), Duration::from_secs(30));
        assert_eq!(d("2minutes"), Duration::from_secs(120));
        assert_eq!(d("500ms"), Duration::from_millis(500));
        assert_eq!(d("1h"), Duration::from_secs(3600));
        assert_eq!(d("Inf"), Duration::MAX);
        assert_eq!(parse_duration(None).unwrap(), Duration::MAX);
        assert!(parse_duration(Some("soon")).is_err());
        assert!(parse_duration(Some("5 fortnights")).is_err());
    }

    #[test]
    fn cortex_field_names() {
        let q = translate_query(&json!({"_and": [{"_field": "workerId", "_value": "a"}, {"workerName": "x"}, {"status": "Success"}]}));
        assert_eq!(q, json!({"_and": [{"_field": "analyzerId", "_value": "a"}, {"analyzerName": "x"}, {"status": "Success"}]}));
    }
}
