//! The analysis engine's mechanics, which know nothing of analyzers' meaning: [`queue`] starts
//! jobs within a concurrency cap and per-lane rate budgets, [`runner`] runs one analyzer process
//! with Cortex's job protocol, [`cortex_client`] speaks to an external Cortex server.

pub mod cortex_client;
pub mod queue;
pub mod runner;
