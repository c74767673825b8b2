//! The activity panel's server functions over the activity flow.

use app::api::ActivityBackend;
use app::model::Activity;

use super::{R, UiBackend};
use crate::domain::platform::activity;

#[async_trait::async_trait]
impl ActivityBackend for UiBackend {
    async fn recent_activity(&self, case: Option<String>, count: usize) -> R<Vec<Activity>> {
        Ok(activity::recent(&self.state, self.caller()?, case.as_deref(), count).await?)
    }

    async fn open_activity_stream(&self) -> R<String> {
        Ok(activity::open(&self.state, self.caller()?))
    }

    async fn next_activity(&self, stream: String, case: Option<String>) -> R<Vec<Activity>> {
        Ok(activity::next(&self.state, self.caller()?, &stream, case.as_deref()).await?)
    }
}
