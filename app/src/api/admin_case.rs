//! Case administration server functions: case templates (with TheHive's file import and
//! export), custom field and metric definitions, observable data types.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde_json::Value;

use crate::model::*;

#[cfg(feature = "ssr")]
pub use backend::CaseAdminBackend;

#[cfg(feature = "ssr")]
fn backend() -> Result<std::sync::Arc<dyn CaseAdminBackend>, ApiError> {
    super::backend_of::<dyn CaseAdminBackend>()
}

#[cfg(feature = "ssr")]
mod backend {
    use super::*;

    #[async_trait::async_trait]
    pub trait CaseAdminBackend: Send + Sync {
        async fn create_template(&self, input: NewTemplate) -> Result<CaseTemplate, ApiError>;
        async fn update_template(&self, id: String, input: NewTemplate) -> Result<CaseTemplate, ApiError>;
        async fn delete_template(&self, id: String) -> Result<(), ApiError>;
        async fn import_template(&self, file: Value) -> Result<CaseTemplate, ApiError>;
        async fn export_template(&self, id: String) -> Result<(String, Value), ApiError>;
        async fn create_custom_field(&self, input: NewCustomField) -> Result<CustomFieldDefinition, ApiError>;
        async fn delete_custom_field(&self, id: String) -> Result<(), ApiError>;
        async fn create_metric(&self, input: NewMetric) -> Result<MetricDefinition, ApiError>;
        async fn delete_metric(&self, id: String) -> Result<(), ApiError>;
        async fn create_data_type(&self, name: String, is_attachment: bool) -> Result<ObservableDataType, ApiError>;
        async fn delete_data_type(&self, id: String) -> Result<(), ApiError>;
    }
}

#[server(prefix = "/ui", endpoint = "admin/templates/create", input = Json)]
pub async fn create_template(input: NewTemplate) -> Result<CaseTemplate, ApiError> {
    backend()?.create_template(input).await
}

#[server(prefix = "/ui", endpoint = "admin/templates/update", input = Json)]
pub async fn update_template(id: String, input: NewTemplate) -> Result<CaseTemplate, ApiError> {
    backend()?.update_template(id, input).await
}

#[server(prefix = "/ui", endpoint = "admin/templates/delete", input = Json)]
pub async fn delete_template(id: String) -> Result<(), ApiError> {
    backend()?.delete_template(id).await
}

/// Import a TheHive `Case-Template__<name>.json` file's content.
#[server(prefix = "/ui", endpoint = "admin/templates/import", input = Json)]
pub async fn import_template(file: Value) -> Result<CaseTemplate, ApiError> {
    backend()?.import_template(file).await
}

/// A template as TheHive's file: its name (`Case-Template__<name>.json`) and content.
#[server(prefix = "/ui", endpoint = "admin/templates/export", input = Json)]
pub async fn export_template(id: String) -> Result<(String, Value), ApiError> {
    backend()?.export_template(id).await
}

#[server(prefix = "/ui", endpoint = "admin/custom-fields/create", input = Json)]
pub async fn create_custom_field(input: NewCustomField) -> Result<CustomFieldDefinition, ApiError> {
    backend()?.create_custom_field(input).await
}

#[server(prefix = "/ui", endpoint = "admin/custom-fields/delete", input = Json)]
pub async fn delete_custom_field(id: String) -> Result<(), ApiError> {
    backend()?.delete_custom_field(id).await
}

#[server(prefix = "/ui", endpoint = "admin/metrics/create", input = Json)]
pub async fn create_metric(input: NewMetric) -> Result<MetricDefinition, ApiError> {
    backend()?.create_metric(input).await
}

#[server(prefix = "/ui", endpoint = "admin/metrics/delete", input = Json)]
pub async fn delete_metric(id: String) -> Result<(), ApiError> {
    backend()?.delete_metric(id).await
}

#[server(prefix = "/ui", endpoint = "admin/data-types/create", input = Json)]
pub async fn create_data_type(name: String, is_attachment: bool) -> Result<ObservableDataType, ApiError> {
    backend()?.create_data_type(name, is_attachment).await
}

#[server(prefix = "/ui", endpoint = "admin/data-types/delete", input = Json)]
pub async fn delete_data_type(id: String) -> Result<(), ApiError> {
    backend()?.delete_data_type(id).await
}
