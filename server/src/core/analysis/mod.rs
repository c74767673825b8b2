//! The analysis engine's mechanics, which know nothing of analyzers' meaning: [`queue`] starts
//! jobs within a concurrency cap and per-lane rate budgets, [`runner`] runs one analyzer process
//! with Cortex's job protocol.

pub mod queue;
pub mod runner;
