//! Tasks, task logs and observables by id in TheHive 5's v1 shape (`/api/v1/task`,
//! `/api/v1/log`, `/api/v1/observable`). An observable id names a case's observable or an
//! alert's.

use app::model::{AlertObservablePatch, ObservablePatch, TaskPatch};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::shape::{self, pick};
use crate::api::json::ApiJson;
use crate::api::support::{JsonOrMultipart, input, read_upload};
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::domain::alert;
use crate::domain::case::{observable, task, task_log};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(bulk_update_tasks))
        .routes(routes!(get_task, update_task, delete_task))
        .routes(routes!(create_log))
        .routes(routes!(action_required))
        .routes(routes!(set_action_required))
        .routes(routes!(set_action_done))
        .routes(routes!(update_log, delete_log))
        .routes(routes!(bulk_update_observables))
        .routes(routes!(get_observable, update_observable, delete_observable))
}

const TASK_UPDATE: &[&str] = &["title", "group", "description", "owner", "status", "flag", "order", "startDate", "endDate", "dueDate"];

fn task_patch(body: &Map<String, Value>) -> Result<TaskPatch> {
    let mut m = pick(body, TASK_UPDATE);
    match body.get("assignee") {
        Some(Value::Null) => {
            m.insert("owner".into(), Value::String(String::new()));
        }
        Some(a) => {
            m.insert("owner".into(), a.clone());
        }
        None => {}
    }
    input("task", &m, TASK_UPDATE)
}

/// `{"<organisation>": bool}`: whether the task asks the organisation for an action.
#[utoipa::path(get, path = "/api/v1/task/{id}/actionRequired", tag = "v1", params(("id" = String, Path, description = "Task id")), responses((status = 200, description = "{organisation: bool}")))]
pub async fn action_required(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let (org, required) = task::action_required(&state, &caller, &id).await?;
    Ok(axum::Json(serde_json::json!({ org: required })))
}

#[utoipa::path(put, path = "/api/v1/task/{id}/actionRequired/{org}", tag = "v1", params(("id" = String, Path, description = "Task id"), ("org" = String, Path, description = "Organisation")), responses((status = 204, description = "Asked")))]
pub async fn set_action_required(State(state): State<AppState>, caller: Caller, Path((id, org)): Path<(String, String)>) -> Result<impl IntoResponse> {
    task::set_action_required(&state, &caller, &id, &org, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/task/{id}/actionDone/{org}", tag = "v1", params(("id" = String, Path, description = "Task id"), ("org" = String, Path, description = "Organisation")), responses((status = 204, description = "Done")))]
pub async fn set_action_done(State(state): State<AppState>, caller: Caller, Path((id, org)): Path<(String, String)>) -> Result<impl IntoResponse> {
    task::set_action_required(&state, &caller, &id, &org, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/task/{id}", tag = "v1", params(("id" = String, Path, description = "Task id")), responses((status = 200, description = "The task")))]
pub async fn get_task(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(shape::task(&task::get(&state, &caller, &id).await?)))
}

#[utoipa::path(patch, path = "/api/v1/task/{id}", tag = "v1", params(("id" = String, Path, description = "Task id")), responses((status = 204, description = "Changed")))]
pub async fn update_task(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    task::update(&state, &caller, &id, task_patch(&body)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/task/{id}", tag = "v1", params(("id" = String, Path, description = "Task id")), responses((status = 204, description = "Removed")))]
pub async fn delete_task(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    task::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change several tasks: `{"ids": [...], <fields>}`; stops at the first error.
#[utoipa::path(patch, path = "/api/v1/task/_bulk", tag = "v1", responses((status = 204, description = "Changed")))]
pub async fn bulk_update_tasks(State(state): State<AppState>, caller: Caller, ApiJson(mut body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let ids = crate::api::support::bulk_ids(&mut body)?;
    let patch = task_patch(&body)?;
    for (_, r) in task::bulk_update(&state, &caller, &ids, patch).await {
        r?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Add a log: JSON `{message}`, or multipart `_json` + a file (`attachment` or `attachments`).
#[utoipa::path(post, path = "/api/v1/task/{id}/log", tag = "v1", params(("id" = String, Path, description = "Task id")), responses((status = 201, description = "The new log")))]
pub async fn create_log(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, body: JsonOrMultipart) -> Result<Response> {
    let (json, file) = match body {
        JsonOrMultipart::Json(j) => (j, None),
        JsonOrMultipart::Multipart(m) => {
            task_log::check_can_add(&state, &caller, &id).await?;
            let upload = read_upload(&state, m).await?;
            (upload.json, upload.file)
        }
    };
    let message = match json.get("message") {
        Some(Value::String(s)) => s.clone(),
        _ => return crate::core::attachment::discard_on_error(&state, file, Err(Error::attribute("log", "message", "string", "message is required"))).await,
    };
    let l = task_log::create(&state, &caller, &id, &message, file).await?;
    Ok((StatusCode::CREATED, axum::Json(shape::log(&l))).into_response())
}

#[utoipa::path(patch, path = "/api/v1/log/{id}", tag = "v1", params(("id" = String, Path, description = "Log id")), responses((status = 204, description = "Changed")))]
pub async fn update_log(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let message = match body.get("message") {
        None | Some(Value::Null) => None,
        Some(Value::String(m)) => Some(m),
        Some(_) => return Err(Error::attribute("log", "message", "string", "message must be a string")),
    };
    let delete = body.get("deleted").and_then(Value::as_bool) == Some(true);
    if message.is_none() && !delete {
        return Err(Error::attribute("log", "message", "string", "give a message, or deleted: true"));
    }
    if let Some(m) = message {
        task_log::update(&state, &caller, &id, m).await?;
    }
    if delete {
        task_log::delete(&state, &caller, &id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/log/{id}", tag = "v1", params(("id" = String, Path, description = "Log id")), responses((status = 204, description = "Removed")))]
pub async fn delete_log(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    task_log::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

const OBSERVABLE_UPDATE: &[&str] = &["message", "tlp", "tags", "ioc", "sighted", "ignoreSimilarity"];

#[utoipa::path(get, path = "/api/v1/observable/{id}", tag = "v1", params(("id" = String, Path, description = "Observable id (of a case or an alert)")), responses((status = 200, description = "The observable")))]
pub async fn get_observable(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    if alert::is_observable_id(&id) {
        let (a, o) = alert::get_observable(&state, &caller, &id).await?;
        return Ok(axum::Json(shape::alert_observable(&o, &a)));
    }
    let mut o = observable::get(&state, &caller, &id).await?;
    observable::with_seen(&caller.store(&state), std::slice::from_mut(&mut o)).await?;
    Ok(axum::Json(shape::observable(&o)))
}

async fn update_one(state: &AppState, caller: &Caller, id: &str, body: &Map<String, Value>) -> Result<()> {
    let m = pick(body, OBSERVABLE_UPDATE);
    if alert::is_observable_id(id) {
        let patch: AlertObservablePatch = input("observable", &m, OBSERVABLE_UPDATE)?;
        alert::update_observable(state, caller, id, patch).await?;
    } else {
        let patch: ObservablePatch = input("observable", &m, OBSERVABLE_UPDATE)?;
        observable::update(state, caller, id, patch).await?;
    }
    Ok(())
}

#[utoipa::path(patch, path = "/api/v1/observable/{id}", tag = "v1", params(("id" = String, Path, description = "Observable id")), responses((status = 204, description = "Changed")))]
pub async fn update_observable(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    update_one(&state, &caller, &id, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(patch, path = "/api/v1/observable/_bulk", tag = "v1", responses((status = 204, description = "Changed")))]
pub async fn bulk_update_observables(State(state): State<AppState>, caller: Caller, ApiJson(mut body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let ids = crate::api::support::bulk_ids(&mut body)?;
    for id in &ids {
        update_one(&state, &caller, id, &body).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/observable/{id}", tag = "v1", params(("id" = String, Path, description = "Observable id")), responses((status = 204, description = "Removed")))]
pub async fn delete_observable(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    if alert::is_observable_id(&id) {
        alert::delete_observable(&state, &caller, &id).await?;
    } else {
        observable::delete(&state, &caller, &id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
