//! The analysis engine: analyzer definitions, the analyzers an organisation enabled, jobs and
//! their reports (Cortex's shapes, camelCase).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Attachment, Id, Millis};

/// The id the embedded engine has among Cortex servers (`cortexId`).
pub const LOCAL_ENGINE: &str = "local";

fn local_engine() -> String {
    LOCAL_ENGINE.to_string()
}

/// Type of a configuration item (`string`, `text`, `number`, `boolean`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemType {
    String,
    Text,
    Number,
    Boolean,
}

impl ItemType {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemType::String => "string",
            ItemType::Text => "text",
            ItemType::Number => "number",
            ItemType::Boolean => "boolean",
        }
    }
}

/// One configuration item an analyzer definition declares (as its JSON file has it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigItem {
    pub name: String,
    /// Cortex requires it; Waggle tolerates its absence (empty string).
    #[serde(default)]
    pub description: String,
    #[serde(rename = "type")]
    pub kind: ItemType,
    #[serde(default)]
    pub multi: bool,
    #[serde(default)]
    pub required: bool,
    /// `defaultValue: null` in a file is the same as no default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<Value>,
}

/// An analyzer definition found in an analyzers directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzerDefinition {
    /// `name_version`, dots made underscores (`TestAnalyzer_1_0`).
    pub id: String,
    pub name: String,
    pub version: String,
    pub description: String,
    pub author: String,
    pub url: String,
    pub license: String,
    #[serde(default)]
    pub data_type_list: Vec<String>,
    #[serde(default)]
    pub base_config: String,
    #[serde(default)]
    pub configuration_items: Vec<ConfigItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_homepage: Option<String>,
}

/// The unit of an analyzer's rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RateUnit {
    Second,
    Minute,
    Hour,
    Day,
    /// 30 days.
    Month,
}

impl Analyzer {
    /// How the UI names it to run it: its name here, `server/id` on an external Cortex.
    pub fn run_key(&self) -> String {
        if self.cortex_id == LOCAL_ENGINE { self.name.clone() } else { format!("{}/{}", self.cortex_id, self.id) }
    }

    /// The reverse of [`Analyzer::run_key`]: `(cortex id, analyzer)`.
    pub fn parse_run_key(key: &str) -> (&str, &str) {
        key.split_once('/').unwrap_or((LOCAL_ENGINE, key))
    }
}

impl RateUnit {
    pub const ALL: [RateUnit; 5] = [RateUnit::Second, RateUnit::Minute, RateUnit::Hour, RateUnit::Day, RateUnit::Month];

    pub fn seconds(self) -> u64 {
        match self {
            RateUnit::Second => 1,
            RateUnit::Minute => 60,
            RateUnit::Hour => 3600,
            RateUnit::Day => 86_400,
            RateUnit::Month => 30 * 86_400,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RateUnit::Second => "Second",
            RateUnit::Minute => "Minute",
            RateUnit::Hour => "Hour",
            RateUnit::Day => "Day",
            RateUnit::Month => "Month",
        }
    }

    pub fn parse(s: &str) -> Option<RateUnit> {
        RateUnit::ALL.into_iter().find(|u| u.as_str().eq_ignore_ascii_case(s))
    }
}

/// What happens to a job over the analyzer's rate: it waits its turn (Waggle's default), or it is
/// refused with 429 `RateLimitExceeded` (Cortex's behaviour, for clients that expect it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OverQuota {
    #[default]
    Queue,
    Refuse,
}

/// An analyzer's budget now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaState {
    pub used: u32,
    pub remaining: u32,
    pub waiting: u32,
    /// When the oldest run of the window leaves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frees_at: Option<Millis>,
}

/// A definition enabled in one organisation, with its configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Analyzer {
    pub id: Id,
    /// Where it runs: the embedded engine ([`LOCAL_ENGINE`]) or an external Cortex (its name).
    #[serde(default = "local_engine")]
    pub cortex_id: String,
    /// Unique in the organisation; the definition's id unless named otherwise.
    pub name: String,
    #[serde(rename = "analyzerDefinitionId")]
    pub definition_id: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub data_type_list: Vec<String>,
    /// Secrets are shown as `********` when set, never their value.
    #[serde(default)]
    pub configuration: Map<String, Value>,
    #[serde(default)]
    pub rate: Option<u32>,
    #[serde(default)]
    pub rate_unit: Option<RateUnit>,
    /// Minutes a report is reused for the same input (0: never).
    #[serde(default)]
    pub job_cache: Option<u32>,
    /// Minutes an analyzer may run.
    #[serde(default)]
    pub job_timeout: Option<u32>,
    #[serde(default)]
    pub over_quota: OverQuota,
    #[serde(default)]
    pub quota: Option<QuotaState>,
    /// The definition is missing from the analyzers directories (it cannot run).
    #[serde(default)]
    pub missing: bool,
    pub created_at: Millis,
    pub created_by: String,
    #[serde(default)]
    pub updated_at: Option<Millis>,
}

/// What an organisation-admin gives to enable or change an analyzer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzerInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub configuration: Option<Map<String, Value>>,
    #[serde(default)]
    pub rate: Option<Option<u32>>,
    #[serde(default)]
    pub rate_unit: Option<Option<RateUnit>>,
    #[serde(default)]
    pub job_cache: Option<Option<u32>>,
    #[serde(default)]
    pub job_timeout: Option<Option<u32>>,
    #[serde(default)]
    pub over_quota: Option<OverQuota>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JobStatus {
    Waiting,
    InProgress,
    Success,
    Failure,
    Deleted,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Waiting => "Waiting",
            JobStatus::InProgress => "InProgress",
            JobStatus::Success => "Success",
            JobStatus::Failure => "Failure",
            JobStatus::Deleted => "Deleted",
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(self, JobStatus::Success | JobStatus::Failure | JobStatus::Deleted)
    }
}

/// One run of an analyzer on an observable (or on a value given to the Cortex API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: Id,
    /// The analyzer's id.
    pub analyzer_id: Id,
    pub analyzer_name: String,
    /// The definition's id.
    pub analyzer_definition: String,
    /// Where it runs: the embedded engine ([`LOCAL_ENGINE`]) or an external Cortex (its name).
    #[serde(default = "local_engine")]
    pub cortex_id: String,
    pub status: JobStatus,
    pub data_type: String,
    #[serde(default)]
    pub data: Option<String>,
    #[serde(default)]
    pub attachment: Option<Attachment>,
    pub tlp: u8,
    pub pap: u8,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub parameters: Map<String, Value>,
    /// The observable analysed, when the job was run on one.
    #[serde(default)]
    pub observable: Option<Id>,
    #[serde(default)]
    pub case: Option<Id>,
    /// The alert, when the observable is an alert's.
    #[serde(default)]
    pub alert: Option<Id>,
    pub created_at: Millis,
    pub created_by: String,
    #[serde(default)]
    pub start_date: Option<Millis>,
    #[serde(default)]
    pub end_date: Option<Millis>,
    /// Why a job failed (also in its report).
    #[serde(default)]
    pub error_message: Option<String>,
    /// Answered from the cache: an earlier job with the same input.
    #[serde(default)]
    pub from_cache: bool,
    /// The number of artifacts the report extracted.
    #[serde(default)]
    pub artifact_count: u32,
}

/// A taxonomy of a mini-report: `level` is info, safe, suspicious or malicious.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Taxonomy {
    pub level: String,
    pub namespace: String,
    pub predicate: String,
    pub value: Value,
}

impl Taxonomy {
    /// The mini-reports of an observable's `reports` entry (`{"taxonomies": [...]}`).
    pub fn of_report(entry: &Value) -> Vec<Taxonomy> {
        entry.get("taxonomies").and_then(|t| serde_json::from_value(t.clone()).ok()).unwrap_or_default()
    }

    /// `namespace:predicate="value"`, as Cortex shows it.
    pub fn label(&self) -> String {
        let v = match &self.value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        format!("{}:{}=\"{}\"", self.namespace, self.predicate, v)
    }
}

/// An artifact a report extracted: a value, or a file (`attachment`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobArtifact {
    pub data_type: String,
    #[serde(default)]
    pub data: Option<String>,
    #[serde(default)]
    pub attachment: Option<Attachment>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub tlp: Option<u8>,
}

/// A finished job's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobReport {
    pub success: bool,
    #[serde(default)]
    pub summary: Value,
    #[serde(default)]
    pub full: Value,
    #[serde(default)]
    pub artifacts: Vec<JobArtifact>,
    #[serde(default)]
    pub operations: Vec<Value>,
    #[serde(default)]
    pub error_message: Option<String>,
    /// A failed job's input, as a JSON string (secrets left out).
    #[serde(default)]
    pub input: Option<String>,
}
