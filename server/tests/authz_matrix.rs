//! The authorization matrix, generated from the router: every route of the OpenAPI document x
//! every kind of caller (anonymous, read-only, analyst, organisation administrator, platform
//! administrator, API key, certificate user, a custom profile that only triages alerts) x the organisation of the objects it names (the
//! caller's own, or another). The outcome of each (its class: ok, bad, 401, 403, 404...) must
//! match the checked-in table `tests/authz/matrix.txt`; a route missing from the table fails the
//! test. Whatever the table says, four rules are checked on every answer: the anonymous caller
//! is refused everywhere but the public routes; no caller but the platform administrator ever
//! gets a success on another organisation's objects; a read-only user never changes anything
//! but their own things (searches, dashboards, streams, their session); and no answer to any
//! caller of soc holds the marker written into everything acme has (lists, searches,
//! statistics, similarity, flows, exports, errors).
//!
//! `WAGGLE_AUTHZ_WRITE=1 cargo test -p server --test authz_matrix` rewrites the table after a
//! deliberate change (review its diff).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use waggle::config::CertificateLogin;

const TABLE: &str = "tests/authz/matrix.txt";

/// The callers, in the table's column order.
const IDENTITIES: [&str; 8] = ["anon", "ro", "analyst", "orgadmin", "platform", "key", "cert", "custom"];

/// The ids a route's path parameters take in one organisation.
#[derive(Default, Clone)]
struct Objects {
    org: String,
    case: String,
    other_case: String,
    task: String,
    log: String,
    artifact: String,
    alert: String,
    alert_artifact: String,
    template: String,
    dashboard: String,
    /// A report template the organisation uploaded.
    report_template: String,
    user: String,
    /// An analyzer the organisation enabled (the stand-in `Fast_1_0`) and a job of it.
    analyzer: String,
    job: String,
}

/// Written into everything of the other organisation: no answer to a caller of soc may hold it.
const MARKER: &str = "acmemarker7731";

/// Fresh objects of every kind in `org`, made by its administrator `auth` (unique each time); in
/// acme, each carries [`MARKER`].
async fn make(c: &Client, s: &TestServer, org: &str, auth: (&str, &str)) -> Objects {
    let mark = if org == "acme" { MARKER } else { "" };
    static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let call = |m: Method, path: String, body: Value| {
        let req = c.request(m, s.url(&path)).basic_auth(auth.0, Some(auth.1)).header("x-organisation", org).json(&body);
        async move {
            let r = req.send().await.unwrap();
            let st = r.status();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            assert!(st.is_success(), "{path}: {st} {v}");
            v
        }
    };
    let id = |v: &Value| v["id"].as_str().or_else(|| v["_id"].as_str()).unwrap_or_default().to_string();
    let case = call(Method::POST, "/api/case".into(), json!({"title": format!("{org} case {mark}"), "description": format!("d {mark}"), "tags": [format!("t{mark}")]})).await;
    let other = call(Method::POST, "/api/case".into(), json!({"title": format!("{org} other case {mark}"), "description": "d"})).await;
    let task = call(Method::POST, format!("/api/case/{}/task", id(&case)), json!({"title": format!("t {mark}")})).await;
    let log = call(Method::POST, format!("/api/case/task/{}/log", id(&task)), json!({"message": format!("m {mark}")})).await;
    // The same value in both organisations: similarity must not tell soc about acme's case.
    let artifact = call(Method::POST, format!("/api/case/{}/artifact", id(&case)), json!({"dataType": "ip", "data": "10.1.2.3", "message": mark})).await;
    let artifact = if artifact.is_array() { artifact[0].clone() } else { artifact };
    let alert = call(
        Method::POST,
        "/api/alert".into(),
        json!({"type": "t", "source": org, "sourceRef": format!("r{n}"), "title": format!("a {mark}"), "description": "d", "artifacts": [{"dataType": "domain", "data": "x.example"}]}),
    )
    .await;
    let full_alert = call(Method::GET, format!("/api/alert/{}", id(&alert)), json!({})).await;
    let alert_artifact = full_alert["artifacts"].as_array().and_then(|a| a.first()).map(&id).unwrap_or_default();
    let template = call(Method::POST, "/api/case/template".into(), json!({"name": format!("{org} template {n}")})).await;
    // The user the user routes name: someone of the organisation that no caller of the matrix is.
    let user = format!("victim{n}@{org}");
    call(Method::POST, "/api/user".into(), json!({"login": user, "name": "Victim", "profile": "analyst"})).await;
    let dashboard = call(Method::POST, "/api/dashboard".into(), json!({"title": format!("{org} board {mark}"), "status": "Shared", "definition": "{}"})).await;
    let report_template = call(Method::POST, "/api/report/template".into(), json!({"name": format!("{org} report {n}"), "content": format!("# {{{{ case.title }}}} {mark}")})).await;
    let analyzer = call(Method::POST, "/cortex/api/organization/analyzer/Fast_1_0".into(), json!({"name": format!("fast{n}{mark}"), "jobCache": 0})).await;
    let job = call(Method::POST, format!("/cortex/api/analyzer/{}/run", id(&analyzer)), json!({"data": "10.1.2.3", "dataType": "ip", "message": mark})).await;
    Objects {
        org: org.into(),
        case: id(&case),
        other_case: id(&other),
        task: id(&task),
        log: id(&log),
        artifact: id(&artifact),
        alert: id(&alert),
        alert_artifact,
        template: id(&template),
        dashboard: id(&dashboard),
        report_template: id(&report_template),
        user,
        analyzer: id(&analyzer),
        job: id(&job),
    }
}

/// The concrete path of a route for the objects of one organisation (an unknown parameter gets
/// a value that names nothing).
fn concrete(path: &str, o: &Objects) -> String {
    let resource = |p: &str| -> &str {
        for (prefix, what) in [
            ("/api/v1/log/", "log"),
            ("/api/v1/task/", "task"),
            ("/api/v1/observable/type/", ""),
            ("/api/v1/observable/", "artifact"),
            ("/api/v1/caseTemplate/", "template"),
            ("/api/v1/case/", "case"),
            ("/api/v1/alert/", "alert"),
            ("/api/v1/user/", "user"),
            ("/api/v1/organisation/", "org"),
            ("/api/case/task/log/", "log"),
            ("/api/case/task/", "task"),
            ("/api/case/artifact/", "artifact"),
            ("/api/case/template/", "template"),
            ("/api/case/", "case"),
            ("/api/alert/artifact/", "alert_artifact"),
            ("/api/alert/", "alert"),
            ("/api/dashboard/", "dashboard"),
            ("/api/report/template/", "report_template"),
            ("/api/user/", "user"),
            ("/api/organisation/", "org"),
            ("/api/connector/cortex/job/", "job"),
            ("/api/connector/cortex/analyzer/", "analyzer"),
            ("/cortex/api/job/", "job"),
            ("/cortex/api/analyzer/", "analyzer"),
        ] {
            if p.starts_with(prefix) {
                return what;
            }
        }
        ""
    };
    let mut out = String::new();
    for seg in path.split('/').skip(1) {
        out.push('/');
        if !(seg.starts_with('{') && seg.ends_with('}')) {
            out.push_str(seg);
            continue;
        }
        let value = match (&seg[1..seg.len() - 1], resource(path)) {
            ("org", _) => o.org.clone(),
            ("dataType", _) => "ip".into(),
            ("caseId", _) => o.case.clone(),
            ("mispName", _) => "no-such-misp".into(),
            ("other", _) => o.other_case.clone(),
            (_, "log") => o.log.clone(),
            (_, "task") => o.task.clone(),
            (_, "artifact") => o.artifact.clone(),
            (_, "template") => o.template.clone(),
            (_, "case") => o.case.clone(),
            (_, "alert_artifact") => o.alert_artifact.clone(),
            (_, "alert") => o.alert.clone(),
            (_, "dashboard") => o.dashboard.clone(),
            (_, "report_template") => o.report_template.clone(),
            (_, "user") => o.user.clone(),
            (_, "org") => o.org.clone(),
            (_, "job") => o.job.clone(),
            (_, "analyzer") => o.analyzer.clone(),
            _ => "nothing-here".into(),
        };
        out.push_str(&value);
    }
    out
}

fn class(st: StatusCode) -> String {
    if st.is_success() {
        "ok".into()
    } else if st == StatusCode::BAD_REQUEST {
        "bad".into()
    } else {
        st.as_u16().to_string()
    }
}

/// Writes a read-only user may make: reads by POST, their own dashboards, streams, session.
fn read_only_may(method: &Method, path: &str) -> bool {
    // Cortex's API (`/cortex/api/...`) follows the same rules.
    let path = path.strip_prefix("/cortex").unwrap_or(path);
    *method == Method::GET
        || path.ends_with("/_search")
        || path.ends_with("/_stats")
        || path.contains("/_exists")
        || path.starts_with("/api/dashboard")
        || path.starts_with("/api/stream")
        || path.starts_with("/api/login")
        || path.starts_with("/api/logout")
        || path.contains("/api/stats")
        || path == "/api/job/status"
        // TheHive 5's query API only reads.
        || path == "/api/v1/query"
}

/// Whether a route's parameters name objects of an organisation (`{dataType}` names none: its
/// answer is the caller's own organisation's, whichever organisation is being tried).
fn names_objects(path: &str) -> bool {
    path.split('/').any(|seg| seg.starts_with('{') && seg != "{dataType}")
}

#[tokio::test]
async fn every_route_for_every_caller() {
    let pki = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pki/make-pki.sh");
    assert!(std::process::Command::new("bash").arg(script).arg(pki.path()).status().unwrap().success());
    let cert_header: String = std::fs::read_to_string(pki.path().join("alice.pem"))
        .unwrap()
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    let analyzers = fake_analyzers("0");
    let s = TestServer::start_with(|s| {
        s.certificates = CertificateLogin { trusted_proxies: vec!["127.0.0.1".parse().unwrap()], header: Some("x-ssl-client-cert".into()), ..Default::default() };
        s.analysis.analyzer_dirs = vec![analyzers.path().to_path_buf()];
    })
    .await;
    let raw = Client::new();
    let admin = s.admin_session().await;
    for (login, profile) in [("ro@soc", "read-only"), ("an@soc", "analyst"), ("oa@soc", "org-admin"), ("alice@example.org", "analyst")] {
        s.create_user(&admin, json!({"login": login, "name": login, "password": "matrix-password-1", "profile": profile})).await;
    }
    let key = s.key_for("an@soc", "matrix-password-1").await;
    // A custom profile: alert triage only.
    s.create_user(&admin, json!({"login": "cu@soc", "name": "cu", "password": "matrix-password-1", "profile": "read-only"})).await;
    for (path, body) in [
        ("/api/profile", json!({"name": "triage", "permissions": ["manageAlert"]})),
        ("/api/user/cu@soc/organisation/soc", json!({"profile": "triage"})),
    ] {
        let m = if path.starts_with("/api/profile") { Method::POST } else { Method::PUT };
        let r = raw.request(m, s.url(path)).basic_auth(ADMIN, Some(PASSWORD)).header("x-organisation", "admin").json(&body).send().await.unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }
    let (acme_admin, acme_pw) = s.create_acme_admin().await;
    let makers = [("soc", (ADMIN, PASSWORD)), ("acme", (acme_admin, acme_pw))];
    let own = make(&raw, &s, "soc", makers[0].1).await;
    let other = make(&raw, &s, "acme", makers[1].1).await;

    // The marker is there to be found: acme's own administrator reads it in acme's case and in
    // a search of acme's observables.
    let acme_case = raw.get(s.url(&format!("/api/case/{}", other.case))).basic_auth(acme_admin, Some(acme_pw)).send().await.unwrap().text().await.unwrap();
    assert!(acme_case.contains(MARKER), "{acme_case}");
    let acme_search = raw.post(s.url("/api/case/artifact/_search")).basic_auth(acme_admin, Some(acme_pw)).json(&json!({"query": {}})).send().await.unwrap().text().await.unwrap();
    assert!(acme_search.contains(MARKER), "{acme_search}");

    let (_, doc) = json(raw.get(s.url("/api/openapi.json")).send().await.unwrap()).await;
    let mut routes: Vec<(Method, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.push((Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(), path.clone()));
        }
    }
    // What destroys, merges or locks gets fresh objects for each caller, so that every caller
    // meets the same objects (the first one's deletion would answer 404 to the next).
    let destructive = |m: &Method, p: &str| *m == Method::DELETE || p.contains("merge") || p.ends_with("/force") || p.ends_with("/lock") || p.ends_with("/createCase");
    routes.sort_by_key(|(m, p)| (p.clone(), m.to_string()));

    let mut found: BTreeMap<String, String> = BTreeMap::new();
    let mut broken = Vec::new();
    for scope in ["own", "other"] {
        let (org, maker) = if scope == "own" { makers[0] } else { makers[1] };
        let objects = if scope == "own" { &own } else { &other };
        for (method, path) in &routes {
            if scope == "other" && !names_objects(path) {
                continue;
            }
            let mut outcomes = Vec::new();
            for who in IDENTITIES {
                let fresh = if destructive(method, path) { Some(make(&raw, &s, org, maker).await) } else { None };
                let url = s.url(&concrete(path, fresh.as_ref().unwrap_or(objects)));
                let mut req = raw.request(method.clone(), &url).json(&json!({}));
                req = match who {
                    "anon" => req,
                    "ro" => req.basic_auth("ro@soc", Some("matrix-password-1")),
                    "analyst" => req.basic_auth("an@soc", Some("matrix-password-1")),
                    "orgadmin" => req.basic_auth("oa@soc", Some("matrix-password-1")),
                    "platform" => req.basic_auth(ADMIN, Some(PASSWORD)).header("x-organisation", "admin"),
                    "key" => req.bearer_auth(&key),
                    "custom" => req.basic_auth("cu@soc", Some("matrix-password-1")),
                    _ => req.header("x-ssl-client-cert", &cert_header),
                };
                let resp = req.send().await.unwrap();
                let st = resp.status();
                let body = resp.bytes().await.unwrap_or_default();
                if who != "anon" && body.windows(MARKER.len()).any(|w| w.eq_ignore_ascii_case(MARKER.as_bytes())) {
                    broken.push(format!("{method} {path} ({scope}): {who} of soc read acme's marker"));
                }
                let c = class(st);
                let public = waggle::api::PUBLIC_ROUTES.contains(&path.as_str());
                if who == "anon" && !public && st != StatusCode::UNAUTHORIZED {
                    broken.push(format!("{method} {path} ({scope}): anonymous got {st}"));
                }
                if scope == "other" && who != "platform" && who != "anon" && st.is_success() && !public {
                    broken.push(format!("{method} {path}: {who} of soc got {st} on acme's objects"));
                }
                if who == "ro" && st.is_success() && !read_only_may(method, path) {
                    broken.push(format!("{method} {path} ({scope}): read-only got {st}"));
                }
                outcomes.push(format!("{who}={c}"));
            }
            found.insert(format!("{method} {path} {scope}"), outcomes.join(" "));
        }
    }
    s.stop().await;

    let table_path = Path::new(env!("CARGO_MANIFEST_DIR")).join(TABLE);
    let text: String = found.iter().map(|(k, v)| format!("{k} | {v}\n")).collect();
    if std::env::var_os("WAGGLE_AUTHZ_WRITE").is_some() {
        std::fs::create_dir_all(table_path.parent().unwrap()).unwrap();
        std::fs::write(&table_path, &text).unwrap();
    }
    assert!(broken.is_empty(), "{} answers break the rules:\n{}", broken.len(), broken.join("\n"));
    let expected: BTreeMap<String, String> = std::fs::read_to_string(&table_path)
        .expect("tests/authz/matrix.txt (WAGGLE_AUTHZ_WRITE=1 makes it)")
        .lines()
        .filter_map(|l| l.split_once(" | ").map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    let mut mismatches = Vec::new();
    for (k, v) in &found {
        match expected.get(k) {
            None => mismatches.push(format!("not in the table: {k} | {v}")),
            Some(e) if e != v => mismatches.push(format!("{k}\n   table: {e}\n   now:   {v}")),
            _ => {}
        }
    }
    for k in expected.keys().filter(|k| !found.contains_key(*k)) {
        mismatches.push(format!("in the table but no longer a route: {k}"));
    }
    let cells = found.len() * IDENTITIES.len();
    eprintln!("authorization matrix: {} route x organisation rows, {cells} answers checked", found.len());
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}
