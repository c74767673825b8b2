//! Files attached to cases, alerts and the organisation, in TheHive 5's v1 shape: upload
//! (multipart, repeated `attachments` parts), list (query step `attachments`), download,
//! delete.

use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::support::read_files;
use crate::core::auth::Caller;
use crate::core::error::Result;
use crate::core::state::AppState;
use crate::domain::collab::file::{self, AttachedFile, Holder, MAX_FILES};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_case_files))
        .routes(routes!(add_alert_files))
        .routes(routes!(add_organisation_files))
        .routes(routes!(download_case_file))
        .routes(routes!(download_alert_file))
        .routes(routes!(delete_case_file))
        .routes(routes!(delete_alert_file))
        .routes(routes!(delete_organisation_file))
        .routes(routes!(download_any))
        .routes(routes!(add_log_files))
        .routes(routes!(delete_log_file))
}

/// Attach files to a task log (repeated `attachments` parts); thehive4py ignores the answer.
#[utoipa::path(post, path = "/api/v1/log/{id}/attachments", tag = "v1", params(("id" = String, Path, description = "Log id")), responses((status = 201, description = "{attachments: [...]}")))]
pub async fn add_log_files(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, m: Multipart) -> Result<impl IntoResponse> {
    add(state, caller, Holder::Log, &id, m).await
}

#[utoipa::path(delete, path = "/api/v1/log/{id}/attachments/{attachmentId}", tag = "v1", params(("id" = String, Path, description = "Log id"), ("attachmentId" = String, Path, description = "Attachment id")), responses((status = 204, description = "Detached")))]
pub async fn delete_log_file(State(state): State<AppState>, caller: Caller, Path((id, aid)): Path<(String, String)>) -> Result<StatusCode> {
    file::delete(&state, &caller, Holder::Log, &id, &aid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A log's `attachments`: its own attachment, then the files attached to it since.
pub async fn with_log_files(state: &AppState, caller: &Caller, mut log: Value) -> Result<Value> {
    let Some(id) = log.get("_id").and_then(Value::as_str).map(str::to_string) else { return Ok(log) };
    let files = file::list(state, caller, Holder::Log, &id).await?;
    if !files.is_empty() {
        let list = log.get_mut("attachments").and_then(Value::as_array_mut).map(std::mem::take).unwrap_or_default();
        let mut list = list;
        list.extend(files.iter().map(file_object));
        log["attachments"] = Value::Array(list);
    }
    Ok(log)
}

/// An attached file as TheHive 5 shows one: the entity's `_id`, the content's `id` (SHA-256).
pub fn file_object(f: &AttachedFile) -> Value {
    json!({
        "_id": f.id, "_type": "Attachment", "_createdBy": f.created_by, "_createdAt": f.created_at,
        "name": f.attachment.name, "hashes": f.attachment.hashes, "size": f.attachment.size,
        "contentType": f.attachment.content_type, "id": f.attachment.id, "extraData": {}, "external": false,
    })
}

async fn add(state: AppState, caller: Caller, holder: Holder, id: &str, m: Multipart) -> Result<impl IntoResponse + use<>> {
    let (_, files) = read_files(&state, m, MAX_FILES).await?;
    let added = file::add(&state, &caller, holder, id, files).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({"attachments": added.iter().map(file_object).collect::<Vec<_>>()}))))
}

#[utoipa::path(post, path = "/api/v1/case/{id}/attachments", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 201, description = "{attachments: [...]}")))]
pub async fn add_case_files(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, m: Multipart) -> Result<impl IntoResponse> {
    add(state, caller, Holder::Case, &id, m).await
}

#[utoipa::path(post, path = "/api/v1/alert/{id}/attachments", tag = "v1", params(("id" = String, Path, description = "Alert id")), responses((status = 201, description = "{attachments: [...]}")))]
pub async fn add_alert_files(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, m: Multipart) -> Result<impl IntoResponse> {
    add(state, caller, Holder::Alert, &id, m).await
}

/// Files of the organisation itself (`canRename` is accepted: names are labels, the content is
/// stored by hash, so two files never clash).
#[utoipa::path(post, path = "/api/v1/attachment", tag = "v1", responses((status = 201, description = "{attachments: [...]}")))]
pub async fn add_organisation_files(State(state): State<AppState>, caller: Caller, m: Multipart) -> Result<impl IntoResponse> {
    let org = caller.org_id.clone();
    add(state, caller, Holder::Organisation, &org, m).await
}

async fn download(state: AppState, caller: Caller, f: AttachedFile) -> Result<Response> {
    crate::api::download::file(&state, &caller, &f.attachment.id, Some(&f.attachment.name)).await
}

#[utoipa::path(get, path = "/api/v1/case/{id}/attachment/{attachmentId}/download", tag = "v1", params(("id" = String, Path, description = "Case id or number"), ("attachmentId" = String, Path, description = "Attachment id or SHA-256")), responses((status = 200, description = "The file")))]
pub async fn download_case_file(State(state): State<AppState>, caller: Caller, Path((id, aid)): Path<(String, String)>) -> Result<Response> {
    let f = file::find(&state, &caller, Holder::Case, &id, &aid).await?;
    download(state, caller, f).await
}

#[utoipa::path(get, path = "/api/v1/alert/{id}/attachment/{attachmentId}/download", tag = "v1", params(("id" = String, Path, description = "Alert id"), ("attachmentId" = String, Path, description = "Attachment id or SHA-256")), responses((status = 200, description = "The file")))]
pub async fn download_alert_file(State(state): State<AppState>, caller: Caller, Path((id, aid)): Path<(String, String)>) -> Result<Response> {
    let f = file::find(&state, &caller, Holder::Alert, &id, &aid).await?;
    download(state, caller, f).await
}

#[utoipa::path(delete, path = "/api/v1/case/{id}/attachment/{attachmentId}", tag = "v1", params(("id" = String, Path, description = "Case id or number"), ("attachmentId" = String, Path, description = "Attachment id")), responses((status = 204, description = "Detached")))]
pub async fn delete_case_file(State(state): State<AppState>, caller: Caller, Path((id, aid)): Path<(String, String)>) -> Result<StatusCode> {
    file::delete(&state, &caller, Holder::Case, &id, &aid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/alert/{id}/attachment/{attachmentId}", tag = "v1", params(("id" = String, Path, description = "Alert id"), ("attachmentId" = String, Path, description = "Attachment id")), responses((status = 204, description = "Detached")))]
pub async fn delete_alert_file(State(state): State<AppState>, caller: Caller, Path((id, aid)): Path<(String, String)>) -> Result<StatusCode> {
    file::delete(&state, &caller, Holder::Alert, &id, &aid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/attachment/{id}", tag = "v1", params(("id" = String, Path, description = "Attachment id")), responses((status = 204, description = "Detached")))]
pub async fn delete_organisation_file(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode> {
    let org = caller.org_id.clone();
    file::delete(&state, &caller, Holder::Organisation, &org, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Any file of the organisation: by attachment id (a case's, an alert's or the
/// organisation's), else by content hash (observables, logs).
#[utoipa::path(get, path = "/api/v1/attachment/{id}/download", tag = "v1", params(("id" = String, Path, description = "Attachment id or SHA-256")), responses((status = 200, description = "The file")))]
pub async fn download_any(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, raw: RawQuery) -> Result<Response> {
    match file::by_id(&state, &caller, &id).await? {
        Some(f) => download(state, caller, f).await,
        None => crate::api::download::file(&state, &caller, &id, crate::api::support::query_param(raw.0.as_deref(), "name").as_deref()).await,
    }
}
