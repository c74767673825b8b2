//! TheHive's v0 dialect (`/api/...`), spoken by thehive4py 1.x and the feeders built on it.
//! Handlers translate shapes and call the service layer; no rule lives here.

pub mod alert;
pub mod audit;
pub mod case;
pub mod dashboard;
pub mod datastore;
pub mod list;
pub mod observable;
pub mod organisation;
pub mod platform;
pub mod profile;
pub mod cortex;
pub mod stats;
pub mod support;
pub mod task;
pub mod template;
pub mod user;

use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;

use crate::core::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(platform::routes())
        .merge(user::routes())
        .merge(organisation::routes())
        .merge(profile::routes())
        .merge(case::routes())
        .merge(task::routes())
        .merge(observable::routes())
        .merge(template::routes())
        .merge(list::routes())
        .merge(datastore::routes())
        .merge(audit::routes())
        .merge(alert::routes())
        .merge(stats::routes())
        .merge(cortex::routes())
        .merge(dashboard::routes())
}

/// A model object as v0 shows it: its fields plus `_id`, `id` and `_type`.
pub fn object(value: impl serde::Serialize, type_name: &str) -> Value {
    let mut v = serde_json::to_value(value).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        if let Some(id) = m.get("id").cloned() {
            m.insert("_id".into(), id);
        }
        m.insert("_type".into(), Value::String(type_name.to_string()));
    }
    v
}

/// Reject attributes a v0 update or create does not know (`null` values count as absent).
pub fn check_attributes(table: &str, body: &Map<String, Value>, allowed: &[&str]) -> crate::core::error::Result<()> {
    let errors: Vec<app::model::AttributeError> = body
        .iter()
        .filter(|(k, v)| !v.is_null() && !allowed.contains(&k.as_str()))
        .map(|(k, _)| app::model::AttributeError {
            name: format!("{table}.{k}"),
            kind: "UnknownAttributeError".into(),
            message: format!("Unknown attribute {k}"),
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(crate::core::error::Error::Attributes { table: table.into(), errors }) }
}

/// A string attribute of a JSON body (absent or null = `None`, wrong type = error).
pub fn opt_string(table: &str, body: &Map<String, Value>, key: &str) -> crate::core::error::Result<Option<String>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(crate::core::error::Error::attribute(table, key, "string", format!("{key} must be a string"))),
    }
}
