//! TheHive 5's case statuses and stages against Waggle's (TheHive 3/4's) `Open` / `Resolved` +
//! resolution: one mapping, used by every dialect that speaks TheHive 5 (the v1 API).
//!
//! | TheHive 5 status | stage | Waggle |
//! |---|---|---|
//! | New | New | Open (no stage, or `New`) |
//! | InProgress | InProgress | Open, stage `InProgress` |
//! | TruePositive, FalsePositive, Indeterminate, Other, Duplicated | Closed | Resolved with that resolution |
//!
//! TheHive 4's `Open`, `Resolved` and `Duplicated` are accepted too.

use app::model::{Case, CaseStage, CaseStatus, ResolutionStatus};

/// A status change as Waggle keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    pub status: CaseStatus,
    pub stage: Option<CaseStage>,
    pub resolution: Option<ResolutionStatus>,
}

/// The TheHive 5 (or 4) status `s`, or `None` when it names none.
pub fn from_th5(s: &str) -> Option<StatusChange> {
    let open = |stage| Some(StatusChange { status: CaseStatus::Open, stage: Some(stage), resolution: None });
    let closed = |r| Some(StatusChange { status: CaseStatus::Resolved, stage: None, resolution: Some(r) });
    match s {
        "New" => open(CaseStage::New),
        "InProgress" | "In progress" | "Open" => open(CaseStage::InProgress),
        "Resolved" => Some(StatusChange { status: CaseStatus::Resolved, stage: None, resolution: None }),
        "TruePositive" => closed(ResolutionStatus::TruePositive),
        "FalsePositive" => closed(ResolutionStatus::FalsePositive),
        "Indeterminate" => closed(ResolutionStatus::Indeterminate),
        "Other" => closed(ResolutionStatus::Other),
        "Duplicated" | "Duplicate" => closed(ResolutionStatus::Duplicated),
        _ => None,
    }
}

/// The statuses TheHive 5 clients may send.
pub const TH5_STATUSES: &[&str] = &["New", "InProgress", "TruePositive", "FalsePositive", "Indeterminate", "Other", "Duplicated"];

/// TheHive 5's status and stage of `case`.
pub fn th5(case: &Case) -> (&'static str, &'static str) {
    match case.status {
        CaseStatus::Open => match case.stage.unwrap_or_default() {
            CaseStage::New => ("New", "New"),
            CaseStage::InProgress => ("InProgress", "InProgress"),
        },
        CaseStatus::Resolved | CaseStatus::Deleted => {
            let status = match case.resolution_status {
                Some(ResolutionStatus::TruePositive) => "TruePositive",
                Some(ResolutionStatus::FalsePositive) => "FalsePositive",
                Some(ResolutionStatus::Indeterminate) => "Indeterminate",
                Some(ResolutionStatus::Duplicated) => "Duplicated",
                Some(ResolutionStatus::Other) | None => "Other",
            };
            (status, "Closed")
        }
    }
}

/// The Waggle statuses a TheHive 5 status filter means (`status = New` → `Open`...), as
/// `(field, value)` conditions to AND.
pub fn filter_of(s: &str) -> Option<Vec<(&'static str, &'static str)>> {
    let c = from_th5(s)?;
    let mut out = vec![("status", c.status.as_str())];
    if let Some(r) = c.resolution {
        out.push(("resolutionStatus", r.as_str()));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_th5_status_maps_both_ways() {
        for s in TH5_STATUSES {
            let c = from_th5(s).unwrap();
            let case = Case { status: c.status, stage: c.stage, resolution_status: c.resolution, ..blank() };
            assert_eq!(th5(&case).0, *s);
        }
        assert!(from_th5("Whatever").is_none());
        assert_eq!(th5(&Case { status: CaseStatus::Resolved, ..blank() }), ("Other", "Closed"));
    }

    pub(super) fn blank() -> Case {
        serde_json::from_value(serde_json::json!({"id": "case:x", "caseId": 1, "title": "t", "severity": 2, "startDate": 0, "tlp": 2, "pap": 2,
            "status": "Open", "createdAt": 0, "createdBy": "a"})).unwrap()
    }
}
