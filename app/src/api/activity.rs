//! Activity server functions: the live activity panel's first read and its stream.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::model::*;

#[cfg(feature = "ssr")]
pub use backend::ActivityBackend;

#[cfg(feature = "ssr")]
fn backend() -> Result<std::sync::Arc<dyn ActivityBackend>, ApiError> {
    super::backend_of::<dyn ActivityBackend>()
}

#[cfg(feature = "ssr")]
mod backend {
    use super::*;

    #[async_trait::async_trait]
    pub trait ActivityBackend: Send + Sync {
        async fn recent_activity(&self, case: Option<String>, count: usize) -> Result<Vec<Activity>, ApiError>;
        async fn open_activity_stream(&self) -> Result<String, ApiError>;
        async fn next_activity(&self, stream: String, case: Option<String>) -> Result<Vec<Activity>, ApiError>;
    }
}

/// The latest changes of the organisation (or of the case `case`, an id), newest first.
#[server(prefix = "/ui", endpoint = "activity/recent", input = Json)]
pub async fn recent_activity(case: Option<String>, count: usize) -> Result<Vec<Activity>, ApiError> {
    backend()?.recent_activity(case, count).await
}

/// A live stream of the organisation's changes from now on; answers its id.
#[server(prefix = "/ui", endpoint = "activity/open", input = Json)]
pub async fn open_activity_stream() -> Result<String, ApiError> {
    backend()?.open_activity_stream().await
}

/// The changes since the stream's last read (oldest first), waiting up to 20 s for one; only the
/// case's with `case`.
#[server(prefix = "/ui", endpoint = "activity/next", input = Json)]
pub async fn next_activity(stream: String, case: Option<String>) -> Result<Vec<Activity>, ApiError> {
    backend()?.next_activity(stream, case).await
}
