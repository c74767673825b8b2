//! TheHive 5's MISP connector routes (thehive4py 2.x `misp.*`): status, synchronisation now, a
//! case exported (the same event updated at each export).

use crate::api::json::ApiJson;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::core::auth::Caller;
use crate::core::error::Result;
use crate::core::state::AppState;
use crate::domain::misp;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status)).routes(routes!(sync_alerts)).routes(routes!(export_case))
}

/// Each connection's health (`OK`/`WARNING`/`ERROR`) and whether a synchronisation runs.
#[utoipa::path(get, path = "/api/v1/connector/misp/status", tag = "v1", responses((status = 200, description = "{status, syncInProgress}")))]
pub async fn status(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    let list = misp::list(&state, &caller).await?;
    let status: Map<String, Value> = list.iter().map(|s| (s.server.name.clone(), json!(s.status))).collect();
    Ok(axum::Json(json!({ "status": status, "syncInProgress": misp::sync_in_progress(&state) })))
}

/// Synchronise every importing connection now (what changed since the last poll).
#[utoipa::path(get, path = "/api/v1/connector/misp/_syncAlerts", tag = "v1", responses((status = 200, description = "One report per connection")))]
pub async fn sync_alerts(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    Ok(axum::Json(misp::sync_all(&state, &caller, false).await?))
}

/// Export a case's IOC observables to a MISP server (body: optional `{"tags", "tlp",
/// "distribution", "caseTags"}`).
#[utoipa::path(post, path = "/api/v1/connector/misp/export/{caseId}/{mispName}", tag = "v1",
    params(("caseId" = String, Path, description = "Case id or number"), ("mispName" = String, Path, description = "MISP connection")),
    responses((status = 201, description = "What the export did"), (status = 400, description = "Export denied or MISP refused")))]
pub async fn export_case(State(state): State<AppState>, caller: Caller, Path((case_id, name)): Path<(String, String)>, ApiJson(req): ApiJson<app::model::MispExportRequest>) -> Result<impl IntoResponse> {
    let r = misp::export(&state, &caller, &case_id, &name, req).await?;
    Ok((StatusCode::CREATED, axum::Json(r)))
}
