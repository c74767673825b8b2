//! Organisations (TheHive 4's `/api/organisation`; Cortex spells it `organization`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_attributes, object, opt_string};
use crate::api::json::ApiJson;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::domain::identity::org;
use crate::core::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_org))
        .routes(routes!(search_orgs))
        .routes(routes!(get_org, update_org))
}

/// Create an organisation: `{"name", "description"}` (platform administrators).
#[utoipa::path(post, path = "/api/organisation", tag = "organisation", responses((status = 201, description = "Created"), (status = 403, description = "Not allowed")))]
pub async fn create_org(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    check_attributes("organisation", &body, &["name", "description"])?;
    let name = opt_string("organisation", &body, "name")?.ok_or_else(|| Error::attribute("organisation", "name", "string", "name is required"))?;
    let description = opt_string("organisation", &body, "description")?.unwrap_or_default();
    let o = crate::domain::platform::setup::create_organisation(&state, &caller, &name, &description).await?;
    Ok((StatusCode::CREATED, axum::Json(object(o, "organisation"))))
}

#[utoipa::path(post, path = "/api/organisation/_search", tag = "organisation", responses((status = 200, description = "Organisations")))]
pub async fn search_orgs(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    let list: Vec<Value> = org::list(&state, &caller).await?.into_iter().map(|o| object(o, "organisation")).collect();
    Ok(([("X-Total", list.len().to_string())], axum::Json(list)))
}

#[utoipa::path(get, path = "/api/organisation/{id}", tag = "organisation", params(("id" = String, Path, description = "Id or name")), responses((status = 200, description = "The organisation")))]
pub async fn get_org(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(object(org::get(&state, &caller, &id).await?, "organisation")))
}

#[utoipa::path(patch, path = "/api/organisation/{id}", tag = "organisation", params(("id" = String, Path, description = "Id or name")), responses((status = 200, description = "The organisation")))]
pub async fn update_org(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<impl IntoResponse> {
    check_attributes("organisation", &body, &["description", "name", "locked"])?;
    let locked = match body.get("locked") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(Error::attribute("organisation", "locked", "boolean", "true or false")),
    };
    let patch = org::OrgPatch { description: opt_string("organisation", &body, "description")?, name: opt_string("organisation", &body, "name")?, locked };
    let o = org::update(&state, &caller, &id, patch).await?;
    Ok(axum::Json(object(o, "organisation")))
}
