//! The case management UI's server functions (`/ui/...`) against a real server: they are thin
//! adapters, so these tests check the translation, the per-user saved filter, and that errors
//! keep their status.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn cases_list_detail_bulk_and_merge() {
    let s = TestServer::start().await;
    let c = s.ui_session(ADMIN, PASSWORD).await;
    let a = ui_ok(&c, &s, "cases/create", json!({"input": {"title": "Phish A", "description": "**bold** <script>alert(1)</script>", "severity": 3, "tags": ["phishing"]}})).await;
    let b = ui_ok(&c, &s, "cases/create", json!({"input": {"title": "Malware B", "description": "x", "severity": 1}})).await;
    let a_id = a["id"].as_str().unwrap().to_string();
    let b_id = b["id"].as_str().unwrap().to_string();

    // The list: a v0 query, sort keys and a range; counts per row.
    let page = ui_ok(&c, &s, "cases/list", json!({"query": {"_field": "severity", "_value": 3}, "sort": ["-createdAt"], "from": 0, "to": 15})).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["case"]["title"], "Phish A");
    assert_eq!(page["items"][0]["stats"]["observables"], 0);
    let page = ui_ok(&c, &s, "cases/list", json!({"query": {}, "sort": ["+caseId"], "from": 0, "to": 1})).await;
    assert_eq!(page["total"], 2);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["case"]["caseId"], 1);
    let (st, v) = ui(&c, &s, "cases/list", json!({"query": {"_nope": 1}, "sort": [], "from": 0, "to": 15})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["kind"], "SearchError");

    // The detail renders the description through the sanitiser.
    let d = ui_ok(&c, &s, "cases/get", json!({"id": "#1"})).await;
    let html = d["descriptionHtml"].as_str().unwrap();
    assert!(html.contains("<strong>bold</strong>") && !html.contains("<script"), "{html}");

    // Bulk: tag both.
    let out = ui_ok(&c, &s, "cases/bulk", json!({"ids": [a_id, b_id], "patch": {"tags": ["triaged"]}})).await;
    assert_eq!(out["done"], 2);
    let out = ui_ok(&c, &s, "cases/bulk", json!({"ids": ["nope"], "patch": {"flag": true}})).await;
    assert_eq!(out["done"], 0);
    assert_eq!(out["failed"][0][0], "nope");

    // Tasks, logs, observables, sightings.
    let t = ui_ok(&c, &s, "tasks/create", json!({"case_id": "#1", "input": {"title": "Triage", "group": "first"}})).await;
    ui_ok(&c, &s, "tasks/logs/add", json!({"task_id": t["id"], "message": "Looked at *it*"})).await;
    let td = ui_ok(&c, &s, "tasks/get", json!({"id": t["id"]})).await;
    assert_eq!(td["logs"][0]["html"], "<p>Looked at <em>it</em></p>\n");
    assert_eq!(td["case"]["caseId"], 1);
    let out = ui_ok(&c, &s, "observables/add", json!({"case_id": a_id, "input": {"dataType": "ip", "data": ["10.0.0.1", "10.0.0.2", "10.0.0.1"]}})).await;
    assert_eq!(out["done"], 2);
    assert_eq!(out["failed"][0][0], "10.0.0.1");
    ui_ok(&c, &s, "observables/add", json!({"case_id": b_id, "input": {"dataType": "ip", "data": ["10.0.0.1"]}})).await;
    let list = ui_ok(&c, &s, "observables/of-case", json!({"case_id": a_id})).await;
    let first = list.as_array().unwrap().iter().find(|o| o["data"] == "10.0.0.1").unwrap().clone();
    assert_eq!(first["seen"], 1);
    let seen = ui_ok(&c, &s, "observables/sightings", json!({"id": first["id"]})).await;
    assert_eq!(seen[0]["case"]["id"], b_id.as_str());
    let ids: Vec<Value> = list.as_array().unwrap().iter().map(|o| o["id"].clone()).collect();
    let out = ui_ok(&c, &s, "observables/update", json!({"ids": ids, "patch": {"ioc": true, "sighted": true}})).await;
    assert_eq!(out["done"], 2);
    let links = ui_ok(&c, &s, "cases/links", json!({"id": a_id})).await;
    assert_eq!(links[0]["case"]["id"], b_id.as_str());

    let activity = ui_ok(&c, &s, "cases/activity", json!({"id": a_id})).await;
    assert!(activity.as_array().unwrap().iter().any(|e| e["objectType"] == "case_artifact"), "{activity}");

    // Merge by number; close; markdown preview.
    let m = ui_ok(&c, &s, "cases/merge", json!({"ids": ["#1", "#2"]})).await;
    assert_eq!(m["title"], "#1:Phish A / #2:Malware B");
    let closed = ui_ok(&c, &s, "cases/close", json!({"id": m["id"], "closure": {"resolutionStatus": "TruePositive", "impactStatus": "NoImpact", "summary": "done"}})).await;
    assert_eq!(closed["status"], "Resolved");
    let html = ui_ok(&c, &s, "markdown", json!({"text": "[x](javascript:alert(1))"})).await;
    assert!(!html.as_str().unwrap().contains("javascript"), "{html}");
    s.stop().await;
}

#[tokio::test]
async fn saved_filters_belong_to_their_user() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    s.create_user(&admin, json!({"login": "bob@soc", "name": "Bob", "password": "bob-password-1", "profile": "analyst"})).await;
    let a = s.ui_session(ADMIN, PASSWORD).await;
    let b = s.ui_session("bob@soc", "bob-password-1").await;
    assert_eq!(ui_ok(&a, &s, "prefs/filter", json!({"key": "cases"})).await, Value::Null);
    ui_ok(&a, &s, "prefs/filter/save", json!({"key": "cases", "value": "status=Open&severity=3"})).await;
    assert_eq!(ui_ok(&a, &s, "prefs/filter", json!({"key": "cases"})).await, "status=Open&severity=3");
    assert_eq!(ui_ok(&b, &s, "prefs/filter", json!({"key": "cases"})).await, Value::Null, "another user's filter is not mine");
    ui_ok(&a, &s, "prefs/filter/save", json!({"key": "cases", "value": null})).await;
    assert_eq!(ui_ok(&a, &s, "prefs/filter", json!({"key": "cases"})).await, Value::Null);
    let (st, _) = ui(&a, &s, "prefs/filter", json!({"key": "../x"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = ui(&a, &s, "prefs/filter/save", json!({"key": "cases", "value": "x".repeat(9000)})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = ui(&s.anonymous(), &s, "prefs/filter", json!({"key": "cases"})).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // Lookups: templates, data types, the organisation's members.
    let l = ui_ok(&b, &s, "cases/lookups", json!({})).await;
    assert!(l["dataTypes"].as_array().unwrap().iter().any(|t| t["name"] == "autonomous-system"));
    assert!(l["members"].as_array().unwrap().iter().any(|m| m["login"] == "bob@soc"));
    // An unknown case is a 404, not a 500.
    let (st, v) = ui(&b, &s, "cases/get", json!({"id": "nope"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    s.stop().await;
}

#[tokio::test]
async fn case_administration() {
    let s = TestServer::start().await;
    let c = s.ui_session(ADMIN, PASSWORD).await;
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/thehive3/case-templates/Case-Template__Phishing_Email.json"))
            .expect("fixture"),
    )
    .unwrap();
    let t = ui_ok(&c, &s, "admin/templates/import", json!({"file": file})).await;
    assert_eq!(t["name"], "Phishing Email");
    assert_eq!(t["tasks"].as_array().unwrap().len(), 5);
    let (name, content) = {
        let v = ui_ok(&c, &s, "admin/templates/export", json!({"id": t["id"]})).await;
        (v[0].clone(), v[1].clone())
    };
    assert_eq!(name, "Case-Template__Phishing_Email.json");
    assert_eq!(content["titlePrefix"], "EMAIL");
    let (st, v) = ui(&c, &s, "admin/templates/import", json!({"file": file})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a second import of the same name is refused: {v}");
    let u = ui_ok(&c, &s, "admin/templates/update", json!({"id": t["id"], "input": {"tasks": [{"title": "Only", "order": 0}]}})).await;
    assert_eq!(u["tasks"].as_array().unwrap().len(), 1);
    let n = ui_ok(&c, &s, "admin/templates/create", json!({"input": {"name": "Blank", "tasks": []}})).await;
    ui_ok(&c, &s, "admin/templates/delete", json!({"id": n["id"]})).await;

    let f = ui_ok(&c, &s, "admin/custom-fields/create", json!({"input": {"name": "Business unit", "reference": "businessUnit", "type": "string", "options": ["HR", "IT"]}})).await;
    let m = ui_ok(&c, &s, "admin/metrics/create", json!({"input": {"name": "hoursToContain", "title": "Hours to contain"}})).await;
    let d = ui_ok(&c, &s, "admin/data-types/create", json!({"name": "bitcoin-address", "is_attachment": false})).await;
    let l = ui_ok(&c, &s, "cases/lookups", json!({})).await;
    assert_eq!(l["templates"].as_array().unwrap().len(), 1);
    assert_eq!(l["customFields"][0]["reference"], "businessUnit");
    assert_eq!(l["metrics"][0]["name"], "hoursToContain");
    assert!(l["dataTypes"].as_array().unwrap().iter().any(|t| t["name"] == "bitcoin-address"));
    // A case using them, edited in place as the details tab does.
    let case = ui_ok(&c, &s, "cases/create", json!({"input": {"title": "x", "description": "y", "template": "Phishing Email"}})).await;
    let (st, v) = ui(&c, &s, "cases/update", json!({"id": case["id"], "patch": {"customFields": {"businessUnit": {"string": "Sales"}}}})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "not one of the options: {v}");
    let up = ui_ok(&c, &s, "cases/update", json!({"id": case["id"], "patch": {"customFields": {"businessUnit": {"string": "IT"}}, "metrics": {"hoursToContain": 4.5}}})).await;
    assert_eq!(up["customFields"]["businessUnit"]["string"], "IT");
    assert_eq!(up["metrics"]["hoursToContain"], 4.5);
    ui_ok(&c, &s, "admin/custom-fields/delete", json!({"id": f["id"]})).await;
    ui_ok(&c, &s, "admin/metrics/delete", json!({"id": m["id"]})).await;
    ui_ok(&c, &s, "admin/data-types/delete", json!({"id": d["id"]})).await;

    // An analyst may not change templates.
    s.create_user(&s.admin_session().await, json!({"login": "ann@soc", "name": "Ann", "password": "ann-password-1", "profile": "analyst"})).await;
    let a = s.ui_session("ann@soc", "ann-password-1").await;
    let (st, _) = ui(&a, &s, "admin/templates/create", json!({"input": {"name": "Mine"}})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    s.stop().await;
}

fn tags_of(v: &Value) -> Vec<&str> {
    v["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect()
}

#[tokio::test]
async fn tags_change_on_many_cases_in_one_call() {
    let s = TestServer::start().await;
    let c = s.ui_session(ADMIN, PASSWORD).await;
    let a = ui_ok(&c, &s, "cases/create", json!({"input": {"title": "A", "description": "a", "tags": ["phishing"]}})).await;
    let b = ui_ok(&c, &s, "cases/create", json!({"input": {"title": "B", "description": "b", "tags": ["phishing", "old"]}})).await;
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());

    let out = ui_ok(&c, &s, "cases/tags", json!({"ids": [a_id, "#2"], "add": ["triaged", " phishing "], "remove": ["old"]})).await;
    assert_eq!(out["done"], 2);
    assert_eq!(tags_of(&ui_ok(&c, &s, "cases/get", json!({"id": a_id})).await["case"]), vec!["phishing", "triaged"]);
    assert_eq!(tags_of(&ui_ok(&c, &s, "cases/get", json!({"id": b_id})).await["case"]), vec!["phishing", "triaged"]);
    // Audited per case, with the tags before.
    let activity = ui_ok(&c, &s, "cases/activity", json!({"id": b_id})).await;
    let e = activity.as_array().unwrap().iter().find(|e| e["operation"] == "Update" && e["details"]["tags"].is_array()).expect("an audit entry");
    assert_eq!(e["before"]["tags"], json!(["phishing", "old"]));
    // Nothing to change: nothing changes, no new audit entry.
    let out = ui_ok(&c, &s, "cases/tags", json!({"ids": [a_id, b_id], "add": ["triaged"], "remove": []})).await;
    assert_eq!(out["done"], 0);
    assert_eq!(ui_ok(&c, &s, "cases/activity", json!({"id": b_id})).await.as_array().unwrap().len(), activity.as_array().unwrap().len());
    let out = ui_ok(&c, &s, "cases/tags", json!({"ids": [a_id], "add": [], "remove": ["phishing"]})).await;
    assert_eq!(out["done"], 1);
    assert_eq!(tags_of(&ui_ok(&c, &s, "cases/get", json!({"id": a_id})).await["case"]), vec!["triaged"]);

    // Bad input: a clear 4xx, and nothing written.
    for (body, status, kind) in [
        (json!({"ids": [a_id], "add": [""], "remove": []}), StatusCode::BAD_REQUEST, "AttributeCheckingError"),
        (json!({"ids": [a_id], "add": ["  "], "remove": []}), StatusCode::BAD_REQUEST, "AttributeCheckingError"),
        (json!({"ids": [a_id], "add": [], "remove": []}), StatusCode::BAD_REQUEST, "AttributeCheckingError"),
        (json!({"ids": [a_id], "add": ["x"], "remove": ["x"]}), StatusCode::BAD_REQUEST, "AttributeCheckingError"),
        (json!({"ids": [a_id], "add": ["x".repeat(200)], "remove": []}), StatusCode::BAD_REQUEST, "AttributeCheckingError"),
        (json!({"ids": [], "add": ["x"], "remove": []}), StatusCode::BAD_REQUEST, "BadRequest"),
        (json!({"ids": [a_id, "nope"], "add": ["x"], "remove": []}), StatusCode::NOT_FOUND, "NotFoundError"),
    ] {
        let (st, v) = ui(&c, &s, "cases/tags", body.clone()).await;
        assert_eq!(st, status, "{body}: {v}");
        assert_eq!(v["kind"], kind, "{body}: {v}");
    }
    assert_eq!(tags_of(&ui_ok(&c, &s, "cases/get", json!({"id": a_id})).await["case"]), vec!["triaged"], "all or nothing");
    // A deleted case cannot change: the whole call is refused.
    ui_ok(&c, &s, "cases/delete", json!({"id": b_id})).await;
    let (st, v) = ui(&c, &s, "cases/tags", json!({"ids": [a_id, b_id], "add": ["y"], "remove": []})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(tags_of(&ui_ok(&c, &s, "cases/get", json!({"id": a_id})).await["case"]), vec!["triaged"]);

    // Another organisation's case is not found, and stays as it is.
    let carol = s.acme_admin_ui().await;
    let theirs = ui_ok(&carol, &s, "cases/create", json!({"input": {"title": "ACME", "description": "x", "tags": ["acme"]}})).await;
    let (st, v) = ui(&c, &s, "cases/tags", json!({"ids": [theirs["id"]], "add": ["pwned"], "remove": []})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(tags_of(&ui_ok(&carol, &s, "cases/get", json!({"id": theirs["id"]})).await["case"]), vec!["acme"]);
    // Only for those who may change cases.
    let (st, _) = ui(&s.anonymous(), &s, "cases/tags", json!({"ids": [a_id], "add": ["y"], "remove": []})).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    s.create_user(&s.admin_session().await, json!({"login": "rory@soc", "name": "Rory", "password": "rory-password-1", "profile": "read-only"})).await;
    let r = s.ui_session("rory@soc", "rory-password-1").await;
    let (st, v) = ui(&r, &s, "cases/tags", json!({"ids": [a_id], "add": ["y"], "remove": []})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    s.stop().await;
}

#[tokio::test]
async fn task_due_dates_and_deletion() {
    let s = TestServer::start().await;
    let c = s.ui_session(ADMIN, PASSWORD).await;
    let case = ui_ok(&c, &s, "cases/create", json!({"input": {"title": "A", "description": "a"}})).await;
    let t = ui_ok(&c, &s, "tasks/create", json!({"case_id": case["id"], "input": {"title": "Contain", "description": "Block the sender"}})).await;
    let keep = ui_ok(&c, &s, "tasks/create", json!({"case_id": case["id"], "input": {"title": "Report"}})).await;
    let tid = t["id"].as_str().unwrap();

    // Description and due date set, then the due date cleared.
    let u = ui_ok(&c, &s, "tasks/update", json!({"id": tid, "patch": {"description": "Block *all* senders", "dueDate": 1_900_000_000_000i64}})).await;
    assert_eq!(u["dueDate"], 1_900_000_000_000i64);
    assert_eq!(ui_ok(&c, &s, "tasks/get", json!({"id": tid})).await["descriptionHtml"], "<p>Block <em>all</em> senders</p>\n");
    let u = ui_ok(&c, &s, "tasks/update", json!({"id": tid, "patch": {"clearDueDate": true}})).await;
    assert!(u["dueDate"].is_null(), "{u}");
    let (st, v) = ui(&c, &s, "tasks/update", json!({"id": tid, "patch": {"clearDueDate": true, "dueDate": 5}})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");

    // Deletion: the task and its logs go, audited in the case's activity; other tasks stay.
    ui_ok(&c, &s, "tasks/logs/add", json!({"task_id": tid, "message": "blocked"})).await;
    let carol = s.acme_admin_ui().await;
    let (st, v) = ui(&carol, &s, "tasks/delete", json!({"id": tid})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "another organisation's task: {v}");
    ui_ok(&c, &s, "tasks/get", json!({"id": tid})).await;
    ui_ok(&c, &s, "tasks/delete", json!({"id": tid})).await;
    let (st, v) = ui(&c, &s, "tasks/get", json!({"id": tid})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let (st, v) = ui(&c, &s, "tasks/delete", json!({"id": tid})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "deleted twice: {v}");
    let (st, v) = ui(&c, &s, "tasks/delete", json!({"id": "nope"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let tasks = ui_ok(&c, &s, "tasks/of-case", json!({"case_id": case["id"]})).await;
    assert_eq!(tasks.as_array().unwrap().iter().map(|t| t["id"].clone()).collect::<Vec<_>>(), vec![keep["id"].clone()]);
    let (st, logs) = post(&c, &s, "/api/case/task/log/_search", json!({"query": {}})).await;
    assert_eq!(st, StatusCode::OK, "{logs}");
    assert_eq!(logs.as_array().unwrap().len(), 0, "the task's logs went with it: {logs}");
    let activity = ui_ok(&c, &s, "cases/activity", json!({"id": case["id"]})).await;
    let e = activity.as_array().unwrap().iter().find(|e| e["operation"] == "Delete" && e["objectType"] == "case_task").expect("audited");
    assert_eq!(e["details"]["logs"], 1);
    assert_eq!(e["before"]["title"], "Contain");
    // A read-only user may not delete tasks.
    s.create_user(&s.admin_session().await, json!({"login": "rory@soc", "name": "Rory", "password": "rory-password-1", "profile": "read-only"})).await;
    let r = s.ui_session("rory@soc", "rory-password-1").await;
    let (st, _) = ui(&r, &s, "tasks/delete", json!({"id": keep["id"]})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    s.stop().await;
}

#[tokio::test]
async fn observables_are_edited_after_adding() {
    let s = TestServer::start().await;
    let c = s.ui_session(ADMIN, PASSWORD).await;
    let case = ui_ok(&c, &s, "cases/create", json!({"input": {"title": "A", "description": "a"}})).await;
    ui_ok(&c, &s, "observables/add", json!({"case_id": case["id"], "input": {"dataType": "domain", "data": ["evil.example", "bad.example"], "tlp": 2}})).await;
    let list = ui_ok(&c, &s, "observables/of-case", json!({"case_id": case["id"]})).await;
    let ids: Vec<Value> = list.as_array().unwrap().iter().map(|o| o["id"].clone()).collect();
    let one = ids[0].clone();
    let out = ui_ok(&c, &s, "observables/update", json!({"ids": [one], "patch": {"tags": ["c2", "c2", " apt "], "tlp": 3, "message": "Seen in the **proxy** logs"}})).await;
    assert_eq!(out["done"], 1);
    let list = ui_ok(&c, &s, "observables/of-case", json!({"case_id": case["id"]})).await;
    let o = list.as_array().unwrap().iter().find(|o| o["id"] == one).unwrap();
    assert_eq!(tags_of(o), vec!["c2", "apt"]);
    assert_eq!(o["tlp"], 3);
    assert_eq!(o["message"], "Seen in the **proxy** logs");
    let activity = ui_ok(&c, &s, "cases/activity", json!({"id": case["id"]})).await;
    let e = activity.as_array().unwrap().iter().find(|e| e["operation"] == "Update" && e["objectType"] == "case_artifact").expect("audited");
    assert_eq!(e["before"]["tlp"], 2);
    // Bulk TLP on both; a bad TLP is refused for each, nothing changes.
    let out = ui_ok(&c, &s, "observables/update", json!({"ids": ids, "patch": {"tlp": 1}})).await;
    assert_eq!(out["done"], 2);
    let out = ui_ok(&c, &s, "observables/update", json!({"ids": ids, "patch": {"tlp": 7}})).await;
    assert_eq!(out["done"], 0);
    assert_eq!(out["failed"].as_array().unwrap().len(), 2);
    let list = ui_ok(&c, &s, "observables/of-case", json!({"case_id": case["id"]})).await;
    assert!(list.as_array().unwrap().iter().all(|o| o["tlp"] == 1), "{list}");
    // Another organisation cannot edit them.
    let carol = s.acme_admin_ui().await;
    let out = ui_ok(&carol, &s, "observables/update", json!({"ids": ids, "patch": {"tlp": 3}})).await;
    assert_eq!(out["done"], 0);
    assert!(out["failed"][0][1].as_str().unwrap().contains("not found"), "{out}");
    s.stop().await;
}
