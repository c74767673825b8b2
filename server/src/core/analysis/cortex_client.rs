//! A client of Cortex's API (Cortex 2/3, or another Waggle's `/cortex`): the analyzers its key
//! may run, run one (a value or a file), wait for the report, download an extracted file. Only
//! the protocol; what a job means is the domain's.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

/// An analyzer of the remote organisation.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RemoteAnalyzer {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub data_type_list: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0} is unreachable: {1}")]
    Unreachable(String, String),
    #[error("{0} answered {1}: {2}")]
    Refused(String, u16, String),
    #[error("{0} answered something unreadable: {1}")]
    Unreadable(String, String),
}

/// A file to analyse.
pub struct RemoteFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Clone)]
pub struct CortexClient {
    http: reqwest::Client,
    base: String,
    key: String,
    name: String,
}

/// The most a report (or a downloaded file) may weigh.
const MAX_ANSWER: usize = 64 * 1024 * 1024;

impl CortexClient {
    /// `url` is the server's base (`http://cortex:9001`, or `http://waggle:9000/cortex`).
    pub fn new(name: &str, url: &str, key: &str) -> CortexClient {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        CortexClient { http, base: url.trim_end_matches('/').to_string(), key: key.to_string(), name: name.to_string() }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/{path}", self.base)
    }

    async fn answer(&self, req: reqwest::RequestBuilder) -> Result<bytes::Bytes, ClientError> {
        let resp = req.bearer_auth(&self.key).send().await.map_err(|e| ClientError::Unreachable(self.name.clone(), e.to_string()))?;
        let status = resp.status();
        if resp.content_length().is_some_and(|n| n as usize > MAX_ANSWER) {
            return Err(ClientError::Unreadable(self.name.clone(), "answer too large".into()));
        }
        let body = resp.bytes().await.map_err(|e| ClientError::Unreachable(self.name.clone(), e.to_string()))?;
        if body.len() > MAX_ANSWER {
            return Err(ClientError::Unreadable(self.name.clone(), "answer too large".into()));
        }
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body[..body.len().min(500)]).to_string();
            return Err(ClientError::Refused(self.name.clone(), status.as_u16(), text));
        }
        Ok(body)
    }

    async fn json(&self, req: reqwest::RequestBuilder) -> Result<Value, ClientError> {
        let body = self.answer(req).await?;
        serde_json::from_slice(&body).map_err(|e| ClientError::Unreadable(self.name.clone(), e.to_string()))
    }

    /// The analyzers the key's organisation has enabled.
    pub async fn analyzers(&self) -> Result<Vec<RemoteAnalyzer>, ClientError> {
        let v = self.json(self.http.get(self.url("analyzer")).query(&[("range", "all")])).await?;
        serde_json::from_value(v).map_err(|e| ClientError::Unreadable(self.name.clone(), e.to_string()))
    }

    /// Run an analyzer: `input` holds dataType, data (for a value), tlp, pap, message,
    /// parameters. The job as the server answers it (its `id`).
    pub async fn run(&self, analyzer_id: &str, input: &Value, file: Option<RemoteFile>, force: bool) -> Result<Value, ClientError> {
        let mut req = self.http.post(self.url(&format!("analyzer/{}/run", urlencode(analyzer_id))));
        if force {
            req = req.query(&[("force", "1")]);
        }
        let req = match file {
            None => req.json(input),
            Some(f) => {
                let part = reqwest::multipart::Part::bytes(f.bytes)
                    .file_name(f.name)
                    .mime_str(&f.content_type)
                    .map_err(|e| ClientError::Unreadable(self.name.clone(), e.to_string()))?;
                let form = reqwest::multipart::Form::new().text("_json", input.to_string()).part("data", part);
                req.multipart(form)
            }
        };
        self.json(req).await
    }

    /// The job with its report once it has finished, or as it is after `at_most`.
    pub async fn wait_report(&self, job_id: &str, at_most: Duration) -> Result<Value, ClientError> {
        let secs = at_most.as_secs().max(1);
        let req = self.http.get(self.url(&format!("job/{}/waitreport", urlencode(job_id)))).query(&[("atMost", format!("{secs}seconds"))]).timeout(at_most + Duration::from_secs(30));
        self.json(req).await
    }

    /// The content of a file the server holds (an extracted artifact).
    pub async fn download(&self, id: &str) -> Result<bytes::Bytes, ClientError> {
        self.answer(self.http.get(self.url(&format!("datastore/{}", urlencode(id))))).await
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
