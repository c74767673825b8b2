//! Dashboard charts: the statistics requests a widget makes (TheHive 3's shapes), the chart
//! built from the answers, its drawing with plotters on any backend (SVG in the browser, a
//! bitmap, PNG, on the server), what a click hits and where it drills down to, and its data as
//! CSV. Plain Rust without Leptos or browser APIs: unit-tested, shared by both sides.
//!
//! - [`requests`] -> answers from the server's statistics -> [`build()`] -> [`Chart`]
//! - [`draw()`] / [`svg`] the chart; [`hit()`] and [`drill_down`] for clicks; [`csv()`] for
//!   export.

mod build;
mod draw;
mod export;
mod hit;
mod model;
mod request;

pub use build::{build, format_number, style_of, time_label};
pub use draw::{draw, svg};
pub use export::csv;
pub use hit::{drill_down, hit};
pub use model::{Chart, Hit, PALETTE, Series, Theme};
pub use request::{and, model_of, period_filter, requests};

#[cfg(test)]
mod tests;
