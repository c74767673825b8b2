//! Two Waggle processes on one SurrealDB server (a real `surreal start`, see
//! `support/surreal.rs`; run by `scripts/test-ws.sh`): everything a single process guarantees
//! holds across both.
//!
//! - an alert's `(type, source, sourceRef)` is created once, whichever process is asked;
//! - case numbers are unique and follow each other;
//! - the per-status counters equal the records, and each process's statistics count what the
//!   other wrote;
//! - a custom field created on one is checked by the other at once, a change to it within a
//!   poll of the change feed;
//! - a session opened on one is valid on the other, and ends on both; a renewed API key is
//!   refused by both;
//! - failed sign-ins counted on one throttle the same login on the other;
//! - a live stream opened on one receives what is committed on the other;
//! - the analysis jobs of a process killed with SIGKILL are run by the other;
//! - an analyzer's rate set on one limits both, and the runs started on one count on the other.

#[path = "support/surreal.rs"]
mod surreal;

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "instances-admin-password";
const ADMIN: &str = "admin@waggle.local";

struct Waggle {
    child: Child,
    base: String,
}

impl Drop for Waggle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Waggle {
    async fn start(db: &surreal::SurrealServer, data: &std::path::Path) -> Waggle {
        Self::start_with(db, data, &[]).await
    }

    async fn start_with(db: &surreal::SurrealServer, data: &std::path::Path, options: &[&str]) -> Waggle {
        let port = surreal::free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_waggle"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--log", "warn", "--data"])
            .arg(data)
            .args(surreal::waggle_args(&db.url))
            .args(options)
            .env("WAGGLE_ADMIN_PASSWORD", PASSWORD)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("waggle starts");
        let w = Waggle { child, base: format!("http://127.0.0.1:{port}") };
        let c = Client::new();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(60) {
            if c.get(w.url("/api/health")).send().await.is_ok_and(|r| r.status().is_success()) {
                return w;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("a Waggle did not come up");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = req.send().await.expect("an answer");
    let st = r.status();
    let text = r.text().await.unwrap_or_default();
    (st, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Sign in with a password on `w`: the session cookie (`name=value`).
async fn sign_in(c: &Client, w: &Waggle, login: &str, password: &str) -> Result<String, (StatusCode, Value)> {
    let r = c.post(w.url("/api/login")).json(&json!({"user": login, "password": password})).send().await.unwrap();
    if r.status() != StatusCode::OK {
        let st = r.status();
        return Err((st, r.json().await.unwrap_or_default()));
    }
    let cookie = r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|v| v.split(';').next().map(str::to_string));
    Ok(cookie.expect("a session cookie"))
}

fn alert(source: &str, reference: &str) -> Value {
    json!({"type": "instances", "source": source, "sourceRef": reference, "title": format!("Alert {reference}"), "description": "d", "severity": 2,
           "artifacts": [{"dataType": "ip", "data": "10.9.8.7"}]})
}

/// Poll `f` until it holds (up to `within`); the last answer is returned either way.
async fn eventually<F, Fut>(within: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let t = Instant::now();
    loop {
        if f().await {
            return true;
        }
        if t.elapsed() > within {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_waggle_processes_on_one_database_agree() {
    let Some(bin) = surreal::binary() else {
        eprintln!("skipped: set WAGGLE_TEST_SURREAL to a `surreal` binary (scripts/test-ws.sh does)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = surreal::SurrealServer::start(&bin, &dir.path().join("surreal")).await;
    // One after the other: the first bootstraps the database (migrations, the first admin).
    let a = Waggle::start(&db, &dir.path().join("a")).await;
    let b = Waggle::start(&db, &dir.path().join("b")).await;
    let c = Client::builder().timeout(Duration::from_secs(30)).build().unwrap();

    // --- Sessions: opened on A, valid on B; ended on B, gone on A.
    let cookie = sign_in(&c, &a, ADMIN, PASSWORD).await.expect("admin signs in on A");
    let (st, me) = send(c.get(b.url("/api/user/current")).header("cookie", &cookie)).await;
    assert_eq!((st, me["login"].as_str()), (StatusCode::OK, Some(ADMIN)), "A's session on B: {me}");
    let (st, key) = send(c.post(a.url(&format!("/api/user/{ADMIN}/key/renew"))).header("cookie", &cookie)).await;
    assert_eq!(st, StatusCode::OK);
    let key = key.as_str().expect("a key").to_string();
    let (st, _) = send(c.get(b.url("/api/logout")).header("cookie", &cookie)).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = send(c.get(a.url("/api/user/current")).header("cookie", &cookie)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "a session ended on B is ended on A");

    // A key works on both, after both used it (each keeps the user behind it in memory).
    for w in [&a, &b] {
        let (st, me) = send(c.get(w.url("/api/user/current")).bearer_auth(&key)).await;
        assert_eq!((st, me["login"].as_str()), (StatusCode::OK, Some(ADMIN)));
    }

    // --- Alert dedup: the same (type, source, sourceRef) sent 16 times at once to both.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (c, key, url) = (c.clone(), key.clone(), if i % 2 == 0 { a.url("/api/alert") } else { b.url("/api/alert") });
        tasks.push(tokio::spawn(async move { send(c.post(url).bearer_auth(key).json(&alert("dup", "same-1"))).await }));
    }
    let mut created = 0;
    for t in tasks {
        let (st, v) = t.await.unwrap();
        match st {
            StatusCode::CREATED => created += 1,
            StatusCode::BAD_REQUEST => assert_eq!(v["type"], "ConflictError", "{v}"),
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert_eq!(created, 1, "one alert for one key, whichever process is asked");

    // --- Ingestion on both: 4 feeders per process, 40 alerts each.
    let mut tasks = Vec::new();
    for (n, w) in [&a, &b].into_iter().enumerate() {
        for f in 0..4 {
            let (c, key, url) = (c.clone(), key.clone(), w.url("/api/alert"));
            tasks.push(tokio::spawn(async move {
                for i in 0..40 {
                    let (st, v) = send(c.post(&url).bearer_auth(&key).json(&alert(&format!("feeder-{n}-{f}"), &format!("{n}-{f}-{i}")))).await;
                    assert_eq!(st, StatusCode::CREATED, "{v}");
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let expected_alerts = 1 + 2 * 4 * 40;
    for w in [&a, &b] {
        let r = c.post(w.url("/api/alert/_search?range=all")).bearer_auth(&key).json(&json!({"query": {"type": "instances"}})).send().await.unwrap();
        let list: Vec<Value> = r.json().await.unwrap();
        assert_eq!(list.len(), expected_alerts);
        let refs: HashSet<&str> = list.iter().filter_map(|a| a["sourceRef"].as_str()).collect();
        assert_eq!(refs.len(), expected_alerts, "no alert twice");
        // The per-status counter (written by both processes' transactions) equals the alerts.
        let r = c.post(w.url("/api/alert/_search?range=0-1")).bearer_auth(&key).json(&json!({"query": {"status": "New"}})).send().await.unwrap();
        assert_eq!(r.headers()["x-total"].to_str().unwrap(), expected_alerts.to_string(), "the New counter on {}", w.base);
        // Each process's statistics (its index, kept by the change feed) count both's alerts.
        let (st, v) = send(c.post(w.url("/api/alert/_stats")).bearer_auth(&key).json(&json!({"query": {"type": "instances"}, "stats": [
            {"_agg": "field", "_field": "source", "_size": 100, "_select": [{"_agg": "count"}]}, {"_agg": "count"}]}))).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["count"], expected_alerts as u64, "statistics on {}: {v}", w.base);
        assert_eq!(v["feeder-0-3"]["count"], 40, "{v}");
        assert_eq!(v["feeder-1-2"]["count"], 40, "{v}");
    }

    // --- Case numbers: 20 cases created at once on each process.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (c, key, url) = (c.clone(), key.clone(), if i % 2 == 0 { a.url("/api/case") } else { b.url("/api/case") });
        tasks.push(tokio::spawn(async move { send(c.post(url).bearer_auth(key).json(&json!({"title": format!("Case {i}"), "description": "d"}))).await }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        let (st, v) = t.await.unwrap();
        assert_eq!(st, StatusCode::CREATED, "{v}");
        numbers.push(v["caseId"].as_i64().expect("a case number"));
    }
    numbers.sort();
    assert_eq!(numbers, (1..=40).collect::<Vec<_>>(), "unique case numbers, none skipped");
    for w in [&a, &b] {
        let r = c.post(w.url("/api/case/_search?range=0-1")).bearer_auth(&key).json(&json!({"query": {"status": "Open"}})).send().await.unwrap();
        assert_eq!(r.headers()["x-total"].to_str().unwrap(), "40", "the Open counter on {}", w.base);
    }

    // --- Custom fields: created on A, checked by B at once.
    let case_with = |value: &str| json!({"title": "With a field", "description": "d", "customFields": {"impact": {"string": value}}});
    let (st, field) = send(c.post(a.url("/api/list/custom_fields")).bearer_auth(&key).json(&json!({"value": {
        "name": "impact", "reference": "impact", "description": "Business impact", "type": "string", "options": ["high", "low"]}}))).await;
    assert_eq!(st, StatusCode::CREATED, "{field}");
    let field_id = field.as_str().unwrap().to_string();
    let (st, v) = send(c.post(b.url("/api/case")).bearer_auth(&key).json(&case_with("medium"))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "B checks A's new field at once: {v}");
    let (st, v) = send(c.post(b.url("/api/case")).bearer_auth(&key).json(&case_with("high"))).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // Changed on A: B follows within a poll of the change feed.
    let (st, v) = send(c.patch(a.url(&format!("/api/list/{field_id}"))).bearer_auth(&key).json(&json!({"value": {
        "name": "impact", "reference": "impact", "description": "Business impact", "type": "string", "options": ["high", "medium", "low"]}}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let followed = eventually(Duration::from_secs(3), || {
        let req = c.post(b.url("/api/case")).bearer_auth(&key).json(&case_with("medium"));
        async move { req.send().await.is_ok_and(|r| r.status() == StatusCode::CREATED) }
    })
    .await;
    assert!(followed, "B takes A's change to the field within 3 s");

    // --- A live stream on A sees a case created on B, and A's own changes once (not again
    // when the change feed brings them back).
    let (st, stream) = send(c.post(a.url("/api/stream")).bearer_auth(&key)).await;
    assert_eq!(st, StatusCode::OK);
    let stream = stream.as_str().expect("a stream id").to_string();
    let mut made = Vec::new();
    for w in [&b, &a] {
        let (st, v) = send(c.post(w.url("/api/case")).bearer_auth(&key).json(&json!({"title": format!("Made on {}", w.base), "description": "d"}))).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        made.push(v["_id"].as_str().unwrap().to_string());
    }
    let mut creations: Vec<String> = Vec::new();
    let t = Instant::now();
    // Read on for a second after both are seen: time for a duplicate to arrive.
    let mut both_seen_at: Option<Instant> = None;
    while t.elapsed() < Duration::from_secs(15) && both_seen_at.is_none_or(|at| at.elapsed() < Duration::from_secs(1)) {
        let req = c.get(a.url(&format!("/api/stream/{stream}"))).bearer_auth(&key).timeout(Duration::from_millis(1500));
        let Ok(r) = req.send().await else { continue };
        let events: Value = r.json().await.unwrap_or_default();
        for e in events.as_array().into_iter().flatten() {
            let base = &e["base"];
            if base["objectType"] == "case" && base["operation"] == "Creation" {
                creations.push(base["objectId"].as_str().unwrap_or_default().to_string());
            }
        }
        if both_seen_at.is_none() && made.iter().all(|m| creations.contains(m)) {
            both_seen_at = Some(Instant::now());
        }
    }
    assert!(creations.contains(&made[0]), "A's stream shows the case created on B: {creations:?}");
    assert_eq!(creations.iter().filter(|c| **c == made[1]).count(), 1, "A's own case once: {creations:?}");
    assert_eq!(creations.iter().filter(|c| **c == made[0]).count(), 1, "B's case once: {creations:?}");

    // --- Login throttling, shared: failures counted on A hold the same login back on B.
    let wrong = |w: &Waggle| {
        let req = c.post(w.url("/api/login")).json(&json!({"user": "nobody@instances", "password": "wrong"}));
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.text().await.unwrap_or_default())
        }
    };
    for _ in 0..5 {
        let (st, _) = wrong(&a).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
    }
    // Each wait doubles (1 s, 2 s...): two more failures on A make it 4 s.
    for wait in [1100, 2100] {
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let (st, text) = wrong(&a).await;
        assert!(st == StatusCode::UNAUTHORIZED && !text.contains("Too many"), "{st} {text}");
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (st, text) = wrong(&b).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(text.contains("Too many failed attempts"), "B holds back a login A counted failures for: {text}");

    // --- A renewed key: the old one is refused by both (B kept its user in memory).
    let (st, new_key) = send(c.post(a.url(&format!("/api/user/{ADMIN}/key/renew"))).bearer_auth(&key)).await;
    assert_eq!(st, StatusCode::OK);
    let new_key = new_key.as_str().unwrap().to_string();
    let refused = eventually(Duration::from_secs(3), || {
        let req = c.get(b.url("/api/user/current")).bearer_auth(&key);
        async move { req.send().await.is_ok_and(|r| r.status() == StatusCode::UNAUTHORIZED) }
    })
    .await;
    assert!(refused, "B refuses the old key within 3 s");
    let (st, _) = send(c.get(b.url("/api/user/current")).bearer_auth(&new_key)).await;
    assert_eq!(st, StatusCode::OK, "and takes the new one");
}

/// A client signed in as the administrator on `w` (session cookie).
async fn admin_session(w: &Waggle) -> Client {
    let c = Client::builder().cookie_store(true).timeout(Duration::from_secs(30)).build().unwrap();
    let r = c.post(w.url("/api/login")).json(&json!({"user": ADMIN, "password": PASSWORD})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    c
}

/// A stand-in analyzer that takes `seconds` (`Fast_1_0`, for ip observables).
fn slow_analyzer(seconds: u32) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("Fast");
    std::fs::create_dir(&a).unwrap();
    let definition = json!({"name": "Fast", "version": "1.0", "description": "A stand-in", "author": "tests", "url": "https://example.org",
                            "license": "AGPL-V3", "dataTypeList": ["ip"], "command": "Fast/fast.sh", "configurationItems": []});
    std::fs::write(a.join("Fast.json"), definition.to_string()).unwrap();
    let script = format!(
        "#!/bin/sh\nsleep {seconds}\ncat > \"$1/output/output.json\" <<'EOF'\n{{\"success\": true, \"summary\": {{\"taxonomies\": []}}, \"full\": {{}}, \"artifacts\": [], \"operations\": []}}\nEOF\n"
    );
    std::fs::write(a.join("fast.sh"), script).unwrap();
    std::fs::set_permissions(a.join("fast.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_jobs_of_a_killed_process_are_run_by_another() {
    let Some(bin) = surreal::binary() else {
        eprintln!("skipped: set WAGGLE_TEST_SURREAL to a `surreal` binary (scripts/test-ws.sh does)");
        return;
    };
    let analyzers = slow_analyzer(2);
    let options = ["--analysis-concurrency", "1", "--analyzers", analyzers.path().to_str().unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let db = surreal::SurrealServer::start(&bin, &dir.path().join("surreal")).await;
    let mut a = Waggle::start_with(&db, &dir.path().join("a"), &options).await;
    let b = Waggle::start_with(&db, &dir.path().join("b"), &options).await;
    let (ca, cb) = (admin_session(&a).await, admin_session(&b).await);
    let (st, v) = send(ca.post(a.url("/ui/analysis/enable")).json(&json!({"definition": "Fast_1_0", "input": {"jobCache": 0}}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, case) = send(ca.post(a.url("/api/case")).json(&json!({"title": "jobs", "description": "d"}))).await;
    assert_eq!(st, StatusCode::CREATED, "{case}");
    let (st, obs) = send(ca.post(a.url(&format!("/api/case/{}/artifact", case["id"].as_str().unwrap()))).json(&json!({"dataType": "ip", "data": ["10.2.0.1", "10.2.0.2", "10.2.0.3"]}))).await;
    assert_eq!(st, StatusCode::CREATED, "{obs}");
    let mut jobs = Vec::new();
    for o in obs.as_array().unwrap() {
        let (st, j) = send(ca.post(a.url("/api/connector/cortex/job")).json(&json!({"cortexId": "local", "artifactId": o["id"], "analyzerId": "Fast_1_0"}))).await;
        assert!(st.is_success(), "{j}");
        jobs.push(j["id"].as_str().unwrap().to_string());
    }
    let status = |id: &str| {
        let req = cb.get(b.url(&format!("/api/connector/cortex/job/{id}")));
        async move { send(req).await.1["status"].as_str().unwrap_or_default().to_string() }
    };
    // A runs the first (2 s), the others wait behind it (one at a time): kill A now.
    assert!(eventually(Duration::from_secs(5), || async { status(&jobs[0]).await == "InProgress" }).await, "A runs the first job");
    assert_eq!(status(&jobs[2]).await, "Waiting", "B leaves A's jobs alone while A lives");
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    let killed = Instant::now();
    let done = eventually(Duration::from_secs(75), || async {
        let mut all = true;
        for j in &jobs {
            all &= status(j).await == "Success";
        }
        all
    })
    .await;
    assert!(done, "B runs the jobs of the killed A");
    eprintln!("A's jobs done by B {:.1} s after A was killed", killed.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn analyzer_budgets_are_shared() {
    let Some(bin) = surreal::binary() else {
        eprintln!("skipped: set WAGGLE_TEST_SURREAL to a `surreal` binary (scripts/test-ws.sh does)");
        return;
    };
    let analyzers = slow_analyzer(0);
    let options = ["--analyzers", analyzers.path().to_str().unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let db = surreal::SurrealServer::start(&bin, &dir.path().join("surreal")).await;
    let a = Waggle::start_with(&db, &dir.path().join("a"), &options).await;
    let b = Waggle::start_with(&db, &dir.path().join("b"), &options).await;
    let (ca, cb) = (admin_session(&a).await, admin_session(&b).await);
    // The analyzer and its rate are set on A, after both started: B learns them from the feed.
    let input = json!({"name": "Shared", "rate": 3, "rateUnit": "Hour", "overQuota": "refuse", "jobCache": 0});
    let (st, v) = send(ca.post(a.url("/ui/analysis/enable")).json(&json!({"definition": "Fast_1_0", "input": input}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, case) = send(ca.post(a.url("/api/case")).json(&json!({"title": "budgets", "description": "d"}))).await;
    assert_eq!(st, StatusCode::CREATED, "{case}");
    let values: Vec<String> = (1..=5).map(|i| format!("10.3.0.{i}")).collect();
    let (st, obs) = send(ca.post(a.url(&format!("/api/case/{}/artifact", case["id"].as_str().unwrap()))).json(&json!({"dataType": "ip", "data": values}))).await;
    assert_eq!(st, StatusCode::CREATED, "{obs}");
    let obs: Vec<String> = obs.as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_string()).collect();
    let run = |c: &Client, w: &Waggle, o: &str| c.post(w.url("/api/connector/cortex/job")).json(&json!({"cortexId": "local", "artifactId": o, "analyzerId": "Shared"}));
    // Two runs on A...
    for o in &obs[..2] {
        let (st, j) = send(run(&ca, &a, o)).await;
        assert_eq!(st, StatusCode::CREATED, "{j}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await; // a few polls of the change feed
    // ...leave one to B, and then none to either.
    let (st, j) = send(run(&cb, &b, &obs[2])).await;
    assert_eq!(st, StatusCode::CREATED, "the third run of a rate of 3, on B: {j}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (st, e) = send(run(&ca, &a, &obs[3])).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "A counts B's run: {e}");
    let (st, e) = send(run(&cb, &b, &obs[3])).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "B counts A's runs: {e}");
}
