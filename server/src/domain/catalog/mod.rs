//! An organisation's catalog: the custom fields its cases carry, the observable data types it
//! knows, and the metrics of its cases. Every alert, case and observable creation checks against
//! the first two, so they are kept in memory ([`Catalog`]), coherent with their writers.

pub mod custom_field;
pub mod data_type;
pub mod metric;
pub mod pattern;

use std::sync::Arc;
use std::time::Duration;

use app::model::{CustomFieldDefinition, ObservableDataType};

use crate::core::cache::EpochCache;
use crate::core::error::Result;
use crate::core::state::{AppState, Service};
use crate::core::store::OrgStore;

/// How long an organisation's catalog is kept without a write seen by this process.
const TTL: Duration = Duration::from_secs(10);
const MAX_ORGS: usize = 10_000;

/// Each organisation's data types and custom field definitions, read once instead of one
/// planned query per request. [`data_type`] and [`custom_field`] call the matching `*_changed`
/// after each write (the coherence of [`EpochCache`]).
pub struct Catalog {
    data_types: EpochCache<String, Arc<Vec<ObservableDataType>>>,
    custom_fields: EpochCache<String, Arc<Vec<CustomFieldDefinition>>>,
}

impl Service for Catalog {
    fn make(_: &AppState) -> Self {
        Self { data_types: EpochCache::new(TTL, MAX_ORGS), custom_fields: EpochCache::new(TTL, MAX_ORGS) }
    }
}

impl Catalog {
    /// The organisation's observable data types, sorted by name.
    pub async fn data_types(&self, store: &OrgStore) -> Result<Arc<Vec<ObservableDataType>>> {
        let load = async { Ok(Some(Arc::new(data_type::read_all(store).await?))) };
        Ok(self.data_types.get_or_load(store.org_id(), load).await?.unwrap_or_default())
    }

    /// The data type named `name`, if the organisation has it (read again when memory lacks it:
    /// another Waggle process may have just created it).
    pub async fn data_type(&self, store: &OrgStore, name: &str) -> Result<Option<ObservableDataType>> {
        if let Some(t) = self.data_types(store).await?.iter().find(|t| t.name == name) {
            return Ok(Some(t.clone()));
        }
        let load = async { Ok(Some(Arc::new(data_type::read_all(store).await?))) };
        Ok(self.data_types.refresh(store.org_id(), load).await?.unwrap_or_default().iter().find(|t| t.name == name).cloned())
    }

    fn data_types_changed(&self) {
        self.data_types.changed();
    }

    /// The organisation's custom field definitions, sorted by reference.
    pub async fn custom_fields(&self, store: &OrgStore) -> Result<Arc<Vec<CustomFieldDefinition>>> {
        let load = async { Ok(Some(Arc::new(custom_field::read_all(store).await?))) };
        Ok(self.custom_fields.get_or_load(store.org_id(), load).await?.unwrap_or_default())
    }

    /// The organisation's custom field definitions, read again when memory lacks one of
    /// `references` (another Waggle process may have just created it).
    pub async fn custom_fields_knowing<'a>(&self, store: &OrgStore, mut references: impl Iterator<Item = &'a String>) -> Result<Arc<Vec<CustomFieldDefinition>>> {
        let defs = self.custom_fields(store).await?;
        if references.all(|r| defs.iter().any(|d| &d.reference == r)) {
            return Ok(defs);
        }
        let load = async { Ok(Some(Arc::new(custom_field::read_all(store).await?))) };
        Ok(self.custom_fields.refresh(store.org_id(), load).await?.unwrap_or_default())
    }

    fn custom_fields_changed(&self) {
        self.custom_fields.changed();
    }
}

/// Other Waggle processes on the same database: their writes to the catalog reach this one's
/// memory through the change feed (see [`crate::core::cache`]).
pub fn follow_other_instances(state: &AppState) {
    let catalog = state.service::<Catalog>();
    let c = catalog.clone();
    state.stats.watch("custom_field", move |_| c.custom_fields_changed());
    state.stats.watch("data_type", move |_| catalog.data_types_changed());
}
