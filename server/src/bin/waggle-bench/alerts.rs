//! `waggle-bench alerts`: alert ingestion and triage at scale, on a temporary durable store
//! (surrealkv, fsync on every commit).
//!
//! 1. Seed case observables (for similarity) and alerts (for the list) with batched INSERTs.
//! 2. Over HTTP: concurrent feeders posting alerts with 5 observables as fast as they can
//!    (throughput, latency), then an open-loop load at a fixed rate (latency p99).
//! 3. The raw embedded-store insert rate for the same records (one record per transaction,
//!    sequential; and batched), and the ratio to the HTTP rate.
//! 4. Similarity of an alert with 20 observables against the seeded observables.
//! 5. The triage list: New alerts, newest first, first page, with its total; the same filtered on
//!    several fields (source, severity, tags).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use waggle::config::Settings;
use waggle::core::store::new_id;
use waggle::vars;

use crate::common::{PASSWORD, TYPES, count, insert, insert_with, memory, report, value, wait_for_startup};

#[derive(clap::Args)]
pub struct AlertsArgs {
    /// Alerts to seed (the list is measured over them).
    #[arg(long, default_value_t = 1_000_000)]
    pub alerts: usize,
    /// Case observables to seed (similarity is measured against them).
    #[arg(long, default_value_t = 1_000_000)]
    pub observables: usize,
    /// Alerts posted over HTTP for the throughput measurement.
    #[arg(long, default_value_t = 10_000)]
    pub posts: usize,
    /// Concurrent feeders for the throughput measurement.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Rate (alerts/s) of the fixed-rate measurement, and its duration (s).
    #[arg(long, default_value_t = 200)]
    pub rate: usize,
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Requests per latency measurement.
    #[arg(long, default_value_t = 300)]
    pub samples: usize,
    /// Rows per seeding transaction (larger is slower per row, see `waggle-bench cases --help`).
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Data directory (default: a temporary one, removed at the end).
    #[arg(long)]
    pub data: Option<std::path::PathBuf>,
    /// The server's memory budget (`waggle serve --memory-budget-mb`).
    #[arg(long, default_value_t = waggle::config::DEFAULT_MEMORY_BUDGET_MB)]
    pub memory_budget_mb: u64,
}

const SOURCES: &[&str] = &["splunk", "misp", "zerofox", "digitalshadows", "qradar", "sentinel", "crowdstrike", "proofpoint"];
const STATUSES: &[&str] = &["New", "New", "Updated", "Ignored", "Imported"];

/// An alert as a feeder posts it: 5 observables, one of them shared by many alerts.
pub(crate) fn posted(run: &str, i: usize) -> Value {
    json!({
        "type": "bench", "source": SOURCES[i % SOURCES.len()], "sourceRef": format!("{run}-{i}"),
        "title": format!("Suspicious activity {i}"), "description": "Posted by the benchmark", "severity": 1 + i % 4, "tags": ["bench"],
        "artifacts": [
            {"dataType": "ip", "data": value("ip", 5_000_000 + i as u64)},
            {"dataType": "domain", "data": value("domain", 5_000_000 + i as u64)},
            {"dataType": "url", "data": value("url", 5_000_000 + i as u64)},
            {"dataType": "hash", "data": value("hash", 5_000_000 + i as u64)},
            {"dataType": "mail", "data": "phisher@example.com"},
        ],
    })
}

/// The record the service stores for `posted(run, i)`, for the raw-store comparison.
fn stored(run: &str, i: usize, now: i64) -> Value {
    let id = new_id();
    let p = posted(run, i);
    let obs: Vec<Value> = p["artifacts"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(k, o)| {
            json!({"id": format!("{id}-{k:010}"), "dataType": o["dataType"], "data": o["data"], "tlp": 2, "tags": [], "ioc": false,
                   "sighted": false, "ignoreSimilarity": false, "startDate": now})
        })
        .collect();
    json!({
        "id": id, "type": p["type"], "source": p["source"], "sourceRef": p["sourceRef"], "title": p["title"], "description": p["description"],
        "severity": p["severity"], "tlp": 2, "pap": 2, "tags": p["tags"], "date": now, "status": "New", "follow": true, "customFields": {},
        "occurrences": 1, "lastOccurrence": now, "observables": obs, "rev": 0, "createdAt": now, "createdBy": "admin@waggle.local",
    })
}

pub async fn run(args: AlertsArgs) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = args.data.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let mut settings = Settings::ephemeral(&dir);
    settings.database = format!("surrealkv://{}?sync=every", dir.join("db").display());
    settings.admin_password = Some(PASSWORD.into());
    settings.memory_budget_bytes = args.memory_budget_mb << 20;
    let running = waggle::server::start(settings).await?;
    let base = format!("http://{}", running.addr);
    let store = running.state.store.clone();
    let org = waggle::domain::identity::org::by_name(&store, "soc").await?.ok_or_else(|| anyhow::anyhow!("no soc organisation"))?;
    let store = store.org(&org.id);
    println!(
        "Waggle {} alerts benchmark: {} alerts, {} case observables seeded; {} posts by {} clients; {} alerts/s for {} s; on {} (fsync every commit)",
        waggle::VERSION,
        args.alerts,
        args.observables,
        args.posts,
        args.clients,
        args.rate,
        args.seconds,
        store.store().info().engine
    );
    let mut rng = StdRng::seed_from_u64(7);
    let now = waggle::core::store::now_millis();

    // Every run tags its alerts (a kept store already holds the previous runs' ones).
    let run = now.to_string();

    // 1. Seed, unless the kept store (`--data`) already holds the records.
    let known = if let Some(known) = reuse(&store, &args).await? {
        known
    } else {
        seed(&store, &args, &mut rng, now).await?
    };
    // The statistics index of a kept store loads first (a core for a minute or more).
    wait_for_startup(&running).await;

    // An API key.
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let r = http.post(format!("{base}/api/login")).json(&json!({"user": "admin@waggle.local", "password": PASSWORD})).send().await?;
    anyhow::ensure!(r.status().is_success(), "login: {}", r.status());
    let key = http.post(format!("{base}/api/user/admin@waggle.local/key/renew")).send().await?.text().await?;
    let api = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients.max(16))
        .default_headers({
            let mut h = reqwest::header::HeaderMap::new();
            h.insert(reqwest::header::AUTHORIZATION, format!("Bearer {key}").parse()?);
            h
        })
        .build()?;
    let post = |api: reqwest::Client, base: String, body: Value| async move {
        let t = Instant::now();
        let r = api.post(format!("{base}/api/alert")).json(&body).send().await?;
        anyhow::ensure!(r.status().as_u16() == 201, "create alert: {} {}", r.status(), r.text().await.unwrap_or_default());
        anyhow::Ok(t.elapsed())
    };

    // 2a. Throughput: `clients` feeders, as fast as they can.
    println!();
    println!("Ingestion over HTTP (POST /api/alert, 5 observables each, answered after a durable commit):");
    let next = Arc::new(AtomicUsize::new(0));
    let (rss_before, _) = memory();
    let index_before = running.state.stats.stats().bytes >> 20;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let (api, base, next, burst) = (api.clone(), base.clone(), next.clone(), format!("burst-{run}"));
        let posts = args.posts;
        tasks.push(tokio::spawn(async move {
            let mut d = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= posts {
                    break;
                }
                d.push(post(api.clone(), base.clone(), posted(&burst, i)).await?);
            }
            anyhow::Ok(d)
        }));
    }
    let mut lat = Vec::with_capacity(args.posts);
    for t in tasks {
        lat.extend(t.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let http_rate = args.posts as f64 / elapsed;
    let verdict = if http_rate >= 1000.0 { "target >= 1000/s: met" } else { "target >= 1000/s: MISSED" };
    println!("  {} alerts by {} clients in {elapsed:.2} s: {http_rate:.0} alerts/s  {verdict}", args.posts, args.clients);
    report(&format!("  latency at full load ({} clients)", args.clients), lat, None);
    let (rss_after, _) = memory();
    let per_alert = (rss_after.saturating_sub(rss_before) as f64 * 1024.0) / args.posts.max(1) as f64;
    let verdict = if per_alert <= 2.0 { "target <= 2 KB/alert: met" } else { "target <= 2 KB/alert: MISSED" };
    println!(
        "  process memory over the burst: RSS {rss_before} -> {rss_after} MiB, {per_alert:.1} KiB per alert  {verdict} (budget {} MiB)",
        args.memory_budget_mb
    );
    let index_after = running.state.stats.stats().bytes >> 20;
    println!("    of which the statistics index: {index_before} -> {index_after} MiB (its own accounting)");

    // 2b. Latency at a fixed rate (open loop: requests start on schedule, whatever the answers).
    let total = args.rate * args.seconds as usize;
    let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate.max(1) as f64));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        interval.tick().await;
        tasks.push(tokio::spawn(post(api.clone(), base.clone(), posted(&format!("paced-{run}"), i))));
    }
    let mut lat = Vec::with_capacity(total);
    for t in tasks {
        lat.push(t.await??);
    }
    report(&format!("  latency at {} alerts/s for {} s", args.rate, args.seconds), lat, Some(50.0));

    // 3. The raw store: the same records, one per transaction (sequential: concurrent creations
    // all update the same status counter and would mostly measure conflict retries), and
    // batched.
    let n_raw = args.posts.min(5_000);
    let raw_rows: Vec<Value> = (0..n_raw).map(|i| stored(&format!("raw-{run}"), i, now)).collect();
    let started = Instant::now();
    let mut s = futures::stream::iter(raw_rows.into_iter().map(|row| {
        let store = store.clone();
        async move { store.query("CREATE alert CONTENT object::extend($row, { org: $org }) RETURN NONE", vars! { "row" => row }).await }
    }))
    .buffer_unordered(1);
    while let Some(r) = s.next().await {
        r.map_err(|e| anyhow::anyhow!("raw insert: {e:?}"))?;
    }
    let raw_single = n_raw as f64 / started.elapsed().as_secs_f64();
    let raw_rows: Vec<Value> = (0..n_raw).map(|i| stored(&format!("rawbatch-{run}"), i, now)).collect();
    let raw_batched = insert(&store, "alert", raw_rows, 256, 1).await?;
    println!("Raw embedded store, the same alert records ({n_raw}):");
    println!("  one record per transaction, sequential: {raw_single:>8.0} records/s");
    println!("  256 records per transaction:            {raw_batched:>8.0} records/s");
    println!(
        "  HTTP ingestion / raw single-record rate: {:.2}; / raw batched rate: {:.2}",
        http_rate / raw_single,
        http_rate / raw_batched
    );

    // 4. Similarity: 20 observables, half of them values the seeded cases hold.
    println!();
    println!("Reads over HTTP, one client, sequential (after a warm-up of 20):");
    let mut sim_ids = Vec::new();
    for k in 0..20 {
        let mut artifacts = Vec::new();
        for j in 0..20 {
            if j % 2 == 0 && !known.is_empty() {
                let (t, v) = &known[(k * 10 + j) % known.len()];
                artifacts.push(json!({"dataType": t, "data": v}));
            } else {
                artifacts.push(json!({"dataType": "domain", "data": format!("unseen-{k}-{j}.example")}));
            }
        }
        let body = json!({"type": "bench", "source": "similarity", "sourceRef": format!("sim-{run}-{k}"), "title": "Similarity", "artifacts": artifacts});
        let r = api.post(format!("{base}/api/alert")).json(&body).send().await?;
        anyhow::ensure!(r.status().as_u16() == 201, "similarity alert: {}", r.status());
        let v: Value = r.json().await?;
        sim_ids.push(v["id"].as_str().unwrap_or_default().to_string());
    }
    let similarity = |api: reqwest::Client, base: String, id: String| async move {
        let r = api.get(format!("{base}/api/alert/{id}?similarity=1")).send().await?;
        anyhow::ensure!(r.status().is_success(), "similarity: {}", r.status());
        let v: Value = r.json().await?;
        anyhow::Ok(v["similarCases"].as_array().map(Vec::len).unwrap_or(0))
    };
    for id in &sim_ids {
        similarity(api.clone(), base.clone(), id.clone()).await?;
    }
    let mut d = Vec::with_capacity(args.samples);
    let mut similar = 0;
    for i in 0..args.samples {
        let t = Instant::now();
        similar += similarity(api.clone(), base.clone(), sim_ids[i % sim_ids.len()].clone()).await?;
        d.push(t.elapsed());
    }
    report(
        &format!("similarity, 20 observables vs {} (avg {:.1} similar cases)", args.observables, similar as f64 / args.samples as f64),
        d,
        Some(20.0),
    );

    // 5. The triage list.
    let list = |api: reqwest::Client, base: String, body: Value| async move {
        let r = api.post(format!("{base}/api/alert/_search?range=0-15&sort=-date")).json(&body).send().await?;
        anyhow::ensure!(r.status().is_success(), "list: {}", r.status());
        let total = r.headers().get("x-total").and_then(|v| v.to_str().ok()).unwrap_or("?").to_string();
        let items: Vec<Value> = r.json().await?;
        anyhow::Ok((items.len(), total))
    };
    for (i, (name, body)) in [
        ("alerts list: status=New, -date, 0-15", json!({"query": {"status": "New"}})),
        ("alerts list: all, -date, 0-15", json!({"query": {}})),
        // Filters on several fields are answered by the statistics index (`search::run_listed`).
        ("alerts list: New, severity>=3, tag bench, -date, 0-15", json!({"query": {"_and": [{"status": "New"}, {"_gte": {"severity": 3}}, {"tags": "bench"}]}})),
        ("alerts list: source in (splunk, qradar), tag bench, -date, 0-15", json!({"query": {"_and": [{"_in": {"_field": "source", "_values": ["splunk", "qradar"]}}, {"tags": "bench"}]}})),
    ]
    .into_iter()
    .enumerate()
    {
        for _ in 0..20 {
            list(api.clone(), base.clone(), body.clone()).await?;
        }
        let mut d = Vec::with_capacity(args.samples);
        let mut last = (0, String::new());
        for _ in 0..args.samples {
            let t = Instant::now();
            last = list(api.clone(), base.clone(), body.clone()).await?;
            d.push(t.elapsed());
        }
        report(&format!("{name} (page {}, X-Total {})", last.0, last.1), d, if i != 1 { Some(50.0) } else { None });
    }

    let (rss, hwm) = memory();
    println!();
    println!("Process memory: RSS {rss} MiB now, peak {hwm} MiB (server and benchmark client in one process)");
    running.stop().await?;
    Ok(())
}

/// Seed cases with observables (values drawn from a pool, so some are in many cases) and
/// alerts; returns values the cases hold (for similarity).
async fn seed(store: &waggle::core::store::OrgStore, args: &AlertsArgs, rng: &mut StdRng, now: i64) -> anyhow::Result<Vec<(String, String)>> {
    let year = 365 * 24 * 3600 * 1000i64;
    let n_cases = (args.observables / 10).max(1);
    let mut case_ids = Vec::with_capacity(n_cases);
    let mut rows = Vec::with_capacity(n_cases);
    for i in 0..n_cases {
        let id = new_id();
        let created = now - year + i as i64 * year / n_cases as i64;
        rows.push(json!({"id": id, "caseId": i + 1, "title": format!("Seeded case {i}"), "description": "seeded", "severity": 2, "startDate": created,
            "tags": [], "flag": false, "tlp": 2, "pap": 2, "status": "Open", "metrics": {}, "customFields": {}, "mergeFrom": [],
            "createdAt": created, "createdBy": "admin@waggle.local"}));
        case_ids.push(id);
    }
    let rate_cases = insert(&store, "case", rows, args.batch, 1).await?;
    store.query("UPSERT type::record('counter', [$org, 'caseId']) SET value = $n", vars! { "n" => n_cases }).await?;
    let pool = (args.observables / 3).max(1) as u64;
    let mut known: Vec<(String, String)> = Vec::new();
    let mut in_case = std::collections::HashSet::new();
    let obs_rng = &mut *rng;
    let make_observable = |i: usize| {
        let t = TYPES[i % TYPES.len()];
        // A value once per case (a case holds an observable once).
        let data = loop {
            let v = value(t, obs_rng.gen_range(0..pool));
            if in_case.insert((i % n_cases, t, v.clone())) {
                break v;
            }
        };
        if known.len() < 1000 && obs_rng.gen_bool(0.01) {
            known.push((t.to_string(), data.clone()));
        }
        json!({"id": new_id(), "case": case_ids[i % n_cases], "dataType": t, "data": data, "startDate": now, "tlp": 2, "tags": [],
            "ioc": obs_rng.gen_bool(0.2), "sighted": false, "ignoreSimilarity": false, "status": "Ok", "reports": {}, "createdAt": now,
            "createdBy": "admin@waggle.local"})
    };
    let rate_obs = insert_with(&store, "observable", args.observables, args.batch, 2, make_observable).await?;
    drop(in_case);
    // Alerts, oldest first, most of them triaged.
    let alert_rng = &mut *rng;
    let make_alert = |i: usize| {
        let mut a = stored("seed", i, now - year + i as i64 * year / args.alerts.max(1) as i64);
        a["status"] = json!(STATUSES[alert_rng.gen_range(0..STATUSES.len())]);
        a["date"] = a["createdAt"].clone();
        a
    };
    // One batch at a time: every alert updates the organisation's status counters.
    let rate_alerts = insert_with(&store, "alert", args.alerts, args.batch, 1, make_alert).await?;
    // Inserted directly: their status counters are counted once from the table.
    waggle::domain::alert::recount_status_counters(store.store()).await?;
    let (rss_seeded, _) = memory();
    println!();
    println!("Seeding (batched INSERT, {} rows per transaction):", args.batch);
    println!("  cases              {n_cases:>9}  {rate_cases:>8.0} rows/s");
    println!("  case observables   {:>9}  {rate_obs:>8.0} rows/s", args.observables);
    println!("  alerts (5 obs.)    {:>9}  {rate_alerts:>8.0} rows/s", args.alerts);
    println!("  memory after seeding: RSS {rss_seeded} MiB");

    Ok(known)
}

/// A kept store that already holds the alerts and observables asked for: measured as it is,
/// with values its cases hold sampled for similarity.
async fn reuse(store: &waggle::core::store::OrgStore, args: &AlertsArgs) -> anyhow::Result<Option<Vec<(String, String)>>> {
    let (alerts, observables) = (count(store.store(), "alert").await?, count(store.store(), "observable").await?);
    if args.data.is_none() || alerts < args.alerts || observables < args.observables {
        return Ok(None);
    }
    println!("Store as found: {alerts} alerts, {observables} observables (not seeded again)");
    let mut r = store.query("SELECT VALUE [dataType, data] FROM observable WHERE org = $org AND data != NONE LIMIT 1000", vars! {}).await?;
    Ok(Some(r.rows(0)?))
}
