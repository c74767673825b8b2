//! Metric definitions: numbers measured on cases (time to detect, systems affected...). Cases
//! carry values in `metrics` by name; templates declare which ones a case starts with.

use app::model::{AuditOperation, MetricDefinition, NewMetric, Permission};
use serde_json::json;

use crate::core::audit::Tx;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::store::{OrgStore, new_id};
use crate::vars;

pub const AUDIT_TYPE: &str = "caseMetric";

pub async fn list_in(store: &OrgStore) -> Result<Vec<MetricDefinition>> {
    let mut r = store.query("SELECT * FROM metric WHERE org = $org ORDER BY name", vars! {}).await?;
    r.rows(0)
}

pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<MetricDefinition>> {
    list_in(&caller.store(state)).await
}

fn validate(input: &NewMetric) -> Result<(String, String, String)> {
    let name = crate::core::validate::title("caseMetric", "name", &input.name, 128)?;
    if name.contains('.') {
        return Err(Error::attribute("caseMetric", "name", "string", "a metric name cannot contain '.'"));
    }
    let title = crate::core::validate::title("caseMetric", "title", input.title.as_deref().unwrap_or(&name), 256)?;
    let description = crate::core::validate::text("caseMetric", "description", input.description.as_deref().unwrap_or(""))?;
    Ok((name, title, description))
}

pub async fn create(state: &AppState, caller: &Caller, input: NewMetric) -> Result<MetricDefinition> {
    caller.require(Permission::ManageCustomField, "manage metrics")?;
    let (name, title, description) = validate(&input)?;
    let store = caller.store(state);
    let mut r = store.query("SELECT VALUE id FROM metric WHERE org = $org AND name = $n", vars! { "n" => name }).await?;
    if !r.rows::<serde_json::Value>(0)?.is_empty() {
        return Err(Error::Conflict { message: format!("The metric {name} already exists"), object: None });
    }
    let id = new_id();
    let mut tx = Tx::new(caller);
    let doc = json!({ "name": name, "title": title, "description": description, "createdAt": tx.now(), "createdBy": caller.login });
    let (vid, vdoc) = (tx.bind(&id), tx.bind(&doc));
    tx.push(format!("LET $m = (CREATE type::record('metric', {vid}) CONTENT object::extend({vdoc}, {{ org: $org }}) RETURN AFTER)[0]"));
    tx.audit(AuditOperation::Creation, AUDIT_TYPE, &vid, &vid, &vdoc, None, Some("$m"));
    let idx = tx.push("$m");
    tx.run(state, &store).await?.one(idx)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("metric not created")))
}

/// Change the title and description (the name is the key cases use).
pub async fn update(state: &AppState, caller: &Caller, id: &str, input: NewMetric) -> Result<MetricDefinition> {
    caller.require(Permission::ManageCustomField, "manage metrics")?;
    let store = caller.store(state);
    let current: MetricDefinition = store.get("metric", id).await?.ok_or_else(|| Error::not_found("metric", id))?;
    let (_, title, description) = validate(&NewMetric { name: current.name.clone(), ..input })?;
    let mut tx = Tx::new(caller);
    let patch = json!({ "title": title, "description": description, "updatedAt": tx.now(), "updatedBy": caller.login });
    let idx = tx.update_record("metric", AUDIT_TYPE, id, &patch, false);
    tx.run(state, &store).await?.one(idx)?.ok_or_else(|| Error::not_found("metric", id))
}

pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    caller.require(Permission::ManageCustomField, "manage metrics")?;
    let mut tx = Tx::new(caller);
    tx.delete_record("metric", AUDIT_TYPE, id, false);
    tx.run(state, &caller.store(state)).await?;
    Ok(())
}
