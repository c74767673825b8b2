//! MISP: the servers and feeds Waggle imports events from and exports cases to, what a sync and
//! an export did, and what a case remembers of its exports.

use serde::{Deserialize, Serialize};

use super::{Id, Millis};

/// What a MISP connection is used for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MispPurpose {
    /// Events in as alerts only.
    Import,
    /// Cases out as events (and sightings) only.
    Export,
    #[default]
    Both,
}

impl MispPurpose {
    pub fn imports(self) -> bool {
        matches!(self, MispPurpose::Import | MispPurpose::Both)
    }
    pub fn exports(self) -> bool {
        matches!(self, MispPurpose::Export | MispPurpose::Both)
    }
}

/// A MISP server (`url` + `key`) or a MISP feed directory (`feed`), as an administrator sees it:
/// the key never leaves the server (`key_set` tells whether one is set).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MispServer {
    /// Unique; the `source` of the alerts it makes.
    pub name: String,
    #[serde(default)]
    pub url: Option<String>,
    /// A feed directory (`manifest.json` + `<uuid>.json`) instead of a server.
    #[serde(default)]
    pub feed: Option<String>,
    #[serde(default)]
    pub key_set: bool,
    /// PEM file of the CA that signs the server's certificate.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// Accept any certificate (tests, labs): said loudly in the log.
    #[serde(default)]
    pub skip_verify: bool,
    #[serde(default)]
    pub purpose: MispPurpose,
    /// Time between polls: `90s`, `30m`, `1h`, `1d`.
    #[serde(default = "default_interval")]
    pub interval: String,
    /// Events published longer ago than this are not imported (`7d`); none: all.
    #[serde(default)]
    pub max_age: Option<String>,
    /// Tags added to every imported observable.
    #[serde(default)]
    pub tags: Vec<String>,
    /// When set, only events carrying one of these tags are imported.
    #[serde(default)]
    pub include_tags: Vec<String>,
    /// Events carrying one of these tags are not imported.
    #[serde(default)]
    pub exclude_tags: Vec<String>,
    /// Events created by these organisations (`Orgc.name`) are not imported.
    #[serde(default)]
    pub exclude_orgs: Vec<String>,
    /// The case template put on imported alerts.
    #[serde(default)]
    pub case_template: Option<String>,
    /// The organisation that receives the alerts (default: the first organisation).
    #[serde(default)]
    pub organisation: Option<String>,
    /// Where the connection is defined: `file` (waggle.toml) or `ui` (the database).
    #[serde(default)]
    pub origin: String,
}

pub fn default_interval() -> String {
    "1h".into()
}

/// An administrator's change of a connection: as [`MispServer`] plus the key (`None` keeps the
/// current one, `Some("")` removes it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MispServerInput {
    #[serde(flatten)]
    pub server: MispServer,
    #[serde(default)]
    pub key: Option<String>,
}

/// A connection with its health and last synchronisation, for the admin page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MispServerState {
    pub server: MispServer,
    pub status: super::Health,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub last_sync: Option<MispSyncReport>,
}

/// What one synchronisation of one connection did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MispSyncReport {
    pub server: String,
    pub started_at: Millis,
    pub duration_ms: u64,
    /// Events read (changed since the last poll).
    pub events: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Filtered out (tags, organisation, age) or without any observable.
    pub skipped: usize,
    pub attributes: usize,
    /// Observables added to cases made from updated alerts.
    pub case_observables: usize,
    #[serde(default)]
    pub errors: Vec<String>,
}

/// The export dialog's choices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MispExportRequest {
    /// Event tags (besides the TLP tag).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The event's TLP (default: the case's).
    #[serde(default)]
    pub tlp: Option<u8>,
    /// MISP distribution 0-3 (default 0, your organisation only).
    #[serde(default)]
    pub distribution: Option<u8>,
    /// Also send the case's tags as event tags.
    #[serde(default)]
    pub case_tags: bool,
}

/// A case's export to one MISP server: which event it became and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MispExport {
    pub case_id: Id,
    pub server: String,
    pub event_id: String,
    pub event_uuid: String,
    pub exported_at: Millis,
    /// Attributes Waggle put in the event (and keeps in sync).
    pub attributes: usize,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// What an export did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MispExportResult {
    pub server: String,
    pub event_id: String,
    pub event_uuid: String,
    /// A new event (first export) or the same one updated.
    pub created: bool,
    pub added: usize,
    pub removed: usize,
    pub unchanged: usize,
    pub tags_added: usize,
    pub tags_removed: usize,
    /// Observables MISP refused, with its reason.
    #[serde(default)]
    pub failures: Vec<String>,
}
