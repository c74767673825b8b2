//! Statistics (`_stats`) against a real server: every aggregation checked against counts computed
//! here from the seeded records; tenant isolation; live updates; bad input.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const DAY: i64 = 86_400_000;
/// Monday 2024-01-01 00:00 UTC.
const T0: i64 = 1_704_067_200_000;

fn state(s: &TestServer) -> &waggle::core::state::AppState {
    &s.running.as_ref().expect("running").state
}

async fn org_id(s: &TestServer, name: &str) -> String {
    let mut r = state(s).store.query("SELECT VALUE record::id(id) FROM organisation WHERE name = $n", waggle::vars! {"n" => name}).await.unwrap();
    let ids: Vec<Value> = r.rows(0).unwrap();
    ids[0].as_str().unwrap().to_string()
}

async fn insert(s: &TestServer, table: &str, rows: Vec<Value>) {
    state(s).store.query(&format!("INSERT INTO {table} $rows"), waggle::vars! {"rows" => rows}).await.expect("insert");
}

async fn wait_ready(s: &TestServer) {
    for _ in 0..200 {
        if state(s).stats.is_ready() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("statistics index never became ready");
}

#[derive(Clone)]
struct A {
    id: String,
    status: &'static str,
    kind: &'static str,
    source: &'static str,
    severity: i64,
    tags: Vec<&'static str>,
    created: i64,
    title: String,
}

fn alerts(org: &str, n: usize, salt: usize) -> Vec<A> {
    let statuses = ["New", "Updated", "Ignored", "Imported"];
    let kinds = ["phishing", "malware", "ids", "misp"];
    let sources = ["mail-gw", "edr", "suricata"];
    let tagset = ["apt", "tlp:amber", "ransom", "spam"];
    (0..n)
        .map(|i| {
            let k = i * 7 + salt;
            A {
                id: format!("{org}-a{i:05}"),
                status: statuses[k % 4],
                kind: kinds[(k / 3) % 4],
                source: sources[(i * 5 + salt) % 3],
                severity: (k % 4) as i64 + 1,
                tags: (0..(k % 3)).map(|j| tagset[(k + j) % 4]).collect(),
                created: T0 + (i as i64 % 60) * DAY + (i as i64 * 3_600_000) % DAY,
                title: if i % 5 == 0 { format!("Phishing wave {i}") } else { format!("Alert {i}") },
            }
        })
        .collect()
}

fn docs(org: &str, list: &[A]) -> Vec<Value> {
    list.iter()
        .map(|a| {
            json!({
                "id": a.id, "org": org, "createdAt": a.created, "createdBy": "feeder@soc", "status": a.status,
                "type": a.kind, "source": a.source, "sourceRef": format!("ref-{}", a.id), "severity": a.severity,
                "tags": a.tags, "title": a.title, "description": "d", "tlp": 2, "pap": 2, "follow": true,
                "date": a.created,
            })
        })
        .collect()
}

async fn stats(c: &reqwest::Client, s: &TestServer, model: &str, body: Value) -> Value {
    let (st, v) = json(c.post(s.url(&format!("/api/{model}/_stats"))).json(&body).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK, "{model} {body}: {v}");
    v
}

fn counts<'a>(it: impl Iterator<Item = &'a str>) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for k in it {
        *m.entry(k.to_string()).or_insert(0) += 1;
    }
    m
}

fn bucket_counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .unwrap()
        .iter()
        .filter(|(_, b)| b.is_object())
        .map(|(k, b)| (k.clone(), b["count"].as_u64().unwrap_or_else(|| panic!("count in {b}"))))
        .collect()
}

fn week(t: i64) -> i64 {
    let days = t.div_euclid(DAY);
    (days - (days + 3).rem_euclid(7)) * DAY
}

/// Every aggregation, before and after the index has loaded, always equal to independent counts.
#[tokio::test]
async fn aggregations_match_independent_counts() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let soc = org_id(&s, "soc").await;
    let (st, _) = json(admin.post(s.url("/api/organisation")).header("X-Organisation", "admin").json(&json!({"name": "other", "description": "x"})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::CREATED);
    let other = org_id(&s, "other").await;
    let mine = alerts(&soc, 400, 0);
    let theirs = alerts(&other, 250, 3);
    insert(&s, "alert", docs(&soc, &mine)).await;
    insert(&s, "alert", docs(&other, &theirs)).await;

    for round in 0..2 {
        if round == 1 {
            wait_ready(&s).await;
        }
        // count and field (default order: -_count, ties by key)
        let v = stats(&admin, &s, "alert", json!({"query": {}, "stats": [
            {"_agg": "field", "_field": "status", "_select": [{"_agg": "count"}]}, {"_agg": "count"}]})).await;
        assert_eq!(v["count"], mine.len() as u64, "round {round}");
        let expected = counts(mine.iter().map(|a| a.status));
        let mut got = bucket_counts(&v);
        got.remove("count");
        assert_eq!(got, expected, "round {round}: {v}");

        // _size and _order by term
        let v = stats(&admin, &s, "alert", json!({"stats": [
            {"_agg": "field", "_field": "type", "_size": 2, "_order": ["+_term"], "_select": [{"_agg": "count"}]}]})).await;
        let all = counts(mine.iter().map(|a| a.kind));
        let first_two: BTreeMap<String, u64> = all.iter().take(2).map(|(k, v)| (k.clone(), *v)).collect();
        assert_eq!(bucket_counts(&v), first_two, "{v}");

        // tags: each tag its bucket
        let v = stats(&admin, &s, "alert", json!({"stats": [{"_agg": "field", "_field": "tags", "_size": 100, "_select": [{"_agg": "count"}]}]})).await;
        assert_eq!(bucket_counts(&v), counts(mine.iter().flat_map(|a| a.tags.iter().copied())));

        // metrics
        let v = stats(&admin, &s, "alert", json!({"stats": [
            {"_agg": "sum", "_field": "severity"}, {"_agg": "avg", "_field": "severity"},
            {"_agg": "min", "_field": "createdAt"}, {"_agg": "max", "_field": "severity", "_name": "top_sev"}]})).await;
        let sum: i64 = mine.iter().map(|a| a.severity).sum();
        assert_eq!(v["sum_severity"].as_f64().unwrap(), sum as f64);
        assert!((v["avg_severity"].as_f64().unwrap() - sum as f64 / mine.len() as f64).abs() < 1e-9);
        assert_eq!(v["min_createdAt"].as_f64().unwrap(), mine.iter().map(|a| a.created).min().unwrap() as f64);
        assert_eq!(v["top_sev"].as_f64().unwrap(), 4.0);

        // time (1w) with a nested field: the stacked bar of the default dashboards
        let v = stats(&admin, &s, "alert", json!({"query": {}, "stats": [{"_agg": "time", "_fields": ["createdAt"], "_interval": "1w",
            "_select": [{"_agg": "field", "_field": "type", "_select": [{"_agg": "count"}]}]}]})).await;
        let mut expected: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for a in &mine {
            *expected.entry(week(a.created).to_string()).or_default().entry(a.kind.to_string()).or_insert(0) += 1;
        }
        let got: BTreeMap<String, BTreeMap<String, u64>> =
            v.as_object().unwrap().iter().map(|(k, b)| (k.clone(), bucket_counts(&b["createdAt"]))).collect();
        assert_eq!(got, expected, "{v}");

        // 1M and 1d keys are calendar starts
        let v = stats(&admin, &s, "alert", json!({"stats": [{"_agg": "time", "_fields": ["createdAt"], "_interval": "1M", "_select": [{"_agg": "count"}]}]})).await;
        let total: u64 = v.as_object().unwrap().values().map(|b| b["createdAt"]["count"].as_u64().unwrap()).sum();
        assert_eq!(total, mine.len() as u64);
        assert!(v.get(&T0.to_string()).is_some(), "January 2024 bucket in {v}");
        assert!(v.get("1706745600000").is_some(), "February 2024 bucket in {v}");

        // filters: _in, _not, _between, _string, _like on free text (answered by the database)
        let v = stats(&admin, &s, "alert", json!({"query": {"_and": [
            {"_in": {"_field": "status", "_values": ["New", "Updated"]}},
            {"_not": {"source": "edr"}},
            {"_between": {"_field": "createdAt", "_from": T0 + 10 * DAY, "_to": T0 + 40 * DAY}}]},
            "stats": [{"_agg": "count"}]})).await;
        let n = mine
            .iter()
            .filter(|a| (a.status == "New" || a.status == "Updated") && a.source != "edr" && a.created >= T0 + 10 * DAY && a.created < T0 + 40 * DAY)
            .count();
        assert_eq!(v["count"], n as u64, "{v}");
        let v = stats(&admin, &s, "alert", json!({"query": {"_like": {"_field": "title", "_value": "phishing"}},
            "stats": [{"_agg": "field", "_field": "severity", "_select": [{"_agg": "count"}]}, {"_agg": "count"}]})).await;
        let phish: Vec<&A> = mine.iter().filter(|a| a.title.starts_with("Phishing")).collect();
        assert_eq!(v["count"], phish.len() as u64);
        let sev: Vec<String> = phish.iter().map(|a| a.severity.to_string()).collect();
        let mut got = bucket_counts(&v);
        got.remove("count");
        assert_eq!(got, counts(sev.iter().map(String::as_str)));
        let v = stats(&admin, &s, "alert", json!({"query": {"_string": "status:New AND tags:apt"}, "stats": [{"_agg": "count"}]})).await;
        assert_eq!(v["count"], mine.iter().filter(|a| a.status == "New" && a.tags.contains(&"apt")).count() as u64);

        // category, count with _query, top
        let v = stats(&admin, &s, "alert", json!({"stats": [
            {"_agg": "category", "_categories": {"waiting": {"_in": {"_field": "status", "_values": ["New", "Updated"]}}, "high": {"_gte": {"severity": 3}}},
             "_select": [{"_agg": "count"}]},
            {"_agg": "count", "_name": "agg_1", "_query": {"type": "malware"}},
            {"_agg": "top", "_size": 3, "_order": ["-severity", "+createdAt"]}]})).await;
        assert_eq!(v["waiting"]["count"], mine.iter().filter(|a| a.status == "New" || a.status == "Updated").count() as u64);
        assert_eq!(v["high"]["count"], mine.iter().filter(|a| a.severity >= 3).count() as u64);
        assert_eq!(v["agg_1"], mine.iter().filter(|a| a.kind == "malware").count() as u64);
        let mut sorted = mine.clone();
        sorted.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.created.cmp(&b.created)));
        let top: Vec<&str> = v["top"].as_array().unwrap().iter().map(|d| d["_id"].as_str().unwrap()).collect();
        assert_eq!(top.len(), 3);
        for (t, a) in top.iter().zip(&sorted) {
            let d = mine.iter().find(|x| x.id == *t).unwrap();
            assert_eq!((d.severity, d.created), (a.severity, a.created), "top order");
        }
        assert!(v["top"][0].get("org").is_none(), "no internal fields in documents");
    }

    // The other organisation sees only its own.
    let other_admin = {
        let r = admin
            .post(s.url("/api/user"))
            .header("X-Organisation", "admin")
            .json(&json!({"login": "boss@other", "name": "Boss", "password": "other-password-1", "organisation": "other", "profile": "org-admin"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap_or_default());
        s.session("boss@other", "other-password-1").await
    };
    let v = stats(&other_admin, &s, "alert", json!({"stats": [{"_agg": "count"}, {"_agg": "field", "_field": "status", "_select": [{"_agg": "count"}]}]})).await;
    assert_eq!(v["count"], theirs.len() as u64);
    let mut got = bucket_counts(&v);
    got.remove("count");
    assert_eq!(got, counts(theirs.iter().map(|a| a.status)));
    s.stop().await;
}

/// A write shows in the next statistics request; updates and deletes too.
#[tokio::test]
async fn the_index_follows_writes() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let soc = org_id(&s, "soc").await;
    wait_ready(&s).await;
    let count_new = || async {
        let v = stats(&admin, &s, "alert", json!({"query": {"status": "New"}, "stats": [{"_agg": "count"}]})).await;
        v["count"].as_u64().unwrap()
    };
    assert_eq!(count_new().await, 0);
    insert(&s, "alert", docs(&soc, &alerts(&soc, 40, 0))).await;
    assert_eq!(count_new().await, 10);
    let store = state(&s).store.org(&soc);
    store.query("UPDATE alert SET status = 'New' WHERE org = $org AND status = 'Ignored'", waggle::vars! {}).await.unwrap();
    assert_eq!(count_new().await, 20);
    store.query("DELETE alert WHERE org = $org AND status = 'New' AND severity = 1", waggle::vars! {}).await.unwrap();
    let v = stats(&admin, &s, "alert", json!({"query": {"status": "New"}, "stats": [{"_agg": "count"}, {"_agg": "min", "_field": "severity"}]})).await;
    assert_eq!(v["count"], 10, "{v}");
    assert!(v["min_severity"].as_f64().unwrap() > 1.0);
    let info = state(&s).stats.stats();
    assert!(info.ready && info.changes_applied >= 40, "{info:?}");
    s.stop().await;
}

/// Parents and children, computed fields, empty jobs, the global endpoint.
#[tokio::test]
async fn relations_jobs_and_global_stats() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let soc = org_id(&s, "soc").await;
    let cases: Vec<Value> = (0..30)
        .map(|i| {
            let resolved = i % 3 == 0;
            json!({"id": format!("c{i}"), "org": soc, "caseId": i, "title": "t", "createdAt": T0 + i * DAY, "startDate": T0 + i * DAY,
                   "status": if resolved { "Resolved" } else { "Open" }, "severity": 2, "tlp": i % 4, "owner": "a@soc", "tags": ["x"],
                   "endDate": if resolved { Value::from(T0 + i * DAY + (i + 1) * 3_600_000) } else { Value::Null }})
        })
        .collect();
    insert(&s, "case", cases).await;
    let obs: Vec<Value> = (0..90)
        .map(|i| json!({"id": format!("o{i}"), "org": soc, "case": format!("c{}", i % 30), "createdAt": T0 + i * 1000,
                        "dataType": if i % 2 == 0 { "ip" } else { "domain" }, "data": format!("v{i}"), "ioc": i % 5 == 0, "status": "Ok", "tlp": 2}))
        .collect();
    insert(&s, "observable", obs).await;
    for round in 0..2 {
        if round == 1 {
            wait_ready(&s).await;
        }
        // observables of resolved cases
        let v = stats(&admin, &s, "case/artifact", json!({"query": {"_parent": {"_type": "case", "_query": {"status": "Resolved"}}}, "stats": [{"_agg": "count"}]})).await;
        assert_eq!(v["count"], (0..90).filter(|i| (i % 30) % 3 == 0).count() as u64, "{v}");
        // cases with an IOC
        let v = stats(&admin, &s, "case", json!({"query": {"_child": {"_type": "case_artifact", "_query": {"ioc": true}}}, "stats": [{"_agg": "count"}]})).await;
        let with_ioc: std::collections::BTreeSet<i64> = (0..90).filter(|i| i % 5 == 0).map(|i| i % 30).collect();
        assert_eq!(v["count"], with_ioc.len() as u64, "{v}");
        // TheHive's computed handling duration
        let v = stats(&admin, &s, "case", json!({"query": {"status": "Resolved"}, "stats": [{"_agg": "avg", "_field": "computed.handlingDurationInHours", "_name": "agg_1"}]})).await;
        let hours: Vec<f64> = (0..30).filter(|i| i % 3 == 0).map(|i| (i + 1) as f64).collect();
        assert!((v["agg_1"].as_f64().unwrap() - hours.iter().sum::<f64>() / hours.len() as f64).abs() < 1e-9, "{v}");
        // booleans are "true"/"false" buckets
        let v = stats(&admin, &s, "case/artifact", json!({"stats": [{"_agg": "field", "_field": "ioc", "_select": [{"_agg": "count"}]}]})).await;
        assert_eq!(v["true"]["count"], 18);
        assert_eq!(v["false"]["count"], 72);
        // analyzer jobs: empty, not an error
        let v = stats(&admin, &s, "connector/cortex/job", json!({"stats": [{"_agg": "count"}, {"_agg": "field", "_field": "analyzerId", "_select": [{"_agg": "count"}]}]})).await;
        assert_eq!(v, json!({"count": 0}));
        // several models at once, merged
        let (st, v) = json(admin.post(s.url("/api/_stats")).json(&json!({"stats": [
            {"model": "case", "query": {}, "stats": [{"_agg": "count", "_name": "agg_1"}]},
            {"model": "case_artifact", "query": {"dataType": "ip"}, "stats": [{"_agg": "count", "_name": "agg_2"}]}]})).send().await.unwrap()).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v, json!({"agg_1": 30, "agg_2": 45}));
    }
    s.stop().await;
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let post = |model: &str, body: Value| {
        let req = admin.post(s.url(&format!("/api/{model}/_stats"))).json(&body);
        async move { json(req.send().await.unwrap()).await }
    };
    let (st, v) = post("alert", json!({"stats": [{"_agg": "field", "_field": "colour"}]})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_error(&v, "SearchError");
    let (st, v) = post("alert", json!({"stats": [{"_agg": "median", "_field": "severity"}]})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_error(&v, "BadRequest");
    assert!(v["message"].as_str().unwrap().contains("median"));
    let (st, v) = post("case", json!({"query": {"_foo": 1}, "stats": [{"_agg": "count"}]})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_error(&v, "SearchError");
    let (st, v) = post("case", json!({"stats": []})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = post("case", json!({"stats": [{"_agg": "time", "_fields": ["createdAt"], "_interval": "1q"}]})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = json(admin.post(s.url("/api/alert/_stats")).header("content-type", "application/json").body("{\"stats\": [").send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_error(&v, "BadRequest");
    let (st, v) = json(admin.post(s.url("/api/_stats")).json(&json!({"stats": [{"model": "user", "stats": [{"_agg": "count"}]}]})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");

    // An analyst may not read audit statistics; the platform administration organisation holds no data.
    s.create_user(&admin, json!({"login": "ana@soc", "name": "Ana", "password": "analyst-password-1", "profile": "analyst"})).await;
    let ana = s.session("ana@soc", "analyst-password-1").await;
    let (st, v) = json(ana.post(s.url("/api/audit/_stats")).json(&json!({"stats": [{"_agg": "count"}]})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_error(&v, "AuthorizationError");
    let (st, _) = json(ana.post(s.url("/api/case/_stats")).json(&json!({"stats": [{"_agg": "count"}]})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = json(
        admin.post(s.url("/api/case/_stats")).header("X-Organisation", "admin").json(&json!({"stats": [{"_agg": "count"}]})).send().await.unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let _ = HashMap::<u8, u8>::new();
    s.stop().await;
}

/// The real case tables, as the case services write them (v0 API: cases, tasks, logs,
/// observables, resolution, deletion, audit), counted by `_stats` right after each write and
/// again after a restart (the index rebuilt from a table scan); another organisation sees none.
#[tokio::test]
async fn real_case_tables_written_by_the_case_services() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = TestServer::start_persistent(dir, |_| {}).await;
    let admin = s.admin_session().await;
    let post = |path: String, body: Value| {
        let req = admin.post(s.url(&path)).json(&body);
        async move {
            let (st, v) = json(req.send().await.unwrap()).await;
            assert!(st.is_success(), "{path}: {st} {v}");
            v
        }
    };
    // 6 cases: severities 1,2,3,1,2,3; tags; two get resolved, one deleted.
    let mut cases = Vec::new();
    for i in 0..6 {
        let tags = if i % 2 == 0 { json!(["phishing", "mail"]) } else { json!(["malware"]) };
        let c = post("/api/case".into(), json!({"title": format!("case {i}"), "description": "d", "severity": i % 3 + 1, "tags": tags, "tlp": 2})).await;
        cases.push(c["id"].as_str().unwrap().to_string());
        let v = stats(&admin, &s, "case", json!({"stats": [{"_agg": "count"}]})).await;
        assert_eq!(v["count"], i + 1, "read-your-writes after case {i}: {v}");
    }
    // Tasks: case i gets i+1 tasks; one log on each of the first six tasks.
    let mut tasks = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        for j in 0..=i {
            let t = post(format!("/api/case/{c}/task"), json!({"title": format!("t{j}"), "group": if j % 2 == 0 { "triage" } else { "response" }})).await;
            tasks.push((i, t["id"].as_str().unwrap().to_string()));
        }
    }
    for (i, t) in tasks.iter().take(6) {
        post(format!("/api/case/task/{t}/log"), json!({"message": format!("log of case {i}")})).await;
    }
    // Observables: case i gets i+1 ips and one domain; the ips of case 0 are IOCs.
    for (i, c) in cases.iter().enumerate() {
        let ips: Vec<String> = (0..=i).map(|k| format!("10.0.{i}.{k}")).collect();
        post(format!("/api/case/{c}/artifact"), json!({"dataType": "ip", "data": ips, "message": "m", "ioc": i == 0})).await;
        post(format!("/api/case/{c}/artifact"), json!({"dataType": "domain", "data": format!("d{i}.example"), "message": "m"})).await;
    }
    // Resolve cases 0 and 1; delete case 5 (marked Deleted).
    for c in &cases[..2] {
        let (st, v) = json(admin.patch(s.url(&format!("/api/case/{c}"))).json(&json!({"status": "Resolved", "resolutionStatus": "TruePositive", "impactStatus": "NoImpact", "summary": "done"})).send().await.unwrap()).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let r = admin.delete(s.url(&format!("/api/case/{}", cases[5]))).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());

    let n_tasks = tasks.len() as u64; // 21
    let n_ips: u64 = (1..=6).sum(); // 21
    let check = |round: &'static str| {
        let admin = admin.clone();
        let s = &s;
        async move {
            let v = stats(&admin, s, "case", json!({"stats": [{"_agg": "count"}, {"_agg": "field", "_field": "status", "_select": [{"_agg": "count"}]}]})).await;
            assert_eq!(v["count"], 6, "{round}: {v}");
            assert_eq!((v["Open"]["count"].clone(), v["Resolved"]["count"].clone(), v["Deleted"]["count"].clone()), (json!(3), json!(2), json!(1)), "{round}: {v}");
            let v = stats(&admin, s, "case", json!({"stats": [{"_agg": "field", "_field": "severity", "_select": [{"_agg": "count"}]},
                                                              {"_agg": "field", "_field": "tags", "_select": [{"_agg": "count"}]},
                                                              {"_agg": "sum", "_field": "severity"}]})).await;
            assert_eq!((v["1"]["count"].clone(), v["2"]["count"].clone(), v["3"]["count"].clone()), (json!(2), json!(2), json!(2)), "{round}: {v}");
            assert_eq!((v["phishing"]["count"].clone(), v["malware"]["count"].clone()), (json!(3), json!(3)), "{round}: {v}");
            assert_eq!(v["sum_severity"].as_f64(), Some(12.0), "{round}: {v}");
            let v = stats(&admin, s, "case", json!({"query": {"status": "Resolved"}, "stats": [{"_agg": "field", "_field": "resolutionStatus", "_select": [{"_agg": "count"}]},
                                                                                               {"_agg": "max", "_field": "computed.handlingDurationInSeconds"}]})).await;
            assert_eq!(v["TruePositive"]["count"], 2, "{round}: {v}");
            assert!(v["max_computed.handlingDurationInSeconds"].as_f64().is_some_and(|d| (0.0..600.0).contains(&d)), "{round}: {v}");
            let v = stats(&admin, s, "case/task", json!({"stats": [{"_agg": "count"}, {"_agg": "field", "_field": "group", "_select": [{"_agg": "count"}]}]})).await;
            assert_eq!(v["count"], n_tasks, "{round}: {v}");
            let triage = (0..6u64).map(|i| i / 2 + 1).sum::<u64>();
            assert_eq!(v["triage"]["count"], triage, "{round}: {v}");
            // tasks of resolved cases (parent join on the real `case` link)
            let v = stats(&admin, s, "case/task", json!({"query": {"_parent": {"_type": "case", "_query": {"status": "Resolved"}}}, "stats": [{"_agg": "count"}]})).await;
            assert_eq!(v["count"], 1 + 2, "{round}: {v}");
            let v = stats(&admin, s, "case/task/log", json!({"stats": [{"_agg": "count"}]})).await;
            assert_eq!(v["count"], 6, "{round}: {v}");
            let v = stats(&admin, s, "case/artifact", json!({"stats": [{"_agg": "count"}, {"_agg": "field", "_field": "dataType", "_select": [{"_agg": "count"}]},
                                                                      {"_agg": "field", "_field": "ioc", "_select": [{"_agg": "count"}]}]})).await;
            assert_eq!(v["count"], n_ips + 6, "{round}: {v}");
            assert_eq!((v["ip"]["count"].clone(), v["domain"]["count"].clone(), v["true"]["count"].clone()), (json!(n_ips), json!(6), json!(1)), "{round}: {v}");
            // observables of high-severity cases (severity 3: cases 2 and 5)
            let v = stats(&admin, s, "case/artifact", json!({"query": {"_parent": {"_type": "case", "_query": {"severity": 3}}}, "stats": [{"_agg": "count"}]})).await;
            assert_eq!(v["count"], (3 + 1) + (6 + 1), "{round}: {v}");
            // cases having an IOC (child join)
            let v = stats(&admin, s, "case", json!({"query": {"_child": {"_type": "case_artifact", "_query": {"ioc": true}}}, "stats": [{"_agg": "count"}]})).await;
            assert_eq!(v["count"], 1, "{round}: {v}");
            // the audit trail the case services write
            let v = stats(&admin, s, "audit", json!({"stats": [{"_agg": "count"}, {"_agg": "field", "_field": "objectType", "_select": [{"_agg": "count"}]}]})).await;
            assert!(v["count"].as_u64().unwrap() >= 6 + n_tasks + 12, "{round}: {v}");
            assert!(v["case"]["count"].as_u64().unwrap() >= 6, "{round}: {v}");
        }
    };
    check("live").await;

    // Another organisation counts none of it.
    let (st, _) = json(admin.post(s.url("/api/organisation")).header("X-Organisation", "admin").json(&json!({"name": "other", "description": ""})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::CREATED);
    let r = admin
        .post(s.url("/api/user"))
        .header("X-Organisation", "admin")
        .json(&json!({"login": "eve@other", "name": "Eve", "password": "other-password-1", "organisation": "other", "profile": "org-admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let eve = s.session("eve@other", "other-password-1").await;
    for model in ["case", "case/task", "case/task/log", "case/artifact"] {
        let v = stats(&eve, &s, model, json!({"stats": [{"_agg": "count"}]})).await;
        assert_eq!(v["count"], 0, "{model}: {v}");
    }

    // After a restart the index is rebuilt from the tables: the same answers.
    let dir = s.stop().await;
    let s = TestServer::start_persistent(dir, |_| {}).await;
    wait_ready(&s).await;
    let admin = s.admin_session().await;
    let check = |round: &'static str| {
        let admin = admin.clone();
        let s = &s;
        async move {
            let v = stats(&admin, s, "case", json!({"stats": [{"_agg": "count"}, {"_agg": "field", "_field": "status", "_select": [{"_agg": "count"}]}]})).await;
            assert_eq!(v["count"], 6, "{round}: {v}");
            assert_eq!((v["Open"]["count"].clone(), v["Resolved"]["count"].clone(), v["Deleted"]["count"].clone()), (json!(3), json!(2), json!(1)), "{round}: {v}");
            let v = stats(&admin, s, "case/task", json!({"query": {"_parent": {"_type": "case", "_query": {"status": "Resolved"}}}, "stats": [{"_agg": "count"}]})).await;
            assert_eq!(v["count"], 3, "{round}: {v}");
            let v = stats(&admin, s, "case/artifact", json!({"stats": [{"_agg": "field", "_field": "dataType", "_select": [{"_agg": "count"}]}]})).await;
            assert_eq!((v["ip"]["count"].clone(), v["domain"]["count"].clone()), (json!(n_ips), json!(6)), "{round}: {v}");
        }
    };
    check("after restart").await;
    // Hard delete (force) removes the case, its tasks and observables from the statistics.
    let admin2 = admin.clone();
    let r = admin2.delete(s.url(&format!("/api/case/{}/force", cases[5]))).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let v = stats(&admin, &s, "case/artifact", json!({"stats": [{"_agg": "count"}]})).await;
    assert_eq!(v["count"], n_ips + 6 - 7, "{v}");
    let v = stats(&admin, &s, "case/task", json!({"stats": [{"_agg": "count"}]})).await;
    assert_eq!(v["count"], n_tasks - 6, "{v}");
    s.stop().await;
}
