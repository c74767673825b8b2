//! A stand-in for a MISP server. MISP itself cannot run here (PHP, MySQL and Redis from its own
//! repository), so this small HTTP server answers MISP's endpoints **from the real MISP JSON of
//! `fixtures/misp/` (a copy of `../shared/fixtures/misp/`)** (events as `GET /events/view` returns them), applies writes the
//! way MISP 2.5.1 does (`fixtures/misp/misp-reference.md` (a copy of `../shared/reference/misp.md`) §2) and records every request Waggle
//! sends, so that the test can check them against MISP's OpenAPI document ([`super::openapi`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};

pub const KEY: &str = "0123456789abcdef0123456789abcdef01234567";

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Option<Value>,
}

#[derive(Default)]
pub struct Misp {
    /// Events by id (`Event` objects).
    pub events: HashMap<String, Value>,
    /// Attachments by attribute id.
    pub files: HashMap<String, (String, Vec<u8>)>,
    /// Requests since the test last cleared them.
    pub requests: Vec<Request>,
    /// Every request, never cleared.
    pub log: Vec<Request>,
    /// Events whose `events/view` fails (500), as a MISP under load does.
    pub failing: std::collections::HashSet<String>,
    next_id: u64,
}

pub type Shared = Arc<Mutex<Misp>>;

impl Misp {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        (900_000 + self.next_id).to_string()
    }

    pub fn add_event(&mut self, event: Value) {
        let id = event["id"].as_str().expect("event id").to_string();
        self.events.insert(id, event);
    }

    pub fn requests_to(&self, prefix: &str) -> Vec<Request> {
        self.requests.iter().filter(|r| r.path.starts_with(prefix)).cloned().collect()
    }
}

fn error(status: StatusCode, name: &str, url: &str) -> Response {
    (status, axum::Json(json!({ "name": name, "message": name, "url": url }))).into_response()
}

fn attrs_mut(event: &mut Value) -> Vec<&mut Value> {
    let mut out: Vec<&mut Value> = Vec::new();
    let Value::Object(m) = event else { return out };
    let (attrs, objects) = {
        let mut a = None;
        let mut o = None;
        for (k, v) in m.iter_mut() {
            match k.as_str() {
                "Attribute" => a = Some(v),
                "Object" => o = Some(v),
                _ => {}
            }
        }
        (a, o)
    };
    if let Some(Value::Array(list)) = attrs {
        out.extend(list.iter_mut());
    }
    if let Some(Value::Array(objs)) = objects {
        for o in objs.iter_mut() {
            if let Some(Value::Array(list)) = o.get_mut("Attribute") {
                out.extend(list.iter_mut());
            }
        }
    }
    out
}

/// `GET /events/view` without `withAttachments`: no inline `data`.
fn view(event: &Value) -> Value {
    let mut e = event.clone();
    for a in attrs_mut(&mut e) {
        if let Value::Object(m) = a {
            m.remove("data");
        }
    }
    let mut kept = e.clone();
    // Deleted attributes are not shown.
    if let Some(Value::Array(list)) = kept.get_mut("Attribute") {
        list.retain(|a| a.get("deleted").and_then(Value::as_bool) != Some(true));
    }
    json!({ "Event": kept })
}

fn now() -> String {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string()
}

async fn handle(State(misp): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_string();
    let parsed: Option<Value> = if body.is_empty() { None } else { serde_json::from_slice(&body).ok() };
    let mut m = misp.lock().unwrap();
    let req = Request { method: method.to_string(), path: path.clone(), headers: headers.clone(), body: parsed.clone() };
    m.requests.push(req.clone());
    m.log.push(req);
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(KEY) {
        return error(
            StatusCode::FORBIDDEN,
            "Authentication failed. Please make sure you pass the API key of an API enabled user along in the Authorization header.",
            &path,
        );
    }
    let body = parsed.unwrap_or(Value::Null);
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["servers", "getVersion"]) => axum::Json(json!({ "version": "2.5.1", "perm_sync": true, "perm_sighting": true, "uuid": "5a0d5bf4-0000-4000-8000-000000000000" })).into_response(),
        ("POST", ["events", "index"]) => {
            let since: i64 = body.get("publish_timestamp").and_then(Value::as_str).and_then(|s| s.parse().ok()).unwrap_or(0);
            let list: Vec<Value> = m
                .events
                .values()
                .filter(|e| e["publish_timestamp"].as_str().and_then(|s| s.parse::<i64>().ok()).unwrap_or(0) >= since)
                .map(|e| {
                    let tags: Vec<Value> = e.get("Tag").and_then(Value::as_array).cloned().unwrap_or_default().into_iter().map(|t| json!({ "Tag": t })).collect();
                    json!({
                        "id": e["id"], "uuid": e["uuid"], "info": e["info"], "published": e["published"], "timestamp": e["timestamp"],
                        "publish_timestamp": e["publish_timestamp"], "threat_level_id": e["threat_level_id"], "Orgc": e["Orgc"], "EventTag": tags,
                    })
                })
                .collect();
            axum::Json(Value::Array(list)).into_response()
        }
        ("GET", ["events", "view", id]) if m.failing.contains(*id) => error(StatusCode::INTERNAL_SERVER_ERROR, "Internal error", &path),
        ("GET", ["events", "view", id]) => match m.events.get(*id) {
            Some(e) => axum::Json(view(e)).into_response(),
            None => error(StatusCode::NOT_FOUND, "Invalid event", &path),
        },
        ("GET", ["attributes", "download", id]) => match m.files.get(*id) {
            Some((name, bytes)) => {
                ([(axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))], bytes.clone()).into_response()
            }
            None => error(StatusCode::NOT_FOUND, "Invalid attribute", &path),
        },
        ("POST", ["events", "add"]) => {
            let id = m.new_id();
            let mut e = body.clone();
            e["id"] = json!(id);
            e["uuid"] = json!(format!("c99506a6-1255-4b71-afa5-{:012}", id.parse::<u64>().unwrap()));
            e["timestamp"] = json!(now());
            e["publish_timestamp"] = json!("0");
            e["Orgc"] = json!({ "id": "1", "name": "ORGNAME", "uuid": "5a0d5bf4-0000-4000-8000-000000000001" });
            let mut attrs = Vec::new();
            for a in body.get("Attribute").and_then(Value::as_array).cloned().unwrap_or_default() {
                let mut a = a.clone();
                a["id"] = json!(m.new_id());
                a["event_id"] = json!(id);
                attrs.push(a);
            }
            e["Attribute"] = Value::Array(attrs);
            m.events.insert(id, e.clone());
            axum::Json(json!({ "Event": e })).into_response()
        }
        ("PUT", ["events", "edit", id]) => {
            let Some(e) = m.events.get_mut(*id) else { return error(StatusCode::NOT_FOUND, "Invalid event", &path) };
            for (k, v) in body.as_object().cloned().unwrap_or_default() {
                e[k.as_str()] = v;
            }
            e["timestamp"] = json!(now());
            let e = e.clone();
            axum::Json(json!({ "Event": e })).into_response()
        }
        ("POST", ["attributes", "add", id]) => {
            let aid = m.new_id();
            let Some(e) = m.events.get_mut(*id) else { return error(StatusCode::NOT_FOUND, "Invalid event", &path) };
            let dup = e["Attribute"].as_array().is_some_and(|l| l.iter().any(|a| a["value"] == body["value"] && a["type"] == body["type"] && a.get("deleted") != Some(&json!(true))));
            if dup {
                return (StatusCode::FORBIDDEN, axum::Json(json!({ "saved": false, "name": "Could not add Attribute", "message": "Could not add Attribute", "url": path, "errors": { "value": ["A similar attribute already exists for this event."] } }))).into_response();
            }
            let mut a = body.clone();
            a["id"] = json!(aid);
            a["event_id"] = json!(id);
            e["Attribute"].as_array_mut().unwrap().push(a.clone());
            axum::Json(json!({ "Attribute": a })).into_response()
        }
        ("POST", ["events", "upload_sample", id]) => {
            let aid = m.new_id();
            let Some(e) = m.events.get_mut(*id) else { return error(StatusCode::NOT_FOUND, "Invalid event", &path) };
            let req = &body["request"];
            let mut added = Vec::new();
            for f in req["files"].as_array().cloned().unwrap_or_default() {
                let a = json!({ "id": aid, "event_id": id, "type": "malware-sample", "category": req["category"], "to_ids": req["to_ids"], "comment": req["comment"],
                    "value": format!("{}|{}", f["filename"].as_str().unwrap_or(""), "0".repeat(32)) });
                e["Attribute"].as_array_mut().unwrap().push(a.clone());
                added.push(a);
            }
            axum::Json(json!({ "name": "Success", "message": "Success", "url": path, "id": id })).into_response()
        }
        ("DELETE", ["attributes", "delete", aid]) => {
            for e in m.events.values_mut() {
                for a in attrs_mut(e) {
                    if a["id"] == json!(aid) {
                        a["deleted"] = json!(true);
                        return axum::Json(json!({ "message": "Attribute deleted." })).into_response();
                    }
                }
            }
            error(StatusCode::NOT_FOUND, "Invalid attribute", &path)
        }
        ("POST", ["tags", op @ ("attachTagToObject" | "removeTagFromObject")]) => {
            let uuid = body["uuid"].clone();
            let tag = body["tag"].as_str().unwrap_or_default().to_string();
            let Some(e) = m.events.values_mut().find(|e| e["uuid"] == uuid) else { return error(StatusCode::NOT_FOUND, "Invalid target.", &path) };
            let tags = e["Tag"].as_array_mut().expect("tags");
            if *op == "attachTagToObject" {
                tags.push(json!({ "id": "99", "name": tag, "colour": "#ffffff", "exportable": true }));
            } else {
                tags.retain(|t| t["name"] != json!(tag));
            }
            axum::Json(json!({ "saved": true, "success": "Tag(s) updated.", "name": "Tag(s) updated.", "message": "ok", "url": path })).into_response()
        }
        ("POST", ["sightings", "add"]) => {
            let values: Vec<Value> = body["values"].as_array().cloned().unwrap_or_default();
            let mut hit = None;
            for e in m.events.values_mut() {
                let eid = e["id"].clone();
                for a in attrs_mut(e) {
                    if values.contains(&a["value"]) && a.get("deleted") != Some(&json!(true)) {
                        let s = json!({ "id": "1", "attribute_id": a["id"], "event_id": eid, "org_id": "1", "date_sighting": now(), "uuid": "5a0d5bf4-0000-4000-8000-00000000000a", "source": "", "type": "0" });
                        match a.get_mut("Sighting").and_then(Value::as_array_mut) {
                            Some(list) => list.push(s.clone()),
                            None => a["Sighting"] = json!([s.clone()]),
                        }
                        hit = Some(s);
                    }
                }
            }
            match hit {
                Some(s) => axum::Json(json!({ "Sighting": s })).into_response(),
                None => axum::Json(json!({ "message": "Could not add the Sighting. Reason: No valid attributes found that match the criteria." })).into_response(),
            }
        }
        ("POST", ["attributes", "restSearch"]) => {
            let value = body["value"].clone();
            let mut out = Vec::new();
            for e in m.events.values_mut() {
                for a in attrs_mut(e) {
                    if a["value"] == value {
                        out.push(a.clone());
                    }
                }
            }
            axum::Json(json!({ "response": { "Attribute": out } })).into_response()
        }
        _ => error(StatusCode::NOT_FOUND, "Not found", &path),
    }
}

/// Start the stand-in on 127.0.0.1 (a port of the OS's choosing): its base URL and state.
pub async fn start() -> (String, Shared) {
    let state: Shared = Arc::new(Mutex::new(Misp::default()));
    let app = Router::new().route("/{*path}", any(handle)).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), state)
}
