//! The live activity flow as people read it: the organisation's latest changes (or one case's),
//! one line per request, each naming what changed and the case it belongs to, then the changes
//! committed since, read from the audit bus. The UI's activity panel shows it; `/api/flow` and
//! `/api/stream` give the same changes in TheHive's shape.

use std::collections::HashMap;

use app::model::Activity;
use serde::Deserialize;
use serde_json::Value;

use crate::core::audit::{self, AuditEvent, ChangeGroup};
use crate::core::auth::Caller;
use crate::core::error::Result;
use crate::core::state::AppState;
use crate::vars;

/// The most lines a first read gives.
pub const MAX_RECENT: usize = 100;

/// Object types whose root is a case.
const CASE_TYPES: [&str; 4] = ["case", "case_task", "case_task_log", "case_artifact"];

/// The latest `count` requests' changes of the caller's organisation, or of one case (`case`:
/// its id), newest first.
pub async fn recent(state: &AppState, caller: &Caller, case: Option<&str>, count: usize) -> Result<Vec<Activity>> {
    let count = count.clamp(1, MAX_RECENT);
    // A request may write many entries (a case from a template, a bulk import): read more entries
    // than lines wanted, then keep the first `count` groups.
    let entries = audit::flow(state, caller, case, count * 10).await?;
    let mut groups = audit::group(audit::as_events(&caller.org_id, entries));
    groups.truncate(count);
    describe(state, caller, groups).await
}

/// Open a live stream of the caller's organisation's changes; answers its id.
pub fn open(state: &AppState, caller: &Caller) -> String {
    state.audit.open(caller)
}

/// Wait (long poll) for the changes committed since the stream's last read, oldest first; only
/// those of one case with `case`. An empty answer means nothing happened in the wait.
pub async fn next(state: &AppState, caller: &Caller, stream: &str, case: Option<&str>) -> Result<Vec<Activity>> {
    let mut events = state.audit.read(caller, stream).await?;
    if let Some(case) = case {
        events.retain(|e| e.entry.root_id == case);
    }
    describe(state, caller, audit::group(events)).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaseTitle {
    id: String,
    case_id: i64,
    title: String,
}

/// Lines for groups of changes: the case each belongs to is read once for all.
async fn describe(state: &AppState, caller: &Caller, groups: Vec<ChangeGroup>) -> Result<Vec<Activity>> {
    let mut ids: Vec<&str> = groups
        .iter()
        .filter(|g| CASE_TYPES.contains(&g.base.entry.object_type.as_str()))
        .map(|g| g.base.entry.root_id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut cases: HashMap<String, (i64, String)> = HashMap::new();
    if !ids.is_empty() {
        let mut r = caller
            .store(state)
            .query(
                "SELECT record::id(id) AS id, caseId, title FROM array::map($ids, |$i| type::record('case', $i)) WHERE org = $org",
                vars! { "ids" => ids },
            )
            .await?;
        for c in r.rows::<CaseTitle>(0)? {
            cases.insert(c.id, (c.case_id, c.title));
        }
    }
    Ok(groups
        .into_iter()
        .map(|g| {
            let e = &g.base.entry;
            let case = cases.get(&e.root_id).cloned();
            Activity {
                id: e.id.clone(),
                request_id: e.request_id.clone(),
                at: e.created_at,
                by: e.created_by.clone(),
                operation: e.operation,
                object_type: e.object_type.clone(),
                object_id: e.object_id.clone(),
                root_id: e.root_id.clone(),
                label: label(&g.base, case.as_ref()),
                case,
                summary: g.summary,
            }
        })
        .collect())
}

/// The changed object in a few words: its title or name, an observable's type and value, the
/// start of a log's message; the case's title for a change of a case that does not carry it.
fn label(event: &AuditEvent, case: Option<&(i64, String)>) -> String {
    let empty = Value::Null;
    let o = event.object.as_ref().unwrap_or(&empty);
    let field = |k: &str| o.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let text = match event.entry.object_type.as_str() {
        "case" => field("title").map(str::to_string).or_else(|| case.map(|(_, t)| t.clone())),
        "case_artifact" => {
            let value = field("data").or_else(|| o.pointer("/attachment/name").and_then(Value::as_str));
            value.map(|v| match field("dataType") {
                Some(t) => format!("{t} {v}"),
                None => v.to_string(),
            })
        }
        "case_task_log" => field("message").map(|m| m.split_whitespace().collect::<Vec<_>>().join(" ")),
        _ => field("title").or_else(|| field("name")).or_else(|| field("login")).map(str::to_string),
    };
    shorten(&text.unwrap_or_default(), 80)
}

/// At most `max` characters, with an ellipsis when cut.
fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{AuditEntry, AuditOperation};
    use serde_json::{Map, json};

    fn event(ty: &str, object: Value) -> AuditEvent {
        AuditEvent {
            org: "o".into(),
            entry: AuditEntry {
                id: "e".into(),
                operation: AuditOperation::Creation,
                object_type: ty.into(),
                object_id: "x".into(),
                root_id: "c".into(),
                request_id: None,
                start_date: 1,
                details: Map::new(),
                before: None,
                created_at: 1,
                created_by: "a".into(),
            },
            object: Some(object),
        }
    }

    #[test]
    fn labels_name_the_object() {
        let case = (7, "Phishing wave".to_string());
        assert_eq!(label(&event("case", json!({"title": "Ransomware"})), None), "Ransomware");
        assert_eq!(label(&event("case", json!({"severity": 3})), Some(&case)), "Phishing wave");
        assert_eq!(label(&event("case_artifact", json!({"dataType": "ip", "data": "10.0.0.1"})), None), "ip 10.0.0.1");
        assert_eq!(label(&event("case_artifact", json!({"dataType": "file", "attachment": {"name": "a.exe"}})), None), "file a.exe");
        assert_eq!(label(&event("case_task_log", json!({"message": "line one\n\nline  two"})), None), "line one line two");
        assert_eq!(label(&event("user", json!({"login": "ana@soc"})), None), "ana@soc");
        assert_eq!(label(&event("case_task", json!({})), None), "");
        let long = "x".repeat(200);
        assert_eq!(label(&event("alert", json!({ "title": long })), None).chars().count(), 81);
    }
}
