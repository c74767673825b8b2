//! Cases in TheHive 5's v1 shape (`/api/v1/case`), with their tasks and observables.

use app::model::{CasePatch, NewCase, NewObservables, NewTask};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::shape::{self, pick};
use crate::api::json::ApiJson;
use crate::api::support::{JsonOrMultipart, input, read_upload};
use crate::core::attachment;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::domain::case::{self, observable, stage, task};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_case))
        .routes(routes!(bulk_update_cases))
        .routes(routes!(merge_cases))
        .routes(routes!(get_case, update_case, delete_case))
        .routes(routes!(create_task))
        .routes(routes!(create_observable))
        .routes(routes!(case_links))
        .routes(routes!(case_timeline))
        .routes(routes!(delete_custom_field_value))
        .routes(routes!(apply_case_template))
        .routes(routes!(link_types))
        .routes(routes!(change_link))
}

/// The link types the organisation uses.
#[utoipa::path(get, path = "/api/v1/case/link/types", tag = "v1", responses((status = 200, description = "Link types")))]
pub async fn link_types(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    Ok(axum::Json(crate::domain::case::link::types(&state, &caller).await?))
}

/// Declare or remove a link: `/link/case/add|remove` `{type, caseId}`, `/link/external/add|remove`
/// `{type, url}`.
#[utoipa::path(post, path = "/api/v1/case/{id}/link/{kind}/{action}", tag = "v1", params(("id" = String, Path, description = "Case id or number"), ("kind" = String, Path, description = "case or external"), ("action" = String, Path, description = "add or remove")), responses((status = 204, description = "Done")))]
pub async fn change_link(State(state): State<AppState>, caller: Caller, Path((id, kind, action)): Path<(String, String, String)>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    use crate::domain::case::link::{self, Target};
    let text = |k: &str| crate::api::support::opt_string("caseLink", &body, k).and_then(|v| v.ok_or_else(|| Error::attribute("caseLink", k, "string", format!("{k} is required"))));
    let link_type = text("type")?;
    let target = match kind.as_str() {
        "case" => Target::Case(match body.get("caseId") {
            Some(Value::Number(n)) => n.to_string(),
            _ => text("caseId")?,
        }),
        "external" => Target::Url(text("url")?),
        other => return Err(Error::NotFound(format!("Unknown link kind {other} (case or external)"))),
    };
    match action.as_str() {
        "add" => {
            link::add(&state, &caller, &id, &link_type, target).await?;
        }
        "remove" => link::remove(&state, &caller, &id, &link_type, target).await?,
        other => return Err(Error::NotFound(format!("Unknown link action {other} (add or remove)"))),
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Apply a case template to cases: `{ids, caseTemplate, updateTitlePrefix?, updateDescription?,
/// updateTags?, updateSeverity?, updateFlag?, updateTlp?, updatePap?, updateCustomFields?,
/// importTasks?: [task titles], importPages?: [page template ids]}`.
#[utoipa::path(post, path = "/api/v1/case/_bulk/caseTemplate", tag = "v1", responses((status = 204, description = "Applied")))]
pub async fn apply_case_template(State(state): State<AppState>, caller: Caller, ApiJson(mut body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let ids = crate::api::support::bulk_ids(&mut body)?;
    let template = crate::api::support::opt_string("case", &body, "caseTemplate")?.ok_or_else(|| Error::attribute("case", "caseTemplate", "string", "caseTemplate is required"))?;
    let flag = |k: &str| body.get(k).and_then(Value::as_bool).unwrap_or(false);
    let list = |k: &str| -> Vec<String> { body.get(k).and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default() };
    let what = crate::domain::case::template::Apply {
        title_prefix: flag("updateTitlePrefix"),
        description: flag("updateDescription"),
        tags: flag("updateTags"),
        severity: flag("updateSeverity"),
        flag: flag("updateFlag"),
        tlp: flag("updateTlp"),
        pap: flag("updatePap"),
        custom_fields: flag("updateCustomFields"),
        tasks: list("importTasks"),
        pages: list("importPages"),
    };
    crate::domain::case::template::apply(&state, &caller, &template, &ids, what).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a custom field's value from a case; the id is the value's `_id` (`<case>~<field>`).
#[utoipa::path(delete, path = "/api/v1/case/customField/{id}", tag = "v1", params(("id" = String, Path, description = "The value's _id")), responses((status = 204, description = "Removed"), (status = 404, description = "No such value")))]
pub async fn delete_custom_field_value(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let (case_id, name) = id.split_once('~').ok_or_else(|| Error::not_found("custom field value", &id))?;
    case::remove_custom_field(&state, &caller, case_id, name).await?;
    Ok(StatusCode::NO_CONTENT)
}

const TASK_KEYS: &[&str] = &["title", "group", "description", "owner", "status", "flag", "order", "startDate", "dueDate"];

/// A v1 task body as Waggle's `NewTask`.
pub fn new_task(body: &Map<String, Value>) -> Result<NewTask> {
    let mut m = body.clone();
    if let Some(a) = m.remove("assignee") {
        m.insert("owner".into(), a);
    }
    input("task", &pick(&m, TASK_KEYS), TASK_KEYS)
}

/// The status of a v1 body (TheHive 5's, or 4's) as a change, or a clear error.
fn status_change(table: &str, body: &Map<String, Value>) -> Result<Option<stage::StatusChange>> {
    match body.get("status") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => stage::from_th5(s).map(Some).ok_or_else(|| {
            Error::attribute(table, "status", "string", format!("status {s} is not one of {}", stage::TH5_STATUSES.join(", ")))
        }),
        Some(_) => Err(Error::attribute(table, "status", "string", "status must be a string")),
    }
}

const CREATE_KEYS: &[&str] = &["title", "description", "severity", "owner", "startDate", "tags", "flag", "tlp", "pap", "summary", "customFields", "template", "tasks", "stage"];

#[utoipa::path(post, path = "/api/v1/case", tag = "v1", responses((status = 201, description = "The new case (TheHive 5 shape)"), (status = 400, description = "Invalid attributes"), (status = 404, description = "Unknown case template")))]
pub async fn create_case(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let mut m = pick(&body, &["title", "description", "severity", "startDate", "tags", "flag", "tlp", "pap", "summary"]);
    if let Some(a) = body.get("assignee").or_else(|| body.get("user")).filter(|v| !v.is_null()) {
        m.insert("owner".into(), a.clone());
    }
    if let Some(t) = body.get("caseTemplate").filter(|v| !v.is_null()) {
        m.insert("template".into(), t.clone());
    }
    // TheHive 4 starts every case open; New or InProgress sets the stage.
    if let Some(c) = status_change("case", &body)? {
        if let Some(s) = c.stage {
            m.insert("stage".into(), json!(s));
        }
    }
    let cf = body.get("customFields").or_else(|| body.get("customFieldValues"));
    if let Some(cf) = cf {
        m.insert("cf".into(), cf.clone());
        shape::typed_custom_fields(&state, &caller, "case", &mut m, "cf").await?;
    }
    let mut input_case: NewCase = input("case", &m, CREATE_KEYS)?;
    if let Some(Value::Array(tasks)) = body.get("tasks") {
        for t in tasks {
            let Value::Object(t) = t else { return Err(Error::attribute("case", "tasks", "array", "each task is an object")) };
            input_case.tasks.push(new_task(t)?);
        }
    }
    let c = case::create(&state, &caller, input_case).await?;
    Ok((StatusCode::CREATED, axum::Json(shape::case(&c))))
}

/// A v1 update body as Waggle's `CasePatch` (unknown and read-only keys ignored, as TheHive
/// does), and the tags to add and remove.
async fn case_patch(state: &AppState, caller: &Caller, body: &Map<String, Value>) -> Result<(CasePatch, Vec<String>, Vec<String>)> {
    let mut m = pick(body, &["title", "description", "severity", "startDate", "endDate", "tags", "flag", "tlp", "pap", "summary", "impactStatus", "resolutionStatus"]);
    match body.get("assignee") {
        Some(Value::Null) => {
            m.insert("owner".into(), json!(""));
        }
        Some(a) => {
            m.insert("owner".into(), a.clone());
        }
        None => {}
    }
    if let Some(cf) = body.get("customFields") {
        m.insert("cf".into(), cf.clone());
        shape::typed_custom_fields(state, caller, "case", &mut m, "cf").await?;
    }
    for (k, v) in body {
        if let Some(name) = k.strip_prefix("customFields.") {
            let cf = shape::custom_field_values(state, caller, "case", &json!({ name: v })).await?;
            let all = m.entry("customFields").or_insert_with(|| json!({}));
            if let (Value::Object(all), Ok(Value::Object(one))) = (all, serde_json::to_value(cf)) {
                all.extend(one);
            }
        }
    }
    if let Some(c) = status_change("case", body)? {
        m.insert("status".into(), json!(c.status));
        if let Some(s) = c.stage {
            m.insert("stage".into(), json!(s));
        }
        if let Some(r) = c.resolution {
            m.insert("resolutionStatus".into(), json!(r));
        }
    }
    let keys: Vec<&str> = m.keys().map(String::as_str).collect();
    let patch: CasePatch = input("case", &m, &keys)?;
    let strings = |k: &str| -> Vec<String> { body.get(k).and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default() };
    Ok((patch, strings("addTags"), strings("removeTags")))
}

#[utoipa::path(get, path = "/api/v1/case/{id}", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 200, description = "The case"), (status = 404, description = "Unknown case")))]
pub async fn get_case(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let c = case::get(&state, &caller, &id).await?;
    let mut v = shape::case(&c);
    // The external pages linked by hand (cases linked by hand are in /links).
    let external: Vec<Value> = crate::domain::case::link::list(&state, &caller, &c.id)
        .await?
        .into_iter()
        .filter(|l| l.kind == "external")
        .map(|l| json!({"type": l.link_type, "url": l.target}))
        .collect();
    if !external.is_empty() {
        v["externalLinks"] = Value::Array(external);
    }
    Ok(axum::Json(v))
}

/// Change a case: TheHive 5's statuses (`New`, `InProgress`, `TruePositive`...) or 4's.
#[utoipa::path(patch, path = "/api/v1/case/{id}", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 204, description = "Changed"), (status = 400, description = "Invalid attributes")))]
pub async fn update_case(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let (patch, add, remove) = case_patch(&state, &caller, &body).await?;
    let c = case::update(&state, &caller, &id, patch).await?;
    if !add.is_empty() || !remove.is_empty() {
        case::change_tags(&state, &caller, std::slice::from_ref(&c.id), &add, &remove).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a case for good (v1's DELETE), with its tasks, logs and observables.
#[utoipa::path(delete, path = "/api/v1/case/{id}", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 204, description = "Removed")))]
pub async fn delete_case(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    case::force_delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change several cases: `{"ids": [...], <fields>}`; all or the first error.
#[utoipa::path(patch, path = "/api/v1/case/_bulk", tag = "v1", responses((status = 204, description = "Changed")))]
pub async fn bulk_update_cases(State(state): State<AppState>, caller: Caller, ApiJson(mut body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let ids = crate::api::support::bulk_ids(&mut body)?;
    let (patch, add, remove) = case_patch(&state, &caller, &body).await?;
    for (_, r) in case::bulk_update(&state, &caller, &ids, patch).await {
        r?;
    }
    if !add.is_empty() || !remove.is_empty() {
        case::change_tags(&state, &caller, &ids, &add, &remove).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Merge cases (`/_merge/id1,id2,...`) into a new one.
#[utoipa::path(post, path = "/api/v1/case/_merge/{ids}", tag = "v1", params(("ids" = String, Path, description = "Case ids or numbers, comma-separated")), responses((status = 201, description = "The merged case")))]
pub async fn merge_cases(State(state): State<AppState>, caller: Caller, Path(ids): Path<String>) -> Result<impl IntoResponse> {
    let mut resolved = Vec::new();
    for i in ids.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        resolved.push(case::get(&state, &caller, i).await?.id);
    }
    let c = case::merge(&state, &caller, &resolved).await?;
    Ok((StatusCode::CREATED, axum::Json(shape::case(&c))))
}

#[utoipa::path(post, path = "/api/v1/case/{id}/task", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 201, description = "The new task")))]
pub async fn create_task(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let t = task::create(&state, &caller, &id, new_task(&body)?).await?;
    Ok((StatusCode::CREATED, axum::Json(shape::task(&t))))
}

const OBSERVABLE_KEYS: &[&str] = &["dataType", "message", "startDate", "tlp", "tags", "ioc", "sighted", "ignoreSimilarity"];

/// Observables of a v1 body: `data` a string or an array.
pub fn new_observables(body: &Map<String, Value>) -> Result<NewObservables> {
    let mut o: NewObservables = input("observable", &pick(body, OBSERVABLE_KEYS), OBSERVABLE_KEYS)?;
    o.data = shape::observable_values(body);
    Ok(o)
}

/// Add observables (JSON: `data` a value or a list), or a file (multipart: `_json` +
/// `attachment`). 201 with the list; 207 `{success, failure}` when some fail.
#[utoipa::path(post, path = "/api/v1/case/{id}/observable", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 201, description = "The new observables"), (status = 207, description = "Some failed")))]
pub async fn create_observable(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, body: JsonOrMultipart) -> Result<Response> {
    let case_id = case::get(&state, &caller, &id).await?.id;
    match body {
        JsonOrMultipart::Multipart(m) => {
            observable::check_can_add(&state, &caller, &case_id).await?;
            let upload = read_upload(&state, m).await?;
            let meta = match new_observables(&upload.json) {
                Ok(m) => m,
                Err(e) => return attachment::discard_on_error(&state, upload.file, Err(e)).await,
            };
            let file = upload.file.ok_or_else(|| Error::attribute("observable", "attachment", "file", "the multipart body has no file"))?;
            let o = observable::add_file(&state, &caller, &case_id, meta, file).await?;
            Ok((StatusCode::CREATED, axum::Json(vec![shape::observable(&o)])).into_response())
        }
        JsonOrMultipart::Json(json) => {
            let meta = new_observables(&json)?;
            if meta.data.is_empty() {
                return Err(Error::attribute("observable", "data", "string", "data is required"));
            }
            let added = observable::add(&state, &caller, &case_id, meta).await?;
            let success: Vec<Value> = added.created.iter().map(shape::observable).collect();
            if added.failed.is_empty() {
                return Ok((StatusCode::CREATED, axum::Json(success)).into_response());
            }
            if success.is_empty() && added.failed.len() == 1 {
                return Err(added.failed.into_iter().next().map(|(_, e)| e).unwrap_or_else(|| Error::BadRequest("nothing added".into())));
            }
            let failure: Vec<Value> = added
                .failed
                .iter()
                .map(|(data, e)| {
                    let mut v = crate::api::error::error_body(e.kind(), &e.to_string());
                    v["object"] = json!({"data": data});
                    v
                })
                .collect();
            Ok((StatusCode::MULTI_STATUS, axum::Json(json!({"success": success, "failure": failure}))).into_response())
        }
    }
}

/// Other cases sharing observables with this one (TheHive 5's `/case/{id}/links`).
#[utoipa::path(get, path = "/api/v1/case/{id}/links", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 200, description = "Linked cases")))]
pub async fn case_links(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let links = case::links(&state, &caller, &id).await?;
    let mut list: Vec<Value> = links
        .iter()
        .map(|l| {
            let mut v = shape::case(&l.case);
            v["linkedWith"] = Value::Array(l.linked_with.iter().map(shape::observable).collect());
            v["linksCount"] = json!(l.linked_with.len());
            v
        })
        .collect();
    // Cases linked by hand come too, with their link type (and no shared observable if none).
    let this = case::get(&state, &caller, &id).await?;
    for l in crate::domain::case::link::list(&state, &caller, &this.id).await?.into_iter().filter(|l| l.kind == "case") {
        match list.iter_mut().find(|v| v["_id"] == json!(l.target)) {
            Some(v) => v["linkType"] = json!(l.link_type),
            None => {
                if let Ok(other) = case::get(&state, &caller, &l.target).await {
                    let mut v = shape::case(&other);
                    v["linkedWith"] = json!([]);
                    v["linksCount"] = json!(0);
                    v["linkType"] = json!(l.link_type);
                    list.push(v);
                }
            }
        }
    }
    Ok(axum::Json(list))
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// The case's timeline from its audit trail: `{events: [{date, kind, entity, entityId,
/// details}]}`, oldest first (`kind` such as `CaseCreation`, `TaskUpdate`, `ObservableCreation`).
#[utoipa::path(get, path = "/api/v1/case/{id}/timeline", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 200, description = "The timeline")))]
pub async fn case_timeline(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let c = case::get(&state, &caller, &id).await?;
    let mut entries = crate::core::audit::flow(&state, &caller, Some(&c.id), 1000).await?;
    entries.reverse();
    let mut events: Vec<Value> = entries
        .iter()
        .map(|e| {
            let entity = match e.object_type.as_str() {
                "case_artifact" | "observable" => "Observable".to_string(),
                "case_task" | "task" => "Task".to_string(),
                "case_task_log" | "log" => "Log".to_string(),
                other => capitalised(other),
            };
            let op = serde_json::to_value(e.operation).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            json!({"date": e.created_at, "kind": format!("{entity}{op}"), "entity": entity, "entityId": e.object_id, "details": e.details})
        })
        .collect();
    // Custom events are the analysts' own entries: kind CustomEvent, with their end date.
    for e in crate::domain::case::event::list(&state, &caller, &c.id).await? {
        let mut v = json!({"date": e.date, "kind": "CustomEvent", "entity": "CustomEvent", "entityId": e.id, "details": super::extra::event_object(&e)});
        if let Some(end) = e.end_date {
            v["endDate"] = json!(end);
        }
        events.push(v);
    }
    events.sort_by_key(|e| e["date"].as_i64().unwrap_or(0));
    Ok(axum::Json(json!({"events": events})))
}
