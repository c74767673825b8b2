//! MISP events and attributes in Waggle's terms, both ways (pure functions, no I/O).
//!
//! In: an event becomes an alert as TheHive 3 made it (type `misp`, source = connection name,
//! sourceRef = event id, or uuid for a feed event, which has no id; title `#<id> <info>`;
//! severity `4 - threat_level_id`; TLP from the event's `tlp:*` tag) and its attributes (object
//! attributes included, deleted ones not) become observables with TheHive 3's type mapping,
//! composite types split. Out: an IOC observable becomes an attribute by TheHive 3's mapping.

use app::model::{NewAlert, NewAlertObservable, Observable};
use serde_json::Value;

/// A number MISP wrote as a string or as a number.
pub fn num(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The event object of a MISP answer: `{"Event":{…}}`, `{"response":[{"Event":…}]}`, a
/// one-element list, or the bare event.
pub fn unwrap_event(v: Value) -> Option<Value> {
    match v {
        Value::Array(mut a) if a.len() == 1 => unwrap_event(a.remove(0)),
        Value::Object(mut m) => {
            if let Some(e) = m.remove("Event") {
                return Some(e);
            }
            if let Some(r) = m.remove("response") {
                return unwrap_event(r);
            }
            m.contains_key("info").then_some(Value::Object(m))
        }
        _ => None,
    }
}

/// The names of an event's tags: `Tag[].name` (event view, feed) or `EventTag[].Tag.name`
/// (event index).
pub fn event_tags(event: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(list) = event.get("Tag").and_then(Value::as_array) {
        out.extend(list.iter().filter_map(|t| t.get("name").and_then(Value::as_str)).map(str::to_string));
    }
    if let Some(list) = event.get("EventTag").and_then(Value::as_array) {
        out.extend(list.iter().filter_map(|t| t.pointer("/Tag/name").and_then(Value::as_str)).map(str::to_string));
    }
    out.dedup();
    out
}

/// The TLP a set of tags gives (`tlp:white`/`clear` 0, `green` 1, `amber`/`amber+strict` 2,
/// `red` 3; case-insensitive, the first TLP tag wins).
pub fn tlp_of(tags: &[String]) -> Option<u8> {
    tags.iter().find_map(|t| match t.to_ascii_lowercase().as_str() {
        "tlp:white" | "tlp:clear" => Some(0),
        "tlp:green" => Some(1),
        "tlp:amber" | "tlp:amber+strict" => Some(2),
        "tlp:red" => Some(3),
        _ => None,
    })
}

/// The PAP a set of tags gives (`PAP:CLEAR`/`WHITE` 0 ... `PAP:RED` 3).
pub fn pap_of(tags: &[String]) -> Option<u8> {
    tags.iter().find_map(|t| match t.to_ascii_lowercase().as_str() {
        "pap:white" | "pap:clear" => Some(0),
        "pap:green" => Some(1),
        "pap:amber" => Some(2),
        "pap:red" => Some(3),
        _ => None,
    })
}

/// The TLP tag written to MISP for a TLP level (TheHive 3's `tlpWrites`).
pub fn tlp_tag(tlp: u8) -> &'static str {
    match tlp {
        0 => "tlp:white",
        1 => "tlp:green",
        3 => "tlp:red",
        _ => "tlp:amber",
    }
}

fn is_tlp_or_pap(tag: &str) -> bool {
    let t = tag.to_ascii_lowercase();
    t.starts_with("tlp:") || t.starts_with("pap:")
}

/// TheHive 3's data type of a MISP attribute type (`attribute2artifactLookup`); anything else
/// is `other`.
pub fn data_type(misp_type: &str) -> &'static str {
    match misp_type {
        "md5" | "sha1" | "sha256" | "sha224" | "sha384" | "sha512" | "sha512/224" | "sha512/256" | "ssdeep" | "imphash" | "pehash" | "impfuzzy" => "hash",
        "filename" => "filename",
        "ip-src" | "ip-dst" => "ip",
        "hostname" | "target-machine" => "fqdn",
        "domain" => "domain",
        "email-src" | "email-dst" | "target-email" | "whois-registrant-email" => "mail",
        "email-subject" => "mail_subject",
        "url" => "url",
        "uri" => "uri_path",
        "user-agent" => "user-agent",
        "regkey" | "regkey|value" => "registry",
        "attachment" | "malware-sample" => "file",
        _ => "other",
    }
}

/// A file attribute to fetch (server: `attributes/download/{id}`) or decode (feed: `data`).
#[derive(Debug, Clone)]
pub struct FileAttribute {
    /// Index of its observable in the alert's list.
    pub index: usize,
    pub attribute_id: Option<String>,
    pub name: String,
    pub misp_type: String,
    /// Base64 content given inline (feeds, `withAttachments`).
    pub data: Option<String>,
}

/// What the connection adds to every alert it makes.
pub struct Source<'a> {
    /// The connection's name (the alerts' `source`).
    pub name: &'a str,
    /// Tags added to every observable.
    pub tags: &'a [String],
    pub case_template: Option<&'a str>,
    /// The server's URL (alerts link to the event), none for a feed.
    pub url: Option<&'a str>,
}

/// Every attribute of an event: its own and its objects', without deleted ones.
pub fn attributes(event: &Value) -> Vec<&Value> {
    let mut out: Vec<&Value> = event.get("Attribute").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
    for o in event.get("Object").and_then(Value::as_array).into_iter().flatten() {
        if o.get("deleted").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        out.extend(o.get("Attribute").and_then(Value::as_array).into_iter().flatten());
    }
    out.retain(|a| a.get("deleted").and_then(Value::as_bool) != Some(true));
    out
}

fn attr_tags(a: &Value) -> Vec<String> {
    a.get("Tag").and_then(Value::as_array).map(|l| l.iter().filter_map(|t| t.get("name").and_then(Value::as_str)).map(str::to_string).collect()).unwrap_or_default()
}

/// The alert an event becomes, and its file attributes (their observables' `data` filled in
/// later). `source_ref` is the event's id (server) or uuid (feed); `sync_date` the moment the
/// alert reflects (unix seconds: publish timestamp, or the feed manifest's timestamp).
pub fn to_alert(event: &Value, source_ref: &str, sync_date: i64, src: &Source<'_>) -> (NewAlert, Vec<FileAttribute>) {
    let tags = event_tags(event);
    let tlp = tlp_of(&tags).unwrap_or(2);
    let pap = pap_of(&tags);
    let org = event.pointer("/Orgc/name").and_then(Value::as_str).unwrap_or("unknown");
    let mut alert_tags = vec![format!("src:{org}")];
    alert_tags.extend(tags.iter().filter(|t| !is_tlp_or_pap(t)).cloned());
    let info = text(event, "info").trim();
    let created = num(event.get("timestamp")).unwrap_or(sync_date);
    let date = time::OffsetDateTime::from_unix_timestamp(created).ok().and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok()).unwrap_or_default();
    let (title, description) = match num(event.get("id")) {
        Some(id) => (format!("#{id} {info}"), format!("Imported from MISP Event #{id}, created at {date}")),
        None => (info.to_string(), format!("Imported from MISP feed {}, event {source_ref}, created at {date}", src.name)),
    };
    let severity = match num(event.get("threat_level_id")) {
        Some(t @ 1..=3) => (4 - t) as u8,
        _ => 2,
    };
    let mut observables: Vec<NewAlertObservable> = Vec::new();
    let mut files: Vec<FileAttribute> = Vec::new();
    for a in attributes(event) {
        let kind = text(a, "type");
        let value = text(a, "value");
        let comment = text(a, "comment");
        let mut tags = vec![format!("MISP:type={kind}"), format!("MISP:category={}", text(a, "category")), format!("src:{}", src.name)];
        tags.extend(src.tags.iter().cloned());
        let own_tags = attr_tags(a);
        tags.extend(own_tags.iter().filter(|t| !is_tlp_or_pap(t)).cloned());
        let base = NewAlertObservable {
            data_type: String::new(),
            data: None,
            message: (!comment.is_empty()).then(|| comment.to_string()),
            tlp: Some(tlp_of(&own_tags).unwrap_or(tlp)),
            tags: Some(tags),
            ioc: Some(a.get("to_ids").and_then(Value::as_bool).unwrap_or(false)),
            sighted: None,
            ignore_similarity: None,
            start_date: num(a.get("timestamp")).map(|t| t * 1000),
        };
        if matches!(kind, "attachment" | "malware-sample") {
            let name = value.split('|').next().unwrap_or(value).to_string();
            files.push(FileAttribute {
                index: observables.len(),
                attribute_id: a.get("id").and_then(|v| num(Some(v)).map(|n| n.to_string()).or_else(|| v.as_str().map(str::to_string))),
                name,
                misp_type: kind.to_string(),
                data: a.get("data").and_then(Value::as_str).map(str::to_string),
            });
            observables.push(NewAlertObservable { data_type: "file".into(), ..base });
        } else if kind.contains('|') {
            let types: Vec<&str> = kind.split('|').collect();
            let values: Vec<&str> = value.split('|').collect();
            let n = types.len().max(values.len());
            let mut message = comment.to_string();
            for i in 0..n {
                message.push_str(&format!("\n{}: {}", types.get(i).unwrap_or(&"noType"), values.get(i).unwrap_or(&"noValue")));
            }
            for i in 0..n {
                let (Some(t), Some(v)) = (types.get(i), values.get(i)) else { continue };
                if v.trim().is_empty() {
                    continue;
                }
                observables.push(NewAlertObservable {
                    data_type: data_type(t).into(),
                    data: Some(v.to_string()),
                    message: Some(message.trim().to_string()),
                    ..base.clone()
                });
            }
        } else if !value.trim().is_empty() {
            observables.push(NewAlertObservable { data_type: data_type(kind).into(), data: Some(value.to_string()), ..base });
        }
    }
    // The same value twice (two attributes, or composite parts): the first is kept.
    let mut seen = std::collections::HashSet::new();
    let mut keep = Vec::with_capacity(observables.len());
    for (i, o) in observables.iter().enumerate() {
        let key = match files.iter().find(|f| f.index == i) {
            Some(f) => (o.data_type.clone(), format!("file:{}", f.name)),
            None => (o.data_type.clone(), o.data.clone().unwrap_or_default()),
        };
        keep.push(seen.insert(key));
    }
    let mut index_map = Vec::with_capacity(observables.len());
    let mut kept = Vec::new();
    for (i, o) in observables.into_iter().enumerate() {
        index_map.push(kept.len());
        if keep[i] {
            kept.push(o);
        }
    }
    let files = files.into_iter().filter(|f| keep[f.index]).map(|f| FileAttribute { index: index_map[f.index], ..f }).collect();
    let alert = NewAlert {
        kind: "misp".into(),
        source: src.name.into(),
        source_ref: source_ref.into(),
        title: if title.trim().is_empty() { format!("MISP event {source_ref}") } else { title },
        description: Some(description),
        date: Some(created * 1000),
        severity: Some(severity),
        tlp: Some(tlp),
        pap,
        tags: Some(alert_tags),
        follow: Some(true),
        case_template: src.case_template.map(str::to_string),
        external_link: src.url.and_then(|u| num(event.get("id")).map(|id| format!("{}/events/view/{id}", u.trim_end_matches('/')))),
        last_sync_date: Some(sync_date * 1000),
        custom_fields: None,
        observables: kept,
    };
    (alert, files)
}

/// A day as MISP writes event dates (`YYYY-MM-DD`), from milliseconds.
pub fn day(millis: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000))
        .map(|d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
        .unwrap_or_else(|_| "1970-01-01".into())
}

/// Whether a connection's tag and organisation filters keep an event (tags compared exactly,
/// against `src:<org>` and the event's tags).
pub fn keeps(event: &Value, include: &[String], exclude: &[String], exclude_orgs: &[String]) -> bool {
    let org = event.pointer("/Orgc/name").and_then(Value::as_str).unwrap_or("");
    if exclude_orgs.iter().any(|o| o == org) {
        return false;
    }
    let mut tags = event_tags(event);
    tags.push(format!("src:{org}"));
    if exclude.iter().any(|t| tags.contains(t)) {
        return false;
    }
    include.is_empty() || include.iter().any(|t| tags.contains(t))
}

/// The attribute an observable becomes in MISP: `(category, type, value)`; files are
/// `malware-sample` with the file name as value.
pub fn to_attribute(o: &Observable) -> Option<(&'static str, &'static str, String)> {
    let value = o.display_value().to_string();
    if value.is_empty() {
        return None;
    }
    let (cat, kind) = match o.data_type.as_str() {
        "fqdn" => ("Network activity", "hostname"),
        "url" => ("Network activity", "url"),
        "user-agent" => ("Network activity", "user-agent"),
        "domain" => ("Network activity", "domain"),
        "ip" => ("Network activity", "ip-src"),
        "uri_path" => ("Network activity", "uri"),
        "filename" => ("Payload delivery", "filename"),
        "mail" => ("Payload delivery", "email-src"),
        "mail_subject" => ("Payload delivery", "email-subject"),
        "file" => ("Payload delivery", "malware-sample"),
        "hash" => (
            "Payload delivery",
            match value.len() {
                32 => "md5",
                40 => "sha1",
                56 => "sha224",
                64 => "sha256",
                96 => "sha384",
                128 => "sha512",
                _ => "other",
            },
        ),
        "registry" => ("Persistence mechanism", "regkey"),
        "autonomous-system" => ("Network activity", "AS"),
        _ => ("Other", "other"),
    };
    let cat = if kind == "other" { "Other" } else { cat };
    Some((cat, kind, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> Value {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/misp").join(path);
        serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
    }

    const SRC: Source<'static> = Source { name: "circl", tags: &[], case_template: None, url: Some("https://misp.example") };

    #[test]
    fn server_event_becomes_an_alert_as_thehive_3_made_it() {
        let ev = unwrap_event(fixture("events/event.json")).unwrap();
        let (a, files) = to_alert(&ev, "750", 1418217625, &SRC);
        assert_eq!((a.kind.as_str(), a.source.as_str(), a.source_ref.as_str()), ("misp", "circl", "750"));
        assert_eq!(a.title, "#750 OSINT - F-Secure W32/Regin, Stage #1");
        assert_eq!(a.severity, Some(3), "threat level 1 (High) is severity 3");
        assert_eq!(a.tlp, Some(2), "no TLP tag: amber");
        assert!(a.tags.as_ref().unwrap().contains(&"src:CIRCL".to_string()));
        assert!(a.tags.as_ref().unwrap().contains(&"Type:OSINT".to_string()));
        assert_eq!(a.external_link.as_deref(), Some("https://misp.example/events/view/750"));
        assert!(files.is_empty());
        let types: std::collections::HashSet<&str> = a.observables.iter().map(|o| o.data_type.as_str()).collect();
        assert!(types.contains("filename") && types.contains("hash") && types.contains("registry"), "{types:?}");
        assert!(a.observables.iter().all(|o| o.tags.as_ref().unwrap().iter().any(|t| t.starts_with("MISP:type="))));
    }

    #[test]
    fn feed_event_splits_composite_types_and_reads_tlp() {
        let ev = unwrap_event(fixture("feed/57c4445b-c548-4654-af0b-4be3950d210f.json")).unwrap();
        let (a, _) = to_alert(&ev, "57c4445b-c548-4654-af0b-4be3950d210f", 1, &Source { url: None, ..SRC });
        assert_eq!(a.tlp, Some(0), "tlp:white");
        assert!(!a.title.starts_with('#'));
        let reg: Vec<_> = a.observables.iter().filter(|o| o.data_type == "registry").collect();
        assert!(!reg.is_empty(), "regkey|value splits into registry + other");
        assert!(reg[0].message.as_deref().unwrap_or("").contains("regkey:"));
        let ev = unwrap_event(fixture("feed/5a0d5bf4-99c8-4f15-9879-22b1950d210f.json")).unwrap();
        let (a, files) = to_alert(&ev, "x", 1, &Source { url: None, ..SRC });
        assert_eq!(files.len(), 1, "the PDF attachment");
        assert!(files[0].data.is_some());
        assert_eq!(a.observables[files[0].index].data_type, "file");
        assert!(a.observables.iter().any(|o| o.data_type == "ip"), "ip-dst|port gives an ip");
    }

    #[test]
    fn filters_and_mapping_out() {
        let ev = unwrap_event(fixture("events/event.json")).unwrap();
        assert!(keeps(&ev, &[], &[], &[]));
        assert!(!keeps(&ev, &[], &["Type:OSINT".into()], &[]));
        assert!(!keeps(&ev, &["tlp:red".into()], &[], &[]));
        assert!(keeps(&ev, &["src:CIRCL".into()], &[], &[]));
        assert!(!keeps(&ev, &[], &[], &["CIRCL".into()]));
        assert_eq!(tlp_of(&["TLP:GREEN".into()]), Some(1));
        assert_eq!(tlp_tag(3), "tlp:red");
    }
}
