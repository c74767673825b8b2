//! What the REST dialects (TheHive v0, Cortex) share: model objects with `_id` and `_type`,
//! typed inputs from lenient bodies, search parameters, list and multi-status answers,
//! JSON-or-multipart bodies, file downloads.

use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::api::json::parse_json;
use crate::core::attachment::{self, StoredFile};
use crate::core::error::{Error, Result};
use crate::core::state::AppState;

/// A model object as v0 and Cortex show it: its fields plus `_id`, `id` and `_type`.
pub fn object(value: impl serde::Serialize, type_name: &str) -> Value {
    let mut v = serde_json::to_value(value).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        if let Some(id) = m.get("id").cloned() {
            m.insert("_id".into(), id);
        }
        m.insert("_type".into(), Value::String(type_name.to_string()));
    }
    v
}

/// Reject attributes an update or create does not know (`null` values count as absent).
pub fn check_attributes(table: &str, body: &Map<String, Value>, allowed: &[&str]) -> crate::core::error::Result<()> {
    let errors: Vec<app::model::AttributeError> = body
        .iter()
        .filter(|(k, v)| !v.is_null() && !allowed.contains(&k.as_str()))
        .map(|(k, _)| app::model::AttributeError {
            name: format!("{table}.{k}"),
            kind: "UnknownAttributeError".into(),
            message: format!("Unknown attribute {k}"),
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(crate::core::error::Error::Attributes { table: table.into(), errors }) }
}

/// A string attribute of a JSON body (absent or null = `None`, wrong type = error).
pub fn opt_string(table: &str, body: &Map<String, Value>, key: &str) -> crate::core::error::Result<Option<String>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(crate::core::error::Error::attribute(table, key, "string", format!("{key} must be a string"))),
    }
}

/// Drop `null` values (clients send full objects with nulls: "not given"), at the top level
/// and in the objects of top-level lists (nested tasks with `"id": null`). Values inside
/// objects such as `customFields` keep their nulls: there, null means "no value yet".
pub fn strip_nulls(body: &Map<String, Value>) -> Map<String, Value> {
    body.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let v = match v {
                Value::Array(items) => Value::Array(
                    items
                        .iter()
                        .map(|i| match i {
                            Value::Object(o) => Value::Object(o.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect()),
                            other => other.clone(),
                        })
                        .collect(),
                ),
                other => other.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// A typed input from a v0 body: unknown attributes refused (`AttributeCheckingError`), nulls
/// treated as absent, a wrong type named by its path (`case.tasks[0].status`).
pub fn input<T: DeserializeOwned>(table: &str, body: &Map<String, Value>, allowed: &[&str]) -> Result<T> {
    check_attributes(table, body, allowed)?;
    let cleaned = Value::Object(strip_nulls(body));
    serde_path_to_error::deserialize(cleaned).map_err(|e| {
        let path = e.path().to_string();
        let name = if path == "." { table.to_string() } else { format!("{table}.{path}") };
        let inner = e.into_inner().to_string();
        let kind = if inner.starts_with("missing field") { "MissingAttributeError" } else { "InvalidFormatAttributeError" };
        Error::Attributes { table: table.into(), errors: vec![app::model::AttributeError { name, kind: kind.into(), message: inner }] }
    })
}

/// Unknown attributes in the objects of a list attribute (`tasks`).
pub fn check_list_attributes(table: &str, body: &Map<String, Value>, key: &str, allowed: &[&str]) -> Result<()> {
    if let Some(Value::Array(items)) = body.get(key) {
        for item in items {
            if let Value::Object(o) = item {
                check_attributes(&format!("{table}.{key}"), o, allowed)?;
            }
        }
    }
    Ok(())
}

/// `_search` parameters, from the query string (`range`, repeated `sort`, `nparent`, `nstats`)
/// and the JSON body (`query`, and the same keys); the body wins.
#[derive(Debug, Default)]
pub struct SearchArgs {
    pub query: Value,
    pub sort: Vec<String>,
    pub range: Option<String>,
    pub nparent: u32,
    pub nstats: bool,
}

fn truthy(s: &str) -> bool {
    matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes")
}

/// The query string as (key, value) pairs (repeated keys kept; malformed input ignored).
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok()).unwrap_or_default()
}

pub fn query_param(raw: Option<&str>, key: &str) -> Option<String> {
    query_pairs(raw).into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

pub fn search_args(raw: Option<&str>, body: &Map<String, Value>) -> Result<SearchArgs> {
    let mut a = SearchArgs { query: json!({}), ..Default::default() };
    for (k, v) in query_pairs(raw) {
        match k.as_str() {
            "range" => a.range = Some(v),
            "sort" => a.sort.push(v),
            "nparent" => a.nparent = v.trim().parse().unwrap_or(0),
            "nstats" => a.nstats = truthy(&v),
            _ => {}
        }
    }
    if let Some(q) = body.get("query") {
        a.query = q.clone();
    }
    match body.get("range") {
        Some(Value::String(r)) => a.range = Some(r.clone()),
        Some(Value::Null) | None => {}
        Some(_) => return Err(Error::BadRequest("range must be a string: all or FROM-TO".into())),
    }
    match body.get("sort") {
        Some(Value::String(s)) => a.sort = vec![s.clone()],
        Some(Value::Array(list)) => {
            a.sort = list
                .iter()
                .map(|s| s.as_str().map(str::to_string).ok_or_else(|| Error::BadRequest("sort must be a list of field names".into())))
                .collect::<Result<_>>()?;
        }
        Some(Value::Null) | None => {}
        Some(_) => return Err(Error::BadRequest("sort must be a field name or a list of them".into())),
    }
    match body.get("nparent") {
        Some(Value::Number(n)) => a.nparent = n.as_u64().unwrap_or(0).min(10) as u32,
        Some(Value::String(s)) => a.nparent = s.trim().parse().unwrap_or(0),
        _ => {}
    }
    match body.get("nstats") {
        Some(Value::Bool(b)) => a.nstats = *b,
        Some(Value::String(s)) => a.nstats = truthy(s),
        _ => {}
    }
    Ok(a)
}

/// A list answer: the JSON array and `X-Total`.
pub fn list_response(items: Vec<Value>, total: u64) -> Response {
    let mut resp = axum::Json(items).into_response();
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        resp.headers_mut().insert("x-total", v);
    }
    resp
}

/// TheHive's answer to operations on several objects: all succeeded -> 200 and the list; all
/// failed -> 400 and the failures; some failed -> 207 `{"success": [...], "failure": [...]}`.
pub fn multi_response(results: Vec<(String, Result<Value>)>) -> Response {
    multi_response_with(StatusCode::OK, results)
}

/// [`multi_response`] answering `ok` (201 for creations) when everything succeeded.
pub fn multi_response_with(ok: StatusCode, results: Vec<(String, Result<Value>)>) -> Response {
    let mut success = Vec::new();
    let mut failure = Vec::new();
    for (id, r) in results {
        match r {
            Ok(v) => success.push(v),
            Err(e) => {
                e.log();
                failure.push(json!({ "id": id, "type": e.kind().as_str(), "message": e.public_message() }));
            }
        }
    }
    if failure.is_empty() {
        (ok, axum::Json(success)).into_response()
    } else if success.is_empty() {
        (StatusCode::BAD_REQUEST, axum::Json(failure)).into_response()
    } else {
        (StatusCode::MULTI_STATUS, axum::Json(json!({ "success": success, "failure": failure }))).into_response()
    }
}

/// A body that is JSON or `multipart/form-data` (TheHive's `_json` part plus a file part).
pub enum JsonOrMultipart {
    Json(Map<String, Value>),
    Multipart(Multipart),
}

impl FromRequest<AppState> for JsonOrMultipart {
    type Rejection = Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self> {
        let is_multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
        if is_multipart {
            let m = Multipart::from_request(req, state).await.map_err(|e| Error::BadRequest(format!("Invalid multipart body: {e}")))?;
            Ok(JsonOrMultipart::Multipart(m))
        } else {
            let bytes = Bytes::from_request(req, state).await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Error::TooLarge("The request body is too large".into())
                } else {
                    Error::BadRequest(format!("Cannot read the request body: {e}"))
                }
            })?;
            Ok(JsonOrMultipart::Json(parse_json(&bytes)?))
        }
    }
}

fn multipart_error(e: MultipartError) -> Error {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::TooLarge("The request body is too large".into())
    } else {
        Error::BadRequest(format!("Invalid multipart body: {}", e.body_text()))
    }
}

/// The parts of a TheHive multipart upload: the `_json` attributes and the stored file.
pub struct Upload {
    pub json: Map<String, Value>,
    pub file: Option<StoredFile>,
}

/// Read a multipart upload: `_json` (attributes) and one file part (`attachment`, or any part
/// with a file name); the file is streamed into the attachment store.
pub async fn read_upload(state: &AppState, mut m: Multipart) -> Result<Upload> {
    let mut json = Map::new();
    let mut file = None;
    let mut parts = 0;
    while let Some(field) = m.next_field().await.map_err(multipart_error)? {
        parts += 1;
        if parts > 16 {
            return Err(Error::BadRequest("Too many parts in the multipart body".into()));
        }
        let name = field.name().unwrap_or("").to_string();
        if name == "_json" {
            let text = field.text().await.map_err(multipart_error)?;
            json = parse_json(text.as_bytes())?;
        } else if name == "attachment" || field.file_name().is_some() {
            if file.is_some() {
                return Err(Error::BadRequest("Only one file may be uploaded at a time".into()));
            }
            file = Some(store_field(state, field).await?);
        }
    }
    Ok(Upload { json, file })
}

/// Read a multipart upload of several files (TheHive 5's repeated `attachments` parts) and its
/// data fields; at most `max` files. On an error, the files already stored are discarded.
pub async fn read_files(state: &AppState, mut m: Multipart, max: usize) -> Result<(Map<String, Value>, Vec<StoredFile>)> {
    let mut fields = Map::new();
    let mut files: Vec<StoredFile> = Vec::new();
    let read = async {
        while let Some(field) = m.next_field().await.map_err(multipart_error)? {
            let name = field.name().unwrap_or("").to_string();
            if name == "_json" {
                let text = field.text().await.map_err(multipart_error)?;
                fields.extend(parse_json::<Map<String, Value>>(text.as_bytes())?);
            } else if field.file_name().is_some() {
                if files.len() == max {
                    return Err(Error::BadRequest(format!("At most {max} files at a time")));
                }
                files.push(store_field(state, field).await?);
            } else {
                let text = field.text().await.map_err(multipart_error)?;
                fields.insert(name, Value::String(text));
            }
        }
        Ok(())
    }
    .await;
    match read {
        Ok(()) => Ok((fields, files)),
        Err(e) => {
            attachment::discard(state, files).await;
            Err(e)
        }
    }
}

async fn store_field(state: &AppState, field: Field<'_>) -> Result<StoredFile> {
    let name = field.file_name().unwrap_or("attachment").to_string();
    let content_type = field.content_type().map(str::to_string);
    let chunks = Box::pin(field.map(|c| c.map_err(multipart_error)));
    attachment::save_stream(state, &name, content_type.as_deref(), chunks).await
}

/// `Content-Disposition: attachment` with an ASCII fallback name and the UTF-8 one.
pub fn content_disposition(name: &str) -> HeaderValue {
    let ascii: String = name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// A download answer: never rendered by the browser (attachment, octet-stream or zip, nosniff
/// and the sandboxing CSP come from the security layer), never cached by proxies.
pub fn download(body: axum::body::Body, len: u64, name: &str, content_type: &'static str) -> Response {
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::CONTENT_DISPOSITION, content_disposition(name));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(crate::api::layers::API_CSP));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_are_absent() {
        let body: Map<String, Value> = serde_json::from_value(json!({
            "title": "t", "owner": null, "tasks": [{"id": null, "title": "a"}], "customFields": {"x": {"string": null}}
        }))
        .unwrap();
        let s = strip_nulls(&body);
        assert!(!s.contains_key("owner"));
        assert_eq!(s["tasks"][0], json!({"title": "a"}));
        assert_eq!(s["customFields"]["x"], json!({"string": null}));
    }

    #[test]
    fn typed_inputs_name_the_wrong_attribute() {
        let body: Map<String, Value> = serde_json::from_value(json!({"title": "t", "tlp": "red"})).unwrap();
        let e = input::<app::model::NewCase>("case", &body, &["title", "tlp"]).unwrap_err();
        match e {
            Error::Attributes { errors, .. } => assert_eq!(errors[0].name, "case.tlp"),
            other => panic!("{other:?}"),
        }
        let body: Map<String, Value> = serde_json::from_value(json!({"title": "t", "colour": 1})).unwrap();
        assert!(matches!(input::<app::model::NewCase>("case", &body, &["title"]), Err(Error::Attributes { .. })));
    }

    #[test]
    fn search_parameters() {
        let body: Map<String, Value> = serde_json::from_value(json!({"query": {"status": "Open"}, "sort": ["-createdAt"]})).unwrap();
        let a = search_args(Some("range=0-5&sort=%2Btitle&sort=-severity&nstats=true&nparent=1"), &body).unwrap();
        assert_eq!(a.range.as_deref(), Some("0-5"));
        assert_eq!(a.sort, vec!["-createdAt"]);
        assert!(a.nstats);
        assert_eq!(a.nparent, 1);
        let a = search_args(Some("sort=%2Btitle&sort=-severity"), &Map::new()).unwrap();
        assert_eq!(a.sort, vec!["+title", "-severity"]);
    }

    #[test]
    fn dispositions() {
        let h = content_disposition("rapport \"final\" é.pdf");
        let s = h.to_str().unwrap();
        assert!(s.starts_with("attachment; filename=\"rapport _final_ _.pdf\""), "{s}");
        assert!(s.contains("filename*=UTF-8''rapport%20%22final%22%20%C3%A9.pdf"), "{s}");
    }
}

/// The `ids` of a bulk request (removed from the body).
pub fn bulk_ids(body: &mut Map<String, Value>) -> Result<Vec<String>> {
    let ids = body.remove("ids").ok_or_else(|| Error::attribute("bulk", "ids", "array", "ids is required"))?;
    let ids: Vec<String> = serde_json::from_value(ids).map_err(|_| Error::attribute("bulk", "ids", "array", "ids must be a list of ids"))?;
    if ids.is_empty() || ids.len() > 1000 {
        return Err(Error::attribute("bulk", "ids", "array", "1 to 1000 ids"));
    }
    Ok(ids)
}

/// The profile a body asks for: `profile` (TheHive 4) or `roles` (TheHive 3).
pub fn profile_of(body: &Map<String, Value>) -> Result<Option<app::model::Profile>> {
    use app::model::Profile;
    if let Some(p) = opt_string("user", body, "profile")? {
        return Profile::parse(&p)
            .map(Some)
            .ok_or_else(|| Error::attribute("user", "profile", "string", format!("Unknown profile {p}")));
    }
    match body.get("roles") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => {
            let roles: Vec<String> = a.iter().filter_map(|r| r.as_str().map(str::to_string)).collect();
            if roles.len() != a.len() {
                return Err(Error::attribute("user", "roles", "array", "roles must be strings"));
            }
            Profile::from_v0_roles(&roles)
                .map(Some)
                .ok_or_else(|| Error::attribute("user", "roles", "array", "roles must include read, write, alert or admin"))
        }
        Some(_) => Err(Error::attribute("user", "roles", "array", "roles must be a list")),
    }
}

/// A job as TheHive 3 stored it (`case_artifact_job`), with its report when given.
pub fn job_object(j: &app::model::Job, report: Option<&app::model::JobReport>) -> Value {
    let mut v = object(j, crate::domain::analysis::job::TYPE);
    if let Value::Object(m) = &mut v {
        m.insert("artifactId".into(), json!(j.observable));
        m.insert("cortexJobId".into(), json!(j.id));
        m.insert("analyzerId".into(), json!(j.analyzer_name));
        if let Some(r) = report {
            m.insert("report".into(), serde_json::to_value(r).unwrap_or(Value::Null));
        }
    }
    v
}
