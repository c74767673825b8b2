//! The directory (LDAP, Active Directory) users sign in with: from the configuration file's
//! `[ldap]`, or as a platform administrator changed it in Admin > Authentication (then stored,
//! the service account's password sealed, and used instead of the file's until changed again).
//!
//! Rules: only platform administrators see, test and change it; the service account's password
//! is never shown (`********`, which sent back keeps it); servers are `ldap://` or `ldaps://`
//! URLs, the user filter holds `{login}`, a group maps to an existing organisation and a profile
//! that is not the platform's; a change applies to the next sign-in, no restart; every change is
//! in the security trail.

use app::api::LdapView;
use app::model::Profile;
use serde::Deserialize;

use crate::config::{GroupMapping, LdapConfig, LdapSettings};
use crate::core::auth::events::{self, Kind};
use crate::core::auth::ldap::LdapDirectory;
use crate::core::auth::{ActiveDirectory, Caller, DirectorySource};
use crate::core::error::{Error, Result};
use crate::core::secret::SecretBox;
use crate::core::state::AppState;
use crate::core::store::now_millis;
use crate::vars;

const MASK: &str = "********";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    /// `None`: the administrator turned the directory off.
    settings: Option<LdapSettings>,
    changed_by: String,
    changed_at: i64,
}

fn platform_admin(caller: &Caller, action: &str) -> Result<()> {
    if caller.is_platform_admin() { Ok(()) } else { Err(Error::forbidden(action)) }
}

fn secrets(state: &AppState) -> Result<SecretBox> {
    SecretBox::load_or_create(&state.settings.data_dir).map_err(|e| Error::Internal(anyhow::anyhow!("the secrets key cannot be read: {e}")))
}

/// At start: the stored settings when an administrator changed them, else the file's.
pub async fn load(state: &AppState) -> anyhow::Result<()> {
    let mut r = state.store.query("SELECT * FROM type::record('setting', 'directory')", vars! {}).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let stored: Option<Stored> = r.one(0).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let (settings, source) = match stored {
        Some(s) => {
            let settings = match s.settings {
                Some(mut l) => {
                    if let Some(p) = &l.directory.bind_password {
                        l.directory.bind_password = Some(secrets(state).and_then(|b| b.open(p).map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))).map_err(|e| anyhow::anyhow!("the directory's password: {e:?}"))?);
                    }
                    Some(l)
                }
                None => None,
            };
            (settings, DirectorySource::Changed { by: s.changed_by, at: s.changed_at })
        }
        None => (state.settings.ldap.clone(), DirectorySource::File),
    };
    match settings {
        Some(settings) => {
            let client = LdapDirectory::new(settings.directory.clone()).await.map_err(|e| anyhow::anyhow!("the directory: {e}"))?;
            tracing::info!(servers = ?settings.directory.urls, base = %settings.directory.base_dn, source = ?source, "directory sign-in on");
            state.auth.set_directory(Some(ActiveDirectory { client, settings, source }));
        }
        None => state.auth.set_directory(None),
    }
    Ok(())
}

/// The directory in use, as the admin page shows it.
pub fn view(state: &AppState, caller: &Caller) -> Result<Option<LdapView>> {
    platform_admin(caller, "see the sign-in settings")?;
    Ok(state.auth.directory().map(|d| {
        let (l, c) = (&d.settings, &d.settings.directory);
        LdapView {
            urls: c.urls.clone(),
            starttls: c.starttls,
            ca_file: c.ca_file.as_ref().map(|p| p.display().to_string()),
            bind_dn: c.bind_dn.clone(),
            bind_password: c.bind_password.as_ref().map(|_| MASK.to_string()),
            base_dn: c.base_dn.clone(),
            user_filter: c.user_filter.clone(),
            login_attribute: c.login_attribute.clone(),
            name_attribute: c.name_attribute.clone(),
            mail_attribute: c.mail_attribute.clone(),
            group_attribute: c.group_attribute.clone(),
            group_base: c.group_base.clone(),
            group_filter: c.group_filter.clone(),
            timeout_secs: c.timeout_secs,
            create_users: l.create_users,
            groups: l.groups.iter().map(|g| (g.group.clone(), g.organisation.clone(), g.profile.clone())).collect(),
            source: match &d.source {
                DirectorySource::File => "configuration file".into(),
                DirectorySource::Changed { by, .. } => format!("changed by {by}"),
            },
            changed_at: match &d.source {
                DirectorySource::File => None,
                DirectorySource::Changed { at, .. } => Some(*at),
            },
        }
    }))
}

/// Check the form and make settings of it (a masked password keeps the one in use).
async fn settings_of(state: &AppState, form: LdapView) -> Result<LdapSettings> {
    let attr = |name: &str, message: &str| Error::attribute("directory", name, "string", message.to_string());
    let text = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let urls: Vec<String> = form.urls.iter().map(|u| u.trim().to_string()).filter(|u| !u.is_empty()).collect();
    if urls.is_empty() || urls.iter().any(|u| !(u.starts_with("ldap://") || u.starts_with("ldaps://"))) {
        return Err(attr("urls", "one or more ldap:// or ldaps:// URLs"));
    }
    let base_dn = form.base_dn.trim().to_string();
    if base_dn.is_empty() {
        return Err(attr("baseDn", "where users are searched, e.g. ou=people,dc=example,dc=org"));
    }
    let user_filter = form.user_filter.trim().to_string();
    let balanced = user_filter.chars().try_fold(0i32, |depth, c| match c {
        '(' => Some(depth + 1),
        ')' if depth > 0 => Some(depth - 1),
        ')' => None,
        _ => Some(depth),
    }) == Some(0);
    if !user_filter.contains("{login}") || !user_filter.starts_with('(') || !balanced {
        return Err(attr("userFilter", "an LDAP filter in parentheses holding {login}, e.g. (&(objectClass=person)(uid={login}))"));
    }
    let login_attribute = form.login_attribute.trim().to_string();
    if login_attribute.is_empty() {
        return Err(attr("loginAttribute", "uid, sAMAccountName or userPrincipalName"));
    }
    let bind_password = match form.bind_password.as_deref() {
        Some(MASK) => state.auth.directory().and_then(|d| d.settings.directory.bind_password.clone()),
        Some(p) if !p.is_empty() => Some(p.to_string()),
        _ => None,
    };
    let mut groups = Vec::new();
    for (group, organisation, profile) in form.groups {
        let (group, organisation, profile) = (group.trim().to_string(), organisation.trim().to_string(), profile.trim().to_string());
        if group.is_empty() {
            continue;
        }
        match Profile::parse(&profile) {
            Some(Profile::Admin) => return Err(attr("groups", "directory users are never made platform administrators")),
            Some(_) => {}
            None => return Err(attr("groups", &format!("unknown profile {profile:?} (read-only, analyst, org-admin)"))),
        }
        if super::org::by_name(&state.store, &organisation).await?.is_none() {
            return Err(attr("groups", &format!("no organisation named {organisation:?}")));
        }
        groups.push(GroupMapping { group, organisation, profile });
    }
    Ok(LdapSettings {
        directory: LdapConfig {
            urls,
            starttls: form.starttls,
            ca_file: text(form.ca_file).map(std::path::PathBuf::from),
            bind_dn: text(form.bind_dn),
            bind_password,
            base_dn,
            user_filter,
            login_attribute,
            name_attribute: text(Some(form.name_attribute)).unwrap_or_else(|| "cn".into()),
            mail_attribute: text(Some(form.mail_attribute)).unwrap_or_else(|| "mail".into()),
            group_attribute: text(form.group_attribute),
            group_base: text(form.group_base),
            group_filter: text(form.group_filter),
            timeout_secs: form.timeout_secs.clamp(1, 120),
        },
        create_users: form.create_users,
        groups,
    })
}

/// Try settings without using them: connect (with failover), bind the service account, search.
pub async fn test(state: &AppState, caller: &Caller, form: LdapView) -> Result<String> {
    platform_admin(caller, "test the directory")?;
    let settings = settings_of(state, form).await?;
    let client = LdapDirectory::new(settings.directory).await.map_err(|e| Error::BadRequest(format!("{e}")))?;
    client.test_connection().await.map_err(|e| Error::BadRequest(format!("{e}")))
}

/// Use these settings from now on (`None`: no directory sign-in), for the next sign-in.
pub async fn save(state: &AppState, caller: &Caller, form: Option<LdapView>) -> Result<()> {
    platform_admin(caller, "change the sign-in settings")?;
    let settings = match form {
        Some(f) => Some(settings_of(state, f).await?),
        None => None,
    };
    let client = match &settings {
        Some(s) => Some(LdapDirectory::new(s.directory.clone()).await.map_err(|e| Error::BadRequest(format!("{e}")))?),
        None => None,
    };
    let mut stored = settings.clone();
    if let Some(p) = stored.as_mut().and_then(|s| s.directory.bind_password.as_mut()) {
        *p = secrets(state)?.try_seal(p).map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))?;
    }
    let at = now_millis();
    state
        .store
        .query(
            "UPSERT type::record('setting', 'directory') CONTENT { settings: $s, changedBy: $by, changedAt: $at }",
            vars! { "s" => stored, "by" => caller.login, "at" => at },
        )
        .await?;
    let source = DirectorySource::Changed { by: caller.login.clone(), at };
    let detail = match &settings {
        Some(s) => format!("directory: {}", s.directory.urls.join(", ")),
        None => "directory sign-in turned off".to_string(),
    };
    state.auth.set_directory(settings.zip(client).map(|(settings, client)| ActiveDirectory { client, settings, source }));
    events::record(&state.store, Kind::SettingsChanged, &caller.login, Some(&caller.login), None, Some(&detail)).await;
    Ok(())
}
