//! Every rule of Waggle, one folder per area. The areas are layered, top to bottom; an area uses
//! only those below it (`tests/layers.rs` checks it):
//!
//! 1. [`platform`]: status and health, connectors, what a new organisation starts with.
//! 2. [`dashboard`]: dashboards, their widgets' statistics, PNG rendering.
//!    [`report`]: case reports (PDF, HTML, markdown) through report templates; it reads cases,
//!    alerts and analysis reports.
//! 3. [`analysis`]: the analysis engine: analyzer definitions, the analyzers organisations
//!    enable, jobs (queue, quotas, cache, runs) and their reports on observables.
//! 4. [`collab`]: what analysts add to cases and alerts alike: comments, ATT&CK procedures,
//!    attached files.
//! 5. [`alert`]: alerts, their ingestion queue, import into cases, similarity.
//! 6. [`case`]: cases, merge, tasks, task logs, observables, case templates, TheHive 5's
//!    statuses, pages and page templates, timeline events, declared links.
//! 7. [`catalog`]: an organisation's custom fields, observable data types, metrics and the
//!    MITRE ATT&CK catalogue.
//! 8. [`identity`]: organisations, users and their memberships, UI preferences.

pub mod alert;
pub mod analysis;
pub mod case;
pub mod catalog;
pub mod collab;
pub mod dashboard;
pub mod identity;
pub mod misp;
pub mod platform;
pub mod report;
