//! Task logs: what an analyst did, in markdown, optionally with one attachment.
//!
//! Rules: a log needs a message; adding a log to a waiting task starts it; deleting a log
//! marks it `Deleted` (the trail stays).

use app::model::{AuditOperation, LogStatus, Permission, TaskLog};
use serde_json::{Map, Value, json};

use crate::core::attachment::StoredFile;
use crate::core::audit::Tx;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::query::Entity;
use crate::core::search::{self, Page, Search};
use crate::core::state::AppState;
use crate::core::store::{OrgStore, new_id};
use crate::{domain::case::task, core::validate, vars};

pub const TYPE: &str = "case_task_log";
const TABLE: &str = "task_log";

pub async fn get_in(store: &OrgStore, id: &str) -> Result<Option<TaskLog>> {
    store.get(TABLE, id).await
}

pub async fn get(state: &AppState, caller: &Caller, id: &str) -> Result<TaskLog> {
    get_in(&caller.store(state), id).await?.ok_or_else(|| Error::not_found("log", id))
}

/// The logs of a task, newest first (deleted ones included: they say they are).
pub async fn list_for_task(state: &AppState, caller: &Caller, task_id: &str) -> Result<Vec<TaskLog>> {
    let store = caller.store(state);
    task::get(state, caller, task_id).await?;
    let mut r = store
        .query("SELECT * FROM task_log WHERE org = $org AND task = $task ORDER BY startDate DESC", vars! { "task" => task_id })
        .await?;
    r.rows(0)
}

pub async fn search(state: &AppState, caller: &Caller, search: &Search) -> Result<Page<TaskLog>> {
    search::run(&caller.store(state), Entity::Log, search, true).await
}

/// Whether the caller may add a log to this task (checked before an upload is read).
pub async fn check_can_add(state: &AppState, caller: &Caller, task_id: &str) -> Result<()> {
    caller.require(Permission::ManageTask, "add task logs")?;
    let store = caller.store(state);
    let t = task::get_in(&store, task_id).await?.ok_or_else(|| Error::not_found("task", task_id))?;
    crate::domain::case::writable(&store, &t.case_id).await?;
    Ok(())
}

/// Add a log to a task, with an optional attachment (discarded if the log is not created).
pub async fn create(state: &AppState, caller: &Caller, task_id: &str, message: &str, file: Option<StoredFile>) -> Result<TaskLog> {
    let created = create_with(state, caller, task_id, message, file.as_ref()).await;
    crate::core::attachment::discard_on_error(state, file, created).await
}

async fn create_with(state: &AppState, caller: &Caller, task_id: &str, message: &str, file: Option<&StoredFile>) -> Result<TaskLog> {
    caller.require(Permission::ManageTask, "add task logs")?;
    let store = caller.store(state);
    let t = task::get_in(&store, task_id).await?.ok_or_else(|| Error::not_found("task", task_id))?;
    crate::domain::case::writable(&store, &t.case_id).await?;
    if message.trim().is_empty() && file.is_none() {
        return Err(Error::attribute(TYPE, "message", "string", "message is required"));
    }
    let message = validate::text(TYPE, "message", message)?;
    let mut tx = Tx::new(caller);
    let mut doc = Map::new();
    doc.insert("message".into(), json!(message));
    doc.insert("startDate".into(), json!(tx.now()));
    doc.insert("status".into(), json!(LogStatus::Ok));
    doc.insert("owner".into(), json!(caller.login));
    doc.insert("task".into(), json!(t.id));
    doc.insert("case".into(), json!(t.case_id));
    if let Some(f) = file {
        doc.insert("attachment".into(), json!(f.attachment()));
        crate::core::attachment::register(&mut tx, f);
    }
    doc.insert("createdAt".into(), json!(tx.now()));
    doc.insert("createdBy".into(), json!(caller.login));
    let (vid, vdoc) = (tx.bind(new_id()), tx.bind(&doc));
    tx.push(format!("LET $log = (CREATE type::record('task_log', {vid}) CONTENT object::extend({vdoc}, {{ org: $org }}) RETURN AFTER)[0]"));
    tx.audit(AuditOperation::Creation, TYPE, &vid, "$log.case", &vdoc, None, Some("$log"));
    let idx = tx.push("$log");
    task::push_start(&mut tx, caller, &t);
    tx.run(state, &store).await?.one(idx)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("log not created")))
}

/// Change a log's message.
pub async fn update(state: &AppState, caller: &Caller, id: &str, message: &str) -> Result<TaskLog> {
    caller.require(Permission::ManageTask, "change task logs")?;
    let store = caller.store(state);
    let current = get_in(&store, id).await?.ok_or_else(|| Error::not_found("log", id))?;
    crate::domain::case::writable(&store, &current.case_id).await?;
    if message.trim().is_empty() {
        return Err(Error::attribute(TYPE, "message", "string", "message must not be empty"));
    }
    if message == current.message {
        return Ok(current);
    }
    let mut tx = Tx::new(caller);
    let patch = json!({ "message": validate::text(TYPE, "message", message)?, "updatedAt": tx.now(), "updatedBy": caller.login });
    let idx = tx.update_record(TABLE, TYPE, id, &patch, true);
    tx.run(state, &store).await?.one(idx)?.ok_or_else(|| Error::not_found("log", id))
}

/// Mark a log deleted (it stays in the trail).
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    caller.require(Permission::ManageTask, "delete task logs")?;
    let store = caller.store(state);
    let current = get_in(&store, id).await?.ok_or_else(|| Error::not_found("log", id))?;
    crate::domain::case::writable(&store, &current.case_id).await?;
    if current.status == LogStatus::Deleted {
        return Ok(());
    }
    let mut tx = Tx::new(caller);
    let patch: Value = json!({ "status": LogStatus::Deleted, "updatedAt": tx.now(), "updatedBy": caller.login });
    tx.update_record(TABLE, TYPE, id, &patch, true);
    tx.run(state, &store).await?;
    Ok(())
}
