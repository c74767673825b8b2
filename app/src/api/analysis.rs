//! Analysis server functions: run analyzers on observables, follow their jobs, read reports and
//! add their artifacts; for organisation-admins, the analyzer catalog, enabling and configuring
//! analyzers, and the jobs page.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use super::BulkOutcome;
use crate::model::*;

#[cfg(feature = "ssr")]
pub use backend::AnalysisBackend;

#[cfg(feature = "ssr")]
fn backend() -> Result<std::sync::Arc<dyn AnalysisBackend>, ApiError> {
    super::backend_of::<dyn AnalysisBackend>()
}

#[cfg(feature = "ssr")]
mod backend {
    use super::*;

    #[async_trait::async_trait]
    pub trait AnalysisBackend: Send + Sync {
        async fn analyzers_for_observable(&self, observable: String) -> Result<Vec<Analyzer>, ApiError>;
        async fn run_analyzers(&self, observables: Vec<String>, analyzers: Option<Vec<String>>, force: bool) -> Result<BulkOutcome, ApiError>;
        async fn observable_jobs(&self, observable: String) -> Result<Vec<Job>, ApiError>;
        async fn running_analyses(&self, case: String) -> Result<Vec<String>, ApiError>;
        async fn job_details(&self, job: String) -> Result<JobView, ApiError>;
        async fn add_job_artifacts(&self, job: String, indices: Option<Vec<usize>>) -> Result<BulkOutcome, ApiError>;
        async fn analyzer_catalog(&self) -> Result<CatalogView, ApiError>;
        async fn rescan_analyzers(&self) -> Result<CatalogView, ApiError>;
        async fn enable_analyzer(&self, definition: String, input: AnalyzerInput) -> Result<Analyzer, ApiError>;
        async fn update_analyzer(&self, id: String, input: AnalyzerInput) -> Result<Analyzer, ApiError>;
        async fn disable_analyzer(&self, id: String) -> Result<(), ApiError>;
        async fn list_jobs(&self, status: Option<JobStatus>, from: u64) -> Result<JobPage, ApiError>;
        async fn delete_job(&self, id: String) -> Result<(), ApiError>;
        async fn purge_jobs(&self, days: u32) -> Result<u64, ApiError>;
    }
}

/// A job with its report (none while it waits or runs) and the observable's other jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    pub job: Job,
    pub report: Option<JobReport>,
    pub observable: Option<Observable>,
    /// The case number of the observable's case.
    pub case_number: Option<i64>,
    pub history: Vec<Job>,
}

/// The definitions found on disk, what could not be read, and the organisation's analyzers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogView {
    pub definitions: Vec<AnalyzerDefinition>,
    /// `(file, why it was refused)`.
    pub errors: Vec<(String, String)>,
    pub analyzers: Vec<Analyzer>,
    pub directories: Vec<String>,
    pub concurrency: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobPage {
    pub jobs: Vec<Job>,
    pub total: u64,
}

#[server(prefix = "/ui", endpoint = "analysis/analyzers-for", input = Json)]
pub async fn analyzers_for_observable(observable: String) -> Result<Vec<Analyzer>, ApiError> {
    backend()?.analyzers_for_observable(observable).await
}

/// Run the given analyzers (or every one that takes each observable's type) on observables.
#[server(prefix = "/ui", endpoint = "analysis/run", input = Json)]
pub async fn run_analyzers(observables: Vec<String>, analyzers: Option<Vec<String>>, force: bool) -> Result<BulkOutcome, ApiError> {
    backend()?.run_analyzers(observables, analyzers, force).await
}

#[server(prefix = "/ui", endpoint = "analysis/observable-jobs", input = Json)]
pub async fn observable_jobs(observable: String) -> Result<Vec<Job>, ApiError> {
    backend()?.observable_jobs(observable).await
}

/// The observables of a case with a job waiting or running.
#[server(prefix = "/ui", endpoint = "analysis/running", input = Json)]
pub async fn running_analyses(case: String) -> Result<Vec<String>, ApiError> {
    backend()?.running_analyses(case).await
}

#[server(prefix = "/ui", endpoint = "analysis/report", input = Json)]
pub async fn job_details(job: String) -> Result<JobView, ApiError> {
    backend()?.job_details(job).await
}

/// Add a report's artifacts (all, or those at `indices`) to the job's case as observables.
#[server(prefix = "/ui", endpoint = "analysis/add-artifacts", input = Json)]
pub async fn add_job_artifacts(job: String, indices: Option<Vec<usize>>) -> Result<BulkOutcome, ApiError> {
    backend()?.add_job_artifacts(job, indices).await
}

#[server(prefix = "/ui", endpoint = "analysis/catalog", input = Json)]
pub async fn analyzer_catalog() -> Result<CatalogView, ApiError> {
    backend()?.analyzer_catalog().await
}

#[server(prefix = "/ui", endpoint = "analysis/rescan", input = Json)]
pub async fn rescan_analyzers() -> Result<CatalogView, ApiError> {
    backend()?.rescan_analyzers().await
}

#[server(prefix = "/ui", endpoint = "analysis/enable", input = Json)]
pub async fn enable_analyzer(definition: String, input: AnalyzerInput) -> Result<Analyzer, ApiError> {
    backend()?.enable_analyzer(definition, input).await
}

#[server(prefix = "/ui", endpoint = "analysis/update", input = Json)]
pub async fn update_analyzer(id: String, input: AnalyzerInput) -> Result<Analyzer, ApiError> {
    backend()?.update_analyzer(id, input).await
}

#[server(prefix = "/ui", endpoint = "analysis/disable", input = Json)]
pub async fn disable_analyzer(id: String) -> Result<(), ApiError> {
    backend()?.disable_analyzer(id).await
}

#[server(prefix = "/ui", endpoint = "analysis/jobs", input = Json)]
pub async fn list_jobs(status: Option<JobStatus>, from: u64) -> Result<JobPage, ApiError> {
    backend()?.list_jobs(status, from).await
}

#[server(prefix = "/ui", endpoint = "analysis/delete-job", input = Json)]
pub async fn delete_job(id: String) -> Result<(), ApiError> {
    backend()?.delete_job(id).await
}

/// Remove finished jobs older than `days` days; how many were removed.
#[server(prefix = "/ui", endpoint = "analysis/purge", input = Json)]
pub async fn purge_jobs(days: u32) -> Result<u64, ApiError> {
    backend()?.purge_jobs(days).await
}
