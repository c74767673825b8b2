//! HTTP: the router, its layers, and the adapters (TheHive v0 under `/api`, Cortex under
//! `/cortex/api`, the UI's server functions under `/ui`, the embedded UI everywhere else). What
//! the REST dialects share is in [`support`], [`json`] and [`error`].
//!
//! A request goes: layers (request id, trace, security headers, error shape, compression, body
//! limit, CSRF, session) -> route -> adapter handler -> domain service (`crate::domain::<area>`) -> core -> store.

pub mod assets;
pub mod cortex;
pub mod download;
pub mod error;
pub mod json;
pub mod layers;
pub mod support;
pub mod ui;
pub mod v0;
pub mod v1;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::core::state::AppState;

/// Routes that answer without authentication. Every other `/api` and `/cortex/api` route
/// requires a caller (the `Caller` extractor) and answers 401 without one; a test walks the
/// OpenAPI document to check.
pub const PUBLIC_ROUTES: &[&str] = &[
    "/api/status",
    "/api/health",
    "/api/login",
    "/api/logout",
    "/api/openapi.json",
    "/cortex/api/status",
    "/cortex/api/login",
    "/cortex/api/logout",
];

/// Responses smaller than this are not compressed.
const COMPRESS_ABOVE_BYTES: u16 = 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Waggle API",
        description = "TheHive v0 dialect at /api (thehive4py 1.x, feeders) and Cortex 3's API at /cortex/api \
                       (cortex4py 2.x). Authenticate with `Authorization: Bearer <API key>`, HTTP Basic, or the \
                       session cookie from POST /api/login; `X-Organisation` selects one of your organisations."
    ),
    tags(
        (name = "platform", description = "Status, health, sessions"),
        (name = "user", description = "Users, passwords, API keys"),
        (name = "organisation", description = "Organisations (tenants)"),
        (name = "statistics", description = "TheHive's _stats aggregations"),
        (name = "dashboard", description = "Dashboards: CRUD, sharing, import/export, PNG rendering"),
        (name = "report", description = "Case reports (PDF, HTML, markdown) and the report templates that shape them"),
        (name = "case", description = "Cases: create (from a template), update, close, merge, links"),
        (name = "task", description = "Tasks of cases and their logs"),
        (name = "observable", description = "Observables of cases (TheHive v0: artifacts)"),
        (name = "caseTemplate", description = "Case templates, with TheHive's import/export files"),
        (name = "list", description = "Custom fields, metrics, observable data types (TheHive 3 lists)"),
        (name = "attachment", description = "Downloads of stored files (plain or password-protected zip)"),
        (name = "audit", description = "Audit trail, flow and live stream"),
        (name = "alert", description = "Alerts: ingestion (deduplication, upsert), similarity, import into cases, merge"),
        (name = "analysis", description = "TheHive's Cortex connector: analyzers and jobs on observables"),
        (name = "misp", description = "MISP connector: cases exported as events (updated in place), synchronisation of events into alerts"),
        (name = "cortex", description = "Cortex 3's API (/cortex/api): analyzer definitions, analyzers, jobs on values and files"),
        (name = "v1", description = "TheHive 5's v1 dialect (/api/v1, thehive4py 2.x): cases, alerts, tasks, logs, observables, the query API, users, organisations, custom fields, observable types, case templates"),
    )
)]
struct ApiDoc;

/// The OpenAPI document and the API routes, from the same declarations.
pub fn api_routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(v0::routes()).merge(v1::routes()).merge(cortex::routes()).split_for_parts()
}

pub fn router(state: AppState) -> Router {
    let (api, openapi) = api_routes();
    let openapi = Arc::new(openapi);
    let settings = state.settings.clone();
    let session_layer = SessionManagerLayer::new(state.sessions.clone())
        .with_name(if settings.secure_cookies { "__Host-waggle" } else { "waggle_session" })
        .with_secure(settings.secure_cookies)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(settings.session_minutes)));
    let request_id = HeaderName::from_static("x-request-id");

    Router::new()
        .merge(api)
        .route("/api/openapi.json", get(move || async move { axum::Json(openapi.as_ref().clone()) }))
        .route("/ui/{*name}", post(ui::handle).get(ui::handle))
        .fallback(assets::serve)
        .with_state(state)
        // Innermost first: each `layer` wraps everything above it.
        .layer(session_layer)
        .layer(axum::middleware::from_fn(layers::csrf_guard))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(300)))
        // The body limit of each route (1 MiB of JSON, `--max-body-mb` for uploads); axum's own
        // extractor limit raised to the largest, which `body_limit` already enforces.
        .layer(axum::middleware::from_fn_with_state(settings.max_body_bytes, layers::body_limit))
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(CatchPanicLayer::new())
        // Small bodies are sent as they are: starting an encoder allocates its tables (hundreds
        // of kilobytes for gzip), which cost more than the bytes saved.
        .layer(CompressionLayer::new().compress_when(DefaultPredicate::new().and(SizeAbove::new(COMPRESS_ABOVE_BYTES))))
        .layer(axum::middleware::from_fn(layers::api_error_shape))
        .layer(axum::middleware::from_fn(layers::security_headers))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}
