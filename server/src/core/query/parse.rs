//! v0 JSON queries to [`Filter`]s. Every mistake is a `SearchError` that says what is wrong.

use serde_json::{Map, Value};

use super::schema::{Entity, FieldKind, Schema, schema};
use super::{Field, Filter, Op, Sort};
use crate::core::error::Error;

/// How deep a query may nest (a guard against hostile inputs).
const MAX_DEPTH: usize = 32;
/// The most JSON values a query holds (operators, fields, `_in` values, `_or` branches...).
pub const MAX_NODES: usize = 10_000;
/// The most words of a `_string` (Lucene-style) query.
pub const MAX_WORDS: usize = 256;

/// How many JSON values `v` holds, counting stops past `limit`.
fn nodes(v: &Value, limit: usize) -> usize {
    let mut n = 0;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        n += 1;
        if n > limit {
            break;
        }
        match v {
            Value::Object(m) => stack.extend(m.values()),
            Value::Array(a) => stack.extend(a.iter()),
            _ => {}
        }
    }
    n
}

fn err(msg: impl Into<String>) -> Error {
    Error::Search(msg.into())
}

/// Resolve a field name (possibly dotted below an object field) for `schema`.
pub fn field(schema: &Schema, name: &str) -> Result<Field, Error> {
    if let Some((path, kind)) = schema.field(name) {
        return Ok(Field { path: path.to_string(), kind });
    }
    if let Some((head, rest)) = name.split_once('.') {
        if let Some((path, FieldKind::Object)) = schema.field(head) {
            let valid = rest
                .split('.')
                .all(|seg| !seg.is_empty() && seg.len() <= 64 && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
            if !valid {
                return Err(err(format!("Invalid field path {name}: segments may use letters, digits and _")));
            }
            return Ok(Field { path: format!("{path}.{rest}"), kind: FieldKind::Object });
        }
    }
    Err(err(format!("Unknown field {name} for {}", schema.entity.v0_type())))
}

fn scalar(v: &Value, what: &str) -> Result<Value, Error> {
    match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(v.clone()),
        _ => Err(err(format!("{what} must be a string, a number or a boolean"))),
    }
}

fn string(v: &Value, what: &str) -> Result<String, Error> {
    v.as_str().map(str::to_string).ok_or_else(|| err(format!("{what} must be a string")))
}

/// `{"f": v}` for one-key objects (`_gt`, `_lt`...).
fn single(v: &Value, op: &str) -> Result<(String, Value), Error> {
    let m = v.as_object().filter(|m| m.len() == 1).ok_or_else(|| err(format!("{op} expects {{\"field\": value}}")))?;
    let (k, v) = m.iter().next().ok_or_else(|| err(format!("{op} expects {{\"field\": value}}")))?;
    Ok((k.clone(), v.clone()))
}

/// Parse a query for `entity`. `null` and `{}` mean everything.
pub fn parse(q: &Value, entity: Entity) -> Result<Filter, Error> {
    if nodes(q, MAX_NODES) > MAX_NODES {
        return Err(err(format!("The query is too large: at most {MAX_NODES} terms and values")));
    }
    parse_at(q, schema(entity), 0)
}

fn parse_at(q: &Value, schema: &Schema, depth: usize) -> Result<Filter, Error> {
    if depth > MAX_DEPTH {
        return Err(err("The query is nested too deeply"));
    }
    let m = match q {
        Value::Null => return Ok(Filter::All),
        Value::Object(m) => m,
        Value::Array(a) => {
            // A list of queries is their conjunction (TheHive accepts it).
            return a.iter().map(|x| parse_at(x, schema, depth + 1)).collect::<Result<Vec<_>, _>>().map(Filter::And);
        }
        _ => return Err(err("A query must be a JSON object")),
    };
    if m.is_empty() {
        return Ok(Filter::All);
    }
    if m.len() > 1 && !m.contains_key("_field") && !m.contains_key("_name") {
        // Several shorthand fields: their conjunction.
        let parts = m
            .iter()
            .map(|(k, v)| {
                let mut one = Map::new();
                one.insert(k.clone(), v.clone());
                parse_at(&Value::Object(one), schema, depth + 1)
            })
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Filter::And(parts));
    }
    if let Some(name) = m.get("_field") {
        let name = string(name, "_field")?;
        let value = m.get("_value").ok_or_else(|| err("_field needs a _value"))?;
        return eq(schema, &name, value);
    }
    let (key, v) = m.iter().next().ok_or_else(|| err("empty query"))?;
    let list = |v: &Value, op: &str| -> Result<Vec<Filter>, Error> {
        v.as_array()
            .ok_or_else(|| err(format!("{op} expects a list of queries")))?
            .iter()
            .map(|x| parse_at(x, schema, depth + 1))
            .collect()
    };
    Ok(match key.as_str() {
        "_and" => Filter::And(list(v, "_and")?),
        "_or" => Filter::Or(list(v, "_or")?),
        "_not" => Filter::Not(Box::new(parse_at(v, schema, depth + 1)?)),
        "_any" => Filter::All,
        "_type" => Filter::All,
        "_name" => Filter::All,
        "_gt" | "_gte" | "_lt" | "_lte" | "_ne" => {
            let (f, value) = single(v, key)?;
            let op = match key.as_str() {
                "_gt" => Op::Gt,
                "_gte" => Op::Gte,
                "_lt" => Op::Lt,
                "_lte" => Op::Lte,
                _ => Op::Ne,
            };
            Filter::Cmp(field(schema, &f)?, op, scalar(&value, key)?)
        }
        "_between" => {
            let b = v.as_object().ok_or_else(|| err("_between expects {_field, _from, _to}"))?;
            let f = string(b.get("_field").ok_or_else(|| err("_between needs _field"))?, "_field")?;
            let from = b.get("_from").filter(|x| !x.is_null()).map(|x| scalar(x, "_from")).transpose()?;
            let to = b.get("_to").filter(|x| !x.is_null()).map(|x| scalar(x, "_to")).transpose()?;
            Filter::Between(field(schema, &f)?, from, to)
        }
        "_in" => {
            let b = v.as_object().ok_or_else(|| err("_in expects {_field, _values}"))?;
            let f = string(b.get("_field").ok_or_else(|| err("_in needs _field"))?, "_field")?;
            let values = b
                .get("_values")
                .and_then(Value::as_array)
                .ok_or_else(|| err("_in needs a _values list"))?
                .iter()
                .map(|x| scalar(x, "_values"))
                .collect::<Result<Vec<_>, _>>()?;
            Filter::In(field(schema, &f)?, values)
        }
        "_contains" => {
            let f = match v {
                Value::String(s) => s.clone(),
                Value::Object(o) => string(o.get("_field").ok_or_else(|| err("_contains needs a field"))?, "_field")?,
                _ => return Err(err("_contains expects a field name")),
            };
            Filter::Exists(field(schema, &f)?)
        }
        "_id" => match v {
            Value::String(s) => Filter::Ids(vec![s.clone()]),
            Value::Array(a) => Filter::Ids(a.iter().map(|x| string(x, "_id")).collect::<Result<_, _>>()?),
            _ => return Err(err("_id expects an id")),
        },
        "_like" | "_wildcard" => {
            let b = v.as_object().ok_or_else(|| err(format!("{key} expects {{_field, _value}}")))?;
            let f = string(b.get("_field").ok_or_else(|| err(format!("{key} needs _field")))?, "_field")?;
            let value = string(b.get("_value").ok_or_else(|| err(format!("{key} needs _value")))?, "_value")?;
            if f == "_all" || f == "_any" {
                Filter::FullText(value)
            } else if key == "_like" {
                Filter::Like(field(schema, &f)?, value)
            } else {
                Filter::Wildcard(field(schema, &f)?, value)
            }
        }
        "_string" => {
            let text = string(v, "_string")?;
            if text.split_whitespace().count() > MAX_WORDS {
                return Err(err(format!("The _string query is too long: at most {MAX_WORDS} words")));
            }
            lucene(&text, schema)?
        }
        "_parent" | "_child" => relation(key, v, schema, depth)?,
        k if k.starts_with('_') && schema.field(k).is_none() => {
            return Err(err(format!("Unknown operator {k}")));
        }
        name => eq(schema, name, v)?,
    })
}

fn eq(schema: &Schema, name: &str, value: &Value) -> Result<Filter, Error> {
    if name == "_id" || name == "id" {
        return Ok(Filter::Ids(vec![string(value, "_id")?]));
    }
    Ok(Filter::Cmp(field(schema, name)?, Op::Eq, scalar(value, name)?))
}

fn relation(key: &str, v: &Value, schema: &Schema, depth: usize) -> Result<Filter, Error> {
    let b = v.as_object().ok_or_else(|| err(format!("{key} expects {{_type, _query | _id}}")))?;
    let ty = string(b.get("_type").ok_or_else(|| err(format!("{key} needs _type")))?, "_type")?;
    let other = Entity::from_type(&ty).ok_or_else(|| err(format!("Unknown type {ty}")))?;
    if key == "_parent" {
        match schema.parent {
            Some((p, _)) if p == other => {}
            _ => return Err(err(format!("{ty} is not the parent of {}", schema.entity.v0_type()))),
        }
        if let Some(id) = b.get("_id") {
            return Ok(Filter::ParentId(other, string(id, "_id")?));
        }
        let q = b.get("_query").ok_or_else(|| err("_parent needs _query or _id"))?;
        Ok(Filter::Parent(other, Box::new(parse_at(q, super::schema::schema(other), depth + 1)?)))
    } else {
        if !schema.children.iter().any(|(c, _)| *c == other) {
            return Err(err(format!("{ty} is not a child of {}", schema.entity.v0_type())));
        }
        let q = b.get("_query").ok_or_else(|| err("_child needs _query"))?;
        Ok(Filter::Child(other, Box::new(parse_at(q, super::schema::schema(other), depth + 1)?)))
    }
}

/// A small subset of Lucene: `field:value`, `"phrases"`, bare words (full text), `*` wildcards,
/// `AND` (default), `OR`, `NOT`/`-`.
fn lucene(s: &str, schema: &Schema) -> Result<Filter, Error> {
    let mut tokens = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut t = String::new();
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            if c == '"' {
                quoted = !quoted;
                chars.next();
                continue;
            }
            if c.is_whitespace() && !quoted {
                break;
            }
            t.push(c);
            chars.next();
        }
        if quoted {
            return Err(err("Unbalanced quote in _string"));
        }
        tokens.push(t);
    }
    let mut ors: Vec<Vec<Filter>> = vec![Vec::new()];
    let mut negate = false;
    for t in tokens {
        match t.as_str() {
            "AND" | "&&" => continue,
            "OR" | "||" => {
                ors.push(Vec::new());
                continue;
            }
            "NOT" | "!" => {
                negate = true;
                continue;
            }
            _ => {}
        }
        let (neg, t) = match t.strip_prefix('-') {
            Some(rest) if !rest.is_empty() => (true, rest.to_string()),
            _ => (false, t),
        };
        let term = match t.split_once(':') {
            Some((f, v)) if !f.is_empty() && !v.is_empty() => {
                let fld = field(schema, f)?;
                if v.contains('*') || v.contains('?') {
                    Filter::Wildcard(fld, v.to_string())
                } else if matches!(fld.kind, FieldKind::Number | FieldKind::Date)
                    && let Ok(n) = serde_json::from_str::<serde_json::Number>(v)
                {
                    Filter::Cmp(fld, Op::Eq, Value::Number(n))
                } else if matches!(fld.kind, FieldKind::Text) {
                    Filter::Like(fld, v.to_string())
                } else if matches!(fld.kind, FieldKind::Bool) {
                    Filter::Cmp(fld, Op::Eq, Value::Bool(v.eq_ignore_ascii_case("true")))
                } else {
                    Filter::Cmp(fld, Op::Eq, Value::String(v.to_string()))
                }
            }
            _ => Filter::FullText(t.trim_matches('*').to_string()),
        };
        let term = if neg || negate { Filter::Not(Box::new(term)) } else { term };
        negate = false;
        if let Some(last) = ors.last_mut() {
            last.push(term);
        }
    }
    let ors: Vec<Filter> = ors.into_iter().filter(|a| !a.is_empty()).map(Filter::And).collect();
    Ok(match ors.len() {
        0 => Filter::All,
        1 => ors.into_iter().next().unwrap_or(Filter::All),
        _ => Filter::Or(ors),
    })
}

/// Sort keys from `sort` parameters: `-createdAt`, `+title`, `title`; also a JSON list.
pub fn parse_sort(keys: &[String], entity: Entity) -> Result<Vec<Sort>, Error> {
    let schema = schema(entity);
    keys.iter()
        .flat_map(|k| {
            // A JSON list given as one parameter: ["-createdAt", "+title"].
            match serde_json::from_str::<Vec<String>>(k) {
                Ok(list) => list,
                Err(_) => k.split(',').map(str::to_string).collect(),
            }
        })
        .filter(|k| !k.trim().is_empty())
        .map(|k| {
            let k = k.trim();
            let (descending, name) = match k.as_bytes()[0] {
                b'-' => (true, &k[1..]),
                b'+' => (false, &k[1..]),
                _ => (false, k),
            };
            if name == "_id" || name == "id" {
                return Ok(Sort { field: Field { path: "id".into(), kind: FieldKind::Keyword }, descending });
            }
            Ok(Sort { field: field(schema, name)?, descending })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(q: Value) -> Result<Filter, Error> {
        parse(&q, Entity::Case)
    }

    #[test]
    fn shapes() {
        assert_eq!(p(json!({})).unwrap(), Filter::All);
        assert_eq!(p(Value::Null).unwrap(), Filter::All);
        assert!(matches!(p(json!({"status": "Open"})).unwrap(), Filter::Cmp(f, Op::Eq, v) if f.path == "status" && v == "Open"));
        assert!(matches!(p(json!({"_field": "severity", "_value": 3})).unwrap(), Filter::Cmp(_, Op::Eq, _)));
        assert!(matches!(p(json!({"_gte": {"severity": 3}})).unwrap(), Filter::Cmp(_, Op::Gte, _)));
        assert!(matches!(p(json!({"_between": {"_field": "startDate", "_from": 1, "_to": 2}})).unwrap(), Filter::Between(..)));
        assert!(matches!(p(json!({"_in": {"_field": "status", "_values": ["Open", "Resolved"]}})).unwrap(), Filter::In(_, v) if v.len() == 2));
        assert!(matches!(p(json!({"_contains": "summary"})).unwrap(), Filter::Exists(_)));
        assert!(matches!(p(json!({"_id": "abc"})).unwrap(), Filter::Ids(v) if v == vec!["abc"]));
        assert!(matches!(p(json!({"_like": {"_field": "title", "_value": "phish"}})).unwrap(), Filter::Like(..)));
        assert!(matches!(p(json!({"_wildcard": {"_field": "title", "_value": "*phish*"}})).unwrap(), Filter::Wildcard(..)));
        assert!(matches!(p(json!({"customFields.cvss.float": 9.8})).unwrap(), Filter::Cmp(f, _, _) if f.path == "customFields.cvss.float"));
        assert!(matches!(p(json!({"_and": [{"status": "Open"}, {"_not": {"flag": true}}]})).unwrap(), Filter::And(v) if v.len() == 2));
        assert!(matches!(p(json!({"status": "Open", "severity": 2})).unwrap(), Filter::And(v) if v.len() == 2));
        assert!(matches!(p(json!({"_child": {"_type": "case_artifact", "_query": {"ioc": true}}})).unwrap(), Filter::Child(Entity::Observable, _)));
        let t = parse(&json!({"_parent": {"_type": "case", "_query": {"status": "Open"}}}), Entity::Task).unwrap();
        assert!(matches!(t, Filter::Parent(Entity::Case, _)));
        let t = parse(&json!({"_parent": {"_type": "case", "_id": "x"}}), Entity::Observable).unwrap();
        assert_eq!(t, Filter::ParentId(Entity::Case, "x".into()));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = p(json!({"_foo": 1})).unwrap_err();
        assert!(matches!(&e, Error::Search(m) if m.contains("Unknown operator _foo")), "{e}");
        let e = p(json!({"colour": "red"})).unwrap_err();
        assert!(matches!(&e, Error::Search(m) if m.contains("Unknown field colour")), "{e}");
        assert!(p(json!({"_gt": 3})).is_err());
        assert!(p(json!({"_and": {"a": 1}})).is_err());
        assert!(p(json!({"status": {"nested": 1}})).is_err());
        assert!(p(json!({"customFields.a-b": 1})).is_err());
        assert!(p(json!({"customFields.x;DROP": 1})).is_err());
        assert!(p(json!("text")).is_err());
        assert!(parse(&json!({"_parent": {"_type": "alert", "_id": "x"}}), Entity::Task).is_err());
        let mut deep = json!({"status": "Open"});
        for _ in 0..50 {
            deep = json!({"_not": deep});
        }
        assert!(p(deep).is_err());
    }

    #[test]
    fn lucene_subset() {
        let f = p(json!({"_string": "status:Open AND severity:3"})).unwrap();
        assert!(matches!(f, Filter::And(v) if v.len() == 2));
        let f = p(json!({"_string": "title:phish* OR tags:\"apt 28\""})).unwrap();
        assert!(matches!(f, Filter::Or(v) if v.len() == 2));
        let f = p(json!({"_string": "ransomware -status:Resolved"})).unwrap();
        assert!(matches!(f, Filter::And(v) if matches!(v[0], Filter::FullText(_)) && matches!(v[1], Filter::Not(_))));
        assert!(p(json!({"_string": "colour:red"})).is_err());
        assert!(p(json!({"_string": "\"open"})).is_err());
    }

    #[test]
    fn sorting() {
        let s = parse_sort(&["-createdAt".into(), "+title".into()], Entity::Case).unwrap();
        assert!(s[0].descending && s[0].field.path == "createdAt");
        assert!(!s[1].descending && s[1].field.path == "title");
        let s = parse_sort(&["[\"-severity\",\"caseId\"]".into()], Entity::Case).unwrap();
        assert_eq!(s.len(), 2);
        assert!(parse_sort(&["-nope".into()], Entity::Case).is_err());
    }

    #[test]
    fn ranges() {
        use super::super::Range;
        assert_eq!(Range::parse(None).unwrap(), Range { from: 0, to: Some(10) });
        assert_eq!(Range::parse(Some("all")).unwrap().to, None);
        assert_eq!(Range::parse(Some("20-35")).unwrap().limit(), 15);
        assert_eq!(Range::parse(Some("0-999999999")).unwrap().limit(), Range::MAX_ALL, "every page is clamped");
        assert_eq!(Range::parse(Some("5-999999999999")).unwrap().limit(), Range::MAX_ALL);
        assert!(Range::parse(Some("10-5")).is_err());
        assert!(Range::parse(Some("x")).is_err());
    }
}
