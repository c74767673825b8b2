//! `waggle-bench dashboards`: seed alerts, cases and observables (raw inserts), load the
//! statistics index, and time every widget of the four default dashboards server-side.

use std::time::Instant;

use serde_json::{Value, json};

use waggle::config::Settings;
use waggle::domain::dashboard::DEFAULTS;
use waggle::core::state::AppState;
use waggle::core::stats;
use crate::common::{PASSWORD, count};
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
}

const DAY: i64 = 86_400_000;

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
        json!({"id": format!("a{i:08}"), "org": org_id, "createdAt": now - (i as i64 * 7919 % 180) * DAY - (i as i64 % 86_400) * 1000,
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
        json!({"id": format!("c{i:07}"), "org": org_id, "caseId": i, "createdAt": start, "startDate": start, "createdBy": "analyst",
               "owner": pick(i, &["alice", "bob", "carol", "dave", "erin"]), "status": if resolved { "Resolved" } else { pick(i, &["Open", "Open", "Deleted"]) },
               "resolutionStatus": if resolved { Value::from(pick(i / 3, &["TruePositive", "FalsePositive", "Indeterminate", "Duplicated"])) } else { Value::Null },
               "endDate": if resolved { Value::from(start + (i as i64 % 200) * 3_600_000) } else { Value::Null },
               "severity": i % 4 + 1, "tlp": i % 4, "pap": 2, "tags": [pick(i, &["apt", "phishing", "ransomware", "insider"])], "title": format!("Case {i}"), "flag": false})
    })
    .await?;
    let cases = o.cases.max(1);
    seed(&store, "observable", o.observables, |i| {
        let file = i % 10 == 0;
        json!({"id": format!("o{i:08}"), "org": org_id, "case": format!("c{:07}", i % cases), "createdAt": now - (i as i64 * 7919 % 180) * DAY,
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
    }
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
