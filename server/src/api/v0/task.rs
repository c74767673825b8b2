//! Tasks (`case_task`) and their logs (`case_task_log`) in TheHive's v0 shape.

use std::collections::HashMap;

use app::model::{Task, NewTask, TaskLog, TaskPatch};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::case::{TASK_CREATE, bulk_ids, case_object};
use super::support::{JsonOrMultipart, input, list_response, multi_response, read_upload, search_args};
use super::{object, opt_string};
use crate::api::json::ApiJson;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::query::Entity;
use crate::core::search::Search;
use crate::core::state::AppState;
use crate::{domain::case, domain::case::task, domain::case::task_log};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_task))
        .routes(routes!(search_tasks))
        .routes(routes!(bulk_update_tasks))
        .routes(routes!(get_task, update_task))
        .routes(routes!(create_log, task_logs))
        .routes(routes!(search_logs))
        .routes(routes!(get_log, update_log, delete_log))
}

const UPDATE: &[&str] = &["title", "group", "description", "owner", "user", "status", "flag", "order", "startDate", "endDate", "dueDate"];

/// A task as v0 shows it (`_parent` is its case).
pub fn task_object(t: &Task) -> Value {
    let mut v = object(t, "case_task");
    if let Value::Object(m) = &mut v {
        m.insert("_parent".into(), Value::String(t.case_id.clone()));
    }
    v
}

/// A log as v0 shows it (`_parent` is its task).
pub fn log_object(l: &TaskLog) -> Value {
    let mut v = object(l, "case_task_log");
    if let Value::Object(m) = &mut v {
        m.insert("_parent".into(), Value::String(l.task_id.clone()));
    }
    v
}

/// TheHive 3 clients say `user` for the owner.
fn task_patch(mut body: Map<String, Value>) -> Result<TaskPatch> {
    if let Some(u) = body.remove("user") {
        if !u.is_null() {
            body.entry("owner").or_insert(u);
        }
    }
    input("case_task", &body, UPDATE)
}

#[utoipa::path(post, path = "/api/case/{id}/task", tag = "task", params(("id" = String, Path, description = "Case id")), responses((status = 201, description = "The new task")))]
pub async fn create_task(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<impl IntoResponse> {
    let input: NewTask = input("case_task", &body, TASK_CREATE)?;
    let t = task::create(&state, &caller, &id, input).await?;
    Ok((StatusCode::CREATED, axum::Json(task_object(&t))))
}

/// Parents of children (`nparent`): the case of each task or observable.
pub async fn parent_cases(state: &AppState, caller: &Caller, ids: impl Iterator<Item = String>) -> Result<HashMap<String, Value>> {
    let mut out = HashMap::new();
    for id in ids {
        if !out.contains_key(&id) {
            if let Some(c) = case::get_in(&caller.store(state), &id).await? {
                out.insert(id, case_object(&c));
            }
        }
    }
    Ok(out)
}

/// Tasks matching a query (`{"_parent": {"_type": "case", "_id": x}}` for a case's tasks).
#[utoipa::path(post, path = "/api/case/task/_search", tag = "task", responses((status = 200, description = "Tasks"), (status = 400, description = "Invalid query")))]
pub async fn search_tasks(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<Response> {
    let args = search_args(raw.as_deref(), &body)?;
    let search = Search::parse(Entity::Task, &args.query, &args.sort, args.range.as_deref())?;
    let page = task::search(&state, &caller, &search).await?;
    let parents = if args.nparent > 0 { parent_cases(&state, &caller, page.items.iter().map(|t| t.case_id.clone())).await? } else { HashMap::new() };
    let items = page
        .items
        .iter()
        .map(|t| {
            let mut v = task_object(t);
            if let (Value::Object(m), Some(p)) = (&mut v, parents.get(&t.case_id)) {
                m.insert("case".into(), p.clone());
            }
            v
        })
        .collect();
    Ok(list_response(items, page.total))
}

#[utoipa::path(patch, path = "/api/case/task/_bulk", tag = "task", responses((status = 200, description = "All changed"), (status = 207, description = "Some changed")))]
pub async fn bulk_update_tasks(State(state): State<AppState>, caller: Caller, ApiJson(mut body): ApiJson<Map<String, Value>>) -> Result<Response> {
    let ids = bulk_ids(&mut body)?;
    let patch = task_patch(body)?;
    let results = task::bulk_update(&state, &caller, &ids, patch).await;
    Ok(multi_response(results.into_iter().map(|(id, r)| (id, r.map(|t| task_object(&t)))).collect()))
}

#[utoipa::path(get, path = "/api/case/task/{id}", tag = "task", params(("id" = String, Path, description = "Task id")), responses((status = 200, description = "The task")))]
pub async fn get_task(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(task_object(&task::get(&state, &caller, &id).await?)))
}

/// Change a task (`status: Cancel` is how thehive4py deletes one).
#[utoipa::path(patch, path = "/api/case/task/{id}", tag = "task", params(("id" = String, Path, description = "Task id")), responses((status = 200, description = "The task")))]
pub async fn update_task(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let patch = task_patch(body)?;
    Ok(axum::Json(task_object(&task::update(&state, &caller, &id, patch).await?)))
}

/// Add a log: JSON `{"message"}`, or multipart with `_json` and an `attachment` file.
#[utoipa::path(post, path = "/api/case/task/{id}/log", tag = "task", params(("id" = String, Path, description = "Task id")), responses((status = 201, description = "The new log"), (status = 413, description = "Attachment too large")))]
pub async fn create_log(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, body: JsonOrMultipart) -> Result<impl IntoResponse> {
    // Nothing is stored for a caller who may not add it.
    task_log::check_can_add(&state, &caller, &id).await?;
    let (json, file) = match body {
        JsonOrMultipart::Json(j) => (j, None),
        JsonOrMultipart::Multipart(m) => {
            let u = read_upload(&state, m).await?;
            (u.json, u.file)
        }
    };
    let message = (|| {
        super::check_attributes("case_task_log", &json, &["message"])?;
        let message = opt_string("case_task_log", &json, "message")?.unwrap_or_default();
        if message.trim().is_empty() && file.is_none() {
            return Err(Error::attribute("case_task_log", "message", "string", "message is required"));
        }
        Ok(message)
    })();
    let message = match message {
        Ok(m) => m,
        Err(e) => return crate::core::attachment::discard_on_error(&state, file, Err(e)).await,
    };
    let l = task_log::create(&state, &caller, &id, &message, file).await?;
    Ok((StatusCode::CREATED, axum::Json(log_object(&l))))
}

/// The logs of a task, newest first.
#[utoipa::path(get, path = "/api/case/task/{id}/log", tag = "task", params(("id" = String, Path, description = "Task id")), responses((status = 200, description = "Logs")))]
pub async fn task_logs(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response> {
    let logs = task_log::list_for_task(&state, &caller, &id).await?;
    let total = logs.len() as u64;
    Ok(list_response(logs.iter().map(log_object).collect(), total))
}

#[utoipa::path(post, path = "/api/case/task/log/_search", tag = "task", responses((status = 200, description = "Logs"), (status = 400, description = "Invalid query")))]
pub async fn search_logs(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<Response> {
    let args = search_args(raw.as_deref(), &body)?;
    let search = Search::parse(Entity::Log, &args.query, &args.sort, args.range.as_deref())?;
    let page = task_log::search(&state, &caller, &search).await?;
    let mut parents: HashMap<String, Value> = HashMap::new();
    if args.nparent > 0 {
        for l in &page.items {
            if !parents.contains_key(&l.task_id) {
                if let Some(t) = task::get_in(&caller.store(&state), &l.task_id).await? {
                    parents.insert(l.task_id.clone(), task_object(&t));
                }
            }
        }
    }
    let items = page
        .items
        .iter()
        .map(|l| {
            let mut v = log_object(l);
            if let (Value::Object(m), Some(p)) = (&mut v, parents.get(&l.task_id)) {
                m.insert("case_task".into(), p.clone());
            }
            v
        })
        .collect();
    Ok(list_response(items, page.total))
}

#[utoipa::path(get, path = "/api/case/task/log/{id}", tag = "task", params(("id" = String, Path, description = "Log id")), responses((status = 200, description = "The log")))]
pub async fn get_log(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(log_object(&task_log::get(&state, &caller, &id).await?)))
}

#[utoipa::path(patch, path = "/api/case/task/log/{id}", tag = "task", params(("id" = String, Path, description = "Log id")), responses((status = 200, description = "The log")))]
pub async fn update_log(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    super::check_attributes("case_task_log", &body, &["message"])?;
    let message = opt_string("case_task_log", &body, "message")?.ok_or_else(|| Error::attribute("case_task_log", "message", "string", "message is required"))?;
    Ok(axum::Json(log_object(&task_log::update(&state, &caller, &id, &message).await?)))
}

/// Mark a log deleted.
#[utoipa::path(delete, path = "/api/case/task/log/{id}", tag = "task", params(("id" = String, Path, description = "Log id")), responses((status = 204, description = "Deleted")))]
pub async fn delete_log(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    task_log::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
