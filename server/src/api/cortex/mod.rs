//! Cortex 3's API (`/cortex/api/...`), as cortex4py 2.x and TheHive's Cortex connector speak
//! it, over the embedded analysis engine: analyzer definitions, the analyzers an organisation
//! enabled, jobs run on values and files, their reports and artifacts. Handlers translate
//! shapes and call `domain::analysis`; no rule lives here.
//!
//! Cortex's roles are Waggle's permissions: `analyze` = ManageAnalyze, `orgadmin` =
//! ManageAnalyzer, `superadmin` = a platform administrator; everyone reads.

pub mod analyzer;
pub mod job;
pub mod platform;

use app::model::{Analyzer, AnalyzerDefinition, Job, JobArtifact, JobReport, JobStatus, Permission};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;

use crate::core::auth::Caller;
use crate::core::state::AppState;
use crate::domain::analysis::engine::Engine;

/// What `/status` says Cortex is (TheHive reads the major version).
pub const CORTEX_VERSION: &str = "3.1.8-compatible";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(platform::routes()).merge(analyzer::routes()).merge(job::routes())
}

/// The caller's Cortex roles.
pub fn roles(caller: &Caller) -> Vec<&'static str> {
    let mut roles = vec!["read"];
    if caller.can(Permission::ManageAnalyze) {
        roles.push("analyze");
    }
    if caller.can(Permission::ManageAnalyzer) {
        roles.push("orgadmin");
    }
    if caller.is_platform_admin() {
        roles.push("superadmin");
    }
    roles
}

/// A definition as Cortex lists it (`id` = `name_version`).
pub fn definition_object(d: &AnalyzerDefinition) -> Value {
    crate::api::support::object(d, "analyzerDefinition")
}

/// An analyzer as Cortex shows it (a worker of type analyzer); the definition's author, URL and
/// licence come from the analyzers directories.
pub fn analyzer_object(state: &AppState, a: &Analyzer) -> Value {
    let def = state.service::<Engine>().definition(&a.definition_id).map(|d| d.to_model());
    let conf = |k: &str| a.configuration.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "id": a.id, "_id": a.id, "_type": "analyzer", "type": "analyzer",
        "name": a.name,
        "workerDefinitionId": a.definition_id, "analyzerDefinitionId": a.definition_id,
        "version": a.version, "description": a.description,
        "author": def.as_ref().map(|d| d.author.clone()),
        "url": def.as_ref().map(|d| d.url.clone()),
        "license": def.as_ref().map(|d| d.license.clone()),
        "baseConfig": def.as_ref().map(|d| d.base_config.clone()),
        "dataTypeList": a.data_type_list,
        "configuration": a.configuration,
        "rate": a.rate, "rateUnit": a.rate_unit,
        "jobCache": a.job_cache, "jobTimeout": a.job_timeout,
        "maxTlp": conf("max_tlp"), "maxPap": conf("max_pap"),
        "createdAt": a.created_at, "createdBy": a.created_by, "updatedAt": a.updated_at,
        "overQuota": a.over_quota, "quota": a.quota,
    })
}

/// A job as Cortex shows it, in the caller's organisation.
pub fn job_object(j: &Job, organization: &str) -> Value {
    let mut v = json!({
        "id": j.id, "_id": j.id, "_type": "job", "type": "analyzer",
        "workerId": j.analyzer_id, "workerName": j.analyzer_name, "workerDefinitionId": j.analyzer_definition,
        "analyzerId": j.analyzer_id, "analyzerName": j.analyzer_name, "analyzerDefinitionId": j.analyzer_definition,
        "organization": organization,
        "status": j.status,
        "dataType": j.data_type,
        "tlp": j.tlp, "pap": j.pap,
        "message": j.message.clone().unwrap_or_default(),
        "parameters": j.parameters,
        "date": j.start_date.unwrap_or(j.created_at),
        "createdAt": j.created_at, "createdBy": j.created_by,
        "fromCache": j.from_cache,
    });
    if let Value::Object(m) = &mut v {
        if let Some(d) = &j.data {
            m.insert("data".into(), json!(d));
        }
        if let Some(a) = &j.attachment {
            m.insert("attachment".into(), json!(a));
        }
        for (k, t) in [("startDate", j.start_date), ("endDate", j.end_date)] {
            if let Some(t) = t {
                m.insert(k.into(), json!(t));
            }
        }
        if let Some(e) = &j.error_message {
            m.insert("errorMessage".into(), json!(e));
        }
    }
    v
}

/// An artifact a report extracted, as Cortex shows it (the job's TLP when it gave none).
pub fn artifact_object(a: &JobArtifact, job: &Job) -> Value {
    let mut v = json!({
        "_type": "artifact",
        "dataType": a.data_type,
        "message": a.message,
        "tags": a.tags,
        "tlp": a.tlp.unwrap_or(job.tlp),
        "createdAt": job.end_date.unwrap_or(job.created_at),
        "createdBy": job.created_by,
    });
    if let Value::Object(m) = &mut v {
        if let Some(d) = &a.data {
            m.insert("data".into(), json!(d));
        }
        if let Some(f) = &a.attachment {
            m.insert("attachment".into(), json!(f));
        }
    }
    v
}

/// A job's `report`: the report of a finished job (success or failure), else its state.
pub fn report_value(j: &Job, report: Option<&JobReport>) -> Value {
    let object_or_empty = |v: &Value| if v.is_null() { json!({}) } else { v.clone() };
    match (j.status, report) {
        (JobStatus::Waiting, _) => json!("Waiting"),
        (JobStatus::InProgress, _) => json!("Running"),
        (JobStatus::Deleted, _) => json!("Deleted"),
        (_, Some(r)) if r.success => json!({
            "summary": object_or_empty(&r.summary),
            "full": object_or_empty(&r.full),
            "success": true,
            "operations": r.operations,
            "artifacts": r.artifacts.iter().map(|a| artifact_object(a, j)).collect::<Vec<_>>(),
        }),
        (_, Some(r)) => json!({
            "errorMessage": r.error_message.clone().or_else(|| j.error_message.clone()),
            "input": r.input,
            "success": false,
        }),
        (_, None) => json!({ "errorMessage": j.error_message, "input": Value::Null, "success": false }),
    }
}

/// A job with its `report`.
pub fn job_with_report(j: &Job, report: Option<&JobReport>, organization: &str) -> Value {
    let mut v = job_object(j, organization);
    if let Value::Object(m) = &mut v {
        m.insert("report".into(), report_value(j, report));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(status: JobStatus) -> Job {
        Job {
            id: "j1".into(),
            analyzer_id: "a1".into(),
            analyzer_name: "Test".into(),
            analyzer_definition: "Test_1_0".into(),
            cortex_id: app::model::LOCAL_ENGINE.into(),
            status,
            data_type: "ip".into(),
            data: Some("1.2.3.4".into()),
            attachment: None,
            tlp: 2,
            pap: 2,
            message: None,
            parameters: Default::default(),
            observable: None,
            case: None,
            alert: None,
            created_at: 10,
            created_by: "me".into(),
            start_date: None,
            end_date: None,
            error_message: None,
            from_cache: false,
            artifact_count: 0,
        }
    }

    #[test]
    fn reports_in_cortex_shape() {
        assert_eq!(report_value(&job(JobStatus::Waiting), None), json!("Waiting"));
        assert_eq!(report_value(&job(JobStatus::InProgress), None), json!("Running"));
        let ok = JobReport {
            success: true,
            summary: json!({"taxonomies": []}),
            full: Value::Null,
            artifacts: vec![JobArtifact { data_type: "domain".into(), data: Some("x.org".into()), attachment: None, message: None, tags: vec![], tlp: None }],
            operations: vec![],
            error_message: None,
            input: None,
        };
        let r = report_value(&job(JobStatus::Success), Some(&ok));
        assert_eq!(r["success"], true);
        assert_eq!(r["full"], json!({}));
        assert_eq!(r["artifacts"][0]["tlp"], 2);
        let failed = JobReport { success: false, error_message: Some("boom".into()), input: Some("{}".into()), ..ok };
        let r = report_value(&job(JobStatus::Failure), Some(&failed));
        assert_eq!(r, json!({"errorMessage": "boom", "input": "{}", "success": false}));
        let v = job_object(&job(JobStatus::Success), "soc");
        assert_eq!((v["workerId"].as_str(), v["organization"].as_str(), v["date"].as_i64()), (Some("a1"), Some("soc"), Some(10)));
    }
}
