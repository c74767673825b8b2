//! Case reports (`/api/case/{id}/report`) and report templates (`/api/report/template`).

use app::model::{NewReportTemplate, ReportFormat, ReportTemplate};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::object;
use super::support::{JsonOrMultipart, content_disposition, input, query_param};
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::domain::report::{self, template};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(case_report))
        .routes(routes!(list_templates, upload_template))
        .routes(routes!(delete_template))
}

fn template_object(t: &ReportTemplate) -> Value {
    object(t, "reportTemplate")
}

/// A case's report: `format` `pdf` (default), `html` or `md`; `template` a report template's
/// name (default: the shipped one). Sent as a file to download.
#[utoipa::path(get, path = "/api/case/{id}/report", tag = "report",
    params(("id" = String, Path, description = "Case id or number"), ("format" = Option<String>, Query, description = "pdf, html or md"), ("template" = Option<String>, Query, description = "Report template name")),
    responses((status = 200, description = "The report", content_type = "application/pdf"), (status = 400, description = "Unknown format or template, or the template failed"), (status = 404, description = "No such case")))]
pub async fn case_report(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Result<Response> {
    let format = match query_param(raw.as_deref(), "format").filter(|f| !f.is_empty()) {
        None => ReportFormat::Pdf,
        Some(f) => ReportFormat::parse(&f).ok_or_else(|| Error::BadRequest(format!("Unknown report format {f:?}: use pdf, html or md")))?,
    };
    let name = query_param(raw.as_deref(), "template");
    let r = report::make(&state, &caller, &id, format, name.as_deref()).await?;
    let headers = [(header::CONTENT_TYPE, HeaderValue::from_static(r.content_type)), (header::CONTENT_DISPOSITION, content_disposition(&r.file_name))];
    Ok((StatusCode::OK, headers, r.bytes).into_response())
}

/// The report templates of the organisation, `default` (shipped) first.
#[utoipa::path(get, path = "/api/report/template", tag = "report", responses((status = 200, description = "Templates")))]
pub async fn list_templates(State(state): State<AppState>, caller: Caller) -> Result<impl IntoResponse> {
    let list = template::list(&state, &caller).await?;
    Ok(axum::Json(list.iter().map(template_object).collect::<Vec<_>>()))
}

/// Upload a report template: JSON `{"name", "description", "tlp", "content"}`, or multipart
/// with the template file (`template` or any file part) and `name`, `description`, `tlp` fields.
#[utoipa::path(post, path = "/api/report/template", tag = "report", responses((status = 201, description = "The new template"), (status = 400, description = "Invalid attributes or template syntax"), (status = 409, description = "Name taken")))]
pub async fn upload_template(State(state): State<AppState>, caller: Caller, body: JsonOrMultipart) -> Result<impl IntoResponse> {
    template::check_can_upload(&caller)?;
    let body: Map<String, Value> = match body {
        JsonOrMultipart::Json(j) => j,
        JsonOrMultipart::Multipart(mut m) => {
            let mut fields = Map::new();
            let mut parts = 0;
            let bad = |e: axum::extract::multipart::MultipartError| Error::BadRequest(format!("Invalid multipart body: {}", e.body_text()));
            while let Some(field) = m.next_field().await.map_err(bad)? {
                parts += 1;
                if parts > 8 {
                    return Err(Error::BadRequest("Too many parts in the multipart body".into()));
                }
                let key = if field.file_name().is_some() { "content".to_string() } else { field.name().unwrap_or_default().to_string() };
                let key = if key == "template" { "content".to_string() } else { key };
                let text = field.text().await.map_err(bad)?;
                let value = if key == "tlp" { text.trim().parse::<u64>().map(|n| json!(n)).unwrap_or(json!(text)) } else { json!(text) };
                fields.insert(key, value);
            }
            fields
        }
    };
    let new: NewReportTemplate = input(template::TYPE, &body, &["name", "description", "tlp", "content"])?;
    let t = template::create(&state, &caller, new).await?;
    Ok((StatusCode::CREATED, axum::Json(template_object(&t))))
}

#[utoipa::path(delete, path = "/api/report/template/{id}", tag = "report", params(("id" = String, Path, description = "Template id")), responses((status = 204, description = "Removed"), (status = 404, description = "No such template")))]
pub async fn delete_template(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<impl IntoResponse> {
    template::delete(&state, &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
