//! Dashboards in TheHive 3's format. The `definition` travels as a JSON string in the v0 API and
//! as an object in export files; [`Definition`] is its typed form, which keeps every option it
//! does not know (`extra`), so a definition survives a round trip through the UI unchanged.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Id, Millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum DashboardStatus {
    /// Only its owner sees it.
    #[default]
    Private,
    /// Everyone in the organisation sees it.
    Shared,
    Deleted,
}

impl DashboardStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "Private",
            Self::Shared => "Shared",
            Self::Deleted => "Deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Private" => Some(Self::Private),
            "Shared" => Some(Self::Shared),
            "Deleted" => Some(Self::Deleted),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub id: Id,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub status: DashboardStatus,
    /// The definition as a JSON string (TheHive's API shape).
    pub definition: String,
    pub created_by: String,
    pub created_at: Millis,
    #[serde(default)]
    pub updated_by: Option<String>,
    #[serde(default)]
    pub updated_at: Option<Millis>,
}

impl Dashboard {
    pub fn parsed(&self) -> Definition {
        serde_json::from_str(&self.definition).unwrap_or_default()
    }
}

/// `period` values of a definition.
pub const PERIODS: &[(&str, &str)] = &[
    ("all", "All time"),
    ("last3Months", "Last 3 months"),
    ("last30Days", "Last 30 days"),
    ("last7Days", "Last 7 days"),
    ("custom", "Custom range"),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CustomPeriod {
    #[serde(default)]
    pub from_date: Option<Value>,
    #[serde(default)]
    pub to_date: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Definition {
    #[serde(default = "default_period")]
    pub period: String,
    #[serde(default)]
    pub items: Vec<Container>,
    #[serde(default)]
    pub custom_period: CustomPeriod,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn default_period() -> String {
    "all".into()
}

impl Default for Definition {
    fn default() -> Self {
        Definition { period: default_period(), items: Vec::new(), custom_period: CustomPeriod::default(), extra: Map::new() }
    }
}

/// A row of widgets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Container {
    #[serde(rename = "type", default = "container")]
    pub kind: String,
    #[serde(default)]
    pub items: Vec<Widget>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn container() -> String {
    "container".into()
}

impl Default for Container {
    fn default() -> Self {
        Container { kind: container(), items: Vec::new(), extra: Map::new() }
    }
}

/// Widget types.
pub const WIDGET_TYPES: &[&str] = &["bar", "line", "multiline", "donut", "counter", "text"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Widget {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub options: WidgetOptions,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct WidgetOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// A v0 query (JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stacked: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<Vec<Series>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colors: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One series of a line, multi-line, counter or text widget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Series {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agg: Option<String>,
    #[serde(default)]
    pub field: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A dashboard as exported to a file (TheHive 3's format): no ids, the definition an object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardFile {
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub status: Option<String>,
    pub definition: Value,
}
