//! Waggle's shared types and web UI (Leptos, client-side rendered).
//!
//! Shared with the server (plain Rust, no Leptos components, wasm-safe):
//! - [`model`]: types shared by the server and the browser (serde only).
//! - [`api`]: server functions, the UI's calls to the server (behind a backend trait).
//! - [`chart`]: dashboard charts: statistics requests, chart data, drawing (SVG in the
//!   browser, PNG on the server), hit-testing, CSV.
//! - [`date`]: the calendar (UTC days, `YYYY-MM-DD`), the one place for date arithmetic.
//! - [`url`]: query strings (percent-encoding, `k=v` pairs).
//! - [`csv`]: the one CSV writer (quoting, formula neutralisation).
//!
//! Browser only:
//! - [`ui`]: the components and pages.

// The server's build (ssr, views not type-erased) lays out the lazily loaded pages' futures
// (`ui::split`) deeper than the default limit of 128.
#![recursion_limit = "256"]

pub mod api;
pub mod chart;
pub mod csv;
pub mod date;
pub mod model;
pub mod ui;
pub mod url;
