//! The statistics requests a widget makes (TheHive 3's `/api/<model>/_stats` shapes), with the
//! dashboard's period applied.

use serde_json::{Value, json};

use crate::date::{self, DAY_MS as DAY};
use crate::model::{Definition, Widget};

/// The v0 model path (`/api/<model>/_stats`) of a widget entity.
pub fn model_of(entity: &str) -> Option<&'static str> {
    Some(match entity {
        "case" => "case",
        "case_task" => "case/task",
        "case_task_log" => "case/task/log",
        "case_artifact" => "case/artifact",
        "alert" => "alert",
        "case_artifact_job" => "connector/cortex/job",
        "audit" => "audit",
        _ => return None,
    })
}

/// A period bound: epoch milliseconds, or a `YYYY-MM-DD` day (as date inputs give it; a longer
/// ISO timestamp counts by its day).
fn as_ms(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_f64().map(|x| x as i64),
        Value::String(s) => date::day_start(s.get(..10)?),
        _ => None,
    }
}

/// The dashboard period as a `_between` on `createdAt` (None for all time).
pub fn period_filter(def: &Definition, now: i64) -> Option<Value> {
    let (from, to) = match def.period.as_str() {
        "last7Days" => (Some(now - 7 * DAY), None),
        "last30Days" => (Some(now - 30 * DAY), None),
        "last3Months" => (Some(now - 91 * DAY), None),
        "custom" => (
            def.custom_period.from_date.as_ref().and_then(as_ms),
            // The end date is inclusive: up to the end of that day.
            def.custom_period.to_date.as_ref().and_then(as_ms).map(|t| t + DAY),
        ),
        _ => (None, None),
    };
    if from.is_none() && to.is_none() {
        return None;
    }
    Some(json!({"_between": {"_field": "createdAt", "_from": from, "_to": to}}))
}

/// `a AND b`, leaving out empty queries.
pub fn and(parts: Vec<Option<Value>>) -> Value {
    let parts: Vec<Value> = parts
        .into_iter()
        .flatten()
        .filter(|q| !q.is_null() && q.as_object().is_none_or(|m| !m.is_empty()))
        .collect();
    match parts.len() {
        0 => json!({}),
        1 => parts.into_iter().next().unwrap_or_else(|| json!({})),
        _ => json!({"_and": parts}),
    }
}

fn limit_of(w: &Widget) -> u64 {
    match &w.options.limit {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(10),
        Some(Value::String(s)) => s.parse().unwrap_or(10),
        _ => 10,
    }
    .clamp(1, 100)
}

fn series_agg(i: usize, s: &crate::model::Series) -> Value {
    let agg = s.agg.clone().unwrap_or_else(|| "count".into());
    let mut a = json!({"_agg": agg, "_name": format!("agg_{}", i + 1)});
    if agg != "count" {
        a["_field"] = json!(s.field.clone().unwrap_or_default());
    }
    if let Some(q) = s.query.as_ref().filter(|q| q.as_object().is_some_and(|m| !m.is_empty())) {
        a["_query"] = q.clone();
    }
    a
}

/// The statistics requests of a widget: `(model path, body)`, in TheHive 3's shapes, with the
/// dashboard period applied.
pub fn requests(w: &Widget, def: &Definition, now: i64) -> Vec<(String, Value)> {
    let o = &w.options;
    let period = period_filter(def, now);
    let entity = o.entity.clone().unwrap_or_else(|| "case".into());
    let Some(model) = model_of(&entity) else { return Vec::new() };
    let query = and(vec![o.query.clone(), period.clone()]);
    let series = o.series.clone().unwrap_or_default();
    match w.kind.as_str() {
        "donut" => {
            let sort = o.sort.clone().unwrap_or_else(|| "-_count".into());
            vec![(model.into(), json!({"query": query, "stats": [
                {"_agg": "field", "_field": o.field.clone().unwrap_or_default(), "_select": [{"_agg": "count"}],
                 "_order": [sort], "_size": limit_of(w)},
                {"_agg": "count"}]}))]
        }
        "bar" => vec![(model.into(), json!({"query": query, "stats": [
            {"_agg": "time", "_fields": [o.date_field.clone().unwrap_or_else(|| "createdAt".into())],
             "_interval": o.interval.clone().unwrap_or_else(|| "1w".into()),
             "_select": [{"_agg": "field", "_field": o.field.clone().unwrap_or_default(), "_size": 20, "_select": [{"_agg": "count"}]}]}]}))],
        "line" => vec![(model.into(), json!({"query": query, "stats": [
            {"_agg": "time", "_fields": [o.field.clone().unwrap_or_else(|| "createdAt".into())],
             "_interval": o.interval.clone().unwrap_or_else(|| "1w".into()),
             "_select": series.iter().enumerate().map(|(i, s)| series_agg(i, s)).collect::<Vec<_>>()}]}))],
        "multiline" => series
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let e = s.entity.clone().unwrap_or_else(|| entity.clone());
                let m = model_of(&e)?;
                let mut a = series_agg(i, s);
                let q = a.as_object_mut().and_then(|m| m.remove("_query"));
                Some((m.to_string(), json!({"query": and(vec![q, period.clone()]), "stats": [
                    {"_agg": "time", "_fields": [s.date_field.clone().unwrap_or_else(|| "createdAt".into())],
                     "_interval": o.interval.clone().unwrap_or_else(|| "1w".into()), "_select": [a]}]})))
            })
            .collect(),
        "counter" => vec![(model.into(), json!({"query": query,
            "stats": series.iter().enumerate().map(|(i, s)| series_agg(i, s)).collect::<Vec<_>>()}))],
        "text" => series
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let e = s.entity.clone().unwrap_or_else(|| entity.clone());
                let m = model_of(&e)?;
                Some((m.to_string(), json!({"query": and(vec![o.query.clone(), period.clone()]), "stats": [series_agg(i, s)]})))
            })
            .collect(),
        _ => Vec::new(),
    }
}
