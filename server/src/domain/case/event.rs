//! Custom events of a case's timeline (TheHive 5): what happened outside Waggle (a call, a
//! host reimaged), with a date, an optional end and a title.
//!
//! Rules: an event needs a title and a date; the end, when given, is not before the date;
//! changing events needs `manageCase` on a case not deleted; a case deleted for good takes its
//! events with it.

use app::model::{Id, Millis, Permission};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::core::audit;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::{core::validate, vars};

pub const TYPE: &str = "customEvent";
const TABLE: &str = "custom_event";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomEvent {
    pub id: Id,
    #[serde(rename = "case")]
    pub case_id: Id,
    pub date: Millis,
    #[serde(default)]
    pub end_date: Option<Millis>,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub created_at: Millis,
    pub created_by: String,
    #[serde(default)]
    pub updated_at: Option<Millis>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventInput {
    pub date: Option<Millis>,
    pub end_date: Option<Millis>,
    pub title: Option<String>,
    pub description: Option<String>,
}

fn checked(input: &EventInput, date: Option<Millis>) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    if let Some(t) = &input.title {
        m.insert("title".into(), json!(validate::title(TYPE, "title", t, validate::MAX_TITLE)?));
    }
    if let Some(d) = input.date {
        m.insert("date".into(), json!(validate::date(TYPE, "date", d)?));
    }
    if let Some(e) = input.end_date {
        if date.is_some_and(|d| e < d) {
            return Err(Error::attribute(TYPE, "endDate", "date", "endDate must not be before date"));
        }
        m.insert("endDate".into(), json!(validate::date(TYPE, "endDate", e)?));
    }
    if let Some(d) = &input.description {
        m.insert("description".into(), json!(validate::text(TYPE, "description", d)?));
    }
    Ok(m)
}

pub async fn create(state: &AppState, caller: &Caller, case_id: &str, input: EventInput) -> Result<CustomEvent> {
    caller.require(Permission::ManageCase, "add timeline events")?;
    let store = caller.store(state);
    let case = crate::domain::case::writable(&store, &crate::domain::case::get(state, caller, case_id).await?.id).await?;
    if input.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(Error::attribute(TYPE, "title", "string", "title is required"));
    }
    let date = input.date.ok_or_else(|| Error::attribute(TYPE, "date", "date", "date is required"))?;
    let mut doc = checked(&input, Some(date))?;
    doc.insert("case".into(), json!(case.id));
    audit::create_one(state, caller, TABLE, TYPE, doc, Some("case")).await
}

/// The custom events of a case, by date.
pub async fn list(state: &AppState, caller: &Caller, case_id: &str) -> Result<Vec<CustomEvent>> {
    let mut r = caller.store(state).query("SELECT * FROM custom_event WHERE org = $org AND case = $c ORDER BY date ASC", vars! { "c" => case_id }).await?;
    r.rows(0)
}

async fn writable(state: &AppState, caller: &Caller, id: &str, what: &str) -> Result<CustomEvent> {
    caller.require(Permission::ManageCase, what)?;
    let store = caller.store(state);
    let e: CustomEvent = store.get(TABLE, id).await?.ok_or_else(|| Error::not_found("event", id))?;
    crate::domain::case::writable(&store, &e.case_id).await?;
    Ok(e)
}

pub async fn update(state: &AppState, caller: &Caller, id: &str, input: EventInput) -> Result<CustomEvent> {
    let current = writable(state, caller, id, "change timeline events").await?;
    let patch = checked(&input, Some(input.date.unwrap_or(current.date)))?;
    if patch.is_empty() {
        return Ok(current);
    }
    audit::update_one(state, caller, TABLE, TYPE, id, patch, true).await
}

pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    writable(state, caller, id, "delete timeline events").await?;
    audit::delete_one(state, caller, TABLE, TYPE, id, true).await
}
