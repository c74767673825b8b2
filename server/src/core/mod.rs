//! Infrastructure that knows no domain: nothing here imports [`crate::domain`] or [`crate::api`].
//!
//! - [`state`]: the state every handler and service receives, and [`state::Services`], where a
//!   domain area keeps its own long-lived parts without core knowing their types.
//! - [`error`]: the one error type of the services, with its kind for each dialect.
//! - [`store`]: SurrealDB (embedded or a server), migrations, sessions, handles scoped to one
//!   organisation.
//! - [`query`] and [`search`]: TheHive's query language, compiled to bound SurrealQL; pages and
//!   counts for every list.
//! - [`stats`]: the in-memory statistics index (dashboards, filtered lists, similarity).
//! - [`auth`]: who calls (API key, Basic, session, client certificate) and in which organisation.
//! - [`tls`]: TLS terminated with OpenSSL, verified client certificates handed to requests.
//! - [`audit`]: the audit trail and the live bus behind `/api/stream`.
//! - [`attachment`]: the content-addressed file store.
//! - [`analysis`]: the analysis engine's mechanics: the job queue (concurrency, rate budgets)
//!   and the runner of analyzer processes (Cortex's job protocol).
//! - [`secret`]: secrets sealed at rest under the data directory's key.
//! - [`pdf`]: PDF documents laid out and written by the binary (headings, paragraphs, lists,
//!   tables, images; header and footer with a marking and page numbers), from markdown.
//! - [`cache`], [`validate`], [`markdown`]: small shared tools.

pub mod analysis;
pub mod attachment;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod error;
pub mod markdown;
pub mod pdf;
pub mod query;
pub mod search;
pub mod secret;
pub mod state;
pub mod stats;
pub mod store;
pub mod tls;
pub mod validate;
