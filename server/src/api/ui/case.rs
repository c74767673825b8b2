//! The case server functions over the case services.

use app::api::{BulkOutcome, CaseBackend, CaseDetail, CaseLookups, CasePage, CaseRow, Member};
use app::model::*;
use serde_json::Value;

use super::{MAX_PAGE, R, UiBackend};
use crate::core::query::Entity;
use crate::core::search::Search;
use crate::{core::audit, domain::case, domain::case::template, domain::catalog::custom_field, domain::catalog::data_type, core::markdown, domain::catalog::metric, domain::identity::ui_pref, domain::identity::user};

/// `(id, result)` pairs of a bulk service call as the UI's outcome.
pub(crate) fn outcome<T>(results: Vec<(String, crate::core::error::Result<T>)>) -> BulkOutcome {
    let mut out = BulkOutcome::default();
    for (id, r) in results {
        match r {
            Ok(_) => out.done += 1,
            Err(e) => out.failed.push((id, ApiError::from(e).to_string())),
        }
    }
    out
}

#[async_trait::async_trait]
impl CaseBackend for UiBackend {
    async fn list_cases(&self, query: Value, sort: Vec<String>, from: u64, to: u64) -> R<CasePage> {
        let caller = self.caller()?;
        // The page the client asks for, clamped as the alert list's is.
        let range = format!("{from}-{}", to.max(from).min(from.saturating_add(MAX_PAGE)));
        let search = Search::parse(Entity::Case, &query, &sort, Some(&range))?;
        let page = case::search(&self.state, caller, &search).await?;
        let ids: Vec<String> = page.items.iter().map(|c| c.id.clone()).collect();
        let mut stats = case::stats(&self.state, caller, &ids).await?;
        let items = page.items.into_iter().map(|c| CaseRow { stats: stats.remove(&c.id).unwrap_or_default(), case: c }).collect();
        Ok(CasePage { items, total: page.total })
    }

    async fn case_detail(&self, id: String) -> R<CaseDetail> {
        let caller = self.caller()?;
        let c = case::get(&self.state, caller, &id).await?;
        let stats = case::stats(&self.state, caller, std::slice::from_ref(&c.id)).await?.remove(&c.id).unwrap_or_default();
        Ok(CaseDetail {
            description_html: markdown::to_safe_html(&c.description),
            summary_html: markdown::to_safe_html(c.summary.as_deref().unwrap_or("")),
            case: c,
            stats,
        })
    }

    async fn create_case(&self, input: NewCase) -> R<Case> {
        Ok(case::create(&self.state, self.caller()?, input).await?)
    }

    async fn update_case(&self, id: String, patch: CasePatch) -> R<Case> {
        Ok(case::update(&self.state, self.caller()?, &id, patch).await?)
    }

    async fn bulk_update_cases(&self, ids: Vec<String>, patch: CasePatch) -> R<BulkOutcome> {
        Ok(outcome(case::bulk_update(&self.state, self.caller()?, &ids, patch).await))
    }

    async fn change_case_tags(&self, ids: Vec<String>, add: Vec<String>, remove: Vec<String>) -> R<BulkOutcome> {
        let changed = case::change_tags(&self.state, self.caller()?, &ids, &add, &remove).await?;
        Ok(BulkOutcome { done: changed.len() as u64, failed: Vec::new() })
    }

    async fn close_case(&self, id: String, closure: CaseClosure) -> R<Case> {
        Ok(case::close(&self.state, self.caller()?, &id, closure).await?)
    }

    async fn reopen_case(&self, id: String) -> R<Case> {
        Ok(case::reopen(&self.state, self.caller()?, &id).await?)
    }

    async fn delete_case(&self, id: String) -> R<()> {
        Ok(case::delete(&self.state, self.caller()?, &id).await?)
    }

    async fn merge_cases(&self, ids: Vec<String>) -> R<Case> {
        let caller = self.caller()?;
        // Numbers (#n) resolve to ids, as in the v0 adapter.
        let mut resolved = Vec::with_capacity(ids.len());
        for i in &ids {
            resolved.push(case::get(&self.state, caller, i).await?.id);
        }
        Ok(case::merge(&self.state, caller, &resolved).await?)
    }

    async fn case_links(&self, id: String) -> R<Vec<LinkedCase>> {
        Ok(case::links(&self.state, self.caller()?, &id).await?)
    }

    async fn case_activity(&self, id: String) -> R<Vec<AuditEntry>> {
        let caller = self.caller()?;
        let c = case::get(&self.state, caller, &id).await?;
        Ok(audit::flow(&self.state, caller, Some(&c.id), 200).await?)
    }

    async fn render_markdown(&self, text: String) -> R<String> {
        self.caller()?;
        Ok(markdown::to_safe_html(&text))
    }

    async fn case_lookups(&self) -> R<CaseLookups> {
        let caller = self.caller()?;
        let members = user::list(&self.state, caller)
            .await?
            .into_iter()
            .filter(|u| u.status == UserStatus::Ok && u.memberships.iter().any(|m| m.org_id == caller.org_id))
            .map(|u| Member { login: u.login, name: u.name })
            .collect();
        Ok(CaseLookups {
            templates: template::list(&self.state, caller).await?,
            custom_fields: custom_field::list(&self.state, caller).await?,
            metrics: metric::list(&self.state, caller).await?,
            data_types: data_type::list(&self.state, caller).await?,
            members,
        })
    }

    async fn saved_filter(&self, key: String) -> R<Option<String>> {
        Ok(ui_pref::get(&self.state, self.caller()?, &key).await?)
    }

    async fn save_filter(&self, key: String, value: Option<String>) -> R<()> {
        Ok(ui_pref::set(&self.state, self.caller()?, &key, value.as_deref()).await?)
    }
}
