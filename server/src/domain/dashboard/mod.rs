//! Dashboards: Private (their owner only) or Shared (the whole organisation), in TheHive 3's
//! format; copy, soft delete, import and export files; the four default dashboards every
//! organisation starts with.
//!
//! Who may do what: every member of the organisation sees the Shared dashboards and their own;
//! anyone with `ManageDashboard` creates, copies and imports; a dashboard is changed or deleted
//! by its owner, or, when it is Shared, by an organisation administrator.

pub mod render;

use app::model::{Dashboard, DashboardFile, DashboardStatus, Organisation, Permission, WIDGET_TYPES};
use serde_json::{Map, Value, json};

use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::query::{self, Entity, Params, Range};
use crate::core::state::AppState;
use crate::core::store::{OrgStore, Store, new_id, now_millis};
use crate::vars;

const TABLE: &str = "dashboard";

/// The dashboards TheHive 3 shipped, which every organisation starts with.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("Case statistics", include_str!("../../../assets/dashboards/Case_statistics.json")),
    ("Alert statistics", include_str!("../../../assets/dashboards/Alert_statistics.json")),
    ("Observable statistics", include_str!("../../../assets/dashboards/Observable_statistics.json")),
    ("Job statistics", include_str!("../../../assets/dashboards/Job_statistics.json")),
];

/// What creating or importing a dashboard needs.
#[derive(Debug, Clone, Default)]
pub struct NewDashboard {
    pub title: String,
    pub description: String,
    pub status: DashboardStatus,
    /// The definition, as a JSON string.
    pub definition: String,
}

/// Fields an update may change (`None` = unchanged).
#[derive(Debug, Clone, Default)]
pub struct DashboardPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub status: Option<DashboardStatus>,
    pub definition: Option<String>,
}

fn invalid(field: &str, msg: impl Into<String>) -> Error {
    Error::attribute(TABLE, field, "string", msg)
}

fn check_title(title: &str) -> Result<String> {
    let t = title.trim();
    if t.is_empty() || t.chars().count() > 200 || t.chars().any(char::is_control) {
        return Err(invalid("title", "1 to 200 characters"));
    }
    Ok(t.to_string())
}

fn check_status(s: DashboardStatus) -> Result<DashboardStatus> {
    if s == DashboardStatus::Deleted {
        return Err(invalid("status", "status is Private or Shared (delete a dashboard to remove it)"));
    }
    Ok(s)
}

/// Check a definition: valid JSON, TheHive's structure, known widget types and entities, and
/// queries that parse. Returns it normalised (compact JSON).
pub fn check_definition(text: &str) -> Result<String> {
    if text.len() > 1024 * 1024 {
        return Err(invalid("definition", "the definition is larger than 1 MiB"));
    }
    let v: Value = serde_json::from_str(text).map_err(|e| invalid("definition", format!("the definition is not valid JSON: {e}")))?;
    check_definition_value(&v)?;
    Ok(v.to_string())
}

pub fn check_definition_value(v: &Value) -> Result<()> {
    let m = v.as_object().ok_or_else(|| invalid("definition", "the definition must be a JSON object"))?;
    if let Some(p) = m.get("period").filter(|p| !p.is_null()) {
        let ok = p.as_str().is_some_and(|p| app::model::PERIODS.iter().any(|(k, _)| *k == p));
        if !ok {
            return Err(invalid("definition", format!("unknown period {p}: use all, last3Months, last30Days, last7Days or custom")));
        }
    }
    let rows = match m.get("items") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(invalid("definition", "items must be a list of containers")),
    };
    for row in rows {
        let widgets = row.get("items").and_then(Value::as_array).ok_or_else(|| invalid("definition", "each container needs items (a list of widgets)"))?;
        for w in widgets {
            let kind = w.get("type").and_then(Value::as_str).unwrap_or_default();
            if !WIDGET_TYPES.contains(&kind) {
                return Err(invalid("definition", format!("unknown widget type {kind:?}: use {}", WIDGET_TYPES.join(", "))));
            }
            let opts = w.get("options").and_then(Value::as_object);
            let entities = opts
                .and_then(|o| o.get("entity"))
                .into_iter()
                .chain(opts.and_then(|o| o.get("series")).and_then(Value::as_array).into_iter().flatten().filter_map(|s| s.get("entity")));
            for e in entities.filter(|e| !e.is_null()) {
                let name = e.as_str().unwrap_or_default();
                if Entity::from_type(name).is_none_or(|e| crate::core::stats::check_entity(e).is_err()) {
                    return Err(invalid("definition", format!("unknown entity {e} in a widget")));
                }
            }
        }
    }
    Ok(())
}

fn to_dashboard(v: Value) -> Result<Dashboard> {
    serde_json::from_value(v).map_err(|e| Error::Internal(anyhow::anyhow!("decoding dashboard: {e}")))
}

/// Visible to the caller: theirs, or Shared; never Deleted.
fn visible(d: &Dashboard, caller: &Caller) -> bool {
    d.status != DashboardStatus::Deleted && (d.status == DashboardStatus::Shared || d.created_by == caller.login)
}

fn may_change(d: &Dashboard, caller: &Caller) -> bool {
    caller.can(Permission::ManageDashboard)
        && (d.created_by == caller.login || (d.status == DashboardStatus::Shared && caller.can(Permission::ManageUser)))
}

async fn insert(store: &OrgStore, new: NewDashboard, by: &str, seed: Option<&str>) -> Result<Dashboard> {
    let mut doc = Map::new();
    doc.insert("title".into(), json!(check_title(&new.title)?));
    doc.insert("description".into(), json!(new.description));
    doc.insert("status".into(), json!(check_status(new.status)?));
    doc.insert("definition".into(), json!(check_definition(&new.definition)?));
    doc.insert("createdBy".into(), json!(by));
    doc.insert("createdAt".into(), json!(now_millis()));
    if let Some(s) = seed {
        doc.insert("seed".into(), json!(s));
    }
    to_dashboard(store.create(TABLE, &new_id(), doc).await?)
}

pub async fn create(state: &AppState, caller: &Caller, new: NewDashboard) -> Result<Dashboard> {
    caller.require(Permission::ManageDashboard, "create dashboards")?;
    insert(&caller.store(state), new, &caller.login, None).await
}

pub async fn get(state: &AppState, caller: &Caller, id: &str) -> Result<Dashboard> {
    let row: Option<Value> = caller.store(state).get(TABLE, id).await?;
    let d = row.map(to_dashboard).transpose()?.filter(|d| visible(d, caller));
    d.ok_or_else(|| Error::not_found("dashboard", id))
}

/// Dashboards the caller sees, filtered by a v0 query, sorted and paged; and their total.
pub async fn search(state: &AppState, caller: &Caller, q: &Value, sort: &[String], range: Range) -> Result<(Vec<Dashboard>, usize)> {
    let filter = query::parse(q, Entity::Dashboard)?;
    let mut params = Params::new();
    let cond = query::compile(&filter, Entity::Dashboard, &mut params)?;
    let mut order = query::order_by(&query::parse_sort(sort, Entity::Dashboard)?);
    if order.is_empty() {
        order = "ORDER BY title ASC".into();
    }
    let mut vars = params.vars;
    vars.insert("me".into(), json!(caller.login));
    let scope = "org = $org AND status != 'Deleted' AND (status = 'Shared' OR createdBy = $me)";
    let sql = format!(
        "SELECT * FROM dashboard WHERE {scope} AND {cond} {order} LIMIT {} START {};\
         SELECT count() AS n FROM dashboard WHERE {scope} AND {cond} GROUP ALL;",
        range.limit(),
        range.from
    );
    let mut r = caller.store(state).query(&sql, vars).await?;
    let rows: Vec<Value> = r.rows(0)?;
    let total = r.one::<Value>(1)?.and_then(|v| v.get("n").and_then(Value::as_u64)).unwrap_or(0) as usize;
    Ok((rows.into_iter().map(to_dashboard).collect::<Result<_>>()?, total))
}

pub async fn update(state: &AppState, caller: &Caller, id: &str, patch: DashboardPatch) -> Result<Dashboard> {
    let d = get(state, caller, id).await?;
    if !may_change(&d, caller) {
        return Err(Error::forbidden("change this dashboard (its owner, or an organisation administrator when it is shared, can)"));
    }
    let mut m = Map::new();
    if let Some(t) = patch.title {
        m.insert("title".into(), json!(check_title(&t)?));
    }
    if let Some(t) = patch.description {
        m.insert("description".into(), json!(t));
    }
    if let Some(s) = patch.status {
        m.insert("status".into(), json!(check_status(s)?));
    }
    if let Some(def) = patch.definition {
        m.insert("definition".into(), json!(check_definition(&def)?));
    }
    m.insert("updatedBy".into(), json!(caller.login));
    m.insert("updatedAt".into(), json!(now_millis()));
    let v = caller.store(state).merge(TABLE, id, m).await?.ok_or_else(|| Error::not_found("dashboard", id))?;
    to_dashboard(v)
}

/// Delete (TheHive's way: the status becomes Deleted and the dashboard disappears).
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    let d = get(state, caller, id).await?;
    if !may_change(&d, caller) {
        return Err(Error::forbidden("delete this dashboard (its owner, or an organisation administrator when it is shared, can)"));
    }
    let mut m = Map::new();
    m.insert("status".into(), json!(DashboardStatus::Deleted));
    m.insert("updatedBy".into(), json!(caller.login));
    m.insert("updatedAt".into(), json!(now_millis()));
    caller.store(state).merge(TABLE, id, m).await?;
    Ok(())
}

/// A private copy for the caller.
pub async fn copy(state: &AppState, caller: &Caller, id: &str, title: Option<String>) -> Result<Dashboard> {
    let d = get(state, caller, id).await?;
    let new = NewDashboard {
        title: title.unwrap_or_else(|| format!("Copy of {}", d.title)),
        description: d.description,
        status: DashboardStatus::Private,
        definition: d.definition,
    };
    create(state, caller, new).await
}

/// The export file (TheHive 3's format).
pub fn to_file(d: &Dashboard) -> DashboardFile {
    DashboardFile {
        title: d.title.clone(),
        description: d.description.clone(),
        status: Some(d.status.as_str().to_string()),
        definition: serde_json::from_str(&d.definition).unwrap_or(Value::Null),
    }
}

pub async fn export(state: &AppState, caller: &Caller, id: &str) -> Result<DashboardFile> {
    Ok(to_file(&get(state, caller, id).await?))
}

/// Parse an export file (the definition may be an object or a JSON string).
pub fn parse_file(v: &Value) -> Result<NewDashboard> {
    let m = v.as_object().ok_or_else(|| Error::BadRequest("A dashboard file is a JSON object".into()))?;
    let title = m.get("title").and_then(Value::as_str).ok_or_else(|| invalid("title", "title is required"))?;
    let description = m.get("description").and_then(Value::as_str).unwrap_or_default();
    let status = match m.get("status").and_then(Value::as_str) {
        None | Some("Deleted") => DashboardStatus::Private,
        Some(s) => DashboardStatus::parse(s).ok_or_else(|| invalid("status", format!("unknown status {s}")))?,
    };
    let definition = match m.get("definition") {
        Some(Value::String(s)) => s.clone(),
        Some(d @ Value::Object(_)) => d.to_string(),
        _ => return Err(invalid("definition", "definition is required (an object)")),
    };
    Ok(NewDashboard { title: title.to_string(), description: description.to_string(), status, definition })
}

pub async fn import(state: &AppState, caller: &Caller, file: &Value) -> Result<Dashboard> {
    create(state, caller, parse_file(file)?).await
}

/// Give an organisation the default dashboards, once (also after they were deleted: never again).
pub async fn seed_organisation(store: &Store, org: &Organisation) -> Result<()> {
    if org.name == crate::domain::identity::org::ADMIN_ORG {
        return Ok(());
    }
    let os = store.org(&org.id);
    let mut r = os.query("SELECT count() AS n FROM dashboard WHERE org = $org AND seed != NONE GROUP ALL", vars! {}).await?;
    let n = r.one::<Value>(0)?.and_then(|v| v.get("n").and_then(Value::as_u64)).unwrap_or(0);
    if n > 0 {
        return Ok(());
    }
    for (name, text) in DEFAULTS {
        let file: Value = serde_json::from_str(text).map_err(|e| Error::Internal(anyhow::anyhow!("default dashboard {name}: {e}")))?;
        let mut new = parse_file(&file)?;
        new.status = DashboardStatus::Shared;
        insert(&os, new, "system", Some(name)).await?;
    }
    Ok(())
}

/// Organisations that existed before migration 4 get the default dashboards at the next start.
pub async fn seed_existing(store: &Store) -> Result<()> {
    let mut r = store.query("SELECT * FROM _seed:dashboards", vars! {}).await?;
    if r.one::<Value>(0)?.is_none() {
        return Ok(());
    }
    let mut r = store.query("SELECT * FROM organisation", vars! {}).await?;
    let orgs: Vec<Organisation> = r.rows(0)?;
    for o in &orgs {
        seed_organisation(store, o).await?;
    }
    store.query("DELETE _seed:dashboards", vars! {}).await?;
    Ok(())
}
