//! The foundation's API plumbing, against a real server on 127.0.0.1.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn status_and_health_are_public() {
    let s = TestServer::start().await;
    let c = s.anonymous();
    let (st, v) = json(c.get(s.url("/api/status")).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["versions"]["Waggle"], waggle::VERSION);
    assert_eq!(v["connectors"]["cortex"]["enabled"], false);
    assert_eq!(v["connectors"]["misp"]["enabled"], false);
    assert!(v["config"]["authType"].as_array().unwrap().iter().any(|a| a == "key"));
    let r = c.get(s.url("/api/health")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "Ok");
    s.stop().await;
}

#[tokio::test]
async fn errors_have_the_api_shape() {
    let s = TestServer::start_with(|st| st.max_body_bytes = 1024 * 1024).await;
    let admin = s.admin_session().await;

    let (st, v) = json(admin.get(s.url("/api/no/such/thing")).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_error(&v, "NotFoundError");

    let (st, v) = json(admin.put(s.url("/api/status")).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED);
    assert_error(&v, "MethodNotAllowed");

    let (st, v) = json(
        admin.post(s.url("/api/user")).header("content-type", "application/json").body("{\"login\": ").send().await.unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_error(&v, "BadRequest");

    let (st, v) = json(admin.post(s.url("/api/user")).body(vec![0xffu8, 0xfe, 0x00]).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_error(&v, "BadRequest");

    let big = "x".repeat(2 * 1024 * 1024);
    let (st, v) = json(admin.post(s.url("/api/user")).body(big).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error(&v, "RequestEntityTooLarge");

    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    let (st, v) = json(admin.post(s.url("/api/user")).body(deep).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_error(&v, "BadRequest");

    let (st, v) = json(admin.post(s.url("/api/user")).json(&json!({"login": "x@y", "colour": "red"})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_error(&v, "AttributeCheckingError");
    assert_eq!(v["errors"][0]["name"], "user.colour");
    s.stop().await;
}

#[tokio::test]
async fn every_private_route_requires_authentication() {
    let s = TestServer::start().await;
    let c = s.anonymous();
    let (_, doc) = json(c.get(s.url("/api/openapi.json")).send().await.unwrap()).await;
    let paths = doc["paths"].as_object().expect("openapi paths");
    assert!(paths.len() >= 10, "documented routes: {}", paths.len());
    let mut checked = 0;
    for (path, ops) in paths {
        let concrete = path.replace("{id}", "some-id");
        for method in ops.as_object().unwrap().keys() {
            let public = waggle::api::PUBLIC_ROUTES.contains(&path.as_str());
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = c.request(m.clone(), s.url(&concrete)).json(&json!({})).send().await.unwrap();
            if public {
                assert_ne!(r.status(), StatusCode::NOT_FOUND, "{method} {path}");
            } else {
                let (st, v) = json(r).await;
                assert_eq!(st, StatusCode::UNAUTHORIZED, "{method} {path} answered {st} without credentials");
                assert_error(&v, "AuthenticationError");
            }
            checked += 1;
        }
    }
    assert!(checked >= 15);
    s.stop().await;
}

#[tokio::test]
async fn sessions_login_logout_and_fixation() {
    let s = TestServer::start().await;
    let c = s.anonymous();
    let (st, v) = json(c.post(s.url("/api/login")).json(&json!({"user": ADMIN, "password": "wrong-password"})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_error(&v, "AuthenticationError");

    let login = |c: reqwest::Client| {
        let url = s.url("/api/login");
        async move {
            let r = c.post(url).json(&json!({"user": ADMIN, "password": PASSWORD})).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let cookie = r.headers().get("set-cookie").expect("session cookie").to_str().unwrap().to_string();
            (cookie, r.json::<Value>().await.unwrap())
        }
    };
    let (cookie1, me) = login(c.clone()).await;
    assert!(cookie1.contains("HttpOnly"), "{cookie1}");
    assert!(cookie1.contains("SameSite=Strict"), "{cookie1}");
    assert_eq!(me["login"], ADMIN);
    assert_eq!(me["organisation"], "soc");
    assert_eq!(me["profile"], "org-admin");
    let (cookie2, _) = login(c.clone()).await;
    assert_ne!(cookie1.split(';').next(), cookie2.split(';').next(), "a new session id at each login");

    let (st, v) = json(c.get(s.url("/api/user/current")).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["login"], ADMIN);
    assert!(v.get("passwordHash").is_none() && !v.to_string().contains("argon2"), "no secret in {v}");

    let r = c.get(s.url("/api/logout")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (st, _) = json(c.get(s.url("/api/user/current")).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // The old cookie, replayed by hand, is dead too.
    let raw = reqwest::Client::new();
    let r = raw.get(s.url("/api/user/current")).header("cookie", cookie2.split(';').next().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test]
async fn api_keys_basic_auth_and_organisations() {
    let s = TestServer::start().await;
    let raw = reqwest::Client::new();
    let r = raw.get(s.url("/api/user/current")).basic_auth(ADMIN, Some(PASSWORD)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = raw.get(s.url("/api/user/current")).basic_auth(ADMIN, Some("nope-nope")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let key = s.key_for(ADMIN, PASSWORD).await;
    assert_eq!(key.len(), 43);
    let (st, v) = json(raw.get(s.url("/api/user/current")).bearer_auth(&key).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["organisation"], "soc", "default organisation without X-Organisation");
    assert_eq!(v["has-key"], true);

    let (st, v) = json(raw.get(s.url("/api/user/current")).bearer_auth(&key).header("X-Organisation", "admin").send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["profile"], "admin");

    let (st, v) = json(raw.get(s.url("/api/user/current")).bearer_auth(&key).header("X-Organisation", "elsewhere").send().await.unwrap()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_error(&v, "AuthorizationError");

    // Renewing replaces the key; the key cannot be read back.
    let key2 = s.key_for(ADMIN, PASSWORD).await;
    assert_ne!(key, key2);
    let r = raw.get(s.url("/api/user/current")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (st, v) = json(raw.get(s.url("/api/user/current")).bearer_auth("never-issued").send().await.unwrap()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_error(&v, "AuthenticationError");
    let (st, _) = json(raw.get(s.url(&format!("/api/user/{ADMIN}/key"))).bearer_auth(&key2).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn brute_force_is_throttled() {
    let s = TestServer::start().await;
    let c = s.anonymous();
    for _ in 0..5 {
        let r = c.post(s.url("/api/login")).json(&json!({"user": ADMIN, "password": "wrong-password"})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let (st, v) = json(c.post(s.url("/api/login")).json(&json!({"user": ADMIN, "password": PASSWORD})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "the right password is refused from this address during the wait");
    assert!(v["message"].as_str().unwrap().contains("Too many"), "{v}");
    // Another address (127.0.0.2, still the loopback interface) is not held back: five bad
    // attempts cannot lock the administrator, or a feeder using Basic credentials, out.
    let other = reqwest::Client::builder().local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    let r = other.get(s.url("/api/user/current")).basic_auth(ADMIN, Some(PASSWORD)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "Basic credentials from another address");
    // The wait escalates, and passes: after it, the right password works from the first address.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (st, v) = json(c.post(s.url("/api/login")).json(&json!({"user": ADMIN, "password": PASSWORD})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK, "after the 1 s wait: {v}");
    s.stop().await;
}

#[tokio::test]
async fn no_privilege_escalation() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    s.create_user(&admin, json!({"login": "reader@soc", "name": "Reader", "roles": ["read"], "password": "reader-password"})).await;
    s.create_user(&admin, json!({"login": "boss@soc", "name": "Boss", "profile": "org-admin", "password": "boss-password"})).await;
    let reader = s.session("reader@soc", "reader-password").await;

    // TheHive 3.0.2: a read-only user granting themselves admin.
    for body in [json!({"roles": ["admin"]}), json!({"profile": "org-admin"}), json!({"status": "Ok"})] {
        let (st, v) = json(reader.patch(s.url("/api/user/reader@soc")).json(&body).send().await.unwrap()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{body} -> {v}");
    }
    // Mass assignment: every other field is refused outright.
    for body in [json!({"passwordHash": "x"}), json!({"memberships": []}), json!({"login": "root"}), json!({"hasKey": true}), json!({"defaultOrg": "x"})] {
        let (st, v) = json(reader.patch(s.url("/api/user/reader@soc")).json(&body).send().await.unwrap()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body} -> {v}");
        assert_error(&v, "AttributeCheckingError");
    }
    let (_, me) = json(reader.get(s.url("/api/user/current")).send().await.unwrap()).await;
    assert_eq!(me["profile"], "read-only");
    // A reader renames themselves: allowed.
    let (st, v) = json(reader.patch(s.url("/api/user/reader@soc")).json(&json!({"name": "R. Eader"})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // An organisation administrator cannot make platform administrators or touch the platform admin.
    let boss = s.session("boss@soc", "boss-password").await;
    let (st, _) = json(boss.post(s.url("/api/user")).json(&json!({"login": "evil@soc", "name": "E", "profile": "admin"})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = json(boss.post(s.url(&format!("/api/user/{ADMIN}/password/set"))).json(&json!({"password": "taken-over!"})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = json(boss.post(s.url(&format!("/api/user/{ADMIN}/key/renew"))).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = json(boss.post(s.url("/api/organisation")).json(&json!({"name": "mine"})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // ...but manages the reader.
    let (st, v) = json(boss.patch(s.url("/api/user/reader@soc")).json(&json!({"roles": ["read", "write"]})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["profile"], "analyst");
    s.stop().await;
}

#[tokio::test]
async fn organisations_isolate_users() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    // Platform administration happens in the admin organisation.
    let key = s.key_for(ADMIN, PASSWORD).await;
    let raw = reqwest::Client::new();
    let (st, v) = json(
        raw.post(s.url("/api/organisation")).bearer_auth(&key).header("X-Organisation", "admin").json(&json!({"name": "acme", "description": "Customer"})).send().await.unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = json(
        raw.post(s.url("/api/user"))
            .bearer_auth(&key)
            .header("X-Organisation", "admin")
            .json(&json!({"login": "carol@acme", "name": "Carol", "organisation": "acme", "profile": "org-admin", "password": "carol-password"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let carol = s.session("carol@acme", "carol-password").await;
    let (_, users) = json(carol.post(s.url("/api/user/_search")).send().await.unwrap()).await;
    let logins: Vec<&str> = users.as_array().unwrap().iter().map(|u| u["login"].as_str().unwrap()).collect();
    assert_eq!(logins, vec!["carol@acme"], "another organisation's users are invisible");
    let (st, _) = json(carol.get(s.url(&format!("/api/user/{ADMIN}"))).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, orgs) = json(carol.post(s.url("/api/organisation/_search")).send().await.unwrap()).await;
    assert_eq!(orgs.as_array().unwrap().len(), 1);
    let (st, _) = json(admin.get(s.url("/api/user/carol@acme")).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "the soc org admin does not see acme's users");
    s.stop().await;
}

#[tokio::test]
async fn locked_users_lose_their_sessions() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    s.create_user(&admin, json!({"login": "dave@soc", "name": "Dave", "password": "dave-password"})).await;
    let dave = s.session("dave@soc", "dave-password").await;
    assert_eq!(dave.get(s.url("/api/user/current")).send().await.unwrap().status(), StatusCode::OK);
    let (st, v) = json(admin.patch(s.url("/api/user/dave@soc")).json(&json!({"status": "Locked"})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(dave.get(s.url("/api/user/current")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let r = s.anonymous().post(s.url("/api/login")).json(&json!({"user": "dave@soc", "password": "dave-password"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    s.stop().await;
}

/// Users behind API keys are kept in memory: every change to a user or a key must be seen by
/// the very next request.
#[tokio::test]
async fn api_key_callers_follow_user_changes() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    s.create_user(&admin, json!({"login": "erin@soc", "name": "Erin", "password": "erin-password"})).await;
    let key = s.key_for("erin@soc", "erin-password").await;
    let raw = reqwest::Client::new();
    let me = |key: String| {
        let raw = raw.clone();
        let url = s.url("/api/user/current");
        async move { json(raw.get(url).bearer_auth(key).send().await.unwrap()).await }
    };
    for _ in 0..3 {
        let (st, v) = me(key.clone()).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["profile"], "analyst");
        assert_eq!(v["name"], "Erin");
    }
    // Profile and name changes show at once.
    let (st, v) = json(admin.patch(s.url("/api/user/erin@soc")).json(&json!({"profile": "read-only", "name": "Erin R."})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, v) = me(key.clone()).await;
    assert_eq!(v["profile"], "read-only");
    assert_eq!(v["name"], "Erin R.");
    let r = raw.post(s.url("/api/case")).bearer_auth(&key).json(&json!({"title": "t", "description": "d"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a read-only key cannot write");

    // A renewed key replaces the old one at once.
    let r = admin.post(s.url("/api/user/erin@soc/key/renew")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let renewed = r.text().await.unwrap();
    let (st, v) = me(key.clone()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "the replaced key still works: {v}");
    assert_eq!(me(renewed.clone()).await.0, StatusCode::OK);

    // Revoked: refused at once.
    let r = admin.delete(s.url("/api/user/erin@soc/key")).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(me(renewed.clone()).await.0, StatusCode::UNAUTHORIZED);

    // Locked: a fresh key stops working at once.
    let r = admin.post(s.url("/api/user/erin@soc/key/renew")).send().await.unwrap();
    let third = r.text().await.unwrap();
    assert_eq!(me(third.clone()).await.0, StatusCode::OK);
    let (st, v) = json(admin.patch(s.url("/api/user/erin@soc")).json(&json!({"status": "Locked"})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = me(third).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
    assert_error(&v, "AuthenticationError");
    s.stop().await;
}

#[tokio::test]
async fn headers_request_ids_and_csrf() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let r = admin.get(s.url("/api/user/current")).send().await.unwrap();
    let h = r.headers();
    assert!(h.get("x-request-id").is_some());
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert_eq!(h["referrer-policy"], "no-referrer");

    let r = admin.get(s.url("/api/status")).header("x-request-id", "trace-me-42").send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-me-42");

    // A cross-site form post riding on the session cookie is refused.
    let (st, v) = json(
        admin.post(s.url("/api/user")).header("origin", "https://evil.example").json(&json!({"login": "x@y", "name": "x"})).send().await.unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, _) = json(
        admin.post(s.url("/api/user")).header("sec-fetch-site", "cross-site").json(&json!({"login": "x@y", "name": "x"})).send().await.unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    s.stop().await;
}

#[tokio::test]
async fn ui_is_served_with_client_routes() {
    let s = TestServer::start().await;
    let c = s.anonymous();
    for path in ["/", "/cases", "/cases/some/deep/route", "/login"] {
        let r = c.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert_eq!(r.headers()["cache-control"], "no-cache");
        assert!(r.text().await.unwrap().contains("<html"));
    }
    assert_eq!(c.get(s.url("/missing-file.js")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn server_functions_require_a_session() {
    let s = TestServer::start().await;
    let c = s.anonymous();
    let r = c.post(s.url("/ui/auth/current")).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "a missing session is a 401");
    let text = r.text().await.unwrap();
    assert!(text.contains("AuthenticationError"), "{text}");
    let r = c.post(s.url("/ui/auth/login")).json(&json!({"login": ADMIN, "password": PASSWORD})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, me) = json(c.post(s.url("/ui/auth/current")).json(&json!({})).send().await.unwrap()).await;
    assert_eq!(me["login"], ADMIN);
    assert_eq!(me["orgName"], "soc");
    // Arguments that do not decode are the caller's mistake: a 400 in the UI's error shape.
    for body in ["", "garbage", "{\"login\":"] {
        let r = c.post(s.url("/ui/auth/login")).header("content-type", "application/json").body(body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body:?}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["kind"], "BadRequest", "{e}");
    }
    s.stop().await;
}

#[tokio::test]
async fn connector_addresses_are_for_platform_administrators() {
    let s = TestServer::start_with(|s| {
        s.misp.push(waggle::config::MispConfig::server("misp-prod", "http://127.0.0.1:9", "k"));
    })
    .await;
    let admin = s.admin_session().await;
    let (_, u) = post(&admin, &s, "/api/user", json!({"login": "ana@soc", "name": "Ana", "password": "ana-password-1", "profile": "analyst"})).await;
    assert_eq!(u["login"], "ana@soc");
    let urls = |v: &Value| -> Vec<String> {
        v["connectors"].as_array().unwrap().iter().flat_map(|c| c["servers"].as_array().unwrap().iter()).map(|s| s["url"].as_str().unwrap().to_string()).collect()
    };
    let ana = s.ui_session("ana@soc", "ana-password-1").await;
    let seen = ui_ok(&ana, &s, "status", json!({})).await;
    assert_eq!(urls(&seen), vec![String::new()], "an analyst sees the health, not the address");
    let admin_ui = s.ui_session(ADMIN, PASSWORD).await;
    let seen = ui_ok(&admin_ui, &s, "status", json!({})).await;
    assert_eq!(urls(&seen), vec!["http://127.0.0.1:9".to_string()]);
    // The public status never had addresses.
    let (_, public) = get(&s.anonymous(), &s, "/api/status").await;
    assert!(!public.to_string().contains("127.0.0.1:9"));
    s.stop().await;
}
