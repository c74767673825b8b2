//! Observable data types of an organisation (`ip`, `domain`, `file`...): every organisation
//! starts with TheHive's list; administrators add and remove types.

use app::model::{AuditOperation, DEFAULT_DATA_TYPES, ObservableDataType, Permission};
use serde_json::json;

use crate::core::audit::Tx;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::store::{OrgStore, Store, new_id, now_millis};
use crate::vars;

/// The audit type name of data types.
pub const AUDIT_TYPE: &str = "observableType";

/// Give an organisation the default data types (when it is created).
pub async fn seed_defaults(store: &Store, org_id: &str) -> Result<()> {
    let rows: Vec<_> = DEFAULT_DATA_TYPES
        .iter()
        .map(|t| {
            json!({ "id": new_id(), "name": t, "isAttachment": *t == "file", "createdAt": now_millis(), "createdBy": "system" })
        })
        .collect();
    store
        .org(org_id)
        .query("INSERT INTO data_type array::map($rows, |$r| object::extend($r, { org: $org })) RETURN NONE", vars! { "rows" => rows })
        .await?;
    Ok(())
}

/// Every data type of the organisation, from the database (the service reads them through
/// [`crate::core::cache::Catalog`]).
pub(crate) async fn read_all(store: &OrgStore) -> Result<Vec<ObservableDataType>> {
    let mut r = store.query("SELECT * FROM data_type WHERE org = $org ORDER BY name", vars! {}).await?;
    r.rows(0)
}

pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<ObservableDataType>> {
    Ok(state.service::<super::Catalog>().data_types(&caller.store(state)).await?.to_vec())
}

/// The data type named `name`, if the organisation has it.
pub async fn find(state: &AppState, store: &OrgStore, name: &str) -> Result<Option<ObservableDataType>> {
    state.service::<super::Catalog>().data_type(store, name).await
}

/// A data type name: 1 to 64 letters, digits, `-`, `_`, `.` or `:`.
fn validate_name(name: &str) -> Result<String> {
    let n = name.trim();
    let ok = !n.is_empty() && n.len() <= 64 && n.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if !ok {
        return Err(Error::attribute("observableType", "name", "string", "1 to 64 letters, digits, '-', '_', '.' or ':'"));
    }
    Ok(n.to_string())
}

pub async fn create(state: &AppState, caller: &Caller, name: &str, is_attachment: bool) -> Result<ObservableDataType> {
    caller.require(Permission::ManageObservableType, "manage observable types")?;
    let name = validate_name(name)?;
    let store = caller.store(state);
    if find(state, &store, &name).await?.is_some() {
        return Err(Error::Conflict { message: format!("The observable type {name} already exists"), object: None });
    }
    let id = new_id();
    let mut tx = Tx::new(caller);
    let doc = json!({ "name": name, "isAttachment": is_attachment, "createdAt": tx.now(), "createdBy": caller.login });
    let (vid, vdoc) = (tx.bind(&id), tx.bind(&doc));
    tx.push(format!("LET $t = (CREATE type::record('data_type', {vid}) CONTENT object::extend({vdoc}, {{ org: $org }}) RETURN AFTER)[0]"));
    tx.audit(AuditOperation::Creation, AUDIT_TYPE, &vid, &vid, &vdoc, None, Some("$t"));
    let idx = tx.push("$t");
    let mut r = tx.run(state, &store).await?;
    state.service::<super::Catalog>().data_types_changed();
    r.one(idx)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("data type not created")))
}

/// Remove a data type; refused while observables use it.
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    caller.require(Permission::ManageObservableType, "manage observable types")?;
    let store = caller.store(state);
    let t: ObservableDataType = store.get("data_type", id).await?.ok_or_else(|| Error::not_found("observable type", id))?;
    let mut r = store
        .query("SELECT VALUE id FROM observable WHERE org = $org AND dataType = $name LIMIT 1", vars! { "name" => t.name })
        .await?;
    if !r.rows::<serde_json::Value>(0)?.is_empty() {
        return Err(Error::Conflict { message: format!("The observable type {} is used by observables", t.name), object: None });
    }
    let mut tx = Tx::new(caller);
    tx.delete_record("data_type", AUDIT_TYPE, id, false);
    tx.run(state, &store).await?;
    state.service::<super::Catalog>().data_types_changed();
    Ok(())
}
