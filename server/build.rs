//! Point the embedded UI at `../dist` (built by Trunk) or, when the UI has not been built, at a
//! placeholder page that says how to build it. The server always compiles with or without the UI.
//!
//! Also refuses to build the server on an unpatched storage engine: see
//! [`require_patched_storage_engine`].
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    require_patched_storage_engine(&manifest);
    let dist = manifest.join("../dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    println!("cargo:rerun-if-changed=build.rs");
    let folder = if dist.join("index.html").is_file() {
        dist.canonicalize().expect("dist exists")
    } else {
        let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("placeholder-dist");
        std::fs::create_dir_all(&out).expect("create placeholder dir");
        std::fs::write(
            out.join("index.html"),
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Waggle</title></head><body>\
             <h1>Waggle</h1><p>The web UI was not built into this binary. Build it with \
             <code>trunk build --release</code> at the top of the repository, then rebuild the server \
             (<code>scripts/run.sh</code> does both). The REST API works at <code>/api</code>.</p></body></html>",
        )
        .expect("write placeholder");
        out
    };
    println!("cargo:rustc-env=WAGGLE_DIST={}", folder.display());
}

/// The embedded store must run on Waggle's copy of surrealkv (`vendor/surrealkv`, through
/// `[patch.crates-io]` in the workspace `Cargo.toml`): the registry's copy loses acknowledged
/// writes in a crash (vendor/README.md). Cargo only warns "patch ... was not used" when the
/// copy stops matching what surrealdb asks for, and a build without the patch line is silent,
/// so the resolved graph is checked here: `Cargo.lock` must hold exactly one `surrealkv`, and
/// without a `source` (a registry or git copy records one; a path copy does not).
fn require_patched_storage_engine(manifest: &Path) {
    let lock_path = manifest.join("../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock_path.display());
    let lock = std::fs::read_to_string(&lock_path).unwrap_or_else(|e| {
        refuse(&format!("cannot read {} to check which surrealkv is linked: {e}", lock_path.display()))
    });
    let copies: Vec<(String, Option<String>)> = lock
        .split("\n[[")
        .filter(|section| section.starts_with("package]]"))
        .filter(|section| section.lines().any(|l| l.trim() == "name = \"surrealkv\""))
        .map(|section| {
            let field = |key: &str| {
                section.lines().find_map(|l| l.trim().strip_prefix(key).map(|v| v.trim_matches('"').to_string()))
            };
            (field("version = ").unwrap_or_default(), field("source = "))
        })
        .collect();
    match copies.as_slice() {
        [(_, None)] => {}
        [] => refuse("Cargo.lock holds no surrealkv package"),
        _ => {
            let found: Vec<String> = copies
                .iter()
                .map(|(version, source)| format!("surrealkv {version} from {}", source.as_deref().unwrap_or("a path")))
                .collect();
            refuse(&format!("the build links {}", found.join(" and ")))
        }
    }
}

fn refuse(why: &str) -> ! {
    println!(
        "cargo::error=the storage engine is not Waggle's patched surrealkv (vendor/surrealkv): {why}. \
         The registry's surrealkv loses acknowledged writes in a crash; see vendor/README.md (keep \
         `[patch.crates-io] surrealkv = {{ path = \"vendor/surrealkv\" }}` in the workspace Cargo.toml, \
         and the copy's version one that surrealdb accepts)."
    );
    std::process::exit(1);
}
