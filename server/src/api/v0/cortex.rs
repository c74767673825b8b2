//! TheHive's Cortex connector (`/api/connector/cortex/...`), as thehive4py 1.x and TheHive's UI
//! use it: analyzers across Cortex servers (the embedded engine is the server `local`; external
//! ones from `[[cortex]]`), jobs run on observables (`case_artifact_job`).

use app::model::{Analyzer, LOCAL_ENGINE};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::check_attributes;
use super::support::{list_response, query_param, search_args};
use crate::api::json::ApiJson;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::query::Entity;
use crate::core::search::Search;
use crate::core::state::AppState;
use crate::domain::analysis::{analyzer, job, remote};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_analyzers))
        .routes(routes!(search_analyzers))
        .routes(routes!(get_analyzer))
        .routes(routes!(analyzers_for_type))
        .routes(routes!(create_job))
        .routes(routes!(search_jobs))
        .routes(routes!(get_job))
}

/// Analyzers as TheHive shows them: one entry per name, with the servers that have it
/// (`local`, the embedded engine, and external Cortex servers).
fn grouped(list: &[Analyzer]) -> Vec<Value> {
    let mut out: Vec<(String, Value)> = Vec::new();
    for a in list.iter().filter(|a| !a.missing) {
        match out.iter_mut().find(|(n, _)| *n == a.name) {
            Some((_, v)) => {
                if let Some(ids) = v.get_mut("cortexIds").and_then(Value::as_array_mut) {
                    ids.push(json!(a.cortex_id));
                }
            }
            None => out.push((
                a.name.clone(),
                json!({
                    "_id": a.name, "id": a.name, "_type": "analyzer",
                    "name": a.name, "version": a.version, "description": a.description,
                    "dataTypeList": a.data_type_list, "cortexIds": [a.cortex_id],
                    "analyzerDefinitionId": a.definition_id, "quota": a.quota, "rate": a.rate, "rateUnit": a.rate_unit,
                }),
            )),
        }
    }
    out.into_iter().map(|(_, v)| v).collect()
}

/// The organisation's analyzers, then the external servers'.
async fn all_analyzers(state: &AppState, caller: &Caller) -> Result<Vec<Analyzer>> {
    let mut list = analyzer::list(state, caller).await?;
    list.extend(remote::analyzers(state).await.into_iter().map(|(server, a)| job::remote_view(&server, a)));
    Ok(list)
}

pub use crate::api::support::job_object;


#[utoipa::path(get, path = "/api/connector/cortex/analyzer", tag = "analysis", responses((status = 200, description = "Analyzers of the organisation")))]
pub async fn list_analyzers(State(state): State<AppState>, caller: Caller) -> Result<Response> {
    let list = grouped(&all_analyzers(&state, &caller).await?);
    let total = list.len() as u64;
    Ok(list_response(list, total))
}

#[utoipa::path(post, path = "/api/connector/cortex/analyzer/_search", tag = "analysis", responses((status = 200, description = "Analyzers of the organisation")))]
pub async fn search_analyzers(State(state): State<AppState>, caller: Caller, ApiJson(_body): ApiJson<Value>) -> Result<Response> {
    list_analyzers(State(state), caller).await
}

#[utoipa::path(get, path = "/api/connector/cortex/analyzer/{id}", tag = "analysis", params(("id" = String, Path, description = "Analyzer name or id")), responses((status = 200, description = "The analyzer")))]
pub async fn get_analyzer(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let list: Vec<Analyzer> = all_analyzers(&state, &caller).await?.into_iter().filter(|a| a.name == id || (a.id == id && a.cortex_id == LOCAL_ENGINE)).collect();
    grouped(&list).into_iter().next().map(axum::Json).ok_or_else(|| Error::not_found("analyzer", &id))
}

#[utoipa::path(get, path = "/api/connector/cortex/analyzer/type/{dataType}", tag = "analysis", params(("dataType" = String, Path, description = "Observable type")), responses((status = 200, description = "Analyzers taking it")))]
pub async fn analyzers_for_type(State(state): State<AppState>, caller: Caller, Path(data_type): Path<String>) -> Result<impl IntoResponse> {
    let list: Vec<Analyzer> = all_analyzers(&state, &caller).await?.into_iter().filter(|a| a.data_type_list.contains(&data_type)).collect();
    Ok(axum::Json(grouped(&list)))
}

/// Run an analyzer on an observable: `{"cortexId", "artifactId", "analyzerId"}` (`?force=1`
/// bypasses the cache).
#[utoipa::path(post, path = "/api/connector/cortex/job", tag = "analysis", responses((status = 201, description = "The job"), (status = 429, description = "Over the analyzer's rate (analyzers set to refuse)")))]
pub async fn create_job(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    check_attributes(job::TYPE, &body, &["cortexId", "artifactId", "analyzerId", "force"])?;
    let text = |k: &str| -> Result<String> {
        body.get(k).and_then(Value::as_str).map(str::to_string).ok_or_else(|| Error::attribute(job::TYPE, k, "string", format!("{k} is required")))
    };
    let cortex = text("cortexId")?;
    if cortex != LOCAL_ENGINE && !remote::is_server(&state, &cortex) {
        return Err(Error::NotFound(format!("Cortex server {cortex} not found (the embedded engine is {LOCAL_ENGINE})")));
    }
    let force = body.get("force").and_then(Value::as_bool).unwrap_or(false)
        || query_param(raw.as_deref(), "force").is_some_and(|f| matches!(f.as_str(), "1" | "true"));
    let j = job::run_on_observable_at(&state, &caller, &cortex, &text("artifactId")?, &text("analyzerId")?, force).await?;
    Ok((StatusCode::CREATED, axum::Json(job_object(&j, None))))
}

#[utoipa::path(post, path = "/api/connector/cortex/job/_search", tag = "analysis", responses((status = 200, description = "Jobs")))]
pub async fn search_jobs(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<Response> {
    let args = search_args(raw.as_deref(), &body)?;
    let search = Search::parse(Entity::Job, &args.query, &args.sort, args.range.as_deref())?;
    let page = job::search(&state, &caller, &search).await?;
    Ok(list_response(page.items.iter().map(|j| job_object(j, None)).collect(), page.total))
}

/// A job, with its report once it has finished.
#[utoipa::path(get, path = "/api/connector/cortex/job/{id}", tag = "analysis", params(("id" = String, Path, description = "Job id")), responses((status = 200, description = "The job")))]
pub async fn get_job(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let (j, report) = job::report(&state, &caller, &id).await?;
    Ok(axum::Json(job_object(&j, report.as_ref())))
}
