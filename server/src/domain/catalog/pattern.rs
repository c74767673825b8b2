//! MITRE ATT&CK techniques (TheHive's "patterns"): a platform-wide catalogue, imported from
//! MITRE's enterprise-attack STIX 2.1 bundle, that procedures of cases and alerts name.
//!
//! Rules: only platform administrators import or delete patterns; a pattern's id is its ATT&CK
//! id (`T1059`, `T1059.001`); importing again updates what changed; revoked and deprecated
//! techniques are skipped; sub-techniques know their parent.

use app::model::{Millis, Permission};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::vars;

/// The largest bundle accepted (MITRE's enterprise bundle is ~45 MB).
pub const MAX_BUNDLE_BYTES: usize = 128 << 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pattern {
    /// The ATT&CK id (`T1059.001`).
    pub pattern_id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Kill-chain phases (`execution`, `persistence`...).
    #[serde(default)]
    pub tactics: Vec<String>,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub platforms: Vec<String>,
    #[serde(default)]
    pub data_sources: Vec<String>,
    #[serde(default)]
    pub version: Option<String>,
    /// The technique of a sub-technique (`T1059` for `T1059.001`).
    #[serde(default)]
    pub parent: Option<String>,
    pub updated_at: Millis,
}

/// What importing one STIX object gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Imported {
    Success { mitre_id: String, name: String },
    Failure { message: String },
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// The techniques of a STIX bundle (`{"type": "bundle", "objects": [...]}`); revoked and
/// deprecated ones left out.
pub fn parse_bundle(bundle: &Value, now: Millis) -> Result<Vec<std::result::Result<Pattern, String>>> {
    let objects = bundle
        .get("objects")
        .and_then(Value::as_array)
        .filter(|_| bundle.get("type").and_then(Value::as_str) == Some("bundle"))
        .ok_or_else(|| Error::BadRequest("Not a STIX bundle: expected {\"type\": \"bundle\", \"objects\": [...]}".into()))?;
    let mut out = Vec::new();
    for o in objects {
        if o.get("type").and_then(Value::as_str) != Some("attack-pattern") {
            continue;
        }
        if o.get("revoked").and_then(Value::as_bool) == Some(true) || o.get("x_mitre_deprecated").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let reference = o
            .get("external_references")
            .and_then(Value::as_array)
            .and_then(|refs| refs.iter().find(|r| r.get("source_name").and_then(Value::as_str) == Some("mitre-attack")));
        let (Some(id), Some(name)) = (reference.and_then(|r| r.get("external_id")).and_then(Value::as_str), o.get("name").and_then(Value::as_str)) else {
            out.push(Err(format!("attack-pattern {} has no mitre-attack id or no name", o.get("id").and_then(Value::as_str).unwrap_or("?"))));
            continue;
        };
        if !id.starts_with('T') || id.len() > 16 || !id[1..].chars().all(|c| c.is_ascii_digit() || c == '.') {
            out.push(Err(format!("{id} is not an ATT&CK technique id")));
            continue;
        }
        let tactics = o
            .get("kill_chain_phases")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter(|p| p.get("kill_chain_name").and_then(Value::as_str) == Some("mitre-attack"))
                    .filter_map(|p| p.get("phase_name").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        out.push(Ok(Pattern {
            pattern_id: id.to_string(),
            name: name.to_string(),
            description: o.get("description").and_then(Value::as_str).unwrap_or_default().to_string(),
            tactics,
            url: reference.and_then(|r| r.get("url")).and_then(Value::as_str).unwrap_or_default().to_string(),
            platforms: strings(o.get("x_mitre_platforms")),
            data_sources: strings(o.get("x_mitre_data_sources")),
            version: o.get("x_mitre_version").and_then(Value::as_str).map(str::to_string),
            parent: id.split_once('.').map(|(p, _)| p.to_string()),
            updated_at: now,
        }));
    }
    Ok(out)
}

/// Import (or update) the techniques of a STIX bundle.
pub async fn import(state: &AppState, caller: &Caller, bundle: &Value) -> Result<Vec<Imported>> {
    caller.require(Permission::ManagePlatform, "import ATT&CK patterns")?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let mut out = Vec::new();
    let mut ok = Vec::new();
    for p in parse_bundle(bundle, now)? {
        match p {
            Ok(p) => {
                out.push(Imported::Success { mitre_id: p.pattern_id.clone(), name: p.name.clone() });
                ok.push(p);
            }
            Err(message) => out.push(Imported::Failure { message }),
        }
    }
    for chunk in ok.chunks(500) {
        let rows: Vec<Value> = chunk.iter().map(|p| json!({"id": p.pattern_id, "doc": p})).collect();
        state.store.query("FOR $r IN $rows { UPSERT type::record('pattern', $r.id) CONTENT $r.doc; }", vars! { "rows" => rows }).await?;
    }
    tracing::info!(patterns = ok.len(), by = %caller.login, "ATT&CK patterns imported");
    Ok(out)
}

/// One technique by ATT&CK id.
pub async fn get(state: &AppState, id: &str) -> Result<Pattern> {
    let mut r = state.store.query("SELECT * OMIT id FROM type::record('pattern', $id)", vars! { "id" => id.trim() }).await?;
    r.one(0)?.ok_or_else(|| Error::not_found("pattern", id))
}

/// Every technique, by id.
pub async fn list(state: &AppState) -> Result<Vec<Pattern>> {
    let mut r = state.store.query("SELECT * OMIT id FROM pattern ORDER BY patternId ASC", vars! {}).await?;
    r.rows(0)
}

pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> Result<()> {
    caller.require(Permission::ManagePlatform, "delete ATT&CK patterns")?;
    get(state, id).await?;
    state.store.query("DELETE type::record('pattern', $id)", vars! { "id" => id.trim() }).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn techniques_of_a_bundle() {
        let bundle = json!({"type": "bundle", "objects": [
            {"type": "attack-pattern", "id": "attack-pattern--1", "name": "Command and Scripting Interpreter",
             "external_references": [{"source_name": "mitre-attack", "external_id": "T1059", "url": "https://attack.mitre.org/techniques/T1059"}],
             "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}], "x_mitre_platforms": ["Windows"]},
            {"type": "attack-pattern", "id": "attack-pattern--2", "name": "PowerShell",
             "external_references": [{"source_name": "mitre-attack", "external_id": "T1059.001"}],
             "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}]},
            {"type": "attack-pattern", "id": "attack-pattern--3", "name": "Old", "revoked": true,
             "external_references": [{"source_name": "mitre-attack", "external_id": "T9999"}]},
            {"type": "attack-pattern", "id": "attack-pattern--4", "name": "No id"},
            {"type": "x-mitre-tactic", "id": "x-mitre-tactic--1", "name": "Execution"}
        ]});
        let got = parse_bundle(&bundle, 1).unwrap();
        assert_eq!(got.len(), 3);
        let ok: Vec<Pattern> = got.iter().filter_map(|r| r.clone().ok()).collect();
        assert_eq!(ok[0].pattern_id, "T1059");
        assert_eq!(ok[0].tactics, vec!["execution"]);
        assert_eq!(ok[1].parent.as_deref(), Some("T1059"));
        assert!(got[2].is_err());
        assert!(parse_bundle(&json!({"objects": []}), 1).is_err());
    }
}
