//! Alerts: the triage list ([`list`]), its filter in the URL ([`filter`]) and the preview panel
//! with its merge picker ([`preview`]).

pub mod filter;
pub mod list;
pub mod preview;

pub use list::AlertsPage;
