//! Analyzers: definitions an organisation enabled, with their configuration, rate, cache and
//! timeout. Organisation-admins (ManageAnalyzer) enable, change and disable them; every member
//! sees them (secrets shown as `********`, never their value).

use app::model::{Analyzer, AnalyzerDefinition, AnalyzerInput, OverQuota, Permission, QuotaState, RateUnit};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::engine::{self, Engine};
use super::settings;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::query::Entity;
use crate::core::search::{self, Page, Search};
use crate::core::state::AppState;
use crate::core::store::{OrgStore, new_id, now_millis};
use crate::vars;

const TABLE: &str = "analyzer";
/// Cortex's defaults: reports reused for 10 minutes, a run may take 30.
pub const DEFAULT_JOB_CACHE: u32 = 10;
pub const DEFAULT_JOB_TIMEOUT: u32 = 30;
/// The longest run allowed (a day) and the longest cache (a year), in minutes.
const MAX_JOB_TIMEOUT: u32 = 24 * 60;
const MAX_JOB_CACHE: u32 = 365 * 24 * 60;

/// An analyzer as stored (its secrets sealed).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub id: String,
    pub org: String,
    pub name: String,
    pub definition_id: String,
    #[serde(default)]
    pub configuration: Map<String, Value>,
    #[serde(default)]
    pub rate: Option<u32>,
    #[serde(default)]
    pub rate_unit: Option<RateUnit>,
    #[serde(default)]
    pub job_cache: Option<u32>,
    #[serde(default)]
    pub job_timeout: Option<u32>,
    #[serde(default)]
    pub over_quota: OverQuota,
    pub created_at: i64,
    pub created_by: String,
    #[serde(default)]
    pub updated_at: Option<i64>,
}

/// What the queue needs of every analyzer at start.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub id: String,
    pub org: String,
    #[serde(default)]
    pub rate: Option<u32>,
    #[serde(default)]
    pub rate_unit: Option<RateUnit>,
}

impl Row {
    pub fn job_cache(&self) -> u32 {
        self.job_cache.unwrap_or(DEFAULT_JOB_CACHE)
    }

    pub fn job_timeout(&self) -> u32 {
        self.job_timeout.unwrap_or(DEFAULT_JOB_TIMEOUT)
    }
}

/// The shape clients see: the definition's description and types, secrets redacted, the quota.
pub fn view(state: &AppState, row: &Row) -> Analyzer {
    let engine = state.service::<Engine>();
    let def = engine.definition(&row.definition_id);
    let items = def.as_ref().map(|d| d.configuration_items.as_slice()).unwrap_or(&[]);
    let quota = engine.queue.quota(&engine::lane(&row.org, &row.id)).map(|q| QuotaState {
        used: q.used,
        remaining: q.remaining,
        waiting: q.waiting,
        frees_at: q.frees_at,
    });
    Analyzer {
        id: row.id.clone(),
        cortex_id: app::model::LOCAL_ENGINE.into(),
        name: row.name.clone(),
        definition_id: row.definition_id.clone(),
        version: def.as_ref().map(|d| d.version.clone()).unwrap_or_default(),
        description: def.as_ref().map(|d| d.description.clone()).unwrap_or_default(),
        data_type_list: def.as_ref().map(|d| d.data_type_list.clone()).unwrap_or_default(),
        configuration: settings::redact(items, &row.configuration),
        rate: row.rate,
        rate_unit: row.rate_unit,
        job_cache: Some(row.job_cache()),
        job_timeout: Some(row.job_timeout()),
        over_quota: row.over_quota,
        quota,
        missing: def.is_none(),
        created_at: row.created_at,
        created_by: row.created_by.clone(),
        updated_at: row.updated_at,
    }
}

async fn rows(store: &OrgStore) -> Result<Vec<Row>> {
    let mut r = store.query("SELECT * FROM analyzer WHERE org = $org ORDER BY name", vars! {}).await?;
    r.rows(0)
}

/// The organisation's analyzer named `key` (its id or its name).
pub async fn row(store: &OrgStore, key: &str) -> Result<Option<Row>> {
    let mut r = store
        .query("SELECT * FROM analyzer WHERE org = $org AND (id = type::record('analyzer', $k) OR name = $k) LIMIT 1", vars! { "k" => key })
        .await?;
    r.one(0)
}

/// Every analyzer of the caller's organisation.
pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<Analyzer>> {
    Ok(rows(&caller.store(state)).await?.iter().map(|r| view(state, r)).collect())
}

/// The analyzers that take observables of `data_type` (and can run: their definition is there).
pub async fn for_type(state: &AppState, caller: &Caller, data_type: &str) -> Result<Vec<Analyzer>> {
    Ok(list(state, caller).await?.into_iter().filter(|a| !a.missing && a.data_type_list.iter().any(|t| t == data_type)).collect())
}

/// The organisation's analyzers a search finds (by name, definition, limits).
pub async fn search(state: &AppState, caller: &Caller, search: &Search) -> Result<Page<Analyzer>> {
    let page: Page<Row> = search::run(&caller.store(state), Entity::Analyzer, search, true).await?;
    Ok(Page { items: page.items.iter().map(|r| view(state, r)).collect(), total: page.total, exact: page.exact })
}

/// The definitions found in the analyzers directories, by id (every member may read them).
pub fn definitions(state: &AppState) -> Vec<AnalyzerDefinition> {
    let mut list: Vec<AnalyzerDefinition> = state.service::<Engine>().catalog().definitions.values().map(|d| d.to_model()).collect();
    list.sort_by(|a, b| a.id.cmp(&b.id));
    list
}

/// Read the analyzers directories again: organisation-admins (ManageAnalyzer) and platform
/// administrators (the directories are the server's, shared by every organisation).
pub async fn rescan(state: &AppState, caller: &Caller) -> Result<Vec<AnalyzerDefinition>> {
    if !caller.is_platform_admin() {
        caller.require(Permission::ManageAnalyzer, "rescan the analyzers directories")?;
    }
    state.service::<Engine>().rescan(state).await;
    Ok(definitions(state))
}

pub async fn get(state: &AppState, caller: &Caller, key: &str) -> Result<Analyzer> {
    let r = row(&caller.store(state), key).await?.ok_or_else(|| Error::not_found("analyzer", key))?;
    Ok(view(state, &r))
}

fn check_limits(input: &AnalyzerInput, doc: &mut Map<String, Value>) -> Result<()> {
    let attr = |name: &str, msg: &str| Error::attribute(TABLE, name, "number", msg.to_string());
    if let Some(rate) = input.rate {
        if rate == Some(0) {
            return Err(attr("rate", "a rate is at least 1 (leave it empty for no limit)"));
        }
        doc.insert("rate".into(), json!(rate));
    }
    if let Some(unit) = input.rate_unit {
        doc.insert("rateUnit".into(), json!(unit));
    }
    if let Some(c) = input.job_cache {
        if c.is_some_and(|c| c > MAX_JOB_CACHE) {
            return Err(attr("jobCache", "at most a year (525600 minutes)"));
        }
        doc.insert("jobCache".into(), json!(c));
    }
    if let Some(t) = input.job_timeout {
        if t.is_some_and(|t| t == 0 || t > MAX_JOB_TIMEOUT) {
            return Err(attr("jobTimeout", "1 to 1440 minutes"));
        }
        doc.insert("jobTimeout".into(), json!(t));
    }
    if let Some(o) = input.over_quota {
        doc.insert("overQuota".into(), json!(o));
    }
    Ok(())
}

/// A rate needs its unit, and a unit its rate.
fn check_rate_pair(rate: Option<u32>, unit: Option<RateUnit>) -> Result<()> {
    match (rate, unit) {
        (Some(_), None) => Err(Error::attribute(TABLE, "rateUnit", "string", "a rate needs its unit (Second, Minute, Hour, Day or Month)")),
        (None, Some(_)) => Err(Error::attribute(TABLE, "rate", "number", "a rate unit needs a rate")),
        _ => Ok(()),
    }
}

/// Enable a definition in the caller's organisation (organisation-admins).
pub async fn enable(state: &AppState, caller: &Caller, definition_id: &str, input: AnalyzerInput) -> Result<Analyzer> {
    caller.require(Permission::ManageAnalyzer, "enable analyzers")?;
    let engine = state.service::<Engine>();
    let def = engine.definition(definition_id).ok_or_else(|| Error::not_found("analyzer definition", definition_id))?;
    let name = input.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or(&def.id).to_string();
    check_name(&name)?;
    let given = input.configuration.clone().unwrap_or_default();
    let configuration = settings::validate(&def.configuration_items, &given).map_err(field_errors)?;
    let sealed = settings::seal_secrets(&def.configuration_items, engine.secrets(state)?, configuration);
    let mut doc = Map::new();
    check_limits(&input, &mut doc)?;
    let rate = doc.get("rate").and_then(Value::as_u64).map(|r| r as u32);
    let unit = doc.get("rateUnit").and_then(|u| serde_json::from_value(u.clone()).ok());
    check_rate_pair(rate, unit)?;
    let store = caller.store(state);
    if row(&store, &name).await?.is_some() {
        return Err(Error::Conflict { message: format!("The organisation already has an analyzer named {name}"), object: None });
    }
    doc.insert("name".into(), json!(name));
    doc.insert("definitionId".into(), json!(def.id));
    doc.insert("configuration".into(), Value::Object(sealed));
    doc.insert("createdAt".into(), json!(now_millis()));
    doc.insert("createdBy".into(), json!(caller.login));
    let id = new_id();
    store.create(TABLE, &id, doc).await?;
    let created = row(&store, &id).await?.ok_or_else(|| Error::Internal(anyhow::anyhow!("analyzer not created")))?;
    engine.queue.set_budget(&engine::lane(&created.org, &created.id), engine::budget(created.rate, created.rate_unit));
    Ok(view(state, &created))
}

/// Change an analyzer's configuration or limits (organisation-admins). A secret sent back as
/// `********` keeps its value.
pub async fn update(state: &AppState, caller: &Caller, key: &str, input: AnalyzerInput) -> Result<Analyzer> {
    caller.require(Permission::ManageAnalyzer, "change analyzers")?;
    let engine = state.service::<Engine>();
    let store = caller.store(state);
    let current = row(&store, key).await?.ok_or_else(|| Error::not_found("analyzer", key))?;
    let mut patch = Map::new();
    if let Some(given) = &input.configuration {
        let def = engine
            .definition(&current.definition_id)
            .ok_or_else(|| Error::BadRequest(format!("The definition {} is no longer in the analyzers directories", current.definition_id)))?;
        let items = &def.configuration_items;
        let given = settings::merge_update(items, &current.configuration, given).map_err(field_errors)?;
        let secrets = engine.secrets(state)?;
        let opened = settings::open_secrets(items, secrets, given).map_err(|e| field_errors(vec![e]))?;
        let configuration = settings::validate(items, &opened).map_err(field_errors)?;
        patch.insert("configuration".into(), Value::Object(settings::seal_secrets(items, secrets, configuration)));
    }
    if let Some(name) = input.name.as_deref().map(str::trim).filter(|n| *n != current.name) {
        check_name(name)?;
        if row(&store, name).await?.is_some() {
            return Err(Error::Conflict { message: format!("The organisation already has an analyzer named {name}"), object: None });
        }
        patch.insert("name".into(), json!(name));
    }
    check_limits(&input, &mut patch)?;
    let rate = if input.rate.is_some() { input.rate.flatten() } else { current.rate };
    let unit = if input.rate_unit.is_some() { input.rate_unit.flatten() } else { current.rate_unit };
    check_rate_pair(rate, unit)?;
    if patch.is_empty() {
        return Ok(view(state, &current));
    }
    patch.insert("updatedAt".into(), json!(now_millis()));
    patch.insert("updatedBy".into(), json!(caller.login));
    store.merge(TABLE, &current.id, patch).await?;
    let updated = row(&store, &current.id).await?.ok_or_else(|| Error::not_found("analyzer", key))?;
    engine.queue.set_budget(&engine::lane(&updated.org, &updated.id), engine::budget(updated.rate, updated.rate_unit));
    Ok(view(state, &updated))
}

/// Disable (remove) an analyzer; its past jobs stay.
pub async fn disable(state: &AppState, caller: &Caller, key: &str) -> Result<()> {
    caller.require(Permission::ManageAnalyzer, "disable analyzers")?;
    let store = caller.store(state);
    let current = row(&store, key).await?.ok_or_else(|| Error::not_found("analyzer", key))?;
    store.delete(TABLE, &current.id).await?;
    Ok(())
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty() && name.len() <= 128 && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok { Ok(()) } else { Err(Error::attribute(TABLE, "name", "string", "1 to 128 letters, digits, '_', '-' or '.'")) }
}

fn field_errors(errors: Vec<settings::FieldError>) -> Error {
    let text = errors.iter().map(|e| format!("{}: {}", e.name, e.message)).collect::<Vec<_>>().join("; ");
    Error::attribute(TABLE, "configuration", "object", text)
}
