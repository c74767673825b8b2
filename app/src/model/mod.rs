//! Types shared by the server and the browser: they derive serde only and compile for wasm32.
//! The service layer speaks these types; each REST dialect translates them to its own shape.

pub mod alert;
pub mod analysis;
pub mod audit;
pub mod auth;
pub mod dashboard;
pub mod case;
pub mod error;
pub mod misp;
pub mod observable;
pub mod report;
pub mod status;
pub mod task;
pub mod template;

pub use alert::*;
pub use analysis::*;
pub use audit::*;
pub use auth::*;
pub use dashboard::*;
pub use case::*;
pub use error::*;
pub use misp::*;
pub use observable::*;
pub use report::*;
pub use status::*;
pub use task::*;
pub use template::*;

/// Record identifier as exposed to clients (the key part of a database record id).
pub type Id = String;

/// A moment in time as TheHive represents it: milliseconds since the Unix epoch.
pub type Millis = i64;
