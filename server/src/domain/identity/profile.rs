//! Profiles: the four built-in ones (read-only, analyst, org-admin, admin) and custom ones that
//! platform administrators make from the permission list (TheHive 4's granularity). A custom
//! profile never holds the platform's permissions (organisations, the platform); it is given to
//! a user in an organisation by a membership that names it, and its permissions are read on
//! every request (a change applies at once). One in use cannot be deleted.

use app::model::{CustomProfile, Permission, Profile};
use serde_json::json;

use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::store::{Store, new_id, now_millis};
use crate::vars;

/// Every custom profile, by name.
pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<CustomProfile>> {
    let _ = caller;
    all(&state.store).await
}

pub async fn all(store: &Store) -> Result<Vec<CustomProfile>> {
    let mut r = store.query("SELECT * FROM profile ORDER BY name", vars! {}).await?;
    r.rows(0)
}

pub async fn by_name(store: &Store, name: &str) -> Result<Option<CustomProfile>> {
    let mut r = store.query("SELECT * FROM profile WHERE name = $name", vars! { "name" => name }).await?;
    r.one(0)
}

fn check(name: &str, permissions: &[Permission]) -> Result<(String, Vec<Permission>)> {
    let name = name.trim();
    let ok = !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' ' | '.'));
    if !ok {
        return Err(Error::attribute("profile", "name", "string", "1 to 64 letters, digits, spaces, '-', '_' or '.'"));
    }
    if Profile::parse(name).is_some() {
        return Err(Error::BadRequest(format!("{name} is a built-in profile")));
    }
    if let Some(p) = permissions.iter().find(|p| p.is_platform()) {
        return Err(Error::BadRequest(format!("{} is the platform's: no custom profile holds it", p.as_str())));
    }
    let mut set: Vec<Permission> = Permission::ALL.into_iter().filter(|p| permissions.contains(p)).collect();
    set.dedup();
    Ok((name.to_string(), set))
}

/// Make a custom profile (platform administrators).
pub async fn create(state: &AppState, caller: &Caller, name: &str, permissions: &[Permission]) -> Result<CustomProfile> {
    caller.require(Permission::ManagePlatform, "manage profiles")?;
    let (name, set) = check(name, permissions)?;
    if by_name(&state.store, &name).await?.is_some() {
        return Err(Error::Conflict { message: format!("Profile {name} already exists"), object: None });
    }
    let doc = json!({ "name": name, "permissions": set, "createdAt": now_millis(), "createdBy": caller.login });
    let mut r = state
        .store
        .query("CREATE type::record('profile', $id) CONTENT $doc RETURN AFTER", vars! { "id" => new_id(), "doc" => doc })
        .await?;
    let p: CustomProfile = r.one(0)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("profile not created")))?;
    state.auth.set_custom_profile(&p.name, Some(p.permissions.clone()));
    Ok(p)
}

/// Change a custom profile's permissions (platform administrators); its holders have the new
/// ones from their next request.
pub async fn update(state: &AppState, caller: &Caller, name: &str, permissions: &[Permission]) -> Result<CustomProfile> {
    caller.require(Permission::ManagePlatform, "manage profiles")?;
    let current = by_name(&state.store, name).await?.ok_or_else(|| Error::not_found("profile", name))?;
    let (_, set) = check(&current.name, permissions)?;
    let mut r = state
        .store
        .query(
            "UPDATE type::record('profile', $id) MERGE { permissions: $p, updatedAt: $at, updatedBy: $by } RETURN AFTER",
            vars! { "id" => current.id, "p" => set, "at" => now_millis(), "by" => caller.login },
        )
        .await?;
    let p: CustomProfile = r.one(0)?.ok_or_else(|| Error::not_found("profile", name))?;
    state.auth.set_custom_profile(&p.name, Some(p.permissions.clone()));
    Ok(p)
}

/// Delete a custom profile nobody holds (platform administrators).
pub async fn delete(state: &AppState, caller: &Caller, name: &str) -> Result<()> {
    caller.require(Permission::ManagePlatform, "manage profiles")?;
    let current = by_name(&state.store, name).await?.ok_or_else(|| Error::not_found("profile", name))?;
    let mut r = state
        .store
        .query("SELECT VALUE login FROM user WHERE memberships.custom CONTAINS $name LIMIT 3", vars! { "name" => current.name })
        .await?;
    let holders: Vec<String> = r.rows(0)?;
    if !holders.is_empty() {
        return Err(Error::BadRequest(format!("Profile {} is given to {}: give them another first", current.name, holders.join(", "))));
    }
    state.store.query("DELETE type::record('profile', $id)", vars! { "id" => current.id }).await?;
    state.auth.set_custom_profile(&current.name, None);
    Ok(())
}

/// Read every custom profile into the auth guard (at start, and when another Waggle process
/// changed one).
pub async fn load(state: &AppState) -> Result<()> {
    let profiles = all(&state.store).await?.into_iter().map(|p| (p.name, p.permissions)).collect();
    state.auth.replace_custom_profiles(profiles);
    Ok(())
}
