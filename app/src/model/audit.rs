//! The audit trail: every change, who made it, when, and what it was before and after.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Id, Millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditOperation {
    Creation,
    Update,
    Delete,
}

impl AuditOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creation => "Creation",
            Self::Update => "Update",
            Self::Delete => "Delete",
        }
    }
}

/// One change. `objectType` uses TheHive's type names (`case`, `case_task`, `case_task_log`,
/// `case_artifact`, `caseTemplate`, ...), which are also what the query language calls them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: Id,
    pub operation: AuditOperation,
    pub object_type: String,
    pub object_id: Id,
    /// The case (or other root object) the change belongs to: a case's activity is its root's.
    pub root_id: Id,
    #[serde(default)]
    pub request_id: Option<String>,
    /// When (= `createdAt`).
    pub start_date: Millis,
    /// Creation: the new object's fields; Update: the changed fields' new values.
    #[serde(default)]
    pub details: Map<String, Value>,
    /// Update: the changed fields' previous values; Delete: the object as it was.
    #[serde(default)]
    pub before: Option<Map<String, Value>>,
    pub created_at: Millis,
    /// The login of who made the change.
    pub created_by: String,
}

/// One request's changes as the live activity panel shows them: its main change (`operation`
/// on the object named `label`), who made it and when, the case it belongs to, and what else
/// the same request changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// The main change's audit entry.
    pub id: Id,
    /// The request that made the changes.
    #[serde(default)]
    pub request_id: Option<String>,
    pub at: Millis,
    pub by: String,
    pub operation: AuditOperation,
    pub object_type: String,
    pub object_id: Id,
    /// The root object (a case, an alert...): the activity of a case is its root's.
    pub root_id: Id,
    /// The changed object in a few words (a title, an observable's value...).
    pub label: String,
    /// The case the change belongs to, when it belongs to one: its number and title.
    #[serde(default)]
    pub case: Option<(i64, String)>,
    /// Every change of the request by object type and operation, with its count.
    #[serde(default)]
    pub summary: Vec<(String, AuditOperation, u64)>,
}
