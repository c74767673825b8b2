//! Who works in Waggle: organisations (tenants), users and their memberships with a profile in
//! each (built-in or custom profiles), and each user's UI preferences.

pub mod org;
pub mod profile;
pub mod ui_pref;
pub mod user;
