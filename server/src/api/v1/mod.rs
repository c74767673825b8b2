//! TheHive 5's v1 dialect (`/api/v1/...`), spoken by thehive4py 2.x, n8n's and Shuffle's
//! TheHive nodes. Handlers translate shapes ([`shape`]) and call the same domain services as
//! v0, so a case made in one dialect is read and changed in the other. What is covered and
//! what is not: README, "TheHive v1 API".

pub mod alert;
pub mod case;
pub mod comment;
pub mod cortex;
pub mod extra;
pub mod files;
pub mod misp;
pub mod platform;
pub mod procedure;
pub mod query;
pub mod shape;
pub mod work;

use utoipa_axum::router::OpenApiRouter;

use crate::core::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(case::routes()).merge(alert::routes()).merge(work::routes()).merge(query::routes()).merge(platform::routes()).merge(cortex::routes()).merge(comment::routes()).merge(procedure::routes()).merge(extra::routes()).merge(files::routes()).merge(misp::routes())
}
