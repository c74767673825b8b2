//! Sending stored files to a client, for every dialect: as they are, or in a ZIP archive
//! protected with the password `malware` (as TheHive serves samples). Only files the caller's
//! organisation holds; never rendered by the browser.

use axum::body::Body;
use axum::response::Response;
use futures::StreamExt;
use tokio_util::io::ReaderStream;

use super::support::download;
use crate::core::attachment::{self, ZIP_PASSWORD, safe_name, zipcrypto};
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;

async fn open_file(path: &std::path::Path) -> Result<tokio::fs::File> {
    tokio::fs::File::open(path).await.map_err(|e| Error::Internal(anyhow::anyhow!("opening attachment: {e}")))
}

/// The file of SHA-256 `sha256`, named `name` (made safe) or its stored name.
pub async fn file(state: &AppState, caller: &Caller, sha256: &str, name: Option<&str>) -> Result<Response> {
    let (att, path) = attachment::open(state, caller, sha256).await?;
    let name = name.filter(|n| !n.trim().is_empty()).map(safe_name).unwrap_or_else(|| safe_name(&att.name));
    let file = open_file(&path).await?;
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(att.size);
    Ok(download(Body::from_stream(ReaderStream::new(file)), len, &name, "application/octet-stream"))
}

/// The file of SHA-256 `sha256` in a ZIP protected with the password `malware` (ZipCrypto:
/// every unzip tool opens it), the entry named `name` or the stored name.
pub async fn zip(state: &AppState, caller: &Caller, sha256: &str, name: Option<&str>) -> Result<Response> {
    let (att, path) = attachment::open(state, caller, sha256).await?;
    let name = name.filter(|n| !n.trim().is_empty()).map(safe_name).unwrap_or_else(|| safe_name(&att.name));
    let file = open_file(&path).await?;
    let size = file.metadata().await.map(|m| m.len()).map_err(|e| Error::Internal(anyhow::anyhow!("attachment size: {e}")))?;
    let crc = attachment::crc32_of(&path).await?;
    let random: [u8; 11] = rand::random();
    let plan = zipcrypto::plan(&name, size, crc, ZIP_PASSWORD.as_bytes(), random).map_err(|e| Error::TooLarge(e.to_string()))?;
    let len = plan.len;
    let mut keys = plan.keys;
    let body = futures::stream::iter([Ok::<_, std::io::Error>(plan.prefix)])
        .chain(ReaderStream::new(file).map(move |chunk| {
            chunk.map(|c| {
                let mut buf = c.to_vec();
                keys.encrypt(&mut buf);
                bytes::Bytes::from(buf)
            })
        }))
        .chain(futures::stream::iter([Ok(plan.suffix)]));
    Ok(download(Body::from_stream(body), len, &format!("{name}.zip"), "application/zip"))
}
