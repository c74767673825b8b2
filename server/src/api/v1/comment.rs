//! Comments on cases and alerts, and case pages, in TheHive 5's v1 shape.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::shape::pick;
use crate::api::json::ApiJson;
use crate::api::support::{input, opt_string};
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::domain::collab::comment::{self, Comment, On};
use crate::domain::case::page::{self, CasePage, PageInput};
use crate::domain::case::page_template::{self, PageTemplate};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(comment_case))
        .routes(routes!(comment_alert))
        .routes(routes!(update_comment, delete_comment))
        .routes(routes!(create_page))
        .routes(routes!(update_page, delete_page))
        .routes(routes!(create_page_template))
        .routes(routes!(update_page_template, delete_page_template))
        .routes(routes!(link_page_templates))
}

/// A comment as TheHive 5 shows it: `createdBy`/`createdAt` without the underscore.
pub fn comment_object(c: &Comment) -> Value {
    let mut v = json!({
        "_id": c.id, "_type": "Comment", "createdBy": c.created_by, "createdAt": c.created_at,
        "message": c.message, "isEdited": c.is_edited, "extraData": {}, "external": false,
    });
    if let (Some(at), Some(by)) = (c.updated_at, &c.updated_by) {
        v["updatedAt"] = json!(at);
        v["updatedBy"] = json!(by);
    }
    v
}

pub fn page_object(p: &CasePage) -> Value {
    let mut v = json!({
        "_id": p.id, "_type": "CasePage", "_createdBy": p.created_by, "_createdAt": p.created_at,
        "title": p.title, "content": p.content, "order": p.order, "category": p.category, "extraData": {},
    });
    if let (Some(at), Some(by)) = (p.updated_at, &p.updated_by) {
        v["_updatedAt"] = json!(at);
        v["_updatedBy"] = json!(by);
    }
    v
}

fn message(body: &Map<String, Value>) -> Result<String> {
    opt_string("comment", body, "message")?.ok_or_else(|| Error::attribute("comment", "message", "string", "message is required"))
}

#[utoipa::path(post, path = "/api/v1/case/{id}/comment", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 201, description = "The comment")))]
pub async fn comment_case(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let c = comment::create(&state, &caller, On::Case, &id, &message(&body)?).await?;
    Ok((StatusCode::CREATED, axum::Json(comment_object(&c))))
}

#[utoipa::path(post, path = "/api/v1/alert/{id}/comment", tag = "v1", params(("id" = String, Path, description = "Alert id")), responses((status = 201, description = "The comment")))]
pub async fn comment_alert(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let c = comment::create(&state, &caller, On::Alert, &id, &message(&body)?).await?;
    Ok((StatusCode::CREATED, axum::Json(comment_object(&c))))
}

#[utoipa::path(patch, path = "/api/v1/comment/{id}", tag = "v1", params(("id" = String, Path, description = "Comment id")), responses((status = 204, description = "Changed")))]
pub async fn update_comment(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    comment::update(&state, &caller, &id, &message(&body)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/comment/{id}", tag = "v1", params(("id" = String, Path, description = "Comment id")), responses((status = 204, description = "Removed")))]
pub async fn delete_comment(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    comment::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

const PAGE_KEYS: &[&str] = &["title", "content", "order", "category"];

#[utoipa::path(post, path = "/api/v1/case/{id}/page", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 201, description = "The page")))]
pub async fn create_page(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let input: PageInput = input("casePage", &pick(&body, PAGE_KEYS), PAGE_KEYS)?;
    let p = page::create(&state, &caller, &id, input).await?;
    Ok((StatusCode::CREATED, axum::Json(page_object(&p))))
}

#[utoipa::path(patch, path = "/api/v1/case/{id}/page/{pageId}", tag = "v1", params(("id" = String, Path, description = "Case id or number"), ("pageId" = String, Path, description = "Page id")), responses((status = 204, description = "Changed")))]
pub async fn update_page(State(state): State<AppState>, caller: Caller, Path((id, page_id)): Path<(String, String)>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let input: PageInput = input("casePage", &pick(&body, PAGE_KEYS), PAGE_KEYS)?;
    page::update(&state, &caller, &id, &page_id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/case/{id}/page/{pageId}", tag = "v1", params(("id" = String, Path, description = "Case id or number"), ("pageId" = String, Path, description = "Page id")), responses((status = 204, description = "Removed")))]
pub async fn delete_page(State(state): State<AppState>, caller: Caller, Path((id, page_id)): Path<(String, String)>) -> Result<impl IntoResponse> {
    page::delete(&state, &caller, &id, &page_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn page_template_object(p: &PageTemplate) -> Value {
    let mut v = json!({
        "_id": p.id, "_type": "PageTemplate", "_createdBy": p.created_by, "_createdAt": p.created_at,
        "title": p.title, "content": p.content, "order": p.order, "category": p.category, "extraData": {},
    });
    if let (Some(at), Some(by)) = (p.updated_at, &p.updated_by) {
        v["_updatedAt"] = json!(at);
        v["_updatedBy"] = json!(by);
    }
    v
}

#[utoipa::path(post, path = "/api/v1/pageTemplate", tag = "v1", responses((status = 201, description = "The page template")))]
pub async fn create_page_template(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let input: PageInput = input("pageTemplate", &pick(&body, PAGE_KEYS), PAGE_KEYS)?;
    let t = page_template::create(&state, &caller, input).await?;
    Ok((StatusCode::CREATED, axum::Json(page_template_object(&t))))
}

#[utoipa::path(patch, path = "/api/v1/pageTemplate/{id}", tag = "v1", params(("id" = String, Path, description = "Page template id")), responses((status = 204, description = "Changed")))]
pub async fn update_page_template(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let input: PageInput = input("pageTemplate", &pick(&body, PAGE_KEYS), PAGE_KEYS)?;
    page_template::update(&state, &caller, &id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/pageTemplate/{id}", tag = "v1", params(("id" = String, Path, description = "Page template id")), responses((status = 204, description = "Removed")))]
pub async fn delete_page_template(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    page_template::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Link page templates to a case template: `{"pageTemplateIds": [...]}` (replaces the links).
#[utoipa::path(put, path = "/api/v1/caseTemplate/{id}/pageTemplate/link", tag = "v1", params(("id" = String, Path, description = "Case template id or name")), responses((status = 204, description = "Linked")))]
pub async fn link_page_templates(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let ids: Vec<String> = body
        .get("pageTemplateIds")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| Error::attribute("caseTemplate", "pageTemplateIds", "array", "pageTemplateIds: a list of page template ids"))?;
    page_template::link(&state, &caller, &id, &ids).await?;
    Ok(StatusCode::NO_CONTENT)
}
