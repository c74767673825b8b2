//! Case report server functions: the report templates an organisation uploads. The report
//! itself is a file the browser downloads from `GET /api/case/{id}/report` ([`report_url`]).

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::model::*;

#[cfg(feature = "ssr")]
pub use backend::ReportBackend;

#[cfg(feature = "ssr")]
fn backend() -> Result<std::sync::Arc<dyn ReportBackend>, ApiError> {
    super::backend_of::<dyn ReportBackend>()
}

#[cfg(feature = "ssr")]
mod backend {
    use super::*;

    #[async_trait::async_trait]
    pub trait ReportBackend: Send + Sync {
        async fn report_templates(&self) -> Result<Vec<ReportTemplate>, ApiError>;
        async fn upload_report_template(&self, input: NewReportTemplate) -> Result<ReportTemplate, ApiError>;
        async fn delete_report_template(&self, id: String) -> Result<(), ApiError>;
    }
}

/// The organisation's report templates, the shipped `default` first.
#[server(prefix = "/ui", endpoint = "reports/templates", input = Json)]
pub async fn report_templates() -> Result<Vec<ReportTemplate>, ApiError> {
    backend()?.report_templates().await
}

#[server(prefix = "/ui", endpoint = "reports/templates/upload", input = Json)]
pub async fn upload_report_template(input: NewReportTemplate) -> Result<ReportTemplate, ApiError> {
    backend()?.upload_report_template(input).await
}

#[server(prefix = "/ui", endpoint = "reports/templates/delete", input = Json)]
pub async fn delete_report_template(id: String) -> Result<(), ApiError> {
    backend()?.delete_report_template(id).await
}

/// Where the browser downloads a case's report.
pub fn report_url(case_id: &str, format: ReportFormat, template: &str) -> String {
    let mut url = format!("/api/case/{}/report?format={}", crate::url::encode_component(case_id), format.as_str());
    if !template.is_empty() && template != DEFAULT_REPORT_TEMPLATE {
        url.push_str("&template=");
        url.push_str(&crate::url::encode_component(template));
    }
    url
}
