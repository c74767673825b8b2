//! Presentation rules shared by pages: labels and colours of severity, TLP, PAP and health,
//! dates. Plain functions, unit-tested.

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
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", rem / 3600, (rem % 3600) / 60)
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
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
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn dates() {
        assert_eq!(datetime(0), "1970-01-01 00:00");
        assert_eq!(datetime(1_700_000_000_000), "2023-11-14 22:13");
        assert_eq!(datetime(951_782_400_000), "2000-02-29 00:00");
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

/// A CSV field (quoted when it holds a separator, a quote or a line break; formula-looking
/// values are prefixed so spreadsheets do not run them).
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}
