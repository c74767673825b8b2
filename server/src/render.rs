//! Dashboards and widgets rendered to PNG on the server (plotters' bitmap backend).

use crate::auth::Caller;
use crate::error::{Error, Result};
use crate::state::AppState;

pub async fn dashboard_png(_state: &AppState, _caller: &Caller, _id: &str, _width: Option<u32>, _theme: Option<&str>) -> Result<Vec<u8>> {
    Err(Error::BadRequest("not yet".into()))
}

pub async fn widget_png(_state: &AppState, _caller: &Caller, _id: &str, _w: &str, _width: Option<u32>, _theme: Option<&str>) -> Result<Vec<u8>> {
    Err(Error::BadRequest("not yet".into()))
}
