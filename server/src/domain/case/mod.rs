//! Cases: create (optionally from a template), read, update, close and reopen, flag, soft and
//! forced delete, links to other cases, statistics; merging lives in [`merge`].
//!
//! Rules: `caseId` numbers are a sequence per organisation; a case needs a title and a
//! description; the owner is a member of the organisation (the creator by default); resolving
//! a case stamps its end date and closes its open tasks, reopening clears the end date; a
//! deleted case is read-only.

pub mod event;
pub mod link;
mod merge;
pub mod observable;
pub mod page;
pub mod page_template;
pub mod task;
pub mod task_log;
pub mod stage;
pub mod template;

use std::collections::{BTreeMap, HashMap, HashSet};

use app::model::{
    AuditOperation, Case, CaseClosure, CaseStage, CasePatch, CaseStats, CaseStatus, LinkedCase, NewCase, NewObservables, Observable,
    Permission, ResolutionStatus, NewTask, TaskStatus,
};
use serde_json::{Map, Value, json};

pub use merge::merge;

use crate::core::attachment::StoredFile;
use crate::core::audit::Tx;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::query::Entity;
use crate::core::search::{self, Count, Page, Search};
use crate::core::state::AppState;
use crate::domain::identity::user;
use crate::core::store::{OrgStore, new_id};
use crate::domain::catalog::custom_field;
use crate::{core::validate, vars};

pub const TYPE: &str = "case";
const TABLE: &str = "case";

/// What a server-side caller (alert promotion) may create with a case, in the same
/// transaction: observables with values and observables with stored files.
#[derive(Debug, Default)]
pub struct CaseExtras {
    pub observables: Vec<NewObservables>,
    pub files: Vec<(NewObservables, StoredFile)>,
    /// Analyzers' mini-reports the observables bring (an alert's, analysed during triage), by
    /// (data type, value or `file:<sha256>`).
    pub reports: std::collections::HashMap<(String, String), serde_json::Map<String, serde_json::Value>>,
}

/// An observable document's identity: (data type, value or `file:<sha256>`).
pub(crate) fn observable_identity(d: &serde_json::Map<String, serde_json::Value>) -> (String, String) {
    let dt = d.get("dataType").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    match d.get("data").and_then(|v| v.as_str()) {
        Some(v) => (dt, v.to_string()),
        None => (dt, format!("file:{}", d.get("attachment").and_then(|a| a.get("id")).and_then(|v| v.as_str()).unwrap_or_default())),
    }
}

/// The case number `key` names (`42` or `#42`), if it is one.
fn case_number(key: &str) -> Option<i64> {
    key.strip_prefix('#').unwrap_or(key).parse().ok()
}

/// What follows "Case #n" when a deleted case is asked to change.
const DELETED: &str = "is deleted: it cannot change";

/// A case by id, or by number (`42` or `#42`).
pub async fn get_in(store: &OrgStore, id_or_number: &str) -> Result<Option<Case>> {
    let key = id_or_number.trim();
    if let Some(c) = store.get::<Case>(TABLE, key).await? {
        return Ok(Some(c));
    }
    if let Some(n) = case_number(key) {
        let mut r = store.query("SELECT * FROM case WHERE org = $org AND caseId = $n", vars! { "n" => n }).await?;
        return r.one(0);
    }
    Ok(None)
}

pub async fn get(state: &AppState, caller: &Caller, id: &str) -> Result<Case> {
    get_in(&caller.store(state), id).await?.ok_or_else(|| Error::not_found("case", id))
}

/// The case, if it may change: it exists in the organisation and is not deleted.
pub(crate) async fn writable(store: &OrgStore, id: &str) -> Result<Case> {
    let c = get_in(store, id).await?.ok_or_else(|| Error::not_found("case", id))?;
    if c.status == CaseStatus::Deleted {
        return Err(Error::BadRequest(format!("Case #{} {DELETED}", c.case_id)));
    }
    Ok(c)
}

/// The id of a case named by `id_or_number`, checked by [`push_writable_guard`] in the writing
/// transaction itself when it is a record id (one round trip instead of a read before the
/// write); a case number is looked up first ([`writable`]).
pub(crate) async fn writable_id(store: &OrgStore, id_or_number: &str) -> Result<(String, bool)> {
    let key = id_or_number.trim();
    if key.is_empty() || case_number(key).is_some() {
        return Ok((writable(store, key).await?.id, false));
    }
    Ok((key.to_string(), true))
}

/// Abort the transaction unless the case bound as `vcase` exists in the organisation and is not
/// deleted: the same rule and messages as [`writable`].
pub(crate) fn push_writable_guard(tx: &mut Tx, vcase: &str) {
    tx.push(format!("LET $target = (SELECT status, caseId FROM type::record('case', {vcase}) WHERE org = $org)[0]"));
    tx.push(format!("IF $target = NONE {{ THROW string::concat('waggle:notfound: case ', {vcase}, ' not found') }}"));
    tx.push(format!(
        "IF $target.status = '{}' {{ THROW string::concat('waggle:bad: Case #', <string> $target.caseId, ' {DELETED}') }}",
        CaseStatus::Deleted.as_str()
    ));
}

pub async fn search(state: &AppState, caller: &Caller, search: &Search) -> Result<Page<Case>> {
    search::run_listed(state, &caller.store(state), Entity::Case, search, Count::Exact).await
}

fn valid_metrics(metrics: &BTreeMap<String, Option<f64>>) -> Result<()> {
    for (k, v) in metrics {
        if k.trim().is_empty() || k.len() > 128 || k.contains('.') {
            return Err(Error::attribute(TYPE, "metrics", "object", format!("invalid metric name {k:?}")));
        }
        if v.is_some_and(|f| !f.is_finite()) {
            return Err(Error::attribute(TYPE, "metrics", "object", format!("metric {k} must be a number")));
        }
    }
    Ok(())
}

pub async fn create(state: &AppState, caller: &Caller, input: NewCase) -> Result<Case> {
    create_with(state, caller, input, CaseExtras::default()).await
}

/// Create a case (and its template's tasks, the given tasks and observables) in one
/// transaction.
pub async fn create_with(state: &AppState, caller: &Caller, input: NewCase, extras: CaseExtras) -> Result<Case> {
    plan_create(state, caller, input, extras).await?.commit(state).await
}

/// A case creation whose transaction has not run yet: another service may add its own writes
/// to it (promoting an alert marks the alert imported in the same transaction).
pub(crate) struct PlannedCase {
    pub tx: Tx,
    pub store: OrgStore,
    /// The new case's id.
    pub id: String,
    idx: usize,
    login: String,
}

impl PlannedCase {
    pub async fn commit(self, state: &AppState) -> Result<Case> {
        let case: Case =
            self.tx.run(state, &self.store).await?.one(self.idx)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("case not created")))?;
        tracing::info!(case = %case.id, number = case.case_id, by = %self.login, "case created");
        Ok(case)
    }
}

/// Validate a new case and plan its writes (see [`PlannedCase`]).
pub(crate) async fn plan_create(state: &AppState, caller: &Caller, input: NewCase, extras: CaseExtras) -> Result<PlannedCase> {
    caller.require(Permission::ManageCase, "create cases")?;
    let store = caller.store(state);
    let template = match input.template.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(name) => Some(
            template::find(&store, name)
                .await?
                .ok_or_else(|| Error::NotFound(format!("Case template {name} not found")))?,
        ),
        None => None,
    };
    let mut tx = Tx::new(caller);
    let now = tx.now();

    let mut title = validate::title(TYPE, "title", &input.title, validate::MAX_TITLE)?;
    if let Some(prefix) = template.as_ref().and_then(|t| t.title_prefix.as_deref()).map(str::trim).filter(|p| !p.is_empty()) {
        title = validate::title(TYPE, "title", &format!("{prefix} {title}"), validate::MAX_TITLE + 64)?;
    }
    let description = input
        .description
        .clone()
        .filter(|d| !d.trim().is_empty())
        .or_else(|| template.as_ref().and_then(|t| t.description.clone()).filter(|d| !d.trim().is_empty()))
        .ok_or_else(|| Error::attribute(TYPE, "description", "string", "description is required"))?;
    let description = validate::text(TYPE, "description", &description)?;
    let severity = validate::severity(TYPE, input.severity.or(template.as_ref().and_then(|t| t.severity)).unwrap_or(2))?;
    let tlp = validate::tlp(TYPE, "tlp", input.tlp.or(template.as_ref().and_then(|t| t.tlp)).unwrap_or(2))?;
    let pap = validate::tlp(TYPE, "pap", input.pap.or(template.as_ref().and_then(|t| t.pap)).unwrap_or(2))?;
    let flag = input.flag.unwrap_or(template.as_ref().is_some_and(|t| t.flag));
    let tags = validate::tags(
        TYPE,
        &validate::tag_union([template.as_ref().map(|t| t.tags.clone()).unwrap_or_default(), input.tags.clone().unwrap_or_default()].iter()),
    )?;
    let owner = match input.owner.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        Some(o) => user::member_login(state, &caller.org_id, TYPE, "owner", o).await?,
        None => caller.login.clone(),
    };
    let start_date = validate::date(TYPE, "startDate", input.start_date.unwrap_or(now))?;
    let mut metrics = template.as_ref().map(|t| t.metrics.clone()).unwrap_or_default();
    metrics.extend(input.metrics.clone().unwrap_or_default());
    valid_metrics(&metrics)?;
    let mut custom_fields = template.as_ref().map(|t| t.custom_fields.clone()).unwrap_or_default();
    custom_fields.extend(input.custom_fields.clone().unwrap_or_default());
    custom_field::check_values(state, &store, TYPE, &mut custom_fields, true).await?;

    let mut doc = Map::new();
    doc.insert("title".into(), json!(title));
    doc.insert("description".into(), json!(description));
    doc.insert("severity".into(), json!(severity));
    doc.insert("owner".into(), json!(owner));
    doc.insert("startDate".into(), json!(start_date));
    doc.insert("tags".into(), json!(tags));
    doc.insert("flag".into(), json!(flag));
    doc.insert("tlp".into(), json!(tlp));
    doc.insert("pap".into(), json!(pap));
    doc.insert("status".into(), json!(CaseStatus::Open));
    if let Some(stage) = input.stage.filter(|s| *s != CaseStage::New) {
        doc.insert("stage".into(), json!(stage));
    }
    if let Some(s) = input.summary.as_deref().filter(|s| !s.is_empty()) {
        doc.insert("summary".into(), json!(validate::text(TYPE, "summary", s)?));
    }
    doc.insert("metrics".into(), json!(metrics));
    doc.insert("customFields".into(), json!(custom_fields));
    doc.insert("mergeFrom".into(), json!([]));
    if let Some(t) = &template {
        doc.insert("template".into(), json!(t.name));
    }
    doc.insert("createdAt".into(), json!(now));
    doc.insert("createdBy".into(), json!(caller.login));

    // Tasks: the template's (their owners only if still members), then the given ones.
    let mut task_docs = Vec::new();
    if let Some(t) = &template {
        for tt in &t.tasks {
            let owner = match tt.owner.as_deref().filter(|o| !o.trim().is_empty()) {
                Some(o) => user::member_login(state, &caller.org_id, "case_task", "owner", o).await.ok(),
                None => None,
            };
            let input = NewTask {
                title: tt.title.clone(),
                group: tt.group.clone(),
                description: tt.description.clone(),
                owner,
                flag: Some(tt.flag),
                order: Some(tt.order),
                ..Default::default()
            };
            task_docs.push(task::plan(state, caller, &input, now).await?);
        }
    }
    for t in &input.tasks {
        task_docs.push(task::plan(state, caller, t, now).await?);
    }
    let mut obs_docs = Vec::new();
    for o in &extras.observables {
        obs_docs.extend(observable::plan(state, &store, caller, o, None, now).await?);
    }
    for (o, f) in &extras.files {
        obs_docs.extend(observable::plan(state, &store, caller, o, Some(f), now).await?);
        crate::core::attachment::register(&mut tx, f);
    }
    observable::refuse_duplicates(&obs_docs)?;
    for d in obs_docs.iter_mut() {
        if let Some(r) = extras.reports.get(&observable_identity(d)) {
            d.insert("reports".into(), serde_json::Value::Object(r.clone()));
        }
    }

    let id = new_id();
    let vid = tx.bind(&id);
    let vdoc = tx.bind(&doc);
    tx.push("LET $number = (UPSERT type::record('counter', [$org, 'caseId']) SET value += 1 RETURN AFTER)[0].value");
    tx.push(format!(
        "LET $case = (CREATE type::record('case', {vid}) CONTENT object::extend({vdoc}, {{ org: $org, caseId: $number }}) RETURN AFTER)[0]"
    ));
    tx.audit(AuditOperation::Creation, TYPE, &vid, &vid, &format!("object::extend({vdoc}, {{ caseId: $number }})"), None, Some("$case"));
    let idx = tx.push("$case");
    for d in &task_docs {
        task::push_create(&mut tx, &vid, d);
    }
    for d in &obs_docs {
        observable::push_create(&mut tx, &vid, d);
    }
    if let Some(t) = &template {
        page_template::push_pages(&mut tx, &vid, &page_template::linked(&store, &t.id).await?, &caller.login);
    }
    Ok(PlannedCase { tx, store, id, idx, login: caller.login.clone() })
}

/// The validated fields of `patch` that change `current`, with the side effects of a status
/// change (returned as the second value: whether open tasks must be closed).
async fn changes(state: &AppState, caller: &Caller, store: &OrgStore, current: &Case, patch: CasePatch, now: i64) -> Result<(Map<String, Value>, bool)> {
    let mut m = Map::new();
    let mut close_tasks = false;
    if let Some(t) = &patch.title {
        m.insert("title".into(), json!(validate::title(TYPE, "title", t, validate::MAX_TITLE + 64)?));
    }
    if let Some(d) = &patch.description {
        if d.trim().is_empty() {
            return Err(Error::attribute(TYPE, "description", "string", "description must not be empty"));
        }
        m.insert("description".into(), json!(validate::text(TYPE, "description", d)?));
    }
    if let Some(s) = patch.severity {
        m.insert("severity".into(), json!(validate::severity(TYPE, s)?));
    }
    if let Some(o) = &patch.owner {
        let v = if o.trim().is_empty() { Value::Null } else { json!(user::member_login(state, &caller.org_id, TYPE, "owner", o).await?) };
        m.insert("owner".into(), v);
    }
    for (k, v) in [("startDate", patch.start_date), ("endDate", patch.end_date)] {
        if let Some(d) = v {
            m.insert(k.into(), json!(validate::date(TYPE, k, d)?));
        }
    }
    if let Some(t) = &patch.tags {
        m.insert("tags".into(), json!(validate::tags(TYPE, t)?));
    }
    if let Some(f) = patch.flag {
        m.insert("flag".into(), json!(f));
    }
    if let Some(t) = patch.tlp {
        m.insert("tlp".into(), json!(validate::tlp(TYPE, "tlp", t)?));
    }
    if let Some(p) = patch.pap {
        m.insert("pap".into(), json!(validate::tlp(TYPE, "pap", p)?));
    }
    if let Some(r) = patch.resolution_status {
        m.insert("resolutionStatus".into(), json!(r));
    }
    if let Some(i) = patch.impact_status {
        m.insert("impactStatus".into(), json!(i));
    }
    if let Some(s) = &patch.summary {
        m.insert("summary".into(), json!(validate::text(TYPE, "summary", s)?));
    }
    if let Some(metrics) = &patch.metrics {
        let mut all = current.metrics.clone();
        all.extend(metrics.clone());
        valid_metrics(&all)?;
        m.insert("metrics".into(), json!(all));
    }
    if let Some(cf) = &patch.custom_fields {
        let mut given = cf.clone();
        custom_field::check_values(state, store, TYPE, &mut given, false).await?;
        let mut all = current.custom_fields.clone();
        all.extend(given);
        m.insert("customFields".into(), json!(all));
    }
    match patch.status {
        Some(CaseStatus::Deleted) if current.status != CaseStatus::Deleted => {
            return Err(Error::attribute(TYPE, "status", "string", "delete a case with DELETE /api/case/{id}"));
        }
        Some(CaseStatus::Resolved) if current.status == CaseStatus::Open => {
            m.insert("status".into(), json!(CaseStatus::Resolved));
            if !m.contains_key("endDate") {
                m.insert("endDate".into(), json!(now));
            }
            if current.resolution_status.is_none() && !m.contains_key("resolutionStatus") {
                m.insert("resolutionStatus".into(), json!(ResolutionStatus::Indeterminate));
            }
            close_tasks = true;
        }
        Some(CaseStatus::Open) if current.status == CaseStatus::Resolved => {
            m.insert("status".into(), json!(CaseStatus::Open));
            m.insert("endDate".into(), Value::Null);
            // A reopened case is being worked on.
            if patch.stage.is_none() {
                m.insert("stage".into(), json!(CaseStage::InProgress));
            }
        }
        _ => {}
    }
    if let Some(stage) = patch.stage {
        if current.stage.unwrap_or_default() != stage || m.get("status").is_some() {
            m.insert("stage".into(), json!(stage));
        }
    }
    crate::core::audit::keep_changes(current, &mut m);
    Ok((m, close_tasks))
}

/// Change a case (only the given fields). Nothing changes: the case as it is, no audit entry.
pub async fn update(state: &AppState, caller: &Caller, id: &str, patch: CasePatch) -> Result<Case> {
    caller.require(Permission::ManageCase, "change cases")?;
    let store = caller.store(state);
    let current = writable(&store, id).await?;
    let mut tx = Tx::new(caller);
    let (mut m, close_tasks) = changes(state, caller, &store, &current, patch, tx.now()).await?;
    if m.is_empty() {
        return Ok(current);
    }
    m.insert("updatedAt".into(), json!(tx.now()));
    m.insert("updatedBy".into(), json!(caller.login));
    let idx = tx.update_record(TABLE, TYPE, &current.id, &Value::Object(m), false);
    if close_tasks {
        task::push_close_open(&mut tx, &store, caller, &current.id).await?;
    }
    tx.run(state, &store).await?.one(idx)?.ok_or_else(|| Error::not_found("case", id))
}

/// Resolve a case: how it ended; its open tasks are closed.
pub async fn close(state: &AppState, caller: &Caller, id: &str, closure: CaseClosure) -> Result<Case> {
    if closure.summary.trim().is_empty() {
        return Err(Error::attribute(TYPE, "summary", "string", "a summary is required to close a case"));
    }
    let patch = CasePatch {
        status: Some(CaseStatus::Resolved),
        resolution_status: Some(closure.resolution_status),
        impact_status: closure.impact_status,
        summary: Some(closure.summary),
        ..Default::default()
    };
    update(state, caller, id, patch).await
}

pub async fn reopen(state: &AppState, caller: &Caller, id: &str) -> Result<Case> {
    update(state, caller, id, CasePatch { status: Some(CaseStatus::Open), ..Default::default() }).await
}

pub async fn set_flag(state: &AppState, caller: &Caller, id: &str, flag: bool) -> Result<Case> {
    update(state, caller, id, CasePatch { flag: Some(flag), ..Default::default() }).await
}

/// Change several cases the same way; each succeeds or fails on its own.
pub async fn bulk_update(state: &AppState, caller: &Caller, ids: &[String], patch: CasePatch) -> Vec<(String, Result<Case>)> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push((id.clone(), update(state, caller, id, patch.clone()).await));
    }
    out
}

/// The most cases one tag change may touch.
pub const MAX_BULK: usize = 1000;

/// Tags given to add or remove: trimmed, each non-empty and valid, without repeats.
fn given_tags(field: &str, tags: &[String]) -> Result<Vec<String>> {
    if tags.iter().any(|t| t.trim().is_empty()) {
        return Err(Error::attribute(TYPE, field, "string", "a tag must not be empty"));
    }
    validate::tags(TYPE, tags)
}

/// Add and remove tags on several cases in one transaction, each changed case audited. All or
/// nothing: an unknown case (or one of another organisation), or a deleted one, fails the whole
/// call and nothing changes. Cases whose tags would not change are left alone (no audit entry).
/// Returns the cases changed.
/// Remove a custom field's value from a case (a mandatory field keeps its value).
pub async fn remove_custom_field(state: &AppState, caller: &Caller, id: &str, reference: &str) -> Result<Case> {
    caller.require(Permission::ManageCase, "change cases")?;
    let store = caller.store(state);
    let current = writable(&store, &get(state, caller, id).await?.id).await?;
    if !current.custom_fields.contains_key(reference) {
        return Err(Error::NotFound(format!("Case #{} has no custom field {reference}", current.case_id)));
    }
    let defs = state.service::<crate::domain::catalog::Catalog>().custom_fields(&store).await?;
    if defs.iter().any(|d| d.reference == reference && d.mandatory) {
        return Err(Error::attribute(TYPE, "customFields", "object", format!("{reference} is mandatory: change its value instead")));
    }
    let mut fields = current.custom_fields.clone();
    fields.remove(reference);
    let mut tx = Tx::new(caller);
    let (vid, vcf, vname) = (tx.bind(&current.id), tx.bind(&fields), tx.bind(reference));
    tx.push(format!(
        "LET $u = (UPDATE type::record('case', {vid}) SET customFields = {vcf}, updatedAt = $now, updatedBy = $login WHERE org = $org RETURN AFTER)[0]"
    ));
    tx.audit(AuditOperation::Update, TYPE, &vid, &vid, &format!("{{ customFields: {vcf}, removed: {vname} }}"), None, Some("$u"));
    let idx = tx.push("$u");
    tx.run(state, &store).await?.one(idx)?.ok_or_else(|| Error::not_found("case", id))
}

pub async fn change_tags(state: &AppState, caller: &Caller, ids: &[String], add: &[String], remove: &[String]) -> Result<Vec<Case>> {
    caller.require(Permission::ManageCase, "change cases")?;
    if ids.is_empty() {
        return Err(Error::BadRequest("Select at least one case".into()));
    }
    if ids.len() > MAX_BULK {
        return Err(Error::BadRequest(format!("At most {MAX_BULK} cases at once")));
    }
    let add = given_tags("add", add)?;
    let remove = given_tags("remove", remove)?;
    if add.is_empty() && remove.is_empty() {
        return Err(Error::attribute(TYPE, "tags", "array", "give tags to add or to remove"));
    }
    if let Some(t) = add.iter().find(|t| remove.contains(t)) {
        return Err(Error::attribute(TYPE, "tags", "string", format!("the tag {t:?} is both added and removed")));
    }
    let store = caller.store(state);
    let mut tx = Tx::new(caller);
    let mut seen = HashSet::new();
    let mut changed = Vec::new();
    for id in ids {
        let c = writable(&store, id).await?;
        if !seen.insert(c.id.clone()) {
            continue;
        }
        let mut tags = c.tags.clone();
        for t in &add {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        tags.retain(|t| !remove.contains(t));
        if tags == c.tags {
            continue;
        }
        let tags = validate::tags(TYPE, &tags)?;
        let patch = json!({ "tags": tags, "updatedAt": tx.now(), "updatedBy": caller.login });
        changed.push(tx.update_record(TABLE, TYPE, &c.id, &patch, false));
    }
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    let mut r = tx.run(state, &store).await?;
    let mut out = Vec::with_capacity(changed.len());
    for i in changed {
        if let Some(c) = r.one::<Case>(i)? {
            out.push(c);
        }
    }
    Ok(out)
}

/// Soft delete: the case becomes `Deleted` (still readable, no longer changeable).
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    caller.require(Permission::ManageCase, "delete cases")?;
    let store = caller.store(state);
    let current = get_in(&store, id).await?.ok_or_else(|| Error::not_found("case", id))?;
    if current.status == CaseStatus::Deleted {
        return Ok(());
    }
    let mut tx = Tx::new(caller);
    let patch = json!({ "status": CaseStatus::Deleted, "updatedAt": tx.now(), "updatedBy": caller.login });
    tx.update_record(TABLE, TYPE, &current.id, &patch, false);
    tx.run(state, &store).await?;
    Ok(())
}

/// Remove a case for good, with its tasks, logs and observables (one transaction).
pub async fn force_delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    caller.require(Permission::ManageCase, "delete cases")?;
    let store = caller.store(state);
    let current = get_in(&store, id).await?.ok_or_else(|| Error::not_found("case", id))?;
    let mut tx = Tx::new(caller);
    let vid = tx.bind(&current.id);
    tx.push(format!("LET $gone = (DELETE type::record('case', {vid}) WHERE org = $org RETURN BEFORE)[0]"));
    tx.push("IF $gone = NONE { THROW 'waggle:notfound: case not found' }");
    tx.push(format!("LET $logs = (DELETE task_log WHERE org = $org AND case = {vid} RETURN BEFORE)"));
    tx.push(format!("LET $tasks = (DELETE task WHERE org = $org AND case = {vid} RETURN BEFORE)"));
    tx.push(format!("LET $observables = (DELETE observable WHERE org = $org AND case = {vid} RETURN BEFORE)"));
    tx.push(format!("DELETE comment WHERE org = $org AND parent = {vid}"));
    tx.push(format!("DELETE case_page WHERE org = $org AND case = {vid}"));
    tx.push(format!("DELETE procedure WHERE org = $org AND parent = {vid}"));
    tx.push(format!("DELETE custom_event WHERE org = $org AND case = {vid}"));
    tx.push(format!("DELETE case_link WHERE org = $org AND (case = {vid} OR target = {vid})"));
    tx.push(format!("DELETE attached_file WHERE org = $org AND (parent = {vid} OR case = {vid})"));
    tx.audit(
        AuditOperation::Delete,
        TYPE,
        &vid,
        &vid,
        "{ force: true, tasks: array::len($tasks), logs: array::len($logs), observables: array::len($observables) }",
        Some("$gone"),
        Some("$gone"),
    );
    tx.run(state, &store).await?;
    tracing::info!(case = %current.id, number = current.case_id, by = %caller.login, "case deleted for good");
    Ok(())
}

/// Task and observable counts of cases (the ones of the organisation; others are absent).
pub async fn stats(state: &AppState, caller: &Caller, ids: &[String]) -> Result<HashMap<String, CaseStats>> {
    let store = caller.store(state);
    let mut out: HashMap<String, CaseStats> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut sql = String::new();
    let mut vars = crate::core::store::Vars::new();
    for (i, id) in ids.iter().enumerate() {
        vars.insert(format!("c{i}"), json!(id));
        sql.push_str(&format!(
            "SELECT status, count() AS n FROM task WHERE org = $org AND case = $c{i} GROUP BY status;\n\
             SELECT ioc, count() AS n FROM observable WHERE org = $org AND case = $c{i} GROUP BY ioc;\n"
        ));
    }
    let mut r = store.query(&sql, vars).await?;
    for (i, id) in ids.iter().enumerate() {
        let mut s = CaseStats::default();
        for row in r.rows::<Value>(2 * i)? {
            let n = row.get("n").and_then(Value::as_u64).unwrap_or(0);
            s.tasks.total += n;
            match row.get("status").and_then(Value::as_str).and_then(TaskStatus::parse) {
                Some(TaskStatus::Waiting) => s.tasks.waiting += n,
                Some(TaskStatus::InProgress) => s.tasks.in_progress += n,
                Some(TaskStatus::Completed) => s.tasks.completed += n,
                Some(TaskStatus::Cancel) => s.tasks.cancel += n,
                None => {}
            }
        }
        for row in r.rows::<Value>(2 * i + 1)? {
            let n = row.get("n").and_then(Value::as_u64).unwrap_or(0);
            s.observables += n;
            if row.get("ioc").and_then(Value::as_bool) == Some(true) {
                s.iocs += n;
            }
        }
        out.insert(id.clone(), s);
    }
    Ok(out)
}

/// Other cases sharing observables with this one (same data type and value, or the same file),
/// most shared first. Deleted and merged-away cases, and observables marked to ignore
/// similarity, do not count.
pub async fn links(state: &AppState, caller: &Caller, id: &str) -> Result<Vec<LinkedCase>> {
    let store = caller.store(state);
    let case = get_in(&store, id).await?.ok_or_else(|| Error::not_found("case", id))?;
    let mut r = store
        .query(
            "SELECT * FROM observable WHERE org = $org AND case = $case AND (ignoreSimilarity ?? false) = false LIMIT 5000",
            vars! { "case" => case.id },
        )
        .await?;
    let mine: Vec<Observable> = r.rows(0)?;
    let others = observable::matches(&store, &mine).await?;
    let mut by_case: HashMap<String, Vec<Observable>> = HashMap::new();
    let mut seen: HashSet<String> = HashSet::new();
    for o in others.into_iter().flatten() {
        if o.case_id != case.id && seen.insert(o.id.clone()) {
            by_case.entry(o.case_id.clone()).or_default().push(o);
        }
    }
    let ids: Vec<String> = by_case.keys().cloned().collect();
    let cases = observable::live_cases(&store, &ids).await?;
    let mut out: Vec<LinkedCase> = cases
        .into_iter()
        .filter_map(|c| by_case.remove(&c.id).map(|linked_with| LinkedCase { case: c, linked_with }))
        .collect();
    out.sort_by(|a, b| b.linked_with.len().cmp(&a.linked_with.len()).then(b.case.case_id.cmp(&a.case.case_id)));
    Ok(out)
}
