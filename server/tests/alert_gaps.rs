//! Alert sources (the per-source upsert setting, through the UI's server functions and the v0
//! API), files of failed alert transactions (never left in the attachment store), and the case
//! template defaults the template editor sets.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, SystemTime};

use base64::Engine;
use common::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sha2::Digest;

async fn search(c: &Client, s: &TestServer, path: &str, query: Value) -> (u64, Vec<Value>) {
    let r = c.post(s.url(path)).query(&[("range", "all")]).json(&json!({"query": query})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path} {query}");
    let total: u64 = r.headers().get("x-total").expect("X-Total").to_str().unwrap().parse().unwrap();
    let list: Vec<Value> = r.json().await.unwrap();
    (total, list)
}

fn alert(source: &str, source_ref: &str, artifacts: Value) -> Value {
    json!({"type": "external", "source": source, "sourceRef": source_ref, "title": format!("Alert {source_ref}"),
           "description": "d", "artifacts": artifacts})
}

fn file_artifact(name: &str, content: &[u8]) -> Value {
    json!({"dataType": "file", "data": format!("{name};text/plain;{}", base64::engine::general_purpose::STANDARD.encode(content))})
}

fn sha256(content: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(content))
}

/// The contents in the attachment store (file names: their SHA-256), temporary files apart.
fn stored(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let root = dir.join("attachments");
    for a in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        if a.file_name() == "tmp" {
            continue;
        }
        for b in std::fs::read_dir(a.path()).into_iter().flatten().flatten() {
            for f in std::fs::read_dir(b.path()).into_iter().flatten().flatten() {
                out.insert(f.file_name().to_string_lossy().to_string());
            }
        }
    }
    out
}

fn state(s: &TestServer) -> &waggle::core::state::AppState {
    &s.running.as_ref().expect("running").state
}

#[tokio::test]
async fn alert_sources_switch_duplicates_between_conflict_and_upsert() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let c = s.ui_session(ADMIN, PASSWORD).await;
    for i in 0..3 {
        let (st, v) = post(&admin, &s, "/api/alert", alert("misp", &format!("M-{i}"), json!([{"dataType": "ip", "data": "10.0.0.1"}]))).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let (st, _) = post(&admin, &s, "/api/alert", alert("splunk", "S-1", json!([]))).await;
    assert_eq!(st, StatusCode::CREATED);

    // Sources seen in alerts, most alerts first, none upserting; plus one named in advance.
    let list = ui_ok(&c, &s, "alerts/sources", json!({})).await;
    assert_eq!(list.as_array().unwrap().iter().map(|x| (x["source"].as_str().unwrap(), x["alerts"].as_u64().unwrap(), x["upsert"].as_bool().unwrap())).collect::<Vec<_>>(),
        [("misp", 3, false), ("splunk", 1, false)]);
    let v = ui_ok(&c, &s, "alerts/sources/set", json!({"source": "zerofox", "upsert": true})).await;
    assert_eq!((v["source"].as_str(), v["upsert"].as_bool(), v["updatedBy"].as_str()), (Some("zerofox"), Some(true), Some(ADMIN)));
    let list = ui_ok(&c, &s, "alerts/sources", json!({})).await;
    assert_eq!(list[2]["source"], "zerofox");
    assert_eq!((list[2]["alerts"].as_u64(), list[2]["upsert"].as_bool()), (Some(0), Some(true)));

    // Off (the default): a duplicate is refused with the existing alert, as feeders expect.
    let again = alert("misp", "M-0", json!([{"dataType": "ip", "data": "10.0.0.1"}, {"dataType": "domain", "data": "evil.example"}]));
    let (st, v) = post(&admin, &s, "/api/alert", again.clone()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_error(&v, "ConflictError");
    let existing = v["object"]["_id"].as_str().unwrap().to_string();

    // On: the same request updates the existing alert.
    ui_ok(&c, &s, "alerts/sources/set", json!({"source": "misp", "upsert": true})).await;
    let (st, v) = post(&admin, &s, "/api/alert", again.clone()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["id"], existing);
    assert_eq!(v["occurrences"], 2);
    assert_eq!(v["artifacts"].as_array().unwrap().len(), 2, "the new observable added once");
    let (st, v) = post(&admin, &s, "/api/alert", again.clone()).await;
    assert_eq!((st, v["occurrences"].as_i64()), (StatusCode::OK, Some(3)));
    let list = ui_ok(&c, &s, "alerts/sources", json!({})).await;
    assert_eq!((list[0]["source"].as_str(), list[0]["alerts"].as_u64(), list[0]["upsert"].as_bool()), (Some("misp"), Some(3), Some(true)), "no new alert");

    // Off again: refused again.
    ui_ok(&c, &s, "alerts/sources/set", json!({"source": "misp", "upsert": false})).await;
    let (st, v) = post(&admin, &s, "/api/alert", again).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_error(&v, "ConflictError");

    // Bad input and permissions.
    let (st, _) = ui(&c, &s, "alerts/sources/set", json!({"source": "  ", "upsert": true})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    s.create_user(&admin, json!({"login": "ro@soc", "name": "ro", "password": "user-password-1", "profile": "read-only"})).await;
    let ro = s.ui_session("ro@soc", "user-password-1").await;
    assert_eq!(ui_ok(&ro, &s, "alerts/sources", json!({})).await.as_array().unwrap().len(), 3, "read-only users see the sources");
    let (st, _) = ui(&ro, &s, "alerts/sources/set", json!({"source": "misp", "upsert": true})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // Another organisation sees neither the sources nor the settings.
    let other = s.acme_admin_ui().await;
    assert_eq!(ui_ok(&other, &s, "alerts/sources", json!({})).await, json!([]));
}

#[tokio::test]
async fn a_failed_alert_transaction_leaves_no_file_behind() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let shared = b"content another alert holds";
    let (st, v) = post(&admin, &s, "/api/alert", alert("feed", "F-1", json!([file_artifact("held.txt", shared)]))).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let before = stored(s.dir.path());
    assert_eq!(before, BTreeSet::from([sha256(shared)]));

    // Make the database refuse this alert (its transaction fails after the files are written).
    state(&s)
        .store
        .query("DEFINE EVENT refuse_boom ON alert WHEN $event = 'CREATE' AND $after.title = 'boom' THEN { THROW 'refused by the test' }", waggle::vars! {})
        .await
        .unwrap();
    let mut boom = alert("feed", "F-2", json!([file_artifact("new.txt", b"content nothing else holds"), file_artifact("again.txt", shared)]));
    boom["title"] = json!("boom");
    let (st, v) = post(&admin, &s, "/api/alert", boom).await;
    assert!(st.is_server_error() || st.is_client_error(), "{st} {v}");
    let (n, _) = search(&admin, &s, "/api/alert/_search", json!({"sourceRef": "F-2"})).await;
    assert_eq!(n, 0, "nothing half-written");
    assert_eq!(stored(s.dir.path()), before, "the new file is removed, the held one kept");
    let r = admin.get(s.url(&format!("/api/datastore/{}", sha256(shared)))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), shared);

    // The upsert path: the same alert sent again with a new file while the database refuses updates.
    state(&s)
        .store
        .query("DEFINE EVENT refuse_update ON alert WHEN $event = 'UPDATE' AND $after.title = 'boom again' THEN { THROW 'refused by the test' }", waggle::vars! {})
        .await
        .unwrap();
    let before = stored(s.dir.path());
    let mut again = alert("feed", "F-1", json!([file_artifact("upsert.txt", b"content of a refused upsert")]));
    again["title"] = json!("boom again");
    let (st, v) = post(&admin, &s, "/api/alert?upsert=true", again).await;
    assert!(!st.is_success(), "{st} {v}");
    assert_eq!(stored(s.dir.path()), before);
}

#[tokio::test]
async fn the_start_sweep_removes_only_old_files_nothing_holds() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let held = b"a held file";
    let (st, v) = post(&admin, &s, "/api/alert", alert("feed", "H-1", json!([file_artifact("held.txt", held)]))).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let root = s.dir.path().join("attachments");
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let put = |content: &[u8], old: bool| {
        let sha = sha256(content);
        let dir = root.join(&sha[0..2]).join(&sha[2..4]);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(&sha);
        std::fs::write(&path, content).unwrap();
        if old {
            std::fs::File::options().write(true).open(&path).unwrap().set_modified(hour_ago).unwrap();
        }
        sha
    };
    let orphan = put(b"left by a crash", true);
    let young = put(b"being written by a transaction", false);
    // The held file, old too: kept.
    let held_sha = sha256(held);
    std::fs::File::options().write(true).open(root.join(&held_sha[0..2]).join(&held_sha[2..4]).join(&held_sha)).unwrap().set_modified(hour_ago).unwrap();
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    let part = root.join("tmp").join("x.part");
    std::fs::write(&part, b"interrupted upload").unwrap();
    std::fs::File::options().write(true).open(&part).unwrap().set_modified(hour_ago).unwrap();

    let removed = waggle::core::attachment::sweep(state(&s), Duration::from_secs(600)).await.unwrap();
    assert_eq!(removed, 2, "the old orphan and the interrupted upload");
    assert_eq!(stored(s.dir.path()), BTreeSet::from([held_sha, young]));
    assert!(!part.exists());
    assert!(!stored(s.dir.path()).contains(&orphan));
}

#[tokio::test]
async fn template_defaults_set_in_the_editor_reach_new_cases() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let c = s.ui_session(ADMIN, PASSWORD).await;
    s.create_user(&admin, json!({"login": "bob@soc", "name": "Bob", "password": "user-password-1", "profile": "analyst"})).await;
    ui_ok(&c, &s, "admin/custom-fields/create", json!({"input": {"name": "Business unit", "reference": "businessUnit", "type": "string", "options": ["HR", "IT"]}})).await;
    ui_ok(&c, &s, "admin/custom-fields/create", json!({"input": {"name": "Hosts", "reference": "hosts", "type": "integer"}})).await;
    ui_ok(&c, &s, "admin/custom-fields/create", json!({"input": {"name": "First seen", "reference": "firstSeen", "type": "date"}})).await;
    ui_ok(&c, &s, "admin/custom-fields/create", json!({"input": {"name": "VIP", "reference": "vip", "type": "boolean"}})).await;
    ui_ok(&c, &s, "admin/metrics/create", json!({"input": {"name": "hoursToContain", "title": "Hours to contain"}})).await;
    let l = ui_ok(&c, &s, "cases/lookups", json!({})).await;
    assert!(l["members"].as_array().unwrap().iter().any(|m| m["login"] == "bob@soc"), "the editor offers the organisation's users");

    // What the editor sends (TemplateDraft::input).
    let input = json!({
        "name": "Ransomware", "titlePrefix": "[RANSOM]", "severity": 3, "tlp": 2, "pap": 2, "tags": ["ransomware"],
        "customFields": {
            "businessUnit": {"string": "IT", "order": 0},
            "hosts": {"integer": 3, "order": 1},
            "firstSeen": {"date": 1_714_521_600_000i64, "order": 2},
            "vip": {"boolean": true, "order": 3},
        },
        "metrics": {"hoursToContain": null},
        "tasks": [
            {"title": "Isolate hosts", "group": "Containment", "description": "Pull the cable", "owner": "bob@soc", "order": 0},
            {"title": "Report", "order": 1},
        ],
    });
    let t = ui_ok(&c, &s, "admin/templates/create", json!({"input": input})).await;
    // Re-opened: the same defaults.
    let l = ui_ok(&c, &s, "cases/lookups", json!({})).await;
    let saved = l["templates"].as_array().unwrap().iter().find(|x| x["id"] == t["id"]).unwrap().clone();
    assert_eq!(saved["customFields"]["businessUnit"], json!({"string": "IT", "order": 0}));
    assert_eq!(saved["customFields"]["hosts"], json!({"integer": 3, "order": 1}));
    assert_eq!(saved["customFields"]["vip"], json!({"boolean": true, "order": 3}));
    assert_eq!(saved["metrics"], json!({"hoursToContain": null}));
    assert_eq!(saved["tasks"][0]["owner"], "bob@soc");
    assert_eq!(saved["tasks"][0]["group"], "Containment");

    // A wrongly typed default is refused where the user acted.
    let (st, v) = ui(&c, &s, "admin/templates/update", json!({"id": t["id"], "input": {"customFields": {"hosts": {"integer": "three"}}}})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");

    // A case made from it (UI and v0 API) gets them.
    for case in [
        ui_ok(&c, &s, "cases/create", json!({"input": {"title": "Locky", "description": "d", "template": "Ransomware"}})).await,
        new_case_v0(&admin, &s).await,
    ] {
        let case = if case.get("case").is_some() { case["case"].clone() } else { case };
        assert!(case["title"].as_str().unwrap().starts_with("[RANSOM]"), "{case}");
        assert_eq!(case["customFields"]["businessUnit"]["string"], "IT");
        assert_eq!(case["customFields"]["hosts"]["integer"], 3);
        assert_eq!(case["customFields"]["firstSeen"]["date"], 1_714_521_600_000i64);
        assert_eq!(case["customFields"]["vip"]["boolean"], true);
        assert!(case["metrics"].as_object().unwrap().contains_key("hoursToContain"), "{case}");
        let cid = case["id"].as_str().or(case["_id"].as_str()).unwrap().to_string();
        let (_, tasks) = search(&admin, &s, "/api/case/task/_search", json!({"_parent": {"_type": "case", "_id": cid}})).await;
        let isolate = tasks.iter().find(|t| t["title"] == "Isolate hosts").expect("task from the template");
        assert_eq!((isolate["owner"].as_str(), isolate["group"].as_str(), isolate["description"].as_str()), (Some("bob@soc"), Some("Containment"), Some("Pull the cable")));
        assert!(tasks.iter().any(|t| t["title"] == "Report"));
    }
}

async fn new_case_v0(admin: &Client, s: &TestServer) -> Value {
    let (st, v) = post(admin, s, "/api/case", json!({"title": "Cerber", "description": "d", "template": "Ransomware"})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v
}

/// Data types and custom field definitions are read from memory (`cache::Catalog`): every
/// change made through the API must take effect on the very next request.
#[tokio::test]
async fn data_type_and_custom_field_changes_take_effect_at_once() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let wallet = |r: &str| alert("feed", r, json!([{"dataType": "crypto-wallet", "data": "bc1qexample"}]));

    // Unknown type (and the organisation's types now read once).
    let (st, v) = post(&admin, &s, "/api/alert", wallet("W-1")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, type_id) = post(&admin, &s, "/api/list/list_artifactDataType", json!({"value": "crypto-wallet"})).await;
    assert_eq!(st, StatusCode::CREATED, "{type_id}");
    let (st, v) = post(&admin, &s, "/api/alert", wallet("W-1")).await;
    assert_eq!(st, StatusCode::CREATED, "a new type is accepted at once: {v}");
    let (st, case) = post(&admin, &s, "/api/case", json!({"title": "Wallets", "description": "d"})).await;
    assert_eq!(st, StatusCode::CREATED, "{case}");
    let case_id = case["id"].as_str().unwrap();
    let (st, v) = post(&admin, &s, &format!("/api/case/{case_id}/artifact"), json!({"dataType": "crypto-wallet", "data": "bc1qother"})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    // A removed type is refused at once.
    let (st, id2) = post(&admin, &s, "/api/list/list_artifactDataType", json!({"value": "ticket-id"})).await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = post(&admin, &s, "/api/alert", alert("feed", "T-1", json!([{"dataType": "ticket-id", "data": "INC-1"}]))).await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = call(&admin, reqwest::Method::DELETE, &s, &format!("/api/list/{}", id2.as_str().unwrap()), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, v) = post(&admin, &s, "/api/alert", alert("feed", "T-2", json!([{"dataType": "ticket-id", "data": "INC-2"}]))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a removed type is refused at once: {v}");
    let (st, v) = post(&admin, &s, &format!("/api/case/{case_id}/artifact"), json!({"dataType": "ticket-id", "data": "INC-3"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");

    // A new mandatory custom field is required at once; made optional, it is not.
    let (st, field) = post(&admin, &s, "/api/list/custom_fields", json!({"value": {"name": "ticket", "reference": "ticket", "type": "string", "mandatory": true}})).await;
    assert_eq!(st, StatusCode::CREATED, "{field}");
    let (st, v) = post(&admin, &s, "/api/case", json!({"title": "No ticket", "description": "d"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a new mandatory field is required at once: {v}");
    let (st, v) = post(&admin, &s, "/api/case", json!({"title": "Ticket", "description": "d", "customFields": {"ticket": {"string": "INC-9"}}})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = patch(&admin, &s, &format!("/api/list/{}", field.as_str().unwrap()), json!({"value": {"name": "ticket", "reference": "ticket", "type": "string", "mandatory": false}})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = post(&admin, &s, "/api/case", json!({"title": "No ticket", "description": "d"})).await;
    assert_eq!(st, StatusCode::CREATED, "an optional field is not required: {v}");
    // Its options are checked as soon as they are set, on alerts too.
    let (st, v) = patch(&admin, &s, &format!("/api/list/{}", field.as_str().unwrap()), json!({"value": {"name": "ticket", "reference": "ticket", "type": "string", "options": ["A", "B"], "mandatory": false}})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let mut a = alert("feed", "CF-1", json!([]));
    a["customFields"] = json!({"ticket": {"string": "C"}});
    let (st, v) = post(&admin, &s, "/api/alert", a).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    // Removed: any value is kept as given (TheHive 3 did).
    let (st, _) = call(&admin, reqwest::Method::DELETE, &s, &format!("/api/list/{}", field.as_str().unwrap()), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let mut a = alert("feed", "CF-2", json!([]));
    a["customFields"] = json!({"ticket": {"string": "C"}});
    let (st, v) = post(&admin, &s, "/api/alert", a).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    s.stop().await;
}

/// An upload stored before its request fails (bad attributes, a deleted case, a file given to
/// a value type, a duplicate) leaves no file behind: the request discards what no record took.
#[tokio::test]
async fn failed_uploads_leave_no_file() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let form = |json: Value, content: &[u8]| {
        reqwest::multipart::Form::new()
            .text("_json", json.to_string())
            .part("attachment", reqwest::multipart::Part::bytes(content.to_vec()).file_name("x.txt").mime_str("text/plain").unwrap())
    };
    let send = |path: String, f: reqwest::multipart::Form| {
        let (admin, s) = (&admin, &s);
        async move { json(admin.post(s.url(&path)).multipart(f).send().await.unwrap()).await }
    };
    let (_, case) = post(&admin, &s, "/api/case", json!({"title": "Uploads", "description": "d"})).await;
    let case_id = case["id"].as_str().unwrap().to_string();
    let (st, task) = post(&admin, &s, &format!("/api/case/{case_id}/task"), json!({"title": "Collect"})).await;
    assert_eq!(st, StatusCode::CREATED, "{task}");
    let task_id = task["id"].as_str().unwrap().to_string();
    let (_, alert_v) = post(&admin, &s, "/api/alert", alert("feed", "U-1", json!([]))).await;
    let alert_id = alert_v["id"].as_str().unwrap().to_string();
    let before = stored(s.dir.path());

    let (st, v) = send(format!("/api/case/task/{task_id}/log"), form(json!({"message": "m", "nope": 1}), b"log with a bad attribute")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = send(format!("/api/case/{case_id}/artifact"), form(json!({"dataType": "ip"}), b"a file for a value type")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = send(format!("/api/case/{case_id}/artifact"), form(json!({"dataType": "file", "nope": 1}), b"observable with a bad attribute")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = send(format!("/api/alert/{alert_id}/artifact"), form(json!({"dataType": "file", "nope": 1}), b"alert file with a bad attribute")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(stored(s.dir.path()), before, "nothing kept from refused uploads");

    // A duplicate file in a case: refused, the content kept once (the first record holds it).
    let (st, v) = send(format!("/api/case/{case_id}/artifact"), form(json!({"dataType": "file"}), b"sample")).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let with_sample = stored(s.dir.path());
    assert_eq!(with_sample.len(), before.len() + 1);
    let (st, v) = send(format!("/api/case/{case_id}/artifact"), form(json!({"dataType": "file"}), b"sample")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(stored(s.dir.path()), with_sample);

    // A log on a task of a deleted case.
    assert_eq!(call(&admin, reqwest::Method::DELETE, &s, &format!("/api/case/{case_id}"), None).await.0, StatusCode::NO_CONTENT);
    let (st, v) = send(format!("/api/case/task/{task_id}/log"), form(json!({"message": "late"}), b"log on a deleted case")).await;
    assert!(st.is_client_error(), "{st} {v}");
    assert_eq!(stored(s.dir.path()), with_sample, "nothing kept from a log the deleted case refused");
    s.stop().await;
}

/// A new alert's duplicate check asks the statistics index's alert keys first (no query for a
/// key it does not know); the index lags the database by a poll of the change feed, so a
/// duplicate it does not know yet must still be refused (by the unique index when the batch is
/// written, then created alone and looked up in the database), or upserted.
#[tokio::test]
async fn duplicates_are_caught_whether_the_alert_key_index_knows_them_or_not() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let st = state(&s);
    while !st.stats.is_ready() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let org = waggle::domain::identity::org::by_name(&st.store, "soc").await.unwrap().unwrap().id;
    let may_exist = |r: &str| st.stats.read().alert_may_exist(&org, waggle::core::stats::values::alert_key("external", "feed", r));

    // Right after its creation the index does not know the alert yet (a poll is 250 ms).
    let mut lagging = 0;
    for i in 0..3 {
        let body = alert("feed", &format!("F-{i}"), json!([{"dataType": "ip", "data": "10.9.9.9"}]));
        let (code, created) = post(&admin, &s, "/api/alert", body.clone()).await;
        assert_eq!(code, StatusCode::CREATED, "{created}");
        lagging += usize::from(may_exist(&format!("F-{i}")) == Some(false));
        let (code, v) = post(&admin, &s, "/api/alert", body.clone()).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{v}");
        assert_error(&v, "ConflictError");
        assert_eq!(v["object"]["_id"], created["_id"], "the existing alert is answered");
        let (code, v) = post(&admin, &s, "/api/alert?upsert=true", body).await;
        assert_eq!((code, v["occurrences"].as_i64(), &v["_id"]), (StatusCode::OK, Some(2), &created["_id"]), "{v}");
    }
    assert!(lagging > 0, "the duplicates were sent before the index knew their alerts");

    // Once the index has caught up it knows them: the same answers, through the database.
    st.stats.catch_up().await.unwrap();
    assert_eq!(may_exist("F-0"), Some(true));
    assert_eq!(may_exist("never-sent"), Some(false));
    let body = alert("feed", "F-0", json!([]));
    let (code, v) = post(&admin, &s, "/api/alert", body.clone()).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{v}");
    assert_error(&v, "ConflictError");
    let (code, v) = post(&admin, &s, "/api/alert?upsert=true", body.clone()).await;
    assert_eq!((code, v["occurrences"].as_i64()), (StatusCode::OK, Some(3)), "{v}");

    // A deleted alert's key is forgotten: the alert can be created again.
    let id = v["_id"].as_str().unwrap().to_string();
    let r = admin.delete(s.url(&format!("/api/alert/{id}"))).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    st.stats.catch_up().await.unwrap();
    assert_eq!(may_exist("F-0"), Some(false));
    let (code, v) = post(&admin, &s, "/api/alert", body).await;
    assert_eq!(code, StatusCode::CREATED, "{v}");

    // Keys are per organisation: another one's alert with the same key is its own.
    let other = s.acme_admin().await;
    let (code, v) = post(&other, &s, "/api/alert", alert("feed", "F-1", json!([]))).await;
    assert_eq!(code, StatusCode::CREATED, "{v}");
    st.stats.catch_up().await.unwrap();
    let acme = waggle::domain::identity::org::by_name(&st.store, "acme").await.unwrap().unwrap().id;
    assert_eq!(st.stats.read().alert_may_exist(&acme, waggle::core::stats::values::alert_key("external", "feed", "F-2")), Some(false));
    assert_eq!(st.stats.read().alert_may_exist(&acme, waggle::core::stats::values::alert_key("external", "feed", "F-1")), Some(true));
}
