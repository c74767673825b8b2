//! MITRE ATT&CK in TheHive 5's v1 shape: the pattern catalogue (imported from the
//! enterprise-attack STIX bundle) and the procedures of cases and alerts.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::shape::pick;
use crate::api::json::{ApiJson, parse_json};
use crate::api::support::input;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::domain::collab::comment::On;
use crate::domain::collab::procedure::{self, Procedure, ProcedureInput};
use crate::domain::catalog::pattern::{self, Imported, Pattern};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(case_procedure))
        .routes(routes!(case_procedures))
        .routes(routes!(alert_procedure))
        .routes(routes!(alert_procedures))
        .routes(routes!(update_procedure, delete_procedure))
        .routes(routes!(bulk_delete_procedures))
        .routes(routes!(import_patterns))
        .routes(routes!(get_pattern, delete_pattern))
        .routes(routes!(case_patterns))
}

pub fn procedure_object(p: &Procedure) -> Value {
    let mut v = json!({
        "_id": p.id, "_type": "Procedure", "_createdBy": p.created_by, "_createdAt": p.created_at,
        "occurDate": p.occur_date, "patternId": p.pattern_id, "patternName": p.pattern_name, "tactic": p.tactic,
        "tacticLabel": tactic_label(&p.tactic), "extraData": {},
    });
    if let Some(d) = &p.description {
        v["description"] = json!(d);
    }
    if let (Some(at), Some(by)) = (p.updated_at, &p.updated_by) {
        v["_updatedAt"] = json!(at);
        v["_updatedBy"] = json!(by);
    }
    v
}

/// `command-and-control` -> `Command And Control`.
fn tactic_label(t: &str) -> String {
    t.split('-').map(|w| {
        let mut c = w.chars();
        c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
    }).collect::<Vec<_>>().join(" ")
}

pub fn pattern_object(p: &Pattern) -> Value {
    json!({
        "_id": p.pattern_id, "_type": "Pattern", "_createdAt": p.updated_at, "_createdBy": "system",
        "patternId": p.pattern_id, "name": p.name, "description": p.description, "tactics": p.tactics, "url": p.url,
        "patternType": "attack-pattern", "revoked": false, "platforms": p.platforms, "dataSources": p.data_sources,
        "version": p.version, "extraData": {},
    })
}

const KEYS: &[&str] = &["patternId", "tactic", "occurDate", "description"];

fn one(body: &Map<String, Value>) -> Result<ProcedureInput> {
    input("procedure", &pick(body, KEYS), KEYS)
}

fn many(body: &Map<String, Value>) -> Result<Vec<ProcedureInput>> {
    let list = body.get("procedures").and_then(Value::as_array).ok_or_else(|| Error::attribute("procedure", "procedures", "array", "procedures: [{patternId, occurDate, tactic?, description?}]"))?;
    list.iter()
        .map(|p| p.as_object().ok_or_else(|| Error::attribute("procedure", "procedures", "array", "each procedure is an object")).and_then(one))
        .collect()
}

#[utoipa::path(post, path = "/api/v1/case/{id}/procedure", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 201, description = "The procedure")))]
pub async fn case_procedure(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let p = procedure::create(&state, &caller, On::Case, &id, vec![one(&body)?]).await?;
    Ok((StatusCode::CREATED, axum::Json(procedure_object(&p[0]))))
}

#[utoipa::path(post, path = "/api/v1/case/{id}/procedures", tag = "v1", params(("id" = String, Path, description = "Case id or number")), responses((status = 201, description = "The procedures")))]
pub async fn case_procedures(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let list = procedure::create(&state, &caller, On::Case, &id, many(&body)?).await?;
    Ok((StatusCode::CREATED, axum::Json(list.iter().map(procedure_object).collect::<Vec<_>>())))
}

#[utoipa::path(post, path = "/api/v1/alert/{id}/procedure", tag = "v1", params(("id" = String, Path, description = "Alert id")), responses((status = 201, description = "The procedure")))]
pub async fn alert_procedure(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let p = procedure::create(&state, &caller, On::Alert, &id, vec![one(&body)?]).await?;
    Ok((StatusCode::CREATED, axum::Json(procedure_object(&p[0]))))
}

#[utoipa::path(post, path = "/api/v1/alert/{id}/procedures", tag = "v1", params(("id" = String, Path, description = "Alert id")), responses((status = 201, description = "The procedures")))]
pub async fn alert_procedures(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let list = procedure::create(&state, &caller, On::Alert, &id, many(&body)?).await?;
    Ok((StatusCode::CREATED, axum::Json(list.iter().map(procedure_object).collect::<Vec<_>>())))
}

#[utoipa::path(patch, path = "/api/v1/procedure/{id}", tag = "v1", params(("id" = String, Path, description = "Procedure id")), responses((status = 204, description = "Changed")))]
pub async fn update_procedure(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    procedure::update(&state, &caller, &id, one(&body)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/procedure/{id}", tag = "v1", params(("id" = String, Path, description = "Procedure id")), responses((status = 204, description = "Removed")))]
pub async fn delete_procedure(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    procedure::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/procedure/delete/_bulk", tag = "v1", responses((status = 204, description = "Removed")))]
pub async fn bulk_delete_procedures(State(state): State<AppState>, caller: Caller, ApiJson(mut body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    for id in crate::api::support::bulk_ids(&mut body)? {
        procedure::delete(&state, &caller, &id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Import MITRE ATT&CK: multipart `file` = the enterprise-attack STIX bundle (or the bundle as
/// the JSON body); answers one line per technique.
#[utoipa::path(post, path = "/api/v1/pattern/import/attack", tag = "v1", responses((status = 201, description = "[{status, mitreId, patternName} | {status, message}]")))]
pub async fn import_patterns(State(state): State<AppState>, caller: Caller, body: crate::api::support::JsonOrMultipart) -> Result<impl IntoResponse> {
    use crate::api::support::JsonOrMultipart;
    // Refused before the upload is read.
    caller.require(app::model::Permission::ManagePlatform, "import ATT&CK patterns")?;
    let bundle: Value = match body {
        JsonOrMultipart::Json(m) => Value::Object(m),
        JsonOrMultipart::Multipart(mut m) => {
            let mut found = None;
            while let Some(field) = m.next_field().await.map_err(|e| Error::BadRequest(format!("Invalid multipart body: {}", e.body_text())))? {
                if field.name() == Some("file") || field.file_name().is_some() {
                    let bytes = field.bytes().await.map_err(|e| Error::BadRequest(format!("Invalid multipart body: {}", e.body_text())))?;
                    if bytes.len() > pattern::MAX_BUNDLE_BYTES {
                        return Err(Error::TooLarge("The bundle is too large".into()));
                    }
                    found = Some(parse_json::<Value>(&bytes)?);
                    break;
                }
            }
            found.ok_or_else(|| Error::attribute("pattern", "file", "file", "the multipart body has no file part"))?
        }
    };
    let out: Vec<Value> = pattern::import(&state, &caller, &bundle)
        .await?
        .into_iter()
        .map(|r| match r {
            Imported::Success { mitre_id, name } => json!({"status": "Success", "mitreId": mitre_id, "patternName": name}),
            Imported::Failure { message } => json!({"status": "Failure", "message": message}),
        })
        .collect();
    Ok((StatusCode::CREATED, axum::Json(out)))
}

#[utoipa::path(get, path = "/api/v1/pattern/{id}", tag = "v1", params(("id" = String, Path, description = "ATT&CK id (T1059.001)")), responses((status = 200, description = "The pattern")))]
pub async fn get_pattern(State(state): State<AppState>, _caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(pattern_object(&pattern::get(&state, &id).await?)))
}

#[utoipa::path(delete, path = "/api/v1/pattern/{id}", tag = "v1", params(("id" = String, Path, description = "ATT&CK id")), responses((status = 204, description = "Removed")))]
pub async fn delete_pattern(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    pattern::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The techniques a case's procedures name.
#[utoipa::path(get, path = "/api/v1/pattern/case/{caseId}", tag = "v1", params(("caseId" = String, Path, description = "Case id or number")), responses((status = 200, description = "Patterns")))]
pub async fn case_patterns(State(state): State<AppState>, caller: Caller, Path(case_id): Path<String>) -> Result<impl IntoResponse> {
    let mut ids: Vec<String> = procedure::list(&state, &caller, On::Case, &case_id).await?.into_iter().map(|p| p.pattern_id).collect();
    ids.sort();
    ids.dedup();
    let mut out = Vec::new();
    for id in ids {
        if let Ok(p) = pattern::get(&state, &id).await {
            out.push(pattern_object(&p));
        }
    }
    Ok(axum::Json(out))
}
