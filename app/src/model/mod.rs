//! Types shared by the server and the browser: they derive serde only and compile for wasm32.
//! The service layer speaks these types; each REST dialect translates them to its own shape.

pub mod auth;
pub mod dashboard;
pub mod error;
pub mod status;

pub use auth::*;
pub use dashboard::*;
pub use error::*;
pub use status::*;

/// Record identifier as exposed to clients (the key part of a database record id).
pub type Id = String;

/// A moment in time as TheHive represents it: milliseconds since the Unix epoch.
pub type Millis = i64;
