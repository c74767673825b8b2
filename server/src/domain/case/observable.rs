//! Observables of a case (TheHive v0 calls them artifacts): a value (`data`) or a file of a
//! data type the organisation knows, with TLP, tags, a message and the IOC and sighted flags.
//!
//! Rules: the same data type and value (or the same file) is in a case at most once, a second
//! one is a conflict; a file type takes a file and other types a value; "seen" counts the other
//! live cases (not deleted, not merged away) holding the same value, ignoring observables marked
//! `ignoreSimilarity`.

use std::collections::HashSet;

use app::model::{AuditOperation, Case, NewObservables, Observable, ObservablePatch, ObservableStatus, Permission};
use serde_json::{Map, Value, json};

use crate::core::attachment::StoredFile;
use crate::core::audit::Tx;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::query::Entity;
use crate::core::search::{self, Page, Search};
use crate::core::state::AppState;
use crate::core::store::{OrgStore, Vars, new_id};
use crate::{domain::catalog::data_type, core::validate, vars};

pub const TYPE: &str = "case_artifact";
const TABLE: &str = "observable";
/// The longest value (bytes): values are indexed.
pub const MAX_DATA: usize = 16 * 1024;

/// What adding several values gave: the observables created, and the values refused with why.
#[derive(Debug, Default)]
pub struct Added {
    pub created: Vec<Observable>,
    pub failed: Vec<(String, Error)>,
}

pub async fn get_in(store: &OrgStore, id: &str) -> Result<Option<Observable>> {
    store.get(TABLE, id).await
}

pub async fn get(state: &AppState, caller: &Caller, id: &str) -> Result<Observable> {
    get_in(&caller.store(state), id).await?.ok_or_else(|| Error::not_found("observable", id))
}

/// The observables of a case, with their "seen in other cases" counts.
pub async fn list_for_case(state: &AppState, caller: &Caller, case_id: &str) -> Result<Vec<Observable>> {
    let store = caller.store(state);
    crate::domain::case::get(state, caller, case_id).await?;
    let mut r = store
        .query("SELECT * FROM observable WHERE org = $org AND case = $case ORDER BY createdAt DESC", vars! { "case" => case_id })
        .await?;
    let mut list: Vec<Observable> = r.rows(0)?;
    with_seen(&store, &mut list).await?;
    Ok(list)
}

pub async fn search(state: &AppState, caller: &Caller, search: &Search, seen: bool) -> Result<Page<Observable>> {
    let store = caller.store(state);
    let mut page: Page<Observable> = search::run(&store, Entity::Observable, search, true).await?;
    if seen {
        with_seen(&store, &mut page.items).await?;
    }
    Ok(page)
}

/// Validate observables to add (one per value, or the file) and make their documents
/// (without `case`, `org`, `id`).
pub(crate) async fn plan(state: &AppState, store: &OrgStore, caller: &Caller, input: &NewObservables, file: Option<&StoredFile>, now: i64) -> Result<Vec<Map<String, Value>>> {
    let dt_name = input.data_type.trim();
    let dt = data_type::find(state, store, dt_name)
        .await?
        .ok_or_else(|| Error::attribute(TYPE, "dataType", "string", format!("Unknown observable type {dt_name:?}")))?;
    let mut common = Map::new();
    common.insert("dataType".into(), json!(dt.name));
    if let Some(m) = input.message.as_deref().filter(|m| !m.is_empty()) {
        common.insert("message".into(), json!(validate::text(TYPE, "message", m)?));
    }
    common.insert("startDate".into(), json!(validate::date(TYPE, "startDate", input.start_date.unwrap_or(now))?));
    common.insert("tlp".into(), json!(validate::tlp(TYPE, "tlp", input.tlp.unwrap_or(2))?));
    common.insert("tags".into(), json!(validate::tags(TYPE, input.tags.as_deref().unwrap_or(&[]))?));
    common.insert("ioc".into(), json!(input.ioc.unwrap_or(false)));
    common.insert("sighted".into(), json!(input.sighted.unwrap_or(false)));
    common.insert("ignoreSimilarity".into(), json!(input.ignore_similarity.unwrap_or(false)));
    common.insert("status".into(), json!(ObservableStatus::Ok));
    common.insert("reports".into(), json!({}));
    common.insert("createdAt".into(), json!(now));
    common.insert("createdBy".into(), json!(caller.login));
    match file {
        Some(f) => {
            if !dt.is_attachment {
                return Err(Error::attribute(TYPE, "dataType", "string", format!("{} observables are values, not files", dt.name)));
            }
            if !input.data.is_empty() {
                return Err(Error::attribute(TYPE, "data", "string", "a file observable has no data"));
            }
            let mut d = common;
            d.insert("attachment".into(), json!(f.attachment()));
            Ok(vec![d])
        }
        None => {
            if dt.is_attachment {
                return Err(Error::attribute(TYPE, "attachment", "file", format!("{} observables are files: upload one", dt.name)));
            }
            if input.data.is_empty() {
                return Err(Error::attribute(TYPE, "data", "string", "data is required"));
            }
            let mut out = Vec::with_capacity(input.data.len());
            for v in &input.data {
                let v = v.trim();
                if v.is_empty() {
                    return Err(Error::attribute(TYPE, "data", "string", "data must not be empty"));
                }
                if v.len() > MAX_DATA || v.contains('\0') {
                    return Err(Error::attribute(TYPE, "data", "string", format!("data is at most {} KiB, without NUL", MAX_DATA / 1024)));
                }
                let mut d = common.clone();
                d.insert("data".into(), json!(v));
                out.push(d);
            }
            Ok(out)
        }
    }
}

/// The identity of an observable in its case: data type and value, or the file.
fn identity(d: &Map<String, Value>) -> (String, String) {
    let dt = d.get("dataType").and_then(Value::as_str).unwrap_or_default().to_string();
    match d.get("data").and_then(Value::as_str) {
        Some(v) => (dt, v.to_string()),
        None => (dt, d.get("attachment").and_then(|a| a.get("id")).and_then(Value::as_str).unwrap_or_default().to_string()),
    }
}

/// The same observable twice in one request is a conflict.
pub(crate) fn refuse_duplicates(docs: &[Map<String, Value>]) -> Result<()> {
    let mut seen = HashSet::new();
    for d in docs {
        let (dt, v) = identity(d);
        if !seen.insert((dt.clone(), v.clone())) {
            return Err(Error::Conflict { message: format!("The {dt} observable {v} is given twice"), object: None });
        }
    }
    Ok(())
}

/// Statements creating an observable of the case `case_expr` from a planned document, with
/// its audit entry; returns the result index of the new observable.
pub(crate) fn push_create(tx: &mut Tx, case_expr: &str, doc: &Map<String, Value>) -> usize {
    let vid = tx.bind(new_id());
    let vdoc = tx.bind(doc);
    tx.push(format!(
        "LET $obs = (CREATE type::record('observable', {vid}) CONTENT object::extend({vdoc}, {{ org: $org, case: {case_expr} }}) RETURN AFTER)[0]"
    ));
    tx.audit(AuditOperation::Creation, TYPE, &vid, case_expr, &format!("object::extend({vdoc}, {{ case: {case_expr} }})"), None, Some("$obs"));
    tx.push("$obs")
}

/// Observables already in `case_id` with the identities of `docs`.
async fn existing(store: &OrgStore, case_id: &str, docs: &[Map<String, Value>]) -> Result<Vec<Observable>> {
    let mut sql = String::new();
    let mut vars = Vars::new();
    vars.insert("case".into(), json!(case_id));
    for (i, d) in docs.iter().enumerate() {
        let (dt, v) = identity(d);
        vars.insert(format!("t{i}"), json!(dt));
        vars.insert(format!("d{i}"), json!(v));
        if d.contains_key("data") {
            sql.push_str(&format!("SELECT * FROM observable WHERE org = $org AND case = $case AND dataType = $t{i} AND data = $d{i};\n"));
        } else {
            sql.push_str(&format!("SELECT * FROM observable WHERE org = $org AND case = $case AND attachment.id = $d{i};\n"));
        }
    }
    if sql.is_empty() {
        return Ok(Vec::new());
    }
    let mut r = store.query(&sql, vars).await?;
    let mut out = Vec::new();
    for i in 0..docs.len() {
        out.extend(r.rows::<Observable>(i)?);
    }
    Ok(out)
}

fn conflict(o: &Observable) -> Error {
    Error::Conflict {
        message: format!("The {} observable {} already exists in this case", o.data_type, o.display_value()),
        object: serde_json::to_value(o).ok(),
    }
}

/// Add observables to a case: one per value (bulk add: one value per line). Values already in
/// the case (or given twice) are refused one by one; the others are created together.
///
/// Values are rarely in the case already, so the creation is tried first: the unique index
/// (org, case, dataType, data) refuses a value that is, and the transaction then changes
/// nothing. Only then are the present values looked up, reported, and the rest created.
pub async fn add(state: &AppState, caller: &Caller, case_id: &str, input: NewObservables) -> Result<Added> {
    caller.require(Permission::ManageObservable, "add observables")?;
    let store = caller.store(state);
    let (case_id, guard) = crate::domain::case::writable_id(&store, case_id).await?;
    let now = crate::core::store::now_millis();
    let docs = plan(state, &store, caller, &input, None, now).await?;
    let mut out = Added::default();
    let mut seen = HashSet::new();
    let mut keep = Vec::new();
    for d in docs {
        let (dt, v) = identity(&d);
        if seen.insert(v.clone()) {
            keep.push(d);
        } else {
            out.failed.push((v.clone(), Error::Conflict { message: format!("The {dt} observable {v} is given twice"), object: None }));
        }
    }
    match create_in(state, caller, &store, &case_id, guard, &keep).await {
        Err(Error::Conflict { .. }) => {}
        created => {
            out.created = created?;
            return Ok(out);
        }
    }
    let present = existing(&store, &case_id, &keep).await?;
    let mut fresh = Vec::new();
    for d in keep {
        let (dt, v) = identity(&d);
        match present.iter().find(|o| o.data_type == dt && o.data.as_deref() == Some(v.as_str())) {
            Some(o) => out.failed.push((v, conflict(o))),
            None => fresh.push(d),
        }
    }
    out.created = create_in(state, caller, &store, &case_id, guard, &fresh).await?;
    Ok(out)
}

/// Create planned observables in a case, in one transaction (one INSERT for them, one for
/// their audit entries); with `guard`, the transaction first checks that the case may change
/// ([`crate::domain::case::push_writable_guard`]).
async fn create_in(
    state: &AppState,
    caller: &Caller,
    store: &OrgStore,
    case_id: &str,
    guard: bool,
    docs: &[Map<String, Value>],
) -> Result<Vec<Observable>> {
    let mut tx = Tx::new(caller);
    if guard {
        let vcase = tx.bind(case_id);
        crate::domain::case::push_writable_guard(&mut tx, &vcase);
    }
    if docs.is_empty() {
        if guard {
            tx.run(state, store).await?;
        }
        return Ok(Vec::new());
    }
    let docs = docs
        .iter()
        .map(|d| {
            let mut d = d.clone();
            d.insert("case".into(), json!(case_id));
            d
        })
        .collect();
    let idx = tx.create_many(TABLE, TYPE, case_id, docs, store.org_id());
    tx.run(state, store).await?.rows(idx)
}

/// Add one value; a value already in the case is a conflict.
pub async fn add_one(state: &AppState, caller: &Caller, case_id: &str, input: NewObservables) -> Result<Observable> {
    let mut added = add(state, caller, case_id, input).await?;
    if let Some((_, e)) = added.failed.pop() {
        return Err(e);
    }
    added.created.pop().ok_or_else(|| Error::Internal(anyhow::anyhow!("observable not created")))
}

/// Whether the caller may add observables to this case (checked before an upload is read).
pub async fn check_can_add(state: &AppState, caller: &Caller, case_id: &str) -> Result<()> {
    caller.require(Permission::ManageObservable, "add observables")?;
    crate::domain::case::writable(&caller.store(state), case_id).await?;
    Ok(())
}

/// Add a file observable (the file was stored by [`crate::core::attachment`]; discarded if the
/// observable is not created).
pub async fn add_file(state: &AppState, caller: &Caller, case_id: &str, input: NewObservables, file: StoredFile) -> Result<Observable> {
    let created = add_stored_file(state, caller, case_id, input, &file).await;
    crate::core::attachment::discard_on_error(state, Some(file), created).await
}

async fn add_stored_file(state: &AppState, caller: &Caller, case_id: &str, input: NewObservables, file: &StoredFile) -> Result<Observable> {
    caller.require(Permission::ManageObservable, "add observables")?;
    let store = caller.store(state);
    let case = crate::domain::case::writable(&store, case_id).await?;
    let mut tx = Tx::new(caller);
    let docs = plan(state, &store, caller, &input, Some(file), tx.now()).await?;
    if let Some(o) = existing(&store, &case.id, &docs).await?.first() {
        return Err(conflict(o));
    }
    crate::core::attachment::register(&mut tx, file);
    let vcase = tx.bind(&case.id);
    let idx = push_create(&mut tx, &vcase, &docs[0]);
    tx.run(state, &store).await?.one(idx)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("observable not created")))
}

/// Change an observable's message, TLP, tags and flags. Nothing changes: no audit entry.
pub async fn update(state: &AppState, caller: &Caller, id: &str, patch: ObservablePatch) -> Result<Observable> {
    caller.require(Permission::ManageObservable, "change observables")?;
    let store = caller.store(state);
    let current = get_in(&store, id).await?.ok_or_else(|| Error::not_found("observable", id))?;
    crate::domain::case::writable(&store, &current.case_id).await?;
    let mut m = Map::new();
    if let Some(msg) = &patch.message {
        m.insert("message".into(), json!(validate::text(TYPE, "message", msg)?));
    }
    if let Some(t) = patch.tlp {
        m.insert("tlp".into(), json!(validate::tlp(TYPE, "tlp", t)?));
    }
    if let Some(t) = &patch.tags {
        m.insert("tags".into(), json!(validate::tags(TYPE, t)?));
    }
    for (k, v) in [("ioc", patch.ioc), ("sighted", patch.sighted), ("ignoreSimilarity", patch.ignore_similarity)] {
        if let Some(b) = v {
            m.insert(k.into(), json!(b));
        }
    }
    crate::core::audit::keep_changes(&current, &mut m);
    if m.is_empty() {
        return Ok(current);
    }
    let mut tx = Tx::new(caller);
    m.insert("updatedAt".into(), json!(tx.now()));
    m.insert("updatedBy".into(), json!(caller.login));
    let idx = tx.update_record(TABLE, TYPE, id, &Value::Object(m), true);
    tx.run(state, &store).await?.one(idx)?.ok_or_else(|| Error::not_found("observable", id))
}

/// Change several observables the same way (mark as IOC, sighted...); each on its own.
pub async fn bulk_update(state: &AppState, caller: &Caller, ids: &[String], patch: ObservablePatch) -> Vec<(String, Result<Observable>)> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push((id.clone(), update(state, caller, id, patch.clone()).await));
    }
    out
}

/// Remove an observable from its case.
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    caller.require(Permission::ManageObservable, "delete observables")?;
    let store = caller.store(state);
    let current = get_in(&store, id).await?.ok_or_else(|| Error::not_found("observable", id))?;
    crate::domain::case::writable(&store, &current.case_id).await?;
    let mut tx = Tx::new(caller);
    tx.delete_record(TABLE, TYPE, id, true);
    tx.run(state, &store).await?;
    Ok(())
}

pub async fn bulk_delete(state: &AppState, caller: &Caller, ids: &[String]) -> Vec<(String, Result<()>)> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push((id.clone(), delete(state, caller, id).await));
    }
    out
}

/// One statement per value `(dataType, data, file id)`, in order: `fields` of at most `limit`
/// observables of the organisation holding that value (or file), leaving out those marked
/// `ignoreSimilarity` (served by the `observable_value` and `observable_attachment` indexes).
pub(crate) fn same_value_queries<'a>(values: impl Iterator<Item = (&'a str, Option<&'a str>, Option<&'a str>)>, fields: &str, limit: usize) -> (String, Vars) {
    let mut sql = String::new();
    let mut vars = Vars::new();
    vars.insert("same_limit".into(), json!(limit));
    for (i, (data_type, data, file)) in values.enumerate() {
        let cond = match (data, file) {
            (Some(d), _) => {
                vars.insert(format!("t{i}"), json!(data_type));
                vars.insert(format!("d{i}"), json!(d));
                format!("dataType = $t{i} AND data = $d{i}")
            }
            (None, Some(f)) => {
                vars.insert(format!("d{i}"), json!(f));
                format!("attachment.id = $d{i}")
            }
            (None, None) => "false".to_string(),
        };
        sql.push_str(&format!("SELECT {fields} FROM observable WHERE org = $org AND {cond} AND (ignoreSimilarity ?? false) = false LIMIT $same_limit;\n"));
    }
    (sql, vars)
}

/// For each observable, the observables with the same value (or file) anywhere in the
/// organisation, itself excluded, ignoring those marked `ignoreSimilarity`.
pub async fn matches(store: &OrgStore, list: &[Observable]) -> Result<Vec<Vec<Observable>>> {
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let values = list.iter().map(|o| (o.data_type.as_str(), o.data.as_deref(), o.attachment.as_ref().map(|a| a.id.as_str())));
    let (sql, vars) = same_value_queries(values, "*", 1000);
    let mut r = store.query(&sql, vars).await?;
    let mut out = Vec::with_capacity(list.len());
    for (i, o) in list.iter().enumerate() {
        let rows: Vec<Observable> = r.rows(i)?;
        out.push(rows.into_iter().filter(|x| x.id != o.id).collect());
    }
    Ok(out)
}

/// The cases among `ids` that count for similarity: not deleted, not merged away.
pub async fn live_cases(store: &OrgStore, ids: &[String]) -> Result<Vec<Case>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut r = store
        .query(
            "SELECT * FROM array::map($ids, |$i| type::record('case', $i)) WHERE org = $org AND status != 'Deleted' \
             AND (resolutionStatus ?? '') != 'Duplicated'",
            vars! { "ids" => ids },
        )
        .await?;
    r.rows(0)
}

/// Fill `seen`: in how many other live cases each observable's value appears.
pub async fn with_seen(store: &OrgStore, list: &mut [Observable]) -> Result<()> {
    let found = matches(store, list).await?;
    let ids: Vec<String> = found.iter().flatten().map(|o| o.case_id.clone()).collect::<HashSet<_>>().into_iter().collect();
    let live: HashSet<String> = live_cases(store, &ids).await?.into_iter().map(|c| c.id).collect();
    for (o, others) in list.iter_mut().zip(found) {
        let cases: HashSet<&str> =
            others.iter().map(|x| x.case_id.as_str()).filter(|c| *c != o.case_id && live.contains(*c)).collect();
        o.seen = Some(if o.ignore_similarity { 0 } else { cases.len() as u64 });
    }
    Ok(())
}

/// The same value in other live cases: each match with its case.
pub async fn similar(state: &AppState, caller: &Caller, id: &str) -> Result<Vec<(Observable, Case)>> {
    let store = caller.store(state);
    let o = get_in(&store, id).await?.ok_or_else(|| Error::not_found("observable", id))?;
    let found = matches(&store, std::slice::from_ref(&o)).await?.into_iter().next().unwrap_or_default();
    let others: Vec<Observable> = found.into_iter().filter(|x| x.case_id != o.case_id).collect();
    let ids: Vec<String> = others.iter().map(|x| x.case_id.clone()).collect::<HashSet<_>>().into_iter().collect();
    let cases = live_cases(&store, &ids).await?;
    Ok(others
        .into_iter()
        .filter_map(|x| cases.iter().find(|c| c.id == x.case_id).cloned().map(|c| (x, c)))
        .collect())
}
