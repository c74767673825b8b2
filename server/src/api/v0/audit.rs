//! The audit trail (`/api/audit/_search`, `/api/flow`) and the live stream (`/api/stream`),
//! scoped to the caller's organisation.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::object;
use super::support::{list_response, query_param, search_args};
use crate::api::json::ApiJson;
use crate::core::audit;
use crate::core::auth::Caller;
use crate::core::error::Result;
use crate::core::query::Entity;
use crate::core::search::{self, Search};
use crate::core::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_audit))
        .routes(routes!(flow))
        .routes(routes!(open_stream))
        .routes(routes!(stream_status))
        .routes(routes!(read_stream))
        .routes(routes!(security_events))
}

/// The security trail (platform administrators): sign-ins, failed sign-ins with the client's
/// address, changes of passwords, API keys, locks, profiles; `?login=` for one account,
/// `count` (default 100, at most 500).
#[utoipa::path(get, path = "/api/security/events", tag = "audit", params(("login" = Option<String>, Query, description = "One account"), ("count" = Option<usize>, Query, description = "How many")), responses((status = 200, description = "Events, newest first"), (status = 403, description = "Not a platform administrator")))]
pub async fn security_events(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery) -> Result<Response> {
    let login = query_param(raw.as_deref(), "login").filter(|l| !l.is_empty());
    let count = query_param(raw.as_deref(), "count").and_then(|c| c.parse().ok()).unwrap_or(100);
    let events = crate::domain::identity::user::security_events(&state, &caller, login.as_deref(), count).await?;
    Ok(axum::Json(events).into_response())
}

#[utoipa::path(post, path = "/api/audit/_search", tag = "audit", responses((status = 200, description = "Audit entries"), (status = 400, description = "Invalid query")))]
pub async fn search_audit(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<Response> {
    let args = search_args(raw.as_deref(), &body)?;
    let search = Search::parse(Entity::Audit, &args.query, &args.sort, args.range.as_deref())?;
    let page: search::Page<app::model::AuditEntry> = search::run(&caller.store(&state), Entity::Audit, &search, true).await?;
    Ok(list_response(page.items.iter().map(|e| object(e, "audit")).collect(), page.total))
}

/// The latest changes (`?rootId=<case id>` for one case and what is in it; `count`, default
/// 10), grouped by request as the stream shows them.
#[utoipa::path(get, path = "/api/flow", tag = "audit", params(("rootId" = Option<String>, Query, description = "A case id, or any"), ("count" = Option<usize>, Query, description = "How many changes")), responses((status = 200, description = "Changes, newest first")))]
pub async fn flow(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery) -> Result<Response> {
    let root = query_param(raw.as_deref(), "rootId").filter(|r| !r.is_empty() && r != "any");
    let count = query_param(raw.as_deref(), "count").and_then(|c| c.parse().ok()).unwrap_or(10);
    let entries = audit::flow(&state, &caller, root.as_deref(), count).await?;
    let groups: Vec<Value> = audit::group(audit::as_events(&caller.org_id, entries)).into_iter().map(group_json).collect();
    let total = groups.len() as u64;
    Ok(list_response(groups, total))
}

/// Open a live stream of the organisation's changes; answers its id.
#[utoipa::path(post, path = "/api/stream", tag = "audit", responses((status = 200, description = "The stream id")))]
pub async fn open_stream(State(state): State<AppState>, caller: Caller) -> impl IntoResponse {
    axum::Json(Value::String(state.audit.open(&caller)))
}

/// The session's remaining time (TheHive's UI polls it with the stream).
#[utoipa::path(get, path = "/api/stream/status", tag = "audit", responses((status = 200, description = "{remaining, warning}")))]
pub async fn stream_status(State(state): State<AppState>, _caller: Caller) -> impl IntoResponse {
    axum::Json(json!({ "remaining": state.settings.session_minutes * 60, "warning": false }))
}

/// Wait for changes (long poll) and answer them, grouped by request: `[{"base": {...},
/// "summary": {...}}]` (empty when nothing happened in the wait).
#[utoipa::path(get, path = "/api/stream/{id}", tag = "audit", params(("id" = String, Path, description = "Stream id")), responses((status = 200, description = "Changes"), (status = 404, description = "Unknown or expired stream")))]
pub async fn read_stream(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let events = state.audit.read(&caller, &id).await?;
    Ok((StatusCode::OK, axum::Json(audit::group(events).into_iter().map(group_json).collect::<Vec<_>>())))
}

/// A request's changes in TheHive's stream shape: `{"base": {...entry, "object": ...},
/// "summary": {"case_task": {"Creation": 2}}}`.
fn group_json(g: audit::ChangeGroup) -> Value {
    let mut summary = Map::new();
    for (ty, op, n) in g.summary {
        let per_type = summary.entry(ty).or_insert_with(|| json!({}));
        per_type[op.as_str()] = json!(n);
    }
    let mut base = serde_json::to_value(&g.base.entry).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut base {
        m.insert("_id".into(), json!(g.base.entry.id));
        m.insert("_type".into(), json!("audit"));
        m.insert("base".into(), json!(true));
        m.insert("object".into(), g.base.object.clone().unwrap_or_else(|| json!(g.base.entry.details)));
    }
    json!({ "base": base, "summary": summary })
}
