//! Waggle's server: the `waggle` binary's library.
//!
//! Where a request goes: [`api`] (router, layers, adapters per dialect) -> a service module named
//! for its resource ([`user`], [`org`], ...) -> [`store`] (SurrealDB, scoped per organisation).

pub mod api;
pub mod auth;
pub mod bench;
pub mod config;
pub mod dashboard;
pub mod connector;
pub mod error;
pub mod org;
pub mod query;
pub mod render;
pub mod seed;
pub mod server;
pub mod state;
pub mod stats;
pub mod status;
pub mod store;
pub mod user;

pub use status::VERSION;
