//! Downloads of stored files: as they are (`/api/datastore/{hash}`) or in a ZIP archive
//! protected with the password `malware` (`/api/datastorezip/{hash}`), as TheHive serves
//! samples. Only files the caller's organisation holds; never rendered by the browser.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use futures::StreamExt;
use tokio_util::io::ReaderStream;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::support::{download, query_param};
use crate::core::attachment::{self, ZIP_PASSWORD, safe_name, zipcrypto};
use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_file)).routes(routes!(get_zip))
}

/// The download name: `?name=` if given (made safe), else the stored name.
fn name_for(raw: Option<&str>, stored: &str) -> String {
    query_param(raw, "name").filter(|n| !n.trim().is_empty()).map(|n| safe_name(&n)).unwrap_or_else(|| safe_name(stored))
}

async fn open_file(path: &std::path::Path) -> Result<tokio::fs::File> {
    tokio::fs::File::open(path).await.map_err(|e| Error::Internal(anyhow::anyhow!("opening attachment: {e}")))
}

/// A stored file, as an attachment (`Content-Disposition: attachment`, `nosniff`, sandbox CSP).
#[utoipa::path(get, path = "/api/datastore/{id}", tag = "attachment", params(("id" = String, Path, description = "SHA-256 of the file"), ("name" = Option<String>, Query, description = "Download name")), responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 404, description = "Not a file of this organisation")))]
pub async fn get_file(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Result<Response> {
    let (att, path) = attachment::open(&state, &caller, &id).await?;
    let file = open_file(&path).await?;
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(att.size);
    Ok(download(Body::from_stream(ReaderStream::new(file)), len, &name_for(raw.as_deref(), &att.name), "application/octet-stream"))
}

/// A stored file in a ZIP archive protected with the password `malware` (ZipCrypto: every
/// unzip tool opens it).
#[utoipa::path(get, path = "/api/datastorezip/{id}", tag = "attachment", params(("id" = String, Path, description = "SHA-256 of the file"), ("name" = Option<String>, Query, description = "Name of the file in the archive")), responses((status = 200, description = "<name>.zip", content_type = "application/zip"), (status = 404, description = "Not a file of this organisation")))]
pub async fn get_zip(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Result<Response> {
    let (att, path) = attachment::open(&state, &caller, &id).await?;
    let name = name_for(raw.as_deref(), &att.name);
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
