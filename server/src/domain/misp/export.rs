//! Cases out: a case's IOC observables as one MISP event, the same event updated at every
//! export (unlike TheHive 3, add-only, and TheHive 4, a new event each time).
//!
//! The case remembers, per server (`misp_export`), the event, the attributes Waggle put in it
//! (observable, type, value, MISP id) and the tags it set: a new export adds what is missing,
//! deletes what Waggle added and the case no longer has as an IOC, and attaches or removes its
//! own tags; what others added in MISP is left alone.

use std::collections::{HashMap, HashSet};

use app::model::{Case, MispExport, MispExportRequest, MispExportResult, Observable, ObservableStatus, Permission};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::client::b64;
use super::event::{self, num, text};
use super::Misp;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::store::now_millis;
use crate::domain::case;
use crate::vars;

/// One attribute Waggle put in an event.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sent {
    observable: String,
    #[serde(rename = "type")]
    kind: String,
    value: String,
    id: String,
}

/// A case's export record, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    case: String,
    server: String,
    event_id: String,
    event_uuid: String,
    exported_at: i64,
    #[serde(default)]
    attributes: Vec<Sent>,
    #[serde(default)]
    tags: Vec<String>,
}

impl Record {
    fn view(&self) -> MispExport {
        MispExport {
            case_id: self.case.clone(),
            server: self.server.clone(),
            event_id: self.event_id.clone(),
            event_uuid: self.event_uuid.clone(),
            exported_at: self.exported_at,
            attributes: self.attributes.len(),
            tags: self.tags.clone(),
        }
    }
}

/// An attribute the case wants in the event.
struct Wanted<'a> {
    observable: &'a Observable,
    category: &'static str,
    kind: &'static str,
    value: String,
}

async fn records(state: &AppState, caller: &Caller, case_id: &str) -> Result<Vec<Record>> {
    let mut r = caller.store(state).query("SELECT * OMIT id, org FROM misp_export WHERE org = $org AND case = $case", vars! { "case" => case_id }).await?;
    r.rows(0)
}

/// The MISP events a case was exported to (anyone who may read the case).
pub async fn exports_of(state: &AppState, caller: &Caller, case_id: &str) -> Result<Vec<MispExport>> {
    let case = case::get(state, caller, case_id).await?;
    Ok(records(state, caller, &case.id).await?.iter().map(Record::view).collect())
}

/// The threat level of a case's severity (TheHive 3: `min(4, max(1, 4 - severity))`).
fn threat_level(severity: u8) -> i64 {
    (4 - severity as i64).clamp(1, 4)
}

fn event_body(case: &Case, distribution: u8) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("info".into(), json!(case.title));
    m.insert("date".into(), json!(event::day(case.start_date)));
    m.insert("threat_level_id".into(), json!(threat_level(case.severity).to_string()));
    m.insert("analysis".into(), json!("0"));
    m.insert("distribution".into(), json!(distribution.to_string()));
    m
}

/// An attribute as sent: it inherits the event's distribution and TLP tag.
fn attribute_body(w: &Wanted<'_>) -> Value {
    json!({
        "type": w.kind,
        "category": w.category,
        "value": w.value,
        "to_ids": true,
        "comment": w.observable.message.clone().unwrap_or_default(),
        "distribution": "5",
    })
}

/// Export the case's IOC observables to `server`: a new event the first time, the same event
/// updated after.
pub async fn export(state: &AppState, caller: &Caller, case_id: &str, server: &str, req: MispExportRequest) -> Result<MispExportResult> {
    caller.require(Permission::ManageCase, "export cases to MISP")?;
    let case = case::get(state, caller, case_id).await?;
    let store = caller.store(state);
    let c = state.service::<Misp>().get(server).ok_or_else(|| Error::not_found("MISP connection", server))?;
    if c.url.is_none() || !c.purpose.exports() {
        return Err(Error::BadRequest(format!("Export on MISP connection {server} is denied by configuration")));
    }
    if let Some(t) = req.tlp.filter(|t| *t > 3) {
        return Err(Error::BadRequest(format!("tlp {t} is not 0 to 3")));
    }
    let distribution = req.distribution.unwrap_or(0);
    if distribution > 3 {
        return Err(Error::BadRequest(format!("distribution {distribution} is not 0 to 3 (sharing groups are not supported)")));
    }
    let client = state.service::<Misp>().client(&c)?;
    let observables: Vec<Observable> = case::observable::list_for_case(state, caller, &case.id).await?.into_iter().filter(|o| o.ioc && o.status == ObservableStatus::Ok).collect();
    let mut seen = HashSet::new();
    let wanted: Vec<Wanted<'_>> = observables
        .iter()
        .filter_map(|o| event::to_attribute(o).map(|(category, kind, value)| Wanted { observable: o, category, kind, value }))
        .filter(|w| seen.insert((w.kind, w.value.clone())))
        .collect();
    let tlp = event::tlp_tag(req.tlp.unwrap_or(case.tlp));
    let mut tags: Vec<String> = vec![tlp.to_string()];
    for t in req.tags.iter().chain(if req.case_tags { case.tags.iter() } else { [].iter() }) {
        let t = t.trim();
        if !t.is_empty() && !tags.iter().any(|x| x == t) {
            tags.push(t.to_string());
        }
    }

    let previous = records(state, caller, &case.id).await?.into_iter().find(|r| r.server == server);
    // The event exported before, unless it was deleted in MISP meanwhile.
    let current = match &previous {
        Some(r) => match client.get(&format!("events/view/{}", r.event_id)).await {
            Ok(v) => event::unwrap_event(v),
            Err(Error::BadRequest(m)) if m.contains("HTTP 404") || m.contains("HTTP 403") => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    let mut result = MispExportResult { server: server.into(), ..Default::default() };
    let mut sent: Vec<Sent> = Vec::new();
    let (event_id, event_uuid) = match current {
        None => {
            let mut body = event_body(&case, distribution);
            body.insert("published".into(), json!(false));
            body.insert("Attribute".into(), Value::Array(wanted.iter().filter(|w| w.kind != "malware-sample").map(|w| attribute_body(w)).collect()));
            body.insert("Tag".into(), Value::Array(tags.iter().map(|t| json!({ "name": t })).collect()));
            let created = client.post("events/add", &Value::Object(body)).await?;
            let ev = event::unwrap_event(created).ok_or_else(|| Error::BadRequest(format!("MISP {server}: events/add: the answer is not an event")))?;
            let id = num(ev.get("id")).map(|n| n.to_string()).ok_or_else(|| Error::BadRequest(format!("MISP {server}: events/add: no event id")))?;
            let uuid = text(&ev, "uuid").to_string();
            let made: HashMap<(String, String), String> = event::attributes(&ev).iter().map(|a| ((text(a, "type").to_string(), text(a, "value").to_string()), num(a.get("id")).map(|n| n.to_string()).unwrap_or_default())).collect();
            for w in wanted.iter().filter(|w| w.kind != "malware-sample") {
                match made.get(&(w.kind.to_string(), w.value.clone())) {
                    Some(aid) => {
                        result.added += 1;
                        sent.push(Sent { observable: w.observable.id.clone(), kind: w.kind.into(), value: w.value.clone(), id: aid.clone() });
                    }
                    // MISP drops invalid attributes silently.
                    None => result.failures.push(format!("{} {}: refused by MISP", w.kind, w.value)),
                }
            }
            result.created = true;
            result.tags_added = tags.len();
            (id, uuid)
        }
        Some(ev) => {
            let id = num(ev.get("id")).map(|n| n.to_string()).unwrap_or_else(|| previous.as_ref().map(|p| p.event_id.clone()).unwrap_or_default());
            let uuid = text(&ev, "uuid").to_string();
            let prev = previous.as_ref().expect("an event was found from a record");
            // The event's own fields follow the case.
            client.put(&format!("events/edit/{id}"), &Value::Object(event_body(&case, distribution))).await?;
            let present: HashMap<(String, String), String> = event::attributes(&ev).iter().map(|a| ((text(a, "type").to_string(), text(a, "value").to_string()), num(a.get("id")).map(|n| n.to_string()).unwrap_or_default())).collect();
            for w in wanted.iter().filter(|w| w.kind != "malware-sample") {
                if let Some(aid) = present.get(&(w.kind.to_string(), w.value.clone())) {
                    result.unchanged += 1;
                    sent.push(Sent { observable: w.observable.id.clone(), kind: w.kind.into(), value: w.value.clone(), id: aid.clone() });
                    continue;
                }
                match client.post(&format!("attributes/add/{id}"), &attribute_body(w)).await {
                    Ok(v) => {
                        let aid = v.get("Attribute").and_then(|a| num(a.get("id"))).map(|n| n.to_string()).unwrap_or_default();
                        result.added += 1;
                        sent.push(Sent { observable: w.observable.id.clone(), kind: w.kind.into(), value: w.value.clone(), id: aid });
                    }
                    Err(e) => result.failures.push(format!("{} {}: {e}", w.kind, w.value)),
                }
            }
            // What Waggle added before and the case no longer has as an IOC.
            let keep: HashSet<(&str, &str)> = wanted.iter().map(|w| (w.kind, w.value.as_str())).collect();
            for old in &prev.attributes {
                if keep.contains(&(old.kind.as_str(), old.value.as_str())) || !present.contains_key(&(old.kind.clone(), old.value.clone())) {
                    continue;
                }
                match client.delete(&format!("attributes/delete/{}", old.id)).await {
                    Ok(_) => result.removed += 1,
                    Err(e) => {
                        result.failures.push(format!("removing {} {}: {e}", old.kind, old.value));
                        sent.push(old.clone());
                    }
                }
            }
            // Tags: Waggle's own, kept in sync; others' left alone.
            let on_event: HashSet<String> = event::event_tags(&ev).into_iter().collect();
            for t in tags.iter().filter(|t| !on_event.contains(*t)) {
                match client.post("tags/attachTagToObject", &json!({ "uuid": uuid, "tag": t, "local": false })).await {
                    Ok(_) => result.tags_added += 1,
                    Err(e) => result.failures.push(format!("tag {t}: {e}")),
                }
            }
            for t in prev.tags.iter().filter(|t| !tags.contains(t) && on_event.contains(*t)) {
                match client.post("tags/removeTagFromObject", &json!({ "uuid": uuid, "tag": t })).await {
                    Ok(_) => result.tags_removed += 1,
                    Err(e) => result.failures.push(format!("untag {t}: {e}")),
                }
            }
            (id, uuid)
        }
    };
    // Files: as malware samples, once each. What was sent before counts only when it went to
    // this same event (a new event, even one replacing a deleted one, gets every file).
    let sent_before: &[Sent] = match (&previous, result.created) {
        (Some(p), false) => &p.attributes,
        _ => &[],
    };
    for w in wanted.iter().filter(|w| w.kind == "malware-sample") {
        if let Some(old) = sent_before.iter().find(|s| s.kind == "malware-sample" && s.value == w.value) {
            result.unchanged += 1;
            sent.push(old.clone());
            continue;
        }
        let Some(att) = &w.observable.attachment else { continue };
        let bytes = match crate::core::attachment::open(state, caller, &att.id).await {
            Ok((_, path)) => tokio::fs::read(path).await.map_err(|e| Error::Internal(anyhow::anyhow!("{e}"))),
            Err(e) => Err(e),
        };
        let body = match bytes {
            Ok(b) => json!({ "request": { "category": "Payload delivery", "type": "malware-sample", "comment": w.observable.message.clone().unwrap_or_default(), "to_ids": true, "files": [{ "filename": att.name, "data": b64(&b) }] } }),
            Err(e) => {
                result.failures.push(format!("file {}: {e}", att.name));
                continue;
            }
        };
        match client.post(&format!("events/upload_sample/{event_id}"), &body).await {
            Ok(_) => {
                result.added += 1;
                sent.push(Sent { observable: w.observable.id.clone(), kind: w.kind.into(), value: w.value.clone(), id: String::new() });
            }
            Err(e) => result.failures.push(format!("file {}: {e}", att.name)),
        }
    }
    let record = Record { case: case.id.clone(), server: server.into(), event_id: event_id.clone(), event_uuid: event_uuid.clone(), exported_at: now_millis(), attributes: sent, tags };
    store
        .query(
            "UPSERT type::record('misp_export', [$org, $case, $server]) CONTENT object::extend($doc, { org: $org })",
            vars! { "case" => case.id, "server" => server, "doc" => record },
        )
        .await?;
    result.event_id = event_id;
    result.event_uuid = event_uuid;
    tracing::info!(case = %case.id, misp = %server, event = %result.event_id, added = result.added, removed = result.removed, "case exported to MISP");
    Ok(result)
}
