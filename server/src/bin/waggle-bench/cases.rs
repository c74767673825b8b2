//! `waggle-bench cases`: start Waggle on a temporary embedded store (surrealkv, fsync on every
//! commit), seed cases, observables and tasks in batched transactions, then measure over HTTP
//! with the server running: the cases list (filter + sort + first page), an observable lookup
//! by (dataType, data) across all cases, creating a case with 10 observables; and the seeding
//! rate and the process memory.

use std::collections::HashSet;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use waggle::config::Settings;
use waggle::core::store::{OrgStore, new_id};
use waggle::vars;

use crate::common::*;

#[derive(clap::Args)]
pub struct CasesArgs {
    /// Cases to seed.
    #[arg(long, default_value_t = 100_000)]
    cases: usize,
    /// Observables to seed (spread over the cases).
    #[arg(long, default_value_t = 1_000_000)]
    observables: usize,
    /// Tasks to seed (spread over the cases).
    #[arg(long, default_value_t = 300_000)]
    tasks: usize,
    /// Requests per measurement.
    #[arg(long, default_value_t = 300)]
    samples: usize,
    /// Rows per INSERT statement (one transaction). Larger batches are slower per row: the
    /// counter events of every row of a transaction make it grow quadratically.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Data directory (default: a temporary one, removed at the end).
    #[arg(long)]
    data: Option<std::path::PathBuf>,
}

pub async fn run(args: CasesArgs) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = args.data.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let mut settings = Settings::ephemeral(&dir);
    settings.database = format!("surrealkv://{}", dir.join("db").display());
    settings.admin_password = Some(PASSWORD.into());
    let running = waggle::server::start(settings).await?;
    crate::common::wait_for_startup(&running).await;
    let base = format!("http://{}", running.addr);
    let store = running.state.store.clone();
    let org = waggle::domain::identity::org::by_name(&store, "soc").await?.ok_or_else(|| anyhow::anyhow!("no soc organisation"))?;
    let store = store.org(&org.id);
    println!("Waggle {} benchmark: {} cases, {} observables, {} tasks on {}", waggle::VERSION, args.cases, args.observables, args.tasks, store.store().info().engine);
    let mut rng = StdRng::seed_from_u64(42);

    // A store kept from an earlier run (`--data`, e.g. the alerts benchmark's, which seeds the
    // same 100,000 cases and 1,000,000 observables) is measured as it is: only missing tasks are
    // added, and the lookup values are sampled from it.
    let have_cases = count(&store, "case").await?;
    let seeded = if have_cases >= args.cases {
        println!("Reusing the store in {}: {have_cases} cases already there", dir.display());
        reuse(&store, &args, &mut rng).await?
    } else {
        seed(&store, &args, &mut rng).await?
    };
    let Seeded { shared_values, unique_values, .. } = &seeded;
    let (shared_values, unique_values) = (shared_values.clone(), unique_values.clone());
    let (rss_seeded, _) = memory();
    println!();
    match seeded.rates {
        Some((rate_cases, rate_tasks, rate_obs)) => {
            println!("Seeding (batched INSERT, {} rows per transaction; 1 in flight for cases, 2 for the others):", args.batch);
            println!("  cases        {:>9}  {rate_cases:>8.0} rows/s", args.cases);
            println!("  tasks        {:>9}  {rate_tasks:>8.0} rows/s", seeded.tasks);
            println!("  observables  {:>9}  {rate_obs:>8.0} rows/s", seeded.observables);
        }
        None => println!("Store as found: {} cases, {} tasks, {} observables", seeded.cases, seeded.tasks, seeded.observables),
    }
    println!("  memory after seeding: RSS {rss_seeded} MiB");

    // The same queries straight on the store, to tell the database from the HTTP layers.
    for (name, sql) in [
        ("store: open cases page", "SELECT * FROM `case` WHERE org = $org AND `status` = $s ORDER BY createdDesc ASC LIMIT 15 START 0"),
        ("store: open cases total", "SELECT VALUE value FROM array::map([$s], |$x| type::record('counter', [$org, 'cases', $x]))"),
        ("store: observable lookup", "SELECT * FROM `observable` WHERE org = $org AND `dataType` = $t AND `data` = $v ORDER BY createdAt DESC LIMIT 100"),
    ] {
        let (t, v) = shared_values.first().cloned().unwrap_or_default();
        let vars = vars! { "s" => "Open", "t" => t, "v" => v };
        if std::env::var_os("BENCH_EXPLAIN").is_some() {
            let mut r = store.query(&format!("{sql} EXPLAIN"), vars.clone()).await?;
            eprintln!("{name}: {}", r.value(0)?);
        }
        let mut d = Vec::new();
        for _ in 0..args.samples {
            let t0 = Instant::now();
            store.query(sql, vars.clone()).await?;
            d.push(t0.elapsed());
        }
        report(name, d, None);
    }

    // An API key for the measurements.
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let r = http.post(format!("{base}/api/login")).json(&json!({"user": "admin@waggle.local", "password": PASSWORD})).send().await?;
    anyhow::ensure!(r.status().is_success(), "login: {}", r.status());
    let key = http.post(format!("{base}/api/user/admin@waggle.local/key/renew")).send().await?.text().await?;
    let api = reqwest::Client::builder().default_headers({
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::AUTHORIZATION, format!("Bearer {key}").parse()?);
        h
    })
    .build()?;

    println!();
    println!("Over HTTP, one client, sequential requests (after a warm-up of 20):");
    // 1. The cases list: open cases, newest first, first page, with the total.
    let list = |api: reqwest::Client, base: String, body: Value, query: &'static str| async move {
        let r = api.post(format!("{base}/api/case/_search?{query}")).json(&body).send().await?;
        anyhow::ensure!(r.status().is_success(), "list: {}", r.status());
        let total = r.headers().get("x-total").and_then(|v| v.to_str().ok()).unwrap_or("?").to_string();
        let items: Vec<Value> = r.json().await?;
        anyhow::Ok((items.len(), total))
    };
    let variants: [(&str, Value, &'static str, bool); 4] = [
        ("cases list: status=Open, -createdAt, 0-15", json!({"query": {"status": "Open"}}), "range=0-15&sort=-createdAt", true),
        ("cases list: all, -createdAt, 0-15", json!({"query": {}}), "range=0-15&sort=-createdAt", false),
        // Filters on several fields are answered by the statistics index (`search::run_listed`).
        ("cases list: Open and severity>=2, -createdAt, 0-15", json!({"query": {"_and": [{"status": "Open"}, {"_gte": {"severity": 2}}]}}), "range=0-15&sort=-createdAt", true),
        ("cases list: Open, TLP<=2, severity>=3, -severity, page 3", json!({"query": {"_and": [{"status": "Open"}, {"_lte": {"tlp": 2}}, {"_gte": {"severity": 3}}]}}), "range=30-45&sort=-severity&sort=-createdAt", true),
    ];
    for (name, body, query, target) in variants {
        for _ in 0..20 {
            list(api.clone(), base.clone(), body.clone(), query).await?;
        }
        let mut d = Vec::with_capacity(args.samples);
        let mut last = (0, String::new());
        for _ in 0..args.samples {
            let t = Instant::now();
            last = list(api.clone(), base.clone(), body.clone(), query).await?;
            d.push(t.elapsed());
        }
        report(&format!("{name} (page {}, X-Total {})", last.0, last.1), d, target.then_some(50.0));
    }

    // 2. Observable lookup by (dataType, data) across all cases.
    let lookup = |api: reqwest::Client, base: String, t: String, v: String| async move {
        let r = api
            .post(format!("{base}/api/case/artifact/_search?range=0-100"))
            .json(&json!({"query": {"_and": [{"dataType": t}, {"data": v}]}}))
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "lookup: {}", r.status());
        let items: Vec<Value> = r.json().await?;
        anyhow::Ok(items.len())
    };
    for (name, pool) in [("observable lookup (dataType, data), shared values", &shared_values), ("observable lookup (dataType, data), single-case values", &unique_values)] {
        if pool.is_empty() {
            continue;
        }
        for (t, v) in pool.iter().take(20) {
            lookup(api.clone(), base.clone(), t.clone(), v.clone()).await?;
        }
        let mut d = Vec::with_capacity(args.samples);
        let mut found = 0;
        for i in 0..args.samples {
            let (t, v) = &pool[i % pool.len()];
            let t0 = Instant::now();
            found += lookup(api.clone(), base.clone(), t.clone(), v.clone()).await?;
            d.push(t0.elapsed());
        }
        report(&format!("{name} (avg {:.1} found)", found as f64 / args.samples as f64), d, Some(5.0));
    }

    // 3. Create a case with 10 observables: POST /api/case, then one POST of 10 values.
    let create = |api: reqwest::Client, base: String, i: usize| async move {
        let r = api.post(format!("{base}/api/case")).json(&json!({"title": format!("Bench case {i}"), "description": "benchmark", "tags": ["bench"]})).send().await?;
        anyhow::ensure!(r.status().as_u16() == 201, "create case: {}", r.status());
        let c: Value = r.json().await?;
        let id = c["id"].as_str().unwrap_or_default().to_string();
        let values: Vec<String> = (0..10).map(|k| format!("172.16.{}.{k}", i % 250)).collect();
        let r = api.post(format!("{base}/api/case/{id}/artifact")).json(&json!({"dataType": "ip", "data": values, "message": "bench"})).send().await?;
        anyhow::ensure!(r.status().as_u16() == 201, "add observables: {}", r.status());
        anyhow::Ok(())
    };
    for i in 0..20 {
        create(api.clone(), base.clone(), i).await?;
    }
    let mut d = Vec::with_capacity(args.samples);
    for i in 0..args.samples {
        let t = Instant::now();
        create(api.clone(), base.clone(), 1000 + i).await?;
        d.push(t.elapsed());
    }
    report("create a case, then add 10 observables (2 requests)", d, Some(20.0));

    let (rss, hwm) = memory();
    println!();
    println!("Server process memory: RSS {rss} MiB now, peak {hwm} MiB (server and benchmark client in one process)");
    running.stop().await?;
    Ok(())
}

/// What the measurements need from the seeding.
struct Seeded {
    /// Rows per second of cases, tasks, observables (None: the store was reused).
    rates: Option<(f64, f64, f64)>,
    cases: usize,
    tasks: usize,
    observables: usize,
    shared_values: Vec<(String, String)>,
    unique_values: Vec<(String, String)>,
}

/// Records of `table` in the store.
async fn count(store: &OrgStore, table: &str) -> anyhow::Result<usize> {
    crate::common::count(store.store(), table).await
}

/// Measure a store seeded earlier: add the tasks it lacks, sample observable values.
async fn reuse(store: &OrgStore, args: &CasesArgs, rng: &mut StdRng) -> anyhow::Result<Seeded> {
    let have_tasks = count(store, "task").await?;
    if have_tasks < args.tasks {
        let mut r = store.query("SELECT VALUE [record::id(id), createdAt] FROM case WHERE org = $org", vars! {}).await?;
        let ids: Vec<(String, i64)> = r.rows(0)?;
        let mut rows = Vec::with_capacity(args.tasks - have_tasks);
        for k in 0..args.tasks - have_tasks {
            let (cid, created) = &ids[rng.gen_range(0..ids.len())];
            let status = ["Waiting", "InProgress", "Completed", "Cancel"][rng.gen_range(0..4)];
            rows.push(json!({
                "id": new_id(), "case": cid, "title": TASKS[k % TASKS.len()], "group": "default", "status": status, "flag": false,
                "order": k % TASKS.len(), "owner": "admin@waggle.local", "createdAt": created + 1, "createdBy": "admin@waggle.local",
            }));
        }
        let rate = insert(store, "task", rows, args.batch, 2).await?;
        println!("  added {} tasks: {rate:.0} rows/s", args.tasks - have_tasks);
    }
    let observables = count(store, "observable").await?;
    let mut shared_values = Vec::new();
    for start in [observables / 7, observables / 3, observables / 2] {
        let mut r = store
            .query("SELECT VALUE [dataType, data] FROM observable WHERE org = $org LIMIT 700 START $start", vars! { "start" => start })
            .await?;
        let v: Vec<(String, String)> = r.rows(0)?;
        shared_values.extend(v);
    }
    Ok(Seeded { rates: None, cases: count(store, "case").await?, tasks: count(store, "task").await?, observables, shared_values, unique_values: Vec::new() })
}

/// Seed cases (oldest first), their tasks and observables into an empty store.
async fn seed(store: &OrgStore, args: &CasesArgs, rng: &mut StdRng) -> anyhow::Result<Seeded> {
    let rng = &mut *rng;

    // Seed: cases (oldest first), their tasks and observables.
    let now = waggle::core::store::now_millis();
    let year = 365 * 24 * 3600 * 1000i64;
    let mut case_ids = Vec::with_capacity(args.cases);
    let mut rows = Vec::with_capacity(args.cases);
    for i in 0..args.cases {
        let id = new_id();
        let created = now - year + (i as i64 * year / args.cases.max(1) as i64);
        let open = rng.gen_bool(0.6);
        let w = |r: &mut StdRng| WORDS[r.gen_range(0..WORDS.len())];
        rows.push(json!({
            "id": id, "caseId": i + 1, "title": format!("{} {} on host {}", w(rng), w(rng), rng.gen_range(1..5000)),
            "description": format!("Seeded case {i}: {} {} {}", w(rng), w(rng), w(rng)),
            "severity": rng.gen_range(1..=4), "owner": "admin@waggle.local", "startDate": created, "tags": [w(rng), w(rng)],
            "flag": rng.gen_bool(0.05), "tlp": rng.gen_range(0..=3), "pap": 2, "status": if open { "Open" } else { "Resolved" },
            "resolutionStatus": if open { Value::Null } else { json!("TruePositive") }, "metrics": {}, "customFields": {}, "mergeFrom": [],
            "createdAt": created, "createdBy": "admin@waggle.local",
        }));
        case_ids.push((id, created));
    }
    // One batch at a time: every case insert updates the organisation's case counters.
    let rate_cases = insert(store, "case", rows, args.batch, 1).await?;
    store.query("UPSERT type::record('counter', [$org, 'caseId']) SET value = $n", vars! { "n" => args.cases }).await?;

    let per_case_tasks = args.tasks / args.cases.max(1);
    let mut rows = Vec::with_capacity(args.tasks);
    for (c, (cid, created)) in case_ids.iter().enumerate() {
        let extra = usize::from(c < args.tasks % args.cases.max(1));
        for k in 0..per_case_tasks + extra {
            let status = ["Waiting", "InProgress", "Completed", "Cancel"][rng.gen_range(0..4)];
            rows.push(json!({
                "id": new_id(), "case": cid, "title": TASKS[k % TASKS.len()], "group": "default", "status": status, "flag": false,
                "order": k, "owner": "admin@waggle.local", "createdAt": created + 1, "createdBy": "admin@waggle.local",
            }));
        }
    }
    let n_tasks = rows.len();
    let rate_tasks = insert(store, "task", rows, args.batch, 2).await?;

    let per_case_obs = args.observables / args.cases.max(1);
    let mut rows = Vec::with_capacity(args.observables);
    let mut shared_values: Vec<(String, String)> = Vec::new();
    let mut unique_values: Vec<(String, String)> = Vec::new();
    let mut serial: u64 = 1_000_000;
    for (c, (cid, created)) in case_ids.iter().enumerate() {
        let extra = usize::from(c < args.observables % args.cases.max(1));
        let mut in_case = HashSet::new();
        for _ in 0..per_case_obs + extra {
            let t = TYPES[rng.gen_range(0..TYPES.len())];
            let data = loop {
                let v = if rng.gen_bool(0.3) {
                    value(t, rng.gen_range(0..SHARED_PER_TYPE as u64))
                } else {
                    serial += 1;
                    value(t, serial)
                };
                if in_case.insert((t, v.clone())) {
                    break v;
                }
            };
            if shared_values.len() < 2000 && data.len() < 40 && rng.gen_bool(0.01) {
                shared_values.push((t.to_string(), data.clone()));
            } else if unique_values.len() < 2000 && rng.gen_bool(0.01) {
                unique_values.push((t.to_string(), data.clone()));
            }
            rows.push(json!({
                "id": new_id(), "case": cid, "dataType": t, "data": data, "startDate": created, "tlp": 2, "tags": [],
                "ioc": rng.gen_bool(0.2), "sighted": false, "ignoreSimilarity": false, "status": "Ok", "reports": {},
                "createdAt": created + 2, "createdBy": "admin@waggle.local",
            }));
        }
    }
    let n_obs = rows.len();
    let rate_obs = insert(store, "observable", rows, args.batch, 2).await?;
    Ok(Seeded {
        rates: Some((rate_cases, rate_tasks, rate_obs)),
        cases: args.cases,
        tasks: n_tasks,
        observables: n_obs,
        shared_values,
        unique_values,
    })
}
