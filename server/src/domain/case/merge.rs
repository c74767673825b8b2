//! Merging cases into a new one, as TheHive does: title `#n:title / #m:title`, the highest
//! severity, TLP and PAP, the earliest start, the union of tags; tasks with the same title
//! become one task with all their logs; observables with the same value become one, with the
//! lowest TLP and the union of tags; the sources are resolved as `Duplicated`, with
//! `mergeInto` pointing to the new case. All in one transaction.

use std::collections::BTreeMap;

use app::model::{
    AuditOperation, Case, CaseStatus, LogStatus, Observable, ObservableStatus, Permission, ResolutionStatus, Task, TaskLog,
    TaskStatus,
};
use serde_json::{Map, Value, json};

use super::{TABLE, TYPE, writable};
use crate::core::audit::Tx;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::store::{OrgStore, new_id};
use crate::{domain::case::task, core::validate, vars};

/// The status of tasks merged into one: in progress if any is, else waiting if any is, else
/// completed if any is, else cancelled.
fn merged_status(tasks: &[&Task]) -> TaskStatus {
    let any = |s: TaskStatus| tasks.iter().any(|t| t.status == s);
    if any(TaskStatus::InProgress) {
        TaskStatus::InProgress
    } else if any(TaskStatus::Waiting) {
        TaskStatus::Waiting
    } else if any(TaskStatus::Completed) {
        TaskStatus::Completed
    } else {
        TaskStatus::Cancel
    }
}

async fn children<T: serde::de::DeserializeOwned>(store: &OrgStore, table: &str, case_ids: &[String]) -> Result<Vec<T>> {
    let sql = format!("SELECT * FROM {table} WHERE org = $org AND case IN $ids ORDER BY createdAt");
    let mut r = store.query(&sql, vars! { "ids" => case_ids }).await?;
    r.rows(0)
}

/// Merge `ids` (two or more cases, in this order) into a new case; returns it.
pub async fn merge(state: &AppState, caller: &Caller, ids: &[String]) -> Result<Case> {
    caller.require(Permission::ManageCase, "merge cases")?;
    let mut unique: Vec<String> = Vec::new();
    for id in ids {
        if !unique.contains(id) {
            unique.push(id.clone());
        }
    }
    if unique.len() < 2 {
        return Err(Error::BadRequest("Merging needs at least two different cases".into()));
    }
    let store = caller.store(state);
    let mut cases: Vec<Case> = Vec::with_capacity(unique.len());
    for id in &unique {
        let c = writable(&store, id).await?;
        if c.merge_into.is_some() {
            return Err(Error::BadRequest(format!("Case #{} was already merged into another case", c.case_id)));
        }
        if cases.iter().any(|x| x.id == c.id) {
            return Err(Error::BadRequest("Merging needs at least two different cases".into()));
        }
        cases.push(c);
    }
    let case_ids: Vec<String> = cases.iter().map(|c| c.id.clone()).collect();
    let tasks: Vec<Task> = children(&store, "task", &case_ids).await?;
    let logs: Vec<TaskLog> = children(&store, "task_log", &case_ids).await?;
    let observables: Vec<Observable> = children(&store, "observable", &case_ids).await?;

    let mut tx = Tx::new(caller);
    let now = tx.now();
    let first = &cases[0];
    let title = cases.iter().map(|c| format!("#{}:{}", c.case_id, c.title)).collect::<Vec<_>>().join(" / ");
    let description = cases
        .iter()
        .map(|c| format!("#### Merged with #{} - {}\n\n{}", c.case_id, c.title, c.description))
        .collect::<Vec<_>>()
        .join("\n\n");
    let summaries: Vec<String> = cases.iter().filter_map(|c| c.summary.clone()).filter(|s| !s.trim().is_empty()).collect();
    let mut metrics = BTreeMap::new();
    let mut custom_fields = BTreeMap::new();
    for c in cases.iter().rev() {
        metrics.extend(c.metrics.clone());
        custom_fields.extend(c.custom_fields.clone());
    }
    let mut doc = Map::new();
    doc.insert("title".into(), json!(title));
    doc.insert("description".into(), json!(validate::text(TYPE, "description", &description)?));
    doc.insert("severity".into(), json!(cases.iter().map(|c| c.severity).max().unwrap_or(2)));
    doc.insert("owner".into(), json!(first.owner.clone().unwrap_or_else(|| caller.login.clone())));
    doc.insert("startDate".into(), json!(cases.iter().map(|c| c.start_date).min().unwrap_or(now)));
    doc.insert("tags".into(), json!(validate::tag_union(cases.iter().map(|c| &c.tags))));
    doc.insert("flag".into(), json!(cases.iter().any(|c| c.flag)));
    doc.insert("tlp".into(), json!(cases.iter().map(|c| c.tlp).max().unwrap_or(2)));
    doc.insert("pap".into(), json!(cases.iter().map(|c| c.pap).max().unwrap_or(2)));
    doc.insert("status".into(), json!(CaseStatus::Open));
    if !summaries.is_empty() {
        doc.insert("summary".into(), json!(summaries.join("\n\n")));
    }
    doc.insert("metrics".into(), json!(metrics));
    doc.insert("customFields".into(), json!(custom_fields));
    doc.insert("mergeFrom".into(), json!(case_ids));
    doc.insert("createdAt".into(), json!(now));
    doc.insert("createdBy".into(), json!(caller.login));

    let new_case = new_id();
    let vcase = tx.bind(&new_case);
    let vdoc = tx.bind(&doc);
    tx.push("LET $number = (UPSERT type::record('counter', [$org, 'caseId']) SET value += 1 RETURN AFTER)[0].value");
    tx.push(format!(
        "LET $case = (CREATE type::record('case', {vcase}) CONTENT object::extend({vdoc}, {{ org: $org, caseId: $number }}) RETURN AFTER)[0]"
    ));
    tx.audit(AuditOperation::Creation, TYPE, &vcase, &vcase, &format!("object::extend({vdoc}, {{ caseId: $number }})"), None, Some("$case"));
    let idx = tx.push("$case");

    // Tasks by title, in the order they first appear; their logs follow them.
    let mut groups: Vec<(String, Vec<&Task>)> = Vec::new();
    for t in &tasks {
        match groups.iter_mut().find(|(title, _)| *title == t.title) {
            Some((_, v)) => v.push(t),
            None => groups.push((t.title.clone(), vec![t])),
        }
    }
    for (title, group) in &groups {
        let status = merged_status(group);
        let mut d = Map::new();
        d.insert("title".into(), json!(title));
        d.insert("group".into(), json!(group[0].group));
        if let Some(desc) = group.iter().find_map(|t| t.description.clone().filter(|d| !d.trim().is_empty())) {
            d.insert("description".into(), json!(desc));
        }
        if let Some(o) = group.iter().find_map(|t| t.owner.clone()) {
            d.insert("owner".into(), json!(o));
        }
        d.insert("status".into(), json!(status));
        d.insert("flag".into(), json!(group.iter().any(|t| t.flag)));
        d.insert("order".into(), json!(group.iter().map(|t| t.order).min().unwrap_or(0)));
        if let Some(s) = group.iter().filter_map(|t| t.start_date).min() {
            d.insert("startDate".into(), json!(s));
        }
        if matches!(status, TaskStatus::Completed | TaskStatus::Cancel) {
            if let Some(e) = group.iter().filter_map(|t| t.end_date).max() {
                d.insert("endDate".into(), json!(e));
            }
        }
        if let Some(due) = group.iter().filter_map(|t| t.due_date).min() {
            d.insert("dueDate".into(), json!(due));
        }
        d.insert("createdAt".into(), json!(now));
        d.insert("createdBy".into(), json!(caller.login));
        let task_id = new_id();
        task::push_create_id(&mut tx, &task_id, &vcase, &d);
        let vtask = tx.bind(&task_id);
        for log in logs.iter().filter(|l| l.status != LogStatus::Deleted && group.iter().any(|t| t.id == l.task_id)) {
            let mut ld = Map::new();
            ld.insert("message".into(), json!(log.message));
            ld.insert("startDate".into(), json!(log.start_date));
            ld.insert("status".into(), json!(log.status));
            ld.insert("owner".into(), json!(log.owner));
            if let Some(a) = &log.attachment {
                ld.insert("attachment".into(), json!(a));
            }
            ld.insert("createdAt".into(), json!(log.created_at));
            ld.insert("createdBy".into(), json!(log.created_by));
            let (vlog, vld) = (tx.bind(new_id()), tx.bind(&ld));
            tx.push(format!(
                "LET $log = (CREATE type::record('task_log', {vlog}) CONTENT object::extend({vld}, {{ org: $org, task: {vtask}, case: {vcase} }}) RETURN AFTER)[0]"
            ));
            tx.audit(
                AuditOperation::Creation,
                crate::domain::case::task_log::TYPE,
                &vlog,
                &vcase,
                &format!("object::extend({vld}, {{ task: {vtask}, case: {vcase} }})"),
                None,
                Some("$log"),
            );
        }
    }

    // Observables by identity: the lowest TLP, the union of tags, any IOC / sighted.
    let mut obs_groups: Vec<((String, String), Vec<&Observable>)> = Vec::new();
    for o in &observables {
        let key = (o.data_type.clone(), o.data.clone().or_else(|| o.attachment.as_ref().map(|a| format!("file:{}", a.id))).unwrap_or_default());
        match obs_groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(o),
            None => obs_groups.push((key, vec![o])),
        }
    }
    for (_, group) in &obs_groups {
        let o0 = group[0];
        let mut messages: Vec<String> = Vec::new();
        for m in group.iter().filter_map(|o| o.message.clone()) {
            if !m.trim().is_empty() && !messages.contains(&m) {
                messages.push(m);
            }
        }
        let mut reports = Map::new();
        for o in group.iter().rev() {
            reports.extend(o.reports.clone());
        }
        let mut d = Map::new();
        d.insert("dataType".into(), json!(o0.data_type));
        if let Some(v) = &o0.data {
            d.insert("data".into(), json!(v));
        }
        if let Some(a) = &o0.attachment {
            d.insert("attachment".into(), json!(a));
        }
        if !messages.is_empty() {
            d.insert("message".into(), json!(messages.join("\n\n")));
        }
        d.insert("startDate".into(), json!(group.iter().map(|o| o.start_date).min().unwrap_or(now)));
        d.insert("tlp".into(), json!(group.iter().map(|o| o.tlp).min().unwrap_or(2)));
        d.insert("tags".into(), json!(validate::tag_union(group.iter().map(|o| &o.tags))));
        d.insert("ioc".into(), json!(group.iter().any(|o| o.ioc)));
        d.insert("sighted".into(), json!(group.iter().any(|o| o.sighted)));
        d.insert("ignoreSimilarity".into(), json!(group.iter().any(|o| o.ignore_similarity)));
        d.insert("status".into(), json!(ObservableStatus::Ok));
        d.insert("reports".into(), Value::Object(reports));
        d.insert("createdAt".into(), json!(now));
        d.insert("createdBy".into(), json!(caller.login));
        crate::domain::case::observable::push_create(&mut tx, &vcase, &d);
    }

    // The sources: resolved as duplicates of the new case; their open tasks closed.
    for c in &cases {
        let mut patch = Map::new();
        patch.insert("status".into(), json!(CaseStatus::Resolved));
        patch.insert("resolutionStatus".into(), json!(ResolutionStatus::Duplicated));
        patch.insert("mergeInto".into(), json!(new_case));
        if c.end_date.is_none() {
            patch.insert("endDate".into(), json!(now));
        }
        patch.insert("updatedAt".into(), json!(now));
        patch.insert("updatedBy".into(), json!(caller.login));
        tx.update_record(TABLE, TYPE, &c.id, &Value::Object(patch), false);
        task::push_close_open(&mut tx, &store, caller, &c.id).await?;
    }
    let merged: Case = tx.run(state, &store).await?.one(idx)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("merged case not created")))?;
    tracing::info!(case = %merged.id, number = merged.case_id, from = ?case_ids, by = %caller.login, "cases merged");
    Ok(merged)
}
