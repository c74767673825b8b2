#!/usr/bin/env bash
# Trunk post_build hook (Trunk.toml): builds the UI's WASM split in parts, into the staged UI.
#
#   cargo (wasm-release; .cargo/config.toml adds `--cfg waggle_split` and relocations)
#   -> wasm-split-cli: the code only the `#[lazy]` functions of app/src/ui/split.rs reach goes
#      into modules of its own (administration, dashboards, case, task, job), fetched when first opened
#   -> wasm-bindgen (keeping the exports the split modules link against)
#   -> wasm-opt -Oz on every module (npm binaryen; Debian's breaks wasm-bindgen output)
#   -> $TRUNK_STAGING_DIR/pkg-<hash of the output>/ and the loader script in index.html
#   -> precompressed copies of everything staged (scripts/precompress.mjs).
#
# The directory named by the hash lets the server cache the modules for a year
# (server/src/api/assets.rs). Trunk itself builds the CSS and copies public/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STAGING="${TRUNK_STAGING_DIR:?run by trunk build (Trunk.toml hook)}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WASM_OPT="${WASM_OPT:-wasm-opt}"
FEATURES=(--enable-nontrapping-float-to-int --enable-bulk-memory --enable-reference-types
    --enable-sign-ext --enable-mutable-globals --enable-multivalue)

cd "$ROOT"
cargo build --locked -p frontend --bin frontend --target wasm32-unknown-unknown --profile wasm-release
input="$TARGET/wasm32-unknown-unknown/wasm-release/frontend.wasm"

work="$(mktemp -d)"
log="$(mktemp)"
trap 'rm -rf "$work" "$log"' EXIT
wasm-split-cli "$input" "$work" --out-name frontend --target web
wasm-bindgen --target web --no-typescript --keep-lld-exports --out-dir "$work" --out-name frontend "$work/frontend.wasm"
rm "$work/frontend.wasm"
for f in "$work"/*.wasm; do
    # wasm-opt warns about the splitter's name subsections it does not know: not shown.
    if ! "$WASM_OPT" -Oz "${FEATURES[@]}" "$f" -o "$f.opt" 2> "$log"; then
        cat "$log" >&2
        exit 1
    fi
    grep -v "unknown name subsection" "$log" >&2 || true
    mv "$f.opt" "$f"
done

hash="$(cd "$work" && find . -type f | sort | xargs cat | sha256sum | cut -c1-16)"
pkg="pkg-$hash"
rm -rf "$STAGING"/pkg-*
mkdir -p "$STAGING/$pkg"
cp -r "$work"/. "$STAGING/$pkg/"

# The loader: the main module first (its split modules come when their page is opened).
loader="<script type=\"module\">
import init from '/$pkg/frontend.js';
await init({ module_or_path: '/$pkg/frontend_bg.wasm' });
</script>
<link rel=\"modulepreload\" href=\"/$pkg/frontend.js\"><link rel=\"modulepreload\" href=\"/$pkg/__wasm_split.js\"><link rel=\"preload\" href=\"/$pkg/frontend_bg.wasm\" as=\"fetch\" type=\"application/wasm\" crossorigin=\"anonymous\">"
LOADER="$loader" node -e '
const fs = require("fs");
const path = process.argv[1];
// Trunk leaves the skipped rust link (index.html: data-trunk-skip) and its comment: replaced.
const html = fs.readFileSync(path, "utf8")
    .replace(/[ \t]*<!-- The WASM and its loader[^>]*-->\n?/, "")
    .replace(/[ \t]*<link data-trunk rel="rust"[^>]*>\n?/, "");
if (!html.includes("</head>")) { console.error("build-wasm: no </head> in index.html"); process.exit(1); }
fs.writeFileSync(path, html.replace("</head>", process.env.LOADER + "</head>"));
' "$STAGING/index.html"

node "$ROOT/scripts/precompress.mjs" "$STAGING"
