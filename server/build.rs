//! Point the embedded UI at `../dist` (built by Trunk) or, when the UI has not been built, at a
//! placeholder page that says how to build it. The server always compiles.
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
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
