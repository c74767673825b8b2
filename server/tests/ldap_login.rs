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

/// The directory set up from Admin > Authentication (no `[ldap]` in the file): tested before it
/// is saved, used by the next sign-in without a restart, its password sealed and never shown,
/// kept across a restart, turned off; bad settings and non-administrators refused.
#[tokio::test]
async fn directory_settings_changed_from_the_admin_page() {
    let Some(directory) = Slapd::start(Options::default()) else { return };
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_persistent(dir, |_| {}).await;
    let admin = s.ui_session(ADMIN, PASSWORD).await;
    let c = directory.config();
    let form = json!({
        "urls": c.urls, "starttls": false, "caFile": null, "bindDn": c.bind_dn, "bindPassword": c.bind_password,
        "baseDn": c.base_dn, "userFilter": c.user_filter, "loginAttribute": "uid", "nameAttribute": "cn", "mailAttribute": "mail",
        "groupAttribute": "memberOf", "groupBase": null, "groupFilter": null, "timeoutSecs": 5, "createUsers": true,
        "groups": [[ANALYSTS, "soc", "analyst"]], "source": "",
    });
    let (code, _) = login(&s, "alice", "alice-pw").await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "no directory yet");
    // Bad settings are refused, each with its reason.
    for (key, bad) in [("userFilter", json!("uid=alice")), ("urls", json!(["http://x"])), ("groups", json!([[ANALYSTS, "nowhere", "analyst"]])), ("groups", json!([[ANALYSTS, "soc", "admin"]]))] {
        let mut f = form.clone();
        f[key] = bad;
        let (code, e) = ui(&admin, &s, "admin/directory/save", json!({"settings": f})).await;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{key}: {e}");
    }
    // A wrong service password fails the test; the right one passes.
    let mut wrong = form.clone();
    wrong["bindPassword"] = json!("nope");
    let (code, e) = ui(&admin, &s, "admin/directory/test", json!({"settings": wrong})).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{e}");
    let ok = ui_ok(&admin, &s, "admin/directory/test", json!({"settings": form})).await;
    assert!(ok.as_str().unwrap().contains("ldap://"), "{ok}");
    // Not an administrator's to change.
    s.create_user(&s.admin_session().await, json!({"login": "oa@soc", "name": "Org admin", "profile": "org-admin", "password": "org-admin-pw-1"})).await;
    let oa = s.ui_session("oa@soc", "org-admin-pw-1").await;
    let (code, _) = ui(&oa, &s, "admin/directory/save", json!({"settings": form})).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    // Saved: the next sign-in uses it; the password shows as a mask, and is kept when sent back.
    let saved = ui_ok(&admin, &s, "admin/directory/save", json!({"settings": form})).await;
    assert_eq!(saved["ldap"]["bindPassword"], "********", "{saved}");
    assert!(!saved.to_string().contains("svc-secret"));
    assert!(saved["methods"].as_array().unwrap().contains(&json!("ldap")));
    let (code, me) = login(&s, "alice", "alice-pw").await;
    assert_eq!(code, StatusCode::OK, "{me}");
    assert_eq!(me["profile"], "analyst");
    let mut masked = form.clone();
    masked["bindPassword"] = json!("********");
    masked["createUsers"] = json!(false);
    ui_ok(&admin, &s, "admin/directory/save", json!({"settings": masked})).await;
    let (code, _) = login(&s, "alice", "alice-pw").await;
    assert_eq!(code, StatusCode::OK, "the service password was kept");
    // Sealed at rest; kept across a restart.
    let state = &s.running.as_ref().unwrap().state;
    let mut r = state.store.query("SELECT VALUE settings.bind_password FROM setting", waggle::vars! {}).await.unwrap();
    let stored: Vec<String> = r.rows(0).unwrap();
    assert!(stored[0].starts_with("enc:v1:"), "{stored:?}");
    let trail = ui_ok(&admin, &s, "admin/security-events", json!({})).await;
    assert!(trail.to_string().contains("settings-changed"), "{trail}");
    let dir = s.stop().await;
    let s = TestServer::start_persistent(dir, |_| {}).await;
    let (code, _) = login(&s, "alice", "alice-pw").await;
    assert_eq!(code, StatusCode::OK, "after a restart");
    // Turned off: directory users no longer sign in.
    let admin = s.ui_session(ADMIN, PASSWORD).await;
    let off = ui_ok(&admin, &s, "admin/directory/save", json!({"settings": null})).await;
    assert!(off["ldap"].is_null());
    let (code, _) = login(&s, "alice", "alice-pw").await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    s.stop().await;
}
