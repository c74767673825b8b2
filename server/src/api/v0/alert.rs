//! Alerts in TheHive's v0 shape (`/api/alert`): observables are `artifacts` here.

use app::model::{Alert, AlertObservable, AlertObservablePatch, AlertPatch, AlertWithSimilarity, NewAlert, NewAlertObservable};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::case::{bulk_ids, case_object};
use super::support::{JsonOrMultipart, check_list_attributes, input, list_response, multi_response, query_param, read_upload, search_args};
use super::{check_attributes, object};
use crate::domain::alert::{self, Created};
use crate::api::json::ApiJson;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::query::Entity;
use crate::core::search::Search;
use crate::core::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_alert))
        .routes(routes!(search_alerts))
        .routes(routes!(bulk_update_alerts))
        .routes(routes!(bulk_delete_alerts))
        .routes(routes!(bulk_merge_alerts))
        .routes(routes!(list_sources))
        .routes(routes!(set_source))
        .routes(routes!(get_alert, update_alert, delete_alert))
        .routes(routes!(mark_as_read))
        .routes(routes!(mark_as_unread))
        .routes(routes!(follow_alert))
        .routes(routes!(unfollow_alert))
        .routes(routes!(create_case_from_alert))
        .routes(routes!(merge_alert))
        .routes(routes!(create_alert_artifact))
        .routes(routes!(get_alert_artifact, update_alert_artifact, delete_alert_artifact))
}

/// Attributes an alert may be created with.
const CREATE: &[&str] = &[
    "type", "source", "sourceRef", "title", "description", "date", "severity", "tlp", "pap", "tags", "follow", "caseTemplate",
    "externalLink", "lastSyncDate", "customFields", "artifacts",
];
/// Attributes an update may change (`artifacts` are added to the alert's).
const UPDATE: &[&str] = &[
    "title", "description", "date", "severity", "tlp", "pap", "tags", "follow", "caseTemplate", "externalLink", "lastSyncDate",
    "customFields", "artifacts",
];
/// Attributes of an artifact given with an alert.
const ARTIFACT: &[&str] = &["dataType", "data", "message", "tlp", "tags", "ioc", "sighted", "ignoreSimilarity", "startDate"];
const ARTIFACT_UPDATE: &[&str] = &["message", "tlp", "tags", "ioc", "sighted", "ignoreSimilarity"];

/// An observable of an alert as v0 shows it.
fn artifact_object(o: &AlertObservable) -> Value {
    object(o, "alert_artifact")
}

/// An alert as v0 shows it: `artifacts`, `_id`, `_type`.
pub fn alert_object(a: &Alert) -> Value {
    let mut v = object(a, "alert");
    if let Value::Object(m) = &mut v {
        m.remove("observables");
        m.insert("artifacts".into(), Value::Array(a.observables.iter().map(artifact_object).collect()));
    }
    v
}

/// An alert with `similarCases` (and each artifact's `seen`).
fn similarity_object(s: &AlertWithSimilarity) -> Value {
    let mut v = alert_object(&s.alert);
    let cases: Vec<Value> = s
        .similar_cases
        .iter()
        .map(|c| {
            let mut o = case_object(&c.case);
            if let Value::Object(m) = &mut o {
                m.insert("similarIocCount".into(), json!(c.similar_ioc_count));
                m.insert("iocCount".into(), json!(c.ioc_count));
                m.insert("similarArtifactCount".into(), json!(c.similar_observable_count));
                m.insert("artifactCount".into(), json!(c.observable_count));
                m.insert("similarArtifacts".into(), json!(c.observables));
            }
            o
        })
        .collect();
    if let Value::Object(m) = &mut v {
        m.insert("similarCases".into(), Value::Array(cases));
    }
    v
}

/// A duplicate's conflict carries the existing alert: in v0's shape.
fn v0_error(e: Error) -> Error {
    match e {
        Error::Conflict { message, object: Some(o) } => {
            let object = match serde_json::from_value::<Alert>(o.clone()) {
                Ok(a) => alert_object(&a),
                Err(_) => match serde_json::from_value::<AlertObservable>(o.clone()) {
                    Ok(obs) => artifact_object(&obs),
                    Err(_) => o,
                },
            };
            Error::Conflict { message, object: Some(object) }
        }
        other => other,
    }
}

/// Artifact values that are numbers (an AS number...) are values all the same.
fn stringify_values(list: &mut Value) {
    if let Value::Array(items) = list {
        for i in items {
            if let Some(d) = i.get_mut("data") {
                if d.is_number() || d.is_boolean() {
                    *d = Value::String(d.to_string());
                }
            }
        }
    }
}

/// The v0 body with `artifacts` as the service's `observables`.
fn with_observables(mut body: Map<String, Value>) -> Map<String, Value> {
    if let Some(mut a) = body.remove("artifacts") {
        stringify_values(&mut a);
        body.insert("observables".into(), a);
    }
    body
}

fn truthy(raw: Option<&str>, key: &str) -> Option<bool> {
    query_param(raw, key).map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
}

/// Create an alert. A duplicate `(type, source, sourceRef)` answers 400 `ConflictError` with the
/// existing alert in `object`; with `?upsert=true` (or the source's upsert setting) the existing
/// alert is updated instead (200), its new artifacts added and `occurrences` counted.
#[utoipa::path(post, path = "/api/alert", tag = "alert", params(("upsert" = Option<bool>, Query, description = "Update the existing alert instead of refusing a duplicate")), responses((status = 201, description = "The new alert"), (status = 200, description = "The existing alert, updated (upsert)"), (status = 400, description = "Invalid attributes, or a duplicate (ConflictError with the existing alert)")))]
pub async fn create_alert(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<Response> {
    check_attributes("alert", &body, CREATE)?;
    check_list_attributes("alert", &body, "artifacts", ARTIFACT)?;
    let new: NewAlert = input("alert", &with_observables(body), &[&CREATE[..], &["observables"]].concat())?;
    let upsert = truthy(raw.as_deref(), "upsert");
    match alert::create(&state, &caller, new, upsert).await.map_err(v0_error)? {
        Created::New(a) => Ok((StatusCode::CREATED, axum::Json(alert_object(&a))).into_response()),
        Created::Updated(a) => Ok((StatusCode::OK, axum::Json(alert_object(&a))).into_response()),
    }
}

/// Alerts matching a query: `{"query": Q}`, `range`, `sort`; `X-Total` is the count.
#[utoipa::path(post, path = "/api/alert/_search", tag = "alert", responses((status = 200, description = "Alerts"), (status = 400, description = "Invalid query")))]
pub async fn search_alerts(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<Response> {
    let args = search_args(raw.as_deref(), &body)?;
    let search = Search::parse(Entity::Alert, &args.query, &args.sort, args.range.as_deref())?;
    let page = alert::search(&state, &caller, &search).await?;
    Ok(list_response(page.items.iter().map(alert_object).collect(), page.total))
}

/// Change several alerts: `{"ids": [...], <attributes>}`.
#[utoipa::path(patch, path = "/api/alert/_bulk", tag = "alert", responses((status = 200, description = "All changed"), (status = 207, description = "Some changed"), (status = 400, description = "None changed")))]
pub async fn bulk_update_alerts(State(state): State<AppState>, caller: Caller, ApiJson(mut body): ApiJson<Map<String, Value>>) -> Result<Response> {
    let ids = bulk_ids(&mut body)?;
    check_attributes("alert", &body, UPDATE)?;
    check_list_attributes("alert", &body, "artifacts", ARTIFACT)?;
    let patch: AlertPatch = input("alert", &with_observables(body), &[&UPDATE[..], &["observables"]].concat())?;
    let results = alert::bulk_update(&state, &caller, &ids, patch).await;
    Ok(multi_response(results.into_iter().map(|(id, r)| (id, r.map(|a| alert_object(&a)).map_err(v0_error))).collect()))
}

/// Delete several alerts: `{"ids": [...]}` (TheHive 4's `/api/v1/alert/delete/_bulk`).
#[utoipa::path(post, path = "/api/alert/delete/_bulk", tag = "alert", responses((status = 204, description = "All deleted"), (status = 207, description = "Some deleted"), (status = 400, description = "None deleted")))]
pub async fn bulk_delete_alerts(State(state): State<AppState>, caller: Caller, ApiJson(mut body): ApiJson<Map<String, Value>>) -> Result<Response> {
    let ids = bulk_ids(&mut body)?;
    check_attributes("alert", &body, &[])?;
    let mut results = Vec::with_capacity(ids.len());
    for id in &ids {
        results.push((id.clone(), alert::delete(&state, &caller, id).await.map(|_| json!({ "id": id }))));
    }
    if results.iter().all(|(_, r)| r.is_ok()) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(multi_response(results))
}

/// Merge several alerts into one case: `{"caseId": id or number, "alertIds": [...]}`; answers
/// the case.
#[utoipa::path(post, path = "/api/alert/merge/_bulk", tag = "alert", responses((status = 200, description = "The case"), (status = 400, description = "An alert is already imported, or invalid attributes"), (status = 404, description = "Unknown case or alert")))]
pub async fn bulk_merge_alerts(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    check_attributes("alert", &body, &["caseId", "alertIds"])?;
    let case_id = match body.get("caseId") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(Error::attribute("alert", "caseId", "string", "caseId is required")),
    };
    let ids: Vec<String> = body
        .get("alertIds")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| Error::attribute("alert", "alertIds", "array", "alertIds must be a list of alert ids"))?;
    let case = alert::merge_into_case(&state, &caller, &ids, &case_id).await?;
    Ok(axum::Json(case_object(&case)))
}

/// Sources with an ingestion setting (extension): `[{"source", "upsert"}]`.
#[utoipa::path(get, path = "/api/alert/source", tag = "alert", responses((status = 200, description = "Source settings")))]
pub async fn list_sources(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    Ok(axum::Json(alert::sources(&state, &caller).await?))
}

/// Set a source's ingestion (extension): `{"upsert": true}` makes alerts sent again by this
/// source update the existing one.
#[utoipa::path(put, path = "/api/alert/source/{source}", tag = "alert", params(("source" = String, Path, description = "Alert source")), responses((status = 200, description = "The setting")))]
pub async fn set_source(State(state): State<AppState>, caller: Caller, Path(source): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    check_attributes("alertSource", &body, &["upsert"])?;
    let upsert = body.get("upsert").and_then(Value::as_bool).ok_or_else(|| Error::attribute("alertSource", "upsert", "boolean", "upsert is true or false"))?;
    Ok(axum::Json(alert::set_source(&state, &caller, &source, upsert).await?))
}

/// An alert; `?similarity=1` adds each artifact's `seen` and the `similarCases`.
#[utoipa::path(get, path = "/api/alert/{id}", tag = "alert", params(("id" = String, Path, description = "Alert id"), ("similarity" = Option<bool>, Query, description = "Add seen counts and similar cases")), responses((status = 200, description = "The alert"), (status = 404, description = "Unknown alert")))]
pub async fn get_alert(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Result<impl IntoResponse> {
    let a = alert::get(&state, &caller, &id).await?;
    if truthy(raw.as_deref(), "similarity").unwrap_or(false) {
        let s = alert::with_similarity(&state, &caller, a).await?;
        return Ok(axum::Json(similarity_object(&s)));
    }
    Ok(axum::Json(alert_object(&a)))
}

/// Change an alert; `artifacts` are added to its own (the ones it has are kept once). A
/// followed alert changed after triage becomes Updated.
#[utoipa::path(patch, path = "/api/alert/{id}", tag = "alert", params(("id" = String, Path, description = "Alert id")), responses((status = 200, description = "The alert"), (status = 400, description = "Invalid attributes")))]
pub async fn update_alert(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(mut body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    check_attributes("alert", &body, UPDATE)?;
    drop_stored_files(&state, &caller, &id, &mut body).await?;
    check_list_attributes("alert", &body, "artifacts", ARTIFACT)?;
    let patch: AlertPatch = input("alert", &with_observables(body), &[&UPDATE[..], &["observables"]].concat())?;
    let a = alert::update(&state, &caller, &id, patch).await.map_err(v0_error)?;
    Ok(axum::Json(alert_object(&a)))
}

/// thehive4py sends an alert back as it read it: its file artifacts carry their stored
/// `attachment` instead of `data`. Those the alert has are dropped (they are in it already);
/// another stored file cannot be given this way.
async fn drop_stored_files(state: &AppState, caller: &Caller, id: &str, body: &mut Map<String, Value>) -> Result<()> {
    let Some(Value::Array(list)) = body.get_mut("artifacts") else { return Ok(()) };
    if !list.iter().any(|a| a.get("attachment").is_some_and(|v| !v.is_null())) {
        return Ok(());
    }
    let current = alert::get(state, caller, id).await?;
    let held: Vec<&str> = current.observables.iter().filter_map(|o| o.attachment.as_ref().map(|a| a.id.as_str())).collect();
    let mut kept = Vec::with_capacity(list.len());
    for mut a in std::mem::take(list) {
        let file = a.get("attachment").filter(|v| !v.is_null()).cloned();
        match file {
            None => {
                if let Value::Object(m) = &mut a {
                    m.remove("attachment");
                }
                kept.push(a);
            }
            Some(f) if f.get("id").and_then(Value::as_str).is_some_and(|h| held.contains(&h)) => {}
            Some(_) => {
                return Err(Error::attribute("alert", "artifacts.attachment", "object", "a new file is given as data: filename;content-type;base64"));
            }
        }
    }
    *list = kept;
    Ok(())
}

/// Delete an alert for good (`?force=1`, which thehive4py sends, is accepted and changes
/// nothing).
#[utoipa::path(delete, path = "/api/alert/{id}", tag = "alert", params(("id" = String, Path, description = "Alert id")), responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown alert")))]
pub async fn delete_alert(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    alert::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark as read: Imported when the alert has a case, Ignored otherwise.
#[utoipa::path(post, path = "/api/alert/{id}/markAsRead", tag = "alert", params(("id" = String, Path, description = "Alert id")), responses((status = 200, description = "The alert")))]
pub async fn mark_as_read(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(alert_object(&alert::mark_read(&state, &caller, &id).await?)))
}

/// Mark as unread: Updated when the alert has a case, New otherwise.
#[utoipa::path(post, path = "/api/alert/{id}/markAsUnread", tag = "alert", params(("id" = String, Path, description = "Alert id")), responses((status = 200, description = "The alert")))]
pub async fn mark_as_unread(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(alert_object(&alert::mark_unread(&state, &caller, &id).await?)))
}

#[utoipa::path(post, path = "/api/alert/{id}/follow", tag = "alert", params(("id" = String, Path, description = "Alert id")), responses((status = 200, description = "The alert")))]
pub async fn follow_alert(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(alert_object(&alert::set_follow(&state, &caller, &id, true).await?)))
}

#[utoipa::path(post, path = "/api/alert/{id}/unfollow", tag = "alert", params(("id" = String, Path, description = "Alert id")), responses((status = 200, description = "The alert")))]
pub async fn unfollow_alert(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(alert_object(&alert::set_follow(&state, &caller, &id, false).await?)))
}

/// Make a case from the alert: `{"caseTemplate": name | null}` (else the alert's own template);
/// its artifacts become the case's observables; the alert becomes Imported.
#[utoipa::path(post, path = "/api/alert/{id}/createCase", tag = "alert", params(("id" = String, Path, description = "Alert id")), responses((status = 201, description = "The new case"), (status = 400, description = "Already imported"), (status = 404, description = "Unknown alert or template")))]
pub async fn create_case_from_alert(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    check_attributes("alert", &body, &["caseTemplate"])?;
    let template = super::opt_string("alert", &body, "caseTemplate")?;
    let case = alert::create_case(&state, &caller, &id, template).await?;
    Ok((StatusCode::CREATED, axum::Json(case_object(&case))))
}

/// Merge the alert into a case (id or number): its artifacts the case lacks are added, its
/// description appended; answers the case.
#[utoipa::path(post, path = "/api/alert/{id}/merge/{caseId}", tag = "alert", params(("id" = String, Path, description = "Alert id"), ("caseId" = String, Path, description = "Case id or number")), responses((status = 200, description = "The case"), (status = 400, description = "Already imported")))]
pub async fn merge_alert(State(state): State<AppState>, caller: Caller, Path((id, case_id)): Path<(String, String)>) -> Result<impl IntoResponse> {
    let case = alert::merge_into_case(&state, &caller, std::slice::from_ref(&id), &case_id).await?;
    Ok(axum::Json(case_object(&case)))
}

/// Add artifacts to an alert (TheHive 4): JSON (`data` a value, a list of values, or a file as
/// `name;type;base64`) or multipart (`_json` and an `attachment` file); answers the new ones.
#[utoipa::path(post, path = "/api/alert/{id}/artifact", tag = "alert", params(("id" = String, Path, description = "Alert id")), responses((status = 201, description = "The new artifacts"), (status = 400, description = "Invalid, or already in the alert")))]
pub async fn create_alert_artifact(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, body: JsonOrMultipart) -> Result<Response> {
    alert::check_can_change(&state, &caller, &id).await?;
    let added = match body {
        JsonOrMultipart::Multipart(m) => {
            let upload = read_upload(&state, m).await?;
            let mut json = upload.json;
            json.remove("data");
            let meta = check_attributes("alert_artifact", &json, ARTIFACT).and_then(|_| input::<NewAlertObservable>("alert_artifact", &json, ARTIFACT));
            let meta = match meta {
                Ok(m) => m,
                Err(e) => return crate::core::attachment::discard_on_error(&state, upload.file, Err(e)).await,
            };
            let file = upload.file.ok_or_else(|| Error::attribute("alert_artifact", "attachment", "file", "the multipart body has no file"))?;
            alert::add_file_observable(&state, &caller, &id, meta, file).await
        }
        JsonOrMultipart::Json(json) => {
            check_attributes("alert_artifact", &json, ARTIFACT)?;
            let mut list = Vec::new();
            match json.get("data") {
                Some(Value::Array(values)) => {
                    for v in values {
                        let mut one = json.clone();
                        one.insert("data".into(), v.clone());
                        let mut wrapped = Value::Array(vec![Value::Object(one)]);
                        stringify_values(&mut wrapped);
                        let obj = wrapped.as_array().and_then(|a| a.first()).and_then(Value::as_object).cloned().unwrap_or_default();
                        list.push(input::<NewAlertObservable>("alert_artifact", &obj, ARTIFACT)?);
                    }
                }
                _ => {
                    let mut wrapped = Value::Array(vec![Value::Object(json.clone())]);
                    stringify_values(&mut wrapped);
                    let obj = wrapped.as_array().and_then(|a| a.first()).and_then(Value::as_object).cloned().unwrap_or_default();
                    list.push(input::<NewAlertObservable>("alert_artifact", &obj, ARTIFACT)?);
                }
            }
            alert::add_observables(&state, &caller, &id, list).await
        }
    }
    .map_err(v0_error)?;
    Ok((StatusCode::CREATED, axum::Json(added.iter().map(artifact_object).collect::<Vec<_>>())).into_response())
}

#[utoipa::path(get, path = "/api/alert/artifact/{id}", tag = "alert", params(("id" = String, Path, description = "Artifact id")), responses((status = 200, description = "The artifact"), (status = 404, description = "Unknown artifact")))]
pub async fn get_alert_artifact(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let (_, o) = alert::get_observable(&state, &caller, &id).await?;
    Ok(axum::Json(artifact_object(&o)))
}

/// Change an artifact of an alert: message, TLP, tags, IOC, sighted, ignoreSimilarity.
#[utoipa::path(patch, path = "/api/alert/artifact/{id}", tag = "alert", params(("id" = String, Path, description = "Artifact id")), responses((status = 200, description = "The artifact")))]
pub async fn update_alert_artifact(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let patch: AlertObservablePatch = input("alert_artifact", &body, ARTIFACT_UPDATE)?;
    let (_, o) = alert::update_observable(&state, &caller, &id, patch).await?;
    Ok(axum::Json(artifact_object(&o)))
}

#[utoipa::path(delete, path = "/api/alert/artifact/{id}", tag = "alert", params(("id" = String, Path, description = "Artifact id")), responses((status = 204, description = "Removed")))]
pub async fn delete_alert_artifact(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    alert::delete_observable(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
