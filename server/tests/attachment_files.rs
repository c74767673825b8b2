//! The attachment store keeps no orphan: files of failed alert transactions and failed uploads
//! are discarded, and the start sweep removes only old files nothing holds.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, SystemTime};

use base64::Engine;
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;

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
