//! The dashboards' server functions, over the dashboard and statistics services.

use app::api::DashboardBackend;
use app::model::*;
use serde_json::Value;

use super::{R, UiBackend};
use crate::domain::dashboard::{self, DashboardPatch, NewDashboard};
use crate::core::error::Error;
use crate::core::query::Range;
use crate::core::stats;

#[async_trait::async_trait]
impl DashboardBackend for UiBackend {
    async fn list_dashboards(&self) -> R<Vec<Dashboard>> {
        let (list, _) = dashboard::search(&self.state, self.caller()?, &Value::Null, &[], Range { from: 0, to: Some(1000) }).await?;
        Ok(list)
    }

    async fn get_dashboard(&self, id: String) -> R<Dashboard> {
        Ok(dashboard::get(&self.state, self.caller()?, &id).await?)
    }

    async fn save_dashboard(&self, input: app::api::NewDashboard) -> R<Dashboard> {
        let caller = self.caller()?;
        Ok(match input.id {
            Some(id) => {
                let patch = DashboardPatch {
                    title: Some(input.title),
                    description: Some(input.description),
                    status: Some(input.status),
                    definition: Some(input.definition),
                };
                dashboard::update(&self.state, caller, &id, patch).await?
            }
            None => {
                let new = NewDashboard { title: input.title, description: input.description, status: input.status, definition: input.definition };
                dashboard::create(&self.state, caller, new).await?
            }
        })
    }

    async fn delete_dashboard(&self, id: String) -> R<()> {
        Ok(dashboard::delete(&self.state, self.caller()?, &id).await?)
    }

    async fn copy_dashboard(&self, id: String) -> R<Dashboard> {
        Ok(dashboard::copy(&self.state, self.caller()?, &id, None).await?)
    }

    async fn import_dashboard(&self, file: String) -> R<Dashboard> {
        let v: Value = serde_json::from_str(&file).map_err(|e| Error::BadRequest(format!("This file is not valid JSON: {e}")))?;
        Ok(dashboard::import(&self.state, self.caller()?, &v).await?)
    }

    async fn widget_stats(&self, model: String, body: Value) -> R<Value> {
        let entity = stats::entity_of_model(&model)?;
        Ok(stats::stats(&self.state, self.caller()?, entity, &body).await?)
    }
}
