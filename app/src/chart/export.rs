//! A chart's data as CSV (`;` separated, for spreadsheets), through the one CSV writer
//! ([`crate::csv`]): labels that look like formulas are neutralised.

use super::build::time_label;
use super::model::Chart;
use crate::csv::Csv;

/// The chart's data as CSV; `interval_label` writes bucket dates as `YYYY-MM-DD` (or `YYYY-MM`,
/// `YYYY`) instead of epoch milliseconds.
pub fn csv(chart: &Chart, interval_label: bool) -> String {
    let mut out = Csv::new(';');
    match chart {
        Chart::Donut { slices, .. } => {
            out.row(["value", "label", "count"]);
            for (k, l, v, _) in slices {
                out.row([k.clone(), l.clone(), v.to_string()]);
            }
        }
        Chart::Bars { times, interval, series, .. } => {
            out.row(std::iter::once("date".to_string()).chain(series.iter().map(|s| s.label.clone())));
            for (i, t) in times.iter().enumerate() {
                let date = if interval_label { time_label(*t, interval) } else { t.to_string() };
                let values = series.iter().map(|s| s.values.get(i).copied().unwrap_or(0.0).to_string());
                out.row(std::iter::once(date).chain(values));
            }
        }
        Chart::Counter { items } => {
            out.row(["label", "value"]);
            for (l, v) in items {
                out.row([l.clone(), v.to_string()]);
            }
        }
        Chart::Text { text } => {
            out.row(["text"]);
            out.row([text]);
        }
        Chart::Empty => {}
    }
    out.finish()
}
