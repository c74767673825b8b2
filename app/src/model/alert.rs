//! Alerts: what feeders (SIEMs, MISP, ZeroFOX, Digital Shadows...) push, and analysts triage
//! into cases. TheHive v0 calls an alert's observables `artifacts`; here they are observables.
//! Field names are TheHive's (camelCase, dates in epoch milliseconds), as in the query schema.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::case::{Case, CustomFields};
use super::observable::Attachment;
use super::{ApiError, Id, Millis};

/// Where an alert is in triage. New and Updated are unread; Ignored and Imported are read
/// (Imported: a case was made from it, or it was merged into one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum AlertStatus {
    #[default]
    New,
    Updated,
    Ignored,
    Imported,
}

impl AlertStatus {
    pub const ALL: [AlertStatus; 4] = [AlertStatus::New, AlertStatus::Updated, AlertStatus::Ignored, AlertStatus::Imported];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "New",
            Self::Updated => "Updated",
            Self::Ignored => "Ignored",
            Self::Imported => "Imported",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str().eq_ignore_ascii_case(s))
    }

    /// Read (Ignored, Imported) or unread (New, Updated).
    pub fn is_read(self) -> bool {
        matches!(self, Self::Ignored | Self::Imported)
    }

    /// Marking as read: an alert with a case is Imported, otherwise Ignored.
    pub fn read(has_case: bool) -> Self {
        if has_case { Self::Imported } else { Self::Ignored }
    }

    /// Marking as unread: an alert with a case is Updated, otherwise New.
    pub fn unread(has_case: bool) -> Self {
        if has_case { Self::Updated } else { Self::New }
    }
}

/// An observable of an alert (TheHive v0: an artifact): a value or a file, with its own TLP,
/// tags, message and flags. Its id is `<alert id>-<key>`, so it leads to its alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertObservable {
    pub id: Id,
    pub data_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub tlp: u8,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub ioc: bool,
    #[serde(default)]
    pub sighted: bool,
    #[serde(default)]
    pub ignore_similarity: bool,
    pub start_date: Millis,
    /// Analyzer mini-reports (`{"<analyzer>": {"taxonomies": [...]}}`), as on case observables.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub reports: serde_json::Map<String, serde_json::Value>,
    /// In how many live cases of the organisation the same value appears (computed when asked
    /// for similarity, never stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<u64>,
    /// Some of those cases (ids, most similar first; at most [`SEEN_CASES_SHOWN`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen_in: Vec<Id>,
}

/// How many case ids an observable's `seenIn` lists.
pub const SEEN_CASES_SHOWN: usize = 20;

impl AlertObservable {
    /// The value as shown: the data, or the file name.
    pub fn display_value(&self) -> &str {
        match (&self.data, &self.attachment) {
            (Some(d), _) => d,
            (None, Some(a)) => &a.name,
            _ => "",
        }
    }

    /// What makes two observables the same: the data type and the value, or the file's hash.
    pub fn identity(&self) -> (String, String) {
        match (&self.data, &self.attachment) {
            (Some(d), _) => (self.data_type.clone(), d.clone()),
            (None, Some(a)) => (self.data_type.clone(), format!("file:{}", a.id)),
            _ => (self.data_type.clone(), String::new()),
        }
    }
}

fn yes() -> bool {
    true
}

fn one() -> u64 {
    1
}

/// An alert. `(type, source, sourceRef)` is unique in an organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub id: Id,
    #[serde(rename = "type")]
    pub kind: String,
    pub source: String,
    pub source_ref: String,
    /// When it happened (the feeder's date).
    pub date: Millis,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// 1 low, 2 medium, 3 high, 4 critical.
    pub severity: u8,
    pub tlp: u8,
    pub pap: u8,
    #[serde(default)]
    pub tags: Vec<String>,
    pub status: AlertStatus,
    /// A followed alert becomes Updated when its feeder changes it after triage.
    #[serde(default = "yes")]
    pub follow: bool,
    /// The case template to apply when it is imported (a name).
    #[serde(default)]
    pub case_template: Option<String>,
    /// The case it was imported into or merged with.
    #[serde(default, rename = "case")]
    pub case_id: Option<Id>,
    #[serde(default)]
    pub custom_fields: CustomFields,
    #[serde(default)]
    pub last_sync_date: Option<Millis>,
    #[serde(default)]
    pub external_link: Option<String>,
    /// How many times the feeder sent it (upserts count).
    #[serde(default = "one")]
    pub occurrences: u64,
    #[serde(default)]
    pub last_occurrence: Option<Millis>,
    #[serde(default)]
    pub observables: Vec<AlertObservable>,
    pub created_at: Millis,
    pub created_by: String,
    #[serde(default)]
    pub updated_at: Option<Millis>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

/// An observable given with a new alert or an update. A file is given inline as
/// `data: "filename;content-type;base64"` (what thehive4py and the feeders send).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAlertObservable {
    pub data_type: String,
    #[serde(default)]
    pub data: Option<String>,
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
    #[serde(default)]
    pub start_date: Option<Millis>,
}

/// What creating an alert takes. `None` means "not given": the default applies (severity 2,
/// TLP 2, PAP 2, date now, followed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAlert {
    #[serde(rename = "type")]
    pub kind: String,
    pub source: String,
    pub source_ref: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub date: Option<Millis>,
    #[serde(default)]
    pub severity: Option<u8>,
    #[serde(default)]
    pub tlp: Option<u8>,
    #[serde(default)]
    pub pap: Option<u8>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub follow: Option<bool>,
    #[serde(default)]
    pub case_template: Option<String>,
    #[serde(default)]
    pub external_link: Option<String>,
    #[serde(default)]
    pub last_sync_date: Option<Millis>,
    #[serde(default)]
    pub custom_fields: Option<CustomFields>,
    #[serde(default)]
    pub observables: Vec<NewAlertObservable>,
}

/// A change to an alert: only the fields given change. `observables` are added to the
/// alert's (the ones it already has are kept, not duplicated); `customFields` are merged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertPatch {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub date: Option<Millis>,
    #[serde(default)]
    pub severity: Option<u8>,
    #[serde(default)]
    pub tlp: Option<u8>,
    #[serde(default)]
    pub pap: Option<u8>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub follow: Option<bool>,
    #[serde(default)]
    pub case_template: Option<String>,
    #[serde(default)]
    pub external_link: Option<String>,
    #[serde(default)]
    pub last_sync_date: Option<Millis>,
    #[serde(default)]
    pub custom_fields: Option<CustomFields>,
    #[serde(default)]
    pub observables: Option<Vec<NewAlertObservable>>,
}

/// A change to one observable of an alert.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertObservablePatch {
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

/// A case sharing observables with an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimilarCase {
    pub case: Case,
    /// The alert's observables found in the case, and how many of those are IOCs there.
    pub similar_observable_count: u64,
    pub similar_ioc_count: u64,
    /// The case's observables, and how many are IOCs.
    pub observable_count: u64,
    pub ioc_count: u64,
    /// Ids of the alert's observables found in the case.
    pub observables: Vec<Id>,
}

/// An alert with what the organisation already knows of its observables: each observable's
/// `seen` and `seenIn`, and the cases sharing them, most shared first (IOCs, then all).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertWithSimilarity {
    pub alert: Alert,
    pub similar_cases: Vec<SimilarCase>,
}

/// How many similar cases are listed at most.
pub const SIMILAR_CASES_SHOWN: usize = 100;

/// Alerts per status in the organisation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertCounts {
    pub new: u64,
    pub updated: u64,
    pub ignored: u64,
    pub imported: u64,
}

impl AlertCounts {
    pub fn get(&self, s: AlertStatus) -> u64 {
        match s {
            AlertStatus::New => self.new,
            AlertStatus::Updated => self.updated,
            AlertStatus::Ignored => self.ignored,
            AlertStatus::Imported => self.imported,
        }
    }

    pub fn set(&mut self, s: AlertStatus, n: u64) {
        match s {
            AlertStatus::New => self.new = n,
            AlertStatus::Updated => self.updated = n,
            AlertStatus::Ignored => self.ignored = n,
            AlertStatus::Imported => self.imported = n,
        }
    }

    pub fn total(&self) -> u64 {
        self.new + self.updated + self.ignored + self.imported
    }
}

/// A row of the alerts list (an alert without its observables, with their number).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertSummary {
    pub id: Id,
    #[serde(rename = "type")]
    pub kind: String,
    pub source: String,
    pub source_ref: String,
    pub date: Millis,
    pub title: String,
    pub severity: u8,
    pub tlp: u8,
    pub pap: u8,
    pub tags: Vec<String>,
    pub status: AlertStatus,
    pub follow: bool,
    #[serde(rename = "case")]
    pub case_id: Option<Id>,
    pub observable_count: u64,
    pub occurrences: u64,
    pub created_at: Millis,
}

impl From<&Alert> for AlertSummary {
    fn from(a: &Alert) -> Self {
        AlertSummary {
            id: a.id.clone(),
            kind: a.kind.clone(),
            source: a.source.clone(),
            source_ref: a.source_ref.clone(),
            date: a.date,
            title: a.title.clone(),
            severity: a.severity,
            tlp: a.tlp,
            pap: a.pap,
            tags: a.tags.clone(),
            status: a.status,
            follow: a.follow,
            case_id: a.case_id.clone(),
            observable_count: a.observables.len() as u64,
            occurrences: a.occurrences,
            created_at: a.created_at,
        }
    }
}

/// A page of the alerts list. `total` is exact when `total_exact`, otherwise a lower bound
/// (counting is capped so that a list over millions of alerts stays fast).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertPage {
    pub items: Vec<AlertSummary>,
    pub total: u64,
    pub total_exact: bool,
    /// Alerts per status in the whole organisation (the tabs).
    pub counts: AlertCounts,
}

/// The ingestion setting of one alert source: with `upsert`, an alert sent again (same type,
/// source and reference) updates the existing one and counts an occurrence, instead of being
/// refused as a duplicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertSource {
    pub source: String,
    pub upsert: bool,
    #[serde(default)]
    pub updated_at: Option<Millis>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

/// A source of the organisation's alerts as the admin page lists it: its setting and how many
/// alerts came from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertSourceSummary {
    pub source: String,
    pub upsert: bool,
    /// Alerts from this source in the organisation.
    pub alerts: u64,
    #[serde(default)]
    pub updated_at: Option<Millis>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

/// What an action on several alerts did: the ones done, the ones refused and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkOutcome {
    pub done: Vec<Id>,
    pub failed: Vec<(Id, ApiError)>,
}

/// How an observable file is given inline: `filename;content-type;base64`. Returns the three
/// parts (the content still encoded), or `None` when it does not look like that.
pub fn split_inline_file(data: &str) -> Option<(&str, &str, &str)> {
    let mut parts = data.splitn(3, ';');
    let (name, ctype, b64) = (parts.next()?, parts.next()?, parts.next()?);
    Some((name, ctype, b64))
}

/// A v0 query (JSON) for alerts whose status is one of `statuses`.
pub fn status_query(statuses: &[AlertStatus]) -> Value {
    match statuses {
        [one] => serde_json::json!({ "status": one.as_str() }),
        many => serde_json::json!({ "_in": { "_field": "status", "_values": many.iter().map(|s| s.as_str()).collect::<Vec<_>>() } }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses() {
        assert_eq!(AlertStatus::parse("imported"), Some(AlertStatus::Imported));
        assert_eq!(AlertStatus::read(true), AlertStatus::Imported);
        assert_eq!(AlertStatus::read(false), AlertStatus::Ignored);
        assert_eq!(AlertStatus::unread(true), AlertStatus::Updated);
        assert_eq!(AlertStatus::unread(false), AlertStatus::New);
        assert!(AlertStatus::Ignored.is_read() && !AlertStatus::Updated.is_read());
    }

    #[test]
    fn alert_shape() {
        let v = json!({
            "id": "a1", "type": "external", "source": "siem", "sourceRef": "42", "date": 1, "title": "t",
            "severity": 2, "tlp": 2, "pap": 2, "status": "New", "createdAt": 1, "createdBy": "x",
            "observables": [{"id": "a1-x", "dataType": "ip", "data": "1.2.3.4", "tlp": 2, "startDate": 1}]
        });
        let a: Alert = serde_json::from_value(v).unwrap();
        assert!(a.follow);
        assert_eq!(a.occurrences, 1);
        assert_eq!(a.observables[0].identity(), ("ip".to_string(), "1.2.3.4".to_string()));
        let back = serde_json::to_value(&a).unwrap();
        assert_eq!(back["type"], "external");
        assert_eq!(back["case"], Value::Null);
        assert!(back["observables"][0].get("seen").is_none());
        assert_eq!(AlertSummary::from(&a).observable_count, 1);
    }

    #[test]
    fn inline_files() {
        assert_eq!(split_inline_file("a.txt;text/plain;aGk="), Some(("a.txt", "text/plain", "aGk=")));
        assert_eq!(split_inline_file("a;b;c;d"), Some(("a", "b", "c;d")));
        assert_eq!(split_inline_file("nothing"), None);
    }

    #[test]
    fn status_queries() {
        assert_eq!(status_query(&[AlertStatus::New]), json!({"status": "New"}));
        assert_eq!(status_query(&[AlertStatus::New, AlertStatus::Updated])["_in"]["_values"], json!(["New", "Updated"]));
    }
}
