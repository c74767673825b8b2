//! Status counters: `counter:[org, name, status]` records that the tables' events keep
//! (`migrations/0002_cases.surql`, `0003_alerts.surql`, `0008_alert_counters_by_writers.surql`),
//! read instead of counting for the lists everyone opens.
//!
//! The alerts' batch writers each count in their own records ([`ALERT_LANES`] per status and
//! process, [`ALERT_SLOTS`] processes), so concurrent batches never write the same record: lane 0 writes `counter:[org, 'alerts',
//! status]` (the record the `alert_count` event writes too), lane k `counter:[org, 'alerts',
//! status, k]`. A status's total is the sum of its records.

use serde_json::{Value, json};

/// Alert batch writers of a process, each with its counter records.
pub const ALERT_LANES: usize = 2;
/// Sets of [`ALERT_LANES`] counter records: several Waggle processes on one SurrealDB server
/// each take one at random, so their writers seldom write the same record (a shared slot only
/// costs retried transactions). The embedded engine's only process takes slot 0.
pub const ALERT_SLOTS: usize = 4;

/// How many records count one status of the table counted as `name`.
pub fn lanes(name: &str) -> usize {
    if name == "alerts" { ALERT_LANES * ALERT_SLOTS } else { 1 }
}

/// The counter record of `status` written by `lane`, without its leading organisation (queries
/// prepend `$org`).
pub fn key(name: &str, status: &str, lane: usize) -> Value {
    if lane == 0 { json!([name, status]) } else { json!([name, status, lane]) }
}

/// Every counter record of these statuses, status after status, [`lanes`] records each.
pub fn keys(name: &str, statuses: &[&str]) -> Vec<Value> {
    statuses.iter().flat_map(|s| (0..lanes(name)).map(move |lane| key(name, s, lane))).collect()
}
