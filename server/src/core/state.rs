//! The application state every handler and service receives.
//!
//! It holds infrastructure only. A domain area that needs a long-lived part of its own (the alert
//! ingestion queue, the organisations' catalog in memory, the connectors' health) declares it as
//! a [`Service`] and reaches it with [`AppState::service`]: core never names those types, so the
//! arrows stay `domain -> core`.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::config::Settings;
use crate::core::audit::AuditBus;
use crate::core::auth::AuthGuard;
use crate::core::stats::index::StatsIndex;
use crate::core::store::{SessionStore, Store};

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub auth: Arc<AuthGuard>,
    pub sessions: SessionStore,
    /// The statistics index (dashboards); loaded and kept current by `server::start`.
    pub stats: Arc<StatsIndex>,
    /// Committed changes, for the live streams.
    pub audit: Arc<AuditBus>,
    /// Stored files not yet held by a committed record.
    pub blobs: Arc<crate::core::attachment::Blobs>,
    /// The domain areas' own parts (see [`Service`]).
    services: Arc<Services>,
}

/// A long-lived part owned by a domain area, made from the state on first use.
///
/// `make` must not start anything (no task, no I/O): two racing first uses may both make one,
/// and only the first stored is kept. What runs in the background is started by the composition
/// root (`server::start`), which asks for the service like anyone else.
pub trait Service: Any + Send + Sync {
    fn make(state: &AppState) -> Self;
}

/// The domain services of one [`AppState`], by type.
#[derive(Default)]
pub struct Services(RwLock<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>);

impl AppState {
    pub fn new(store: Store, settings: Settings) -> Self {
        AppState {
            stats: StatsIndex::with_snapshot(store.clone(), Some(settings.data_dir.join(crate::core::stats::snapshot::FILE))),
            sessions: SessionStore::new(store.clone()),
            store,
            settings: Arc::new(settings),
            auth: Arc::new(AuthGuard::default()),
            audit: Arc::new(AuditBus::default()),
            blobs: Arc::new(crate::core::attachment::Blobs::default()),
            services: Arc::new(Services::default()),
        }
    }

    /// The service `S` of this state, made on first use.
    pub fn service<S: Service>(&self) -> Arc<S> {
        let key = TypeId::of::<S>();
        let found = self.services.0.read().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
        let any = match found {
            Some(s) => s,
            None => {
                // Made outside the lock: `make` may ask for other services.
                let made: Arc<dyn Any + Send + Sync> = Arc::new(S::make(self));
                let mut map = self.services.0.write().unwrap_or_else(|e| e.into_inner());
                map.entry(key).or_insert(made).clone()
            }
        };
        // The map holds under `TypeId::of::<S>()` only an `S`.
        any.downcast::<S>().unwrap_or_else(|_| unreachable!("a service stored under another type's id"))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    static MADE: AtomicUsize = AtomicUsize::new(0);

    struct Counter(usize);
    impl Service for Counter {
        fn make(_: &AppState) -> Self {
            Counter(MADE.fetch_add(1, Ordering::SeqCst))
        }
    }

    #[tokio::test]
    async fn a_service_is_made_once_per_state() {
        let settings = crate::config::Settings::ephemeral(std::path::Path::new("unused"));
        let store = crate::core::store::Store::open("mem://", None, None).await.unwrap();
        let a = AppState::new(store.clone(), settings.clone());
        let b = AppState::new(store, settings);
        let first = a.service::<Counter>().0;
        assert_eq!(a.service::<Counter>().0, first, "the same state gives the same service");
        assert_ne!(b.service::<Counter>().0, first, "another state has its own");
        assert!(Arc::ptr_eq(&a.service::<Counter>(), &a.clone().service::<Counter>()), "clones share it");
    }
}
