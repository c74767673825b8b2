//! Who works in Waggle: organisations (tenants), users and their memberships with a profile in
//! each (built-in or custom profiles), each user's UI preferences, and the directory they may
//! sign in with.

pub mod directory;
pub mod org;
pub mod profile;
pub mod ui_pref;
pub mod user;
