//! The observable server functions over the observable service.

use app::api::{BulkOutcome, ObservableBackend, Sighting};
use app::model::*;

use super::case::outcome;
use super::{R, UiBackend};
use crate::{domain::case, domain::case::observable};

#[async_trait::async_trait]
impl ObservableBackend for UiBackend {
    async fn case_observables(&self, case_id: String) -> R<Vec<Observable>> {
        let caller = self.caller()?;
        let c = case::get(&self.state, caller, &case_id).await?;
        Ok(observable::list_for_case(&self.state, caller, &c.id).await?)
    }

    async fn add_observables(&self, case_id: String, input: NewObservables) -> R<BulkOutcome> {
        let caller = self.caller()?;
        let c = case::get(&self.state, caller, &case_id).await?;
        let added = observable::add(&self.state, caller, &c.id, input).await?;
        Ok(BulkOutcome {
            done: added.created.len() as u64,
            failed: added.failed.into_iter().map(|(v, e)| (v, ApiError::from(e).to_string())).collect(),
        })
    }

    async fn update_observables(&self, ids: Vec<String>, patch: ObservablePatch) -> R<BulkOutcome> {
        Ok(outcome(observable::bulk_update(&self.state, self.caller()?, &ids, patch).await))
    }

    async fn delete_observables(&self, ids: Vec<String>) -> R<BulkOutcome> {
        Ok(outcome(observable::bulk_delete(&self.state, self.caller()?, &ids).await))
    }

    async fn observable_sightings(&self, id: String) -> R<Vec<Sighting>> {
        let found = observable::similar(&self.state, self.caller()?, &id).await?;
        Ok(found.into_iter().map(|(observable, case)| Sighting { observable, case }).collect())
    }
}
