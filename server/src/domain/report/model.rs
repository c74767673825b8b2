//! The case model templates see (documented in `docs/reports.md`): read through the case
//! area's functions (so with its visibility rules), shaped for people: labels instead of
//! numbers, dates as `YYYY-MM-DD HH:MM UTC`, IOCs first, the audit trail oldest first.

use std::collections::{BTreeMap, HashMap};

use app::model::{Alert, AuditEntry, AuditOperation, Case, LogStatus, Observable, ObservableStatus, Task, TaskLog};
use serde::Serialize;
use serde_json::Value;

use crate::core::audit;
use crate::core::auth::Caller;
use crate::core::error::Result;
use crate::core::state::AppState;
use crate::domain::{alert, case};

/// At most this many audit entries in the timeline (the newest).
const TIMELINE_MAX: usize = 1000;

/// Where the charts are in a template's output: replaced by the images in every format.
pub const CHART_ALERTS: &str = "chart-alerts-by-severity.png";
pub const CHART_OBSERVABLES: &str = "chart-observables-by-type.png";

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    pub report: ReportInfo,
    pub case: CaseView,
    pub tasks: Vec<TaskView>,
    pub observables: Vec<ObservableView>,
    pub ioc_count: usize,
    pub alerts: Vec<AlertView>,
    pub timeline: Vec<TimelineEntry>,
    pub charts: Charts,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportInfo {
    pub generated_at: String,
    pub generated_by: String,
    pub template: String,
    /// `TLP:AMBER`...
    pub marking: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseView {
    pub id: String,
    pub number: i64,
    pub title: String,
    pub description: String,
    pub severity: u8,
    pub severity_label: &'static str,
    pub tlp: u8,
    pub tlp_label: &'static str,
    pub pap: u8,
    pub pap_label: &'static str,
    pub status: String,
    pub stage: Option<String>,
    pub resolution_status: Option<String>,
    pub impact_status: Option<String>,
    pub summary: Option<String>,
    pub owner: Option<String>,
    pub tags: Vec<String>,
    pub flag: bool,
    pub start_date: String,
    pub end_date: Option<String>,
    pub created_at: String,
    pub created_by: String,
    pub template: Option<String>,
    pub custom_fields: Vec<NamedValue>,
    pub metrics: Vec<NamedValue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NamedValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskView {
    pub title: String,
    pub group: String,
    pub status: String,
    pub owner: Option<String>,
    pub description: Option<String>,
    pub flag: bool,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub due_date: Option<String>,
    pub logs: Vec<LogView>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogView {
    /// Markdown, its headings moved under the task's and its code fences closed ([`embedded`]).
    pub message: String,
    pub date: String,
    pub owner: String,
    pub attachment: Option<AttachmentView>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentView {
    pub name: String,
    pub size: u64,
    pub content_type: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservableView {
    pub data_type: String,
    /// The data, or the file name.
    pub value: String,
    pub ioc: bool,
    pub sighted: bool,
    pub tlp: u8,
    pub tlp_label: &'static str,
    pub tags: Vec<String>,
    pub message: Option<String>,
    pub date: String,
    pub attachment: Option<AttachmentView>,
    /// The analyzers' mini-reports.
    pub reports: Vec<MiniReport>,
    /// Every taxonomy of every mini-report as `namespace:predicate=value (level)`.
    pub analysis: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MiniReport {
    pub analyzer: String,
    pub taxonomies: Vec<Taxonomy>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Taxonomy {
    pub level: String,
    pub namespace: String,
    pub predicate: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertView {
    pub title: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub source: String,
    pub source_ref: String,
    pub severity: u8,
    pub severity_label: &'static str,
    pub date: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    pub date: String,
    pub user: String,
    /// `Creation`, `Update`, `Delete`.
    pub operation: String,
    /// TheHive's type names: `case`, `case_task`, `case_task_log`, `case_artifact`...
    pub object_type: String,
    /// One line for people: "Created task Triage", "Updated case: status, severity".
    pub summary: String,
}

/// The charts' addresses in the template's output (none when there is nothing to draw).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Charts {
    pub alerts_by_severity: Option<&'static str>,
    pub observables_by_type: Option<&'static str>,
}

pub fn severity_label(n: u8) -> &'static str {
    match n {
        1 => "Low",
        2 => "Medium",
        3 => "High",
        4 => "Critical",
        _ => "Unknown",
    }
}

pub fn tlp_label(n: u8) -> &'static str {
    match n {
        0 => "CLEAR",
        1 => "GREEN",
        2 => "AMBER",
        3 => "RED",
        _ => "UNKNOWN",
    }
}

pub fn date(ms: i64) -> String {
    format!("{} UTC", app::date::datetime(ms))
}

fn name_of<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A metric as written: `42`, `1.5`.
fn number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 { format!("{}", f as i64) } else { format!("{f}") }
}

fn plain(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Markdown written elsewhere (a log, a description) made to sit inside the report: its
/// headings moved `depth` levels down (at most 6: a log's `# Title` under a task's `###` does
/// not look like a section of the report), and an unterminated code fence closed.
pub fn embedded(markdown: &str, depth: usize) -> String {
    let mut out = String::with_capacity(markdown.len() + 16);
    let mut fence: Option<char> = None;
    for line in markdown.split_inclusive('\n') {
        let t = line.trim_start();
        let marker = t.chars().next().filter(|c| *c == '`' || *c == '~');
        if let Some(c) = marker.filter(|c| t.chars().take_while(|x| x == c).count() >= 3) {
            fence = match fence {
                None => Some(c),
                Some(open) if open == c => None,
                other => other,
            };
        }
        let hashes = t.chars().take_while(|c| *c == '#').count();
        let indent = line.len() - t.len();
        if fence.is_none() && marker.is_none() && (1..=6).contains(&hashes) && indent < 4 && t[hashes..].starts_with([' ', '\t', '\n']) {
            let level = (hashes + depth).min(6);
            out.push_str(&"#".repeat(level));
            out.push_str(&t[hashes..]);
        } else {
            out.push_str(line);
        }
    }
    closed_fences(&out)
}

/// Close an unterminated code fence, so a log cannot swallow what follows it in the report.
pub fn closed_fences(markdown: &str) -> String {
    let mut open: Option<String> = None;
    for line in markdown.lines() {
        let t = line.trim_start();
        let fence: String = t.chars().take_while(|c| *c == '`' || *c == '~').collect();
        if fence.len() >= 3 && fence.chars().all(|c| c == fence.chars().next().unwrap_or('`')) {
            match &open {
                None => open = Some(fence),
                Some(f) if fence.starts_with(f.as_str()) && t.trim_end() == fence => open = None,
                _ => {}
            }
        }
    }
    match open {
        Some(f) => format!("{markdown}\n{f}\n"),
        None => markdown.to_string(),
    }
}

fn attachment(a: &app::model::Attachment) -> AttachmentView {
    AttachmentView { name: a.name.clone(), size: a.size, content_type: a.content_type.clone(), sha256: a.id.clone() }
}

fn case_view(c: &Case) -> CaseView {
    CaseView {
        id: c.id.clone(),
        number: c.case_id,
        title: c.title.clone(),
        description: embedded(&c.description, 2),
        severity: c.severity,
        severity_label: severity_label(c.severity),
        tlp: c.tlp,
        tlp_label: tlp_label(c.tlp),
        pap: c.pap,
        pap_label: tlp_label(c.pap),
        status: name_of(&c.status),
        stage: c.stage.as_ref().map(name_of),
        resolution_status: c.resolution_status.as_ref().map(name_of),
        impact_status: c.impact_status.as_ref().map(name_of),
        summary: c.summary.as_deref().map(|m| embedded(m, 2)),
        owner: c.owner.clone(),
        tags: c.tags.clone(),
        flag: c.flag,
        start_date: date(c.start_date),
        end_date: c.end_date.map(date),
        created_at: date(c.created_at),
        created_by: c.created_by.clone(),
        template: c.template.clone(),
        custom_fields: {
            let mut fields: Vec<(&String, &app::model::CustomFieldValue)> = c.custom_fields.iter().collect();
            fields.sort_by_key(|(name, f)| (f.order.unwrap_or(i64::MAX), name.as_str()));
            fields
                .into_iter()
                .map(|(name, f)| NamedValue {
                    name: name.clone(),
                    value: match (&f.kind, &f.value) {
                        (app::model::CustomFieldType::Date, Value::Number(n)) => n.as_i64().map(date).unwrap_or_else(|| n.to_string()),
                        (_, v) => plain(v),
                    },
                })
                .collect()
        },
        metrics: c
            .metrics
            .iter()
            .map(|(name, v)| NamedValue { name: name.clone(), value: v.map(number).unwrap_or_default() })
            .collect(),
    }
}

fn task_view(t: &Task, logs: Vec<TaskLog>) -> TaskView {
    let mut logs: Vec<TaskLog> = logs.into_iter().filter(|l| l.status != LogStatus::Deleted).collect();
    // Oldest first: a report reads as a story.
    logs.sort_by_key(|l| (l.start_date, l.created_at));
    TaskView {
        title: t.title.clone(),
        group: t.group.clone(),
        status: name_of(&t.status),
        owner: t.owner.clone(),
        description: t.description.as_deref().map(|m| embedded(m, 3)),
        flag: t.flag,
        start_date: t.start_date.map(date),
        end_date: t.end_date.map(date),
        due_date: t.due_date.map(date),
        logs: logs
            .iter()
            .map(|l| LogView { message: embedded(&l.message, 3), date: date(l.start_date), owner: l.owner.clone(), attachment: l.attachment.as_ref().map(attachment) })
            .collect(),
    }
}

fn mini_reports(reports: &serde_json::Map<String, Value>) -> Vec<MiniReport> {
    reports
        .iter()
        .map(|(analyzer, r)| MiniReport {
            analyzer: analyzer.clone(),
            taxonomies: r
                .get("taxonomies")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .map(|t| Taxonomy {
                            level: t.get("level").map(plain).unwrap_or_default(),
                            namespace: t.get("namespace").map(plain).unwrap_or_default(),
                            predicate: t.get("predicate").map(plain).unwrap_or_default(),
                            value: t.get("value").map(plain).unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

fn observable_view(o: &Observable) -> ObservableView {
    let reports = mini_reports(&o.reports);
    let analysis = reports.iter().flat_map(|r| r.taxonomies.iter().map(|t| format!("{}:{}={} ({})", t.namespace, t.predicate, t.value, t.level))).collect();
    ObservableView {
        data_type: o.data_type.clone(),
        value: o.display_value().to_string(),
        ioc: o.ioc,
        sighted: o.sighted,
        tlp: o.tlp,
        tlp_label: tlp_label(o.tlp),
        tags: o.tags.clone(),
        message: o.message.clone(),
        date: date(o.start_date),
        attachment: o.attachment.as_ref().map(attachment),
        reports,
        analysis,
    }
}

fn alert_view(a: &Alert) -> AlertView {
    AlertView {
        title: a.title.clone(),
        kind: a.kind.clone(),
        source: a.source.clone(),
        source_ref: a.source_ref.clone(),
        severity: a.severity,
        severity_label: severity_label(a.severity),
        date: date(a.date),
    }
}

/// What people call TheHive's object types.
fn object_label(t: &str) -> &str {
    match t {
        "case" => "case",
        "case_task" => "task",
        "case_task_log" => "log",
        "case_artifact" => "observable",
        "alert" => "alert",
        other => other,
    }
}

/// What each object of the case is called (a task's title, an observable's value...), by id:
/// an update's audit entry names only the fields it changed.
fn names(g: &Gathered) -> HashMap<&str, String> {
    let mut names = HashMap::new();
    names.insert(g.case.id.as_str(), g.case.title.clone());
    for (t, logs) in &g.tasks {
        names.insert(t.id.as_str(), t.title.clone());
        for l in logs {
            if let Some(line) = l.message.lines().find(|l| !l.trim().is_empty()) {
                names.insert(l.id.as_str(), line.trim().to_string());
            }
        }
    }
    for o in &g.observables {
        names.insert(o.id.as_str(), o.display_value().to_string());
    }
    names
}

fn timeline_entry(e: &AuditEntry, known: &HashMap<&str, String>) -> TimelineEntry {
    let what = object_label(&e.object_type);
    let attachment = e.details.get("attachment").and_then(|a| a.get("name")).and_then(Value::as_str);
    let message = e.details.get("message").and_then(Value::as_str).and_then(|m| m.lines().find(|l| !l.trim().is_empty()));
    // A log is named by its text; an observable by its value or file name.
    let (first, second) = if e.object_type == "case_task_log" { (message, attachment) } else { (attachment, message) };
    let name = ["title", "data", "name"]
        .iter()
        .find_map(|k| e.details.get(*k).and_then(Value::as_str))
        .or(first)
        .or(second)
        .or_else(|| known.get(e.object_id.as_str()).map(String::as_str))
        .map(|s| {
            let s: String = s.trim().trim_start_matches('#').trim().chars().take(80).collect();
            format!(" {s}")
        });
    let summary = match e.operation {
        AuditOperation::Creation => format!("Created {what}{}", name.unwrap_or_default()),
        AuditOperation::Delete => format!("Deleted {what}"),
        _ => {
            let fields: Vec<&str> = e.details.keys().map(String::as_str).filter(|k| !matches!(*k, "updatedAt" | "updatedBy")).collect();
            format!("Updated {what}{}: {}", name.unwrap_or_default(), fields.join(", "))
        }
    };
    TimelineEntry { date: date(e.created_at), user: e.created_by.clone(), operation: name_of(&e.operation), object_type: e.object_type.clone(), summary }
}

/// Everything a report shows of a case the caller may read (the case area's rules: a case of
/// another organisation is not found).
pub struct Gathered {
    pub case: Case,
    pub tasks: Vec<(Task, Vec<TaskLog>)>,
    pub observables: Vec<Observable>,
    pub alerts: Vec<Alert>,
    pub audit: Vec<AuditEntry>,
}

pub async fn gather(state: &AppState, caller: &Caller, case_id: &str) -> Result<Gathered> {
    let c = case::get(state, caller, case_id).await?;
    let mut tasks = Vec::new();
    for t in case::task::list_for_case(state, caller, &c.id).await? {
        let logs = case::task_log::list_for_task(state, caller, &t.id).await?;
        tasks.push((t, logs));
    }
    let observables = case::observable::list_for_case(state, caller, &c.id).await?;
    let alerts = alert::for_case(state, caller, &c.id).await?;
    let audit = audit::flow(state, caller, Some(&c.id), TIMELINE_MAX).await?;
    Ok(Gathered { case: c, tasks, observables, alerts, audit })
}

/// Severity -> count of the related alerts, and data type -> count of the observables.
pub fn chart_counts(g: &Gathered) -> (BTreeMap<u8, usize>, BTreeMap<String, usize>) {
    let mut severity = BTreeMap::new();
    for a in &g.alerts {
        *severity.entry(a.severity).or_insert(0) += 1;
    }
    let mut types = BTreeMap::new();
    for o in g.observables.iter().filter(|o| o.status != ObservableStatus::Deleted) {
        *types.entry(o.data_type.clone()).or_insert(0) += 1;
    }
    (severity, types)
}

pub fn build(g: &Gathered, info: ReportInfo, charts: Charts) -> Model {
    let mut observables: Vec<&Observable> = g.observables.iter().filter(|o| o.status != ObservableStatus::Deleted).collect();
    // IOCs first, then by type and value.
    observables.sort_by(|a, b| b.ioc.cmp(&a.ioc).then_with(|| a.data_type.cmp(&b.data_type)).then_with(|| a.display_value().cmp(b.display_value())));
    let known = names(g);
    let mut timeline: Vec<TimelineEntry> = g.audit.iter().rev().map(|e| timeline_entry(e, &known)).collect();
    timeline.truncate(TIMELINE_MAX);
    Model {
        report: info,
        case: case_view(&g.case),
        tasks: g.tasks.iter().map(|(t, logs)| task_view(t, logs.clone())).collect(),
        ioc_count: observables.iter().filter(|o| o.ioc).count(),
        observables: observables.into_iter().map(observable_view).collect(),
        alerts: g.alerts.iter().map(alert_view).collect(),
        timeline,
        charts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_headings_move_down() {
        assert_eq!(embedded("# A\n\ntext\n## B\n```\n# not a heading\n```\n#hashtag", 3), "#### A\n\ntext\n##### B\n```\n# not a heading\n```\n#hashtag");
        assert_eq!(embedded("##### deep", 3), "###### deep");
        assert_eq!(embedded("x\n```\nopen", 3), "x\n```\nopen\n```\n");
    }

    #[test]
    fn open_fences_are_closed() {
        assert_eq!(closed_fences("a\n```\ncode"), "a\n```\ncode\n```\n");
        assert_eq!(closed_fences("```\ncode\n```"), "```\ncode\n```");
        assert_eq!(closed_fences("~~~~\nx\n```\n"), "~~~~\nx\n```\n\n~~~~\n");
    }
}
