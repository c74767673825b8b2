//! Cortex 3's API under `/cortex/api` (what cortex4py 2.x speaks), over the embedded engine:
//! definitions, enabling analyzers, runs on values and on uploaded files, reports in Cortex's
//! shape (waited for with `atMost`), artifacts, statuses, search, deletion, roles, errors in the
//! v0 shape, and another organisation that sees nothing.
//!
//! The analyzer is a stand-in (a shell script that writes Cortex's output.json) so the test
//! takes seconds; `clients/cortex4py` drives the real analyzers with the real client.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::*;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

/// `Echo`: reports a taxonomy, the files it was given (`full.files`), a value artifact and a
/// file artifact; on data `fail-please` it reports a failure, on `slow-please` it first sleeps.
fn stand_in_analyzers() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("Echo");
    std::fs::create_dir(&a).unwrap();
    let definition = json!({
        "name": "Echo", "version": "1.0", "description": "A stand-in", "author": "tests", "url": "https://example.org", "license": "AGPL-V3",
        "dataTypeList": ["ip", "domain", "file"], "command": "Echo/echo.sh", "baseConfig": "Echo",
        "configurationItems": [{"name": "api_key", "description": "A secret", "type": "string", "multi": false, "required": true}]
    });
    std::fs::write(a.join("Echo.json"), definition.to_string()).unwrap();
    let script = r#"#!/bin/sh
input="$(cat "$1/input/input.json")"
case "$input" in
  *fail-please*)
    printf '{"success": false, "errorMessage": "boom"}' > "$1/output/output.json"; exit 0;;
  *slow-please*) sleep 3;;
esac
files="$(ls "$1/input" | grep -v '^input.json$' | tr '\n' ' ')"
printf 'extracted' > "$1/output/extracted.txt"
cat > "$1/output/output.json" <<EOF
{"success": true,
 "summary": {"taxonomies": [{"level": "info", "namespace": "Echo", "predicate": "seen", "value": 1}]},
 "full": {"files": "$files"},
 "artifacts": [{"dataType": "domain", "data": "extracted.example", "tags": ["t1"], "message": "found"},
               {"dataType": "file", "file": "extracted.txt", "filename": "extracted.txt"}],
 "operations": []}
EOF
"#;
    let path = a.join("echo.sh");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Someone calling the Cortex API: with an API key or Basic credentials, or nobody.
#[derive(Clone)]
enum Who {
    Key(String),
    Basic(&'static str, &'static str),
    Anonymous,
}

struct Cortex<'a> {
    s: &'a TestServer,
    c: Client,
    who: Who,
}

impl<'a> Cortex<'a> {
    fn new(s: &'a TestServer, who: Who) -> Self {
        Cortex { s, c: Client::new(), who }
    }

    fn request(&self, m: Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.c.request(m, self.s.url(&format!("/cortex/api{path}")));
        match &self.who {
            Who::Key(k) => r.bearer_auth(k),
            Who::Basic(l, p) => r.basic_auth(l, Some(p)),
            Who::Anonymous => r,
        }
    }

    async fn call(&self, m: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut r = self.request(m, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        json(r.send().await.unwrap()).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// A `_search`: the `X-Total` header and the records.
    async fn search(&self, path: &str, query: Value, range: &str) -> (u64, Vec<Value>) {
        let r = self.request(Method::POST, path).query(&[("range", range)]).json(&json!({"query": query})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let total = r.headers()["x-total"].to_str().unwrap().parse().unwrap();
        (total, r.json().await.unwrap())
    }

    /// Run a file through `analyzer` as cortex4py does (`_json` + a part named `data`).
    async fn run_file(&self, analyzer: &str, name: &str, content: &'static [u8]) -> (StatusCode, Value) {
        let part = reqwest::multipart::Part::bytes(content).file_name(name.to_string()).mime_str("text/plain").unwrap();
        let form = reqwest::multipart::Form::new().text("_json", json!({"dataType": "file", "tlp": 1, "pap": 2}).to_string()).part("data", part);
        json(self.request(Method::POST, &format!("/analyzer/{analyzer}/run")).multipart(form).send().await.unwrap()).await
    }
}

#[tokio::test]
async fn cortex_api_runs_analyzers_on_values_and_files() {
    let analyzers = stand_in_analyzers();
    let s = TestServer::start_with(|st| {
        st.analysis.analyzer_dirs = vec![analyzers.path().to_path_buf()];
    })
    .await;
    // Made first: it renews the administrator's key.
    let (acme_login, acme_password) = s.create_acme_admin().await;
    let admin = Cortex::new(&s, Who::Key(s.key_for(ADMIN, PASSWORD).await));
    let anon = Cortex::new(&s, Who::Anonymous);

    // Status (public), the current user and their roles; everything else needs a caller.
    let (st, status) = anon.get("/status").await;
    assert_eq!(st, StatusCode::OK);
    assert!(status["versions"]["Cortex"].as_str().unwrap().starts_with('3'), "{status}");
    assert!(status["config"]["authType"].as_array().unwrap().contains(&json!("key")));
    let (st, e) = anon.get("/analyzer").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_error(&e, "AuthenticationError");
    let (st, me) = admin.get("/user/current").await;
    assert_eq!(st, StatusCode::OK, "{me}");
    assert_eq!(me["roles"], json!(["read", "analyze", "orgadmin", "superadmin"]));
    assert_eq!((me["id"].as_str(), me["organization"].as_str()), (Some(ADMIN), Some("soc")));

    // Definitions, a rescan.
    let (_, defs) = admin.get("/analyzerdefinition").await;
    let echo = defs.as_array().unwrap().iter().find(|d| d["id"] == "Echo_1_0").unwrap_or_else(|| panic!("{defs}"));
    assert_eq!((echo["name"].as_str(), echo["baseConfig"].as_str()), (Some("Echo"), Some("Echo")));
    assert_eq!(echo["configurationItems"][0]["name"], "api_key");
    let (st, scanned) = admin.post("/analyzerdefinition/scan", json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(scanned.as_array().unwrap().len(), 1);

    // Enabling: the configuration is checked, attributes too, the definition must exist.
    let (st, e) = admin.post("/organization/analyzer/Echo_1_0", json!({"name": "Echo_1_0", "configuration": {}})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a required item is missing: {e}");
    assert_error(&e, "AttributeCheckingError");
    let (st, e) = admin.post("/organization/analyzer/Echo_1_0", json!({"name": "Echo_1_0", "colour": "red"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(e["errors"][0]["name"], "analyzer.colour", "{e}");
    let (st, e) = admin.post("/organization/analyzer/Nope_1_0", json!({"configuration": {"api_key": "k"}})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_error(&e, "NotFoundError");
    let body = json!({"name": "Echo_1_0", "configuration": {"api_key": "s3cret", "check_tlp": true, "max_tlp": 2}, "rate": null, "rateUnit": null, "jobCache": 10, "jobTimeout": 5});
    let (st, a) = admin.post("/organization/analyzer/Echo_1_0", body).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    assert_eq!((a["workerDefinitionId"].as_str(), a["jobCache"].as_u64(), a["maxTlp"].as_u64()), (Some("Echo_1_0"), Some(10), Some(2)), "{a}");
    assert_eq!(a["configuration"]["api_key"], "********", "secrets never come back");
    assert_eq!(a["dataTypeList"], json!(["ip", "domain", "file"]));
    let analyzer = a["id"].as_str().unwrap().to_string();

    // Listing, search by name (cortex4py's get_by_name), by type, one, a change.
    let (_, list) = admin.get("/analyzer").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (total, found) = admin.search("/analyzer/_search", json!({"_field": "name", "_value": "Echo_1_0"}), "0-1").await;
    assert_eq!((total, found[0]["id"].as_str()), (1, Some(analyzer.as_str())));
    let (total, _) = admin.search("/analyzer/_search", json!({"_field": "name", "_value": "Other"}), "all").await;
    assert_eq!(total, 0);
    let (_, for_ip) = admin.get("/analyzer/type/ip").await;
    assert_eq!(for_ip.as_array().unwrap().len(), 1);
    let (_, for_hash) = admin.get("/analyzer/type/hash").await;
    assert_eq!(for_hash, json!([]));
    let (st, one) = admin.get(&format!("/analyzer/{analyzer}")).await;
    assert_eq!((st, one["name"].as_str()), (StatusCode::OK, Some("Echo_1_0")));
    let (st, changed) = admin.call(Method::PATCH, &format!("/analyzer/{analyzer}"), Some(json!({"jobTimeout": 10, "configuration": {"api_key": "********"}}))).await;
    assert_eq!((st, changed["jobTimeout"].as_u64()), (StatusCode::OK, Some(10)), "{changed}");

    // A run on a value; its report waited for, in Cortex's shape; its artifacts.
    let (st, j) = admin.post(&format!("/analyzer/{analyzer}/run"), json!({"data": "1.2.3.4", "dataType": "ip", "tlp": 2, "pap": 2, "message": "why", "label": "l"})).await;
    assert_eq!(st, StatusCode::OK, "{j}");
    assert_eq!((j["workerId"].as_str(), j["organization"].as_str(), j["data"].as_str()), (Some(analyzer.as_str()), Some("soc"), Some("1.2.3.4")), "{j}");
    let job = j["id"].as_str().unwrap().to_string();
    let (st, done) = admin.get(&format!("/job/{job}/waitreport?atMost=1minute")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(done["status"], "Success", "{done}");
    let report = &done["report"];
    assert_eq!(report["success"], true);
    assert_eq!(report["summary"]["taxonomies"][0]["namespace"], "Echo", "{report}");
    assert_eq!(report["full"]["files"], "", "no file for a value");
    assert_eq!(report["operations"], json!([]));
    assert_eq!(report["artifacts"][0], json!({"_type": "artifact", "dataType": "domain", "data": "extracted.example", "message": "found", "tags": ["t1"], "tlp": 2, "createdAt": done["endDate"], "createdBy": ADMIN}));
    let (_, again) = admin.get(&format!("/job/{job}/report")).await;
    assert_eq!(again["report"], *report);
    let (_, arts) = admin.get(&format!("/job/{job}/artifacts")).await;
    let arts = arts.as_array().unwrap();
    assert_eq!(arts.len(), 2);
    let file_art = &arts[1]["attachment"];
    assert_eq!((arts[1]["dataType"].as_str(), file_art["name"].as_str(), file_art["size"].as_u64()), (Some("file"), Some("extracted.txt"), Some(9)), "{arts:?}");
    let r = admin.request(Method::GET, &format!("/datastore/{}", file_art["id"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"extracted");

    // The same input is answered from the cache; force runs again.
    let (_, cached) = admin.post(&format!("/analyzer/{analyzer}/run"), json!({"data": "1.2.3.4", "dataType": "ip"})).await;
    assert_eq!((cached["id"].as_str(), cached["fromCache"].as_bool()), (Some(job.as_str()), Some(true)), "{cached}");
    let (_, forced) = admin.post(&format!("/analyzer/{analyzer}/run?force=1"), json!({"data": "1.2.3.4", "dataType": "ip"})).await;
    assert_ne!(forced["id"], j["id"]);

    // A file, as cortex4py sends it: the analyzer gets it, the organisation holds it.
    let (st, fj) = admin.run_file(&analyzer, "sample.txt", b"hello cortex").await;
    assert_eq!(st, StatusCode::OK, "{fj}");
    assert_eq!((fj["dataType"].as_str(), fj["attachment"]["name"].as_str(), fj["tlp"].as_u64()), (Some("file"), Some("sample.txt"), Some(1)), "{fj}");
    assert!(fj.get("data").is_none());
    let file_job = fj["id"].as_str().unwrap().to_string();
    let (_, fdone) = admin.get(&format!("/job/{file_job}/waitreport?atMost=30seconds")).await;
    assert_eq!(fdone["status"], "Success", "{fdone}");
    assert_eq!(fdone["report"]["full"]["files"], "sample.txt ", "{fdone}");
    let r = admin.request(Method::GET, &format!("/datastore/{}", fj["attachment"]["id"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"hello cortex");
    let (st, e) = admin.run_file(&analyzer, "renamed.txt", b"hello cortex").await;
    assert_eq!(st, StatusCode::OK, "{e}");
    assert_eq!((e["id"].as_str(), e["fromCache"].as_bool()), (Some(file_job.as_str()), Some(true)), "the same content again: from the cache");

    // atMost: a slow job is still Waiting or Running after a second; then it ends.
    let (_, slow) = admin.post(&format!("/analyzer/{analyzer}/run"), json!({"data": "slow-please", "dataType": "domain"})).await;
    let slow = slow["id"].as_str().unwrap().to_string();
    let started = std::time::Instant::now();
    let (_, pending) = admin.get(&format!("/job/{slow}/waitreport?atMost=1%20second")).await;
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert!(matches!(pending["report"].as_str(), Some("Waiting" | "Running")), "{pending}");
    assert!(matches!(pending["status"].as_str(), Some("Waiting" | "InProgress")), "{pending}");
    let (_, ended) = admin.get(&format!("/job/{slow}/waitreport?atMost=2minutes")).await;
    assert_eq!(ended["status"], "Success");
    let (st, e) = admin.get(&format!("/job/{slow}/waitreport?atMost=soon")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_error(&e, "BadRequest");

    // A failure's report.
    let (_, failing) = admin.post(&format!("/analyzer/{analyzer}/run"), json!({"data": "fail-please", "dataType": "domain"})).await;
    let (_, failed) = admin.get(&format!("/job/{}/waitreport?atMost=30seconds", failing["id"].as_str().unwrap())).await;
    assert_eq!(failed["status"], "Failure");
    assert_eq!((failed["report"]["success"].as_bool(), failed["report"]["errorMessage"].as_str()), (Some(false), Some("boom")), "{failed}");
    let (_, none) = admin.get(&format!("/job/{}/artifacts", failing["id"].as_str().unwrap())).await;
    assert_eq!(none, json!([]));

    // Statuses, search with Cortex's field names, deletion.
    let (st, statuses) = admin.post("/job/status", json!({"jobIds": [job, file_job, "nothing-here"]})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(statuses, json!({ job.as_str(): "Success", file_job.as_str(): "Success" }));
    let (total, _) = admin.search("/job/_search", json!({"_field": "workerId", "_value": analyzer}), "all").await;
    assert_eq!(total, 5);
    let (total, files) = admin.search("/job/_search", json!({"dataType": "file"}), "0-10").await;
    assert_eq!((total, files[0]["id"].as_str()), (1, Some(file_job.as_str())));
    let (st, _) = admin.call(Method::DELETE, &format!("/job/{job}"), None).await;
    assert_eq!(st, StatusCode::OK);
    let (_, deleted) = admin.get(&format!("/job/{job}")).await;
    assert_eq!(deleted["status"], "Deleted");
    let (total, _) = admin.search("/job/_search", json!({}), "all").await;
    assert_eq!(total, 4, "deleted jobs are not listed");

    // Bad input, in the v0 error shape.
    let (st, e) = admin.post("/analyzer/Nope/run", json!({"data": "1.2.3.4", "dataType": "ip"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_error(&e, "NotFoundError");
    let (st, e) = admin.post(&format!("/analyzer/{analyzer}/run"), json!({"data": "1.2.3.4"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "no dataType: {e}");
    assert_error(&e, "AttributeCheckingError");
    let (st, e) = admin.post(&format!("/analyzer/{analyzer}/run"), json!({"data": "x", "dataType": "hash"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a type it does not take: {e}");
    let r = admin.request(Method::POST, &format!("/analyzer/{analyzer}/run")).header("content-type", "application/json").body("{\"data\":").send().await.unwrap();
    let (st, e) = json(r).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_error(&e, "BadRequest");
    let (st, e) = admin.post("/job/status", json!({})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    let (st, e) = admin.get("/no/such/route").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_error(&e, "NotFoundError");

    // Cortex's rate limit, for analyzers set to refuse.
    let (st, strict) = admin
        .post("/organization/analyzer/Echo_1_0", json!({"name": "Strict", "configuration": {"api_key": "k"}, "rate": 1, "rateUnit": "Hour", "jobCache": 0, "overQuota": "refuse"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{strict}");
    let (st, _) = admin.post("/analyzer/Strict/run", json!({"data": "a.example", "dataType": "domain"})).await;
    assert_eq!(st, StatusCode::OK);
    let (st, e) = admin.post("/analyzer/Strict/run", json!({"data": "b.example", "dataType": "domain"})).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
    assert_error(&e, "RateLimitExceeded");

    // Roles: a read-only user reads and runs nothing; an analyst runs but administers nothing.
    let session = s.admin_session().await;
    s.create_user(&session, json!({"login": "ro@soc", "name": "Ro", "profile": "read-only", "password": "ro-password-1"})).await;
    s.create_user(&session, json!({"login": "an@soc", "name": "An", "profile": "analyst", "password": "an-password-1"})).await;
    let ro = Cortex::new(&s, Who::Basic("ro@soc", "ro-password-1"));
    let (_, me) = ro.get("/user/current").await;
    assert_eq!(me["roles"], json!(["read"]));
    let (st, _) = ro.get(&format!("/job/{file_job}/report")).await;
    assert_eq!(st, StatusCode::OK);
    let (st, e) = ro.post(&format!("/analyzer/{analyzer}/run"), json!({"data": "9.9.9.9", "dataType": "ip"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_error(&e, "AuthorizationError");
    let (st, _) = ro.run_file(&analyzer, "ro.txt", b"not stored").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = ro.call(Method::DELETE, &format!("/job/{file_job}"), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = ro.post("/organization/analyzer/Echo_1_0", json!({"name": "Mine", "configuration": {"api_key": "k"}})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let an = Cortex::new(&s, Who::Basic("an@soc", "an-password-1"));
    let (_, me) = an.get("/user/current").await;
    assert_eq!(me["roles"], json!(["read", "analyze"]));
    let (st, _) = an.post(&format!("/analyzer/{analyzer}/run"), json!({"data": "8.8.8.8", "dataType": "ip"})).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = an.call(Method::PATCH, &format!("/analyzer/{analyzer}"), Some(json!({"jobCache": 1}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = an.post("/analyzerdefinition/scan", json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // Another organisation sees nothing of soc's.
    let acme = Cortex::new(&s, Who::Basic(acme_login, acme_password));
    for path in [format!("/job/{file_job}"), format!("/job/{file_job}/report"), format!("/job/{file_job}/artifacts"), format!("/analyzer/{analyzer}"), format!("/datastore/{}", fj["attachment"]["id"].as_str().unwrap())] {
        let (st, _) = acme.get(&path).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
    }
    let (_, theirs) = acme.get("/analyzer").await;
    assert_eq!(theirs, json!([]));
    let (total, _) = acme.search("/job/_search", json!({}), "all").await;
    assert_eq!(total, 0);
    let (_, statuses) = acme.post("/job/status", json!({"jobIds": [file_job]})).await;
    assert_eq!(statuses, json!({}));
    let (st, _) = acme.post(&format!("/analyzer/{analyzer}/run"), json!({"data": "1.2.3.4", "dataType": "ip"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = acme.call(Method::DELETE, &format!("/job/{file_job}"), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Disabling: the analyzer goes, its jobs stay.
    let (st, _) = admin.call(Method::DELETE, &format!("/analyzer/{analyzer}"), None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = admin.get(&format!("/analyzer/{analyzer}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = admin.get(&format!("/job/{file_job}")).await;
    assert_eq!(st, StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn cortex_sessions_and_cortex_paths_outside_the_api() {
    let s = TestServer::start().await;
    let c = s.anonymous();
    let (st, me) = json(c.post(s.url("/cortex/api/login")).json(&json!({"user": ADMIN, "password": PASSWORD})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK, "{me}");
    assert_eq!(me["roles"][0], "read");
    let (st, me) = json(c.get(s.url("/cortex/api/user/current")).send().await.unwrap()).await;
    assert_eq!((st, me["login"].as_str()), (StatusCode::OK, Some(ADMIN)));
    let (st, _) = json(c.get(s.url("/cortex/api/logout")).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = json(c.get(s.url("/cortex/api/user/current")).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, e) = json(c.post(s.url("/cortex/api/login")).json(&json!({"user": ADMIN, "password": "wrong-password"})).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_error(&e, "AuthenticationError");
    // A wrong method under /cortex/api answers in the API's shape.
    let (st, e) = json(c.delete(s.url("/cortex/api/status")).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED);
    assert_error(&e, "MethodNotAllowed");
    s.stop().await;
}
