//! Stored files (task log attachments, file observables): content-addressed under
//! `<data>/attachments/<aa>/<bb>/<sha256>`, with their SHA-256, SHA-1 and MD5, size and content
//! type. Paths are always made by the server from the hash; names given by clients are only
//! labels (made safe). An organisation may download a file only if one of its records holds it.
//!
//! A file is written before the transaction of the record that holds it. If that transaction
//! fails, [`discard`] removes the file unless something else holds it: a record of any
//! organisation (the same content is stored once), or another request between its writing and
//! its commit (a [`StoredFile`] alive: a lease counted in [`Blobs`]). Writing a file and
//! removing one are exclusive, so a request never counts on a file that is being removed.
//! At start, [`sweep`] removes the files nothing holds that a crash left behind.

pub mod zipcrypto;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::model::Attachment;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::core::audit::Tx;
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::core::store::new_id;
use crate::vars;

/// The password of protected downloads (TheHive's).
pub const ZIP_PASSWORD: &str = "malware";

/// The files requests hold between their writing and their commit (see the module's doc).
#[derive(Debug, Default)]
pub struct Blobs {
    /// Live [`StoredFile`]s by SHA-256.
    leases: Mutex<HashMap<String, usize>>,
    /// Held while a file is put in place (and its lease taken) or removed.
    gate: tokio::sync::Mutex<()>,
}

impl Blobs {
    fn count(&self, sha256: &str) -> usize {
        self.leases.lock().map(|l| l.get(sha256).copied().unwrap_or(0)).unwrap_or(1)
    }
}

/// One request's hold on a stored file; released when the last clone of its [`StoredFile`] goes.
#[derive(Debug)]
struct Lease {
    blobs: Arc<Blobs>,
    sha256: String,
}

impl Lease {
    fn take(blobs: &Arc<Blobs>, sha256: &str) -> Arc<Lease> {
        if let Ok(mut l) = blobs.leases.lock() {
            *l.entry(sha256.to_string()).or_insert(0) += 1;
        }
        Arc::new(Lease { blobs: blobs.clone(), sha256: sha256.to_string() })
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Ok(mut l) = self.blobs.leases.lock() {
            if let Some(n) = l.get_mut(&self.sha256) {
                *n -= 1;
                if *n == 0 {
                    l.remove(&self.sha256);
                }
            }
        }
    }
}

/// A file the server has just stored. Only this module makes them, so a client can never make
/// a record point at a file it did not upload.
#[derive(Debug, Clone)]
pub struct StoredFile {
    attachment: Attachment,
    _lease: Arc<Lease>,
}

impl StoredFile {
    pub fn attachment(&self) -> &Attachment {
        &self.attachment
    }
}

fn root(state: &AppState) -> PathBuf {
    state.settings.data_dir.join("attachments")
}

/// Where the content of `sha256` (64 lowercase hex digits, checked) lives.
fn blob_path(state: &AppState, sha256: &str) -> Result<PathBuf> {
    if !is_sha256(sha256) {
        return Err(Error::not_found("attachment", sha256));
    }
    Ok(root(state).join(&sha256[0..2]).join(&sha256[2..4]).join(sha256))
}

/// Where the content of a file the server holds lives (for a process that reads it: an analyzer).
/// Whoever asks must have checked that the organisation holds it.
pub fn content_path(state: &AppState, sha256: &str) -> Result<PathBuf> {
    blob_path(state, sha256)
}

pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A file name safe to show and to put in a `Content-Disposition`: no directories, no control
/// characters, not `.`/`..`, at most 255 bytes; `attachment` when nothing is left.
pub fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | '|' | '*' | '?' | ':')).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_string();
    let mut out = String::new();
    for c in cleaned.chars() {
        if out.len() + c.len_utf8() > 255 {
            break;
        }
        out.push(c);
    }
    if out.is_empty() { "attachment".into() } else { out }
}

/// A content type from the client if it looks like one, else guessed from the name.
fn content_type(given: Option<&str>, name: &str) -> String {
    let valid = |t: &str| {
        let t = t.trim();
        t.len() <= 127
            && t.split_once('/').is_some_and(|(a, b)| {
                let tok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c));
                tok(a) && tok(b.split(';').next().unwrap_or("").trim())
            })
    };
    match given.map(str::trim).filter(|t| valid(t)) {
        Some(t) if t != "application/octet-stream" => t.split(';').next().unwrap_or(t).trim().to_ascii_lowercase(),
        _ => mime_guess::from_path(name).first_or_octet_stream().essence_str().to_string(),
    }
}

/// Removes a temporary file unless it was kept.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Store the content of `chunks` (at most the configured size; 413 beyond, and nothing kept).
pub async fn save_stream<S>(state: &AppState, name: &str, given_type: Option<&str>, mut chunks: S) -> Result<StoredFile>
where
    S: Stream<Item = Result<Bytes>> + Unpin,
{
    let limit = state.settings.max_body_bytes as u64;
    let tmp_dir = root(state).join("tmp");
    tokio::fs::create_dir_all(&tmp_dir).await.map_err(|e| Error::Internal(anyhow::anyhow!("attachment store: {e}")))?;
    let tmp_path = tmp_dir.join(format!("{}.part", new_id()));
    let mut guard = TempFile(Some(tmp_path.clone()));
    let mut file = tokio::fs::File::create(&tmp_path).await.map_err(|e| Error::Internal(anyhow::anyhow!("attachment store: {e}")))?;
    let (mut sha256, mut sha1, mut md5) = (Sha256::new(), Sha1::new(), Md5::new());
    let mut size: u64 = 0;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(Error::TooLarge(format!("The file is larger than the limit of {} MiB", limit / (1024 * 1024))));
        }
        sha256.update(&chunk);
        sha1.update(&chunk);
        md5.update(&chunk);
        file.write_all(&chunk).await.map_err(|e| Error::Internal(anyhow::anyhow!("attachment store: {e}")))?;
    }
    file.sync_all().await.map_err(|e| Error::Internal(anyhow::anyhow!("attachment store: {e}")))?;
    drop(file);
    let sha256 = hex::encode(sha256.finalize());
    let path = blob_path(state, &sha256)?;
    // Put in place and leased while no removal runs (see `discard`).
    let gate = state.blobs.gate.lock().await;
    if tokio::fs::try_exists(&path).await.unwrap_or(false) {
        // Already stored (same content): the temporary copy goes.
    } else {
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(|e| Error::Internal(anyhow::anyhow!("attachment store: {e}")))?;
        }
        tokio::fs::rename(&tmp_path, &path).await.map_err(|e| Error::Internal(anyhow::anyhow!("attachment store: {e}")))?;
        guard.0 = None;
    }
    let lease = Lease::take(&state.blobs, &sha256);
    drop(gate);
    let name = safe_name(name);
    let attachment = Attachment {
        content_type: content_type(given_type, &name),
        name,
        hashes: vec![sha256.clone(), hex::encode(sha1.finalize()), hex::encode(md5.finalize())],
        size,
        id: sha256,
    };
    Ok(StoredFile { attachment, _lease: lease })
}

/// Store bytes already in memory (an alert's base64 observable).
pub async fn save_bytes(state: &AppState, name: &str, given_type: Option<&str>, bytes: Bytes) -> Result<StoredFile> {
    save_stream(state, name, given_type, futures::stream::iter([Ok(bytes)])).await
}

/// Let the transaction's organisation download `file` (recorded with the record that holds it).
pub(crate) fn register(tx: &mut Tx, file: &StoredFile) {
    let a = &file.attachment;
    let key = tx.bind(&a.id);
    let doc = tx.bind(serde_json::json!({ "name": a.name, "size": a.size, "contentType": a.content_type, "hashes": a.hashes }));
    // One row per organisation and content: concurrent uploads of the same file meet on the
    // same record (a retried transaction conflict), never on a unique-index error.
    tx.push(format!(
        "UPSERT type::record('attachment', [$org, {key}]) MERGE object::extend({doc}, {{ org: $org, sha256: {key}, updatedAt: $now }})"
    ));
}

/// A file the organisation already holds (recorded with one of its records), to attach it to
/// another of its records (an alert's file becoming a case observable). Another organisation's
/// file, or one whose content is gone, is not found.
pub(crate) async fn held(state: &AppState, store: &crate::core::store::OrgStore, a: &Attachment) -> Result<StoredFile> {
    let path = blob_path(state, &a.id)?;
    let mut r = store.query("SELECT VALUE sha256 FROM attachment WHERE org = $org AND sha256 = $h LIMIT 1", vars! { "h" => a.id }).await?;
    let found: Option<String> = r.one(0)?;
    if found.is_none() || !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Err(Error::not_found("attachment", &a.id));
    }
    Ok(StoredFile { attachment: a.clone(), _lease: Lease::take(&state.blobs, &a.id) })
}

/// The files of a transaction that failed: each is removed unless a record (of any
/// organisation) or another request holds it. Give every clone of them: a clone kept elsewhere
/// keeps its file.
pub async fn discard(state: &AppState, files: Vec<StoredFile>) {
    let mut shas: Vec<String> = files.iter().map(|f| f.attachment.id.clone()).collect();
    drop(files);
    shas.sort();
    shas.dedup();
    for sha in shas {
        match remove_if_unheld(state, &sha).await {
            Ok(true) => tracing::debug!(sha256 = %sha, "removed a file no record took"),
            Ok(false) => {}
            Err(e) => tracing::warn!(sha256 = %sha, error = ?e, "could not remove a file no record took"),
        }
    }
}

/// `result`, after discarding `file` when `result` is an error: a request that stored a file
/// and then failed before a record took it leaves nothing behind.
pub async fn discard_on_error<T>(state: &AppState, file: Option<StoredFile>, result: Result<T>) -> Result<T> {
    if result.is_err() {
        discard(state, file.into_iter().collect()).await;
    }
    result
}

/// Remove the content of `sha256` if no request and no record holds it; whether it was removed.
async fn remove_if_unheld(state: &AppState, sha256: &str) -> Result<bool> {
    let path = blob_path(state, sha256)?;
    let _gate = state.blobs.gate.lock().await;
    if state.blobs.count(sha256) > 0 {
        return Ok(false);
    }
    // Platform-wide on purpose: the content is shared by every organisation that holds it.
    let mut r = state.store.query("SELECT VALUE sha256 FROM attachment WHERE sha256 = $h LIMIT 1", vars! { "h" => sha256 }).await?;
    if r.one::<String>(0)?.is_some() {
        return Ok(false);
    }
    match tokio::fs::remove_file(&path).await {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::Internal(anyhow::anyhow!("removing {}: {e}", path.display()))),
    }
}

/// Files older than this that no record holds are removed by a sweep (younger ones may belong to
/// a transaction of another server process on the same data directory... or a clock skew).
pub const SWEEP_MIN_AGE: Duration = Duration::from_secs(10 * 60);
/// How often the store is swept after the start.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60 * 60);

/// Remove what a crash left in the attachment store: files that no record holds and temporary
/// files, older than `min_age`. Returns how many files were removed.
pub async fn sweep(state: &AppState, min_age: Duration) -> Result<usize> {
    let root = root(state);
    let old = |m: &std::fs::Metadata| m.modified().ok().and_then(|t| t.elapsed().ok()).is_some_and(|age| age >= min_age);
    let mut removed = 0;
    // Interrupted uploads.
    if let Ok(mut dir) = tokio::fs::read_dir(root.join("tmp")).await {
        while let Ok(Some(e)) = dir.next_entry().await {
            if e.metadata().await.is_ok_and(|m| m.is_file() && old(&m)) && tokio::fs::remove_file(e.path()).await.is_ok() {
                removed += 1;
            }
        }
    }
    // Contents: <root>/<aa>/<bb>/<sha256>.
    let mut candidates = Vec::new();
    let Ok(mut level1) = tokio::fs::read_dir(&root).await else { return Ok(0) };
    while let Ok(Some(a)) = level1.next_entry().await {
        let Ok(mut level2) = tokio::fs::read_dir(a.path()).await else { continue };
        while let Ok(Some(b)) = level2.next_entry().await {
            let Ok(mut files) = tokio::fs::read_dir(b.path()).await else { continue };
            while let Ok(Some(f)) = files.next_entry().await {
                let name = f.file_name().to_string_lossy().to_string();
                if is_sha256(&name) && f.metadata().await.is_ok_and(|m| m.is_file() && old(&m)) {
                    candidates.push(name);
                }
            }
        }
    }
    // Most files are held: ask for many at once, then check the others one by one (under the gate).
    for chunk in candidates.chunks(500) {
        let mut r = state.store.query("SELECT VALUE sha256 FROM attachment WHERE sha256 IN $list", vars! { "list" => chunk }).await?;
        let held: std::collections::HashSet<String> = r.rows::<String>(0)?.into_iter().collect();
        for sha in chunk.iter().filter(|s| !held.contains(*s)) {
            if remove_if_unheld(state, sha).await? {
                tracing::info!(sha256 = %sha, "removed a stored file no record holds");
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// A file the caller's organisation holds: its description and where its content is.
pub async fn open(state: &AppState, caller: &Caller, sha256: &str) -> Result<(Attachment, PathBuf)> {
    let sha256 = sha256.trim().to_ascii_lowercase();
    let path = blob_path(state, &sha256)?;
    let mut r = caller
        .store(state)
        .query("SELECT * FROM attachment WHERE org = $org AND sha256 = $h LIMIT 1", vars! { "h" => sha256 })
        .await?;
    let row: Option<serde_json::Value> = r.one(0)?;
    let row = row.ok_or_else(|| Error::not_found("attachment", &sha256))?;
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Err(Error::Internal(anyhow::anyhow!("attachment {sha256} is recorded but its content is missing")));
    }
    let attachment = Attachment {
        id: sha256.clone(),
        name: row.get("name").and_then(|v| v.as_str()).unwrap_or("attachment").to_string(),
        hashes: serde_json::from_value(row.get("hashes").cloned().unwrap_or_default()).unwrap_or_default(),
        size: row.get("size").and_then(|v| v.as_u64()).unwrap_or(0),
        content_type: row.get("contentType").and_then(|v| v.as_str()).unwrap_or("application/octet-stream").to_string(),
    };
    Ok((attachment, path))
}

/// The CRC-32 of a stored file (for the protected archive), computed off the async threads.
pub async fn crc32_of(path: &Path) -> Result<u32> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> std::io::Result<u32> {
        use std::io::Read;
        let mut f = std::fs::File::open(path)?;
        let mut h = crc32fast::Hasher::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                return Ok(h.finalize());
            }
            h.update(&buf[..n]);
        }
    })
    .await
    .map_err(|e| Error::Internal(anyhow::anyhow!("crc task: {e}")))?
    .map_err(|e| Error::Internal(anyhow::anyhow!("reading attachment: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_safe() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("..\\..\\windows\\win.ini"), "win.ini");
        assert_eq!(safe_name(".."), "attachment");
        assert_eq!(safe_name("/abs/path/"), "attachment");
        assert_eq!(safe_name("a\0b\nc.txt"), "abc.txt");
        assert_eq!(safe_name("quote\"d.txt"), "quoted.txt");
        assert_eq!(safe_name(".hidden"), "hidden");
        assert_eq!(safe_name("rapport é.pdf"), "rapport é.pdf");
        assert!(safe_name(&"é".repeat(300)).len() <= 255);
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type(Some("text/plain; charset=utf-8"), "a.txt"), "text/plain");
        assert_eq!(content_type(Some("nonsense"), "a.pdf"), "application/pdf");
        assert_eq!(content_type(None, "a.unknownext"), "application/octet-stream");
        assert_eq!(content_type(Some("application/octet-stream"), "a.png"), "image/png");
    }

    #[test]
    fn hashes_are_checked() {
        assert!(is_sha256(&"a".repeat(64)));
        assert!(!is_sha256(&"A".repeat(64)));
        assert!(!is_sha256("../../etc/passwd"));
    }
}
