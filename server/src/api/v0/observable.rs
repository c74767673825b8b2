//! Observables as TheHive v0 calls them: artifacts (`/api/case/artifact`, `case_artifact`).

use std::collections::HashMap;

use app::model::{NewObservables, Observable, ObservablePatch};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::case::{bulk_ids, case_object};
use super::object;
use super::support::{JsonOrMultipart, input, list_response, multi_response, multi_response_with, read_upload, search_args};
use super::task::parent_cases;
use crate::api::json::ApiJson;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::query::Entity;
use crate::core::search::Search;
use crate::core::state::AppState;
use crate::{core::attachment, domain::case::observable};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_artifact))
        .routes(routes!(search_artifacts))
        .routes(routes!(bulk_update_artifacts))
        .routes(routes!(get_artifact, update_artifact, delete_artifact))
        .routes(routes!(similar_artifacts))
}

const CREATE: &[&str] = &["dataType", "data", "message", "startDate", "tlp", "tags", "ioc", "sighted", "ignoreSimilarity"];
const UPDATE: &[&str] = &["message", "tlp", "tags", "ioc", "sighted", "ignoreSimilarity"];

/// An observable as v0 shows it (`_parent` is its case).
pub fn observable_object(o: &Observable) -> Value {
    let mut v = object(o, "case_artifact");
    if let Value::Object(m) = &mut v {
        m.insert("_parent".into(), Value::String(o.case_id.clone()));
    }
    v
}

/// An observable file given inline, as alerts carry them: `name;content-type;base64`.
fn inline_file(data: &str) -> Option<(String, String, Vec<u8>)> {
    let mut parts = data.splitn(3, ';');
    let (name, ctype, b64) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
    Some((name.to_string(), ctype.to_string(), bytes))
}

/// Add observables: JSON (`data` a value or a list of values; a file as `name;type;base64`),
/// or multipart with `_json` and an `attachment` file (answers a list).
#[utoipa::path(post, path = "/api/case/{id}/artifact", tag = "observable", params(("id" = String, Path, description = "Case id")), responses((status = 201, description = "The new observable(s)"), (status = 207, description = "Some values were refused"), (status = 400, description = "Invalid or already in the case")))]
pub async fn create_artifact(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, body: JsonOrMultipart) -> Result<Response> {
    match body {
        JsonOrMultipart::Multipart(m) => {
            // Checked before the upload is read and stored.
            observable::check_can_add(&state, &caller, &id).await?;
            let upload = read_upload(&state, m).await?;
            let mut json = upload.json;
            json.remove("data");
            let meta: NewObservables = match input("case_artifact", &json, CREATE) {
                Ok(m) => m,
                Err(e) => return attachment::discard_on_error(&state, upload.file, Err(e)).await,
            };
            let file = upload.file.ok_or_else(|| Error::attribute("case_artifact", "attachment", "file", "the multipart body has no file"))?;
            let o = observable::add_file(&state, &caller, &id, meta, file).await?;
            Ok((StatusCode::CREATED, axum::Json(vec![observable_object(&o)])).into_response())
        }
        JsonOrMultipart::Json(mut json) => {
            let data = json.remove("data");
            let mut meta: NewObservables = input("case_artifact", &json, CREATE)?;
            // A list is always values; a single string may be a file (`name;type;base64`).
            let is_file = match &data {
                Some(Value::String(_)) => crate::domain::catalog::data_type::find(&state, &caller.store(&state), meta.data_type.trim()).await?.is_some_and(|t| t.is_attachment),
                _ => false,
            };
            match data {
                Some(Value::String(s)) if is_file => {
                    observable::check_can_add(&state, &caller, &id).await?;
                    let (name, ctype, bytes) = inline_file(&s)
                        .ok_or_else(|| Error::attribute("case_artifact", "data", "string", "a file is given as name;content-type;base64"))?;
                    let file = attachment::save_bytes(&state, &name, Some(&ctype), bytes.into()).await?;
                    let o = observable::add_file(&state, &caller, &id, meta, file).await?;
                    Ok((StatusCode::CREATED, axum::Json(observable_object(&o))).into_response())
                }
                Some(Value::String(s)) => {
                    meta.data = vec![s];
                    let o = observable::add_one(&state, &caller, &id, meta).await?;
                    Ok((StatusCode::CREATED, axum::Json(observable_object(&o))).into_response())
                }
                Some(Value::Array(values)) => {
                    meta.data = values
                        .into_iter()
                        .map(|v| match v {
                            Value::String(s) => Ok(s),
                            _ => Err(Error::attribute("case_artifact", "data", "string", "data must be a value or a list of values")),
                        })
                        .collect::<Result<_>>()?;
                    let added = observable::add(&state, &caller, &id, meta).await?;
                    let mut results: Vec<(String, Result<Value>)> =
                        added.created.iter().map(|o| (o.id.clone(), Ok(observable_object(o)))).collect();
                    results.extend(added.failed.into_iter().map(|(v, e)| (v, Err(e))));
                    Ok(multi_response_with(StatusCode::CREATED, results))
                }
                None | Some(Value::Null) => Err(Error::attribute("case_artifact", "data", "string", "data is required")),
                Some(_) => Err(Error::attribute("case_artifact", "data", "string", "data must be a value or a list of values")),
            }
        }
    }
}

/// Observables matching a query; `nstats=true` adds `seen` (in how many other cases),
/// `nparent` adds each one's `case`.
#[utoipa::path(post, path = "/api/case/artifact/_search", tag = "observable", responses((status = 200, description = "Observables"), (status = 400, description = "Invalid query")))]
pub async fn search_artifacts(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<Response> {
    let args = search_args(raw.as_deref(), &body)?;
    let search = Search::parse(Entity::Observable, &args.query, &args.sort, args.range.as_deref())?;
    let page = observable::search(&state, &caller, &search, args.nstats).await?;
    let parents = if args.nparent > 0 { parent_cases(&state, &caller, page.items.iter().map(|o| o.case_id.clone())).await? } else { HashMap::new() };
    let items = page
        .items
        .iter()
        .map(|o| {
            let mut v = observable_object(o);
            if let (Value::Object(m), Some(p)) = (&mut v, parents.get(&o.case_id)) {
                m.insert("case".into(), p.clone());
            }
            v
        })
        .collect();
    Ok(list_response(items, page.total))
}

/// Change several observables: `{"ids": [...], "ioc": true, ...}`.
#[utoipa::path(patch, path = "/api/case/artifact/_bulk", tag = "observable", responses((status = 200, description = "All changed"), (status = 207, description = "Some changed")))]
pub async fn bulk_update_artifacts(State(state): State<AppState>, caller: Caller, ApiJson(mut body): ApiJson<Map<String, Value>>) -> Result<Response> {
    let ids = bulk_ids(&mut body)?;
    let patch: ObservablePatch = input("case_artifact", &body, UPDATE)?;
    let results = observable::bulk_update(&state, &caller, &ids, patch).await;
    Ok(multi_response(results.into_iter().map(|(id, r)| (id, r.map(|o| observable_object(&o)))).collect()))
}

#[utoipa::path(get, path = "/api/case/artifact/{id}", tag = "observable", params(("id" = String, Path, description = "Observable id")), responses((status = 200, description = "The observable")))]
pub async fn get_artifact(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let mut o = observable::get(&state, &caller, &id).await?;
    observable::with_seen(&caller.store(&state), std::slice::from_mut(&mut o)).await?;
    Ok(axum::Json(observable_object(&o)))
}

/// Change message, TLP, tags, IOC, sighted, ignoreSimilarity.
#[utoipa::path(patch, path = "/api/case/artifact/{id}", tag = "observable", params(("id" = String, Path, description = "Observable id")), responses((status = 200, description = "The observable")))]
pub async fn update_artifact(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let patch: ObservablePatch = input("case_artifact", &body, UPDATE)?;
    Ok(axum::Json(observable_object(&observable::update(&state, &caller, &id, patch).await?)))
}

#[utoipa::path(delete, path = "/api/case/artifact/{id}", tag = "observable", params(("id" = String, Path, description = "Observable id")), responses((status = 204, description = "Removed")))]
pub async fn delete_artifact(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    observable::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The same value in other cases: each observable with its `case`.
#[utoipa::path(get, path = "/api/case/artifact/{id}/similar", tag = "observable", params(("id" = String, Path, description = "Observable id")), responses((status = 200, description = "Similar observables")))]
pub async fn similar_artifacts(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response> {
    let list = observable::similar(&state, &caller, &id).await?;
    let total = list.len() as u64;
    let items = list
        .iter()
        .map(|(o, c)| {
            let mut v = observable_object(o);
            if let Value::Object(m) = &mut v {
                m.insert("case".into(), case_object(c));
            }
            v
        })
        .collect();
    Ok(list_response(items, total))
}
