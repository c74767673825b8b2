//! Benchmarks printed by `waggle-bench` (figures, not assertions).

pub mod dashboards;

use serde_json::Value;

use crate::state::AppState;
use crate::store::Store;
use crate::vars;

/// Records of `table`, every organisation together (benchmark stores hold one working one).
pub async fn count(store: &Store, table: &str) -> anyhow::Result<usize> {
    let mut r = store.query(&format!("SELECT count() AS n FROM {table} GROUP ALL"), vars! {}).await?;
    let v: Option<Value> = r.one(0)?;
    Ok(v.and_then(|v| v.get("n").and_then(Value::as_u64)).unwrap_or(0) as usize)
}

/// Wait until the statistics index has loaded, and say how long it took: measure the server in
/// its steady state (on a kept store the load takes a core for a minute or more).
pub async fn wait_for_stats_index(state: &AppState) {
    let started = std::time::Instant::now();
    while !state.stats.is_ready() {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    println!("Statistics index ready after {:.1} s", started.elapsed().as_secs_f64());
}

/// Wait until the server's startup reads are done (statistics index, lookup indexes): the
/// figures are those of a server that has finished starting.
pub async fn wait_for_startup(running: &crate::server::Running) {
    let started = std::time::Instant::now();
    wait_for_stats_index(&running.state).await;
    let _ = running.warmed.clone().wait_for(|w| *w).await;
    println!("Startup reads done after {:.1} s", started.elapsed().as_secs_f64());
}

/// p50 and p99 of durations in milliseconds.
pub fn percentiles(mut ms: Vec<f64>) -> (f64, f64) {
    if ms.is_empty() {
        return (0.0, 0.0);
    }
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let at = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    (at(0.50), at(0.99))
}
