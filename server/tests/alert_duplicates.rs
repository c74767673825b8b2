//! Duplicate alerts: the per-source upsert setting (through the UI's server functions and the
//! v0 API), and the duplicate check whether or not the statistics index knows the alert key yet.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn alert(source: &str, source_ref: &str, artifacts: Value) -> Value {
    json!({"type": "external", "source": source, "sourceRef": source_ref, "title": format!("Alert {source_ref}"),
           "description": "d", "artifacts": artifacts})
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
