//! Waggle's server: the `waggle` binary's library.
//!
//! Three layers, and the arrows between them go one way (`tests/layers.rs` checks it):
//!
//! - [`api`]: adapters only. The router and its layers, TheHive's v0 dialect (`api::v0`), Cortex's
//!   API (`api::cortex`) and the UI's server functions (`api::ui`) translate shapes and call the
//!   domain.
//! - [`domain`]: every rule, one folder per area (alert, case, catalog, dashboard, identity,
//!   platform). An area may use the areas below it in [`domain`]'s order, never those above.
//! - [`core`]: infrastructure that knows no domain: the state, errors, the store, the query
//!   language, search, the statistics index, audit, authentication, attachments.
//!
//! [`server`] and [`config`] are the composition root: they build the state and the router.
//! Where a request goes: `api::v0::case::create_case` -> `domain::case::create` ->
//! `core::store::OrgStore` (SurrealDB, scoped to the caller's organisation).

pub mod api;
pub mod config;
pub mod core;
pub mod domain;
pub mod server;

pub use domain::platform::status::VERSION;
