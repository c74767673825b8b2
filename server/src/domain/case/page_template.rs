//! Page templates (TheHive 5): pages an organisation writes once and case templates link, so
//! that every case made from such a template starts with them (a report skeleton, a
//! checklist).
//!
//! Rules: a page template needs a title and a category; changing them needs
//! `manageCaseTemplate`; a case template links page templates of its organisation only; a case
//! created from a case template gets a page per linked page template, in the same
//! transaction.

use app::model::{AuditOperation, Id, Millis, Permission};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::page::PageInput;
use crate::core::audit::{self, Tx};
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::store::{OrgStore, new_id};
use crate::vars;

pub const TYPE: &str = "pageTemplate";
const TABLE: &str = "page_template";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageTemplate {
    pub id: Id,
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


pub async fn create(state: &AppState, caller: &Caller, input: PageInput) -> Result<PageTemplate> {
    caller.require(Permission::ManageCaseTemplate, "make page templates")?;
    if input.title.as_deref().is_none_or(|t| t.trim().is_empty()) || input.category.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(Error::attribute(TYPE, "title", "string", "title and category are required"));
    }
    let mut doc = super::page::checked(TYPE, &input)?;
    doc.entry("content").or_insert(json!(""));
    doc.entry("order").or_insert(json!(0));
    audit::create_one(state, caller, TABLE, TYPE, doc, None).await
}

pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<PageTemplate>> {
    let mut r = caller.store(state).query("SELECT * FROM page_template WHERE org = $org ORDER BY category ASC, order ASC, title ASC", vars! {}).await?;
    r.rows(0)
}

pub async fn get(state: &AppState, caller: &Caller, id: &str) -> Result<PageTemplate> {
    caller.store(state).get(TABLE, id).await?.ok_or_else(|| Error::not_found("page template", id))
}

pub async fn update(state: &AppState, caller: &Caller, id: &str, input: PageInput) -> Result<PageTemplate> {
    caller.require(Permission::ManageCaseTemplate, "change page templates")?;
    let current = get(state, caller, id).await?;
    let patch = super::page::checked(TYPE, &input)?;
    if patch.is_empty() {
        return Ok(current);
    }
    audit::update_one(state, caller, TABLE, TYPE, id, patch, false).await
}

/// Delete a page template (case templates stop linking it).
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    caller.require(Permission::ManageCaseTemplate, "delete page templates")?;
    get(state, caller, id).await?;
    let mut tx = Tx::new(caller);
    tx.delete_record(TABLE, TYPE, id, false);
    let vid = tx.bind(id);
    tx.push(format!("UPDATE case_template SET pageTemplates -= {vid} WHERE org = $org AND pageTemplates CONTAINS {vid}"));
    tx.run(state, &caller.store(state)).await?;
    Ok(())
}

/// Link page templates to a case template (replacing its links).
pub async fn link(state: &AppState, caller: &Caller, template_id: &str, ids: &[String]) -> Result<()> {
    caller.require(Permission::ManageCaseTemplate, "change case templates")?;
    let t = super::template::get(state, caller, template_id).await?;
    for id in ids {
        get(state, caller, id).await?;
    }
    let mut tx = Tx::new(caller);
    tx.update_record("case_template", super::template::TYPE, &t.id, &json!({ "pageTemplates": ids }), false);
    tx.run(state, &caller.store(state)).await?;
    Ok(())
}

/// The page templates a case template links, in their order.
pub async fn linked(store: &OrgStore, template_id: &str) -> Result<Vec<PageTemplate>> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Links {
        #[serde(default)]
        page_templates: Vec<String>,
    }
    let ids = match store.get::<Links>("case_template", template_id).await? {
        Some(l) if !l.page_templates.is_empty() => l.page_templates,
        _ => return Ok(Vec::new()),
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(t) = store.get::<PageTemplate>(TABLE, id).await? {
            out.push(t);
        }
    }
    out.sort_by(|a, b| (a.category.as_str(), a.order).cmp(&(b.category.as_str(), b.order)));
    Ok(out)
}

/// Plan a page per page template for a case being created (`case_expr` names it).
pub(crate) fn push_pages(tx: &mut Tx, case_expr: &str, templates: &[PageTemplate], login: &str) {
    for t in templates {
        let doc = json!({
            "title": t.title, "content": t.content, "order": t.order, "category": t.category,
            "createdAt": tx.now(), "createdBy": login,
        });
        let (vid, vdoc) = (tx.bind(new_id()), tx.bind(&doc));
        tx.push(format!("LET $page = (CREATE type::record('case_page', {vid}) CONTENT object::extend({vdoc}, {{ org: $org, case: {case_expr} }}) RETURN AFTER)[0]"));
        tx.audit(AuditOperation::Creation, super::page::TYPE, &vid, case_expr, &format!("object::extend({vdoc}, {{ case: {case_expr} }})"), None, Some("$page"));
    }
}
