//! tower-sessions store persisted in the database. Session ids are stored hashed, so a copy of
//! the database does not hold live session tokens.

use std::collections::HashMap;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion};

use super::{Store, now_millis};
use crate::vars;

/// The session's keys: who signed in (the store keeps it beside the record, so a user's sessions
/// can be ended together) and the organisation they chose.
pub const SESSION_USER: &str = "user";
pub const SESSION_ORG: &str = "org";
/// When the user signed in on this session (epoch ms): sessions also have an absolute lifetime.
pub const SESSION_STARTED: &str = "started";
/// Set when the holder of a client certificate signed out: the certificate no longer signs this
/// browser in until they choose to sign in with it again.
pub const SESSION_CERT_DECLINED: &str = "certificateDeclined";

#[derive(Clone)]
pub struct SessionStore {
    store: Store,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionStore")
    }
}

impl SessionStore {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

fn key(id: &Id) -> String {
    hex::encode(Sha256::digest(id.to_string().as_bytes()))
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[derive(Deserialize)]
struct Row {
    data: HashMap<String, Value>,
    expiry: i64,
    user: Option<String>,
}

impl SessionStore {
    async fn write(&self, record: &Record, create: bool) -> session_store::Result<bool> {
        let expiry = record.expiry_date.unix_timestamp() * 1000;
        let user = record.data.get(SESSION_USER).and_then(|v| v.as_str()).map(str::to_string);
        let vars = vars! { "id" => key(&record.id), "data" => record.data, "expiry" => expiry, "user" => user };
        let sql = if create {
            "CREATE type::record('session', $id) CONTENT { data: $data, expiry: $expiry, user: $user }"
        } else {
            "UPSERT type::record('session', $id) CONTENT { data: $data, expiry: $expiry, user: $user }"
        };
        match self.store.query(sql, vars).await {
            Ok(_) => Ok(true),
            Err(crate::core::error::Error::Conflict { .. }) => Ok(false),
            Err(e) if create && format!("{e:?}").contains("already exists") => Ok(false),
            Err(e) => Err(backend(format!("{e:?}"))),
        }
    }

    /// Remove every session of a user (logout everywhere, user locked or deleted).
    pub async fn delete_user_sessions(&self, user_id: &str) -> crate::core::error::Result<()> {
        self.store.query("DELETE session WHERE user = $user", vars! { "user" => user_id }).await?;
        Ok(())
    }
}

#[async_trait]
impl session_store::SessionStore for SessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh id on collision: 128 random bits make this practically never loop.
        while !self.write(record, true).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write(record, false).await.map(|_| ())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let mut r = self
            .store
            .query("SELECT data, expiry, user FROM type::record('session', $id)", vars! { "id" => key(id) })
            .await
            .map_err(|e| backend(format!("{e:?}")))?;
        let row: Option<Row> = r.one(0).map_err(|e| backend(format!("{e:?}")))?;
        let Some(row) = row else { return Ok(None) };
        if row.expiry <= now_millis() {
            return Ok(None);
        }
        let _ = row.user;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(row.expiry / 1000).map_err(backend)?;
        Ok(Some(Record { id: *id, data: row.data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store
            .query("DELETE type::record('session', $id)", vars! { "id" => key(id) })
            .await
            .map_err(|e| backend(format!("{e:?}")))?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for SessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.store
            .query("DELETE session WHERE expiry <= $now", vars! { "now" => now_millis() })
            .await
            .map_err(|e| backend(format!("{e:?}")))?;
        Ok(())
    }
}
