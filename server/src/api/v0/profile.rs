//! Profiles (`/api/profile`, as TheHive 4 names them): the built-in ones and custom ones,
//! `{"name", "permissions": ["manageCase", ...]}`.

use app::model::{Permission, Profile};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_attributes, object, opt_string};
use crate::api::json::ApiJson;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::domain::identity::profile;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_profiles, create_profile)).routes(routes!(update_profile, delete_profile))
}

fn permissions_of(body: &Map<String, Value>) -> Result<Vec<Permission>> {
    let bad = || Error::attribute("profile", "permissions", "array", "a list of permission names (manageCase, manageAlert...)");
    let list = body.get("permissions").and_then(Value::as_array).ok_or_else(bad)?;
    list.iter().map(|v| v.as_str().and_then(Permission::parse).ok_or_else(bad)).collect()
}

/// Every profile: the built-in ones (`builtin: true`) and the custom ones.
#[utoipa::path(get, path = "/api/profile", tag = "profile", responses((status = 200, description = "Profiles")))]
pub async fn list_profiles(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    let mut out: Vec<Value> = Profile::ALL
        .into_iter()
        .map(|p| json!({ "name": p.as_str(), "permissions": p.permissions(), "builtin": true }))
        .collect();
    for p in profile::list(&state, &caller).await? {
        let mut v = object(p, "profile");
        if let Value::Object(m) = &mut v {
            m.insert("builtin".into(), json!(false));
        }
        out.push(v);
    }
    Ok(axum::Json(out))
}

/// Make a custom profile (platform administrators).
#[utoipa::path(post, path = "/api/profile", tag = "profile", responses((status = 201, description = "Created"), (status = 403, description = "Not a platform administrator")))]
pub async fn create_profile(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    check_attributes("profile", &body, &["name", "permissions"])?;
    let name = opt_string("profile", &body, "name")?.ok_or_else(|| Error::attribute("profile", "name", "string", "name is required"))?;
    let p = profile::create(&state, &caller, &name, &permissions_of(&body)?).await?;
    Ok((StatusCode::CREATED, axum::Json(object(p, "profile"))))
}

/// Change a custom profile's permissions (platform administrators).
#[utoipa::path(patch, path = "/api/profile/{name}", tag = "profile", params(("name" = String, Path, description = "Profile name")), responses((status = 200, description = "The profile")))]
pub async fn update_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<impl IntoResponse> {
    check_attributes("profile", &body, &["permissions"])?;
    let p = profile::update(&state, &caller, &name, &permissions_of(&body)?).await?;
    Ok(axum::Json(object(p, "profile")))
}

/// Delete a custom profile nobody holds (platform administrators).
#[utoipa::path(delete, path = "/api/profile/{name}", tag = "profile", params(("name" = String, Path, description = "Profile name")), responses((status = 204, description = "Deleted")))]
pub async fn delete_profile(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<impl IntoResponse> {
    profile::delete(&state, &caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
