//! Case reports against a real server (127.0.0.1, a temporary embedded database): the three
//! formats of a case with tasks, logs (one with an attachment, one with hostile markdown),
//! observables (an IOC, a file, one with an analyzer's mini-report), custom fields, metrics
//! and a related alert; the PDF's text read back with poppler's `pdftotext`; report templates
//! uploaded, used, refused and deleted; bad input answered 400 in TheHive's error shape.

mod common;

use std::time::Duration;

use common::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_string()
}

/// The text of a PDF, by `pdftotext -layout` (poppler-utils; `scripts/lib.sh` `ensure_poppler`).
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg("-enc")
        .arg("UTF-8")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (apt-get install poppler-utils, or scripts/lib.sh ensure_poppler)");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A report: status, content type, content disposition and body.
async fn report(c: &Client, s: &TestServer, case: &str, query: &str) -> (StatusCode, String, String, Vec<u8>) {
    let r = c.get(s.url(&format!("/api/case/{case}/report{query}"))).send().await.unwrap();
    let status = r.status();
    let header = |n: &str| r.headers().get(n).map(|v| v.to_str().unwrap_or_default().to_string()).unwrap_or_default();
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    (status, ct, cd, r.bytes().await.unwrap().to_vec())
}

const HOSTILE: &str = "Found this in the mail:\n\n<script>alert('xss')</script>\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(2))\n\nAnd **bold** text.";

/// A case made from an alert, with everything a report shows; its id.
async fn full_case(admin: &Client, s: &TestServer) -> String {
    let (st, v) = post(admin, s, "/api/list/custom_fields", json!({"value": {"name": "businessUnit", "reference": "businessUnit", "type": "string", "mandatory": false}})).await;
    assert!(st.is_success(), "{v}");
    let (st, alert) = post(
        admin,
        s,
        "/api/alert",
        json!({"type": "external", "source": "mail-gateway", "sourceRef": "MG-1", "title": "Phishing wave", "description": "d", "severity": 3,
               "artifacts": [{"dataType": "mail", "data": "ceo@evil.example"}]}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{alert}");
    let (st, case) = post(admin, s, &format!("/api/alert/{}/createCase", id(&alert)), json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{case}");
    let cid = id(&case);
    let (st, v) = patch(
        admin,
        s,
        &format!("/api/case/{cid}"),
        json!({"title": "Phishing against finance", "description": "Several **finance** employees received a fake invoice.",
               "severity": 3, "tlp": 2, "tags": ["phishing", "finance"], "customFields": {"businessUnit": {"string": "Finance"}},
               "metrics": {"mailsReceived": 42}}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");

    let (st, t1) = post(admin, s, &format!("/api/case/{cid}/task"), json!({"title": "Block the sender", "group": "Containment"})).await;
    assert_eq!(st, StatusCode::CREATED, "{t1}");
    let (st, t2) = post(admin, s, &format!("/api/case/{cid}/task"), json!({"title": "Analyse the attachment", "group": "Analysis"})).await;
    assert_eq!(st, StatusCode::CREATED, "{t2}");
    let (st, l) = post(admin, s, &format!("/api/case/task/{}/log", id(&t1)), json!({"message": "# Blocked\n\nBlocked **evil.example** on the gateway.\n\n- rule 17\n- rule 18"})).await;
    assert_eq!(st, StatusCode::CREATED, "{l}");
    let (st, l) = post(admin, s, &format!("/api/case/task/{}/log", id(&t2)), json!({"message": HOSTILE})).await;
    assert_eq!(st, StatusCode::CREATED, "{l}");
    let form = reqwest::multipart::Form::new()
        .text("_json", json!({"message": "Headers of the first mail attached"}).to_string())
        .part("attachment", reqwest::multipart::Part::bytes(b"Received: from evil\r\n".to_vec()).file_name("headers.txt").mime_str("text/plain").unwrap());
    let (st, l) = json(admin.post(s.url(&format!("/api/case/task/{}/log", id(&t2)))).multipart(form).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::CREATED, "{l}");

    let (st, v) = post(admin, s, &format!("/api/case/{cid}/artifact"), json!({"dataType": "domain", "data": "evil.example", "ioc": true, "tags": ["c2"]})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = post(admin, s, &format!("/api/case/{cid}/artifact"), json!({"dataType": "ip", "data": ["203.0.113.7", "203.0.113.8"]})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let ip = v.as_array().and_then(|a| a.first()).map(id).unwrap_or_else(|| id(&v));
    let form = reqwest::multipart::Form::new()
        .text("_json", json!({"dataType": "file", "message": "the invoice"}).to_string())
        .part("attachment", reqwest::multipart::Part::bytes(b"%PDF-1.4 fake invoice".to_vec()).file_name("invoice.pdf").mime_str("application/pdf").unwrap());
    let (st, v) = json(admin.post(s.url(&format!("/api/case/{cid}/artifact"))).multipart(form).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    // A mini-report on the first IP, from the stand-in analyzer.
    let (st, job) = post(admin, s, "/api/connector/cortex/job", json!({"cortexId": "local", "artifactId": ip, "analyzerId": "Fast_1_0"})).await;
    assert_eq!(st, StatusCode::CREATED, "{job}");
    for _ in 0..300 {
        let (_, o) = get(admin, s, &format!("/api/case/artifact/{ip}")).await;
        if o["reports"]["Fast_1_0"].is_object() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cid
}

async fn server_with_analyzer() -> (TestServer, tempfile::TempDir, Client) {
    let analyzers = fake_analyzers("0");
    let s = TestServer::start_with(|st| st.analysis.analyzer_dirs = vec![analyzers.path().to_path_buf()]).await;
    let ui_admin = s.ui_session(ADMIN, PASSWORD).await;
    ui_ok(&ui_admin, &s, "analysis/enable", json!({"definition": "Fast_1_0", "input": {}})).await;
    let admin = s.admin_session().await;
    (s, analyzers, admin)
}

#[tokio::test]
async fn a_case_report_in_pdf_html_and_markdown() {
    let (s, _analyzers, admin) = server_with_analyzer().await;
    let cid = full_case(&admin, &s).await;
    let (_, case) = get(&admin, &s, &format!("/api/case/{cid}")).await;
    let number = case["caseId"].as_i64().unwrap();

    // Markdown: the template's output with the marking first and last.
    let (st, ct, cd, body) = report(&admin, &s, &cid, "?format=md").await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert!(ct.starts_with("text/markdown"), "{ct}");
    assert!(cd.contains(&format!("case-{number}-report.md")), "{cd}");
    let md = String::from_utf8(body).unwrap();
    assert!(md.starts_with("**TLP:AMBER**"), "{md}");
    assert!(md.trim_end().ends_with("**TLP:AMBER**"), "{md}");
    for expected in [
        &format!("# Case #{number}: Phishing against finance") as &str,
        "Several **finance** employees",
        "| businessUnit | Finance |",
        "| mailsReceived (metric) | 42 |",
        "### 1. Block the sender",
        "Blocked **evil.example** on the gateway.",
        "attachment headers.txt (21 bytes",
        "| **IOC** | domain | evil.example |",
        "Fast:ran=1 \\(safe\\)",
        "invoice.pdf",
        "| mail\\-gateway | MG\\-1 | Phishing wave |",
        "Created task Block the sender",
        "Updated task Analyse the attachment: owner, startDate, status",
        "Created log Headers of the first mail attached",
        "Created observable invoice.pdf",
        "data:image/png;base64,",
    ] {
        assert!(md.contains(expected), "{expected:?} in\n{md}");
    }
    // Paragraphs stay apart (a tag ending a line keeps its line break).
    assert!(md.contains("`)\n\nHeaders of the first mail attached"), "{md}");
    assert!(md.contains("**InProgress** · group Containment · admin@waggle.local\n\n**"), "{md}");
    // A log's heading sits under its task's.
    assert!(md.contains("\n#### Blocked\n"), "{md}");
    // IOCs first.
    let ioc = md.find("| **IOC** | domain | evil.example").unwrap();
    assert!(md.find("203.0.113.7").unwrap() > ioc);

    // HTML: rendered, sanitised, with the charts inlined and the marking at both ends.
    let (st, ct, cd, body) = report(&admin, &s, &format!("%23{number}"), "?format=html").await;
    assert_eq!(st, StatusCode::OK);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(cd.contains(".html"), "{cd}");
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("<h1>Case #"), "{html}");
    assert!(html.contains("<strong>finance</strong>"));
    assert!(html.contains("<td>Finance</td>"), "custom field in a table");
    assert!(html.contains("<img src=\"data:image/png;base64,"), "charts inlined");
    assert_eq!(html.matches(">TLP:AMBER</span>").count(), 2, "header and footer marking");
    assert!(html.contains("Fast:ran=1 (safe)"));
    // Nothing of the hostile log can run.
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.to_lowercase().contains("onerror"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    assert!(html.contains("Found this in the mail:"), "the log is still there");
    assert!(html.contains("Content-Security-Policy"));

    // PDF: written by Waggle; its text read back by pdftotext.
    let (st, ct, cd, pdf) = report(&admin, &s, &cid, "").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ct, "application/pdf");
    assert!(cd.contains(".pdf"), "{cd}");
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdf_text(&pdf);
    for expected in [
        &format!("Case #{number}: Phishing against finance") as &str,
        "TLP:AMBER",
        "Several finance employees received a fake invoice.",
        "businessUnit",
        "Block the sender",
        "Blocked evil.example on the gateway.",
        "rule 17",
        "headers.txt",
        "evil.example",
        "203.0.113.8",
        "Fast:ran=1 (safe)",
        "invoice.pdf",
        "Phishing wave",
        "Timeline",
        "Page 1 of",
    ] {
        assert!(text.contains(expected), "{expected:?} in the PDF text:\n{text}");
    }
    // The marking is on every page, top and bottom.
    let pages = text.matches("Page ").count();
    assert!(pages >= 1);
    assert!(text.matches("TLP:AMBER").count() >= 2 * pages, "{text}");

    // Another organisation cannot read the case; an unknown case is 404.
    let carol = s.acme_admin().await;
    let (st, _, _, body) = report(&carol, &s, &cid, "?format=md").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{}", String::from_utf8_lossy(&body));
    let (st, _, _, _) = report(&admin, &s, "nothing-here", "").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn uploaded_templates_shape_the_report_with_their_marking() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let (_, case) = post(&admin, &s, "/api/case", json!({"title": "Ransomware <b>note</b>", "description": "Files encrypted.", "tlp": 1})).await;
    let cid = id(&case);
    let (st, t) = post(&admin, &s, &format!("/api/case/{cid}/task"), json!({"title": "Isolate hosts"})).await;
    assert_eq!(st, StatusCode::CREATED, "{t}");

    // JSON upload, with a TLP marking stricter than the case's.
    let content = "# Executive summary: {{ case.title | md }}\n\nSeverity {{ case.severityLabel }}, {{ tasks | length }} task(s):\n\n{% for t in tasks %}\n- {{ t.title | md }} ({{ t.status }})\n{% endfor %}\n";
    let (st, tpl) = post(&admin, &s, "/api/report/template", json!({"name": "executive", "description": "For management", "tlp": 3, "content": content})).await;
    assert_eq!(st, StatusCode::CREATED, "{tpl}");
    assert_eq!(tpl["_type"], "reportTemplate");
    assert_eq!(tpl["tlp"], 3);
    // Multipart upload of a file.
    let form = reqwest::multipart::Form::new()
        .text("name", "short")
        .part("template", reqwest::multipart::Part::bytes(b"Only {{ case.title | md }}".to_vec()).file_name("short.md.j2"));
    let (st, short) = json(admin.post(s.url("/api/report/template")).multipart(form).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::CREATED, "{short}");

    let (st, list) = get(&admin, &s, "/api/report/template").await;
    assert_eq!(st, StatusCode::OK);
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["default", "executive", "short"]);
    assert_eq!(list[0]["builtin"], true);

    let (st, _, _, body) = report(&admin, &s, &cid, "?format=md&template=executive").await;
    assert_eq!(st, StatusCode::OK);
    let md = String::from_utf8(body).unwrap();
    assert!(md.starts_with("**TLP:RED**"), "the template's marking, not the case's GREEN: {md}");
    assert!(md.contains("# Executive summary: Ransomware \\<b\\>note\\</b\\>"), "{md}");
    assert!(md.contains("- Isolate hosts (Waiting)"), "{md}");
    let (st, _, _, pdf) = report(&admin, &s, &cid, "?format=pdf&template=executive").await;
    assert_eq!(st, StatusCode::OK);
    let text = pdf_text(&pdf);
    assert!(text.contains("Executive summary: Ransomware <b>note</b>"), "{text}");
    assert!(text.contains("TLP:RED"), "{text}");
    assert!(!text.contains("TLP:GREEN"), "{text}");
    let (st, _, _, html) = report(&admin, &s, &cid, "?format=html&template=executive").await;
    assert_eq!(st, StatusCode::OK);
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("Executive summary: Ransomware &lt;b&gt;note&lt;/b&gt;"), "{html}");
    // The default template uses the case's marking.
    let (_, _, _, body) = report(&admin, &s, &cid, "?format=md").await;
    assert!(String::from_utf8(body).unwrap().starts_with("**TLP:GREEN**"));

    // The UI's server functions see and manage the same templates.
    let ui_admin = s.ui_session(ADMIN, PASSWORD).await;
    let listed = ui_ok(&ui_admin, &s, "reports/templates", json!({})).await;
    assert_eq!(listed.as_array().unwrap().len(), 3);
    let made = ui_ok(&ui_admin, &s, "reports/templates/upload", json!({"input": {"name": "from-ui", "content": "{{ case.title }}"}})).await;
    ui_ok(&ui_admin, &s, "reports/templates/delete", json!({"id": made["id"]})).await;

    // Other organisations do not see them.
    let carol = s.acme_admin().await;
    let (_, theirs) = get(&carol, &s, "/api/report/template").await;
    assert_eq!(theirs.as_array().unwrap().len(), 1, "{theirs}");

    // Deleting: the template goes; `default` stays.
    let r = admin.delete(s.url(&format!("/api/report/template/{}", id(&short)))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (st, v) = json(admin.delete(s.url("/api/report/template/default")).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = json(admin.delete(s.url("/api/report/template/nope")).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let (_, list) = get(&admin, &s, "/api/report/template").await;
    assert_eq!(list.as_array().unwrap().len(), 2);

    // A read-only user may make reports but not upload templates.
    s.create_user(&admin, json!({"login": "reader@waggle.local", "name": "Reader", "profile": "read-only", "password": "reader-password-1"})).await;
    let reader = s.session("reader@waggle.local", "reader-password-1").await;
    let (st, _, _, _) = report(&reader, &s, &cid, "?format=md&template=executive").await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = post(&reader, &s, "/api/report/template", json!({"name": "mine", "content": "x"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
}

#[tokio::test]
async fn bad_input_is_a_clear_400_never_a_500() {
    let s = TestServer::start().await;
    let admin = s.admin_session().await;
    let (_, case) = post(&admin, &s, "/api/case", json!({"title": "t", "description": "d"})).await;
    let cid = id(&case);

    let bad = |v: &Value, needle: &str| {
        assert_error(v, "BadRequest");
        assert!(v["message"].as_str().unwrap().contains(needle), "{needle:?} in {v}");
    };
    let r = admin.get(s.url(&format!("/api/case/{cid}/report?format=docx"))).send().await.unwrap();
    let (st, v) = json(r).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    bad(&v, "Unknown report format");
    let (st, v) = json(admin.get(s.url(&format!("/api/case/{cid}/report?template=nope"))).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    bad(&v, "Unknown report template");

    // Templates that do not compile, or fail on a sample case, are refused at upload.
    for (content, needle) in [
        ("{% for t in tasks %}never closed", "line 1"),
        ("{{ case.title | no_such_filter }}", "not valid"),
        ("{% if %}", "not valid"),
    ] {
        let (st, v) = post(&admin, &s, "/api/report/template", json!({"name": "broken", "content": content})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{content}: {v}");
        bad(&v, needle);
    }
    let (st, v) = post(&admin, &s, "/api/report/template", json!({"name": "default", "content": "x"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = post(&admin, &s, "/api/report/template", json!({"name": "", "content": "x"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = post(&admin, &s, "/api/report/template", json!({"name": "x", "content": "x", "tlp": 9})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = post(&admin, &s, "/api/report/template", json!({"name": "x", "content": "x", "colour": "red"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "unknown attributes: {v}");
    let (st, v) = post(&admin, &s, "/api/report/template", json!({"name": "x", "content": "y"})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = post(&admin, &s, "/api/report/template", json!({"name": "x", "content": "y"})).await;
    assert!(st == StatusCode::BAD_REQUEST || st == StatusCode::CONFLICT, "a name taken: {st} {v}");

    // A template whose loop never ends stops on its budget: a 400, not a stuck thread.
    let (st, v) = post(&admin, &s, "/api/report/template", json!({"name": "spin", "content": "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    bad(&v, "not valid");
}
