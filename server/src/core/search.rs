//! Searching an entity of the caller's organisation with the v0 query language: a page of
//! records and the total count. Every `_search` endpoint (and the UI's lists) goes through here,
//! so organisation scoping and parameter binding are in one place.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::core::error::{Error, Result};
use crate::core::query::{self, Entity, Filter, Params, Range, Sort};
use crate::core::state::AppState;
use crate::core::store::{OrgStore, Vars, counter};

/// A page of results and how many match in all.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    /// Whether `total` is exact (see [`Count::AtMost`]).
    pub exact: bool,
}

/// A parsed search: the filter, the sort keys and the page.
#[derive(Debug, Clone)]
pub struct Search {
    pub filter: Filter,
    pub sort: Vec<Sort>,
    pub range: Range,
}

impl Search {
    /// From v0 inputs: a JSON query, sort keys (`-createdAt`...) and a range (`0-10`, `all`).
    pub fn parse(entity: Entity, query: &Value, sort: &[String], range: Option<&str>) -> Result<Search> {
        Ok(Search { filter: query::parse(query, entity)?, sort: query::parse_sort(sort, entity)?, range: Range::parse(range)? })
    }

    /// Everything matching `filter`, in the entity's default order.
    pub fn all(filter: Filter) -> Search {
        Search { filter, sort: Vec::new(), range: Range { from: 0, to: None } }
    }
}

/// The descending twin of a date field, kept by the database (`createdDesc` = -createdAt on
/// cases and audit entries, `dateDesc` = -date on alerts) with indexes on it: newest-first
/// lists read those indexes forwards (migration 2 says why).
fn desc_twin(entity: Entity, path: &str) -> Option<&'static str> {
    match (entity, path) {
        (Entity::Case | Entity::Audit, "createdAt") => Some("createdDesc"),
        (Entity::Alert, "date") => Some("dateDesc"),
        _ => None,
    }
}

/// The order used when a search gives none.
fn default_order(entity: Entity) -> &'static str {
    match entity {
        Entity::Task => "ORDER BY `order` ASC, createdAt ASC",
        Entity::Log => "ORDER BY startDate DESC",
        Entity::CaseTemplate | Entity::Analyzer => "ORDER BY name ASC",
        Entity::Case | Entity::Audit => "ORDER BY createdDesc ASC",
        Entity::Alert => "ORDER BY dateDesc ASC",
        _ => "ORDER BY createdAt DESC",
    }
}

/// `ORDER BY` for sort keys, a descending date read from its twin where there is one.
fn order_by(entity: Entity, sort: &[Sort]) -> String {
    let keys: Vec<String> = sort
        .iter()
        .map(|s| match (desc_twin(entity, &s.field.path), s.descending) {
            (Some(twin), true) => format!("{twin} ASC"),
            _ => format!("{} {}", crate::core::query::field_path(&s.field.path), if s.descending { "DESC" } else { "ASC" }),
        })
        .collect();
    if keys.is_empty() {
        return String::new();
    }
    format!("ORDER BY {}", keys.join(", "))
}

/// `_id` conditions at the top of a query read those records directly instead of scanning.
fn split_ids(filter: &Filter) -> (Option<Vec<String>>, Filter) {
    match filter {
        Filter::Ids(ids) => (Some(ids.clone()), Filter::All),
        Filter::And(parts) => {
            let mut ids: Option<Vec<String>> = None;
            let mut rest = Vec::new();
            for p in parts {
                match (p, &mut ids) {
                    (Filter::Ids(v), None) => ids = Some(v.clone()),
                    (Filter::Ids(v), Some(prev)) => prev.retain(|x| v.contains(x)),
                    _ => rest.push(p.clone()),
                }
            }
            (ids, Filter::And(rest))
        }
        other => (None, other.clone()),
    }
}

/// Whether `filter` keeps only the children of one parent named by id (a case's tasks, as
/// thehive4py asks for them): the database's index on the link reads just those.
fn names_parent(filter: &Filter) -> bool {
    match filter {
        Filter::ParentId(..) => true,
        Filter::Parent(_, q) => matches!(**q, Filter::Ids(_)),
        Filter::And(parts) => parts.iter().any(names_parent),
        _ => false,
    }
}

/// Entities whose totals per status the database keeps in counters
/// (`counter:[org, <name>, status]`, see migrations 2 and 3): the counter name and every status.
fn status_counters(entity: Entity) -> Option<(&'static str, Vec<String>)> {
    match entity {
        Entity::Case => Some(("cases", app::model::CaseStatus::ALL.iter().map(|s| s.as_str().to_string()).collect())),
        Entity::Alert => Some(("alerts", app::model::AlertStatus::ALL.iter().map(|s| s.as_str().to_string()).collect())),
        _ => None,
    }
}

/// The statuses whose counters give the total of `filter`, when it is "everything" or "these
/// statuses" (the lists everyone opens): those totals are read instead of counted.
fn counted_statuses(entity: Entity, filter: &Filter) -> Option<Vec<String>> {
    let (_, all) = status_counters(entity)?;
    match filter {
        Filter::All => Some(all),
        Filter::And(v) if v.is_empty() => Some(all),
        Filter::And(v) if v.len() == 1 => counted_statuses(entity, &v[0]),
        Filter::Cmp(f, crate::core::query::Op::Eq, Value::String(s)) if f.path == "status" => Some(vec![s.clone()]),
        Filter::In(f, values) if f.path == "status" => {
            let mut out: Vec<String> = Vec::new();
            for v in values {
                let s = v.as_str()?.to_string();
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// How a search counts its matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Not at all (the total is the page's length).
    No,
    /// Exactly (status totals are read from counters; other filters are counted).
    Exact,
    /// Up to this many (a list over millions of records stays fast); [`Page::exact`] tells.
    AtMost(usize),
}

/// Run `search` on `entity`; `count` also computes the total (one more query).
pub async fn run<T: DeserializeOwned>(store: &OrgStore, entity: Entity, search: &Search, count: bool) -> Result<Page<T>> {
    run_counted(store, entity, search, if count { Count::Exact } else { Count::No }).await
}

/// The sort keys of the entity's default order (see [`default_order`]), for the statistics index.
fn default_sort(entity: Entity) -> Option<Vec<Sort>> {
    let key = |path: &str, kind, descending| Sort { field: query::Field { path: path.into(), kind }, descending };
    match entity {
        Entity::Case => Some(vec![key("createdAt", query::FieldKind::Date, true)]),
        Entity::Alert => Some(vec![key("date", query::FieldKind::Date, true)]),
        Entity::Task => Some(vec![key("order", query::FieldKind::Number, false), key("createdAt", query::FieldKind::Date, false)]),
        _ => None,
    }
}

/// The largest page read through the statistics index; longer pages go to the database.
const INDEXED_PAGE_MAX: usize = 1_000;

/// Run `search` on `entity` with its exact total, from the in-memory statistics index when it
/// can decide the filter and the sort by itself: a list filtered on several fields (open cases of
/// high severity, an owner's cases of one TLP) has no database index to read in order, and
/// counting its matches reads every one of them, while the index decides them in one pass over
/// its columns. The page's records are then read by id, with the filter checked again. The
/// lists the database serves well (everything, or some statuses, whose totals are counters)
/// stay on the database, and so does anything the index cannot answer exactly
/// ([`crate::core::stats::list_page`]); those count their matches as `count` says (the index's totals
/// are always exact).
pub async fn run_listed<T: DeserializeOwned>(state: &AppState, store: &OrgStore, entity: Entity, search: &Search, count: Count) -> Result<Page<T>> {
    let served_by_db = counted_statuses(entity, &search.filter).is_some() || split_ids(&search.filter).0.is_some() || names_parent(&search.filter);
    let sort = if search.sort.is_empty() { default_sort(entity) } else { Some(search.sort.clone()) };
    let (Some(sort), false, true) = (sort, served_by_db, search.range.limit() <= INDEXED_PAGE_MAX) else {
        return run_counted(store, entity, search, count).await;
    };
    let Some(found) = crate::core::stats::list_page(state, store, entity, &search.filter, &sort, search.range.from, search.range.limit()).await? else {
        return run_counted(store, entity, search, count).await;
    };
    if found.keys.is_empty() {
        return Ok(Page { items: Vec::new(), total: found.total, exact: true });
    }
    let mut params = Params::new();
    let cond = query::compile(&search.filter, entity, &mut params)?;
    params.vars.insert("keys".into(), Value::from(found.keys.clone()));
    params.vars.insert("tb".into(), Value::from(entity.table()));
    // A record changed by another writer since the index saw it is dropped, not shown unmatched.
    let sql = format!("SELECT * FROM array::map($keys, |$k| type::record($tb, $k)) WHERE org = $org AND {cond};");
    let mut r = store.query(&sql, params.vars).await?;
    let mut rows: Vec<Value> = r.rows(0)?;
    let position = |row: &Value| row.get("id").and_then(Value::as_str).and_then(|id| found.keys.iter().position(|k| k == id)).unwrap_or(usize::MAX);
    rows.sort_by_cached_key(position);
    let items = rows
        .into_iter()
        .map(|row| serde_json::from_value(row).map_err(|e| Error::Internal(anyhow::anyhow!("decoding row: {e}"))))
        .collect::<Result<Vec<T>>>()?;
    Ok(Page { items, total: found.total, exact: true })
}

/// Run `search` on `entity`, counting its matches as `count` says.
pub async fn run_counted<T: DeserializeOwned>(store: &OrgStore, entity: Entity, search: &Search, count: Count) -> Result<Page<T>> {
    let mut params = Params::new();
    let (ids, rest) = split_ids(&search.filter);
    let cond = query::compile(&rest, entity, &mut params)?;
    let table = entity.table();
    let from = match ids {
        Some(ids) => {
            params.vars.insert("ids".into(), Value::from(ids));
            format!("array::map($ids, |$i| type::record('{table}', $i))")
        }
        None => format!("`{table}`"),
    };
    let order = if search.sort.is_empty() { default_order(entity).to_string() } else { order_by(entity, &search.sort) };
    params.vars.insert("limit".into(), Value::from(search.range.limit()));
    params.vars.insert("start".into(), Value::from(search.range.from));
    let select = format!("SELECT * FROM {from} WHERE org = $org AND {cond} {order} LIMIT $limit START $start;");
    let counters = match count {
        Count::No => None,
        _ if params.vars.contains_key("ids") => None,
        _ => counted_statuses(entity, &search.filter).zip(status_counters(entity).map(|(name, _)| name)),
    };
    if let Some((statuses, name)) = counters {
        // Status totals come from the counters, in the same round trip.
        let statuses: Vec<&str> = statuses.iter().map(String::as_str).collect();
        let keys = counter::keys(name, &statuses);
        params.vars.insert("counter_keys".into(), Value::from(keys));
        let sql = format!("{select}\nSELECT VALUE value FROM array::map($counter_keys, |$k| type::record('counter', array::concat([$org], $k)));");
        let mut r = store.query(&sql, params.vars).await?;
        let items: Vec<T> = r.rows(0)?;
        let total = r.value(1)?.as_array().map(|a| a.iter().filter_map(Value::as_i64).sum::<i64>().max(0) as u64).unwrap_or(0);
        return Ok(Page { items, total, exact: true });
    }
    let mut r = store.query(&select, params.vars.clone()).await?;
    let items: Vec<T> = r.rows(0)?;
    // A first page that is not full holds every match (most lookups): nothing left to count.
    let whole = search.range.from == 0 && items.len() < search.range.limit();
    let counted = |sql: String, vars: Vars| async move {
        let mut r = store.query(&sql, vars).await?;
        Ok::<u64, Error>(r.value(0)?.as_array().and_then(|a| a.first()).and_then(|o| o.get("total")).and_then(Value::as_u64).unwrap_or(0))
    };
    let (total, exact) = match count {
        Count::No => (items.len() as u64, true),
        _ if whole => (items.len() as u64, true),
        Count::Exact => (counted(format!("SELECT count() AS total FROM {from} WHERE org = $org AND {cond} GROUP ALL;"), params.vars).await?, true),
        Count::AtMost(cap) => {
            params.vars.insert("cap".into(), Value::from(cap));
            let sql = format!("SELECT count() AS total FROM (SELECT id FROM {from} WHERE org = $org AND {cond} LIMIT $cap) GROUP ALL;");
            let n = counted(sql, params.vars).await?;
            (n, n < cap as u64)
        }
    };
    Ok(Page { items, total, exact })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn newest_first_reads_forwards() {
        let sort = query::parse_sort(&["-createdAt".into(), "+title".into()], Entity::Case).unwrap();
        assert_eq!(order_by(Entity::Case, &sort), "ORDER BY createdDesc ASC, `title` ASC");
        let sort = query::parse_sort(&["-createdAt".into()], Entity::Task).unwrap();
        assert_eq!(order_by(Entity::Task, &sort), "ORDER BY `createdAt` DESC");
        let sort = query::parse_sort(&["-date".into()], Entity::Alert).unwrap();
        assert_eq!(order_by(Entity::Alert, &sort), "ORDER BY dateDesc ASC");
    }

    #[test]
    fn status_lists_read_their_totals() {
        let q = |v| query::parse(&v, Entity::Case).unwrap();
        assert_eq!(counted_statuses(Entity::Case, &q(json!({}))).unwrap().len(), 3);
        assert_eq!(counted_statuses(Entity::Case, &q(json!({"status": "Open"}))), Some(vec!["Open".to_string()]));
        assert_eq!(counted_statuses(Entity::Case, &q(json!({"_and": [{"status": "Open"}]}))), Some(vec!["Open".to_string()]));
        assert_eq!(counted_statuses(Entity::Case, &q(json!({"_in": {"_field": "status", "_values": ["Open", "Resolved"]}}))).unwrap().len(), 2);
        assert!(counted_statuses(Entity::Case, &q(json!({"_and": [{"status": "Open"}, {"severity": 2}]}))).is_none());
        assert!(counted_statuses(Entity::Case, &q(json!({"_not": {"status": "Open"}}))).is_none());
        assert!(counted_statuses(Entity::Task, &query::parse(&json!({"status": "Waiting"}), Entity::Task).unwrap()).is_none());
    }

    #[test]
    fn children_of_a_named_parent_are_read_through_the_link() {
        let q = |v| query::parse(&v, Entity::Task).unwrap();
        assert!(names_parent(&q(json!({"_parent": {"_type": "case", "_id": "c1"}}))));
        assert!(names_parent(&q(json!({"_parent": {"_type": "case", "_query": {"_id": "c1"}}}))));
        assert!(names_parent(&q(json!({"_and": [{"status": "Waiting"}, {"_parent": {"_type": "case", "_query": {"_id": "c1"}}}]}))));
        assert!(!names_parent(&q(json!({"_parent": {"_type": "case", "_query": {"severity": 3}}}))));
        assert!(!names_parent(&q(json!({"_or": [{"status": "Waiting"}, {"_parent": {"_type": "case", "_query": {"_id": "c1"}}}]}))));
    }

    #[test]
    fn ids_are_read_directly() {
        let f = query::parse(&json!({"_and": [{"_id": "a"}, {"status": "Open"}]}), Entity::Case).unwrap();
        let (ids, rest) = split_ids(&f);
        assert_eq!(ids, Some(vec!["a".to_string()]));
        assert!(matches!(rest, Filter::And(v) if v.len() == 1));
        let (ids, _) = split_ids(&query::parse(&json!({"status": "Open"}), Entity::Case).unwrap());
        assert!(ids.is_none());
    }
}
