//! The chart of a widget, built from the answers to its [`requests`](super::requests): labels
//! and colours (the widget's own, then Waggle's conventions), numbers and time labels.

use plotters::style::RGBColor;
use serde_json::{Map, Value, json};

use super::model::{Chart, PALETTE, Series};
use crate::date::{self, DAY_MS as DAY};
use crate::model::Widget;

fn parse_hex(s: &str) -> Option<RGBColor> {
    let h = s.strip_prefix('#')?;
    if h.len() != 6 {
        return None;
    }
    let n = u32::from_str_radix(h, 16).ok()?;
    Some(RGBColor((n >> 16) as u8, (n >> 8) as u8, n as u8))
}

/// The label and colour of a value: the widget's `names`/`colors`, then Waggle's conventions
/// (FIRST TLP colours, severity words), then the palette.
pub fn style_of(w: &Widget, field: &str, key: &str, index: usize) -> (String, RGBColor) {
    let named = w.options.names.as_ref().and_then(|n| n.get(key)).and_then(Value::as_str).filter(|s| !s.is_empty());
    let colored = w.options.colors.as_ref().and_then(|c| c.get(key)).and_then(Value::as_str).and_then(parse_hex);
    let (label, color) = match (field, key) {
        ("tlp" | "pap", "0") => ("CLEAR", RGBColor(0xdd, 0xdd, 0xdd)),
        ("tlp" | "pap", "1") => ("GREEN", RGBColor(0x33, 0xcc, 0x00)),
        ("tlp" | "pap", "2") => ("AMBER", RGBColor(0xff, 0xc0, 0x00)),
        ("tlp" | "pap", "3") => ("RED", RGBColor(0xff, 0x2b, 0x2b)),
        ("severity", "1") => ("Low", RGBColor(0x2f, 0x6f, 0xd6)),
        ("severity", "2") => ("Medium", RGBColor(0xc9, 0x8a, 0x00)),
        ("severity", "3") => ("High", RGBColor(0xe0, 0x6c, 0x00)),
        ("severity", "4") => ("Critical", RGBColor(0xd3, 0x2f, 0x2f)),
        _ => ("", PALETTE[index % PALETTE.len()]),
    };
    let label = named.map(str::to_string).unwrap_or_else(|| if label.is_empty() { key.to_string() } else { label.to_string() });
    (label, colored.unwrap_or(color))
}

fn number(v: Option<&Value>) -> f64 {
    v.and_then(Value::as_f64).unwrap_or(0.0)
}

/// Build a widget's chart from the answers to [`requests`](super::requests) (same order).
pub fn build(w: &Widget, answers: &[Value]) -> Chart {
    let o = &w.options;
    let first = answers.first().cloned().unwrap_or(Value::Null);
    match w.kind.as_str() {
        "donut" => {
            let field = o.field.clone().unwrap_or_default();
            let mut slices = Vec::new();
            if let Some(m) = first.as_object() {
                for (k, v) in m.iter().filter(|(k, v)| v.is_object() && k.as_str() != "count") {
                    slices.push((k.clone(), number(v.get("count"))));
                }
            }
            let desc = o.sort.as_deref().is_none_or(|s| s.starts_with('-'));
            slices.sort_by(|a, b| {
                let c = a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal);
                (if desc { c.reverse() } else { c }).then(a.0.cmp(&b.0))
            });
            let total = slices.iter().map(|s| s.1).sum();
            let slices = slices
                .into_iter()
                .enumerate()
                .map(|(i, (k, v))| {
                    let (label, color) = style_of(w, &field, &k, i);
                    (k, label, v, color)
                })
                .collect();
            Chart::Donut { slices, total }
        }
        "bar" => {
            let df = o.date_field.clone().unwrap_or_else(|| "createdAt".into());
            let field = o.field.clone().unwrap_or_default();
            let mut times: Vec<i64> = first.as_object().map(|m| m.keys().filter_map(|k| k.parse().ok()).collect()).unwrap_or_default();
            times.sort_unstable();
            let mut keys: Vec<(String, f64)> = Vec::new();
            for t in &times {
                if let Some(b) = first.get(t.to_string()).and_then(|b| b.get(&df)).and_then(Value::as_object) {
                    for (k, v) in b.iter().filter(|(_, v)| v.is_object()) {
                        let n = number(v.get("count"));
                        match keys.iter_mut().find(|(x, _)| x == k) {
                            Some(e) => e.1 += n,
                            None => keys.push((k.clone(), n)),
                        }
                    }
                }
            }
            keys.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal).then(a.0.cmp(&b.0)));
            let series = keys
                .iter()
                .enumerate()
                .map(|(i, (k, _))| {
                    let (label, color) = style_of(w, &field, k, i);
                    let values = times
                        .iter()
                        .map(|t| number(first.get(t.to_string()).and_then(|b| b.get(&df)).and_then(|b| b.get(k)).and_then(|b| b.get("count"))))
                        .collect();
                    Series { key: k.clone(), label, color, kind: "bar".into(), values }
                })
                .collect();
            Chart::Bars { times, interval: o.interval.clone().unwrap_or_else(|| "1w".into()), series, stacked: o.stacked.unwrap_or(true) }
        }
        "line" | "multiline" => {
            let specs = o.series.clone().unwrap_or_default();
            let mut merged = Map::new();
            for a in answers {
                if let Some(m) = a.as_object() {
                    for (t, v) in m {
                        let e = merged.entry(t.clone()).or_insert_with(|| json!({}));
                        if let (Some(e), Some(v)) = (e.as_object_mut(), v.as_object()) {
                            for inner in v.values().filter_map(Value::as_object) {
                                for (k, x) in inner {
                                    e.insert(k.clone(), x.clone());
                                }
                            }
                        }
                    }
                }
            }
            let mut times: Vec<i64> = merged.keys().filter_map(|k| k.parse().ok()).collect();
            times.sort_unstable();
            let series = specs
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let name = format!("agg_{}", i + 1);
                    let label = s.label.clone().filter(|l| !l.is_empty()).unwrap_or_else(|| {
                        format!("{} {}", s.agg.clone().unwrap_or_else(|| "count".into()), s.field.clone().unwrap_or_default()).trim().to_string()
                    });
                    let color = s.color.as_deref().and_then(parse_hex).unwrap_or(PALETTE[i % PALETTE.len()]);
                    let values = times.iter().map(|t| number(merged.get(&t.to_string()).and_then(|b| b.get(&name)))).collect();
                    Series { key: name, label, color, kind: s.kind.clone().unwrap_or_else(|| "line".into()), values }
                })
                .collect();
            Chart::Bars { times, interval: o.interval.clone().unwrap_or_else(|| "1w".into()), series, stacked: false }
        }
        "counter" => {
            let specs = o.series.clone().unwrap_or_default();
            let items = specs
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let label = s.label.clone().filter(|l| !l.is_empty()).unwrap_or_else(|| format!("agg_{}", i + 1));
                    (label, number(first.get(format!("agg_{}", i + 1))))
                })
                .collect();
            Chart::Counter { items }
        }
        "text" => {
            let mut text = o.template.clone().unwrap_or_default();
            for (i, a) in answers.iter().enumerate() {
                let name = format!("agg_{}", i + 1);
                text = text.replace(&format!("{{{{{name}}}}}"), &format_number(number(a.get(&name))));
            }
            Chart::Text { text }
        }
        _ => Chart::Empty,
    }
}

pub fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        let s = format!("{}", x as i64);
        // thousands separators
        let (sign, digits) = s.strip_prefix('-').map(|d| ("-", d)).unwrap_or(("", &s));
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        format!("{sign}{out}")
    } else {
        format!("{x:.2}")
    }
}

/// `YYYY-MM-DD` (or shorter for coarse intervals) of a bucket.
pub fn time_label(t: i64, interval: &str) -> String {
    let (y, m, d) = date::civil_from_days(t.div_euclid(DAY));
    match interval {
        "1y" => format!("{y}"),
        "1M" => format!("{y}-{m:02}"),
        _ => format!("{y}-{m:02}-{d:02}"),
    }
}
