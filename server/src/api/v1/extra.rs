//! The rest of what thehive4py 2.x calls on cases, alerts, tasks and observables: timeline
//! events, similar observables, observable merge, file downloads, and shares.
//!
//! Shares: Waggle keeps every case in one organisation (tenants are isolated completely), so a
//! case, task or observable is shared with no other organisation. Listing shares answers that
//! (an empty list: TheHive leaves the caller's own organisation out); sharing with another
//! organisation is refused with a 400 that says to give that organisation's users a
//! membership instead.

use app::model::Permission;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::shape::{self, pick};
use crate::api::json::ApiJson;
use crate::api::support::{input, query_param};
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::domain::alert::{self, similarity::{self, Holder}};
use crate::domain::case::event::{self, CustomEvent, EventInput};
use crate::domain::case::{self, observable, task};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_event))
        .routes(routes!(update_event, delete_event))
        .routes(routes!(case_similar_observables))
        .routes(routes!(alert_similar_observables))
        .routes(routes!(merge_observables))
        .routes(routes!(download_observable_file))
        .routes(routes!(case_shares, share_case, set_case_shares, unshare_case))
        .routes(routes!(remove_share))
        .routes(routes!(task_shares, share_task, unshare_task))
        .routes(routes!(share_observable, unshare_observable))
        .routes(routes!(unlink_alert))
        .routes(routes!(organisation_links, bulk_link_organisations))
        .routes(routes!(link_organisation, unlink_organisation))
        .routes(routes!(sharing_profiles))
}

/// Unlink an alert from a case: the alert goes back to triage.
#[utoipa::path(delete, path = "/api/v1/case/{id}/alert/{alertId}", tag = "v1", params(("id" = String, Path, description = "Case id or number"), ("alertId" = String, Path, description = "Alert id")), responses((status = 204, description = "Unlinked"), (status = 400, description = "Not linked to that case")))]
pub async fn unlink_alert(State(state): State<AppState>, caller: Caller, Path((id, alert_id)): Path<(String, String)>) -> Result<StatusCode> {
    alert::unlink_case(&state, &caller, &alert_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Organisation links (TheHive 5's sharing between organisations): none in Waggle's
/// single-owner model.
#[utoipa::path(get, path = "/api/v1/organisation/{id}/links", tag = "v1", params(("id" = String, Path, description = "Organisation id or name")), responses((status = 200, description = "[]: organisations are not linked")))]
pub async fn organisation_links(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    crate::domain::identity::org::get(&state, &caller, &id).await?;
    Ok(axum::Json(Vec::<Value>::new()))
}

#[utoipa::path(put, path = "/api/v1/organisation/{id}/links", tag = "v1", params(("id" = String, Path, description = "Organisation id or name")), responses((status = 204, description = "No links (an empty list)"), (status = 400, description = "Organisations are not linked")))]
pub async fn bulk_link_organisations(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<StatusCode> {
    caller.require(Permission::ManageOrganisation, "link organisations")?;
    crate::domain::identity::org::get(&state, &caller, &id).await?;
    if body.get("links").and_then(Value::as_array).is_some_and(|l| !l.is_empty()) {
        return Err(not_shared());
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/organisation/{id}/link/{other}", tag = "v1", params(("id" = String, Path, description = "Organisation"), ("other" = String, Path, description = "The other organisation")), responses((status = 400, description = "Organisations are not linked")))]
pub async fn link_organisation(State(state): State<AppState>, caller: Caller, Path((id, other)): Path<(String, String)>) -> Result<StatusCode> {
    caller.require(Permission::ManageOrganisation, "link organisations")?;
    crate::domain::identity::org::get(&state, &caller, &id).await?;
    crate::domain::identity::org::get(&state, &caller, &other).await?;
    Err(not_shared())
}

#[utoipa::path(delete, path = "/api/v1/organisation/{id}/link/{other}", tag = "v1", params(("id" = String, Path, description = "Organisation"), ("other" = String, Path, description = "The other organisation")), responses((status = 204, description = "Not linked")))]
pub async fn unlink_organisation(State(state): State<AppState>, caller: Caller, Path((id, other)): Path<(String, String)>) -> Result<StatusCode> {
    caller.require(Permission::ManageOrganisation, "link organisations")?;
    crate::domain::identity::org::get(&state, &caller, &id).await?;
    crate::domain::identity::org::get(&state, &caller, &other).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sharing profiles: none (cases are not shared).
#[utoipa::path(get, path = "/api/v1/sharingProfile", tag = "v1", responses((status = 200, description = "[]")))]
pub async fn sharing_profiles(_caller: Caller) -> impl IntoResponse {
    axum::Json(Vec::<Value>::new())
}

pub fn event_object(e: &CustomEvent) -> Value {
    let mut v = json!({
        "_id": e.id, "_type": "CustomEvent", "_createdBy": e.created_by, "_createdAt": e.created_at,
        "date": e.date, "title": e.title, "extraData": {},
    });
    if let Some(end) = e.end_date {
        v["endDate"] = json!(end);
    }
    if let Some(d) = &e.description {
        v["description"] = json!(d);
    }
    v
}

const EVENT_KEYS: &[&str] = &["date", "endDate", "title", "description"];

#[utoipa::path(post, path = "/api/v1/case/{id}/customEvent", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 201, description = "The event")))]
pub async fn create_event(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let input: EventInput = input("customEvent", &pick(&body, EVENT_KEYS), EVENT_KEYS)?;
    let e = event::create(&state, &caller, &id, input).await?;
    Ok((StatusCode::CREATED, axum::Json(event_object(&e))))
}

#[utoipa::path(patch, path = "/api/v1/customEvent/{id}", tag = "v1", params(("id" = String, Path, description = "Event id")), responses((status = 204, description = "Changed")))]
pub async fn update_event(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let input: EventInput = input("customEvent", &pick(&body, EVENT_KEYS), EVENT_KEYS)?;
    event::update(&state, &caller, &id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/customEvent/{id}", tag = "v1", params(("id" = String, Path, description = "Event id")), responses((status = 204, description = "Removed")))]
pub async fn delete_event(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    event::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The observables of `id` (a case or an alert) that `other` (a case or an alert) has too.
async fn similar(state: &AppState, caller: &Caller, id: &str, other: &str) -> Result<Vec<Value>> {
    let (of, them) = (Holder::find(state, caller, id).await?, Holder::find(state, caller, other).await?);
    let shared = similarity::shared_with(&of, &them);
    Ok(match &of {
        Holder::Case(list) => shared.into_iter().map(|i| shape::observable(&list[i])).collect(),
        Holder::Alert(a) => shared.into_iter().map(|i| shape::alert_observable(&a.observables[i], a)).collect(),
    })
}

#[utoipa::path(get, path = "/api/v1/case/{id}/similar/{other}/observables", tag = "v1", params(("id" = String, Path, description = "Case id or number"), ("other" = String, Path, description = "Another case or an alert")), responses((status = 200, description = "The case's observables the other has too")))]
pub async fn case_similar_observables(State(state): State<AppState>, caller: Caller, Path((id, other)): Path<(String, String)>) -> Result<impl IntoResponse> {
    case::get(&state, &caller, &id).await?;
    Ok(axum::Json(similar(&state, &caller, &id, &other).await?))
}

#[utoipa::path(get, path = "/api/v1/alert/{id}/similar/{other}/observables", tag = "v1", params(("id" = String, Path, description = "Alert id"), ("other" = String, Path, description = "A case or another alert")), responses((status = 200, description = "The alert's observables the other has too")))]
pub async fn alert_similar_observables(State(state): State<AppState>, caller: Caller, Path((id, other)): Path<(String, String)>) -> Result<impl IntoResponse> {
    alert::get(&state, &caller, &id).await?;
    Ok(axum::Json(similar(&state, &caller, &id, &other).await?))
}

/// Merge a case's duplicate observables: Waggle refuses duplicates when they are added, so
/// there is never one to merge; answers how many were left as they are.
#[utoipa::path(post, path = "/api/v1/case/{id}/observable/_merge", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 200, description = "{untouched, updated, deleted}")))]
pub async fn merge_observables(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    caller.require(Permission::ManageObservable, "merge observables")?;
    let c = case::get(&state, &caller, &id).await?;
    let n = observable::list_for_case(&state, &caller, &c.id).await?.len();
    Ok(axum::Json(json!({"untouched": n, "updated": 0, "deleted": 0})))
}

fn as_zip(raw: Option<&str>) -> bool {
    query_param(raw, "asZip").is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1"))
}

/// An observable's file (`?asZip=True`: in a ZIP protected with the password `malware`).
#[utoipa::path(get, path = "/api/v1/observable/{id}/attachment/{attachmentId}/download", tag = "v1", params(("id" = String, Path, description = "Observable id"), ("attachmentId" = String, Path, description = "Attachment id (SHA-256)"), ("asZip" = Option<bool>, Query, description = "In a password-protected ZIP")), responses((status = 200, description = "The file")))]
pub async fn download_observable_file(State(state): State<AppState>, caller: Caller, Path((id, attachment_id)): Path<(String, String)>, RawQuery(raw): RawQuery) -> Result<Response> {
    let att = if alert::is_observable_id(&id) { alert::get_observable(&state, &caller, &id).await?.1.attachment } else { observable::get(&state, &caller, &id).await?.attachment };
    let att = att.filter(|a| a.id == attachment_id).ok_or_else(|| Error::not_found("attachment", &attachment_id))?;
    if as_zip(raw.as_deref()) {
        crate::api::download::zip(&state, &caller, &att.id, Some(&att.name)).await
    } else {
        crate::api::download::file(&state, &caller, &att.id, Some(&att.name)).await
    }
}


fn not_shared() -> Error {
    Error::BadRequest(
        "Waggle keeps each case in one organisation (tenants are isolated): it cannot be shared with another organisation; \
         give that organisation's users a membership of this one instead"
            .into(),
    )
}

/// The organisations a body names other than the caller's.
fn others(body: &Map<String, Value>, caller: &Caller) -> bool {
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string).or_else(|| x.get("organisation").or_else(|| x.get("organisationName")).and_then(Value::as_str).map(str::to_string)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut all = Vec::new();
    for k in ["shares", "organisations"] {
        if let Some(v) = body.get(k) {
            all.extend(names(v));
        }
    }
    all.iter().any(|o| *o != caller.org_name && *o != caller.org_id)
}

/// A case's shares: none (see the module's note). An observable id is accepted too
/// (thehive4py's `observable.list_shares` calls this route).
#[utoipa::path(get, path = "/api/v1/case/{id}/shares", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 200, description = "[]: cases are not shared")))]
pub async fn case_shares(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    if case::get(&state, &caller, &id).await.is_err() {
        if alert::is_observable_id(&id) {
            alert::get_observable(&state, &caller, &id).await?;
        } else {
            observable::get(&state, &caller, &id).await?;
        }
    }
    Ok(axum::Json(Vec::<Value>::new()))
}

async fn share_answer(state: &AppState, caller: &Caller, id: &str, body: &Map<String, Value>) -> Result<Vec<Value>> {
    caller.require(Permission::ManageCase, "share cases")?;
    case::get(state, caller, id).await?;
    if others(body, caller) {
        return Err(not_shared());
    }
    Ok(Vec::new())
}

#[utoipa::path(post, path = "/api/v1/case/{id}/shares", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 400, description = "Cases are not shared with other organisations")))]
pub async fn share_case(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    Ok(axum::Json(share_answer(&state, &caller, &id, &body).await?))
}

#[utoipa::path(put, path = "/api/v1/case/{id}/shares", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 400, description = "Cases are not shared with other organisations")))]
pub async fn set_case_shares(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    Ok(axum::Json(share_answer(&state, &caller, &id, &body).await?))
}

/// Unsharing: nothing is shared, so nothing to do; the caller's own organisation cannot be
/// removed (400, as TheHive).
#[utoipa::path(delete, path = "/api/v1/case/{id}/shares", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 204, description = "Nothing shared")))]
pub async fn unshare_case(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    caller.require(Permission::ManageCase, "share cases")?;
    case::get(&state, &caller, &id).await?;
    let own = body.get("organisations").and_then(Value::as_array).is_some_and(|a| a.iter().any(|o| o.as_str() == Some(caller.org_name.as_str())));
    if own {
        return Err(Error::BadRequest("The owning organisation cannot be removed from its own case".into()));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/case/share/{id}", tag = "v1", params(("id" = String, Path, description = "Share id")), responses((status = 404, description = "No such share")))]
pub async fn remove_share(_caller: Caller, Path(id): Path<String>) -> Result<StatusCode> {
    Err(Error::not_found("share", &id))
}

#[utoipa::path(get, path = "/api/v1/task/{id}/shares", tag = "v1", params(("id" = String, Path, description = "Task id")), responses((status = 200, description = "[]: tasks are not shared")))]
pub async fn task_shares(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    task::get(&state, &caller, &id).await?;
    Ok(axum::Json(Vec::<Value>::new()))
}

#[utoipa::path(post, path = "/api/v1/task/{id}/shares", tag = "v1", params(("id" = String, Path, description = "Task id")), responses((status = 400, description = "Tasks are not shared with other organisations")))]
pub async fn share_task(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<StatusCode> {
    caller.require(Permission::ManageTask, "share tasks")?;
    task::get(&state, &caller, &id).await?;
    if others(&body, &caller) { Err(not_shared()) } else { Ok(StatusCode::NO_CONTENT) }
}

#[utoipa::path(delete, path = "/api/v1/task/{id}/shares", tag = "v1", params(("id" = String, Path, description = "Task id")), responses((status = 204, description = "Nothing shared")))]
pub async fn unshare_task(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode> {
    caller.require(Permission::ManageTask, "share tasks")?;
    task::get(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn some_observable(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    if alert::is_observable_id(id) {
        alert::get_observable(state, caller, id).await?;
    } else {
        observable::get(state, caller, id).await?;
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/observable/{id}/shares", tag = "v1", params(("id" = String, Path, description = "Observable id")), responses((status = 400, description = "Observables are not shared with other organisations")))]
pub async fn share_observable(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<StatusCode> {
    caller.require(Permission::ManageObservable, "share observables")?;
    some_observable(&state, &caller, &id).await?;
    if others(&body, &caller) { Err(not_shared()) } else { Ok(StatusCode::NO_CONTENT) }
}

#[utoipa::path(delete, path = "/api/v1/observable/{id}/shares", tag = "v1", params(("id" = String, Path, description = "Observable id")), responses((status = 204, description = "Nothing shared")))]
pub async fn unshare_observable(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode> {
    caller.require(Permission::ManageObservable, "share observables")?;
    some_observable(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
