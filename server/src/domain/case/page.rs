//! Case pages (TheHive 5): markdown documents of a case (a report draft, a runbook, notes),
//! grouped by category and ordered.
//!
//! Rules: a page needs a title and a category; changing pages needs `manageCase` on a case not
//! deleted; a case deleted for good takes its pages with it.

use app::model::{Id, Millis, Permission};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::core::audit;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::{core::validate, vars};

pub const TYPE: &str = "casePage";
const TABLE: &str = "case_page";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CasePage {
    pub id: Id,
    #[serde(rename = "case")]
    pub case_id: Id,
    pub title: String,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub order: i64,
    pub category: String,
    pub created_at: Millis,
    pub created_by: String,
    #[serde(default)]
    pub updated_at: Option<Millis>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

/// A new page, or the fields of a page to change.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInput {
    pub title: Option<String>,
    pub content: Option<String>,
    pub order: Option<i64>,
    pub category: Option<String>,
}

/// The validated fields of a page (or page template: `table` names it in errors).
pub(crate) fn checked(table: &str, input: &PageInput) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    if let Some(t) = &input.title {
        m.insert("title".into(), json!(validate::title(table, "title", t, validate::MAX_TITLE)?));
    }
    if let Some(c) = &input.content {
        m.insert("content".into(), json!(validate::text(table, "content", c)?));
    }
    if let Some(o) = input.order {
        m.insert("order".into(), json!(o));
    }
    if let Some(c) = &input.category {
        m.insert("category".into(), json!(validate::title(table, "category", c, validate::MAX_TITLE)?));
    }
    Ok(m)
}

/// Add a page to a case (id or number).
pub async fn create(state: &AppState, caller: &Caller, case_id: &str, input: PageInput) -> Result<CasePage> {
    caller.require(Permission::ManageCase, "add case pages")?;
    let store = caller.store(state);
    let case = crate::domain::case::writable(&store, &crate::domain::case::get(state, caller, case_id).await?.id).await?;
    if input.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(Error::attribute(TYPE, "title", "string", "title is required"));
    }
    if input.category.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(Error::attribute(TYPE, "category", "string", "category is required"));
    }
    let mut doc = checked(TYPE, &input)?;
    doc.entry("content").or_insert(json!(""));
    doc.entry("order").or_insert(json!(0));
    doc.insert("case".into(), json!(case.id));
    audit::create_one(state, caller, TABLE, TYPE, doc, Some("case")).await
}

/// The pages of a case, by category then order.
pub async fn list(state: &AppState, caller: &Caller, case_id: &str) -> Result<Vec<CasePage>> {
    let case = crate::domain::case::get(state, caller, case_id).await?;
    let mut r = caller
        .store(state)
        .query("SELECT * FROM case_page WHERE org = $org AND case = $c ORDER BY category ASC, order ASC, createdAt ASC", vars! { "c" => case.id })
        .await?;
    r.rows(0)
}

async fn of_case(state: &AppState, caller: &Caller, case_id: &str, page_id: &str) -> Result<CasePage> {
    let case = crate::domain::case::get(state, caller, case_id).await?;
    let p: CasePage = caller.store(state).get(TABLE, page_id).await?.ok_or_else(|| Error::not_found("page", page_id))?;
    if p.case_id != case.id {
        return Err(Error::not_found("page", page_id));
    }
    crate::domain::case::writable(&caller.store(state), &case.id).await?;
    Ok(p)
}

/// Change a page of a case.
pub async fn update(state: &AppState, caller: &Caller, case_id: &str, page_id: &str, input: PageInput) -> Result<CasePage> {
    caller.require(Permission::ManageCase, "change case pages")?;
    let current = of_case(state, caller, case_id, page_id).await?;
    let patch = checked(TYPE, &input)?;
    if patch.is_empty() {
        return Ok(current);
    }
    audit::update_one(state, caller, TABLE, TYPE, page_id, patch, true).await
}

/// Remove a page of a case.
pub async fn delete(state: &AppState, caller: &Caller, case_id: &str, page_id: &str) -> Result<()> {
    caller.require(Permission::ManageCase, "delete case pages")?;
    of_case(state, caller, case_id, page_id).await?;
    audit::delete_one(state, caller, TABLE, TYPE, page_id, true).await
}
