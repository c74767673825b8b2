//! Crash test: concurrent feeders post alerts to the real `waggle` binary (durable embedded
//! store, fsync on every commit) while it is killed with SIGKILL at a random moment, then
//! restarted on the same data. Every alert whose creation was acknowledged (201) must be there
//! after the restart, none twice, and the per-status counters must match the alerts.
//!
//! Short here (`CRASH_CYCLES`, default 2 kills); `scripts/crash.sh` runs it longer.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "crash-admin-password";
const FEEDERS: usize = 6;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A server process, killed when dropped (a failed assertion must not leave it running).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(data: &std::path::Path, port: u16) -> Running {
    Running(Command::new(env!("CARGO_BIN_EXE_waggle"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .args(["--log", "error"])
        .env("WAGGLE_ADMIN_PASSWORD", PASSWORD)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("waggle starts"))
}

async fn wait_up(base: &str) {
    let c = Client::new();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(60) {
        if c.get(format!("{base}/api/health")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up");
}

async fn api_key(base: &str) -> String {
    let c = Client::builder().cookie_store(true).build().unwrap();
    let r = c.post(format!("{base}/api/login")).json(&json!({"user": "admin@waggle.local", "password": PASSWORD})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    c.post(format!("{base}/api/user/admin@waggle.local/key/renew")).send().await.unwrap().text().await.unwrap()
}

fn alert(feeder: usize, n: usize) -> Value {
    json!({
        "type": "crash", "source": format!("feeder-{feeder}"), "sourceRef": format!("{feeder}-{n}"), "title": format!("Crash test {feeder}-{n}"),
        "description": "posted while the server may die", "severity": 2,
        "artifacts": [
            {"dataType": "ip", "data": format!("10.{feeder}.{}.{}", n / 256 % 256, n % 256)},
            {"dataType": "domain", "data": format!("f{feeder}-{n}.example")},
            {"dataType": "mail", "data": "shared@example.com"},
        ],
    })
}

/// Post alerts from `FEEDERS` concurrent feeders until the server stops answering; returns
/// the references acknowledged with 201.
async fn feed(base: String, key: String, start: usize, acked: Arc<Mutex<HashSet<String>>>) {
    let c = Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut tasks = Vec::new();
    for f in 0..FEEDERS {
        let (c, base, key, acked) = (c.clone(), base.clone(), key.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for n in start.. {
                let body = alert(f, n);
                match c.post(format!("{base}/api/alert")).bearer_auth(&key).json(&body).send().await {
                    Ok(r) if r.status() == StatusCode::CREATED => {
                        acked.lock().unwrap().insert(format!("{f}-{n}"));
                    }
                    Ok(r) => panic!("unexpected answer {} for {f}-{n}: {}", r.status(), r.text().await.unwrap_or_default()),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

async fn check(base: &str, key: &str, acked: &HashSet<String>) -> usize {
    let c = Client::new();
    let r = c.post(format!("{base}/api/alert/_search?range=all")).bearer_auth(key).json(&json!({"query": {"type": "crash"}})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let list: Vec<Value> = r.json().await.unwrap();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for a in &list {
        *seen.entry(a["sourceRef"].as_str().unwrap().to_string()).or_default() += 1;
        assert_eq!(a["artifacts"].as_array().map(Vec::len), Some(3), "an alert is written whole: {a}");
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "alerts present twice: {twice:?}");
    let missing: Vec<_> = acked.iter().filter(|r| !seen.contains_key(*r)).collect();
    assert!(missing.is_empty(), "{} acknowledged alerts lost, e.g. {:?}", missing.len(), missing.iter().take(5).collect::<Vec<_>>());
    // The per-status counters (kept in the writing transactions) agree with the alerts.
    let r = c.post(format!("{base}/api/alert/_search?range=0-1")).bearer_auth(key).json(&json!({"query": {"status": "New"}})).send().await.unwrap();
    let total: usize = r.headers()["x-total"].to_str().unwrap().parse().unwrap();
    assert_eq!(total, list.len(), "the New counter matches the alerts");
    list.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_alerts_survive_sigkill() {
    let cycles: usize = std::env::var("CRASH_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(2);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let mut rng = rand::thread_rng();
    let mut key: Option<String> = None;
    for cycle in 0..cycles {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut child = spawn(&data, port);
        wait_up(&base).await;
        let k: String = match &key {
            Some(k) => {
                // Everything acknowledged before the last kill is there.
                let n = check(&base, k, &acked.lock().unwrap().clone()).await;
                eprintln!("cycle {cycle}: {n} alerts after restart, {} acknowledged", acked.lock().unwrap().len());
                k.clone()
            }
            None => key.insert(api_key(&base).await).clone(),
        };
        let feeders = tokio::spawn(feed(base.clone(), k, cycle * 1_000_000, acked.clone()));
        tokio::time::sleep(Duration::from_millis(rng.gen_range(300..1500))).await;
        child.0.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
        child.0.wait().unwrap();
        feeders.await.unwrap();
    }
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = spawn(&data, port);
    wait_up(&base).await;
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty(), "some alerts were acknowledged");
    let n = check(&base, key.as_ref().unwrap(), &acked).await;
    eprintln!("after {cycles} kills: {n} alerts stored, {} acknowledged", acked.len());
    // Feeders sending again what was not acknowledged: told it exists, or created; never twice.
    let c = Client::new();
    let one = acked.iter().next().unwrap();
    let (f, n) = one.split_once('-').unwrap();
    let body = alert(f.parse().unwrap(), n.parse().unwrap());
    let r = c.post(format!("{base}/api/alert")).bearer_auth(key.as_ref().unwrap()).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{}", r.text().await.unwrap_or_default());
    child.0.kill().unwrap();
    child.0.wait().unwrap();
}
