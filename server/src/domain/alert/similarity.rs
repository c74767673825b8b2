//! What the organisation already knows of an alert: each observable's `seen` (in how many live
//! cases the same value or file appears) and the cases sharing observables with it, most shared
//! IOCs first, then most shared observables. Only the caller's organisation's cases count, and
//! only live ones (not deleted, not merged away as duplicates); observables marked
//! `ignoreSimilarity` (on either side) do not count.

use std::collections::{HashMap, HashSet};

use app::model::{Alert, AlertWithSimilarity, Case, SEEN_CASES_SHOWN, SIMILAR_CASES_SHOWN, SimilarCase};
use serde_json::{Value, json};

use crate::core::auth::Caller;
use crate::core::error::Result;
use crate::core::state::AppState;
use crate::core::stats::values::value_key;
use crate::core::store::OrgStore;
use crate::vars;

/// How many case observables one alert observable is compared with at most.
const MATCHES_PER_OBSERVABLE: usize = 1000;

pub async fn with_similarity(state: &AppState, caller: &Caller, alert: Alert) -> Result<AlertWithSimilarity> {
    with_similarity_from(state, caller, alert, Lookup::IndexWhenReady).await
}

/// Where a read the statistics index can answer is answered: similarity's case observables,
/// and whether a new alert's key is known (`alert::lookup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The statistics index (`stats::values`) once loaded, the database before.
    IndexWhenReady,
    /// The database only (the index's reference in tests; a creation the database refused).
    Database,
}

/// The case observables matching the alert's compared observables.
struct Matches {
    /// Per compared observable: the cases holding it, and whether it is an IOC there.
    found: Vec<HashMap<String, bool>>,
    /// The live cases among them.
    live: HashSet<String>,
    /// Every live case's (observables, IOCs), when the index gave them.
    counts: Option<HashMap<String, (u64, u64)>>,
}

pub async fn with_similarity_from(state: &AppState, caller: &Caller, mut alert: Alert, from: Lookup) -> Result<AlertWithSimilarity> {
    let store = caller.store(state);
    // Which observables are compared.
    let compared: Vec<usize> = alert
        .observables
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.ignore_similarity && (o.data.is_some() || o.attachment.is_some()))
        .map(|(i, _)| i)
        .collect();
    for o in alert.observables.iter_mut() {
        o.seen = Some(0);
    }
    if compared.is_empty() {
        return Ok(AlertWithSimilarity { alert, similar_cases: Vec::new() });
    }
    let from_index = if from == Lookup::IndexWhenReady && state.stats.is_ready() {
        // Read-your-writes: what was committed before this request is in the index.
        state.stats.catch_up().await?;
        matches_from_index(state, &caller.org_id, &alert, &compared)
    } else {
        None
    };
    let Matches { found, live, counts } = match from_index {
        Some(m) => m,
        None => matches_from_database(&store, &alert, &compared).await?,
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
    // The cases (and, without the index, their observable and IOC counts: one indexed count per
    // case, the engine does not serve `case IN $ids` from the index), in one round trip.
    let ids: Vec<String> = ranked.iter().map(|(c, _)| c.clone()).collect();
    let mut sql = String::from("SELECT * FROM array::map($ids, |$i| type::record('case', $i)) WHERE org = $org;\n");
    let mut vars = vars! { "ids" => ids };
    if counts.is_none() {
        for (i, id) in ids.iter().enumerate() {
            vars.insert(format!("c{i}"), json!(id));
            sql.push_str(&format!("SELECT count() AS n, count(ioc = true) AS iocs FROM observable WHERE org = $org AND case = $c{i} GROUP ALL;\n"));
        }
    }
    let mut r = store.query(&sql, vars).await?;
    let cases: HashMap<String, Case> = r.rows::<Case>(0)?.into_iter().map(|c| (c.id.clone(), c)).collect();
    let counts = match counts {
        Some(c) => c,
        None => {
            let mut counts: HashMap<String, (u64, u64)> = HashMap::new();
            for (i, id) in ids.iter().enumerate() {
                let row = r.rows::<Value>(i + 1)?.into_iter().next().unwrap_or_default();
                let n = |k: &str| row.get(k).and_then(Value::as_u64).unwrap_or(0);
                counts.insert(id.clone(), (n("n"), n("iocs")));
            }
            counts
        }
    };
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

/// The matches from the observable value index; `None` when it is not loaded.
fn matches_from_index(state: &AppState, org: &str, alert: &Alert, compared: &[usize]) -> Option<Matches> {
    let keys: Vec<u128> = compared
        .iter()
        .map(|i| {
            let o = &alert.observables[*i];
            value_key(&o.data_type, o.data.as_deref(), o.attachment.as_ref().map(|a| a.id.as_str())).unwrap_or(0)
        })
        .collect();
    let index = state.stats.read();
    let found = index.cases_with_values(org, &keys, MATCHES_PER_OBSERVABLE)?;
    let live = index.live_cases(org, found.iter().flat_map(|m| m.keys()))?;
    let counts = live.iter().map(|c| Some((c.clone(), index.case_observable_counts(org, c)?))).collect::<Option<HashMap<_, _>>>()?;
    Some(Matches { found, live, counts: Some(counts) })
}

/// The matches from the database: one indexed query per compared observable, then which of
/// the cases found are live.
async fn matches_from_database(store: &OrgStore, alert: &Alert, compared: &[usize]) -> Result<Matches> {
    let values = compared.iter().map(|i| {
        let o = &alert.observables[*i];
        (o.data_type.as_str(), o.data.as_deref(), o.attachment.as_ref().map(|a| a.id.as_str()))
    });
    let (sql, vars) = crate::domain::case::observable::same_value_queries(values, "case, ioc", MATCHES_PER_OBSERVABLE);
    let mut r = store.query(&sql, vars).await?;
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
    Ok(Matches { found, live, counts: None })
}

/// The observables of a case or an alert, as a comparison sees them.
pub enum Holder {
    Case(Vec<app::model::Observable>),
    Alert(Alert),
}

impl Holder {
    /// A case (id or number) or an alert, by id.
    pub async fn find(state: &AppState, caller: &Caller, id: &str) -> Result<Holder> {
        match crate::domain::case::get(state, caller, id).await {
            Ok(c) => Ok(Holder::Case(crate::domain::case::observable::list_for_case(state, caller, &c.id).await?)),
            Err(crate::core::error::Error::NotFound(_)) => Ok(Holder::Alert(crate::domain::alert::get(state, caller, id).await?)),
            Err(e) => Err(e),
        }
    }

    /// Each observable's comparison key, in order (`None`: never compared: no value, or
    /// `ignoreSimilarity`).
    fn key_list(&self) -> Vec<Option<u128>> {
        let key = |dt: &str, d: Option<&str>, a: Option<&app::model::Attachment>, ignore: bool| {
            if ignore { None } else { value_key(dt, d, a.map(|a| a.id.as_str())) }
        };
        match self {
            Holder::Case(list) => list.iter().map(|o| key(&o.data_type, o.data.as_deref(), o.attachment.as_ref(), o.ignore_similarity)).collect(),
            Holder::Alert(a) => a.observables.iter().map(|o| key(&o.data_type, o.data.as_deref(), o.attachment.as_ref(), o.ignore_similarity)).collect(),
        }
    }
}

/// Which observables of `of` the other holder has too (same type and value, or same file);
/// `ignoreSimilarity` ones never match. Answers positions in `of`'s list.
pub fn shared_with(of: &Holder, other: &Holder) -> Vec<usize> {
    let theirs: HashSet<u128> = other.key_list().into_iter().flatten().collect();
    of.key_list().into_iter().enumerate().filter(|(_, k)| k.is_some_and(|k| theirs.contains(&k))).map(|(i, _)| i).collect()
}
