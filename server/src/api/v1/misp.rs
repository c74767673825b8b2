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
    OpenApiRouter::new().routes(routes!(status)).routes(routes!(sync_alerts)).routes(routes!(export_case)).routes(routes!(import_case))
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

/// A MISP event file as a new case: multipart `_json` (`{"caseTemplate"}`; TheHive 5's other
/// options do not apply) and the event file (`file`).
#[utoipa::path(post, path = "/api/v1/connector/misp/case/import", tag = "v1", responses((status = 201, description = "The new case"), (status = 400, description = "Not a MISP event, or already imported")))]
pub async fn import_case(State(state): State<AppState>, caller: Caller, req: axum::extract::Request) -> Result<impl IntoResponse> {
    // Who may import is answered before the body is read.
    misp::check_can_import(&caller)?;
    use axum::extract::FromRequest;
    let m = axum::extract::Multipart::from_request(req, &state)
        .await
        .map_err(|e| crate::core::error::Error::BadRequest(format!("Invalid multipart body: {}", e.body_text())))?;
    let upload = crate::api::support::read_upload(&state, m).await?;
    let Some(file) = upload.file else {
        return Err(crate::core::error::Error::BadRequest("The MISP event file is missing (a multipart part named file)".into()));
    };
    let read = tokio::fs::read(crate::core::attachment::content_path(&state, &file.attachment().id)?).await;
    crate::core::attachment::discard(&state, vec![file]).await;
    let bytes = read.map_err(|e| crate::core::error::Error::Internal(anyhow::anyhow!("reading the upload: {e}")))?;
    let event: Value = serde_json::from_slice(&bytes).map_err(|e| crate::core::error::Error::BadRequest(format!("The MISP event file is not JSON: {e}")))?;
    let template = upload.json.get("caseTemplate").and_then(Value::as_str).map(str::to_string);
    let case = misp::import_case(&state, &caller, event, template).await?;
    Ok((StatusCode::CREATED, axum::Json(crate::api::v1::shape::case(&case))))
}
