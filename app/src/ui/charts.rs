//! Dashboard widgets: the statistics requests they make (TheHive 3's), the chart data built
//! from the answers, and the drawing, with plotters, on any backend: SVG in the browser, a
//! bitmap (PNG) on the server. Plain Rust, no browser APIs: unit-tested, shared by both sides.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::{Map, Value, json};

use crate::model::{Definition, Widget};

const DAY: i64 = 86_400_000;

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

fn as_ms(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_f64().map(|x| x as i64),
        Value::String(s) => {
            // YYYY-MM-DD (as date inputs give it)
            let p: Vec<&str> = s.get(..10)?.split('-').collect();
            let (y, m, d) = (p.first()?.parse().ok()?, p.get(1)?.parse().ok()?, p.get(2)?.parse().ok()?);
            Some(days_from_civil(y, m, d) * DAY)
        }
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

/// What a widget shows, built from the statistics answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// Slices: (key, label, value, colour).
    Donut { slices: Vec<(String, String, f64, RGBColor)>, total: f64 },
    /// Time buckets and series of values (one per bucket).
    Bars { times: Vec<i64>, interval: String, series: Vec<Series>, stacked: bool },
    Counter { items: Vec<(String, f64)> },
    Text { text: String },
    Empty,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub key: String,
    pub label: String,
    pub color: RGBColor,
    /// `bar`, `line`, `area`...
    pub kind: String,
    pub values: Vec<f64>,
}

pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x3b, 0x7d, 0xd8),
    RGBColor(0xf5, 0xb7, 0x0a),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x17, 0xbe, 0xcf),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0x7f, 0x7f, 0x7f),
];

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

/// Build a widget's chart from the answers to [`requests`] (same order).
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
    let (y, m, d) = civil_from_days(t.div_euclid(DAY));
    match interval {
        "1y" => format!("{y}"),
        "1M" => format!("{y}-{m:02}"),
        _ => format!("{y}-{m:02}-{d:02}"),
    }
}

/// Colours of a theme.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub background: RGBColor,
    pub text: RGBColor,
    pub muted: RGBColor,
    pub grid: RGBColor,
}

impl Theme {
    pub fn light() -> Theme {
        Theme { background: RGBColor(255, 255, 255), text: RGBColor(0x1d, 0x23, 0x30), muted: RGBColor(0x5f, 0x6b, 0x7a), grid: RGBColor(0xd9, 0xdd, 0xe3) }
    }
    pub fn dark() -> Theme {
        Theme { background: RGBColor(0x1c, 0x20, 0x27), text: RGBColor(0xe3, 0xe6, 0xeb), muted: RGBColor(0x9a, 0xa4, 0xb2), grid: RGBColor(0x31, 0x38, 0x45) }
    }
    pub fn named(name: &str) -> Theme {
        if name == "dark" { Theme::dark() } else { Theme::light() }
    }
}

/// A clickable part of a chart: a slice or a bar segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub key: String,
    /// The time bucket of a bar.
    pub time: Option<i64>,
}

const FONT: &str = "sans-serif";
const TOP: i32 = 6;

fn legend_rows(n: usize, width: i32) -> i32 {
    let per_row = ((width - 20) / 130).max(1) as usize;
    n.div_ceil(per_row) as i32
}

/// Geometry of a donut: centre and radius.
fn donut_geometry(w: i32, h: i32, title: i32) -> (i32, i32, i32) {
    let r = ((h - title - 16) / 2).min(w / 4).max(10);
    (r + 12, title + 8 + r, r)
}

/// Geometry of a bar chart: plot rectangle (x0, y0, x1, y1).
fn plot_rect(w: i32, h: i32, title: i32, legend: i32) -> (i32, i32, i32, i32) {
    (48, title + TOP + legend * 18 + 6, w - 12, h - 30)
}

/// Draw a chart. `title` is drawn on top when given (server images); the browser shows it in
/// the card header instead.
pub fn draw<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, chart: &Chart, theme: &Theme, title: Option<&str>) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    area.fill(&theme.background).map_err(e)?;
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let text = |size: u32, c: RGBColor| {
        let mut style = TextStyle::from((FONT, size).into_font());
        style.color = c.to_backend_color();
        style
    };
    let mut top = 0;
    if let Some(t) = title {
        area.draw(&Text::new(t.to_string(), (10, 8), text(15, theme.text))).map_err(e)?;
        top = 26;
    }
    match chart {
        Chart::Empty => {}
        Chart::Donut { slices, total } if *total <= 0.0 || slices.is_empty() => {
            let style = text(14, theme.muted).pos(Pos::new(HPos::Center, VPos::Center));
            area.draw(&Text::new("No data for this period".to_string(), (w / 2, h / 2), style)).map_err(e)?;
        }
        Chart::Donut { slices, total } => {
            let (cx, cy, r) = donut_geometry(w, h, top);
            let hole = r as f64 * 0.55;
            let mut angle = -std::f64::consts::FRAC_PI_2;
            for (_, _, v, color) in slices {
                let sweep = v / total * std::f64::consts::TAU;
                let steps = ((sweep / 0.05).ceil() as usize).max(2);
                let mut pts = Vec::with_capacity(steps * 2 + 2);
                for i in 0..=steps {
                    let a = angle + sweep * i as f64 / steps as f64;
                    pts.push((cx + (r as f64 * a.cos()) as i32, cy + (r as f64 * a.sin()) as i32));
                }
                for i in (0..=steps).rev() {
                    let a = angle + sweep * i as f64 / steps as f64;
                    pts.push((cx + (hole * a.cos()) as i32, cy + (hole * a.sin()) as i32));
                }
                area.draw(&Polygon::new(pts.clone(), color.filled())).map_err(e)?;
                pts.push(pts[0]);
                area.draw(&PathElement::new(pts, theme.background.stroke_width(1))).map_err(e)?;
                angle += sweep;
            }
            let center = text(18, theme.text).pos(Pos::new(HPos::Center, VPos::Center));
            area.draw(&Text::new(format_number(*total), (cx, cy), center)).map_err(e)?;
            // Legend: colour, label, count and share.
            let lx = cx + r + 18;
            let max_rows = ((h - top - 10) / 18).max(1) as usize;
            for (i, (_, label, v, color)) in slices.iter().take(max_rows).enumerate() {
                let y = top + 10 + i as i32 * 18;
                area.draw(&Rectangle::new([(lx, y), (lx + 11, y + 11)], color.filled())).map_err(e)?;
                area.draw(&Rectangle::new([(lx, y), (lx + 11, y + 11)], theme.grid.stroke_width(1))).map_err(e)?;
                let pct = v / total * 100.0;
                let line = format!("{}  {} ({pct:.0}%)", truncate(label, 28), format_number(*v));
                area.draw(&Text::new(line, (lx + 17, y), text(12, theme.text))).map_err(e)?;
            }
        }
        Chart::Bars { times, interval, series, stacked } => {
            if times.is_empty() || series.is_empty() {
                let style = text(14, theme.muted).pos(Pos::new(HPos::Center, VPos::Center));
                area.draw(&Text::new("No data for this period".to_string(), (w / 2, h / 2), style)).map_err(e)?;
                return Ok(());
            }
            let rows = legend_rows(series.len(), w);
            for (i, s) in series.iter().enumerate() {
                let per_row = ((w - 20) / 130).max(1);
                let (row, col) = (i as i32 / per_row, i as i32 % per_row);
                let (x, y) = (10 + col * 130, top + TOP + row * 18);
                area.draw(&Rectangle::new([(x, y + 1), (x + 10, y + 11)], s.color.filled())).map_err(e)?;
                area.draw(&Text::new(truncate(&s.label, 16), (x + 14, y), text(11, theme.text))).map_err(e)?;
            }
            let (x0, y0, x1, y1) = plot_rect(w, h, top, rows);
            let n = times.len();
            let bar_stack = |i: usize| -> f64 { series.iter().filter(|s| s.kind == "bar").map(|s| s.values[i]).sum() };
            let max = (0..n)
                .map(|i| {
                    let lines = series.iter().filter(|s| s.kind != "bar").map(|s| s.values[i]).fold(0.0, f64::max);
                    let bars = if *stacked { bar_stack(i) } else { series.iter().filter(|s| s.kind == "bar").map(|s| s.values[i]).fold(0.0, f64::max) };
                    lines.max(bars)
                })
                .fold(0.0, f64::max)
                .max(1.0);
            let max = nice_max(max);
            let yof = |v: f64| y1 - ((v / max) * (y1 - y0) as f64) as i32;
            for k in 0..=4 {
                let v = max * k as f64 / 4.0;
                let y = yof(v);
                area.draw(&PathElement::new(vec![(x0, y), (x1, y)], theme.grid.stroke_width(1))).map_err(e)?;
                let style = text(10, theme.muted).pos(Pos::new(HPos::Right, VPos::Center));
                area.draw(&Text::new(format_number(v), (x0 - 4, y), style)).map_err(e)?;
            }
            let slot = (x1 - x0) as f64 / n as f64;
            let bars: Vec<&Series> = series.iter().filter(|s| s.kind == "bar").collect();
            for i in 0..n {
                let sx = x0 as f64 + slot * i as f64;
                let bw = (slot * 0.8).max(1.0);
                let bx = sx + slot * 0.1;
                let mut acc = 0.0;
                for (j, s) in bars.iter().enumerate() {
                    let v = s.values[i];
                    if v <= 0.0 {
                        continue;
                    }
                    let (a, b, l, r) = if *stacked || bars.len() == 1 {
                        let r = (acc, acc + v, bx, bx + bw);
                        acc += v;
                        r
                    } else {
                        let each = bw / bars.len() as f64;
                        (0.0, v, bx + each * j as f64, bx + each * (j + 1) as f64)
                    };
                    area.draw(&Rectangle::new([(l as i32, yof(b)), ((r as i32).max(l as i32 + 1), yof(a))], s.color.filled())).map_err(e)?;
                }
            }
            for s in series.iter().filter(|s| s.kind != "bar") {
                let pts: Vec<(i32, i32)> = (0..n).map(|i| ((x0 as f64 + slot * (i as f64 + 0.5)) as i32, yof(s.values[i]))).collect();
                if s.kind.contains("area") {
                    let mut poly = pts.clone();
                    poly.push((pts[pts.len() - 1].0, y1));
                    poly.push((pts[0].0, y1));
                    area.draw(&Polygon::new(poly, s.color.mix(0.3).filled())).map_err(e)?;
                }
                area.draw(&PathElement::new(pts.clone(), s.color.stroke_width(2))).map_err(e)?;
                for p in pts {
                    area.draw(&Circle::new(p, 2, s.color.filled())).map_err(e)?;
                }
            }
            area.draw(&PathElement::new(vec![(x0, y1), (x1, y1)], theme.muted.stroke_width(1))).map_err(e)?;
            let every = ((n as f64 * 70.0 / (x1 - x0).max(1) as f64).ceil() as usize).max(1);
            for i in (0..n).step_by(every) {
                let x = (x0 as f64 + slot * (i as f64 + 0.5)) as i32;
                let style = text(10, theme.muted).pos(Pos::new(HPos::Center, VPos::Top));
                area.draw(&Text::new(time_label(times[i], interval), (x, y1 + 5), style)).map_err(e)?;
            }
        }
        Chart::Counter { items } => {
            let n = items.len().max(1) as i32;
            let cw = (w - 20) / n;
            for (i, (label, v)) in items.iter().enumerate() {
                let cx = 10 + cw * i as i32 + cw / 2;
                let big = text(30, theme.text).pos(Pos::new(HPos::Center, VPos::Center));
                area.draw(&Text::new(format_number(*v), (cx, top + (h - top) / 2 - 10), big)).map_err(e)?;
                let small = text(12, theme.muted).pos(Pos::new(HPos::Center, VPos::Center));
                area.draw(&Text::new(truncate(label, 30), (cx, top + (h - top) / 2 + 22), small)).map_err(e)?;
            }
        }
        Chart::Text { text: t } => {
            for (i, line) in t.lines().take(((h - top) / 18).max(1) as usize).enumerate() {
                let line = line.trim_start_matches('#').trim();
                area.draw(&Text::new(line.to_string(), (12, top + 10 + i as i32 * 18), text(13, theme.text))).map_err(e)?;
            }
        }
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n - 1).collect::<String>()) }
}

/// A round axis maximum (1, 2, 5 × 10^k).
fn nice_max(x: f64) -> f64 {
    let p = 10f64.powf(x.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if x <= m * p {
            return m * p;
        }
    }
    10.0 * p
}

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
            let max = nice_max(max_total.max(lines_max));
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
    Some((format!("{page}?q={}", crate::ui::shell::encode_component(&q.to_string())), q))
}

fn next_bucket(t: i64, interval: &str) -> i64 {
    let (y, m, _) = civil_from_days(t.div_euclid(DAY));
    match interval {
        "1M" => {
            let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            days_from_civil(y, m, 1) * DAY
        }
        "1y" => days_from_civil(y + 1, 1, 1) * DAY,
        "1w" => t + 7 * DAY,
        other => {
            let n: i64 = other[..other.len().saturating_sub(1)].parse().unwrap_or(1);
            match other.chars().last() {
                Some('h') => t + n * 3_600_000,
                _ => t + n * DAY,
            }
        }
    }
}

/// The chart's data as CSV (`;` separated), for spreadsheets.
pub fn csv(chart: &Chart, interval_label: bool) -> String {
    let q = |s: &str| if s.contains([';', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() };
    let mut out = String::new();
    match chart {
        Chart::Donut { slices, .. } => {
            out.push_str("value;label;count\n");
            for (k, l, v, _) in slices {
                out.push_str(&format!("{};{};{}\n", q(k), q(l), v));
            }
        }
        Chart::Bars { times, interval, series, .. } => {
            out.push_str("date");
            for s in series {
                out.push(';');
                out.push_str(&q(&s.label));
            }
            out.push('\n');
            for (i, t) in times.iter().enumerate() {
                out.push_str(&if interval_label { time_label(*t, interval) } else { t.to_string() });
                for s in series {
                    out.push_str(&format!(";{}", s.values[i]));
                }
                out.push('\n');
            }
        }
        Chart::Counter { items } => {
            out.push_str("label;value\n");
            for (l, v) in items {
                out.push_str(&format!("{};{}\n", q(l), v));
            }
        }
        Chart::Text { text } => {
            out.push_str("text\n");
            out.push_str(&q(text));
            out.push('\n');
        }
        Chart::Empty => {}
    }
    out
}

/// The chart as an SVG document.
pub fn svg(chart: &Chart, w: u32, h: u32, theme: &Theme, title: Option<&str>) -> String {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (w, h)).into_drawing_area();
        let _ = draw(&root, chart, theme, title);
        let _ = root.present();
    }
    buf
}

/// Days since 1970-01-01 to (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::WidgetOptions;

    fn donut() -> Widget {
        Widget {
            kind: "donut".into(),
            id: "w".into(),
            options: WidgetOptions { entity: Some("alert".into()), field: Some("status".into()), query: Some(json!({})), ..Default::default() },
            extra: Map::new(),
        }
    }

    #[test]
    fn requests_apply_the_period() {
        let mut def = Definition::default();
        def.period = "last7Days".into();
        let r = requests(&donut(), &def, 100 * DAY);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].0, "alert");
        assert_eq!(r[0].1["query"], json!({"_between": {"_field": "createdAt", "_from": 93 * DAY, "_to": null}}));
        assert_eq!(r[0].1["stats"][0]["_field"], "status");
        def.period = "all".into();
        assert_eq!(requests(&donut(), &def, 0)[0].1["query"], json!({}));
        def.period = "custom".into();
        def.custom_period.from_date = Some(json!("2024-01-01"));
        def.custom_period.to_date = Some(json!("2024-01-31"));
        let q = &requests(&donut(), &def, 0)[0].1["query"]["_between"];
        assert_eq!(q["_from"], 1_704_067_200_000i64);
        assert_eq!(q["_to"], 1_704_067_200_000i64 + 31 * DAY);
    }

    #[test]
    fn donut_data_hits_links_and_csv() {
        let chart = build(&donut(), &[json!({"New": {"count": 3}, "Ignored": {"count": 1}, "count": 4})]);
        let Chart::Donut { slices, total } = &chart else { panic!("{chart:?}") };
        assert_eq!(*total, 4.0);
        assert_eq!(slices[0].0, "New");
        // The first slice starts at 12 o'clock, clockwise: a point right of centre is in it.
        let (cx, cy, r) = donut_geometry(480, 300, 0);
        assert_eq!(hit(&chart, 480, 300, cx + r * 3 / 4, cy).map(|h| h.key), Some("New".into()));
        assert_eq!(hit(&chart, 480, 300, cx - r * 3 / 4, cy - 5).map(|h| h.key), Some("Ignored".into()));
        assert_eq!(hit(&chart, 480, 300, cx, cy), None, "the hole");
        let (url, q) = drill_down(&donut(), &Definition::default(), 0, &Hit { key: "New".into(), time: None }).unwrap();
        assert_eq!(q, json!({"_field": "status", "_value": "New"}));
        assert!(url.starts_with("/alerts?q=%7B"), "{url}");
        assert_eq!(csv(&chart, true), "value;label;count\nNew;New;3\nIgnored;Ignored;1\n");
        let svg = svg(&chart, 480, 300, &Theme::light(), Some("Alerts"));
        assert!(svg.starts_with("<svg") && svg.contains("Alerts") && svg.contains("New"), "{svg}");
    }

    #[test]
    fn stacked_bars() {
        let mut w = donut();
        w.kind = "bar".into();
        w.options.field = Some("severity".into());
        w.options.date_field = Some("createdAt".into());
        let t = 1_704_067_200_000i64;
        let answer = json!({
            t.to_string(): {"createdAt": {"2": {"count": 2}, "3": {"count": 1}}},
            (t + 7 * DAY).to_string(): {"createdAt": {"2": {"count": 4}}},
        });
        let chart = build(&w, &[answer]);
        let Chart::Bars { times, series, .. } = &chart else { panic!() };
        assert_eq!(times, &vec![t, t + 7 * DAY]);
        assert_eq!(series[0].label, "Medium");
        assert_eq!(series[0].values, vec![2.0, 4.0]);
        assert_eq!(series[1].values, vec![1.0, 0.0]);
        assert_eq!(csv(&chart, true), "date;Medium;High\n2024-01-01;2;1\n2024-01-08;4;0\n");
        // Bottom of the second bar: severity 2 in the second week.
        let (x0, _, x1, y1) = plot_rect(480, 300, 0, 1);
        let x = x0 + (x1 - x0) * 3 / 4;
        assert_eq!(hit(&chart, 480, 300, x, y1 - 2), Some(Hit { key: "2".into(), time: Some(t + 7 * DAY) }));
        let (_, q) = drill_down(&w, &Definition::default(), 0, &Hit { key: "2".into(), time: Some(t) }).unwrap();
        assert_eq!(q["_and"][0], json!({"_field": "severity", "_value": 2}));
        assert_eq!(q["_and"][1]["_between"]["_to"], t + 7 * DAY);
    }

    #[test]
    fn numbers_and_labels() {
        assert_eq!(format_number(1234567.0), "1,234,567");
        assert_eq!(format_number(-1000.0), "-1,000");
        assert_eq!(format_number(2.5), "2.50");
        assert_eq!(time_label(1_704_067_200_000, "1M"), "2024-01");
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(130.0), 200.0);
        assert_eq!(style_of(&donut(), "tlp", "2", 0).0, "AMBER");
    }
}
