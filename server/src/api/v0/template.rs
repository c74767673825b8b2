//! Case templates (`/api/case/template`, `caseTemplate`), with TheHive's export files.

use app::model::CaseTemplate;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::object;
use super::support::{JsonOrMultipart, content_disposition, list_response, search_args};
use crate::api::json::{ApiJson, parse_json};
use crate::core::auth::Caller;
use crate::domain::case::template;
use crate::core::error::{Error, Result};
use crate::core::query::Entity;
use crate::core::search::Search;
use crate::core::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_template))
        .routes(routes!(search_templates))
        .routes(routes!(import_template))
        .routes(routes!(get_template, update_template, delete_template))
        .routes(routes!(export_template))
}

pub fn template_object(t: &CaseTemplate) -> Value {
    object(t, "caseTemplate")
}

/// Create a template (the body may be a TheHive export file as is).
#[utoipa::path(post, path = "/api/case/template", tag = "caseTemplate", responses((status = 201, description = "The new template"), (status = 400, description = "Invalid attributes or name taken")))]
pub async fn create_template(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Value>) -> Result<impl IntoResponse> {
    let input = template::input_from_json(&body)?;
    let t = template::create(&state, &caller, input).await?;
    Ok((StatusCode::CREATED, axum::Json(template_object(&t))))
}

#[utoipa::path(post, path = "/api/case/template/_search", tag = "caseTemplate", responses((status = 200, description = "Templates"), (status = 400, description = "Invalid query")))]
pub async fn search_templates(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<Response> {
    let args = search_args(raw.as_deref(), &body)?;
    let search = Search::parse(Entity::CaseTemplate, &args.query, &args.sort, args.range.as_deref())?;
    let page = template::search(&state, &caller, &search).await?;
    Ok(list_response(page.items.iter().map(template_object).collect(), page.total))
}

/// Import a TheHive export file (`Case-Template__<name>.json`): the JSON body, or a multipart
/// upload with the file.
#[utoipa::path(post, path = "/api/case/template/_import", tag = "caseTemplate", responses((status = 201, description = "The imported template"), (status = 400, description = "Invalid file or name taken")))]
pub async fn import_template(State(state): State<AppState>, caller: Caller, body: JsonOrMultipart) -> Result<impl IntoResponse> {
    let file: Value = match body {
        JsonOrMultipart::Json(j) => Value::Object(j),
        JsonOrMultipart::Multipart(mut m) => {
            let mut found = None;
            let mut parts = 0;
            while let Some(field) = m.next_field().await.map_err(|e| Error::BadRequest(format!("Invalid multipart body: {}", e.body_text())))? {
                parts += 1;
                if parts > 8 {
                    return Err(Error::BadRequest("Too many parts in the multipart body".into()));
                }
                if field.file_name().is_some() || field.name() == Some("file") {
                    let bytes = field.bytes().await.map_err(|e| Error::BadRequest(format!("Invalid multipart body: {}", e.body_text())))?;
                    found = Some(parse_json::<Value>(&bytes)?);
                    break;
                }
            }
            found.ok_or_else(|| Error::BadRequest("The multipart body has no template file".into()))?
        }
    };
    let t = template::import(&state, &caller, &file).await?;
    Ok((StatusCode::CREATED, axum::Json(template_object(&t))))
}

#[utoipa::path(get, path = "/api/case/template/{id}", tag = "caseTemplate", params(("id" = String, Path, description = "Template id or name")), responses((status = 200, description = "The template")))]
pub async fn get_template(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(template_object(&template::get(&state, &caller, &id).await?)))
}

#[utoipa::path(patch, path = "/api/case/template/{id}", tag = "caseTemplate", params(("id" = String, Path, description = "Template id or name")), responses((status = 200, description = "The template")))]
pub async fn update_template(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Value>) -> Result<impl IntoResponse> {
    let input = template::input_from_json(&body)?;
    Ok(axum::Json(template_object(&template::update(&state, &caller, &id, input).await?)))
}

#[utoipa::path(delete, path = "/api/case/template/{id}", tag = "caseTemplate", params(("id" = String, Path, description = "Template id or name")), responses((status = 204, description = "Removed")))]
pub async fn delete_template(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    template::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The template as a TheHive export file, to download.
#[utoipa::path(get, path = "/api/case/template/{id}/_export", tag = "caseTemplate", params(("id" = String, Path, description = "Template id or name")), responses((status = 200, description = "Case-Template__<name>.json")))]
pub async fn export_template(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response> {
    let t = template::get(&state, &caller, &id).await?;
    let (name, file) = template::export(&t);
    let body = serde_json::to_vec_pretty(&file).map_err(|e| Error::Internal(e.into()))?;
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    h.insert(axum::http::header::CONTENT_DISPOSITION, content_disposition(&name));
    Ok(resp)
}
