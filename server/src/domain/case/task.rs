//! Tasks of a case: grouped, ordered, assigned; Waiting -> InProgress -> Completed (or Cancel).
//!
//! Rules: starting a task stamps its start date and, if nobody owns it, gives it to whoever
//! started it; completing or cancelling stamps its end date; reopening clears it. A task of a
//! deleted case cannot change.

use app::model::{AuditOperation, DEFAULT_TASK_GROUP, Permission, Task, NewTask, TaskPatch, TaskStatus};
use serde_json::{Map, Value, json};

use crate::core::audit::Tx;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::query::{Entity, Filter};
use crate::core::search::{self, Page, Search};
use crate::core::state::AppState;
use crate::domain::identity::user;
use crate::core::store::{OrgStore, new_id};
use crate::core::validate;
use crate::vars;

pub const TYPE: &str = "case_task";
const TABLE: &str = "task";

pub async fn get_in(store: &OrgStore, id: &str) -> Result<Option<Task>> {
    store.get(TABLE, id).await
}

pub async fn get(state: &AppState, caller: &Caller, id: &str) -> Result<Task> {
    get_in(&caller.store(state), id).await?.ok_or_else(|| Error::not_found("task", id))
}

/// The tasks of a case, by group order (`order`, then creation).
pub async fn list_for_case(state: &AppState, caller: &Caller, case_id: &str) -> Result<Vec<Task>> {
    let store = caller.store(state);
    crate::domain::case::get(state, caller, case_id).await?;
    let mut r = store
        .query("SELECT * FROM task WHERE org = $org AND case = $case ORDER BY `order`, createdAt", vars! { "case" => case_id })
        .await?;
    r.rows(0)
}

pub async fn search(state: &AppState, caller: &Caller, search: &Search) -> Result<Page<Task>> {
    search::run_listed(state, &caller.store(state), Entity::Task, search, search::Count::Exact).await
}

/// Side effects of a status change: dates and the owner.
fn status_effects(m: &mut Map<String, Value>, current: Option<&Task>, status: TaskStatus, caller: &Caller, now: i64) {
    let was = current.map(|t| t.status);
    if was == Some(status) {
        return;
    }
    match status {
        TaskStatus::InProgress => {
            if current.and_then(|t| t.start_date).is_none() && !m.contains_key("startDate") {
                m.insert("startDate".into(), json!(now));
            }
            if current.and_then(|t| t.owner.as_ref()).is_none() && !m.contains_key("owner") {
                m.insert("owner".into(), json!(caller.login));
            }
            if current.and_then(|t| t.end_date).is_some() {
                m.insert("endDate".into(), Value::Null);
            }
        }
        TaskStatus::Completed | TaskStatus::Cancel => {
            if !m.contains_key("endDate") {
                m.insert("endDate".into(), json!(now));
            }
        }
        TaskStatus::Waiting => {
            if current.and_then(|t| t.end_date).is_some() {
                m.insert("endDate".into(), Value::Null);
            }
        }
    }
}

/// An owner from a request: empty means "nobody", anything else must be a member.
async fn owner_value(state: &AppState, caller: &Caller, login: &str) -> Result<Value> {
    if login.trim().is_empty() {
        Ok(Value::Null)
    } else {
        Ok(json!(user::member_login(state, &caller.org_id, TYPE, "owner", login).await?))
    }
}

/// Validate a new task and make its document (without `case`, `org` and `id`).
pub(crate) async fn plan(state: &AppState, caller: &Caller, input: &NewTask, now: i64) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    m.insert("title".into(), json!(validate::title(TYPE, "title", &input.title, validate::MAX_TITLE)?));
    let group = match input.group.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_TASK_GROUP.to_string(),
        Some(g) => validate::title(TYPE, "group", g, 128)?,
    };
    m.insert("group".into(), json!(group));
    if let Some(d) = &input.description {
        m.insert("description".into(), json!(validate::text(TYPE, "description", d)?));
    }
    if let Some(o) = &input.owner {
        let v = owner_value(state, caller, o).await?;
        if !v.is_null() {
            m.insert("owner".into(), v);
        }
    }
    let status = input.status.unwrap_or_default();
    m.insert("status".into(), json!(status));
    m.insert("flag".into(), json!(input.flag.unwrap_or(false)));
    m.insert("order".into(), json!(input.order.unwrap_or(0)));
    if let Some(d) = input.start_date {
        m.insert("startDate".into(), json!(validate::date(TYPE, "startDate", d)?));
    }
    if let Some(d) = input.due_date {
        m.insert("dueDate".into(), json!(validate::date(TYPE, "dueDate", d)?));
    }
    status_effects(&mut m, None, status, caller, now);
    m.insert("createdAt".into(), json!(now));
    m.insert("createdBy".into(), json!(caller.login));
    Ok(m)
}

/// Statements creating a task of the case `case_expr` (a SurrealQL expression) from a planned
/// document, with its audit entry; returns the result index of the new task.
pub(crate) fn push_create(tx: &mut Tx, case_expr: &str, doc: &Map<String, Value>) -> usize {
    push_create_id(tx, &new_id(), case_expr, doc)
}

/// [`push_create`] with a given record key.
pub(crate) fn push_create_id(tx: &mut Tx, id: &str, case_expr: &str, doc: &Map<String, Value>) -> usize {
    let vid = tx.bind(id);
    let vdoc = tx.bind(doc);
    tx.push(format!(
        "LET $task = (CREATE type::record('task', {vid}) CONTENT object::extend({vdoc}, {{ org: $org, case: {case_expr} }}) RETURN AFTER)[0]"
    ));
    tx.audit(AuditOperation::Creation, TYPE, &vid, case_expr, &format!("object::extend({vdoc}, {{ case: {case_expr} }})"), None, Some("$task"));
    tx.push("$task")
}

pub async fn create(state: &AppState, caller: &Caller, case_id: &str, input: NewTask) -> Result<Task> {
    caller.require(Permission::ManageTask, "create tasks")?;
    let store = caller.store(state);
    let case = crate::domain::case::writable(&store, case_id).await?;
    let mut tx = Tx::new(caller);
    let doc = plan(state, caller, &input, tx.now()).await?;
    let vcase = tx.bind(&case.id);
    let idx = push_create(&mut tx, &vcase, &doc);
    tx.run(state, &store).await?.one(idx)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("task not created")))
}

/// The fields of `patch` that change `current`, validated, with their side effects.
async fn changes(state: &AppState, caller: &Caller, current: &Task, patch: TaskPatch, now: i64) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    if let Some(t) = &patch.title {
        m.insert("title".into(), json!(validate::title(TYPE, "title", t, validate::MAX_TITLE)?));
    }
    if let Some(g) = &patch.group {
        let g = if g.trim().is_empty() { DEFAULT_TASK_GROUP.to_string() } else { validate::title(TYPE, "group", g, 128)? };
        m.insert("group".into(), json!(g));
    }
    if let Some(d) = &patch.description {
        m.insert("description".into(), json!(validate::text(TYPE, "description", d)?));
    }
    if let Some(o) = &patch.owner {
        m.insert("owner".into(), owner_value(state, caller, o).await?);
    }
    if let Some(f) = patch.flag {
        m.insert("flag".into(), json!(f));
    }
    if let Some(o) = patch.order {
        m.insert("order".into(), json!(o));
    }
    for (k, v) in [("startDate", patch.start_date), ("endDate", patch.end_date), ("dueDate", patch.due_date)] {
        if let Some(d) = v {
            m.insert(k.into(), json!(validate::date(TYPE, k, d)?));
        }
    }
    if patch.clear_due_date == Some(true) {
        if patch.due_date.is_some() {
            return Err(Error::attribute(TYPE, "dueDate", "date", "give a due date or clear it, not both"));
        }
        m.insert("dueDate".into(), Value::Null);
    }
    if let Some(s) = patch.status {
        m.insert("status".into(), json!(s));
        status_effects(&mut m, Some(current), s, caller, now);
    }
    crate::core::audit::keep_changes(current, &mut m);
    Ok(m)
}

/// Change a task (only the given fields). Nothing changes: the task as it is, no audit entry.
pub async fn update(state: &AppState, caller: &Caller, id: &str, patch: TaskPatch) -> Result<Task> {
    caller.require(Permission::ManageTask, "change tasks")?;
    let store = caller.store(state);
    let current = get_in(&store, id).await?.ok_or_else(|| Error::not_found("task", id))?;
    crate::domain::case::writable(&store, &current.case_id).await?;
    let mut tx = Tx::new(caller);
    let mut m = changes(state, caller, &current, patch, tx.now()).await?;
    if m.is_empty() {
        return Ok(current);
    }
    m.insert("updatedAt".into(), json!(tx.now()));
    m.insert("updatedBy".into(), json!(caller.login));
    let idx = tx.update_record(TABLE, TYPE, id, &Value::Object(m), true);
    tx.run(state, &store).await?.one(idx)?.ok_or_else(|| Error::not_found("task", id))
}

/// Change several tasks the same way; each succeeds or fails on its own.
pub async fn bulk_update(state: &AppState, caller: &Caller, ids: &[String], patch: TaskPatch) -> Vec<(String, Result<Task>)> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push((id.clone(), update(state, caller, id, patch.clone()).await));
    }
    out
}

/// Delete a task for good, with its logs, in one transaction; the deletion is audited in its
/// case's activity (the task as it was, and how many logs went with it).
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    caller.require(Permission::ManageTask, "delete tasks")?;
    let store = caller.store(state);
    let current = get_in(&store, id).await?.ok_or_else(|| Error::not_found("task", id))?;
    crate::domain::case::writable(&store, &current.case_id).await?;
    let mut tx = Tx::new(caller);
    let vid = tx.bind(&current.id);
    tx.push(format!("LET $logs = (DELETE task_log WHERE org = $org AND task = {vid} RETURN BEFORE)"));
    tx.push(format!("LET $gone = (DELETE type::record('task', {vid}) WHERE org = $org RETURN BEFORE)[0]"));
    tx.push("IF $gone = NONE { THROW 'waggle:notfound: task not found' }");
    tx.audit(AuditOperation::Delete, TYPE, &vid, "$gone.case", "{ logs: array::len($logs) }", Some("$gone"), Some("$gone"));
    tx.run(state, &store).await?;
    Ok(())
}

/// Statements closing the open tasks of a case (the case is being resolved): in progress ->
/// Completed, waiting -> Cancel.
pub(crate) async fn push_close_open(tx: &mut Tx, store: &OrgStore, caller: &Caller, case_id: &str) -> Result<()> {
    let mut r = store
        .query(
            "SELECT * FROM task WHERE org = $org AND case = $case AND status IN ['Waiting', 'InProgress']",
            vars! { "case" => case_id },
        )
        .await?;
    let open: Vec<Task> = r.rows(0)?;
    for t in open {
        let status = if t.status == TaskStatus::InProgress { TaskStatus::Completed } else { TaskStatus::Cancel };
        let mut m = Map::new();
        m.insert("status".into(), json!(status));
        status_effects(&mut m, Some(&t), status, caller, tx.now());
        m.insert("updatedAt".into(), json!(tx.now()));
        m.insert("updatedBy".into(), json!(caller.login));
        tx.update_record(TABLE, TYPE, &t.id, &Value::Object(m), true);
    }
    Ok(())
}

/// Statements starting a waiting task (a log was added to it).
pub(crate) fn push_start(tx: &mut Tx, caller: &Caller, task: &Task) {
    if task.status != TaskStatus::Waiting {
        return;
    }
    let mut m = Map::new();
    m.insert("status".into(), json!(TaskStatus::InProgress));
    status_effects(&mut m, Some(task), TaskStatus::InProgress, caller, tx.now());
    m.insert("updatedAt".into(), json!(tx.now()));
    m.insert("updatedBy".into(), json!(caller.login));
    tx.update_record(TABLE, TYPE, &task.id, &Value::Object(m), true);
}

/// A filter for the tasks of one case.
pub fn of_case(case_id: &str) -> Filter {
    Filter::ParentId(Entity::Case, case_id.to_string())
}

/// Whether the task asks the organisation for an action (TheHive's `actionRequired`): an
/// organisation's analysts set it and mark it done. Waggle's cases belong to one
/// organisation, so the map has that one organisation.
pub async fn action_required(state: &AppState, caller: &Caller, id: &str) -> Result<(String, bool)> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Flag {
        #[serde(default)]
        action_required: bool,
    }
    let store = caller.store(state);
    get_in(&store, id).await?.ok_or_else(|| Error::not_found("task", id))?;
    let flag: Option<Flag> = store.get(TABLE, id).await?;
    Ok((caller.org_name.clone(), flag.is_some_and(|f| f.action_required)))
}

/// Ask the organisation (`org`: its name or id, the caller's) for an action on the task, or
/// mark it done.
pub async fn set_action_required(state: &AppState, caller: &Caller, id: &str, org: &str, required: bool) -> Result<()> {
    caller.require(Permission::ManageTask, "change tasks")?;
    if org != caller.org_name && org != caller.org_id {
        return Err(Error::BadRequest(format!("Task actions are asked of the organisation owning the case ({}), not {org}", caller.org_name)));
    }
    let store = caller.store(state);
    let current = get_in(&store, id).await?.ok_or_else(|| Error::not_found("task", id))?;
    crate::domain::case::writable(&store, &current.case_id).await?;
    let mut tx = Tx::new(caller);
    tx.update_record(TABLE, TYPE, id, &json!({ "actionRequired": required, "updatedAt": tx.now(), "updatedBy": caller.login }), true);
    tx.run(state, &store).await?;
    Ok(())
}
