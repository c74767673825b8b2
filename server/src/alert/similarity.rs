//! What the organisation already knows of an alert: each observable's `seen` (in how many live
//! cases the same value or file appears) and the cases sharing observables with it, most shared
//! IOCs first, then most shared observables. Only the caller's organisation's cases count, and
//! only live ones (not deleted, not merged away as duplicates); observables marked
//! `ignoreSimilarity` (on either side) do not count.

use std::collections::{HashMap, HashSet};

use app::model::{Alert, AlertWithSimilarity, Case, SEEN_CASES_SHOWN, SIMILAR_CASES_SHOWN, SimilarCase};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::Result;
use crate::state::AppState;
use crate::store::Vars;
use crate::vars;

/// How many case observables one alert observable is compared with at most.
const MATCHES_PER_OBSERVABLE: usize = 1000;

pub async fn with_similarity(state: &AppState, caller: &Caller, mut alert: Alert) -> Result<AlertWithSimilarity> {
    let store = caller.store(state);
    // Which observables are compared, and how.
    let mut sql = String::new();
    let mut vars = Vars::new();
    let mut compared: Vec<usize> = Vec::new();
    vars.insert("n".into(), json!(MATCHES_PER_OBSERVABLE));
    for (i, o) in alert.observables.iter().enumerate() {
        if o.ignore_similarity {
            continue;
        }
        let k = compared.len();
        match (&o.data, &o.attachment) {
            (Some(d), _) => {
                vars.insert(format!("t{k}"), json!(o.data_type));
                vars.insert(format!("d{k}"), json!(d));
                sql.push_str(&format!(
                    "SELECT case, ioc FROM observable WHERE org = $org AND dataType = $t{k} AND data = $d{k} AND (ignoreSimilarity ?? false) = false LIMIT $n;\n"
                ));
            }
            (None, Some(a)) => {
                vars.insert(format!("d{k}"), json!(a.id));
                sql.push_str(&format!(
                    "SELECT case, ioc FROM observable WHERE org = $org AND attachment.id = $d{k} AND (ignoreSimilarity ?? false) = false LIMIT $n;\n"
                ));
            }
            (None, None) => continue,
        }
        compared.push(i);
    }
    for o in alert.observables.iter_mut() {
        o.seen = Some(0);
    }
    if compared.is_empty() {
        return Ok(AlertWithSimilarity { alert, similar_cases: Vec::new() });
    }
    let mut r = store.query(&sql, vars).await?;
    // For each compared observable: the cases holding it, and whether it is an IOC there.
    let mut found: Vec<HashMap<String, bool>> = Vec::with_capacity(compared.len());
    for k in 0..compared.len() {
        let mut cases: HashMap<String, bool> = HashMap::new();
        for row in r.rows::<Value>(k)? {
            if let Some(c) = row.get("case").and_then(Value::as_str) {
                let ioc = row.get("ioc").and_then(Value::as_bool).unwrap_or(false);
                *cases.entry(c.to_string()).or_insert(false) |= ioc;
            }
        }
        found.push(cases);
    }
    let candidates: Vec<String> = found.iter().flat_map(|m| m.keys().cloned()).collect::<HashSet<_>>().into_iter().collect();
    let live: HashSet<String> = if candidates.is_empty() {
        HashSet::new()
    } else {
        let mut r = store
            .query(
                "SELECT VALUE record::id(id) FROM array::map($ids, |$i| type::record('case', $i)) WHERE org = $org \
                 AND status != 'Deleted' AND (resolutionStatus ?? '') != 'Duplicated'",
                vars! { "ids" => candidates },
            )
            .await?;
        r.rows::<String>(0)?.into_iter().collect()
    };

    // Overlap per case: (shared IOCs, shared observables, the alert's observable ids).
    let mut overlap: HashMap<String, (u64, u64, Vec<String>)> = HashMap::new();
    for (k, cases) in found.iter().enumerate() {
        let obs_id = alert.observables[compared[k]].id.clone();
        for (case, ioc) in cases.iter().filter(|(c, _)| live.contains(*c)) {
            let e = overlap.entry(case.clone()).or_insert((0, 0, Vec::new()));
            e.0 += u64::from(*ioc);
            e.1 += 1;
            e.2.push(obs_id.clone());
        }
    }
    let mut ranked: Vec<(String, (u64, u64, Vec<String>))> = overlap.into_iter().collect();
    ranked.sort_by(|a, b| (b.1.0, b.1.1, &b.0).cmp(&(a.1.0, a.1.1, &a.0)));
    let rank: HashMap<&str, usize> = ranked.iter().enumerate().map(|(i, (c, _))| (c.as_str(), i)).collect();
    for (k, cases) in found.iter().enumerate() {
        let o = &mut alert.observables[compared[k]];
        let mut ids: Vec<&String> = cases.keys().filter(|c| live.contains(*c)).collect();
        ids.sort_by_key(|c| rank.get(c.as_str()).copied().unwrap_or(usize::MAX));
        o.seen = Some(ids.len() as u64);
        o.seen_in = ids.into_iter().take(SEEN_CASES_SHOWN).cloned().collect();
    }

    ranked.truncate(SIMILAR_CASES_SHOWN);
    if ranked.is_empty() {
        return Ok(AlertWithSimilarity { alert, similar_cases: Vec::new() });
    }
    // The cases and their observable and IOC counts, in one round trip (one indexed count per
    // case: the engine does not serve `case IN $ids` from the index).
    let ids: Vec<String> = ranked.iter().map(|(c, _)| c.clone()).collect();
    let mut sql = String::from("SELECT * FROM array::map($ids, |$i| type::record('case', $i)) WHERE org = $org;\n");
    let mut vars = vars! { "ids" => ids };
    for (i, id) in ids.iter().enumerate() {
        vars.insert(format!("c{i}"), json!(id));
        sql.push_str(&format!("SELECT count() AS n, count(ioc = true) AS iocs FROM observable WHERE org = $org AND case = $c{i} GROUP ALL;\n"));
    }
    let mut r = store.query(&sql, vars).await?;
    let cases: HashMap<String, Case> = r.rows::<Case>(0)?.into_iter().map(|c| (c.id.clone(), c)).collect();
    let mut counts: HashMap<String, (u64, u64)> = HashMap::new();
    for (i, id) in ids.iter().enumerate() {
        let row = r.rows::<Value>(i + 1)?.into_iter().next().unwrap_or_default();
        let n = |k: &str| row.get(k).and_then(Value::as_u64).unwrap_or(0);
        counts.insert(id.clone(), (n("n"), n("iocs")));
    }
    let similar_cases = ranked
        .into_iter()
        .filter_map(|(id, (iocs, n, observables))| {
            let case = cases.get(&id)?.clone();
            let (observable_count, ioc_count) = counts.get(&id).copied().unwrap_or_default();
            Some(SimilarCase { case, similar_observable_count: n, similar_ioc_count: iocs, observable_count, ioc_count, observables })
        })
        .collect();
    Ok(AlertWithSimilarity { alert, similar_cases })
}
