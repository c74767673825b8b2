//! The analysis engine through the API: analyzers enabled per organisation, jobs run by the real
//! TestAnalyzer of the public Cortex-Analyzers (tests/cortex-analyzers, in the Python venv made
//! by scripts/lib.sh's `ensure_analyzers_venv`), reports, mini-reports, the cache, quotas that
//! queue without overshooting, permissions and tenant isolation.
//!
//! The quota test uses a stand-in analyzer (a shell script that writes Cortex's output.json) so
//! that 50 jobs take seconds, not Python start-ups.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The real analyzers and the `bin` of their venv; None (test skipped) when the venv is missing,
/// unless scripts/test.sh asks for them.
fn real_analyzers() -> Option<(PathBuf, PathBuf)> {
    let dir = repo().join("tests/cortex-analyzers/analyzers");
    let venv = std::env::var_os("WAGGLE_ANALYZERS_VENV").map(PathBuf::from).unwrap_or_else(|| repo().join("target/venv-analyzers"));
    if venv.join("bin/python").exists() {
        return Some((dir, venv.join("bin")));
    }
    assert!(std::env::var_os("WAGGLE_REQUIRE_ANALYZERS").is_none(), "the analyzers' venv is missing");
    eprintln!("SKIP: no analyzers venv at {} (bash -c 'source scripts/lib.sh; ensure_analyzers_venv')", venv.display());
    None
}

async fn case_with(c: &Client, s: &TestServer, values: &[&str]) -> (String, Vec<String>) {
    let (st, case) = post(c, s, "/api/case", json!({"title": "analysis", "description": "d"})).await;
    assert_eq!(st, StatusCode::CREATED, "{case}");
    let id = case["id"].as_str().unwrap().to_string();
    let (st, obs) = post(c, s, &format!("/api/case/{id}/artifact"), json!({"dataType": "ip", "data": values})).await;
    assert_eq!(st, StatusCode::CREATED, "{obs}");
    let list = match obs {
        Value::Array(a) => a,
        one => vec![one],
    };
    (id, list.iter().map(|o| o["id"].as_str().unwrap().to_string()).collect())
}

async fn run(c: &Client, s: &TestServer, observable: &str, analyzer: &str) -> (StatusCode, Value) {
    post(c, s, "/api/connector/cortex/job", json!({"cortexId": "local", "artifactId": observable, "analyzerId": analyzer})).await
}

/// The job once it has finished (its report included).
async fn finished(c: &Client, s: &TestServer, job: &str) -> Value {
    for _ in 0..300 {
        let (st, j) = get(c, s, &format!("/api/connector/cortex/job/{job}")).await;
        assert_eq!(st, StatusCode::OK, "{j}");
        if matches!(j["status"].as_str(), Some("Success" | "Failure" | "Deleted")) {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {job} did not finish");
}

#[tokio::test]
async fn test_analyzer_runs_on_observables_with_reports_cache_and_permissions() {
    let Some((dir, bin)) = real_analyzers() else { return };
    let s = TestServer::start_with(|st| {
        st.analysis.analyzer_dirs = vec![dir];
        st.analysis.path = vec![bin];
    })
    .await;
    let admin = s.admin_session().await;
    let ui_admin = s.ui_session(ADMIN, PASSWORD).await;

    let catalog = ui_ok(&ui_admin, &s, "analysis/catalog", json!({})).await;
    let ids: Vec<&str> = catalog["definitions"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    for id in ["TestAnalyzer_1_0", "ValidateObservable_1_0", "EmlParser_2_1", "Yara_3_0", "FireHOLBlocklists_2_0"] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    // Enabling checks the configuration against the definition's items.
    let (st, e) = ui(&ui_admin, &s, "analysis/enable", json!({"definition": "TestAnalyzer_1_0", "input": {"configuration": {"throw_error": "yes"}}})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    let (st, e) = ui(&ui_admin, &s, "analysis/enable", json!({"definition": "TestAnalyzer_1_0", "input": {"configuration": {"nope": 1}}})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "unknown items are refused: {e}");
    let a = ui_ok(&ui_admin, &s, "analysis/enable", json!({"definition": "TestAnalyzer_1_0", "input": {}})).await;
    assert_eq!(a["name"], "TestAnalyzer_1_0");
    assert_eq!(a["configuration"]["some_list"], json!(["item1", "item2", "item3"]), "defaults filled in");
    let failing = ui_ok(&ui_admin, &s, "analysis/enable", json!({"definition": "TestAnalyzer_1_0", "input": {"name": "Failing", "configuration": {"throw_error": true}}})).await;
    assert_eq!(failing["name"], "Failing");

    let (_, list) = get(&admin, &s, "/api/connector/cortex/analyzer").await;
    assert!(list.as_array().unwrap().iter().any(|a| a["name"] == "TestAnalyzer_1_0" && a["cortexIds"] == json!(["local"])), "{list}");
    let (_, for_ip) = get(&admin, &s, "/api/connector/cortex/analyzer/type/ip").await;
    assert_eq!(for_ip.as_array().unwrap().len(), 2);

    let (case, obs) = case_with(&admin, &s, &["1.2.3.4"]).await;
    let (st, job) = run(&admin, &s, &obs[0], "TestAnalyzer_1_0").await;
    assert_eq!(st, StatusCode::CREATED, "{job}");
    assert_eq!(job["_type"], "case_artifact_job");
    assert_eq!(job["artifactId"], obs[0].as_str());
    let job_id = job["id"].as_str().unwrap().to_string();
    let done = finished(&admin, &s, &job_id).await;
    assert_eq!(done["status"], "Success", "{done}");
    let report = &done["report"];
    let taxonomies = report["summary"]["taxonomies"].as_array().unwrap();
    assert!(!taxonomies.is_empty(), "{report}");
    assert!(report["full"].is_object());
    assert!(!report["artifacts"].as_array().unwrap().is_empty(), "TestAnalyzer extracts an artifact: {report}");
    assert!(done["startDate"].as_i64().unwrap() <= done["endDate"].as_i64().unwrap());

    // The observable's mini-report, as TheHive 3 stored it; the report's operation applied.
    let (_, o) = get(&admin, &s, &format!("/api/case/artifact/{}", obs[0])).await;
    assert_eq!(o["reports"]["TestAnalyzer_1_0"]["taxonomies"].as_array().unwrap().len(), taxonomies.len(), "{o}");
    assert_eq!(o["tags"], json!(["test"]), "AddTagToArtifact: {o}");
    let (_, done) = get(&admin, &s, &format!("/api/connector/cortex/job/{job_id}")).await;
    assert_eq!(done["report"]["operations"][0]["status"], "Success", "{done}");

    // The same input again: the cache answers with the same job; force runs a new one.
    let (st, again) = run(&admin, &s, &obs[0], "TestAnalyzer_1_0").await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!((again["id"].as_str(), again["fromCache"].as_bool()), (Some(job_id.as_str()), Some(true)), "{again}");
    let (_, forced) = post(&admin, &s, "/api/connector/cortex/job?force=1", json!({"cortexId": "local", "artifactId": obs[0], "analyzerId": "TestAnalyzer_1_0"})).await;
    assert_ne!(forced["id"], job["id"]);
    finished(&admin, &s, forced["id"].as_str().unwrap()).await;

    // A failing analyzer: Failure with its message, no mini-report.
    let (_, f) = run(&admin, &s, &obs[0], "Failing").await;
    let f = finished(&admin, &s, f["id"].as_str().unwrap()).await;
    assert_eq!(f["status"], "Failure");
    assert!(f["report"]["errorMessage"].as_str().unwrap().contains("throw_error"), "{f}");
    let (_, o) = get(&admin, &s, &format!("/api/case/artifact/{}", obs[0])).await;
    assert!(o["reports"].get("Failing").is_none());

    // Artifacts of the report become observables of the case.
    let added = ui_ok(&ui_admin, &s, "analysis/add-artifacts", json!({"job": job_id, "indices": null})).await;
    assert!(added["done"].as_u64().unwrap() >= 1, "{added}");
    let (total, _) = search(&admin, &s, "/api/case/artifact/_search", json!({"_parent": {"_type": "case", "_query": {"_id": case}}})).await;
    assert!(total >= 2, "the extracted artifact is an observable of the case");

    // Too many at once from the UI: a 400, nothing run.
    let many: Vec<String> = (0..101).map(|i| format!("a{i}")).collect();
    let (st, e) = ui(&ui_admin, &s, "analysis/run", json!({"observables": [obs[0]], "analyzers": many, "force": false})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    let (st, _) = ui(&ui_admin, &s, "analysis/run", json!({"observables": vec![obs[0].clone(); 201], "analyzers": null, "force": false})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // Bad input: unknown analyzer, a type it does not take, an unknown server.
    let (st, _) = run(&admin, &s, &obs[0], "Nope").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = post(&admin, &s, "/api/connector/cortex/job", json!({"cortexId": "elsewhere", "artifactId": obs[0], "analyzerId": "TestAnalyzer_1_0"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, e) = post(&admin, &s, "/api/connector/cortex/job", json!({"artifactId": obs[0]})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");

    // Search and statistics see the jobs; the report page's view has the history.
    let (total, jobs) = search(&admin, &s, "/api/connector/cortex/job/_search", json!({"_field": "status", "_value": "Success"})).await;
    assert_eq!(total, 2, "{jobs:?}");
    let (st, stats) = post(&admin, &s, "/api/connector/cortex/job/_stats", json!({"query": {}, "stats": [{"_agg": "field", "_field": "status", "_select": [{"_agg": "count"}]}]})).await;
    assert_eq!(st, StatusCode::OK, "{stats}");
    assert_eq!(stats["Success"]["count"], 2, "the Job statistics dashboard's data: {stats}");
    assert_eq!(stats["Failure"]["count"], 1, "{stats}");
    let view = ui_ok(&ui_admin, &s, "analysis/report", json!({"job": job_id})).await;
    assert_eq!(view["history"].as_array().unwrap().len(), 3, "{view}");

    // A read-only user sees jobs but runs nothing; another organisation sees nothing.
    s.create_user(&admin, json!({"login": "ro@soc", "name": "Ro", "profile": "read-only", "password": "ro-password-1"})).await;
    let ro = s.session("ro@soc", "ro-password-1").await;
    let (st, _) = run(&ro, &s, &obs[0], "TestAnalyzer_1_0").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = get(&ro, &s, &format!("/api/connector/cortex/job/{job_id}")).await;
    assert_eq!(st, StatusCode::OK);
    let acme = s.acme_admin().await;
    let (st, _) = get(&acme, &s, &format!("/api/connector/cortex/job/{job_id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, theirs) = get(&acme, &s, "/api/connector/cortex/analyzer").await;
    assert_eq!(theirs, json!([]), "analyzers are per organisation");
    let (st, _) = run(&acme, &s, &obs[0], "TestAnalyzer_1_0").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn a_rate_queues_jobs_without_ever_overshooting() {
    let analyzers = fake_analyzers("0");
    let s = TestServer::start_with(|st| {
        st.analysis.analyzer_dirs = vec![analyzers.path().to_path_buf()];
        st.analysis.concurrency = 4;
    })
    .await;
    let admin = s.admin_session().await;
    let ui_admin = s.ui_session(ADMIN, PASSWORD).await;
    ui_ok(&ui_admin, &s, "analysis/enable", json!({"definition": "Fast_1_0", "input": {"rate": 10, "rateUnit": "Second", "jobCache": 0}})).await;
    let values: Vec<String> = (0..50).map(|i| format!("10.0.0.{i}")).collect();
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    let (_, obs) = case_with(&admin, &s, &refs).await;
    // 50 requests at once.
    let runs = obs.iter().map(|o| {
        let (admin, s) = (&admin, &s);
        async move { run(admin, s, o, "Fast_1_0").await }
    });
    let created = futures::future::join_all(runs).await;
    let mut ids = Vec::new();
    for (st, j) in &created {
        assert_eq!(*st, StatusCode::CREATED, "{j}");
        ids.push(j["id"].as_str().unwrap().to_string());
    }
    let quota = ui_ok(&ui_admin, &s, "analysis/catalog", json!({})).await["analyzers"][0]["quota"].clone();
    assert!(quota["used"].as_u64().unwrap() <= 10, "{quota}");
    let mut starts = Vec::new();
    for id in &ids {
        let j = finished(&admin, &s, id).await;
        assert_eq!(j["status"], "Success", "{j}");
        starts.push(j["startDate"].as_i64().unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50, "none lost, none duplicated");
    starts.sort();
    // No window of one second holds more than 10 starts.
    for (i, t) in starts.iter().enumerate() {
        let within = starts[i..].iter().take_while(|u| **u < t + 1000).count();
        assert!(within <= 10, "{within} starts within a second from {t}: {starts:?}");
    }
    assert!(starts[49] - starts[0] >= 4000, "50 jobs at 10 per second take at least 4 s: {starts:?}");

    // Cortex's behaviour on request: over the rate, refused with 429.
    ui_ok(&ui_admin, &s, "analysis/enable", json!({"definition": "Fast_1_0", "input": {"name": "Strict", "rate": 2, "rateUnit": "Hour", "overQuota": "refuse", "jobCache": 0}})).await;
    for (i, o) in obs.iter().take(3).enumerate() {
        let (st, e) = run(&admin, &s, o, "Strict").await;
        if i < 2 {
            assert_eq!(st, StatusCode::CREATED, "{e}");
        } else {
            assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{e}");
            assert_eq!(e["type"], "RateLimitExceeded");
        }
    }
    s.stop().await;
}

/// Processes sharing a SurrealDB server share the analyzers' budgets: each counts the jobs the
/// others start and reads the rates they set, as the change feed brings them. The other process
/// is stood in for here by records written straight into the database (`node` another's); two
/// real processes on a `surreal start` do the same in tests/instances.rs (scripts/test-ws.sh).
#[tokio::test]
async fn starts_and_rates_of_another_process_count() {
    let analyzers = fake_analyzers("0");
    let dirs = vec![analyzers.path().to_path_buf()];
    let s = TestServer::start_persistent(tempfile::tempdir().unwrap(), |st| st.analysis.analyzer_dirs = dirs.clone()).await;
    let admin = s.admin_session().await;
    let ui_admin = s.ui_session(ADMIN, PASSWORD).await;
    ui_ok(&ui_admin, &s, "analysis/enable", json!({"definition": "Fast_1_0", "input": {"name": "Shared", "rate": 3, "rateUnit": "Hour", "overQuota": "refuse", "jobCache": 0}})).await;
    let (_, obs) = case_with(&admin, &s, &["10.9.0.1", "10.9.0.2", "10.9.0.3"]).await;
    let (st, job) = run(&admin, &s, &obs[0], "Shared").await;
    assert_eq!(st, StatusCode::CREATED, "{job}");
    assert_eq!(finished(&admin, &s, job["id"].as_str().unwrap()).await["status"], "Success");
    let store = &s.running.as_ref().unwrap().state.store;
    let mut r = store.query("SELECT VALUE [org, analyzerId, lane] FROM job", waggle::vars! {}).await.unwrap();
    let ids: Vec<Vec<String>> = r.rows(0).unwrap();
    let (org, analyzer, lane) = (&ids[0][0], &ids[0][1], &ids[0][2]);
    // Another process ran the same analyzer twice (finished: a restart here does not run them).
    for status in ["Success", "Failure"] {
        store
            .query(
                "CREATE job CONTENT { org: $org, analyzerId: $analyzer, lane: $lane, status: $status, startDate: time::millis(time::now()), node: 'another-process' }",
                waggle::vars! { "org" => org.clone(), "analyzer" => analyzer.clone(), "lane" => lane.clone(), "status" => status },
            )
            .await
            .unwrap();
    }
    // A job's later changes repeat its start: counted once.
    store.query("UPDATE job SET report = {} WHERE node = 'another-process'", waggle::vars! {}).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await; // the feed is read every 250 ms
    let (st, e) = run(&admin, &s, &obs[1], "Shared").await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "1 run here and 2 there use the 3 of the hour: {e}");
    // Another process raises the rate to 4.
    store.query("UPDATE analyzer SET rate = 4 WHERE name = 'Shared'", waggle::vars! {}).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (st, e) = run(&admin, &s, &obs[1], "Shared").await;
    assert_eq!(st, StatusCode::CREATED, "the fourth run of a rate of 4: {e}");
    assert_eq!(finished(&admin, &s, e["id"].as_str().unwrap()).await["status"], "Success");
    let (st, e) = run(&admin, &s, &obs[2], "Shared").await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "and no fifth (the updated job counted once): {e}");
    // After a restart the budget is read again from the database, the other process's starts
    // with this one's: 4 used of a rate of 5 leave one, and only one.
    s.running.as_ref().unwrap().state.store.query("UPDATE analyzer SET rate = 5 WHERE name = 'Shared'", waggle::vars! {}).await.unwrap();
    let s = TestServer::start_persistent(s.stop().await, |st| st.analysis.analyzer_dirs = dirs.clone()).await;
    let admin = s.admin_session().await;
    tokio::time::sleep(Duration::from_secs(2)).await; // the index loaded, the feed replayed
    let (st, e) = run(&admin, &s, &obs[2], "Shared").await;
    assert_eq!(st, StatusCode::CREATED, "the fifth run of a rate of 5 after a restart: {e}");
    let (st, e) = run(&admin, &s, &obs[0], "Shared").await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "and no sixth: {e}");
    s.stop().await;
}

/// The real binary, killed with SIGKILL while one job runs and two wait: after a restart on the
/// same data, every job ends (none stuck InProgress, Cortex #363) and no job directory is left.
#[tokio::test]
async fn jobs_survive_sigkill() {
    let analyzers = fake_analyzers("1");
    let data = tempfile::tempdir().unwrap();
    let spawn = |port: u16| {
        std::process::Command::new(env!("CARGO_BIN_EXE_waggle"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--log", "error", "--analysis-concurrency", "1", "--data"])
            .arg(data.path())
            .arg("--analyzers")
            .arg(analyzers.path())
            .env("WAGGLE_ADMIN_PASSWORD", PASSWORD)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("waggle starts")
    };
    let free_port = || std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap();
    let up = |base: String| async move {
        for _ in 0..600 {
            if Client::new().get(format!("{base}/api/health")).send().await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not come up");
    };
    let session = |base: String| async move {
        let c = Client::builder().cookie_store(true).build().unwrap();
        let r = c.post(format!("{base}/api/login")).json(&json!({"user": ADMIN, "password": PASSWORD})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        c
    };
    let port = free_port();
    let mut child = spawn(port);
    let base = format!("http://127.0.0.1:{port}");
    up(base.clone()).await;
    let c = session(base.clone()).await;
    let s = TestServerAt(base.clone());
    let r = c.post(s.url("/ui/analysis/enable")).json(&json!({"definition": "Fast_1_0", "input": {"jobCache": 0}})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let case = c.post(s.url("/api/case")).json(&json!({"title": "crash", "description": "d"})).send().await.unwrap().json::<Value>().await.unwrap();
    let obs: Vec<Value> = c
        .post(s.url(&format!("/api/case/{}/artifact", case["id"].as_str().unwrap())))
        .json(&json!({"dataType": "ip", "data": ["10.1.0.1", "10.1.0.2", "10.1.0.3"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut jobs = Vec::new();
    for o in &obs {
        let j: Value = c
            .post(s.url("/api/connector/cortex/job"))
            .json(&json!({"cortexId": "local", "artifactId": o["id"], "analyzerId": "Fast_1_0"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        jobs.push(j["id"].as_str().unwrap().to_string());
    }
    // One runs (1 s), two wait (concurrency 1): kill it now.
    let status = |c: Client, base: String, id: String| async move {
        c.get(format!("{base}/api/connector/cortex/job/{id}")).send().await.unwrap().json::<Value>().await.unwrap()["status"].as_str().unwrap().to_string()
    };
    let mut seen_running = false;
    for _ in 0..100 {
        if status(c.clone(), base.clone(), jobs[0].clone()).await == "InProgress" {
            seen_running = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen_running, "the first job runs");
    assert_eq!(status(c.clone(), base.clone(), jobs[2].clone()).await, "Waiting");
    child.kill().unwrap();
    child.wait().unwrap();

    let port = free_port();
    let mut child = spawn(port);
    let base = format!("http://127.0.0.1:{port}");
    up(base.clone()).await;
    let c = session(base.clone()).await;
    for id in &jobs {
        let mut last = String::new();
        for _ in 0..200 {
            last = status(c.clone(), base.clone(), id.clone()).await;
            if last == "Success" || last == "Failure" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(last, "Success", "job {id} after the restart");
    }
    let left: Vec<_> = std::fs::read_dir(data.path().join("jobs")).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "job directories left: {left:?}");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A base URL with `url()`, like `TestServer`'s, for a server process.
struct TestServerAt(String);

impl TestServerAt {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

/// A secret configuration item (`api_key`): sealed in the database, shown as `********`, kept
/// when the mask is sent back, and given in clear to the analyzer only.
#[tokio::test]
async fn analyzer_secrets_are_sealed_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("Echo");
    std::fs::create_dir(&a).unwrap();
    std::fs::write(
        a.join("Echo.json"),
        json!({"name": "Echo", "version": "2.0", "description": "Tells its key", "author": "tests", "url": "https://example.org", "license": "AGPL-V3",
               "dataTypeList": ["ip"], "command": "Echo/echo.py",
               "configurationItems": [{"name": "api_key", "description": "The key", "type": "string", "multi": false, "required": true}]})
        .to_string(),
    )
    .unwrap();
    let script = "#!/usr/bin/env python3\nimport json, sys\nd = sys.argv[1]\ni = json.load(open(d + '/input/input.json'))\n\
        json.dump({'success': True, 'summary': {'taxonomies': []}, 'full': {'key': i['config']['api_key']}, 'artifacts': [], 'operations': []}, open(d + '/output/output.json', 'w'))\n";
    std::fs::write(a.join("echo.py"), script).unwrap();
    std::fs::set_permissions(a.join("echo.py"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let s = TestServer::start_with(|st| st.analysis.analyzer_dirs = vec![dir.path().to_path_buf()]).await;
    let admin = s.admin_session().await;
    let ui_admin = s.ui_session(ADMIN, PASSWORD).await;
    let (st, e) = ui(&ui_admin, &s, "analysis/enable", json!({"definition": "Echo_2_0", "input": {}})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a required item: {e}");
    let a = ui_ok(&ui_admin, &s, "analysis/enable", json!({"definition": "Echo_2_0", "input": {"configuration": {"api_key": "s3cret-value"}, "jobCache": 0}})).await;
    assert_eq!(a["configuration"]["api_key"], "********");
    let catalog = ui_ok(&ui_admin, &s, "analysis/catalog", json!({})).await;
    assert!(!catalog.to_string().contains("s3cret-value"));
    let (_, listed) = get(&admin, &s, "/api/connector/cortex/analyzer").await;
    assert!(!listed.to_string().contains("s3cret-value"));
    // At rest: sealed with the data directory's key (0600).
    let state = &s.running.as_ref().unwrap().state;
    let mut r = state.store.query("SELECT VALUE configuration.api_key FROM analyzer", waggle::vars! {}).await.unwrap();
    let stored: Vec<String> = r.rows(0).unwrap();
    assert!(stored[0].starts_with("enc:v1:") && !stored[0].contains("s3cret"), "{stored:?}");
    let key = s.dir.path().join("secrets.key");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    // Sent back masked (the UI does): the secret stays.
    let id = a["id"].as_str().unwrap();
    ui_ok(&ui_admin, &s, "analysis/update", json!({"id": id, "input": {"configuration": {"api_key": "********"}}})).await;
    let (_, obs) = case_with(&admin, &s, &["9.9.9.9"]).await;
    let (_, j) = run(&admin, &s, &obs[0], "Echo_2_0").await;
    let done = finished(&admin, &s, j["id"].as_str().unwrap()).await;
    assert_eq!(done["report"]["full"]["key"], "s3cret-value", "the analyzer gets the real value: {done}");
    s.stop().await;
}

/// Analyzers run on an alert's observables too: the mini-report lands on the alert's observable,
/// and a triaged alert stays as it was (a report is not a change from its feeder).
#[tokio::test]
async fn analyzers_run_on_alert_observables() {
    let analyzers = fake_analyzers("0");
    let s = TestServer::start_with(|st| st.analysis.analyzer_dirs = vec![analyzers.path().to_path_buf()]).await;
    let admin = s.admin_session().await;
    let ui_admin = s.ui_session(ADMIN, PASSWORD).await;
    ui_ok(&ui_admin, &s, "analysis/enable", json!({"definition": "Fast_1_0", "input": {}})).await;
    let (st, alert) = post(&admin, &s, "/api/alert", json!({"type": "siem", "source": "edr", "sourceRef": "a-1", "title": "Beacon", "description": "d",
        "artifacts": [{"dataType": "ip", "data": "203.0.113.9"}]})).await;
    assert_eq!(st, StatusCode::CREATED, "{alert}");
    let alert_id = alert["id"].as_str().unwrap();
    let (st, _) = post(&admin, &s, &format!("/api/alert/{alert_id}/markAsRead"), json!({})).await;
    assert_eq!(st, StatusCode::OK);
    let obs = alert["artifacts"][0]["id"].as_str().unwrap().to_string();
    let analyzers_for = ui_ok(&ui_admin, &s, "analysis/analyzers-for", json!({"observable": obs})).await;
    assert_eq!(analyzers_for.as_array().unwrap().len(), 1);
    let (st, j) = run(&admin, &s, &obs, "Fast_1_0").await;
    assert_eq!(st, StatusCode::CREATED, "{j}");
    assert_eq!(j["alert"], alert_id);
    let done = finished(&admin, &s, j["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "Success");
    let mut seen = Value::Null;
    for _ in 0..50 {
        let (_, a) = get(&admin, &s, &format!("/api/alert/{alert_id}")).await;
        if a["artifacts"][0]["reports"]["Fast_1_0"].is_object() {
            seen = a;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen["artifacts"][0]["reports"]["Fast_1_0"]["taxonomies"][0]["namespace"], "Fast", "{seen}");
    assert_eq!(seen["status"], "Ignored", "marked read, it stays so: {seen}");
    // Imported into a case, the observable brings its mini-report along.
    let (st, case) = post(&admin, &s, &format!("/api/alert/{alert_id}/createCase"), json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{case}");
    let (_, found) = search(&admin, &s, "/api/case/artifact/_search", json!({"_field": "data", "_value": "203.0.113.9"})).await;
    assert_eq!(found[0]["reports"]["Fast_1_0"]["taxonomies"][0]["namespace"], "Fast", "{found:?}");
    // Another organisation cannot run anything on it.
    let acme = s.acme_admin().await;
    let (st, _) = run(&acme, &s, &obs, "Fast_1_0").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.stop().await;
}

/// A second Waggle as the external Cortex of the first (`[[cortex]]`, through its `/cortex`
/// API): its analyzers appear beside the first's own, a job sent to it ends with its report and
/// the first's observable gets the mini-report; its health shows in the status.
#[tokio::test]
async fn a_second_waggle_as_external_cortex() {
    let analyzers = fake_analyzers("0");
    let b = TestServer::start_with(|st| st.analysis.analyzer_dirs = vec![analyzers.path().to_path_buf()]).await;
    let b_ui = b.ui_session(ADMIN, PASSWORD).await;
    ui_ok(&b_ui, &b, "analysis/enable", json!({"definition": "Fast_1_0", "input": {}})).await;
    let key = b.key_for(ADMIN, PASSWORD).await;
    let remote = waggle::config::RemoteServer { name: "cortex-b".into(), url: format!("{}/cortex", b.base), key: Some(key.as_str().into()) };
    let a = TestServer::start_with(|st| st.cortex = vec![remote]).await;
    let admin = a.admin_session().await;
    let (_, list) = get(&admin, &a, "/api/connector/cortex/analyzer/type/ip").await;
    let fast = list.as_array().unwrap().iter().find(|x| x["name"] == "Fast_1_0").cloned().unwrap_or_else(|| panic!("{list}"));
    assert_eq!(fast["cortexIds"], json!(["cortex-b"]));
    let (_, obs) = case_with(&admin, &a, &["198.51.100.1"]).await;
    let (st, j) = post(&admin, &a, "/api/connector/cortex/job", json!({"cortexId": "cortex-b", "artifactId": obs[0], "analyzerId": "Fast_1_0"})).await;
    assert_eq!(st, StatusCode::CREATED, "{j}");
    assert_eq!(j["cortexId"], "cortex-b");
    let done = finished(&admin, &a, j["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "Success", "{done}");
    assert_eq!(done["report"]["summary"]["taxonomies"][0]["namespace"], "Fast");
    let (_, o) = get(&admin, &a, &format!("/api/case/artifact/{}", obs[0])).await;
    assert!(o["reports"]["Fast_1_0"]["taxonomies"].is_array(), "{o}");
    // The job ran in the second Waggle.
    let b_admin = b.admin_session().await;
    let (n, _) = search(&b_admin, &b, "/api/connector/cortex/job/_search", json!({"_field": "data", "_value": "198.51.100.1"})).await;
    assert_eq!(n, 1);
    // An unknown server or analyzer there.
    let (st, _) = post(&admin, &a, "/api/connector/cortex/job", json!({"cortexId": "cortex-b", "artifactId": obs[0], "analyzerId": "Nope"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Its health: green once checked.
    let mut health = Value::Null;
    for _ in 0..100 {
        let (_, status) = get(&admin, &a, "/api/status").await;
        health = status["connectors"]["cortex"].clone();
        if health["servers"][0]["status"] == "OK" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(health["servers"][0]["name"], "cortex-b", "{health}");
    assert_eq!(health["servers"][0]["status"], "OK", "{health}");
    a.stop().await;
    b.stop().await;
}
