//! Case management through TheHive's v0 API, against a real server on 127.0.0.1: cases, tasks,
//! logs, observables, attachments, templates, lists, search, merge, links, audit, isolation.

mod common;

use common::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};


async fn delete(c: &Client, s: &TestServer, path: &str) -> StatusCode {
    c.delete(s.url(path)).send().await.unwrap().status()
}

async fn new_case(c: &Client, s: &TestServer, body: Value) -> Value {
    let (st, v) = post(c, s, "/api/case", body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_string()
}

/// A user of `soc` with `profile`, signed in.
async fn soc_user(s: &TestServer, admin: &Client, login: &str, profile: &str) -> Client {
    s.create_user(admin, json!({"login": login, "name": login, "password": "user-password-1", "profile": profile})).await;
    s.session(login, "user-password-1").await
}

#[tokio::test]
async fn cases_defaults_numbers_updates_and_bad_inputs() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let c1 = new_case(&admin, &s, json!({"title": "  Phishing wave ", "description": "Mails to finance"})).await;
    assert_eq!(c1["title"], "Phishing wave");
    assert_eq!(c1["caseId"], 1);
    assert_eq!(c1["severity"], 2);
    assert_eq!(c1["tlp"], 2);
    assert_eq!(c1["pap"], 2);
    assert_eq!(c1["status"], "Open");
    assert_eq!(c1["owner"], ADMIN);
    assert_eq!(c1["flag"], false);
    assert_eq!(c1["_type"], "case");
    assert_eq!(c1["_id"], c1["id"]);
    assert_eq!(c1["createdBy"], ADMIN);
    assert!(c1["startDate"].as_i64().unwrap() > 0);
    let c2 = new_case(&admin, &s, json!({"title": "Second", "description": "d", "severity": 4, "tlp": 3, "pap": 0, "tags": ["a", "b", "a"], "flag": true})).await;
    assert_eq!(c2["caseId"], 2);
    assert_eq!(c2["tags"], json!(["a", "b"]));

    // By id and by number.
    let (st, v) = get(&admin, &s, &format!("/api/case/{}", id(&c1))).await;
    assert_eq!((st, v["caseId"].clone()), (StatusCode::OK, json!(1)));
    let (st, v) = get(&admin, &s, "/api/case/2").await;
    assert_eq!((st, v["title"].clone()), (StatusCode::OK, json!("Second")));

    // Bad inputs: each is a 400 in TheHive's shape.
    for (body, kind, what) in [
        (json!({"title": "x", "description": "d", "colour": "red"}), "AttributeCheckingError", "unknown attribute"),
        (json!({"title": "x", "description": "d", "tlp": 7}), "AttributeCheckingError", "TLP 7"),
        (json!({"title": "x", "description": "d", "tlp": "red"}), "AttributeCheckingError", "wrong type"),
        (json!({"title": "x", "description": "d", "severity": 0}), "AttributeCheckingError", "severity 0"),
        (json!({"title": "   ", "description": "d"}), "AttributeCheckingError", "empty title"),
        (json!({"description": "d"}), "AttributeCheckingError", "no title"),
        (json!({"title": "x"}), "AttributeCheckingError", "no description"),
        (json!({"title": "x", "description": "d", "owner": "nobody@nowhere"}), "AttributeCheckingError", "unknown owner"),
        (json!({"title": "x", "description": "d", "tasks": [{"title": "t", "colour": 1}]}), "AttributeCheckingError", "unknown task attribute"),
        (json!({"title": "x", "description": "d", "tags": "notalist"}), "AttributeCheckingError", "tags not a list"),
        (json!({"title": "x", "description": "d", "customFields": {"a": {"colour": 1}}}), "AttributeCheckingError", "bad custom field"),
    ] {
        let (st, v) = post(&admin, &s, "/api/case", body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{what}: {v}");
        assert_error(&v, kind);
    }
    let (st, v) = post(&admin, &s, "/api/case", json!({"title": "x", "description": "d", "template": "No such template"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert_error(&v, "NotFoundError");
    let (all, _) = search(&admin, &s, "/api/case/_search", json!({})).await;
    assert_eq!(all, 2, "nothing half-written by refused requests");

    // Update: only the given fields; mass assignment refused; nothing else changes.
    let (st, v) = patch(&admin, &s, &format!("/api/case/{}", id(&c1)), json!({"title": "Renamed", "severity": 3, "tags": ["x"], "customFields": {}})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!((v["title"].clone(), v["severity"].clone(), v["tags"].clone()), (json!("Renamed"), json!(3), json!(["x"])));
    assert_eq!(v["updatedBy"], ADMIN);
    for body in [json!({"caseId": 99}), json!({"createdBy": "eve"}), json!({"org": "other"}), json!({"mergeInto": "x"}), json!({"id": "x"})] {
        let (st, v) = patch(&admin, &s, &format!("/api/case/{}", id(&c1)), body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_error(&v, "AttributeCheckingError");
    }
    let (st, v) = patch(&admin, &s, &format!("/api/case/{}", id(&c1)), json!({"tlp": 9})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (_, v) = get(&admin, &s, &format!("/api/case/{}", id(&c1))).await;
    assert_eq!(v["caseId"], 1);
    assert_eq!(v["tlp"], 2);
    // Nulls mean "not given".
    let (st, v) = patch(&admin, &s, &format!("/api/case/{}", id(&c1)), json!({"title": null, "owner": null, "flag": true})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!((v["title"].clone(), v["owner"].clone(), v["flag"].clone()), (json!("Renamed"), json!(ADMIN), json!(true)));
    let (st, _) = get(&admin, &s, "/api/case/does-not-exist").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn thehive4py_full_objects_with_nulls_are_accepted() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    // What thehive4py 1.8.2's Case(...).jsonify(excludes=['id']) sends.
    let body = json!({
        "customFields": {}, "description": "From a script", "flag": false, "metrics": {}, "owner": null, "pap": 2,
        "severity": 2, "startDate": 1700000000000i64, "tags": ["script"], "template": null, "title": "Scripted", "tlp": 2,
        "tasks": [{"id": null, "title": "Triage", "status": "Waiting", "flag": false, "description": null, "owner": null, "startDate": null, "group": null}]
    });
    let c = new_case(&admin, &s, body).await;
    assert_eq!(c["startDate"], 1700000000000i64);
    let (total, tasks) = search(&admin, &s, "/api/case/task/_search", json!({"_parent": {"_type": "case", "_query": {"_id": id(&c)}}})).await;
    assert_eq!(total, 1);
    assert_eq!(tasks[0]["title"], "Triage");
    assert_eq!(tasks[0]["group"], "default");
    assert_eq!(tasks[0]["_parent"], c["id"]);
    s.stop().await;
}

#[tokio::test]
async fn closing_reopening_deleting() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let c = new_case(&admin, &s, json!({"title": "To close", "description": "d", "tasks": [{"title": "A"}, {"title": "B"}]})).await;
    let cid = id(&c);
    let (_, tasks) = search(&admin, &s, "/api/case/task/_search", json!({"_parent": {"_type": "case", "_id": cid}})).await;
    let a = tasks.iter().find(|t| t["title"] == "A").unwrap();
    let (st, v) = patch(&admin, &s, &format!("/api/case/task/{}", id(a)), json!({"status": "InProgress"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = patch(&admin, &s, &format!("/api/case/{cid}"), json!({"status": "Resolved", "resolutionStatus": "TruePositive", "impactStatus": "WithImpact", "summary": "Contained"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "Resolved");
    assert!(v["endDate"].as_i64().is_some());
    let (_, tasks) = search(&admin, &s, "/api/case/task/_search", json!({"_parent": {"_type": "case", "_id": cid}})).await;
    for t in &tasks {
        let want = if t["title"] == "A" { "Completed" } else { "Cancel" };
        assert_eq!(t["status"], want, "closing the case closes its open tasks: {t}");
        assert!(t["endDate"].as_i64().is_some());
    }
    let (st, v) = get(&admin, &s, &format!("/api/case/{cid}?nstats=true")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["stats"]["tasks"]["total"], 2);
    assert_eq!(v["stats"]["tasks"]["Completed"], 1);
    // Reopen clears the end date.
    let (_, v) = patch(&admin, &s, &format!("/api/case/{cid}"), json!({"status": "Open"})).await;
    assert_eq!(v["status"], "Open");
    assert!(v["endDate"].is_null());
    let (st, v) = patch(&admin, &s, &format!("/api/case/{cid}"), json!({"status": "Deleted"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    // Soft delete: readable, no longer changeable.
    assert_eq!(delete(&admin, &s, &format!("/api/case/{cid}")).await, StatusCode::NO_CONTENT);
    let (_, v) = get(&admin, &s, &format!("/api/case/{cid}")).await;
    assert_eq!(v["status"], "Deleted");
    let (st, v) = patch(&admin, &s, &format!("/api/case/{cid}"), json!({"title": "again"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, _) = post(&admin, &s, &format!("/api/case/{cid}/task"), json!({"title": "late"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // Observables: the check runs in the writing transaction (by id) or before it (by number).
    let number = c["caseId"].as_i64().unwrap();
    for path in [format!("/api/case/{cid}/artifact"), format!("/api/case/{number}/artifact")] {
        let (st, v) = post(&admin, &s, &path, json!({"dataType": "ip", "data": ["198.51.100.1", "198.51.100.2"]})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path}: {v}");
        assert_eq!(v["type"], "BadRequest", "{v}");
        assert_eq!(v["message"], format!("Case #{number} is deleted: it cannot change"), "{v}");
    }
    let (_, obs) = search(&admin, &s, "/api/case/artifact/_search", json!({"_parent": {"_type": "case", "_id": cid}})).await;
    assert!(obs.is_empty(), "nothing written to a deleted case: {obs:?}");
    // Forced delete: gone, with its tasks.
    assert_eq!(delete(&admin, &s, &format!("/api/case/{cid}/force")).await, StatusCode::NO_CONTENT);
    let (st, _) = get(&admin, &s, &format!("/api/case/{cid}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (total, _) = search(&admin, &s, "/api/case/task/_search", json!({"_parent": {"_type": "case", "_id": cid}})).await;
    assert_eq!(total, 0);
    assert_eq!(delete(&admin, &s, &format!("/api/case/{cid}/force")).await, StatusCode::NOT_FOUND);
    let (st, v) = post(&admin, &s, &format!("/api/case/{cid}/artifact"), json!({"dataType": "ip", "data": "198.51.100.3"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["type"], "NotFoundError", "{v}");
    assert_eq!(v["message"], format!("case {cid} not found"), "{v}");
    // An open case takes observables by id and by number.
    let open = new_case(&admin, &s, json!({"title": "Still open", "description": "d"})).await;
    let (st, v) = post(&admin, &s, &format!("/api/case/{}/artifact", open["caseId"]), json!({"dataType": "ip", "data": "198.51.100.4"})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["case"], open["id"], "{v}");
    s.stop().await;
}

#[tokio::test]
async fn tasks_and_logs_with_attachments() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let c = new_case(&admin, &s, json!({"title": "Tasks", "description": "d"})).await;
    let (st, t) = post(&admin, &s, &format!("/api/case/{}/task", id(&c)), json!({"title": "Contain", "group": "Response", "order": 2, "dueDate": 1900000000000i64})).await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    assert_eq!((t["status"].clone(), t["group"].clone(), t["order"].clone()), (json!("Waiting"), json!("Response"), json!(2)));
    assert!(t["owner"].is_null());
    let tid = id(&t);
    let (st, v) = post(&admin, &s, &format!("/api/case/{}/task", id(&c)), json!({"title": ""})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = post(&admin, &s, &format!("/api/case/{}/task", id(&c)), json!({"title": "x", "status": "Sleeping"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");

    // A log on a waiting task starts it and gives it to its author.
    let (st, l) = post(&admin, &s, &format!("/api/case/task/{tid}/log"), json!({"message": "Blocked the sender **domain**"})).await;
    assert_eq!(st, StatusCode::CREATED, "{l}");
    assert_eq!(l["_type"], "case_task_log");
    assert_eq!(l["owner"], ADMIN);
    let (_, t2) = get(&admin, &s, &format!("/api/case/task/{tid}")).await;
    assert_eq!(t2["status"], "InProgress");
    assert_eq!(t2["owner"], ADMIN);
    assert!(t2["startDate"].as_i64().is_some());
    let (st, v) = post(&admin, &s, &format!("/api/case/task/{tid}/log"), json!({"message": "  "})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");

    // Multipart log with an attachment whose name tries to escape.
    let form = reqwest::multipart::Form::new()
        .text("_json", json!({"message": "Mail headers attached"}).to_string())
        .part("attachment", reqwest::multipart::Part::bytes(b"Received: from evil\r\n".to_vec()).file_name("../../../etc/headers.txt").mime_str("text/plain").unwrap());
    let (st, l2) = json(admin.post(s.url(&format!("/api/case/task/{tid}/log"))).multipart(form).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::CREATED, "{l2}");
    let att = &l2["attachment"];
    assert_eq!(att["name"], "headers.txt");
    assert_eq!(att["size"], 21);
    assert_eq!(att["contentType"], "text/plain");
    let hashes: Vec<&str> = att["hashes"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect();
    assert_eq!(hashes.len(), 3);
    assert_eq!(hashes[0].len(), 64);
    assert_eq!(hashes[1].len(), 40);
    assert_eq!(hashes[2].len(), 32);
    assert_eq!(att["id"], hashes[0]);
    // Stored under the data directory by hash only; nothing outside.
    let store = s.dir.path().join("attachments");
    let blob = store.join(&hashes[0][0..2]).join(&hashes[0][2..4]).join(hashes[0]);
    assert!(blob.exists());
    assert!(!s.dir.path().join("etc").exists());
    let r = admin.get(s.url(&format!("/api/datastore/{}", hashes[0]))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/octet-stream");
    assert!(h["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"headers.txt\""));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-security-policy"].to_str().unwrap().contains("sandbox"));
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"Received: from evil\r\n");

    // Logs of the task, newest first; update and delete.
    let r = admin.get(s.url(&format!("/api/case/task/{tid}/log"))).send().await.unwrap();
    assert_eq!(r.headers()["x-total"], "2");
    let logs: Vec<Value> = r.json().await.unwrap();
    assert_eq!(logs[0]["id"], l2["id"]);
    let (st, v) = patch(&admin, &s, &format!("/api/case/task/log/{}", id(&l)), json!({"message": "Blocked the sender domain and IP"})).await;
    assert_eq!((st, v["message"].clone()), (StatusCode::OK, json!("Blocked the sender domain and IP")));
    assert_eq!(delete(&admin, &s, &format!("/api/case/task/log/{}", id(&l))).await, StatusCode::NO_CONTENT);
    let (_, v) = get(&admin, &s, &format!("/api/case/task/log/{}", id(&l))).await;
    assert_eq!(v["status"], "Deleted");
    let (total, found) = search(&admin, &s, "/api/case/task/log/_search", json!({"_parent": {"_type": "case_task", "_id": tid}, "status": "Ok"})).await;
    assert_eq!(total, 1);
    assert_eq!(found[0]["id"], l2["id"]);

    // Task updates: `user` is the owner; completing stamps the end date.
    let (st, v) = patch(&admin, &s, &format!("/api/case/task/{tid}"), json!({"user": "", "status": "Completed"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["owner"].is_null());
    assert!(v["endDate"].as_i64().is_some());
    let (st, v) = patch(&admin, &s, &format!("/api/case/task/{tid}"), json!({"status": "Waiting"})).await;
    assert_eq!(st, StatusCode::OK);
    assert!(v["endDate"].is_null());
    let (st, v) = patch(&admin, &s, &format!("/api/case/task/{tid}"), json!({"case": "other"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    // nparent gives each task its case.
    let r = admin.post(s.url("/api/case/task/_search")).query(&[("nparent", "1")]).json(&json!({"query": {"title": "Contain"}})).send().await.unwrap();
    let list: Vec<Value> = r.json().await.unwrap();
    assert_eq!(list[0]["case"]["id"], c["id"]);
    s.stop().await;
}

#[tokio::test]
async fn oversized_attachments_are_refused_before_anything_is_written() {
    let s = TestServer::start_with(|st| st.max_body_bytes = 64 * 1024).await;
    let admin = s.admin_session().await;
    let c = new_case(&admin, &s, json!({"title": "Big", "description": "d"})).await;
    let (_, t) = post(&admin, &s, &format!("/api/case/{}/task", id(&c)), json!({"title": "t"})).await;
    for path in [format!("/api/case/task/{}/log", id(&t)), format!("/api/case/{}/artifact", id(&c))] {
        let form = reqwest::multipart::Form::new()
            .text("_json", json!({"message": "big", "dataType": "file"}).to_string())
            .part("attachment", reqwest::multipart::Part::bytes(vec![b'x'; 200 * 1024]).file_name("big.bin"));
        let (st, v) = json(admin.post(s.url(&path)).multipart(form).send().await.unwrap()).await;
        assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {v}");
        assert_error(&v, "RequestEntityTooLarge");
    }
    // Nothing stored, not even a temporary file.
    let root = s.dir.path().join("attachments");
    let files: Vec<_> = walk(&root);
    assert!(files.is_empty(), "{files:?}");
    let (total, _) = search(&admin, &s, "/api/case/artifact/_search", json!({})).await;
    assert_eq!(total, 0);
    s.stop().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn observables_values_files_conflicts_seen_and_bulk() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let a = new_case(&admin, &s, json!({"title": "A", "description": "d"})).await;
    let b = new_case(&admin, &s, json!({"title": "B", "description": "d"})).await;
    let (aid, bid) = (id(&a), id(&b));
    // The default data types, autonomous-system included.
    let (_, types) = get(&admin, &s, "/api/list/list_artifactDataType").await;
    let names: Vec<&str> = types.as_object().unwrap().values().map(|v| v.as_str().unwrap()).collect();
    for t in ["autonomous-system", "domain", "file", "filename", "fqdn", "hash", "ip", "mail", "mail_subject", "other", "regexp", "registry", "uri_path", "url", "user-agent"] {
        assert!(names.contains(&t), "{t} in {names:?}");
    }

    let (st, o) = post(&admin, &s, &format!("/api/case/{aid}/artifact"), json!({"dataType": "ip", "data": "10.0.0.1", "message": "C2", "tlp": 3, "tags": ["c2"], "ioc": true})).await;
    assert_eq!(st, StatusCode::CREATED, "{o}");
    assert_eq!((o["_type"].clone(), o["ioc"].clone(), o["sighted"].clone(), o["tlp"].clone()), (json!("case_artifact"), json!(true), json!(false), json!(3)));
    // The same value twice in a case: a conflict that names it.
    let (st, v) = post(&admin, &s, &format!("/api/case/{aid}/artifact"), json!({"dataType": "ip", "data": "10.0.0.1"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_error(&v, "ConflictError");
    assert!(v["message"].as_str().unwrap().contains("10.0.0.1"));
    assert_eq!(v["object"]["id"], o["id"]);
    // Bulk add: one value per line; the known one fails alone.
    let (st, v) = post(&admin, &s, &format!("/api/case/{aid}/artifact"), json!({"dataType": "ip", "data": ["10.0.0.2", "10.0.0.1", "10.0.0.3"], "tags": ["scan"]})).await;
    assert_eq!(st, StatusCode::MULTI_STATUS, "{v}");
    assert_eq!(v["success"].as_array().unwrap().len(), 2);
    assert_eq!(v["failure"][0]["type"], "ConflictError");
    let (st, v) = post(&admin, &s, &format!("/api/case/{aid}/artifact"), json!({"dataType": "domain", "data": ["a.example", "b.example"]})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 2);
    for (body, kind) in [
        (json!({"dataType": "colour", "data": "red"}), "AttributeCheckingError"),
        (json!({"dataType": "ip"}), "AttributeCheckingError"),
        (json!({"dataType": "ip", "data": "  "}), "AttributeCheckingError"),
        (json!({"dataType": "ip", "data": "1.1.1.1", "tlp": 7}), "AttributeCheckingError"),
        (json!({"dataType": "ip", "data": "1.1.1.1", "colour": 1}), "AttributeCheckingError"),
        (json!({"dataType": "ip", "data": 12}), "AttributeCheckingError"),
        (json!({"dataType": "file", "data": "not a file"}), "AttributeCheckingError"),
    ] {
        let (st, v) = post(&admin, &s, &format!("/api/case/{aid}/artifact"), body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_error(&v, kind);
    }

    // Seen in other cases.
    let (_, ob) = post(&admin, &s, &format!("/api/case/{bid}/artifact"), json!({"dataType": "ip", "data": "10.0.0.1"})).await;
    let (_, v) = get(&admin, &s, &format!("/api/case/artifact/{}", id(&o))).await;
    assert_eq!(v["seen"], 1, "{v}");
    let r = admin.post(s.url("/api/case/artifact/_search")).query(&[("nstats", "true"), ("range", "all")]).json(&json!({"query": {"_parent": {"_type": "case", "_id": aid}}})).send().await.unwrap();
    assert_eq!(r.headers()["x-total"], "5");
    let list: Vec<Value> = r.json().await.unwrap();
    let seen: Vec<(String, u64)> = list.iter().map(|x| (x["data"].as_str().unwrap().to_string(), x["seen"].as_u64().unwrap())).collect();
    assert!(seen.contains(&("10.0.0.1".into(), 1)) && seen.contains(&("10.0.0.2".into(), 0)), "{seen:?}");
    let (st, sim) = get(&admin, &s, &format!("/api/case/artifact/{}/similar", id(&o))).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(sim[0]["id"], ob["id"]);
    assert_eq!(sim[0]["case"]["id"], b["id"]);
    // Lookup by value across all cases.
    let (total, _) = search(&admin, &s, "/api/case/artifact/_search", json!({"dataType": "ip", "data": "10.0.0.1"})).await;
    assert_eq!(total, 2);

    // Update and bulk update.
    let (st, v) = patch(&admin, &s, &format!("/api/case/artifact/{}", id(&o)), json!({"sighted": true, "tlp": 1, "message": "seen on the proxy"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!((v["sighted"].clone(), v["tlp"].clone()), (json!(true), json!(1)));
    let (st, v) = patch(&admin, &s, &format!("/api/case/artifact/{}", id(&o)), json!({"data": "10.9.9.9"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "the value of an observable never changes: {v}");
    let (_, domains) = search(&admin, &s, "/api/case/artifact/_search", json!({"dataType": "domain"})).await;
    let ids: Vec<String> = domains.iter().map(id).collect();
    let (st, v) = patch(&admin, &s, "/api/case/artifact/_bulk", json!({"ids": ids, "ioc": true})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v.as_array().unwrap().iter().all(|x| x["ioc"] == true));
    let (st, v) = patch(&admin, &s, "/api/case/artifact/_bulk", json!({"ids": [ids[0], "nope"], "sighted": true})).await;
    assert_eq!(st, StatusCode::MULTI_STATUS, "{v}");
    assert_eq!(v["failure"][0]["type"], "NotFoundError");

    // A file observable (multipart answers a list); download plain and zipped.
    let content = b"MZ\x90\x00fake sample".to_vec();
    let form = reqwest::multipart::Form::new()
        .text("_json", json!({"dataType": "file", "message": "sample", "tlp": 2, "tags": ["malware"], "ioc": true, "sighted": false}).to_string())
        .part("attachment", reqwest::multipart::Part::bytes(content.clone()).file_name("invoice.exe").mime_str("application/x-msdownload").unwrap());
    let (st, v) = json(admin.post(s.url(&format!("/api/case/{aid}/artifact"))).multipart(form).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let file = &v[0];
    assert_eq!(file["attachment"]["name"], "invoice.exe");
    assert!(file["data"].is_null());
    let sha = file["attachment"]["id"].as_str().unwrap().to_string();
    // The same file again in the case: a conflict.
    let form = reqwest::multipart::Form::new()
        .text("_json", json!({"dataType": "file"}).to_string())
        .part("attachment", reqwest::multipart::Part::bytes(content.clone()).file_name("copy.exe"));
    let (st, v) = json(admin.post(s.url(&format!("/api/case/{aid}/artifact"))).multipart(form).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_error(&v, "ConflictError");
    // A value type given a file is refused.
    let form = reqwest::multipart::Form::new()
        .text("_json", json!({"dataType": "ip"}).to_string())
        .part("attachment", reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x"));
    let (st, _) = json(admin.post(s.url(&format!("/api/case/{aid}/artifact"))).multipart(form).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let r = admin.get(s.url(&format!("/api/datastorezip/{sha}?name=invoice.exe"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("invoice.exe.zip"));
    let len: usize = r.headers()["content-length"].to_str().unwrap().parse().unwrap();
    let zipped = r.bytes().await.unwrap();
    assert_eq!(zipped.len(), len);
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(zipped.to_vec())).unwrap();
    let mut f = z.by_index_decrypt(0, b"malware").unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut f, &mut out).unwrap();
    assert_eq!(out, content);
    // Inline files as alerts carry them: name;content-type;base64.
    use base64::Engine;
    let inline = format!("note.txt;text/plain;{}", base64::engine::general_purpose::STANDARD.encode(b"inline content"));
    let (st, v) = post(&admin, &s, &format!("/api/case/{bid}/artifact"), json!({"dataType": "file", "data": inline})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["attachment"]["size"], 14);
    for bad in ["0123", "..%2F..%2Fetc%2Fpasswd", &"A".repeat(64)] {
        let (st, _) = get(&admin, &s, &format!("/api/datastore/{bad}")).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{bad}");
    }

    // Delete.
    assert_eq!(delete(&admin, &s, &format!("/api/case/artifact/{}", id(&o))).await, StatusCode::NO_CONTENT);
    let (st, _) = get(&admin, &s, &format!("/api/case/artifact/{}", id(&o))).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // After the deletion the value can come back.
    let (st, _) = post(&admin, &s, &format!("/api/case/{aid}/artifact"), json!({"dataType": "ip", "data": "10.0.0.1"})).await;
    assert_eq!(st, StatusCode::CREATED);
    s.stop().await;
}

#[tokio::test]
async fn search_operators_sort_range_and_errors() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    for (i, (title, sev, tags)) in [("Alpha phishing", 1, vec!["mail"]), ("Beta ransomware", 4, vec!["crypto", "mail"]), ("Gamma scan", 2, vec![]), ("Delta phishing", 3, vec!["mail"])].iter().enumerate() {
        let c = new_case(&admin, &s, json!({"title": title, "description": format!("case {i}"), "severity": sev, "tags": tags})).await;
        if i == 1 {
            post(&admin, &s, &format!("/api/case/{}/artifact", id(&c)), json!({"dataType": "domain", "data": "evil.example", "ioc": true})).await;
        }
    }
    let titles = |list: &[Value]| list.iter().map(|c| c["title"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let cases: Vec<(Value, u64)> = vec![
        (json!({"_and": [{"status": "Open"}, {"_gte": {"severity": 3}}]}), 2),
        (json!({"_or": [{"severity": 1}, {"severity": 2}]}), 2),
        (json!({"_not": {"tags": "mail"}}), 1),
        (json!({"_field": "tags", "_value": "crypto"}), 1),
        (json!({"_gt": {"severity": 3}}), 1),
        (json!({"_lt": {"severity": 2}}), 1),
        (json!({"_lte": {"severity": 2}}), 2),
        (json!({"_between": {"_field": "severity", "_from": 2, "_to": 4}}), 2),
        (json!({"_in": {"_field": "severity", "_values": [1, 4]}}), 2),
        (json!({"_contains": "owner"}), 4),
        (json!({"_contains": "summary"}), 0),
        (json!({"_like": {"_field": "title", "_value": "phish"}}), 2),
        (json!({"_like": {"_field": "title", "_value": "*ransom*"}}), 1),
        (json!({"_wildcard": {"_field": "title", "_value": "*phishing"}}), 2),
        (json!({"_wildcard": {"_field": "title", "_value": "Gam?a*"}}), 1),
        (json!({"_string": "title:phishing AND severity:3"}), 1),
        (json!({"_string": "ransomware OR scan"}), 2),
        (json!({"_child": {"_type": "case_artifact", "_query": {"_and": [{"dataType": "domain"}, {"ioc": true}]}}}), 1),
        (json!({"_and": [[{"_field": "status", "_value": "Open"}, {"_field": "flag", "_value": false}]]}), 4),
        (json!({"_any": null}), 4),
        (json!({}), 4),
    ];
    for (q, n) in cases {
        let (total, list) = search(&admin, &s, "/api/case/_search", q.clone()).await;
        assert_eq!((total, list.len() as u64), (n, n), "{q} -> {:?}", titles(&list));
    }
    let (_, one) = search(&admin, &s, "/api/case/_search", json!({"title": "Gamma scan"})).await;
    let (total, _) = search(&admin, &s, "/api/case/_search", json!({"_id": id(&one[0])})).await;
    assert_eq!(total, 1);
    let (total, _) = search(&admin, &s, "/api/case/artifact/_search", json!({"_parent": {"_type": "case", "_query": {"title": "Beta ransomware"}}})).await;
    assert_eq!(total, 1);

    // Sort (repeated) and range (end exclusive), X-Total is the full count.
    let r = admin.post(s.url("/api/case/_search?sort=-severity&sort=%2Btitle&range=1-3")).json(&json!({"query": {}})).send().await.unwrap();
    assert_eq!(r.headers()["x-total"], "4");
    let list: Vec<Value> = r.json().await.unwrap();
    assert_eq!(titles(&list), vec!["Delta phishing", "Gamma scan"]);
    let r = admin.post(s.url("/api/case/_search")).json(&json!({"query": {}, "sort": ["+severity"], "range": "0-1"})).send().await.unwrap();
    let list: Vec<Value> = r.json().await.unwrap();
    assert_eq!(titles(&list), vec!["Alpha phishing"]);
    let r = admin.post(s.url("/api/case/_search?range=0-1")).json(&json!({})).send().await.unwrap();
    assert_eq!(r.headers()["x-total"], "4", "a full first page is counted");
    assert_eq!(r.json::<Vec<Value>>().await.unwrap().len(), 1);
    let r = admin.post(s.url("/api/case/_search?range=0-10")).json(&json!({"query": {"_like": {"_field": "title", "_value": "scan"}}})).send().await.unwrap();
    assert_eq!(r.headers()["x-total"], "1", "a short first page counts its items");
    let r = admin.post(s.url("/api/case/_search")).query(&[("nstats", "true")]).json(&json!({"query": {"title": "Beta ransomware"}})).send().await.unwrap();
    let list: Vec<Value> = r.json().await.unwrap();
    assert_eq!(list[0]["stats"]["artifacts"]["count"], 1);

    // Invalid queries say what is wrong.
    for (q, says) in [
        (json!({"_foo": {"a": 1}}), "Unknown operator _foo"),
        (json!({"colour": "red"}), "Unknown field colour"),
        (json!({"_gt": 3}), "_gt"),
        (json!({"severity": "high"}), "severity"),
        (json!({"_parent": {"_type": "alert", "_id": "x"}}), "alert"),
        (json!({"_string": "\"unbalanced"}), "quote"),
    ] {
        let (st, v) = post(&admin, &s, "/api/case/_search", json!({"query": q})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{q}: {v}");
        assert_error(&v, "SearchError");
        assert!(v["message"].as_str().unwrap().contains(says), "{q}: {v}");
    }
    let (st, v) = post(&admin, &s, "/api/case/_search?sort=-colour", json!({})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = post(&admin, &s, "/api/case/_search?range=5-1", json!({})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    // Other entities have their own fields.
    let (st, v) = post(&admin, &s, "/api/case/task/_search", json!({"query": {"dataType": "ip"}})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    s.stop().await;
}

#[tokio::test]
async fn templates_import_apply_export() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/thehive3/case-templates");
    let mut names = Vec::new();
    for e in std::fs::read_dir(&dir).expect("fixtures").flatten() {
        let bytes = std::fs::read(e.path()).unwrap();
        let file: Value = serde_json::from_slice(&bytes).unwrap();
        // Unchanged: the file as TheHive 3 exported it.
        let (st, v) = json(admin.post(s.url("/api/case/template")).header("content-type", "application/json").body(bytes).send().await.unwrap()).await;
        assert_eq!(st, StatusCode::CREATED, "{}: {v}", e.path().display());
        assert_eq!(v["name"], file["name"]);
        assert_eq!(v["tasks"].as_array().unwrap().len(), file["tasks"].as_array().unwrap().len());
        names.push(file["name"].as_str().unwrap().to_string());
    }
    assert_eq!(names.len(), 5);
    // thehive4py's get_case_template(name) query.
    let (total, found) = search(&admin, &s, "/api/case/template/_search", json!({"_and": [{"_field": "name", "_value": "Phishing Email"}, {"_field": "status", "_value": "Ok"}]})).await;
    assert_eq!(total, 1);
    let tpl = &found[0];
    assert_eq!(tpl["titlePrefix"], "EMAIL");
    // The same name again: a conflict; the import endpoint takes the file as an upload.
    let phishing = std::fs::read(dir.join("Case-Template__Phishing_Email.json")).unwrap();
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(phishing.clone()).file_name("Case-Template__Phishing_Email.json"));
    let (st, v) = json(admin.post(s.url("/api/case/template/_import")).multipart(form).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_error(&v, "ConflictError");

    // A case from the template: prefix, tags merged, tasks with their groups, values given win.
    let c = new_case(&admin, &s, json!({"title": "Invoice lure", "description": "Reported by finance", "template": "Phishing Email", "tags": ["finance"], "severity": 3})).await;
    assert_eq!(c["title"], "EMAIL Invoice lure");
    assert_eq!(c["tags"], json!(["phish", "email", "finance"]));
    assert_eq!(c["severity"], 3);
    assert_eq!(c["template"], "Phishing Email");
    let (total, tasks) = search(&admin, &s, "/api/case/task/_search", json!({"_parent": {"_type": "case", "_id": id(&c)}})).await;
    assert_eq!(total, 5);
    assert_eq!(tasks[0]["title"], "Identification");
    assert_eq!(tasks[0]["group"], "STAGE 1");
    // Without a description, the template's.
    let c2 = new_case(&admin, &s, json!({"title": "Another", "template": "Phishing Email"})).await;
    assert!(c2["description"].as_str().unwrap().contains("reputable company"));
    // Template custom fields and metrics (Vulnerability Exposure Analysis declares both).
    let c3 = new_case(&admin, &s, json!({"title": "CVE", "template": "Vulnerability Exposure Analysis", "description": "d"})).await;
    assert!(c3["customFields"]["detectionMethod"].is_object(), "{c3}");
    assert!(c3["metrics"].as_object().unwrap().contains_key("# of External Vulnerable Systems Discovered"));

    // Export: the file without id and audit fields, importable again once renamed.
    let r = admin.get(s.url(&format!("/api/case/template/{}/_export", id(tpl)))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("Case-Template__Phishing_Email.json"));
    let mut exported: Value = r.json().await.unwrap();
    assert!(exported.get("id").is_none() && exported.get("createdAt").is_none());
    exported["name"] = json!("Phishing Email (copy)");
    let (st, v) = post(&admin, &s, "/api/case/template/_import", exported).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["tasks"].as_array().unwrap().len(), 5);

    // Update, get by name, delete; bad inputs.
    let (st, v) = patch(&admin, &s, &format!("/api/case/template/{}", id(tpl)), json!({"severity": 3, "tasks": [{"title": "Only task", "owner": ADMIN}]})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["tasks"].as_array().unwrap().len(), 1);
    let c4 = new_case(&admin, &s, json!({"title": "With owner", "template": "Phishing Email", "description": "d"})).await;
    let (_, tasks) = search(&admin, &s, "/api/case/task/_search", json!({"_parent": {"_type": "case", "_id": id(&c4)}})).await;
    assert_eq!(tasks[0]["owner"], ADMIN, "template tasks keep their owner");
    let (st, _) = get(&admin, &s, "/api/case/template/Phishing%20Email").await;
    assert_eq!(st, StatusCode::OK);
    for body in [json!({"name": "x", "colour": 1}), json!({"name": "x", "tlp": 8}), json!({"titlePrefix": "no name"}), json!({"name": "x", "tasks": [{"title": ""}]})] {
        let (st, v) = post(&admin, &s, "/api/case/template", body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
    }
    assert_eq!(delete(&admin, &s, &format!("/api/case/template/{}", id(tpl))).await, StatusCode::NO_CONTENT);
    let (st, _) = post(&admin, &s, "/api/case", json!({"title": "x", "description": "d", "template": "Phishing Email"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn custom_fields_metrics_and_data_types() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    // thehive4py's create_custom_field: _exists, then POST {"value": {...}}.
    let (st, v) = post(&admin, &s, "/api/list/custom_fields/_exists", json!({"key": "reference", "value": "businessUnit"})).await;
    assert_eq!((st, v), (StatusCode::OK, json!({"found": false})));
    let (st, v) = post(&admin, &s, "/api/list/custom_fields", json!({"value": {"name": "businessUnit", "reference": "businessUnit", "description": null, "type": "string", "options": ["Finance", "HR"], "mandatory": false}})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let field_id = v.as_str().unwrap().to_string();
    let (_, v) = post(&admin, &s, "/api/list/custom_fields/_exists", json!({"key": "reference", "value": "businessUnit"})).await;
    assert_eq!(v, json!({"found": true}));
    let (st, v) = post(&admin, &s, "/api/list/custom_fields", json!({"value": {"name": "businessUnit", "type": "string"}})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_error(&v, "ConflictError");
    let (st, _) = post(&admin, &s, "/api/list/custom_fields", json!({"value": {"name": "cvss", "type": "float"}})).await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, v) = post(&admin, &s, "/api/list/custom_fields", json!({"value": {"name": "x", "type": "colour"}})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (_, list) = get(&admin, &s, "/api/list/custom_fields").await;
    assert_eq!(list[&field_id]["reference"], "businessUnit");
    assert_eq!(list[&field_id]["options"], json!(["Finance", "HR"]));

    // Values on cases follow the definitions.
    let c = new_case(&admin, &s, json!({"title": "CF", "description": "d", "customFields": {"businessUnit": {"string": "HR", "order": 0}, "cvss": {"number": 9.8}}})).await;
    assert_eq!(c["customFields"]["businessUnit"], json!({"string": "HR", "order": 0}));
    assert_eq!(c["customFields"]["cvss"]["float"], 9.8, "TheHive 3's number becomes the field's type");
    for cf in [json!({"businessUnit": {"string": "Sales"}}), json!({"businessUnit": {"number": 1}}), json!({"cvss": {"float": "high"}})] {
        let (st, v) = post(&admin, &s, "/api/case", json!({"title": "x", "description": "d", "customFields": cf.clone()})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{cf}: {v}");
        assert_error(&v, "AttributeCheckingError");
    }
    let (total, _) = search(&admin, &s, "/api/case/_search", json!({"customFields.cvss.float": 9.8})).await;
    assert_eq!(total, 1);
    let (st, v) = patch(&admin, &s, &format!("/api/case/{}", id(&c)), json!({"customFields": {"businessUnit": {"string": "Finance"}}})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["customFields"]["businessUnit"]["string"], "Finance");
    assert_eq!(v["customFields"]["cvss"]["float"], 9.8, "other fields are kept");
    // Mandatory fields.
    let (st, v) = patch(&admin, &s, &format!("/api/list/{field_id}"), json!({"value": {"name": "Business unit", "type": "string", "options": ["Finance", "HR"], "mandatory": true}})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = post(&admin, &s, "/api/case", json!({"title": "x", "description": "d"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap().contains("mandatory"), "{v}");
    assert_eq!(delete(&admin, &s, &format!("/api/list/{field_id}")).await, StatusCode::NO_CONTENT);

    // Metrics.
    let (st, v) = post(&admin, &s, "/api/list/case_metrics", json!({"value": {"name": "timeToContain", "title": "Time to contain (h)", "description": "Hours"}})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (_, list) = get(&admin, &s, "/api/list/case_metrics").await;
    assert_eq!(list[v.as_str().unwrap()]["title"], "Time to contain (h)");
    let (st, v) = patch(&admin, &s, &format!("/api/case/{}", id(&c)), json!({"metrics": {"timeToContain": 4}})).await;
    assert_eq!((st, v["metrics"]["timeToContain"].clone()), (StatusCode::OK, json!(4.0)));

    // Data types: add, use, refuse to remove while used.
    let (st, v) = post(&admin, &s, "/api/list/list_artifactDataType", json!({"value": "btc-wallet"})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let type_id = v.as_str().unwrap().to_string();
    let (st, _) = post(&admin, &s, &format!("/api/case/{}/artifact", id(&c)), json!({"dataType": "btc-wallet", "data": "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"})).await;
    assert_eq!(st, StatusCode::CREATED);
    let r = admin.delete(s.url(&format!("/api/list/{type_id}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let (st, v) = post(&admin, &s, "/api/list/list_artifactDataType", json!({"value": "bad type!"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, _) = get(&admin, &s, "/api/list/nope").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn merging_cases_as_thehive_does() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let a = new_case(&admin, &s, json!({"title": "Phish A", "description": "first", "severity": 2, "tlp": 1, "pap": 3, "tags": ["a"], "startDate": 1000})).await;
    let b = new_case(&admin, &s, json!({"title": "Phish B", "description": "second", "severity": 3, "tlp": 2, "pap": 1, "tags": ["b", "a"], "startDate": 500})).await;
    let (aid, bid) = (id(&a), id(&b));
    let (_, ta) = post(&admin, &s, &format!("/api/case/{aid}/task"), json!({"title": "Identify"})).await;
    let (_, tb) = post(&admin, &s, &format!("/api/case/{bid}/task"), json!({"title": "Identify"})).await;
    post(&admin, &s, &format!("/api/case/{bid}/task"), json!({"title": "Eradicate"})).await;
    post(&admin, &s, &format!("/api/case/task/{}/log", id(&ta)), json!({"message": "log of A"})).await;
    post(&admin, &s, &format!("/api/case/task/{}/log", id(&tb)), json!({"message": "log of B"})).await;
    post(&admin, &s, &format!("/api/case/{aid}/artifact"), json!({"dataType": "ip", "data": "10.1.1.1", "tlp": 3, "tags": ["x"]})).await;
    post(&admin, &s, &format!("/api/case/{bid}/artifact"), json!({"dataType": "ip", "data": "10.1.1.1", "tlp": 1, "tags": ["y"], "ioc": true})).await;
    post(&admin, &s, &format!("/api/case/{bid}/artifact"), json!({"dataType": "domain", "data": "b.example"})).await;

    let (st, m) = post(&admin, &s, &format!("/api/case/{aid}/_merge/{bid}"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{m}");
    assert_eq!(m["title"], "#1:Phish A / #2:Phish B");
    assert_eq!(m["caseId"], 3);
    assert_eq!((m["severity"].clone(), m["tlp"].clone(), m["pap"].clone()), (json!(3), json!(2), json!(3)));
    assert_eq!(m["startDate"], 500);
    assert_eq!(m["tags"], json!(["a", "b"]));
    assert_eq!(m["status"], "Open");
    assert_eq!(m["mergeFrom"], json!([aid, bid]));
    let mid = id(&m);
    let (total, tasks) = search(&admin, &s, "/api/case/task/_search", json!({"_parent": {"_type": "case", "_id": mid}})).await;
    assert_eq!(total, 2, "tasks merged by title: {tasks:?}");
    let identify = tasks.iter().find(|t| t["title"] == "Identify").unwrap();
    let (logs_total, _) = search(&admin, &s, "/api/case/task/log/_search", json!({"_parent": {"_type": "case_task", "_id": id(identify)}})).await;
    assert_eq!(logs_total, 2, "with the logs of both");
    let (total, obs) = search(&admin, &s, "/api/case/artifact/_search", json!({"_parent": {"_type": "case", "_id": mid}})).await;
    assert_eq!(total, 2, "observables deduplicated");
    let ip = obs.iter().find(|o| o["data"] == "10.1.1.1").unwrap();
    assert_eq!(ip["tlp"], 1, "the lowest TLP");
    assert_eq!(ip["tags"], json!(["x", "y"]));
    assert_eq!(ip["ioc"], true);
    for src in [&aid, &bid] {
        let (_, v) = get(&admin, &s, &format!("/api/case/{src}")).await;
        assert_eq!((v["status"].clone(), v["resolutionStatus"].clone(), v["mergeInto"].clone()), (json!("Resolved"), json!("Duplicated"), json!(mid)));
    }
    // Merged-away cases do not count as similar.
    let (_, v) = get(&admin, &s, &format!("/api/case/artifact/{}", id(ip))).await;
    assert_eq!(v["seen"], 0);
    let (st, v) = post(&admin, &s, &format!("/api/case/{aid}/_merge/{mid}"), json!({})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a merged case does not merge again: {v}");
    let (st, _) = post(&admin, &s, &format!("/api/case/{mid}/_merge/{mid}"), json!({})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = post(&admin, &s, &format!("/api/case/{mid}/_merge/nope"), json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn links_between_cases() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let a = new_case(&admin, &s, json!({"title": "A", "description": "d"})).await;
    let b = new_case(&admin, &s, json!({"title": "B", "description": "d"})).await;
    let c = new_case(&admin, &s, json!({"title": "C", "description": "d"})).await;
    for (case, values) in [(&a, vec!["1.1.1.1", "2.2.2.2"]), (&b, vec!["1.1.1.1", "2.2.2.2"]), (&c, vec!["2.2.2.2", "3.3.3.3"])] {
        post(&admin, &s, &format!("/api/case/{}/artifact", id(case)), json!({"dataType": "ip", "data": values})).await;
    }
    let (st, links) = get(&admin, &s, &format!("/api/case/{}/links", id(&a))).await;
    assert_eq!(st, StatusCode::OK, "{links}");
    let links = links.as_array().unwrap();
    assert_eq!(links.len(), 2);
    assert_eq!(links[0]["id"], b["id"], "most shared first");
    assert_eq!(links[0]["linksCount"], 2);
    assert_eq!(links[1]["linkedWith"][0]["data"], "2.2.2.2");
    // A deleted case is not a link.
    delete(&admin, &s, &format!("/api/case/{}", id(&c))).await;
    let (_, links) = get(&admin, &s, &format!("/api/case/{}/links", id(&a))).await;
    assert_eq!(links.as_array().unwrap().len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn audit_flow_and_stream() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let (st, stream) = post(&admin, &s, "/api/stream", json!({})).await;
    assert_eq!(st, StatusCode::OK);
    let stream = stream.as_str().unwrap().to_string();
    let c = new_case(&admin, &s, json!({"title": "Audited", "description": "d", "tasks": [{"title": "T1"}]})).await;
    let cid = id(&c);
    let (st, events) = get(&admin, &s, &format!("/api/stream/{stream}")).await;
    assert_eq!(st, StatusCode::OK, "{events}");
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 1, "one request, one group: {events:?}");
    assert_eq!(events[0]["base"]["objectType"], "case");
    assert_eq!(events[0]["base"]["operation"], "Creation");
    assert_eq!(events[0]["base"]["object"]["title"], "Audited");
    assert_eq!(events[0]["summary"]["case_task"]["Creation"], 1);
    assert!(events[0]["base"]["requestId"].as_str().is_some_and(|r| !r.is_empty()));

    let (_, v) = patch(&admin, &s, &format!("/api/case/{cid}"), json!({"severity": 4})).await;
    assert_eq!(v["severity"], 4);
    let (_, events) = get(&admin, &s, &format!("/api/stream/{stream}")).await;
    let base = &events[0]["base"];
    assert_eq!((base["operation"].clone(), base["details"]["severity"].clone(), base["before"]["severity"].clone()), (json!("Update"), json!(4), json!(2)));

    // The flow of the case: newest first, the case and what is in it.
    let (_, t) = post(&admin, &s, &format!("/api/case/{cid}/task"), json!({"title": "T2"})).await;
    let (st, flow) = get(&admin, &s, &format!("/api/flow?rootId={cid}&count=20")).await;
    assert_eq!(st, StatusCode::OK);
    let flow = flow.as_array().unwrap();
    assert_eq!(flow.len(), 3, "{flow:?}");
    assert_eq!(flow[0]["base"]["objectId"], t["id"]);
    assert_eq!(flow[0]["base"]["createdBy"], ADMIN);
    let (total, _) = search(&admin, &s, "/api/audit/_search", json!({"_and": [{"rootId": cid}, {"operation": "Creation"}]})).await;
    assert_eq!(total, 3, "case, T1, T2");

    // Observables added in bulk: one entry each, in the stream and in the flow.
    let _ = get(&admin, &s, &format!("/api/stream/{stream}")).await;
    let (st, added) = post(&admin, &s, &format!("/api/case/{cid}/artifact"), json!({"dataType": "ip", "data": ["10.1.1.1", "10.1.1.2", "10.1.1.3"]})).await;
    assert_eq!(st, StatusCode::CREATED, "{added}");
    let ids: std::collections::HashSet<String> = added.as_array().unwrap().iter().map(|o| id(o)).collect();
    let (_, events) = get(&admin, &s, &format!("/api/stream/{stream}")).await;
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 1, "one request, one group: {events:?}");
    assert_eq!(events[0]["summary"]["case_artifact"]["Creation"], 3, "{events:?}");
    assert_eq!(events[0]["base"]["rootId"], json!(cid));
    assert!(events[0]["base"]["object"]["data"].as_str().is_some_and(|d| d.starts_with("10.1.1.")), "{events:?}");
    let (_, flow) = get(&admin, &s, &format!("/api/flow?rootId={cid}&count=20")).await;
    assert_eq!(flow[0]["summary"]["case_artifact"]["Creation"], 3, "the flow groups a request's entries: {flow}");
    let (_, entries) = search(&admin, &s, "/api/audit/_search", json!({"_and": [{"rootId": cid}, {"objectType": "case_artifact"}]})).await;
    let flowed: std::collections::HashSet<String> = entries.iter().map(|e| e["objectId"].as_str().unwrap().to_string()).collect();
    assert_eq!(flowed, ids, "each observable audited under its own id");
    let (total, _) = search(&admin, &s, "/api/audit/_search", json!({"_and": [{"rootId": cid}, {"operation": "Creation"}]})).await;
    assert_eq!(total, 6);
    let (st, _) = get(&admin, &s, "/api/stream/not-a-stream").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn read_only_users_read_and_cannot_write() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let c = new_case(&admin, &s, json!({"title": "Visible", "description": "d"})).await;
    let (_, t) = post(&admin, &s, &format!("/api/case/{}/task", id(&c)), json!({"title": "t"})).await;
    let (_, o) = post(&admin, &s, &format!("/api/case/{}/artifact", id(&c)), json!({"dataType": "ip", "data": "9.9.9.9"})).await;
    let ro = soc_user(&s, &admin, "reader@soc", "read-only").await;
    let analyst = soc_user(&s, &admin, "ana@soc", "analyst").await;
    let (st, _) = get(&ro, &s, &format!("/api/case/{}", id(&c))).await;
    assert_eq!(st, StatusCode::OK);
    let (total, _) = search(&ro, &s, "/api/case/_search", json!({})).await;
    assert_eq!(total, 1);
    for (m, path, body) in [
        (reqwest::Method::POST, "/api/case".to_string(), json!({"title": "x", "description": "d"})),
        (reqwest::Method::PATCH, format!("/api/case/{}", id(&c)), json!({"title": "x"})),
        (reqwest::Method::DELETE, format!("/api/case/{}", id(&c)), json!({})),
        (reqwest::Method::DELETE, format!("/api/case/{}/force", id(&c)), json!({})),
        (reqwest::Method::POST, format!("/api/case/{}/task", id(&c)), json!({"title": "x"})),
        (reqwest::Method::PATCH, format!("/api/case/task/{}", id(&t)), json!({"title": "x"})),
        (reqwest::Method::POST, format!("/api/case/task/{}/log", id(&t)), json!({"message": "x"})),
        (reqwest::Method::POST, format!("/api/case/{}/artifact", id(&c)), json!({"dataType": "ip", "data": "1.2.3.4"})),
        (reqwest::Method::PATCH, format!("/api/case/artifact/{}", id(&o)), json!({"ioc": true})),
        (reqwest::Method::DELETE, format!("/api/case/artifact/{}", id(&o)), json!({})),
        (reqwest::Method::POST, "/api/case/template".to_string(), json!({"name": "x"})),
        (reqwest::Method::POST, "/api/list/custom_fields".to_string(), json!({"value": {"name": "x", "type": "string"}})),
        (reqwest::Method::POST, "/api/list/list_artifactDataType".to_string(), json!({"value": "x"})),
    ] {
        let (st, v) = call(&ro, m.clone(), &s, &path, Some(body)).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "read-only {m} {path}: {v}");
        assert_error(&v, "AuthorizationError");
    }
    // Analysts work cases but do not administer templates and fields.
    let (st, _) = post(&analyst, &s, "/api/case", json!({"title": "x", "description": "d"})).await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = post(&analyst, &s, "/api/case/template", json!({"name": "x"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = post(&analyst, &s, "/api/list/case_metrics", json!({"value": {"name": "m"}})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Owners must be members.
    let (st, v) = patch(&admin, &s, &format!("/api/case/{}", id(&c)), json!({"owner": "ana@soc"})).await;
    assert_eq!((st, v["owner"].clone()), (StatusCode::OK, json!("ana@soc")));
    s.stop().await;
}

#[tokio::test]
async fn organisations_never_see_each_other() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let carol = s.acme_admin().await;
    let mine = new_case(&admin, &s, json!({"title": "SOC secret", "description": "soc only"})).await;
    let mid = id(&mine);
    let (_, task) = post(&admin, &s, &format!("/api/case/{mid}/task"), json!({"title": "soc task"})).await;
    let (_, log) = post(&admin, &s, &format!("/api/case/task/{}/log", id(&task)), json!({"message": "soc log"})).await;
    let (_, obs) = post(&admin, &s, &format!("/api/case/{mid}/artifact"), json!({"dataType": "ip", "data": "203.0.113.7"})).await;
    let form = reqwest::multipart::Form::new()
        .text("_json", json!({"dataType": "file"}).to_string())
        .part("attachment", reqwest::multipart::Part::bytes(b"soc sample".to_vec()).file_name("soc.bin"));
    let (_, file) = json(admin.post(s.url(&format!("/api/case/{mid}/artifact"))).multipart(form).send().await.unwrap()).await;
    let sha = file[0]["attachment"]["id"].as_str().unwrap().to_string();
    post(&admin, &s, "/api/case/template", json!({"name": "SOC template"})).await;
    // Carol's stream is open before the SOC changes below.
    let (_, carol_stream) = post(&carol, &s, "/api/stream", json!({})).await;
    let carol_stream = carol_stream.as_str().unwrap().to_string();

    // Carol's own case shares the IP (similarity must not cross).
    let theirs = new_case(&carol, &s, json!({"title": "ACME case", "description": "acme"})).await;
    assert_eq!(theirs["caseId"], 1, "numbers are per organisation");
    let (_, their_obs) = post(&carol, &s, &format!("/api/case/{}/artifact", id(&theirs)), json!({"dataType": "ip", "data": "203.0.113.7"})).await;

    for path in [
        format!("/api/case/{mid}"),
        format!("/api/case/{mid}/links"),
        format!("/api/case/task/{}", id(&task)),
        format!("/api/case/task/{}/log", id(&task)),
        format!("/api/case/task/log/{}", id(&log)),
        format!("/api/case/artifact/{}", id(&obs)),
        format!("/api/case/artifact/{}/similar", id(&obs)),
        format!("/api/datastore/{sha}"),
        format!("/api/datastorezip/{sha}"),
        "/api/case/template/SOC%20template".into(),
    ] {
        let (st, v) = get(&carol, &s, &path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "GET {path} from another organisation: {v}");
        assert!(!v.to_string().contains("SOC secret") && !v.to_string().contains("soc log"));
    }
    let (_, v) = get(&carol, &s, "/api/case/1").await;
    assert_eq!(v["title"], "ACME case", "case numbers resolve in the caller's organisation");
    for (m, path, body) in [
        (reqwest::Method::PATCH, format!("/api/case/{mid}"), json!({"title": "pwned"})),
        (reqwest::Method::DELETE, format!("/api/case/{mid}/force"), json!({})),
        (reqwest::Method::POST, format!("/api/case/{mid}/task"), json!({"title": "x"})),
        (reqwest::Method::POST, format!("/api/case/task/{}/log", id(&task)), json!({"message": "x"})),
        (reqwest::Method::POST, format!("/api/case/{mid}/artifact"), json!({"dataType": "ip", "data": "1.1.1.1"})),
        (reqwest::Method::PATCH, format!("/api/case/artifact/{}", id(&obs)), json!({"ioc": true})),
        (reqwest::Method::POST, format!("/api/case/{}/_merge/{mid}", id(&theirs)), json!({})),
    ] {
        let (st, v) = call(&carol, m.clone(), &s, &path, Some(body)).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{m} {path} from another organisation: {v}");
    }
    let (st, _) = patch(&carol, &s, "/api/case/_bulk", json!({"ids": [mid], "title": "pwned"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // Searches and derived endpoints.
    for (path, q) in [
        ("/api/case/_search", json!({})),
        ("/api/case/task/_search", json!({})),
        ("/api/case/task/log/_search", json!({})),
        ("/api/case/artifact/_search", json!({"data": "203.0.113.7"})),
        ("/api/case/template/_search", json!({})),
        ("/api/audit/_search", json!({})),
    ] {
        let r = carol.post(s.url(path)).query(&[("range", "all"), ("nstats", "true"), ("nparent", "1")]).json(&json!({"query": q})).send().await.unwrap();
        let text = r.text().await.unwrap();
        for marker in ["SOC secret", "soc task", "soc log", &mid, "SOC template", &sha] {
            assert!(!text.contains(marker), "{path} leaks {marker}: {text}");
        }
    }
    let (_, v) = get(&carol, &s, &format!("/api/case/artifact/{}", id(&their_obs))).await;
    assert_eq!(v["seen"], 0, "another organisation's cases are not counted");
    let (_, links) = get(&carol, &s, &format!("/api/case/{}/links", id(&theirs))).await;
    assert_eq!(links, json!([]));
    let (_, flow) = get(&carol, &s, &format!("/api/flow?rootId={mid}")).await;
    assert_eq!(flow, json!([]));
    let (_, flow) = get(&carol, &s, "/api/flow?count=100").await;
    assert!(!flow.to_string().contains("SOC secret"));
    // Carol's stream carries only acme's changes, and nobody else may read it.
    patch(&admin, &s, &format!("/api/case/{mid}"), json!({"title": "SOC secret renamed"})).await;
    let (_, events) = get(&carol, &s, &format!("/api/stream/{carol_stream}")).await;
    assert!(!events.to_string().contains("SOC secret"), "{events}");
    assert!(events.to_string().contains("ACME case"), "{events}");
    let (st, _) = get(&admin, &s, &format!("/api/stream/{carol_stream}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "a stream belongs to its user");
    let (_, types) = get(&carol, &s, "/api/list/list_artifactDataType").await;
    assert_eq!(types.as_object().unwrap().len(), 15, "a new organisation starts with the default types");
    s.stop().await;
}

#[tokio::test]
async fn list_totals_follow_every_change() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(id(&new_case(&admin, &s, json!({"title": format!("T{i}"), "description": "d"})).await));
    }
    patch(&admin, &s, &format!("/api/case/{}", ids[0]), json!({"status": "Resolved"})).await;
    delete(&admin, &s, &format!("/api/case/{}", ids[1])).await;
    post(&admin, &s, &format!("/api/case/{}/_merge/{}", ids[2], ids[3]), json!({})).await;
    delete(&admin, &s, &format!("/api/case/{}/force", ids[4])).await;
    patch(&admin, &s, "/api/case/_bulk", json!({"ids": [ids[5]], "status": "Resolved"})).await;
    patch(&admin, &s, &format!("/api/case/{}", ids[5]), json!({"status": "Open"})).await;
    // Totals kept by the database match what a full count finds.
    for q in [
        json!({}),
        json!({"status": "Open"}),
        json!({"status": "Resolved"}),
        json!({"status": "Deleted"}),
        json!({"_in": {"_field": "status", "_values": ["Open", "Deleted"]}}),
    ] {
        let (total, list) = search(&admin, &s, "/api/case/_search", q.clone()).await;
        let (counted, _) = search(&admin, &s, "/api/case/_search", json!({"_and": [q.clone(), {"_contains": "title"}]})).await;
        assert_eq!((total, list.len() as u64), (counted, counted), "{q}");
    }
    let (open, _) = search(&admin, &s, "/api/case/_search", json!({"status": "Open"})).await;
    assert_eq!(open, 2, "T5 and the merged case");
    s.stop().await;
}

/// A page of `/api/case/_search` with its X-Total.
/// Lists filtered on several fields are answered from the statistics index (exact totals, pages
/// in order) and agree with the database's own answer (`range=all`, which the database serves);
/// a write is in the next list it belongs to.
#[tokio::test]
async fn filtered_lists_from_the_index_agree_with_the_database() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let state = s.running.as_ref().unwrap().state.clone();
    let mut ids = Vec::new();
    for i in 0..30u64 {
        let tags: Vec<&str> = [(i % 3 == 0).then_some("phishing"), (i % 4 == 0).then_some("vip")].into_iter().flatten().collect();
        let c = new_case(&admin, &s, json!({"title": format!("Case {i:02}"), "description": "d", "severity": 1 + i % 4, "tlp": i % 4, "tags": tags, "flag": i % 5 == 0})).await;
        ids.push(id(&c));
        // Distinct creation dates: the orders compared below are total.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    for cid in ids.iter().step_by(7) {
        let (st, v) = patch(&admin, &s, &format!("/api/case/{cid}"), json!({"status": "Resolved", "resolutionStatus": "FalsePositive", "summary": "no"})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    assert_eq!(delete(&admin, &s, &format!("/api/case/{}", ids[29])).await, StatusCode::NO_CONTENT);
    stats_ready(&s).await;

    let queries = [
        json!({"_and": [{"status": "Open"}, {"_gte": {"severity": 2}}]}),
        json!({"_and": [{"status": "Open"}, {"tags": "phishing"}, {"_not": {"tlp": 3}}]}),
        json!({"_or": [{"flag": true}, {"_in": {"_field": "severity", "_values": [4]}}]}),
        json!({"_and": [{"_in": {"_field": "status", "_values": ["Open", "Resolved"]}}, {"_lt": {"tlp": 2}}, {"_field": "tags", "_value": "vip"}]}),
        json!({"_not": {"status": "Open"}}),
        json!({"_and": [{"status": "Open"}, {"_gt": {"severity": 9}}]}),
    ];
    let sorts: [&[&str]; 4] = [&[], &["-createdAt"], &["+severity", "-createdAt"], &["-tlp"]];
    // Creation dates differ: every sort but the TLP alone is a total order.
    index_lists_agree(&admin, &s, "/api/case/_search", &queries, &sorts, (&["-tlp"], "tlp")).await;

    // Read-your-writes: a new case is in the next filtered list; a change moves it out.
    let q = json!({"_and": [{"status": "Open"}, {"_gte": {"severity": 4}}, {"tags": "fresh"}]});
    let c = new_case(&admin, &s, json!({"title": "Fresh", "description": "d", "severity": 4, "tags": ["fresh"]})).await;
    let (total, page) = search_page(&admin, &s, "/api/case/_search", &q, &[], "0-15").await;
    assert_eq!((total, page.len()), (1, 1));
    assert_eq!(page[0]["title"], "Fresh");
    patch(&admin, &s, &format!("/api/case/{}", id(&c)), json!({"severity": 1})).await;
    let (total, page) = search_page(&admin, &s, "/api/case/_search", &q, &[], "0-15").await;
    assert_eq!((total, page.len()), (0, 0));
    // Free text and text sorts are not the index's: the database answers them, the same way.
    let before = state.stats.lists_served();
    let (total, _) = search_page(&admin, &s, "/api/case/_search", &json!({"_and": [{"status": "Open"}, {"_like": {"_field": "title", "_value": "Case 0"}}]}), &[], "0-15").await;
    assert!(total > 0);
    let (_, page) = search_page(&admin, &s, "/api/case/_search", &json!({"_and": [{"status": "Open"}, {"severity": 2}]}), &["+title"], "0-3").await;
    assert_eq!(page.iter().map(|c| c["title"].as_str().unwrap()).collect::<Vec<_>>(), vec!["Case 01", "Case 05", "Case 09"]);
    assert_eq!(state.stats.lists_served(), before);
    s.stop().await;
}

/// Task lists (v0 `case/task/_search`, what "my tasks" scripts ask) are answered from the
/// statistics index too, with the database's default order (`order`, then creation).
#[tokio::test]
async fn filtered_task_lists_from_the_index_agree_with_the_database() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let mut tasks = Vec::new();
    for c in 0..2 {
        let case = new_case(&admin, &s, json!({"title": format!("Case {c}"), "description": "d"})).await;
        for i in 0..12u64 {
            let group = ["identification", "containment"][i as usize % 2];
            let body = json!({"title": format!("Task {c}.{i:02}"), "group": group, "order": i % 3, "flag": i % 4 == 0});
            let (st, t) = post(&admin, &s, &format!("/api/case/{}/task", id(&case)), body).await;
            assert_eq!(st, StatusCode::CREATED, "{t}");
            tasks.push(id(&t));
            // Distinct creation dates: the default order is total.
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        }
    }
    for (n, tid) in tasks.iter().enumerate().filter(|(n, _)| n % 3 == 1) {
        let status = if n % 2 == 0 { "Completed" } else { "InProgress" };
        let (st, v) = patch(&admin, &s, &format!("/api/case/task/{tid}"), json!({"status": status})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    stats_ready(&s).await;

    let queries = [
        json!({"_and": [{"status": "Waiting"}, {"flag": true}]}),
        json!({"_and": [{"_in": {"_field": "status", "_values": ["Waiting", "InProgress"]}}, {"group": "containment"}]}),
        json!({"_or": [{"_gte": {"order": 2}}, {"status": "Completed"}]}),
        json!({"_and": [{"status": "InProgress"}, {"owner": ADMIN}]}),
        json!({"status": "Waiting"}),
    ];
    let sorts: [&[&str]; 3] = [&[], &["-createdAt"], &["+order"]];
    // Creation dates differ: every sort but `order` alone is a total order.
    index_lists_agree(&admin, &s, "/api/case/task/_search", &queries, &sorts, (&["+order"], "order")).await;

    // Read-your-writes: a task started just now is in the next list of started tasks.
    let q = json!({"_and": [{"status": "InProgress"}, {"group": "identification"}]});
    let (before, _) = search_page(&admin, &s, "/api/case/task/_search", &q, &[], "0-4").await;
    let waiting = tasks.iter().enumerate().find(|(n, _)| n % 3 != 1 && n % 2 == 0).map(|(_, t)| t.clone()).unwrap();
    patch(&admin, &s, &format!("/api/case/task/{waiting}"), json!({"status": "InProgress"})).await;
    let (after, page) = search_page(&admin, &s, "/api/case/task/_search", &q, &["-startDate"], "0-1").await;
    assert_eq!(after, before + 1);
    assert_eq!(page[0]["id"], waiting.as_str());
    s.stop().await;
}
