//! Drawing a chart with plotters on any backend: SVG in the browser, a bitmap (PNG) on the
//! server. The geometry is shared with hit-testing ([`super::hit()`]).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::build::{format_number, time_label};
use super::model::{Chart, Series, Theme};

const FONT: &str = "sans-serif";
const TOP: i32 = 6;

pub(super) fn legend_rows(n: usize, width: i32) -> i32 {
    let per_row = ((width - 20) / 130).max(1) as usize;
    n.div_ceil(per_row) as i32
}

/// Geometry of a donut: centre and radius.
pub(super) fn donut_geometry(w: i32, h: i32, title: i32) -> (i32, i32, i32) {
    let r = ((h - title - 16) / 2).min(w / 4).max(10);
    (r + 12, title + 8 + r, r)
}

/// Geometry of a bar chart: plot rectangle (x0, y0, x1, y1).
pub(super) fn plot_rect(w: i32, h: i32, title: i32, legend: i32) -> (i32, i32, i32, i32) {
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
                let room = (((w - lx - 17) as f64 / 6.5) as usize).saturating_sub(12).clamp(6, 28);
                let line = format!("{}  {} ({pct:.0}%)", truncate(label, room), format_number(*v));
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
            let max = axis_max(max, series);
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

/// A round axis maximum (1, 2, 4, 8, 12 × 10^k: the four grid steps stay round).
pub(super) fn nice_max(x: f64) -> f64 {
    let p = 10f64.powf(x.log10().floor());
    for m in [1.0, 2.0, 4.0, 8.0, 12.0] {
        if x <= m * p {
            return m * p;
        }
    }
    12.0 * p
}

/// The y axis maximum of a bar/line chart: counts (whole numbers) get whole grid steps.
pub(super) fn axis_max(max: f64, series: &[Series]) -> f64 {
    let whole = series.iter().all(|s| s.values.iter().all(|v| v.fract() == 0.0));
    if !whole {
        return nice_max(max);
    }
    let m = nice_max(max.max(4.0));
    if (m / 4.0).fract() == 0.0 { m } else { (m / 4.0).ceil() * 4.0 }
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
