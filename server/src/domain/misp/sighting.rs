//! Sightings: an observable marked sighted (created sighted, or changed to sighted, through any
//! API or the UI) is sighted on every exporting MISP server that knows its value
//! (`sightings/add` by value: a server without an attribute of that value refuses it, and is
//! left alone); then the value's sightings are counted there and the observable keeps the
//! total (`mispSightings`).
//!
//! It listens to this process's own commits ([`crate::core::audit::AuditBus::subscribe_local`]),
//! so with several Waggle processes a sighting is sent once.

use app::model::AuditOperation;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::Misp;
use crate::core::state::AppState;
use crate::core::store::now_millis;
use crate::vars;

pub fn spawn(state: &AppState, shutdown: CancellationToken) {
    let mut rx = state.audit.subscribe_local();
    let state = state.clone();
    tokio::spawn(async move {
        loop {
            let batch = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = rx.recv() => r,
            };
            let batch = match batch {
                Ok(b) => b,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "the MISP sighting listener fell behind; some sightings were not sent");
                    continue;
                }
                Err(_) => return,
            };
            for e in batch.iter() {
                let sighted_now = e.entry.object_type == crate::domain::case::observable::TYPE
                    && matches!(e.entry.operation, AuditOperation::Update | AuditOperation::Creation)
                    && e.entry.details.get("sighted") == Some(&Value::Bool(true));
                if !sighted_now {
                    continue;
                }
                let value = e.object.as_ref().and_then(|o| o.get("data")).and_then(Value::as_str).map(str::to_string);
                if let Some(value) = value {
                    let state = state.clone();
                    let (org, id) = (e.org.clone(), e.entry.object_id.clone());
                    let stop = shutdown.clone();
                    tokio::spawn(async move {
                        tokio::select! {
                            _ = stop.cancelled() => {}
                            _ = send(&state, &org, &id, &value) => {}
                        }
                    });
                }
            }
        }
    });
}

/// Sight `value` on every exporting server, then store the observable's total count.
async fn send(state: &AppState, org: &str, observable_id: &str, value: &str) {
    let mut total: u64 = 0;
    let mut any = false;
    for (c, _) in state.service::<Misp>().connections() {
        if c.url.is_none() || !c.purpose.exports() {
            continue;
        }
        let Ok(client) = state.service::<Misp>().client(&c) else { continue };
        // MISP's documented body (OpenAPI `AddSightingsRequest`): a sighting (type 0) by value.
        let body = json!({ "values": [value], "timestamp": (now_millis() / 1000).to_string() });
        match client.post("sightings/add", &body).await {
            Ok(v) if v.get("Sighting").is_some() => {}
            Ok(_) => continue,
            Err(e) => {
                // "No valid attributes found that match the criteria": the server does not
                // know the value.
                tracing::debug!(misp = %c.name, error = %e, "sighting not added");
                continue;
            }
        }
        let counted = client.post("attributes/restSearch", &json!({ "returnFormat": "json", "value": value, "includeSightings": true })).await;
        match counted {
            Ok(v) => {
                any = true;
                total += count(&v);
            }
            Err(e) => tracing::warn!(misp = %c.name, error = %e, "counting sightings failed"),
        }
        tracing::info!(misp = %c.name, observable = %observable_id, "observable sighted in MISP");
    }
    if !any {
        return;
    }
    let r = state
        .store
        .org(org)
        .query("UPDATE type::record('observable', $id) SET mispSightings = $n WHERE org = $org", vars! { "id" => observable_id, "n" => total })
        .await;
    if let Err(e) = r {
        tracing::warn!(observable = %observable_id, error = ?e, "storing the MISP sightings count failed");
    }
}

/// Sightings (type 0) of the attributes of a `attributes/restSearch` answer.
fn count(v: &Value) -> u64 {
    let attrs = v.pointer("/response/Attribute").and_then(Value::as_array).cloned().unwrap_or_default();
    attrs
        .iter()
        .flat_map(|a| a.get("Sighting").and_then(Value::as_array).cloned().unwrap_or_default())
        .filter(|s| s.get("type").map(|t| t == "0" || t == 0).unwrap_or(true))
        .count() as u64
}
