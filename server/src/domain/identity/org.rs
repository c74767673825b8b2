//! Organisations: tenants. Everything a team works on belongs to exactly one.

use app::model::{Organisation, Permission};
use serde_json::{Map, Value, json};

use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::store::{Store, new_id, now_millis};
use crate::vars;

/// The platform administration organisation: holds super admins, never cases.
pub const ADMIN_ORG: &str = "admin";

pub fn validate_name(name: &str) -> Result<String> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '));
    if !ok {
        return Err(Error::attribute(
            "organisation",
            "name",
            "string",
            "1 to 64 letters, digits, spaces, '-', '_' or '.'",
        ));
    }
    Ok(name.to_string())
}

pub async fn by_name(store: &Store, name: &str) -> Result<Option<Organisation>> {
    let mut r = store.query("SELECT * FROM organisation WHERE name = $name", vars! { "name" => name }).await?;
    r.one(0)
}

pub async fn by_id(store: &Store, id: &str) -> Result<Option<Organisation>> {
    let mut r = store.query("SELECT * FROM type::record('organisation', $id)", vars! { "id" => id }).await?;
    r.one(0)
}

/// An organisation by id or by name.
pub async fn find(store: &Store, id_or_name: &str) -> Result<Option<Organisation>> {
    if let Some(o) = by_id(store, id_or_name).await? {
        return Ok(Some(o));
    }
    by_name(store, id_or_name).await
}

/// Create an organisation's record (no permission check, nothing seeded: what a new
/// organisation starts with is `platform::setup`'s, which calls this).
pub(in crate::domain) async fn insert(store: &Store, name: &str, description: &str, by: &str) -> Result<Organisation> {
    let name = validate_name(name)?;
    if by_name(store, &name).await?.is_some() {
        return Err(Error::Conflict { message: format!("Organisation {name} already exists"), object: None });
    }
    let id = new_id();
    let doc = json!({ "name": name, "description": description, "createdAt": now_millis(), "createdBy": by });
    let mut r = store
        .query("CREATE type::record('organisation', $id) CONTENT $doc RETURN AFTER", vars! { "id" => id, "doc" => doc })
        .await?;
    r.one(0)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("organisation not created")))
}

/// Create an organisation: platform administrators only. Its defaults are added by
/// `platform::setup::create_organisation`, the one way adapters create an organisation.
pub(in crate::domain) async fn create(state: &AppState, caller: &Caller, name: &str, description: &str) -> Result<Organisation> {
    caller.require(Permission::ManageOrganisation, "create organisations")?;
    let org = insert(&state.store, name, description, &caller.login).await?;
    tracing::info!(org = %org.name, by = %caller.login, "organisation created");
    Ok(org)
}

/// Organisations the caller may see: all for platform administrators, their own otherwise.
pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<Organisation>> {
    let mut r = state.store.query("SELECT * FROM organisation ORDER BY name", vars! {}).await?;
    let all: Vec<Organisation> = r.rows(0)?;
    if caller.can(Permission::ManageOrganisation) {
        return Ok(all);
    }
    Ok(all.into_iter().filter(|o| caller.memberships.iter().any(|m| m.org_id == o.id)).collect())
}

pub async fn get(state: &AppState, caller: &Caller, id_or_name: &str) -> Result<Organisation> {
    let org = find(&state.store, id_or_name).await?.ok_or_else(|| Error::not_found("organisation", id_or_name))?;
    let visible = caller.can(Permission::ManageOrganisation) || caller.memberships.iter().any(|m| m.org_id == org.id);
    if !visible {
        return Err(Error::not_found("organisation", id_or_name));
    }
    Ok(org)
}

/// Update the description of an organisation (its name is its identity for API clients).
pub async fn update(state: &AppState, caller: &Caller, id_or_name: &str, description: Option<String>) -> Result<Organisation> {
    caller.require(Permission::ManageOrganisation, "update organisations")?;
    let org = get(state, caller, id_or_name).await?;
    let mut patch = Map::new();
    if let Some(d) = description {
        patch.insert("description".into(), Value::String(d));
    }
    patch.insert("updatedAt".into(), json!(now_millis()));
    patch.insert("updatedBy".into(), json!(caller.login));
    let mut r = state
        .store
        .query(
            "UPDATE type::record('organisation', $id) MERGE $patch RETURN AFTER",
            vars! { "id" => org.id, "patch" => Value::Object(patch) },
        )
        .await?;
    r.one(0)?.ok_or_else(|| Error::not_found("organisation", id_or_name))
}
