//! Dashboards' server functions: list, read, save, delete, copy, import, and the statistics
//! widgets draw from.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde_json::Value;

use crate::model::*;

#[cfg(feature = "ssr")]
pub use backend::DashboardBackend;

#[cfg(feature = "ssr")]
fn backend() -> Result<std::sync::Arc<dyn DashboardBackend>, ApiError> {
    super::backend_of::<dyn DashboardBackend>()
}

#[cfg(feature = "ssr")]
mod backend {
    use super::*;

    #[async_trait::async_trait]
    pub trait DashboardBackend: Send + Sync {
        async fn list_dashboards(&self) -> Result<Vec<Dashboard>, ApiError>;
        async fn get_dashboard(&self, id: String) -> Result<Dashboard, ApiError>;
        async fn save_dashboard(&self, input: NewDashboard) -> Result<Dashboard, ApiError>;
        async fn delete_dashboard(&self, id: String) -> Result<(), ApiError>;
        async fn copy_dashboard(&self, id: String) -> Result<Dashboard, ApiError>;
        async fn import_dashboard(&self, file: String) -> Result<Dashboard, ApiError>;
        async fn widget_stats(&self, model: String, body: Value) -> Result<Value, ApiError>;
    }
}

/// A dashboard to create (`id` absent) or update.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewDashboard {
    pub id: Option<String>,
    pub title: String,
    pub description: String,
    pub status: DashboardStatus,
    pub definition: String,
}

#[server(prefix = "/ui", endpoint = "dashboards/list", input = Json)]
pub async fn list_dashboards() -> Result<Vec<Dashboard>, ApiError> {
    backend()?.list_dashboards().await
}

#[server(prefix = "/ui", endpoint = "dashboards/get", input = Json)]
pub async fn get_dashboard(id: String) -> Result<Dashboard, ApiError> {
    backend()?.get_dashboard(id).await
}

#[server(prefix = "/ui", endpoint = "dashboards/save", input = Json)]
pub async fn save_dashboard(input: NewDashboard) -> Result<Dashboard, ApiError> {
    backend()?.save_dashboard(input).await
}

#[server(prefix = "/ui", endpoint = "dashboards/delete", input = Json)]
pub async fn delete_dashboard(id: String) -> Result<(), ApiError> {
    backend()?.delete_dashboard(id).await
}

#[server(prefix = "/ui", endpoint = "dashboards/copy", input = Json)]
pub async fn copy_dashboard(id: String) -> Result<Dashboard, ApiError> {
    backend()?.copy_dashboard(id).await
}

/// Import a TheHive 3 dashboard file (its text).
#[server(prefix = "/ui", endpoint = "dashboards/import", input = Json)]
pub async fn import_dashboard(file: String) -> Result<Dashboard, ApiError> {
    backend()?.import_dashboard(file).await
}

/// One statistics request of a widget (`/api/<model>/_stats` with `body`).
#[server(prefix = "/ui", endpoint = "dashboards/stats", input = Json)]
pub async fn widget_stats(model: String, body: Value) -> Result<Value, ApiError> {
    backend()?.widget_stats(model, body).await
}
