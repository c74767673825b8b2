//! Tasks of a case and their logs.

use serde::{Deserialize, Serialize};

use super::observable::Attachment;
use super::{Id, Millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum TaskStatus {
    #[default]
    Waiting,
    InProgress,
    Completed,
    Cancel,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 4] = [TaskStatus::Waiting, TaskStatus::InProgress, TaskStatus::Completed, TaskStatus::Cancel];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "Waiting",
            Self::InProgress => "InProgress",
            Self::Completed => "Completed",
            Self::Cancel => "Cancel",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Waiting => "Waiting",
            Self::InProgress => "In progress",
            Self::Completed => "Completed",
            Self::Cancel => "Cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Waiting or in progress: closing the case closes it.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Waiting | Self::InProgress)
    }
}

/// The group of tasks without one.
pub const DEFAULT_TASK_GROUP: &str = "default";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: Id,
    /// The case's id.
    #[serde(rename = "case")]
    pub case_id: Id,
    pub title: String,
    pub group: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    pub status: TaskStatus,
    #[serde(default)]
    pub flag: bool,
    #[serde(default)]
    pub order: i64,
    #[serde(default)]
    pub start_date: Option<Millis>,
    #[serde(default)]
    pub end_date: Option<Millis>,
    #[serde(default)]
    pub due_date: Option<Millis>,
    pub created_at: Millis,
    pub created_by: String,
    #[serde(default)]
    pub updated_at: Option<Millis>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

/// A task to create (alone, with a case, or in a template). Unset fields take the defaults:
/// group `default`, status Waiting, order 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewTask {
    pub title: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub status: Option<TaskStatus>,
    #[serde(default)]
    pub flag: Option<bool>,
    #[serde(default)]
    pub order: Option<i64>,
    #[serde(default)]
    pub start_date: Option<Millis>,
    #[serde(default)]
    pub due_date: Option<Millis>,
}

/// A change to a task: only the fields given are changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskPatch {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub status: Option<TaskStatus>,
    #[serde(default)]
    pub flag: Option<bool>,
    #[serde(default)]
    pub order: Option<i64>,
    #[serde(default)]
    pub start_date: Option<Millis>,
    #[serde(default)]
    pub end_date: Option<Millis>,
    #[serde(default)]
    pub due_date: Option<Millis>,
    /// Remove the due date (`null` means "not given", so clearing is said explicitly).
    #[serde(default)]
    pub clear_due_date: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum LogStatus {
    #[default]
    Ok,
    Deleted,
}

/// A log entry of a task: markdown, optionally with one attachment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskLog {
    pub id: Id,
    /// The task's id.
    #[serde(rename = "task")]
    pub task_id: Id,
    /// The case's id (the task's parent).
    #[serde(rename = "case")]
    pub case_id: Id,
    pub message: String,
    pub start_date: Millis,
    #[serde(default)]
    pub attachment: Option<Attachment>,
    pub status: LogStatus,
    pub owner: String,
    pub created_at: Millis,
    pub created_by: String,
    #[serde(default)]
    pub updated_at: Option<Millis>,
    #[serde(default)]
    pub updated_by: Option<String>,
}
