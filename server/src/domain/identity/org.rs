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

/// What can change in an organisation.
#[derive(Debug, Clone, Default)]
pub struct OrgPatch {
    pub description: Option<String>,
    /// A new name (platform administrators; never the admin organisation's).
    pub name: Option<String>,
    /// Lock (nobody works in it, its data is kept) or unlock (platform administrators; never
    /// the admin organisation).
    pub locked: Option<bool>,
}

/// Update an organisation. A rename follows into every member's memberships in the same
/// transaction; a lock takes effect on the members' next request.
pub async fn update(state: &AppState, caller: &Caller, id_or_name: &str, patch: OrgPatch) -> Result<Organisation> {
    caller.require(Permission::ManageOrganisation, "update organisations")?;
    let org = get(state, caller, id_or_name).await?;
    let mut doc = Map::new();
    if let Some(d) = patch.description {
        doc.insert("description".into(), Value::String(d));
    }
    let mut new_name = None;
    if let Some(name) = patch.name {
        let name = validate_name(&name)?;
        if name != org.name {
            if org.name == ADMIN_ORG || name == ADMIN_ORG {
                return Err(Error::BadRequest(format!("The {ADMIN_ORG} organisation keeps its name, and no other takes it")));
            }
            if by_name(&state.store, &name).await?.is_some() {
                return Err(Error::Conflict { message: format!("Organisation {name} already exists"), object: None });
            }
            doc.insert("name".into(), Value::String(name.clone()));
            new_name = Some(name);
        }
    }
    if let Some(locked) = patch.locked {
        if locked && org.name == ADMIN_ORG {
            return Err(Error::BadRequest(format!("The {ADMIN_ORG} organisation cannot be locked")));
        }
        doc.insert("locked".into(), Value::Bool(locked));
    }
    doc.insert("updatedAt".into(), json!(now_millis()));
    doc.insert("updatedBy".into(), json!(caller.login));
    let mut r = state
        .store
        .query(
            "BEGIN TRANSACTION;
             LET $o = (UPDATE type::record('organisation', $id) MERGE $patch RETURN AFTER);
             IF $name {
                 UPDATE user SET memberships = array::map(memberships, |$m| IF $m.orgId = $id THEN object::extend($m, { orgName: $name }) ELSE $m END)
                     WHERE memberships.orgId CONTAINS $id;
             };
             RETURN $o;
             COMMIT TRANSACTION;",
            vars! { "id" => org.id, "patch" => Value::Object(doc), "name" => new_name },
        )
        .await?;
    // Statements: BEGIN (0), LET (1), IF (2), RETURN (3).
    let updated: Organisation = r.one(3)?.ok_or_else(|| Error::not_found("organisation", id_or_name))?;
    state.auth.set_org_locked(&updated.id, updated.locked);
    state.auth.users_changed();
    tracing::info!(org = %updated.name, locked = updated.locked, by = %caller.login, "organisation updated");
    Ok(updated)
}

/// The ids of the locked organisations (read at start into the auth guard).
pub async fn locked_ids(store: &Store) -> Result<Vec<String>> {
    let mut r = store.query("SELECT VALUE record::id(id) FROM organisation WHERE locked = true", vars! {}).await?;
    r.rows(0)
}
