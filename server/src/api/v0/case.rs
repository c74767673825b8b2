//! Cases in TheHive's v0 shape (`/api/case`).

use std::collections::HashMap;

use app::model::{Case, CasePatch, CaseStats, NewCase};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::object;
use super::support::{check_list_attributes, input, list_response, multi_response, query_param, search_args};
use crate::api::json::ApiJson;
use crate::core::auth::Caller;
use crate::domain::case;
use crate::core::error::Result;
use crate::core::query::Entity;
use crate::core::search::Search;
use crate::core::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_case))
        .routes(routes!(search_cases))
        .routes(routes!(bulk_update_cases))
        .routes(routes!(get_case, update_case, delete_case))
        .routes(routes!(force_delete_case))
        .routes(routes!(case_links))
        .routes(routes!(merge_cases))
}

/// Attributes a case may be created with.
const CREATE: &[&str] =
    &["title", "description", "severity", "owner", "startDate", "tags", "flag", "tlp", "pap", "summary", "metrics", "customFields", "template", "tasks"];
/// Attributes of a task given with a new case.
pub const TASK_CREATE: &[&str] = &["title", "group", "description", "owner", "status", "flag", "order", "startDate", "dueDate"];
/// Attributes a case update may change.
const UPDATE: &[&str] = &[
    "title", "description", "severity", "owner", "startDate", "endDate", "tags", "flag", "tlp", "pap", "status", "resolutionStatus",
    "impactStatus", "summary", "metrics", "customFields",
];

/// A case as v0 shows it.
pub fn case_object(c: &Case) -> Value {
    object(c, "case")
}

fn stats_object(s: &CaseStats) -> Value {
    json!({
        "tasks": {
            "total": s.tasks.total, "Waiting": s.tasks.waiting, "InProgress": s.tasks.in_progress,
            "Completed": s.tasks.completed, "Cancel": s.tasks.cancel,
        },
        "artifacts": { "count": s.observables, "ioc": s.iocs },
    })
}

fn with_stats(mut v: Value, stats: &HashMap<String, CaseStats>, id: &str) -> Value {
    if let (Value::Object(m), Some(s)) = (&mut v, stats.get(id)) {
        m.insert("stats".into(), stats_object(s));
    }
    v
}

fn nstats(raw: Option<&str>) -> bool {
    query_param(raw, "nstats").is_some_and(|v| v == "true" || v == "1")
}

/// Create a case; `template` names a case template to apply, `tasks` adds tasks.
#[utoipa::path(post, path = "/api/case", tag = "case", responses((status = 201, description = "The new case"), (status = 400, description = "Invalid attributes"), (status = 404, description = "Unknown template")))]
pub async fn create_case(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    check_list_attributes("case", &body, "tasks", TASK_CREATE)?;
    let input: NewCase = input("case", &body, CREATE)?;
    let c = case::create(&state, &caller, input).await?;
    Ok((StatusCode::CREATED, axum::Json(case_object(&c))))
}

/// Cases matching a query: `{"query": Q}`, `range`, `sort`, `nstats`; `X-Total` is the count.
#[utoipa::path(post, path = "/api/case/_search", tag = "case", responses((status = 200, description = "Cases"), (status = 400, description = "Invalid query")))]
pub async fn search_cases(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Response> {
    let args = search_args(raw.as_deref(), &body)?;
    let search = Search::parse(Entity::Case, &args.query, &args.sort, args.range.as_deref())?;
    let page = case::search(&state, &caller, &search).await?;
    let stats = if args.nstats {
        case::stats(&state, &caller, &page.items.iter().map(|c| c.id.clone()).collect::<Vec<_>>()).await?
    } else {
        HashMap::new()
    };
    let items = page.items.iter().map(|c| with_stats(case_object(c), &stats, &c.id)).collect();
    Ok(list_response(items, page.total))
}

/// Change several cases: `{"ids": [...], <attributes>}`.
#[utoipa::path(patch, path = "/api/case/_bulk", tag = "case", responses((status = 200, description = "All changed"), (status = 207, description = "Some changed"), (status = 400, description = "None changed")))]
pub async fn bulk_update_cases(State(state): State<AppState>, caller: Caller, ApiJson(mut body): ApiJson<Map<String, Value>>) -> Result<Response> {
    let ids = bulk_ids(&mut body)?;
    let patch: CasePatch = input("case", &body, UPDATE)?;
    let results = case::bulk_update(&state, &caller, &ids, patch).await;
    Ok(multi_response(results.into_iter().map(|(id, r)| (id, r.map(|c| case_object(&c)))).collect()))
}

pub use crate::api::support::bulk_ids;


#[utoipa::path(get, path = "/api/case/{id}", tag = "case", params(("id" = String, Path, description = "Case id or number")), responses((status = 200, description = "The case (with `stats` when nstats=true)"), (status = 404, description = "Unknown case")))]
pub async fn get_case(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Result<impl IntoResponse> {
    let c = case::get(&state, &caller, &id).await?;
    let mut v = case_object(&c);
    if nstats(raw.as_deref()) {
        let stats = case::stats(&state, &caller, std::slice::from_ref(&c.id)).await?;
        v = with_stats(v, &stats, &c.id);
    }
    Ok(axum::Json(v))
}

/// Change a case. `status: Resolved` closes it (and its open tasks), `status: Open` reopens it.
#[utoipa::path(patch, path = "/api/case/{id}", tag = "case", params(("id" = String, Path, description = "Case id or number")), responses((status = 200, description = "The case"), (status = 400, description = "Invalid attributes")))]
pub async fn update_case(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<impl IntoResponse> {
    let patch: CasePatch = input("case", &body, UPDATE)?;
    let c = case::update(&state, &caller, &id, patch).await?;
    Ok(axum::Json(case_object(&c)))
}

/// Mark a case deleted (it stays readable).
#[utoipa::path(delete, path = "/api/case/{id}", tag = "case", params(("id" = String, Path, description = "Case id or number")), responses((status = 204, description = "Deleted")))]
pub async fn delete_case(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    case::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a case for good, with its tasks, logs and observables.
#[utoipa::path(delete, path = "/api/case/{id}/force", tag = "case", params(("id" = String, Path, description = "Case id or number")), responses((status = 204, description = "Removed")))]
pub async fn force_delete_case(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    case::force_delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Other cases sharing observables: each case with `linkedWith` (its matching observables).
#[utoipa::path(get, path = "/api/case/{id}/links", tag = "case", params(("id" = String, Path, description = "Case id or number")), responses((status = 200, description = "Linked cases")))]
pub async fn case_links(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let links = case::links(&state, &caller, &id).await?;
    let list: Vec<Value> = links
        .iter()
        .map(|l| {
            let mut v = case_object(&l.case);
            if let Value::Object(m) = &mut v {
                m.insert("linkedWith".into(), Value::Array(l.linked_with.iter().map(super::observable::observable_object).collect()));
                m.insert("linksCount".into(), json!(l.linked_with.len()));
            }
            v
        })
        .collect();
    Ok(axum::Json(list))
}

/// Merge two cases into a new one (TheHive's rules); answers the new case.
#[utoipa::path(post, path = "/api/case/{id}/_merge/{other}", tag = "case", params(("id" = String, Path, description = "First case"), ("other" = String, Path, description = "Second case (or several, comma-separated)")), responses((status = 200, description = "The merged case")))]
pub async fn merge_cases(State(state): State<AppState>, caller: Caller, Path((id, other)): Path<(String, String)>) -> Result<impl IntoResponse> {
    let mut ids = vec![id];
    ids.extend(other.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()));
    // Numbers (#n) resolve to ids.
    let mut resolved = Vec::with_capacity(ids.len());
    for i in &ids {
        resolved.push(case::get(&state, &caller, i).await?.id);
    }
    let c = case::merge(&state, &caller, &resolved).await?;
    Ok(axum::Json(case_object(&c)))
}
