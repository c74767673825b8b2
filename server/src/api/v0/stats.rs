//! Statistics (`POST /api/<model>/_stats`, `POST /api/_stats`): TheHive's aggregations, in
//! TheHive's result shapes, always within the caller's organisation.

use axum::extract::State;
use axum::response::IntoResponse;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::json::ApiJson;
use crate::core::auth::Caller;
use crate::core::error::Result;
use crate::core::query::Entity;
use crate::core::state::AppState;
use crate::core::stats;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(case_stats))
        .routes(routes!(task_stats))
        .routes(routes!(log_stats))
        .routes(routes!(observable_stats))
        .routes(routes!(alert_stats))
        .routes(routes!(job_stats))
        .routes(routes!(audit_stats))
        .routes(routes!(global_stats))
}

async fn run(state: AppState, caller: Caller, entity: Entity, body: Value) -> Result<impl IntoResponse> {
    Ok(axum::Json(stats::stats(&state, &caller, entity, &body).await?))
}

/// Case statistics: `{"query": Q, "stats": [{"_agg": "count"}, {"_agg": "field", "_field": "status"}...]}`.
#[utoipa::path(post, path = "/api/case/_stats", tag = "statistics", responses((status = 200, description = "Aggregation results"), (status = 400, description = "Unknown field or aggregation")))]
pub async fn case_stats(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Value>) -> Result<impl IntoResponse> {
    run(state, caller, Entity::Case, body).await
}

#[utoipa::path(post, path = "/api/case/task/_stats", tag = "statistics", responses((status = 200, description = "Aggregation results")))]
pub async fn task_stats(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Value>) -> Result<impl IntoResponse> {
    run(state, caller, Entity::Task, body).await
}

#[utoipa::path(post, path = "/api/case/task/log/_stats", tag = "statistics", responses((status = 200, description = "Aggregation results")))]
pub async fn log_stats(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Value>) -> Result<impl IntoResponse> {
    run(state, caller, Entity::Log, body).await
}

#[utoipa::path(post, path = "/api/case/artifact/_stats", tag = "statistics", responses((status = 200, description = "Aggregation results")))]
pub async fn observable_stats(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Value>) -> Result<impl IntoResponse> {
    run(state, caller, Entity::Observable, body).await
}

#[utoipa::path(post, path = "/api/alert/_stats", tag = "statistics", responses((status = 200, description = "Aggregation results")))]
pub async fn alert_stats(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Value>) -> Result<impl IntoResponse> {
    run(state, caller, Entity::Alert, body).await
}

/// Analyzer jobs (empty until the analysis engine records jobs).
#[utoipa::path(post, path = "/api/connector/cortex/job/_stats", tag = "statistics", responses((status = 200, description = "Aggregation results")))]
pub async fn job_stats(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Value>) -> Result<impl IntoResponse> {
    run(state, caller, Entity::Job, body).await
}

/// Audit trail statistics (organisation administrators).
#[utoipa::path(post, path = "/api/audit/_stats", tag = "statistics", responses((status = 200, description = "Aggregation results"), (status = 403, description = "Not an organisation administrator")))]
pub async fn audit_stats(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Value>) -> Result<impl IntoResponse> {
    run(state, caller, Entity::Audit, body).await
}

/// Several models at once: `{"stats": [{"model": "case", "query": Q, "stats": [...]}, ...]}`;
/// the results are merged into one object.
#[utoipa::path(post, path = "/api/_stats", tag = "statistics", responses((status = 200, description = "Merged aggregation results")))]
pub async fn global_stats(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Value>) -> Result<impl IntoResponse> {
    Ok(axum::Json(stats::global_stats(&state, &caller, &body).await?))
}
