//! The task server functions over the task and log services.

use app::api::{BulkOutcome, LogView, TaskBackend, TaskDetail};
use app::model::*;

use super::case::outcome;
use super::{R, UiBackend};
use crate::{domain::case, core::markdown, domain::case::task, domain::case::task_log};

#[async_trait::async_trait]
impl TaskBackend for UiBackend {
    async fn case_tasks(&self, case_id: String) -> R<Vec<Task>> {
        let caller = self.caller()?;
        let c = case::get(&self.state, caller, &case_id).await?;
        Ok(task::list_for_case(&self.state, caller, &c.id).await?)
    }

    async fn task_detail(&self, id: String) -> R<TaskDetail> {
        let caller = self.caller()?;
        let t = task::get(&self.state, caller, &id).await?;
        let c = case::get(&self.state, caller, &t.case_id).await?;
        let logs = task_log::list_for_task(&self.state, caller, &t.id)
            .await?
            .into_iter()
            .filter(|l| l.status == LogStatus::Ok)
            .map(|l| LogView { html: markdown::to_safe_html(&l.message), log: l })
            .collect();
        Ok(TaskDetail { description_html: markdown::to_safe_html(t.description.as_deref().unwrap_or("")), task: t, case: c, logs })
    }

    async fn create_task(&self, case_id: String, input: NewTask) -> R<Task> {
        let caller = self.caller()?;
        let c = case::get(&self.state, caller, &case_id).await?;
        Ok(task::create(&self.state, caller, &c.id, input).await?)
    }

    async fn update_task(&self, id: String, patch: TaskPatch) -> R<Task> {
        Ok(task::update(&self.state, self.caller()?, &id, patch).await?)
    }

    async fn delete_task(&self, id: String) -> R<()> {
        Ok(task::delete(&self.state, self.caller()?, &id).await?)
    }

    async fn bulk_update_tasks(&self, ids: Vec<String>, patch: TaskPatch) -> R<BulkOutcome> {
        Ok(outcome(task::bulk_update(&self.state, self.caller()?, &ids, patch).await))
    }

    async fn add_task_log(&self, task_id: String, message: String) -> R<TaskLog> {
        Ok(task_log::create(&self.state, self.caller()?, &task_id, &message, None).await?)
    }

    async fn delete_task_log(&self, id: String) -> R<()> {
        Ok(task_log::delete(&self.state, self.caller()?, &id).await?)
    }
}
