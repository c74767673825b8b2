//! Case server functions: the cases list, a case and its header, create, update, close,
//! reopen, delete, merge, links, activity, markdown preview, saved filters and the lookups
//! (templates, custom fields, metrics, data types, users) that forms need.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::*;

#[cfg(feature = "ssr")]
pub use backend::CaseBackend;

#[cfg(feature = "ssr")]
fn backend() -> Result<std::sync::Arc<dyn CaseBackend>, ApiError> {
    super::backend_of::<dyn CaseBackend>()
}

#[cfg(feature = "ssr")]
mod backend {
    use super::*;

    /// What the server provides for the case server functions, bound to the request's caller.
    #[async_trait::async_trait]
    pub trait CaseBackend: Send + Sync {
        async fn list_cases(&self, query: Value, sort: Vec<String>, from: u64, to: u64) -> Result<CasePage, ApiError>;
        async fn case_detail(&self, id: String) -> Result<CaseDetail, ApiError>;
        async fn create_case(&self, input: NewCase) -> Result<Case, ApiError>;
        async fn update_case(&self, id: String, patch: CasePatch) -> Result<Case, ApiError>;
        async fn bulk_update_cases(&self, ids: Vec<String>, patch: CasePatch) -> Result<BulkOutcome, ApiError>;
        async fn change_case_tags(&self, ids: Vec<String>, add: Vec<String>, remove: Vec<String>) -> Result<BulkOutcome, ApiError>;
        async fn close_case(&self, id: String, closure: CaseClosure) -> Result<Case, ApiError>;
        async fn reopen_case(&self, id: String) -> Result<Case, ApiError>;
        async fn delete_case(&self, id: String) -> Result<(), ApiError>;
        async fn merge_cases(&self, ids: Vec<String>) -> Result<Case, ApiError>;
        async fn case_links(&self, id: String) -> Result<Vec<LinkedCase>, ApiError>;
        async fn case_activity(&self, id: String) -> Result<Vec<AuditEntry>, ApiError>;
        async fn render_markdown(&self, text: String) -> Result<String, ApiError>;
        async fn case_lookups(&self) -> Result<CaseLookups, ApiError>;
        async fn saved_filter(&self, key: String) -> Result<Option<String>, ApiError>;
        async fn save_filter(&self, key: String, value: Option<String>) -> Result<(), ApiError>;
    }
}

/// A row of the cases list: the case and its counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseRow {
    pub case: Case,
    pub stats: CaseStats,
}

/// A page of the cases list and how many match in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CasePage {
    pub items: Vec<CaseRow>,
    pub total: u64,
}

/// A case as its page shows it: the case, its counts, its description and summary rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseDetail {
    pub case: Case,
    pub stats: CaseStats,
    pub description_html: String,
    pub summary_html: String,
}

/// What a bulk action did: how many records changed, and why the others did not.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkOutcome {
    pub done: u64,
    /// `(id or value, error message)`.
    pub failed: Vec<(String, String)>,
}

/// A member of the organisation who can own cases and tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub login: String,
    pub name: String,
}

/// The organisation's definitions that case forms need.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseLookups {
    pub templates: Vec<CaseTemplate>,
    pub custom_fields: Vec<CustomFieldDefinition>,
    pub metrics: Vec<MetricDefinition>,
    pub data_types: Vec<ObservableDataType>,
    pub members: Vec<Member>,
}

/// Cases matching a v0 query (`{}` for all), sorted by v0 sort keys, rows `from..to`.
#[server(prefix = "/ui", endpoint = "cases/list", input = Json)]
pub async fn list_cases(query: Value, sort: Vec<String>, from: u64, to: u64) -> Result<CasePage, ApiError> {
    backend()?.list_cases(query, sort, from, to).await
}

#[server(prefix = "/ui", endpoint = "cases/get", input = Json)]
pub async fn get_case_detail(id: String) -> Result<CaseDetail, ApiError> {
    backend()?.case_detail(id).await
}

#[server(prefix = "/ui", endpoint = "cases/create", input = Json)]
pub async fn create_case(input: NewCase) -> Result<Case, ApiError> {
    backend()?.create_case(input).await
}

#[server(prefix = "/ui", endpoint = "cases/update", input = Json)]
pub async fn update_case(id: String, patch: CasePatch) -> Result<Case, ApiError> {
    backend()?.update_case(id, patch).await
}

#[server(prefix = "/ui", endpoint = "cases/bulk", input = Json)]
pub async fn bulk_update_cases(ids: Vec<String>, patch: CasePatch) -> Result<BulkOutcome, ApiError> {
    backend()?.bulk_update_cases(ids, patch).await
}

/// Add and remove tags on the cases, in one transaction (all or nothing); `done` counts the
/// cases whose tags changed.
#[server(prefix = "/ui", endpoint = "cases/tags", input = Json)]
pub async fn change_case_tags(ids: Vec<String>, add: Vec<String>, remove: Vec<String>) -> Result<BulkOutcome, ApiError> {
    backend()?.change_case_tags(ids, add, remove).await
}

#[server(prefix = "/ui", endpoint = "cases/close", input = Json)]
pub async fn close_case(id: String, closure: CaseClosure) -> Result<Case, ApiError> {
    backend()?.close_case(id, closure).await
}

#[server(prefix = "/ui", endpoint = "cases/reopen", input = Json)]
pub async fn reopen_case(id: String) -> Result<Case, ApiError> {
    backend()?.reopen_case(id).await
}

#[server(prefix = "/ui", endpoint = "cases/delete", input = Json)]
pub async fn delete_case(id: String) -> Result<(), ApiError> {
    backend()?.delete_case(id).await
}

/// Merge the cases (in this order) into a new case.
#[server(prefix = "/ui", endpoint = "cases/merge", input = Json)]
pub async fn merge_cases(ids: Vec<String>) -> Result<Case, ApiError> {
    backend()?.merge_cases(ids).await
}

#[server(prefix = "/ui", endpoint = "cases/links", input = Json)]
pub async fn case_links(id: String) -> Result<Vec<LinkedCase>, ApiError> {
    backend()?.case_links(id).await
}

#[server(prefix = "/ui", endpoint = "cases/activity", input = Json)]
pub async fn case_activity(id: String) -> Result<Vec<AuditEntry>, ApiError> {
    backend()?.case_activity(id).await
}

/// Markdown as the server renders and sanitises it (editor previews).
#[server(prefix = "/ui", endpoint = "markdown", input = Json)]
pub async fn render_markdown(text: String) -> Result<String, ApiError> {
    backend()?.render_markdown(text).await
}

#[server(prefix = "/ui", endpoint = "cases/lookups", input = Json)]
pub async fn get_case_lookups() -> Result<CaseLookups, ApiError> {
    backend()?.case_lookups().await
}

/// The signed-in user's saved filter for a list (`cases`...).
#[server(prefix = "/ui", endpoint = "prefs/filter", input = Json)]
pub async fn saved_filter(key: String) -> Result<Option<String>, ApiError> {
    backend()?.saved_filter(key).await
}

/// Save (or, with `None`, forget) the signed-in user's filter for a list.
#[server(prefix = "/ui", endpoint = "prefs/filter/save", input = Json)]
pub async fn save_filter(key: String, value: Option<String>) -> Result<(), ApiError> {
    backend()?.save_filter(key, value).await
}
