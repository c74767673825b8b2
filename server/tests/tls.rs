//! Waggle's own TLS and sign-in with X.509 client certificates, against a PKI made with the
//! openssl CLI (`tests/pki/make-pki.sh`): a valid certificate signs its holder in over the API
//! (session-less, and through the UI's server functions), every bad one is refused at the
//! handshake, an unknown holder is refused or created, cookies and HSTS follow TLS, a trusted
//! proxy's header is believed only from its address, and the real binary reloads its CRL on
//! SIGHUP.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use reqwest::{Certificate, Client, Identity, StatusCode};
use serde_json::{Value, json};
use waggle::config::{CertificateLogin, Settings};
use waggle::core::tls::{ClientAuth, TlsConfig};

/// A fresh PKI in a temporary directory.
fn pki() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pki/make-pki.sh");
    let out = Command::new("bash").arg(script).arg(dir.path()).output().expect("openssl CLI");
    assert!(out.status.success(), "PKI: {}", String::from_utf8_lossy(&out.stderr));
    dir
}

fn tls_config(pki: &Path, mode: ClientAuth) -> TlsConfig {
    TlsConfig {
        cert_chain: pki.join("server.chain.pem"),
        key: pki.join("server.key"),
        client_auth: mode,
        client_ca: Some(pki.join("client-ca.pem")),
        crls: vec![pki.join("root.crl.pem"), pki.join("int.crl.pem")],
        verify_depth: 4,
        require_eku_client_auth: true,
    }
}

async fn tls_server(pki: &Path, mode: ClientAuth, f: impl FnOnce(&mut Settings)) -> TestServer {
    let tls = tls_config(pki, mode);
    let mut s = TestServer::start_with(|s| {
        s.tls = Some(tls);
        s.secure_cookies = true;
        f(s);
    })
    .await;
    s.base = s.base.replace("http://", "https://");
    s
}

/// A client that trusts the test root, presenting `name`'s certificate (with its chain) if given.
fn client(pki: &Path, name: Option<&str>) -> Client {
    let root = Certificate::from_pem(&std::fs::read(pki.join("root.pem")).unwrap()).unwrap();
    let mut b = Client::builder().add_root_certificate(root).cookie_store(true).timeout(Duration::from_secs(10));
    if let Some(name) = name {
        let mut chain = std::fs::read(pki.join(format!("{name}.pem"))).unwrap();
        chain.extend(std::fs::read(pki.join("int.pem")).unwrap());
        let key = std::fs::read(pki.join(format!("{name}.key"))).unwrap();
        b = b.identity(Identity::from_pkcs8_pem(&chain, &key).expect("identity"));
    }
    b.build().unwrap()
}

async fn create_user(s: &TestServer, pki: &Path, login: &str, profile: &str) {
    let admin = client(pki, None);
    let r = admin
        .post(s.url("/api/user"))
        .basic_auth(ADMIN, Some(PASSWORD))
        .json(&json!({"login": login, "name": login, "profile": profile}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap_or_default());
}

async fn whoami(c: &Client, s: &TestServer) -> Result<(StatusCode, Value), reqwest::Error> {
    let r = c.get(s.url("/api/user/current")).send().await?;
    let status = r.status();
    Ok((status, r.json().await.unwrap_or(Value::Null)))
}

#[tokio::test]
async fn certificates_sign_in_and_bad_ones_are_refused() {
    let dir = pki();
    let pki = dir.path();
    let s = tls_server(pki, ClientAuth::Optional, |_| {}).await;
    create_user(&s, pki, "alice@example.org", "analyst").await;

    // A valid certificate signs alice in: no password, no session, the v0 API and the UI's.
    let alice = client(pki, Some("alice"));
    let (status, me) = whoami(&alice, &s).await.expect("handshake with alice's certificate");
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["login"], "alice@example.org");
    let r = alice.post(s.url("/ui/auth/current")).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let ui: Value = r.json().await.unwrap();
    assert_eq!(ui["login"], "alice@example.org");
    assert_eq!(ui["byCertificate"], true);
    let r = alice.post(s.url("/api/case")).json(&json!({"title": "by certificate", "description": "d"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let case: Value = r.json().await.unwrap();
    assert_eq!(case["createdBy"], "alice@example.org");

    // HSTS on every HTTPS answer.
    let r = alice.get(s.url("/api/status")).send().await.unwrap();
    assert!(r.headers().get("strict-transport-security").is_some(), "HSTS over TLS");

    // Signing out of the certificate: this client is no longer signed in by it until alice
    // chooses to be again (the login page's button).
    let r = alice.post(s.url("/ui/auth/logout")).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(whoami(&alice, &s).await.unwrap().0, StatusCode::UNAUTHORIZED);
    let r = alice.post(s.url("/ui/auth/certificate")).json(&json!({})).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!("alice@example.org"));
    let r = alice.post(s.url("/ui/auth/certificate-login")).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(whoami(&alice, &s).await.unwrap().1["login"], "alice@example.org");

    // Without a certificate (optional mode): not signed in; the password still works, and the
    // session cookie is `__Host-` and Secure over TLS.
    let nobody = client(pki, None);
    assert_eq!(whoami(&nobody, &s).await.unwrap().0, StatusCode::UNAUTHORIZED);
    let r = nobody.post(s.url("/api/login")).json(&json!({"user": ADMIN, "password": PASSWORD})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers().get("set-cookie").expect("session cookie").to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-waggle="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("Path=/"), "{cookie}");
    assert_eq!(whoami(&nobody, &s).await.unwrap().1["login"], ADMIN);

    // A valid certificate of someone without an account: refused (no auto-creation here).
    let bob = client(pki, Some("bob"));
    let (status, body) = whoami(&bob, &s).await.expect("bob's certificate is valid");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "AuthenticationError");
    assert!(body["message"].as_str().unwrap().contains("not linked"), "{body}");

    // Refused at the handshake: expired, not yet valid, revoked (CRL), self-signed with alice's
    // subject, extendedKeyUsage serverAuth only, no extendedKeyUsage, alice's subject from
    // another CA.
    for name in ["expired", "future", "revoked", "selfsigned", "serveronly", "noeku", "othercn"] {
        let c = client(pki, Some(name));
        match whoami(&c, &s).await {
            Err(_) => {}
            Ok((status, body)) => panic!("{name}'s certificate was accepted: {status} {body}"),
        }
    }
    // The server is fine after all that.
    assert_eq!(whoami(&alice, &s).await.unwrap().0, StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn required_certificates_and_auto_creation() {
    let dir = pki();
    let pki = dir.path();
    let s = tls_server(pki, ClientAuth::Required, |s| {
        s.certificates = CertificateLogin { create: Some(("soc".into(), app::model::Profile::ReadOnly)), ..Default::default() };
    })
    .await;
    // No certificate: no connection at all.
    assert!(whoami(&client(pki, None), &s).await.is_err(), "required: refused without a certificate");
    // bob has no account: created at first sign-in, read-only in soc.
    let bob = client(pki, Some("bob"));
    let (status, me) = whoami(&bob, &s).await.unwrap();
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["login"], "bob@example.org");
    assert_eq!(me["organisation"], "soc");
    assert_eq!(me["profile"], "read-only");
    assert_eq!(me["name"], "Bob Example");
    let r = bob.post(s.url("/api/case")).json(&json!({"title": "x", "description": "d"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "read-only");
    // The password cannot sign bob in: the account has none.
    let r = bob.post(s.url("/api/login")).json(&json!({"user": "bob@example.org", "password": ""})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test]
async fn a_proxy_header_is_believed_only_from_a_trusted_proxy() {
    let dir = pki();
    let pki = dir.path();
    let pem = std::fs::read_to_string(pki.join("alice.pem")).unwrap();
    let escaped: String = pem
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    for (trusted, expected) in [("127.0.0.1", StatusCode::OK), ("192.0.2.10", StatusCode::UNAUTHORIZED)] {
        let s = TestServer::start_with(|s| {
            s.certificates = CertificateLogin {
                trusted_proxies: vec![trusted.parse().unwrap()],
                header: Some("x-ssl-client-cert".into()),
                ..Default::default()
            };
        })
        .await;
        let admin = s.admin_session().await;
        let (status, _) = post(&admin, &s, "/api/user", json!({"login": "alice@example.org", "name": "Alice", "profile": "analyst"})).await;
        assert_eq!(status, StatusCode::CREATED);
        let r = s.anonymous().get(s.url("/api/user/current")).header("x-ssl-client-cert", &escaped).send().await.unwrap();
        assert_eq!(r.status(), expected, "proxy {trusted}");
        // A header that is not a certificate never signs anyone in.
        let r = s.anonymous().get(s.url("/api/user/current")).header("x-ssl-client-cert", "CN=alice").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        s.stop().await;
    }
    // Without the configuration, the same header means nothing.
    let s = TestServer::start().await;
    let r = s.anonymous().get(s.url("/api/user/current")).header("x-ssl-client-cert", &escaped).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    s.stop().await;
}

/// The real binary: HTTPS and HTTP/2 (curl), and a CRL replaced then SIGHUP: bob, valid before,
/// is refused after, without a restart.
#[tokio::test]
async fn the_binary_reloads_its_crl_on_sighup() {
    let dir = pki();
    let pki = dir.path();
    let data = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let p = |f: &str| -> PathBuf { pki.join(f) };
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_waggle"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data.path())
        .arg("--database")
        .arg("mem://")
        .arg("--tls-cert")
        .arg(p("server.chain.pem"))
        .arg("--tls-key")
        .arg(p("server.key"))
        .arg("--client-ca")
        .arg(p("client-ca.pem"))
        .arg("--crl")
        .arg(p("root.crl.pem"))
        .arg("--crl")
        .arg(p("int.crl.pem"))
        .args(["--log", "warn"])
        .env("WAGGLE_ADMIN_PASSWORD", PASSWORD)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("waggle starts");
    let base = format!("https://127.0.0.1:{port}");
    let nobody = client(pki, None);
    let mut up = false;
    for _ in 0..100 {
        if nobody.get(format!("{base}/api/health")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server answers over HTTPS");
    let r = nobody.post(format!("{base}/api/user")).basic_auth(ADMIN, Some(PASSWORD)).json(&json!({"login": "bob@example.org", "name": "Bob", "profile": "analyst"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    // HTTP/2 through curl (ALPN h2), with bob's certificate.
    let curl = |name: &str| {
        Command::new("curl")
            .args(["-sS", "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "--cacert"])
            .arg(p("root.pem"))
            .arg("--cert")
            .arg(p(&format!("{name}.pem")))
            .arg("--key")
            .arg(p(&format!("{name}.key")))
            .arg(format!("{base}/api/user/current"))
            .output()
            .expect("curl")
    };
    let out = curl("bob");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2 200", "{}", String::from_utf8_lossy(&out.stderr));
    // Over HTTP/2 the host is the `:authority`, not a `Host` header: a same-origin POST (the UI's
    // server functions) passes the CSRF guard, a cross-site one does not.
    // The cross-site POST has no body: it is refused before any body is read, and a stream still
    // sending one is reset by the server (RFC 9113 8.1), which some curl versions report as a
    // failed transfer ("0 000").
    let post_from = |origin: &str, body: &[&str]| {
        let out = Command::new("curl")
            .args(["-sS", "--http2", "-X", "POST", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "--cacert"])
            .arg(p("root.pem"))
            .args(["--cert"])
            .arg(p("bob.pem"))
            .arg("--key")
            .arg(p("bob.key"))
            .args(["-H", &format!("Origin: {origin}"), "-H", "Content-Type: application/json"])
            .args(body)
            .arg(format!("{base}/ui/auth/current"))
            .output()
            .expect("curl");
        (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (same, err) = post_from(&base, &["-d", "{}"]);
    assert_eq!(same, "2 200", "{err}");
    let (cross, err) = post_from("https://evil.example", &[]);
    assert_eq!(cross, "2 403", "{err}");

    // Revoke bob: the new CRL replaces the file, SIGHUP, and a new connection is refused.
    std::fs::copy(p("int.crl.v2.pem"), p("int.crl.pem")).unwrap();
    let pid = child.id().expect("pid");
    assert!(Command::new("kill").args(["-HUP", &pid.to_string()]).status().unwrap().success());
    let mut refused = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if whoami_at(&client(pki, Some("bob")), &base).await.is_err() {
            refused = true;
            break;
        }
    }
    assert!(refused, "bob's revoked certificate is refused after SIGHUP");
    assert!(child.try_wait().unwrap().is_none(), "no restart");
    // Alice (no account) is still let through the handshake: only revocation changed.
    let (status, _) = whoami_at(&client(pki, Some("alice")), &base).await.expect("alice's handshake");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    child.kill().await.unwrap();
}

async fn whoami_at(c: &Client, base: &str) -> Result<(StatusCode, Value), reqwest::Error> {
    let r = c.get(format!("{base}/api/user/current")).send().await?;
    let status = r.status();
    Ok((status, r.json().await.unwrap_or(Value::Null)))
}
