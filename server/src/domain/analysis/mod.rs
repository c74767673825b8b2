//! The analysis engine (Cortex, embedded): analyzers run on observables (and values and files
//! sent through the Cortex API) and their reports.
//!
//! Rules:
//! - Definitions come from the analyzers directories (`catalog`), rescanned on demand (by
//!   organisation-admins and platform administrators); one whose command leaves its directory
//!   is refused.
//! - An organisation-admin enables a definition as an analyzer of the organisation
//!   (`analyzer`): its configuration is checked against the definition's items, secrets are
//!   sealed at rest (`settings`) and never shown.
//! - A job (`job`) runs on an observable, a value or a file sent with the request (the Cortex
//!   API; the organisation holds the file from the job's creation on). It is persisted before
//!   it is queued; the queue (`core::analysis::queue`) starts it when the analyzer's rate allows
//!   (over the rate it waits, or with `overQuota: refuse` it is refused with 429) and a
//!   concurrency permit is free. A job found InProgress at start is queued again: no job stays
//!   stuck.
//! - The same input within the analyzer's `jobCache` minutes is answered from the cache
//!   (`fromCache`), costs no quota; `force` bypasses it.
//! - External Cortex servers (`remote`): their analyzers beside the local ones; a job on one is
//!   queued like a local one, sent with Cortex's API and followed until it ends.
//! - A successful report's taxonomies become the observable's mini-report
//!   (`reports.<analyzer name>.taxonomies`); its artifacts can be added as observables.

pub mod analyzer;
pub mod catalog;
pub mod engine;
pub mod job;
pub mod remote;
mod run;
pub mod settings;
