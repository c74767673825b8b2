//! The platform as a whole: its status and the health of its connectors, and what a new
//! organisation starts with.

pub mod connector;
pub mod setup;
pub mod status;
