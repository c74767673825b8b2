//! The MISP server functions over the MISP services.

use app::api::MispBackend;
use app::model::*;

use super::{R, UiBackend};
use crate::domain::misp;

#[async_trait::async_trait]
impl MispBackend for UiBackend {
    async fn misp_connections(&self) -> R<Vec<MispServerState>> {
        Ok(misp::list(&self.state, self.caller()?).await?)
    }

    async fn save_misp_connection(&self, input: MispServerInput) -> R<MispServer> {
        Ok(misp::save(&self.state, self.caller()?, input).await?)
    }

    async fn delete_misp_connection(&self, name: String) -> R<()> {
        Ok(misp::remove(&self.state, self.caller()?, &name).await?)
    }

    async fn sync_misp(&self, full: bool) -> R<Vec<MispSyncReport>> {
        Ok(misp::sync_all(&self.state, self.caller()?, full).await?)
    }

    async fn misp_export_targets(&self) -> R<Vec<String>> {
        self.caller()?;
        Ok(misp::export_targets(&self.state))
    }

    async fn export_case_to_misp(&self, case_id: String, server: String, request: MispExportRequest) -> R<MispExportResult> {
        Ok(misp::export(&self.state, self.caller()?, &case_id, &server, request).await?)
    }

    async fn case_misp_exports(&self, case_id: String) -> R<Vec<MispExport>> {
        Ok(misp::exports_of(&self.state, self.caller()?, &case_id).await?)
    }
}
