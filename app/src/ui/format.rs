//! Presentation rules shared by pages: labels and colours of severity, TLP, PAP and health,
//! dates and sizes; tags as typed in a text box. Plain functions, unit-tested (the calendar itself is [`crate::date`]).

use crate::model::{Health, Millis};

/// Severity 1..4 as a word (never colour alone) and its CSS class.
pub fn severity(sev: u8) -> (&'static str, &'static str) {
    match sev {
        1 => ("Low", "sev-low"),
        2 => ("Medium", "sev-medium"),
        3 => ("High", "sev-high"),
        4 => ("Critical", "sev-critical"),
        _ => ("Unknown", "sev-unknown"),
    }
}

/// TLP/PAP 0..3 as FIRST's TLP 2.0 label and its CSS class (colours on black).
pub fn tlp(level: u8) -> (&'static str, &'static str) {
    match level {
        0 => ("CLEAR", "tlp-clear"),
        1 => ("GREEN", "tlp-green"),
        2 => ("AMBER", "tlp-amber"),
        3 => ("RED", "tlp-red"),
        _ => ("?", "tlp-unknown"),
    }
}

/// Health dot class and label (TheHive's green/orange/red).
pub fn health(h: Health, enabled: bool) -> (&'static str, &'static str) {
    if !enabled {
        return ("dot-off", "not configured");
    }
    match h {
        Health::Ok => ("dot-ok", "OK"),
        Health::Warning => ("dot-warning", "degraded"),
        Health::Error => ("dot-error", "unreachable"),
    }
}

/// `YYYY-MM-DD HH:MM` (UTC) from epoch milliseconds.
pub fn datetime(ms: Millis) -> String {
    crate::date::datetime(ms)
}

/// TheHive's object types in words (`case_artifact`: Observable).
pub fn object_label(t: &str) -> &str {
    match t {
        "case" => "Case",
        "case_task" => "Task",
        "case_task_log" => "Task log",
        "case_artifact" => "Observable",
        "alert" => "Alert",
        "caseTemplate" => "Case template",
        "dashboard" => "Dashboard",
        "case_artifact_job" => "Analysis",
        "user" => "User",
        "organisation" => "Organisation",
        other => other,
    }
}

/// Text made safe to put inside HTML.
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A size in bytes for people.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// Tags typed as `a, b c`: split on commas, trimmed, without blanks or repeats.
pub fn parse_tags(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !out.iter().any(|x| x == t) {
            out.push(t.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(severity(4), ("Critical", "sev-critical"));
        assert_eq!(tlp(0).0, "CLEAR");
        assert_eq!(tlp(3).1, "tlp-red");
        assert_eq!(health(Health::Warning, true).0, "dot-warning");
        assert_eq!(health(Health::Error, false).0, "dot-off");
    }

    #[test]
    fn text_helpers() {
        assert_eq!(escape_html("<a href=\"x\">&</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
        assert_eq!(size(2048), "2.0 KB");
        assert_eq!(parse_tags(" a, b,,a , c d "), vec!["a", "b", "c d"]);
    }
}
