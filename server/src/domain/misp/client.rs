//! MISP's REST API as Waggle calls it: `Authorization: <key>`, JSON both ways, MISP's error
//! shapes (`{"name","message","errors"}`, or 200 `{"saved":false,"errors"}`) turned into one
//! readable message.

use std::time::Duration;

use base64::Engine;
use serde_json::Value;

use crate::config::MispConfig;
use crate::core::error::{Error, Result};

/// A MISP answer is at most this large (an event of many thousand attributes with samples).
const MAX_RESPONSE: usize = 256 << 20;

#[derive(Clone)]
pub struct Client {
    pub name: String,
    base: String,
    key: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(m: &MispConfig) -> Result<Client> {
        let base = m.url.as_deref().ok_or_else(|| Error::BadRequest(format!("MISP {} is a feed, not a server", m.name)))?;
        let key = m.key.as_ref().map(|k| k.expose().to_string()).unwrap_or_default();
        let http = crate::domain::platform::connector::misp_client(m, Duration::from_secs(60)).map_err(|e| Error::BadRequest(format!("MISP {}: {e}", m.name)))?;
        Ok(Client { name: m.name.clone(), base: base.trim_end_matches('/').to_string(), key, http })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    fn fail(&self, what: &str, msg: impl std::fmt::Display) -> Error {
        Error::BadRequest(format!("MISP {}: {what}: {msg}", self.name))
    }

    async fn send(&self, req: reqwest::RequestBuilder, what: &str) -> Result<reqwest::Response> {
        let resp = req
            .header("Authorization", &self.key)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| self.fail(what, if e.is_timeout() { "timed out".to_string() } else { format!("unreachable ({e})") }))?;
        Ok(resp)
    }

    async fn json(&self, resp: reqwest::Response, what: &str) -> Result<Value> {
        let status = resp.status();
        if resp.content_length().is_some_and(|l| l as usize > MAX_RESPONSE) {
            return Err(self.fail(what, "answer too large"));
        }
        let bytes = resp.bytes().await.map_err(|e| self.fail(what, e))?;
        if bytes.len() > MAX_RESPONSE {
            return Err(self.fail(what, "answer too large"));
        }
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(self.fail(what, format!("HTTP {}: {}", status.as_u16(), error_text(&body))));
        }
        if body.get("saved") == Some(&Value::Bool(false)) {
            return Err(self.fail(what, error_text(&body)));
        }
        Ok(body)
    }

    pub async fn get(&self, path: &str) -> Result<Value> {
        let resp = self.send(self.http.get(self.url(path)), path).await?;
        self.json(resp, path).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let resp = self.send(self.http.post(self.url(path)).json(body), path).await?;
        self.json(resp, path).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Result<Value> {
        let resp = self.send(self.http.put(self.url(path)).json(body), path).await?;
        self.json(resp, path).await
    }

    pub async fn delete(&self, path: &str) -> Result<Value> {
        let resp = self.send(self.http.delete(self.url(path)), path).await?;
        self.json(resp, path).await
    }

    /// A file attribute's content (`attributes/download/{id}`) and its name.
    pub async fn download(&self, attribute_id: &str, max: usize) -> Result<(Option<String>, Vec<u8>)> {
        let path = format!("attributes/download/{attribute_id}");
        let resp = self.send(self.http.get(self.url(&path)), &path).await?;
        if !resp.status().is_success() {
            return Err(self.fail(&path, format!("HTTP {}", resp.status().as_u16())));
        }
        let name = resp
            .headers()
            .get(reqwest::header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split("filename=").nth(1))
            .map(|n| n.trim().trim_matches('"').to_string());
        let bytes = resp.bytes().await.map_err(|e| self.fail(&path, e))?;
        if bytes.len() > max {
            return Err(self.fail(&path, "file too large"));
        }
        Ok((name, bytes.to_vec()))
    }
}

/// MISP's error text: `message` and the first of `errors` (a string, or field -> messages).
pub fn error_text(body: &Value) -> String {
    let mut parts: Vec<String> = Vec::new();
    for k in ["message", "name"] {
        if let Some(m) = body.get(k).and_then(Value::as_str) {
            parts.push(m.to_string());
            break;
        }
    }
    match body.get("errors") {
        Some(Value::String(e)) => parts.push(e.clone()),
        Some(Value::Object(m)) => {
            for (field, v) in m {
                let msg = match v {
                    Value::Array(a) => a.first().and_then(Value::as_str).unwrap_or_default().to_string(),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                parts.push(format!("{field}: {msg}"));
                break;
            }
        }
        _ => {}
    }
    if parts.is_empty() { "no details".into() } else { parts.join(": ") }
}

/// `base64` of bytes (attachments sent to MISP).
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
