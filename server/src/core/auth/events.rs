//! The security trail (`security_event`): sign-ins, failed sign-ins with the client's address,
//! sign-outs, and every change of credentials or rights. Platform-wide, since it is about accounts; read by
//! platform administrators (`GET /api/security/events`, Admin > Authentication). Writing it never
//! fails the action it records: a failed write is logged.

use std::net::IpAddr;

use app::model::SecurityEvent;
use serde_json::json;

use crate::core::error::Result;
use crate::core::store::{Store, new_id, now_millis};
use crate::vars;

/// The most events one read gives.
pub const MAX_READ: usize = 500;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Login,
    LoginFailed,
    Logout,
    UserCreated,
    PasswordChanged,
    KeyRenewed,
    KeyRevoked,
    Locked,
    Unlocked,
    ProfileChanged,
    MembershipSet,
    MembershipRemoved,
    /// The sign-in settings (the directory) changed.
    SettingsChanged,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::LoginFailed => "login-failed",
            Self::Logout => "logout",
            Self::UserCreated => "user-created",
            Self::PasswordChanged => "password-changed",
            Self::KeyRenewed => "key-renewed",
            Self::KeyRevoked => "key-revoked",
            Self::Locked => "locked",
            Self::Unlocked => "unlocked",
            Self::ProfileChanged => "profile-changed",
            Self::MembershipSet => "membership-set",
            Self::MembershipRemoved => "membership-removed",
            Self::SettingsChanged => "settings-changed",
        }
    }
}

/// Record an event about `login` (made by `by`, from the client address `from`; `detail` says
/// how or what).
pub async fn record(store: &Store, kind: Kind, login: &str, by: Option<&str>, from: Option<IpAddr>, detail: Option<&str>) {
    // A failed sign-in's login is what the client typed: kept short, never trusted.
    let login: String = login.chars().take(128).collect();
    let doc = json!({
        "at": now_millis(), "kind": kind.as_str(), "login": login, "by": by,
        "from": from.map(|a| a.to_string()), "detail": detail,
    });
    if let Err(e) = store.query("CREATE type::record('security_event', $id) CONTENT $doc RETURN NONE", vars! { "id" => new_id(), "doc" => doc }).await {
        tracing::warn!(error = ?e, kind = kind.as_str(), "security event not recorded");
    }
}

/// The latest events, newest first; only those about `login` when given.
pub async fn recent(store: &Store, login: Option<&str>, count: usize) -> Result<Vec<SecurityEvent>> {
    let count = count.clamp(1, MAX_READ);
    let mut r = match login {
        Some(l) => {
            store
                .query(
                    "SELECT at, kind, login, by, from, detail FROM security_event WHERE login = $login ORDER BY at DESC LIMIT $n",
                    vars! { "login" => l.trim().to_lowercase(), "n" => count },
                )
                .await?
        }
        None => store.query("SELECT at, kind, login, by, from, detail FROM security_event ORDER BY at DESC LIMIT $n", vars! { "n" => count }).await?,
    };
    r.rows(0)
}
