//! The alerts' server functions: translate to the alert service.

use app::api::{AlertBackend, AlertPreview, CaseChoice, TriageAction};
use app::model::*;
use serde_json::{Value, json};

use super::{MAX_PAGE, R, UiBackend};
use crate::core::query::Entity;
use crate::core::search::Search;
use crate::{domain::alert, domain::case, domain::case::template, core::markdown};

#[async_trait::async_trait]
impl AlertBackend for UiBackend {
    async fn list(&self, query: Value, sort: String, from: u64, size: u64) -> R<AlertPage> {
        let caller = self.caller()?;
        let range = format!("{from}-{}", from.saturating_add(size.clamp(1, MAX_PAGE)));
        let sort: Vec<String> = Some(sort).filter(|s| !s.trim().is_empty()).into_iter().collect();
        let search = Search::parse(Entity::Alert, &query, &sort, Some(&range))?;
        let (page, counts) = alert::list(&self.state, caller, &search).await?;
        Ok(AlertPage { items: page.items.iter().map(AlertSummary::from).collect(), total: page.total, total_exact: page.exact, counts })
    }

    async fn preview(&self, id: String) -> R<AlertPreview> {
        let caller = self.caller()?;
        let a = alert::get(&self.state, caller, &id).await?;
        let description_html = markdown::to_safe_html(&a.description);
        let alert = alert::with_similarity(&self.state, caller, a).await?;
        Ok(AlertPreview { alert, description_html })
    }

    async fn triage(&self, ids: Vec<String>, action: TriageAction) -> R<BulkOutcome> {
        let caller = self.caller()?;
        let mut out = BulkOutcome::default();
        for id in ids {
            let r = match action {
                TriageAction::Ignore => alert::mark_read(&self.state, caller, &id).await.map(|_| ()),
                TriageAction::Unread => alert::mark_unread(&self.state, caller, &id).await.map(|_| ()),
                TriageAction::Follow => alert::set_follow(&self.state, caller, &id, true).await.map(|_| ()),
                TriageAction::Unfollow => alert::set_follow(&self.state, caller, &id, false).await.map(|_| ()),
                TriageAction::Delete => alert::delete(&self.state, caller, &id).await,
            };
            match r {
                Ok(()) => out.done.push(id),
                Err(e) => out.failed.push((id, e.into())),
            }
        }
        Ok(out)
    }

    async fn import(&self, id: String, template: Option<String>) -> R<Case> {
        let caller = self.caller()?;
        Ok(alert::create_case(&self.state, caller, &id, template.filter(|t| !t.trim().is_empty())).await?)
    }

    async fn merge(&self, ids: Vec<String>, case: String) -> R<Case> {
        let caller = self.caller()?;
        Ok(alert::merge_into_case(&self.state, caller, &ids, &case).await?)
    }

    async fn templates(&self) -> R<Vec<String>> {
        let caller = self.caller()?;
        let mut names: Vec<String> = template::list(&self.state, caller).await?.into_iter().map(|t| t.name).collect();
        names.sort();
        Ok(names)
    }

    async fn find_cases(&self, text: String) -> R<Vec<CaseChoice>> {
        let caller = self.caller()?;
        let text = text.trim().trim_start_matches('#').to_string();
        let mut any = vec![];
        if let Ok(n) = text.parse::<i64>() {
            any.push(json!({ "caseId": n }));
        }
        if !text.is_empty() {
            any.push(json!({ "_like": { "_field": "title", "_value": text } }));
        }
        let query = if any.is_empty() {
            json!({ "_not": { "status": "Deleted" } })
        } else {
            json!({ "_and": [{ "_or": any }, { "_not": { "status": "Deleted" } }] })
        };
        let search = Search::parse(Entity::Case, &query, &["-createdAt".to_string()], Some("0-10"))?;
        let page = case::search(&self.state, caller, &search).await?;
        Ok(page
            .items
            .into_iter()
            .map(|c| CaseChoice { id: c.id, number: c.case_id, title: c.title, status: format!("{:?}", c.status) })
            .collect())
    }

    async fn sources(&self) -> R<Vec<AlertSourceSummary>> {
        Ok(alert::source_summaries(&self.state, self.caller()?).await?)
    }

    async fn set_source(&self, source: String, upsert: bool) -> R<AlertSource> {
        Ok(alert::set_source(&self.state, self.caller()?, &source, upsert).await?)
    }

    async fn case_alerts(&self, case: String) -> R<Vec<AlertSummary>> {
        let caller = self.caller()?;
        Ok(alert::for_case(&self.state, caller, &case).await?.iter().map(AlertSummary::from).collect())
    }
}
