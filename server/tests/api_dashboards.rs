//! Dashboards over the v0 API: defaults seeded, CRUD, sharing rules, copy, the fixture files
//! imported, rendered, exported and re-imported unchanged; bad input.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/dashboards");

fn fixtures() -> Vec<Value> {
    let mut out = Vec::new();
    for name in ["Alert_statistics", "Case_statistics", "Job_statistics", "Observable_statistics"] {
        let text = std::fs::read_to_string(format!("{FIXTURES}/{name}.json")).expect("fixture");
        out.push(serde_json::from_str(&text).expect("fixture JSON"));
    }
    out
}

async fn search(c: &reqwest::Client, s: &TestServer) -> Vec<Value> {
    let (st, v) = json(c.post(s.url("/api/dashboard/_search?range=all")).json(&json!({"query": {}})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v.as_array().unwrap().clone()
}

#[tokio::test]
async fn defaults_crud_sharing_and_copy() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    // New organisations start with TheHive's four dashboards, shared.
    let list = search(&admin, &s).await;
    let mut titles: Vec<&str> = list.iter().map(|d| d["title"].as_str().unwrap()).collect();
    titles.sort();
    assert_eq!(titles, ["Alert statistics", "Case statistics", "Job statistics", "Observable statistics"]);
    assert!(list.iter().all(|d| d["status"] == "Shared" && d["_type"] == "dashboard" && d["definition"].is_string()));

    s.create_user(&admin, json!({"login": "ana@soc", "name": "Ana", "password": "analyst-password-1", "profile": "analyst"})).await;
    s.create_user(&admin, json!({"login": "bob@soc", "name": "Bob", "password": "analyst-password-2", "profile": "read-only"})).await;
    let ana = s.session("ana@soc", "analyst-password-1").await;
    let bob = s.session("bob@soc", "analyst-password-2").await;

    let def = json!({"period": "last7Days", "items": [{"type": "container", "items": [
        {"type": "donut", "id": "w1", "options": {"title": "By status", "entity": "alert", "field": "status", "query": {}}}]}],
        "customPeriod": {"fromDate": null, "toDate": null}});
    let (st, d) = json(ana.post(s.url("/api/dashboard")).json(&json!({"title": "Mine", "description": "x", "status": "Private", "definition": def.to_string()})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let id = d["id"].as_str().unwrap().to_string();
    assert_eq!(d["createdBy"], "ana@soc");
    assert_eq!(serde_json::from_str::<Value>(d["definition"].as_str().unwrap()).unwrap(), def);

    // Private: only its owner sees it.
    assert_eq!(search(&ana, &s).await.len(), 5);
    assert_eq!(search(&bob, &s).await.len(), 4);
    let (st, v) = json(bob.get(s.url(&format!("/api/dashboard/{id}"))).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_error(&v, "NotFoundError");
    // Shared: the organisation sees it, but only its owner changes it.
    let (st, v) = json(ana.patch(s.url(&format!("/api/dashboard/{id}"))).json(&json!({"status": "Shared"})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(search(&bob, &s).await.len(), 5);
    let (st, v) = json(bob.patch(s.url(&format!("/api/dashboard/{id}"))).json(&json!({"title": "Hijacked"})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, _) = json(bob.delete(s.url(&format!("/api/dashboard/{id}"))).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Anyone copies (a private copy of their own).
    let (st, copy) = json(bob.post(s.url(&format!("/api/dashboard/{id}/copy"))).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::CREATED, "{copy}");
    assert_eq!(copy["title"], "Copy of Mine");
    assert_eq!(copy["status"], "Private");
    assert_eq!(copy["createdBy"], "bob@soc");
    assert_eq!(copy["definition"], d["definition"]);
    // Mass assignment and bad input.
    let (st, v) = json(ana.patch(s.url(&format!("/api/dashboard/{id}"))).json(&json!({"createdBy": "bob@soc"})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_error(&v, "AttributeCheckingError");
    let (st, v) = json(ana.patch(s.url(&format!("/api/dashboard/{id}"))).json(&json!({"definition": "{not json"})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(v["message"].as_str().unwrap().contains("not valid JSON"), "{v}");
    let bad = json!({"items": [{"type": "container", "items": [{"type": "pie3d", "options": {}}]}]}).to_string();
    let (st, v) = json(ana.post(s.url("/api/dashboard")).json(&json!({"title": "x", "definition": bad})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let bad = json!({"items": [{"type": "container", "items": [{"type": "donut", "options": {"entity": "user"}}]}]}).to_string();
    let (st, v) = json(ana.post(s.url("/api/dashboard")).json(&json!({"title": "x", "definition": bad})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, _) = json(ana.patch(s.url(&format!("/api/dashboard/{id}"))).json(&json!({"status": "Deleted"})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // Delete: gone for everyone.
    let r = ana.delete(s.url(&format!("/api/dashboard/{id}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (st, _) = json(ana.get(s.url(&format!("/api/dashboard/{id}"))).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(search(&bob, &s).await.len(), 5, "the four defaults and Bob's copy");

    // Another organisation never sees these.
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
    let theirs = search(&eve, &s).await;
    assert_eq!(theirs.len(), 4, "their own defaults");
    let copy_id = copy["id"].as_str().unwrap();
    let (st, _) = json(eve.get(s.url(&format!("/api/dashboard/{copy_id}"))).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = json(eve.post(s.url(&format!("/api/dashboard/{copy_id}/copy"))).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.stop().await;
}

/// The four fixtures import unchanged, every widget's statistics compute, export and re-import
/// give identical definitions, and the server renders them to PNG.
#[tokio::test]
async fn fixtures_import_render_export_reimport() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    for file in fixtures() {
        let (st, d) = json(admin.post(s.url("/api/dashboard/_import")).json(&file).send().await.unwrap()).await;
        assert_eq!(st, StatusCode::CREATED, "{d}");
        let id = d["id"].as_str().unwrap().to_string();
        assert_eq!(d["title"], file["title"]);
        assert_eq!(serde_json::from_str::<Value>(d["definition"].as_str().unwrap()).unwrap(), file["definition"]);

        // Every widget's statistics (as the UI asks for them) answer 200.
        let def: app::model::Definition = serde_json::from_str(d["definition"].as_str().unwrap()).unwrap();
        let mut widgets = 0;
        for row in &def.items {
            for w in &row.items {
                let requests = app::chart::requests(w, &def, 1_718_000_000_000);
                assert!(!requests.is_empty(), "{} has statistics", w.kind);
                for (model, body) in requests {
                    let (st, v) = json(admin.post(s.url(&format!("/api/{model}/_stats"))).json(&body).send().await.unwrap()).await;
                    assert_eq!(st, StatusCode::OK, "{} {model} {body}: {v}", w.options.title.clone().unwrap_or_default());
                }
                widgets += 1;
                let r = admin.get(s.url(&format!("/api/dashboard/{id}/widget/{}/png?width=500", w.id))).send().await.unwrap();
                assert_eq!(r.status(), StatusCode::OK);
                let png = r.bytes().await.unwrap();
                assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
            }
        }
        assert!(widgets >= 2);
        let r = admin.get(s.url(&format!("/api/dashboard/{id}/png?theme=dark"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "image/png");
        assert_eq!(&r.bytes().await.unwrap()[..4], b"\x89PNG");

        // Export, then import the export: the same definition.
        let (st, exported) = json(admin.get(s.url(&format!("/api/dashboard/{id}/export"))).send().await.unwrap()).await;
        assert_eq!(st, StatusCode::OK);
        assert!(exported.get("id").is_none() && exported.get("createdBy").is_none());
        assert_eq!(exported["definition"], file["definition"]);
        assert_eq!(exported["title"], file["title"]);
        let (st, again) = json(admin.post(s.url("/api/dashboard/_import")).json(&exported).send().await.unwrap()).await;
        assert_eq!(st, StatusCode::CREATED);
        assert_eq!(serde_json::from_str::<Value>(again["definition"].as_str().unwrap()).unwrap(), file["definition"]);
    }
    let (st, v) = json(admin.post(s.url("/api/dashboard/_import")).json(&json!({"title": "x", "definition": "[1,"})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, _) = json(admin.post(s.url("/api/dashboard/_import")).json(&json!(["not", "a", "file"])).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    s.stop().await;
}
