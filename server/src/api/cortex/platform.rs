//! Cortex's status, sessions and current user.

use std::net::SocketAddr;

use app::model::{User, UserStatus};
use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{CORTEX_VERSION, roles};
use crate::api::json::ApiJson;
use crate::core::auth::{self, Caller};
use crate::core::error::Result;
use crate::core::state::AppState;
use crate::domain::identity::user;
use crate::domain::platform::status;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_status)).routes(routes!(login)).routes(routes!(logout)).routes(routes!(current_user))
}

/// A user as Cortex shows it, with the roles they hold in the organisation they work in.
fn user_object(u: &User, caller: &Caller) -> Value {
    json!({
        "id": u.login, "_id": u.login, "_type": "user",
        "login": u.login, "name": u.name,
        "roles": roles(caller),
        "status": if u.status == UserStatus::Ok { "Ok" } else { "Locked" },
        "organization": caller.org_name,
        "hasKey": u.has_key, "hasPassword": u.has_password,
        "createdAt": u.created_at, "createdBy": u.created_by,
        "updatedAt": u.updated_at, "updatedBy": u.updated_by,
    })
}

/// Versions (`Cortex` among them) and the sign-in methods (public).
#[utoipa::path(get, path = "/cortex/api/status", tag = "cortex", responses((status = 200, description = "Versions and configuration")))]
pub async fn get_status(State(state): State<AppState>) -> impl IntoResponse {
    let s = status::status(&state).await;
    axum::Json(json!({
        "versions": { "Cortex": CORTEX_VERSION, "Waggle": s.version, "SurrealDB": s.database_version },
        "config": {
            "protectDownloadsWith": "malware",
            "authType": s.auth_methods,
            "capabilities": ["authByKey"],
            "ssoAutoLogin": false,
        },
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    user: String,
    password: String,
}

/// Open a session: `{"user", "password"}`; answers the user and sets the session cookie.
#[utoipa::path(post, path = "/cortex/api/login", tag = "cortex", responses((status = 200, description = "The user"), (status = 401, description = "Wrong login or password")))]
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    from: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<impl IntoResponse> {
    let (row, caller) = auth::sign_in(&state, &session, &body.user, &body.password, from.map(|Extension(ConnectInfo(a))| a.ip())).await?;
    Ok(axum::Json(user_object(&row.public(), &caller)))
}

/// Close the session.
#[utoipa::path(get, path = "/cortex/api/logout", tag = "cortex", responses((status = 200, description = "Signed out")))]
pub async fn logout(State(state): State<AppState>, session: Session, parts: Parts) -> Result<impl IntoResponse> {
    let with_certificate = auth::certificate::of_request(&parts, &state.settings.certificates).is_some();
    auth::sign_out(&state, &session, with_certificate, auth::client_addr(&parts)).await?;
    Ok(axum::Json(json!({})))
}

/// The caller, with their Cortex roles in the organisation they work in.
#[utoipa::path(get, path = "/cortex/api/user/current", tag = "cortex", responses((status = 200, description = "The current user"), (status = 401, description = "Not signed in")))]
pub async fn current_user(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    let u = user::get(&state, &caller, &caller.user_id).await?;
    Ok(axum::Json(user_object(&u, &caller)))
}
