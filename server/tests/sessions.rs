//! Sessions and credentials: the first administrator's random password only in a 0600 file;
//! changing one's own password ends one's other sessions (and keeps the one that changed it);
//! sessions end at their absolute lifetime however active; cross-site requests are refused with
//! and without an `Authorization` header; a body a cross-site form can send is never JSON.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_first_password_is_in_a_private_file_and_changed_at_first_sign_in() {
    let s = TestServer::start_with(|s| s.admin_password = None).await;
    let file = s.dir.path().join("initial-admin-password");
    let mode = std::fs::metadata(&file).expect("password file").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let password = std::fs::read_to_string(&file).unwrap().trim().to_string();
    assert!(password.len() >= 16);
    // Nobody chose it: the UI asks for a new one first; the user's own choice ends that.
    let c = s.ui_session(ADMIN, &password).await;
    let (_, me) = ui(&c, &s, "auth/current", json!({})).await;
    assert_eq!(me["mustChangePassword"], true);
    let (code, _) = ui(&c, &s, "me/password", json!({"current": password, "new": "my-own-password-1"})).await;
    assert_eq!(code, StatusCode::OK);
    let (_, me) = ui(&c, &s, "auth/current", json!({})).await;
    assert_eq!(me["mustChangePassword"], false);
    // A password given at the first start (WAGGLE_ADMIN_PASSWORD) was chosen: no forced change.
    let chosen = TestServer::start().await;
    let c = chosen.ui_session(ADMIN, PASSWORD).await;
    assert_eq!(ui(&c, &chosen, "auth/current", json!({})).await.1["mustChangePassword"], false);
    chosen.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn changing_ones_password_ends_ones_other_sessions() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    s.create_user(&admin, json!({"login": "ana@soc", "name": "Ana", "password": "ana-password-1", "profile": "analyst"})).await;
    let here = s.session("ana@soc", "ana-password-1").await;
    let there = s.session("ana@soc", "ana-password-1").await;
    let in_ui = s.ui_session("ana@soc", "ana-password-1").await;
    let key = s.key_for("ana@soc", "ana-password-1").await;
    let r = here
        .post(s.url("/api/user/ana@soc/password/change"))
        .json(&json!({"currentPassword": "ana-password-1", "password": "ana-password-2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(get(&here, &s, "/api/user/current").await.0, StatusCode::OK, "the session that changed it stays");
    assert_eq!(get(&there, &s, "/api/user/current").await.0, StatusCode::UNAUTHORIZED, "another session ends");
    assert_eq!(ui(&in_ui, &s, "auth/current", json!({})).await.0, StatusCode::UNAUTHORIZED, "the UI's too");
    let r = s.anonymous().get(s.url("/api/user/current")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "API keys are not sessions");
    // The same from the UI's change: the UI session stays, the v0 one ends.
    let ui2 = s.ui_session("ana@soc", "ana-password-2").await;
    let (code, _) = common::ui(&ui2, &s, "me/password", json!({"current": "ana-password-2", "new": "ana-password-3"})).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(common::ui(&ui2, &s, "auth/current", json!({})).await.0, StatusCode::OK);
    assert_eq!(get(&here, &s, "/api/user/current").await.0, StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test]
async fn sessions_end_at_their_absolute_lifetime() {
    let s = TestServer::start().await;
    let c = s.admin_session().await;
    assert_eq!(get(&c, &s, "/api/user/current").await.0, StatusCode::OK);
    // Signed in 25 hours ago (the default lifetime is 24 hours), active ever since.
    let store = &s.running.as_ref().unwrap().state.store;
    let ago = waggle::core::store::now_millis() - 25 * 3_600_000;
    let mut vars = waggle::core::store::Vars::default();
    vars.insert("t".into(), json!(ago));
    store.query("UPDATE session SET data.started = $t", vars).await.unwrap();
    let (code, body) = get(&c, &s, "/api/user/current").await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert!(body["message"].as_str().unwrap().contains("expired"), "{body}");
    s.stop().await;
}

#[tokio::test]
async fn cross_site_requests_are_refused_with_or_without_authorization() {
    let s = TestServer::start().await;
    let c = s.admin_session().await;
    let case = json!({"title": "t", "description": "d"});
    // A cross-site POST riding on the cookie, and one riding on cached Basic credentials.
    let r = c.post(s.url("/api/case")).header("origin", "https://evil.example").json(&case).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = s
        .anonymous()
        .post(s.url("/api/case"))
        .basic_auth(ADMIN, Some(PASSWORD))
        .header("sec-fetch-site", "cross-site")
        .json(&case)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "an Authorization header does not exempt a cross-site request");
    // Scripts (no Origin, no Sec-Fetch-Site) and same-origin pages pass.
    let r = s.anonymous().post(s.url("/api/case")).basic_auth(ADMIN, Some(PASSWORD)).json(&case).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = c.post(s.url("/api/case")).header("origin", s.base.clone()).header("sec-fetch-site", "same-origin").json(&case).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // What an HTML form can send is not JSON, even same-site and with credentials; without a
    // Content-Type (older feeders) the body is still read as JSON.
    for ct in ["text/plain", "application/x-www-form-urlencoded", "text/plain; charset=utf-8"] {
        let r = c.post(s.url("/api/case")).header("content-type", ct).body(case.to_string()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{ct}");
        let (_, body) = json(r).await;
        assert_error(&body, "BadRequest");
    }
    let r = c.post(s.url("/api/case")).body(case.to_string()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    s.stop().await;
}

#[tokio::test]
async fn the_security_trail_records_sign_ins_and_credential_changes() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    s.create_user(&admin, json!({"login": "ana@soc", "name": "Ana", "password": "ana-password-1", "profile": "analyst"})).await;
    let r = s.anonymous().post(s.url("/api/login")).json(&json!({"user": "ana@soc", "password": "nope"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let ana = s.session("ana@soc", "ana-password-1").await;
    let r = ana.post(s.url("/api/user/ana@soc/key/renew")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = ana.get(s.url("/api/logout")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (code, _) = patch(&admin, &s, "/api/user/ana@soc", json!({"status": "Locked"})).await;
    assert_eq!(code, StatusCode::OK);

    let (code, events) = get(&admin, &s, "/api/security/events?login=ana@soc").await;
    assert_eq!(code, StatusCode::OK, "{events}");
    let kinds: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["locked", "logout", "key-renewed", "login", "login-failed", "user-created"], "newest first");
    let failed = &events[4];
    assert_eq!(failed["from"], "127.0.0.1", "a failed sign-in keeps the client's address");
    assert_eq!(events[0]["by"], ADMIN);
    // Only platform administrators read it.
    let soc_admin = s.acme_admin().await;
    let (code, _) = get(&soc_admin, &s, "/api/security/events").await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    s.stop().await;
}
