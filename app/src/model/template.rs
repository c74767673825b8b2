//! Case templates, custom field and metric definitions: what an organisation's administrators
//! prepare so that cases start the same way.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::case::{CustomFieldType, CustomFields, Metrics};
use super::{Id, Millis};

/// A task of a template (created with each case made from it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateTask {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default)]
    pub order: i64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flag: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseTemplate {
    pub id: Id,
    /// Unique in the organisation; `POST /api/case {"template": name}` applies it.
    pub name: String,
    #[serde(default)]
    pub title_prefix: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub severity: Option<u8>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub flag: bool,
    #[serde(default)]
    pub tlp: Option<u8>,
    #[serde(default)]
    pub pap: Option<u8>,
    /// TheHive's `Ok` (clients search templates with `status: Ok`).
    #[serde(default = "ok")]
    pub status: String,
    #[serde(default)]
    pub metrics: Metrics,
    #[serde(default)]
    pub custom_fields: CustomFields,
    #[serde(default)]
    pub tasks: Vec<TemplateTask>,
    pub created_at: Millis,
    pub created_by: String,
    #[serde(default)]
    pub updated_at: Option<Millis>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

fn ok() -> String {
    "Ok".into()
}

/// A template as created, updated, imported and exported (TheHive's `Case-Template__<name>.json`
/// is this without audit fields). For updates, `None` leaves a field unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewTemplate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub title_prefix: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub severity: Option<u8>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub flag: Option<bool>,
    #[serde(default)]
    pub tlp: Option<u8>,
    #[serde(default)]
    pub pap: Option<u8>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub metrics: Option<Metrics>,
    #[serde(default)]
    pub custom_fields: Option<CustomFields>,
    #[serde(default)]
    pub tasks: Option<Vec<TemplateTask>>,
}

/// A custom field definition of the organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomFieldDefinition {
    pub id: Id,
    /// The label shown to users.
    pub name: String,
    /// The key in `customFields` (unique in the organisation).
    pub reference: String,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "type")]
    pub kind: CustomFieldType,
    /// Allowed values (empty: any value of the type).
    #[serde(default)]
    pub options: Vec<Value>,
    /// A case cannot be created without a value.
    #[serde(default)]
    pub mandatory: bool,
}

/// What creating or changing a custom field definition takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCustomField {
    pub name: String,
    /// Defaults to the name.
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub kind: CustomFieldType,
    #[serde(default)]
    pub options: Vec<Value>,
    #[serde(default)]
    pub mandatory: bool,
}

/// A metric definition (a number measured on cases: time to contain, systems affected...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricDefinition {
    pub id: Id,
    /// The key in `metrics` (unique in the organisation).
    pub name: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewMetric {
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}
