//! Setting the platform up: the first start (the `admin` organisation, the first working
//! organisation and its administrator) and what every new organisation starts with (each area's
//! defaults: observable data types, the default dashboards).
//!
//! This is the one way to create an organisation, so no organisation ever lacks its defaults:
//! the record is `identity::org`'s, the defaults are added here in the same request, before
//! anyone can use it.

use app::model::{Membership, Organisation, Profile};
use serde_json::Value;

use crate::core::auth::Caller;
use crate::core::error::Result;
use crate::core::state::AppState;
use crate::core::store::Store;
use crate::domain::identity::{org, user};
use crate::domain::{catalog, dashboard};
use crate::vars;

/// Create an organisation with its defaults: platform administrators only.
pub async fn create_organisation(state: &AppState, caller: &Caller, name: &str, description: &str) -> Result<Organisation> {
    let org = org::create(state, caller, name, description).await?;
    seed(&state.store, &org).await?;
    Ok(org)
}

async fn insert_organisation(store: &Store, name: &str, description: &str) -> Result<Organisation> {
    let org = org::insert(store, name, description, "system").await?;
    seed(store, &org).await?;
    Ok(org)
}

/// What a new organisation starts with.
async fn seed(store: &Store, org: &Organisation) -> Result<()> {
    dashboard::seed_organisation(store, org).await?;
    catalog::data_type::seed_defaults(store, &org.id).await?;
    Ok(())
}

/// Where the first administrator's random password is written (in the data directory).
pub const INITIAL_PASSWORD_FILE: &str = "initial-admin-password";

/// Write a file readable and writable by this account only.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())
}

/// At every start: the `admin` organisation, and on an empty database the first working
/// organisation and its administrator; then the default dashboards of organisations that
/// predate them. Later starts create nothing else (the administrator's password is never reset).
pub async fn at_start(store: &Store, settings: &crate::config::Settings) -> Result<()> {
    first_users(store, settings).await?;
    dashboard::seed_existing(store).await
}

/// On an empty database: the `admin` organisation, the first working organisation, and the
/// first user (platform administrator in `admin`, organisation administrator in the working
/// organisation, which is their default).
async fn first_users(store: &Store, settings: &crate::config::Settings) -> Result<()> {
    let admin_org = match org::by_name(store, org::ADMIN_ORG).await? {
        Some(o) => o,
        None => insert_organisation(store, org::ADMIN_ORG, "Platform administration").await?,
    };
    let mut r = store.query("SELECT count() AS n FROM user GROUP ALL", vars! {}).await?;
    let users: Option<Value> = r.one(0)?;
    if users.and_then(|v| v.get("n").and_then(Value::as_i64)).unwrap_or(0) > 0 {
        return Ok(());
    }
    let work_org = match org::by_name(store, &settings.org).await? {
        Some(o) => o,
        None => insert_organisation(store, &settings.org, "First working organisation").await?,
    };
    let (password, generated) = match &settings.admin_password {
        Some(p) => (p.expose().to_string(), false),
        None => (crate::core::auth::password::random_password(), true),
    };
    let memberships = vec![
        Membership { org_id: admin_org.id.clone(), org_name: admin_org.name.clone(), profile: Profile::Admin, custom: None },
        Membership { org_id: work_org.id.clone(), org_name: work_org.name.clone(), profile: Profile::OrgAdmin, custom: None },
    ];
    let user = user::insert(store, &settings.admin_login, "Administrator", Some(password.clone()), memberships, &work_org.id, "system").await?;
    if generated {
        // A password nobody chose: changed at first sign-in.
        store.query("UPDATE type::record('user', $id) MERGE { mustChangePassword: true }", vars! { "id" => user.id.clone() }).await?;
        // Never in the log stream (logs are shipped and kept): in a file only this account reads.
        let path = settings.data_dir.join(INITIAL_PASSWORD_FILE);
        write_private(&path, &format!("{}\n", password))
            .map_err(|e| crate::core::error::Error::Internal(anyhow::anyhow!("cannot write {}: {e}", path.display())))?;
        tracing::warn!(
            login = %user.login,
            file = %path.display(),
            "first administrator created with a random password, written to this file (mode 0600): sign in, change the password, delete the file"
        );
    } else {
        tracing::info!(login = %user.login, "first administrator created with the password from WAGGLE_ADMIN_PASSWORD");
    }
    Ok(())
}
