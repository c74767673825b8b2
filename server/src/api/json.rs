//! JSON bodies for the REST dialects. Lenient on the envelope (a missing or wrong
//! `Content-Type`, an empty body = `{}`), strict on the content: malformed JSON is a clear
//! `BadRequest` in the dialect's shape, never axum's plain-text rejection.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::core::error::Error;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::TooLarge("The request body is too large".into())
            } else {
                Error::BadRequest(format!("Cannot read the request body: {e}"))
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parse a JSON body (`{}` when empty) into `T`, with a message that says where it went wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::BadRequest("The request body is not valid UTF-8".into()))?;
    let text = if text.trim().is_empty() { "{}" } else { text };
    serde_json::from_str(text).map_err(|e| {
        if e.is_data() {
            Error::BadRequest(format!("Invalid attributes: {e}"))
        } else {
            Error::BadRequest(format!("Invalid JSON: {e}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let e = parse_json::<serde_json::Value>(b"{\"a\":").unwrap_err();
        assert!(e.to_string().starts_with("Invalid JSON"), "{e}");
        let e = parse_json::<serde_json::Value>(&[0xff, 0xfe]).unwrap_err();
        assert!(e.to_string().contains("UTF-8"));
        let v: serde_json::Value = parse_json(b"  ").unwrap();
        assert_eq!(v, serde_json::json!({}));
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(parse_json::<serde_json::Value>(deep.as_bytes()).is_err(), "deep nesting is refused, not a stack overflow");
    }
}
