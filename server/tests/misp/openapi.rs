//! Requests checked against MISP's OpenAPI document (`fixtures/misp/misp-openapi.yaml`, a copy of `../shared/reference/misp-openapi.yaml`,
//! MISP 2.5.1): the path and method exist, the headers are MISP's (`Authorization: <key>`,
//! `Accept` and `Content-Type: application/json`), and every field of the JSON body is one the
//! operation's request schema declares, with its type and enumeration.
//!
//! Four endpoints Waggle calls are missing from the OpenAPI document although MISP 2.5.1
//! serves them; they are checked against `fixtures/misp/misp-reference.md` (a copy of `../shared/reference/misp.md`) instead (the fields
//! listed there): `tags/attachTagToObject` and `tags/removeTagFromObject` (§2.5: they create a
//! missing tag, which `events/addTag` does not), `events/upload_sample/{id}` and
//! `attributes/download/{id}` (§2.7). Two fields
//! of `events/add`/`events/edit` bodies are also documented there only (§2.3): `Attribute`
//! and `Tag`.

use serde_json::Value;

use super::fake::{KEY, Request};

pub struct OpenApi {
    doc: Value,
}

/// Endpoints MISP serves that its OpenAPI document lacks, with the body fields `misp.md` gives.
const DOCUMENTED_ELSEWHERE: &[(&str, &str, &[&str])] = &[
    ("POST", "/tags/attachTagToObject", &["uuid", "tag", "local"]),
    ("POST", "/tags/removeTagFromObject", &["uuid", "tag"]),
    ("POST", "/events/upload_sample/{eventId}", &["request"]),
    ("GET", "/attributes/download/{attributeId}", &[]),
];

/// Body fields of operations documented in `misp.md` but not in the operation's schema.
const EXTRA_FIELDS: &[(&str, &[&str])] = &[("/events/add", &["Attribute", "Tag"]), ("/events/edit/{eventId}", &["Attribute", "Tag"])];

impl OpenApi {
    pub fn load() -> OpenApi {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/misp/misp-openapi.yaml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let yaml: serde_yaml::Value = serde_yaml::from_str(&text).expect("MISP's OpenAPI document parses");
        OpenApi { doc: serde_json::to_value(yaml).expect("as JSON") }
    }

    fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let pointer = r.trim_start_matches('#');
                self.resolve(self.doc.pointer(pointer).unwrap_or_else(|| panic!("unresolved {r}")))
            }
            None => v,
        }
    }

    /// The template of `path` among the document's paths (`/events/view/{eventId}`).
    fn template(&self, path: &str) -> Option<String> {
        let parts: Vec<&str> = path.split('/').collect();
        let paths = self.doc["paths"].as_object()?;
        paths
            .keys()
            .find(|t| {
                let tp: Vec<&str> = t.split('/').collect();
                tp.len() == parts.len() && tp.iter().zip(&parts).all(|(a, b)| a == b || (a.starts_with('{') && a.ends_with('}')))
            })
            .cloned()
    }

    /// The properties a schema declares (through `$ref` and `allOf`).
    fn properties(&self, schema: &Value) -> serde_json::Map<String, Value> {
        let s = self.resolve(schema);
        let mut out = serde_json::Map::new();
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            for part in all {
                out.extend(self.properties(part));
            }
        }
        if let Some(p) = s.get("properties").and_then(Value::as_object) {
            out.extend(p.clone());
        }
        out
    }

    fn check_value(&self, at: &str, schema: &Value, v: &Value) -> Result<(), String> {
        let s = self.resolve(schema);
        if let Some(one) = s.get("oneOf").or_else(|| s.get("anyOf")).and_then(Value::as_array) {
            return if one.iter().any(|alt| self.check_value(at, alt, v).is_ok()) { Ok(()) } else { Err(format!("{at}: {v} matches none of its schemas")) };
        }
        if v.is_null() && s.get("nullable") == Some(&Value::Bool(true)) {
            return Ok(());
        }
        let ok = match s.get("type").and_then(Value::as_str) {
            Some("string") => v.is_string(),
            Some("integer") => v.is_i64() || v.is_u64(),
            Some("number") => v.is_number(),
            Some("boolean") => v.is_boolean(),
            Some("array") => v.is_array(),
            Some("object") => v.is_object(),
            _ => true,
        };
        if !ok {
            return Err(format!("{at}: {v} is not of type {}", s["type"]));
        }
        if let Some(e) = s.get("enum").and_then(Value::as_array) {
            if !e.contains(v) {
                return Err(format!("{at}: {v} is not one of its values"));
            }
        }
        if let (Some(max), Some(text)) = (s.get("maxLength").and_then(Value::as_u64), v.as_str()) {
            if text.chars().count() as u64 > max {
                return Err(format!("{at}: longer than {max}"));
            }
        }
        if let (Some(items), Some(list)) = (s.get("items"), v.as_array()) {
            for (i, item) in list.iter().enumerate() {
                self.check_value(&format!("{at}[{i}]"), items, item)?;
            }
        }
        Ok(())
    }

    /// What is wrong with `r`, if anything.
    pub fn check(&self, r: &Request) -> Result<(), String> {
        let what = format!("{} {}", r.method, r.path);
        let header = |k: &str| r.headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        if header("authorization") != KEY {
            return Err(format!("{what}: Authorization is not the key"));
        }
        if !header("accept").contains("application/json") {
            return Err(format!("{what}: Accept is {:?}", header("accept")));
        }
        if r.body.is_some() && !header("content-type").starts_with("application/json") {
            return Err(format!("{what}: Content-Type is {:?}", header("content-type")));
        }
        let Some(template) = self.template(&r.path) else {
            let known = DOCUMENTED_ELSEWHERE.iter().find(|(m, t, _)| {
                *m == r.method && {
                    let tp: Vec<&str> = t.split('/').collect();
                    let pp: Vec<&str> = r.path.split('/').collect();
                    tp.len() == pp.len() && tp.iter().zip(&pp).all(|(a, b)| a == b || a.starts_with('{'))
                }
            });
            let Some((_, _, fields)) = known else { return Err(format!("{what}: not in MISP's OpenAPI document nor in misp.md")) };
            for k in r.body.as_ref().and_then(Value::as_object).map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
                if !fields.contains(&k.as_str()) {
                    return Err(format!("{what}: field {k} is not documented in misp.md"));
                }
            }
            return Ok(());
        };
        let op = self.doc["paths"][&template].get(r.method.to_lowercase()).ok_or_else(|| format!("{what}: {template} has no {} operation", r.method))?;
        let Some(body) = &r.body else { return Ok(()) };
        let request = op.get("requestBody").map(|b| self.resolve(b)).ok_or_else(|| format!("{what}: the operation takes no body"))?;
        let schema = &request["content"]["application/json"]["schema"];
        let props = self.properties(schema);
        let extra: &[&str] = EXTRA_FIELDS.iter().find(|(t, _)| *t == template).map(|(_, f)| *f).unwrap_or(&[]);
        for (k, v) in body.as_object().ok_or_else(|| format!("{what}: the body is not an object"))? {
            match props.get(k) {
                Some(s) => self.check_value(&format!("{what}: {k}"), s, v)?,
                None if extra.contains(&k.as_str()) => {}
                None => return Err(format!("{what}: field {k} is not in the operation's schema")),
            }
        }
        // Attributes embedded in a new event follow the attribute schema.
        if let Some(list) = body.get("Attribute").and_then(Value::as_array) {
            let attr = self.properties(&serde_json::json!({ "$ref": "#/components/schemas/AttributeNoId" }));
            for (i, a) in list.iter().enumerate() {
                for (k, v) in a.as_object().into_iter().flatten() {
                    let s = attr.get(k).ok_or_else(|| format!("{what}: Attribute[{i}].{k} is not an attribute field"))?;
                    self.check_value(&format!("{what}: Attribute[{i}].{k}"), s, v)?;
                }
            }
        }
        Ok(())
    }
}
