//! Dashboards: the list (mine and shared; `list`), and a dashboard's rows of widgets drawn with
//! plotters (SVG) by [`crate::chart`], with the period, auto-refresh, drill-down to the
//! cases/alerts lists (`dashboard`), the widget editor with its query builder (`editor`), and
//! exports: PNG (`export`), SVG, CSV, JSON.

mod dashboard;
mod editor;
mod export;
mod list;

pub use dashboard::DashboardPage;
pub use list::DashboardsPage;

/// Size charts are drawn at (the SVG scales to its card).
pub const CHART_W: u32 = 560;
pub const CHART_H: u32 = 300;
