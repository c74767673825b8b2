//! Statistics: TheHive's `_stats` aggregations over cases, tasks, logs, observables, alerts,
//! analyzer jobs and audit, always within the caller's organisation.
//!
//! They are answered from an in-memory columnar index ([`index::StatsIndex`]) kept current from
//! SurrealDB's change feed. What the index cannot decide by itself (free-text conditions, custom
//! fields) is asked to the database first and comes back as a set of ids; a table the index has
//! not loaded yet (right after a start) or a custom field to group by is read from the database
//! for this request only. The answer is the same either way; only the time differs.

pub mod agg;
pub mod columns;
pub mod eval;
pub mod index;
pub mod keys;
pub mod snapshot;
pub mod values;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use app::model::{Permission, Profile};
use serde_json::{Map, Value, json};

use agg::Agg;
use columns::{ColKind, TableIndex};
use eval::{TOP_KEYS, Tables, View};
use index::IndexData;

use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::query::{self, Entity, Filter, Params};
use crate::core::state::AppState;
use crate::core::store::{OrgStore, record_key};
use crate::vars;

/// Room in a per-slot vector for `n` values. It grows by an eighth, not double: an index
/// loaded from its snapshot holds vectors of exactly their length, and a first new record
/// doubling every alert column would cost ~100 MiB never used at a million alerts
/// (docs/benchmarks.md, "Memory"). Amortised, a value is copied ~8 times as a vector grows.
fn reserve_for<T>(v: &mut Vec<T>, n: usize) {
    if v.capacity() < n {
        v.reserve_exact(n - v.len() + n / 8 + 1024);
    }
}

/// `v` made at least `n` long, the new places `fill`, growing as [`reserve_for`] does.
fn extend_to<T: Clone>(v: &mut Vec<T>, n: usize, fill: T) {
    if v.len() < n {
        reserve_for(v, n);
        v.resize(n, fill);
    }
}

/// Who may compute statistics over an entity. Tenant data is for members of the organisation;
/// platform administrators (the `admin` organisation) hold none; audit is for organisation
/// administrators.
pub fn check_readable(caller: &Caller, entity: Entity) -> Result<()> {
    if caller.profile == Profile::Admin {
        return Err(Error::forbidden(&format!("read {} statistics from the platform administration organisation", entity.v0_type())));
    }
    check_entity(entity)?;
    match entity {
        Entity::Audit => caller.require(Permission::ManageUser, "read audit statistics"),
        _ => Ok(()),
    }
}

/// Whether statistics exist for an entity at all.
pub fn check_entity(entity: Entity) -> Result<()> {
    match entity {
        Entity::Case | Entity::Task | Entity::Log | Entity::Observable | Entity::Alert | Entity::Job | Entity::Audit => Ok(()),
        Entity::CaseTemplate | Entity::Dashboard | Entity::Analyzer => Err(Error::BadRequest(format!("There are no statistics on {}", entity.v0_type()))),
    }
}

/// The v0 model names `_stats` accepts (`POST /api/<model>/_stats`, `model` in `/api/_stats`).
pub fn entity_of_model(model: &str) -> Result<Entity> {
    let e = match model.trim_matches('/') {
        "case" => Entity::Case,
        "case/task" | "case_task" | "task" => Entity::Task,
        "case/task/log" | "case_task_log" | "log" => Entity::Log,
        "case/artifact" | "case_artifact" | "observable" | "artifact" => Entity::Observable,
        "alert" => Entity::Alert,
        "connector/cortex/job" | "case_artifact_job" | "job" => Entity::Job,
        "audit" => Entity::Audit,
        other => return Err(Error::BadRequest(format!("Unknown model {other}"))),
    };
    Ok(e)
}

/// A statistics request: a filter and aggregations over one entity.
#[derive(Debug, Clone)]
pub struct Request {
    pub entity: Entity,
    pub filter: Filter,
    pub aggs: Vec<Agg>,
}

impl Request {
    /// From TheHive's body `{"query": Q, "stats": [AGG...]}`.
    pub fn parse(entity: Entity, body: &Value) -> Result<Request> {
        let body = body.as_object().ok_or_else(|| Error::BadRequest("The body must be a JSON object".into()))?;
        let filter = query::parse(body.get("query").unwrap_or(&Value::Null), entity)?;
        let aggs = agg::parse_list(body.get("stats"), entity)?;
        if aggs.is_empty() {
            return Err(Error::BadRequest("stats must list at least one aggregation".into()));
        }
        Ok(Request { entity, filter, aggs })
    }
}

/// `POST /api/<model>/_stats`.
pub async fn stats(state: &AppState, caller: &Caller, entity: Entity, body: &Value) -> Result<Value> {
    check_readable(caller, entity)?;
    let req = Request::parse(entity, body)?;
    run(state, caller, req).await.map(Value::Object)
}

/// `POST /api/_stats`: `{"query"?: Q, "stats": [{"model", "query", "stats"}]}`; the results of
/// every model merged into one object (series of a multi-line chart name their aggregations
/// apart: `agg_1`, `agg_2`...). The outer `query` applies to every model it is valid for.
pub async fn global_stats(state: &AppState, caller: &Caller, body: &Value) -> Result<Value> {
    let b = body.as_object().ok_or_else(|| Error::BadRequest("The body must be a JSON object".into()))?;
    let items = b
        .get("stats")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::BadRequest("stats must list {model, query, stats} objects".into()))?;
    if items.len() > 50 {
        return Err(Error::BadRequest("At most 50 models per request".into()));
    }
    let mut out = Map::new();
    for item in items {
        let model = item
            .get("model")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::BadRequest("Each item of stats needs a model".into()))?;
        let entity = entity_of_model(model)?;
        check_readable(caller, entity)?;
        let mut req = Request::parse(entity, item)?;
        if let Some(q) = b.get("query").filter(|q| !q.is_null()) {
            if let Ok(outer) = query::parse(q, entity) {
                req.filter = Filter::And(vec![outer, req.filter]);
            }
        }
        for (k, v) in run(state, caller, req).await? {
            eval::merge_into(&mut out, k, v);
        }
    }
    Ok(Value::Object(out))
}

/// Run a parsed request for the caller's organisation.
pub async fn run(state: &AppState, caller: &Caller, req: Request) -> Result<Map<String, Value>> {
    check_readable(caller, req.entity)?;
    run_for(state, &caller.store(state), req).await
}

/// Run a request in one organisation (the store handle decides which).
pub async fn run_for(state: &AppState, store: &OrgStore, req: Request) -> Result<Map<String, Value>> {
    let index = &state.stats;
    index.catch_up().await?;
    let org = store.org_id().to_string();
    let entity = req.entity;

    // 1. What the index cannot decide, the database answers (as ids).
    let filter = resolve(store, req.filter, entity).await?;
    let mut aggs = Vec::with_capacity(req.aggs.len());
    for a in req.aggs {
        aggs.push(resolve_agg(store, a, entity).await?);
    }

    // 2. Tables read from the database for this request: not loaded yet, or custom fields.
    let mut extra: Vec<(String, ColKind)> = Vec::new();
    for a in &aggs {
        extra_columns(a, &mut extra);
    }
    let spec = columns::TableSpec::for_entity(entity);
    extra.retain(|(p, k)| spec.columns.iter().all(|(q, j)| !(p == q && k == j)));
    let mut involved = vec![entity];
    related(&filter, &mut involved);
    for a in &aggs {
        agg_related(a, &mut involved);
    }
    let mut temps: HashMap<Entity, TableIndex> = HashMap::new();
    {
        let loaded: Vec<Entity> = {
            let d = index.read();
            involved.iter().copied().filter(|e| d.loaded.contains(e)).collect()
        };
        for e in involved {
            let needs_extra = e == entity && !extra.is_empty();
            if !loaded.contains(&e) || needs_extra {
                let cols = if e == entity { extra.clone() } else { Vec::new() };
                temps.insert(e, load_temp(store, e, &cols).await?);
            }
        }
    }

    // 3. Evaluate in memory.
    let mut result = {
        let d = index.read();
        let tables = Merged { live: &d, temps: &temps };
        let view = View::of(&tables, entity, &org)?;
        let pred = eval::compile(&filter, &view, &tables, &org)?;
        let sel = eval::select(&view, &pred);
        eval::run(&aggs, &view, &tables, &org, &sel)?
    };

    // 4. `top` documents come from the database.
    let mut keys = Vec::new();
    collect_top_keys(&Value::Object(result.clone()), &mut keys);
    if !keys.is_empty() {
        let docs = fetch_docs(store, entity, &keys).await?;
        let mut v = Value::Object(std::mem::take(&mut result));
        fill_top(&mut v, &docs);
        if let Value::Object(m) = v {
            result = m;
        }
    }
    Ok(result)
}

/// A page of a list answered by the index: the record keys in order and how many match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    pub keys: Vec<String>,
    pub total: u64,
}

/// The keys of the records of `entity` matching `filter` at positions `from..from + limit` in
/// `sort` order, and how many match, from the index alone. `None` when the index cannot answer
/// exactly as the database would: not loaded yet, behind the change feed, a condition it cannot
/// decide (free text, custom fields), or a sort on a field it does not hold. The caller then asks
/// the database.
pub async fn list_page(state: &AppState, store: &OrgStore, entity: Entity, filter: &Filter, sort: &[query::Sort], from: usize, limit: usize) -> Result<Option<ListPage>> {
    if !eval::supported(filter, entity) {
        return Ok(None);
    }
    let index = &state.stats;
    // Read-your-writes: everything acknowledged before this request is in the answer.
    if !index.catch_up().await? {
        return Ok(None);
    }
    let mut involved = vec![entity];
    related(filter, &mut involved);
    let d = index.read();
    if !involved.iter().all(|e| d.loaded.contains(e)) {
        return Ok(None);
    }
    let org = store.org_id();
    let view = View::of(&*d, entity, org)?;
    let Some(order) = eval::list_order(&view, sort) else { return Ok(None) };
    let pred = eval::compile(filter, &view, &*d, org)?;
    let sel = eval::select(&view, &pred);
    let total = sel.len() as u64;
    index.count_list();
    Ok(Some(ListPage { keys: eval::page_keys(&view, sel, &order, from, limit), total }))
}

struct Merged<'a> {
    live: &'a IndexData,
    temps: &'a HashMap<Entity, TableIndex>,
}

impl Tables for Merged<'_> {
    fn table(&self, e: Entity) -> Option<&TableIndex> {
        self.temps.get(&e).or_else(|| self.live.table(e))
    }
}

fn related(f: &Filter, out: &mut Vec<Entity>) {
    match f {
        Filter::And(v) | Filter::Or(v) => v.iter().for_each(|x| related(x, out)),
        Filter::Not(x) => related(x, out),
        Filter::Parent(e, q) | Filter::Child(e, q) => {
            if !out.contains(e) {
                out.push(*e);
            }
            related(q, out);
        }
        _ => {}
    }
}

fn agg_related(a: &Agg, out: &mut Vec<Entity>) {
    match a {
        Agg::Count { query: Some(q), .. } | Agg::Metric { query: Some(q), .. } | Agg::Top { query: Some(q), .. } => related(q, out),
        Agg::Field { select, .. } | Agg::Time { select, .. } => select.iter().for_each(|x| agg_related(x, out)),
        Agg::Category { categories, select, .. } => {
            categories.iter().for_each(|(_, q)| related(q, out));
            select.iter().for_each(|x| agg_related(x, out));
        }
        _ => {}
    }
}

/// Columns an aggregation needs beyond the index's (custom fields, nested values).
fn extra_columns(a: &Agg, out: &mut Vec<(String, ColKind)>) {
    let mut push = |p: &str, k: ColKind| {
        if !out.iter().any(|(q, j)| q == p && *j == k) {
            out.push((p.to_string(), k));
        }
    };
    match a {
        Agg::Metric { field, .. } if field.kind == query::FieldKind::Object => push(&field.path, ColKind::Num),
        Agg::Field { field, select, .. } => {
            if field.kind == query::FieldKind::Object {
                push(&field.path, ColKind::Code);
            }
            select.iter().for_each(|x| extra_columns(x, out));
        }
        Agg::Time { select, .. } | Agg::Category { select, .. } => select.iter().for_each(|x| extra_columns(x, out)),
        _ => {}
    }
}

/// Read one organisation's records of `entity` from the database (with `extra` columns).
async fn load_temp(store: &OrgStore, entity: Entity, extra: &[(String, ColKind)]) -> Result<TableIndex> {
    let mut t = TableIndex::new(entity);
    for (p, k) in extra {
        t.spec.columns.push((p.clone(), *k));
        t.dicts.push(columns::Dict::default());
    }
    let sql = format!("SELECT {} FROM type::table($tb) WHERE org = $org", t.spec.projection());
    let mut r = store.query(&sql, vars! { "tb" => entity.table() }).await?;
    let rows: Vec<Value> = r.rows(0)?;
    for row in &rows {
        t.upsert(row);
    }
    Ok(t)
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// Replace every condition the index cannot decide with the ids the database finds.
fn resolve<'a>(store: &'a OrgStore, f: Filter, entity: Entity) -> Boxed<'a, Filter> {
    Box::pin(async move {
        if eval::supported(&f, entity) {
            return Ok(f);
        }
        Ok(match f {
            Filter::And(v) => {
                let mut out = Vec::with_capacity(v.len());
                for x in v {
                    out.push(resolve(store, x, entity).await?);
                }
                Filter::And(out)
            }
            Filter::Or(v) => {
                let mut out = Vec::with_capacity(v.len());
                for x in v {
                    out.push(resolve(store, x, entity).await?);
                }
                Filter::Or(out)
            }
            Filter::Not(x) => Filter::Not(Box::new(resolve(store, *x, entity).await?)),
            Filter::Parent(p, q) if columns::INDEXED.contains(&p) => Filter::Parent(p, Box::new(resolve(store, *q, p).await?)),
            Filter::Child(c, q) if columns::INDEXED.contains(&c) => Filter::Child(c, Box::new(resolve(store, *q, c).await?)),
            other => Filter::Ids(ids_from_db(store, &other, entity).await?),
        })
    })
}

async fn ids_from_db(store: &OrgStore, f: &Filter, entity: Entity) -> Result<Vec<String>> {
    let mut params = Params::new();
    let cond = query::compile(f, entity, &mut params)?;
    let sql = format!("SELECT VALUE record::id(id) FROM `{}` WHERE org = $org AND {cond}", entity.table());
    let mut r = store.query(&sql, params.vars).await?;
    let ids: Vec<Value> = r.rows(0)?;
    Ok(ids
        .into_iter()
        .map(|v| match v {
            Value::String(s) => s,
            other => other.to_string(),
        })
        .collect())
}

fn resolve_agg<'a>(store: &'a OrgStore, a: Agg, entity: Entity) -> Boxed<'a, Agg> {
    Box::pin(async move {
        let opt = |q: Option<Filter>| async move {
            match q {
                Some(q) => Ok::<_, Error>(Some(resolve(store, q, entity).await?)),
                None => Ok(None),
            }
        };
        let list = |v: Vec<Agg>| async move {
            let mut out = Vec::with_capacity(v.len());
            for x in v {
                out.push(resolve_agg(store, x, entity).await?);
            }
            Ok::<_, Error>(out)
        };
        Ok(match a {
            Agg::Count { name, query } => Agg::Count { name, query: opt(query).await? },
            Agg::Metric { op, name, field, query } => Agg::Metric { op, name, field, query: opt(query).await? },
            Agg::Top { name, size, sort, query } => Agg::Top { name, size, sort, query: opt(query).await? },
            Agg::Field { name, field, size, order, select } => Agg::Field { name, field, size, order, select: list(select).await? },
            Agg::Time { name, fields, interval, select } => Agg::Time { name, fields, interval, select: list(select).await? },
            Agg::Category { name, categories, select } => {
                let mut cats = Vec::with_capacity(categories.len());
                for (n, q) in categories {
                    cats.push((n, resolve(store, q, entity).await?));
                }
                Agg::Category { name, categories: cats, select: list(select).await? }
            }
        })
    })
}

fn collect_top_keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(keys)) = m.get(TOP_KEYS) {
                out.extend(keys.iter().filter_map(Value::as_str).map(str::to_string));
            } else {
                m.values().for_each(|x| collect_top_keys(x, out));
            }
        }
        _ => {}
    }
}

fn fill_top(v: &mut Value, docs: &HashMap<String, Value>) {
    if let Value::Object(m) = v {
        for (_, x) in m.iter_mut() {
            let keys = x.as_object().and_then(|o| o.get(TOP_KEYS)).and_then(Value::as_array).cloned();
            match keys {
                Some(keys) => {
                    *x = Value::Array(keys.iter().filter_map(Value::as_str).filter_map(|k| docs.get(k).cloned()).collect());
                }
                None => fill_top(x, docs),
            }
        }
    }
}

async fn fetch_docs(store: &OrgStore, entity: Entity, keys: &[String]) -> Result<HashMap<String, Value>> {
    let mut r = store
        .query(
            "SELECT * FROM array::map($keys, |$k| type::record($tb, $k)) WHERE org = $org",
            vars! { "keys" => keys, "tb" => entity.table() },
        )
        .await?;
    let rows: Vec<Value> = r.rows(0)?;
    Ok(rows
        .into_iter()
        .filter_map(|mut d| {
            let id = d.get("id").and_then(Value::as_str).map(|s| record_key(s).to_string())?;
            if let Value::Object(m) = &mut d {
                m.remove("org");
                m.insert("_id".into(), json!(id));
                m.insert("_type".into(), json!(entity.v0_type()));
            }
            Some((id, d))
        })
        .collect())
}
