//! MISP both ways against a stand-in MISP server that answers from the real MISP JSON of the
//! fixtures (MISP itself cannot run here: see `misp/fake.rs`), and the real fixture feed:
//! events in as alerts, kept current (alert and case), cases out as one event updated in
//! place, sightings; every request Waggle sent checked against MISP's OpenAPI document.

mod common;
#[path = "misp/fake.rs"]
mod fake;
#[path = "misp/openapi.rs"]
mod openapi;

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use waggle::config::MispConfig;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/misp")
}

fn fixture(path: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fixtures().join(path)).unwrap()).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

async fn alerts(c: &reqwest::Client, s: &TestServer, source: &str) -> Vec<Value> {
    let (_, list) = search(c, s, "/api/alert/_search", json!({ "_and": [{ "_field": "type", "_value": "misp" }, { "_field": "source", "_value": source }] })).await;
    list
}

async fn sync(c: &reqwest::Client, s: &TestServer) -> Vec<Value> {
    let (st, v) = get(c, s, "/api/connector/misp/_syncAll").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v.as_array().unwrap().clone()
}

fn report<'a>(reports: &'a [Value], name: &str) -> &'a Value {
    reports.iter().find(|r| r["server"] == name).unwrap_or_else(|| panic!("no report for {name}: {reports:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misp_both_ways() {
    let (url, misp) = fake::start().await;
    {
        // The fixture events, as a MISP server holds them. `malware_exist.json` is an
        // unpublished event: the stand-in publishes it, and serves its sample (the fixture's
        // base64 zip) at `attributes/download`, as MISP does for events viewed without
        // `withAttachments`.
        let mut m = misp.lock().unwrap();
        m.add_event(fixture("events/event.json")["Event"].clone());
        let mut sample = fixture("events/malware_exist.json")["response"][0].clone();
        sample["published"] = json!(true);
        sample["publish_timestamp"] = json!("1500000000");
        let attr = &sample["Object"][0]["Attribute"][0];
        let zip = base64::engine::general_purpose::STANDARD.decode(attr["data"].as_str().unwrap()).unwrap();
        m.files.insert(attr["id"].as_str().unwrap().into(), ("simple.json.zip".into(), zip));
        m.add_event(sample);
    }
    let feed_dir = tempfile::tempdir().unwrap();
    copy_dir(&fixtures().join("feed"), feed_dir.path());
    let feed_path = feed_dir.path().to_path_buf();
    let url2 = url.clone();
    let s = TestServer::start_with(move |st| {
        let mut server = MispConfig::server("circl", &url2, fake::KEY);
        server.interval = "1d".into();
        server.tags = vec!["from-misp".into()];
        let mut feed = MispConfig::feed("osint-feed", feed_path);
        feed.interval = "1d".into();
        st.misp = vec![server, feed];
    })
    .await;
    let admin = s.admin_session().await;

    // ---- Import: a server's published events and a feed's events become alerts (at start,
    // or by this "synchronise now" if it comes first: then the start's poll is skipped).
    let reports = sync(&admin, &s).await;
    assert_eq!(report(&reports, "circl")["errors"], json!([]));
    assert_eq!(report(&reports, "osint-feed")["errors"], json!([]));

    let list = alerts(&admin, &s, "circl").await;
    assert_eq!(list.len(), 2, "the two published events");
    let regin = list.iter().find(|a| a["sourceRef"] == "750").expect("event 750's alert");
    assert_eq!(regin["title"], "#750 OSINT - F-Secure W32/Regin, Stage #1");
    assert_eq!(regin["severity"], 3);
    assert!(regin["tags"].as_array().unwrap().contains(&json!("src:CIRCL")));
    let artifacts = regin["artifacts"].as_array().unwrap();
    assert!(artifacts.len() >= 30, "{} observables", artifacts.len());
    assert!(artifacts.iter().all(|o| o["tags"].as_array().unwrap().contains(&json!("from-misp"))));
    let sample_alert = list.iter().find(|a| a["sourceRef"] == "6719").expect("the sample event's alert");
    let file = sample_alert["artifacts"].as_array().unwrap().iter().find(|o| o["dataType"] == "file").expect("the malware sample as a file observable");
    assert_eq!(file["attachment"]["name"], "simple.json", "unpacked from MISP's zip (password infected)");
    assert!(misp.lock().unwrap().requests_to("/attributes/download/").len() == 1);

    let feed_alerts = alerts(&admin, &s, "osint-feed").await;
    assert_eq!(feed_alerts.len(), 3);
    let fallchill = feed_alerts.iter().find(|a| a["sourceRef"] == "5a0d5bf4-99c8-4f15-9879-22b1950d210f").unwrap();
    assert!(fallchill["artifacts"].as_array().unwrap().iter().any(|o| o["dataType"] == "file"), "the feed's inline attachment");
    let xorist = feed_alerts.iter().find(|a| a["sourceRef"] == "57c4445b-c548-4654-af0b-4be3950d210f").unwrap();
    assert_eq!(xorist["tlp"], 0, "tlp:white");

    // ---- The alert becomes a case; the event changes in MISP and is published again.
    let (st, case) = post(&admin, &s, &format!("/api/alert/{}/createCase", regin["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{case}");
    let case_id = case["id"].as_str().unwrap().to_string();
    let removed_value;
    {
        let mut m = misp.lock().unwrap();
        let e = m.events.get_mut("750").unwrap();
        let attrs = e["Attribute"].as_array_mut().unwrap();
        attrs[0]["deleted"] = json!(true);
        removed_value = attrs[0]["value"].as_str().unwrap().to_string();
        attrs.push(json!({ "id": "99999", "type": "ip-dst", "category": "Network activity", "to_ids": true, "uuid": "5a0d5bf4-0000-4000-8000-0000000000ff", "event_id": "750", "timestamp": "1600000000", "comment": "C2", "value": "203.0.113.7", "deleted": false }));
        e["timestamp"] = json!("1600000000");
        e["publish_timestamp"] = json!("1600000001");
        m.requests.clear();
    }
    let reports = sync(&admin, &s).await;
    let r = report(&reports, "circl");
    assert_eq!(r["updated"], 1, "{r}");
    assert_eq!(r["caseObservables"], 1, "{r}");
    {
        let m = misp.lock().unwrap();
        let index = m.requests_to("/events/index");
        assert_eq!(index[0].body.as_ref().unwrap()["publish_timestamp"], "1500000000", "a poll asks only for what was published since the last one");
        assert_eq!(m.requests_to("/events/view/").len(), 1, "only the changed event is read");
    }
    let (_, alert) = get(&admin, &s, &format!("/api/alert/{}", regin["id"].as_str().unwrap())).await;
    let values: Vec<&str> = alert["artifacts"].as_array().unwrap().iter().filter_map(|o| o["data"].as_str()).collect();
    assert!(values.contains(&"203.0.113.7"));
    assert!(!values.contains(&removed_value.as_str()), "the deleted attribute's observable is removed from the alert");
    assert_eq!(alert["status"], "Updated", "a triaged followed alert that changes asks for attention again");
    assert_eq!(alert["occurrences"], 2);
    let (_, obs) = search(&admin, &s, "/api/case/artifact/_search", json!({ "_parent": { "_type": "case", "_query": { "_id": case_id } } })).await;
    assert!(obs.iter().any(|o| o["data"] == "203.0.113.7"), "the new observable reached the case");
    let (_, tasks) = search(&admin, &s, "/api/case/task/_search", json!({ "_parent": { "_type": "case", "_query": { "_id": case_id } } })).await;
    let task = tasks.iter().find(|t| t["title"] == "MISP").expect("the MISP task");
    let (_, logs) = search(&admin, &s, "/api/case/task/log/_search", json!({ "_parent": { "_type": "case_task", "_query": { "_id": task["id"] } } })).await;
    assert!(logs[0]["message"].as_str().unwrap().contains("203.0.113.7"), "{logs:?}");

    // Nothing changed: the index only.
    misp.lock().unwrap().requests.clear();
    let reports = sync(&admin, &s).await;
    assert_eq!(report(&reports, "circl")["updated"], 0);
    assert_eq!(misp.lock().unwrap().requests_to("/events/view/").len(), 0);
    // A full synchronisation reads every event again and finds nothing to change.
    let (st, v) = get(&admin, &s, "/api/connector/misp/_syncAllAlerts").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let full = v.as_array().unwrap();
    assert_eq!((report(full, "circl")["updated"].as_u64(), report(full, "circl")["unchanged"].as_u64()), (Some(0), Some(2)), "{v}");
    assert_eq!((report(full, "osint-feed")["updated"].as_u64(), report(full, "osint-feed")["unchanged"].as_u64()), (Some(0), Some(3)), "{v}");

    // An event MISP fails to serve is read again at the next poll (the poll does not move past it).
    {
        let mut m = misp.lock().unwrap();
        let mut e = fixture("events/sighting_2.json")["Event"].clone();
        e["id"] = json!("751");
        e["published"] = json!(true);
        e["publish_timestamp"] = json!("1600000100");
        m.add_event(e);
        m.failing.insert("751".into());
        // A later one that is served: the poll covers up to it, except the failed one.
        let mut later = fixture("events/sighting_1.json")["Event"].clone();
        later["id"] = json!("752");
        later["published"] = json!(true);
        later["publish_timestamp"] = json!("1600000200");
        m.add_event(later);
    }
    let reports = sync(&admin, &s).await;
    assert_eq!(report(&reports, "circl")["errors"].as_array().unwrap().len(), 1, "{reports:?}");
    assert_eq!(report(&reports, "circl")["created"], 1, "{reports:?}");
    misp.lock().unwrap().failing.clear();
    let reports = sync(&admin, &s).await;
    assert_eq!(report(&reports, "circl")["created"], 1, "{reports:?}");
    assert!(alerts(&admin, &s, "circl").await.iter().any(|a| a["sourceRef"] == "751"));

    // ---- A feed event changes (its manifest timestamp too).
    let uuid = "57c4445b-c548-4654-af0b-4be3950d210f";
    let mut ev: Value = serde_json::from_slice(&std::fs::read(feed_dir.path().join(format!("{uuid}.json"))).unwrap()).unwrap();
    ev["Event"]["Attribute"].as_array_mut().unwrap().push(json!({ "uuid": "5a0d5bf4-0000-4000-8000-0000000000fe", "type": "domain", "category": "Network activity", "value": "xorist-c2.example", "to_ids": true, "timestamp": "1600000000", "comment": "" }));
    std::fs::write(feed_dir.path().join(format!("{uuid}.json")), serde_json::to_vec(&ev).unwrap()).unwrap();
    let mut manifest: Value = serde_json::from_slice(&std::fs::read(feed_dir.path().join("manifest.json")).unwrap()).unwrap();
    manifest[uuid]["timestamp"] = json!(1600000000);
    std::fs::write(feed_dir.path().join("manifest.json"), serde_json::to_vec(&manifest).unwrap()).unwrap();
    let reports = sync(&admin, &s).await;
    let f = report(&reports, "osint-feed");
    assert_eq!((f["updated"].as_u64(), f["unchanged"].as_u64()), (Some(1), Some(2)), "{f}");
    let xorist = alerts(&admin, &s, "osint-feed").await.into_iter().find(|a| a["sourceRef"] == uuid).unwrap();
    assert!(xorist["artifacts"].as_array().unwrap().iter().any(|o| o["data"] == "xorist-c2.example"));

    // ---- Export: a case's IOCs as a new event, then the same event updated.
    let (_, case) = post(&admin, &s, "/api/case", json!({ "title": "Phishing wave", "description": "d", "severity": 3, "tlp": 2, "tags": ["phishing"] })).await;
    let cid = case["id"].as_str().unwrap().to_string();
    for (dt, data, ioc) in [("ip", "198.51.100.1", true), ("domain", "evil.example", true), ("hash", "7637beddacbeac59d44469b2b120b9e6", true), ("domain", "benign.example", false)] {
        let (st, v) = post(&admin, &s, &format!("/api/case/{cid}/artifact"), json!({ "dataType": dt, "data": data, "ioc": ioc, "message": "seen" })).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let sample = format!("dropper.bin;application/octet-stream;{}", base64::engine::general_purpose::STANDARD.encode(b"MZ not really"));
    let (st, v) = post(&admin, &s, &format!("/api/case/{cid}/artifact"), json!({ "dataType": "file", "data": sample, "ioc": true })).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, first) = post(&admin, &s, &format!("/api/connector/misp/export/{cid}/circl"), json!({ "tags": ["waggle:test"], "tlp": 1 })).await;
    assert_eq!(st, StatusCode::CREATED, "{first}");
    assert_eq!((first["created"].as_bool(), first["added"].as_u64()), (Some(true), Some(4)), "{first}");
    {
        let m = misp.lock().unwrap();
        let upload = m.requests_to("/events/upload_sample/");
        assert_eq!(upload.len(), 1, "the file IOC as a malware sample");
        let file = &upload[0].body.as_ref().unwrap()["request"]["files"][0];
        assert_eq!(file["filename"], "dropper.bin");
        assert_eq!(base64::engine::general_purpose::STANDARD.decode(file["data"].as_str().unwrap()).unwrap(), b"MZ not really");
    }
    let event_id = first["eventId"].as_str().unwrap().to_string();
    {
        let m = misp.lock().unwrap();
        let e = &m.events[&event_id];
        assert_eq!(e["info"], "Phishing wave");
        assert_eq!(e["threat_level_id"], "1", "severity 3 is threat level 1 (High)");
        let tags: Vec<&str> = e["Tag"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(tags, ["tlp:green", "waggle:test"]);
        let types: Vec<(&str, &str)> = e["Attribute"].as_array().unwrap().iter().map(|a| (a["type"].as_str().unwrap(), a["value"].as_str().unwrap())).collect();
        assert!(types.contains(&("ip-src", "198.51.100.1")) && types.contains(&("domain", "evil.example")) && types.contains(&("md5", "7637beddacbeac59d44469b2b120b9e6")));
        assert!(!types.iter().any(|(_, v)| *v == "benign.example"), "not an IOC");
    }
    // The case changes: one IOC is no longer one, another appears, the tags change.
    let (_, obs) = search(&admin, &s, "/api/case/artifact/_search", json!({ "_parent": { "_type": "case", "_query": { "_id": cid } } })).await;
    let evil = obs.iter().find(|o| o["data"] == "evil.example").unwrap();
    let (st, _) = patch(&admin, &s, &format!("/api/case/artifact/{}", evil["id"].as_str().unwrap()), json!({ "ioc": false })).await;
    assert_eq!(st, StatusCode::OK);
    post(&admin, &s, &format!("/api/case/{cid}/artifact"), json!({ "dataType": "url", "data": "http://evil.example/login", "ioc": true })).await;
    let (st, second) = post(&admin, &s, &format!("/api/connector/misp/export/{cid}/circl"), json!({ "tags": ["campaign:x"], "tlp": 1 })).await;
    assert_eq!(st, StatusCode::CREATED, "{second}");
    assert_eq!(second["eventId"], event_id.as_str(), "the same event, updated in place");
    assert_eq!(
        (second["created"].as_bool(), second["added"].as_u64(), second["removed"].as_u64(), second["tagsAdded"].as_u64(), second["tagsRemoved"].as_u64()),
        (Some(false), Some(1), Some(1), Some(1), Some(1)),
        "{second}"
    );
    assert_eq!(misp.lock().unwrap().requests_to("/events/upload_sample/").len(), 1, "the file is not sent twice");
    {
        let m = misp.lock().unwrap();
        let e = &m.events[&event_id];
        let live: Vec<&str> = e["Attribute"].as_array().unwrap().iter().filter(|a| a.get("deleted") != Some(&json!(true))).map(|a| a["value"].as_str().unwrap()).collect();
        assert!(live.contains(&"http://evil.example/login") && !live.contains(&"evil.example"), "{live:?}");
        let tags: Vec<&str> = e["Tag"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(tags, ["tlp:green", "campaign:x"]);
        assert_eq!(m.events.values().filter(|e| e["info"] == "Phishing wave").count(), 1, "no second event");
    }
    let (_, exports) = get(&admin, &s, &format!("/api/connector/misp/export/{cid}")).await;
    assert_eq!(exports[0]["eventId"], event_id.as_str());
    assert!(exports[0]["exportedAt"].as_i64().unwrap() > 0);

    // ---- Sightings: marking an observable sighted sights it in MISP; the count comes back.
    let ip = obs.iter().find(|o| o["data"] == "198.51.100.1").unwrap();
    let ip_id = ip["id"].as_str().unwrap().to_string();
    let (st, _) = patch(&admin, &s, &format!("/api/case/artifact/{ip_id}"), json!({ "sighted": true })).await;
    assert_eq!(st, StatusCode::OK);
    let mut count = Value::Null;
    for _ in 0..100 {
        let (_, o) = get(&admin, &s, &format!("/api/case/artifact/{ip_id}")).await;
        count = o["mispSightings"].clone();
        if !count.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count, 1, "one sighting in MISP: {:?}", misp.lock().unwrap().requests_to("/sightings").iter().map(|r| r.body.clone()).collect::<Vec<_>>());
    assert_eq!(misp.lock().unwrap().requests_to("/sightings/add")[0].body.as_ref().unwrap()["values"], json!(["198.51.100.1"]));

    // ---- TheHive 5's routes (thehive4py 2.x `misp.get_status`, `misp.sync`, `misp.export_case`).
    let (st, v1status) = get(&admin, &s, "/api/v1/connector/misp/status").await;
    assert_eq!(st, StatusCode::OK, "{v1status}");
    assert!(v1status["status"].get("circl").is_some() && v1status["syncInProgress"] == false, "{v1status}");
    let (st, v) = get(&admin, &s, "/api/v1/connector/misp/_syncAlerts").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, third) = post(&admin, &s, &format!("/api/v1/connector/misp/export/{cid}/circl"), json!({ "tags": ["campaign:x"], "tlp": 1 })).await;
    assert_eq!(st, StatusCode::CREATED, "{third}");
    assert_eq!((third["eventId"].as_str(), third["added"].as_u64(), third["removed"].as_u64()), (Some(event_id.as_str()), Some(0), Some(0)), "nothing changed: {third}");

    // The event deleted in MISP: the next export makes a new one, files included.
    misp.lock().unwrap().events.remove(&event_id);
    let (st, fourth) = post(&admin, &s, &format!("/api/connector/misp/export/{cid}/circl"), json!({ "tlp": 1 })).await;
    assert_eq!(st, StatusCode::CREATED, "{fourth}");
    assert_eq!(fourth["created"], true, "{fourth}");
    assert_ne!(fourth["eventId"], event_id.as_str());
    assert_eq!(misp.lock().unwrap().requests_to("/events/upload_sample/").len(), 2, "the file goes to the new event too");

    // A MISP event file as a new case (thehive4py 2.x `misp.import_case`).
    let upload = |bytes: Vec<u8>| {
        reqwest::multipart::Form::new()
            .text("_json", "{}")
            .part("file", reqwest::multipart::Part::bytes(bytes).file_name("event.json").mime_str("application/json").unwrap())
    };
    let event_file = std::fs::read(fixtures().join("events/sighting_1.json")).unwrap();
    let r = admin.post(s.url("/api/v1/connector/misp/case/import")).multipart(upload(event_file.clone())).send().await.unwrap();
    let (st, imported) = json(r).await;
    assert_eq!(st, StatusCode::CREATED, "{imported}");
    assert!(imported["title"].as_str().unwrap().starts_with("#60 "), "{imported}");
    let (_, obs) = search(&admin, &s, "/api/case/artifact/_search", json!({ "_parent": { "_type": "case", "_query": { "_id": imported["_id"] } } })).await;
    assert!(!obs.is_empty(), "the event's attributes are the case's observables");
    let r = admin.post(s.url("/api/v1/connector/misp/case/import")).multipart(upload(event_file)).send().await.unwrap();
    let (st, v) = json(r).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "the same event again: {v}");
    let r = admin.post(s.url("/api/v1/connector/misp/case/import")).multipart(upload(b"{\"not\": \"an event\"}".to_vec())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // ---- Status and bad input.
    let (_, status) = get(&admin, &s, "/api/status").await;
    assert_eq!(status["connectors"]["misp"]["enabled"], true);
    let (st, v) = post(&admin, &s, &format!("/api/connector/misp/export/{cid}/osint-feed"), json!({})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a feed takes no export: {v}");
    let (st, _) = post(&admin, &s, &format!("/api/connector/misp/export/{cid}/nowhere"), json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, v) = call(&admin, Method::POST, &s, &format!("/api/connector/misp/export/{cid}/circl"), Some(json!({ "distribution": 9 }))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = post(&admin, &s, &format!("/api/connector/misp/export/{cid}/circl"), json!({ "tlp": "red" })).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, v) = post(&admin, &s, "/api/connector/misp/export/nope/circl", json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");

    // ---- Every request Waggle sent is one MISP documents.
    let api = openapi::OpenApi::load();
    let all = misp.lock().unwrap().log.clone();
    let mut problems = Vec::new();
    for r in &all {
        if let Err(e) = api.check(r) {
            problems.push(e);
        }
    }
    assert!(problems.is_empty(), "requests MISP's OpenAPI document does not allow:\n{}", problems.join("\n"));
    assert!(all.iter().any(|r| r.path == "/events/add") && all.iter().any(|r| r.path.starts_with("/attributes/delete/")));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_managed_in_the_ui() {
    let feed_dir = tempfile::tempdir().unwrap();
    copy_dir(&fixtures().join("feed"), feed_dir.path());
    let s = TestServer::start_with(|st| st.misp = vec![MispConfig::server("from-file", "http://127.0.0.1:9", "k")]).await;
    let admin = s.ui_session(ADMIN, PASSWORD).await;
    let feed = json!({ "name": "circl-osint", "feed": feed_dir.path().display().to_string(), "interval": "1h", "purpose": "import", "tags": ["osint"] });

    // Bad input: a clear 400, nothing saved.
    for (bad, why) in [
        (json!({ "name": "x", "interval": "1h" }), "neither url nor feed"),
        (json!({ "name": "x", "feed": "/tmp", "interval": "soon" }), "interval"),
        (json!({ "name": "x", "url": "ftp://misp", "interval": "1h" }), "url"),
        (json!({ "name": "x", "url": "https://misp.example", "interval": "1h" }), "key"),
        (json!({ "name": "a/b", "feed": "/tmp", "interval": "1h" }), "name"),
    ] {
        let (st, v) = ui(&admin, &s, "admin/misp/save", json!({ "input": bad })).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{why}: {v}");
    }
    // Not a platform administrator: refused.
    s.create_user(&s.admin_session().await, json!({ "login": "ana@soc", "name": "Ana", "password": "ana-password-1", "profile": "analyst" })).await;
    let ana = s.ui_session("ana@soc", "ana-password-1").await;
    let (st, _) = ui(&ana, &s, "admin/misp/save", json!({ "input": feed })).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = ui(&ana, &s, "admin/misp/list", json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    let saved = ui_ok(&admin, &s, "admin/misp/save", json!({ "input": feed })).await;
    assert_eq!(saved["origin"], "ui");
    let list = ui_ok(&admin, &s, "admin/misp/list", json!({})).await;
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|c| c["server"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["from-file", "circl-osint"]);
    let feed_state = &list[1];
    assert_eq!(feed_state["status"], "OK", "the feed's manifest reads: {feed_state}");
    // A saved key never comes back.
    ui_ok(&admin, &s, "admin/misp/save", json!({ "input": { "name": "from-file", "url": "http://127.0.0.1:9", "interval": "2h", "key": "s3cret-key" } })).await;
    let list = ui_ok(&admin, &s, "admin/misp/list", json!({})).await;
    assert!(!list.to_string().contains("s3cret-key"));
    let named = |list: &Value, n: &str| list.as_array().unwrap().iter().find(|c| c["server"]["name"] == n).cloned().unwrap();
    assert_eq!(named(&list, "from-file")["server"]["keySet"], true);
    assert_eq!(named(&list, "from-file")["server"]["origin"], "ui", "the saved connection replaces the file's");
    assert_eq!(named(&list, "from-file")["server"]["interval"], "2h");

    // Synchronise now: the feed's three events.
    let reports = ui_ok(&admin, &s, "admin/misp/sync", json!({ "full": false })).await;
    let feed_report = reports.as_array().unwrap().iter().find(|r| r["server"] == "circl-osint").unwrap();
    assert_eq!(feed_report["created"].as_u64().unwrap() + feed_report["unchanged"].as_u64().unwrap(), 3, "{feed_report}");

    // Removing the UI connection of a file connection brings the file's back; a file one stays.
    ui_ok(&admin, &s, "admin/misp/delete", json!({ "name": "from-file" })).await;
    let list = ui_ok(&admin, &s, "admin/misp/list", json!({})).await;
    assert_eq!(named(&list, "from-file")["server"]["origin"], "file");
    let (st, v) = ui(&admin, &s, "admin/misp/delete", json!({ "name": "from-file" })).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let targets = ui_ok(&admin, &s, "misp/targets", json!({})).await;
    assert_eq!(targets, json!(["from-file"]), "a feed takes no export");
    s.stop().await;
}
