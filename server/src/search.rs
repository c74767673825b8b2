//! Searching an entity of the caller's organisation with the v0 query language: a page of
//! records and the total count. Every `_search` endpoint (and the UI's lists) goes through here,
//! so organisation scoping and parameter binding are in one place.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Result;
use crate::query::{self, Entity, Filter, Params, Range, Sort};
use crate::store::OrgStore;

/// A page of results and how many match in all.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
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

/// Entities whose records carry `createdDesc` (= -createdAt, kept by the database) with
/// indexes on it: newest-first lists read those indexes forwards (migration 2 says why).
fn has_created_desc(entity: Entity) -> bool {
    matches!(entity, Entity::Case | Entity::Audit)
}

/// The order used when a search gives none.
fn default_order(entity: Entity) -> &'static str {
    match entity {
        Entity::Task => "ORDER BY `order` ASC, createdAt ASC",
        Entity::Log => "ORDER BY startDate DESC",
        Entity::CaseTemplate => "ORDER BY name ASC",
        e if has_created_desc(e) => "ORDER BY createdDesc ASC",
        _ => "ORDER BY createdAt DESC",
    }
}

/// `ORDER BY` for sort keys, with `-createdAt` read from `createdDesc` where there is one.
fn order_by(entity: Entity, sort: &[Sort]) -> String {
    if !has_created_desc(entity) {
        return query::order_by(sort);
    }
    let keys: Vec<String> = sort
        .iter()
        .map(|s| match (s.field.path.as_str(), s.descending) {
            ("createdAt", true) => "createdDesc ASC".to_string(),
            (p, d) => format!("{} {}", crate::query::field_path(p), if d { "DESC" } else { "ASC" }),
        })
        .collect();
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

/// The case statuses whose counters give the total of `filter`, when it is "every case" or
/// "cases of these statuses" (the lists everyone opens): those totals are kept by the database
/// (`counter:[org, 'cases', status]`, see migration 2) instead of being counted.
fn counted_statuses(entity: Entity, filter: &Filter) -> Option<Vec<String>> {
    if entity != Entity::Case {
        return None;
    }
    let all = || app::model::CaseStatus::ALL.iter().map(|s| s.as_str().to_string()).collect();
    match filter {
        Filter::All => Some(all()),
        Filter::And(v) if v.is_empty() => Some(all()),
        Filter::And(v) if v.len() == 1 => counted_statuses(entity, &v[0]),
        Filter::Cmp(f, crate::query::Op::Eq, Value::String(s)) if f.path == "status" => Some(vec![s.clone()]),
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

/// Run `search` on `entity`; `count` also computes the total (one more query).
pub async fn run<T: DeserializeOwned>(store: &OrgStore, entity: Entity, search: &Search, count: bool) -> Result<Page<T>> {
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
    let mut sql = format!("SELECT * FROM {from} WHERE org = $org AND {cond} {order} LIMIT $limit START $start;");
    let counters = if count && !params.vars.contains_key("ids") { counted_statuses(entity, &search.filter) } else { None };
    match (&counters, count) {
        (Some(statuses), _) => {
            params.vars.insert("statuses".into(), Value::from(statuses.clone()));
            sql.push_str("\nSELECT VALUE value FROM array::map($statuses, |$s| type::record('counter', [$org, 'cases', $s]));");
        }
        (None, true) => sql.push_str(&format!("\nSELECT count() AS total FROM {from} WHERE org = $org AND {cond} GROUP ALL;")),
        (None, false) => {}
    }
    let mut r = store.query(&sql, params.vars).await?;
    let items: Vec<T> = r.rows(0)?;
    let total = match (&counters, count) {
        (Some(_), _) => r.value(1)?.as_array().map(|a| a.iter().filter_map(Value::as_i64).sum::<i64>().max(0) as u64).unwrap_or(0),
        (None, true) => r.value(1)?.as_array().and_then(|a| a.first()).and_then(|o| o.get("total")).and_then(Value::as_u64).unwrap_or(0),
        (None, false) => items.len() as u64,
    };
    Ok(Page { items, total })
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
    fn ids_are_read_directly() {
        let f = query::parse(&json!({"_and": [{"_id": "a"}, {"status": "Open"}]}), Entity::Case).unwrap();
        let (ids, rest) = split_ids(&f);
        assert_eq!(ids, Some(vec!["a".to_string()]));
        assert!(matches!(rest, Filter::And(v) if v.len() == 1));
        let (ids, _) = split_ids(&query::parse(&json!({"status": "Open"}), Entity::Case).unwrap());
        assert!(ids.is_none());
    }
}
