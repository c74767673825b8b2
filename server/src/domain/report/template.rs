//! Report templates: the shipped `default` and those an organisation uploads (minijinja,
//! output markdown). A template is compiled and tried on a sample case when it is uploaded, so
//! a broken one is refused then, not when someone needs a report.

use app::model::{DEFAULT_REPORT_TEMPLATE, NewReportTemplate, Permission, ReportTemplate};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, Value as JValue};
use serde_json::{Map, Value, json};

use super::model;
use crate::core::audit;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::validate;
use crate::vars;

pub const TYPE: &str = "reportTemplate";
const TABLE: &str = "report_template";
/// The largest template accepted.
pub const MAX_CONTENT: usize = 256 * 1024;
/// What a template may spend rendering one report (minijinja's instruction budget): a loop
/// gone wrong stops with an error instead of holding a thread.
const FUEL: u64 = 5_000_000;

pub static DEFAULT_CONTENT: &str = include_str!("../../../assets/reports/default.md.j2");

fn builtin() -> ReportTemplate {
    ReportTemplate {
        id: DEFAULT_REPORT_TEMPLATE.into(),
        name: DEFAULT_REPORT_TEMPLATE.into(),
        description: "Waggle's report: case, custom fields and metrics, charts, tasks and logs, observables (IOCs first), related alerts, timeline.".into(),
        tlp: None,
        content: DEFAULT_CONTENT.into(),
        builtin: true,
        created_at: 0,
        created_by: "waggle".into(),
    }
}

/// Escape text for markdown: every ASCII punctuation character that could start markup.
pub fn md_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '<' | '>' | '(' | ')' | '#' | '+' | '-' | '!' | '|' | '~' | '&') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escape text for a markdown table cell: markdown, and one line.
pub fn cell_escape(text: &str) -> String {
    md_escape(&text.replace(['\r', '\n'], " "))
}

fn to_text(v: &JValue) -> String {
    if v.is_none() || v.is_undefined() { String::new() } else { v.to_string() }
}

/// The environment templates run in: markdown output (no HTML escaping), Jinja's block
/// whitespace rules, the `md` and `cell` filters, an instruction budget.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    match SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build() {
        Ok(syntax) => env.set_syntax(syntax),
        Err(e) => tracing::error!(error = %e, "report templates: the whitespace settings were refused"),
    }
    env.set_fuel(Some(FUEL));
    env.add_filter("md", |v: JValue| md_escape(&to_text(&v)));
    env.add_filter("cell", |v: JValue| cell_escape(&to_text(&v)));
    env
}

/// The template's text rendered over the model.
pub fn render(name: &str, content: &str, model: &model::Model) -> Result<String> {
    let env = environment();
    let template = env.template_from_named_str(name, content).map_err(|e| broken(name, &e))?;
    template.render(JValue::from(Serde(model))).map_err(|e| broken(name, &e))
}

fn broken(name: &str, e: &minijinja::Error) -> Error {
    let line = e.line().map(|l| format!(" (line {l})")).unwrap_or_default();
    Error::BadRequest(format!("The report template {name} is not valid{line}: {}", e.detail().unwrap_or(&e.kind().to_string())))
}

/// A small case to try a template on before it is stored.
fn sample() -> Result<model::Model> {
    let case = serde_json::from_value(json!({
        "id": "sample", "caseId": 1, "title": "Sample", "description": "A sample case.", "severity": 2,
        "startDate": 0, "tlp": 2, "pap": 2, "status": "Open", "createdAt": 0, "createdBy": "waggle",
        "tags": ["sample"], "metrics": { "m": 1.0 },
        "customFields": { "field": { "string": "value", "order": 0 } }
    }))
    .map_err(|e| Error::Internal(anyhow::anyhow!("the sample case: {e}")))?;
    let g = model::Gathered { case, tasks: Vec::new(), observables: Vec::new(), alerts: Vec::new(), audit: Vec::new() };
    let info = model::ReportInfo { generated_at: model::date(0), generated_by: "waggle".into(), template: "sample".into(), marking: "TLP:AMBER".into() };
    Ok(model::build(&g, info, model::Charts::default()))
}

pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<ReportTemplate>> {
    let mut r = caller.store(state).query("SELECT * FROM report_template WHERE org = $org ORDER BY name ASC", vars! {}).await?;
    let mut out = vec![builtin()];
    out.extend(r.rows::<ReportTemplate>(0)?);
    Ok(out)
}

/// A template by name (`default`, or one of the organisation's); an unknown name is a bad
/// request (the report cannot be made), not a missing resource.
pub async fn by_name(state: &AppState, caller: &Caller, name: &str) -> Result<ReportTemplate> {
    let name = name.trim();
    if name.is_empty() || name == DEFAULT_REPORT_TEMPLATE {
        return Ok(builtin());
    }
    let mut r = caller.store(state).query("SELECT * FROM report_template WHERE org = $org AND name = $name LIMIT 1", vars! { "name" => name }).await?;
    r.one(0)?.ok_or_else(|| Error::BadRequest(format!("Unknown report template {name:?}: it is not one of the organisation's report templates (GET /api/report/template lists them)")))
}

/// Whether the caller may upload templates (checked before an upload is read).
pub fn check_can_upload(caller: &Caller) -> Result<()> {
    caller.require(Permission::ManageCaseTemplate, "upload report templates")
}

pub async fn create(state: &AppState, caller: &Caller, input: NewReportTemplate) -> Result<ReportTemplate> {
    check_can_upload(caller)?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(Error::attribute(TYPE, "name", "string", "a name of 1 to 64 characters is required"));
    }
    if name == DEFAULT_REPORT_TEMPLATE {
        return Err(Error::BadRequest(format!("{DEFAULT_REPORT_TEMPLATE} is the shipped template's name: choose another")));
    }
    if input.content.trim().is_empty() {
        return Err(Error::attribute(TYPE, "content", "string", "the template is empty"));
    }
    if input.content.len() > MAX_CONTENT {
        return Err(Error::TooLarge(format!("A report template is at most {} KiB", MAX_CONTENT / 1024)));
    }
    let tlp = input.tlp.map(|t| validate::tlp(TYPE, "tlp", t)).transpose()?;
    // Compiled and tried on a sample case: syntax errors and unknown filters are refused now.
    render(name, &input.content, &sample()?)?;
    let mut r = caller.store(state).query("SELECT VALUE id FROM report_template WHERE org = $org AND name = $name LIMIT 1", vars! { "name" => name }).await?;
    if !r.rows::<Value>(0)?.is_empty() {
        return Err(Error::Conflict { message: format!("A report template named {name} exists"), object: None });
    }
    let mut doc = Map::new();
    doc.insert("name".into(), json!(name));
    doc.insert("description".into(), json!(input.description.unwrap_or_default().trim()));
    doc.insert("tlp".into(), json!(tlp));
    doc.insert("content".into(), json!(input.content));
    audit::create_one(state, caller, TABLE, TYPE, doc, None).await
}

pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    caller.require(Permission::ManageCaseTemplate, "delete report templates")?;
    if id == DEFAULT_REPORT_TEMPLATE {
        return Err(Error::BadRequest("The shipped report template cannot be deleted".into()));
    }
    let store = caller.store(state);
    if store.get::<Value>(TABLE, id).await?.is_none() {
        return Err(Error::not_found("report template", id));
    }
    audit::delete_one(state, caller, TABLE, TYPE, id, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_and_the_default_template_render() {
        let m = sample().unwrap();
        assert_eq!(m.case.title, "Sample");
        let out = render("default", DEFAULT_CONTENT, &m).expect("the default template renders");
        assert!(out.contains("# Case #1: Sample"), "{out}");
        assert!(out.contains("| field | value |"), "{out}");
    }

    #[test]
    fn broken_templates_are_bad_requests() {
        let e = render("x", "{% for a in b %}", &sample().unwrap()).unwrap_err();
        assert!(matches!(e, Error::BadRequest(ref m) if m.contains("line 1")), "{e:?}");
        let e = render("x", "{{ case.title | nosuchfilter }}", &sample().unwrap()).unwrap_err();
        assert!(matches!(e, Error::BadRequest(_)), "{e:?}");
    }

    #[test]
    fn escapes() {
        assert_eq!(md_escape("<img src=x onerror=alert(1)>"), "\\<img src=x onerror=alert\\(1\\)\\>");
        assert_eq!(cell_escape("a|b\nc"), "a\\|b c");
    }
}
