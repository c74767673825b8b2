//! The platform as a whole: its status and the health of its connectors, what a new
//! organisation starts with, and the live activity flow.

pub mod activity;
pub mod connector;
pub mod setup;
pub mod status;
