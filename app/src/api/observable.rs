//! Observable server functions: a case's observables, add one or many, bulk update and delete,
//! the other cases a value is seen in. (Files are posted as multipart to
//! `/api/case/{id}/artifact`.)

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use super::BulkOutcome;
use crate::model::*;

#[cfg(feature = "ssr")]
pub use backend::ObservableBackend;

#[cfg(feature = "ssr")]
fn backend() -> Result<std::sync::Arc<dyn ObservableBackend>, ApiError> {
    super::backend_of::<dyn ObservableBackend>()
}

#[cfg(feature = "ssr")]
mod backend {
    use super::*;

    #[async_trait::async_trait]
    pub trait ObservableBackend: Send + Sync {
        async fn case_observables(&self, case_id: String) -> Result<Vec<Observable>, ApiError>;
        async fn add_observables(&self, case_id: String, input: NewObservables) -> Result<BulkOutcome, ApiError>;
        async fn update_observables(&self, ids: Vec<String>, patch: ObservablePatch) -> Result<BulkOutcome, ApiError>;
        async fn delete_observables(&self, ids: Vec<String>) -> Result<BulkOutcome, ApiError>;
        async fn observable_sightings(&self, id: String) -> Result<Vec<Sighting>, ApiError>;
    }
}

/// The same value in another case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sighting {
    pub observable: Observable,
    pub case: Case,
}

#[server(prefix = "/ui", endpoint = "observables/of-case", input = Json)]
pub async fn case_observables(case_id: String) -> Result<Vec<Observable>, ApiError> {
    backend()?.case_observables(case_id).await
}

/// Add one observable per value; values already in the case are reported in `failed`.
#[server(prefix = "/ui", endpoint = "observables/add", input = Json)]
pub async fn add_observables(case_id: String, input: NewObservables) -> Result<BulkOutcome, ApiError> {
    backend()?.add_observables(case_id, input).await
}

#[server(prefix = "/ui", endpoint = "observables/update", input = Json)]
pub async fn update_observables(ids: Vec<String>, patch: ObservablePatch) -> Result<BulkOutcome, ApiError> {
    backend()?.update_observables(ids, patch).await
}

#[server(prefix = "/ui", endpoint = "observables/delete", input = Json)]
pub async fn delete_observables(ids: Vec<String>) -> Result<BulkOutcome, ApiError> {
    backend()?.delete_observables(ids).await
}

#[server(prefix = "/ui", endpoint = "observables/sightings", input = Json)]
pub async fn observable_sightings(id: String) -> Result<Vec<Sighting>, ApiError> {
    backend()?.observable_sightings(id).await
}
