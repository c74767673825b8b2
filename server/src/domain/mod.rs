//! Every rule of Waggle, one folder per area. The areas are layered, top to bottom; an area uses
//! only those below it (`tests/layers.rs` checks it):
//!
//! 1. [`platform`]: status and health, connectors, what a new organisation starts with.
//! 2. [`dashboard`]: dashboards, their widgets' statistics, PNG rendering.
//! 3. [`alert`]: alerts, their ingestion queue, import into cases, similarity.
//! 4. [`case`]: cases, merge, tasks, task logs, observables, case templates.
//! 5. [`catalog`]: an organisation's custom fields, observable data types and metrics.
//! 6. [`identity`]: organisations, users and their memberships, UI preferences.

pub mod alert;
pub mod case;
pub mod catalog;
pub mod dashboard;
pub mod identity;
pub mod platform;
