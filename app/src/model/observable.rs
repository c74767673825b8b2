//! Observables (TheHive v0 calls them artifacts), their data types, and stored files.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Id, Millis};

/// A stored file: content-addressed by its SHA-256, which is also its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// The SHA-256 of the content (hex).
    pub id: String,
    /// The file name given at upload (made safe: no path, no control characters).
    pub name: String,
    /// `[sha256, sha1, md5]`, hex.
    pub hashes: Vec<String>,
    pub size: u64,
    pub content_type: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum ObservableStatus {
    #[default]
    Ok,
    Deleted,
}

/// An observable of a case: a value (`data`) or a file (`attachment`) of a data type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observable {
    pub id: Id,
    /// The case's id.
    #[serde(rename = "case")]
    pub case_id: Id,
    pub data_type: String,
    #[serde(default)]
    pub data: Option<String>,
    #[serde(default)]
    pub attachment: Option<Attachment>,
    #[serde(default)]
    pub message: Option<String>,
    pub start_date: Millis,
    pub tlp: u8,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub ioc: bool,
    #[serde(default)]
    pub sighted: bool,
    #[serde(default)]
    pub ignore_similarity: bool,
    pub status: ObservableStatus,
    /// Analyzer mini-reports (`{"<analyzer>": {"taxonomies": [...]}}`).
    #[serde(default)]
    pub reports: serde_json::Map<String, Value>,
    pub created_at: Millis,
    pub created_by: String,
    #[serde(default)]
    pub updated_at: Option<Millis>,
    #[serde(default)]
    pub updated_by: Option<String>,
    /// In how many other cases the same value appears (computed when listed, never stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<u64>,
    /// Sightings of the value on the MISP servers it was sent to (counted when it is marked
    /// sighted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misp_sightings: Option<u64>,
}

impl Observable {
    /// The value as shown: the data, or the file name.
    pub fn display_value(&self) -> &str {
        match (&self.data, &self.attachment) {
            (Some(d), _) => d,
            (None, Some(a)) => &a.name,
            _ => "",
        }
    }
}

/// Observables to add to a case: several values of one data type share the other attributes
/// (bulk add: one value per line). Files are added with their upload, not here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewObservables {
    pub data_type: String,
    /// One observable per value.
    #[serde(default)]
    pub data: Vec<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub start_date: Option<Millis>,
    #[serde(default)]
    pub tlp: Option<u8>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub ioc: Option<bool>,
    #[serde(default)]
    pub sighted: Option<bool>,
    #[serde(default)]
    pub ignore_similarity: Option<bool>,
}

impl NewObservables {
    /// Values from text with one value per line (blank lines skipped, ends trimmed).
    pub fn values_from_lines(text: &str) -> Vec<String> {
        text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
    }
}

/// A change to an observable (also used by bulk updates): only the fields given are changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservablePatch {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub tlp: Option<u8>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub ioc: Option<bool>,
    #[serde(default)]
    pub sighted: Option<bool>,
    #[serde(default)]
    pub ignore_similarity: Option<bool>,
}

/// An observable data type of the organisation (`ip`, `domain`, `file`...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservableDataType {
    pub id: Id,
    pub name: String,
    /// Observables of this type are files (`file`).
    #[serde(default)]
    pub is_attachment: bool,
}

/// The data types every organisation starts with (TheHive's, autonomous-system included).
pub const DEFAULT_DATA_TYPES: &[&str] = &[
    "autonomous-system",
    "domain",
    "file",
    "filename",
    "fqdn",
    "hash",
    "ip",
    "mail",
    "mail_subject",
    "other",
    "regexp",
    "registry",
    "uri_path",
    "url",
    "user-agent",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(NewObservables::values_from_lines(" 1.2.3.4\n\n5.6.7.8 \r\n"), vec!["1.2.3.4", "5.6.7.8"]);
    }
}
