//! TheHive's v0 dialect (`/api/...`), spoken by thehive4py 1.x and the feeders built on it.
//! Handlers translate shapes and call the service layer; no rule lives here.

pub mod alert;
pub mod audit;
pub mod case;
pub mod dashboard;
pub mod datastore;
pub mod list;
pub mod misp;
pub mod observable;
pub mod organisation;
pub mod platform;
pub mod profile;
pub mod report;
pub mod cortex;
pub mod stats;
pub mod task;
pub mod template;
pub mod user;

use utoipa_axum::router::OpenApiRouter;

pub use crate::api::support::{self, check_attributes, object, opt_string};
use crate::core::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(platform::routes())
        .merge(user::routes())
        .merge(organisation::routes())
        .merge(profile::routes())
        .merge(case::routes())
        .merge(task::routes())
        .merge(observable::routes())
        .merge(template::routes())
        .merge(list::routes())
        .merge(datastore::routes())
        .merge(audit::routes())
        .merge(alert::routes())
        .merge(stats::routes())
        .merge(cortex::routes())
        .merge(misp::routes())
        .merge(dashboard::routes())
        .merge(report::routes())
}
