//! Cross-cutting HTTP behaviour: the API error shape for every error (including the ones axum
//! and tower produce themselves), security headers, and CSRF protection for cookie sessions.

use app::model::ErrorKind;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::error_response;

/// The body limit of every request that carries no file: 1 MiB of JSON is thousands of
/// observables or a long description. Uploads get the server's `--max-body-mb`.
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// Whether a request may carry files: multipart bodies; alerts (feeders send file observables
/// base64-encoded inside the alert's JSON) and observables added to a case; the UI's file
/// observables and task log attachments.
fn is_upload(req: &Request) -> bool {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/"));
    let path = req.uri().path();
    multipart
        || path == "/api/alert"
        || (path.starts_with("/api/alert/") && !path.contains("/_"))
        || (path.starts_with("/api/case/") && path.contains("/artifact") && !path.contains("/_"))
        || path == "/api/v1/alert"
        || (path.starts_with("/api/v1/") && path.ends_with("/observable"))
        || path == "/ui/observables/add"
        || path == "/ui/tasks/logs/add"
}

/// One body limit per kind of route: [`JSON_BODY_LIMIT`] unless the route takes uploads, then
/// `large` (the server's limit). A body announced larger is refused before it is read (413, in
/// the API's shape under `/api`); a body without a length stops being read at the limit.
pub async fn body_limit(axum::extract::State(large): axum::extract::State<usize>, req: Request, next: Next) -> Response {
    let limit = if is_upload(&req) { large } else { large.min(JSON_BODY_LIMIT) };
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        let mut out = error_response(
            ErrorKind::RequestEntityTooLarge,
            &format!("The request body is too large: at most {} KiB on this route", limit / 1024),
        );
        *out.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
        return out;
    }
    let req = req.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)));
    next.run(req).await
}

/// Whether a path is one of the REST dialects': TheHive's under `/api`, Cortex's under `/cortex/api`.
pub fn is_api(path: &str) -> bool {
    let rest = path.strip_prefix("/cortex").unwrap_or(path);
    rest == "/api" || rest.starts_with("/api/")
}

/// Errors that did not come from our handlers (unknown method, body too large, a panic...)
/// get the API's `{"type","message"}` shape under `/api` and `/cortex/api`.
pub async fn api_error_shape(req: Request, next: Next) -> Response {
    let api = is_api(req.uri().path());
    let resp = next.run(req).await;
    if !api || resp.status().as_u16() < 400 {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let (kind, message) = match resp.status() {
        StatusCode::METHOD_NOT_ALLOWED => (ErrorKind::MethodNotAllowed, "This method is not allowed on this resource"),
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorKind::RequestEntityTooLarge, "The request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (ErrorKind::UnsupportedMediaType, "Unsupported content type"),
        StatusCode::NOT_FOUND => (ErrorKind::NotFoundError, "Resource not found"),
        StatusCode::UNAUTHORIZED => (ErrorKind::AuthenticationError, "Authentication required"),
        StatusCode::FORBIDDEN => (ErrorKind::AuthorizationError, "Forbidden"),
        StatusCode::TOO_MANY_REQUESTS => (ErrorKind::RateLimitExceeded, "Too many requests"),
        s if s.is_client_error() => (ErrorKind::BadRequest, "Bad request"),
        _ => (ErrorKind::InternalError, "An internal error occurred; it has been logged."),
    };
    let mut out = error_response(kind, message);
    *out.status_mut() = resp.status();
    for name in ["x-request-id", "allow"] {
        if let Some(v) = resp.headers().get(name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

/// The Content-Security-Policy of API responses and downloads: nothing may run from them.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; sandbox";

/// Security headers on every response. HTML pages set their own CSP (see `assets`).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let secure = req.extensions().get::<crate::core::tls::Secure>().is_some();
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(API_CSP));
    if secure {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    resp
}

/// Refuse cross-site state-changing requests: a browser adds the session cookie to them, and
/// also Basic credentials it has cached or a client certificate (TheHive CVE-2025-48740 rode on
/// cached Basic credentials), so an `Authorization` header does not exempt a request. Scripts
/// send neither `Origin` nor `Sec-Fetch-Site` and pass. A body a cross-site form can send
/// (`text/plain`, a form encoding) is never taken as JSON.
pub async fn csrf_guard(req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && form_like(req.headers()) {
        return error_response(ErrorKind::BadRequest, "JSON bodies need Content-Type: application/json").into_response();
    }
    if unsafe_method {
        let headers = req.headers();
        let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        let cross_site = matches!(site, Some(s) if s != "same-origin" && s != "none");
        // HTTP/2 carries the host in the `:authority` pseudo-header (the URI), not in `Host`.
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).or_else(|| req.uri().authority().map(|a| a.as_str()));
        let origin_mismatch = match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            Some("null") => true,
            Some(origin) => host != Some(origin.split_once("://").map(|(_, h)| h).unwrap_or(origin)),
            None => false,
        };
        if cross_site || origin_mismatch {
            return error_response(ErrorKind::AuthorizationError, "Cross-site request refused").into_response();
        }
    }
    next.run(req).await
}

/// A body type a cross-site HTML form can send without a preflight (`text/plain`,
/// `application/x-www-form-urlencoded`); multipart is the upload routes' own type.
fn form_like(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let ct = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    ct == "text/plain" || ct == "application/x-www-form-urlencoded"
}
