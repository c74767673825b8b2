//! Ingestion on a SurrealDB server: `clients` feeders post alerts (5 observables each) to one
//! `waggle` process, then spread over two processes on one database (a fresh `surreal start`
//! on surrealkv each time). Both processes are the release `waggle` binary beside this one.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::alerts::posted;
use crate::common::{PASSWORD, report, rss_mib};

#[derive(clap::Args)]
pub struct InstancesArgs {
    /// The `surreal` binary (`scripts/bench.sh instances` builds it: tools/surreal-server).
    #[arg(long)]
    surreal: PathBuf,
    /// Alerts posted in each run.
    #[arg(long, default_value_t = 20_000)]
    posts: usize,
    /// Concurrent feeders, spread evenly over the processes.
    #[arg(long, default_value_t = 64)]
    clients: usize,
}

/// A process, killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn wait_for(url: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(60) {
        if http.get(url).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("{url} did not answer in 60 s")
}

pub async fn run(args: InstancesArgs) -> anyhow::Result<()> {
    println!("Ingestion on a SurrealDB server (surreal start, surrealkv), {} alerts by {} feeders:", args.posts, args.clients);
    for processes in [1, 2] {
        let tmp = tempfile::tempdir()?;
        ingest(&args, processes, tmp.path()).await?;
    }
    Ok(())
}

async fn ingest(args: &InstancesArgs, processes: usize, dir: &Path) -> anyhow::Result<()> {
    let sport = free_port()?;
    let surreal = Proc(
        Command::new(&args.surreal)
            .args(["start", "--bind", &format!("127.0.0.1:{sport}"), "--user", "root", "--pass", "root", "--log", "warn"])
            .arg(format!("surrealkv://{}", dir.join("surreal").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    wait_for(&format!("http://127.0.0.1:{sport}/health")).await?;
    let exe = std::env::current_exe()?.with_file_name("waggle");
    let mut servers = Vec::new();
    let mut bases = Vec::new();
    for n in 0..processes {
        let port = free_port()?;
        let child = Command::new(&exe)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--log", "warn", "--data"])
            .arg(dir.join(format!("waggle-{n}")))
            .args(["--database", &format!("ws://127.0.0.1:{sport}"), "--database-user", "root", "--database-password", "root"])
            .env("WAGGLE_ADMIN_PASSWORD", PASSWORD)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        servers.push(Proc(child));
        let base = format!("http://127.0.0.1:{port}");
        // One after the other: the first sets the database up.
        wait_for(&format!("{base}/api/health")).await?;
        bases.push(base);
    }
    let http = reqwest::Client::builder().cookie_store(true).build()?;
    let r = http.post(format!("{}/api/login", bases[0])).json(&json!({"user": waggle::config::DEFAULT_ADMIN_LOGIN, "password": PASSWORD})).send().await?;
    anyhow::ensure!(r.status().is_success(), "login: {}", r.status());
    let key = http.post(format!("{}/api/user/{}/key/renew", bases[0], waggle::config::DEFAULT_ADMIN_LOGIN)).send().await?.text().await?;
    let api = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients.max(16))
        .default_headers({
            let mut h = reqwest::header::HeaderMap::new();
            h.insert(reqwest::header::AUTHORIZATION, format!("Bearer {key}").parse()?);
            h
        })
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let (api, base, next, posts) = (api.clone(), bases[c % processes].clone(), next.clone(), args.posts);
        tasks.push(tokio::spawn(async move {
            let mut d = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= posts {
                    break;
                }
                let t = Instant::now();
                let r = api.post(format!("{base}/api/alert")).json(&posted("instances", i)).send().await?;
                anyhow::ensure!(r.status().as_u16() == 201, "create alert: {} {}", r.status(), r.text().await.unwrap_or_default());
                d.push(t.elapsed());
            }
            anyhow::Ok(d)
        }));
    }
    let mut lat = Vec::with_capacity(args.posts);
    for t in tasks {
        lat.extend(t.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rss: Vec<String> = servers.iter().map(|s| format!("{} MiB", rss_mib(s.0.id()))).collect();
    println!(
        "  {processes} waggle process{}: {:.0} alerts/s ({:.1} s); waggle RSS {}, surreal RSS {} MiB",
        if processes == 1 { "" } else { "es" },
        args.posts as f64 / elapsed,
        elapsed,
        rss.join(" + "),
        rss_mib(surreal.0.id()),
    );
    report(&format!("  latency, {processes} process(es)"), lat, None);
    // Both processes count every alert (the counters, written in the creating transactions).
    for base in &bases {
        let r = api.post(format!("{base}/api/alert/_search?range=0-1")).json(&json!({"query": {"status": "New"}})).send().await?;
        let total: usize = r.headers().get("x-total").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
        anyhow::ensure!(total == args.posts, "{base} counts {total} new alerts, not {}", args.posts);
    }
    drop(servers);
    drop(surreal);
    Ok(())
}
