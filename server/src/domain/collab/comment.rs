//! Comments on a case or an alert (TheHive 5): short markdown messages analysts exchange.
//!
//! Rules: a comment needs a message; commenting a case needs `manageCase`, an alert
//! `manageAlert`; only its author changes or deletes a comment, which then says it was edited.
//! A case deleted for good takes its comments with it.

use app::model::{AuditOperation, Id, Millis, Permission};
use serde::{Deserialize, Serialize};
use serde_json::{Map, json};

use crate::core::audit::Tx;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::store::new_id;
use crate::{core::validate, vars};

pub const TYPE: &str = "comment";
const TABLE: &str = "comment";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    pub id: Id,
    /// The case or alert commented.
    pub parent: Id,
    /// `case` or `alert`.
    pub parent_type: String,
    pub message: String,
    #[serde(default)]
    pub is_edited: bool,
    pub created_at: Millis,
    pub created_by: String,
    #[serde(default)]
    pub updated_at: Option<Millis>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

/// What a comment is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    Case,
    Alert,
}

impl On {
    fn as_str(self) -> &'static str {
        match self {
            On::Case => "case",
            On::Alert => "alert",
        }
    }

    fn permission(self) -> Permission {
        match self {
            On::Case => Permission::ManageCase,
            On::Alert => Permission::ManageAlert,
        }
    }
}

/// The id of the case (id or number) or alert commented, checked visible and writable.
async fn parent_id(state: &AppState, caller: &Caller, on: On, id: &str) -> Result<Id> {
    Ok(match on {
        On::Case => crate::domain::case::writable(&caller.store(state), &crate::domain::case::get(state, caller, id).await?.id).await?.id,
        On::Alert => crate::domain::alert::get(state, caller, id).await?.id,
    })
}

/// Comment a case or an alert.
pub async fn create(state: &AppState, caller: &Caller, on: On, id: &str, message: &str) -> Result<Comment> {
    caller.require(on.permission(), "comment")?;
    let parent = parent_id(state, caller, on, id).await?;
    if message.trim().is_empty() {
        return Err(Error::attribute(TYPE, "message", "string", "message is required"));
    }
    let mut tx = Tx::new(caller);
    let mut doc = Map::new();
    doc.insert("message".into(), json!(validate::text(TYPE, "message", message)?));
    doc.insert("parent".into(), json!(parent));
    doc.insert("parentType".into(), json!(on.as_str()));
    // The audit trail files the comment under its case or alert.
    doc.insert("case".into(), json!(parent));
    doc.insert("isEdited".into(), json!(false));
    doc.insert("createdAt".into(), json!(tx.now()));
    doc.insert("createdBy".into(), json!(caller.login));
    let (vid, vdoc) = (tx.bind(new_id()), tx.bind(&doc));
    tx.push(format!("LET $c = (CREATE type::record('comment', {vid}) CONTENT object::extend({vdoc}, {{ org: $org }}) RETURN AFTER)[0]"));
    tx.audit(AuditOperation::Creation, TYPE, &vid, "$c.case", &vdoc, None, Some("$c"));
    let idx = tx.push("$c");
    tx.run(state, &caller.store(state)).await?.one(idx)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("comment not created")))
}

/// The comments of a case or an alert, oldest first.
pub async fn list(state: &AppState, caller: &Caller, on: On, id: &str) -> Result<Vec<Comment>> {
    let parent = match on {
        On::Case => crate::domain::case::get(state, caller, id).await?.id,
        On::Alert => crate::domain::alert::get(state, caller, id).await?.id,
    };
    let mut r = caller.store(state).query("SELECT * FROM comment WHERE org = $org AND parent = $p ORDER BY createdAt ASC", vars! { "p" => parent }).await?;
    r.rows(0)
}

pub async fn get(state: &AppState, caller: &Caller, id: &str) -> Result<Comment> {
    caller.store(state).get(TABLE, id).await?.ok_or_else(|| Error::not_found("comment", id))
}

async fn own(state: &AppState, caller: &Caller, id: &str, what: &str) -> Result<Comment> {
    let c = get(state, caller, id).await?;
    caller.require(if c.parent_type == "alert" { Permission::ManageAlert } else { Permission::ManageCase }, what)?;
    if c.created_by != caller.login {
        return Err(Error::forbidden(&format!("{what} (only its author may)")));
    }
    Ok(c)
}

/// Change a comment's message (its author).
pub async fn update(state: &AppState, caller: &Caller, id: &str, message: &str) -> Result<Comment> {
    let current = own(state, caller, id, "change this comment").await?;
    if message.trim().is_empty() {
        return Err(Error::attribute(TYPE, "message", "string", "message must not be empty"));
    }
    if message == current.message {
        return Ok(current);
    }
    let mut tx = Tx::new(caller);
    let patch = json!({ "message": validate::text(TYPE, "message", message)?, "isEdited": true, "updatedAt": tx.now(), "updatedBy": caller.login });
    let idx = tx.update_record(TABLE, TYPE, id, &patch, true);
    tx.run(state, &caller.store(state)).await?.one(idx)?.ok_or_else(|| Error::not_found("comment", id))
}

/// Delete a comment (its author).
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    own(state, caller, id, "delete this comment").await?;
    let mut tx = Tx::new(caller);
    tx.delete_record(TABLE, TYPE, id, true);
    tx.run(state, &caller.store(state)).await?;
    Ok(())
}

/// Every comment of the organisation, newest first (at most `limit`).
pub async fn all(state: &AppState, caller: &Caller, limit: usize) -> Result<Vec<Comment>> {
    let mut r = caller.store(state).query("SELECT * FROM comment WHERE org = $org ORDER BY createdAt DESC LIMIT $n", vars! { "n" => limit }).await?;
    r.rows(0)
}
