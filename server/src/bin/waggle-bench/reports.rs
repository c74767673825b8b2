//! Case reports: the time to make the report of a big case (by default 50 tasks with two
//! markdown logs each, 500 observables of three types, 50 of them IOCs, a related alert), in
//! each format, through `GET /api/case/{id}/report` (reading the case, charts, template,
//! layout and PDF writing), and the size of what is sent.

use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::json;
use waggle::config::Settings;

use crate::common::{PASSWORD, post, report};

#[derive(clap::Args)]
pub struct ReportsArgs {
    #[arg(long, default_value_t = 50)]
    pub tasks: usize,
    #[arg(long, default_value_t = 500)]
    pub observables: usize,
    /// Reports made of each format.
    #[arg(long, default_value_t = 5)]
    pub iterations: usize,
    /// Write the last report of each format there (`report.pdf`, `report.html`, `report.md`).
    #[arg(long)]
    pub save: Option<std::path::PathBuf>,
}

pub async fn run(args: ReportsArgs) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let mut settings = Settings::ephemeral(tmp.path());
    settings.database = format!("surrealkv://{}", tmp.path().join("db").display());
    settings.admin_password = Some(PASSWORD.into());
    let running = waggle::server::start(settings).await?;
    crate::common::wait_for_startup(&running).await;
    let base = format!("http://{}", running.addr);
    let c = Client::builder().cookie_store(true).build()?;
    post(&c, format!("{base}/api/login"), json!({"user": waggle::config::DEFAULT_ADMIN_LOGIN, "password": PASSWORD})).await?;

    let alert = post(&c, format!("{base}/api/alert"), json!({"type": "bench", "source": "bench", "sourceRef": "1", "title": "Big incident", "description": "d", "severity": 3})).await?;
    let case = post(&c, format!("{base}/api/alert/{}/createCase", alert["id"].as_str().unwrap_or_default()), json!({})).await?;
    let case_id = case["id"].as_str().unwrap_or_default().to_string();
    for t in 0..args.tasks {
        let task = post(&c, format!("{base}/api/case/{case_id}/task"), json!({"title": format!("Task {t}: contain host {t}"), "group": format!("group {}", t % 5)})).await?;
        let tid = task["id"].as_str().unwrap_or_default().to_string();
        for l in 0..2 {
            let message = format!("## Finding {l}\n\nHost **ws-{t:03}** talked to `198.51.100.{l}` over TLS; blocked at the proxy.\n\n- checked the EDR timeline\n- collected the memory image\n\n| port | bytes |\n|---|---|\n| 443 | {} |\n", t * 1000 + l);
            post(&c, format!("{base}/api/case/task/{tid}/log"), json!({"message": message})).await?;
        }
    }
    let per_type = args.observables / 3;
    let kinds = [("ip", args.observables - 2 * per_type), ("domain", per_type), ("hash", per_type)];
    for (k, (kind, n)) in kinds.iter().enumerate() {
        let values: Vec<String> = (0..*n)
            .map(|i| match *kind {
                "ip" => format!("10.{}.{}.{}", k, i / 256, i % 256),
                "domain" => format!("host-{i}.evil-{k}.example"),
                _ => format!("{:064x}", i as u128 * 7919 + k as u128),
            })
            .collect();
        let (iocs, rest) = values.split_at((*n / 10).min(values.len()));
        if !iocs.is_empty() {
            post(&c, format!("{base}/api/case/{case_id}/artifact"), json!({"dataType": kind, "data": iocs, "ioc": true, "tags": ["bench"]})).await?;
        }
        if !rest.is_empty() {
            post(&c, format!("{base}/api/case/{case_id}/artifact"), json!({"dataType": kind, "data": rest})).await?;
        }
    }
    println!(
        "Waggle {} report benchmark: a case with {} tasks ({} logs) and {} observables; {} runs of each format",
        waggle::VERSION,
        args.tasks,
        args.tasks * 2,
        args.observables,
        args.iterations
    );
    for format in ["pdf", "html", "md"] {
        let mut times: Vec<Duration> = Vec::new();
        let mut size = 0;
        for _ in 0..args.iterations {
            let t = Instant::now();
            let r = c.get(format!("{base}/api/case/{case_id}/report?format={format}")).send().await?;
            anyhow::ensure!(r.status().is_success(), "{format}: {}", r.status());
            let body = r.bytes().await?;
            times.push(t.elapsed());
            size = body.len();
            if let Some(dir) = &args.save {
                std::fs::create_dir_all(dir)?;
                std::fs::write(dir.join(format!("report.{format}")), &body)?;
            }
        }
        report(&format!("report {format} ({} KiB)", size / 1024), times, None);
    }
    running.stop().await?;
    Ok(())
}
