//! Users in several organisations: platform administrators put a user in another organisation
//! with a profile there and take them out; `X-Organisation` selects where the user acts, with
//! that organisation's profile; the last membership and one's own cannot be removed; an
//! organisation administrator cannot manage memberships.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn as_admin(s: &TestServer, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut r = s.anonymous().request(method, s.url(path)).basic_auth(ADMIN, Some(PASSWORD)).header("x-organisation", "admin");
    if let Some(b) = body {
        r = r.json(&b);
    }
    json(r.send().await.unwrap()).await
}

async fn as_ana(s: &TestServer, method: Method, path: &str, org: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
    let mut r = s.anonymous().request(method, s.url(path)).basic_auth("ana@soc", Some("ana-password-1"));
    if let Some(o) = org {
        r = r.header("x-organisation", o);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    json(r.send().await.unwrap()).await
}

#[tokio::test]
async fn users_in_several_organisations() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    s.create_user(&admin, json!({"login": "ana@soc", "name": "Ana", "password": "ana-password-1", "profile": "analyst"})).await;
    let (code, _) = as_admin(&s, Method::POST, "/api/organisation", Some(json!({"name": "acme", "description": "a customer"}))).await;
    assert_eq!(code, StatusCode::CREATED);

    // Ana joins acme, read-only there.
    let (code, u) = as_admin(&s, Method::PUT, "/api/user/ana@soc/organisation/acme", Some(json!({"profile": "read-only"}))).await;
    assert_eq!(code, StatusCode::OK, "{u}");
    let (_, me) = as_ana(&s, Method::GET, "/api/user/current", Some("acme"), None).await;
    assert_eq!(me["organisation"], "acme");
    assert_eq!(me["profile"], "read-only");
    let case = json!({"title": "t", "description": "d"});
    assert_eq!(as_ana(&s, Method::POST, "/api/case", Some("acme"), Some(case.clone())).await.0, StatusCode::FORBIDDEN);
    assert_eq!(as_ana(&s, Method::POST, "/api/case", Some("soc"), Some(case.clone())).await.0, StatusCode::CREATED);
    // A case of soc does not exist in acme.
    let (_, cases) = as_ana(&s, Method::POST, "/api/case/_search", Some("acme"), Some(json!({"query": {}}))).await;
    assert_eq!(cases.as_array().map(Vec::len), Some(0));

    // Her profile in acme changes; the next request sees it.
    let (code, _) = as_admin(&s, Method::PUT, "/api/user/ana@soc/organisation/acme", Some(json!({"profile": "analyst"}))).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(as_ana(&s, Method::POST, "/api/case", Some("acme"), Some(case.clone())).await.0, StatusCode::CREATED);

    // Refused: the admin profile outside the admin organisation, an unknown profile, an unknown
    // organisation, one's own memberships, an organisation administrator doing it.
    assert_eq!(as_admin(&s, Method::PUT, "/api/user/ana@soc/organisation/acme", Some(json!({"profile": "admin"}))).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(as_admin(&s, Method::PUT, "/api/user/ana@soc/organisation/acme", Some(json!({"profile": "god"}))).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(as_admin(&s, Method::PUT, "/api/user/ana@soc/organisation/nowhere", Some(json!({"profile": "analyst"}))).await.0, StatusCode::NOT_FOUND);
    assert_eq!(as_admin(&s, Method::DELETE, &format!("/api/user/{ADMIN}/organisation/soc"), None).await.0, StatusCode::FORBIDDEN);
    let (code, _) = call(&admin, Method::PUT, &s, "/api/user/ana@soc/organisation/acme", Some(json!({"profile": "read-only"}))).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "an organisation administrator (admin's profile in soc) cannot");

    // Out of soc: her default organisation becomes acme; out of acme too: refused (the last).
    let (code, u) = as_admin(&s, Method::DELETE, "/api/user/ana@soc/organisation/soc", None).await;
    assert_eq!(code, StatusCode::OK, "{u}");
    let (_, me) = as_ana(&s, Method::GET, "/api/user/current", None, None).await;
    assert_eq!(me["organisation"], "acme");
    assert_eq!(as_ana(&s, Method::GET, "/api/user/current", Some("soc"), None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(as_admin(&s, Method::DELETE, "/api/user/ana@soc/organisation/acme", None).await.0, StatusCode::BAD_REQUEST);

    // Each change is in the security trail.
    let (_, events) = as_admin(&s, Method::GET, "/api/security/events?login=ana@soc", None).await;
    let kinds: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "membership-set").count(), 2, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "membership-removed").count(), 1, "{kinds:?}");
    s.stop().await;
}

#[tokio::test]
async fn organisations_are_renamed_and_locked() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    s.create_user(&admin, json!({"login": "ana@soc", "name": "Ana", "password": "ana-password-1", "profile": "analyst"})).await;
    assert_eq!(as_admin(&s, Method::POST, "/api/organisation", Some(json!({"name": "acme", "description": "x"}))).await.0, StatusCode::CREATED);
    assert_eq!(as_admin(&s, Method::PUT, "/api/user/ana@soc/organisation/acme", Some(json!({"profile": "analyst"}))).await.0, StatusCode::OK);
    let ana_ui = s.ui_session("ana@soc", "ana-password-1").await;
    let (code, _) = common::ui(&ana_ui, &s, "auth/switch-org", json!({"org": "acme"})).await;
    assert_eq!(code, StatusCode::OK);

    // Renamed: the memberships follow, X-Organisation takes the new name.
    let (code, o) = as_admin(&s, Method::PATCH, "/api/organisation/acme", Some(json!({"name": "acme-corp"}))).await;
    assert_eq!(code, StatusCode::OK, "{o}");
    let (_, me) = as_ana(&s, Method::GET, "/api/user/current", Some("acme-corp"), None).await;
    assert_eq!(me["organisation"], "acme-corp");
    assert_eq!(as_ana(&s, Method::GET, "/api/user/current", Some("acme"), None).await.0, StatusCode::FORBIDDEN);
    // The admin organisation keeps its name; names stay unique.
    assert_eq!(as_admin(&s, Method::PATCH, "/api/organisation/admin", Some(json!({"name": "root"}))).await.0, StatusCode::BAD_REQUEST);
    let (code, body) = as_admin(&s, Method::PATCH, "/api/organisation/acme-corp", Some(json!({"name": "soc"}))).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_error(&body, "ConflictError");

    // Locked: nobody works in it (asked for explicitly: refused); a browser that was in it moves
    // to another of the user's organisations; unlocked: back to work.
    let (code, o) = as_admin(&s, Method::PATCH, "/api/organisation/acme-corp", Some(json!({"locked": true}))).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(o["locked"], true);
    let (code, body) = as_ana(&s, Method::GET, "/api/user/current", Some("acme-corp"), None).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"].as_str().unwrap().contains("locked"), "{body}");
    let (code, me) = common::ui(&ana_ui, &s, "auth/current", json!({})).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(me["orgName"], "soc");
    assert_eq!(as_admin(&s, Method::PATCH, "/api/organisation/admin", Some(json!({"locked": true}))).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(as_admin(&s, Method::PATCH, "/api/organisation/acme-corp", Some(json!({"locked": "yes"}))).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(as_admin(&s, Method::PATCH, "/api/organisation/acme-corp", Some(json!({"locked": false}))).await.0, StatusCode::OK);
    assert_eq!(as_ana(&s, Method::GET, "/api/user/current", Some("acme-corp"), None).await.0, StatusCode::OK);
    // Only platform administrators.
    assert_eq!(call(&admin, Method::PATCH, &s, "/api/organisation/soc", Some(json!({"locked": true}))).await.0, StatusCode::FORBIDDEN);
    s.stop().await;
}

#[tokio::test]
async fn custom_profiles_give_their_permissions() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    s.create_user(&admin, json!({"login": "ana@soc", "name": "Ana", "password": "ana-password-1", "profile": "analyst"})).await;
    assert_eq!(as_admin(&s, Method::POST, "/api/organisation", Some(json!({"name": "acme", "description": "x"}))).await.0, StatusCode::CREATED);

    // A triage profile: alerts, not cases. Never the platform's permissions, never a built-in name.
    let (code, p) = as_admin(&s, Method::POST, "/api/profile", Some(json!({"name": "triage", "permissions": ["manageAlert", "manageDashboard"]}))).await;
    assert_eq!(code, StatusCode::CREATED, "{p}");
    assert_eq!(as_admin(&s, Method::POST, "/api/profile", Some(json!({"name": "boss", "permissions": ["managePlatform"]}))).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(as_admin(&s, Method::POST, "/api/profile", Some(json!({"name": "analyst", "permissions": []}))).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(as_admin(&s, Method::POST, "/api/profile", Some(json!({"name": "x", "permissions": ["fly"]}))).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(call(&admin, Method::POST, &s, "/api/profile", Some(json!({"name": "y", "permissions": []}))).await.0, StatusCode::FORBIDDEN, "org-admins do not make profiles");
    let (_, all) = as_admin(&s, Method::GET, "/api/profile", None).await;
    assert_eq!(all.as_array().unwrap().len(), 5, "4 built-in + triage: {all}");

    // Ana is triage in acme: she triages alerts there, and cannot open cases.
    let (code, _) = as_admin(&s, Method::PUT, "/api/user/ana@soc/organisation/acme", Some(json!({"profile": "triage"}))).await;
    assert_eq!(code, StatusCode::OK);
    let (_, me) = as_ana(&s, Method::GET, "/api/user/current", Some("acme"), None).await;
    assert_eq!(me["profile"], "triage");
    assert_eq!(me["permissions"], json!(["manageAlert", "manageDashboard"]));
    let alert = json!({"type": "t", "source": "s", "sourceRef": "1", "title": "a", "description": "d"});
    assert_eq!(as_ana(&s, Method::POST, "/api/alert", Some("acme"), Some(alert)).await.0, StatusCode::CREATED);
    let case = json!({"title": "t", "description": "d"});
    assert_eq!(as_ana(&s, Method::POST, "/api/case", Some("acme"), Some(case.clone())).await.0, StatusCode::FORBIDDEN);
    // In soc she is still an analyst.
    assert_eq!(as_ana(&s, Method::POST, "/api/case", Some("soc"), Some(case.clone())).await.0, StatusCode::CREATED);

    // The profile changes: her next request has the new permissions.
    let (code, _) = as_admin(&s, Method::PATCH, "/api/profile/triage", Some(json!({"permissions": ["manageAlert", "manageCase"]}))).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(as_ana(&s, Method::POST, "/api/case", Some("acme"), Some(case)).await.0, StatusCode::CREATED);
    // In use: not deleted; unused: deleted.
    assert_eq!(as_admin(&s, Method::DELETE, "/api/profile/triage", None).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(as_admin(&s, Method::PUT, "/api/user/ana@soc/organisation/acme", Some(json!({"profile": "read-only"}))).await.0, StatusCode::OK);
    assert_eq!(as_admin(&s, Method::DELETE, "/api/profile/triage", None).await.0, StatusCode::NO_CONTENT);
    s.stop().await;
}
