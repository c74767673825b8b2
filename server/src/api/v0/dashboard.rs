//! Dashboards (`/api/dashboard`): TheHive 3's CRUD and search, plus copy, export/import of
//! TheHive 3's file format and server-side PNG rendering.

use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_attributes, object, opt_string};
use crate::api::json::ApiJson;
use crate::core::auth::Caller;
use crate::domain::dashboard::{self, DashboardPatch, NewDashboard};
use crate::core::error::{Error, Result};
use crate::core::query::Range;
use crate::core::state::AppState;
use app::model::{Dashboard, DashboardStatus};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_dashboard))
        .routes(routes!(search_dashboards))
        .routes(routes!(get_dashboard, update_dashboard, delete_dashboard))
        .routes(routes!(copy_dashboard))
        .routes(routes!(export_dashboard))
        .routes(routes!(import_dashboard))
        .routes(routes!(dashboard_png))
        .routes(routes!(widget_png))
}

const FIELDS: &[&str] = &["title", "description", "status", "definition"];

pub fn dashboard_object(d: &Dashboard) -> Value {
    object(d, "dashboard")
}

fn status_of(body: &Map<String, Value>) -> Result<Option<DashboardStatus>> {
    match opt_string("dashboard", body, "status")? {
        None => Ok(None),
        Some(s) => DashboardStatus::parse(&s)
            .map(Some)
            .ok_or_else(|| Error::attribute("dashboard", "status", "string", "status is Private or Shared")),
    }
}

/// The definition: a JSON string (TheHive's API) or, leniently, an object.
fn definition_of(body: &Map<String, Value>) -> Result<Option<String>> {
    match body.get("definition") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v @ Value::Object(_)) => Ok(Some(v.to_string())),
        Some(_) => Err(Error::attribute("dashboard", "definition", "string", "definition must be a JSON string")),
    }
}

/// Create a dashboard: `{"title", "description", "status": "Private|Shared", "definition": "<JSON>"}`.
#[utoipa::path(post, path = "/api/dashboard", tag = "dashboard", responses((status = 201, description = "Created"), (status = 400, description = "Invalid attributes")))]
pub async fn create_dashboard(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    check_attributes("dashboard", &body, FIELDS)?;
    let new = NewDashboard {
        title: opt_string("dashboard", &body, "title")?.ok_or_else(|| Error::attribute("dashboard", "title", "string", "title is required"))?,
        description: opt_string("dashboard", &body, "description")?.unwrap_or_default(),
        status: status_of(&body)?.unwrap_or_default(),
        definition: definition_of(&body)?.unwrap_or_else(|| "{\"period\":\"all\",\"items\":[]}".into()),
    };
    let d = dashboard::create(&state, &caller, new).await?;
    Ok((StatusCode::CREATED, axum::Json(dashboard_object(&d))))
}

#[derive(Deserialize, Default)]
pub struct SearchBody {
    #[serde(default)]
    query: Value,
    #[serde(default)]
    range: Option<String>,
    #[serde(default)]
    sort: Option<Value>,
}

/// Query-string `range` and repeated `sort` parameters.
fn paging(raw: Option<&str>, body: &SearchBody) -> Result<(Range, Vec<String>)> {
    let mut range = body.range.clone();
    let mut sort: Vec<String> = match &body.sort {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    };
    for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = app::url::decode_component(v);
        match k {
            "range" => range = Some(v),
            "sort" => sort.push(v),
            _ => {}
        }
    }
    Ok((Range::parse(range.as_deref())?, sort))
}

/// Dashboards the caller sees (their own and the Shared ones): `{"query": Q}`, `range`, `sort`.
#[utoipa::path(post, path = "/api/dashboard/_search", tag = "dashboard", responses((status = 200, description = "Dashboards, X-Total header")))]
pub async fn search_dashboards(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<impl IntoResponse> {
    let (range, sort) = paging(raw.as_deref(), &body)?;
    let (list, total) = dashboard::search(&state, &caller, &body.query, &sort, range).await?;
    let list: Vec<Value> = list.iter().map(dashboard_object).collect();
    Ok(([("X-Total", total.to_string())], axum::Json(list)))
}

#[utoipa::path(get, path = "/api/dashboard/{id}", tag = "dashboard", params(("id" = String, Path, description = "Dashboard id")), responses((status = 200, description = "The dashboard"), (status = 404, description = "Not found")))]
pub async fn get_dashboard(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    Ok(axum::Json(dashboard_object(&dashboard::get(&state, &caller, &id).await?)))
}

#[utoipa::path(patch, path = "/api/dashboard/{id}", tag = "dashboard", params(("id" = String, Path, description = "Dashboard id")), responses((status = 200, description = "The dashboard")))]
pub async fn update_dashboard(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<impl IntoResponse> {
    check_attributes("dashboard", &body, FIELDS)?;
    let patch = DashboardPatch {
        title: opt_string("dashboard", &body, "title")?,
        description: opt_string("dashboard", &body, "description")?,
        status: status_of(&body)?,
        definition: definition_of(&body)?,
    };
    Ok(axum::Json(dashboard_object(&dashboard::update(&state, &caller, &id, patch).await?)))
}

#[utoipa::path(delete, path = "/api/dashboard/{id}", tag = "dashboard", params(("id" = String, Path, description = "Dashboard id")), responses((status = 204, description = "Deleted")))]
pub async fn delete_dashboard(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    dashboard::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A private copy for the caller: `{"title"?}`.
#[utoipa::path(post, path = "/api/dashboard/{id}/copy", tag = "dashboard", params(("id" = String, Path, description = "Dashboard id")), responses((status = 201, description = "The copy")))]
pub async fn copy_dashboard(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<impl IntoResponse> {
    check_attributes("dashboard", &body, &["title"])?;
    let d = dashboard::copy(&state, &caller, &id, opt_string("dashboard", &body, "title")?).await?;
    Ok((StatusCode::CREATED, axum::Json(dashboard_object(&d))))
}

/// The dashboard in TheHive 3's file format (no ids, `definition` as an object).
#[utoipa::path(get, path = "/api/dashboard/{id}/export", tag = "dashboard", params(("id" = String, Path, description = "Dashboard id")), responses((status = 200, description = "Export file")))]
pub async fn export_dashboard(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let file = dashboard::export(&state, &caller, &id).await?;
    let name = format!("{}.json", file.title.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect::<String>());
    Ok((
        [(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))],
        axum::Json(json!(file)),
    ))
}

/// Import a TheHive 3 dashboard file: `{"title", "description", "status", "definition": {...}}`.
#[utoipa::path(post, path = "/api/dashboard/_import", tag = "dashboard", responses((status = 201, description = "Imported"), (status = 400, description = "Not a dashboard file")))]
pub async fn import_dashboard(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Value>) -> Result<impl IntoResponse> {
    if let Value::Object(m) = &body {
        check_attributes("dashboard", m, FIELDS)?;
    }
    let d = dashboard::import(&state, &caller, &body).await?;
    Ok((StatusCode::CREATED, axum::Json(dashboard_object(&d))))
}

#[derive(Deserialize, Default)]
pub struct RenderParams {
    /// Width of one chart in pixels (200..4000, default 640).
    width: Option<u32>,
    /// `light` (default) or `dark`.
    theme: Option<String>,
}

/// The whole dashboard as one PNG image (for reports and e-mail).
#[utoipa::path(get, path = "/api/dashboard/{id}/png", tag = "dashboard", params(("id" = String, Path, description = "Dashboard id"), ("width" = Option<u32>, Query, description = "Width of one chart"), ("theme" = Option<String>, Query, description = "light or dark")), responses((status = 200, description = "PNG image", content_type = "image/png")))]
pub async fn dashboard_png(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(p): Query<RenderParams>,
) -> Result<impl IntoResponse> {
    let png = crate::domain::dashboard::render::dashboard_png(&state, &caller, &id, p.width, p.theme.as_deref()).await?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png))
}

/// One widget of a dashboard as a PNG image.
#[utoipa::path(get, path = "/api/dashboard/{id}/widget/{widget}/png", tag = "dashboard", params(("id" = String, Path, description = "Dashboard id"), ("widget" = String, Path, description = "Widget id"), ("width" = Option<u32>, Query, description = "Width"), ("theme" = Option<String>, Query, description = "light or dark")), responses((status = 200, description = "PNG image", content_type = "image/png")))]
pub async fn widget_png(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, widget)): Path<(String, String)>,
    Query(p): Query<RenderParams>,
) -> Result<impl IntoResponse> {
    let png = crate::domain::dashboard::render::widget_png(&state, &caller, &id, &widget, p.width, p.theme.as_deref()).await?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png))
}
