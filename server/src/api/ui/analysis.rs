//! The analysis server functions over the analysis services.

use app::api::{AnalysisBackend, BulkOutcome, CatalogView, JobPage, JobView};
use app::model::*;
use serde_json::json;

use super::{MAX_PAGE, R, UiBackend};
use crate::core::query::Entity;
use crate::core::search::Search;
use crate::domain::analysis::engine::Engine;
use crate::domain::analysis::{analyzer, job};
use crate::domain::case::{self, observable};

/// The most analyzers one run names.
const MAX_ANALYZERS_PER_RUN: usize = 100;

fn outcome<T>(results: Vec<(String, crate::core::error::Result<T>)>) -> BulkOutcome {
    let mut out = BulkOutcome { done: 0, failed: Vec::new() };
    for (what, r) in results {
        match r {
            Ok(_) => out.done += 1,
            Err(e) => out.failed.push((what, ApiError::from(e).to_string())),
        }
    }
    out
}

impl UiBackend {
    async fn catalog_view(&self) -> R<CatalogView> {
        let caller = self.caller()?;
        let engine = self.state.service::<Engine>();
        let catalog = engine.catalog();
        let definitions = analyzer::definitions(&self.state);
        let settings = &self.state.settings.analysis;
        Ok(CatalogView {
            definitions,
            errors: catalog.errors.clone(),
            analyzers: analyzer::list(&self.state, caller).await?,
            // Paths of the server's disk: administrators only.
            directories: if caller.can(Permission::ManageAnalyzer) { settings.analyzer_dirs.iter().map(|d| d.display().to_string()).collect() } else { Vec::new() },
            concurrency: settings.concurrency,
        })
    }
}

#[async_trait::async_trait]
impl AnalysisBackend for UiBackend {
    async fn analyzers_for_observable(&self, id: String) -> R<Vec<Analyzer>> {
        Ok(job::analyzers_for(&self.state, self.caller()?, &id).await?)
    }

    async fn run_analyzers(&self, observables: Vec<String>, analyzers: Option<Vec<String>>, force: bool) -> R<BulkOutcome> {
        let caller = self.caller()?;
        if observables.len() > MAX_PAGE as usize || analyzers.as_ref().is_some_and(|a| a.len() > MAX_ANALYZERS_PER_RUN) {
            return Err(crate::core::error::Error::BadRequest(format!(
                "At most {MAX_PAGE} observables and {MAX_ANALYZERS_PER_RUN} analyzers at once"
            ))
            .into());
        }
        let mut results = Vec::new();
        for id in &observables {
            match &analyzers {
                Some(list) => {
                    for key in list {
                        let (cortex, a) = Analyzer::parse_run_key(key);
                        results.push((format!("{a} on {id}"), job::run_on_observable_at(&self.state, caller, cortex, id, a, force).await));
                    }
                }
                None => match job::run_all_on_observable(&self.state, caller, id).await {
                    Ok(list) => results.extend(list.into_iter().map(|(a, r)| (format!("{a} on {id}"), r))),
                    Err(e) => results.push((id.clone(), Err(e))),
                },
            }
        }
        Ok(outcome(results))
    }

    async fn observable_jobs(&self, id: String) -> R<Vec<Job>> {
        Ok(job::for_observable(&self.state, self.caller()?, &id).await?)
    }

    async fn running_analyses(&self, case_id: String) -> R<Vec<String>> {
        let caller = self.caller()?;
        let c = case::get(&self.state, caller, &case_id).await?;
        Ok(job::running_in_case(&self.state, caller, &c.id).await?)
    }

    async fn job_details(&self, id: String) -> R<JobView> {
        let caller = self.caller()?;
        let (j, report) = job::report(&self.state, caller, &id).await?;
        let observable = match &j.observable {
            Some(o) => observable::get_in(&caller.store(&self.state), o).await?,
            None => None,
        };
        let case_number = match &j.case {
            Some(c) => case::get(&self.state, caller, c).await.ok().map(|c| c.case_id),
            None => None,
        };
        let history = match &j.observable {
            Some(o) => job::for_observable(&self.state, caller, o).await?,
            None => Vec::new(),
        };
        Ok(JobView { job: j, report, observable, case_number, history })
    }

    async fn add_job_artifacts(&self, id: String, indices: Option<Vec<usize>>) -> R<BulkOutcome> {
        Ok(outcome(job::add_artifacts(&self.state, self.caller()?, &id, indices.as_deref()).await?))
    }

    async fn analyzer_catalog(&self) -> R<CatalogView> {
        self.catalog_view().await
    }

    async fn rescan_analyzers(&self) -> R<CatalogView> {
        analyzer::rescan(&self.state, self.caller()?).await?;
        self.catalog_view().await
    }

    async fn enable_analyzer(&self, definition: String, input: AnalyzerInput) -> R<Analyzer> {
        Ok(analyzer::enable(&self.state, self.caller()?, &definition, input).await?)
    }

    async fn update_analyzer(&self, id: String, input: AnalyzerInput) -> R<Analyzer> {
        Ok(analyzer::update(&self.state, self.caller()?, &id, input).await?)
    }

    async fn disable_analyzer(&self, id: String) -> R<()> {
        Ok(analyzer::disable(&self.state, self.caller()?, &id).await?)
    }

    async fn list_jobs(&self, status: Option<JobStatus>, from: u64) -> R<JobPage> {
        let query = match status {
            Some(s) => json!({ "_field": "status", "_value": s.as_str() }),
            None => json!({ "_not": { "_field": "status", "_value": "Deleted" } }),
        };
        let range = format!("{from}-{}", from + 50);
        let search = Search::parse(Entity::Job, &query, &["-createdAt".to_string()], Some(&range))?;
        let page = job::search(&self.state, self.caller()?, &search).await?;
        Ok(JobPage { jobs: page.items, total: page.total })
    }

    async fn delete_job(&self, id: String) -> R<()> {
        Ok(job::delete(&self.state, self.caller()?, &id).await?)
    }

    async fn purge_jobs(&self, days: u32) -> R<u64> {
        Ok(job::purge(&self.state, self.caller()?, days).await?)
    }
}
