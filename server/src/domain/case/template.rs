//! Case templates: how cases of a kind start (title prefix, severity, TLP/PAP, tags, tasks with
//! their owners, metrics and custom fields). Import and export use TheHive's files
//! (`Case-Template__<name>.json`, the template without its id and audit fields).

use app::model::{AuditOperation, CaseTemplate, CustomFields, Metrics, Permission, NewTemplate, TemplateTask};
use serde_json::{Map, Value, json};

use crate::core::audit::Tx;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::query::Entity;
use crate::core::search::{self, Page, Search};
use crate::core::state::AppState;
use crate::core::store::{OrgStore, new_id};
use crate::{core::validate, vars};

pub const TYPE: &str = "caseTemplate";
const TABLE: &str = "case_template";

/// A template by id or by name.
pub async fn find(store: &OrgStore, id_or_name: &str) -> Result<Option<CaseTemplate>> {
    if let Some(t) = store.get::<CaseTemplate>(TABLE, id_or_name).await? {
        return Ok(Some(t));
    }
    let mut r = store.query("SELECT * FROM case_template WHERE org = $org AND name = $n", vars! { "n" => id_or_name }).await?;
    r.one(0)
}

pub async fn get(state: &AppState, caller: &Caller, id_or_name: &str) -> Result<CaseTemplate> {
    find(&caller.store(state), id_or_name).await?.ok_or_else(|| Error::NotFound(format!("Case template {id_or_name} not found")))
}

pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<CaseTemplate>> {
    let mut r = caller.store(state).query("SELECT * FROM case_template WHERE org = $org ORDER BY name", vars! {}).await?;
    r.rows(0)
}

pub async fn search(state: &AppState, caller: &Caller, search: &Search) -> Result<Page<CaseTemplate>> {
    search::run(&caller.store(state), Entity::CaseTemplate, search, true).await
}

fn valid_tasks(tasks: &[TemplateTask]) -> Result<Vec<TemplateTask>> {
    if tasks.len() > 500 {
        return Err(Error::attribute(TYPE, "tasks", "array", "at most 500 tasks"));
    }
    tasks
        .iter()
        .map(|t| {
            Ok(TemplateTask {
                title: validate::title(TYPE, "tasks.title", &t.title, validate::MAX_TITLE)?,
                group: match t.group.as_deref().map(str::trim) {
                    None | Some("") => None,
                    Some(g) => Some(validate::title(TYPE, "tasks.group", g, 128)?),
                },
                description: t.description.as_deref().map(|d| validate::text(TYPE, "tasks.description", d)).transpose()?,
                owner: t.owner.as_deref().map(|o| o.trim().to_lowercase()).filter(|o| !o.is_empty()),
                order: t.order,
                flag: t.flag,
            })
        })
        .collect()
}

fn valid_custom_fields(cf: &CustomFields) -> Result<()> {
    for (k, v) in cf {
        if !v.value.is_null() && !v.kind.accepts(&v.value) {
            return Err(Error::attribute(TYPE, "customFields", "object", format!("{k} needs a {} value", v.kind.as_str())));
        }
    }
    Ok(())
}

fn valid_metrics(m: &Metrics) -> Result<()> {
    if m.keys().any(|k| k.trim().is_empty() || k.contains('.') || k.len() > 128) {
        return Err(Error::attribute(TYPE, "metrics", "object", "invalid metric name"));
    }
    Ok(())
}

/// The document fields `input` sets, validated.
fn fields(input: &NewTemplate) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    if let Some(n) = &input.name {
        m.insert("name".into(), json!(validate::title(TYPE, "name", n, 128)?));
    }
    if let Some(p) = &input.title_prefix {
        let p = p.trim();
        if p.chars().count() > 64 || p.chars().any(char::is_control) {
            return Err(Error::attribute(TYPE, "titlePrefix", "string", "at most 64 characters on one line"));
        }
        m.insert("titlePrefix".into(), json!(p));
    }
    if let Some(d) = &input.description {
        m.insert("description".into(), json!(validate::text(TYPE, "description", d)?));
    }
    if let Some(s) = input.severity {
        m.insert("severity".into(), json!(validate::severity(TYPE, s)?));
    }
    if let Some(t) = &input.tags {
        m.insert("tags".into(), json!(validate::tags(TYPE, t)?));
    }
    if let Some(f) = input.flag {
        m.insert("flag".into(), json!(f));
    }
    if let Some(t) = input.tlp {
        m.insert("tlp".into(), json!(validate::tlp(TYPE, "tlp", t)?));
    }
    if let Some(p) = input.pap {
        m.insert("pap".into(), json!(validate::tlp(TYPE, "pap", p)?));
    }
    if let Some(s) = &input.status {
        m.insert("status".into(), json!(validate::title(TYPE, "status", s, 32)?));
    }
    if let Some(x) = &input.metrics {
        valid_metrics(x)?;
        m.insert("metrics".into(), json!(x));
    }
    if let Some(x) = &input.custom_fields {
        valid_custom_fields(x)?;
        m.insert("customFields".into(), json!(x));
    }
    if let Some(t) = &input.tasks {
        m.insert("tasks".into(), json!(valid_tasks(t)?));
    }
    Ok(m)
}

async fn name_taken(store: &OrgStore, name: &str, except: Option<&str>) -> Result<bool> {
    let mut r = store.query("SELECT VALUE record::id(id) FROM case_template WHERE org = $org AND name = $n", vars! { "n" => name }).await?;
    let ids: Vec<String> = r.rows(0)?;
    Ok(ids.iter().any(|i| Some(i.as_str()) != except))
}

pub async fn create(state: &AppState, caller: &Caller, input: NewTemplate) -> Result<CaseTemplate> {
    caller.require(Permission::ManageCaseTemplate, "manage case templates")?;
    if input.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(Error::attribute(TYPE, "name", "string", "name is required"));
    }
    let mut doc = fields(&input)?;
    let store = caller.store(state);
    let name = doc.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
    if name_taken(&store, &name, None).await? {
        return Err(Error::Conflict { message: format!("A case template named {name} already exists"), object: None });
    }
    doc.entry("status").or_insert(json!("Ok"));
    doc.entry("tags").or_insert(json!([]));
    doc.entry("tasks").or_insert(json!([]));
    doc.entry("metrics").or_insert(json!({}));
    doc.entry("customFields").or_insert(json!({}));
    doc.entry("flag").or_insert(json!(false));
    let mut tx = Tx::new(caller);
    doc.insert("createdAt".into(), json!(tx.now()));
    doc.insert("createdBy".into(), json!(caller.login));
    let (vid, vdoc) = (tx.bind(new_id()), tx.bind(&doc));
    tx.push(format!("LET $tpl = (CREATE type::record('case_template', {vid}) CONTENT object::extend({vdoc}, {{ org: $org }}) RETURN AFTER)[0]"));
    tx.audit(AuditOperation::Creation, TYPE, &vid, &vid, &vdoc, None, Some("$tpl"));
    let idx = tx.push("$tpl");
    tx.run(state, &store).await?.one(idx)?.ok_or_else(|| Error::Internal(anyhow::anyhow!("template not created")))
}

pub async fn update(state: &AppState, caller: &Caller, id_or_name: &str, input: NewTemplate) -> Result<CaseTemplate> {
    caller.require(Permission::ManageCaseTemplate, "manage case templates")?;
    let store = caller.store(state);
    let current = find(&store, id_or_name).await?.ok_or_else(|| Error::NotFound(format!("Case template {id_or_name} not found")))?;
    let mut m = fields(&input)?;
    if let Some(name) = m.get("name").and_then(Value::as_str) {
        if name_taken(&store, name, Some(&current.id)).await? {
            return Err(Error::Conflict { message: format!("A case template named {name} already exists"), object: None });
        }
    }
    crate::core::audit::keep_changes(&current, &mut m);
    if m.is_empty() {
        return Ok(current);
    }
    let mut tx = Tx::new(caller);
    m.insert("updatedAt".into(), json!(tx.now()));
    m.insert("updatedBy".into(), json!(caller.login));
    let idx = tx.update_record(TABLE, TYPE, &current.id, &Value::Object(m), false);
    tx.run(state, &store).await?.one(idx)?.ok_or_else(|| Error::not_found("case template", id_or_name))
}

pub async fn delete(state: &AppState, caller: &Caller, id_or_name: &str) -> Result<()> {
    caller.require(Permission::ManageCaseTemplate, "manage case templates")?;
    let store = caller.store(state);
    let current = find(&store, id_or_name).await?.ok_or_else(|| Error::NotFound(format!("Case template {id_or_name} not found")))?;
    let mut tx = Tx::new(caller);
    tx.delete_record(TABLE, TYPE, &current.id, false);
    tx.run(state, &store).await?;
    Ok(())
}

/// The export file of a template: its name (`Case-Template__<name>.json`) and content.
pub fn export(t: &CaseTemplate) -> (String, Value) {
    let safe: String = t.name.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    let file = json!({
        "name": t.name,
        "titlePrefix": t.title_prefix.clone().unwrap_or_default(),
        "description": t.description.clone().unwrap_or_default(),
        "severity": t.severity.unwrap_or(2),
        "tlp": t.tlp.unwrap_or(2),
        "pap": t.pap.unwrap_or(2),
        "tags": t.tags,
        "flag": t.flag,
        "status": t.status,
        "metrics": t.metrics,
        "customFields": t.custom_fields,
        "tasks": t.tasks,
    });
    (format!("Case-Template__{safe}.json"), file)
}

/// Fields of an export file that are not the template itself (ids and audit fields of the
/// instance it came from): ignored on import.
const INSTANCE_FIELDS: &[&str] =
    &["id", "_id", "_type", "_routing", "_parent", "_version", "createdAt", "createdBy", "updatedAt", "updatedBy", "user"];
const TASK_FIELDS: &[&str] = &["title", "group", "description", "owner", "order", "flag"];
const TASK_INSTANCE_FIELDS: &[&str] =
    &["id", "_id", "_type", "_routing", "_parent", "_version", "createdAt", "createdBy", "updatedAt", "updatedBy", "status", "startDate", "endDate", "dueDate"];

/// A template from a TheHive export file (or any JSON with its fields): what clients send to
/// `POST /api/case/template` and what the import reads. Unknown attributes are refused.
pub fn input_from_json(v: &Value) -> Result<NewTemplate> {
    let obj = v.as_object().ok_or_else(|| Error::BadRequest("A case template must be a JSON object".into()))?;
    let mut errors = Vec::new();
    let allowed = ["name", "titlePrefix", "description", "severity", "tags", "flag", "tlp", "pap", "status", "metrics", "customFields", "tasks"];
    let mut clean = Map::new();
    for (k, val) in obj {
        if val.is_null() || INSTANCE_FIELDS.contains(&k.as_str()) {
            continue;
        }
        if !allowed.contains(&k.as_str()) {
            errors.push(app::model::AttributeError { name: format!("{TYPE}.{k}"), kind: "UnknownAttributeError".into(), message: format!("Unknown attribute {k}") });
            continue;
        }
        if k == "tasks" {
            let list = val.as_array().ok_or_else(|| Error::attribute(TYPE, "tasks", "array", "tasks must be a list"))?;
            let mut tasks = Vec::with_capacity(list.len());
            for t in list {
                let t = t.as_object().ok_or_else(|| Error::attribute(TYPE, "tasks", "array", "each task must be an object"))?;
                let mut ct = Map::new();
                for (tk, tv) in t {
                    if tv.is_null() || TASK_INSTANCE_FIELDS.contains(&tk.as_str()) {
                        continue;
                    }
                    if !TASK_FIELDS.contains(&tk.as_str()) {
                        errors.push(app::model::AttributeError {
                            name: format!("{TYPE}.tasks.{tk}"),
                            kind: "UnknownAttributeError".into(),
                            message: format!("Unknown task attribute {tk}"),
                        });
                        continue;
                    }
                    ct.insert(tk.clone(), tv.clone());
                }
                tasks.push(Value::Object(ct));
            }
            clean.insert(k.clone(), Value::Array(tasks));
        } else {
            clean.insert(k.clone(), val.clone());
        }
    }
    if !errors.is_empty() {
        return Err(Error::Attributes { table: TYPE.into(), errors });
    }
    serde_json::from_value(Value::Object(clean)).map_err(|e| Error::attribute(TYPE, "template", "object", format!("invalid template: {e}")))
}

/// Import a TheHive export file; the name must be new in the organisation.
pub async fn import(state: &AppState, caller: &Caller, file: &Value) -> Result<CaseTemplate> {
    create(state, caller, input_from_json(file)?).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thehive3_fixtures_read_unchanged() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/thehive3/case-templates");
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut n = 0;
        for e in entries.flatten() {
            let v: Value = serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
            let t = input_from_json(&v).unwrap_or_else(|err| panic!("{}: {err:?}", e.path().display()));
            assert!(t.name.is_some());
            assert!(!t.tasks.unwrap_or_default().is_empty());
            fields(&input_from_json(&v).unwrap()).unwrap();
            n += 1;
        }
        assert_eq!(n, 5);
    }

    #[test]
    fn unknown_attributes_are_refused() {
        assert!(matches!(input_from_json(&json!({"name": "x", "colour": 1})), Err(Error::Attributes { .. })));
        assert!(matches!(input_from_json(&json!({"name": "x", "tasks": [{"title": "t", "colour": 1}]})), Err(Error::Attributes { .. })));
        let t = input_from_json(&json!({"name": "x", "id": null, "_id": "abc", "createdAt": 1, "tasks": [{"title": "t", "id": null}]})).unwrap();
        assert_eq!(t.tasks.unwrap()[0].title, "t");
    }

    #[test]
    fn export_round_trip() {
        let t = CaseTemplate {
            id: "x".into(),
            name: "Phishing / mail".into(),
            title_prefix: Some("EMAIL".into()),
            description: Some("d".into()),
            severity: Some(3),
            tags: vec!["phish".into()],
            flag: false,
            tlp: Some(2),
            pap: Some(1),
            status: "Ok".into(),
            metrics: Default::default(),
            custom_fields: Default::default(),
            tasks: vec![TemplateTask { title: "Identify".into(), order: 0, ..Default::default() }],
            created_at: 1,
            created_by: "a".into(),
            updated_at: None,
            updated_by: None,
        };
        let (file, v) = export(&t);
        assert_eq!(file, "Case-Template__Phishing___mail.json");
        assert!(v.get("id").is_none() && v.get("createdAt").is_none());
        let back = input_from_json(&v).unwrap();
        assert_eq!(back.name.as_deref(), Some("Phishing / mail"));
        assert_eq!(back.tasks.unwrap().len(), 1);
    }
}

/// What applying a case template to existing cases changes (TheHive 5's
/// `POST /case/_bulk/caseTemplate`): each `update*` takes that field from the template;
/// `tasks` names the template's tasks to add (by title), `pages` the page templates to add
/// (by id).
#[derive(Debug, Clone, Default)]
pub struct Apply {
    pub title_prefix: bool,
    pub description: bool,
    pub tags: bool,
    pub severity: bool,
    pub flag: bool,
    pub tlp: bool,
    pub pap: bool,
    pub custom_fields: bool,
    pub tasks: Vec<String>,
    pub pages: Vec<String>,
}

/// Apply a case template to cases. A title already carrying the prefix keeps it once; tags
/// are added to the case's; a task whose title the case already has is not added twice.
pub async fn apply(state: &AppState, caller: &Caller, template: &str, ids: &[String], what: Apply) -> Result<()> {
    caller.require(Permission::ManageCase, "apply case templates")?;
    let t = get(state, caller, template).await?;
    for name in &what.tasks {
        if !t.tasks.iter().any(|x| &x.title == name) {
            return Err(Error::attribute(TYPE, "importTasks", "array", format!("the template has no task {name}")));
        }
    }
    let mut pages = Vec::new();
    for id in &what.pages {
        pages.push(super::page_template::get(state, caller, id).await?);
    }
    for id in ids {
        let case = super::get(state, caller, id).await?;
        let mut patch = app::model::CasePatch::default();
        if let Some(prefix) = t.title_prefix.as_deref().map(str::trim).filter(|p| what.title_prefix && !p.is_empty()) {
            if !case.title.starts_with(prefix) {
                patch.title = Some(format!("{prefix} {}", case.title));
            }
        }
        if what.description {
            patch.description = t.description.clone().filter(|d| !d.trim().is_empty());
        }
        if what.tags && !t.tags.is_empty() {
            let mut tags = case.tags.clone();
            tags.extend(t.tags.iter().filter(|x| !case.tags.contains(x)).cloned());
            patch.tags = Some(tags);
        }
        if what.severity {
            patch.severity = t.severity;
        }
        if what.flag {
            patch.flag = Some(t.flag);
        }
        if what.tlp {
            patch.tlp = t.tlp;
        }
        if what.pap {
            patch.pap = t.pap;
        }
        if what.custom_fields && !t.custom_fields.is_empty() {
            patch.custom_fields = Some(t.custom_fields.iter().filter(|(k, _)| !case.custom_fields.contains_key(*k)).map(|(k, v)| (k.clone(), v.clone())).collect());
        }
        if !patch.is_empty() {
            super::update(state, caller, &case.id, patch).await?;
        }
        let existing: Vec<String> = super::task::list_for_case(state, caller, &case.id).await?.into_iter().map(|x| x.title).collect();
        for tt in t.tasks.iter().filter(|x| what.tasks.contains(&x.title) && !existing.contains(&x.title)) {
            let task = app::model::NewTask {
                title: tt.title.clone(),
                group: tt.group.clone(),
                description: tt.description.clone(),
                owner: tt.owner.clone(),
                order: Some(tt.order),
                flag: Some(tt.flag),
                ..Default::default()
            };
            super::task::create(state, caller, &case.id, task).await?;
        }
        for p in &pages {
            let input = super::page::PageInput { title: Some(p.title.clone()), content: Some(p.content.clone()), order: Some(p.order), category: Some(p.category.clone()) };
            super::page::create(state, caller, &case.id, input).await?;
        }
    }
    Ok(())
}
