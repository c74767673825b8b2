//! The report server functions over the report template services.

use app::api::ReportBackend;
use app::model::*;

use super::{R, UiBackend};
use crate::domain::report::template;

#[async_trait::async_trait]
impl ReportBackend for UiBackend {
    async fn report_templates(&self) -> R<Vec<ReportTemplate>> {
        Ok(template::list(&self.state, self.caller()?).await?)
    }

    async fn upload_report_template(&self, input: NewReportTemplate) -> R<ReportTemplate> {
        Ok(template::create(&self.state, self.caller()?, input).await?)
    }

    async fn delete_report_template(&self, id: String) -> R<()> {
        Ok(template::delete(&self.state, self.caller()?, &id).await?)
    }
}
