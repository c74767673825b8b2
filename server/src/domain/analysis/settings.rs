//! An analyzer instance's configuration: validation (Cortex rules), secrets sealed at rest,
//! redaction for API output, and the `config` object of a job's `input.json`.
//!
//! Life of a configuration:
//! * create: `validate(items, given)` -> `seal_secrets` -> store;
//! * update: `merge_update(items, stored, given)` -> `validate` -> `seal_secrets` -> store;
//! * API output: `redact(items, stored)` (a set secret reads `"********"`, an unset one `null`);
//! * job: `open_secrets(items, box, stored)` -> `input_config(def, opened, defaults)`.

use serde::Serialize;
use serde_json::{Map, Value};

use super::catalog::{ConfigItem, Definition, ItemType};
pub use crate::core::secret::{SEALED_PREFIX, SecretBox, SecretError};

/// What API output shows for a secret that is set; sending it back on update keeps the value.
pub const MASK: &str = "********";

/// Configuration keys accepted for every analyzer besides its own items (Cortex's global, tlp
/// and pap base configurations).
pub const EXTRA_KEYS: [&str; 10] = [
    "auto_extract_artifacts",
    "jobCache",
    "jobTimeout",
    "proxy_http",
    "proxy_https",
    "cacerts",
    "check_tlp",
    "max_tlp",
    "check_pap",
    "max_pap",
];

/// Highest accepted `max_tlp` / `max_pap`.
pub const MAX_LEVEL: u64 = 4;


/// A problem with one configuration key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{name}: {message}")]
pub struct FieldError {
    pub name: String,
    pub message: String,
}

impl FieldError {
    fn new(name: &str, message: impl Into<String>) -> Self {
        FieldError {
            name: name.to_owned(),
            message: message.into(),
        }
    }
}

/// True for names that hold secrets: containing `key`, `password`, `secret` or `token`
/// (case-insensitive), e.g. `api_key`, `password`, `github_token`.
pub fn is_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["key", "password", "secret", "token"]
        .iter()
        .any(|w| n.contains(w))
}

/// Secret handling applies to string/text items with a secret name.
fn is_secret_item(item: &ConfigItem) -> bool {
    matches!(item.kind, ItemType::String | ItemType::Text) && is_secret(&item.name)
}

fn type_ok(t: ItemType, v: &Value) -> bool {
    match t {
        ItemType::String | ItemType::Text => v.is_string(),
        ItemType::Number => v.is_number(),
        ItemType::Boolean => v.is_boolean(),
    }
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Non-negative integral JSON number (`3` or `3.0`) as u64.
fn as_integer(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u32::MAX as f64)
            .map(|f| f as u64)
    })
}

fn check_item(item: &ConfigItem, v: Value, from_default: bool) -> Result<Value, String> {
    let origin = if from_default {
        " (in the definition's defaultValue)"
    } else {
        ""
    };
    let t = item.kind.as_str();
    let masked = |v: &Value| is_secret_item(item) && v.as_str() == Some(MASK);
    if item.multi {
        let values = match v {
            Value::Array(a) => a,
            single => vec![single],
        };
        let mut out = Vec::with_capacity(values.len());
        for (i, e) in values.into_iter().enumerate() {
            if e.is_null() {
                continue;
            }
            if !type_ok(item.kind, &e) {
                return Err(format!(
                    "element {i} must be a {t}, not {}{origin}",
                    describe(&e)
                ));
            }
            if masked(&e) {
                return Err(format!("element {i} is the mask {MASK:?}, not a value"));
            }
            out.push(e);
        }
        Ok(Value::Array(out))
    } else {
        if !type_ok(item.kind, &v) {
            return Err(format!("must be a {t}, not {}{origin}", describe(&v)));
        }
        if masked(&v) {
            return Err(format!("is the mask {MASK:?}, not a value"));
        }
        if item.required && v.as_str().is_some_and(|s| s.trim().is_empty()) {
            return Err("is required".into());
        }
        Ok(v)
    }
}

/// Checks one of [`EXTRA_KEYS`]; `Ok(None)` means "unset" (null or empty string).
fn check_extra(name: &str, v: &Value) -> Result<Option<Value>, String> {
    if v.is_null() {
        return Ok(None);
    }
    match name {
        "auto_extract_artifacts" | "check_tlp" | "check_pap" => match v {
            Value::Bool(_) => Ok(Some(v.clone())),
            _ => Err(format!("must be a boolean, not {}", describe(v))),
        },
        "max_tlp" | "max_pap" => match as_integer(v) {
            Some(n) if n <= MAX_LEVEL => Ok(Some(Value::from(n))),
            _ => Err(format!("must be an integer from 0 to {MAX_LEVEL}")),
        },
        "jobCache" => match as_integer(v) {
            Some(n) if n <= u32::MAX as u64 => Ok(Some(Value::from(n))),
            _ => Err("must be a number of minutes (integer, 0 or more)".into()),
        },
        "jobTimeout" => match as_integer(v) {
            Some(n) if (1..=u32::MAX as u64).contains(&n) => Ok(Some(Value::from(n))),
            _ => Err("must be a number of minutes (integer, 1 or more)".into()),
        },
        _ => match v {
            // proxy_http, proxy_https, cacerts
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(_) => Ok(Some(v.clone())),
            _ => Err(format!("must be a string, not {}", describe(v))),
        },
    }
}

/// Validates an instance configuration against a definition's items (Cortex's rules), reporting
/// every error at once.
///
/// * A key given as `null` counts as missing. A missing key takes the item's `defaultValue`;
///   without one: `multi` -> `[]`, optional -> `null`, required -> error.
/// * Types: string/text -> JSON string, number -> JSON number, boolean -> JSON bool; `multi`
///   -> array of that type (a single value is wrapped, `null` elements dropped).
/// * A required string/text item may not be empty (stricter than Cortex).
/// * A secret item may not hold [`MASK`] (call [`merge_update`] first).
/// * [`EXTRA_KEYS`] are accepted and checked (booleans; `max_tlp`/`max_pap` integers
///   0..=[`MAX_LEVEL`]; `jobCache` >= 0 and `jobTimeout` >= 1 integer minutes; proxies and
///   `cacerts` strings); they are kept only when set. A definition item of the same name wins.
/// * Any other key is rejected.
///
/// The result holds every item of the definition plus the extras that were set.
pub fn validate(
    items: &[ConfigItem],
    given: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<FieldError>> {
    let mut out = Map::new();
    let mut errors = Vec::new();
    for item in items {
        let given_value = given.get(&item.name).filter(|v| !v.is_null()).cloned();
        let from_default = given_value.is_none();
        let value = given_value.or_else(|| item.default_value.clone().filter(|v| !v.is_null()));
        let result = match value {
            Some(v) => check_item(item, v, from_default),
            None if item.multi => Ok(Value::Array(Vec::new())),
            None if item.required => Err("is required".into()),
            None => Ok(Value::Null),
        };
        match result {
            Ok(v) => {
                out.insert(item.name.clone(), v);
            }
            Err(m) => errors.push(FieldError::new(&item.name, m)),
        }
    }
    for (name, v) in given {
        if items.iter().any(|i| &i.name == name) {
            continue;
        }
        if !EXTRA_KEYS.contains(&name.as_str()) {
            errors.push(FieldError::new(name, "unknown configuration item"));
            continue;
        }
        match check_extra(name, v) {
            Ok(Some(v)) => {
                out.insert(name.clone(), v);
            }
            Ok(None) => {}
            Err(m) => errors.push(FieldError::new(name, m)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Applies `f` to every string of a secret item (single value or elements of a multi).
fn map_secret_strings<E>(
    items: &[ConfigItem],
    mut config: Map<String, Value>,
    mut f: impl FnMut(&ConfigItem, &str) -> Result<Value, E>,
) -> Result<Map<String, Value>, E> {
    for item in items.iter().filter(|i| is_secret_item(i)) {
        let Some(v) = config.get_mut(&item.name) else {
            continue;
        };
        match v {
            Value::String(s) => *v = f(item, s)?,
            Value::Array(a) => {
                for e in a.iter_mut() {
                    if let Value::String(s) = e {
                        *e = f(item, s)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(config)
}

/// Seals the value of every secret item (strings, and each string of a multi). Values already
/// sealed with this box, and empty strings, are left as they are.
pub fn seal_secrets(
    items: &[ConfigItem],
    secrets: &SecretBox,
    config: Map<String, Value>,
) -> Map<String, Value> {
    let Ok(sealed) = map_secret_strings::<std::convert::Infallible>(items, config, |_, s| {
        Ok(if s.is_empty() || secrets.is_sealed_here(s) {
            Value::from(s)
        } else {
            Value::from(secrets.seal(s))
        })
    });
    sealed
}

/// Opens every sealed secret (for building a job's input). Unsealed values (e.g. imported from
/// Cortex in plain text) pass through. A value that does not open is an error naming the item.
pub fn open_secrets(
    items: &[ConfigItem],
    secrets: &SecretBox,
    config: Map<String, Value>,
) -> Result<Map<String, Value>, FieldError> {
    map_secret_strings(items, config, |item, s| {
        if !s.starts_with(SEALED_PREFIX) {
            return Ok(Value::from(s));
        }
        secrets
            .open(s)
            .map(Value::from)
            .map_err(|e| FieldError::new(&item.name, format!("cannot open stored secret: {e}")))
    })
}

/// For API output: a set secret (non-empty string) becomes [`MASK`], an unset one (`null` or
/// empty string) `null`; for a multi each non-empty element becomes [`MASK`] (the count shows).
/// Other values are unchanged.
pub fn redact(items: &[ConfigItem], config: &Map<String, Value>) -> Map<String, Value> {
    let Ok(mut c) =
        map_secret_strings::<std::convert::Infallible>(items, config.clone(), |_, s| {
            Ok(if s.is_empty() {
                Value::Null
            } else {
                Value::from(MASK)
            })
        });
    // empty elements of a multi secret carry no information
    for item in items.iter().filter(|i| is_secret_item(i) && i.multi) {
        if let Some(Value::Array(a)) = c.get_mut(&item.name) {
            a.retain(|e| !e.is_null());
        }
    }
    c
}

/// Merges an update into a stored configuration. The update replaces the configuration (as in
/// Cortex), except that a secret sent back as [`MASK`] keeps its stored (sealed) value. For a
/// multi secret, a masked element `i` keeps stored element `i`; a list shorter than the stored
/// one that still holds masks is refused (which masked values were removed is unknown), as is
/// a mask with no stored value. Run [`validate`] on the result.
pub fn merge_update(
    items: &[ConfigItem],
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<FieldError>> {
    let mut out = new.clone();
    let mut errors = Vec::new();
    for item in items.iter().filter(|i| is_secret_item(i)) {
        let Some(v) = out.get_mut(&item.name) else {
            continue;
        };
        let stored = old.get(&item.name);
        match v {
            Value::String(s) if s == MASK => match stored {
                Some(Value::String(o)) if !o.is_empty() => *v = Value::from(o.as_str()),
                _ => errors.push(FieldError::new(
                    &item.name,
                    "masked value but no stored secret",
                )),
            },
            Value::Array(a) if a.iter().any(|e| e.as_str() == Some(MASK)) => {
                let stored: Vec<Value> = match stored {
                    Some(Value::Array(s)) => s.clone(),
                    Some(s @ Value::String(_)) => vec![s.clone()],
                    _ => Vec::new(),
                };
                if a.len() < stored.len() {
                    errors.push(FieldError::new(
                        &item.name,
                        "values were removed from a masked list: send every value again",
                    ));
                    continue;
                }
                for (i, e) in a.iter_mut().enumerate() {
                    if e.as_str() == Some(MASK) {
                        match stored.get(i) {
                            Some(s @ Value::String(_)) => *e = s.clone(),
                            _ => {
                                errors.push(FieldError::new(
                                    &item.name,
                                    format!("element {i} is masked but has no stored secret"),
                                ));
                                break;
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Server-wide values used by [`input_config`] when neither the instance nor the definition
/// sets them. Defaults are Cortex's (`cache.job = 10 minutes`, `job.timeout = 30 minutes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputDefaults {
    /// Minutes.
    pub job_cache: u64,
    /// Minutes.
    pub job_timeout: u64,
    pub proxy_http: Option<String>,
    pub proxy_https: Option<String>,
}

impl Default for InputDefaults {
    fn default() -> Self {
        InputDefaults {
            job_cache: 10,
            job_timeout: 30,
            proxy_http: None,
            proxy_https: None,
        }
    }
}

fn deep_merge(base: &mut Map<String, Value>, over: &Map<String, Value>) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(Value::Object(b)), Value::Object(o)) => deep_merge(b, o),
            // an unset instance value does not hide the definition's own value
            (Some(b), Value::Null) if !b.is_null() => {}
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

fn set_if_absent(config: &mut Map<String, Value>, key: &str, value: Value) {
    if config.get(key).is_none_or(Value::is_null) {
        config.insert(key.to_owned(), value);
    }
}

/// The `config` object of a job's `input.json`, as Cortex 3 builds it: the definition's
/// `config`, deep-merged with the (opened) instance configuration, then
/// `proxy: {http, https}` from `proxy_http`/`proxy_https` (instance, else server default; only
/// the set ones), and explicit values for what cortexutils would otherwise default:
/// `check_tlp` false, `max_tlp` 2, `check_pap` false, `max_pap` 2 (cortexutils' own defaults),
/// `auto_extract_artifacts` false (Cortex's default), `jobCache`/`jobTimeout` from `defaults`.
/// A value set by the instance wins over the definition's, which wins over these defaults;
/// an instance `null` never hides a definition value.
pub fn input_config(
    def: &Definition,
    instance_config: &Map<String, Value>,
    defaults: &InputDefaults,
) -> Map<String, Value> {
    let mut config = def.config.clone();
    deep_merge(&mut config, instance_config);
    for (key, proto, fallback) in [
        ("proxy_http", "http", &defaults.proxy_http),
        ("proxy_https", "https", &defaults.proxy_https),
    ] {
        let url = config
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
            .or_else(|| fallback.clone().filter(|s| !s.trim().is_empty()));
        if let Some(url) = url {
            let proxy = config
                .entry("proxy")
                .or_insert_with(|| Value::Object(Map::new()));
            if !proxy.is_object() {
                *proxy = Value::Object(Map::new());
            }
            if let Value::Object(p) = proxy {
                p.insert(proto.to_owned(), Value::from(url));
            }
        }
    }
    set_if_absent(&mut config, "check_tlp", Value::Bool(false));
    set_if_absent(&mut config, "max_tlp", Value::from(2));
    set_if_absent(&mut config, "check_pap", Value::Bool(false));
    set_if_absent(&mut config, "max_pap", Value::from(2));
    set_if_absent(&mut config, "auto_extract_artifacts", Value::Bool(false));
    set_if_absent(&mut config, "jobCache", Value::from(defaults.job_cache));
    set_if_absent(&mut config, "jobTimeout", Value::from(defaults.job_timeout));
    config
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::io;
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as B64;

    use crate::core::secret::KEY_FILE_NAME;
    use crate::domain::analysis::catalog::{Scan, scan};
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn items(v: Value) -> Vec<ConfigItem> {
        serde_json::from_value(v).unwrap()
    }

    fn real() -> Option<Scan> {
        crate::domain::analysis::catalog::tests::real_dir().map(|p| scan(&[p]))
    }

    fn names(errs: &[FieldError]) -> Vec<&str> {
        errs.iter().map(|e| e.name.as_str()).collect()
    }

    fn test_box() -> SecretBox {
        SecretBox::from_key([7u8; 32])
    }

    #[test]
    fn secret_names() {
        for n in [
            "api_key",
            "key",
            "API_KEY",
            "password",
            "Secret",
            "client_secret",
            "github_token",
            "apikey",
            "private_key",
        ] {
            assert!(is_secret(n), "{n}");
        }
        for n in [
            "url",
            "rules",
            "blocklistpath",
            "auto_extract_artifacts",
            "jobCache",
            "username",
            "check_tlp",
            "path",
        ] {
            assert!(!is_secret(n), "{n}");
        }
    }

    #[test]
    fn yara_multi_and_defaults() {
        let Some(s) = real() else { return };
        let yara = &s.get("Yara_3_0").unwrap().configuration_items;
        let out = validate(yara, &Map::new()).unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"rules": [], "github_urls": [], "github_token": null, "files_limit": 400})
        );
        // a single value is wrapped, nulls in lists dropped
        let out = validate(yara, &obj(json!({"rules": "/opt/rules", "github_urls": ["https://github.com/a/b/tree/main", null], "files_limit": 10}))).unwrap();
        assert_eq!(out["rules"], json!(["/opt/rules"]));
        assert_eq!(
            out["github_urls"],
            json!(["https://github.com/a/b/tree/main"])
        );
        assert_eq!(out["files_limit"], 10);
        // null means missing
        let out = validate(yara, &obj(json!({"rules": null, "files_limit": null}))).unwrap();
        assert_eq!(out["rules"], json!([]));
        assert_eq!(out["files_limit"], 400);
        // type errors, all reported
        let errs = validate(
            yara,
            &obj(json!({"rules": [1, "x"], "files_limit": "400", "github_token": ["t"]})),
        )
        .unwrap_err();
        assert_eq!(
            names(&errs),
            ["rules", "github_token", "files_limit"],
            "{errs:?}"
        );
        assert!(
            errs[0].message.contains("element 0 must be a string"),
            "{errs:?}"
        );
    }

    #[test]
    fn firehol_required_item() {
        let Some(s) = real() else { return };
        let fire = &s.get("FireHOLBlocklists_2_0").unwrap().configuration_items;
        let errs = validate(fire, &Map::new()).unwrap_err();
        assert_eq!(errs, [FieldError::new("blocklistpath", "is required")]);
        let errs = validate(fire, &obj(json!({"blocklistpath": null}))).unwrap_err();
        assert_eq!(names(&errs), ["blocklistpath"]);
        let errs = validate(fire, &obj(json!({"blocklistpath": "  "}))).unwrap_err();
        assert_eq!(names(&errs), ["blocklistpath"]);
        let errs = validate(fire, &obj(json!({"blocklistpath": ["/a"]}))).unwrap_err();
        assert!(errs[0].message.contains("not a list"), "{errs:?}");
        let out = validate(fire, &obj(json!({"blocklistpath": "/opt/firehol"}))).unwrap();
        assert_eq!(Value::Object(out), json!({"blocklistpath": "/opt/firehol"}));
    }

    #[test]
    fn required_with_default_and_definition_defaults() {
        let Some(s) = real() else { return };
        let eml = &s.get("EmlParser_2_1").unwrap().configuration_items;
        let out = validate(eml, &Map::new()).unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"email_visualisation": false, "wkhtmltoimage_path": "/usr/bin/wkhtmltoimage"})
        );
        let t = &s.get("TestAnalyzer_1_0").unwrap().configuration_items;
        let out = validate(t, &obj(json!({"some_number": 2.5, "throw_error": true}))).unwrap();
        assert_eq!(out["some_list"], json!(["item1", "item2", "item3"]));
        assert_eq!(out["some_string"], "some string..");
        assert_eq!(out["some_number"], 2.5);
        assert_eq!(out["throw_error"], true);
        let errs =
            validate(t, &obj(json!({"throw_error": "yes", "some_number": true}))).unwrap_err();
        assert_eq!(names(&errs), ["some_number", "throw_error"]);
        let v = s.get("ValidateObservable_1_0").unwrap();
        assert!(
            validate(&v.configuration_items, &Map::new())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn bad_default_in_definition_is_reported() {
        let it = items(json!([{"name": "n", "type": "number", "defaultValue": "x"}]));
        let errs = validate(&it, &Map::new()).unwrap_err();
        assert!(errs[0].message.contains("defaultValue"), "{errs:?}");
        let it =
            items(json!([{"name": "n", "type": "number", "required": true, "defaultValue": null}]));
        assert_eq!(
            validate(&it, &Map::new()).unwrap_err()[0].message,
            "is required"
        );
    }

    #[test]
    fn extras_and_unknown_keys() {
        let it = items(json!([{"name": "url", "type": "string"}]));
        let given = obj(json!({
            "url": "https://x", "auto_extract_artifacts": true, "jobCache": 0, "jobTimeout": 5.0,
            "proxy_http": "http://proxy:3128", "proxy_https": "", "cacerts": "-----BEGIN",
            "check_tlp": true, "max_tlp": 3, "check_pap": null, "max_pap": 4,
        }));
        let out = validate(&it, &given).unwrap();
        assert_eq!(
            Value::Object(out),
            json!({
                "url": "https://x", "auto_extract_artifacts": true, "jobCache": 0, "jobTimeout": 5,
                "proxy_http": "http://proxy:3128", "cacerts": "-----BEGIN", "check_tlp": true,
                "max_tlp": 3, "max_pap": 4,
            })
        );
        let bad = obj(json!({
            "auto_extract_artifacts": "true", "jobCache": -1, "jobTimeout": 0, "proxy_http": 1,
            "proxy_https": true, "cacerts": [], "check_tlp": 1, "max_tlp": 5, "check_pap": "no",
            "max_pap": 1.5, "service": "x", "api_key": "k", "url": 3,
        }));
        let errs = validate(&it, &bad).unwrap_err();
        let mut n = names(&errs);
        n.sort();
        assert_eq!(
            n,
            [
                "api_key",
                "auto_extract_artifacts",
                "cacerts",
                "check_pap",
                "check_tlp",
                "jobCache",
                "jobTimeout",
                "max_pap",
                "max_tlp",
                "proxy_http",
                "proxy_https",
                "service",
                "url",
            ]
        );
        assert!(
            errs.iter()
                .any(|e| e.name == "service" && e.message == "unknown configuration item")
        );
        // a definition item named like an extra follows the item's rules
        let it = items(json!([{"name": "max_tlp", "type": "string"}]));
        assert_eq!(
            validate(&it, &obj(json!({"max_tlp": "high"}))).unwrap()["max_tlp"],
            "high"
        );
    }

    #[test]
    fn mask_is_not_a_value() {
        let it = items(json!([
            {"name": "api_key", "type": "string"},
            {"name": "tokens", "type": "string", "multi": true},
            {"name": "label", "type": "string"},
        ]));
        let errs =
            validate(&it, &obj(json!({"api_key": MASK, "tokens": ["a", MASK]}))).unwrap_err();
        assert_eq!(names(&errs), ["api_key", "tokens"]);
        assert!(validate(&it, &obj(json!({"label": MASK}))).is_ok());
    }

    #[test]
    fn seal_and_open() {
        let b = test_box();
        let s1 = b.seal("hunter2");
        let s2 = b.seal("hunter2");
        assert!(s1.starts_with(SEALED_PREFIX));
        assert_ne!(s1, s2, "fresh nonce each time");
        assert!(!s1.contains("hunter2"));
        assert_eq!(b.open(&s1).unwrap(), "hunter2");
        assert_eq!(b.open(&b.seal("")).unwrap(), "");
        assert_eq!(b.open(&b.seal("ünïcødé 🔑")).unwrap(), "ünïcødé 🔑");
        assert!(b.is_sealed_here(&s1));
        assert!(!SecretBox::from_key([8u8; 32]).is_sealed_here(&s1));
        assert!(matches!(
            SecretBox::from_key([8u8; 32]).open(&s1),
            Err(SecretError::Authentication)
        ));
    }

    #[test]
    fn tampered_sealed_secret_is_an_error() {
        let b = test_box();
        let sealed = b.seal("hunter2");
        let raw = B64.decode(&sealed[SEALED_PREFIX.len()..]).unwrap();
        // flip each byte in turn: nonce, ciphertext and tag are all covered
        for i in 0..raw.len() {
            let mut t = raw.clone();
            t[i] ^= 0x01;
            let s = format!("{SEALED_PREFIX}{}", B64.encode(&t));
            assert!(
                matches!(b.open(&s), Err(SecretError::Authentication)),
                "byte {i}"
            );
        }
        // truncated, extended, garbage
        let mut t = raw.clone();
        t.pop();
        assert!(
            b.open(&format!("{SEALED_PREFIX}{}", B64.encode(&t)))
                .is_err()
        );
        let mut t = raw.clone();
        t.push(0);
        assert!(
            b.open(&format!("{SEALED_PREFIX}{}", B64.encode(&t)))
                .is_err()
        );
        assert!(matches!(
            b.open(&format!("{SEALED_PREFIX}{}", B64.encode([0u8; 27]))),
            Err(SecretError::Malformed)
        ));
        for s in [
            "",
            "enc:v1:",
            "enc:v1:!!!!",
            "enc:v1:AAAA",
            "hunter2",
            "enc:v2:AAAA",
            "enc:v1:\u{0}",
        ] {
            assert!(b.open(s).is_err(), "{s:?}");
        }
        assert!(matches!(b.open("hunter2"), Err(SecretError::NotSealed)));
    }

    #[test]
    fn key_file_created_0600_and_reloaded() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let b1 = SecretBox::load_or_create(&data).unwrap();
        let path = data.join(KEY_FILE_NAME);
        let meta = fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(meta.len(), 32);
        // no temporary file left behind
        assert_eq!(fs::read_dir(&data).unwrap().count(), 1);
        let sealed = b1.seal("s3cret");
        let b2 = SecretBox::load_or_create(&data).unwrap();
        assert_eq!(b2.open(&sealed).unwrap(), "s3cret");
        assert_eq!(format!("{b2:?}"), "SecretBox(..)");
        // wrong size -> error
        fs::write(&path, [1u8; 31]).unwrap();
        let e = SecretBox::load_or_create(&data).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        fs::write(&path, [1u8; 33]).unwrap();
        assert!(SecretBox::load_or_create(&data).is_err());
        // a directory in the way -> error
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        assert!(SecretBox::load_or_create(&data).is_err());
    }

    #[test]
    fn key_file_created_once_under_concurrency() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let d = dir.clone();
                std::thread::spawn(move || SecretBox::load_or_create(&d).unwrap().seal("x"))
            })
            .collect();
        let sealed: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let b = SecretBox::load_or_create(&dir).unwrap();
        for s in sealed {
            assert_eq!(b.open(&s).unwrap(), "x");
        }
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    }

    fn secret_items() -> Vec<ConfigItem> {
        items(json!([
            {"name": "api_key", "type": "string", "required": true},
            {"name": "password", "type": "text"},
            {"name": "tokens", "type": "string", "multi": true},
            {"name": "key_count", "type": "number"},
            {"name": "url", "type": "string"},
        ]))
    }

    #[test]
    fn seal_open_redact_round_trip() {
        let b = test_box();
        let it = secret_items();
        let plain = validate(
            &it,
            &obj(json!({"api_key": "K", "tokens": ["t1", "", "t2"], "key_count": 3, "url": "https://x", "jobCache": 5})),
        )
        .unwrap();
        let sealed = seal_secrets(&it, &b, plain.clone());
        assert!(
            sealed["api_key"]
                .as_str()
                .unwrap()
                .starts_with(SEALED_PREFIX)
        );
        assert_eq!(sealed["password"], Value::Null);
        let toks = sealed["tokens"].as_array().unwrap();
        assert!(toks[0].as_str().unwrap().starts_with(SEALED_PREFIX));
        assert_eq!(toks[1], "");
        assert!(toks[2].as_str().unwrap().starts_with(SEALED_PREFIX));
        assert_eq!(sealed["key_count"], 3);
        assert_eq!(sealed["url"], "https://x");
        assert_eq!(sealed["jobCache"], 5);
        assert!(!serde_json::to_string(&sealed).unwrap().contains("\"K\""));
        // sealing again leaves sealed values alone
        assert_eq!(seal_secrets(&it, &b, sealed.clone()), sealed);
        // a plain value that merely looks sealed is sealed
        let fake = obj(json!({"api_key": "enc:v1:AAAA"}));
        let s = seal_secrets(&it, &b, fake);
        assert_eq!(
            b.open(s["api_key"].as_str().unwrap()).unwrap(),
            "enc:v1:AAAA"
        );
        // open reverses
        assert_eq!(open_secrets(&it, &b, sealed.clone()).unwrap(), plain);
        // plain text values (imported) pass through open
        assert_eq!(open_secrets(&it, &b, plain.clone()).unwrap(), plain);
        // redact
        let red = redact(&it, &sealed);
        assert_eq!(
            Value::Object(red),
            json!({"api_key": MASK, "password": null, "tokens": [MASK, MASK], "key_count": 3, "url": "https://x", "jobCache": 5})
        );
        let red = redact(&it, &obj(json!({"api_key": "", "tokens": []})));
        assert_eq!(Value::Object(red), json!({"api_key": null, "tokens": []}));
        // a stored secret that does not open is an error naming the item
        let mut broken = sealed.clone();
        let mut s = broken["api_key"].as_str().unwrap().to_owned();
        s.insert(SEALED_PREFIX.len() + 2, 'A');
        broken.insert("api_key".into(), Value::from(s));
        assert_eq!(open_secrets(&it, &b, broken).unwrap_err().name, "api_key");
        let other = SecretBox::from_key([9u8; 32]);
        assert_eq!(
            open_secrets(&it, &other, sealed).unwrap_err().name,
            "api_key"
        );
    }

    #[test]
    fn update_with_masks_keeps_stored_secrets() {
        let b = test_box();
        let it = secret_items();
        let stored = seal_secrets(
            &it,
            &b,
            validate(
                &it,
                &obj(json!({"api_key": "K", "password": "P", "tokens": ["t1", "t2"]})),
            )
            .unwrap(),
        );
        // the UI sends back what it got, changing only the url and adding a token
        let mut update = redact(&it, &stored);
        update.insert("url".into(), json!("https://new"));
        update.insert("tokens".into(), json!([MASK, MASK, "t3"]));
        let merged = merge_update(&it, &stored, &update).unwrap();
        assert_eq!(merged["api_key"], stored["api_key"]);
        assert_eq!(merged["password"], stored["password"]);
        let new = seal_secrets(&it, &b, validate(&it, &merged).unwrap());
        let opened = open_secrets(&it, &b, new).unwrap();
        assert_eq!(opened["api_key"], "K");
        assert_eq!(opened["password"], "P");
        assert_eq!(opened["tokens"], json!(["t1", "t2", "t3"]));
        assert_eq!(opened["url"], "https://new");
        // a new value replaces, a missing one unsets (the update replaces the configuration)
        let merged = merge_update(&it, &stored, &obj(json!({"api_key": "K2"}))).unwrap();
        let opened = open_secrets(
            &it,
            &b,
            seal_secrets(&it, &b, validate(&it, &merged).unwrap()),
        )
        .unwrap();
        assert_eq!(opened["api_key"], "K2");
        assert_eq!(opened["password"], Value::Null);
        assert_eq!(opened["tokens"], json!([]));
        // masks without a stored value, or a shortened masked list, are refused
        let errs = merge_update(
            &it,
            &Map::new(),
            &obj(json!({"api_key": MASK, "tokens": [MASK]})),
        )
        .unwrap_err();
        assert_eq!(names(&errs), ["api_key", "tokens"]);
        let errs = merge_update(
            &it,
            &stored,
            &obj(json!({"api_key": MASK, "tokens": [MASK]})),
        )
        .unwrap_err();
        assert_eq!(names(&errs), ["tokens"]);
        // non-secret items are not touched by masks
        let merged =
            merge_update(&it, &stored, &obj(json!({"api_key": MASK, "url": MASK}))).unwrap();
        assert_eq!(merged["url"], MASK);
    }

    #[test]
    fn input_config_layers() {
        let Some(s) = real() else { return };
        let t = s.get("TestAnalyzer_1_0").unwrap();
        let inst = validate(&t.configuration_items, &obj(json!({"throw_error": false}))).unwrap();
        let c = input_config(t, &inst, &InputDefaults::default());
        assert_eq!(
            Value::Object(c),
            json!({
                "service": "testing", "some_string": "some string..", "some_list": ["item1", "item2", "item3"],
                "some_number": 1, "throw_error": false, "check_tlp": false, "max_tlp": 2,
                "check_pap": false, "max_pap": 2, "auto_extract_artifacts": false,
                "jobCache": 10, "jobTimeout": 30,
            })
        );
        // definition config beats the defaults, the instance beats the definition
        let eml = s.get("EmlParser_2_1").unwrap();
        let inst = validate(&eml.configuration_items, &Map::new()).unwrap();
        let c = input_config(eml, &inst, &InputDefaults::default());
        assert_eq!(
            (&c["check_tlp"], &c["max_tlp"], &c["service"]),
            (&json!(false), &json!(3), &json!(""))
        );
        let inst = validate(
            &eml.configuration_items,
            &obj(json!({"check_tlp": true, "max_tlp": 1, "jobTimeout": 2})),
        )
        .unwrap();
        let c = input_config(eml, &inst, &InputDefaults::default());
        assert_eq!(
            (&c["check_tlp"], &c["max_tlp"], &c["jobTimeout"]),
            (&json!(true), &json!(1), &json!(2))
        );
        let misp = s.get("MISPWarningLists_2_0").unwrap();
        let inst = validate(&misp.configuration_items, &Map::new()).unwrap();
        let c = input_config(misp, &inst, &InputDefaults::default());
        assert_eq!(c["check_tlp"], true);
        assert_eq!(c["auto_extract"], false);
        assert_eq!(c["path"], Value::Null);
        assert!(c.get("proxy").is_none());
    }

    #[test]
    fn input_config_proxy_and_nulls() {
        let it =
            items(json!([{"name": "service", "type": "string"}, {"name": "x", "type": "string"}]));
        let def = crate::domain::analysis::catalog::Definition::from_json(
            json!({
                "name": "P", "version": "1", "description": "", "author": "", "url": "", "license": "",
                "config": {"service": "fixed", "proxy": {"no": "localhost"}, "nested": {"a": 1, "b": 2}},
                "configurationItems": it,
            }),
            std::path::Path::new("/x"),
            std::path::Path::new("/x/P/P.json"),
        )
        .unwrap();
        let inst = validate(
            &def.configuration_items,
            &obj(json!({"proxy_http": "http://p:3128"})),
        )
        .unwrap();
        let mut inst2 = inst.clone();
        inst2.insert("nested".into(), json!({"b": 3}));
        let defaults = InputDefaults {
            job_cache: 1,
            job_timeout: 2,
            proxy_http: Some("http://global".into()),
            proxy_https: Some("http://global-s".into()),
        };
        let c = input_config(&def, &inst2, &defaults);
        assert_eq!(c["service"], "fixed"); // instance null does not hide the definition value
        assert_eq!(c["x"], Value::Null);
        assert_eq!(
            c["proxy"],
            json!({"no": "localhost", "http": "http://p:3128", "https": "http://global-s"})
        );
        assert_eq!(c["proxy_http"], "http://p:3128");
        assert_eq!(c["nested"], json!({"a": 1, "b": 3}));
        assert_eq!((&c["jobCache"], &c["jobTimeout"]), (&json!(1), &json!(2)));
        let c = input_config(&def, &inst, &InputDefaults::default());
        assert_eq!(
            c["proxy"],
            json!({"no": "localhost", "http": "http://p:3128"})
        );
    }
}
