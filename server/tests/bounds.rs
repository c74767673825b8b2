//! Abusive requests get a clear 4xx in the API's shape, and the server stays healthy with its
//! memory flat (issue 21, section 2): oversized logins and passwords, pages of any size,
//! dashboard images of any size; the same through TheHive 5's query API (`/api/v1/query`).

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

/// This process's resident memory in MiB (the server runs in it).
fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        / 1024
}

/// Cases "Case 0" to "Case 2", made through `path` (v0's `/api/case` or v1's `/api/v1/case`).
async fn three_cases(c: &reqwest::Client, s: &TestServer, path: &str) {
    for i in 0..3 {
        let (st, v) = post(c, s, path, json!({"title": format!("Case {i}"), "description": "d"})).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
}

#[tokio::test]
async fn oversized_logins_and_passwords_are_refused_before_any_work() {
    let s = TestServer::start().await;
    let c = s.anonymous();
    // Under the 1 MiB limit of JSON bodies (a 50 MB one is refused by that limit, 413).
    let (st, _) = post(&c, &s, "/api/login", json!({"user": "a".repeat(50 * 1024 * 1024), "password": ""})).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    let huge_login = "a".repeat(512 * 1024);
    // Warm up once so the allocator's first growth is not counted.
    let (st, _) = post(&c, &s, "/api/login", json!({"user": huge_login, "password": ""})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let before = rss_mib();
    for i in 0..30 {
        // Each a different login: before the fix, every one was kept as a throttle key.
        let login = format!("{i}{huge_login}");
        let (st, v) = post(&c, &s, "/api/login", json!({"user": login, "password": ""})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
        assert_error(&v, "BadRequest");
        assert!(v["message"].as_str().unwrap().contains("login is too long"), "{v}");
    }
    let after = rss_mib();
    eprintln!("RSS before {before} MiB, after 30 logins of 512 KiB: {after} MiB");
    assert!(after < before + 64, "memory stays flat: {before} MiB -> {after} MiB");

    // A password longer than 1 KiB: refused, with or without a real login, in the login form
    // and in Basic credentials.
    let (st, v) = post(&c, &s, "/api/login", json!({"user": ADMIN, "password": "p".repeat(2048)})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_error(&v, "BadRequest");
    let r = c.get(s.url("/api/user/current")).basic_auth(ADMIN, Some("p".repeat(2048))).send().await.unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());

    // A login at the limit is an ordinary failure, not a lockout of the administrator.
    let (st, _) = post(&c, &s, "/api/login", json!({"user": "b".repeat(128), "password": "x"})).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // The server is healthy and the administrator logs in.
    let admin = s.admin_session().await;
    let (st, _) = get(&admin, &s, "/api/user/current").await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn every_page_is_clamped() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    three_cases(&admin, &s, "/api/case").await;
    for range in ["0-999999999", "0-18446744073709551615", "999999999-1000000000", "18446744073709551614-18446744073709551615"] {
        let r = admin.post(s.url("/api/case/_search")).query(&[("range", range)]).json(&json!({"query": {}})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "range={range}");
        let list: Vec<serde_json::Value> = r.json().await.unwrap();
        assert!(list.len() <= 3);
    }
    let r = admin.post(s.url("/api/case/_search")).query(&[("range", "5-2")]).json(&json!({"query": {}})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The UI's case list: whatever `to` the client sends, a page of at most 200 rows.
    let ui = s.ui_session(ADMIN, PASSWORD).await;
    let page = ui_ok(&ui, &s, "cases/list", json!({"query": {}, "sort": [], "from": 0, "to": u64::MAX})).await;
    assert!(page.to_string().contains("Case 0"), "{page}");
    let (st, _) = get(&admin, &s, "/api/status").await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn dashboard_images_are_capped_in_pixels() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let widget = |i: usize| json!({"type": "donut", "id": format!("w{i}"), "options": {"title": "By status", "entity": "case", "field": "status", "query": {}}});
    // 50 rows of 8 widgets: at 4000 px a cell, a 32000 x 16044 image (1.5 GB of buffer) before the cap.
    let rows: Vec<_> = (0..50).map(|r| json!({"type": "container", "items": (0..8).map(|c| widget(r * 8 + c)).collect::<Vec<_>>()})).collect();
    let def = json!({"period": "all", "items": rows, "customPeriod": {"fromDate": null, "toDate": null}});
    let (st, d) = post(&admin, &s, "/api/dashboard", json!({"title": "Huge", "status": "Private", "definition": def.to_string()})).await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    let id = d["_id"].as_str().unwrap();
    let before = rss_mib();
    let r = admin.get(s.url(&format!("/api/dashboard/{id}/png?width=4000"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_error(&v, "BadRequest");
    assert!(v["message"].as_str().unwrap().contains("pixels"), "{v}");
    // One widget at the largest width is fine; the whole dashboard at the smallest width is
    // still 1600 x 16044 = 25.7 Mpx: refused the same way.
    let r = admin.get(s.url(&format!("/api/dashboard/{id}/widget/w0/png?width=4000"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(&r.bytes().await.unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    let r = admin.get(s.url(&format!("/api/dashboard/{id}/png?width=200"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let after = rss_mib();
    eprintln!("RSS before {before} MiB, after the refused renders: {after} MiB");
    assert!(after < before + 64, "memory stays flat: {before} MiB -> {after} MiB");
    let (st, _) = get(&admin, &s, "/api/status").await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn live_streams_are_capped_per_user() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    s.create_user(&admin, json!({"login": "ana@soc", "name": "Ana", "password": "analyst-password-1", "profile": "analyst"})).await;
    let ana = s.session("ana@soc", "analyst-password-1").await;
    let (st, admins) = post(&admin, &s, "/api/stream", json!({})).await;
    assert_eq!(st, StatusCode::OK);
    let mut anas = Vec::new();
    for _ in 0..40 {
        let (st, id) = post(&ana, &s, "/api/stream", json!({})).await;
        assert_eq!(st, StatusCode::OK);
        anas.push(id.as_str().unwrap().to_string());
    }
    // A change, so the streams that exist answer at once.
    let (st, _) = post(&ana, &s, "/api/case", json!({"title": "Streamed", "description": "d"})).await;
    assert_eq!(st, StatusCode::CREATED);
    // Ana's 40 streams did not push the administrator's out...
    let (st, events) = get(&admin, &s, &format!("/api/stream/{}", admins.as_str().unwrap())).await;
    assert_eq!(st, StatusCode::OK, "{events}");
    assert!(events.to_string().contains("Streamed"), "{events}");
    // ...she keeps her 16 most recent, and her oldest are gone (404 in the API's shape).
    let (st, _) = get(&ana, &s, &format!("/api/stream/{}", anas[39])).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = get(&ana, &s, &format!("/api/stream/{}", anas[0])).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert_error(&v, "NotFoundError");
    let alive = anas.len() - 16;
    let (st, _) = get(&ana, &s, &format!("/api/stream/{}", anas[alive])).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = get(&ana, &s, &format!("/api/stream/{}", anas[alive - 1])).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn queries_and_aggregations_are_capped_in_size() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let many: Vec<serde_json::Value> = (0..20_000).map(|i| json!(format!("v{i}"))).collect();
    let branches: Vec<serde_json::Value> = (0..20_000).map(|i| json!({"_field": "title", "_value": format!("t{i}")})).collect();
    let words = vec!["word"; 1000].join(" ");
    let aggs: Vec<serde_json::Value> = (0..100).map(|i| json!({"_agg": "field", "_field": "status", "_name": format!("a{i}")})).collect();
    let nested = json!({"_agg": "field", "_field": "status", "_select": (0..40).map(|_| json!({"_agg": "field", "_field": "severity", "_select": (0..40).map(|_| json!({"_agg": "count"})).collect::<Vec<_>>()})).collect::<Vec<_>>()});
    let cases = [
        ("/api/case/_search", json!({"query": {"_in": {"_field": "title", "_values": many}}}), "too large"),
        ("/api/case/_search", json!({"query": {"_or": branches}}), "too large"),
        ("/api/case/_search", json!({"query": {"_string": words}}), "too long"),
        ("/api/case/_stats", json!({"query": {}, "stats": aggs}), "Too many aggregations"),
        ("/api/case/_stats", json!({"query": {}, "stats": [nested]}), "Too many aggregations"),
    ];
    for (path, body, message) in cases {
        let (st, v) = post(&admin, &s, path, body).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path}: {v}");
        // TheHive's shape: a search error for queries, a bad request for aggregations.
        assert!(v["type"] == "SearchError" || v["type"] == "BadRequest", "{v}");
        assert!(v["message"].as_str().unwrap().contains(message), "{path}: {v}");
    }
    // Ordinary sizes still work.
    let (st, v) = post(&admin, &s, "/api/case/_search", json!({"query": {"_in": {"_field": "title", "_values": ["a", "b"]}}})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = post(&admin, &s, "/api/case/_stats", json!({"query": {}, "stats": [{"_agg": "field", "_field": "status", "_select": [{"_agg": "count"}]}]})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn json_bodies_are_limited_to_a_mebibyte_and_uploads_are_not() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let big = "x".repeat(2 * 1024 * 1024);
    // A case with a 2 MiB description: refused before it is read.
    let (st, v) = post(&admin, &s, "/api/case", json!({"title": "Big", "description": big})).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert_error(&v, "RequestEntityTooLarge");
    // The same without a Content-Length (a streamed body): stopped at the limit.
    let chunks = futures::stream::iter((0..3).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024 * 1024])));
    let r = admin
        .post(s.url("/api/case"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // An alert with a 2 MiB file observable (base64 in the JSON, as feeders send it) is an upload.
    use base64::Engine;
    let file = base64::engine::general_purpose::STANDARD.encode(vec![7u8; 2 * 1024 * 1024]);
    let alert = json!({"type": "external", "source": "feeder", "sourceRef": "big-1", "title": "Big file", "description": "d",
                       "artifacts": [{"dataType": "file", "data": format!("sample.bin;application/octet-stream;{file}")}]});
    let (st, v) = post(&admin, &s, "/api/alert", alert).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, _) = get(&admin, &s, "/api/status").await;
    assert_eq!(st, StatusCode::OK);
}

/// TheHive 5's query API: pages of any size (up to the largest number JSON carries), oversized
/// filters, malformed pipelines: a clear 400 in TheHive 5's shape or a bounded page, never a 500.
#[tokio::test]
async fn v1_queries_are_bounded_too() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    three_cases(&admin, &s, "/api/v1/case").await;
    let list = |page: serde_json::Value| json!({"query": [{"_name": "listCase"}, page]});
    for (from, to) in [(0u64, 999_999_999u64), (0, u64::MAX), (999_999_999, 1_000_000_000), (u64::MAX - 1, u64::MAX), (u64::MAX, u64::MAX)] {
        let (st, v) = post(&admin, &s, "/api/v1/query", list(json!({"_name": "page", "from": from, "to": to}))).await;
        assert_eq!(st, StatusCode::OK, "page {from}-{to}: {v}");
        let n = v.as_array().map(Vec::len).unwrap_or(usize::MAX);
        assert!(n <= 3, "page {from}-{to}: {v}");
    }
    let (st, v) = post(&admin, &s, "/api/v1/query", list(json!({"_name": "page", "from": 5, "to": 2}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_error(&v, "BadRequest");

    let many: Vec<serde_json::Value> = (0..20_000).map(|i| json!(format!("v{i}"))).collect();
    let branches: Vec<serde_json::Value> = (0..20_000).map(|i| json!({"_eq": {"_field": "title", "_value": format!("t{i}")}})).collect();
    let bad = [
        json!({"query": [{"_name": "listCase"}, {"_name": "filter", "_in": {"_field": "title", "_values": many}}]}),
        json!({"query": [{"_name": "listCase"}, {"_name": "filter", "_or": branches}]}),
        json!({"query": "listCase"}),
        json!({"query": []}),
        json!({"query": [{"_name": "noSuchStep"}]}),
        json!({"query": [{"_name": "listCase"}, {"_name": "page", "from": "zero", "to": -1}]}),
        json!({"query": [{"_name": "listCase"}, {"_name": "sort", "_fields": [{"noSuchField": "asc"}]}]}),
    ];
    for body in bad {
        let (st, v) = post(&admin, &s, "/api/v1/query", body.clone()).await;
        assert!(st.is_client_error(), "{body:.200}: {st} {v}");
        assert!(v["type"].as_str().is_some_and(|t| !t.is_empty()) && v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }
    let (st, _) = get(&admin, &s, "/api/status").await;
    assert_eq!(st, StatusCode::OK);
}
