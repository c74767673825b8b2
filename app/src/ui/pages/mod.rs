pub mod about;
pub mod admin;
pub mod alerts;
pub mod cases;
pub mod dashboards;
pub mod login;
pub mod profile;
