//! Signing in to Waggle with a directory: a real OpenLDAP `slapd` (tests/slapd), started once as
//! configured by default and once allowing unauthenticated binds (as Active Directory does).
//! Only the right password signs in (API session, Basic, the UI's login); empty, blank and NUL
//! passwords and filter-injection logins never do; group mapping gives the organisations and
//! profiles of accounts created at first sign-in (every mapped group, missing ones added at later
//! sign-ins); a user with no mapped group is refused; a
//! directory that is down gives a clear error and never a login, while local accounts still
//! sign in.

mod common;
mod slapd;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use slapd::{ANALYSTS, Options, Slapd};
use waggle::config::{GroupMapping, LdapSettings};

async fn login(s: &TestServer, user: &str, password: &str) -> (StatusCode, Value) {
    let r = s.anonymous().post(s.url("/api/login")).json(&json!({"user": user, "password": password})).send().await.unwrap();
    json(r).await
}

async fn scenario(opts: Options) {
    let Some(mut directory) = Slapd::start(opts) else { return };
    let settings = LdapSettings {
        directory: directory.config(),
        create_users: true,
        groups: vec![
            GroupMapping { group: ANALYSTS.to_uppercase(), organisation: "soc".into(), profile: "analyst".into() },
            GroupMapping { group: ANALYSTS.into(), organisation: "acme".into(), profile: "read-only".into() },
        ],
    };
    let s = TestServer::start_with(|s| s.ldap = Some(settings)).await;
    let r = s
        .anonymous()
        .post(s.url("/api/organisation"))
        .basic_auth(ADMIN, Some(PASSWORD))
        .header("x-organisation", "admin")
        .json(&json!({"name": "acme", "description": "a customer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    // The status says which sign-in methods are on.
    let (_, status) = get(&s.anonymous(), &s, "/api/status").await;
    assert!(status["config"]["authType"].as_array().unwrap().contains(&json!("ldap")), "{status}");

    // Alice (soc-analysts): the right password signs in, her account is created in soc as an
    // analyst with her directory name.
    let (code, me) = login(&s, "alice", "alice-pw").await;
    assert_eq!(code, StatusCode::OK, "{me}");
    assert_eq!(me["login"], "alice");
    assert_eq!(me["name"], "Alice Analyst");
    assert_eq!(me["organisation"], "soc");
    assert_eq!(me["profile"], "analyst");
    // Every mapped group gives its organisation: acme too, read-only there.
    let r = s.anonymous().get(s.url("/api/user/current")).basic_auth("alice", Some("alice-pw")).header("x-organisation", "acme").send().await.unwrap();
    let (code, there) = json(r).await;
    assert_eq!(code, StatusCode::OK, "{there}");
    assert_eq!(there["profile"], "read-only");
    // Basic credentials and the UI's login work the same way.
    let r = s.anonymous().get(s.url("/api/user/current")).basic_auth("ALICE", Some("alice-pw")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let ui = s.ui_session("alice", "alice-pw").await;
    let (code, _) = common::ui(&ui, &s, "auth/current", json!({})).await;
    assert_eq!(code, StatusCode::OK);

    // Wrong, empty, blank and NUL passwords; injection logins: never a sign-in.
    for pw in ["wrong", "bob-pw", "", " ", "\t ", "\0", "alice-pw\0"] {
        let (code, body) = login(&s, "alice", pw).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{pw:?}: {body}");
    }
    for user in ["*", "admin)(|(uid=*", "alice)(uid=*", "al*"] {
        let (code, body) = login(&s, user, "alice-pw").await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{user:?}: {body}");
    }
    // Carol's password is right, but no group of hers is mapped: no account for her.
    let (code, body) = login(&s, "carol", "carol-pw").await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert!(body["message"].as_str().unwrap().contains("no Waggle account"), "{body}");
    let admin = s.admin_session().await;
    let (code, _) = get(&admin, &s, "/api/user/carol").await;
    assert_eq!(code, StatusCode::NOT_FOUND);

    // The directory goes down: a clear error, never a sign-in (dave is in a mapped group and his
    // password is right); local accounts still work. (Credentials verified in the last 5 minutes,
    // like alice's, are remembered as local ones are: README, LDAP.)
    directory.stop();
    let (code, body) = login(&s, "dave", "dave-pw").await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert!(body["message"].as_str().unwrap().contains("directory cannot be reached"), "{body}");
    let (code, _) = login(&s, "alice", "wrong-while-down").await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    let (code, _) = login(&s, ADMIN, PASSWORD).await;
    assert_eq!(code, StatusCode::OK, "local accounts do not need the directory");
    s.stop().await;
}

#[tokio::test]
async fn directory_sign_in_default_slapd() {
    scenario(Options::default()).await;
}

#[tokio::test]
async fn directory_sign_in_with_unauthenticated_binds_allowed() {
    scenario(Options { allow_bind_anon_dn: true }).await;
}
