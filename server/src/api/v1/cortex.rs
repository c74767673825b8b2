//! TheHive 5's one v1 Cortex route: jobs in bulk. The other Cortex calls of thehive4py 2.x go
//! to the v0 connector routes (`/api/connector/cortex/...`), jobs are listed by the query API
//! (`listJob`); answers keep the v0 job shape, as TheHive's connector does.

use app::model::LOCAL_ENGINE;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::json::ApiJson;
use crate::api::support::job_object;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::domain::analysis::{job, remote};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(bulk_create_jobs))
}

/// Run several analyzers: `{"jobs": [{analyzerId, cortexId, artifactId}]}`; answers the jobs.
#[utoipa::path(post, path = "/api/v1/connector/cortex/job/_bulk", tag = "v1", responses((status = 201, description = "The jobs (v0 shape)"), (status = 400, description = "Invalid")))]
pub async fn bulk_create_jobs(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Map<String, Value>>) -> Result<impl IntoResponse> {
    let list = body.get("jobs").and_then(Value::as_array).ok_or_else(|| Error::attribute(job::TYPE, "jobs", "array", "jobs: [{analyzerId, cortexId, artifactId}]"))?;
    if list.len() > 1000 {
        return Err(Error::attribute(job::TYPE, "jobs", "array", "at most 1000 jobs at once"));
    }
    let mut out = Vec::with_capacity(list.len());
    for j in list {
        let text = |k: &str| -> Result<String> {
            j.get(k).and_then(Value::as_str).map(str::to_string).ok_or_else(|| Error::attribute(job::TYPE, k, "string", format!("{k} is required")))
        };
        let cortex = j.get("cortexId").and_then(Value::as_str).unwrap_or(LOCAL_ENGINE).to_string();
        if cortex != LOCAL_ENGINE && !remote::is_server(&state, &cortex) {
            return Err(Error::NotFound(format!("Cortex server {cortex} not found (the embedded engine is {LOCAL_ENGINE})")));
        }
        let created = job::run_on_observable_at(&state, &caller, &cortex, &text("artifactId")?, &text("analyzerId")?, false).await?;
        out.push(job_object(&created, None));
    }
    Ok((StatusCode::CREATED, axum::Json(out)))
}
