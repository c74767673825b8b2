//! Analyzer definitions, read from Cortex's `<dir>/<Analyzer>/<Flavor>.json` layout.
//!
//! Compatible with the definitions of the public Cortex-Analyzers collection and with the
//! `GET /api/analyzerdefinition` output of Cortex (camelCase keys).
//!
//! * A definition's `command` is relative to the analyzers directory it was found in (as in
//!   Cortex, e.g. `TestAnalyzer/testing.py`) and must resolve — after following `..` and
//!   symlinks — to a regular file inside that directory; otherwise the definition is refused.
//! * Nothing here panics on bad input: every problem becomes a [`ScanError`].

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// Definition files larger than this are refused (listed as errors).
pub const MAX_DEFINITION_BYTES: u64 = 1024 * 1024;

/// A definition's configuration items: the shape clients see, read as it is from the file.
pub use app::model::{ConfigItem, ItemType};

/// An analyzer definition (one flavour of an analyzer).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Definition {
    /// `name_version`, see [`definition_id`].
    pub id: String,
    pub name: String,
    pub version: String,
    pub description: String,
    pub author: String,
    pub url: String,
    pub license: String,
    pub data_type_list: Vec<String>,
    /// As written in the file: relative to [`Definition::dir`].
    pub command: Option<String>,
    /// Defaults to `name`.
    pub base_config: String,
    /// The definition's fixed `config` object (merged under the instance configuration).
    pub config: Map<String, Value>,
    pub configuration_items: Vec<ConfigItem>,
    /// From `service_homepage` (or `serviceHomepage`); kept only if it is an http(s) URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_homepage: Option<String>,
    /// Canonical path of the analyzers directory the definition was found in.
    #[serde(skip)]
    pub dir: PathBuf,
    /// Its JSON file.
    #[serde(skip)]
    pub path: PathBuf,
}

/// Why a definition's command cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("the definition has no command")]
    NoCommand,
    #[error("the command is empty")]
    Empty,
    #[error("analyzers directory {dir} is not usable: {source}")]
    Dir { dir: PathBuf, source: io::Error },
    #[error("command {command:?} not found ({source})")]
    Missing { command: String, source: io::Error },
    #[error("command {command:?} resolves to {resolved}, outside the analyzers directory {dir}")]
    Outside {
        command: String,
        resolved: PathBuf,
        dir: PathBuf,
    },
    #[error("command {command:?} resolves to {resolved}, which is not a regular file")]
    NotAFile { command: String, resolved: PathBuf },
}

/// A file (or directory) that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanError {
    #[serde(serialize_with = "path_lossy")]
    pub path: PathBuf,
    pub message: String,
}

/// Result of [`scan`]: definitions sorted by id, plus every problem met.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scan {
    pub definitions: Vec<Definition>,
    pub errors: Vec<ScanError>,
}

impl Scan {
    pub fn get(&self, id: &str) -> Option<&Definition> {
        self.definitions
            .binary_search_by(|d| d.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.definitions[i])
    }
}

fn path_lossy<S: Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

/// Cortex's definition id: `name + "_" + version` with `.` replaced by `_`
/// (`TestAnalyzer` `1.0` -> `TestAnalyzer_1_0`). Waggle also replaces any character outside
/// `[A-Za-z0-9_-]` by `_`, so an id is always safe in a URL path; for every real definition
/// this gives the same id as Cortex.
pub fn definition_id(name: &str, version: &str) -> String {
    format!("{name}_{version}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The file format (keys as in Cortex-Analyzers files; unknown keys ignored).
#[derive(Deserialize)]
struct RawDefinition {
    name: String,
    version: String,
    description: String,
    author: String,
    url: String,
    license: String,
    #[serde(default, rename = "dataTypeList")]
    data_type_list: Option<Vec<String>>,
    #[serde(default)]
    command: Option<String>,
    #[serde(default, rename = "baseConfig")]
    base_config: Option<String>,
    #[serde(default)]
    config: Option<Map<String, Value>>,
    #[serde(default, rename = "configurationItems")]
    configuration_items: Option<Vec<ConfigItem>>,
}

impl Definition {
    /// Builds a definition from one JSON object of a definition file. `dir` is the analyzers
    /// directory, `path` the file. Does not check the command (see [`Definition::command_path`]).
    pub fn from_json(value: Value, dir: &Path, path: &Path) -> Result<Definition, String> {
        let service_homepage = value.as_object().and_then(|o| {
            o.get("service_homepage")
                .or_else(|| o.get("serviceHomepage"))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| s.starts_with("https://") || s.starts_with("http://"))
                .map(str::to_owned)
        });
        if !value.is_object() {
            return Err("invalid definition: not a JSON object".into());
        }
        let raw: RawDefinition =
            serde_json::from_value(value).map_err(|e| format!("invalid definition: {e}"))?;
        for (field, v) in [("name", &raw.name), ("version", &raw.version)] {
            if v.trim().is_empty() {
                return Err(format!("invalid definition: `{field}` is empty"));
            }
        }
        let configuration_items = raw.configuration_items.unwrap_or_default();
        let mut seen = HashSet::new();
        for item in &configuration_items {
            if item.name.trim().is_empty() {
                return Err("invalid definition: a configuration item has an empty name".into());
            }
            if !seen.insert(item.name.as_str()) {
                return Err(format!(
                    "invalid definition: configuration item `{}` is declared twice",
                    item.name
                ));
            }
        }
        Ok(Definition {
            id: definition_id(&raw.name, &raw.version),
            base_config: raw
                .base_config
                .filter(|b| !b.trim().is_empty())
                .unwrap_or_else(|| raw.name.clone()),
            name: raw.name,
            version: raw.version,
            description: raw.description,
            author: raw.author,
            url: raw.url,
            license: raw.license,
            data_type_list: raw.data_type_list.unwrap_or_default(),
            command: raw.command,
            config: raw.config.unwrap_or_default(),
            configuration_items,
            service_homepage,
            dir: dir.to_path_buf(),
            path: path.to_path_buf(),
        })
    }

    /// Absolute, canonical path of the command, checked again at each call (the tree may have
    /// changed since the scan): it must be a regular file inside [`Definition::dir`].
    pub fn command_path(&self) -> Result<PathBuf, CommandError> {
        let command = self.command.as_deref().ok_or(CommandError::NoCommand)?;
        if command.trim().is_empty() {
            return Err(CommandError::Empty);
        }
        let dir = fs::canonicalize(&self.dir).map_err(|source| CommandError::Dir {
            dir: self.dir.clone(),
            source,
        })?;
        let resolved =
            fs::canonicalize(dir.join(command)).map_err(|source| CommandError::Missing {
                command: command.to_owned(),
                source,
            })?;
        if resolved == dir || !resolved.starts_with(&dir) {
            return Err(CommandError::Outside {
                command: command.to_owned(),
                resolved,
                dir,
            });
        }
        match fs::metadata(&resolved) {
            Ok(m) if m.is_file() => Ok(resolved),
            Ok(_) => Err(CommandError::NotAFile {
                command: command.to_owned(),
                resolved,
            }),
            Err(source) => Err(CommandError::Missing {
                command: command.to_owned(),
                source,
            }),
        }
    }

    /// Working directory for a run: the folder containing the command.
    pub fn cwd(&self) -> Result<PathBuf, CommandError> {
        let cmd = self.command_path()?;
        // A canonical file path inside `dir` always has a parent.
        Ok(cmd.parent().map(Path::to_path_buf).unwrap_or(cmd))
    }

    pub fn can_process(&self, data_type: &str) -> bool {
        self.data_type_list.iter().any(|d| d == data_type)
    }
}

fn is_hidden(name: &OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

/// Sorted entries of a directory; an unreadable directory is reported and yields nothing.
fn sorted_entries(dir: &Path, errors: &mut Vec<ScanError>) -> Vec<PathBuf> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            errors.push(ScanError {
                path: dir.to_path_buf(),
                message: format!("cannot read directory: {e}"),
            });
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for entry in rd {
        match entry {
            Ok(e) if !is_hidden(&e.file_name()) => out.push(e.path()),
            Ok(_) => {}
            Err(e) => errors.push(ScanError {
                path: dir.to_path_buf(),
                message: format!("cannot read directory entry: {e}"),
            }),
        }
    }
    out.sort();
    out
}

fn is_definition_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(OsStr::to_str) else {
        return false;
    };
    name.ends_with(".json") && !name.starts_with("requirements")
}

/// Reads a definition file (bounded), returning its JSON value(s). Like Cortex, a file may
/// hold one definition object or an array of them.
fn read_definition_file(path: &Path) -> Result<Vec<Value>, String> {
    let meta = fs::metadata(path).map_err(|e| format!("cannot read file: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_DEFINITION_BYTES {
        return Err(format!("file is larger than {MAX_DEFINITION_BYTES} bytes"));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    fs::File::open(path)
        .and_then(|f| f.take(MAX_DEFINITION_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read file: {e}"))?;
    if bytes.len() as u64 > MAX_DEFINITION_BYTES {
        return Err(format!("file is larger than {MAX_DEFINITION_BYTES} bytes"));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Array(values)) if values.is_empty() => {
            Err("no definition in file (empty list)".into())
        }
        Ok(Value::Array(values)) => Ok(values),
        Ok(v @ Value::Object(_)) => Ok(vec![v]),
        Ok(_) => Err("invalid definition: not a JSON object".into()),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

/// Scans analyzer directories (`<dir>/<Analyzer>/<Flavor>.json`, one level of folders).
///
/// Hidden entries, non-`.json` files and `requirements*` files are skipped. A file that does
/// not parse, lacks a required field, is over [`MAX_DEFINITION_BYTES`], or whose command does
/// not resolve to a file inside its directory is listed in `errors`; the others still load.
/// Definitions without a `command` are kept (they cannot be run by a process runner; callers
/// see `command_path()` fail). On duplicate ids the first one found wins (directories in the
/// given order, then folders and files by name) and later ones are errors.
pub fn scan(dirs: &[PathBuf]) -> Scan {
    let mut found: BTreeMap<String, Definition> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut seen_dirs = HashSet::new();
    for dir in dirs {
        let canon = match fs::canonicalize(dir) {
            Ok(c) if c.is_dir() => c,
            Ok(_) => {
                errors.push(ScanError {
                    path: dir.clone(),
                    message: "not a directory".into(),
                });
                continue;
            }
            Err(e) => {
                errors.push(ScanError {
                    path: dir.clone(),
                    message: format!("analyzers directory unusable: {e}"),
                });
                continue;
            }
        };
        if !seen_dirs.insert(canon.clone()) {
            continue; // the same directory listed twice
        }
        for folder in sorted_entries(&canon, &mut errors) {
            if !folder.is_dir() {
                continue; // README, LICENSE, ... at the top level
            }
            for file in sorted_entries(&folder, &mut errors) {
                if !is_definition_file(&file) {
                    continue;
                }
                let values = match read_definition_file(&file) {
                    Ok(v) => v,
                    Err(message) => {
                        errors.push(ScanError {
                            path: file,
                            message,
                        });
                        continue;
                    }
                };
                for value in values {
                    let def = match Definition::from_json(value, &canon, &file) {
                        Ok(d) => d,
                        Err(message) => {
                            errors.push(ScanError {
                                path: file.clone(),
                                message,
                            });
                            continue;
                        }
                    };
                    if def.command.is_some()
                        && let Err(e) = def.command_path()
                    {
                        errors.push(ScanError {
                            path: file.clone(),
                            message: format!("definition {} refused: {e}", def.id),
                        });
                        continue;
                    }
                    if let Some(first) = found.get(&def.id) {
                        errors.push(ScanError {
                            path: file.clone(),
                            message: format!(
                                "duplicate definition id {} (already loaded from {})",
                                def.id,
                                first.path.display()
                            ),
                        });
                        continue;
                    }
                    found.insert(def.id.clone(), def);
                }
            }
        }
    }
    Scan {
        definitions: found.into_values().collect(),
        errors,
    }
}

impl Definition {
    /// The shape clients see.
    pub fn to_model(&self) -> app::model::AnalyzerDefinition {
        app::model::AnalyzerDefinition {
            id: self.id.clone(),
            name: self.name.clone(),
            version: self.version.clone(),
            description: self.description.clone(),
            author: self.author.clone(),
            url: self.url.clone(),
            license: self.license.clone(),
            data_type_list: self.data_type_list.clone(),
            base_config: self.base_config.clone(),
            configuration_items: self.configuration_items.clone(),
            service_homepage: self.service_homepage.clone(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;
    use std::os::unix::fs::{PermissionsExt, symlink};

    /// The real Cortex-Analyzers definitions (`CORTEX_ANALYZERS_DIR` overrides the path);
    /// tests using them are skipped where the directory is absent.
    pub(crate) fn real_dir() -> Option<PathBuf> {
        let p = std::env::var_os("CORTEX_ANALYZERS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cortex-analyzers/analyzers"));
        if !p.is_dir() {
            eprintln!("skipped: {} not found", p.display());
            return None;
        }
        Some(p)
    }

    fn def_json(name: &str, version: &str, command: &str) -> Value {
        json!({
            "name": name, "version": version, "description": "d", "author": "a",
            "url": "https://example.org", "license": "AGPL-V3",
            "dataTypeList": ["ip"], "command": command,
        })
    }

    fn write(path: &Path, content: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    fn write_exec(path: &Path) {
        write(path, "#!/bin/sh\necho '{}'\n");
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// dir/<folder>/<file>.json with a command `<folder>/run.sh` that exists.
    fn add_analyzer(dir: &Path, folder: &str, name: &str, version: &str) {
        write_exec(&dir.join(folder).join("run.sh"));
        write(
            &dir.join(folder).join(format!("{name}.json")),
            &def_json(name, version, &format!("{folder}/run.sh")).to_string(),
        );
    }

    fn messages(scan: &Scan) -> String {
        scan.errors
            .iter()
            .map(|e| format!("{}: {}\n", e.path.display(), e.message))
            .collect()
    }

    #[test]
    fn ids() {
        assert_eq!(definition_id("TestAnalyzer", "1.0"), "TestAnalyzer_1_0");
        assert_eq!(definition_id("DevTools_Echo", "1.0"), "DevTools_Echo_1_0");
        assert_eq!(definition_id("Yara", "3.0"), "Yara_3_0");
        assert_eq!(definition_id("Some-Thing", "1.2.3"), "Some-Thing_1_2_3");
        assert_eq!(definition_id("a/b c", "1.0?x#y"), "a_b_c_1_0_x_y");
        assert_eq!(definition_id("é", "1"), "__1");
    }

    #[test]
    fn real_directory() {
        let Some(dir) = real_dir() else { return };
        let scan = scan(std::slice::from_ref(&dir));
        assert!(scan.errors.is_empty(), "{}", messages(&scan));
        let ids: Vec<&str> = scan.definitions.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "DevTools_Echo_Analyzer_1_0",
                "EmlParser_2_1",
                "FireHOLBlocklists_2_0",
                "MISPWarningLists_2_0",
                "TestAnalyzer_1_0",
                "ValidateObservable_1_0",
                "Yara_3_0",
            ]
        );
        let canon = fs::canonicalize(&dir).unwrap();
        let t = scan.get("TestAnalyzer_1_0").unwrap();
        assert_eq!(t.base_config, "TestAnalyzer");
        assert_eq!(t.config["service"], "testing");
        assert_eq!(t.dir, canon);
        assert_eq!(t.path, canon.join("TestAnalyzer/TestAnalyzer.json"));
        assert_eq!(
            t.command_path().unwrap(),
            canon.join("TestAnalyzer/testing.py")
        );
        assert_eq!(t.cwd().unwrap(), canon.join("TestAnalyzer"));
        assert!(t.can_process("ip") && !t.can_process("file"));
        assert_eq!(t.service_homepage, None); // "serviceHomepage": "None"
        let some_list = &t.configuration_items[1];
        assert_eq!(some_list.name, "some_list");
        assert!(some_list.multi && !some_list.required);
        assert_eq!(
            some_list.default_value,
            Some(json!(["item1", "item2", "item3"]))
        );

        let echo = scan.get("DevTools_Echo_Analyzer_1_0").unwrap();
        assert_eq!(echo.name, "DevTools_Echo_Analyzer");
        assert_eq!(echo.base_config, "TestAnalyzer");
        assert_eq!(
            echo.command_path().unwrap(),
            canon.join("TestAnalyzer/testing.py")
        );
        assert!(echo.can_process("file"));

        let yara = scan.get("Yara_3_0").unwrap();
        assert_eq!(
            yara.service_homepage.as_deref(),
            Some("https://virustotal.github.io/yara/")
        );
        assert_eq!(yara.data_type_list, ["file"]);
        let fire = scan.get("FireHOLBlocklists_2_0").unwrap();
        assert!(fire.configuration_items[0].required);
        assert_eq!(fire.configuration_items[0].kind, ItemType::String);
        let eml = scan.get("EmlParser_2_1").unwrap();
        assert_eq!(eml.configuration_items[0].kind, ItemType::Boolean);
        assert_eq!(eml.config["max_tlp"], 3);
        let misp = scan.get("MISPWarningLists_2_0").unwrap();
        assert_eq!(misp.config["check_tlp"], true);
        assert!(
            scan.get("ValidateObservable_1_0")
                .unwrap()
                .configuration_items
                .is_empty()
        );
    }

    #[test]
    fn serialises_like_cortex_api() {
        let Some(dir) = real_dir() else { return };
        let scan = scan(&[dir]);
        let v = serde_json::to_value(scan.get("Yara_3_0").unwrap()).unwrap();
        assert_eq!(v["id"], "Yara_3_0");
        assert_eq!(v["baseConfig"], "Yara");
        assert_eq!(v["dataTypeList"], json!(["file"]));
        assert_eq!(v["command"], "Yara/yara_analyzer.py");
        assert_eq!(v["serviceHomepage"], "https://virustotal.github.io/yara/");
        assert_eq!(v["configurationItems"][0]["type"], "string");
        assert_eq!(v["configurationItems"][0]["multi"], true);
        assert!(v["configurationItems"][0].get("defaultValue").is_none());
        assert_eq!(v["configurationItems"][3]["defaultValue"], 400);
        for hidden in [
            "dir",
            "path",
            "dockerImage",
            "registration_required",
            "service_logo",
            "screenshots",
        ] {
            assert!(v.get(hidden).is_none(), "{hidden} must not be serialised");
        }
        let v = serde_json::to_value(scan.get("ValidateObservable_1_0").unwrap()).unwrap();
        assert!(v.get("serviceHomepage").is_none());
        assert_eq!(v["config"], json!({"service": "validateObservable"}));
    }

    #[test]
    fn defaults_and_extra_keys() {
        let v = json!({
            "name": "Min", "version": "1", "description": "d", "author": "a", "url": "u",
            "license": "l", "dockerImage": "x/y", "screenshots": [], "whatever": {"a": 1},
            "service_homepage": "javascript:alert(1)",
        });
        let d = Definition::from_json(v, Path::new("/x"), Path::new("/x/M/M.json")).unwrap();
        assert_eq!(d.id, "Min_1");
        assert_eq!(d.base_config, "Min");
        assert!(d.data_type_list.is_empty());
        assert!(d.config.is_empty());
        assert!(d.configuration_items.is_empty());
        assert_eq!(d.command, None);
        assert_eq!(d.service_homepage, None);
        assert!(matches!(d.command_path(), Err(CommandError::NoCommand)));
    }

    #[test]
    fn required_fields_and_bad_items() {
        for missing in ["name", "version", "description", "author", "url", "license"] {
            let mut v = def_json("X", "1.0", "X/run.sh");
            v.as_object_mut().unwrap().remove(missing);
            let e =
                Definition::from_json(v, Path::new("/x"), Path::new("/x/X/X.json")).unwrap_err();
            assert!(e.contains(missing), "{e}");
        }
        let mut v = def_json("X", "1.0", "X/run.sh");
        v["version"] = json!(1.0);
        assert!(Definition::from_json(v, Path::new("/"), Path::new("/")).is_err());
        let mut v = def_json("X", " ", "X/run.sh");
        v["version"] = json!(" ");
        assert!(Definition::from_json(v, Path::new("/"), Path::new("/")).is_err());
        let mut v = def_json("X", "1.0", "X/run.sh");
        v["configurationItems"] = json!([{"name": "a", "description": "", "type": "password"}]);
        assert!(Definition::from_json(v, Path::new("/"), Path::new("/")).is_err());
        let mut v = def_json("X", "1.0", "X/run.sh");
        v["configurationItems"] = json!([
            {"name": "a", "type": "string"}, {"name": "a", "type": "number"}
        ]);
        assert!(
            Definition::from_json(v, Path::new("/"), Path::new("/"))
                .unwrap_err()
                .contains("twice")
        );
    }

    #[test]
    fn broken_json_is_listed_others_load() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        add_analyzer(dir, "Good", "Good", "1.0");
        write(&dir.join("Bad/Bad.json"), "{ \"name\": \"Bad\", ");
        write(&dir.join("Bad/NotObject.json"), "[1]");
        write(&dir.join("Bad/Scalar.json"), "\"x\"");
        write(&dir.join("Bad/Empty.json"), "[]");
        write(
            &dir.join("Bad/Missing.json"),
            r#"{"name": "Missing", "version": "1.0"}"#,
        );
        write(&dir.join("Good/requirements.json"), "not json");
        write(&dir.join("Good/.hidden.json"), "not json");
        write(&dir.join("Good/notes.txt"), "not json");
        write(&dir.join(".git/config.json"), "not json");
        write(&dir.join("README.json"), "not json"); // top level file: not a folder
        let scan = scan(&[dir.to_path_buf()]);
        assert_eq!(scan.definitions.len(), 1, "{}", messages(&scan));
        assert_eq!(scan.definitions[0].id, "Good_1_0");
        assert_eq!(scan.errors.len(), 5, "{}", messages(&scan));
        let m = messages(&scan);
        assert!(
            m.contains("Scalar.json: invalid definition: not a JSON object"),
            "{m}"
        );
        assert!(m.contains("Empty.json: no definition"), "{m}");
        assert!(m.contains("Bad.json: invalid JSON"), "{m}");
        assert!(
            m.contains("Missing.json: invalid definition: missing field"),
            "{m}"
        );
        assert!(
            m.contains("NotObject.json: invalid definition: not a JSON object"),
            "{m}"
        );
    }

    #[test]
    fn array_file_holds_several_definitions() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        write_exec(&dir.join("Multi/run.sh"));
        let arr = json!([
            def_json("A", "1.0", "Multi/run.sh"),
            def_json("B", "2.0", "Multi/run.sh")
        ]);
        write(&dir.join("Multi/all.json"), &arr.to_string());
        let scan = scan(&[dir.to_path_buf()]);
        assert!(scan.errors.is_empty(), "{}", messages(&scan));
        let ids: Vec<_> = scan.definitions.iter().map(|d| d.id.clone()).collect();
        assert_eq!(ids, ["A_1_0", "B_2_0"]);
    }

    #[test]
    fn command_escaping_the_directory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("analyzers");
        add_analyzer(&dir, "Good", "Good", "1.0");
        // `..` out of the analyzers directory, to a file that exists
        write(
            &dir.join("Dots/Dots.json"),
            &def_json("Dots", "1.0", "../../../../../../../../etc/passwd").to_string(),
        );
        // `..` out to a file next to the analyzers directory
        write_exec(&tmp.path().join("outside.sh"));
        write(
            &dir.join("Up/Up.json"),
            &def_json("Up", "1.0", "Up/../../outside.sh").to_string(),
        );
        // a symlink inside the analyzers directory pointing out
        fs::create_dir_all(dir.join("Link")).unwrap();
        symlink(tmp.path().join("outside.sh"), dir.join("Link/run.sh")).unwrap();
        write(
            &dir.join("Link/Link.json"),
            &def_json("Link", "1.0", "Link/run.sh").to_string(),
        );
        // an absolute command
        write(
            &dir.join("Abs/Abs.json"),
            &def_json("Abs", "1.0", "/bin/sh").to_string(),
        );
        // missing file, a directory, the directory itself
        write(
            &dir.join("Gone/Gone.json"),
            &def_json("Gone", "1.0", "Gone/nope.py").to_string(),
        );
        write(
            &dir.join("Folder/Folder.json"),
            &def_json("Folder", "1.0", "Folder").to_string(),
        );
        write(
            &dir.join("Root/Root.json"),
            &def_json("Root", "1.0", ".").to_string(),
        );
        write(
            &dir.join("Empty/Empty.json"),
            &def_json("Empty", "1.0", "").to_string(),
        );
        // `..` that stays inside is fine
        write(
            &dir.join("Inner/Inner.json"),
            &def_json("Inner", "1.0", "Inner/../Good/run.sh").to_string(),
        );
        // a symlink that stays inside is fine
        fs::create_dir_all(dir.join("InLink")).unwrap();
        symlink(dir.join("Good/run.sh"), dir.join("InLink/run.sh")).unwrap();
        write(
            &dir.join("InLink/InLink.json"),
            &def_json("InLink", "1.0", "InLink/run.sh").to_string(),
        );

        let scan = scan(std::slice::from_ref(&dir));
        let ids: Vec<_> = scan.definitions.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            ["Good_1_0", "InLink_1_0", "Inner_1_0"],
            "{}",
            messages(&scan)
        );
        let m = messages(&scan);
        assert_eq!(scan.errors.len(), 8, "{m}");
        for (id, what) in [
            ("Dots_1_0", "outside"),
            ("Up_1_0", "outside"),
            ("Link_1_0", "outside"),
            ("Abs_1_0", "outside"),
            ("Gone_1_0", "not found"),
            ("Folder_1_0", "not a regular file"),
            ("Root_1_0", "outside"),
            ("Empty_1_0", "empty"),
        ] {
            assert!(
                m.lines().any(|l| l.contains(id) && l.contains(what)),
                "{id} {what}: {m}"
            );
        }
        let canon = fs::canonicalize(&dir).unwrap();
        let inlink = scan.get("InLink_1_0").unwrap();
        assert_eq!(inlink.command_path().unwrap(), canon.join("Good/run.sh"));
        assert_eq!(inlink.cwd().unwrap(), canon.join("Good"));
    }

    #[test]
    fn command_is_checked_again_after_the_scan() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("analyzers");
        add_analyzer(&dir, "A", "A", "1.0");
        write_exec(&tmp.path().join("evil.sh"));
        let scan = scan(std::slice::from_ref(&dir));
        let d = scan.get("A_1_0").unwrap();
        assert!(d.command_path().is_ok());
        fs::remove_file(dir.join("A/run.sh")).unwrap();
        symlink(tmp.path().join("evil.sh"), dir.join("A/run.sh")).unwrap();
        assert!(matches!(
            d.command_path(),
            Err(CommandError::Outside { .. })
        ));
        assert!(d.cwd().is_err());
    }

    #[test]
    fn symlinked_analyzers_dir_is_resolved() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        add_analyzer(&real, "A", "A", "1.0");
        let link = tmp.path().join("link");
        symlink(&real, &link).unwrap();
        let scan = scan(&[link]);
        assert!(scan.errors.is_empty(), "{}", messages(&scan));
        let d = &scan.definitions[0];
        assert_eq!(d.dir, fs::canonicalize(&real).unwrap());
        assert!(d.command_path().unwrap().starts_with(&d.dir));
    }

    #[test]
    fn duplicates_first_directory_wins() {
        let tmp = tempfile::tempdir().unwrap();
        let one = tmp.path().join("one");
        let two = tmp.path().join("two");
        add_analyzer(&one, "A", "A", "1.0");
        add_analyzer(&two, "A", "A", "1.0");
        add_analyzer(&two, "B", "B", "1.0");
        // same id twice in one directory: the folder sorted first wins
        add_analyzer(&two, "C1", "C", "1.0");
        add_analyzer(&two, "C2", "C", "1.0");
        // ids that collide only after normalisation
        add_analyzer(&two, "D", "D", "1.0");
        write(
            &two.join("D/D2.json"),
            &def_json("D", "1_0", "D/run.sh").to_string(),
        );
        let scan = scan(&[one.clone(), two.clone(), one.clone()]);
        let ids: Vec<_> = scan.definitions.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["A_1_0", "B_1_0", "C_1_0", "D_1_0"]);
        assert_eq!(
            scan.get("A_1_0").unwrap().dir,
            fs::canonicalize(&one).unwrap()
        );
        assert!(scan.get("C_1_0").unwrap().path.ends_with("C1/C.json"));
        assert_eq!(scan.get("D_1_0").unwrap().version, "1.0");
        let m = messages(&scan);
        assert_eq!(scan.errors.len(), 3, "{m}");
        assert!(
            m.contains("two/A/A.json: duplicate definition id A_1_0"),
            "{m}"
        );
        assert!(
            m.contains("C2/C.json: duplicate definition id C_1_0"),
            "{m}"
        );
        assert!(m.contains("D2.json: duplicate definition id D_1_0"), "{m}");
    }

    #[test]
    fn oversized_and_special_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        add_analyzer(dir, "A", "A", "1.0");
        let mut big = def_json("Big", "1.0", "A/run.sh");
        big["description"] = json!("x".repeat(MAX_DEFINITION_BYTES as usize));
        write(&dir.join("A/Big.json"), &big.to_string());
        fs::create_dir_all(dir.join("A/dir.json")).unwrap();
        let scan = scan(&[dir.to_path_buf()]);
        assert_eq!(scan.definitions.len(), 1);
        let m = messages(&scan);
        assert_eq!(scan.errors.len(), 2, "{m}");
        assert!(m.contains("Big.json: file is larger than"), "{m}");
        assert!(m.contains("dir.json: not a regular file"), "{m}");
    }

    #[test]
    fn missing_directory_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        write(&file, "");
        let scan = scan(&[tmp.path().join("nope"), file]);
        assert!(scan.definitions.is_empty());
        assert_eq!(scan.errors.len(), 2);
        let v = serde_json::to_value(&scan).unwrap();
        assert!(v["errors"][0]["path"].as_str().unwrap().ends_with("nope"));
    }

    #[test]
    fn definition_without_command_is_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let mut v = def_json("Docker", "1.0", "x");
        v.as_object_mut().unwrap().remove("command");
        v["dockerImage"] = json!("cortexneurons/x:1");
        write(&tmp.path().join("D/D.json"), &v.to_string());
        let scan = scan(&[tmp.path().to_path_buf()]);
        assert!(scan.errors.is_empty());
        assert!(matches!(
            scan.definitions[0].command_path(),
            Err(CommandError::NoCommand)
        ));
    }
}
