//! The pages, by area. Each area folder holds its pages, their dialogs and the area's UI logic
//! as plain, unit-tested Rust (the lists' filters).
//!
//! - [`cases`]: the cases list, a case (details, tasks, observables, activity), the filter.
//! - [`alerts`]: the triage list, its filter, the preview panel.
//! - [`dashboards`]: the list and a dashboard of charts ([`crate::chart`] draws them).
//! - [`admin`]: organisations, users, case templates, custom fields, alert sources.
//! - [`login`], [`profile`], [`about`].

pub mod about;
pub mod admin;
pub mod alerts;
pub mod cases;
pub mod dashboards;
pub mod login;
pub mod profile;
