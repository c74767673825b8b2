//! The service layer's error. Each REST dialect and the UI adapter turn it into their own shape;
//! details of internal errors are logged, never sent to clients.

use app::model::{ApiError, AttributeError, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Search(String),
    #[error("{message}")]
    Conflict { message: String, object: Option<serde_json::Value> },
    #[error("{0}")]
    IllegalArgument(String),
    #[error("invalid attributes of {table}")]
    Attributes { table: String, errors: Vec<AttributeError> },
    #[error("{0}")]
    Authentication(String),
    #[error("{0}")]
    Authorization(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    RateLimited(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::BadRequest(_) => ErrorKind::BadRequest,
            Error::Search(_) => ErrorKind::SearchError,
            Error::Conflict { .. } => ErrorKind::ConflictError,
            Error::IllegalArgument(_) => ErrorKind::IllegalArgument,
            Error::Attributes { .. } => ErrorKind::AttributeCheckingError,
            Error::Authentication(_) => ErrorKind::AuthenticationError,
            Error::Authorization(_) => ErrorKind::AuthorizationError,
            Error::NotFound(_) => ErrorKind::NotFoundError,
            Error::TooLarge(_) => ErrorKind::RequestEntityTooLarge,
            Error::RateLimited(_) => ErrorKind::RateLimitExceeded,
            Error::Internal(_) => ErrorKind::InternalError,
        }
    }

    /// The message a client may see.
    pub fn public_message(&self) -> String {
        match self {
            Error::Internal(_) => "An internal error occurred; it has been logged.".into(),
            Error::Attributes { errors, .. } => {
                let names: Vec<_> = errors.iter().map(|e| format!("{}: {}", e.name, e.message)).collect();
                format!("Invalid attributes: {}", names.join("; "))
            }
            other => other.to_string(),
        }
    }

    /// Log internal errors once, where they are turned into a response.
    pub fn log(&self) {
        if let Error::Internal(e) = self {
            tracing::error!(error = format!("{e:#}"), "internal error");
        }
    }

    pub fn not_found(what: &str, id: &str) -> Error {
        Error::NotFound(format!("{what} {id} not found"))
    }

    pub fn forbidden(action: &str) -> Error {
        Error::Authorization(format!("You are not allowed to {action}"))
    }

    pub fn attribute(table: &str, name: &str, kind: &str, message: impl Into<String>) -> Error {
        Error::Attributes {
            table: table.into(),
            errors: vec![AttributeError { name: name.into(), kind: kind.into(), message: message.into() }],
        }
    }
}

impl From<surrealdb::Error> for Error {
    fn from(e: surrealdb::Error) -> Self {
        Error::Internal(anyhow::Error::new(e).context("database"))
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        e.log();
        let errors = match &e {
            Error::Attributes { errors, .. } => errors.clone(),
            _ => Vec::new(),
        };
        ApiError { kind: e.kind(), message: e.public_message(), errors }
    }
}
