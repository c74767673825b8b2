//! TheHive 3's lists (`/api/list`): `custom_fields`, `case_metrics` and
//! `list_artifactDataType`. A list answers an object of items by item id; adding answers the
//! new item's id; items are changed and removed by id.

use app::model::{CustomFieldDefinition, NewCustomField, MetricDefinition, NewMetric};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::opt_string;
use super::support::input;
use crate::api::json::ApiJson;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::{domain::catalog::custom_field, domain::catalog::data_type, domain::catalog::metric};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_names)).routes(routes!(list_items, add_item, update_item, delete_item)).routes(routes!(item_exists))
}

const CUSTOM_FIELDS: &str = "custom_fields";
const METRICS: &str = "case_metrics";
const DATA_TYPES: &str = "list_artifactDataType";
const FIELD_ATTRS: &[&str] = &["name", "reference", "description", "type", "options", "mandatory"];
const METRIC_ATTRS: &[&str] = &["name", "title", "description"];

fn field_value(f: &CustomFieldDefinition) -> Value {
    json!({
        "name": f.name, "reference": f.reference, "description": f.description, "type": f.kind,
        "options": f.options, "mandatory": f.mandatory,
    })
}

fn metric_value(m: &MetricDefinition) -> Value {
    json!({ "name": m.name, "title": m.title, "description": m.description })
}

/// `{"<id>": value}`: one item as lists show them.
fn one(id: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(id.to_string(), value);
    Value::Object(m)
}

fn unknown_list(name: &str) -> Error {
    Error::NotFound(format!("List {name} not found (lists: {CUSTOM_FIELDS}, {METRICS}, {DATA_TYPES})"))
}

/// The lists there are.
#[utoipa::path(get, path = "/api/list", tag = "list", responses((status = 200, description = "List names")))]
pub async fn list_names(_caller: Caller) -> impl IntoResponse {
    axum::Json(json!([DATA_TYPES, METRICS, CUSTOM_FIELDS]))
}

/// The items of a list, by item id.
#[utoipa::path(get, path = "/api/list/{id}", tag = "list", params(("id" = String, Path, description = "List name")), responses((status = 200, description = "Items by id")))]
pub async fn list_items(State(state): State<AppState>, caller: Caller, Path(name): Path<String>) -> Result<impl IntoResponse> {
    let mut out = Map::new();
    match name.as_str() {
        CUSTOM_FIELDS => {
            for f in custom_field::list(&state, &caller).await? {
                out.insert(f.id.clone(), field_value(&f));
            }
        }
        METRICS => {
            for m in metric::list(&state, &caller).await? {
                out.insert(m.id.clone(), metric_value(&m));
            }
        }
        DATA_TYPES => {
            for t in data_type::list(&state, &caller).await? {
                out.insert(t.id.clone(), json!(t.name));
            }
        }
        _ => return Err(unknown_list(&name)),
    }
    Ok(axum::Json(Value::Object(out)))
}

fn value_object(body: &Map<String, Value>) -> Result<Map<String, Value>> {
    match body.get("value") {
        Some(Value::Object(o)) => Ok(o.clone()),
        _ => Err(Error::attribute("list", "value", "object", "value must be an object")),
    }
}

/// Add an item: `{"value": ...}` (a custom field or metric definition, or a data type name).
#[utoipa::path(post, path = "/api/list/{id}", tag = "list", params(("id" = String, Path, description = "List name")), responses((status = 201, description = "The new item's id")))]
pub async fn add_item(State(state): State<AppState>, caller: Caller, Path(name): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    super::check_attributes("list", &body, &["value"])?;
    let id = match name.as_str() {
        CUSTOM_FIELDS => {
            let v: NewCustomField = input("customField", &value_object(&body)?, FIELD_ATTRS)?;
            custom_field::create(&state, &caller, v).await?.id
        }
        METRICS => {
            let v: NewMetric = input("caseMetric", &value_object(&body)?, METRIC_ATTRS)?;
            metric::create(&state, &caller, v).await?.id
        }
        DATA_TYPES => {
            let v = opt_string("list", &body, "value")?.ok_or_else(|| Error::attribute("list", "value", "string", "value is required"))?;
            data_type::create(&state, &caller, &v, false).await?.id
        }
        _ => return Err(unknown_list(&name)),
    };
    Ok((StatusCode::CREATED, axum::Json(Value::String(id))))
}

/// Change an item (by id): `{"value": ...}` (custom fields and metrics).
#[utoipa::path(patch, path = "/api/list/{id}", tag = "list", params(("id" = String, Path, description = "Item id")), responses((status = 200, description = "The item")))]
pub async fn update_item(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    super::check_attributes("list", &body, &["value"])?;
    let store = caller.store(&state);
    if store.get::<Value>("custom_field", &id).await?.is_some() {
        let v: NewCustomField = input("customField", &value_object(&body)?, FIELD_ATTRS)?;
        let f = custom_field::update(&state, &caller, &id, v).await?;
        return Ok(axum::Json(one(&f.id, field_value(&f))));
    }
    if store.get::<Value>("metric", &id).await?.is_some() {
        let v: NewMetric = input("caseMetric", &value_object(&body)?, METRIC_ATTRS)?;
        let m = metric::update(&state, &caller, &id, v).await?;
        return Ok(axum::Json(one(&m.id, metric_value(&m))));
    }
    Err(Error::not_found("list item", &id))
}

/// Remove an item (by id).
#[utoipa::path(delete, path = "/api/list/{id}", tag = "list", params(("id" = String, Path, description = "Item id")), responses((status = 204, description = "Removed")))]
pub async fn delete_item(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    let store = caller.store(&state);
    if store.get::<Value>("custom_field", &id).await?.is_some() {
        custom_field::delete(&state, &caller, &id).await?;
    } else if store.get::<Value>("metric", &id).await?.is_some() {
        metric::delete(&state, &caller, &id).await?;
    } else if store.get::<Value>("data_type", &id).await?.is_some() {
        data_type::delete(&state, &caller, &id).await?;
    } else {
        return Err(Error::not_found("list item", &id));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Whether an item exists: `{"key": "reference", "value": "x"}` -> `{"found": bool}`.
#[utoipa::path(post, path = "/api/list/{id}/_exists", tag = "list", params(("id" = String, Path, description = "List name")), responses((status = 200, description = "{found}")))]
pub async fn item_exists(State(state): State<AppState>, caller: Caller, Path(name): Path<String>, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    super::check_attributes("list", &body, &["key", "value"])?;
    let key = opt_string("list", &body, "key")?.unwrap_or_else(|| "name".into());
    let value = opt_string("list", &body, "value")?.ok_or_else(|| Error::attribute("list", "value", "string", "value is required"))?;
    let found = match (name.as_str(), key.as_str()) {
        (CUSTOM_FIELDS, "reference") => custom_field::exists(&state, &caller, &value).await?,
        (CUSTOM_FIELDS, "name") => custom_field::list(&state, &caller).await?.iter().any(|f| f.name == value),
        (METRICS, "name") => metric::list(&state, &caller).await?.iter().any(|m| m.name == value),
        (METRICS, "title") => metric::list(&state, &caller).await?.iter().any(|m| m.title == value),
        (DATA_TYPES, _) => data_type::find(&state, &caller.store(&state), &value).await?.is_some(),
        (CUSTOM_FIELDS | METRICS, _) => return Err(Error::attribute("list", "key", "string", format!("cannot look {name} up by {key}"))),
        _ => return Err(unknown_list(&name)),
    };
    Ok(axum::Json(json!({ "found": found })))
}
