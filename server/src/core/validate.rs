//! Attribute checks shared by the case-management services. Each failure is an
//! `AttributeCheckingError` naming the table and the attribute.

use crate::core::error::{Error, Result};

/// Longest title (characters).
pub const MAX_TITLE: usize = 512;
/// Longest free text (descriptions, messages, summaries), in bytes.
pub const MAX_TEXT: usize = 1024 * 1024;
pub const MAX_TAGS: usize = 100;
pub const MAX_TAG: usize = 128;

/// A required one-line text: trimmed, not empty, at most `max` characters, no control characters.
pub fn title(table: &str, field: &str, s: &str, max: usize) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(Error::attribute(table, field, "string", format!("{field} must not be empty")));
    }
    if t.chars().count() > max {
        return Err(Error::attribute(table, field, "string", format!("{field} is longer than {max} characters")));
    }
    if t.chars().any(char::is_control) {
        return Err(Error::attribute(table, field, "string", format!("{field} must be one line without control characters")));
    }
    Ok(t.to_string())
}

/// Free text (markdown): any content up to [`MAX_TEXT`] bytes, NUL refused.
pub fn text(table: &str, field: &str, s: &str) -> Result<String> {
    if s.len() > MAX_TEXT {
        return Err(Error::attribute(table, field, "string", format!("{field} is longer than {} KiB", MAX_TEXT / 1024)));
    }
    if s.contains('\0') {
        return Err(Error::attribute(table, field, "string", format!("{field} must not contain NUL characters")));
    }
    Ok(s.to_string())
}

/// TLP or PAP: 0 (CLEAR/WHITE) to 3 (RED).
pub fn tlp(table: &str, field: &str, v: u8) -> Result<u8> {
    if v > 3 {
        return Err(Error::attribute(table, field, "number", format!("{field} must be 0 (CLEAR), 1 (GREEN), 2 (AMBER) or 3 (RED), not {v}")));
    }
    Ok(v)
}

/// Severity: 1 (low) to 4 (critical).
pub fn severity(table: &str, v: u8) -> Result<u8> {
    if !(1..=4).contains(&v) {
        return Err(Error::attribute(table, "severity", "number", format!("severity must be 1 (low), 2 (medium), 3 (high) or 4 (critical), not {v}")));
    }
    Ok(v)
}

/// Tags: trimmed, not empty, without duplicates (first occurrence kept), bounded.
pub fn tags(table: &str, tags: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        let t = t.trim();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > MAX_TAG || t.chars().any(char::is_control) {
            return Err(Error::attribute(table, "tags", "string", format!("a tag has at most {MAX_TAG} characters, on one line")));
        }
        if !out.iter().any(|x| x == t) {
            out.push(t.to_string());
        }
    }
    if out.len() > MAX_TAGS {
        return Err(Error::attribute(table, "tags", "array", format!("at most {MAX_TAGS} tags")));
    }
    Ok(out)
}

/// The union of tag lists, in order of first appearance.
pub fn tag_union<'a>(lists: impl IntoIterator<Item = &'a Vec<String>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lists {
        for t in l {
            if !out.contains(t) {
                out.push(t.clone());
            }
        }
    }
    out
}

/// A date (epoch ms) within a sane range (years 1970 to 9999).
pub fn date(table: &str, field: &str, v: i64) -> Result<i64> {
    if !(0..=253_402_300_799_999).contains(&v) {
        return Err(Error::attribute(table, field, "date", format!("{field} must be a date in epoch milliseconds")));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        assert_eq!(title("case", "title", "  Phish  ", 10).unwrap(), "Phish");
        assert!(title("case", "title", "   ", 10).is_err());
        assert!(title("case", "title", "a\nb", 10).is_err());
        assert!(title("case", "title", &"x".repeat(11), 10).is_err());
        assert!(tlp("case", "tlp", 7).is_err());
        assert!(severity("case", 0).is_err());
        assert_eq!(tags("case", &["a".into(), " a ".into(), "".into(), "b".into()]).unwrap(), vec!["a", "b"]);
        assert!(tags("case", &["x\u{7}".into()]).is_err());
        assert!(text("case", "description", "a\0").is_err());
        assert_eq!(tag_union([&vec!["a".to_string()], &vec!["b".to_string(), "a".to_string()]]), vec!["a", "b"]);
        assert!(date("case", "startDate", -1).is_err());
    }
}
