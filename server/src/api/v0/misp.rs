//! TheHive's MISP connector (`/api/connector/misp/...`): a case exported to a MISP server (the
//! same event updated at each export), the synchronisation run now, a case's exports.

use crate::api::json::ApiJson;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::core::auth::Caller;
use crate::core::error::Result;
use crate::core::state::AppState;
use crate::domain::misp;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_case))
        .routes(routes!(case_exports))
        .routes(routes!(sync_all))
        .routes(routes!(sync_alerts))
        .routes(routes!(sync_all_alerts))
}

/// Export a case's IOC observables to a MISP server: a new event the first time, the same
/// event updated after (attributes added and removed, tags kept in sync).
#[utoipa::path(post, path = "/api/connector/misp/export/{caseId}/{mispName}", tag = "misp",
    params(("caseId" = String, Path, description = "Case id or number"), ("mispName" = String, Path, description = "MISP connection")),
    responses((status = 201, description = "What the export did"), (status = 207, description = "Exported, some observables refused"), (status = 400, description = "Export denied or MISP refused")))]
pub async fn export_case(State(state): State<AppState>, caller: Caller, Path((case_id, name)): Path<(String, String)>, ApiJson(req): ApiJson<app::model::MispExportRequest>) -> Result<impl IntoResponse> {
    let r = misp::export(&state, &caller, &case_id, &name, req).await?;
    let status = if r.failures.is_empty() { StatusCode::CREATED } else { StatusCode::MULTI_STATUS };
    Ok((status, axum::Json(r)))
}

/// The MISP events a case was exported to, with the time of the last export.
#[utoipa::path(get, path = "/api/connector/misp/export/{caseId}", tag = "misp", params(("caseId" = String, Path, description = "Case id or number")), responses((status = 200, description = "The case's exports")))]
pub async fn case_exports(State(state): State<AppState>, caller: Caller, Path(case_id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(misp::exports_of(&state, &caller, &case_id).await?))
}

/// Synchronise every importing connection now: what changed since the last poll (platform
/// administrators).
#[utoipa::path(get, path = "/api/connector/misp/_syncAll", tag = "misp", responses((status = 200, description = "One report per connection")))]
pub async fn sync_all(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    Ok(axum::Json(misp::sync_all(&state, &caller, false).await?))
}

/// TheHive 3's name for [`sync_all`].
#[utoipa::path(get, path = "/api/connector/misp/_syncAlerts", tag = "misp", responses((status = 200, description = "One report per connection")))]
pub async fn sync_alerts(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    Ok(axum::Json(misp::sync_all(&state, &caller, false).await?))
}

/// Every event again, not only what changed (platform administrators).
#[utoipa::path(get, path = "/api/connector/misp/_syncAllAlerts", tag = "misp", responses((status = 200, description = "One report per connection")))]
pub async fn sync_all_alerts(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    Ok(axum::Json(misp::sync_all(&state, &caller, true).await?))
}
