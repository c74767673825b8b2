//! The accounts authentication reads: a user as stored, found by id, by login or by API key.
//! Managing users (creation, memberships, passwords, keys) is `domain::identity::user`'s; it
//! tells [`super::AuthGuard`] when a user changes.

use app::model::{Membership, User, UserStatus};
use serde::{Deserialize, Serialize};

use crate::core::error::Result;
use crate::core::store::Store;
use crate::vars;

/// A user as stored (with the password hash, which never leaves the server).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRow {
    pub id: String,
    pub login: String,
    pub name: String,
    #[serde(default)]
    pub status: UserStatus,
    #[serde(default)]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub memberships: Vec<Membership>,
    pub default_org: String,
    #[serde(default)]
    pub has_key: bool,
    /// Set on an account whose password someone else chose (the first administrator's random
    /// one): the UI asks for a new one before anything else.
    #[serde(default)]
    pub must_change_password: bool,
    pub created_at: i64,
    pub created_by: String,
    #[serde(default)]
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

impl UserRow {
    pub fn public(&self) -> User {
        User {
            id: self.id.clone(),
            login: self.login.clone(),
            name: self.name.clone(),
            status: self.status,
            memberships: self.memberships.clone(),
            default_org: self.default_org.clone(),
            has_key: self.has_key,
            has_password: self.password_hash.is_some(),
            created_at: self.created_at,
            created_by: self.created_by.clone(),
            updated_at: self.updated_at,
            updated_by: self.updated_by.clone(),
        }
    }

    pub fn membership(&self, org_id: &str) -> Option<&Membership> {
        self.memberships.iter().find(|m| m.org_id == org_id)
    }
}

pub async fn row(store: &Store, id: &str) -> Result<Option<UserRow>> {
    let mut r = store.query("SELECT * FROM type::record('user', $id)", vars! { "id" => id }).await?;
    r.one(0)
}

pub async fn row_by_login(store: &Store, login: &str) -> Result<Option<UserRow>> {
    let mut r = store.query("SELECT * FROM user WHERE login = $login", vars! { "login" => login }).await?;
    r.one(0)
}

/// The user an API key belongs to, by the key's SHA-256: one query (every API request not served
/// from memory authenticates this way).
pub async fn row_by_key_hash(store: &Store, hash: &[u8; 32]) -> Result<Option<UserRow>> {
    let mut r = store
        .query(
            "SELECT * FROM type::record('user', type::record('apikey', $h).user ?? '-')",
            vars! { "h" => hex::encode(hash) },
        )
        .await?;
    r.one(0)
}

