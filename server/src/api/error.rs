//! The error shape of the REST dialects: `{"type", "message"}` (TheHive's), with the extras of
//! `ConflictError` (`object`) and `AttributeCheckingError` (`tableName`, `errors`).

use app::model::ErrorKind;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::core::error::Error;

pub fn error_body(kind: ErrorKind, message: &str) -> serde_json::Value {
    json!({ "type": kind.as_str(), "message": message })
}

pub fn error_response(kind: ErrorKind, message: &str) -> Response {
    let status = StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(error_body(kind, message))).into_response()
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.log();
        let kind = self.kind();
        let mut body = error_body(kind, &self.public_message());
        match &self {
            Error::Conflict { object: Some(o), .. } => {
                body["object"] = o.clone();
            }
            Error::Attributes { table, errors } => {
                body["tableName"] = json!(table);
                body["errors"] = json!(errors);
            }
            _ => {}
        }
        let status = StatusCode::from_u16(kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, axum::Json(body)).into_response();
        if kind == ErrorKind::AuthenticationError {
            // No WWW-Authenticate challenge: browsers would pop up a Basic dialog over the UI.
            resp.headers_mut().remove(axum::http::header::WWW_AUTHENTICATE);
        }
        resp
    }
}
