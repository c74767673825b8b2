//! The web UI, built by Trunk and embedded in the binary: `/` and every client-side route get
//! `index.html`; hashed assets are cached for a year; bodies are precompressed once.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use app::model::ErrorKind;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use super::error::error_response;

#[derive(RustEmbed)]
#[folder = "$WAGGLE_DIST"]
struct Dist;

/// The CSP of the UI: only our own scripts (plus Trunk's inline loader, by hash) and the WASM.
fn index_csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let html = Dist::get("index.html").map(|f| String::from_utf8_lossy(&f.data).into_owned()).unwrap_or_default();
        let hashes: Vec<String> = inline_scripts(&html)
            .iter()
            .map(|s| format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()))))
            .collect();
        format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {}; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
             base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
            hashes.join(" ")
        )
    })
}

/// Contents of the inline `<script>` elements of a page (those without `src`).
fn inline_scripts(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else { break };
        let tag = &after[..tag_end];
        let body_start = &after[tag_end + 1..];
        let Some(close) = body_start.find("</script>") else { break };
        if !tag.contains(" src=") {
            out.push(body_start[..close].to_string());
        }
        rest = &body_start[close..];
    }
    out
}

/// Trunk names built assets `name-<16 hex>.ext`, and the WASM modules are in `pkg-<16 hex>/`
/// (scripts/build-wasm.sh): those never change and can be cached forever.
fn is_hashed(path: &str) -> bool {
    if path.split_once('/').is_some_and(|(dir, _)| dir.strip_prefix("pkg-").is_some_and(is_hash)) {
        return true;
    }
    let stem = path.rsplit('/').next().unwrap_or(path);
    let stem = stem.split('.').next().unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, h)| {
        is_hash(h.trim_end_matches("_bg"))
    })
}

fn is_hash(h: &str) -> bool {
    h.len() >= 16 && h.chars().all(|c| c.is_ascii_hexdigit())
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Encoding {
    Br,
    Gzip,
}

/// The body of `path` in `enc`: the build's precompressed `path.br` / `path.gz` beside it in
/// `dist/` (brotli at quality 11, written by `scripts/precompress.mjs`), else compressed here
/// once and kept.
fn compressed(path: &str, data: &[u8], enc: Encoding) -> Option<Bytes> {
    let ext = if enc == Encoding::Br { "br" } else { "gz" };
    if let Some(pre) = Dist::get(&format!("{path}.{ext}")) {
        return Some(match pre.data {
            std::borrow::Cow::Borrowed(b) => Bytes::from_static(b),
            std::borrow::Cow::Owned(v) => Bytes::from(v),
        });
    }
    static CACHE: OnceLock<Mutex<HashMap<(String, Encoding), Bytes>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(v) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&(path.to_string(), enc)) {
        return Some(v.clone());
    }
    let out = match enc {
        Encoding::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            e.write_all(data).ok()?;
            e.finish().ok()?
        }
        Encoding::Br => {
            let mut out = Vec::new();
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 9, 22);
            w.write_all(data).ok()?;
            drop(w);
            out
        }
    };
    let out = Bytes::from(out);
    cache.lock().unwrap_or_else(|e| e.into_inner()).insert((path.to_string(), enc), out.clone());
    Some(out)
}

fn accepted(headers: &HeaderMap) -> Option<Encoding> {
    let accept = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.contains("br") {
        Some(Encoding::Br)
    } else if accept.contains("gzip") {
        Some(Encoding::Gzip)
    } else {
        None
    }
}

fn compressible(mime: &str) -> bool {
    mime.starts_with("text/") || mime.contains("javascript") || mime.contains("json") || mime.contains("wasm") || mime.contains("svg")
}

/// Serve an embedded file, or `index.html` for client-side routes; `/api/...` (and
/// `/cortex/api/...`) misses are JSON 404s.
pub async fn serve(req: Request) -> Response {
    let path = req.uri().path().trim_start_matches('/').to_string();
    if super::layers::is_api(req.uri().path()) {
        return error_response(ErrorKind::NotFoundError, &format!("No such API endpoint: {} {}", req.method(), req.uri().path()));
    }
    let (name, file) = match Dist::get(&path).filter(|_| !path.is_empty()) {
        Some(f) => (path.clone(), f),
        None => {
            // A path with an extension that does not exist is a missing file, not a UI route.
            let last = path.rsplit('/').next().unwrap_or("");
            if last.contains('.') {
                return (StatusCode::NOT_FOUND, "Not found").into_response();
            }
            match Dist::get("index.html") {
                Some(f) => ("index.html".to_string(), f),
                None => return (StatusCode::NOT_FOUND, "Not found").into_response(),
            }
        }
    };
    let mime = if name.ends_with(".wasm") {
        "application/wasm".to_string()
    } else {
        mime_guess::from_path(&name).first_or_octet_stream().essence_str().to_string()
    };
    let mut builder = Response::builder().header(header::CONTENT_TYPE, &mime).header(header::VARY, "Accept-Encoding");
    builder = if name == "index.html" {
        builder.header(header::CACHE_CONTROL, "no-cache").header(header::CONTENT_SECURITY_POLICY, index_csp())
    } else if is_hashed(&name) {
        builder.header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
    } else {
        builder.header(header::CACHE_CONTROL, "public, max-age=3600")
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12]));
    if req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return builder.status(StatusCode::NOT_MODIFIED).header(header::ETAG, etag).body(Body::empty()).unwrap_or_default();
    }
    builder = builder.header(header::ETAG, etag);
    let data = file.data.as_ref();
    let body = match accepted(req.headers()).filter(|_| compressible(&mime) && data.len() > 512) {
        Some(enc) => match compressed(&name, data, enc) {
            Some(c) => {
                builder = builder.header(header::CONTENT_ENCODING, HeaderValue::from_static(if enc == Encoding::Br { "br" } else { "gzip" }));
                Body::from(c)
            }
            None => Body::from(data.to_vec()),
        },
        None => Body::from(data.to_vec()),
    };
    builder.body(body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names() {
        assert!(is_hashed("frontend-3f2a9c0d1e2b3c4d.js"));
        assert!(is_hashed("frontend-3f2a9c0d1e2b3c4d_bg.wasm"));
        assert!(!is_hashed("favicon.svg"));
        assert!(!is_hashed("index.html"));
        assert!(is_hashed("pkg-3f2a9c0d1e2b3c4d/split_admin_1723.wasm"));
        assert!(!is_hashed("pkg-latest/frontend.js"));
        assert!(!is_hashed("public/pkg-3f2a9c0d1e2b3c4d/logo.svg"));
    }

    #[test]
    fn finds_inline_scripts() {
        let html = "<script src=\"/a.js\"></script><script type=\"module\">init('/x.wasm');</script>";
        assert_eq!(inline_scripts(html), vec!["init('/x.wasm');".to_string()]);
    }
}
