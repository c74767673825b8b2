//! TheHive's query API (`POST /api/v1/query`): a pipeline of steps, `{"query": [{"_name":
//! "listCase"}, {"_name": "filter", ...}, {"_name": "sort", ...}, {"_name": "page", ...}]}`.
//!
//! Steps over cases, alerts, observables, tasks, logs and case templates become one v0 search
//! (the v1 filter translated to the v0 query language, traversals as `_parent` conditions), so
//! organisation scoping, indexes and limits are the search's. Users, organisations, profiles,
//! custom fields, observable types and an alert's observables are small sets: listed by the
//! domain, then filtered, sorted and paged here on their v1 shape.

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::shape;
use crate::api::json::ApiJson;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::query::Entity;
use crate::core::search::Search;
use crate::core::state::AppState;
use crate::domain::case::{self, observable, stage, task, task_log, template};
use crate::domain::{alert, catalog, identity};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(query))
}

/// The largest answer a pipeline without `page` gives (TheHive gives every match).
const MAX_ITEMS: usize = 10_000;

/// Where the pipeline stands.
enum Set {
    /// A search not yet run: entity, v0 conditions (ANDed), sort keys.
    Db { entity: Entity, filters: Vec<Value>, sort: Vec<String>, seen: bool },
    /// Objects already in v1 shape.
    Mem { items: Vec<Value> },
}

fn bad(msg: impl Into<String>) -> Error {
    Error::BadRequest(msg.into())
}

const INITIAL: &[&str] = &[
    "listCase", "listAlert", "listObservable", "listTask", "listLog", "listCaseTemplate", "listUser", "listOrganisation", "listProfile",
    "listCustomField", "listObservableType", "listJob", "getJob", "listComment", "getComment", "listPageTemplate", "getPageTemplate", "listProcedure", "getProcedure", "listPattern", "getPattern", "getCase", "getAlert", "getObservable", "getTask", "getLog", "getCaseTemplate", "getUser",
    "getOrganisation", "getProfile", "getCustomField", "getObservableType", "countCase", "countAlert", "countUnreadAlert",
    "countImportedAlert", "countTask", "countCaseObservable", "countAlertObservable", "currentUser", "waitingTasks", "waitingTask", "myTasks",
];

/// Run a query pipeline: an array of v1 objects, or a number (`count` and `count*` steps).
#[utoipa::path(post, path = "/api/v1/query", tag = "v1", params(("name" = Option<String>, Query, description = "A label for logs (thehive4py sends one)")), responses((status = 200, description = "Objects (TheHive 5 shape) or a number"), (status = 400, description = "Unknown step, field or operator")))]
pub async fn query(State(state): State<AppState>, caller: Caller, RawQuery(_raw): RawQuery, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<Response> {
    let steps = body.get("query").and_then(Value::as_array).ok_or_else(|| Error::attribute("query", "query", "array", "query must be a list of steps"))?;
    let mut steps = steps.iter();
    let first = steps.next().ok_or_else(|| bad("The query has no step"))?;
    let mut set = match initial(&state, &caller, first).await? {
        Start::Set(s) => s,
        Start::Number(n) => return Ok(axum::Json(json!(n)).into_response()),
    };
    let mut entity_kind = kind_of(&set);
    for step in steps {
        let name = step_name(step)?;
        match name {
            "filter" => set = filter(set, step, &entity_kind)?,
            "sort" => set = sort(set, step, &entity_kind)?,
            "page" => {
                let extra_keys: Vec<String> = step.get("extraData").and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default();
                let set = with_seen(set, extra_keys.iter().any(|k| k == "seen"));
                let (items, total) = run(&state, &caller, set, page_range(step)?, &entity_kind).await?;
                let extra = extra_keys;
                let items = extra_data(&state, &caller, items, &extra, &entity_kind).await?;
                let mut r = axum::Json(items).into_response();
                if extra.iter().any(|e| e == "total") {
                    r.headers_mut().insert("X-Total", HeaderValue::from(total));
                }
                return Ok(r);
            }
            // TheHive's v0 statistics grammar (`_agg`, `_field`, `_select`, `_interval`...) over
            // what the pipeline selected.
            "aggregation" => {
                let Set::Db { entity, filters, .. } = set else {
                    return Err(bad("aggregation works on cases, alerts, observables, tasks, logs and jobs"));
                };
                let mut agg = step.as_object().cloned().unwrap_or_default();
                agg.remove("_name");
                let body = json!({"query": and(&filters), "stats": [agg]});
                return Ok(axum::Json(crate::core::stats::stats(&state, &caller, entity, &body).await?).into_response());
            }
            "count" | "limitedCount" => {
                let (_, total) = run(&state, &caller, set, (0, Some(0)), &entity_kind).await?;
                let total = if name == "limitedCount" { total.min(1000) } else { total };
                return Ok(axum::Json(json!(total)).into_response());
            }
            other => {
                set = traverse(&state, &caller, set, other, &entity_kind).await?;
                entity_kind = kind_of(&set).or(traversed_kind(other));
            }
        }
    }
    let (items, _) = run(&state, &caller, set, (0, Some(MAX_ITEMS)), &entity_kind).await?;
    Ok(axum::Json(items).into_response())
}

fn step_name(step: &Value) -> Result<&str> {
    step.get("_name").and_then(Value::as_str).ok_or_else(|| {
        Error::attribute("query", "_name", "query", "each step needs a _name")
    })
}

/// The v1 kind of a set (`case`, `alert`...) for field names and shapes.
fn kind_of(set: &Set) -> Option<&'static str> {
    match set {
        Set::Db { entity, .. } => Some(match entity {
            Entity::Case => "case",
            Entity::Alert => "alert",
            Entity::Observable => "observable",
            Entity::Task => "task",
            Entity::Log => "log",
            Entity::CaseTemplate => "caseTemplate",
            Entity::Job => "job",
            _ => "other",
        }),
        Set::Mem { .. } => None,
    }
}

fn traversed_kind(step: &str) -> Option<&'static str> {
    Some(match step {
        "observables" => "observable",
        "case" => "case",
        _ => return None,
    })
}

enum Start {
    Set(Set),
    Number(u64),
}

fn db(entity: Entity, filters: Vec<Value>) -> Set {
    Set::Db { entity, filters, sort: Vec::new(), seen: false }
}

/// Observables with how many cases hold each (`extraData: ["seen"]`).
fn with_seen(set: Set, seen: bool) -> Set {
    match set {
        Set::Db { entity, filters, sort, .. } => Set::Db { entity, filters, sort, seen },
        other => other,
    }
}

fn param<'a>(step: &'a Value, key: &str) -> Result<&'a str> {
    step.get(key).and_then(Value::as_str).ok_or_else(|| Error::attribute("query", key, "string", format!("{} needs {key}", step_name(step).unwrap_or("step"))))
}

fn id_param(step: &Value) -> Result<String> {
    match step.get("idOrName").or_else(|| step.get("id")) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(Error::attribute("query", "idOrName", "string", "get steps need idOrName")),
    }
}

/// A `get*` step that finds nothing answers an empty list, as TheHive does.
fn found<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The record a `get*` step found, as a search of that one record (of none when it found
/// nothing: an empty answer, as TheHive gives).
fn by_id(entity: Entity, id: Option<String>) -> Start {
    Start::Set(db(entity, vec![json!({"_id": id.unwrap_or_else(|| "none:none".into())})]))
}

async fn initial(state: &AppState, caller: &Caller, step: &Value) -> Result<Start> {
    let name = step_name(step)?;
    let mem = |items: Vec<Value>| Ok(Start::Set(Set::Mem { items }));
    match name {
        "listCase" => Ok(Start::Set(db(Entity::Case, vec![json!({"_not": {"status": "Deleted"}})]))),
        "listAlert" => Ok(Start::Set(db(Entity::Alert, vec![]))),
        "listObservable" => Ok(Start::Set(db(Entity::Observable, vec![]))),
        "listTask" => Ok(Start::Set(db(Entity::Task, vec![]))),
        "waitingTasks" | "waitingTask" => Ok(Start::Set(db(Entity::Task, vec![json!({"status": "Waiting"})]))),
        "myTasks" => Ok(Start::Set(db(Entity::Task, vec![json!({"owner": caller.login})]))),
        "listLog" => Ok(Start::Set(db(Entity::Log, vec![live_logs()]))),
        "listCaseTemplate" => Ok(Start::Set(db(Entity::CaseTemplate, vec![]))),
        "listJob" => Ok(Start::Set(db(Entity::Job, vec![]))),
        "listProcedure" => mem(crate::domain::collab::procedure::all(state, caller, MAX_ITEMS).await?.iter().map(super::procedure::procedure_object).collect()),
        "getProcedure" => {
            let p = found(crate::domain::collab::procedure::get(state, caller, &id_param(step)?).await)?;
            mem(p.iter().map(super::procedure::procedure_object).collect())
        }
        "listPattern" => mem(crate::domain::catalog::pattern::list(state).await?.iter().map(super::procedure::pattern_object).collect()),
        "getPattern" => {
            let p = found(crate::domain::catalog::pattern::get(state, &id_param(step)?).await)?;
            mem(p.iter().map(super::procedure::pattern_object).collect())
        }
        "listPageTemplate" => mem(case::page_template::list(state, caller).await?.iter().map(super::comment::page_template_object).collect()),
        "getPageTemplate" => {
            let t = found(case::page_template::get(state, caller, &id_param(step)?).await)?;
            mem(t.iter().map(super::comment::page_template_object).collect())
        }
        "listComment" => mem(crate::domain::collab::comment::all(state, caller, MAX_ITEMS).await?.iter().map(super::comment::comment_object).collect()),
        "getComment" => {
            let c = found(crate::domain::collab::comment::get(state, caller, &id_param(step)?).await)?;
            mem(c.iter().map(super::comment::comment_object).collect())
        }
        "getJob" => {
            let j = found(crate::domain::analysis::job::get(state, caller, &id_param(step)?).await)?;
            Ok(by_id(Entity::Job, j.map(|x| x.id)))
        }
        "getCase" => {
            let c = found(case::get(state, caller, &id_param(step)?).await)?;
            Ok(by_id(Entity::Case, c.map(|x| x.id)))
        }
        "getAlert" => {
            let a = found(alert::get(state, caller, &id_param(step)?).await)?;
            Ok(by_id(Entity::Alert, a.map(|x| x.id)))
        }
        "getTask" => {
            let t = found(task::get(state, caller, &id_param(step)?).await)?;
            Ok(by_id(Entity::Task, t.map(|x| x.id)))
        }
        "getLog" => {
            let l = found(task_log::get(state, caller, &id_param(step)?).await)?;
            Ok(by_id(Entity::Log, l.map(|x| x.id)))
        }
        "getCaseTemplate" => {
            let t = found(template::get(state, caller, &id_param(step)?).await)?;
            Ok(by_id(Entity::CaseTemplate, t.map(|x| x.id)))
        }
        "getObservable" => {
            let id = id_param(step)?;
            if alert::is_observable_id(&id) {
                let found = found(alert::get_observable(state, caller, &id).await)?;
                return mem(found.map(|(a, o)| vec![shape::alert_observable(&o, &a)]).unwrap_or_default());
            }
            let o = found(observable::get(state, caller, &id).await)?;
            Ok(by_id(Entity::Observable, o.map(|x| x.id)))
        }
        "listUser" | "getUser" | "currentUser" => {
            let users = if name == "currentUser" {
                vec![identity::user::get(state, caller, &caller.user_id).await?]
            } else if name == "getUser" {
                found(identity::user::get(state, caller, &id_param(step)?).await)?.into_iter().collect()
            } else {
                identity::user::list(state, caller).await?
            };
            mem(users.iter().map(|u| shape::user(u, caller)).collect())
        }
        "listOrganisation" | "getOrganisation" => {
            let orgs = if name == "getOrganisation" {
                found(identity::org::get(state, caller, &id_param(step)?).await)?.into_iter().collect()
            } else {
                identity::org::list(state, caller).await?
            };
            mem(orgs.iter().map(super::platform::organisation).collect())
        }
        "listProfile" | "getProfile" => {
            let mut list = super::platform::profiles(state, caller).await?;
            if name == "getProfile" {
                let id = id_param(step)?;
                list.retain(|p| p["name"] == json!(id) || p["_id"] == json!(id));
            }
            mem(list)
        }
        "listCustomField" | "getCustomField" => {
            let mut list: Vec<Value> = catalog::custom_field::list(state, caller).await?.iter().map(super::platform::custom_field).collect();
            if name == "getCustomField" {
                let id = id_param(step)?;
                list.retain(|f| f["name"] == json!(id) || f["_id"] == json!(id));
            }
            mem(list)
        }
        "listObservableType" | "getObservableType" => {
            let mut list: Vec<Value> = catalog::data_type::list(state, caller).await?.iter().map(super::platform::observable_type).collect();
            if name == "getObservableType" {
                let id = id_param(step)?;
                list.retain(|f| f["name"] == json!(id) || f["_id"] == json!(id));
            }
            mem(list)
        }
        "countCase" => count(state, caller, db(Entity::Case, vec![json!({"_not": {"status": "Deleted"}})])).await,
        "countAlert" => count(state, caller, db(Entity::Alert, vec![])).await,
        "countUnreadAlert" => count(state, caller, db(Entity::Alert, vec![json!({"status": "New"})])).await,
        "countImportedAlert" => count(state, caller, db(Entity::Alert, vec![json!({"status": "Imported"})])).await,
        "countTask" => {
            let c = case::get(state, caller, param(step, "caseId")?).await?;
            count(state, caller, db(Entity::Task, vec![parent("case", json!({"_id": c.id})), json!({"_not": {"status": "Cancel"}})])).await
        }
        "countCaseObservable" => {
            let c = case::get(state, caller, param(step, "caseId")?).await?;
            count(state, caller, db(Entity::Observable, vec![parent("case", json!({"_id": c.id}))])).await
        }
        "countAlertObservable" => Ok(Start::Number(alert::get(state, caller, param(step, "alertId")?).await?.observables.len() as u64)),
        other => Err(unknown_step(other, INITIAL)),
    }
}

fn unknown_step(name: &str, accepted: &[&str]) -> Error {
    Error::Attributes {
        table: "query".into(),
        errors: vec![app::model::AttributeError {
            name: "_name".into(),
            kind: "InvalidFormatAttributeError".into(),
            message: format!("Invalid query step {name}; accepted here: {}", accepted.join(", ")),
        }],
    }
}

async fn count(state: &AppState, caller: &Caller, set: Set) -> Result<Start> {
    let (_, total) = run(state, caller, set, (0, Some(0)), &None).await?;
    Ok(Start::Number(total))
}

/// Deleted logs stay in the database (the audit trail) but v1 lists leave them out.
fn live_logs() -> Value {
    json!({"_not": {"status": "Deleted"}})
}

fn parent(v0_type: &str, query: Value) -> Value {
    json!({"_parent": {"_type": v0_type, "_query": query}})
}

fn and(filters: &[Value]) -> Value {
    match filters {
        [] => json!({}),
        [one] => one.clone(),
        many => json!({"_and": many}),
    }
}

/// Run what the pipeline built: the items of `range` (from, to exclusive) and the total.
async fn run(state: &AppState, caller: &Caller, set: Set, range: (usize, Option<usize>), _kind: &Option<&'static str>) -> Result<(Vec<Value>, u64)> {
    match set {
        Set::Mem { items } => {
            let total = items.len() as u64;
            let end = range.1.unwrap_or(items.len()).min(items.len());
            let items = if range.0 >= end { Vec::new() } else { items[range.0..end].to_vec() };
            Ok((items, total))
        }
        Set::Db { entity, filters, sort, seen } => {
            let to = range.1.unwrap_or(range.0.saturating_add(MAX_ITEMS));
            let search = Search::parse(entity, &and(&filters), &sort, Some(&format!("{}-{}", range.0, to)))?;
            Ok(match entity {
                Entity::Case => {
                    let p = case::search(state, caller, &search).await?;
                    (p.items.iter().map(shape::case).collect(), p.total)
                }
                Entity::Alert => {
                    let p = alert::search(state, caller, &search).await?;
                    (p.items.iter().map(shape::alert).collect(), p.total)
                }
                Entity::Observable => {
                    let p = observable::search(state, caller, &search, seen).await?;
                    (p.items.iter().map(shape::observable).collect(), p.total)
                }
                Entity::Task => {
                    let p = task::search(state, caller, &search).await?;
                    (p.items.iter().map(shape::task).collect(), p.total)
                }
                Entity::Log => {
                    let p = task_log::search(state, caller, &search).await?;
                    let mut items = Vec::with_capacity(p.items.len());
                    for l in &p.items {
                        items.push(super::files::with_log_files(state, caller, shape::log(l)).await?);
                    }
                    (items, p.total)
                }
                Entity::CaseTemplate => {
                    let p = template::search(state, caller, &search).await?;
                    (p.items.iter().map(shape::case_template).collect(), p.total)
                }
                // Analyzer jobs keep the v0 connector's shape, as TheHive's does.
                Entity::Job => {
                    let p = crate::domain::analysis::job::search(state, caller, &search).await?;
                    (p.items.iter().map(|j| crate::api::support::job_object(j, None)).collect(), p.total)
                }
                other => return Err(bad(format!("{other:?} cannot be listed here"))),
            })
        }
    }
}

fn page_range(step: &Value) -> Result<(usize, Option<usize>)> {
    let n = |k: &str| match step.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(|n| Some(usize::try_from(n).unwrap_or(usize::MAX))).ok_or_else(|| bad(format!("page: {k} must be a whole number, 0 or more"))),
    };
    let from = n("from")?.unwrap_or(0);
    let to = n("to")?.unwrap_or(from.saturating_add(10));
    if to < from {
        return Err(bad("page: to must not be less than from"));
    }
    Ok((from, Some(to.min(from.saturating_add(crate::core::query::Range::MAX_ALL)))))
}

/// The v0 name of a v1 field.
fn field_name(kind: &Option<&'static str>, f: &str) -> String {
    let common = match f {
        "_createdAt" => Some("createdAt"),
        "_createdBy" => Some("createdBy"),
        "_updatedAt" => Some("updatedAt"),
        "_updatedBy" => Some("updatedBy"),
        "assignee" => Some("owner"),
        _ => None,
    };
    if let Some(c) = common {
        return c.to_string();
    }
    match (kind.unwrap_or(""), f) {
        ("case", "number") => "caseId".into(),
        ("log", "date") => "startDate".into(),
        ("alert", "caseId") => "case".into(),
        // Jobs show the analyzer's name as `analyzerId` and the observable as `artifactId` (v0).
        ("job", "analyzerId") => "analyzerName".into(),
        ("job", "artifactId") => "observable".into(),
        _ => f.to_string(),
    }
}

/// One v1 condition on a searchable entity in the v0 language.
fn translate(kind: &Option<&'static str>, f: &Value, depth: usize) -> Result<Value> {
    if depth > 32 {
        return Err(bad("The filter nests too deeply"));
    }
    let Value::Object(m) = f else { return Err(bad("A filter is an object")) };
    if m.is_empty() {
        return Ok(json!({}));
    }
    if let (Some(field), Some(value)) = (m.get("_field").and_then(Value::as_str), m.get("_value")) {
        return eq(kind, field, value);
    }
    let (op, arg) = m.iter().next().ok_or_else(|| bad("empty filter"))?;
    let fv = |arg: &Value| -> Result<(String, Value)> {
        let field = arg.get("_field").and_then(Value::as_str).ok_or_else(|| bad(format!("{op} needs _field")))?;
        Ok((field.to_string(), arg.get("_value").cloned().unwrap_or(Value::Null)))
    };
    let sub = |list: &Value| -> Result<Vec<Value>> {
        list.as_array().ok_or_else(|| bad(format!("{op} expects a list")))?.iter().map(|x| translate(kind, x, depth + 1)).collect()
    };
    Ok(match op.as_str() {
        "_and" => json!({"_and": sub(arg)?}),
        "_or" => {
            let list = sub(arg)?;
            // `_or: []` matches nothing.
            if list.is_empty() { json!({"_not": {}}) } else { json!({"_or": list}) }
        }
        "_not" => json!({"_not": translate(kind, arg, depth + 1)?}),
        "_any" | "_string" => json!({}),
        "_eq" | "_is" => {
            let (field, value) = fv(arg)?;
            eq(kind, &field, &value)?
        }
        "_ne" => {
            let (field, value) = fv(arg)?;
            json!({"_not": eq(kind, &field, &value)?})
        }
        "_lt" | "_gt" | "_lte" | "_gte" => {
            let (field, value) = match arg.get("_field") {
                Some(_) => fv(arg)?,
                None => {
                    let (k, v) = arg.as_object().and_then(|o| o.iter().next()).ok_or_else(|| bad(format!("{op} needs _field")))?;
                    (k.clone(), v.clone())
                }
            };
            json!({ op.as_str(): { field_name(kind, &field): value } })
        }
        "_startsWith" | "_endsWith" | "_match" | "_like" | "_wildcard" => {
            let (field, value) = fv(arg)?;
            let s = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
            let pattern = match op.as_str() {
                "_startsWith" => format!("{s}*"),
                "_endsWith" => format!("*{s}"),
                "_match" => format!("*{s}*"),
                _ => s,
            };
            json!({"_like": {"_field": field_name(kind, &field), "_value": pattern}})
        }
        "_between" => {
            let field = arg.get("_field").and_then(Value::as_str).ok_or_else(|| bad("_between needs _field"))?;
            json!({"_between": {"_field": field_name(kind, field), "_from": arg.get("_from"), "_to": arg.get("_to")}})
        }
        "_in" => {
            let field = arg.get("_field").and_then(Value::as_str).ok_or_else(|| bad("_in needs _field"))?;
            let values = arg.get("_values").and_then(Value::as_array).ok_or_else(|| bad("_in needs _values"))?;
            if field == "_id" {
                json!({"_id": values})
            } else if is_case_status(kind, field) {
                let list: Vec<Value> = values.iter().map(|v| eq(kind, field, v)).collect::<Result<_>>()?;
                if list.is_empty() { json!({"_not": {}}) } else { json!({"_or": list}) }
            } else {
                json!({"_in": {"_field": field_name(kind, field), "_values": values}})
            }
        }
        "_id" => json!({"_id": arg}),
        "_has" | "_contains" => {
            let field = arg.as_str().or_else(|| arg.get("_field").and_then(Value::as_str)).ok_or_else(|| bad(format!("{op} needs a field")))?;
            json!({"_contains": field_name(kind, field)})
        }
        other if !other.starts_with('_') => eq(kind, other, arg)?,
        other => return Err(bad(format!("Unknown filter operator {other}"))),
    })
}

fn is_case_status(kind: &Option<&'static str>, field: &str) -> bool {
    *kind == Some("case") && field == "status"
}

fn eq(kind: &Option<&'static str>, field: &str, value: &Value) -> Result<Value> {
    if field == "_id" {
        return Ok(json!({"_id": value}));
    }
    if is_case_status(kind, field) {
        let s = value.as_str().ok_or_else(|| bad("status is a string"))?;
        let Some(conds) = stage::filter_of(s) else {
            return Err(bad(format!("status {s} is not one of {}", stage::TH5_STATUSES.join(", "))));
        };
        let mut list: Vec<Value> = conds.into_iter().map(|(f, v)| json!({ f: v })).collect();
        // New and InProgress differ by stage.
        match s {
            "New" => list.push(json!({"_not": {"_field": "stage", "_value": "InProgress"}})),
            "InProgress" => list.push(json!({"_field": "stage", "_value": "InProgress"})),
            _ => {}
        }
        return Ok(and(&list));
    }
    Ok(json!({"_field": field_name(kind, field), "_value": value}))
}

fn filter(set: Set, step: &Value, kind: &Option<&'static str>) -> Result<Set> {
    let mut cond = step.as_object().cloned().unwrap_or_default();
    cond.remove("_name");
    let cond = Value::Object(cond);
    Ok(match set {
        Set::Db { entity, mut filters, sort, seen } => {
            filters.push(translate(kind, &cond, 0)?);
            Set::Db { entity, filters, sort, seen }
        }
        Set::Mem { items } => {
            let mut kept = Vec::new();
            for i in items {
                if matches(&cond, &i, 0)? {
                    kept.push(i);
                }
            }
            Set::Mem { items: kept }
        }
    })
}

/// The sort keys of a `sort` step as `(field, descending)`.
fn sort_keys(step: &Value) -> Result<Vec<(String, bool)>> {
    let fields = step.get("_fields").and_then(Value::as_array).ok_or_else(|| bad("sort needs _fields"))?;
    let mut out = Vec::new();
    for f in fields {
        match f {
            Value::String(s) => match s.strip_prefix('-') {
                Some(name) => out.push((name.to_string(), true)),
                None => out.push((s.trim_start_matches('+').to_string(), false)),
            },
            Value::Object(o) => {
                for (k, v) in o {
                    out.push((k.clone(), v.as_str().is_some_and(|d| d.eq_ignore_ascii_case("desc"))));
                }
            }
            _ => return Err(bad("sort fields are strings or {field: asc|desc}")),
        }
    }
    Ok(out)
}

fn sort(set: Set, step: &Value, kind: &Option<&'static str>) -> Result<Set> {
    let keys = sort_keys(step)?;
    Ok(match set {
        Set::Db { entity, filters, seen, .. } => {
            let sort = keys.iter().map(|(f, d)| format!("{}{}", if *d { "-" } else { "+" }, field_name(kind, f))).collect();
            Set::Db { entity, filters, sort, seen }
        }
        Set::Mem { mut items } => {
            items.sort_by(|a, b| {
                for (f, desc) in &keys {
                    let o = compare(a.get(f), b.get(f));
                    if o != std::cmp::Ordering::Equal {
                        return if *desc { o.reverse() } else { o };
                    }
                }
                std::cmp::Ordering::Equal
            });
            Set::Mem { items }
        }
    })
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x.as_f64().unwrap_or(0.0).total_cmp(&y.as_f64().unwrap_or(0.0)),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        _ => std::cmp::Ordering::Equal,
    }
}

/// A v1 filter on a v1 object (the small sets).
fn matches(f: &Value, o: &Value, depth: usize) -> Result<bool> {
    if depth > 32 {
        return Err(bad("The filter nests too deeply"));
    }
    let Value::Object(m) = f else { return Err(bad("A filter is an object")) };
    if m.is_empty() {
        return Ok(true);
    }
    if let (Some(field), Some(value)) = (m.get("_field").and_then(Value::as_str), m.get("_value")) {
        return Ok(value_eq(o.get(field), value));
    }
    let (op, arg) = m.iter().next().ok_or_else(|| bad("empty filter"))?;
    let fv = |arg: &Value| -> Result<(Option<Value>, Value)> {
        let field = arg.get("_field").and_then(Value::as_str).ok_or_else(|| bad(format!("{op} needs _field")))?;
        Ok((o.get(field).cloned(), arg.get("_value").cloned().unwrap_or(Value::Null)))
    };
    let text = |v: &Value| v.as_str().map(str::to_lowercase).unwrap_or_else(|| v.to_string());
    Ok(match op.as_str() {
        "_and" => {
            for x in arg.as_array().ok_or_else(|| bad("_and expects a list"))? {
                if !matches(x, o, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        "_or" => {
            for x in arg.as_array().ok_or_else(|| bad("_or expects a list"))? {
                if matches(x, o, depth + 1)? {
                    return Ok(true);
                }
            }
            false
        }
        "_not" => !matches(arg, o, depth + 1)?,
        "_any" | "_string" => true,
        "_eq" | "_is" => {
            let (a, v) = fv(arg)?;
            value_eq(a.as_ref(), &v)
        }
        "_ne" => {
            let (a, v) = fv(arg)?;
            !value_eq(a.as_ref(), &v)
        }
        "_lt" | "_gt" | "_lte" | "_gte" => {
            let (a, v) = fv(arg)?;
            let ord = compare(a.as_ref(), Some(&v));
            match op.as_str() {
                "_lt" => ord.is_lt(),
                "_gt" => ord.is_gt(),
                "_lte" => ord.is_le(),
                _ => ord.is_ge(),
            }
        }
        "_startsWith" | "_endsWith" | "_match" | "_like" | "_wildcard" => {
            let (a, v) = fv(arg)?;
            let Some(a) = a else { return Ok(false) };
            let (a, v) = (text(&a), text(&v));
            match op.as_str() {
                "_startsWith" => a.starts_with(&v),
                "_endsWith" => a.ends_with(&v),
                "_match" => a.contains(&v),
                _ => match (v.strip_prefix('*'), v.strip_suffix('*')) {
                    (Some(rest), Some(_)) if v.len() >= 2 => a.contains(rest.trim_end_matches('*')),
                    (Some(rest), None) => a.ends_with(rest),
                    (None, Some(rest)) => a.starts_with(rest),
                    _ => a == v,
                },
            }
        }
        "_between" => {
            let field = arg.get("_field").and_then(Value::as_str).ok_or_else(|| bad("_between needs _field"))?;
            let a = o.get(field);
            arg.get("_from").is_none_or(|f| compare(a, Some(f)).is_ge()) && arg.get("_to").is_none_or(|t| compare(a, Some(t)).is_lt())
        }
        "_in" => {
            let field = arg.get("_field").and_then(Value::as_str).ok_or_else(|| bad("_in needs _field"))?;
            let values = arg.get("_values").and_then(Value::as_array).ok_or_else(|| bad("_in needs _values"))?;
            values.iter().any(|v| value_eq(o.get(field), v))
        }
        "_id" => o.get("_id") == Some(arg),
        "_has" | "_contains" => {
            let field = arg.as_str().ok_or_else(|| bad(format!("{op} needs a field")))?;
            o.get(field).is_some_and(|v| !v.is_null())
        }
        other if !other.starts_with('_') => value_eq(o.get(other), arg),
        other => return Err(bad(format!("Unknown filter operator {other}"))),
    })
}

fn value_eq(a: Option<&Value>, v: &Value) -> bool {
    match a {
        Some(Value::Array(items)) => items.contains(v),
        Some(x) => x == v || x.as_f64().is_some() && x.as_f64() == v.as_f64(),
        None => v.is_null(),
    }
}

/// Ids of what a set holds now (for traversals that need them), at most [`MAX_ITEMS`].
async fn ids_of(state: &AppState, caller: &Caller, set: Set) -> Result<Vec<String>> {
    let (items, _) = run(state, caller, set, (0, Some(MAX_ITEMS)), &None).await?;
    Ok(items.iter().filter_map(|i| i.get("_id").and_then(Value::as_str).map(str::to_string)).collect())
}

const TRAVERSALS: &[&str] = &["observables", "tasks", "logs", "alerts", "case", "comments", "pages", "procedures", "pageTemplates", "attachments"];

async fn traverse(state: &AppState, caller: &Caller, set: Set, step: &str, kind: &Option<&'static str>) -> Result<Set> {
    let (entity, filters) = match &set {
        Set::Db { entity, filters, .. } => (Some(*entity), filters.clone()),
        Set::Mem { .. } => (None, Vec::new()),
    };
    Ok(match (entity, step) {
        (Some(Entity::Case), "observables") => db(Entity::Observable, vec![parent("case", and(&filters))]),
        (Some(Entity::Case), "tasks") => db(Entity::Task, vec![parent("case", and(&filters))]),
        (Some(Entity::Task), "logs") => db(Entity::Log, vec![parent("case_task", and(&filters)), live_logs()]),
        (Some(Entity::Case), "alerts") => {
            let ids = ids_of(state, caller, set).await?;
            db(Entity::Alert, vec![json!({"_in": {"_field": "case", "_values": ids}})])
        }
        (Some(Entity::Alert), "case") => {
            let (items, _) = run(state, caller, set, (0, Some(MAX_ITEMS)), kind).await?;
            let ids: Vec<Value> = items.iter().filter_map(|a| a.get("caseId").cloned()).filter(|v| !v.is_null()).collect();
            db(Entity::Case, vec![json!({"_id": ids})])
        }
        (Some(e @ (Entity::Case | Entity::Alert)), "comments") => {
            let on = if e == Entity::Case { crate::domain::collab::comment::On::Case } else { crate::domain::collab::comment::On::Alert };
            let mut items = Vec::new();
            for id in ids_of(state, caller, set).await? {
                items.extend(crate::domain::collab::comment::list(state, caller, on, &id).await?.iter().map(super::comment::comment_object));
            }
            Set::Mem { items }
        }
        (Some(e @ (Entity::Case | Entity::Alert)), "procedures") => {
            let on = if e == Entity::Case { crate::domain::collab::comment::On::Case } else { crate::domain::collab::comment::On::Alert };
            let mut items = Vec::new();
            for id in ids_of(state, caller, set).await? {
                items.extend(crate::domain::collab::procedure::list(state, caller, on, &id).await?.iter().map(super::procedure::procedure_object));
            }
            Set::Mem { items }
        }
        (Some(e @ (Entity::Case | Entity::Alert)), "attachments") => {
            let holder = if e == Entity::Case { crate::domain::collab::file::Holder::Case } else { crate::domain::collab::file::Holder::Alert };
            let mut items = Vec::new();
            for id in ids_of(state, caller, set).await? {
                items.extend(crate::domain::collab::file::list(state, caller, holder, &id).await?.iter().map(super::files::file_object));
            }
            Set::Mem { items }
        }
        (None, "attachments") if organisation_set(&set, &caller.org_id) => {
            let org = caller.org_id.clone();
            Set::Mem { items: crate::domain::collab::file::list(state, caller, crate::domain::collab::file::Holder::Organisation, &org).await?.iter().map(super::files::file_object).collect() }
        }
        (Some(Entity::CaseTemplate), "pageTemplates") => {
            let store = caller.store(state);
            let mut items = Vec::new();
            for id in ids_of(state, caller, set).await? {
                items.extend(case::page_template::linked(&store, &id).await?.iter().map(super::comment::page_template_object));
            }
            Set::Mem { items }
        }
        (Some(Entity::Case), "pages") => {
            let mut items = Vec::new();
            for id in ids_of(state, caller, set).await? {
                items.extend(case::page::list(state, caller, &id).await?.iter().map(super::comment::page_object));
            }
            Set::Mem { items }
        }
        (Some(Entity::Alert), "observables") => {
            let to = MAX_ITEMS;
            let search = Search::parse(Entity::Alert, &and(&filters), &[], Some(&format!("0-{to}")))?;
            let page = alert::search(state, caller, &search).await?;
            Set::Mem { items: page.items.iter().flat_map(|a| a.observables.iter().map(move |o| shape::alert_observable(o, a))).collect() }
        }
        (Some(Entity::Task | Entity::Observable), "case") => {
            let entity = entity.unwrap_or(Entity::Task);
            let search = Search::parse(entity, &and(&filters), &[], Some(&format!("0-{MAX_ITEMS}")))?;
            let ids: Vec<String> = if entity == Entity::Task {
                task::search(state, caller, &search).await?.items.into_iter().map(|t| t.case_id).collect()
            } else {
                observable::search(state, caller, &search, false).await?.items.into_iter().map(|o| o.case_id).collect()
            };
            db(Entity::Case, vec![json!({"_id": ids})])
        }
        (_, other) => {
            let mut accepted = vec!["filter", "sort", "page", "count", "limitedCount", "aggregation"];
            accepted.extend_from_slice(TRAVERSALS);
            return Err(unknown_step(other, &accepted));
        }
    })
}

/// Whether a set holds just the caller's organisation (`getOrganisation`), whose files
/// `attachments` lists.
fn organisation_set(set: &Set, org_id: &str) -> bool {
    matches!(set, Set::Mem { items } if items.len() == 1 && items[0].get("_type").and_then(Value::as_str) == Some("Organisation") && items[0].get("_id").and_then(Value::as_str) == Some(org_id))
}

/// `extraData` a page asks for (TheHive's renderers; unknown keys are ignored, as TheHive
/// ignores them). `total` is the `X-Total` header, set by the caller. Cases: `observableStats`,
/// `taskStats`, `alerts`, `procedureCount`, `isOwner`, `shareCount`, `permissions`,
/// `actionRequired`. Alerts: `caseNumber`, `importDate`. Observables: `seen`, `isOwner`,
/// `shareCount`, `permissions`. Tasks: `caseId`, `case`, `isOwner`, `shareCount`,
/// `actionRequired`. Logs: `taskId`, `task`, `case`. Sharing is Waggle's single-owner model:
/// the caller's organisation owns what it sees, shared with none.
async fn extra_data(state: &AppState, caller: &Caller, mut items: Vec<Value>, extra: &[String], kind: &Option<&'static str>) -> Result<Vec<Value>> {
    let wants = |k: &str| extra.iter().any(|e| e == k);
    let ids: Vec<String> = items.iter().filter_map(|i| i.get("_id").and_then(Value::as_str).map(str::to_string)).collect();
    let permissions: Vec<&str> = caller.permissions.clone().unwrap_or_else(|| caller.profile.permissions().to_vec()).iter().map(|p| p.as_str()).collect();
    let ownership = |data: &mut Map<String, Value>| {
        if wants("isOwner") {
            data.insert("isOwner".into(), json!(true));
        }
        if wants("shareCount") {
            data.insert("shareCount".into(), json!(0));
        }
        if wants("permissions") {
            data.insert("permissions".into(), json!(permissions));
        }
    };
    let stats: HashMap<String, app::model::CaseStats> =
        if *kind == Some("case") && (wants("observableStats") || wants("taskStats")) { case::stats(state, caller, &ids).await? } else { HashMap::new() };
    for i in items.iter_mut() {
        let Some(id) = i.get("_id").and_then(Value::as_str).map(str::to_string) else { continue };
        let mut data = Map::new();
        match *kind {
            Some("case") => {
                if let Some(s) = stats.get(&id) {
                    if wants("observableStats") {
                        data.insert("observableStats".into(), json!({"total": s.observables}));
                    }
                    if wants("taskStats") {
                        data.insert(
                            "taskStats".into(),
                            json!({"total": s.tasks.total, "Waiting": s.tasks.waiting, "InProgress": s.tasks.in_progress, "Completed": s.tasks.completed, "Cancel": s.tasks.cancel}),
                        );
                    }
                }
                if wants("alerts") {
                    let list: Vec<Value> = alert::for_case(state, caller, &id).await?.iter().map(|a| json!({"type": a.kind, "source": a.source})).collect();
                    data.insert("alerts".into(), Value::Array(list));
                }
                if wants("procedureCount") {
                    let n = crate::domain::collab::procedure::list(state, caller, crate::domain::collab::comment::On::Case, &id).await?.len();
                    data.insert("procedureCount".into(), json!(n));
                }
                if wants("actionRequired") {
                    data.insert("actionRequired".into(), json!(false));
                }
                ownership(&mut data);
            }
            Some("alert") => {
                let case_id = i.get("caseId").and_then(Value::as_str).map(str::to_string);
                if wants("caseNumber") {
                    let number = match &case_id {
                        Some(c) => case::get(state, caller, c).await.ok().map(|c| c.case_id),
                        None => None,
                    };
                    data.insert("caseNumber".into(), json!(number));
                }
                if wants("importDate") {
                    data.insert("importDate".into(), i.get("importedDate").cloned().unwrap_or(Value::Null));
                }
            }
            Some("observable") => {
                if wants("seen") {
                    let seen = i.get("extraData").and_then(|e| e.get("seen")).cloned().unwrap_or(json!({"seen": 0, "ioc": false}));
                    data.insert("seen".into(), seen);
                }
                ownership(&mut data);
            }
            Some("task") => {
                if wants("caseId") || wants("case") {
                    let t = task::get(state, caller, &id).await?;
                    if wants("caseId") {
                        data.insert("caseId".into(), json!(t.case_id));
                    }
                    if wants("case") {
                        data.insert("case".into(), shape::case(&case::get(state, caller, &t.case_id).await?));
                    }
                }
                if wants("actionRequired") {
                    let (_, required) = task::action_required(state, caller, &id).await?;
                    data.insert("actionRequired".into(), json!(required));
                }
                ownership(&mut data);
            }
            Some("log") => {
                if wants("taskId") || wants("task") || wants("case") {
                    let l = task_log::get(state, caller, &id).await?;
                    if wants("taskId") {
                        data.insert("taskId".into(), json!(l.task_id));
                    }
                    if wants("task") {
                        data.insert("task".into(), shape::task(&task::get(state, caller, &l.task_id).await?));
                    }
                    if wants("case") {
                        data.insert("case".into(), shape::case(&case::get(state, caller, &l.case_id).await?));
                    }
                }
            }
            _ => {}
        }
        if !data.is_empty() {
            i["extraData"] = Value::Object(data);
        }
    }
    Ok(items)
}
