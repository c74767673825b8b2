//! The case administration server functions over the template, custom field, metric and data
//! type services.

use app::api::CaseAdminBackend;
use app::model::*;
use serde_json::Value;

use super::{R, UiBackend};
use crate::{domain::case::template, domain::catalog::custom_field, domain::catalog::data_type, domain::catalog::metric};

#[async_trait::async_trait]
impl CaseAdminBackend for UiBackend {
    async fn create_template(&self, input: NewTemplate) -> R<CaseTemplate> {
        Ok(template::create(&self.state, self.caller()?, input).await?)
    }

    async fn update_template(&self, id: String, input: NewTemplate) -> R<CaseTemplate> {
        Ok(template::update(&self.state, self.caller()?, &id, input).await?)
    }

    async fn delete_template(&self, id: String) -> R<()> {
        Ok(template::delete(&self.state, self.caller()?, &id).await?)
    }

    async fn import_template(&self, file: Value) -> R<CaseTemplate> {
        Ok(template::import(&self.state, self.caller()?, &file).await?)
    }

    async fn export_template(&self, id: String) -> R<(String, Value)> {
        let t = template::get(&self.state, self.caller()?, &id).await?;
        Ok(template::export(&t))
    }

    async fn create_custom_field(&self, input: NewCustomField) -> R<CustomFieldDefinition> {
        Ok(custom_field::create(&self.state, self.caller()?, input).await?)
    }

    async fn delete_custom_field(&self, id: String) -> R<()> {
        Ok(custom_field::delete(&self.state, self.caller()?, &id).await?)
    }

    async fn create_metric(&self, input: NewMetric) -> R<MetricDefinition> {
        Ok(metric::create(&self.state, self.caller()?, input).await?)
    }

    async fn delete_metric(&self, id: String) -> R<()> {
        Ok(metric::delete(&self.state, self.caller()?, &id).await?)
    }

    async fn create_data_type(&self, name: String, is_attachment: bool) -> R<ObservableDataType> {
        Ok(data_type::create(&self.state, self.caller()?, &name, is_attachment).await?)
    }

    async fn delete_data_type(&self, id: String) -> R<()> {
        Ok(data_type::delete(&self.state, self.caller()?, &id).await?)
    }
}
