//! What a widget shows (the chart built from the statistics answers), the colours it is drawn
//! in, and what a click on it hits.

use plotters::style::RGBColor;

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
