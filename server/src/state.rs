//! The application state every handler and service receives.

use std::sync::Arc;

use crate::audit::AuditBus;
use crate::auth::AuthGuard;
use crate::config::Settings;
use crate::connector::Connectors;
use crate::stats::index::StatsIndex;
use crate::store::{SessionStore, Store};

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub auth: Arc<AuthGuard>,
    pub sessions: SessionStore,
    pub connectors: Connectors,
    /// The statistics index (dashboards); loaded and kept current by `server::start`.
    pub stats: Arc<StatsIndex>,
    /// Committed changes, for the live streams.
    pub audit: Arc<AuditBus>,
    /// New alerts, written in shared transactions.
    pub alert_ingest: Arc<crate::alert::Ingest>,
    /// Stored files not yet held by a committed record.
    pub blobs: Arc<crate::attachment::Blobs>,
    /// Each organisation's data types, custom fields and alert source settings, in memory.
    pub catalog: Arc<crate::cache::Catalog>,
}

impl AppState {
    pub fn new(store: Store, settings: Settings) -> Self {
        let connectors = Connectors::new(&settings);
        AppState {
            stats: StatsIndex::new(store.clone()),
            sessions: SessionStore::new(store.clone()),
            store,
            settings: Arc::new(settings),
            auth: Arc::new(AuthGuard::default()),
            connectors,
            audit: Arc::new(AuditBus::default()),
            alert_ingest: Arc::new(crate::alert::Ingest::default()),
            blobs: Arc::new(crate::attachment::Blobs::default()),
            catalog: Arc::new(crate::cache::Catalog::default()),
        }
    }
}
