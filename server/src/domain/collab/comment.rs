//! Comments on a case or an alert (TheHive 5): short markdown messages analysts exchange.
//!
//! Rules: a comment needs a message; commenting a case needs `manageCase`, an alert
//! `manageAlert`; only its author changes or deletes a comment, which then says it was edited.
//! A case deleted for good takes its comments with it.

use app::model::{Id, Millis, Permission};
use serde::{Deserialize, Serialize};
use serde_json::{Map, json};

use crate::core::audit;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
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
    let mut doc = Map::new();
    doc.insert("message".into(), json!(validate::text(TYPE, "message", message)?));
    doc.insert("parent".into(), json!(parent));
    doc.insert("parentType".into(), json!(on.as_str()));
    // The audit trail files the comment under its case or alert.
    doc.insert("case".into(), json!(parent));
    doc.insert("isEdited".into(), json!(false));
    audit::create_one(state, caller, TABLE, TYPE, doc, Some("case")).await
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
    let mut patch = Map::new();
    patch.insert("message".into(), json!(validate::text(TYPE, "message", message)?));
    patch.insert("isEdited".into(), json!(true));
    audit::update_one(state, caller, TABLE, TYPE, id, patch, true).await
}

/// Delete a comment (its author).
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    own(state, caller, id, "delete this comment").await?;
    audit::delete_one(state, caller, TABLE, TYPE, id, true).await
}

/// Every comment of the organisation, newest first (at most `limit`).
pub async fn all(state: &AppState, caller: &Caller, limit: usize) -> Result<Vec<Comment>> {
    let mut r = caller.store(state).query("SELECT * FROM comment WHERE org = $org ORDER BY createdAt DESC LIMIT $n", vars! { "n" => limit }).await?;
    r.rows(0)
}
