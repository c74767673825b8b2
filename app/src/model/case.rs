//! Cases and what describes them: severity, TLP/PAP, statuses, custom field values, metrics.
//! Field names are TheHive's (camelCase, dates in epoch milliseconds), as in the query schema.

use std::collections::BTreeMap;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::task::NewTask;
use super::{Id, Millis};

/// Case status. Merged cases become `Resolved` with the resolution `Duplicated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum CaseStatus {
    #[default]
    Open,
    Resolved,
    Deleted,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 3] = [CaseStatus::Open, CaseStatus::Resolved, CaseStatus::Deleted];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "Open",
            Self::Resolved => "Resolved",
            Self::Deleted => "Deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Where an open case stands (TheHive 5's stages; TheHive 3/4 only say `Open`): `New` until
/// someone works on it. A resolved case's stage is `Closed` whatever was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum CaseStage {
    #[default]
    New,
    InProgress,
}

/// How a resolved case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResolutionStatus {
    Indeterminate,
    FalsePositive,
    TruePositive,
    Other,
    Duplicated,
}

impl ResolutionStatus {
    pub const ALL: [ResolutionStatus; 5] = [
        ResolutionStatus::Indeterminate,
        ResolutionStatus::FalsePositive,
        ResolutionStatus::TruePositive,
        ResolutionStatus::Other,
        ResolutionStatus::Duplicated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Indeterminate => "Indeterminate",
            Self::FalsePositive => "FalsePositive",
            Self::TruePositive => "TruePositive",
            Self::Other => "Other",
            Self::Duplicated => "Duplicated",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Indeterminate => "Indeterminate",
            Self::FalsePositive => "False positive",
            Self::TruePositive => "True positive",
            Self::Other => "Other",
            Self::Duplicated => "Duplicated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Whether the incident had an impact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ImpactStatus {
    NoImpact,
    WithImpact,
    NotApplicable,
}

impl ImpactStatus {
    pub const ALL: [ImpactStatus; 3] = [ImpactStatus::NoImpact, ImpactStatus::WithImpact, ImpactStatus::NotApplicable];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoImpact => "NoImpact",
            Self::WithImpact => "WithImpact",
            Self::NotApplicable => "NotApplicable",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::NoImpact => "No impact",
            Self::WithImpact => "With impact",
            Self::NotApplicable => "Not applicable",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Types of custom fields. TheHive 3 knows string, number, boolean and date; TheHive 4 adds
/// integer and float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomFieldType {
    String,
    Number,
    Integer,
    Float,
    Boolean,
    Date,
}

impl CustomFieldType {
    pub const ALL: [CustomFieldType; 6] = [
        CustomFieldType::String,
        CustomFieldType::Number,
        CustomFieldType::Integer,
        CustomFieldType::Float,
        CustomFieldType::Boolean,
        CustomFieldType::Date,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Integer => "integer",
            Self::Float => "float",
            Self::Boolean => "boolean",
            Self::Date => "date",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether `v` (not null) is a value of this type.
    pub fn accepts(self, v: &Value) -> bool {
        match self {
            Self::String => v.is_string(),
            Self::Number | Self::Float => v.is_number(),
            Self::Integer | Self::Date => v.is_i64() || v.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() < 9.0e15),
            Self::Boolean => v.is_boolean(),
        }
    }
}

/// A custom field value on a case or template: `{"<type>": value, "order": n}` in TheHive's JSON.
/// `value` may be null (a template declares the field without a default).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomFieldValue {
    pub kind: CustomFieldType,
    pub value: Value,
    pub order: Option<i64>,
}

impl Serialize for CustomFieldValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry(self.kind.as_str(), &self.value)?;
        if let Some(o) = self.order {
            m.serialize_entry("order", &o)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for CustomFieldValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CustomFieldValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(r#"{"string|number|integer|float|boolean|date": value, "order": n}"#)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CustomFieldValue, A::Error> {
                let mut found: Option<(CustomFieldType, Value)> = None;
                let mut order = None;
                while let Some(k) = map.next_key::<String>()? {
                    if k == "order" {
                        let v: Value = map.next_value()?;
                        order = match v {
                            Value::Null => None,
                            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
                            _ => return Err(de::Error::custom("order must be a number")),
                        };
                    } else if let Some(kind) = CustomFieldType::parse(&k) {
                        let v: Value = map.next_value()?;
                        match &found {
                            // `{"string": null, "number": 3}`: the non-null value tells the type.
                            Some((_, prev)) if !prev.is_null() && !v.is_null() => {
                                return Err(de::Error::custom("a custom field value has one type"));
                            }
                            Some((_, prev)) if !prev.is_null() => {}
                            _ => found = Some((kind, v)),
                        }
                    } else {
                        return Err(de::Error::custom(format!("unknown custom field key {k}")));
                    }
                }
                let (kind, value) = found.ok_or_else(|| de::Error::custom("a custom field value needs its type key"))?;
                Ok(CustomFieldValue { kind, value, order })
            }
        }
        d.deserialize_map(V)
    }
}

/// Custom field values by reference.
pub type CustomFields = BTreeMap<String, CustomFieldValue>;

/// Metric values by metric name (null: declared by a template, not measured yet).
pub type Metrics = BTreeMap<String, Option<f64>>;

/// A case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub id: Id,
    /// Sequence number in the organisation (shown as `#n`).
    pub case_id: i64,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// 1 low, 2 medium, 3 high, 4 critical.
    pub severity: u8,
    #[serde(default)]
    pub owner: Option<String>,
    pub start_date: Millis,
    #[serde(default)]
    pub end_date: Option<Millis>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub flag: bool,
    pub tlp: u8,
    pub pap: u8,
    pub status: CaseStatus,
    /// Set when an open case is taken in hand (v1 `status: InProgress`); absent = `New`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<CaseStage>,
    #[serde(default)]
    pub resolution_status: Option<ResolutionStatus>,
    #[serde(default)]
    pub impact_status: Option<ImpactStatus>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub metrics: Metrics,
    #[serde(default)]
    pub custom_fields: CustomFields,
    /// The case this one was merged into.
    #[serde(default)]
    pub merge_into: Option<Id>,
    /// The cases merged to make this one.
    #[serde(default)]
    pub merge_from: Vec<Id>,
    /// The name of the template the case was created from.
    #[serde(default)]
    pub template: Option<String>,
    pub created_at: Millis,
    pub created_by: String,
    #[serde(default)]
    pub updated_at: Option<Millis>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

/// Counts shown next to a case (`nstats`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseStats {
    pub tasks: TaskCounts,
    pub observables: u64,
    pub iocs: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskCounts {
    pub total: u64,
    pub waiting: u64,
    pub in_progress: u64,
    pub completed: u64,
    pub cancel: u64,
}

/// What creating a case takes. `None` means "not given": the template's value or the default
/// applies (severity 2, TLP 2, PAP 2, start now, owner = creator).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCase {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub severity: Option<u8>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub start_date: Option<Millis>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub flag: Option<bool>,
    #[serde(default)]
    pub tlp: Option<u8>,
    #[serde(default)]
    pub pap: Option<u8>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub stage: Option<CaseStage>,
    #[serde(default)]
    pub metrics: Option<Metrics>,
    #[serde(default)]
    pub custom_fields: Option<CustomFields>,
    /// A case template NAME (or id) to apply.
    #[serde(default)]
    pub template: Option<String>,
    /// Tasks to create with the case (after the template's).
    #[serde(default)]
    pub tasks: Vec<NewTask>,
}

/// A change to a case: only the fields given are changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CasePatch {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub severity: Option<u8>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub start_date: Option<Millis>,
    #[serde(default)]
    pub end_date: Option<Millis>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub flag: Option<bool>,
    #[serde(default)]
    pub tlp: Option<u8>,
    #[serde(default)]
    pub pap: Option<u8>,
    /// `Open` reopens, `Resolved` closes (closing closes the open tasks).
    #[serde(default)]
    pub status: Option<CaseStatus>,
    /// The stage of an open case (reopening sets `InProgress`).
    #[serde(default)]
    pub stage: Option<CaseStage>,
    #[serde(default)]
    pub resolution_status: Option<ResolutionStatus>,
    #[serde(default)]
    pub impact_status: Option<ImpactStatus>,
    #[serde(default)]
    pub summary: Option<String>,
    /// Merged into the case's metrics (a null value: not measured yet).
    #[serde(default)]
    pub metrics: Option<Metrics>,
    /// Merged into the case's custom fields.
    #[serde(default)]
    pub custom_fields: Option<CustomFields>,
}

impl CasePatch {
    pub fn is_empty(&self) -> bool {
        *self == CasePatch::default()
    }
}

/// Closing a case: how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseClosure {
    pub resolution_status: ResolutionStatus,
    pub impact_status: Option<ImpactStatus>,
    pub summary: String,
}

/// Another case sharing observables with a case (`links`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkedCase {
    pub case: Case,
    /// The other case's observables that match one of this case's.
    pub linked_with: Vec<super::observable::Observable>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn custom_field_values_keep_thehive_shape() {
        let v: CustomFieldValue = serde_json::from_value(json!({"string": "x", "order": 2})).unwrap();
        assert_eq!(v, CustomFieldValue { kind: CustomFieldType::String, value: json!("x"), order: Some(2) });
        assert_eq!(serde_json::to_value(&v).unwrap(), json!({"string": "x", "order": 2}));
        let v: CustomFieldValue = serde_json::from_value(json!({"string": null, "order": 1})).unwrap();
        assert!(v.value.is_null());
        let v: CustomFieldValue = serde_json::from_value(json!({"number": 9.5})).unwrap();
        assert_eq!(v.kind, CustomFieldType::Number);
        assert!(serde_json::from_value::<CustomFieldValue>(json!({"order": 1})).is_err());
        assert!(serde_json::from_value::<CustomFieldValue>(json!({"colour": 1})).is_err());
        assert!(serde_json::from_value::<CustomFieldValue>(json!({"string": "a", "number": 1})).is_err());
        assert!(serde_json::from_value::<CustomFieldValue>(json!("text")).is_err());
    }

    #[test]
    fn type_checks() {
        assert!(CustomFieldType::Integer.accepts(&json!(3)));
        assert!(!CustomFieldType::Integer.accepts(&json!(3.5)));
        assert!(CustomFieldType::Date.accepts(&json!(1700000000000i64)));
        assert!(!CustomFieldType::Boolean.accepts(&json!("true")));
        assert!(CustomFieldType::Float.accepts(&json!(2)));
    }

    #[test]
    fn labels() {
        assert_eq!(CaseStatus::parse("Resolved"), Some(CaseStatus::Resolved));
        assert_eq!(ResolutionStatus::parse("Nope"), None);
    }
}
