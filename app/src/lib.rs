//! Waggle's shared types and web UI (Leptos, client-side rendered).
//!
//! - [`model`]: types shared by the server and the browser (serde only, wasm-safe).
//! - [`api`]: server functions, the UI's calls to the server.
//! - [`ui`]: the components and pages.

pub mod api;
pub mod model;
pub mod ui;
