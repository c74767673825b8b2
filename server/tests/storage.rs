//! The durable embedded store: first start, restarts, migrations, clean shutdown.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn restart_keeps_data_and_never_resets_the_admin() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_persistent(dir, |_| {}).await;
    let admin = s.admin_session().await;
    s.create_user(&admin, json!({"login": "erin@soc", "name": "Erin", "password": "erin-password"})).await;
    let dir = s.stop().await;

    // A different WAGGLE_ADMIN_PASSWORD at the next start changes nothing.
    let s = TestServer::start_persistent(dir, |st| st.admin_password = Some("another-password".into())).await;
    s.session(ADMIN, PASSWORD).await;
    s.session("erin@soc", "erin-password").await;
    let r = s.anonymous().post(s.url("/api/login")).json(&json!({"user": ADMIN, "password": "another-password"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test]
async fn random_first_password_when_none_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_persistent(dir, |st| st.admin_password = None).await;
    let r = s.anonymous().post(s.url("/api/login")).json(&json!({"user": ADMIN, "password": PASSWORD})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "a random password, not a known default");
    s.stop().await;
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_persistent(dir, |_| {}).await;
    s.running
        .as_ref()
        .unwrap()
        .state
        .store
        .query("CREATE _migration:999 CONTENT { version: 999, name: 'future' }", waggle::vars! {})
        .await
        .unwrap();
    let dir = s.stop().await;
    let mut settings = waggle::config::Settings::ephemeral(dir.path());
    settings.database = format!("surrealkv://{}", dir.path().join("db").display());
    let err = waggle::server::start(settings).await.err().expect("refused");
    assert!(format!("{err:#}").contains("newer than this Waggle binary"), "{err:#}");
}

#[tokio::test]
async fn starting_twice_is_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_persistent(dir, |_| {}).await;
    let dir = s.stop().await;
    let s = TestServer::start_persistent(dir, |_| {}).await;
    let (_, orgs) = json(s.admin_session().await.post(s.url("/api/organisation/_search")).send().await.unwrap()).await;
    let names: Vec<&str> = orgs.as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["admin", "soc"], "each organisation is created once");
    s.stop().await;
}

#[tokio::test]
async fn the_lookup_index_is_warmed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_persistent(dir, |_| {}).await;
    let admin = s.admin_session().await;
    let (st, case) = post(&admin, &s, "/api/case", json!({"title": "Warm", "description": "d"})).await;
    assert_eq!(st, StatusCode::CREATED, "{case}");
    let values = ["198.51.100.7", "198.51.100.8", "198.51.100.9"];
    let (st, v) = post(&admin, &s, &format!("/api/case/{}/artifact", case["id"].as_str().unwrap()), json!({"dataType": "ip", "data": values})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let dir = s.stop().await;

    // At the next start the warm-up reads every entry of the lookup index, then says it is done.
    let s = TestServer::start_persistent(dir, |_| {}).await;
    let running = s.running.as_ref().unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(30), running.warmed.clone().wait_for(|w| *w)).await.expect("warmed in time").unwrap();
    assert_eq!(waggle::core::store::warm::lookup_indexes(&running.state.store).await.unwrap(), values.len() as u64);
    s.stop().await;
}
