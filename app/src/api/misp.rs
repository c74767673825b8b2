//! MISP server functions: the connections (platform administrators), synchronisation now, a
//! case's export to MISP and the events it was exported to.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::model::*;

#[cfg(feature = "ssr")]
pub use backend::MispBackend;

#[cfg(feature = "ssr")]
fn backend() -> Result<std::sync::Arc<dyn MispBackend>, ApiError> {
    super::backend_of::<dyn MispBackend>()
}

#[cfg(feature = "ssr")]
mod backend {
    use super::*;

    #[async_trait::async_trait]
    pub trait MispBackend: Send + Sync {
        async fn misp_connections(&self) -> Result<Vec<MispServerState>, ApiError>;
        async fn save_misp_connection(&self, input: MispServerInput) -> Result<MispServer, ApiError>;
        async fn delete_misp_connection(&self, name: String) -> Result<(), ApiError>;
        async fn sync_misp(&self, full: bool) -> Result<Vec<MispSyncReport>, ApiError>;
        async fn misp_export_targets(&self) -> Result<Vec<String>, ApiError>;
        async fn export_case_to_misp(&self, case_id: String, server: String, request: MispExportRequest) -> Result<MispExportResult, ApiError>;
        async fn case_misp_exports(&self, case_id: String) -> Result<Vec<MispExport>, ApiError>;
    }
}

/// Every MISP connection with its health and last synchronisation.
#[server(prefix = "/ui", endpoint = "admin/misp/list", input = Json)]
pub async fn misp_connections() -> Result<Vec<MispServerState>, ApiError> {
    backend()?.misp_connections().await
}

/// Add or change a connection (`key`: `None` keeps the current one).
#[server(prefix = "/ui", endpoint = "admin/misp/save", input = Json)]
pub async fn save_misp_connection(input: MispServerInput) -> Result<MispServer, ApiError> {
    backend()?.save_misp_connection(input).await
}

#[server(prefix = "/ui", endpoint = "admin/misp/delete", input = Json)]
pub async fn delete_misp_connection(name: String) -> Result<(), ApiError> {
    backend()?.delete_misp_connection(name).await
}

/// Synchronise every importing connection now (`full`: every event again).
#[server(prefix = "/ui", endpoint = "admin/misp/sync", input = Json)]
pub async fn sync_misp(full: bool) -> Result<Vec<MispSyncReport>, ApiError> {
    backend()?.sync_misp(full).await
}

/// The MISP servers a case may be exported to.
#[server(prefix = "/ui", endpoint = "misp/targets", input = Json)]
pub async fn misp_export_targets() -> Result<Vec<String>, ApiError> {
    backend()?.misp_export_targets().await
}

#[server(prefix = "/ui", endpoint = "misp/export", input = Json)]
pub async fn export_case_to_misp(case_id: String, server: String, request: MispExportRequest) -> Result<MispExportResult, ApiError> {
    backend()?.export_case_to_misp(case_id, server, request).await
}

#[server(prefix = "/ui", endpoint = "misp/exports", input = Json)]
pub async fn case_misp_exports(case_id: String) -> Result<Vec<MispExport>, ApiError> {
    backend()?.case_misp_exports(case_id).await
}
