//! The UI's per-user preferences in an organisation (a list's saved filter...): small strings
//! under a key, readable and writable only by their user.

use serde_json::Value;

use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::vars;

/// The longest value kept (a filter is a URL query string).
pub const MAX_VALUE: usize = 8 * 1024;

fn check_key(key: &str) -> Result<()> {
    let ok = !key.is_empty() && key.len() <= 64 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok { Ok(()) } else { Err(Error::BadRequest(format!("Invalid preference name {key:?}"))) }
}

/// The caller's value under `key`, if any.
pub async fn get(state: &AppState, caller: &Caller, key: &str) -> Result<Option<String>> {
    check_key(key)?;
    let mut r = caller
        .store(state)
        .query(
            "SELECT VALUE value FROM type::record('ui_pref', [$org, $user, $key]) WHERE org = $org",
            vars! { "user" => caller.user_id, "key" => key },
        )
        .await?;
    let v: Option<Value> = r.one(0)?;
    Ok(v.and_then(|v| v.as_str().map(str::to_string)))
}

/// Keep `value` under `key` for the caller; `None` forgets it.
pub async fn set(state: &AppState, caller: &Caller, key: &str, value: Option<&str>) -> Result<()> {
    check_key(key)?;
    let store = caller.store(state);
    match value {
        Some(v) if v.len() > MAX_VALUE => Err(Error::BadRequest(format!("A preference holds at most {MAX_VALUE} bytes"))),
        Some(v) => {
            store
                .query(
                    "UPSERT type::record('ui_pref', [$org, $user, $key]) CONTENT { org: $org, user: $user, key: $key, value: $value, updatedAt: $at }",
                    vars! { "user" => caller.user_id, "key" => key, "value" => v, "at" => crate::core::store::now_millis() },
                )
                .await?;
            Ok(())
        }
        None => {
            store
                .query("DELETE type::record('ui_pref', [$org, $user, $key]) WHERE org = $org", vars! { "user" => caller.user_id, "key" => key })
                .await?;
            Ok(())
        }
    }
}
