//! The analysis engine's overhead, with a trivial analyzer (a shell script that writes its
//! report at once), so the figures are the engine's, not an analyzer's:
//!
//! 1. Job overhead: from the request to InProgress (the queue started it) and to Success, one
//!    job at a time.
//! 2. 1,000 jobs queued at once, drained at the concurrency cap, while another client reads
//!    cases: that client's p99 idle and during the drain.
//! 3. Waiting jobs in memory: jobs created behind a rate that lets none start (1 per month);
//!    the process's RSS before and after.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::Client;
use serde_json::{Value, json};
use waggle::config::Settings;

use crate::common::{PASSWORD, post, memory, report};

#[derive(clap::Args)]
pub struct AnalysisArgs {
    /// Jobs run one at a time for the overhead figures.
    #[arg(long, default_value_t = 300)]
    pub sequential: usize,
    /// Jobs queued at once and drained.
    #[arg(long, default_value_t = 1_000)]
    pub burst: usize,
    /// Jobs left waiting, for the memory figure.
    #[arg(long, default_value_t = 100_000)]
    pub waiting: usize,
    /// Analyzer processes at once (default: the server's default).
    #[arg(long)]
    pub concurrency: Option<usize>,
}

fn trivial_analyzer(dir: &std::path::Path) -> anyhow::Result<()> {
    let a = dir.join("Trivial");
    std::fs::create_dir_all(&a)?;
    std::fs::write(
        a.join("Trivial.json"),
        json!({"name": "Trivial", "version": "1.0", "description": "Writes its report at once", "author": "bench", "url": "https://example.org",
               "license": "AGPL-V3", "dataTypeList": ["ip"], "command": "Trivial/run.sh"})
        .to_string(),
    )?;
    let script = "#!/bin/sh\necho '{\"success\":true,\"summary\":{\"taxonomies\":[{\"level\":\"info\",\"namespace\":\"T\",\"predicate\":\"p\",\"value\":1}]},\"full\":{},\"artifacts\":[],\"operations\":[]}' > \"$1/output/output.json\"\n";
    std::fs::write(a.join("run.sh"), script)?;
    std::fs::set_permissions(a.join("run.sh"), std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

async fn job(c: &Client, base: &str, id: &str) -> anyhow::Result<Value> {
    Ok(c.get(format!("{base}/api/connector/cortex/job/{id}")).send().await?.json().await?)
}

pub async fn run(args: AnalysisArgs) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let analyzers = tmp.path().join("analyzers");
    trivial_analyzer(&analyzers)?;
    let mut settings = Settings::ephemeral(tmp.path());
    settings.database = format!("surrealkv://{}", tmp.path().join("db").display());
    settings.admin_password = Some(PASSWORD.into());
    settings.analysis.analyzer_dirs = vec![analyzers];
    if let Some(n) = args.concurrency {
        settings.analysis.concurrency = n;
    } else {
        settings.analysis.concurrency = waggle::config::default_analysis_concurrency();
    }
    let cap = settings.analysis.concurrency;
    let running = waggle::server::start(settings).await?;
    crate::common::wait_for_startup(&running).await;
    let base = format!("http://{}", running.addr);
    let c = Client::builder().cookie_store(true).pool_max_idle_per_host(64).build()?;
    post(&c, format!("{base}/api/login"), json!({"user": waggle::config::DEFAULT_ADMIN_LOGIN, "password": PASSWORD})).await?;
    post(&c, format!("{base}/ui/analysis/enable"), json!({"definition": "Trivial_1_0", "input": {"jobCache": 0}})).await?;
    let case = post(&c, format!("{base}/api/case"), json!({"title": "bench", "description": "analysis"})).await?;
    let case_id = case["id"].as_str().unwrap_or_default().to_string();
    let observable = post(&c, format!("{base}/api/case/{case_id}/artifact"), json!({"dataType": "ip", "data": "10.9.9.9"})).await?;
    let observable = observable.as_array().and_then(|a| a.first()).cloned().unwrap_or(observable);
    let obs_id = observable["id"].as_str().unwrap_or_default().to_string();
    let run_body = json!({"cortexId": "local", "artifactId": obs_id, "analyzerId": "Trivial_1_0"});
    println!("Waggle {} analysis benchmark: a trivial analyzer, {cap} at once", waggle::VERSION);

    // 1. One at a time.
    let (mut to_start, mut to_end) = (Vec::new(), Vec::new());
    for _ in 0..args.sequential {
        let sent = waggle::core::store::now_millis();
        let t = Instant::now();
        let j = post(&c, format!("{base}/api/connector/cortex/job?force=1"), run_body.clone()).await?;
        let id = j["id"].as_str().unwrap_or_default().to_string();
        loop {
            let j = job(&c, &base, &id).await?;
            if j["status"] == "Success" || j["status"] == "Failure" {
                to_end.push(t.elapsed());
                let started = j["startDate"].as_i64().unwrap_or(sent);
                to_start.push(Duration::from_millis(started.saturating_sub(sent).max(0) as u64));
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    println!();
    let p50 = {
        let mut d = to_start.clone();
        d.sort();
        crate::common::quantile(&d, 0.5)
    };
    report("job: request -> InProgress", to_start, None);
    println!("  p50 {p50:.1} ms (target <= 15 ms: {})", if p50 <= 15.0 { "met" } else { "MISSED" });
    report("job: request -> Success seen (incl. the analyzer)", to_end, None);

    // 2. A burst, and another client's reads meanwhile.
    let reader = Client::builder().cookie_store(true).build()?;
    post(&reader, format!("{base}/api/login"), json!({"user": waggle::config::DEFAULT_ADMIN_LOGIN, "password": PASSWORD})).await?;
    let read = |n: usize| {
        let (reader, base, case_id) = (reader.clone(), base.clone(), case_id.clone());
        async move {
            let mut d = Vec::with_capacity(n);
            for _ in 0..n {
                let t = Instant::now();
                let _ = reader.get(format!("{base}/api/case/{case_id}")).send().await.and_then(|r| r.error_for_status());
                d.push(t.elapsed());
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            d
        }
    };
    let idle = read(300).await;
    let started = Instant::now();
    let created: Vec<String> = futures::stream::iter(0..args.burst)
        .map(|_| {
            let (c, base, body) = (c.clone(), base.clone(), run_body.clone());
            async move { post(&c, format!("{base}/api/connector/cortex/job?force=1"), body).await.map(|j| j["id"].as_str().unwrap_or_default().to_string()) }
        })
        .buffer_unordered(32)
        .filter_map(|r| async move { r.ok() })
        .collect()
        .await;
    let queued_in = started.elapsed();
    let during = tokio::spawn(read(300));
    // Wait for the drain without adding requests of our own: ask the database directly, 10
    // times a second.
    let store = running.state.store.clone();
    loop {
        let mut r = store
            .query("SELECT count() AS n FROM job WHERE status IN ['Waiting', 'InProgress'] GROUP ALL", waggle::vars! {})
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let left: Option<Value> = r.one(0).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        if left.and_then(|v| v.get("n").and_then(Value::as_u64)).unwrap_or(0) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drained = started.elapsed();
    let during = during.await?;
    println!();
    println!("burst: {} jobs queued in {:.2} s, all finished after {:.2} s ({:.0} jobs/s at {cap} at once)", created.len(), queued_in.as_secs_f64(), drained.as_secs_f64(), created.len() as f64 / drained.as_secs_f64());
    let p99 = |mut d: Vec<Duration>| {
        d.sort();
        crate::common::quantile(&d, 0.99)
    };
    let (idle_p99, during_p99) = (p99(idle.clone()), p99(during.clone()));
    report("GET /api/case/{id}, idle", idle, None);
    report("GET /api/case/{id}, while the burst drains", during, None);
    println!("  p99 during / idle: {:.2}x (target <= 2x)", during_p99 / idle_p99.max(0.001));

    // 3. Waiting jobs: a rate that lets none start.
    post(&c, format!("{base}/ui/analysis/enable"), json!({"definition": "Trivial_1_0", "input": {"name": "Monthly", "rate": 1, "rateUnit": "Month", "jobCache": 0}})).await?;
    let body = json!({"cortexId": "local", "artifactId": obs_id, "analyzerId": "Monthly"});
    let (rss_before, _) = memory();
    let started = Instant::now();
    let made = futures::stream::iter(0..args.waiting)
        .map(|_| {
            let (c, base, body) = (c.clone(), base.clone(), body.clone());
            async move { post(&c, format!("{base}/api/connector/cortex/job?force=1"), body).await.is_ok() }
        })
        .buffer_unordered(32)
        .filter(|ok| futures::future::ready(*ok))
        .count()
        .await;
    let (rss_after, _) = memory();
    let state = &running.state;
    let waiting = state.service::<waggle::domain::analysis::engine::Engine>().queue.waiting();
    println!();
    println!(
        "waiting jobs: {made} created in {:.1} s ({:.0}/s); {waiting} waiting in the queue; RSS {rss_before} -> {rss_after} MiB (+{} MiB, target <= 100 MB; includes the database's memtables)",
        started.elapsed().as_secs_f64(),
        made as f64 / started.elapsed().as_secs_f64(),
        rss_after.saturating_sub(rss_before)
    );
    // The queue itself (what the engine keeps per waiting job: its id in its lane).
    let queue = waggle::core::analysis::queue::Queue::new(2);
    let lane = waggle::core::analysis::queue::Lane { org: "soc".into(), analyzer: "an-analyzer-id".into() };
    let (before, _) = memory();
    for _ in 0..args.waiting {
        queue.push(&lane, waggle::core::store::new_id());
    }
    let (after, _) = memory();
    println!("  the queue alone: {} ids waiting, RSS +{} MiB", queue.waiting(), after.saturating_sub(before));
    running.stop().await?;
    Ok(())
}
