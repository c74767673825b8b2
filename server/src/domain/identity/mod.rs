//! Who works in Waggle: organisations (tenants), users and their memberships with a profile in
//! each (built-in or custom profiles), each user's UI preferences, and the directory they may
//! sign in with.

pub mod directory;
pub mod org;
pub mod profile;
pub mod ui_pref;
pub mod user;

use crate::core::state::AppState;
use crate::core::store::record_key;

/// Other Waggle processes on the same database: what this one keeps in memory of users, keys,
/// organisations, profiles and the directory follows their writes through the change feed (see
/// [`crate::core::cache`]). Reloads run in their own task: a watcher must be quick.
pub fn follow_other_instances(state: &AppState) {
    let auth = state.auth.clone();
    state.stats.watch("user", move |changes| {
        // A password or status changed elsewhere: the credentials this process verified for
        // that user are forgotten too.
        for c in changes {
            if let Some(id) = c.get("update").or_else(|| c.get("delete")).and_then(|v| v.get("id")).and_then(|v| v.as_str()) {
                auth.forget_user(record_key(id));
            }
        }
    });
    let auth = state.auth.clone();
    state.stats.watch("apikey", move |_| auth.users_changed());
    let st = state.clone();
    state.stats.watch("organisation", move |_| {
        let st = st.clone();
        tokio::spawn(async move {
            match org::locked_ids(&st.store).await {
                Ok(ids) => st.auth.replace_locked_orgs(ids),
                Err(e) => tracing::warn!(error = ?e, "reading locked organisations failed"),
            }
            st.auth.users_changed();
        });
    });
    let st = state.clone();
    state.stats.watch("profile", move |_| {
        let st = st.clone();
        tokio::spawn(async move {
            if let Err(e) = profile::load(&st).await {
                tracing::warn!(error = ?e, "reading custom profiles failed");
            }
        });
    });
    let st = state.clone();
    state.stats.watch("setting", move |changes| {
        if !changes.iter().any(|c| c.get("update").or_else(|| c.get("delete")).and_then(|v| v.get("id")).and_then(|v| v.as_str()).is_some_and(|id| record_key(id) == "directory")) {
            return;
        }
        let st = st.clone();
        tokio::spawn(async move {
            if let Err(e) = directory::load(&st).await {
                tracing::warn!(error = %format!("{e:#}"), "reading the directory settings failed");
            }
        });
    });
}
