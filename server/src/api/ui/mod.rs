//! The UI's server functions (declared in `app::api`), served under `/ui/`. The handler binds
//! the request's caller and session into a [`UiBackend`], provides it to the server functions as
//! each area's backend trait, and the trait impls (one file per area) call the services.

mod activity;
mod admin_case;
mod alert;
mod analysis;
mod case;
mod dashboard;
mod misp;
mod observable;
mod platform;
mod report;
mod task;

use std::sync::Arc;

use app::model::ApiError;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::response::IntoResponse;
use leptos::prelude::provide_context;
use tower_sessions::Session;

use crate::core::auth::Caller;
use crate::core::error::Error;
use crate::core::state::AppState;

/// One request's backend: the state, the caller (or why there is none) and the session.
pub(crate) struct UiBackend {
    pub(crate) state: AppState,
    pub(crate) caller: Result<Caller, ApiError>,
    pub(crate) session: Session,
    /// The client's address (the login throttle counts failures per address).
    pub(crate) from: Option<std::net::IpAddr>,
    /// The verified client certificate the request carries, if any.
    pub(crate) certificate: Option<Arc<crate::core::tls::PeerCert>>,
}

impl UiBackend {
    /// The signed-in caller, or the authentication error the UI reacts to.
    pub(crate) fn caller(&self) -> Result<&Caller, ApiError> {
        self.caller.as_ref().map_err(Clone::clone)
    }
}

pub(crate) type R<T> = Result<T, ApiError>;

/// The most rows a page of a list (cases, alerts) has, whatever range the client asks for.
pub(crate) const MAX_PAGE: u64 = 200;

/// Provide the request's backend as every area's trait object.
fn provide_backends(backend: Arc<UiBackend>) {
    provide_context::<Arc<dyn app::api::Backend>>(backend.clone());
    provide_context::<Arc<dyn app::api::ActivityBackend>>(backend.clone());
    provide_context::<Arc<dyn app::api::AlertBackend>>(backend.clone());
    provide_context::<Arc<dyn app::api::AnalysisBackend>>(backend.clone());
    provide_context::<Arc<dyn app::api::DashboardBackend>>(backend.clone());
    provide_context::<Arc<dyn app::api::CaseBackend>>(backend.clone());
    provide_context::<Arc<dyn app::api::TaskBackend>>(backend.clone());
    provide_context::<Arc<dyn app::api::ObservableBackend>>(backend.clone());
    provide_context::<Arc<dyn app::api::CaseAdminBackend>>(backend.clone());
    provide_context::<Arc<dyn app::api::ReportBackend>>(backend.clone());
    provide_context::<Arc<dyn app::api::MispBackend>>(backend.clone());
}

/// Route handler for every server function.
pub async fn handle(State(state): State<AppState>, req: Request<Body>) -> impl IntoResponse {
    let (mut parts, body) = req.into_parts();
    let session = match Session::from_request_parts(&mut parts, &state).await {
        Ok(s) => s,
        Err(_) => return Error::Internal(anyhow::anyhow!("session layer missing")).into_response(),
    };
    let caller = Caller::from_request_parts(&mut parts, &state).await.map_err(ApiError::from);
    let from = crate::core::auth::client_addr(&parts);
    let certificate = crate::core::auth::certificate::of_request(&parts, &state.settings.certificates);
    let backend = Arc::new(UiBackend { state, caller, session, from, certificate });
    let req = Request::from_parts(parts, body);
    let resp = leptos_axum::handle_server_fns_with_context(move || provide_backends(backend.clone()), req)
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
