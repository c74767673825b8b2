//! Alerts: created by feeders, triaged by analysts, imported into cases or merged with them.
//!
//! Rules (all here, whatever the adapter):
//! - `(type, source, sourceRef)` is unique in an organisation. Sending an alert again is a
//!   conflict that carries the existing alert, unless the request asks for an upsert
//!   (`upsert`) or the source is set to upsert ([`set_source`]): then the existing alert is
//!   updated, new observables are added to it, and `occurrences` / `lastOccurrence` count it.
//! - An alert is one record with its observables embedded; the same observable (data type and
//!   value, or the same file) is in an alert once. Files come inline as
//!   `filename;content-type;base64` and go to the attachment store.
//! - A followed alert that is changed after triage (not New) becomes Updated. Marking as read
//!   makes it Imported when it has a case, Ignored otherwise; as unread, Updated or New.
//! - Every change is audited; a change computed from an alert that changed meanwhile is
//!   recomputed (each alert carries a revision).
//! - New alerts are written by the [`ingest`] queue: concurrent creations share transactions.

mod import;
mod ingest;
pub mod similarity;
mod sync;

use std::collections::{HashMap, HashSet};

use app::model::{
    Alert, AlertCounts, AlertObservable, AlertObservablePatch, AlertPatch, AlertSource, AlertSourceSummary, AlertStatus, AuditOperation, CustomFields,
    NewAlert, NewAlertObservable, Permission,
};
use base64::Engine;
use serde_json::{Map, Value, json};

pub use import::{case_observable, create_case, merge_into_case};
pub use similarity::with_similarity;
pub use sync::{Synced, sync_marks, synchronize};
use similarity::Lookup;

use crate::domain::case::observable_identity as identity;
use crate::core::attachment::{self, StoredFile};
use crate::core::audit::Tx;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::query::Entity;
use crate::core::search::{self, Count, Page, Search};
use crate::core::state::AppState;
use crate::core::store::{OrgStore, counter, new_id};
use crate::core::cache::EpochCache;
use crate::core::state::Service;
use crate::{domain::catalog::custom_field, core::validate, vars};

/// TheHive's type name (audit entries, errors).
pub const TYPE: &str = "alert";
const TABLE: &str = "alert";
/// The most observables an alert may carry.
pub const MAX_OBSERVABLES: usize = 1000;
/// The longest observable value (bytes), as for case observables: values are compared and
/// looked up.
pub const MAX_DATA: usize = crate::domain::case::observable::MAX_DATA;
/// The UI's lists count their matches up to this many.
pub const COUNT_CAP: usize = 10_000;
/// How many times a change is recomputed when the alert keeps changing under it.
const ATTEMPTS: usize = 5;

/// An alert as stored, with its revision.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub alert: Alert,
    pub rev: u64,
}

fn decode(v: Value) -> Result<Stored> {
    let rev = v.get("rev").and_then(Value::as_u64).unwrap_or(0);
    let alert = serde_json::from_value(v).map_err(|e| Error::Internal(anyhow::anyhow!("decoding an alert: {e}")))?;
    Ok(Stored { alert, rev })
}

/// The alert `id` of the organisation, if any.
pub(crate) async fn load(store: &OrgStore, id: &str) -> Result<Option<Stored>> {
    match store.get::<Value>(TABLE, id.trim()).await? {
        Some(v) => Ok(Some(decode(v)?)),
        None => Ok(None),
    }
}

async fn load_or_404(store: &OrgStore, id: &str) -> Result<Stored> {
    load(store, id).await?.ok_or_else(|| Error::not_found("alert", id))
}

pub async fn get(state: &AppState, caller: &Caller, id: &str) -> Result<Alert> {
    Ok(load_or_404(&caller.store(state), id).await?.alert)
}

/// Alerts matching a v0 search, with the exact total (`X-Total`).
pub async fn search(state: &AppState, caller: &Caller, search: &Search) -> Result<Page<Alert>> {
    search::run_listed(state, &caller.store(state), Entity::Alert, search, Count::Exact).await
}

/// The triage list: a page, its total (exact for status filters and for the lists the statistics
/// index serves, otherwise capped at [`COUNT_CAP`]) and the organisation's counts per status.
pub async fn list(state: &AppState, caller: &Caller, search: &Search) -> Result<(Page<Alert>, AlertCounts)> {
    let store = caller.store(state);
    let page = search::run_listed(state, &store, Entity::Alert, search, Count::AtMost(COUNT_CAP)).await?;
    Ok((page, counts_in(&store).await?))
}

/// Counts a created alert (`$alert`) under its status: creations are counted by their writers,
/// status changes and deletions by the `alert_count` event (migration 8).
const COUNT_NEW_ALERT: &str = "UPSERT type::record('counter', [$org, 'alerts', $alert.status]) SET value += 1 RETURN NONE";

/// Recount the alerts per status of every organisation from the alerts themselves (benchmarks
/// that insert alerts directly; a repair if counters were ever edited by hand). Scans the table.
pub async fn recount_status_counters(store: &crate::core::store::Store) -> Result<()> {
    store
        .query(
            "BEGIN TRANSACTION;
             DELETE counter WHERE record::id(id)[1] = 'alerts';
             FOR $g IN (SELECT org, status, count() AS n FROM alert GROUP BY org, status) {
                 UPSERT type::record('counter', [$g.org, 'alerts', $g.status]) SET value = $g.n RETURN NONE;
             };
             COMMIT TRANSACTION;",
            vars! {},
        )
        .await?;
    Ok(())
}

/// Alerts per status in the organisation (kept by the database, read in one go).
pub async fn counts_in(store: &OrgStore) -> Result<AlertCounts> {
    let statuses: Vec<&str> = AlertStatus::ALL.iter().map(|s| s.as_str()).collect();
    let keys = counter::keys("alerts", &statuses);
    let mut r = store
        .query("RETURN array::map($keys, |$k| type::record('counter', array::concat([$org], $k)).value ?? 0)", vars! { "keys" => keys })
        .await?;
    let values = r.value(0)?;
    let values: Vec<i64> = values.as_array().into_iter().flatten().map(|n| n.as_i64().unwrap_or(0)).collect();
    let mut out = AlertCounts::default();
    for (s, lanes) in AlertStatus::ALL.iter().zip(values.chunks(counter::lanes("alerts"))) {
        out.set(*s, lanes.iter().sum::<i64>().max(0) as u64);
    }
    Ok(out)
}

pub async fn counts(state: &AppState, caller: &Caller) -> Result<AlertCounts> {
    counts_in(&caller.store(state)).await
}

/// The alerts imported into or merged with a case, newest first.
pub async fn for_case(state: &AppState, caller: &Caller, case_id: &str) -> Result<Vec<Alert>> {
    let store = caller.store(state);
    let case = crate::domain::case::get(state, caller, case_id).await?;
    let mut r = store.query("SELECT * FROM alert WHERE org = $org AND case = $case ORDER BY date DESC LIMIT 1000", vars! { "case" => case.id }).await?;
    r.rows::<Value>(0)?.into_iter().map(|v| decode(v).map(|s| s.alert)).collect()
}

// ---------------------------------------------------------------------------------------------
// Validation

/// An observable checked against the organisation's data types, its file still in memory (or
/// already stored, for uploads).
#[derive(Debug)]
struct CheckedObservable {
    doc: Map<String, Value>,
    file: Option<(String, String, Vec<u8>)>,
    stored: Option<StoredFile>,
}

/// The organisation's data types: name -> is a file type.
type DataTypes = HashMap<String, bool>;

fn attr(field: &str, kind: &str, msg: impl Into<String>) -> Error {
    Error::attribute(TYPE, field, kind, msg)
}

/// A one-line identity field (`type`, `source`, `sourceRef`): required, at most 512 characters.
fn key_part(field: &str, v: &str) -> Result<String> {
    validate::title(TYPE, field, v, 512)
}

fn external_link(v: &str) -> Result<Option<String>> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.len() > 2048 || v.chars().any(char::is_control) {
        return Err(attr("externalLink", "string", "externalLink is a link of at most 2048 characters"));
    }
    Ok(Some(v.to_string()))
}

fn case_template_name(v: &str) -> Result<Option<String>> {
    let v = v.trim();
    if v.is_empty() { Ok(None) } else { Ok(Some(validate::title(TYPE, "caseTemplate", v, 512)?)) }
}

/// Decode a file given inline (`filename;content-type;base64`); an empty or undecodable file is
/// refused, one larger than `max` is too large.
fn inline_file(field: &str, data: &str, max: usize) -> Result<(String, String, Vec<u8>)> {
    let (name, ctype, b64) = app::model::split_inline_file(data)
        .ok_or_else(|| attr(field, "string", "a file is given as filename;content-type;base64"))?;
    // Base64 is 4/3 of the content: refuse what cannot fit before decoding it.
    if b64.len() / 4 * 3 > max + 3 {
        return Err(Error::TooLarge(format!("The file {name} is larger than the limit of {} MiB", max / (1024 * 1024))));
    }
    let cleaned: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .map_err(|e| attr(field, "string", format!("the content of {name} is not valid base64: {e}")))?;
    if bytes.is_empty() {
        return Err(attr(field, "string", format!("the file {name} is empty")));
    }
    if bytes.len() > max {
        return Err(Error::TooLarge(format!("The file {name} is larger than the limit of {} MiB", max / (1024 * 1024))));
    }
    if name.trim().is_empty() {
        return Err(attr(field, "string", "a file needs a name"));
    }
    Ok((name.to_string(), ctype.to_string(), bytes))
}

/// Check one observable given with an alert (`i`: its position, for error messages).
fn check_observable(i: usize, o: &NewAlertObservable, types: &DataTypes, max_file: usize, now: i64) -> Result<CheckedObservable> {
    let at = |f: &str| format!("observables[{i}].{f}");
    let dt = o.data_type.trim();
    let is_file = *types.get(dt).ok_or_else(|| attr(&at("dataType"), "string", format!("Unknown observable type {dt:?}")))?;
    let mut doc = Map::new();
    doc.insert("dataType".into(), json!(dt));
    let data = o.data.as_deref().unwrap_or("");
    let mut file = None;
    if is_file {
        file = Some(inline_file(&at("data"), data, max_file)?);
    } else {
        let v = data.trim();
        if v.is_empty() {
            return Err(attr(&at("data"), "string", "data is required"));
        }
        if v.len() > MAX_DATA || v.contains('\0') {
            return Err(attr(&at("data"), "string", format!("data is at most {} KiB, without NUL", MAX_DATA / 1024)));
        }
        doc.insert("data".into(), json!(v));
    }
    if let Some(m) = o.message.as_deref().filter(|m| !m.trim().is_empty()) {
        doc.insert("message".into(), json!(validate::text(TYPE, &at("message"), m)?));
    }
    doc.insert("tlp".into(), json!(validate::tlp(TYPE, &at("tlp"), o.tlp.unwrap_or(2))?));
    doc.insert("tags".into(), json!(validate::tags(TYPE, o.tags.as_deref().unwrap_or(&[]))?));
    doc.insert("ioc".into(), json!(o.ioc.unwrap_or(false)));
    doc.insert("sighted".into(), json!(o.sighted.unwrap_or(false)));
    doc.insert("ignoreSimilarity".into(), json!(o.ignore_similarity.unwrap_or(false)));
    doc.insert("startDate".into(), json!(validate::date(TYPE, &at("startDate"), o.start_date.unwrap_or(now))?));
    Ok(CheckedObservable { doc, file, stored: None })
}

fn check_observables(list: &[NewAlertObservable], types: &DataTypes, max_file: usize, now: i64) -> Result<Vec<CheckedObservable>> {
    if list.len() > MAX_OBSERVABLES {
        return Err(attr("observables", "array", format!("an alert has at most {MAX_OBSERVABLES} observables, not {}", list.len())));
    }
    list.iter().enumerate().map(|(i, o)| check_observable(i, o, types, max_file, now)).collect()
}

/// A short key for an observable of an alert (its id is `<alert id>-<key>`).
fn observable_key() -> String {
    new_id()[16..].to_string()
}

/// The alert an observable id belongs to.
fn alert_of_observable(observable_id: &str) -> Option<&str> {
    observable_id.split_once('-').map(|(a, _)| a).filter(|a| !a.is_empty())
}


/// Store the files of checked observables and make their documents (with ids under
/// `alert_id`), without duplicates (the first of the same identity is kept) and without the
/// identities in `present`.
async fn materialize(
    state: &AppState,
    alert_id: &str,
    checked: Vec<CheckedObservable>,
    present: &HashSet<(String, String)>,
) -> Result<(Vec<Map<String, Value>>, Vec<StoredFile>)> {
    let mut docs = Vec::with_capacity(checked.len());
    let mut files = Vec::new();
    let mut seen: HashSet<(String, String)> = present.clone();
    let mut keys: HashSet<String> = HashSet::new();
    for c in checked {
        let mut doc = c.doc;
        let stored = match (c.file, c.stored) {
            (_, Some(f)) => Some(f),
            (Some((name, ctype, bytes)), None) => match attachment::save_bytes(state, &name, Some(&ctype), bytes.into()).await {
                Ok(f) => Some(f),
                Err(e) => {
                    attachment::discard(state, files).await;
                    return Err(e);
                }
            },
            (None, None) => None,
        };
        if let Some(f) = stored {
            doc.insert("attachment".into(), json!(f.attachment()));
            files.push(f);
        }
        if !seen.insert(identity(&doc)) {
            continue;
        }
        let mut key = observable_key();
        while !keys.insert(key.clone()) {
            key = observable_key();
        }
        doc.insert("id".into(), json!(format!("{alert_id}-{key}")));
        docs.push(doc);
    }
    Ok((docs, files))
}

/// The organisation's data types, and the existing alert and the source's upsert setting for
/// `(kind, source, source_ref)`: one round trip.
/// What creating an alert needs to know: the data types, the alert with the same key if
/// there is one, and whether its source upserts. Only the duplicate check is a query.
async fn lookup(state: &AppState, store: &OrgStore, kind: &str, source: &str, source_ref: &str, from: Lookup) -> Result<(DataTypes, Option<Stored>, bool)> {
    let types = data_types(state, store).await?;
    let upsert = state.service::<Sources>().upserts(store, source).await?;
    // Most alerts a feeder sends are new: the statistics index knows every alert's key, so a
    // key it does not know needs no query. It may lag the database by a poll of the change feed;
    // an alert it does not know yet is refused by the unique index when it is written (then
    // created alone, which looks it up here again, in the database).
    let key = crate::core::stats::values::alert_key(kind, source, source_ref);
    if from == Lookup::IndexWhenReady && state.stats.read().alert_may_exist(store.org_id(), key) == Some(false) {
        return Ok((types, None, upsert));
    }
    let mut r = store
        .query(
            "SELECT * FROM alert WHERE org = $org AND type = $t AND source = $s AND sourceRef = $r LIMIT 1",
            vars! { "t" => kind, "s" => source, "r" => source_ref },
        )
        .await?;
    let existing = match r.one::<Value>(0)? {
        Some(v) => Some(decode(v)?),
        None => None,
    };
    Ok((types, existing, upsert))
}

async fn data_types(state: &AppState, store: &OrgStore) -> Result<DataTypes> {
    Ok(state.service::<crate::domain::catalog::Catalog>().data_types(store).await?.iter().map(|t| (t.name.clone(), t.is_attachment)).collect())
}

/// The fields of an alert given in a create or an update, validated (absent = not given).
fn scalar_fields(
    title: Option<&str>,
    description: Option<&str>,
    date: Option<i64>,
    severity: Option<u8>,
    tlp: Option<u8>,
    pap: Option<u8>,
    tags: Option<&[String]>,
    case_template: Option<&str>,
    link: Option<&str>,
    last_sync: Option<i64>,
) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    if let Some(t) = title {
        m.insert("title".into(), json!(validate::title(TYPE, "title", t, validate::MAX_TITLE)?));
    }
    if let Some(d) = description {
        m.insert("description".into(), json!(validate::text(TYPE, "description", d)?));
    }
    if let Some(d) = date {
        m.insert("date".into(), json!(validate::date(TYPE, "date", d)?));
    }
    if let Some(s) = severity {
        m.insert("severity".into(), json!(validate::severity(TYPE, s)?));
    }
    if let Some(t) = tlp {
        m.insert("tlp".into(), json!(validate::tlp(TYPE, "tlp", t)?));
    }
    if let Some(p) = pap {
        m.insert("pap".into(), json!(validate::tlp(TYPE, "pap", p)?));
    }
    if let Some(t) = tags {
        m.insert("tags".into(), json!(validate::tags(TYPE, t)?));
    }
    if let Some(t) = case_template {
        m.insert("caseTemplate".into(), case_template_name(t)?.map(Value::String).unwrap_or(Value::Null));
    }
    if let Some(l) = link {
        m.insert("externalLink".into(), external_link(l)?.map(Value::String).unwrap_or(Value::Null));
    }
    if let Some(d) = last_sync {
        m.insert("lastSyncDate".into(), json!(validate::date(TYPE, "lastSyncDate", d)?));
    }
    Ok(m)
}

async fn checked_custom_fields(state: &AppState, store: &OrgStore, cf: Option<&CustomFields>) -> Result<Option<CustomFields>> {
    match cf {
        Some(cf) if !cf.is_empty() => {
            let mut cf = cf.clone();
            custom_field::check_values(state, store, TYPE, &mut cf, false).await?;
            Ok(Some(cf))
        }
        Some(_) => Ok(Some(CustomFields::new())),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------
// Creation

/// What creating an alert did.
#[derive(Debug)]
pub enum Created {
    /// A new alert.
    New(Alert),
    /// The alert existed and was updated (upsert).
    Updated(Alert),
}

impl Created {
    pub fn alert(&self) -> &Alert {
        match self {
            Created::New(a) | Created::Updated(a) => a,
        }
    }
}

/// The conflict a duplicate gets: the existing alert comes with it (feeders read it).
fn duplicate(existing: &Alert) -> Error {
    Error::Conflict {
        message: format!(
            "An alert of type {} from {} with the reference {} already exists",
            existing.kind, existing.source, existing.source_ref
        ),
        object: serde_json::to_value(existing).ok(),
    }
}

/// Create an alert; `upsert` (or the source's setting) turns a duplicate into an update.
pub async fn create(state: &AppState, caller: &Caller, input: NewAlert, upsert: Option<bool>) -> Result<Created> {
    caller.require(Permission::ManageAlert, "create alerts")?;
    let store = caller.store(state);
    let now = crate::core::store::now_millis();
    let kind = key_part("type", &input.kind)?;
    let source = key_part("source", &input.source)?;
    let source_ref = key_part("sourceRef", &input.source_ref)?;
    let mut fields = scalar_fields(
        Some(&input.title),
        Some(input.description.as_deref().unwrap_or("")),
        Some(input.date.unwrap_or(now)),
        Some(input.severity.unwrap_or(2)),
        Some(input.tlp.unwrap_or(2)),
        Some(input.pap.unwrap_or(2)),
        Some(input.tags.as_deref().unwrap_or(&[])),
        input.case_template.as_deref(),
        input.external_link.as_deref(),
        input.last_sync_date,
    )?;
    if input.observables.len() > MAX_OBSERVABLES {
        return Err(attr("observables", "array", format!("an alert has at most {MAX_OBSERVABLES} observables, not {}", input.observables.len())));
    }
    let custom_fields = checked_custom_fields(state, &store, input.custom_fields.as_ref()).await?.unwrap_or_default();
    let (types, existing, source_upsert) = lookup(state, &store, &kind, &source, &source_ref, Lookup::IndexWhenReady).await?;
    let checked = check_observables(&input.observables, &types, state.settings.max_body_bytes, now)?;

    if let Some(existing) = existing {
        if !upsert.unwrap_or(source_upsert) {
            return Err(duplicate(&existing.alert));
        }
        return upsert_into(state, caller, &store, existing, fields, custom_fields, checked).await.map(Created::Updated);
    }

    let id = new_id();
    let (observables, files) = materialize(state, &id, checked, &HashSet::new()).await?;
    fields.retain(|_, v| !v.is_null());
    let mut doc = fields;
    doc.insert("type".into(), json!(kind));
    doc.insert("source".into(), json!(source));
    doc.insert("sourceRef".into(), json!(source_ref));
    doc.insert("status".into(), json!(AlertStatus::New));
    doc.insert("follow".into(), json!(input.follow.unwrap_or(true)));
    doc.insert("customFields".into(), json!(custom_fields));
    doc.insert("occurrences".into(), json!(1));
    doc.insert("lastOccurrence".into(), json!(now));
    doc.insert("observables".into(), Value::Array(observables.into_iter().map(Value::Object).collect()));
    doc.insert("rev".into(), json!(0));
    doc.insert("createdAt".into(), json!(now));
    doc.insert("createdBy".into(), json!(caller.login));

    let outcome = if files.is_empty() {
        state.service::<ingest::Ingest>().submit(state, caller, &id, doc.clone()).await
    } else {
        ingest::Outcome::Retry
    };
    match outcome {
        ingest::Outcome::Created => {}
        ingest::Outcome::Failed(e) => return Err(e),
        ingest::Outcome::Retry => {
            // Alone, in its own transaction: the alert may have been created meanwhile.
            if let Err(e) = create_single(state, caller, &store, &id, &doc, &files).await {
                // Nothing holds the files this alert brought (unless something else does).
                attachment::discard(state, files).await;
                if let Error::Conflict { .. } = e {
                    let (_, existing, source_upsert) = lookup(state, &store, &kind, &source, &source_ref, Lookup::Database).await?;
                    if let Some(existing) = existing {
                        if !upsert.unwrap_or(source_upsert) {
                            return Err(duplicate(&existing.alert));
                        }
                        let checked = check_observables(&input.observables, &types, state.settings.max_body_bytes, now)?;
                        let fields = doc_fields(&doc);
                        return upsert_into(state, caller, &store, existing, fields, custom_fields, checked).await.map(Created::Updated);
                    }
                }
                return Err(e);
            }
        }
    }
    let mut v = Value::Object(doc);
    v["id"] = json!(id);
    let alert: Alert = serde_json::from_value(v).map_err(|e| Error::Internal(anyhow::anyhow!("decoding a new alert: {e}")))?;
    tracing::debug!(alert = %alert.id, source = %alert.source, by = %caller.login, "alert created");
    Ok(Created::New(alert))
}

/// The updatable fields of a new alert's document (to upsert it after all).
fn doc_fields(doc: &Map<String, Value>) -> Map<String, Value> {
    const KEYS: &[&str] = &["title", "description", "date", "severity", "tlp", "pap", "tags", "caseTemplate", "externalLink", "lastSyncDate"];
    doc.iter().filter(|(k, _)| KEYS.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Create one alert in its own audited transaction.
async fn create_single(state: &AppState, caller: &Caller, store: &OrgStore, id: &str, doc: &Map<String, Value>, files: &[StoredFile]) -> Result<()> {
    let mut tx = Tx::new(caller);
    let (vid, vdoc) = (tx.bind(id), tx.bind(doc));
    tx.push(format!("LET $alert = (CREATE type::record('alert', {vid}) CONTENT object::extend({vdoc}, {{ org: $org }}) RETURN AFTER)[0]"));
    tx.push(COUNT_NEW_ALERT);
    tx.audit(AuditOperation::Creation, TYPE, &vid, &vid, &vdoc, None, Some("$alert"));
    for f in files {
        attachment::register(&mut tx, f);
    }
    tx.run(state, store).await?;
    Ok(())
}

/// A feeder sent an existing alert again, with upsert: it is updated, its new observables
/// added, the occurrence counted.
async fn upsert_into(
    state: &AppState,
    caller: &Caller,
    store: &OrgStore,
    existing: Stored,
    fields: Map<String, Value>,
    custom_fields: CustomFields,
    checked: Vec<CheckedObservable>,
) -> Result<Alert> {
    let present: HashSet<(String, String)> = existing.alert.observables.iter().map(AlertObservable::identity).collect();
    let (new_obs, files) = materialize(state, &existing.alert.id, checked, &present).await?;
    let mut current = existing;
    let mut attempt = 0;
    let result = loop {
        attempt += 1;
        let change = Change {
            fields: fields.clone(),
            custom_fields: Some(custom_fields.clone()),
            observables: new_obs.clone(),
            files: files.clone(),
            occurrence: true,
            ..Default::default()
        };
        match commit_change(state, caller, store, &current, change).await {
            Err(Error::Conflict { object: None, .. }) if attempt < ATTEMPTS => match load_or_404(store, &current.alert.id).await {
                Ok(c) => current = c,
                Err(e) => break Err(e),
            },
            other => break other,
        }
    };
    if result.is_err() {
        attachment::discard(state, files).await;
    }
    result
}

// ---------------------------------------------------------------------------------------------
// Changes

/// A change to one alert, validated.
#[derive(Debug, Default, Clone)]
struct Change {
    /// New values of scalar fields (only those that may differ).
    fields: Map<String, Value>,
    /// Merged into the alert's custom fields.
    custom_fields: Option<CustomFields>,
    /// Observable documents to add (already without the alert's identities).
    observables: Vec<Map<String, Value>>,
    /// Files of those observables.
    files: Vec<StoredFile>,
    /// Replace the observables list (an observable changed or removed).
    replace_observables: Option<Vec<AlertObservable>>,
    /// The feeder sent it again.
    occurrence: bool,
    /// A status change (read/unread, import).
    status: Option<AlertStatus>,
}

/// Guard a transaction on the alert's revision: a concurrent change makes it a conflict without
/// an object, and the service recomputes.
fn push_guard(tx: &mut Tx, current: &Stored) {
    let (vid, vrev) = (tx.bind(&current.alert.id), tx.bind(current.rev));
    tx.push(format!(
        "IF ((SELECT VALUE rev ?? 0 FROM type::record('alert', {vid}) WHERE org = $org)[0] ?? -1) != {vrev} \
         {{ THROW 'waggle:conflict: the alert changed meanwhile' }}"
    ));
}

/// Apply `change` to `current` in one audited transaction; nothing to change: the alert as it
/// is. A revision conflict answers `Conflict` without an object (recompute and retry).
async fn commit_change(state: &AppState, caller: &Caller, store: &OrgStore, current: &Stored, change: Change) -> Result<Alert> {
    let mut tx = Tx::new(caller);
    let (patch, files) = plan_change(caller, current, change, tx.now())?;
    let Some(patch) = patch else { return Ok(current.alert.clone()) };
    push_guard(&mut tx, current);
    for f in &files {
        attachment::register(&mut tx, f);
    }
    let idx = tx.update_record(TABLE, TYPE, &current.alert.id, &Value::Object(patch), false);
    let v: Value = tx.run(state, store).await?.one(idx)?.ok_or_else(|| Error::not_found("alert", &current.alert.id))?;
    Ok(decode(v)?.alert)
}

/// The patch `change` makes on `current` (`None`: nothing changes) and the files to register.
fn plan_change(caller: &Caller, current: &Stored, change: Change, now: i64) -> Result<(Option<Map<String, Value>>, Vec<StoredFile>)> {
    let a = &current.alert;
    let mut m = change.fields;
    crate::core::audit::keep_changes(a, &mut m);
    if let Some(cf) = change.custom_fields {
        let mut all = a.custom_fields.clone();
        all.extend(cf);
        if all != a.custom_fields {
            m.insert("customFields".into(), json!(all));
        }
    }
    let mut observables: Option<Vec<Value>> = change.replace_observables.map(|l| l.iter().map(|o| json!(o)).collect());
    if !change.observables.is_empty() {
        let mut list: Vec<Value> = observables.take().unwrap_or_else(|| a.observables.iter().map(|o| json!(o)).collect());
        list.extend(change.observables.into_iter().map(Value::Object));
        if list.len() > MAX_OBSERVABLES {
            return Err(attr("observables", "array", format!("an alert has at most {MAX_OBSERVABLES} observables")));
        }
        observables = Some(list);
    }
    if let Some(list) = observables {
        m.insert("observables".into(), Value::Array(list));
    }
    let content_changed = m.keys().any(|k| !matches!(k.as_str(), "follow" | "caseTemplate"));
    if change.occurrence {
        m.insert("occurrences".into(), json!(a.occurrences + 1));
        m.insert("lastOccurrence".into(), json!(now));
    }
    let follow = m.get("follow").and_then(Value::as_bool).unwrap_or(a.follow);
    let status = match change.status {
        Some(s) => Some(s),
        // A followed alert that changes after triage asks for attention again.
        None if (content_changed || change.occurrence) && follow && a.status != AlertStatus::New => Some(AlertStatus::Updated),
        None => None,
    };
    if let Some(s) = status.filter(|s| *s != a.status) {
        m.insert("status".into(), json!(s));
    }
    if m.is_empty() {
        return Ok((None, Vec::new()));
    }
    m.insert("rev".into(), json!(current.rev + 1));
    m.insert("updatedAt".into(), json!(now));
    m.insert("updatedBy".into(), json!(caller.login));
    Ok((Some(m), change.files))
}

/// Run `make` on the current alert and commit what it returns, recomputing when the alert
/// changed meanwhile.
async fn change_with<F>(state: &AppState, caller: &Caller, id: &str, mut make: F) -> Result<Alert>
where
    F: FnMut(&Stored) -> Result<Change>,
{
    let store = caller.store(state);
    let mut current = load_or_404(&store, id).await?;
    for attempt in 0.. {
        let change = make(&current)?;
        match commit_change(state, caller, &store, &current, change).await {
            Err(Error::Conflict { object: None, .. }) if attempt + 1 < ATTEMPTS => current = load_or_404(&store, id).await?,
            other => return other,
        }
    }
    unreachable!("the loop returns")
}

/// Change an alert: the given fields; observables are added (those it has are kept once);
/// custom fields are merged. A followed alert changed after triage becomes Updated.
pub async fn update(state: &AppState, caller: &Caller, id: &str, patch: AlertPatch) -> Result<Alert> {
    caller.require(Permission::ManageAlert, "change alerts")?;
    let store = caller.store(state);
    let now = crate::core::store::now_millis();
    let fields = scalar_fields(
        patch.title.as_deref(),
        patch.description.as_deref(),
        patch.date,
        patch.severity,
        patch.tlp,
        patch.pap,
        patch.tags.as_deref(),
        patch.case_template.as_deref(),
        patch.external_link.as_deref(),
        patch.last_sync_date,
    )?;
    let mut fields = fields;
    if let Some(f) = patch.follow {
        fields.insert("follow".into(), json!(f));
    }
    let custom_fields = checked_custom_fields(state, &store, patch.custom_fields.as_ref()).await?;
    let current = load_or_404(&store, id).await?;
    let (new_obs, files) = match patch.observables.as_deref() {
        Some(list) if !list.is_empty() => {
            let types = data_types(state, &store).await?;
            let checked = check_observables(list, &types, state.settings.max_body_bytes, now)?;
            let present: HashSet<(String, String)> = current.alert.observables.iter().map(AlertObservable::identity).collect();
            materialize(state, &current.alert.id, checked, &present).await?
        }
        _ => (Vec::new(), Vec::new()),
    };
    let result = change_with(state, caller, &current.alert.id, |cur| {
        // Observables another change added meanwhile are not added twice.
        let present: HashSet<(String, String)> = cur.alert.observables.iter().map(AlertObservable::identity).collect();
        Ok(Change {
            fields: fields.clone(),
            custom_fields: custom_fields.clone(),
            observables: new_obs.iter().filter(|d| !present.contains(&identity(d))).cloned().collect(),
            files: files.clone(),
            ..Default::default()
        })
    })
    .await;
    if result.is_err() {
        attachment::discard(state, files).await;
    }
    result
}

/// Change several alerts the same way; each succeeds or fails on its own.
pub async fn bulk_update(state: &AppState, caller: &Caller, ids: &[String], patch: AlertPatch) -> Vec<(String, Result<Alert>)> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push((id.clone(), update(state, caller, id, patch.clone()).await));
    }
    out
}

/// Mark as read (Imported when the alert has a case, Ignored otherwise).
pub async fn mark_read(state: &AppState, caller: &Caller, id: &str) -> Result<Alert> {
    caller.require(Permission::ManageAlert, "change alerts")?;
    change_with(state, caller, id, |cur| Ok(Change { status: Some(AlertStatus::read(cur.alert.case_id.is_some())), ..Default::default() })).await
}

/// Mark as unread (Updated when the alert has a case, New otherwise).
pub async fn mark_unread(state: &AppState, caller: &Caller, id: &str) -> Result<Alert> {
    caller.require(Permission::ManageAlert, "change alerts")?;
    change_with(state, caller, id, |cur| Ok(Change { status: Some(AlertStatus::unread(cur.alert.case_id.is_some())), ..Default::default() }))
        .await
}

pub async fn set_follow(state: &AppState, caller: &Caller, id: &str, follow: bool) -> Result<Alert> {
    caller.require(Permission::ManageAlert, "change alerts")?;
    change_with(state, caller, id, |_| {
        let mut fields = Map::new();
        fields.insert("follow".into(), json!(follow));
        Ok(Change { fields, ..Default::default() })
    })
    .await
}

/// Unlink an alert from the case it was imported into or merged with (TheHive 5): it goes
/// back to triage as New; the case keeps what the alert brought.
pub async fn unlink_case(state: &AppState, caller: &Caller, alert_id: &str, case_id: &str) -> Result<Alert> {
    caller.require(Permission::ManageAlert, "change alerts")?;
    let case = crate::domain::case::get(state, caller, case_id).await?.id;
    change_with(state, caller, alert_id, |cur| {
        if cur.alert.case_id.as_deref() != Some(case.as_str()) {
            return Err(Error::BadRequest(format!("Alert {} is not linked to case {case_id}", cur.alert.id)));
        }
        let mut fields = Map::new();
        fields.insert("case".into(), Value::Null);
        Ok(Change { fields, status: Some(AlertStatus::unread(false)), ..Default::default() })
    })
    .await
}

/// Remove an alert for good (its case, if any, stays).
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    caller.require(Permission::ManageAlert, "delete alerts")?;
    let store = caller.store(state);
    let current = load_or_404(&store, id).await?;
    let mut tx = Tx::new(caller);
    tx.delete_record(TABLE, TYPE, &current.alert.id, false);
    // Its comments go with it.
    let vid = tx.bind(&current.alert.id);
    tx.push(format!("DELETE comment WHERE org = $org AND parent = {vid}"));
    tx.push(format!("DELETE procedure WHERE org = $org AND parent = {vid}"));
    tx.push(format!("DELETE attached_file WHERE org = $org AND parent = {vid}"));
    tx.run(state, &store).await?;
    Ok(())
}

/// Apply `one` to each alert of `ids`; each succeeds or fails on its own.
pub async fn each<'a, F, Fut, T>(ids: &'a [String], one: F) -> Vec<(String, Result<T>)>
where
    F: Fn(&'a str) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push((id.clone(), one(id).await));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Observables of an alert

/// Add observables to an alert; one it already has is a conflict.
pub async fn add_observables(state: &AppState, caller: &Caller, alert_id: &str, list: Vec<NewAlertObservable>) -> Result<Vec<AlertObservable>> {
    add_observables_with(state, caller, alert_id, list, None).await
}

/// Add an uploaded file as an observable of an alert (`meta`: its data type and attributes).
pub async fn add_file_observable(state: &AppState, caller: &Caller, alert_id: &str, meta: NewAlertObservable, file: StoredFile) -> Result<Vec<AlertObservable>> {
    add_observables_with(state, caller, alert_id, vec![meta], Some(file)).await
}

/// Whether the caller may add observables to this alert (checked before an upload is read).
pub async fn check_can_change(state: &AppState, caller: &Caller, alert_id: &str) -> Result<()> {
    caller.require(Permission::ManageAlert, "change alerts")?;
    load_or_404(&caller.store(state), alert_id).await.map(|_| ())
}

async fn add_observables_with(
    state: &AppState,
    caller: &Caller,
    alert_id: &str,
    list: Vec<NewAlertObservable>,
    upload: Option<StoredFile>,
) -> Result<Vec<AlertObservable>> {
    let uploaded = upload.clone();
    let result = add_observables_to(state, caller, alert_id, list, upload).await;
    if let (Err(_), Some(f)) = (&result, uploaded) {
        attachment::discard(state, vec![f]).await;
    }
    result
}

async fn add_observables_to(
    state: &AppState,
    caller: &Caller,
    alert_id: &str,
    list: Vec<NewAlertObservable>,
    upload: Option<StoredFile>,
) -> Result<Vec<AlertObservable>> {
    caller.require(Permission::ManageAlert, "change alerts")?;
    let store = caller.store(state);
    let now = crate::core::store::now_millis();
    if list.is_empty() {
        return Err(attr("observables", "array", "no observable given"));
    }
    let current = load_or_404(&store, alert_id).await?;
    let types = data_types(state, &store).await?;
    let checked = match upload {
        None => check_observables(&list, &types, state.settings.max_body_bytes, now)?,
        Some(file) => {
            // The file is the data: check the rest with a placeholder value.
            let meta = &list[0];
            if !types.get(meta.data_type.trim()).copied().unwrap_or(false) {
                return Err(attr("observables[0].dataType", "string", format!("{:?} is not a file type", meta.data_type.trim())));
            }
            let stand_in = NewAlertObservable { data: Some("stand-in;application/octet-stream;AA==".into()), ..meta.clone() };
            let mut c = check_observable(0, &stand_in, &types, usize::MAX, now)?;
            c.file = None;
            c.stored = Some(file);
            vec![c]
        }
    };
    let (docs, files) = materialize(state, &current.alert.id, checked, &HashSet::new()).await?;
    let ids: Vec<String> = docs.iter().filter_map(|d| d.get("id").and_then(Value::as_str).map(str::to_string)).collect();
    let changed = change_with(state, caller, &current.alert.id, |cur| {
        if let Some(o) = cur.alert.observables.iter().find(|o| docs.iter().any(|d| identity(d) == o.identity())) {
            return Err(Error::Conflict {
                message: format!("The {} observable {} is already in this alert", o.data_type, o.display_value()),
                object: serde_json::to_value(o).ok(),
            });
        }
        Ok(Change { observables: docs.clone(), files: files.clone(), ..Default::default() })
    })
    .await;
    let alert = match changed {
        Ok(a) => a,
        Err(e) => {
            attachment::discard(state, files).await;
            return Err(e);
        }
    };
    Ok(alert.observables.into_iter().filter(|o| ids.contains(&o.id)).collect())
}

/// Change one observable of an alert (message, TLP, tags, flags).
pub async fn update_observable(state: &AppState, caller: &Caller, observable_id: &str, patch: AlertObservablePatch) -> Result<(Alert, AlertObservable)> {
    caller.require(Permission::ManageAlert, "change alerts")?;
    let alert_id = alert_of_observable(observable_id).ok_or_else(|| Error::not_found("observable", observable_id))?;
    let message = patch.message.as_deref().map(|m| validate::text(TYPE, "message", m)).transpose()?;
    let tlp = patch.tlp.map(|t| validate::tlp(TYPE, "tlp", t)).transpose()?;
    let tags = patch.tags.as_deref().map(|t| validate::tags(TYPE, t)).transpose()?;
    let alert = change_with(state, caller, alert_id, |cur| {
        let mut list = cur.alert.observables.clone();
        let o = list.iter_mut().find(|o| o.id == observable_id).ok_or_else(|| Error::not_found("observable", observable_id))?;
        if let Some(m) = &message {
            o.message = Some(m.clone()).filter(|m| !m.is_empty());
        }
        if let Some(t) = tlp {
            o.tlp = t;
        }
        if let Some(t) = &tags {
            o.tags = t.clone();
        }
        if let Some(b) = patch.ioc {
            o.ioc = b;
        }
        if let Some(b) = patch.sighted {
            o.sighted = b;
        }
        if let Some(b) = patch.ignore_similarity {
            o.ignore_similarity = b;
        }
        let changed = list != cur.alert.observables;
        Ok(Change { replace_observables: changed.then_some(list), ..Default::default() })
    })
    .await?;
    let o = alert.observables.iter().find(|o| o.id == observable_id).cloned().ok_or_else(|| Error::not_found("observable", observable_id))?;
    Ok((alert, o))
}

/// Remove one observable from an alert.
pub async fn delete_observable(state: &AppState, caller: &Caller, observable_id: &str) -> Result<()> {
    caller.require(Permission::ManageAlert, "change alerts")?;
    let alert_id = alert_of_observable(observable_id).ok_or_else(|| Error::not_found("observable", observable_id))?;
    change_with(state, caller, alert_id, |cur| {
        if !cur.alert.observables.iter().any(|o| o.id == observable_id) {
            return Err(Error::not_found("observable", observable_id));
        }
        let list = cur.alert.observables.iter().filter(|o| o.id != observable_id).cloned().collect();
        Ok(Change { replace_observables: Some(list), ..Default::default() })
    })
    .await?;
    Ok(())
}

/// Whether `id` names an observable of an alert (`<alert>-<n>`) rather than of a case.
pub fn is_observable_id(id: &str) -> bool {
    alert_of_observable(id).is_some()
}

/// Set an analyzer's mini-report on an alert observable (a job of the analysis engine that
/// finished; the job checked the caller's right to analyse). The alert's status stays: a report
/// is not a change from its feeder.
pub async fn set_observable_report(state: &AppState, caller: &Caller, observable_id: &str, analyzer: &str, entry: Value) -> Result<()> {
    let alert_id = alert_of_observable(observable_id).ok_or_else(|| Error::not_found("observable", observable_id))?;
    change_with(state, caller, alert_id, |cur| {
        let mut list = cur.alert.observables.clone();
        let o = list.iter_mut().find(|o| o.id == observable_id).ok_or_else(|| Error::not_found("observable", observable_id))?;
        o.reports.insert(analyzer.to_string(), entry.clone());
        Ok(Change { replace_observables: Some(list), status: Some(cur.alert.status), ..Default::default() })
    })
    .await?;
    Ok(())
}

/// One observable of an alert, with its alert.
pub async fn get_observable(state: &AppState, caller: &Caller, observable_id: &str) -> Result<(Alert, AlertObservable)> {
    let alert_id = alert_of_observable(observable_id).ok_or_else(|| Error::not_found("observable", observable_id))?;
    let alert = load(&caller.store(state), alert_id).await?.ok_or_else(|| Error::not_found("observable", observable_id))?.alert;
    let o = alert.observables.iter().find(|o| o.id == observable_id).cloned().ok_or_else(|| Error::not_found("observable", observable_id))?;
    Ok((alert, o))
}

// ---------------------------------------------------------------------------------------------
// Sources

/// The sources with an ingestion setting.
pub async fn sources(state: &AppState, caller: &Caller) -> Result<Vec<AlertSource>> {
    let mut r = caller.store(state).query("SELECT * FROM alert_source WHERE org = $org ORDER BY source", vars! {}).await?;
    r.rows(0)
}

/// Every source of the organisation: the ones alerts came from (most alerts first) and the
/// ones with a setting, each with its setting (no setting: no upsert) and its alert count.
pub async fn source_summaries(state: &AppState, caller: &Caller) -> Result<Vec<AlertSourceSummary>> {
    let settings = sources(state, caller).await?;
    // The statistics index answers from memory: no scan of the alerts.
    let body = json!({"query": {}, "stats": [{"_agg": "field", "_field": "source", "_size": crate::core::stats::agg::MAX_SIZE, "_select": [{"_agg": "count"}]}]});
    let counts = crate::core::stats::stats(state, caller, Entity::Alert, &body).await?;
    let mut out: Vec<AlertSourceSummary> = counts
        .as_object()
        .into_iter()
        .flatten()
        .map(|(source, v)| AlertSourceSummary {
            source: source.clone(),
            upsert: false,
            alerts: v.get("count").and_then(Value::as_u64).unwrap_or(0),
            updated_at: None,
            updated_by: None,
        })
        .collect();
    for s in settings {
        match out.iter_mut().find(|o| o.source == s.source) {
            Some(o) => {
                o.upsert = s.upsert;
                o.updated_at = s.updated_at;
                o.updated_by = s.updated_by;
            }
            None => out.push(AlertSourceSummary { source: s.source, upsert: s.upsert, alerts: 0, updated_at: s.updated_at, updated_by: s.updated_by }),
        }
    }
    out.sort_by(|a, b| b.alerts.cmp(&a.alerts).then_with(|| a.source.to_lowercase().cmp(&b.source.to_lowercase())));
    Ok(out)
}

/// Set whether alerts sent again by `source` update the existing one (upsert).
pub async fn set_source(state: &AppState, caller: &Caller, source: &str, upsert: bool) -> Result<AlertSource> {
    caller.require(Permission::ManageAlert, "configure alert sources")?;
    let source = key_part("source", source)?;
    let store = caller.store(state);
    let mut tx = Tx::new(caller);
    let (vsrc, vup) = (tx.bind(&source), tx.bind(upsert));
    tx.push(format!(
        "LET $s = (UPSERT type::record('alert_source', [$org, {vsrc}]) CONTENT {{ org: $org, source: {vsrc}, upsert: {vup}, updatedAt: $now, updatedBy: $login }} RETURN AFTER)[0]"
    ));
    tx.audit(AuditOperation::Update, "alertSource", &vsrc, &vsrc, &format!("{{ upsert: {vup} }}"), None, Some("$s"));
    let idx = tx.push("$s");
    let mut r = tx.run(state, &store).await?;
    state.service::<Sources>().changed();
    r.one(idx)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("alert source not saved")))
}

/// Each source's upsert setting, in memory ([`set_source`] writes it and says so).
pub struct Sources(EpochCache<(String, String), bool>);

impl Service for Sources {
    fn make(_: &AppState) -> Self {
        Sources(EpochCache::new(std::time::Duration::from_secs(10), 100_000))
    }
}

impl Sources {
    /// Whether alerts from `source` are upserted (its setting; no setting: no).
    async fn upserts(&self, store: &OrgStore, source: &str) -> Result<bool> {
        let key = (store.org_id().to_string(), source.to_string());
        let load = async {
            let mut r = store
                .query("SELECT VALUE `upsert` FROM type::record('alert_source', [$org, $s]) WHERE org = $org", vars! { "s" => source })
                .await?;
            Ok(Some(r.one::<Value>(0)?.and_then(|v| v.as_bool()).unwrap_or(false)))
        };
        Ok(self.0.get_or_load(&key, load).await?.unwrap_or(false))
    }

    fn changed(&self) {
        self.0.changed();
    }
}

/// Other Waggle processes on the same database: their source settings reach this one's memory
/// through the change feed (see [`crate::core::cache`]).
pub fn follow_other_instances(state: &AppState) {
    let sources = state.service::<Sources>();
    state.stats.watch("alert_source", move |_| sources.changed());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types() -> DataTypes {
        HashMap::from([("ip".to_string(), false), ("file".to_string(), true)])
    }

    #[test]
    fn observables_are_checked() {
        let ok = NewAlertObservable { data_type: "ip".into(), data: Some(" 1.2.3.4 ".into()), ..Default::default() };
        let c = check_observable(0, &ok, &types(), 1000, 5).unwrap();
        assert_eq!(c.doc["data"], "1.2.3.4");
        assert_eq!(c.doc["tlp"], 2);
        assert_eq!(c.doc["startDate"], 5);
        let unknown = NewAlertObservable { data_type: "colour".into(), data: Some("red".into()), ..Default::default() };
        assert!(matches!(check_observable(0, &unknown, &types(), 1000, 5), Err(Error::Attributes { .. })));
        let empty = NewAlertObservable { data_type: "ip".into(), data: Some("  ".into()), ..Default::default() };
        assert!(check_observable(0, &empty, &types(), 1000, 5).is_err());
        let file = NewAlertObservable { data_type: "file".into(), data: Some("a.txt;text/plain;aGVsbG8=".into()), ..Default::default() };
        let c = check_observable(0, &file, &types(), 1000, 5).unwrap();
        assert_eq!(c.file.unwrap().2, b"hello");
        for bad in ["a.txt;text/plain;!!!", "a.txt;text/plain;", "no-separators", ";text/plain;aGVsbG8="] {
            let f = NewAlertObservable { data_type: "file".into(), data: Some(bad.into()), ..Default::default() };
            assert!(matches!(check_observable(0, &f, &types(), 1000, 5), Err(Error::Attributes { .. })), "{bad}");
        }
        let big = NewAlertObservable { data_type: "file".into(), data: Some(format!("a;b;{}", "QUFB".repeat(100))), ..Default::default() };
        assert!(matches!(check_observable(0, &big, &types(), 100, 5), Err(Error::TooLarge(_))));
    }

    #[test]
    fn observable_ids_lead_to_their_alert() {
        let k = observable_key();
        assert_eq!(k.len(), 10);
        assert_eq!(alert_of_observable(&format!("01abc-{k}")), Some("01abc"));
        assert_eq!(alert_of_observable("nothing"), None);
    }
}
