//! From alerts to cases: a new case made from an alert (its template applied, its observables
//! becoming the case's, with their analyzers' mini-reports), or alerts merged into an existing case (their observables added
//! without duplicates, their descriptions appended). Either way the alerts become Imported and
//! point to the case, in the same transaction as the case's changes.

use std::collections::HashSet;

use app::model::{AlertStatus, Case, NewCase, NewObservables, Permission};
use serde_json::{Value, json};

use super::{ATTEMPTS, Change, Stored, TABLE, TYPE, load_or_404, plan_change, push_guard};
use crate::core::attachment;
use crate::core::audit::Tx;
use crate::core::auth::Caller;
use crate::domain::case::CaseExtras;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::store::OrgStore;
use crate::{domain::case::template, domain::case::observable, vars};

/// The case observable an alert observable becomes (its file: `None`).
pub fn case_observable(o: &app::model::AlertObservable) -> NewObservables {
    NewObservables {
        data_type: o.data_type.clone(),
        data: o.data.clone().into_iter().collect(),
        message: o.message.clone(),
        start_date: Some(o.start_date),
        tlp: Some(o.tlp),
        tags: Some(o.tags.clone()),
        ioc: Some(o.ioc),
        sighted: Some(o.sighted),
        ignore_similarity: Some(o.ignore_similarity),
    }
}

fn already_imported(a: &app::model::Alert) -> Error {
    Error::BadRequest(format!("The alert {} ({}) is already imported into a case", a.title, a.source_ref))
}

/// Statements marking `current` Imported into the case `case_id`.
fn push_imported(tx: &mut Tx, caller: &Caller, current: &Stored, case_id: &str) -> Result<()> {
    let mut fields = serde_json::Map::new();
    fields.insert("case".into(), json!(case_id));
    let change = Change { fields, status: Some(AlertStatus::Imported), ..Default::default() };
    if let (Some(patch), _) = plan_change(caller, current, change, tx.now())? {
        push_guard(tx, current);
        tx.update_record(TABLE, TYPE, &current.alert.id, &Value::Object(patch), false);
    }
    Ok(())
}

/// Make a case from an alert: the template given (a name), else the alert's own when it exists;
/// the alert's title, description, severity, TLP, PAP, tags and custom fields; its observables.
pub async fn create_case(state: &AppState, caller: &Caller, alert_id: &str, template: Option<String>) -> Result<Case> {
    caller.require(Permission::ManageAlert, "import alerts")?;
    let store = caller.store(state);
    for attempt in 0.. {
        let current = load_or_404(&store, alert_id).await?;
        match try_create_case(state, caller, &store, &current, template.clone()).await {
            Err(Error::Conflict { object: None, .. }) if attempt + 1 < ATTEMPTS => continue,
            other => return other,
        }
    }
    unreachable!("the loop returns")
}

async fn try_create_case(state: &AppState, caller: &Caller, store: &OrgStore, current: &Stored, template: Option<String>) -> Result<Case> {
    let a = &current.alert;
    if a.case_id.is_some() {
        return Err(already_imported(a));
    }
    let template = match template.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
        Some(t) => Some(t),
        // The alert's template applies when it exists; a feeder naming a missing one does not
        // block the import.
        None => match a.case_template.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) if template::find(store, t).await?.is_some() => Some(t.to_string()),
            Some(t) => {
                tracing::warn!(alert = %a.id, template = t, "the alert's case template does not exist; imported without it");
                None
            }
            None => None,
        },
    };
    let description = if a.description.trim().is_empty() {
        format!("Imported from the alert {} of {} ({})", a.source_ref, a.source, a.kind)
    } else {
        a.description.clone()
    };
    let input = NewCase {
        title: a.title.clone(),
        description: Some(description),
        severity: Some(a.severity),
        tlp: Some(a.tlp),
        pap: Some(a.pap),
        tags: Some(a.tags.clone()),
        custom_fields: Some(a.custom_fields.clone()).filter(|c| !c.is_empty()),
        template,
        ..Default::default()
    };
    let mut extras = CaseExtras::default();
    for o in &a.observables {
        if !o.reports.is_empty() {
            extras.reports.insert(o.identity(), o.reports.clone());
        }
        match &o.attachment {
            Some(att) => extras.files.push((case_observable(o), attachment::held(state, store, att).await?)),
            None => extras.observables.push(case_observable(o)),
        }
    }
    let mut planned = crate::domain::case::plan_create(state, caller, input, extras).await?;
    let case_id = planned.id.clone();
    push_imported(&mut planned.tx, caller, current, &case_id)?;
    let case = planned.commit(state).await?;
    tracing::info!(alert = %a.id, case = %case.id, number = case.case_id, by = %caller.login, "alert imported");
    Ok(case)
}

/// Merge alerts into an existing case (by id or number): their observables the case lacks are
/// added, their descriptions appended; they become Imported. One transaction.
pub async fn merge_into_case(state: &AppState, caller: &Caller, alert_ids: &[String], case_id: &str) -> Result<Case> {
    caller.require(Permission::ManageAlert, "merge alerts into cases")?;
    caller.require(Permission::ManageCase, "merge alerts into cases")?;
    let mut unique: Vec<String> = Vec::new();
    for id in alert_ids.iter().map(|i| i.trim().to_string()) {
        if !id.is_empty() && !unique.contains(&id) {
            unique.push(id);
        }
    }
    if unique.is_empty() {
        return Err(Error::attribute(TYPE, "alertIds", "array", "no alert to merge"));
    }
    if unique.len() > 1000 {
        return Err(Error::attribute(TYPE, "alertIds", "array", "at most 1000 alerts at once"));
    }
    let store = caller.store(state);
    for attempt in 0.. {
        match try_merge(state, caller, &store, &unique, case_id).await {
            Err(Error::Conflict { object: None, .. }) if attempt + 1 < ATTEMPTS => continue,
            other => return other,
        }
    }
    unreachable!("the loop returns")
}

async fn try_merge(state: &AppState, caller: &Caller, store: &OrgStore, ids: &[String], case_id: &str) -> Result<Case> {
    let case = crate::domain::case::writable(store, case_id).await?;
    let mut alerts = Vec::with_capacity(ids.len());
    for id in ids {
        let s = load_or_404(store, id).await?;
        match &s.alert.case_id {
            Some(c) if *c == case.id => continue, // already merged into this case
            Some(_) => return Err(already_imported(&s.alert)),
            None => alerts.push(s),
        }
    }
    if alerts.is_empty() {
        return Ok(case);
    }
    // What the case already has.
    let mut r = store
        .query("SELECT dataType, data, attachment.id AS file FROM observable WHERE org = $org AND case = $case", vars! { "case" => case.id })
        .await?;
    let mut present: HashSet<(String, String)> = HashSet::new();
    for row in r.rows::<Value>(0)? {
        let dt = row.get("dataType").and_then(Value::as_str).unwrap_or_default().to_string();
        match (row.get("data").and_then(Value::as_str), row.get("file").and_then(Value::as_str)) {
            (Some(d), _) => present.insert((dt, d.to_string())),
            (None, Some(f)) => present.insert((dt, format!("file:{f}"))),
            _ => false,
        };
    }
    let mut tx = Tx::new(caller);
    let now = tx.now();
    let vcase = tx.bind(&case.id);
    let mut description = case.description.clone();
    for s in &alerts {
        let a = &s.alert;
        for o in &a.observables {
            if !present.insert(o.identity()) {
                continue;
            }
            let input = case_observable(o);
            let docs = match &o.attachment {
                Some(att) => {
                    let file = attachment::held(state, store, att).await?;
                    attachment::register(&mut tx, &file);
                    observable::plan(state, store, caller, &input, Some(&file), now).await?
                }
                None => observable::plan(state, store, caller, &input, None, now).await?,
            };
            for mut d in docs {
                // The mini-reports of analyses run during triage come along.
                if !o.reports.is_empty() {
                    d.insert("reports".into(), serde_json::Value::Object(o.reports.clone()));
                }
                observable::push_create(&mut tx, &vcase, &d);
            }
        }
        description.push_str(&format!("\n\n#### Merged with alert #{} {}\n\n{}", a.source_ref, a.title, a.description.trim()));
    }
    let description = crate::core::validate::text(crate::domain::case::TYPE, "description", &description)?;
    // The description is appended to as read: a merge that read an older one starts over.
    let vold = tx.bind(&case.description);
    tx.push(format!(
        "IF (SELECT VALUE description FROM type::record('case', {vcase}) WHERE org = $org)[0] != {vold} \
         {{ THROW 'waggle:conflict: the case changed meanwhile' }}"
    ));
    let patch = json!({ "description": description, "updatedAt": now, "updatedBy": caller.login });
    tx.update_record("case", crate::domain::case::TYPE, &case.id, &patch, false);
    for s in &alerts {
        push_imported(&mut tx, caller, s, &case.id)?;
    }
    tx.run(state, store).await?;
    tracing::info!(case = %case.id, number = case.case_id, alerts = alerts.len(), by = %caller.login, "alerts merged into a case");
    crate::domain::case::get(state, caller, &case.id).await
}
