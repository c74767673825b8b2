//! A real server on 127.0.0.1 (port chosen by the OS) with a temporary database, for API tests.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use waggle::config::Settings;
use waggle::server::{Running, start};

pub const ADMIN: &str = "admin@waggle.local";
pub const PASSWORD: &str = "admin-password-1";

pub struct TestServer {
    pub base: String,
    pub running: Option<Running>,
    pub dir: tempfile::TempDir,
}

impl TestServer {
    /// A server on an in-memory database.
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(f: impl FnOnce(&mut Settings)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::ephemeral(dir.path());
        settings.admin_password = Some(PASSWORD.into());
        f(&mut settings);
        Self::start_in(dir, settings).await
    }

    /// A server on the durable embedded engine in `dir`.
    pub async fn start_persistent(dir: tempfile::TempDir, f: impl FnOnce(&mut Settings)) -> TestServer {
        let mut settings = Settings::ephemeral(dir.path());
        settings.database = format!("surrealkv://{}", dir.path().join("db").display());
        settings.admin_password = Some(PASSWORD.into());
        f(&mut settings);
        Self::start_in(dir, settings).await
    }

    async fn start_in(dir: tempfile::TempDir, settings: Settings) -> TestServer {
        let running = start(settings).await.expect("server starts");
        TestServer { base: format!("http://{}", running.addr), running: Some(running), dir }
    }

    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("clean stop");
        }
        self.dir
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A client without credentials (cookies kept).
    pub fn anonymous(&self) -> Client {
        Client::builder().cookie_store(true).build().expect("client")
    }

    /// A client signed in with a session cookie.
    pub async fn session(&self, login: &str, password: &str) -> Client {
        let c = self.anonymous();
        let r = c
            .post(self.url("/api/login"))
            .json(&serde_json::json!({"user": login, "password": password}))
            .send()
            .await
            .expect("login request");
        assert_eq!(r.status(), StatusCode::OK, "login of {login}: {}", r.text().await.unwrap_or_default());
        c
    }

    pub async fn admin_session(&self) -> Client {
        self.session(ADMIN, PASSWORD).await
    }

    /// An API key for `login`, made by signing in as them.
    pub async fn key_for(&self, login: &str, password: &str) -> String {
        let c = self.session(login, password).await;
        let r = c.post(self.url(&format!("/api/user/{login}/key/renew"))).send().await.expect("renew");
        assert_eq!(r.status(), StatusCode::OK);
        r.text().await.expect("key")
    }

    /// Create a user through the API as `by` (a session client) and return the JSON.
    /// A session of the UI's server functions (`/ui/auth/login`).
    pub async fn ui_session(&self, login: &str, password: &str) -> Client {
        let c = self.anonymous();
        ui_ok(&c, self, "auth/login", serde_json::json!({"login": login, "password": password})).await;
        c
    }

    /// Create the organisation `acme` and its administrator `carol@acme`; returns the login and
    /// password (another tenant, for isolation tests).
    pub async fn create_acme_admin(&self) -> (&'static str, &'static str) {
        let key = self.key_for(ADMIN, PASSWORD).await;
        let raw = Client::new();
        let r = raw
            .post(self.url("/api/organisation"))
            .bearer_auth(&key)
            .header("X-Organisation", "admin")
            .json(&serde_json::json!({"name": "acme"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let r = raw
            .post(self.url("/api/user"))
            .bearer_auth(&key)
            .header("X-Organisation", "admin")
            .json(&serde_json::json!({"login": "carol@acme", "name": "Carol", "organisation": "acme", "profile": "org-admin", "password": "carol-password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        ("carol@acme", "carol-password")
    }

    /// A v0 API session of the administrator of another organisation, `acme`.
    pub async fn acme_admin(&self) -> Client {
        let (login, password) = self.create_acme_admin().await;
        self.session(login, password).await
    }

    /// A UI session of the administrator of another organisation, `acme`.
    pub async fn acme_admin_ui(&self) -> Client {
        let (login, password) = self.create_acme_admin().await;
        self.ui_session(login, password).await
    }

    pub async fn create_user(&self, by: &Client, body: Value) -> Value {
        let r = by.post(self.url("/api/user")).json(&body).send().await.expect("create user");
        let status = r.status();
        let v: Value = r.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "{v}");
        v
    }
}

/// Status and JSON body of a response.
pub async fn json(r: Response) -> (StatusCode, Value) {
    let status = r.status();
    let text = r.text().await.expect("body");
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, v)
}

pub fn assert_error(v: &Value, kind: &str) {
    assert_eq!(v["type"], kind, "error type in {v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "message in {v}");
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}

/// One JSON request as the given client: the status and the parsed body.
pub async fn call(c: &Client, m: reqwest::Method, s: &TestServer, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut r = c.request(m, s.url(path));
    if let Some(b) = body {
        r = r.json(&b);
    }
    json(r.send().await.unwrap()).await
}

pub async fn post(c: &Client, s: &TestServer, path: &str, body: Value) -> (StatusCode, Value) {
    call(c, reqwest::Method::POST, s, path, Some(body)).await
}

pub async fn get(c: &Client, s: &TestServer, path: &str) -> (StatusCode, Value) {
    call(c, reqwest::Method::GET, s, path, None).await
}

pub async fn patch(c: &Client, s: &TestServer, path: &str, body: Value) -> (StatusCode, Value) {
    call(c, reqwest::Method::PATCH, s, path, Some(body)).await
}

/// Call a UI server function (`POST /ui/<endpoint>`).
pub async fn ui(c: &Client, s: &TestServer, endpoint: &str, body: Value) -> (StatusCode, Value) {
    json(c.post(s.url(&format!("/ui/{endpoint}"))).json(&body).send().await.unwrap()).await
}

/// Call a UI server function that must succeed; its answer.
pub async fn ui_ok(c: &Client, s: &TestServer, endpoint: &str, body: Value) -> Value {
    let (st, v) = ui(c, s, endpoint, body).await;
    assert_eq!(st, StatusCode::OK, "{endpoint}: {v}");
    v
}

/// One page of a v0 `_search` at `path` (`range` as TheHive takes it, `sort` keys in order):
/// the `X-Total` header and the records.
/// Every record of a `_search` (`range=all`) matching `query`, with the X-Total count.
pub async fn search(c: &Client, s: &TestServer, path: &str, query: Value) -> (u64, Vec<Value>) {
    let r = c.post(s.url(path)).query(&[("range", "all")]).json(&json!({"query": query})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path} {query}");
    let total: u64 = r.headers().get("x-total").expect("X-Total").to_str().unwrap().parse().unwrap();
    let list: Vec<Value> = r.json().await.unwrap();
    (total, list)
}

pub async fn search_page(c: &Client, s: &TestServer, path: &str, query: &Value, sort: &[&str], range: &str) -> (u64, Vec<Value>) {
    let mut params: Vec<(&str, &str)> = sort.iter().map(|k| ("sort", *k)).collect();
    params.push(("range", range));
    let r = c.post(s.url(path)).query(&params).json(&serde_json::json!({"query": query})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path} {query} {sort:?} {range}");
    let total: u64 = r.headers()["x-total"].to_str().unwrap().parse().unwrap();
    (total, r.json().await.unwrap())
}

/// Wait until the statistics index has loaded every table.
pub async fn stats_ready(s: &TestServer) {
    let state = &s.running.as_ref().unwrap().state;
    for _ in 0..200 {
        if state.stats.is_ready() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the statistics index did not load");
}

/// Read every match of `query` at `path` sorted by `sort`, in pages of 4 (the statistics index
/// serves those), and compare them with the database's own answer (`range=all`): the exact total
/// on every page, and the same records in the same order. Where the sort has ties (`tie`: the
/// sorted field), the same sequence of its values and the same records, no page overlapping or
/// skipping another. Returns the number of pages read.
pub async fn pages_agree_with_database(c: &Client, s: &TestServer, path: &str, query: &Value, sort: &[&str], tie: Option<&str>) -> u64 {
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    let (db_total, db) = search_page(c, s, path, query, sort, "all").await;
    assert_eq!(db_total, db.len() as u64);
    let mut paged = Vec::new();
    let mut pages = 0;
    loop {
        let from = paged.len();
        let (total, page) = search_page(c, s, path, query, sort, &format!("{from}-{}", from + 4)).await;
        pages += 1;
        assert_eq!(total, db_total, "{query} {sort:?}: X-Total is exact on every page");
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 4);
        paged.extend(page);
    }
    let mut a: Vec<String> = paged.iter().map(id).collect();
    let mut b: Vec<String> = db.iter().map(id).collect();
    match tie {
        None => assert_eq!(a, b, "{query} {sort:?}"),
        Some(field) => {
            assert_eq!(paged.iter().map(|v| v[field].clone()).collect::<Vec<_>>(), db.iter().map(|v| v[field].clone()).collect::<Vec<_>>(), "{query} {sort:?}");
            a.sort();
            b.sort();
            assert_eq!(a, b, "{query} {sort:?}: pages neither overlap nor skip");
        }
    }
    pages
}

/// [`pages_agree_with_database`] for every query in every sort, and every page but the
/// database's `range=all` answered by the statistics index. `tied`: the one sort whose order has
/// ties, and its field.
pub async fn index_lists_agree(c: &Client, s: &TestServer, path: &str, queries: &[Value], sorts: &[&[&str]], tied: (&[&str], &str)) {
    let state = &s.running.as_ref().unwrap().state;
    let served = state.stats.lists_served();
    let mut pages = 0;
    for q in queries {
        for sort in sorts {
            let tie = (*sort == tied.0).then_some(tied.1);
            pages += pages_agree_with_database(c, s, path, q, sort, tie).await;
        }
    }
    assert_eq!(state.stats.lists_served() - served, pages, "{path}: every page but `range=all` came from the index");
}

/// A directory with one stand-in analyzer, `Fast_1_0` (ip): a shell script that writes a
/// one-taxonomy report after `sleep` seconds (jobs in seconds, not Python start-ups).
pub fn fake_analyzers(sleep: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("Fast");
    std::fs::create_dir(&a).unwrap();
    std::fs::write(
        a.join("Fast.json"),
        json!({"name": "Fast", "version": "1.0", "description": "A stand-in", "author": "tests", "url": "https://example.org", "license": "AGPL-V3",
               "dataTypeList": ["ip"], "command": "Fast/fast.sh", "configurationItems": []})
        .to_string(),
    )
    .unwrap();
    let script = format!(
        "#!/bin/sh\nsleep {sleep}\ncat > \"$1/output/output.json\" <<'EOF'\n{{\"success\": true, \"summary\": {{\"taxonomies\": [{{\"level\": \"safe\", \"namespace\": \"Fast\", \"predicate\": \"ran\", \"value\": 1}}]}}, \"full\": {{}}, \"artifacts\": [], \"operations\": []}}\nEOF\n"
    );
    let path = a.join("fast.sh");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}
