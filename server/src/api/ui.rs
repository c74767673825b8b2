//! The UI's server functions (declared in `app::api`), served under `/ui/`. This adapter binds
//! the request's caller and session into an [`app::api::Backend`] and calls the services.

use std::sync::Arc;

use app::api::{Backend, NewUserInput, UserUpdateInput};
use app::model::*;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::response::IntoResponse;
use leptos::prelude::provide_context;
use tower_sessions::Session;

use crate::auth::{self, Caller, SESSION_ORG};
use crate::error::Error;
use crate::state::AppState;
use crate::{org, status, user};

struct UiBackend {
    state: AppState,
    caller: Result<Caller, ApiError>,
    session: Session,
}

impl UiBackend {
    fn caller(&self) -> Result<&Caller, ApiError> {
        self.caller.as_ref().map_err(Clone::clone)
    }
}

type R<T> = Result<T, ApiError>;

#[async_trait::async_trait]
impl Backend for UiBackend {
    async fn login(&self, login: String, password: String) -> R<CurrentUser> {
        let row = auth::verify_credentials(&self.state, &login, &password).await?;
        let caller = Caller::for_user(&row, None, auth::AuthMethod::Session)?;
        auth::start_session(&self.session, &row).await?;
        Ok(caller.current_user())
    }

    async fn logout(&self) -> R<()> {
        Ok(auth::end_session(&self.session).await?)
    }

    async fn current_user(&self) -> R<CurrentUser> {
        Ok(self.caller()?.current_user())
    }

    async fn switch_org(&self, org: String) -> R<CurrentUser> {
        let caller = self.caller()?;
        let row = user::row(&self.state.store, &caller.user_id).await?.ok_or_else(|| Error::Authentication("Authentication required".into()))?;
        let switched = Caller::for_user(&row, Some(&org), auth::AuthMethod::Session)?;
        self.session
            .insert(SESSION_ORG, &switched.org_id)
            .await
            .map_err(|e| Error::Internal(anyhow::anyhow!("session: {e}")))?;
        Ok(switched.current_user())
    }

    async fn app_status(&self) -> R<AppStatus> {
        self.caller()?;
        Ok(status::status(&self.state).await)
    }

    async fn update_me(&self, name: String) -> R<CurrentUser> {
        let caller = self.caller()?;
        let patch = user::UserPatch { name: Some(name.clone()), ..Default::default() };
        user::update(&self.state, caller, &caller.user_id, patch).await?;
        let mut me = caller.current_user();
        me.name = name.trim().to_string();
        Ok(me)
    }

    async fn change_password(&self, current: String, new: String) -> R<()> {
        let caller = self.caller()?;
        Ok(user::set_password(&self.state, caller, &caller.user_id, Some(current), new).await?)
    }

    async fn renew_api_key(&self) -> R<String> {
        let caller = self.caller()?;
        Ok(user::renew_key(&self.state, caller, &caller.user_id).await?)
    }

    async fn revoke_api_key(&self) -> R<()> {
        let caller = self.caller()?;
        Ok(user::revoke_key(&self.state, caller, &caller.user_id).await?)
    }

    async fn list_users(&self) -> R<Vec<User>> {
        Ok(user::list(&self.state, self.caller()?).await?)
    }

    async fn create_user(&self, input: NewUserInput) -> R<User> {
        let new = user::NewUser {
            login: input.login,
            name: input.name,
            password: input.password.filter(|p| !p.is_empty()),
            organisation: input.organisation,
            profile: Some(input.profile),
        };
        Ok(user::create(&self.state, self.caller()?, new).await?)
    }

    async fn update_user(&self, id: String, input: UserUpdateInput) -> R<User> {
        let patch = user::UserPatch { name: input.name, status: input.status, profile: input.profile };
        Ok(user::update(&self.state, self.caller()?, &id, patch).await?)
    }

    async fn set_user_password(&self, id: String, password: String) -> R<()> {
        Ok(user::set_password(&self.state, self.caller()?, &id, None, password).await?)
    }

    async fn list_orgs(&self) -> R<Vec<Organisation>> {
        Ok(org::list(&self.state, self.caller()?).await?)
    }

    async fn create_org(&self, name: String, description: String) -> R<Organisation> {
        Ok(org::create(&self.state, self.caller()?, &name, &description).await?)
    }
}

/// Route handler for every server function.
pub async fn handle(State(state): State<AppState>, req: Request<Body>) -> impl IntoResponse {
    let (mut parts, body) = req.into_parts();
    let session = match Session::from_request_parts(&mut parts, &state).await {
        Ok(s) => s,
        Err(_) => return Error::Internal(anyhow::anyhow!("session layer missing")).into_response(),
    };
    let caller = Caller::from_request_parts(&mut parts, &state).await.map_err(ApiError::from);
    let backend: Arc<dyn Backend> = Arc::new(UiBackend { state, caller, session });
    let req = Request::from_parts(parts, body);
    let resp = leptos_axum::handle_server_fns_with_context(move || provide_context(backend.clone()), req)
        .await
        .into_response();
    with_error_status(resp).await
}

/// Server functions answer every error with 500; give it the status of its kind (401 for a
/// missing session...), so logs and browsers tell errors apart. The body is unchanged.
async fn with_error_status(resp: axum::response::Response) -> axum::response::Response {
    if resp.status() != axum::http::StatusCode::INTERNAL_SERVER_ERROR {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = match axum::body::to_bytes(body, 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => return Error::Internal(anyhow::anyhow!("unreadable server function error")).into_response(),
    };
    if let Ok(err) = serde_json::from_slice::<ApiError>(&bytes) {
        if let Ok(status) = axum::http::StatusCode::from_u16(err.kind.status()) {
            parts.status = status;
        }
    }
    axum::response::Response::from_parts(parts, Body::from(bytes))
}
