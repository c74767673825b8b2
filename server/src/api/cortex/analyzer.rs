//! Analyzer definitions and the analyzers of the caller's organisation.

use app::model::AnalyzerInput;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{analyzer_object, definition_object};
use crate::api::json::ApiJson;
use crate::api::support::{input, list_response, search_args};
use crate::core::auth::Caller;
use crate::core::error::Result;
use crate::core::query::Entity;
use crate::core::search::Search;
use crate::core::state::AppState;
use crate::domain::analysis::analyzer;

/// What enabling or changing an analyzer takes (Cortex's names; `overQuota` is Waggle's).
const INPUT: &[&str] = &["name", "configuration", "rate", "rateUnit", "jobCache", "jobTimeout", "overQuota"];

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_definitions))
        .routes(routes!(scan_definitions))
        .routes(routes!(enable_analyzer))
        .routes(routes!(list_analyzers))
        .routes(routes!(search_analyzers))
        .routes(routes!(get_analyzer, update_analyzer, disable_analyzer))
        .routes(routes!(analyzers_for_type))
}

fn definitions_response(list: Vec<app::model::AnalyzerDefinition>) -> Response {
    let total = list.len() as u64;
    list_response(list.iter().map(definition_object).collect(), total)
}

/// The definitions found in the analyzers directories.
#[utoipa::path(get, path = "/cortex/api/analyzerdefinition", tag = "cortex", responses((status = 200, description = "Analyzer definitions")))]
pub async fn list_definitions(State(state): State<AppState>, _caller: Caller) -> Result<Response> {
    Ok(definitions_response(analyzer::definitions(&state)))
}

/// Read the analyzers directories again (organisation and platform administrators).
#[utoipa::path(post, path = "/cortex/api/analyzerdefinition/scan", tag = "cortex", responses((status = 200, description = "The definitions now"), (status = 403, description = "Not allowed")))]
pub async fn scan_definitions(State(state): State<AppState>, caller: Caller) -> Result<Response> {
    Ok(definitions_response(analyzer::rescan(&state, &caller).await?))
}

/// Enable a definition in the caller's organisation: `{name, configuration, rate, rateUnit,
/// jobCache, jobTimeout}` (organisation administrators).
#[utoipa::path(post, path = "/cortex/api/organization/analyzer/{definitionId}", tag = "cortex", params(("definitionId" = String, Path, description = "Definition id (name_version)")), responses((status = 201, description = "The analyzer"), (status = 400, description = "Invalid configuration"), (status = 403, description = "Not allowed"), (status = 404, description = "No such definition")))]
pub async fn enable_analyzer(
    State(state): State<AppState>,
    caller: Caller,
    Path(definition): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<impl IntoResponse> {
    let given: AnalyzerInput = input("analyzer", &body, INPUT)?;
    let a = analyzer::enable(&state, &caller, &definition, given).await?;
    Ok((StatusCode::CREATED, axum::Json(analyzer_object(&state, &a))))
}

/// Every analyzer of the caller's organisation.
#[utoipa::path(get, path = "/cortex/api/analyzer", tag = "cortex", responses((status = 200, description = "Analyzers")))]
pub async fn list_analyzers(State(state): State<AppState>, caller: Caller) -> Result<Response> {
    let list = analyzer::list(&state, &caller).await?;
    let total = list.len() as u64;
    Ok(list_response(list.iter().map(|a| analyzer_object(&state, a)).collect(), total))
}

/// Search the organisation's analyzers (`name`, `analyzerDefinitionId`, limits; `range`, `sort`).
#[utoipa::path(post, path = "/cortex/api/analyzer/_search", tag = "cortex", responses((status = 200, description = "Analyzers"), (status = 400, description = "Invalid query")))]
pub async fn search_analyzers(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<Response> {
    let args = search_args(raw.as_deref(), &body)?;
    let search = Search::parse(Entity::Analyzer, &args.query, &args.sort, args.range.as_deref())?;
    let page = analyzer::search(&state, &caller, &search).await?;
    Ok(list_response(page.items.iter().map(|a| analyzer_object(&state, a)).collect(), page.total))
}

#[utoipa::path(get, path = "/cortex/api/analyzer/{id}", tag = "cortex", params(("id" = String, Path, description = "Analyzer id or name")), responses((status = 200, description = "The analyzer"), (status = 404, description = "Not an analyzer of this organisation")))]
pub async fn get_analyzer(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(analyzer_object(&state, &analyzer::get(&state, &caller, &id).await?)))
}

/// Change an analyzer's name, configuration or limits (organisation administrators).
#[utoipa::path(patch, path = "/cortex/api/analyzer/{id}", tag = "cortex", params(("id" = String, Path, description = "Analyzer id or name")), responses((status = 200, description = "The analyzer"), (status = 400, description = "Invalid configuration"), (status = 403, description = "Not allowed")))]
pub async fn update_analyzer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<impl IntoResponse> {
    let given: AnalyzerInput = input("analyzer", &body, INPUT)?;
    Ok(axum::Json(analyzer_object(&state, &analyzer::update(&state, &caller, &id, given).await?)))
}

/// Disable an analyzer (organisation administrators); its jobs stay.
#[utoipa::path(delete, path = "/cortex/api/analyzer/{id}", tag = "cortex", params(("id" = String, Path, description = "Analyzer id or name")), responses((status = 200, description = "Disabled"), (status = 403, description = "Not allowed")))]
pub async fn disable_analyzer(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<StatusCode> {
    analyzer::disable(&state, &caller, &id).await?;
    Ok(StatusCode::OK)
}

/// The analyzers that take observables of a data type.
#[utoipa::path(get, path = "/cortex/api/analyzer/type/{dataType}", tag = "cortex", params(("dataType" = String, Path, description = "Data type (ip, domain, file...)")), responses((status = 200, description = "Analyzers")))]
pub async fn analyzers_for_type(State(state): State<AppState>, caller: Caller, Path(data_type): Path<String>) -> Result<impl IntoResponse> {
    let list = analyzer::for_type(&state, &caller, &data_type).await?;
    Ok(axum::Json(list.iter().map(|a| analyzer_object(&state, a)).collect::<Vec<_>>()))
}
