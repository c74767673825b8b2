use serde::{Deserialize, Serialize};
use std::fmt;

/// The kinds of error a client can receive. Names are TheHive's `type` values, so that the REST
/// dialects and the UI share one vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    BadRequest,
    SearchError,
    ConflictError,
    IllegalArgument,
    AttributeCheckingError,
    AuthenticationError,
    AuthorizationError,
    NotFoundError,
    MethodNotAllowed,
    RequestEntityTooLarge,
    UnsupportedMediaType,
    RateLimitExceeded,
    InternalError,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "BadRequest",
            Self::SearchError => "SearchError",
            Self::ConflictError => "ConflictError",
            Self::IllegalArgument => "IllegalArgument",
            Self::AttributeCheckingError => "AttributeCheckingError",
            Self::AuthenticationError => "AuthenticationError",
            Self::AuthorizationError => "AuthorizationError",
            Self::NotFoundError => "NotFoundError",
            Self::MethodNotAllowed => "MethodNotAllowed",
            Self::RequestEntityTooLarge => "RequestEntityTooLarge",
            Self::UnsupportedMediaType => "UnsupportedMediaType",
            Self::RateLimitExceeded => "RateLimitExceeded",
            Self::InternalError => "InternalError",
        }
    }

    /// HTTP status code of this kind of error (TheHive's choices).
    pub fn status(self) -> u16 {
        match self {
            Self::BadRequest
            | Self::SearchError
            | Self::ConflictError
            | Self::IllegalArgument
            | Self::AttributeCheckingError => 400,
            Self::AuthenticationError => 401,
            Self::AuthorizationError => 403,
            Self::NotFoundError => 404,
            Self::MethodNotAllowed => 405,
            Self::RequestEntityTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::RateLimitExceeded => 429,
            Self::InternalError => 500,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One invalid attribute of an `AttributeCheckingError`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeError {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

/// An error as the UI receives it from a server function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<AttributeError>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), errors: Vec::new() }
    }

    pub fn is_authentication(&self) -> bool {
        self.kind == ErrorKind::AuthenticationError
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for e in &self.errors {
            write!(f, "; {}: {}", e.name, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// Server functions report transport failures (network down, bad response) through this
/// conversion, so the UI handles one error type.
impl leptos::server_fn::error::FromServerFnError for ApiError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match &value {
            E::Request(_) => ApiError::new(ErrorKind::InternalError, "The server could not be reached. Check your connection."),
            // On the server these are the request's arguments that do not decode: the caller's
            // mistake (400), not the server's.
            #[cfg(feature = "ssr")]
            E::Args(m) | E::Deserialization(m) => ApiError::new(ErrorKind::BadRequest, format!("Invalid request: {m}")),
            other => ApiError::new(ErrorKind::InternalError, other.to_string()),
        }
    }
}
