//! Alerts in TheHive 5's v1 shape (`/api/v1/alert`): create with observables, change, follow,
//! turn into a case, merge into one, observables.

use app::model::{Alert, AlertPatch, NewAlert, NewAlertObservable};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::shape::{self, pick};
use crate::api::json::ApiJson;
use crate::api::support::{JsonOrMultipart, input, read_upload};
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::domain::alert::{self, Created};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_alert))
        .routes(routes!(bulk_update_alerts))
        .routes(routes!(bulk_delete_alerts))
        .routes(routes!(bulk_merge_alerts))
        .routes(routes!(get_alert, update_alert, delete_alert))
        .routes(routes!(follow_alert))
        .routes(routes!(unfollow_alert))
        .routes(routes!(read_alert))
        .routes(routes!(unread_alert))
        .routes(routes!(promote_alert))
        .routes(routes!(merge_alert))
        .routes(routes!(import_alert))
        .routes(routes!(create_alert_observable))
}

const OBSERVABLE_KEYS: &[&str] = &["dataType", "message", "tlp", "tags", "ioc", "sighted", "ignoreSimilarity", "startDate"];

/// The observables of a v1 list: one per value when `data` is a list.
fn alert_observables(list: &Value) -> Result<Vec<NewAlertObservable>> {
    let Value::Array(items) = list else { return Err(Error::attribute("alert", "observables", "array", "observables must be a list")) };
    let mut out = Vec::new();
    for item in items {
        let Value::Object(o) = item else { return Err(Error::attribute("alert", "observables", "array", "each observable is an object")) };
        let meta: NewAlertObservable = input("observable", &pick(o, OBSERVABLE_KEYS), OBSERVABLE_KEYS)?;
        for value in shape::observable_values(o) {
            out.push(NewAlertObservable { data: Some(value), ..meta.clone() });
        }
    }
    Ok(out)
}

const ALERT_KEYS: &[&str] = &[
    "type", "source", "sourceRef", "title", "description", "date", "severity", "tlp", "pap", "tags", "follow", "caseTemplate",
    "externalLink", "lastSyncDate", "customFields",
];

async fn alert_body(state: &AppState, caller: &Caller, body: &Map<String, Value>, keys: &[&str]) -> Result<Map<String, Value>> {
    let mut m = pick(body, keys);
    if let Some(cf) = body.get("customFields").or_else(|| body.get("customFieldValue")) {
        m.remove("customFields");
        m.insert("cf".into(), cf.clone());
        shape::typed_custom_fields(state, caller, "alert", &mut m, "cf").await?;
    }
    Ok(m)
}

/// Create an alert (with `observables`). A duplicate (type, source, sourceRef) answers 400
/// CreateError, as TheHive does.
#[utoipa::path(post, path = "/api/v1/alert", tag = "v1", responses((status = 201, description = "The new alert"), (status = 400, description = "Invalid, or a duplicate")))]
pub async fn create_alert(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<Response> {
    let m = alert_body(&state, &caller, &body, ALERT_KEYS).await?;
    let mut new: NewAlert = input("alert", &m, ALERT_KEYS)?;
    if let Some(list) = body.get("observables").filter(|v| !v.is_null()) {
        new.observables = alert_observables(list)?;
    }
    match alert::create(&state, &caller, new, Some(false)).await? {
        Created::New(a) | Created::Updated(a) => Ok((StatusCode::CREATED, axum::Json(shape::alert(&a))).into_response()),
    }
}

const UPDATE_KEYS: &[&str] = &["title", "description", "date", "severity", "tlp", "pap", "tags", "follow", "caseTemplate", "externalLink", "lastSyncDate", "customFields"];

async fn alert_patch(state: &AppState, caller: &Caller, body: &Map<String, Value>) -> Result<AlertPatch> {
    let m = alert_body(state, caller, body, UPDATE_KEYS).await?;
    input("alert", &m, UPDATE_KEYS)
}

#[utoipa::path(get, path = "/api/v1/alert/{id}", tag = "v1", params(("id" = String, Path, description = "Alert id")), responses((status = 200, description = "The alert"), (status = 404, description = "Unknown alert")))]
pub async fn get_alert(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(shape::alert(&alert::get(&state, &caller, &id).await?)))
}

#[utoipa::path(patch, path = "/api/v1/alert/{id}", tag = "v1", params(("id" = String, Path, description = "Alert id")), responses((status = 204, description = "Changed")))]
pub async fn update_alert(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let patch = alert_patch(&state, &caller, &body).await?;
    alert::update(&state, &caller, &id, patch).await?;
    if let Some(read) = body.get("read").and_then(Value::as_bool) {
        if read { alert::mark_read(&state, &caller, &id).await? } else { alert::mark_unread(&state, &caller, &id).await? };
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/alert/{id}", tag = "v1", params(("id" = String, Path, description = "Alert id")), responses((status = 204, description = "Deleted")))]
pub async fn delete_alert(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    alert::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(patch, path = "/api/v1/alert/_bulk", tag = "v1", responses((status = 204, description = "Changed")))]
pub async fn bulk_update_alerts(State(state): State<AppState>, caller: Caller, ApiJson(mut body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let ids = crate::api::support::bulk_ids(&mut body)?;
    let patch = alert_patch(&state, &caller, &body).await?;
    for (_, r) in alert::bulk_update(&state, &caller, &ids, patch).await {
        r?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/alert/delete/_bulk", tag = "v1", responses((status = 204, description = "Deleted")))]
pub async fn bulk_delete_alerts(State(state): State<AppState>, caller: Caller, ApiJson(mut body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let ids = crate::api::support::bulk_ids(&mut body)?;
    for id in &ids {
        alert::delete(&state, &caller, id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Merge alerts into a case: `{"caseId", "alertIds"}`; answers the case.
#[utoipa::path(post, path = "/api/v1/alert/merge/_bulk", tag = "v1", responses((status = 200, description = "The case")))]
pub async fn bulk_merge_alerts(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
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
    Ok(axum::Json(shape::case(&case)))
}

#[utoipa::path(post, path = "/api/v1/alert/{id}/follow", tag = "v1", params(("id" = String, Path, description = "Alert id")), responses((status = 204, description = "Followed")))]
pub async fn follow_alert(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    alert::set_follow(&state, &caller, &id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/alert/{id}/unfollow", tag = "v1", params(("id" = String, Path, description = "Alert id")), responses((status = 204, description = "Not followed")))]
pub async fn unfollow_alert(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    alert::set_follow(&state, &caller, &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/alert/{id}/read", tag = "v1", params(("id" = String, Path, description = "Alert id")), responses((status = 204, description = "Read")))]
pub async fn read_alert(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    alert::mark_read(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/alert/{id}/unread", tag = "v1", params(("id" = String, Path, description = "Alert id")), responses((status = 204, description = "Unread")))]
pub async fn unread_alert(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    alert::mark_unread(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Turn an alert into a case (`caseTemplate` optional); answers the case.
#[utoipa::path(post, path = "/api/v1/alert/{id}/case", tag = "v1", params(("id" = String, Path, description = "Alert id")), responses((status = 201, description = "The new case")))]
pub async fn promote_alert(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, body: String) -> Result<impl IntoResponse> {
    // thehive4py sends no body when no template is given.
    let body: Map<String, Value> = if body.trim().is_empty() { Map::new() } else { crate::api::json::parse_json(body.as_bytes())? };
    let template = crate::api::support::opt_string("alert", &body, "caseTemplate")?;
    let case = alert::create_case(&state, &caller, &id, template).await?;
    Ok((StatusCode::CREATED, axum::Json(shape::case(&case))))
}

/// Merge an alert into a case (id or number); answers the case.
#[utoipa::path(post, path = "/api/v1/alert/{id}/merge/{caseId}", tag = "v1", params(("id" = String, Path, description = "Alert id"), ("caseId" = String, Path, description = "Case id or number")), responses((status = 200, description = "The case")))]
pub async fn merge_alert(State(state): State<AppState>, caller: Caller, Path((id, case_id)): Path<(String, String)>) -> Result<impl IntoResponse> {
    let case = alert::merge_into_case(&state, &caller, std::slice::from_ref(&id), &case_id).await?;
    Ok(axum::Json(shape::case(&case)))
}

/// Import an alert into a case (TheHive 5): its observables copied into the case, as a merge.
#[utoipa::path(post, path = "/api/v1/alert/{id}/import/{caseId}", tag = "v1", params(("id" = String, Path, description = "Alert id"), ("caseId" = String, Path, description = "Case id or number")), responses((status = 200, description = "The case")))]
pub async fn import_alert(State(state): State<AppState>, caller: Caller, Path((id, case_id)): Path<(String, String)>) -> Result<impl IntoResponse> {
    let case = alert::merge_into_case(&state, &caller, std::slice::from_ref(&id), &case_id).await?;
    Ok(axum::Json(shape::case(&case)))
}

fn new_observables_of(a: &Alert, before: &[String]) -> Vec<Value> {
    a.observables.iter().filter(|o| !before.contains(&o.id)).map(|o| shape::alert_observable(o, a)).collect()
}

/// Add observables to an alert: JSON (`data` a value or a list) or multipart (`_json` +
/// `attachment`); answers the new ones.
#[utoipa::path(post, path = "/api/v1/alert/{id}/observable", tag = "v1", params(("id" = String, Path, description = "Alert id")), responses((status = 201, description = "The new observables")))]
pub async fn create_alert_observable(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, body: JsonOrMultipart) -> Result<impl IntoResponse> {
    alert::check_can_change(&state, &caller, &id).await?;
    let before: Vec<String> = alert::get(&state, &caller, &id).await?.observables.into_iter().map(|o| o.id).collect();
    match body {
        JsonOrMultipart::Multipart(m) => {
            let upload = read_upload(&state, m).await?;
            let meta: NewAlertObservable = match input("observable", &pick(&upload.json, OBSERVABLE_KEYS), OBSERVABLE_KEYS) {
                Ok(m) => m,
                Err(e) => return crate::core::attachment::discard_on_error(&state, upload.file, Err(e)).await,
            };
            let file = upload.file.ok_or_else(|| Error::attribute("observable", "attachment", "file", "the multipart body has no file"))?;
            alert::add_file_observable(&state, &caller, &id, meta, file).await?;
        }
        JsonOrMultipart::Json(json) => {
            let list = alert_observables(&json!([json]))?;
            if list.is_empty() {
                return Err(Error::attribute("observable", "data", "string", "data is required"));
            }
            alert::add_observables(&state, &caller, &id, list).await?;
        }
    }
    let a = alert::get(&state, &caller, &id).await?;
    Ok((StatusCode::CREATED, axum::Json(new_observables_of(&a, &before))))
}
