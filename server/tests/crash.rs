//! Crash test: concurrent feeders post alerts to the real `waggle` binary (durable embedded
//! store, fsync on every commit) while it is killed with SIGKILL at a random moment, then
//! restarted on the same data. Every alert whose creation was acknowledged (201) must be there
//! after the restart, none twice, and the per-status counters must match the alerts.
//!
//! Short here (`CRASH_CYCLES`, default 4 kills); `scripts/crash.sh` runs it longer. It runs
//! twice: with the storage engine's default memtable (1 GiB here: never filled in a test) and
//! with 1 MiB memtables, so memtables are rotated, flushed to SSTables and their WAL segments
//! removed while the feeders post and the kills land.
//!
//! The small-memtable run checks on disk that memtables really were rotated and flushed (SSTable
//! files, log segments beyond those the restarts start), so it cannot pass without exercising
//! them if the engine stopped reading `SURREALKV_MAX_MEMTABLE_SIZE`.
//!
//! A fourth runs the first on a SurrealDB server (`ws://`) instead of the embedded engine, when
//! `scripts/test-ws.sh` provides one (`support/surreal.rs`): Waggle is killed, the database
//! server goes on.
//!
//! A third test is deterministic: it leaves the write-ahead log the way a kill in the middle of
//! a write does (a record whose first fragment reached the file, the rest not), restarts, and
//! checks that what is acknowledged after that restart survives the next kill.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "support/surreal.rs"]
mod surreal;

use rand::Rng;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "crash-admin-password";
const FEEDERS: usize = 6;

use surreal::free_port;

/// A server process, killed when dropped (a failed assertion must not leave it running).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The storage engine's memtable size for the server processes of a test (`None`: its default),
/// or the SurrealDB server they use instead of the embedded engine.
#[derive(Clone, Copy)]
struct Engine {
    memtable_bytes: Option<usize>,
    database: Option<&'static str>,
}

const DEFAULT_ENGINE: Engine = Engine { memtable_bytes: None, database: None };
const SMALL_MEMTABLES: Engine = Engine { memtable_bytes: Some(1 << 20), database: None };

fn spawn(data: &std::path::Path, port: u16, engine: Engine) -> Running {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_waggle"));
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .args(["--log", "error"])
        .env("WAGGLE_ADMIN_PASSWORD", PASSWORD)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(bytes) = engine.memtable_bytes {
        cmd.env("SURREALKV_MAX_MEMTABLE_SIZE", bytes.to_string());
    }
    if let Some(url) = engine.database {
        cmd.args(surreal::waggle_args(url));
    }
    Running(cmd.spawn().expect("waggle starts"))
}

/// A server started on `data` at a free port, up and answering.
async fn start(data: &std::path::Path, engine: Engine) -> (Running, String) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = spawn(data, port, engine);
    wait_up(&base).await;
    (child, base)
}

fn sigkill(mut child: Running) {
    child.0.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
    child.0.wait().unwrap();
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
    crash_cycles(DEFAULT_ENGINE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_alerts_survive_sigkill_with_small_memtables() {
    crash_cycles(SMALL_MEMTABLES).await;
}

/// Waggle on a SurrealDB server (`ws://`, run by `scripts/test-ws.sh`): Waggle is killed, the
/// database server goes on; what Waggle acknowledged is there when it comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_alerts_survive_sigkill_on_a_surrealdb_server() {
    let Some(bin) = surreal::binary() else {
        eprintln!("skipped: set WAGGLE_TEST_SURREAL to a `surreal` binary (scripts/test-ws.sh does)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = surreal::SurrealServer::start(&bin, &dir.path().join("surreal")).await;
    let url: &'static str = Box::leak(db.url.clone().into_boxed_str());
    crash_cycles(Engine { memtable_bytes: None, database: Some(url) }).await;
}

async fn crash_cycles(engine: Engine) {
    let cycles: usize = std::env::var("CRASH_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let mut rng = rand::thread_rng();
    let mut key: Option<String> = None;
    for cycle in 0..cycles {
        let (child, base) = start(&data, engine).await;
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
        sigkill(child);
        feeders.await.unwrap();
    }
    let (child, base) = start(&data, engine).await;
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty(), "some alerts were acknowledged");
    let n = check(&base, key.as_ref().unwrap(), &acked).await;
    eprintln!("after {cycles} kills: {n} alerts stored, {} acknowledged", acked.len());
    if engine.database.is_none() {
        let disk = on_disk(&data);
        eprintln!("on disk: {} SSTables, newest log segment {}", disk.sstables, disk.newest_wal_segment);
    }
    if let Some(bytes) = engine.memtable_bytes {
        let disk = on_disk(&data);
        // Each start opens a new log segment (vendor/README.md, fix 1): `cycles + 1` starts reach
        // segment `cycles`; anything beyond is a memtable rotation.
        assert!(
            disk.sstables > 0 && disk.newest_wal_segment > cycles as u64,
            "with {bytes}-byte memtables the engine rotated and flushed memtables ({disk:?}); \
             is SURREALKV_MAX_MEMTABLE_SIZE still read (vendor/README.md)?"
        );
    }
    // Feeders sending again what was not acknowledged: told it exists, or created; never twice.
    let c = Client::new();
    let one = acked.iter().next().unwrap();
    let (f, n) = one.split_once('-').unwrap();
    let body = alert(f.parse().unwrap(), n.parse().unwrap());
    let r = c.post(format!("{base}/api/alert")).bearer_auth(key.as_ref().unwrap()).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{}", r.text().await.unwrap_or_default());
    sigkill(child);
}

/// Alerts posted one after another by one feeder; returns the references acknowledged.
async fn post_alerts(base: &str, key: &str, feeder: usize, numbers: std::ops::Range<usize>) -> HashSet<String> {
    let c = Client::new();
    let mut acked = HashSet::new();
    for n in numbers {
        let r = c.post(format!("{base}/api/alert")).bearer_auth(key).json(&alert(feeder, n)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap_or_default());
        acked.insert(format!("{feeder}-{n}"));
    }
    acked
}

/// The files under `dir` (recursively) whose name ends in `.{extension}`.
fn files_with_extension(dir: &std::path::Path, extension: &str) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, extension: &str, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, extension, found);
            } else if path.extension().is_some_and(|e| e == extension) {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(dir, extension, &mut found);
    found
}

/// The newest write-ahead log segment of the store under `data` (segments are named by their
/// number, zero-padded).
fn newest_wal_segment(data: &std::path::Path) -> std::path::PathBuf {
    let mut found = files_with_extension(data, "wal");
    found.sort_by_key(|p| p.file_name().map(|n| n.to_os_string()));
    found.pop().expect("the store has a write-ahead log")
}

/// What the storage engine left on disk under `data`.
#[derive(Debug)]
struct OnDisk {
    /// SSTable files: written by memtable flushes (and the compactions of their tables).
    sstables: usize,
    /// The number of the newest log segment: one more at each memtable rotation and each start.
    newest_wal_segment: u64,
}

fn on_disk(data: &std::path::Path) -> OnDisk {
    let segment = newest_wal_segment(data);
    let number = segment.file_stem().and_then(|s| s.to_str()).and_then(|s| s.parse().ok());
    OnDisk {
        sstables: files_with_extension(data, "sst").len(),
        newest_wal_segment: number.unwrap_or_else(|| panic!("a log segment is named by its number: {}", segment.display())),
    }
}

/// Leaves `segment` as a process killed in the middle of a write leaves it: the log's writer
/// buffers 32 KiB blocks, so a large record (a grouped commit) reaches the file a block at a
/// time; a kill after the first block leaves a `First` fragment, checksum and all, filling the
/// rest of the block, and no `Last` fragment after it.
fn tear_tail(segment: &std::path::Path) {
    const BLOCK: usize = 32 * 1024;
    const HEADER: usize = 7; // crc (4, big-endian), length (2, big-endian), type (1)
    const FIRST: u8 = 2;
    let mut bytes = std::fs::read(segment).unwrap();
    if BLOCK - bytes.len() % BLOCK <= HEADER {
        bytes.resize(bytes.len() + BLOCK - bytes.len() % BLOCK, 0); // the writer pads such a rest
    }
    let payload = vec![0x5a_u8; BLOCK - bytes.len() % BLOCK - HEADER];
    let mut crc = crc32fast::Hasher::new();
    crc.update(&[FIRST]);
    crc.update(&payload);
    bytes.extend_from_slice(&crc.finalize().to_be_bytes());
    bytes.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    bytes.push(FIRST);
    bytes.extend_from_slice(&payload);
    std::fs::write(segment, bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_after_a_torn_log_tail_survive_the_next_kill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (child, base) = start(&data, DEFAULT_ENGINE).await;
    let key = api_key(&base).await;
    let mut acked = post_alerts(&base, &key, 0, 0..20).await;
    sigkill(child);

    // The kill landed in the middle of a write.
    tear_tail(&newest_wal_segment(&data));

    // The restart reads the torn record as the end of the log: what was acknowledged is there.
    let (child, base) = start(&data, DEFAULT_ENGINE).await;
    assert_eq!(check(&base, &key, &acked).await, 20);
    acked.extend(post_alerts(&base, &key, 1, 0..20).await);
    sigkill(child);

    // What was acknowledged after that restart survives the next kill too (upstream appended it
    // behind the torn record, and the next recovery cut the log there).
    let (child, base) = start(&data, DEFAULT_ENGINE).await;
    assert_eq!(check(&base, &key, &acked).await, 40);
    sigkill(child);
}
