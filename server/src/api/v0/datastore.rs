//! Downloads of stored files: as they are (`/api/datastore/{hash}`) or in a ZIP archive
//! protected with the password `malware` (`/api/datastorezip/{hash}`), as TheHive serves
//! samples. Only files the caller's organisation holds; never rendered by the browser.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::support::query_param;
use crate::api::download;
use crate::core::auth::Caller;
use crate::core::error::Result;
use crate::core::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_file)).routes(routes!(get_zip))
}

/// A stored file, as an attachment (`Content-Disposition: attachment`, `nosniff`, sandbox CSP).
#[utoipa::path(get, path = "/api/datastore/{id}", tag = "attachment", params(("id" = String, Path, description = "SHA-256 of the file"), ("name" = Option<String>, Query, description = "Download name")), responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 404, description = "Not a file of this organisation")))]
pub async fn get_file(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Result<Response> {
    download::file(&state, &caller, &id, query_param(raw.as_deref(), "name").as_deref()).await
}

/// A stored file in a ZIP archive protected with the password `malware` (ZipCrypto: every
/// unzip tool opens it).
#[utoipa::path(get, path = "/api/datastorezip/{id}", tag = "attachment", params(("id" = String, Path, description = "SHA-256 of the file"), ("name" = Option<String>, Query, description = "Name of the file in the archive")), responses((status = 200, description = "<name>.zip", content_type = "application/zip"), (status = 404, description = "Not a file of this organisation")))]
pub async fn get_zip(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Result<Response> {
    download::zip(&state, &caller, &id, query_param(raw.as_deref(), "name").as_deref()).await
}
