//! Users in TheHive's v0 shape (`roles`, `has-key`; TheHive 4's `organisation` and `profile`).

use app::model::{Permission, Profile, User, UserStatus};
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
use crate::domain::identity::user::{self, NewUser, UserPatch};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user))
        .routes(routes!(search_users))
        .routes(routes!(get_user, update_user, lock_user))
        .routes(routes!(set_password))
        .routes(routes!(change_password))
        .routes(routes!(renew_key))
        .routes(routes!(get_key, revoke_key))
        .routes(routes!(set_membership, remove_membership))
}

/// A user as v0 shows it. With `caller`, the profile is the one of the caller's organisation.
pub fn user_object(user: &User, caller: Option<&Caller>) -> Value {
    let org_id = caller.map(|c| c.org_id.as_str()).unwrap_or(user.default_org.as_str());
    let membership = user.memberships.iter().find(|m| m.org_id == org_id).or(user.memberships.first());
    let profile = membership.map(|m| m.profile);
    let mut v = object(user, "user");
    if let Value::Object(m) = &mut v {
        m.insert("roles".into(), json!(profile.map(Profile::v0_roles).unwrap_or_default()));
        m.insert("has-key".into(), json!(user.has_key));
        m.insert("organisation".into(), json!(membership.map(|m| m.org_name.clone())));
        m.insert("profile".into(), json!(membership.map(|m| m.profile_name())));
        // The caller's own permissions as they hold now (a custom profile's included).
        let permissions: Vec<app::model::Permission> = match caller.and_then(|c| c.permissions.clone()) {
            Some(set) if caller.is_some_and(|c| c.user_id == user.id) => set,
            _ => profile.map(Profile::permissions).unwrap_or_default().to_vec(),
        };
        m.insert("permissions".into(), json!(permissions));
        m.insert("preferences".into(), json!("{}"));
    }
    v
}

use crate::api::support::profile_of;


/// Create a user: `{login, name, password?, roles? | profile?, organisation?}`.
#[utoipa::path(post, path = "/api/user", tag = "user", responses((status = 201, description = "Created user"), (status = 400, description = "Invalid attributes"), (status = 403, description = "Not allowed")))]
pub async fn create_user(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    check_attributes("user", &body, &["login", "name", "password", "roles", "profile", "organisation", "status", "preferences"])?;
    let login = opt_string("user", &body, "login")?.ok_or_else(|| Error::attribute("user", "login", "string", "login is required"))?;
    let name = opt_string("user", &body, "name")?.unwrap_or_else(|| login.clone());
    let input = NewUser {
        login,
        name,
        password: opt_string("user", &body, "password")?,
        organisation: opt_string("user", &body, "organisation")?,
        profile: profile_of(&body)?,
    };
    let user = user::create(&state, &caller, input).await?;
    Ok((StatusCode::CREATED, axum::Json(user_object(&user, Some(&caller)))))
}

/// Users of the caller's organisation.
#[utoipa::path(post, path = "/api/user/_search", tag = "user", responses((status = 200, description = "Users")))]
pub async fn search_users(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    let users = user::list(&state, &caller).await?;
    let list: Vec<Value> = users.iter().map(|u| user_object(u, Some(&caller))).collect();
    Ok(([("X-Total", list.len().to_string())], axum::Json(list)))
}

#[utoipa::path(get, path = "/api/user/{id}", tag = "user", params(("id" = String, Path, description = "User id or login")), responses((status = 200, description = "The user"), (status = 404, description = "Unknown user")))]
pub async fn get_user(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let user = user::get(&state, &caller, &id).await?;
    Ok(axum::Json(user_object(&user, Some(&caller))))
}

/// Update `name`, `status` (Ok|Locked) and the profile (`profile` or `roles`). Nothing else.
#[utoipa::path(patch, path = "/api/user/{id}", tag = "user", params(("id" = String, Path, description = "User id or login")), responses((status = 200, description = "The user"), (status = 403, description = "Not allowed")))]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<impl IntoResponse> {
    check_attributes("user", &body, &["name", "status", "roles", "profile", "preferences"])?;
    let status = match opt_string("user", &body, "status")?.as_deref() {
        None => None,
        Some("Ok") => Some(UserStatus::Ok),
        Some("Locked") => Some(UserStatus::Locked),
        Some(other) => return Err(Error::attribute("user", "status", "string", format!("Unknown status {other} (Ok or Locked)"))),
    };
    let patch = UserPatch { name: opt_string("user", &body, "name")?, status, profile: profile_of(&body)? };
    let user = user::update(&state, &caller, &id, patch).await?;
    Ok(axum::Json(user_object(&user, Some(&caller))))
}

/// TheHive deletes users by locking them: their data keeps its author.
#[utoipa::path(delete, path = "/api/user/{id}", tag = "user", params(("id" = String, Path, description = "User id or login")), responses((status = 204, description = "Locked")))]
pub async fn lock_user(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let patch = UserPatch { status: Some(UserStatus::Locked), ..Default::default() };
    user::update(&state, &caller, &id, patch).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An administrator sets a password: `{"password"}`.
#[utoipa::path(post, path = "/api/user/{id}/password/set", tag = "user", params(("id" = String, Path, description = "User id or login")), responses((status = 204, description = "Password set")))]
pub async fn set_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<impl IntoResponse> {
    check_attributes("user", &body, &["password"])?;
    let password = opt_string("user", &body, "password")?.ok_or_else(|| Error::attribute("user", "password", "string", "password is required"))?;
    let target = user::get(&state, &caller, &id).await?;
    if target.id == caller.user_id {
        return Err(Error::BadRequest("Use password/change, with your current password, to change your own".into()));
    }
    user::set_password(&state, &caller, &id, None, password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user changes their own password: `{"currentPassword", "password"}`.
#[utoipa::path(post, path = "/api/user/{id}/password/change", tag = "user", params(("id" = String, Path, description = "User id or login")), responses((status = 204, description = "Password changed")))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    session: tower_sessions::Session,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<impl IntoResponse> {
    check_attributes("user", &body, &["currentPassword", "password"])?;
    let target = user::get(&state, &caller, &id).await?;
    if target.id != caller.user_id {
        return Err(Error::forbidden("change another user's password this way"));
    }
    let current = opt_string("user", &body, "currentPassword")?;
    let password = opt_string("user", &body, "password")?.ok_or_else(|| Error::attribute("user", "password", "string", "password is required"))?;
    user::set_password(&state, &caller, &id, current, password).await?;
    crate::core::auth::keep_signed_in(&state, &caller, &session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new API key, answered once as text (only its hash is kept).
#[utoipa::path(post, path = "/api/user/{id}/key/renew", tag = "user", params(("id" = String, Path, description = "User id or login")), responses((status = 200, description = "The new key", content_type = "text/plain")))]
pub async fn renew_key(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let key = user::renew_key(&state, &caller, &id).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8"), (axum::http::header::CACHE_CONTROL, "no-store")], key))
}

/// Keys are stored hashed and cannot be shown again: renew to get a new one.
#[utoipa::path(get, path = "/api/user/{id}/key", tag = "user", params(("id" = String, Path, description = "User id or login")), responses((status = 404, description = "Keys are not retrievable")))]
pub async fn get_key(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let user = user::get(&state, &caller, &id).await?;
    if user.id != caller.user_id && !caller.can(Permission::ManageUser) {
        return Err(Error::forbidden("see this user's API key"));
    }
    Err::<StatusCode, _>(Error::NotFound(if user.has_key {
        "API keys are stored hashed and cannot be shown again; renew the key to get a new one".into()
    } else {
        "This user has no API key".into()
    }))
}

#[utoipa::path(delete, path = "/api/user/{id}/key", tag = "user", params(("id" = String, Path, description = "User id or login")), responses((status = 204, description = "Key revoked")))]
pub async fn revoke_key(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    user::revoke_key(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Put a user in an organisation with a profile, or change their profile there: `{"profile"}`
/// (platform administrators).
#[utoipa::path(put, path = "/api/user/{id}/organisation/{org}", tag = "user", params(("id" = String, Path, description = "User id or login"), ("org" = String, Path, description = "Organisation id or name")), responses((status = 200, description = "The user"), (status = 403, description = "Not a platform administrator")))]
pub async fn set_membership(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, org)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<impl IntoResponse> {
    check_attributes("user", &body, &["profile"])?;
    let p = opt_string("user", &body, "profile")?.ok_or_else(|| Error::attribute("user", "profile", "string", "profile is required"))?;
    let u = user::set_membership_named(&state, &caller, &id, &org, &p).await?;
    Ok(axum::Json(user_object(&u, None)))
}

/// Take a user out of an organisation (platform administrators; not their last one).
#[utoipa::path(delete, path = "/api/user/{id}/organisation/{org}", tag = "user", params(("id" = String, Path, description = "User id or login"), ("org" = String, Path, description = "Organisation id or name")), responses((status = 200, description = "The user"), (status = 403, description = "Not a platform administrator")))]
pub async fn remove_membership(State(state): State<AppState>, caller: Caller, Path((id, org)): Path<(String, String)>) -> Result<impl IntoResponse> {
    let u = user::remove_membership(&state, &caller, &id, &org).await?;
    Ok(axum::Json(user_object(&u, None)))
}
