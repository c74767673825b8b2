//! Waggle's objects in TheHive 5's v1 shape (`_id`, `_type`, `_createdBy`, `_createdAt`,
//! `extraData`, dates in ms, unset optionals absent) and TheHive 5's inputs read into
//! Waggle's: shapes only, every rule is in the domain.

use app::model::{Alert, AlertObservable, Case, CaseTemplate, CustomFields, Observable, Task, TaskLog, User};
use serde_json::{Map, Value, json};

use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::domain::case::stage;

/// The model's JSON (camelCase) without its metadata, plus v1's metadata.
fn base(value: impl serde::Serialize, type_name: Option<&str>) -> Map<String, Value> {
    let mut m = match serde_json::to_value(value) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let mut out = Map::new();
    if let Some(id) = m.remove("id") {
        out.insert("_id".into(), id);
    }
    if let Some(t) = type_name {
        out.insert("_type".into(), json!(t));
    }
    for (from, to) in [("createdBy", "_createdBy"), ("createdAt", "_createdAt"), ("updatedBy", "_updatedBy"), ("updatedAt", "_updatedAt")] {
        if let Some(v) = m.remove(from).filter(|v| !v.is_null()) {
            out.insert(to.into(), v);
        }
    }
    for (k, v) in m {
        if !v.is_null() {
            out.insert(k, v);
        }
    }
    out.insert("extraData".into(), json!({}));
    out
}

fn rename(m: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(v) = m.remove(from) {
        m.insert(to.into(), v);
    }
}

pub fn tlp_label(n: u8) -> &'static str {
    match n {
        0 => "WHITE",
        1 => "GREEN",
        2 => "AMBER",
        3 => "AMBER+STRICT",
        _ => "RED",
    }
}

pub fn severity_label(n: u8) -> &'static str {
    match n {
        1 => "LOW",
        2 => "MEDIUM",
        3 => "HIGH",
        _ => "CRITICAL",
    }
}

fn labels(m: &mut Map<String, Value>) {
    for (k, label) in [("severity", "severityLabel"), ("tlp", "tlpLabel"), ("pap", "papLabel")] {
        if let Some(n) = m.get(k).and_then(Value::as_u64) {
            let n = u8::try_from(n).unwrap_or(u8::MAX);
            m.insert(label.into(), json!(if k == "severity" { severity_label(n) } else { tlp_label(n) }));
        }
    }
}

/// The id v1 gives a custom field value: `<owner id>~<field>` (what
/// `DELETE /case/customField/{id}` takes back).
pub fn custom_field_value_id(owner: &str, name: &str) -> String {
    format!("{owner}~{name}")
}

/// Custom field values as v1 lists them: `[{_id, name, type, value, order}]`, by order.
pub fn custom_fields(owner: &str, cf: &CustomFields) -> Value {
    let mut list: Vec<(i64, Value)> = cf
        .iter()
        .map(|(name, v)| {
            let order = v.order.unwrap_or(0);
            (order, json!({"_id": custom_field_value_id(owner, name), "name": name, "type": v.kind.as_str(), "value": v.value, "order": order}))
        })
        .collect();
    list.sort_by_key(|(o, _)| *o);
    Value::Array(list.into_iter().map(|(_, v)| v).collect())
}

pub fn case(c: &Case) -> Value {
    let mut m = base(c, Some("Case"));
    rename(&mut m, "caseId", "number");
    rename(&mut m, "owner", "assignee");
    for k in ["metrics", "mergeInto", "mergeFrom", "template", "createdDesc", "resolutionStatus"] {
        m.remove(k);
    }
    let (status, stage) = stage::th5(c);
    m.insert("status".into(), json!(status));
    m.insert("stage".into(), json!(stage));
    if let Some(r) = c.resolution_status {
        m.insert("resolutionStatus".into(), json!(r));
    }
    m.insert("customFields".into(), custom_fields(&c.id, &c.custom_fields));
    m.insert("newDate".into(), json!(c.created_at));
    if let Some(d) = c.end_date {
        m.insert("closedDate".into(), json!(d));
        m.insert("handlingDuration".into(), json!((d - c.start_date).max(0)));
    }
    m.insert("timeToDetect".into(), json!(0));
    m.insert("access".into(), json!({}));
    labels(&mut m);
    Value::Object(m)
}

pub fn alert(a: &Alert) -> Value {
    let mut m = base(a, Some("Alert"));
    rename(&mut m, "kind", "type");
    rename(&mut m, "case", "caseId");
    for k in ["observables", "occurrences", "lastOccurrence", "dateDesc"] {
        m.remove(k);
    }
    m.insert("observableCount".into(), json!(a.observables.len()));
    m.insert("customFields".into(), custom_fields(&a.id, &a.custom_fields));
    let stage = match a.status.as_str() {
        "Imported" => "Imported",
        "Ignored" => "Closed",
        "New" => "New",
        _ => "InProgress",
    };
    m.insert("status".into(), json!(a.status.as_str()));
    m.insert("stage".into(), json!(stage));
    m.insert("read".into(), json!(a.status.as_str() != "New"));
    m.insert("newDate".into(), json!(a.created_at));
    if a.case_id.is_some() {
        m.insert("importedDate".into(), json!(a.updated_at.unwrap_or(a.created_at)));
    }
    m.insert("timeToDetect".into(), json!((a.created_at - a.date).max(0)));
    labels(&mut m);
    Value::Object(m)
}

fn attachment_fix(m: &mut Map<String, Value>) {
    // Files have no `data` in v1.
    if m.contains_key("attachment") {
        m.remove("data");
    }
}

pub fn observable(o: &Observable) -> Value {
    let mut m = base(o, Some("Observable"));
    m.remove("caseId");
    m.remove("status");
    if let Some(seen) = m.remove("seen") {
        m.insert("extraData".into(), json!({"seen": {"seen": seen, "ioc": false}}));
    }
    attachment_fix(&mut m);
    m.insert("pap".into(), json!(2));
    m.insert("external".into(), json!(false));
    labels(&mut m);
    Value::Object(m)
}

pub fn alert_observable(o: &AlertObservable, a: &Alert) -> Value {
    let mut m = base(o, Some("Observable"));
    m.remove("seenIn");
    m.remove("seen");
    m.insert("_createdAt".into(), json!(o.start_date));
    m.insert("_createdBy".into(), json!(a.created_by));
    attachment_fix(&mut m);
    m.insert("pap".into(), json!(2));
    m.insert("external".into(), json!(false));
    labels(&mut m);
    Value::Object(m)
}

pub fn task(t: &Task) -> Value {
    let mut m = base(t, Some("Task"));
    rename(&mut m, "owner", "assignee");
    m.remove("caseId");
    m.insert("mandatory".into(), json!(false));
    Value::Object(m)
}

pub fn log(l: &TaskLog) -> Value {
    let mut m = base(l, Some("Log"));
    m.remove("caseId");
    m.remove("taskId");
    m.remove("status");
    rename(&mut m, "startDate", "date");
    if let Some(a) = m.remove("attachment") {
        m.insert("attachments".into(), json!([a.clone()]));
        m.insert("attachment".into(), a);
    }
    Value::Object(m)
}

pub fn case_template(t: &CaseTemplate) -> Value {
    let mut m = base(t, Some("CaseTemplate"));
    m.insert("customFields".into(), custom_fields(&t.id, &t.custom_fields));
    m.entry("displayName").or_insert_with(|| json!(""));
    if let Some(Value::Array(tasks)) = m.get_mut("tasks") {
        for task in tasks.iter_mut() {
            if let Value::Object(o) = task {
                rename(o, "owner", "assignee");
                o.insert("_type".into(), json!("Task"));
            }
        }
    }
    labels(&mut m);
    Value::Object(m)
}

/// A user as v1 shows one (no `_type`), in the caller's organisation.
pub fn user(u: &User, caller: &Caller) -> Value {
    let membership = u.memberships.iter().find(|m| m.org_id == caller.org_id).or(u.memberships.first());
    let permissions: Vec<app::model::Permission> = match &caller.permissions {
        Some(set) if caller.user_id == u.id => set.clone(),
        _ => membership.map(|m| m.profile.permissions().to_vec()).unwrap_or_default(),
    };
    let mut m = base(u, None);
    for k in ["memberships", "defaultOrg", "status", "hasKey", "hasPassword"] {
        m.remove(k);
    }
    m.insert("hasKey".into(), json!(u.has_key));
    m.insert("hasPassword".into(), json!(u.has_password));
    m.insert("hasMFA".into(), json!(false));
    m.insert("locked".into(), json!(u.status == app::model::UserStatus::Locked));
    m.insert("profile".into(), json!(membership.map(|m| m.profile_name())));
    m.insert("organisation".into(), json!(membership.map(|m| m.org_name.clone())));
    m.insert("permissions".into(), json!(permissions));
    m.insert("type".into(), json!("Normal"));
    m.insert("organisations".into(), json!([]));
    Value::Object(m)
}

/// `user` with every organisation the user belongs to (`/user/current`).
pub fn user_with_organisations(u: &User, caller: &Caller) -> Value {
    let mut v = user(u, caller);
    v["organisations"] = Value::Array(
        u.memberships.iter().map(|m| json!({"organisationId": m.org_id, "organisation": m.org_name, "profile": m.profile_name()})).collect(),
    );
    v
}

// ----- inputs -----

/// Keep only `keys` of a v1 body (TheHive ignores what it does not know), nulls dropped.
pub fn pick(body: &Map<String, Value>, keys: &[&str]) -> Map<String, Value> {
    body.iter().filter(|(k, v)| keys.contains(&k.as_str()) && !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// v1 custom field values (`{name: value}`, `[{name, value, order}]`, or already typed as
/// v0 has them) as Waggle keeps them.
pub async fn custom_field_values(state: &AppState, caller: &Caller, table: &str, v: &Value) -> Result<CustomFields> {
    let bad = || Error::attribute(table, "customFields", "object", "customFields: {name: value} or [{name, value, order}]");
    let mut given = Vec::new();
    match v {
        Value::Object(o) => {
            for (name, value) in o {
                // Already typed (v0's `{"string": "x"}`)?
                if let Value::Object(inner) = value {
                    if let Ok(cfv) = serde_json::from_value::<app::model::CustomFieldValue>(Value::Object(inner.clone())) {
                        given.push((name.clone(), cfv.value, cfv.order));
                        continue;
                    }
                    return Err(bad());
                }
                given.push((name.clone(), value.clone(), None));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let name = item.get("name").and_then(Value::as_str).ok_or_else(bad)?;
                let order = item.get("order").and_then(Value::as_i64).or(Some(i as i64));
                given.push((name.to_string(), item.get("value").cloned().unwrap_or(Value::Null), order));
            }
        }
        Value::Null => {}
        _ => return Err(bad()),
    }
    crate::domain::catalog::custom_field::typed_values(state, caller, given).await
}

/// The custom field values of a body into its v0 form (typed), in place.
pub async fn typed_custom_fields(state: &AppState, caller: &Caller, table: &str, m: &mut Map<String, Value>, key: &str) -> Result<()> {
    if let Some(v) = m.remove(key) {
        let cf = custom_field_values(state, caller, table, &v).await?;
        m.insert("customFields".into(), serde_json::to_value(cf).unwrap_or_default());
    }
    Ok(())
}

/// `data` given as an array (one observable per value), or a number.
pub fn observable_values(body: &Map<String, Value>) -> Vec<String> {
    match body.get("data") {
        Some(Value::Array(items)) => items.iter().filter_map(scalar_string).filter(|s| !s.trim().is_empty()).collect(),
        Some(v) => scalar_string(v).into_iter().collect(),
        None => Vec::new(),
    }
}

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(v.to_string()),
        _ => None,
    }
}
