//! TheHive's statistics requests (`{"query": Q, "stats": [AGG...]}`), parsed and checked.
//!
//! Every mistake is a 400 that names what is wrong: an unknown aggregation, an unknown field, a
//! field that cannot be aggregated that way, a bad interval or size.

use serde_json::{Map, Value};

use crate::core::error::Error;
use crate::core::query::{self, Entity, FieldKind, Filter, Sort};

/// How deep aggregations may nest (`field` in `time` in `field`...).
const MAX_DEPTH: usize = 6;
/// The largest `_size` of a `field` or `top` aggregation.
pub const MAX_SIZE: usize = 10_000;
/// The most aggregations one request holds, nested ones included (each level multiplies the
/// work by the buckets of the level above).
pub const MAX_AGGS: usize = 64;

/// Refuse a request with more than [`MAX_AGGS`] aggregations before parsing it.
fn check_count(v: &Value) -> Result<(), Error> {
    fn count(v: &Value, n: &mut usize) {
        match v {
            Value::Object(m) => {
                if m.contains_key("_agg") {
                    *n += 1;
                }
                m.values().for_each(|x| count(x, n));
            }
            Value::Array(a) => a.iter().for_each(|x| count(x, n)),
            _ => {}
        }
    }
    let mut n = 0;
    count(v, &mut n);
    if n > MAX_AGGS {
        return Err(bad(format!("Too many aggregations ({n}): at most {MAX_AGGS} in one request")));
    }
    Ok(())
}

/// A field an aggregation reads: the name the client gave (used in result names), its path and
/// kind; `computed` fields are derived (`computed.handlingDurationInHours`: end - start, in hours).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRef {
    pub name: String,
    pub path: String,
    pub kind: FieldKind,
    /// Divisor applied to a computed duration (ms per unit).
    pub computed: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Sum,
    Avg,
    Min,
    Max,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Sum => "sum",
            Metric::Avg => "avg",
            Metric::Min => "min",
            Metric::Max => "max",
        }
    }
}

/// Date histogram intervals: fixed lengths, or calendar weeks (Monday), months and years (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Fixed(i64),
    Week,
    Month,
    Year,
}

impl Interval {
    pub fn parse(s: &str) -> Result<Interval, Error> {
        let bad = || Error::BadRequest(format!("Invalid interval {s:?}: use 1d, 1w, 1M or 1y (or Nh, Nd)"));
        let s = s.trim();
        let unit = s.chars().last().ok_or_else(bad)?;
        let n: i64 = s[..s.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
        if n <= 0 || n > 10_000 {
            return Err(bad());
        }
        Ok(match unit {
            'm' => Interval::Fixed(n * 60_000),
            'h' => Interval::Fixed(n * 3_600_000),
            'd' => Interval::Fixed(n * 86_400_000),
            'w' if n == 1 => Interval::Week,
            'M' if n == 1 => Interval::Month,
            'y' if n == 1 => Interval::Year,
            'w' => Interval::Fixed(n * 7 * 86_400_000),
            _ => return Err(bad()),
        })
    }
}

/// Order of `field` buckets.
#[derive(Debug, Clone, PartialEq)]
pub enum BucketOrder {
    Count { descending: bool },
    Key { descending: bool },
    /// By the value of a sub-aggregation (its result name).
    Sub { name: String, descending: bool },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Agg {
    Count { name: String, query: Option<Filter> },
    Metric { op: Metric, name: String, field: FieldRef, query: Option<Filter> },
    Field { name: String, field: FieldRef, size: usize, order: Vec<BucketOrder>, select: Vec<Agg> },
    Time { name: String, fields: Vec<FieldRef>, interval: Interval, select: Vec<Agg> },
    Top { name: String, size: usize, sort: Vec<Sort>, query: Option<Filter> },
    Category { name: String, categories: Vec<(String, Filter)>, select: Vec<Agg> },
}

fn bad(msg: impl Into<String>) -> Error {
    Error::BadRequest(msg.into())
}

/// Case metrics TheHive computes: durations between `startDate` and `endDate`.
const COMPUTED: &[(&str, f64)] = &[
    ("handlingDurationInSeconds", 1_000.0),
    ("handlingDurationInMinutes", 60_000.0),
    ("handlingDurationInHours", 3_600_000.0),
    ("handlingDurationInDays", 86_400_000.0),
];

/// The path under which the statistics index keeps a case's handling duration (ms).
pub const HANDLING_DURATION: &str = "computed.handlingDuration";

/// Resolve a field name for aggregations.
pub fn field_ref(entity: Entity, name: &str) -> Result<FieldRef, Error> {
    if let Some(metric) = name.strip_prefix("computed.") {
        return match COMPUTED.iter().find(|(n, _)| *n == metric) {
            Some((_, div)) if entity == Entity::Case => Ok(FieldRef {
                name: name.to_string(),
                path: HANDLING_DURATION.to_string(),
                kind: FieldKind::Number,
                computed: Some(*div),
            }),
            _ => Err(Error::Search(format!("Unknown field {name} for {}", entity.v0_type()))),
        };
    }
    let f = query::field(query::schema(entity), name)?;
    Ok(FieldRef { name: name.to_string(), path: f.path, kind: f.kind, computed: None })
}

fn string_of<'a>(m: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, Error> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad(format!("{key} must be a string"))),
    }
}

fn size_of(m: &Map<String, Value>, default: usize) -> Result<usize, Error> {
    match m.get("_size") {
        None | Some(Value::Null) => Ok(default),
        Some(v) => {
            let n = v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .ok_or_else(|| bad("_size must be a positive number"))?;
            if n == 0 || n as usize > MAX_SIZE {
                return Err(bad(format!("_size must be between 1 and {MAX_SIZE}")));
            }
            Ok(n as usize)
        }
    }
}

fn query_of(m: &Map<String, Value>, entity: Entity) -> Result<Option<Filter>, Error> {
    match m.get("_query") {
        None | Some(Value::Null) => Ok(None),
        Some(q) => match query::parse(q, entity)? {
            Filter::All => Ok(None),
            f => Ok(Some(f)),
        },
    }
}

fn list_of<'a>(m: &'a Map<String, Value>, key: &str) -> Result<Vec<&'a str>, Error> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.as_str()]),
        Some(Value::Array(a)) => a.iter().map(|v| v.as_str().ok_or_else(|| bad(format!("{key} must list strings")))).collect(),
        Some(_) => Err(bad(format!("{key} must be a list of strings"))),
    }
}

/// Parse a list of aggregations (`stats` or `_select`).
pub fn parse_list(v: Option<&Value>, entity: Entity) -> Result<Vec<Agg>, Error> {
    if let Some(v) = v {
        check_count(v)?;
    }
    parse_list_at(v, entity, 0)
}

fn parse_list_at(v: Option<&Value>, entity: Entity, depth: usize) -> Result<Vec<Agg>, Error> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a.iter().map(|x| parse_at(x, entity, depth)).collect(),
        Some(o @ Value::Object(_)) => Ok(vec![parse_at(o, entity, depth)?]),
        Some(_) => Err(bad("stats must be a list of aggregations")),
    }
}

/// Parse one aggregation.
pub fn parse(v: &Value, entity: Entity) -> Result<Agg, Error> {
    check_count(v)?;
    parse_at(v, entity, 0)
}

fn parse_at(v: &Value, entity: Entity, depth: usize) -> Result<Agg, Error> {
    if depth > MAX_DEPTH {
        return Err(bad("Aggregations are nested too deeply"));
    }
    let m = v.as_object().ok_or_else(|| bad("An aggregation must be a JSON object with _agg"))?;
    let kind = string_of(m, "_agg")?.ok_or_else(|| bad("An aggregation needs _agg"))?;
    let name = string_of(m, "_name")?.map(str::to_string);
    let select = || parse_list_at(m.get("_select"), entity, depth + 1);
    Ok(match kind {
        "count" => Agg::Count { name: name.unwrap_or_else(|| "count".into()), query: query_of(m, entity)? },
        "sum" | "avg" | "min" | "max" => {
            let op = match kind {
                "sum" => Metric::Sum,
                "avg" => Metric::Avg,
                "min" => Metric::Min,
                _ => Metric::Max,
            };
            let fname = string_of(m, "_field")?.ok_or_else(|| bad(format!("{kind} needs _field")))?;
            let field = field_ref(entity, fname)?;
            if !matches!(field.kind, FieldKind::Number | FieldKind::Date | FieldKind::Object) {
                return Err(bad(format!("{kind} needs a numeric field; {fname} is not one")));
            }
            Agg::Metric { op, name: name.unwrap_or_else(|| format!("{kind}_{fname}")), field, query: query_of(m, entity)? }
        }
        "field" => {
            let fname = string_of(m, "_field")?.ok_or_else(|| bad("field needs _field"))?;
            let field = field_ref(entity, fname)?;
            if field.kind == FieldKind::Text {
                return Err(bad(format!("{fname} is free text: it cannot be grouped by value")));
            }
            let order = list_of(m, "_order")?
                .into_iter()
                .map(|o| {
                    let (descending, key) = match o.strip_prefix('-') {
                        Some(k) => (true, k),
                        None => (false, o.strip_prefix('+').unwrap_or(o)),
                    };
                    match key {
                        "_count" => Ok(BucketOrder::Count { descending }),
                        "_term" | "_key" => Ok(BucketOrder::Key { descending }),
                        "" => Err(bad("empty _order key")),
                        other => Ok(BucketOrder::Sub { name: other.to_string(), descending }),
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            let select = select()?;
            for o in &order {
                if let BucketOrder::Sub { name, .. } = o {
                    if !select.iter().any(|a| a.name() == name) {
                        return Err(bad(format!("_order names {name}, which is not one of the _select aggregations")));
                    }
                }
            }
            Agg::Field { name: name.unwrap_or_else(|| "field".into()), field, size: size_of(m, 10)?, order, select }
        }
        "time" => {
            let fields = list_of(m, "_fields")?;
            if fields.is_empty() {
                return Err(bad("time needs _fields (a list of date fields)"));
            }
            let fields = fields
                .into_iter()
                .map(|f| {
                    let r = field_ref(entity, f)?;
                    if r.kind != FieldKind::Date {
                        return Err(bad(format!("time needs date fields; {f} is not one")));
                    }
                    Ok(r)
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let interval = Interval::parse(string_of(m, "_interval")?.ok_or_else(|| bad("time needs _interval"))?)?;
            Agg::Time { name: name.unwrap_or_else(|| "datehistogram".into()), fields, interval, select: select()? }
        }
        "top" => {
            let order: Vec<String> = list_of(m, "_order")?.into_iter().map(str::to_string).collect();
            Agg::Top {
                name: name.unwrap_or_else(|| "top".into()),
                size: size_of(m, 10)?.min(1000),
                sort: query::parse_sort(&order, entity)?,
                query: query_of(m, entity)?,
            }
        }
        "category" => {
            let cats = m
                .get("_categories")
                .and_then(Value::as_object)
                .ok_or_else(|| bad("category needs _categories: {name: query}"))?;
            let categories = cats
                .iter()
                .map(|(k, q)| Ok((k.clone(), query::parse(q, entity)?)))
                .collect::<Result<Vec<_>, Error>>()?;
            Agg::Category { name: name.unwrap_or_else(|| "categories".into()), categories, select: select()? }
        }
        other => return Err(bad(format!("Unknown aggregation {other}: use count, sum, avg, min, max, field, time, top or category"))),
    })
}

impl Agg {
    pub fn name(&self) -> &str {
        match self {
            Agg::Count { name, .. }
            | Agg::Metric { name, .. }
            | Agg::Field { name, .. }
            | Agg::Time { name, .. }
            | Agg::Top { name, .. }
            | Agg::Category { name, .. } => name,
        }
    }

    /// Every field path this aggregation (and its children) reads.
    pub fn paths(&self, out: &mut Vec<String>) {
        match self {
            Agg::Count { .. } | Agg::Top { .. } => {}
            Agg::Metric { field, .. } => out.push(field.path.clone()),
            Agg::Field { field, select, .. } => {
                out.push(field.path.clone());
                select.iter().for_each(|a| a.paths(out));
            }
            Agg::Time { fields, select, .. } => {
                out.extend(fields.iter().map(|f| f.path.clone()));
                select.iter().for_each(|a| a.paths(out));
            }
            Agg::Category { select, .. } => select.iter().for_each(|a| a.paths(out)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(v: Value) -> Result<Agg, Error> {
        parse(&v, Entity::Case)
    }

    #[test]
    fn names_default_like_thehive() {
        assert_eq!(p(json!({"_agg": "count"})).unwrap().name(), "count");
        assert_eq!(p(json!({"_agg": "avg", "_field": "severity"})).unwrap().name(), "avg_severity");
        assert_eq!(p(json!({"_agg": "count", "_name": "agg_1"})).unwrap().name(), "agg_1");
        let a = p(json!({"_agg": "avg", "_field": "computed.handlingDurationInHours"})).unwrap();
        assert!(matches!(a, Agg::Metric { field: FieldRef { computed: Some(d), .. }, .. } if d == 3_600_000.0));
    }

    #[test]
    fn intervals() {
        assert_eq!(Interval::parse("1d").unwrap(), Interval::Fixed(86_400_000));
        assert_eq!(Interval::parse("1w").unwrap(), Interval::Week);
        assert_eq!(Interval::parse("1M").unwrap(), Interval::Month);
        assert_eq!(Interval::parse("1y").unwrap(), Interval::Year);
        assert_eq!(Interval::parse("6h").unwrap(), Interval::Fixed(6 * 3_600_000));
        for bad in ["", "d", "0d", "2M", "1x", "-1d", "1.5d"] {
            assert!(Interval::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_input_is_a_clear_400() {
        let e = p(json!({"_agg": "median", "_field": "severity"})).unwrap_err();
        assert!(matches!(&e, Error::BadRequest(m) if m.contains("Unknown aggregation median")), "{e}");
        let e = p(json!({"_agg": "field", "_field": "colour"})).unwrap_err();
        assert!(matches!(&e, Error::Search(m) if m.contains("Unknown field colour")), "{e}");
        assert!(p(json!({"_agg": "sum", "_field": "status"})).is_err());
        assert!(p(json!({"_agg": "field", "_field": "title"})).is_err());
        assert!(p(json!({"_agg": "time", "_fields": ["status"], "_interval": "1d"})).is_err());
        assert!(p(json!({"_agg": "field", "_field": "status", "_size": 0})).is_err());
        assert!(p(json!({"_agg": "field", "_field": "status", "_order": ["-nothing"]})).is_err());
        assert!(p(json!("count")).is_err());
        assert!(p(json!({"_agg": "count", "_query": {"colour": 1}})).is_err());
        let mut deep = json!({"_agg": "count"});
        for _ in 0..10 {
            deep = json!({"_agg": "field", "_field": "status", "_select": [deep]});
        }
        assert!(p(deep).is_err());
    }
}
