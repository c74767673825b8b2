//! Alerts server functions: the triage list, the preview (with similarity), bulk triage,
//! import into a case, merge into a case, and the alerts a case came from.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde_json::Value;

use crate::model::*;

#[cfg(feature = "ssr")]
pub use backend::AlertBackend;

#[cfg(feature = "ssr")]
fn backend() -> Result<std::sync::Arc<dyn AlertBackend>, ApiError> {
    super::backend_of::<dyn AlertBackend>()
}

#[cfg(feature = "ssr")]
mod backend {
    use super::*;

    /// What the server provides for the alerts' server functions, bound to the caller.
    #[async_trait::async_trait]
    pub trait AlertBackend: Send + Sync {
        async fn list(&self, query: Value, sort: String, from: u64, size: u64) -> Result<AlertPage, ApiError>;
        async fn preview(&self, id: String) -> Result<AlertPreview, ApiError>;
        async fn triage(&self, ids: Vec<String>, action: TriageAction) -> Result<BulkOutcome, ApiError>;
        async fn import(&self, id: String, template: Option<String>) -> Result<Case, ApiError>;
        async fn merge(&self, ids: Vec<String>, case: String) -> Result<Case, ApiError>;
        async fn templates(&self) -> Result<Vec<String>, ApiError>;
        async fn find_cases(&self, text: String) -> Result<Vec<CaseChoice>, ApiError>;
        async fn case_alerts(&self, case: String) -> Result<Vec<AlertSummary>, ApiError>;
        async fn sources(&self) -> Result<Vec<AlertSourceSummary>, ApiError>;
        async fn set_source(&self, source: String, upsert: bool) -> Result<AlertSource, ApiError>;
    }
}

/// The preview of an alert: its similarity and its description as sanitised HTML.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertPreview {
    pub alert: AlertWithSimilarity,
    pub description_html: String,
}

/// A case to merge alerts into.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseChoice {
    pub id: Id,
    pub number: i64,
    pub title: String,
    pub status: String,
}

/// A triage action on several alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TriageAction {
    /// Mark as read (Ignored, or Imported when it has a case).
    Ignore,
    /// Mark as unread.
    Unread,
    Follow,
    Unfollow,
    Delete,
}

#[server(prefix = "/ui", endpoint = "alerts/list", input = Json)]
pub async fn list_alerts(query: Value, sort: String, from: u64, size: u64) -> Result<AlertPage, ApiError> {
    backend()?.list(query, sort, from, size).await
}

#[server(prefix = "/ui", endpoint = "alerts/preview", input = Json)]
pub async fn preview_alert(id: String) -> Result<AlertPreview, ApiError> {
    backend()?.preview(id).await
}

#[server(prefix = "/ui", endpoint = "alerts/triage", input = Json)]
pub async fn triage_alerts(ids: Vec<String>, action: TriageAction) -> Result<BulkOutcome, ApiError> {
    backend()?.triage(ids, action).await
}

#[server(prefix = "/ui", endpoint = "alerts/import", input = Json)]
pub async fn import_alert(id: String, template: Option<String>) -> Result<Case, ApiError> {
    backend()?.import(id, template).await
}

#[server(prefix = "/ui", endpoint = "alerts/merge", input = Json)]
pub async fn merge_alerts(ids: Vec<String>, case: String) -> Result<Case, ApiError> {
    backend()?.merge(ids, case).await
}

#[server(prefix = "/ui", endpoint = "alerts/templates", input = Json)]
pub async fn alert_templates() -> Result<Vec<String>, ApiError> {
    backend()?.templates().await
}

#[server(prefix = "/ui", endpoint = "alerts/find-cases", input = Json)]
pub async fn find_cases_for_merge(text: String) -> Result<Vec<CaseChoice>, ApiError> {
    backend()?.find_cases(text).await
}

/// The alerts a case was imported from or merged with (for the case page).
#[server(prefix = "/ui", endpoint = "alerts/of-case", input = Json)]
pub async fn case_alerts(case: String) -> Result<Vec<AlertSummary>, ApiError> {
    backend()?.case_alerts(case).await
}

/// The organisation's alert sources with their ingestion setting and alert counts.
#[server(prefix = "/ui", endpoint = "alerts/sources", input = Json)]
pub async fn alert_sources() -> Result<Vec<AlertSourceSummary>, ApiError> {
    backend()?.sources().await
}

/// Whether alerts sent again by `source` update the existing one (upsert) or are refused.
#[server(prefix = "/ui", endpoint = "alerts/sources/set", input = Json)]
pub async fn set_alert_source(source: String, upsert: bool) -> Result<AlertSource, ApiError> {
    backend()?.set_source(source, upsert).await
}
