//! The layout is the architecture: this test reads every source file of `server/src` (its `use`
//! trees, paths and macro arguments) and fails on an arrow that breaks the layers.
//!
//! - `api` (adapters) -> `domain` (rules) -> `core` (infrastructure); `config` is a leaf that
//!   everyone may read; only the composition root (`lib.rs`, `server.rs`, `main.rs`) uses
//!   `server`.
//! - `core` never imports `domain` or `api`; `domain` never imports `api`.
//! - Between domain areas one direction only, in [`DOMAIN_ORDER`] (an area uses the ones after
//!   it); cycles only inside one area's folder.
//! - The dialects in `api` (`v0`, `v1`, `cortex`, `ui`) do not use each other: what they share is at
//!   `api`'s top level (`api::support`, `api::json`, `api::error`).
//! - The server never imports the UI (`app::ui`): only `app::model`, `app::api` and the pure
//!   modules of `app`.

use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The domain areas, top to bottom: an area may use only those after it.
const DOMAIN_ORDER: &[&str] = &["misp", "platform", "dashboard", "report", "analysis", "collab", "alert", "case", "catalog", "identity"];

/// Where a module sits.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// `lib.rs`, `main.rs`, `server.rs`: builds the state and the router.
    Root,
    /// `config.rs`: the settings, read by everyone.
    Config,
    /// `api/<dialect>/...` (`dialect` empty at `api`'s top level).
    Api { dialect: String },
    Domain { area: String },
    Core,
    /// A crate-level item (the `vars!` macro is exported at the root but defined in `core::store`).
    Macro,
    Unknown(String),
}

fn place_of(segments: &[String]) -> Place {
    let first = segments.first().map(String::as_str).unwrap_or("");
    let second = segments.get(1).cloned().unwrap_or_default();
    match first {
        "" | "lib" | "main" | "server" => Place::Root,
        "config" => Place::Config,
        "api" => Place::Api { dialect: if is_folder("api", &second) { second } else { String::new() } },
        "domain" => Place::Domain { area: second },
        "core" => Place::Core,
        "vars" => Place::Macro,
        other => Place::Unknown(other.to_string()),
    }
}

/// Whether `src/<parent>/<name>` is a folder (a dialect) rather than a file at the top of `parent`.
fn is_folder(parent: &str, name: &str) -> bool {
    src().join(parent).join(name).is_dir()
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The module path of a source file (`src/domain/case/task.rs` -> `domain::case::task`).
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).expect("a file under src");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// Why an arrow from `from` to `to` is not allowed, if it is not.
fn refusal(from: &Place, to: &Place) -> Option<String> {
    use Place::*;
    match (from, to) {
        (_, Unknown(m)) => Some(format!("crate::{m} is in no layer: put it under api/, domain/ or core/")),
        (Root, _) => None,
        (_, Root) => Some("only the composition root uses `server`".into()),
        (Config, Config | Macro) => None,
        (Config, _) => Some("config is a leaf: it imports nothing of the crate".into()),
        (_, Config) | (_, Macro) => None,
        (Core, Core) => None,
        (Core, _) => Some("core never imports domain or api".into()),
        (Domain { .. }, Core) => None,
        (Domain { .. }, Api { .. }) => Some("domain never imports api".into()),
        (Domain { area: a }, Domain { area: b }) => {
            let rank = |x: &str| DOMAIN_ORDER.iter().position(|y| *y == x);
            match (rank(a), rank(b)) {
                (None, _) => Some(format!("domain area `{a}` is not in DOMAIN_ORDER (tests/layers.rs)")),
                (_, None) => Some(format!("domain area `{b}` is not in DOMAIN_ORDER (tests/layers.rs)")),
                (Some(x), Some(y)) if x > y => Some(format!("domain `{a}` may not use `{b}`, which is above it in DOMAIN_ORDER")),
                _ => None,
            }
        }
        (Api { dialect: a }, Api { dialect: b }) if !a.is_empty() && !b.is_empty() && a != b => {
            Some(format!("the `{a}` adapter uses the `{b}` adapter: share through api's top level"))
        }
        (Api { .. }, _) => None,
        (Macro | Unknown(_), _) => None,
    }
}

/// Every `crate::...`, `super::...` and `app::...` path a file names, as absolute segments
/// (`crate` dropped; `app` kept as the first segment).
#[derive(Default)]
struct Paths {
    module: Vec<String>,
    found: Vec<Vec<String>>,
}

impl Paths {
    fn absolute(&self, segments: Vec<String>) -> Option<Vec<String>> {
        match segments.first().map(String::as_str) {
            Some("crate") => Some(segments[1..].to_vec()),
            Some("app") => Some(segments),
            Some("super") => {
                let mut base = self.module.clone();
                let mut rest = segments.as_slice();
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop();
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                Some(base)
            }
            _ => None,
        }
    }

    fn add(&mut self, segments: Vec<String>) {
        if let Some(p) = self.absolute(segments) {
            self.found.push(p);
        }
    }

    fn use_tree(&mut self, prefix: Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                let mut next = prefix;
                next.push(p.ident.to_string());
                self.use_tree(next, &p.tree);
            }
            syn::UseTree::Name(n) => {
                let mut full = prefix;
                if n.ident != "self" {
                    full.push(n.ident.to_string());
                }
                self.add(full);
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix;
                if r.ident != "self" {
                    full.push(r.ident.to_string());
                }
                self.add(full);
            }
            syn::UseTree::Glob(_) => self.add(prefix),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix.clone(), t);
                }
            }
        }
    }

    /// `crate :: a :: b` sequences inside macro arguments (`format!`, `tracing::info!`...).
    fn tokens(&mut self, tokens: proc_macro2::TokenStream) {
        let mut run: Vec<String> = Vec::new();
        let mut colons = 0;
        for t in tokens {
            match t {
                proc_macro2::TokenTree::Group(g) => {
                    self.flush(&mut run);
                    self.tokens(g.stream());
                }
                proc_macro2::TokenTree::Ident(i) => {
                    let i = i.to_string();
                    if run.is_empty() {
                        if i == "crate" || i == "super" || i == "app" {
                            run.push(i);
                        }
                    } else if colons == 2 {
                        run.push(i);
                    } else {
                        self.flush(&mut run);
                        if i == "crate" || i == "super" || i == "app" {
                            run.push(i);
                        }
                    }
                    colons = 0;
                }
                proc_macro2::TokenTree::Punct(p) if p.as_char() == ':' && !run.is_empty() => colons += 1,
                _ => {
                    self.flush(&mut run);
                    colons = 0;
                }
            }
        }
        self.flush(&mut run);
    }

    fn flush(&mut self, run: &mut Vec<String>) {
        if run.len() > 1 {
            self.add(std::mem::take(run));
        }
        run.clear();
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.use_tree(Vec::new(), &u.tree);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        self.add(segments);
        syn::visit::visit_path(self, p);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        // Inside `mod tests { ... }`, `super` is the file's own module.
        self.module.push(m.ident.to_string());
        syn::visit::visit_item_mod(self, m);
        self.module.pop();
    }

    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {
        // `pub(in crate::domain)` names a scope, not a dependency.
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        syn::visit::visit_macro(self, m);
        self.tokens(m.tokens.clone());
    }
}

/// The paths `source` (the file of module `module`) names.
fn paths_in(module: &[String], source: &str) -> Result<Vec<Vec<String>>, String> {
    let file = syn::parse_file(source).map_err(|e| e.to_string())?;
    let mut v = Paths { module: module.to_vec(), found: Vec::new() };
    v.visit_file(&file);
    Ok(v.found)
}

/// The broken arrows of one file: `(what it names, why not)`.
fn violations(module: &[String], source: &str) -> Result<Vec<(String, String)>, String> {
    let from = place_of(module);
    let mut out = Vec::new();
    for path in paths_in(module, source)? {
        if path.first().map(String::as_str) == Some("app") {
            if path.get(1).map(String::as_str) == Some("ui") {
                out.push((path.join("::"), "the server never imports the UI (app::ui): move pure logic out of it".into()));
            }
            continue;
        }
        let to = place_of(&path);
        if let Some(why) = refusal(&from, &to) {
            out.push((path.join("::"), why));
        }
    }
    Ok(out)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_arrow_goes_down_the_layers() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let bins = src().join("bin");
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let source = std::fs::read_to_string(file).expect("readable source");
        let rel = file.strip_prefix(src()).unwrap_or(file).display().to_string();
        if file.starts_with(&bins) {
            // The benchmarks are a composition of their own: only the UI rule applies.
            for p in paths_in(&[], &source).unwrap_or_else(|e| panic!("{rel}: {e}")) {
                if p.starts_with(&["app".to_string(), "ui".to_string()]) {
                    broken.push(format!("{rel}: {} (the server never imports the UI)", p.join("::")));
                }
            }
            continue;
        }
        let module = module_of(file);
        for (what, why) in violations(&module, &source).unwrap_or_else(|e| panic!("{rel}: {e}")) {
            broken.push(format!("{rel}: uses {what}: {why}"));
        }
        checked += 1;
    }
    assert!(checked > 50, "only {checked} files read: is src() right?");
    broken.sort();
    broken.dedup();
    assert!(broken.is_empty(), "{} arrows break the layers:\n{}", broken.len(), broken.join("\n"));
}

fn m(path: &str) -> Vec<String> {
    path.split("::").map(str::to_string).collect()
}

/// The checker itself: each rule refuses what it should (so the test above can fail).
#[test]
fn the_checker_refuses_each_kind_of_broken_arrow() {
    let refused = |module: &str, source: &str| !violations(&m(module), source).expect("parses").is_empty();
    // core -> domain, core -> api
    assert!(refused("core::search", "use crate::domain::alert::counter_keys;"));
    assert!(refused("core::store::session", "fn f() { let x = crate::api::v0::routes(); }"));
    // domain -> api
    assert!(refused("domain::case", "use crate::api::json::ApiJson;"));
    // domain upwards (identity is below dashboard), also inside a macro and a grouped use
    assert!(refused("domain::identity::org", "use crate::{core::error, domain::dashboard};"));
    assert!(refused("domain::identity::org", "fn f() { tracing::info!(\"{}\", crate::domain::platform::status::VERSION); }"));
    // an area unknown to DOMAIN_ORDER
    assert!(refused("domain::reports::pdf", "use crate::domain::case::observable;"));
    // analysis sits above alert and case, below dashboard
    assert!(refused("domain::case::observable", "use crate::domain::analysis::job;"));
    // adapters using each other
    assert!(refused("api::v0::case", "use crate::api::ui::case::Backend;"));
    assert!(refused("api::cortex::job", "use crate::api::v0::support::list_response;"));
    assert!(refused("api::v0::cortex", "fn f() { crate::api::cortex::job_object(); }"));
    // the server importing the UI
    assert!(refused("domain::dashboard::render", "use app::ui::charts::Chart;"));
    // a module outside the layers; config importing the crate; someone using the root
    assert!(refused("api::v0::case", "use crate::state::AppState;"));
    assert!(refused("config", "use crate::core::error::Error;"));
    assert!(refused("domain::case", "use crate::server::Running;"));
    // `super` climbing out of core
    assert!(refused("core::auth", "use super::super::domain::identity::user;"));

    let allowed = |module: &str, source: &str| violations(&m(module), source).expect("parses").is_empty();
    assert!(allowed("domain::alert", "use crate::domain::case::observable; use crate::core::store::Store; use crate::vars;"));
    assert!(allowed("domain::case::task", "use super::template; use crate::domain::case::TYPE;"));
    assert!(allowed("api::v0::case", "use crate::api::json::ApiJson; use crate::domain::case; use super::support::object;"));
    assert!(allowed("api::cortex::job", "use crate::api::support::{input, list_response}; use super::job_object; use crate::domain::analysis::job;"));
    assert!(allowed("domain::identity::org", "pub(in crate::domain) fn insert() {}"));
    assert!(allowed("core::stats::eval", "use app::chart::days_from_civil; use crate::config::Settings;"));
    assert!(allowed("server", "use crate::api; use crate::domain::platform::setup;"));
    assert!(allowed("domain::alert", "mod tests { use super::*; }"));
    assert!(allowed("domain::analysis::job", "use crate::domain::case::observable; use crate::core::analysis::queue::Lane;"));
}
