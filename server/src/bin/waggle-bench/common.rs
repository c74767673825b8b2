//! What the benchmarks share: the seeding helpers, the figures' format, waiting for startup.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;

use waggle::core::state::AppState;
use waggle::core::store::{OrgStore, Store};
use waggle::vars;

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
pub async fn wait_for_startup(running: &waggle::server::Running) {
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

pub const PASSWORD: &str = "bench-admin-password";
pub const TYPES: &[&str] = &["ip", "domain", "url", "hash", "mail", "filename"];
pub const TASKS: &[&str] = &["Identification", "Containment", "Eradication", "Recovery", "Lessons learned"];
pub const WORDS: &[&str] = &["phishing", "ransomware", "beaconing", "credential", "exfiltration", "malware", "scan", "brute-force", "lateral", "invoice"];
/// Values shared by several cases (so lookups and "seen" find more than one).
pub const SHARED_PER_TYPE: usize = 20_000;

pub fn value(t: &str, n: u64) -> String {
    match t {
        "ip" => format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255),
        "domain" => format!("host{n}.example.net"),
        "url" => format!("https://cdn{}.example.org/p/{n}", n % 97),
        "hash" => format!("{:064x}", (n as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)),
        "mail" => format!("user{n}@example.com"),
        _ => format!("invoice_{n}.pdf.exe"),
    }
}

pub fn quantile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

pub fn report(name: &str, mut d: Vec<Duration>, target_p99: Option<f64>) {
    d.sort();
    let (p50, p99, max) = (quantile(&d, 0.5), quantile(&d, 0.99), quantile(&d, 1.0));
    let verdict = match target_p99 {
        Some(t) if p99 <= t => format!("target p99 <= {t} ms: met"),
        Some(t) => format!("target p99 <= {t} ms: MISSED by {:.1} ms", p99 - t),
        None => String::new(),
    };
    println!("{name:<52} n={:<5} p50={p50:>8.2} ms  p99={p99:>8.2} ms  max={max:>8.2} ms  {verdict}", d.len());
}

/// The resident memory of another process, in MiB.
pub fn rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) / 1024
}

pub fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (kb("VmRSS:") / 1024, kb("VmHWM:") / 1024)
}

/// Insert rows in batches (each statement is one transaction), `parallel` batches at a time.
pub async fn insert(store: &OrgStore, table: &str, rows: Vec<Value>, batch: usize, parallel: usize) -> anyhow::Result<f64> {
    let n = rows.len();
    let mut rows = rows.into_iter();
    insert_with(store, table, n, batch, parallel, |_| rows.next().unwrap_or(Value::Null)).await
}

/// Insert `n` rows made by `make(i)` on demand, in batches (each statement is one transaction),
/// `parallel` batches at a time: only the batches in flight are in memory.
pub async fn insert_with(
    store: &OrgStore,
    table: &str,
    n: usize,
    batch: usize,
    parallel: usize,
    mut make: impl FnMut(usize) -> Value,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let batch = batch.max(1);
    let sql = format!("INSERT INTO {table} array::map($rows, |$r| object::extend($r, {{ org: $org }})) RETURN NONE");
    let mut done = 0usize;
    let mut stream = futures::stream::iter((0..n).step_by(batch).map(|first| {
        let chunk: Vec<Value> = (first..(first + batch).min(n)).map(&mut make).collect();
        let store = store.clone();
        let sql = sql.clone();
        async move {
            let len = chunk.len();
            store.query(&sql, vars! { "rows" => chunk }).await.map(|_| len)
        }
    }))
    .buffer_unordered(parallel);
    while let Some(r) = stream.next().await {
        done += r.map_err(|e| anyhow::anyhow!("seeding {table}: {e:?}"))?;
        if done % 100_000 < batch {
            eprintln!(
                "  {table}: {done}/{n} ({:.0} rows/s, RSS {} MiB)",
                done as f64 / started.elapsed().as_secs_f64(),
                memory().0
            );
        }
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// POST a JSON body; the JSON answer, or an error with the status and the answer.
pub async fn post(c: &reqwest::Client, url: String, body: Value) -> anyhow::Result<Value> {
    let r = c.post(url).json(&body).send().await?;
    let status = r.status();
    let v: Value = r.json().await?;
    anyhow::ensure!(status.is_success(), "{status}: {v}");
    Ok(v)
}
