//! Procedures: an ATT&CK technique seen in a case or an alert, when, for which tactic.
//!
//! Rules: the technique must be in the catalogue ([`crate::domain::catalog::pattern`]); the
//! tactic, when given, must be one of the technique's (else it is the technique's first);
//! changing procedures needs `manageCase` (cases) or `manageAlert` (alerts); a case or alert
//! deleted for good takes its procedures with it.

use app::model::{AuditOperation, Id, Millis, Permission};
use serde::{Deserialize, Serialize};
use serde_json::{Map, json};

use super::comment::On;
use crate::core::audit::{self, Tx};
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::store::new_id;
use crate::domain::catalog::pattern;
use crate::{core::validate, vars};

pub const TYPE: &str = "procedure";
const TABLE: &str = "procedure";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Procedure {
    pub id: Id,
    pub parent: Id,
    pub parent_type: String,
    pub pattern_id: String,
    #[serde(default)]
    pub pattern_name: String,
    pub tactic: String,
    pub occur_date: Millis,
    #[serde(default)]
    pub description: Option<String>,
    pub created_at: Millis,
    pub created_by: String,
    #[serde(default)]
    pub updated_at: Option<Millis>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcedureInput {
    pub pattern_id: Option<String>,
    pub tactic: Option<String>,
    pub occur_date: Option<Millis>,
    pub description: Option<String>,
}

fn permission(parent_type: &str) -> Permission {
    if parent_type == "alert" { Permission::ManageAlert } else { Permission::ManageCase }
}

/// The technique and tactic an input names, checked against the catalogue.
async fn technique(state: &AppState, pattern_id: &str, tactic: Option<&str>) -> Result<(pattern::Pattern, String)> {
    let p = pattern::get(state, pattern_id).await.map_err(|_| {
        Error::NotFound(format!("Pattern {pattern_id} not found (import MITRE ATT&CK with POST /api/v1/pattern/import/attack)"))
    })?;
    let tactic = match tactic {
        Some(t) if p.tactics.iter().any(|x| x == t) => t.to_string(),
        Some(t) => return Err(Error::attribute(TYPE, "tactic", "string", format!("{t} is not a tactic of {pattern_id} ({})", p.tactics.join(", ")))),
        None => p.tactics.first().cloned().unwrap_or_default(),
    };
    Ok((p, tactic))
}

/// Add procedures to a case (id or number) or an alert, in one transaction.
pub async fn create(state: &AppState, caller: &Caller, on: On, id: &str, inputs: Vec<ProcedureInput>) -> Result<Vec<Procedure>> {
    let parent_type = if on == On::Case { "case" } else { "alert" };
    caller.require(permission(parent_type), "add procedures")?;
    let store = caller.store(state);
    let parent = match on {
        On::Case => crate::domain::case::writable(&store, &crate::domain::case::get(state, caller, id).await?.id).await?.id,
        On::Alert => crate::domain::alert::get(state, caller, id).await?.id,
    };
    if inputs.is_empty() || inputs.len() > 1000 {
        return Err(Error::attribute(TYPE, "procedures", "array", "1 to 1000 procedures"));
    }
    let mut tx = Tx::new(caller);
    let mut idxs = Vec::new();
    for input in inputs {
        let pattern_id = input.pattern_id.as_deref().ok_or_else(|| Error::attribute(TYPE, "patternId", "string", "patternId is required"))?;
        let occur = input.occur_date.ok_or_else(|| Error::attribute(TYPE, "occurDate", "date", "occurDate is required"))?;
        let (p, tactic) = technique(state, pattern_id, input.tactic.as_deref()).await?;
        let mut doc = Map::new();
        doc.insert("parent".into(), json!(parent));
        doc.insert("parentType".into(), json!(parent_type));
        doc.insert("case".into(), json!(parent));
        doc.insert("patternId".into(), json!(p.pattern_id));
        doc.insert("patternName".into(), json!(p.name));
        doc.insert("tactic".into(), json!(tactic));
        doc.insert("occurDate".into(), json!(validate::date(TYPE, "occurDate", occur)?));
        if let Some(d) = input.description.as_deref().filter(|d| !d.trim().is_empty()) {
            doc.insert("description".into(), json!(validate::text(TYPE, "description", d)?));
        }
        doc.insert("createdAt".into(), json!(tx.now()));
        doc.insert("createdBy".into(), json!(caller.login));
        let (vid, vdoc) = (tx.bind(new_id()), tx.bind(&doc));
        let n = idxs.len();
        tx.push(format!("LET $p{n} = (CREATE type::record('procedure', {vid}) CONTENT object::extend({vdoc}, {{ org: $org }}) RETURN AFTER)[0]"));
        tx.audit(AuditOperation::Creation, TYPE, &vid, &format!("$p{n}.case"), &vdoc, None, Some(&format!("$p{n}")));
        idxs.push(tx.push(format!("$p{n}")));
    }
    let mut r = tx.run(state, &store).await?;
    idxs.into_iter().map(|i| r.one(i)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("procedure not created")))).collect()
}

/// The procedures of a case or an alert, by date.
pub async fn list(state: &AppState, caller: &Caller, on: On, id: &str) -> Result<Vec<Procedure>> {
    let parent = match on {
        On::Case => crate::domain::case::get(state, caller, id).await?.id,
        On::Alert => crate::domain::alert::get(state, caller, id).await?.id,
    };
    let mut r = caller.store(state).query("SELECT * FROM procedure WHERE org = $org AND parent = $p ORDER BY occurDate ASC", vars! { "p" => parent }).await?;
    r.rows(0)
}

/// Every procedure of the organisation (at most `limit`), newest first.
pub async fn all(state: &AppState, caller: &Caller, limit: usize) -> Result<Vec<Procedure>> {
    let mut r = caller.store(state).query("SELECT * FROM procedure WHERE org = $org ORDER BY occurDate DESC LIMIT $n", vars! { "n" => limit }).await?;
    r.rows(0)
}

pub async fn get(state: &AppState, caller: &Caller, id: &str) -> Result<Procedure> {
    caller.store(state).get(TABLE, id).await?.ok_or_else(|| Error::not_found("procedure", id))
}

pub async fn update(state: &AppState, caller: &Caller, id: &str, input: ProcedureInput) -> Result<Procedure> {
    let current = get(state, caller, id).await?;
    caller.require(permission(&current.parent_type), "change procedures")?;
    let mut patch = Map::new();
    let pattern_id = input.pattern_id.clone().unwrap_or(current.pattern_id.clone());
    if input.pattern_id.is_some() || input.tactic.is_some() {
        // A new technique without a tactic takes the technique's first.
        let tactic = input.tactic.as_deref().or(if input.pattern_id.is_none() { Some(current.tactic.as_str()) } else { None });
        let (p, tactic) = technique(state, &pattern_id, tactic).await?;
        patch.insert("patternId".into(), json!(p.pattern_id));
        patch.insert("patternName".into(), json!(p.name));
        patch.insert("tactic".into(), json!(tactic));
    }
    if let Some(d) = input.occur_date {
        patch.insert("occurDate".into(), json!(validate::date(TYPE, "occurDate", d)?));
    }
    if let Some(d) = &input.description {
        patch.insert("description".into(), json!(validate::text(TYPE, "description", d)?));
    }
    if patch.is_empty() {
        return Ok(current);
    }
    audit::update_one(state, caller, TABLE, TYPE, id, patch, true).await
}

pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    let current = get(state, caller, id).await?;
    caller.require(permission(&current.parent_type), "delete procedures")?;
    audit::delete_one(state, caller, TABLE, TYPE, id, true).await
}
