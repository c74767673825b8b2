//! A case's Tasks tab (grouped, reorder, assign, start, close, due dates, delete, add) and a
//! task's page (description and due date editable, its logs, a markdown editor with preview,
//! attachment upload, delete).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::case::use_case;
use crate::api::{self, TaskDetail};
use crate::date::day_end;
use crate::model::*;
use crate::ui::action::{Settle, confirm};
use crate::ui::auth::use_auth;
use crate::ui::browser;
use crate::ui::format;
use crate::ui::widgets::{EmptyState, ErrorNote, Loading, MarkdownEditor};

/// Tasks grouped by their group, groups in the order of their first task.
pub fn grouped(tasks: &[Task]) -> Vec<(String, Vec<Task>)> {
    let mut out: Vec<(String, Vec<Task>)> = Vec::new();
    for t in tasks {
        match out.iter_mut().find(|(g, _)| *g == t.group) {
            Some((_, list)) => list.push(t.clone()),
            None => out.push((t.group.clone(), vec![t.clone()])),
        }
    }
    out
}

/// The order changes that move `tasks[i]` one place up (`-1`) or down (`+1`): the two tasks
/// swap places; orders are renumbered 0..n so that ties (all 0) move too.
pub fn reorder(tasks: &[Task], i: usize, delta: isize) -> Vec<(String, i64)> {
    let j = i as isize + delta;
    if j < 0 || j as usize >= tasks.len() || i >= tasks.len() {
        return Vec::new();
    }
    let mut ids: Vec<&Task> = tasks.iter().collect();
    ids.swap(i, j as usize);
    ids.iter()
        .enumerate()
        .filter(|(k, t)| t.order != *k as i64)
        .map(|(k, t)| (t.id.clone(), k as i64))
        .collect()
}

/// A due date from a date picker's day (`YYYY-MM-DD`): the last millisecond of that day (UTC),
/// so a task is overdue only once its day is over.
pub fn due_from_day(day: &str) -> Option<Millis> {
    day_end(day)
}

/// The day (`YYYY-MM-DD`, UTC) of a due date, as a date picker shows it.
pub fn day_of(ms: Millis) -> String {
    crate::date::day(ms)
}

/// The change a date picker makes: a day sets the due date, an empty value clears it; `None`
/// for a value that is not a day.
pub fn due_patch(value: &str) -> Option<TaskPatch> {
    if value.trim().is_empty() {
        return Some(TaskPatch { clear_due_date: Some(true), ..Default::default() });
    }
    due_from_day(value).map(|d| TaskPatch { due_date: Some(d), ..Default::default() })
}

/// An open task whose due date has passed.
pub fn is_overdue(t: &Task, now: Millis) -> bool {
    t.status.is_open() && t.due_date.is_some_and(|d| d < now)
}

fn now() -> Millis {
    js_sys::Date::now() as Millis
}

/// A task's due date: a date picker when it may change, the day otherwise; overdue said in words.
#[component]
fn DueDate(task: Task, writable: bool, on_change: Callback<TaskPatch>) -> impl IntoView {
    let overdue = is_overdue(&task, now());
    let day = task.due_date.map(day_of).unwrap_or_default();
    let label = format!("Due date of {}", task.title);
    view! {
        <span class="due" class:overdue=overdue>
            {if writable {
                view! { <input type="date" class="due-input" aria-label=label prop:value=day.clone()
                    on:change=move |ev| if let Some(p) = due_patch(&event_target_value(&ev)) { on_change.run(p) }/> }.into_any()
            } else if day.is_empty() {
                view! { <span class="muted">"-"</span> }.into_any()
            } else {
                view! { <span>{day.clone()}</span> }.into_any()
            }}
            {overdue.then(|| view! { <span class="overdue-label">"overdue"</span> })}
        </span>
    }
}

#[component]
pub fn TasksTab() -> impl IntoView {
    let ctx = use_case();
    let auth = use_auth();
    let error = RwSignal::new(None::<ApiError>);
    let tasks = LocalResource::new(move || {
        ctx.reload.track();
        let id = ctx.case().map(|c| c.id).unwrap_or_default();
        async move { api::case_tasks(id).await }
    });
    let members = move || ctx.lookups.get().map(|l| l.members).unwrap_or_default();
    let writable = move || ctx.case().is_some_and(|c| c.status != CaseStatus::Deleted);
    let update = move |id: String, patch: TaskPatch| {
        spawn_local(async move {
            match api::update_task(id, patch).await {
                Ok(_) => {
                    error.set(None);
                    ctx.refresh();
                }
                Err(e) => {
                    auth.check(&e);
                    error.set(Some(e));
                }
            }
        });
    };
    let move_task = move |list: Vec<Task>, i: usize, delta: isize| {
        let changes = reorder(&list, i, delta);
        spawn_local(async move {
            for (id, order) in changes {
                if let Err(e) = api::update_task(id, TaskPatch { order: Some(order), ..Default::default() }).await {
                    error.set(Some(e));
                    break;
                }
            }
            ctx.refresh();
        });
    };
    let delete = move |id: String, title: String| {
        if !confirm(&format!("Delete the task “{title}” and its logs? This cannot be undone.")) {
            return;
        }
        spawn_local(async move {
            match api::delete_task(id).await {
                Ok(()) => {
                    error.set(None);
                    ctx.refresh();
                }
                Err(e) => {
                    auth.check(&e);
                    error.set(Some(e));
                }
            }
        });
    };
    let title = RwSignal::new(String::new());
    let group = RwSignal::new(String::new());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(c) = ctx.case() else { return };
        let input = NewTask { title: title.get_untracked(), group: Some(group.get_untracked()).filter(|g| !g.trim().is_empty()), ..Default::default() };
        spawn_local(async move {
            match api::create_task(c.id, input).await {
                Ok(_) => {
                    title.set(String::new());
                    error.set(None);
                    ctx.refresh();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="card">
            <Show when=writable>
                <form class="inline-form" on:submit=add>
                    <input id="new-task-title" type="text" placeholder="New task title" required prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/>
                    <input type="text" placeholder="Group (optional)" prop:value=move || group.get() on:input=move |ev| group.set(event_target_value(&ev))/>
                    <button type="submit" class="primary">"Add task"</button>
                </form>
            </Show>
            <ErrorNote error=error/>
            {move || tasks.get().map(|r| match r {
                Err(e) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
                Ok(list) if list.is_empty() => view! { <EmptyState title="No tasks" hint="Add the first task above, or create cases from a template with tasks."/> }.into_any(),
                Ok(list) => {
                    let case_no = ctx.case().map(|c| c.case_id).unwrap_or_default();
                    let all = list.clone();
                    view! {
                        <table class="grid tasks">
                            <thead><tr><th class="num">""</th><th>"Task"</th><th>"Status"</th><th>"Assignee"</th><th>"Started"</th><th>"Due"</th><th>"Actions"</th></tr></thead>
                            {grouped(&list).into_iter().map(|(g, items)| {
                                let all = all.clone();
                                view! {
                                    <tbody>
                                        <tr class="group-row"><td colspan="7">{if g == DEFAULT_TASK_GROUP { "Default".to_string() } else { g.clone() }}</td></tr>
                                        {items.into_iter().map(|t| {
                                            let pos = all.iter().position(|x| x.id == t.id).unwrap_or(0);
                                            let (all_up, all_down) = (all.clone(), all.clone());
                                            let (id1, id2, id3, id4) = (t.id.clone(), t.id.clone(), t.id.clone(), t.id.clone());
                                            let owner = t.owner.clone().unwrap_or_default();
                                            let open = t.status.is_open();
                                            let (id5, id6, title5) = (t.id.clone(), t.id.clone(), t.title.clone());
                                            let can_write = writable();
                                            let overdue = is_overdue(&t, now());
                                            let for_due = t.clone();
                                            view! {
                                                <tr class=format!("task task-{}", t.status.as_str().to_lowercase()) class:overdue=overdue>
                                                    <td class="num reorder">
                                                        <button class="tiny" title="Move up" aria-label="Move up" disabled=pos == 0 on:click=move |_| move_task(all_up.clone(), pos, -1)>"▲"</button>
                                                        <button class="tiny" title="Move down" aria-label="Move down" on:click=move |_| move_task(all_down.clone(), pos, 1)>"▼"</button>
                                                    </td>
                                                    <td>{t.flag.then_some("⚑ ")}<A href=format!("/cases/{case_no}/tasks/{}", t.id)>{t.title.clone()}</A></td>
                                                    <td><span class=format!("task-status {}", t.status.as_str().to_lowercase())>{t.status.label()}</span></td>
                                                    <td>
                                                        <select aria-label="Assignee" on:change=move |ev| update(id1.clone(), TaskPatch { owner: Some(event_target_value(&ev)), ..Default::default() })>
                                                            <option value="" selected=owner.is_empty()>"Unassigned"</option>
                                                            {members().into_iter().map(|m| { let sel = m.login == owner; view! { <option value=m.login.clone() selected=sel>{m.name}</option> } }).collect_view()}
                                                        </select>
                                                    </td>
                                                    <td class="date">{t.start_date.map(format::datetime).unwrap_or_else(|| "-".into())}</td>
                                                    <td class="date">
                                                        <DueDate task=for_due writable=can_write on_change=Callback::new(move |p: TaskPatch| update(id5.clone(), p))/>
                                                    </td>
                                                    <td class="actions">
                                                        {(t.status == TaskStatus::Waiting).then(|| view! { <button class="small" on:click=move |_| update(id2.clone(), TaskPatch { status: Some(TaskStatus::InProgress), ..Default::default() })>"Start"</button> })}
                                                        {open.then(|| view! { <button class="small" on:click=move |_| update(id3.clone(), TaskPatch { status: Some(TaskStatus::Completed), ..Default::default() })>"Close"</button> })}
                                                        {(!open).then(|| view! { <button class="small" on:click=move |_| update(id4.clone(), TaskPatch { status: Some(TaskStatus::InProgress), ..Default::default() })>"Reopen"</button> })}
                                                        {can_write.then(|| view! { <button class="small danger delete-task" title="Delete this task and its logs" on:click=move |_| delete(id6.clone(), title5.clone())>"Delete…"</button> })}
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                }
                            }).collect_view()}
                        </table>
                    }.into_any()
                }
            })}
        </section>
    }
}

const LOG_FILE_INPUT: &str = "task-log-file";

/// A task: its details and its logs, newest first; a new log with an optional attachment.
#[component]
pub fn TaskPage() -> impl IntoView {
    let params = use_params_map();
    let auth = use_auth();
    let task_id = Memo::new(move |_| params.with(|p| p.get("task").unwrap_or_default()));
    let reload = RwSignal::new(0u32);
    let detail = LocalResource::new(move || {
        reload.track();
        let id = task_id.get();
        async move { api::get_task_detail(id).await }
    });
    let lookups = LocalResource::new(|| async { api::get_case_lookups().await.unwrap_or_default() });
    let error = RwSignal::new(None::<ApiError>);
    let outcome = Settle::new(error, reload);
    let message = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let file_name = RwSignal::new(None::<String>);
    let update = move |patch: TaskPatch| {
        let id = task_id.get_untracked();
        spawn_local(async move {
            outcome.settle(api::update_task(id, patch).await);
        });
    };
    let add_log = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = task_id.get_untracked();
        let text = message.get_untracked();
        let file = browser::chosen_file(LOG_FILE_INPUT);
        if text.trim().is_empty() && file.is_none() {
            error.set(Some(ApiError::new(ErrorKind::AttributeCheckingError, "Write a message or attach a file")));
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let r = match file {
                Some(f) => browser::post_multipart(&format!("/api/case/task/{id}/log"), &serde_json::json!({ "message": text }), &f).await.map(|_| ()),
                None => api::add_task_log(id, text).await.map(|_| ()),
            };
            busy.set(false);
            if outcome.settle(r).is_some() {
                message.set(String::new());
                file_name.set(None);
                browser::clear_file(LOG_FILE_INPUT);
            }
        });
    };
    let editing = RwSignal::new(false);
    let description = RwSignal::new(String::new());
    let due_day = RwSignal::new(String::new());
    let start_edit = move |t: &Task| {
        description.set(t.description.clone().unwrap_or_default());
        due_day.set(t.due_date.map(day_of).unwrap_or_default());
        editing.set(true);
    };
    let save_edit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(Ok(d)) = detail.get_untracked() else { return };
        let Some(mut patch) = due_patch(&due_day.get_untracked()) else {
            error.set(Some(ApiError::new(ErrorKind::AttributeCheckingError, "The due date is not a day")));
            return;
        };
        if patch.clear_due_date == Some(true) && d.task.due_date.is_none() {
            patch.clear_due_date = None;
        }
        if patch.due_date.is_some() && patch.due_date.map(day_of) == d.task.due_date.map(day_of) {
            patch.due_date = None;
        }
        let text = description.get_untracked();
        if text != d.task.description.clone().unwrap_or_default() {
            patch.description = Some(text);
        }
        editing.set(false);
        if patch != TaskPatch::default() {
            update(patch);
        }
    };
    let navigate = use_navigate();
    let delete_task = move |case_number: i64, title: String| {
        if !confirm(&format!("Delete the task “{title}” and its logs? This cannot be undone.")) {
            return;
        }
        let id = task_id.get_untracked();
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::delete_task(id).await {
                Ok(()) => navigate(&format!("/cases/{case_number}/tasks"), Default::default()),
                Err(e) => {
                    auth.check(&e);
                    error.set(Some(e));
                }
            }
        });
    };
    let delete_task = StoredValue::new(delete_task);
    let delete_log = move |id: String| {
        if !confirm("Delete this log?") {
            return;
        }
        spawn_local(async move {
            outcome.settle(api::delete_task_log(id).await);
        });
    };
    view! {
        <div class="wide-page task-page">
            {move || match detail.get() {
                None => view! { <Loading/> }.into_any(),
                Some(Err(e)) => {
                    auth.check(&e);
                    view! { <div class="centered"><h1>"Task not available"</h1><p class="error-note">{e.to_string()}</p><p><A href="/cases">"Back to cases"</A></p></div> }.into_any()
                }
                Some(Ok(d)) => {
                    let TaskDetail { task: t, case: c, description_html, logs } = d;
                    let open = t.status.is_open();
                    let owner = t.owner.clone().unwrap_or_default();
                    let writable = c.status != CaseStatus::Deleted;
                    let overdue = is_overdue(&t, now());
                    let for_edit = t.clone();
                    let (case_number, title) = (c.case_id, t.title.clone());
                    view! {
                        <div class="case-header card">
                            <div class="case-title-row">
                                <A href=format!("/cases/{}/tasks", c.case_id) attr:class="back">"‹ #"{c.case_id}" "{c.title.clone()}</A>
                            </div>
                            <div class="case-title-row">
                                <h1 class="case-title">{t.title.clone()}</h1>
                                <span class=format!("task-status {}", t.status.as_str().to_lowercase())>{t.status.label()}</span>
                                <span class="muted">"Group: "{t.group.clone()}</span>
                                <span class="spacer"></span>
                                <label class="inline">"Assignee "
                                    <select aria-label="Assignee" on:change=move |ev| update(TaskPatch { owner: Some(event_target_value(&ev)), ..Default::default() })>
                                        <option value="" selected=owner.is_empty()>"Unassigned"</option>
                                        {let owner = owner.clone(); move || lookups.get().map(|l| l.members).unwrap_or_default().into_iter().map(|m| { let sel = m.login == owner; view! { <option value=m.login.clone() selected=sel>{m.name}</option> } }).collect_view()}
                                    </select>
                                </label>
                                {(t.status == TaskStatus::Waiting).then(|| view! { <button on:click=move |_| update(TaskPatch { status: Some(TaskStatus::InProgress), ..Default::default() })>"Start"</button> })}
                                {open.then(|| view! { <button class="primary" on:click=move |_| update(TaskPatch { status: Some(TaskStatus::Completed), ..Default::default() })>"Close task"</button> })}
                                {(!open).then(|| view! { <button on:click=move |_| update(TaskPatch { status: Some(TaskStatus::InProgress), ..Default::default() })>"Reopen"</button> })}
                                {writable.then(|| view! {
                                    <button id="edit-task" on:click=move |_| start_edit(&for_edit)>"Edit"</button>
                                    <button class="danger" id="delete-task" on:click=move |_| delete_task.with_value(|f| f(case_number, title.clone()))>"Delete…"</button>
                                })}
                            </div>
                            <div class="case-meta task-dates">
                                {t.start_date.map(|d| view! { <span class="muted">"Started "{format::datetime(d)}</span> })}
                                <span class="due" class:overdue=overdue>{match t.due_date {
                                    Some(d) => format!("Due {}", day_of(d)),
                                    None => "No due date".to_string(),
                                }}{overdue.then(|| view! { " "<span class="overdue-label">"overdue"</span> })}</span>
                            </div>
                            <Show when=move || editing.get() fallback=move || (!description_html.is_empty()).then(|| view! { <div class="markdown" inner_html=description_html.clone()></div> })>
                                <form class="task-edit" on:submit=save_edit>
                                    <label>"Description"</label>
                                    <MarkdownEditor value=description rows=5 placeholder="What is this task about? (markdown)" id="task-description"/>
                                    <div class="inline-form">
                                        <label class="inline">"Due "<input id="task-due" type="date" prop:value=move || due_day.get() on:input=move |ev| due_day.set(event_target_value(&ev))/></label>
                                        <button type="button" class="linklike small" on:click=move |_| due_day.set(String::new())>"No due date"</button>
                                        <span class="spacer"></span>
                                        <button type="button" on:click=move |_| editing.set(false)>"Cancel"</button>
                                        <button type="submit" class="primary">"Save"</button>
                                    </div>
                                </form>
                            </Show>
                            <ErrorNote error=error/>
                        </div>
                        <Show when=move || writable>
                            <section class="card">
                                <h2>"Add a log"</h2>
                                <form on:submit=add_log>
                                    <MarkdownEditor value=message rows=5 placeholder="What did you find or do? (markdown)" id="task-log-message"/>
                                    <div class="inline-form">
                                        <label class="file-label">"Attachment "<input id=LOG_FILE_INPUT type="file" on:change=move |_| file_name.set(browser::chosen_file(LOG_FILE_INPUT).map(|f| f.name()))/></label>
                                        <span class="spacer"></span>
                                        <button type="submit" class="primary" disabled=move || busy.get()>{move || if busy.get() { "Saving…" } else { "Add log" }}</button>
                                    </div>
                                </form>
                            </section>
                        </Show>
                        <section class="logs">
                            {if logs.is_empty() {
                                view! { <EmptyState title="No logs yet" hint="Logs record what was found and done, with attachments."/> }.into_any()
                            } else {
                                logs.into_iter().map(|l| {
                                    let id = l.log.id.clone();
                                    view! {
                                        <article class="card log">
                                            <div class="log-head">
                                                <strong>{l.log.owner.clone()}</strong>
                                                <span class="muted">{format::datetime(l.log.start_date)}</span>
                                                <span class="spacer"></span>
                                                <button class="small danger" title="Delete this log" on:click=move |_| delete_log(id.clone())>"Delete"</button>
                                            </div>
                                            <div class="markdown" inner_html=l.html.clone()></div>
                                            {l.log.attachment.clone().map(|a| view! {
                                                <div class="attachment">
                                                    "File: "<a href=format!("/api/datastore/{}?name={}", a.id, crate::url::encode_component(&a.name)) download=a.name.clone()>{a.name.clone()}</a>
                                                    <span class="muted">{format!(" {} · {} · sha256 {}", format::size(a.size), a.content_type, a.id)}</span>
                                                </div>
                                            })}
                                        </article>
                                    }
                                }).collect_view().into_any()
                            }}
                        </section>
                    }.into_any()
                }
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, group: &str, order: i64) -> Task {
        Task {
            id: id.into(),
            case_id: "c".into(),
            title: id.into(),
            group: group.into(),
            description: None,
            owner: None,
            status: TaskStatus::Waiting,
            flag: false,
            order,
            start_date: None,
            end_date: None,
            due_date: None,
            created_at: 0,
            created_by: "x".into(),
            updated_at: None,
            updated_by: None,
        }
    }

    #[test]
    fn due_dates_from_the_date_picker() {
        let due = due_from_day("2026-03-01").unwrap();
        assert_eq!(day_of(due), "2026-03-01");
        assert_eq!(due + 1, crate::date::day_start("2026-03-02").unwrap());
        assert_eq!(due_patch("2026-03-01").unwrap().due_date, Some(due));
        assert_eq!(due_patch("").unwrap(), TaskPatch { clear_due_date: Some(true), ..Default::default() });
        assert_eq!(due_patch("03/01/2026"), None);
        let mut t = task("a", "g", 0);
        assert!(!is_overdue(&t, due + 1), "no due date");
        t.due_date = Some(due);
        assert!(!is_overdue(&t, due), "due today is not overdue");
        assert!(is_overdue(&t, due + 1));
        t.status = TaskStatus::Completed;
        assert!(!is_overdue(&t, due + 1), "a closed task is never overdue");
    }

    #[test]
    fn groups_keep_first_appearance_order() {
        let list = vec![task("a", "triage", 0), task("b", "default", 1), task("c", "triage", 2)];
        let g = grouped(&list);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].0, "triage");
        assert_eq!(g[0].1.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), vec!["a", "c"]);
    }

    #[test]
    fn moving_swaps_and_renumbers() {
        let list = vec![task("a", "g", 0), task("b", "g", 0), task("c", "g", 0)];
        assert_eq!(reorder(&list, 2, -1), vec![("c".to_string(), 1), ("b".to_string(), 2)]);
        let list = vec![task("a", "g", 0), task("b", "g", 1), task("c", "g", 2)];
        assert_eq!(reorder(&list, 0, 1), vec![("b".to_string(), 0), ("a".to_string(), 1)]);
        assert!(reorder(&list, 0, -1).is_empty());
        assert!(reorder(&list, 2, 1).is_empty());
    }
}
