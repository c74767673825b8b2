//! Edits of an organisation's catalog take effect at once: the case template defaults the
//! template editor sets reach new cases; data type and custom field changes apply on the next
//! request.

mod common;


use common::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

fn alert(source: &str, source_ref: &str, artifacts: Value) -> Value {
    json!({"type": "external", "source": source, "sourceRef": source_ref, "title": format!("Alert {source_ref}"),
           "description": "d", "artifacts": artifacts})
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
