//! Who works in Waggle: organisations (tenants), users and their memberships with a profile in
//! each, and each user's UI preferences.

pub mod org;
pub mod ui_pref;
pub mod user;
