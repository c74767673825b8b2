//! Links an analyst draws from a case (TheHive 5): to another case of the organisation, or to
//! an external page (a ticket, an intel report), each with a type of their choosing
//! (`related`, `duplicate`, `ticket`...). Links found through shared observables are computed
//! ([`super::links`]); these are declared.
//!
//! Rules: changing links needs `manageCase` on a case not deleted; a case links to another case
//! of its organisation, not to itself; an external link is an http(s) URL; the same link is
//! kept once; a case deleted for good takes its links (both ways) with it.

use app::model::{Id, Millis, Permission};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::core::audit::{self, Tx};
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::{core::validate, vars};

pub const TYPE: &str = "caseLink";
const TABLE: &str = "case_link";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseLink {
    pub id: Id,
    #[serde(rename = "case")]
    pub case_id: Id,
    /// `case` or `external`.
    pub kind: String,
    pub link_type: String,
    /// The other case's id, or the URL.
    pub target: String,
    pub created_at: Millis,
    pub created_by: String,
}

/// What a link points to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Case(String),
    Url(String),
}

async fn resolve(state: &AppState, caller: &Caller, case: &str, target: &Target) -> Result<(String, &'static str, String)> {
    let store = caller.store(state);
    let c = crate::domain::case::writable(&store, &crate::domain::case::get(state, caller, case).await?.id).await?;
    Ok(match target {
        Target::Case(other) => {
            let o = crate::domain::case::get(state, caller, other).await?;
            if o.id == c.id {
                return Err(Error::attribute(TYPE, "caseId", "string", "a case cannot link to itself"));
            }
            (c.id, "case", o.id)
        }
        Target::Url(url) => {
            let url = url.trim();
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2048 || url.chars().any(char::is_whitespace) {
                return Err(Error::attribute(TYPE, "url", "string", "an http(s) URL is required"));
            }
            (c.id, "external", url.to_string())
        }
    })
}

pub async fn add(state: &AppState, caller: &Caller, case: &str, link_type: &str, target: Target) -> Result<CaseLink> {
    caller.require(Permission::ManageCase, "link cases")?;
    let link_type = validate::title(TYPE, "type", link_type, 64)?;
    let (case_id, kind, target) = resolve(state, caller, case, &target).await?;
    if let Some(existing) = list(state, caller, &case_id).await?.into_iter().find(|l| l.kind == kind && l.target == target && l.link_type == link_type) {
        return Ok(existing);
    }
    let mut doc = serde_json::Map::new();
    doc.insert("case".into(), json!(case_id));
    doc.insert("kind".into(), json!(kind));
    doc.insert("linkType".into(), json!(link_type));
    doc.insert("target".into(), json!(target));
    audit::create_one(state, caller, TABLE, TYPE, doc, Some("case")).await
}

/// Remove the links of `case` to `target` of that type.
pub async fn remove(state: &AppState, caller: &Caller, case: &str, link_type: &str, target: Target) -> Result<()> {
    caller.require(Permission::ManageCase, "link cases")?;
    let (case_id, kind, target) = resolve(state, caller, case, &target).await?;
    let gone: Vec<CaseLink> = list(state, caller, &case_id).await?.into_iter().filter(|l| l.kind == kind && l.target == target && l.link_type == link_type).collect();
    if gone.is_empty() {
        return Err(Error::not_found("link", &target));
    }
    let mut tx = Tx::new(caller);
    for l in &gone {
        tx.delete_record(TABLE, TYPE, &l.id, true);
    }
    tx.run(state, &caller.store(state)).await?;
    Ok(())
}

/// The links declared from a case.
pub async fn list(state: &AppState, caller: &Caller, case_id: &str) -> Result<Vec<CaseLink>> {
    let mut r = caller.store(state).query("SELECT * FROM case_link WHERE org = $org AND case = $c ORDER BY createdAt ASC", vars! { "c" => case_id }).await?;
    r.rows(0)
}

/// The link types the organisation uses, sorted.
pub async fn types(state: &AppState, caller: &Caller) -> Result<Vec<String>> {
    let mut r = caller.store(state).query("SELECT VALUE linkType FROM case_link WHERE org = $org", vars! {}).await?;
    let mut all: Vec<String> = r.rows(0)?;
    all.sort();
    all.dedup();
    Ok(all)
}
