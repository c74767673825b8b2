//! Events in: a MISP server polled for the events published since its last poll, or a feed
//! directory read for the manifest entries newer than their alerts; each event synchronised to
//! its alert, and a followed case made from that alert given the new observables.

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use app::model::{MispSyncReport, NewAlert, NewTask};
use base64::Engine;
use serde_json::{Value, json};

use super::client::Client;
use super::event::{self, FileAttribute, Source, num};
use super::{Misp, org_caller};
use crate::config::MispConfig;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::store::now_millis;
use crate::domain::alert::{self, Synced};
use crate::domain::case;
use crate::vars;

/// The type alerts of MISP events have.
pub const ALERT_TYPE: &str = "misp";
/// The task of a case that receives the synchronisation's log entries.
pub const TASK_TITLE: &str = "MISP";
/// Password of MISP's malware-sample archives.
const SAMPLE_PASSWORD: &[u8] = b"infected";

/// Synchronise one connection now; what it did (errors included) is also kept for the admin
/// page. A `scheduled` poll is skipped (`None`) when another synchronisation of the connection
/// ran within its interval (an administrator's "synchronise now").
pub async fn sync_connection(state: &AppState, c: &MispConfig, full: bool, scheduled: bool) -> Option<MispSyncReport> {
    let misp = state.service::<Misp>();
    let _one = misp.running.lock().await;
    if scheduled {
        let every = crate::config::parse_duration(&c.interval).unwrap_or(std::time::Duration::from_secs(3600));
        if misp.last_report(&c.name).is_some_and(|r| now_millis() - r.started_at < every.as_millis() as i64) {
            return None;
        }
    }
    let started = Instant::now();
    let mut report = MispSyncReport { server: c.name.clone(), started_at: now_millis(), ..Default::default() };
    let outcome = match org_caller(state, c).await {
        Ok(caller) => match (&c.url, &c.feed) {
            (Some(_), _) => sync_server(state, c, &caller, full, &mut report).await,
            (None, Some(dir)) => sync_feed(state, c, &caller, dir, full, &mut report).await,
            _ => Err(Error::BadRequest("neither a server nor a feed".into())),
        },
        Err(e) => Err(e),
    };
    if let Err(e) = outcome {
        report.errors.push(e.to_string());
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    if report.errors.is_empty() {
        tracing::info!(misp = %c.name, events = report.events, created = report.created, updated = report.updated, ms = report.duration_ms, "MISP synchronised");
    } else {
        tracing::warn!(misp = %c.name, errors = ?report.errors, "MISP synchronisation had errors");
    }
    misp.record(report.clone());
    Some(report)
}

/// The moment (unix seconds) a connection's last poll covered.
async fn last_poll(state: &AppState, name: &str) -> Result<i64> {
    let mut r = state.store.query("SELECT VALUE lastPublish FROM type::record('misp_state', $name)", vars! { "name" => name }).await?;
    Ok(r.one::<Option<i64>>(0)?.flatten().unwrap_or(0))
}

async fn set_last_poll(state: &AppState, name: &str, at: i64) -> Result<()> {
    state.store.query("UPSERT type::record('misp_state', $name) MERGE { lastPublish: $at }", vars! { "name" => name, "at" => at }).await?;
    Ok(())
}

fn max_age_floor(c: &MispConfig) -> i64 {
    c.max_age.as_deref().and_then(crate::config::parse_duration).map(|d| now_millis() / 1000 - d.as_secs() as i64).unwrap_or(0)
}

async fn sync_server(state: &AppState, c: &MispConfig, caller: &Caller, full: bool, report: &mut MispSyncReport) -> Result<()> {
    let client = state.service::<Misp>().client(c)?;
    let since = if full { 0 } else { last_poll(state, &c.name).await? }.max(max_age_floor(c));
    let marks = alert::sync_marks(state, caller, ALERT_TYPE, &c.name).await?;
    // Only what was published since the last poll (MISP compares with >=).
    let index = client.post("events/index", &json!({ "publish_timestamp": since.to_string() })).await?;
    let list = index.as_array().cloned().unwrap_or_default();
    let mut newest = since;
    // The oldest event that could not be read or written: the next poll starts there again
    // (the events after it that did make it are then found unchanged).
    let mut retry_from: Option<i64> = None;
    for summary in list {
        report.events += 1;
        let Some(id) = num(summary.get("id")).map(|n| n.to_string()) else { continue };
        let published = num(summary.get("publish_timestamp")).unwrap_or(0);
        newest = newest.max(published);
        let is_published = summary.get("published").and_then(Value::as_bool).unwrap_or(true);
        if !is_published || published < since || !event::keeps(&summary, &c.include_tags, &c.exclude_tags, &c.exclude_orgs) {
            report.skipped += 1;
            continue;
        }
        if !full && marks.get(&id).is_some_and(|m| *m >= published * 1000) {
            report.unchanged += 1;
            continue;
        }
        let full_event = match client.get(&format!("events/view/{id}")).await.map(event::unwrap_event) {
            Ok(Some(e)) => e,
            Ok(None) => {
                report.errors.push(format!("event {id}: not an event"));
                continue;
            }
            Err(e) => {
                report.errors.push(format!("event {id}: {e}"));
                retry_from = Some(retry_from.map_or(published, |r| r.min(published)));
                continue;
            }
        };
        let src = Source { name: &c.name, tags: &c.tags, case_template: c.case_template.as_deref(), url: c.url.as_deref() };
        let (mut new_alert, files) = event::to_alert(&full_event, &id, published, &src);
        fill_files(state, Some(&client), &mut new_alert, &files, report).await;
        if !apply(state, caller, new_alert, report).await {
            retry_from = Some(retry_from.map_or(published, |r| r.min(published)));
        }
    }
    set_last_poll(state, &c.name, retry_from.map_or(newest, |r| r.min(newest))).await
}

/// A feed event's file name: `<uuid>.json`, nothing else (no path from the manifest).
fn is_uuid(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|ch| ch.is_ascii_hexdigit() || ch == '-')
}

async fn sync_feed(state: &AppState, c: &MispConfig, caller: &Caller, dir: &Path, full: bool, report: &mut MispSyncReport) -> Result<()> {
    let bytes = tokio::fs::read(dir.join("manifest.json")).await.map_err(|e| Error::BadRequest(format!("{}/manifest.json: {e}", dir.display())))?;
    let manifest: serde_json::Map<String, Value> = serde_json::from_slice(&bytes).map_err(|e| Error::BadRequest(format!("{}/manifest.json: {e}", dir.display())))?;
    let marks = alert::sync_marks(state, caller, ALERT_TYPE, &c.name).await?;
    let floor = max_age_floor(c);
    for (uuid, entry) in manifest {
        report.events += 1;
        let stamp = num(entry.get("timestamp")).unwrap_or(0);
        if !is_uuid(&uuid) || stamp < floor || !event::keeps(&entry, &c.include_tags, &c.exclude_tags, &c.exclude_orgs) {
            report.skipped += 1;
            continue;
        }
        if !full && marks.get(&uuid).is_some_and(|m| *m >= stamp * 1000) {
            report.unchanged += 1;
            continue;
        }
        let path = dir.join(format!("{uuid}.json"));
        let parsed = tokio::fs::read(&path).await.map_err(|e| e.to_string()).and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| e.to_string()));
        let ev = match parsed.map(event::unwrap_event) {
            Ok(Some(e)) => e,
            Ok(None) => {
                report.errors.push(format!("{}: not an event", path.display()));
                continue;
            }
            Err(e) => {
                report.errors.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        let src = Source { name: &c.name, tags: &c.tags, case_template: c.case_template.as_deref(), url: None };
        let (mut new_alert, files) = event::to_alert(&ev, &uuid, stamp.max(num(ev.get("publish_timestamp")).unwrap_or(0)), &src);
        fill_files(state, None, &mut new_alert, &files, report).await;
        apply(state, caller, new_alert, report).await;
    }
    Ok(())
}

/// A malware sample as MISP packs it (a zip, password `infected`, with `<md5>` and
/// `<md5>.filename.txt`): its name and content; anything else: as is.
fn unpack_sample(name: &str, bytes: Vec<u8>) -> (String, Vec<u8>) {
    let open = || -> Option<(String, Vec<u8>)> {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).ok()?;
        let (mut real_name, mut content) = (None, None);
        for i in 0..z.len().min(4) {
            let mut f = z.by_index_decrypt(i, SAMPLE_PASSWORD).ok()?;
            let entry = f.name().to_string();
            let mut buf = Vec::new();
            f.by_ref().take(256 << 20).read_to_end(&mut buf).ok()?;
            if entry.ends_with(".filename.txt") {
                real_name = Some(String::from_utf8_lossy(&buf[..buf.len().min(128)]).trim().to_string());
            } else {
                content = Some(buf);
            }
        }
        Some((real_name.filter(|n| !n.is_empty()).unwrap_or_else(|| name.to_string()), content?))
    };
    open().unwrap_or_else(|| (name.to_string(), bytes.clone()))
}

/// Fill the file observables' `data` (`name;type;base64`): downloaded from the server, or
/// decoded from the feed. A file that cannot be had is left out (and said).
async fn fill_files(state: &AppState, client: Option<&Client>, alert: &mut NewAlert, files: &[FileAttribute], report: &mut MispSyncReport) {
    let max = state.settings.max_body_bytes;
    let mut drop: Vec<usize> = Vec::new();
    for f in files {
        let got: Result<Vec<u8>> = match (&f.data, client, &f.attribute_id) {
            (Some(d), _, _) => base64::engine::general_purpose::STANDARD.decode(d.trim()).map_err(|e| Error::BadRequest(format!("{}: bad base64: {e}", f.name))),
            (None, Some(c), Some(id)) => c.download(id, max).await.map(|(_, b)| b),
            _ => Err(Error::BadRequest(format!("{}: no content", f.name))),
        };
        match got {
            Ok(bytes) => {
                let (name, content) = if f.misp_type == "malware-sample" { unpack_sample(&f.name, bytes) } else { (f.name.clone(), bytes) };
                let name = name.replace([';', '/', '\\'], "_");
                alert.observables[f.index].data = Some(format!("{name};application/octet-stream;{}", base64::engine::general_purpose::STANDARD.encode(content)));
            }
            Err(e) => {
                report.errors.push(format!("{} {}: {e}", alert.source_ref, f.name));
                drop.push(f.index);
            }
        }
    }
    for i in drop.into_iter().rev() {
        alert.observables.remove(i);
    }
}

/// Synchronise the alert of one event and count what happened; `false`: it may work another
/// time (a write failed), so the event is read again at the next poll.
async fn apply(state: &AppState, caller: &Caller, new_alert: NewAlert, report: &mut MispSyncReport) -> bool {
    if new_alert.observables.is_empty() {
        report.skipped += 1;
        return true;
    }
    let n = new_alert.observables.len();
    if n > alert::MAX_OBSERVABLES {
        report.errors.push(format!("event {}: {n} attributes, more than the {} an alert holds", new_alert.source_ref, alert::MAX_OBSERVABLES));
        return true;
    }
    report.attributes += n;
    let label = new_alert.title.clone();
    match alert::synchronize(state, caller, new_alert).await {
        Ok(s) if s.created => report.created += 1,
        Ok(s) if !s.changed => report.unchanged += 1,
        Ok(s) => {
            report.updated += 1;
            match to_case(state, caller, &s, &label).await {
                Ok(k) => report.case_observables += k,
                Err(e) => report.errors.push(format!("{label}: its case: {e}")),
            }
        }
        // Refused for what it is (a bad value): reading it again changes nothing.
        Err(e @ (Error::Attributes { .. } | Error::BadRequest(_))) => report.errors.push(format!("{label}: {e}")),
        Err(e) => {
            report.errors.push(format!("{label}: {e}"));
            return false;
        }
    }
    true
}

/// A followed alert's case gets the observables the event gained, and a log entry in its
/// "MISP" task saying what changed.
async fn to_case(state: &AppState, caller: &Caller, s: &Synced, label: &str) -> Result<usize> {
    let (Some(case_id), true) = (s.alert.case_id.as_deref(), s.alert.follow) else { return Ok(0) };
    if s.added.is_empty() && s.removed.is_empty() {
        return Ok(0);
    }
    let mut added = 0usize;
    let mut lines: Vec<String> = Vec::new();
    for o in &s.added {
        let input = alert::case_observable(o);
        let done = match &o.attachment {
            Some(att) => {
                let file = crate::core::attachment::held(state, &caller.store(state), att).await?;
                case::observable::add_file(state, caller, case_id, input, file).await.map(|_| 1)
            }
            None => case::observable::add(state, caller, case_id, input).await.map(|a| a.created.len()),
        };
        match done {
            Ok(k) => {
                added += k;
                if k > 0 {
                    lines.push(format!("- added `{}`: `{}`", o.data_type, o.display_value().replace('`', "'")));
                }
            }
            // Already in the case (added by hand): nothing to do.
            Err(Error::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    for o in &s.removed {
        lines.push(format!("- removed from the event (kept in the case): `{}`: `{}`", o.data_type, o.display_value().replace('`', "'")));
    }
    if lines.is_empty() {
        return Ok(added);
    }
    let tasks = case::task::list_for_case(state, caller, case_id).await?;
    let task = match tasks.into_iter().find(|t| t.title == TASK_TITLE) {
        Some(t) => t,
        None => case::task::create(state, caller, case_id, NewTask { title: TASK_TITLE.into(), group: Some("MISP".into()), description: Some("Changes of the MISP event this case comes from.".into()), ..Default::default() }).await?,
    };
    let message = format!("**{label}** changed in MISP ({}):\n\n{}", s.alert.source, lines.join("\n"));
    case::task_log::create(state, caller, &task.id, &message, None).await?;
    Ok(added)
}

/// Whether the caller may import MISP event files as cases (asked before an upload is read).
pub fn check_can_import(caller: &Caller) -> Result<()> {
    caller.require(app::model::Permission::ManageCase, "import MISP events as cases")
}

/// The source of alerts made from MISP event files (TheHive 5's case import).
pub const FILE_SOURCE: &str = "misp-file";

/// A MISP event file (one event as MISP exports it) as a new case: the event becomes the alert
/// `(misp, misp-file, <event uuid>)`, kept for the record, imported into a case through
/// `template` (TheHive 5's `POST /api/v1/connector/misp/case/import`). The same event again:
/// a clear refusal naming its case.
pub async fn import_case(state: &AppState, caller: &Caller, event: Value, template: Option<String>) -> Result<app::model::Case> {
    check_can_import(caller)?;
    let ev = event::unwrap_event(event).ok_or_else(|| Error::BadRequest("The file is not a MISP event (an object with Event, or an event)".into()))?;
    let uuid = event::text(&ev, "uuid").to_string();
    if !is_uuid(&uuid) {
        return Err(Error::BadRequest("The MISP event has no uuid".into()));
    }
    let now = now_millis() / 1000;
    let src = Source { name: FILE_SOURCE, tags: &[], case_template: None, url: None };
    let (mut new_alert, files) = event::to_alert(&ev, &uuid, num(ev.get("timestamp")).unwrap_or(now), &src);
    let mut report = MispSyncReport::default();
    fill_files(state, None, &mut new_alert, &files, &mut report).await;
    if let Some(e) = report.errors.first() {
        return Err(Error::BadRequest(format!("The MISP event's file attribute: {e}")));
    }
    let synced = alert::synchronize(state, caller, new_alert).await?;
    if let Some(case) = &synced.alert.case_id {
        return Err(Error::BadRequest(format!("This MISP event ({uuid}) was already imported: case {case}")));
    }
    alert::create_case(state, caller, &synced.alert.id, template).await
}
