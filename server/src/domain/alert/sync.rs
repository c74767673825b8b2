//! Alerts kept in step with their source (a MISP event): the source sends the alert's whole
//! current content, and the alert becomes that content: fields replaced, observables the
//! source no longer has removed, new ones added, the change counted as an occurrence.

use std::collections::HashSet;

use app::model::{Alert, AlertObservable, NewAlert};
use serde_json::Value;

use super::{Change, Created, attr, change_with, check_observables, data_types, identity, key_part, lookup, materialize, scalar_fields};
use crate::core::attachment;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::domain::alert::similarity::Lookup;

/// What a synchronisation did to the alert.
#[derive(Debug)]
pub struct Synced {
    pub alert: Alert,
    pub created: bool,
    /// The alert changed (created, or updated and counted as an occurrence).
    pub changed: bool,
    /// Observables the alert did not have.
    pub added: Vec<AlertObservable>,
    /// Observables the source no longer has.
    pub removed: Vec<AlertObservable>,
}

/// Make the alert `(type, source, sourceRef)` what `input` says: created when new, else updated
/// to exactly `input`'s fields and observables (nothing changed: the alert as it is, no
/// occurrence).
pub async fn synchronize(state: &AppState, caller: &Caller, input: NewAlert) -> Result<Synced> {
    caller.require(app::model::Permission::ManageAlert, "synchronise alerts")?;
    let store = caller.store(state);
    let kind = key_part("type", &input.kind)?;
    let source = key_part("source", &input.source)?;
    let source_ref = key_part("sourceRef", &input.source_ref)?;
    let (_, existing, _) = lookup(state, &store, &kind, &source, &source_ref, Lookup::Database).await?;
    let Some(existing) = existing else {
        return match super::create(state, caller, input.clone(), Some(false)).await {
            Ok(Created::New(alert) | Created::Updated(alert)) => Ok(Synced { added: alert.observables.clone(), alert, created: true, changed: true, removed: Vec::new() }),
            // Created meanwhile (another instance's poll): update it instead.
            Err(Error::Conflict { .. }) => Box::pin(synchronize(state, caller, input)).await,
            Err(e) => Err(e),
        };
    };
    let now = crate::core::store::now_millis();
    let fields = scalar_fields(
        Some(&input.title),
        Some(input.description.as_deref().unwrap_or("")),
        input.date,
        input.severity,
        input.tlp,
        input.pap,
        Some(input.tags.as_deref().unwrap_or(&[])),
        input.case_template.as_deref(),
        input.external_link.as_deref(),
        input.last_sync_date,
    )?;
    let types = data_types(state, &store).await?;
    let checked = check_observables(&input.observables, &types, state.settings.max_body_bytes, now)?;
    let (docs, files) = materialize(state, &existing.alert.id, checked, &HashSet::new()).await?;
    let wanted: HashSet<(String, String)> = docs.iter().map(identity).collect();
    let mut before: Vec<AlertObservable> = Vec::new();
    let mut occurrences_before = 0;
    let result = change_with(state, caller, &existing.alert.id, |cur| {
        before = cur.alert.observables.clone();
        occurrences_before = cur.alert.occurrences;
        let present: HashSet<(String, String)> = cur.alert.observables.iter().map(AlertObservable::identity).collect();
        let kept: Vec<AlertObservable> = cur.alert.observables.iter().filter(|o| wanted.contains(&o.identity())).cloned().collect();
        let added: Vec<_> = docs.iter().filter(|d| !present.contains(&identity(d))).cloned().collect();
        if kept.len() + added.len() > super::MAX_OBSERVABLES {
            return Err(attr("observables", "array", format!("an alert has at most {} observables", super::MAX_OBSERVABLES)));
        }
        let mut patch = fields.clone();
        crate::core::audit::keep_changes(&cur.alert, &mut patch);
        let changed = !patch.is_empty() || !added.is_empty() || kept.len() != cur.alert.observables.len();
        Ok(Change {
            fields: fields.clone(),
            replace_observables: (kept.len() != cur.alert.observables.len()).then_some(kept),
            observables: added,
            files: files.clone(),
            occurrence: changed,
            ..Default::default()
        })
    })
    .await;
    let alert = match result {
        Ok(a) => a,
        Err(e) => {
            attachment::discard(state, files).await;
            return Err(e);
        }
    };
    // Files of observables the alert already had are held by their records: dropping the
    // leases leaves those, removes the rest.
    attachment::discard(state, files).await;
    let old: HashSet<&str> = before.iter().map(|o| o.id.as_str()).collect();
    let now_ids: HashSet<&str> = alert.observables.iter().map(|o| o.id.as_str()).collect();
    let added = alert.observables.iter().filter(|o| !old.contains(o.id.as_str())).cloned().collect();
    let removed = before.iter().filter(|o| !now_ids.contains(o.id.as_str())).cloned().collect();
    let changed = alert.occurrences > occurrences_before;
    Ok(Synced { alert, created: false, changed, added, removed })
}

/// The `lastSyncDate` of each alert of `(type, source)` in the caller's organisation, by
/// `sourceRef`: what a source's poll compares its events with.
pub async fn sync_marks(state: &AppState, caller: &Caller, kind: &str, source: &str) -> Result<std::collections::HashMap<String, i64>> {
    let store = caller.store(state);
    let mut r = store
        .query(
            "SELECT sourceRef, lastSyncDate FROM alert WHERE org = $org AND type = $t AND source = $s",
            crate::vars! { "t" => kind, "s" => source },
        )
        .await?;
    let rows: Vec<Value> = r.rows(0)?;
    Ok(rows
        .into_iter()
        .filter_map(|v| Some((v.get("sourceRef")?.as_str()?.to_string(), v.get("lastSyncDate").and_then(Value::as_i64).unwrap_or(0))))
        .collect())
}
