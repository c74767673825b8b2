//! The old home of the dashboard charts, now [`crate::chart`] (and the calendar, [`crate::date`]).
// TODO(layout): remove once the server imports app::chart
pub use crate::chart::*;
pub use crate::date::{civil_from_days, days_from_civil};
