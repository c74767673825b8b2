//! What a click on a drawn chart hits, and the list page it drills down to.

use serde_json::{Value, json};

use super::draw::{axis_max, donut_geometry, legend_rows, plot_rect};
use super::model::{Chart, Hit, Series};
use super::request::{and, period_filter};
use crate::date::{self, DAY_MS as DAY};
use crate::model::{Definition, Widget};
use crate::url::encode_component;

/// What is under the point (x, y) of a chart drawn at w × h without a title.
pub fn hit(chart: &Chart, w: i32, h: i32, x: i32, y: i32) -> Option<Hit> {
    match chart {
        Chart::Donut { slices, total } if *total > 0.0 => {
            let (cx, cy, r) = donut_geometry(w, h, 0);
            let (dx, dy) = ((x - cx) as f64, (y - cy) as f64);
            let d = (dx * dx + dy * dy).sqrt();
            if d > r as f64 || d < r as f64 * 0.55 {
                return None;
            }
            let mut a = dy.atan2(dx) + std::f64::consts::FRAC_PI_2;
            if a < 0.0 {
                a += std::f64::consts::TAU;
            }
            let mut acc = 0.0;
            for (k, _, v, _) in slices {
                acc += v / total * std::f64::consts::TAU;
                if a <= acc {
                    return Some(Hit { key: k.clone(), time: None });
                }
            }
            None
        }
        Chart::Bars { times, series, stacked, .. } if !times.is_empty() => {
            let rows = legend_rows(series.len(), w);
            let (x0, y0, x1, y1) = plot_rect(w, h, 0, rows);
            if x < x0 || x > x1 || y < y0 || y > y1 {
                return None;
            }
            let slot = (x1 - x0) as f64 / times.len() as f64;
            let i = (((x - x0) as f64) / slot) as usize;
            let i = i.min(times.len() - 1);
            let bars: Vec<&Series> = series.iter().filter(|s| s.kind == "bar").collect();
            if bars.is_empty() {
                return None;
            }
            if !*stacked && bars.len() > 1 {
                let within = ((x - x0) as f64 - slot * i as f64 - slot * 0.1) / (slot * 0.8);
                let j = ((within * bars.len() as f64).floor().max(0.0) as usize).min(bars.len() - 1);
                return Some(Hit { key: bars[j].key.clone(), time: Some(times[i]) });
            }
            // Stacked: find the segment by value.
            let max_total: f64 = (0..times.len()).map(|k| bars.iter().map(|s| s.values[k]).sum::<f64>()).fold(0.0, f64::max).max(1.0);
            let lines_max = series.iter().filter(|s| s.kind != "bar").flat_map(|s| s.values.iter().copied()).fold(0.0, f64::max);
            let max = axis_max(max_total.max(lines_max), series);
            let v = (y1 - y) as f64 / (y1 - y0) as f64 * max;
            let mut acc = 0.0;
            for s in &bars {
                acc += s.values[i];
                if v <= acc && s.values[i] > 0.0 {
                    return Some(Hit { key: s.key.clone(), time: Some(times[i]) });
                }
            }
            None
        }
        _ => None,
    }
}

/// The list page (and its v0 query) matching a clicked slice or bar: `/cases?q=...` or
/// `/alerts?q=...` (the query URL-encoded JSON, the contract with the lists' pages).
pub fn drill_down(w: &Widget, def: &Definition, now: i64, h: &Hit) -> Option<(String, Value)> {
    let o = &w.options;
    let page = match o.entity.as_deref()? {
        "case" => "/cases",
        "alert" => "/alerts",
        _ => return None,
    };
    let field = o.field.clone()?;
    let value: Value = if field == "severity" || field == "tlp" || field == "pap" {
        h.key.parse::<i64>().map(Value::from).unwrap_or(Value::String(h.key.clone()))
    } else if h.key == "true" || h.key == "false" {
        Value::Bool(h.key == "true")
    } else {
        Value::String(h.key.clone())
    };
    let time = h.time.map(|t| {
        let interval = o.interval.clone().unwrap_or_else(|| "1w".into());
        let end = next_bucket(t, &interval);
        json!({"_between": {"_field": o.date_field.clone().unwrap_or_else(|| "createdAt".into()), "_from": t, "_to": end}})
    });
    let q = and(vec![o.query.clone(), period_filter(def, now), Some(json!({"_field": field, "_value": value})), time]);
    Some((format!("{page}?q={}", encode_component(&q.to_string())), q))
}

/// The start of the bucket after the one starting at `t` (`1M`, `1y`, `1w`, `<n>d`, `<n>h`).
fn next_bucket(t: i64, interval: &str) -> i64 {
    match interval {
        "1M" => date::next_month_start(t),
        "1y" => date::next_year_start(t),
        "1w" => t + 7 * DAY,
        other => {
            let mut chars = other.chars();
            let unit = chars.next_back();
            let n: i64 = chars.as_str().parse().unwrap_or(1);
            match unit {
                Some('h') => t + n * 3_600_000,
                _ => t + n * DAY,
            }
        }
    }
}
