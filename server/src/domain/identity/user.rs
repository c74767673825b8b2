//! Users, their memberships (one profile per organisation), passwords and API keys.
//!
//! Who may manage whom: platform administrators manage everyone; an organisation administrator
//! manages users whose only organisation is theirs (so they can never take over someone who also
//! works elsewhere, nor a platform administrator); everyone manages their own name, password
//! and API key. Updates name their fields explicitly: anything else is refused (mass assignment).

use app::model::{Membership, Permission, Profile, User, UserStatus};
use serde::Deserialize;
use serde_json::json;

use crate::core::auth::Caller;
use crate::core::auth::events::{self, Kind};
use crate::core::auth::password::{check_password_policy, hash_password_async, key_hash, random_secret};
use crate::core::error::{Error, Result};
use crate::domain::identity::org;
use crate::core::state::AppState;
use crate::core::store::{Store, new_id, now_millis};
use crate::vars;

pub use crate::core::auth::account::{UserRow, row, row_by_key_hash, row_by_login};

/// Logins are case-insensitive: stored lowercased and trimmed.
pub fn normalize_login(login: &str) -> Result<String> {
    let l = login.trim().to_lowercase();
    let ok = !l.is_empty() && l.len() <= 128 && !l.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        return Err(Error::attribute("user", "login", "string", "1 to 128 characters, no spaces or control characters"));
    }
    Ok(l)
}

fn validate_user_name(name: &str) -> Result<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 128 || n.chars().any(char::is_control) {
        return Err(Error::attribute("user", "name", "string", "1 to 128 characters"));
    }
    Ok(n.to_string())
}

/// A user by id or login.
pub async fn find_row(store: &Store, id_or_login: &str) -> Result<Option<UserRow>> {
    if let Some(u) = row(store, id_or_login).await? {
        return Ok(Some(u));
    }
    row_by_login(store, &id_or_login.trim().to_lowercase()).await
}

/// An owner or assignee (`table`.`field`) must be a member of the organisation; returns their
/// login as stored.
pub async fn member_login(state: &AppState, org_id: &str, table: &str, field: &str, login: &str) -> Result<String> {
    let login = login.trim().to_lowercase();
    let mut r = state
        .store
        .query(
            "SELECT VALUE login FROM user WHERE login = $login AND $org IN memberships.orgId",
            vars! { "login" => login, "org" => org_id },
        )
        .await?;
    let found: Option<String> = r.one(0)?;
    found.ok_or_else(|| Error::attribute(table, field, "string", format!("{login} is not a user of this organisation")))
}

/// What creating a user needs.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewUser {
    pub login: String,
    pub name: String,
    pub password: Option<String>,
    /// Organisation (id or name); the caller's current organisation when absent.
    pub organisation: Option<String>,
    pub profile: Option<Profile>,
}

/// Insert a user without permission checks (bootstrap and [`create`]).
pub(in crate::domain) async fn insert(
    store: &Store,
    login: &str,
    name: &str,
    password: Option<String>,
    memberships: Vec<Membership>,
    default_org: &str,
    by: &str,
) -> Result<UserRow> {
    let login = normalize_login(login)?;
    let name = validate_user_name(name)?;
    if row_by_login(store, &login).await?.is_some() {
        return Err(Error::Conflict { message: format!("User {login} already exists"), object: None });
    }
    let password_hash = match password {
        Some(p) => {
            check_password_policy(&p)?;
            Some(hash_password_async(p).await?)
        }
        None => None,
    };
    let id = new_id();
    let doc = json!({
        "login": login, "name": name, "status": UserStatus::Ok, "passwordHash": password_hash,
        "memberships": memberships, "defaultOrg": default_org, "hasKey": false,
        "createdAt": now_millis(), "createdBy": by,
    });
    let mut r = store
        .query("CREATE type::record('user', $id) CONTENT $doc RETURN AFTER", vars! { "id" => id, "doc" => doc })
        .await?;
    r.one(0)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("user not created")))
}

/// Accounts created at first sign-in for holders an outside authority vouches for (a client
/// certificate, a directory): never a platform administrator, never in the admin organisation.
pub struct Provisioning;

#[async_trait::async_trait]
impl crate::core::auth::Provisioner for Provisioning {
    async fn provision(&self, store: &Store, login: &str, name: &str, org_name: &str, profile: Profile, source: &str) -> Result<UserRow> {
        if profile == Profile::Admin || org_name == org::ADMIN_ORG {
            return Err(Error::forbidden("create platform administrators at sign-in"));
        }
        let org = org::find(store, org_name).await?.ok_or_else(|| Error::not_found("organisation", org_name))?;
        let membership = Membership { org_id: org.id.clone(), org_name: org.name.clone(), profile, custom: None };
        let row = insert(store, login, name, None, vec![membership], &org.id, source).await?;
        let detail = format!("{} in {} at first sign-in ({source})", profile.as_str(), org.name);
        events::record(store, Kind::UserCreated, &row.login, Some(source), None, Some(&detail)).await;
        tracing::info!(login = %row.login, org = %org.name, profile = profile.as_str(), source, "user created at first sign-in");
        Ok(row)
    }

    async fn add_memberships(&self, store: &Store, row: &UserRow, add: &[(String, Profile)], source: &str) -> Result<UserRow> {
        let mut memberships = row.memberships.clone();
        let mut added = Vec::new();
        for (org_name, profile) in add {
            if *profile == Profile::Admin || org_name == org::ADMIN_ORG {
                continue;
            }
            let Some(org) = org::find(store, org_name).await? else {
                tracing::warn!(org = %org_name, "a directory group maps to an organisation that does not exist");
                continue;
            };
            if !memberships.iter().any(|m| m.org_id == org.id) {
                memberships.push(Membership { org_id: org.id.clone(), org_name: org.name.clone(), profile: *profile, custom: None });
                added.push(format!("{} in {} ({source})", profile.as_str(), org.name));
            }
        }
        if added.is_empty() {
            return Ok(row.clone());
        }
        let updated = store_memberships(store, row, memberships, &row.default_org, source).await?;
        for detail in added {
            events::record(store, Kind::MembershipSet, &updated.login, Some(source), None, Some(&detail)).await;
        }
        Ok(updated)
    }
}

/// Put `target` in the organisation `org` with `profile`, or change their profile there
/// (platform administrators; never their own memberships). The admin profile exists only in
/// the admin organisation, and only there.
pub async fn set_membership(state: &AppState, caller: &Caller, id_or_login: &str, org_name: &str, profile: Profile) -> Result<User> {
    set_membership_as(state, caller, id_or_login, org_name, profile, None).await
}

/// [`set_membership`] with a built-in or a custom profile, by name.
pub async fn set_membership_named(state: &AppState, caller: &Caller, id_or_login: &str, org_name: &str, profile_name: &str) -> Result<User> {
    match Profile::parse(profile_name) {
        Some(p) => set_membership_as(state, caller, id_or_login, org_name, p, None).await,
        None => {
            let custom = super::profile::by_name(&state.store, profile_name)
                .await?
                .ok_or_else(|| Error::attribute("user", "profile", "string", format!("Unknown profile {profile_name}")))?;
            // What TheHive 3 clients see of a custom profile.
            let base = if custom.permissions.iter().any(|p| matches!(p, Permission::ManageCase | Permission::ManageAlert)) { Profile::Analyst } else { Profile::ReadOnly };
            set_membership_as(state, caller, id_or_login, org_name, base, Some(custom.name)).await
        }
    }
}

async fn set_membership_as(state: &AppState, caller: &Caller, id_or_login: &str, org_name: &str, profile: Profile, custom: Option<String>) -> Result<User> {
    caller.require(Permission::ManagePlatform, "manage memberships")?;
    let target = find_row(&state.store, id_or_login).await?.ok_or_else(|| Error::not_found("user", id_or_login))?;
    if target.id == caller.user_id {
        return Err(Error::forbidden("change your own memberships"));
    }
    let org = org::find(&state.store, org_name).await?.ok_or_else(|| Error::not_found("organisation", org_name))?;
    if (profile == Profile::Admin) != (org.name == org::ADMIN_ORG) {
        return Err(Error::BadRequest(format!("The profile {} is for the {} organisation only, and the only one there", Profile::Admin.as_str(), org::ADMIN_ORG)));
    }
    let mut memberships = target.memberships.clone();
    match memberships.iter_mut().find(|m| m.org_id == org.id) {
        Some(m) => {
            m.profile = profile;
            m.custom = custom.clone();
        }
        None => memberships.push(Membership { org_id: org.id.clone(), org_name: org.name.clone(), profile, custom: custom.clone() }),
    }
    let row = write_memberships(state, caller, &target, memberships, &target.default_org).await?;
    let detail = format!("{} in {}", custom.as_deref().unwrap_or(profile.as_str()), org.name);
    events::record(&state.store, Kind::MembershipSet, &row.login, Some(&caller.login), None, Some(&detail)).await;
    Ok(row.public())
}

/// Take `target` out of the organisation `org` (platform administrators; never their own, never
/// the last one). Their default organisation moves to another when it was this one.
pub async fn remove_membership(state: &AppState, caller: &Caller, id_or_login: &str, org_name: &str) -> Result<User> {
    caller.require(Permission::ManagePlatform, "manage memberships")?;
    let target = find_row(&state.store, id_or_login).await?.ok_or_else(|| Error::not_found("user", id_or_login))?;
    if target.id == caller.user_id {
        return Err(Error::forbidden("change your own memberships"));
    }
    let org = org::find(&state.store, org_name).await?.ok_or_else(|| Error::not_found("organisation", org_name))?;
    if !target.memberships.iter().any(|m| m.org_id == org.id) {
        return Err(Error::not_found("membership", &format!("{} in {}", target.login, org.name)));
    }
    let memberships: Vec<Membership> = target.memberships.iter().filter(|m| m.org_id != org.id).cloned().collect();
    let Some(first) = memberships.first() else {
        return Err(Error::BadRequest(format!("{} is only in {}: lock the account instead", target.login, org.name)));
    };
    let default_org = if target.default_org == org.id { first.org_id.clone() } else { target.default_org.clone() };
    let row = write_memberships(state, caller, &target, memberships, &default_org).await?;
    events::record(&state.store, Kind::MembershipRemoved, &row.login, Some(&caller.login), None, Some(&org.name)).await;
    Ok(row.public())
}

async fn write_memberships(state: &AppState, caller: &Caller, target: &UserRow, memberships: Vec<Membership>, default_org: &str) -> Result<UserRow> {
    let row = store_memberships(&state.store, target, memberships, default_org, &caller.login).await?;
    // The next request of the user is checked against the new memberships.
    state.auth.forget_user(&row.id);
    Ok(row)
}

/// Write a user's memberships and default organisation (`by`: who, or which authority).
async fn store_memberships(store: &Store, target: &UserRow, memberships: Vec<Membership>, default_org: &str, by: &str) -> Result<UserRow> {
    let mut r = store
        .query(
            "UPDATE type::record('user', $id) MERGE { memberships: $m, defaultOrg: $d, updatedAt: $at, updatedBy: $by } RETURN AFTER",
            vars! { "id" => target.id, "m" => memberships, "d" => default_org, "at" => now_millis(), "by" => by },
        )
        .await?;
    r.one(0)?.ok_or_else(|| Error::not_found("user", &target.login))
}

/// The security trail (sign-ins, failed ones, changes of credentials and rights), newest first;
/// platform administrators only, whichever organisation they work in.
pub async fn security_events(state: &AppState, caller: &Caller, login: Option<&str>, count: usize) -> Result<Vec<app::model::SecurityEvent>> {
    if !caller.is_platform_admin() {
        return Err(Error::forbidden("read the security trail"));
    }
    events::recent(&state.store, login, count).await
}

/// May `caller` manage `target` (name, status, password, key, profile)?
fn may_manage(caller: &Caller, target: &UserRow) -> bool {
    if caller.can(Permission::ManagePlatform) {
        return true;
    }
    caller.can(Permission::ManageUser)
        && !target.memberships.is_empty()
        && target.memberships.iter().all(|m| m.org_id == caller.org_id && m.profile != Profile::Admin)
}

/// May `caller` see `target`? Platform administrators see everyone; others see the users of
/// the organisation they work in.
fn may_see(caller: &Caller, target: &UserRow) -> bool {
    caller.user_id == target.id
        || caller.can(Permission::ManagePlatform)
        || target.memberships.iter().any(|m| m.org_id == caller.org_id)
}

pub async fn create(state: &AppState, caller: &Caller, input: NewUser) -> Result<User> {
    caller.require(Permission::ManageUser, "create users")?;
    let org = match &input.organisation {
        Some(o) => org::find(&state.store, o).await?.ok_or_else(|| Error::not_found("organisation", o))?,
        None => org::by_id(&state.store, &caller.org_id).await?.ok_or_else(|| Error::not_found("organisation", &caller.org_id))?,
    };
    let profile = input.profile.unwrap_or(Profile::Analyst);
    if !caller.can(Permission::ManagePlatform) {
        if org.id != caller.org_id {
            return Err(Error::forbidden("create users in another organisation"));
        }
        if profile == Profile::Admin {
            return Err(Error::forbidden("create platform administrators"));
        }
    }
    if (profile == Profile::Admin) != (org.name == org::ADMIN_ORG) {
        return Err(Error::BadRequest(format!(
            "The profile {} is for the {} organisation only",
            Profile::Admin.as_str(),
            org::ADMIN_ORG
        )));
    }
    let membership = Membership { org_id: org.id.clone(), org_name: org.name.clone(), profile, custom: None };
    let row = insert(&state.store, &input.login, &input.name, input.password, vec![membership], &org.id, &caller.login).await?;
    let detail = format!("{} in {}", profile.as_str(), org.name);
    events::record(&state.store, Kind::UserCreated, &row.login, Some(&caller.login), None, Some(&detail)).await;
    tracing::info!(login = %row.login, org = %org.name, profile = profile.as_str(), by = %caller.login, "user created");
    Ok(row.public())
}

pub async fn get(state: &AppState, caller: &Caller, id_or_login: &str) -> Result<User> {
    let row = find_row(&state.store, id_or_login).await?.ok_or_else(|| Error::not_found("user", id_or_login))?;
    if !may_see(caller, &row) {
        return Err(Error::not_found("user", id_or_login));
    }
    Ok(row.public())
}

/// Users of the caller's organisation (all users for a platform administrator).
pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<User>> {
    let mut r = if caller.can(Permission::ManagePlatform) {
        state.store.query("SELECT * FROM user ORDER BY login", vars! {}).await?
    } else {
        state
            .store
            .query("SELECT * FROM user WHERE memberships.orgId CONTAINS $org ORDER BY login", vars! { "org" => caller.org_id })
            .await?
    };
    let rows: Vec<UserRow> = r.rows(0)?;
    Ok(rows.iter().map(UserRow::public).collect())
}

/// The fields a user update may carry. Anything else is refused by the adapters.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub status: Option<UserStatus>,
    /// The user's profile in the caller's current organisation.
    pub profile: Option<Profile>,
}

pub async fn update(state: &AppState, caller: &Caller, id_or_login: &str, patch: UserPatch) -> Result<User> {
    let target = find_row(&state.store, id_or_login).await?.ok_or_else(|| Error::not_found("user", id_or_login))?;
    if !may_see(caller, &target) {
        return Err(Error::not_found("user", id_or_login));
    }
    let is_self = target.id == caller.user_id;
    let manager = may_manage(caller, &target);
    if !is_self && !manager {
        // Even an empty change: nothing of another user is the caller's to touch.
        return Err(Error::forbidden("change this user"));
    }
    let mut doc = serde_json::Map::new();
    if let Some(name) = patch.name {
        if !is_self && !manager {
            return Err(Error::forbidden("rename this user"));
        }
        doc.insert("name".into(), json!(validate_user_name(&name)?));
    }
    if let Some(status) = patch.status {
        if is_self || !manager {
            return Err(Error::forbidden("change this user's status"));
        }
        doc.insert("status".into(), json!(status));
    }
    if let Some(profile) = patch.profile {
        if is_self || !manager {
            return Err(Error::forbidden("change this user's profile"));
        }
        let mut memberships = target.memberships.clone();
        let m = memberships
            .iter_mut()
            .find(|m| m.org_id == caller.org_id)
            .ok_or_else(|| Error::BadRequest("The user is not a member of your organisation".into()))?;
        if (profile == Profile::Admin) != (m.org_name == org::ADMIN_ORG) {
            return Err(Error::BadRequest(format!("The profile {} is for the {} organisation only", Profile::Admin.as_str(), org::ADMIN_ORG)));
        }
        m.profile = profile;
        doc.insert("memberships".into(), json!(memberships));
    }
    if doc.is_empty() {
        return Ok(target.public());
    }
    doc.insert("updatedAt".into(), json!(now_millis()));
    doc.insert("updatedBy".into(), json!(caller.login));
    let mut r = state
        .store
        .query("UPDATE type::record('user', $id) MERGE $doc RETURN AFTER", vars! { "id" => target.id, "doc" => doc })
        .await?;
    let row: UserRow = r.one(0)?.ok_or_else(|| Error::not_found("user", id_or_login))?;
    state.auth.users_changed();
    if row.status != target.status {
        let kind = if row.status == UserStatus::Locked { Kind::Locked } else { Kind::Unlocked };
        events::record(&state.store, kind, &row.login, Some(&caller.login), None, None).await;
    }
    if let Some(profile) = patch.profile {
        let detail = format!("{} in {}", profile.as_str(), caller.org_name);
        events::record(&state.store, Kind::ProfileChanged, &row.login, Some(&caller.login), None, Some(&detail)).await;
    }
    if row.status == UserStatus::Locked {
        state.sessions.delete_user_sessions(&row.id).await?;
        state.auth.forget_user(&row.id);
    }
    Ok(row.public())
}

/// Set a user's password: managers set anyone's they manage; users change their own with the
/// current one (`current` required then).
pub async fn set_password(
    state: &AppState,
    caller: &Caller,
    id_or_login: &str,
    current: Option<String>,
    password: String,
) -> Result<()> {
    let target = find_row(&state.store, id_or_login).await?.ok_or_else(|| Error::not_found("user", id_or_login))?;
    if !may_see(caller, &target) {
        return Err(Error::not_found("user", id_or_login));
    }
    let is_self = target.id == caller.user_id;
    if is_self {
        let ok = match (&target.password_hash, current) {
            (Some(hash), Some(cur)) => crate::core::auth::password::verify_password_async(cur, hash.clone()).await,
            (None, _) => true,
            (Some(_), None) => false,
        };
        if !ok {
            return Err(Error::Authentication("The current password is wrong".into()));
        }
    } else if !may_manage(caller, &target) {
        return Err(Error::forbidden("set this user's password"));
    }
    check_password_policy(&password)?;
    let hash = hash_password_async(password).await?;
    state
        .store
        .query(
            "UPDATE type::record('user', $id) MERGE { passwordHash: $hash, mustChangePassword: $must, updatedAt: $at, updatedBy: $by }",
            // The user's own choice ends a forced change; one made for them keeps it as it was.
            vars! { "id" => target.id, "hash" => hash, "must" => !is_self && target.must_change_password, "at" => now_millis(), "by" => caller.login },
        )
        .await?;
    state.auth.forget_user(&target.id);
    // Every session of the user ends, their own others included (a stolen session dies with
    // the old password); the adapter signs the caller's current session in again.
    state.sessions.delete_user_sessions(&target.id).await?;
    let detail = if is_self { "by the user" } else { "set by an administrator" };
    events::record(&state.store, Kind::PasswordChanged, &target.login, Some(&caller.login), None, Some(detail)).await;
    Ok(())
}

/// Make a new API key for a user, replacing the old one. The key is returned once; only its
/// hash is kept.
pub async fn renew_key(state: &AppState, caller: &Caller, id_or_login: &str) -> Result<String> {
    let target = find_row(&state.store, id_or_login).await?.ok_or_else(|| Error::not_found("user", id_or_login))?;
    if !may_see(caller, &target) {
        return Err(Error::not_found("user", id_or_login));
    }
    if target.id != caller.user_id && !may_manage(caller, &target) {
        return Err(Error::forbidden("renew this user's API key"));
    }
    let key = random_secret();
    state
        .store
        .query(
            "BEGIN TRANSACTION;
             DELETE apikey WHERE user = $id;
             CREATE type::record('apikey', $hash) CONTENT { user: $id, createdAt: $at };
             UPDATE type::record('user', $id) MERGE { hasKey: true, updatedAt: $at, updatedBy: $by };
             COMMIT TRANSACTION;",
            vars! { "id" => target.id, "hash" => key_hash(&key), "at" => now_millis(), "by" => caller.login },
        )
        .await?;
    state.auth.users_changed();
    events::record(&state.store, Kind::KeyRenewed, &target.login, Some(&caller.login), None, None).await;
    Ok(key)
}

pub async fn revoke_key(state: &AppState, caller: &Caller, id_or_login: &str) -> Result<()> {
    let target = find_row(&state.store, id_or_login).await?.ok_or_else(|| Error::not_found("user", id_or_login))?;
    if !may_see(caller, &target) {
        return Err(Error::not_found("user", id_or_login));
    }
    if target.id != caller.user_id && !may_manage(caller, &target) {
        return Err(Error::forbidden("revoke this user's API key"));
    }
    state
        .store
        .query(
            "BEGIN TRANSACTION;
             DELETE apikey WHERE user = $id;
             UPDATE type::record('user', $id) MERGE { hasKey: false, updatedAt: $at, updatedBy: $by };
             COMMIT TRANSACTION;",
            vars! { "id" => target.id, "at" => now_millis(), "by" => caller.login },
        )
        .await?;
    state.auth.users_changed();
    events::record(&state.store, Kind::KeyRevoked, &target.login, Some(&caller.login), None, None).await;
    Ok(())
}

