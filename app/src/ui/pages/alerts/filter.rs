//! The alerts list's filters: read from and written to the URL (shareable, reload-safe), shown
//! as chips, and turned into a v0 query. Plain Rust, tested without a browser.

use serde_json::{Value, json};

use crate::date::{DAY_MS, day_start};
use crate::model::AlertStatus;
use crate::url::{query_pairs, query_string};

/// Rows per page.
pub const PAGE_SIZE: u64 = 25;

/// Sort orders offered by the list (v0 sort keys).
pub const SORTS: &[(&str, &str)] = &[("-date", "Newest first"), ("+date", "Oldest first"), ("-severity", "Severity"), ("+title", "Title")];

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertFilter {
    /// The status tab (none: every status).
    pub status: Option<AlertStatus>,
    pub kind: String,
    pub source: String,
    pub severity: Option<u8>,
    pub tags: Vec<String>,
    /// Dates as `YYYY-MM-DD` (inclusive).
    pub from: String,
    pub to: String,
    /// An observable value the alert holds.
    pub observable: String,
    /// Words of the title.
    pub text: String,
    /// A raw v0 query (`?q=<JSON>`), combined with the rest.
    pub q: Option<Value>,
    pub sort: String,
    pub page: u64,
}

impl AlertFilter {
    /// The filter a URL's query string describes (`?status=New&source=misp...`); what does not
    /// parse is ignored.
    pub fn from_query_string(qs: &str) -> AlertFilter {
        let mut f = AlertFilter { status: Some(AlertStatus::New), sort: "-date".into(), ..Default::default() };
        for (k, v) in query_pairs(qs) {
            match k {
                "status" => f.status = AlertStatus::parse(&v),
                "type" => f.kind = v,
                "source" => f.source = v,
                "severity" => f.severity = v.parse().ok().filter(|s| (1..=4).contains(s)),
                "tag" => {
                    if !v.trim().is_empty() {
                        f.tags.push(v)
                    }
                }
                "from" => f.from = v,
                "to" => f.to = v,
                "observable" => f.observable = v,
                "text" => f.text = v,
                "q" => f.q = serde_json::from_str(&v).ok(),
                "sort" if SORTS.iter().any(|(s, _)| *s == v) => f.sort = v,
                "page" => f.page = v.parse().unwrap_or(0),
                _ => {}
            }
        }
        f
    }

    /// The query string of this filter (`status=all` keeps "every status" apart from the
    /// default, New).
    pub fn to_query_string(&self) -> String {
        let mut p: Vec<(&str, String)> = Vec::new();
        p.push(("status", self.status.map(|s| s.as_str().to_string()).unwrap_or_else(|| "all".into())));
        for (k, v) in [("type", &self.kind), ("source", &self.source), ("from", &self.from), ("to", &self.to), ("observable", &self.observable), ("text", &self.text)] {
            if !v.trim().is_empty() {
                p.push((k, v.clone()));
            }
        }
        if let Some(s) = self.severity {
            p.push(("severity", s.to_string()));
        }
        for t in &self.tags {
            p.push(("tag", t.clone()));
        }
        if let Some(q) = &self.q {
            p.push(("q", q.to_string()));
        }
        if self.sort != "-date" && !self.sort.is_empty() {
            p.push(("sort", self.sort.clone()));
        }
        if self.page > 0 {
            p.push(("page", self.page.to_string()));
        }
        query_string(p)
    }

    /// The v0 query of this filter.
    pub fn query(&self) -> Value {
        let mut all: Vec<Value> = Vec::new();
        if let Some(s) = self.status {
            all.push(json!({ "status": s.as_str() }));
        }
        if !self.kind.trim().is_empty() {
            all.push(json!({ "type": self.kind.trim() }));
        }
        if !self.source.trim().is_empty() {
            all.push(json!({ "source": self.source.trim() }));
        }
        if let Some(s) = self.severity {
            all.push(json!({ "severity": s }));
        }
        for t in &self.tags {
            all.push(json!({ "tags": t }));
        }
        if let Some(from) = day_start(&self.from) {
            all.push(json!({ "_gte": { "date": from } }));
        }
        if let Some(to) = day_start(&self.to) {
            all.push(json!({ "_lt": { "date": to + DAY_MS } }));
        }
        if !self.observable.trim().is_empty() {
            all.push(json!({ "observables.data": self.observable.trim() }));
        }
        if !self.text.trim().is_empty() {
            all.push(json!({ "_like": { "_field": "title", "_value": self.text.trim() } }));
        }
        if let Some(q) = &self.q {
            all.push(q.clone());
        }
        match all.len() {
            0 => json!({}),
            1 => all.remove(0),
            _ => json!({ "_and": all }),
        }
    }

    /// The filters set, as removable chips: (key, label).
    pub fn chips(&self) -> Vec<(String, String)> {
        let mut c = Vec::new();
        for (k, label, v) in [("type", "type", &self.kind), ("source", "source", &self.source), ("observable", "observable", &self.observable), ("text", "title", &self.text), ("from", "from", &self.from), ("to", "to", &self.to)] {
            if !v.trim().is_empty() {
                c.push((k.to_string(), format!("{label}: {v}")));
            }
        }
        if let Some(s) = self.severity {
            c.push(("severity".into(), format!("severity: {}", crate::ui::format::severity(s).0)));
        }
        for t in &self.tags {
            c.push((format!("tag:{t}"), format!("tag: {t}")));
        }
        if self.q.is_some() {
            c.push(("q".into(), "query".into()));
        }
        c
    }

    /// This filter without the chip `key` (back to the first page).
    pub fn without(&self, key: &str) -> AlertFilter {
        let mut f = self.clone();
        match key {
            "type" => f.kind.clear(),
            "source" => f.source.clear(),
            "observable" => f.observable.clear(),
            "text" => f.text.clear(),
            "from" => f.from.clear(),
            "to" => f.to.clear(),
            "severity" => f.severity = None,
            "q" => f.q = None,
            k => {
                if let Some(t) = k.strip_prefix("tag:") {
                    f.tags.retain(|x| x != t);
                }
            }
        }
        f.page = 0;
        f
    }
}

/// The selection after a click on row `i` of `ids`: a plain click toggles it, a shift-click
/// selects the range from the last clicked row.
pub fn select(selected: &[String], ids: &[String], i: usize, last: Option<usize>, shift: bool) -> Vec<String> {
    let mut out: Vec<String> = selected.to_vec();
    match (shift, last) {
        (true, Some(l)) => {
            let (a, b) = if l <= i { (l, i) } else { (i, l) };
            for id in ids.iter().take(b + 1).skip(a) {
                if !out.contains(id) {
                    out.push(id.clone());
                }
            }
        }
        _ => {
            if let Some(id) = ids.get(i) {
                if let Some(pos) = out.iter().position(|x| x == id) {
                    out.remove(pos);
                } else {
                    out.push(id.clone());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::encode_component;

    #[test]
    fn url_round_trip_and_default() {
        let f = AlertFilter::from_query_string("");
        assert_eq!(f.status, Some(AlertStatus::New));
        assert_eq!(f.query(), json!({"status": "New"}));
        let f = AlertFilter::from_query_string("?status=all&source=misp&tag=a%20b&tag=c&severity=3&observable=1.2.3.4&sort=%2Bdate&page=2&from=2024-01-31");
        assert_eq!(f.status, None);
        assert_eq!(f.tags, vec!["a b", "c"]);
        assert_eq!(f.sort, "+date");
        assert_eq!(f.page, 2);
        assert_eq!(AlertFilter::from_query_string(&f.to_query_string()), f);
        let q = f.query();
        let all = q["_and"].as_array().unwrap();
        assert!(all.contains(&json!({"source": "misp"})));
        assert!(all.contains(&json!({"severity": 3})));
        assert!(all.contains(&json!({"observables.data": "1.2.3.4"})));
        assert!(all.contains(&json!({"_gte": {"date": 1_706_659_200_000i64}})));
        // Junk is ignored.
        let f = AlertFilter::from_query_string("severity=9&status=Nope&sort=drop&q=not-json");
        assert_eq!((f.severity, f.status, f.sort.as_str(), f.q), (None, None, "-date", None));
    }

    #[test]
    fn raw_query_and_chips() {
        let f = AlertFilter::from_query_string(&format!("status=Updated&q={}", encode_component(r#"{"_gt":{"severity":2}}"#)));
        assert_eq!(f.query(), json!({"_and": [{"status": "Updated"}, {"_gt": {"severity": 2}}]}));
        let f = AlertFilter::from_query_string("status=all&source=misp&tag=x&page=3");
        let chips = f.chips();
        assert_eq!(chips.len(), 2);
        let g = f.without("tag:x");
        assert!(g.tags.is_empty());
        assert_eq!(g.page, 0);
        assert_eq!(g.without("source").query(), json!({}));
    }

    #[test]
    fn selection() {
        let ids: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let s = select(&[], &ids, 1, None, false);
        assert_eq!(s, vec!["b"]);
        let s = select(&s, &ids, 3, Some(1), true);
        assert_eq!(s, vec!["b", "c", "d"]);
        let s = select(&s, &ids, 2, Some(3), false);
        assert_eq!(s, vec!["b", "d"]);
    }
}
