//! Waggle's server: the `waggle` binary's library.
//!
//! Where a request goes: [`api`] (router, layers, adapters per dialect) -> a service module named
//! for its resource ([`user`], [`org`], ...) -> [`store`] (SurrealDB, scoped per organisation).

pub mod alert;
pub mod api;
pub mod attachment;
pub mod audit;
pub mod auth;
pub mod bench;
pub mod cache;
pub mod case;
pub mod case_template;
pub mod config;
pub mod connector;
pub mod custom_field;
pub mod dashboard;
pub mod data_type;
pub mod error;
pub mod markdown;
pub mod metric;
pub mod observable;
pub mod org;
pub mod query;
pub mod render;
pub mod search;
pub mod seed;
pub mod server;
pub mod state;
pub mod stats;
pub mod status;
pub mod store;
pub mod task;
pub mod task_log;
pub mod ui_pref;
pub mod user;
pub mod validate;

pub use status::VERSION;
