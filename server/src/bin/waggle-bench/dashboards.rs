//! `waggle-bench dashboards`: seed alerts, cases and observables (raw inserts), load the
//! statistics index, and time every widget of the four default dashboards server-side.

use std::time::Instant;

use serde_json::{Value, json};

use waggle::config::Settings;
use waggle::domain::dashboard::DEFAULTS;
use waggle::core::state::AppState;
use waggle::core::stats;
use crate::common::{PASSWORD, count, rss_mib};
use waggle::core::store::{Store, now_millis};
use waggle::vars;

pub struct Options {
    pub data: std::path::PathBuf,
    pub alerts: usize,
    pub cases: usize,
    pub observables: usize,
    pub iterations: usize,
    /// Also time the Alert statistics dashboard in headless Chromium (needs node and
    /// `end2end/node_modules`, see `end2end/bench/dashboard-render.mjs`).
    pub browser: bool,
    /// Then start the `waggle` binary (beside this one) on the store three times: a first start,
    /// a restart after a clean stop, a restart after SIGKILL; print the time until the statistics
    /// index serves, and the server's memory.
    pub restart: bool,
}

const DAY: i64 = 86_400_000;

/// The key of the `i`th seeded record of a table (`tag`): shaped like the keys Waggle makes (26
/// characters of its base32 alphabet, `store::new_id`), which the statistics index holds as
/// numbers, and the same at every run.
fn key(tag: char, i: usize) -> String {
    format!("0{tag}{i:024}")
}

async fn seed(store: &Store, table: &str, target: usize, make: impl Fn(usize) -> Value) -> anyhow::Result<()> {
    let have = count(store, table).await?;
    if have >= target {
        println!("{table}: {have} records already there");
        return Ok(());
    }
    let started = Instant::now();
    let mut i = have;
    while i < target {
        let n = (target - i).min(1000);
        let rows: Vec<Value> = (i..i + n).map(&make).collect();
        store.query(&format!("INSERT INTO {table} $rows RETURN NONE"), vars! { "rows" => rows }).await?;
        i += n;
        if i % 100_000 == 0 {
            println!("  {table}: {i} / {target} ({:.0} rows/s)", (i - have) as f64 / started.elapsed().as_secs_f64());
        }
    }
    println!("{table}: seeded {} in {:.1} s", target - have, started.elapsed().as_secs_f64());
    Ok(())
}

pub async fn run(o: Options) -> anyhow::Result<()> {
    let url = format!("surrealkv://{}?sync=never", o.data.join("db").display());
    let store = Store::open(&url, None, None).await?;
    // The records belong to the working organisation `soc` of a normally bootstrapped store, so
    // a real server started on it (`--browser`) shows them to its first admin.
    let mut settings = Settings::ephemeral(&o.data);
    settings.database = url.clone();
    settings.admin_password = Some(PASSWORD.into());
    waggle::domain::platform::setup::at_start(&store, &settings).await.map_err(|e| anyhow::anyhow!("setup: {e:?}"))?;
    let org = waggle::domain::identity::org::by_name(&store, "soc").await?.ok_or_else(|| anyhow::anyhow!("no soc organisation"))?;
    let org_id = org.id.clone();
    let org_id = org_id.as_str();
    let now = now_millis();
    let pick = |i: usize, xs: &[&'static str]| xs[(i * 2_654_435_761usize >> 7) % xs.len()];
    seed(&store, "alert", o.alerts, |i| {
        json!({"id": key('a', i), "org": org_id, "createdAt": now - (i as i64 * 7919 % 180) * DAY - (i as i64 % 86_400) * 1000,
               "createdBy": "feeder", "type": pick(i, &["phishing", "malware", "ids", "misp", "edr", "dlp"]),
               "source": pick(i / 3, &["mail-gw", "edr", "suricata", "misp-1", "zerofox", "digitalshadows", "splunk"]),
               "sourceRef": format!("ref-{i}"), "status": pick(i / 7, &["New", "Updated", "Ignored", "Imported"]),
               "severity": i % 4 + 1, "tlp": i % 4, "pap": 2, "tags": [pick(i, &["apt", "spam", "ransom", "c2"])], "title": format!("Alert {i}"), "follow": true})
    })
    .await?;
    // Inserted directly: their status counters are counted once from the table.
    waggle::domain::alert::recount_status_counters(&store).await?;
    seed(&store, "case", o.cases, |i| {
        let start = now - (i as i64 * 7919 % 180) * DAY;
        let resolved = i % 3 == 0;
        json!({"id": key('c', i), "org": org_id, "caseId": i, "createdAt": start, "startDate": start, "createdBy": "analyst",
               "owner": pick(i, &["alice", "bob", "carol", "dave", "erin"]), "status": if resolved { "Resolved" } else { pick(i, &["Open", "Open", "Deleted"]) },
               "resolutionStatus": if resolved { Value::from(pick(i / 3, &["TruePositive", "FalsePositive", "Indeterminate", "Duplicated"])) } else { Value::Null },
               "endDate": if resolved { Value::from(start + (i as i64 % 200) * 3_600_000) } else { Value::Null },
               "severity": i % 4 + 1, "tlp": i % 4, "pap": 2, "tags": [pick(i, &["apt", "phishing", "ransomware", "insider"])], "title": format!("Case {i}"), "flag": false})
    })
    .await?;
    let cases = o.cases.max(1);
    seed(&store, "observable", o.observables, |i| {
        let file = i % 10 == 0;
        json!({"id": key('e', i), "org": org_id, "case": key('c', i % cases), "createdAt": now - (i as i64 * 7919 % 180) * DAY,
               "createdBy": "analyst", "dataType": if file { "file" } else { pick(i, &["ip", "domain", "url", "hash", "mail", "fqdn"]) },
               "data": format!("value-{i}"), "ioc": i % 5 == 0, "sighted": false, "status": if i % 50 == 0 { "Deleted" } else { "Ok" },
               "tlp": i % 4, "tags": [pick(i, &["c2", "phishing", "tor"])],
               "attachment": if file { json!({"contentType": pick(i, &["application/pdf", "application/zip", "text/plain"])}) } else { Value::Null }})
    })
    .await?;

    let state = AppState::new(store.clone(), settings.clone());
    let started = Instant::now();
    state.stats.load().await?;
    let info = state.stats.stats();
    println!(
        "\nstatistics index loaded in {:.1} s: {:?}; about {} MiB in memory",
        started.elapsed().as_secs_f64(),
        info.records,
        info.bytes / (1024 * 1024)
    );

    let os = store.org(org_id);
    println!("\n{:<24} {:<44} {:>9} {:>9}", "dashboard", "widget", "p50 ms", "p99 ms");
    let mut worst = (0.0f64, 0.0f64);
    let mut dash_total = Vec::new();
    for (name, text) in DEFAULTS {
        let file: Value = serde_json::from_str(text)?;
        let def: app::model::Definition = serde_json::from_value(file["definition"].clone())?;
        let mut per_dash = vec![0.0; o.iterations];
        for row in &def.items {
            for w in &row.items {
                let mut times = Vec::with_capacity(o.iterations);
                for it in 0..o.iterations {
                    let t = Instant::now();
                    for (model, body) in app::chart::requests(w, &def, now_millis()) {
                        let req = stats::Request::parse(stats::entity_of_model(&model)?, &body)?;
                        stats::run_for(&state, &os, req).await?;
                    }
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    per_dash[it] += ms;
                    times.push(ms);
                }
                let (p50, p99) = crate::common::percentiles(times);
                worst = (worst.0.max(p50), worst.1.max(p99));
                println!("{:<24} {:<44} {:>9.1} {:>9.1}", name, w.options.title.clone().unwrap_or_default(), p50, p99);
            }
        }
        dash_total.push((name, crate::common::percentiles(per_dash)));
    }
    println!();
    for (name, (p50, p99)) in dash_total {
        println!("{:<24} {:<44} {:>9.1} {:>9.1}", name, "(all widgets, sequentially)", p50, p99);
    }
    println!("\nworst widget: p50 {:.1} ms, p99 {:.1} ms (target: p50 <= 100, p99 <= 250)", worst.0, worst.1);
    // The server opens the store itself: every handle on it must be closed first.
    drop(state);
    drop(os);
    if o.browser {
        browser(store, settings).await?;
    } else if o.restart {
        drop(store);
    }
    if o.restart {
        restarts(&o.data, &url).await?;
    }
    Ok(())
}

/// One `waggle serve` process on the store, until its statistics index is loaded.
struct Served {
    child: std::process::Child,
    log: std::path::PathBuf,
    base: String,
}

/// Start the server, wait for the index, time the first statistic; print one line.
async fn serve_once(data: &std::path::Path, url: &str, label: &str) -> anyhow::Result<Served> {
    let exe = std::env::current_exe()?.with_file_name("waggle");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let log = data.join(format!("bench-server-{port}.log"));
    let started = Instant::now();
    let child = std::process::Command::new(&exe)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .args(["--database", url, "--log-format", "json", "--log", "info,surreal=warn"])
        .env("WAGGLE_ADMIN_PASSWORD", PASSWORD)
        .stdout(std::fs::File::create(&log)?)
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut up = None;
    let mut loaded: Option<Value> = None;
    while loaded.is_none() {
        anyhow::ensure!(started.elapsed().as_secs() < 900, "{label}: the statistics index did not load in 15 minutes");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        if up.is_none() && http.get(format!("{base}/api/health")).send().await.is_ok_and(|r| r.status().is_success()) {
            up = Some(started.elapsed());
        }
        loaded = std::fs::read_to_string(&log)?
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["message"].as_str().is_some_and(|m| m.starts_with("statistics index loaded")));
    }
    let ready = started.elapsed();
    // The first statistic over every alert, from the index.
    let t = Instant::now();
    let r = http
        .post(format!("{base}/api/alert/_stats"))
        .basic_auth(waggle::config::DEFAULT_ADMIN_LOGIN, Some(PASSWORD))
        .json(&json!({"query": {}, "stats": [{"_agg": "field", "_field": "status", "_select": [{"_agg": "count"}]}, {"_agg": "count"}]}))
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "{label}: statistics: {}", r.status());
    let stat_ms = t.elapsed().as_secs_f64() * 1000.0;
    let v = loaded.unwrap_or_default();
    let how = v["message"].as_str().unwrap_or("").trim_start_matches("statistics index loaded").trim().to_string();
    println!(
        "{label:<34} API up {:>6.1} s, index serving {:>6.1} s ({}; index {} ms{}), first statistic {:>6.1} ms, server RSS {} MiB",
        up.unwrap_or(ready).as_secs_f64(),
        ready.as_secs_f64(),
        if how.is_empty() { "rebuilt from the database".to_string() } else { how },
        v["ms"],
        v["replayed"].as_u64().map(|n| format!(", {n} changes replayed")).unwrap_or_default(),
        stat_ms,
        rss_mib(child.id()),
    );
    Ok(Served { child, log, base })
}

/// First start, restart after a clean stop (the snapshot written at shutdown), restart after
/// SIGKILL (the snapshot written after the rebuild, and the feed after it).
async fn restarts(data: &std::path::Path, url: &str) -> anyhow::Result<()> {
    println!("\nrestarts of the `waggle` binary on this store:");
    let mut s = serve_once(data, url, "first start").await?;
    // Records written while it runs reach the next start through the feed.
    let http = reqwest::Client::new();
    for i in 0..200 {
        let r = http
            .post(format!("{}/api/alert", s.base))
            .basic_auth(waggle::config::DEFAULT_ADMIN_LOGIN, Some(PASSWORD))
            .json(&json!({"type": "restart", "source": "bench", "sourceRef": format!("{}-{i}", now_millis()), "title": "written between starts", "description": "-"}))
            .send()
            .await?;
        anyhow::ensure!(r.status().as_u16() == 201, "create alert: {}", r.status());
    }
    let t = Instant::now();
    let _ = std::process::Command::new("kill").args(["-TERM", &s.child.id().to_string()]).status();
    s.child.wait()?;
    println!("{:<34} clean stop in {:.1} s (snapshot written)", "", t.elapsed().as_secs_f64());
    let _ = std::fs::remove_file(&s.log);
    let mut s = serve_once(data, url, "restart after a clean stop").await?;
    for i in 0..200 {
        http.post(format!("{}/api/alert", s.base))
            .basic_auth(waggle::config::DEFAULT_ADMIN_LOGIN, Some(PASSWORD))
            .json(&json!({"type": "restart", "source": "bench", "sourceRef": format!("k{}-{i}", now_millis()), "title": "written before SIGKILL", "description": "-"}))
            .send()
            .await?;
    }
    s.child.kill()?;
    s.child.wait()?;
    let _ = std::fs::remove_file(&s.log);
    let mut s = serve_once(data, url, "restart after SIGKILL").await?;
    widgets_over_http(&s).await?;
    let _ = std::process::Command::new("kill").args(["-TERM", &s.child.id().to_string()]).status();
    s.child.wait()?;
    let _ = std::fs::remove_file(&s.log);
    Ok(())
}

/// Once the server has finished its startup reads (the lookup indexes warmed), every widget of
/// the four default dashboards, three times, through its HTTP API (`POST /api/<model>/_stats`);
/// then its memory, at once and 30 s later: the server's RSS after the benchmark's work, not
/// only after its start.
async fn widgets_over_http(s: &Served) -> anyhow::Result<()> {
    let waiting = Instant::now();
    // "lookup indexes warmed", or a warning that warming failed: either way the reads are over.
    while !std::fs::read_to_string(&s.log).map(|l| l.contains("lookup indexes warmed") || l.contains("warming the lookup indexes failed"))? {
        anyhow::ensure!(waiting.elapsed().as_secs() < 600, "the lookup indexes were not warmed in 10 minutes");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    println!("{:<34} lookup indexes warmed {:.1} s later, server RSS {} MiB", "", waiting.elapsed().as_secs_f64(), rss_mib(s.child.id()));
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut times = Vec::new();
    for _ in 0..3 {
        for (_, text) in DEFAULTS {
            let file: Value = serde_json::from_str(text)?;
            let def: app::model::Definition = serde_json::from_value(file["definition"].clone())?;
            for w in def.items.iter().flat_map(|row| &row.items) {
                for (model, body) in app::chart::requests(w, &def, now_millis()) {
                    let t = Instant::now();
                    let r = http.post(format!("{}/api/{model}/_stats", s.base)).basic_auth(waggle::config::DEFAULT_ADMIN_LOGIN, Some(PASSWORD)).json(&body).send().await?;
                    anyhow::ensure!(r.status().is_success(), "{model} statistics: {}", r.status());
                    r.bytes().await?;
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                }
            }
        }
    }
    let after = rss_mib(s.child.id());
    let (n, elapsed) = (times.len(), started.elapsed().as_secs_f64());
    let (p50, p99) = crate::common::percentiles(times);
    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    println!(
        "{:<34} {n} widget requests over HTTP in {elapsed:.1} s (p50 {p50:.1} ms, p99 {p99:.1} ms); server RSS then {after} MiB, 30 s later {} MiB",
        "",
        rss_mib(s.child.id())
    );
    Ok(())
}

/// Serve the seeded store and time the Alert statistics dashboard in headless Chromium, from
/// navigation to every widget drawn (the script prints the figures).
async fn browser(store: Store, settings: Settings) -> anyhow::Result<()> {
    drop(store);
    let running = waggle::server::start(settings).await?;
    crate::common::wait_for_startup(&running).await;
    println!("\nserver on http://{}", running.addr);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end/bench/dashboard-render.mjs");
    let status = tokio::process::Command::new("node")
        .arg(&script)
        .env("WAGGLE_URL", format!("http://{}", running.addr))
        .env("WAGGLE_ADMIN_LOGIN", waggle::config::DEFAULT_ADMIN_LOGIN)
        .env("WAGGLE_ADMIN_PASSWORD", PASSWORD)
        .status()
        .await?;
    running.stop().await?;
    anyhow::ensure!(status.success(), "{} failed", script.display());
    Ok(())
}
