//! [`Filter`]s to SurrealQL conditions. Values become numbered parameters (`$q0`, `$q1`...);
//! only field paths from the schema and table names from [`Entity`] reach the query text.

use serde_json::Value;

use super::schema::{Entity, FieldKind, schema};
use super::{Field, Filter, Op, Sort};
use crate::core::error::Error;
use crate::core::store::Vars;

/// Parameters collected while compiling.
#[derive(Default, Debug)]
pub struct Params {
    pub vars: Vars,
    next: usize,
}

impl Params {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bind a value and return its placeholder.
    pub fn bind(&mut self, v: Value) -> String {
        let name = format!("q{}", self.next);
        self.next += 1;
        self.vars.insert(name.clone(), v);
        format!("${name}")
    }
}

/// A database path with every segment quoted (`customFields.cvss.float` ->
/// `` `customFields`.`cvss`.`float` ``). Paths come from the schema or were checked by the parser.
pub fn path(p: &str) -> String {
    if p == "id" {
        return "id".into();
    }
    p.split('.').map(|s| format!("`{s}`")).collect::<Vec<_>>().join(".")
}

/// Coerce a value to the field's kind (a date or number may be given as a numeric string).
fn coerce(f: &Field, v: &Value) -> Result<Value, Error> {
    match (f.kind, v) {
        (FieldKind::Number | FieldKind::Date, Value::Number(_)) => Ok(v.clone()),
        (FieldKind::Number | FieldKind::Date, Value::String(s)) => s
            .trim()
            .parse::<serde_json::Number>()
            .map(Value::Number)
            .map_err(|_| Error::Search(format!("{} expects a number, not {s:?}", f.path))),
        (FieldKind::Number | FieldKind::Date, other) => Err(Error::Search(format!("{} expects a number, not {other}", f.path))),
        (FieldKind::Bool, Value::Bool(_)) => Ok(v.clone()),
        (FieldKind::Bool, Value::String(s)) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
        (FieldKind::Bool, other) => Err(Error::Search(format!("{} expects true or false, not {other}", f.path))),
        _ => Ok(v.clone()),
    }
}

fn op_text(op: Op) -> &'static str {
    match op {
        Op::Eq => "=",
        Op::Ne => "!=",
        Op::Lt => "<",
        Op::Lte => "<=",
        Op::Gt => ">",
        Op::Gte => ">=",
    }
}

/// `*` and `?` wildcards to an anchored, case-insensitive regular expression.
fn wildcard_regex(pattern: &str) -> String {
    let mut re = String::from("(?i)^");
    for c in pattern.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c if c.is_alphanumeric() || c == ' ' => re.push(c),
            c => {
                re.push('\\');
                re.push(c);
            }
        }
    }
    re.push('$');
    re
}

/// The field as lowercase text (lists joined), for substring and pattern matching.
fn as_text(f: &Field) -> String {
    let p = path(&f.path);
    if f.kind == FieldKind::Keywords {
        format!("string::lowercase(array::join(({p} ?? []), ' '))")
    } else {
        format!("string::lowercase(<string> ({p} ?? ''))")
    }
}

/// Compile `filter` for `entity` into a condition (to put after `WHERE org = $org AND`).
/// Sub-queries for `_parent`/`_child` are scoped to `$org` too.
pub fn compile(filter: &Filter, entity: Entity, params: &mut Params) -> Result<String, Error> {
    Ok(match filter {
        Filter::All => "true".into(),
        Filter::Nothing => "false".into(),
        Filter::And(v) if v.is_empty() => "true".into(),
        Filter::Or(v) if v.is_empty() => "false".into(),
        Filter::And(v) => {
            let parts = v.iter().map(|f| compile(f, entity, params)).collect::<Result<Vec<_>, _>>()?;
            format!("({})", parts.join(" AND "))
        }
        Filter::Or(v) => {
            let parts = v.iter().map(|f| compile(f, entity, params)).collect::<Result<Vec<_>, _>>()?;
            format!("({})", parts.join(" OR "))
        }
        Filter::Not(f) => format!("!({})", compile(f, entity, params)?),
        Filter::Cmp(f, op, v) => {
            let v = coerce(f, v)?;
            let p = path(&f.path);
            match (f.kind, op) {
                (FieldKind::Keywords, Op::Eq) => format!("({p} ?? []) CONTAINS {}", params.bind(v)),
                (FieldKind::Keywords, Op::Ne) => format!("({p} ?? []) CONTAINSNOT {}", params.bind(v)),
                // An absent flag is false.
                (FieldKind::Bool, Op::Eq) => format!("({p} ?? false) = {}", params.bind(v)),
                (FieldKind::Bool, Op::Ne) => format!("({p} ?? false) != {}", params.bind(v)),
                _ => format!("{p} {} {}", op_text(*op), params.bind(v)),
            }
        }
        Filter::Between(f, from, to) => {
            let p = path(&f.path);
            let mut parts = Vec::new();
            if let Some(a) = from {
                parts.push(format!("{p} >= {}", params.bind(coerce(f, a)?)));
            }
            if let Some(b) = to {
                parts.push(format!("{p} < {}", params.bind(coerce(f, b)?)));
            }
            if parts.is_empty() { "true".into() } else { format!("({})", parts.join(" AND ")) }
        }
        Filter::In(f, values) => {
            let values = values.iter().map(|v| coerce(f, v)).collect::<Result<Vec<_>, _>>()?;
            let p = path(&f.path);
            if f.kind == FieldKind::Keywords {
                format!("({p} ?? []) CONTAINSANY {}", params.bind(Value::Array(values)))
            } else {
                format!("{p} IN {}", params.bind(Value::Array(values)))
            }
        }
        Filter::Exists(f) => {
            let p = path(&f.path);
            format!("({p} != NONE AND {p} != NULL)")
        }
        Filter::Ids(ids) => {
            if ids.is_empty() {
                "false".into()
            } else {
                let table = entity.table();
                let list: Vec<String> =
                    ids.iter().map(|id| format!("type::record('{table}', {})", params.bind(Value::String(id.clone())))).collect();
                format!("id IN [{}]", list.join(", "))
            }
        }
        // thehive4py's `Like('title', '*phish*')` carries wildcards: honour them.
        Filter::Like(f, v) if v.contains('*') || v.contains('?') => {
            format!("string::matches({}, {})", as_text(f), params.bind(Value::String(wildcard_regex(v))))
        }
        Filter::Like(f, v) => format!("string::contains({}, {})", as_text(f), params.bind(Value::String(v.to_lowercase()))),
        Filter::Wildcard(f, v) => format!("string::matches({}, {})", as_text(f), params.bind(Value::String(wildcard_regex(v)))),
        Filter::FullText(words) => {
            let fields: Vec<Field> = schema(entity)
                .fields
                .iter()
                .filter(|(_, _, k)| matches!(k, FieldKind::Text | FieldKind::Keywords))
                .map(|(_, p, k)| Field { path: p.to_string(), kind: *k })
                .collect();
            let mut per_word = Vec::new();
            for w in words.split_whitespace() {
                let needle = params.bind(Value::String(w.to_lowercase()));
                let any: Vec<String> = fields.iter().map(|f| format!("string::contains({}, {needle})", as_text(f))).collect();
                per_word.push(format!("({})", any.join(" OR ")));
            }
            if per_word.is_empty() { "true".into() } else { format!("({})", per_word.join(" AND ")) }
        }
        Filter::ParentId(parent, id) => {
            let link = schema(entity).parent.filter(|(p, _)| p == parent).map(|(_, l)| l).ok_or_else(|| {
                Error::Search(format!("{} has no parent {}", entity.v0_type(), parent.v0_type()))
            })?;
            format!("{} = {}", path(link), params.bind(Value::String(id.clone())))
        }
        Filter::Parent(parent, q) => {
            let link = schema(entity).parent.filter(|(p, _)| p == parent).map(|(_, l)| l).ok_or_else(|| {
                Error::Search(format!("{} has no parent {}", entity.v0_type(), parent.v0_type()))
            })?;
            if let Filter::Ids(ids) = q.as_ref() {
                // `{"_parent": {"_type": "case", "_query": {"_id": x}}}` (thehive4py): the link itself.
                return Ok(format!("{} IN {}", path(link), params.bind(Value::from(ids.clone()))));
            }
            let inner = compile(q, *parent, params)?;
            format!("{} IN (SELECT VALUE record::id(id) FROM `{}` WHERE org = $org AND {inner})", path(link), parent.table())
        }
        Filter::Child(child, q) => {
            let link = schema(entity).children.iter().find(|(c, _)| c == child).map(|(_, l)| *l).ok_or_else(|| {
                Error::Search(format!("{} has no child {}", entity.v0_type(), child.v0_type()))
            })?;
            let inner = compile(q, *child, params)?;
            format!("record::id(id) IN (SELECT VALUE {} FROM `{}` WHERE org = $org AND {inner})", path(link), child.table())
        }
    })
}

/// `ORDER BY ...` for sort keys (empty when there are none).
pub fn order_by(sort: &[Sort]) -> String {
    if sort.is_empty() {
        return String::new();
    }
    let keys: Vec<String> = sort.iter().map(|s| format!("{} {}", path(&s.field.path), if s.descending { "DESC" } else { "ASC" })).collect();
    format!("ORDER BY {}", keys.join(", "))
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
    use serde_json::json;

    fn c(q: Value, e: Entity) -> (String, Vars) {
        let f = parse(&q, e).unwrap();
        let mut p = Params::new();
        let sql = compile(&f, e, &mut p).unwrap();
        (sql, p.vars)
    }

    #[test]
    fn values_are_bound_never_formatted() {
        let evil = "x'; DELETE case; --";
        let (sql, vars) = c(json!({"_and": [{"title": evil}, {"_like": {"_field": "description", "_value": evil}}]}), Entity::Case);
        assert!(!sql.contains("DELETE"), "{sql}");
        assert_eq!(vars.len(), 2);
        assert_eq!(vars["q0"], evil);
    }

    #[test]
    fn shapes() {
        assert_eq!(c(json!({"status": "Open"}), Entity::Case).0, "`status` = $q0");
        assert_eq!(c(json!({"tags": "apt"}), Entity::Case).0, "(`tags` ?? []) CONTAINS $q0");
        assert_eq!(c(json!({"_gte": {"severity": "3"}}), Entity::Case).1["q0"], json!(3));
        assert_eq!(c(json!({"customFields.cvss.float": 9.5}), Entity::Case).0, "`customFields`.`cvss`.`float` = $q0");
        let (sql, _) = c(json!({"_parent": {"_type": "case", "_query": {"status": "Open"}}}), Entity::Task);
        assert_eq!(sql, "`case` IN (SELECT VALUE record::id(id) FROM `case` WHERE org = $org AND `status` = $q0)");
        let (sql, _) = c(json!({"_child": {"_type": "case_artifact", "_query": {"ioc": true}}}), Entity::Case);
        assert!(sql.starts_with("record::id(id) IN (SELECT VALUE `case` FROM `observable` WHERE org = $org"), "{sql}");
        let (sql, vars) = c(json!({"_parent": {"_type": "case", "_query": {"_id": "c1"}}}), Entity::Observable);
        assert_eq!(sql, "`case` IN $q0");
        assert_eq!(vars["q0"], json!(["c1"]));
        let (sql, vars) = c(json!({"_like": {"_field": "title", "_value": "*Phish*"}}), Entity::Case);
        assert!(sql.starts_with("string::matches("), "{sql}");
        assert_eq!(vars["q0"], "(?i)^.*Phish.*$");
        let (sql, vars) = c(json!({"_wildcard": {"_field": "title", "_value": "*phish.ing*"}}), Entity::Case);
        assert!(sql.starts_with("string::matches("));
        assert_eq!(vars["q0"], "(?i)^.*phish\\.ing.*$");
    }

    #[test]
    fn wrong_value_types_are_search_errors() {
        let f = parse(&json!({"severity": "high"}), Entity::Case).unwrap();
        assert!(matches!(compile(&f, Entity::Case, &mut Params::new()), Err(Error::Search(_))));
        let f = parse(&json!({"flag": 3}), Entity::Case).unwrap();
        assert!(compile(&f, Entity::Case, &mut Params::new()).is_err());
    }
}
