//! Server functions: the UI's calls to the server, under `/ui/`.
//!
//! Each area (platform, cases, alerts, dashboards...) has a module here with its server
//! functions and a backend trait. A server function is a one-line shell that hands its
//! arguments to the area's backend, which the server provides for each request (bound to the
//! signed-in caller and their session) and implements over its service layer
//! (`server/src/api/ui/<area>.rs`). Adding an area: a module here with a trait, its impl on the
//! server's `UiBackend`, and one `provide_context` line in `server/src/api/ui/mod.rs`.

pub mod activity;
pub mod admin_case;
pub mod alert;
pub mod analysis;
pub mod case;
pub mod dashboard;
pub mod misp;
pub mod observable;
pub mod platform;
pub mod report;
pub mod task;

pub use activity::*;
pub use admin_case::*;
pub use alert::*;
pub use analysis::*;
pub use case::*;
pub use dashboard::*;
pub use misp::*;
pub use observable::*;
pub use platform::*;
pub use report::*;
pub use task::*;

/// The backend an area's server functions use, from the request's context.
#[cfg(feature = "ssr")]
pub fn backend_of<T: ?Sized + Send + Sync + 'static>() -> Result<std::sync::Arc<T>, crate::model::ApiError> {
    leptos::prelude::use_context::<std::sync::Arc<T>>().ok_or_else(|| {
        crate::model::ApiError::new(crate::model::ErrorKind::InternalError, "server function called outside a request")
    })
}
