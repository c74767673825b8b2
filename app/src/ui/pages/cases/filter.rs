//! The cases list's filter: what the analyst chose (status, severity, TLP, tags, owner, text,
//! dates, a v0 query from a dashboard link), its URL query string (reload-safe, shareable), its
//! removable chips, and the v0 query and sort keys sent to the server. Plain functions,
//! unit-tested.

use serde_json::{Value, json};

use crate::date::{day_end, day_start};
use crate::ui::format;
use crate::url::{query_pairs, query_string};

/// Rows per page of the cases list.
pub const PAGE_SIZE: u64 = 25;

/// The default sort: newest first.
pub const DEFAULT_SORT: &str = "-createdAt";

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CaseFilter {
    /// `Open`, `Resolved`, `Deleted`; `None`: every status.
    pub status: Option<String>,
    pub severity: Option<u8>,
    pub tlp: Option<u8>,
    pub tags: Vec<String>,
    pub owner: Option<String>,
    /// Free text (title, description, tags...), or `#n` for a case number.
    pub text: String,
    /// Created on or after this day (`YYYY-MM-DD`, UTC).
    pub from: Option<String>,
    /// Created on or before this day (`YYYY-MM-DD`, UTC).
    pub to: Option<String>,
    /// Only flagged cases.
    pub flagged: bool,
    /// A raw v0 query (dashboards link to `/cases?q=<json>`).
    pub q: Option<String>,
    /// v0 sort key (`-createdAt`, `+title`...); empty: the default.
    pub sort: String,
    /// 0-based page.
    pub page: u64,
}

/// A removable chip: its label and the URL parameter (and value) it removes.
#[derive(Debug, Clone, PartialEq)]
pub struct Chip {
    pub label: String,
    pub key: &'static str,
    pub value: String,
}

impl CaseFilter {
    /// What a first visit shows: open cases.
    pub fn default_view() -> Self {
        CaseFilter { status: Some("Open".into()), ..Default::default() }
    }

    /// From a URL query string (`status=Open&tag=phishing&tag=apt`...), with or without `?`.
    /// An empty string is the default view; `status=any` means every status.
    pub fn from_query(qs: &str) -> Self {
        let qs = qs.strip_prefix('?').unwrap_or(qs);
        if qs.trim().is_empty() {
            return Self::default_view();
        }
        let mut f = CaseFilter::default();
        let mut status_given = false;
        for (k, v) in query_pairs(qs) {
            match k {
                "status" => {
                    status_given = true;
                    f.status = if v == "any" || v.is_empty() { None } else { Some(v) };
                }
                "severity" => f.severity = v.parse().ok().filter(|s| (1..=4).contains(s)),
                "tlp" => f.tlp = v.parse().ok().filter(|s| *s <= 3),
                "tag" if !v.trim().is_empty() && !f.tags.contains(&v) => f.tags.push(v),
                "owner" if !v.trim().is_empty() => f.owner = Some(v),
                "text" => f.text = v,
                "from" if day_start(&v).is_some() => f.from = Some(v),
                "to" if day_start(&v).is_some() => f.to = Some(v),
                "flagged" => f.flagged = v == "true" || v == "1",
                "q" if !v.trim().is_empty() => f.q = Some(v),
                "sort" => f.sort = v,
                "page" => f.page = v.parse().unwrap_or(0),
                _ => {}
            }
        }
        // A dashboard's query stands alone: no implicit status on top of it.
        if !status_given && f.q.is_none() {
            f.status = Some("Open".into());
        }
        f
    }

    /// The URL query string (without `?`); the default view is the empty string.
    pub fn to_query(&self) -> String {
        if *self == Self::default_view() {
            return String::new();
        }
        let mut parts: Vec<(&str, String)> = Vec::new();
        let mut push = |k: &'static str, v: &str| parts.push((k, v.to_string()));
        match &self.status {
            Some(s) if s == "Open" && self.q.is_none() => {}
            Some(s) => push("status", s),
            None if self.q.is_none() => push("status", "any"),
            None => {}
        }
        if let Some(s) = self.severity {
            push("severity", &s.to_string());
        }
        if let Some(t) = self.tlp {
            push("tlp", &t.to_string());
        }
        for t in &self.tags {
            push("tag", t);
        }
        if let Some(o) = &self.owner {
            push("owner", o);
        }
        if !self.text.trim().is_empty() {
            push("text", self.text.trim());
        }
        if let Some(d) = &self.from {
            push("from", d);
        }
        if let Some(d) = &self.to {
            push("to", d);
        }
        if self.flagged {
            push("flagged", "true");
        }
        if let Some(q) = &self.q {
            push("q", q);
        }
        if !self.sort.is_empty() && self.sort != DEFAULT_SORT {
            push("sort", &self.sort);
        }
        if self.page > 0 {
            push("page", &self.page.to_string());
        }
        query_string(parts)
    }

    /// The v0 query for the server.
    pub fn to_v0(&self) -> Value {
        let mut and: Vec<Value> = Vec::new();
        if let Some(q) = &self.q {
            // An unparsable `q` is sent as it is: the server says what is wrong with it.
            and.push(serde_json::from_str(q).unwrap_or_else(|_| json!({ "_string": q })));
        }
        if let Some(s) = &self.status {
            and.push(json!({ "_field": "status", "_value": s }));
        }
        if let Some(s) = self.severity {
            and.push(json!({ "_field": "severity", "_value": s }));
        }
        if let Some(t) = self.tlp {
            and.push(json!({ "_field": "tlp", "_value": t }));
        }
        for t in &self.tags {
            and.push(json!({ "_field": "tags", "_value": t }));
        }
        if let Some(o) = &self.owner {
            and.push(json!({ "_field": "owner", "_value": o }));
        }
        if self.flagged {
            and.push(json!({ "_field": "flag", "_value": true }));
        }
        let text = self.text.trim();
        if !text.is_empty() {
            let full = json!({ "_like": { "_field": "_all", "_value": text } });
            match text.strip_prefix('#').unwrap_or(text).parse::<i64>() {
                Ok(n) => and.push(json!({ "_or": [ { "_field": "caseId", "_value": n }, full ] })),
                Err(_) => and.push(full),
            }
        }
        let from = self.from.as_deref().and_then(day_start);
        let to = self.to.as_deref().and_then(day_end);
        if from.is_some() || to.is_some() {
            and.push(json!({ "_between": { "_field": "startDate", "_from": from, "_to": to } }));
        }
        match and.len() {
            0 => json!({}),
            1 => and.remove(0),
            _ => json!({ "_and": and }),
        }
    }

    /// Sort keys for the server (the chosen key, then newest first as a tie-breaker).
    pub fn sort_keys(&self) -> Vec<String> {
        let key = if self.sort.is_empty() { DEFAULT_SORT } else { self.sort.as_str() };
        if key.trim_start_matches(['+', '-']) == "createdAt" { vec![key.to_string()] } else { vec![key.to_string(), DEFAULT_SORT.to_string()] }
    }

    /// The sort after clicking a column's header: that column descending first, then ascending.
    pub fn sorted_by(&self, field: &str) -> String {
        let current = if self.sort.is_empty() { DEFAULT_SORT } else { self.sort.as_str() };
        if current == format!("-{field}") { format!("+{field}") } else { format!("-{field}") }
    }

    /// `▲`/`▼` on the column the list is sorted by.
    pub fn sort_mark(&self, field: &str) -> &'static str {
        let current = if self.sort.is_empty() { DEFAULT_SORT } else { self.sort.as_str() };
        if current == format!("-{field}") {
            " ▼"
        } else if current == format!("+{field}") || current == field {
            " ▲"
        } else {
            ""
        }
    }

    /// Rows `from..to` of the current page.
    pub fn range(&self) -> (u64, u64) {
        (self.page * PAGE_SIZE, (self.page + 1) * PAGE_SIZE)
    }

    /// The chips showing the filter, each removable.
    pub fn chips(&self) -> Vec<Chip> {
        let mut out = Vec::new();
        let mut chip = |label: String, key: &'static str, value: &str| out.push(Chip { label, key, value: value.to_string() });
        match &self.status {
            Some(s) => chip(format!("Status: {s}"), "status", s),
            None if self.q.is_none() => chip("Status: any".into(), "status", "any"),
            None => {}
        }
        if let Some(s) = self.severity {
            chip(format!("Severity: {}", format::severity(s).0), "severity", &s.to_string());
        }
        if let Some(t) = self.tlp {
            chip(format!("TLP: {}", format::tlp(t).0), "tlp", &t.to_string());
        }
        for t in &self.tags {
            chip(format!("Tag: {t}"), "tag", t);
        }
        if let Some(o) = &self.owner {
            chip(format!("Assignee: {o}"), "owner", o);
        }
        if !self.text.trim().is_empty() {
            chip(format!("Text: {}", self.text.trim()), "text", &self.text);
        }
        if let Some(d) = &self.from {
            chip(format!("From {d}"), "from", d);
        }
        if let Some(d) = &self.to {
            chip(format!("Until {d}"), "to", d);
        }
        if self.flagged {
            chip("Flagged".into(), "flagged", "true");
        }
        if let Some(q) = &self.q {
            chip(format!("Query: {}", shorten(q, 40)), "q", q);
        }
        out
    }

    /// The filter without a chip's condition (back to page 1). Removing the status shows every
    /// status.
    pub fn without(&self, chip: &Chip) -> Self {
        let mut f = self.clone();
        f.page = 0;
        match chip.key {
            "status" => f.status = None,
            "severity" => f.severity = None,
            "tlp" => f.tlp = None,
            "tag" => f.tags.retain(|t| *t != chip.value),
            "owner" => f.owner = None,
            "text" => f.text.clear(),
            "from" => f.from = None,
            "to" => f.to = None,
            "flagged" => f.flagged = false,
            "q" => f.q = None,
            _ => {}
        }
        f
    }

    /// The filter with the tags typed in the tag box (`a, b`) added, back to page 1.
    pub fn add_tags(&mut self, typed: &str) {
        for t in format::parse_tags(typed) {
            if !self.tags.contains(&t) {
                self.tags.push(t);
            }
        }
        self.page = 0;
    }

    /// Pages for `total` rows (at least one).
    pub fn page_count(total: u64) -> u64 {
        total.div_ceil(PAGE_SIZE).max(1)
    }
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { s.chars().take(n).collect::<String>() + "…" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::encode_component;

    #[test]
    fn default_view_is_open_cases_and_an_empty_url() {
        let f = CaseFilter::from_query("");
        assert_eq!(f, CaseFilter::default_view());
        assert_eq!(f.to_query(), "");
        assert_eq!(f.to_v0(), json!({"_field": "status", "_value": "Open"}));
        assert_eq!(f.chips().len(), 1);
    }

    #[test]
    fn url_round_trip() {
        let f = CaseFilter {
            status: Some("Resolved".into()),
            severity: Some(3),
            tlp: Some(2),
            tags: vec!["phishing".into(), "apt 28".into()],
            owner: Some("alice@soc".into()),
            text: "evil & co".into(),
            from: Some("2026-01-01".into()),
            to: Some("2026-01-31".into()),
            flagged: true,
            q: None,
            sort: "+title".into(),
            page: 2,
        };
        let qs = f.to_query();
        assert!(qs.contains("tag=apt%2028") && qs.contains("text=evil%20%26%20co"), "{qs}");
        assert_eq!(CaseFilter::from_query(&format!("?{qs}")), f);
        let any = CaseFilter { status: None, ..CaseFilter::default_view() };
        assert_eq!(any.to_query(), "status=any");
        assert_eq!(CaseFilter::from_query("status=any"), any);
    }

    #[test]
    fn bad_values_are_dropped() {
        let f = CaseFilter::from_query("severity=9&tlp=7&from=2026-13-01&page=x&tag=&bogus=1");
        assert_eq!(f, CaseFilter::default_view());
    }

    #[test]
    fn dashboard_queries_are_accepted() {
        let q = r#"{"_and":[{"_field":"status","_value":"Resolved"},{"_field":"severity","_value":4}]}"#;
        let f = CaseFilter::from_query(&format!("q={}", encode_component(q)));
        assert_eq!(f.status, None, "a dashboard query has no implicit status");
        assert_eq!(f.to_v0(), serde_json::from_str::<Value>(q).unwrap());
        assert_eq!(CaseFilter::from_query(&f.to_query()), f);
        assert_eq!(f.chips()[0].key, "q");
        let mut g = f.clone();
        g.severity = Some(1);
        assert_eq!(g.to_v0()["_and"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn v0_query() {
        let f = CaseFilter::from_query("tag=a&tag=b&owner=bob&text=%2342&from=2026-01-01");
        let v = f.to_v0();
        let and = v["_and"].as_array().unwrap();
        assert_eq!(and[0], json!({"_field": "status", "_value": "Open"}));
        assert_eq!(and[1], json!({"_field": "tags", "_value": "a"}));
        assert_eq!(and[3], json!({"_field": "owner", "_value": "bob"}));
        assert_eq!(and[4]["_or"][0], json!({"_field": "caseId", "_value": 42}));
        assert_eq!(and[5]["_between"]["_from"], json!(1_767_225_600_000i64));
        assert_eq!(and[5]["_between"]["_to"], Value::Null);
        let f = CaseFilter::from_query("status=any&text=phish");
        assert_eq!(f.to_v0(), json!({"_like": {"_field": "_all", "_value": "phish"}}));
    }

    #[test]
    fn sorting() {
        let f = CaseFilter::default_view();
        assert_eq!(f.sort_keys(), vec!["-createdAt"]);
        assert_eq!(f.sort_mark("createdAt"), " ▼");
        assert_eq!(f.sorted_by("createdAt"), "+createdAt");
        assert_eq!(f.sorted_by("severity"), "-severity");
        let f = CaseFilter { sort: "-severity".into(), ..f };
        assert_eq!(f.sort_keys(), vec!["-severity", "-createdAt"]);
        assert_eq!(f.sorted_by("severity"), "+severity");
        assert_eq!(f.sort_mark("severity"), " ▼");
        assert_eq!(f.sort_mark("title"), "");
    }

    #[test]
    fn chips_remove_their_condition() {
        let f = CaseFilter::from_query("tag=a&tag=b&severity=4&page=3");
        let chips = f.chips();
        let tag_b = chips.iter().find(|c| c.label == "Tag: b").unwrap();
        let g = f.without(tag_b);
        assert_eq!(g.tags, vec!["a"]);
        assert_eq!(g.page, 0);
        let sev = chips.iter().find(|c| c.key == "severity").unwrap();
        assert_eq!(sev.label, "Severity: Critical");
        let status = chips.iter().find(|c| c.key == "status").unwrap();
        assert_eq!(f.without(status).status, None);
    }

    #[test]
    fn typed_tags_are_added_once() {
        let mut f = CaseFilter::from_query("tag=a&page=2");
        f.add_tags("b, a ,c");
        assert_eq!(f.tags, vec!["a", "b", "c"]);
        assert_eq!(f.page, 0);
        assert_eq!(f.to_v0()["_and"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn until_is_the_end_of_the_day() {
        let f = CaseFilter::from_query("status=any&to=2026-01-31");
        assert_eq!(f.to_v0()["_between"]["_to"], json!(1_769_903_999_999i64));
    }

    #[test]
    fn paging() {
        assert_eq!(CaseFilter::page_count(0), 1);
        assert_eq!(CaseFilter::page_count(26), 2);
        assert_eq!(CaseFilter::from_query("page=2").range(), (50, 75));
    }
}
