//! Status, health, login and logout: the public part of the API, and the current user.

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::user::user_object;
use crate::api::json::ApiJson;
use crate::core::auth::{self, Caller};
use crate::core::error::Result;
use crate::core::state::AppState;
use crate::domain::platform::status;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_status))
        .routes(routes!(get_health))
        .routes(routes!(login))
        .routes(routes!(logout, logout_post))
        .routes(routes!(current_user))
}

/// Versions, connectors and their health, the enabled authentication methods (public).
#[utoipa::path(get, path = "/api/status", tag = "platform", responses((status = 200, description = "Platform status")))]
pub async fn get_status(State(state): State<AppState>) -> impl IntoResponse {
    let s = status::status(&state).await;
    let connector = |name: &str| {
        let c = s.connectors.iter().find(|c| c.name == name);
        json!({
            "enabled": c.is_some_and(|c| c.enabled),
            "status": c.map(|c| c.status).unwrap_or_default(),
            "servers": c.map(|c| c.servers.iter().map(|s| json!({
                "name": s.name, "version": s.version, "status": s.status, "message": s.message,
            })).collect::<Vec<_>>()).unwrap_or_default(),
        })
    };
    axum::Json(json!({
        "versions": { "Waggle": s.version, "TheHive": "3.5.1-compatible", "SurrealDB": s.database_version, "Schema": s.schema_version },
        "connectors": { "cortex": connector(crate::domain::platform::connector::ANALYSIS), "misp": connector(crate::domain::platform::connector::MISP) },
        "health": { "database": "OK", "platform": s.health },
        "config": {
            "protectDownloadsWith": "malware",
            "authType": s.auth_methods,
            "capabilities": ["changePassword", "setPassword", "authByKey"],
            "ssoAutoLogin": false,
            "pollingDuration": 1000,
        },
    }))
}

/// `Ok`, `Warning` or `Error` as text (public).
#[utoipa::path(get, path = "/api/health", tag = "platform", responses((status = 200, description = "Ok | Warning | Error", content_type = "text/plain")))]
pub async fn get_health(State(state): State<AppState>) -> impl IntoResponse {
    let h = status::health(&state).await;
    ([(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8")], h.as_text())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    user: String,
    password: String,
}

/// Open a session: `{"user", "password"}`; answers the user and sets the session cookie.
#[utoipa::path(post, path = "/api/login", tag = "platform", responses((status = 200, description = "The user"), (status = 401, description = "Wrong login or password")))]
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    from: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<impl IntoResponse> {
    let (row, caller) = auth::sign_in(&state, &session, &body.user, &body.password, from.map(|Extension(ConnectInfo(a))| a.ip())).await?;
    Ok(axum::Json(user_object(&row.public(), Some(&caller))))
}

/// Close the session (a client certificate then no longer signs this client in: see
/// `auth::sign_out`).
#[utoipa::path(get, path = "/api/logout", tag = "platform", responses((status = 200, description = "Signed out")))]
pub async fn logout(State(state): State<AppState>, session: Session, parts: Parts) -> Result<impl IntoResponse> {
    let with_certificate = auth::certificate::of_request(&parts, &state.settings.certificates).is_some();
    auth::sign_out(&state, &session, with_certificate, auth::client_addr(&parts)).await?;
    Ok((StatusCode::OK, axum::Json(Value::Object(Default::default()))))
}

/// Close the session (the same as GET, for clients that post).
#[utoipa::path(post, path = "/api/logout", tag = "platform", responses((status = 200, description = "Signed out")))]
pub async fn logout_post(state: State<AppState>, session: Session, parts: Parts) -> Result<impl IntoResponse> {
    logout(state, session, parts).await
}

/// The signed-in user, in the organisation they are working in.
#[utoipa::path(get, path = "/api/user/current", tag = "user", responses((status = 200, description = "The current user"), (status = 401, description = "Not signed in")))]
pub async fn current_user(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    let user = crate::domain::identity::user::get(&state, &caller, &caller.user_id).await?;
    Ok(axum::Json(user_object(&user, Some(&caller))))
}
