//! Alerts through TheHive's v0 API, against a real server on 127.0.0.1: creation with
//! artifacts and files, deduplication, upsert, bad inputs, updates and triage states,
//! similarity, import into a case, merge, bulk actions, search, isolation.

mod common;

use base64::Engine;
use common::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};


fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_string()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn alert_total(c: &Client, s: &TestServer) -> u64 {
    search(c, s, "/api/alert/_search", json!({})).await.0
}

async fn new_alert(c: &Client, s: &TestServer, body: Value) -> Value {
    let (st, v) = post(c, s, "/api/alert", body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v
}

fn alert_body(source_ref: &str, artifacts: Value) -> Value {
    json!({"type": "external", "source": "zerofox", "sourceRef": source_ref, "title": format!("Alert {source_ref}"),
           "description": "Seen by the **feeder**", "severity": 2, "tlp": 2, "tags": ["feed"], "artifacts": artifacts})
}

#[tokio::test]
async fn create_with_artifacts_files_dedup_and_upsert() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let (st, _) = post(&admin, &s, "/api/list/custom_fields", json!({"value": {"name": "businessUnit", "reference": "businessUnit", "type": "string", "options": ["Finance", "HR"], "mandatory": false}})).await;
    assert!(st.is_success());
    let file = format!("report.txt;text/plain;{}", b64(b"malicious report"));
    let mut body = alert_body(
        "ZF-1",
        json!([
            {"dataType": "ip", "data": "10.0.0.1", "ioc": true, "tags": ["c2"]},
            {"dataType": "domain", "data": "evil.example"},
            {"dataType": "ip", "data": "10.0.0.1"},
            {"dataType": "autonomous-system", "data": 64500},
            {"dataType": "file", "data": file, "message": "attached"}
        ]),
    );
    body["customFields"] = json!({"businessUnit": {"string": "Finance"}});
    body["caseTemplate"] = json!("Phishing");
    let a = new_alert(&admin, &s, body.clone()).await;
    assert_eq!(a["status"], "New");
    assert_eq!(a["follow"], true);
    assert_eq!(a["_type"], "alert");
    assert_eq!(a["caseTemplate"], "Phishing");
    assert_eq!(a["customFields"]["businessUnit"]["string"], "Finance");
    assert_eq!(a["occurrences"], 1);
    let arts = a["artifacts"].as_array().unwrap();
    assert_eq!(arts.len(), 4, "the same ip twice is kept once: {a}");
    assert!(arts.iter().any(|o| o["dataType"] == "autonomous-system" && o["data"] == "64500"));
    let f = arts.iter().find(|o| o["dataType"] == "file").unwrap();
    assert!(f.get("data").is_none_or(Value::is_null), "a file has no data: {f}");
    assert_eq!(f["attachment"]["name"], "report.txt");
    assert_eq!(f["attachment"]["contentType"], "text/plain");
    let sha = f["attachment"]["id"].as_str().unwrap().to_string();
    let r = admin.get(s.url(&format!("/api/datastore/{sha}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"malicious report");

    // The same alert again: a conflict carrying the existing alert, as feeders expect.
    let (st, v) = post(&admin, &s, "/api/alert", body.clone()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_error(&v, "ConflictError");
    assert_eq!(v["object"]["_id"], a["id"]);
    assert_eq!(v["object"]["sourceRef"], "ZF-1");
    assert_eq!(alert_total(&admin, &s).await, 1);
    // Another type or source is another alert.
    let mut other = body.clone();
    other["type"] = json!("internal");
    new_alert(&admin, &s, other).await;
    assert_eq!(alert_total(&admin, &s).await, 2);

    // Upsert: the alert is updated, new artifacts added once, the occurrence counted.
    let mut again = alert_body("ZF-1", json!([{"dataType": "ip", "data": "10.0.0.1"}, {"dataType": "ip", "data": "10.0.0.2"}]));
    again["title"] = json!("Alert ZF-1 (seen again)");
    let (st, v) = post(&admin, &s, "/api/alert?upsert=true", again.clone()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["id"], a["id"]);
    assert_eq!(v["occurrences"], 2);
    assert_eq!(v["title"], "Alert ZF-1 (seen again)");
    assert_eq!(v["artifacts"].as_array().unwrap().len(), 5);
    assert!(v["lastOccurrence"].as_i64().unwrap() >= a["lastOccurrence"].as_i64().unwrap());
    assert_eq!(v["customFields"]["businessUnit"]["string"], "Finance", "upsert keeps custom fields");
    assert_eq!(alert_total(&admin, &s).await, 2);

    // A per-source setting makes upsert the default for that source.
    let (st, v) = call(&admin, reqwest::Method::PUT, &s, "/api/alert/source/zerofox", Some(json!({"upsert": true}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = post(&admin, &s, "/api/alert", again.clone()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["occurrences"], 3);
    assert_eq!(v["artifacts"].as_array().unwrap().len(), 5);
    // ... unless the request says otherwise.
    let (st, v) = post(&admin, &s, "/api/alert?upsert=false", again).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_error(&v, "ConflictError");
    let (_, v) = get(&admin, &s, "/api/alert/source").await;
    assert_eq!(v[0]["source"], "zerofox");
    assert_eq!(v[0]["upsert"], true);

    // Concurrent creations of one alert: exactly one wins, the others are told it exists.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (c, url) = (admin.clone(), s.url("/api/alert"));
        let b = alert_body("RACE-1", json!([{"dataType": "ip", "data": "10.9.9.9"}]));
        tasks.push(tokio::spawn(async move { c.post(url).json(&b).send().await.unwrap().status() }));
    }
    let mut created = 0;
    for t in tasks {
        let st = t.await.unwrap();
        assert!(st == StatusCode::CREATED || st == StatusCode::OK || st == StatusCode::BAD_REQUEST, "{st}");
        created += usize::from(st == StatusCode::CREATED);
    }
    assert_eq!(created, 1);
    let (n, found) = search(&admin, &s, "/api/alert/_search", json!({"sourceRef": "RACE-1"})).await;
    assert_eq!(n, 1);
    assert_eq!(found[0]["occurrences"], 8, "the source upserts: every other sending counted");
}

#[tokio::test]
async fn bad_inputs_are_refused_and_nothing_is_half_written() {
    let s = TestServer::start_with(|st| st.max_body_bytes = 512 * 1024).await;
    let admin = s.admin_session().await;
    new_alert(&admin, &s, alert_body("OK-1", json!([{"dataType": "ip", "data": "1.2.3.4"}]))).await;
    let many: Vec<Value> = (0..10_000).map(|i| json!({"dataType": "ip", "data": format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256)})).collect();
    let cases: Vec<(Value, &str)> = vec![
        (alert_body("B-1", json!([{"dataType": "file", "data": "x.bin;application/octet-stream;!!!not base64!!!"}])), "malformed base64"),
        (alert_body("B-2", json!([{"dataType": "file", "data": "x.bin;application/octet-stream;"}])), "0-byte file"),
        (alert_body("B-3", json!([{"dataType": "file", "data": "no separators"}])), "file without name and type"),
        (alert_body("B-4", json!([{"dataType": "colour", "data": "red"}])), "unknown data type"),
        (alert_body("B-5", json!([{"dataType": "ip", "data": ""}])), "empty value"),
        (alert_body("B-6", json!([{"dataType": "ip", "data": "1.1.1.1", "colour": "red"}])), "unknown artifact attribute"),
        (alert_body("B-7", json!(many)), "10,000 observables"),
        (alert_body("B-8", json!([{"dataType": "ip", "data": "1.1.1.1"}, {"dataType": "file", "data": "x;y;%%%"}])), "one bad among good"),
        (json!({"type": "t", "source": "s", "sourceRef": "B-9", "description": "no title"}), "missing title"),
        (json!({"type": "t", "source": "s", "title": "no ref"}), "missing sourceRef"),
        (json!({"type": "", "source": "s", "sourceRef": "B-10", "title": "x"}), "empty type"),
        (json!({"type": "t", "source": "s", "sourceRef": "B-11", "title": "x", "severity": 9}), "severity out of range"),
        (json!({"type": "t", "source": "s", "sourceRef": "B-12", "title": "x", "status": "Imported"}), "status is not given"),
        (json!({"type": "t", "source": "s", "sourceRef": "B-13", "title": "x", "customFields": {"nope": {"string": 5}}}), "custom field of the wrong type"),
        (json!({"type": "t", "source": "s", "sourceRef": "B-14", "title": "x", "artifacts": "not a list"}), "artifacts not a list"),
        (json!({"type": "t", "source": "s", "sourceRef": "B-15", "title": "x", "tags": [1, 2]}), "tags not strings"),
    ];
    for (body, what) in cases {
        let (st, v) = post(&admin, &s, "/api/alert", body).await;
        assert!(st.is_client_error(), "{what}: {st} {v}");
        assert!(v["type"].is_string() && v["message"].is_string(), "{what}: {v}");
    }
    // An oversized file: refused before anything is stored.
    let big = format!("big.bin;application/octet-stream;{}", b64(&vec![7u8; 600 * 1024]));
    let r = admin.post(s.url("/api/alert")).json(&alert_body("B-16", json!([{"dataType": "file", "data": big}]))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Invalid UTF-8, deep nesting, not JSON at all.
    for (bytes, what) in [
        (b"{\"type\":\"t\",\"source\":\"s\",\"sourceRef\":\"B-17\",\"title\":\"\xff\xfe\"}".to_vec(), "invalid UTF-8"),
        (format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(), "deep nesting"),
        (format!("{{\"type\":\"t\",\"source\":\"s\",\"sourceRef\":\"B-18\",\"title\":\"x\",\"customFields\":{}{}}}", "{\"a\":".repeat(5000), "}".repeat(5000)).into_bytes(), "deep object"),
        (b"type=t&source=s".to_vec(), "not JSON"),
    ] {
        let r = admin.post(s.url("/api/alert")).header("content-type", "application/json").body(bytes).send().await.unwrap();
        let (st, v) = json(r).await;
        assert!(st.is_client_error(), "{what}: {st} {v}");
        assert!(v["type"].is_string(), "{what}: {v}");
    }
    // Nothing of it was written: one alert, and no stored file.
    assert_eq!(alert_total(&admin, &s).await, 1);
    let (_, flow) = get(&admin, &s, "/api/flow").await;
    let creations = flow.as_array().unwrap().iter().filter(|e| e["base"]["objectType"] == "alert" || e["objectType"] == "alert").count();
    assert_eq!(creations, 1, "{flow}");

    // The same checks apply to updates.
    let (_, found) = search(&admin, &s, "/api/alert/_search", json!({"sourceRef": "OK-1"})).await;
    let aid = id(&found[0]);
    for (body, what) in [
        (json!({"artifacts": [{"dataType": "colour", "data": "red"}]}), "unknown data type"),
        (json!({"status": "Imported"}), "status"),
        (json!({"sourceRef": "other"}), "identity"),
        (json!({"severity": 0}), "severity"),
    ] {
        let (st, v) = patch(&admin, &s, &format!("/api/alert/{aid}"), body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{what}: {v}");
    }
    let (_, a) = get(&admin, &s, &format!("/api/alert/{aid}")).await;
    assert_eq!(a["artifacts"].as_array().unwrap().len(), 1);
    assert_eq!(a["sourceRef"], "OK-1");
}

#[tokio::test]
async fn update_triage_states_bulk_search_and_delete() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let a = new_alert(&admin, &s, alert_body("U-1", json!([{"dataType": "ip", "data": "10.0.0.1"}]))).await;
    let aid = id(&a);
    let url = format!("/api/alert/{aid}");

    // A New alert stays New when changed.
    let (st, v) = patch(&admin, &s, &url, json!({"title": "Renamed", "artifacts": [{"dataType": "ip", "data": "10.0.0.1"}, {"dataType": "ip", "data": "10.0.0.3"}]})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "New");
    assert_eq!(v["title"], "Renamed");
    assert_eq!(v["artifacts"].as_array().unwrap().len(), 2, "artifacts merged without duplicates: {v}");
    // Read / unread.
    let (_, v) = post(&admin, &s, &format!("{url}/markAsRead"), json!({})).await;
    assert_eq!(v["status"], "Ignored");
    // A followed alert changed after triage asks for attention again.
    let (_, v) = patch(&admin, &s, &url, json!({"description": "More details"})).await;
    assert_eq!(v["status"], "Updated");
    let (_, v) = post(&admin, &s, &format!("{url}/markAsRead"), json!({})).await;
    assert_eq!(v["status"], "Ignored");
    let (_, v) = post(&admin, &s, &format!("{url}/unfollow"), json!({})).await;
    assert_eq!(v["follow"], false);
    assert_eq!(v["status"], "Ignored");
    let (_, v) = patch(&admin, &s, &url, json!({"description": "Even more"})).await;
    assert_eq!(v["status"], "Ignored", "an unfollowed alert stays as triaged");
    let (_, v) = post(&admin, &s, &format!("{url}/follow"), json!({})).await;
    assert_eq!(v["follow"], true);
    let (_, v) = post(&admin, &s, &format!("{url}/markAsUnread"), json!({})).await;
    assert_eq!(v["status"], "New");
    // Unknown alert.
    let (st, v) = post(&admin, &s, "/api/alert/nope/markAsRead", json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_error(&v, "NotFoundError");

    // Artifacts of an alert.
    let (st, v) = post(&admin, &s, &format!("{url}/artifact"), json!({"dataType": "domain", "data": ["a.example", "b.example"]})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 2);
    let art = id(&v[0]);
    let (st, v) = post(&admin, &s, &format!("{url}/artifact"), json!({"dataType": "domain", "data": "a.example"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_error(&v, "ConflictError");
    let (st, v) = patch(&admin, &s, &format!("/api/alert/artifact/{art}"), json!({"ioc": true, "message": "C2"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["ioc"], true);
    assert_eq!(call(&admin, reqwest::Method::DELETE, &s, &format!("/api/alert/artifact/{art}"), None).await.0, StatusCode::NO_CONTENT);
    let (_, v) = get(&admin, &s, &url).await;
    assert_eq!(v["artifacts"].as_array().unwrap().len(), 3);

    // Bulk update.
    let b = new_alert(&admin, &s, alert_body("U-2", json!([]))).await;
    let (st, v) = patch(&admin, &s, "/api/alert/_bulk", json!({"ids": [aid, id(&b)], "tags": ["triaged"], "severity": 3})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v.as_array().unwrap().iter().all(|a| a["tags"] == json!(["triaged"]) && a["severity"] == 3), "{v}");
    let (st, _) = patch(&admin, &s, "/api/alert/_bulk", json!({"ids": [aid, "nope"], "severity": 1})).await;
    assert_eq!(st, StatusCode::MULTI_STATUS);

    // Search: by source, status, artifact value; sorted, paged.
    for i in 3..8 {
        new_alert(&admin, &s, json!({"type": "siem", "source": "splunk", "sourceRef": format!("S-{i}"), "title": format!("Splunk {i}"), "date": 1_700_000_000_000i64 + i, "artifacts": [{"dataType": "ip", "data": format!("192.168.0.{i}")}]})).await;
    }
    let (n, _) = search(&admin, &s, "/api/alert/_search", json!({"source": "splunk"})).await;
    assert_eq!(n, 5);
    let (n, found) = search(&admin, &s, "/api/alert/_search", json!({"artifacts.data": "192.168.0.4"})).await;
    assert_eq!(n, 1);
    assert_eq!(found[0]["sourceRef"], "S-4");
    // (the partial bulk update set the first alert's severity to 1)
    let (n, found) = search(&admin, &s, "/api/alert/_search", json!({"_and": [{"status": "New"}, {"severity": 3}]})).await;
    assert_eq!(n, 1);
    assert_eq!(found[0]["id"], b["id"]);
    let r = admin.post(s.url("/api/alert/_search")).query(&[("range", "0-2"), ("sort", "-date")]).json(&json!({"query": {"source": "splunk"}})).send().await.unwrap();
    assert_eq!(r.headers()["x-total"], "5");
    let page: Vec<Value> = r.json().await.unwrap();
    assert_eq!(page.iter().map(|a| a["sourceRef"].as_str().unwrap()).collect::<Vec<_>>(), ["S-7", "S-6"]);
    let r = admin.post(s.url("/api/alert/_search")).query(&[("range", "0-2"), ("sort", "+date")]).json(&json!({"query": {"source": "splunk"}})).send().await.unwrap();
    let page: Vec<Value> = r.json().await.unwrap();
    assert_eq!(page[0]["sourceRef"], "S-3");

    // Delete, bulk delete.
    assert_eq!(call(&admin, reqwest::Method::DELETE, &s, &url, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(get(&admin, &s, &url).await.0, StatusCode::NOT_FOUND);
    let (_, splunk) = search(&admin, &s, "/api/alert/_search", json!({"source": "splunk"})).await;
    let ids: Vec<String> = splunk.iter().map(id).collect();
    let (st, _) = post(&admin, &s, "/api/alert/delete/_bulk", json!({"ids": ids})).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(alert_total(&admin, &s).await, 1);
    // Deleted alerts can be created again.
    new_alert(&admin, &s, alert_body("U-1", json!([]))).await;
    // The per-status counts (the list's tabs), kept by the database through all of it.
    let state = &s.running.as_ref().unwrap().state;
    let org = waggle::domain::identity::org::by_name(&state.store, "soc").await.unwrap().unwrap();
    let counts = waggle::domain::alert::counts_in(&state.store.org(&org.id)).await.unwrap();
    assert_eq!((counts.new, counts.updated, counts.ignored, counts.imported), (2, 0, 0, 0));
}

/// Similarity read from the observable value index and from the database, for the admin of
/// `soc`: the same answer, with `similar` similar cases. Returns both.
async fn similarity_paths_agree(s: &TestServer, alert_id: &str, similar: usize) -> (Value, Value) {
    use waggle::domain::alert::similarity::{Lookup, with_similarity_from};
    let state = &s.running.as_ref().unwrap().state;
    for _ in 0..200 {
        if state.stats.is_ready() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(state.stats.is_ready(), "the statistics index loads");
    let user = waggle::domain::identity::user::row_by_login(&state.store, ADMIN).await.unwrap().unwrap();
    let caller = waggle::core::auth::Caller::for_user(&user, None, waggle::core::auth::AuthMethod::ApiKey).unwrap();
    let alert = waggle::domain::alert::get(state, &caller, alert_id).await.unwrap();
    let from_index = with_similarity_from(state, &caller, alert.clone(), Lookup::IndexWhenReady).await.unwrap();
    let from_db = with_similarity_from(state, &caller, alert, Lookup::Database).await.unwrap();
    let (a, b) = (serde_json::to_value(&from_index).unwrap(), serde_json::to_value(&from_db).unwrap());
    assert_eq!(a, b, "index and database disagree");
    assert_eq!(a["similarCases"].as_array().map(Vec::len), Some(similar), "{a}");
    (a, b)
}

#[tokio::test]
async fn similarity_import_merge_and_isolation() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let (st, v) = post(&admin, &s, "/api/case/template", json!({"name": "Phishing", "titlePrefix": "[PHISH]", "tags": ["phishing"], "tasks": [{"title": "Block sender"}, {"title": "Notify users"}]})).await;
    assert!(st.is_success(), "{v}");
    // Cases with observables: one shares two with the alert (one an IOC), one shares one; a
    // deleted case would share everything.
    let (_, c1) = post(&admin, &s, "/api/case", json!({"title": "Campaign", "description": "d"})).await;
    let c1id = id(&c1);
    post(&admin, &s, &format!("/api/case/{c1id}/artifact"), json!({"dataType": "ip", "data": "10.0.0.1", "ioc": true})).await;
    post(&admin, &s, &format!("/api/case/{c1id}/artifact"), json!({"dataType": "domain", "data": "evil.example"})).await;
    let (_, c2) = post(&admin, &s, "/api/case", json!({"title": "Older", "description": "d"})).await;
    post(&admin, &s, &format!("/api/case/{}/artifact", id(&c2)), json!({"dataType": "ip", "data": "10.0.0.1"})).await;
    let (_, c3) = post(&admin, &s, "/api/case", json!({"title": "Deleted", "description": "d"})).await;
    post(&admin, &s, &format!("/api/case/{}/artifact", id(&c3)), json!({"dataType": "ip", "data": "10.0.0.1"})).await;
    post(&admin, &s, &format!("/api/case/{}/artifact", id(&c3)), json!({"dataType": "domain", "data": "evil.example"})).await;
    assert_eq!(call(&admin, reqwest::Method::DELETE, &s, &format!("/api/case/{}", id(&c3)), None).await.0, StatusCode::NO_CONTENT);

    let a = new_alert(
        &admin,
        &s,
        alert_body("SIM-1", json!([{"dataType": "ip", "data": "10.0.0.1"}, {"dataType": "domain", "data": "evil.example"}, {"dataType": "ip", "data": "10.0.0.99"}])),
    )
    .await;
    let aid = id(&a);
    let (st, v) = get(&admin, &s, &format!("/api/alert/{aid}?similarity=1")).await;
    assert_eq!(st, StatusCode::OK);
    let seen = |v: &Value, data: &str| v["artifacts"].as_array().unwrap().iter().find(|o| o["data"] == data).unwrap()["seen"].clone();
    assert_eq!(seen(&v, "10.0.0.1"), 2, "{v}");
    assert_eq!(seen(&v, "evil.example"), 1);
    assert_eq!(seen(&v, "10.0.0.99"), 0);
    let similar = v["similarCases"].as_array().unwrap();
    assert_eq!(similar.len(), 2, "the deleted case does not count: {v}");
    assert_eq!(similar[0]["id"], c1["id"], "most overlap first");
    assert_eq!(similar[0]["similarArtifactCount"], 2);
    assert_eq!(similar[0]["similarIocCount"], 1);
    assert_eq!(similar[0]["artifactCount"], 2);
    assert_eq!(similar[0]["iocCount"], 1);
    assert_eq!(similar[1]["similarArtifactCount"], 1);
    assert_eq!((similar[1]["artifactCount"].clone(), similar[1]["iocCount"].clone()), (json!(1), json!(0)));
    // Without the parameter, no similarity.
    let (_, v) = get(&admin, &s, &format!("/api/alert/{aid}")).await;
    assert!(v.get("similarCases").is_none());

    // The observable value index (what the HTTP answer above used once loaded) and the
    // database agree, through an IOC flag changed, an observable removed and a case deleted.
    similarity_paths_agree(&s, &aid, 2).await;
    let (_, c2obs) = search(&admin, &s, "/api/case/artifact/_search", json!({"_parent": {"_type": "case", "_id": id(&c2)}})).await;
    let (st, _) = patch(&admin, &s, &format!("/api/case/artifact/{}", id(&c2obs[0])), json!({"ioc": true})).await;
    assert_eq!(st, StatusCode::OK);
    similarity_paths_agree(&s, &aid, 2).await;
    let (_, c1obs) = search(&admin, &s, "/api/case/artifact/_search", json!({"_parent": {"_type": "case", "_id": c1id}})).await;
    let domain = c1obs.iter().find(|o| o["data"] == "evil.example").unwrap();
    assert_eq!(call(&admin, reqwest::Method::DELETE, &s, &format!("/api/case/artifact/{}", id(domain)), None).await.0, StatusCode::NO_CONTENT);
    let (_, v) = similarity_paths_agree(&s, &aid, 2).await;
    assert_eq!((v["similarCases"][0]["observableCount"].clone(), v["similarCases"][0]["iocCount"].clone()), (json!(1), json!(1)), "{v}");
    assert_eq!(call(&admin, reqwest::Method::DELETE, &s, &format!("/api/case/{}", id(&c2)), None).await.0, StatusCode::NO_CONTENT);
    similarity_paths_agree(&s, &aid, 1).await;

    // Another organisation sees neither the alert nor the cases.
    let carol = s.acme_admin().await;
    assert_eq!(get(&carol, &s, &format!("/api/alert/{aid}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(post(&carol, &s, &format!("/api/alert/{aid}/createCase"), json!({})).await.0, StatusCode::NOT_FOUND);
    let theirs = new_alert(&carol, &s, alert_body("SIM-1", json!([{"dataType": "ip", "data": "10.0.0.1"}]))).await;
    let (_, v) = get(&carol, &s, &format!("/api/alert/{}?similarity=1", id(&theirs))).await;
    assert_eq!(v["artifacts"][0]["seen"], 0, "{v}");
    assert_eq!(v["similarCases"], json!([]));
    assert_eq!(alert_total(&carol, &s).await, 1);
    let (st, _) = post(&carol, &s, &format!("/api/alert/{}/merge/{c1id}", id(&theirs)), json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "another organisation's case");

    // Import with a template: one transaction, the alert Imported and linked.
    let (st, case) = post(&admin, &s, &format!("/api/alert/{aid}/createCase"), json!({"caseTemplate": "Phishing"})).await;
    assert_eq!(st, StatusCode::CREATED, "{case}");
    assert_eq!(case["title"], "[PHISH] Alert SIM-1");
    assert!(case["tags"].as_array().unwrap().contains(&json!("phishing")));
    let cid = id(&case);
    let (n, obs) = search(&admin, &s, "/api/case/artifact/_search", json!({"_parent": {"_type": "case", "_id": cid}})).await;
    assert_eq!(n, 3, "{obs:?}");
    let (n, _) = search(&admin, &s, "/api/case/task/_search", json!({"_parent": {"_type": "case", "_id": cid}})).await;
    assert_eq!(n, 2);
    let (_, v) = get(&admin, &s, &format!("/api/alert/{aid}")).await;
    assert_eq!(v["status"], "Imported");
    assert_eq!(v["case"], case["id"]);
    let (st, v) = post(&admin, &s, &format!("/api/alert/{aid}/createCase"), json!({})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "imported once: {v}");
    let (st, _) = post(&admin, &s, "/api/alert/nope/createCase", json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // An unknown template: refused, the alert untouched.
    let b = new_alert(&admin, &s, alert_body("SIM-2", json!([{"dataType": "ip", "data": "10.0.0.1"}, {"dataType": "mail", "data": "x@evil.example"}]))).await;
    let (st, _) = post(&admin, &s, &format!("/api/alert/{}/createCase", id(&b)), json!({"caseTemplate": "No such"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(get(&admin, &s, &format!("/api/alert/{}", id(&b))).await.1["status"], "New");

    // Merge one alert into the case (by number): new observables only, description appended.
    let number = case["caseId"].as_u64().unwrap();
    let (st, merged) = post(&admin, &s, &format!("/api/alert/{}/merge/{number}", id(&b)), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{merged}");
    assert!(merged["description"].as_str().unwrap().contains("Merged with alert #SIM-2"), "{merged}");
    let (n, _) = search(&admin, &s, "/api/case/artifact/_search", json!({"_parent": {"_type": "case", "_id": cid}})).await;
    assert_eq!(n, 4, "only the mail is new");
    let (_, v) = get(&admin, &s, &format!("/api/alert/{}", id(&b))).await;
    assert_eq!(v["status"], "Imported");
    assert_eq!(v["case"], case["id"]);
    // Bulk merge.
    let c = new_alert(&admin, &s, alert_body("SIM-3", json!([{"dataType": "fqdn", "data": "c.example"}]))).await;
    let d = new_alert(&admin, &s, alert_body("SIM-4", json!([{"dataType": "fqdn", "data": "c.example"}, {"dataType": "fqdn", "data": "d.example"}]))).await;
    let (st, v) = post(&admin, &s, "/api/alert/merge/_bulk", json!({"caseId": cid, "alertIds": [id(&c), id(&d)]})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (n, _) = search(&admin, &s, "/api/case/artifact/_search", json!({"_parent": {"_type": "case", "_id": cid}})).await;
    assert_eq!(n, 6);
    let (n, _) = search(&admin, &s, "/api/alert/_search", json!({"_and": [{"status": "Imported"}, {"case": cid}]})).await;
    assert_eq!(n, 4);
    // Merging an alert imported elsewhere, or into an unknown case: refused, nothing changed.
    let (_, other) = post(&admin, &s, "/api/case", json!({"title": "Other", "description": "d"})).await;
    let (st, _) = post(&admin, &s, "/api/alert/merge/_bulk", json!({"caseId": id(&other), "alertIds": [id(&c)]})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = post(&admin, &s, "/api/alert/merge/_bulk", json!({"caseId": "nope", "alertIds": [id(&c)]})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = post(&admin, &s, "/api/alert/merge/_bulk", json!({"caseId": cid, "alertIds": []})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn permissions() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let a = new_alert(&admin, &s, alert_body("P-1", json!([]))).await;
    s.create_user(&admin, json!({"login": "ro@soc", "name": "ro", "password": "user-password-1", "profile": "read-only"})).await;
    let ro = s.session("ro@soc", "user-password-1").await;
    let (st, _) = get(&ro, &s, &format!("/api/alert/{}", id(&a))).await;
    assert_eq!(st, StatusCode::OK);
    for (st, v) in [
        post(&ro, &s, "/api/alert", alert_body("P-2", json!([]))).await,
        post(&ro, &s, &format!("/api/alert/{}/markAsRead", id(&a)), json!({})).await,
        post(&ro, &s, &format!("/api/alert/{}/createCase", id(&a)), json!({})).await,
        patch(&ro, &s, &format!("/api/alert/{}", id(&a)), json!({"title": "x"})).await,
    ] {
        assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
        assert_error(&v, "AuthorizationError");
    }
    assert_eq!(call(&ro, reqwest::Method::DELETE, &s, &format!("/api/alert/{}", id(&a)), None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(alert_total(&admin, &s).await, 1);
}

/// Alerts per status are counted by the writers on creation (the batch writer and the
/// single-alert path of alerts with files) and by the database event on status changes and
/// deletions; the counters serve `X-Total` of a status list and agree with a recount.
#[tokio::test]
async fn status_counters_follow_every_write() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let total = |status: &'static str| {
        let (admin, s) = (&admin, &s);
        async move { search(admin, s, "/api/alert/_search", json!({"status": status})).await.0 }
    };
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(id(&new_alert(&admin, &s, alert_body(&format!("CNT-{i}"), json!([{"dataType": "ip", "data": format!("10.9.0.{i}")}]))).await));
    }
    // With a file: written alone, outside the batch writer.
    let file = format!("sample.txt;text/plain;{}", base64::engine::general_purpose::STANDARD.encode(b"payload"));
    ids.push(id(&new_alert(&admin, &s, alert_body("CNT-file", json!([{"dataType": "file", "data": file}]))).await));
    assert_eq!(total("New").await, 5);
    let (st, _) = post(&admin, &s, &format!("/api/alert/{}/markAsRead", ids[0]), json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(call(&admin, reqwest::Method::DELETE, &s, &format!("/api/alert/{}", ids[1]), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!((total("New").await, total("Ignored").await), (3, 1));

    // Concurrent feeders: several batch writers at once, each counting in its own records.
    let posts = (0..60).map(|i| {
        let (admin, s) = (&admin, &s);
        async move { new_alert(admin, s, alert_body(&format!("CONC-{i}"), json!([{"dataType": "ip", "data": format!("10.8.0.{i}")}]))).await }
    });
    futures::future::join_all(posts).await;
    assert_eq!((total("New").await, total("Ignored").await), (63, 1));
    let state = &s.running.as_ref().unwrap().state;
    let org = waggle::domain::identity::org::by_name(&state.store, "soc").await.unwrap().unwrap();
    let counts = waggle::domain::alert::counts_in(&state.store.org(&org.id)).await.unwrap();
    assert_eq!((counts.new, counts.ignored), (63, 1), "the status tabs add the writers' records up");

    // A recount from the alerts themselves finds the same.
    let store = s.running.as_ref().unwrap().state.store.clone();
    waggle::domain::alert::recount_status_counters(&store).await.unwrap();
    assert_eq!((total("New").await, total("Ignored").await), (63, 1));
    s.stop().await;
}

/// Alert lists filtered on more than the status are answered from the statistics index (v0
/// search and the triage list): the same pages as the database's answer, exact totals, and a
/// new alert in the next list.
#[tokio::test]
async fn filtered_alert_lists_from_the_index_agree_with_the_database() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let state = s.running.as_ref().unwrap().state.clone();
    let mut ids = Vec::new();
    for i in 0..30i64 {
        let tags: Vec<&str> = [(i % 3 == 0).then_some("apt"), (i % 4 == 0).then_some("vip")].into_iter().flatten().collect();
        let (kind, source) = (["external", "internal"][i as usize % 2], ["misp", "siem", "zerofox"][i as usize % 3]);
        let a = new_alert(&admin, &s, json!({
            "type": kind, "source": source,
            "sourceRef": format!("ref-{i}"), "title": format!("Alert {i:02}"), "description": "d",
            "severity": 1 + i % 4, "tags": tags, "date": 1_700_000_000_000i64 + i * 60_000,
        })).await;
        ids.push(id(&a));
    }
    for aid in ids.iter().step_by(5) {
        let (st, v) = post(&admin, &s, &format!("/api/alert/{aid}/markAsRead"), json!({})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let (st, _) = call(&admin, reqwest::Method::DELETE, &s, &format!("/api/alert/{}", ids[29]), None).await;
    assert!(st.is_success());
    stats_ready(&s).await;

    let queries = [
        json!({"_and": [{"status": "New"}, {"source": "misp"}]}),
        json!({"_and": [{"_gte": {"severity": 3}}, {"tags": "apt"}]}),
        json!({"_or": [{"type": "internal"}, {"_in": {"_field": "source", "_values": ["siem"]}}]}),
        json!({"_not": {"status": "New"}}),
        json!({"_and": [{"status": "New"}, {"_gt": {"severity": 9}}]}),
    ];
    let sorts: [&[&str]; 4] = [&[], &["-date"], &["+severity", "-date"], &["-severity"]];
    // Dates differ: every sort but the severity alone is a total order.
    index_lists_agree(&admin, &s, "/api/alert/_search", &queries, &sorts, (&["-severity"], "severity")).await;

    // The triage list: the same filter, answered by the index with its exact total.
    let before = state.stats.lists_served();
    let page = ui_ok(&admin, &s, "alerts/list", json!({"query": queries[0], "sort": "-date", "from": 0, "size": 3})).await;
    let (db_total, db) = search_page(&admin, &s, "/api/alert/_search", &queries[0], &["-date"], "all").await;
    assert_eq!((page["total"].as_u64(), page["totalExact"].as_bool()), (Some(db_total), Some(true)));
    let listed: Vec<&Value> = page["items"].as_array().unwrap().iter().collect();
    assert_eq!(listed.iter().map(|a| a["id"].clone()).collect::<Vec<_>>(), db.iter().take(3).map(|a| a["id"].clone()).collect::<Vec<_>>());
    assert_eq!(state.stats.lists_served(), before + 1);

    // Read-your-writes: an alert just created is in the next filtered list.
    let fresh = new_alert(&admin, &s, json!({"type": "external", "source": "misp", "sourceRef": "fresh", "title": "Fresh", "description": "d", "severity": 4})).await;
    let (total, page) = search_page(&admin, &s, "/api/alert/_search", &json!({"_and": [{"source": "misp"}, {"_gte": {"severity": 4}}]}), &[], "0-1").await;
    assert!(total >= 1);
    assert_eq!(page[0]["id"], fresh["id"], "the newest first");
    s.stop().await;
}
