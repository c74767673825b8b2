//! Every rule of Waggle, one folder per area. The areas are layered, top to bottom; an area uses
//! only those below it (`tests/layers.rs` checks it):
//!
//! 1. [`platform`]: status and health, connectors, what a new organisation starts with.
//! 2. [`dashboard`]: dashboards, their widgets' statistics, PNG rendering.
//! 3. [`analysis`]: the analysis engine: analyzer definitions, the analyzers organisations
//!    enable, jobs (queue, quotas, cache, runs) and their reports on observables.
//! 4. [`alert`]: alerts, their ingestion queue, import into cases, similarity.
//! 5. [`case`]: cases, merge, tasks, task logs, observables, case templates.
//! 6. [`catalog`]: an organisation's custom fields, observable data types and metrics.
//! 7. [`identity`]: organisations, users and their memberships, UI preferences.

pub mod alert;
pub mod analysis;
pub mod case;
pub mod catalog;
pub mod dashboard;
pub mod identity;
pub mod platform;
