//! Task server functions: a case's tasks, a task with its logs, create, update, delete, logs.
//! (A log with an attachment is posted as multipart to `/api/case/task/{id}/log`.)

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::model::*;

#[cfg(feature = "ssr")]
pub use backend::TaskBackend;

#[cfg(feature = "ssr")]
fn backend() -> Result<std::sync::Arc<dyn TaskBackend>, ApiError> {
    super::backend_of::<dyn TaskBackend>()
}

#[cfg(feature = "ssr")]
mod backend {
    use super::*;

    #[async_trait::async_trait]
    pub trait TaskBackend: Send + Sync {
        async fn case_tasks(&self, case_id: String) -> Result<Vec<Task>, ApiError>;
        async fn task_detail(&self, id: String) -> Result<TaskDetail, ApiError>;
        async fn create_task(&self, case_id: String, input: NewTask) -> Result<Task, ApiError>;
        async fn update_task(&self, id: String, patch: TaskPatch) -> Result<Task, ApiError>;
        async fn delete_task(&self, id: String) -> Result<(), ApiError>;
        async fn bulk_update_tasks(&self, ids: Vec<String>, patch: TaskPatch) -> Result<super::super::BulkOutcome, ApiError>;
        async fn add_task_log(&self, task_id: String, message: String) -> Result<TaskLog, ApiError>;
        async fn delete_task_log(&self, id: String) -> Result<(), ApiError>;
    }
}

/// A log with its message rendered (sanitised HTML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogView {
    pub log: TaskLog,
    pub html: String,
}

/// A task as its page shows it: its case, description rendered, logs newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskDetail {
    pub task: Task,
    pub case: Case,
    pub description_html: String,
    pub logs: Vec<LogView>,
}

#[server(prefix = "/ui", endpoint = "tasks/of-case", input = Json)]
pub async fn case_tasks(case_id: String) -> Result<Vec<Task>, ApiError> {
    backend()?.case_tasks(case_id).await
}

#[server(prefix = "/ui", endpoint = "tasks/get", input = Json)]
pub async fn get_task_detail(id: String) -> Result<TaskDetail, ApiError> {
    backend()?.task_detail(id).await
}

#[server(prefix = "/ui", endpoint = "tasks/create", input = Json)]
pub async fn create_task(case_id: String, input: NewTask) -> Result<Task, ApiError> {
    backend()?.create_task(case_id, input).await
}

#[server(prefix = "/ui", endpoint = "tasks/update", input = Json)]
pub async fn update_task(id: String, patch: TaskPatch) -> Result<Task, ApiError> {
    backend()?.update_task(id, patch).await
}

/// Delete a task for good, with its logs.
#[server(prefix = "/ui", endpoint = "tasks/delete", input = Json)]
pub async fn delete_task(id: String) -> Result<(), ApiError> {
    backend()?.delete_task(id).await
}

#[server(prefix = "/ui", endpoint = "tasks/bulk", input = Json)]
pub async fn bulk_update_tasks(ids: Vec<String>, patch: TaskPatch) -> Result<super::BulkOutcome, ApiError> {
    backend()?.bulk_update_tasks(ids, patch).await
}

#[server(prefix = "/ui", endpoint = "tasks/logs/add", input = Json)]
pub async fn add_task_log(task_id: String, message: String) -> Result<TaskLog, ApiError> {
    backend()?.add_task_log(task_id, message).await
}

#[server(prefix = "/ui", endpoint = "tasks/logs/delete", input = Json)]
pub async fn delete_task_log(id: String) -> Result<(), ApiError> {
    backend()?.delete_task_log(id).await
}
