//! Warming the indexes that point lookups read, once at start.
//!
//! A freshly opened embedded store has an empty block cache, and after a reboot the operating
//! system's page cache is empty too: the first lookup of each value reads the index's blocks
//! from disk (64 KiB each, milliseconds apiece on a virtual disk). The statistics index's load
//! already reads every record, so records are cached; the indexes below are not. Reading them
//! once in the background makes the first lookups as fast as the later ones.
//!
//! Measured on the benchmark store (1M observables): before, the first pass of lookups over
//! values not yet read had p99 5.7-11.5 ms (cold blocks), later passes 1.5-1.7 ms.

use std::time::Instant;

use serde_json::Value;

use super::Store;
use crate::core::error::Result;
use crate::vars;

/// `(table, index)`: the indexes whose lookups answer analysts one value at a time (an
/// observable's "seen in other cases", the lookup across cases, an alert's similar cases).
pub const LOOKUP_INDEXES: &[(&str, &str)] = &[("observable", "observable_value")];

/// Read every entry of [`LOOKUP_INDEXES`], organisation by organisation; returns the entries
/// read. Only the embedded engine has a cache in this process worth filling.
pub async fn lookup_indexes(store: &Store) -> Result<u64> {
    if store.info().engine != "surrealkv" {
        return Ok(0);
    }
    let started = Instant::now();
    let mut r = store.query("SELECT VALUE record::id(id) FROM organisation", vars! {}).await?;
    let orgs: Vec<String> = r.rows(0)?;
    let mut entries = 0;
    for org in &orgs {
        let org = store.org(org);
        for (table, index) in LOOKUP_INDEXES {
            // `WITH INDEX` makes the scan read the index (its key order), not the table.
            let sql = format!("SELECT count() AS n FROM `{table}` WITH INDEX {index} WHERE org = $org GROUP ALL");
            let mut r = org.query(&sql, vars! {}).await?;
            let rows: Vec<Value> = r.rows(0)?;
            entries += rows.first().and_then(|v| v.get("n")).and_then(Value::as_u64).unwrap_or(0);
        }
    }
    tracing::info!(ms = started.elapsed().as_millis() as u64, entries, "lookup indexes warmed");
    Ok(entries)
}
