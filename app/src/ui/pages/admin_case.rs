//! Case administration tabs: case templates (editor with tasks, TheHive file import and
//! export), custom fields, metrics, observable data types.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::api;
use crate::model::*;
use crate::ui::auth::use_auth;
use crate::ui::browser;
use crate::ui::case_filter::parse_tags;
use crate::ui::format;
use crate::ui::widgets::{EmptyState, ErrorNote, Loading, SeverityBadge, Tags};

const IMPORT_INPUT: &str = "template-import-file";

/// Handle a server call's result: refresh on success, show the error where the user acted.
fn finish<T>(r: Result<T, ApiError>, error: RwSignal<Option<ApiError>>, reload: RwSignal<u32>) -> bool {
    match r {
        Ok(_) => {
            error.set(None);
            reload.update(|n| *n += 1);
            true
        }
        Err(e) => {
            use_auth().check(&e);
            error.set(Some(e));
            false
        }
    }
}

/// A template being edited (or created: `id` is `None`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateDraft {
    pub id: Option<String>,
    pub name: String,
    pub title_prefix: String,
    pub description: String,
    pub severity: u8,
    pub tlp: u8,
    pub pap: u8,
    pub tags: String,
    pub tasks: Vec<TemplateTask>,
}

impl TemplateDraft {
    pub fn new() -> Self {
        TemplateDraft { severity: 2, tlp: 2, pap: 2, ..Default::default() }
    }

    pub fn of(t: &CaseTemplate) -> Self {
        TemplateDraft {
            id: Some(t.id.clone()),
            name: t.name.clone(),
            title_prefix: t.title_prefix.clone().unwrap_or_default(),
            description: t.description.clone().unwrap_or_default(),
            severity: t.severity.unwrap_or(2),
            tlp: t.tlp.unwrap_or(2),
            pap: t.pap.unwrap_or(2),
            tags: t.tags.join(", "),
            tasks: t.tasks.clone(),
        }
    }

    /// The input to save: tasks without a title dropped, orders renumbered as listed.
    pub fn input(&self) -> TemplateInput {
        let tasks = self
            .tasks
            .iter()
            .filter(|t| !t.title.trim().is_empty())
            .enumerate()
            .map(|(i, t)| TemplateTask {
                order: i as i64,
                group: t.group.clone().filter(|g| !g.trim().is_empty()),
                description: t.description.clone().filter(|d| !d.trim().is_empty()),
                ..t.clone()
            })
            .collect();
        TemplateInput {
            name: Some(self.name.trim().to_string()),
            title_prefix: Some(self.title_prefix.trim().to_string()),
            description: Some(self.description.clone()),
            severity: Some(self.severity),
            tlp: Some(self.tlp),
            pap: Some(self.pap),
            tags: Some(parse_tags(&self.tags)),
            tasks: Some(tasks),
            ..Default::default()
        }
    }
}

#[component]
pub fn TemplatesAdmin() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let error = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(None::<String>);
    let lookups = LocalResource::new(move || {
        reload.track();
        async move { api::get_case_lookups().await }
    });
    let draft = RwSignal::new(None::<TemplateDraft>);
    let import = move |_| {
        let Some(file) = browser::chosen_file(IMPORT_INPUT) else { return };
        spawn_local(async move {
            let r = async {
                let text = browser::read_text(&file).await?;
                let v: Value = serde_json::from_str(&text).map_err(|e| ApiError::new(ErrorKind::BadRequest, format!("{} is not JSON: {e}", file.name())))?;
                api::import_template(v).await
            }
            .await;
            browser::clear_file(IMPORT_INPUT);
            if let Ok(t) = &r {
                notice.set(Some(format!("Imported “{}” ({} tasks)", t.name, t.tasks.len())));
            }
            finish(r, error, reload);
        });
    };
    let export = move |id: String| {
        spawn_local(async move {
            match api::export_template(id).await {
                Ok((name, content)) => browser::download_text(&name, "application/json", &serde_json::to_string_pretty(&content).unwrap_or_default()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let delete = move |t: CaseTemplate| {
        if !window().confirm_with_message(&format!("Delete the template “{}”? Cases made from it keep their tasks.", t.name)).unwrap_or(false) {
            return;
        }
        spawn_local(async move { finish(api::delete_template(t.id).await, error, reload); });
    };
    let save = move |d: TemplateDraft| {
        spawn_local(async move {
            let r = match d.id.clone() {
                Some(id) => api::update_template(id, d.input()).await,
                None => api::create_template(d.input()).await,
            };
            if finish(r, error, reload) {
                draft.set(None);
                notice.set(Some(format!("Saved “{}”", d.name.trim())));
            }
        });
    };
    view! {
        <section class="card">
            <div class="toolbar">
                <h2>"Case templates"</h2>
                <span class="spacer"></span>
                <button class="primary" on:click=move |_| draft.set(Some(TemplateDraft::new()))>"New template"</button>
                <label class="file-label">"Import a TheHive file "<input id=IMPORT_INPUT type="file" accept=".json,application/json" on:change=import/></label>
            </div>
            <ErrorNote error=error/>
            {move || notice.get().map(|n| view! { <div class="ok-note block" role="status">{n}</div> })}
            {move || draft.get().map(|d| view! { <TemplateEditor draft=d on_save=Callback::new(save) on_cancel=Callback::new(move |_| draft.set(None))/> })}
            {move || lookups.get().map(|r| match r {
                Err(e) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
                Ok(l) if l.templates.is_empty() => view! { <EmptyState title="No case templates" hint="Create one, or import a TheHive Case-Template__<name>.json file."/> }.into_any(),
                Ok(l) => view! {
                    <table class="grid templates">
                        <thead><tr><th>"Name"</th><th>"Title prefix"</th><th>"Severity"</th><th>"Tags"</th><th>"Tasks"</th><th></th></tr></thead>
                        <tbody>{l.templates.into_iter().map(|t| {
                            let (t1, t2) = (t.clone(), t.clone());
                            let id = t.id.clone();
                            view! {
                                <tr>
                                    <td><strong>{t.name.clone()}</strong></td>
                                    <td>{t.title_prefix.clone().unwrap_or_default()}</td>
                                    <td><SeverityBadge severity=t.severity.unwrap_or(2)/></td>
                                    <td><Tags tags=t.tags.clone()/></td>
                                    <td>{t.tasks.len()}</td>
                                    <td class="actions">
                                        <button class="small" on:click=move |_| draft.set(Some(TemplateDraft::of(&t1)))>"Edit"</button>
                                        <button class="small" on:click=move |_| export(id.clone())>"Export"</button>
                                        <button class="small danger" on:click=move |_| delete(t2.clone())>"Delete"</button>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
            })}
        </section>
    }
}

#[component]
fn TemplateEditor(draft: TemplateDraft, on_save: Callback<TemplateDraft>, on_cancel: Callback<()>) -> impl IntoView {
    let d = RwSignal::new(draft);
    let field = move |f: fn(&mut TemplateDraft, String)| move |ev: leptos::ev::Event| d.update(|x| f(x, event_target_value(&ev)));
    view! {
        <form class="template-editor" on:submit=move |ev| { ev.prevent_default(); on_save.run(d.get_untracked()) }>
            <h3>{move || if d.get().id.is_some() { "Edit template" } else { "New template" }}</h3>
            <div class="form-row">
                <label>"Name"<input id="template-name" type="text" required prop:value=move || d.get().name on:input=field(|x, v| x.name = v)/></label>
                <label>"Title prefix"<input type="text" prop:value=move || d.get().title_prefix on:input=field(|x, v| x.title_prefix = v)/></label>
                <label>"Severity"<select on:change=field(|x, v| x.severity = v.parse().unwrap_or(2))>
                    {(1u8..=4).map(|s| view! { <option value=s.to_string() selected=move || d.get().severity == s>{format::severity(s).0}</option> }).collect_view()}
                </select></label>
                <label>"TLP"<select on:change=field(|x, v| x.tlp = v.parse().unwrap_or(2))>
                    {(0u8..=3).map(|t| view! { <option value=t.to_string() selected=move || d.get().tlp == t>{format::tlp(t).0}</option> }).collect_view()}
                </select></label>
                <label>"PAP"<select on:change=field(|x, v| x.pap = v.parse().unwrap_or(2))>
                    {(0u8..=3).map(|t| view! { <option value=t.to_string() selected=move || d.get().pap == t>{format::tlp(t).0}</option> }).collect_view()}
                </select></label>
                <label>"Tags"<input type="text" placeholder="comma separated" prop:value=move || d.get().tags on:input=field(|x, v| x.tags = v)/></label>
            </div>
            <label class="block-label">"Description"<textarea rows=3 prop:value=move || d.get().description on:input=field(|x, v| x.description = v)></textarea></label>
            <table class="grid">
                <thead><tr><th class="num">"#"</th><th>"Task"</th><th>"Group"</th><th>"Description"</th><th></th></tr></thead>
                <tbody>
                    {move || (0..d.get().tasks.len()).map(|i| {
                        let t = d.get_untracked().tasks[i].clone();
                        view! {
                            <tr>
                                <td class="num">{i + 1}</td>
                                <td><input type="text" aria-label="Task title" prop:value=t.title.clone() on:change=move |ev| d.update(|x| x.tasks[i].title = event_target_value(&ev))/></td>
                                <td><input type="text" aria-label="Task group" prop:value=t.group.clone().unwrap_or_default() on:change=move |ev| d.update(|x| x.tasks[i].group = Some(event_target_value(&ev)))/></td>
                                <td><textarea rows=1 aria-label="Task description" prop:value=t.description.clone().unwrap_or_default() on:change=move |ev| d.update(|x| x.tasks[i].description = Some(event_target_value(&ev)))></textarea></td>
                                <td class="actions">
                                    <button type="button" class="tiny" title="Move up" disabled=i == 0 on:click=move |_| d.update(|x| x.tasks.swap(i, i - 1))>"▲"</button>
                                    <button type="button" class="small danger" on:click=move |_| d.update(|x| { x.tasks.remove(i); })>"Remove"</button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <div class="dialog-actions">
                <button type="button" class="muted-left" on:click=move |_| d.update(|x| x.tasks.push(TemplateTask::default()))>"Add task"</button>
                <button type="button" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                <button type="submit" class="primary">"Save template"</button>
            </div>
        </form>
    }
}

#[component]
pub fn CustomFieldsAdmin() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let error = RwSignal::new(None::<ApiError>);
    let lookups = LocalResource::new(move || {
        reload.track();
        async move { api::get_case_lookups().await }
    });
    let name = RwSignal::new(String::new());
    let reference = RwSignal::new(String::new());
    let kind = RwSignal::new(CustomFieldType::String);
    let options = RwSignal::new(String::new());
    let mandatory = RwSignal::new(false);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let k = kind.get_untracked();
        let opts: Result<Vec<Value>, &str> = parse_tags(&options.get_untracked())
            .into_iter()
            .map(|o| crate::ui::pages::case::field_value(k, &o))
            .collect();
        let opts = match opts {
            Ok(o) => o,
            Err(m) => {
                error.set(Some(ApiError::new(ErrorKind::AttributeCheckingError, format!("Options: {m}"))));
                return;
            }
        };
        let input = CustomFieldInput {
            name: name.get_untracked(),
            reference: Some(reference.get_untracked()).filter(|r| !r.trim().is_empty()),
            description: None,
            kind: k,
            options: opts,
            mandatory: mandatory.get_untracked(),
        };
        spawn_local(async move {
            if finish(api::create_custom_field(input).await, error, reload) {
                name.set(String::new());
                reference.set(String::new());
                options.set(String::new());
            }
        });
    };
    let delete = move |d: CustomFieldDefinition| {
        if window().confirm_with_message(&format!("Delete the custom field “{}”?", d.name)).unwrap_or(false) {
            spawn_local(async move { finish(api::delete_custom_field(d.id).await, error, reload); });
        }
    };
    view! {
        <section class="card">
            <h2>"Custom fields"</h2>
            <form class="inline-form" on:submit=create>
                <input type="text" placeholder="Name" required prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <input type="text" placeholder="Reference (default: the name)" prop:value=move || reference.get() on:input=move |ev| reference.set(event_target_value(&ev))/>
                <select aria-label="Type" on:change=move |ev| if let Some(k) = CustomFieldType::parse(&event_target_value(&ev)) { kind.set(k) }>
                    {CustomFieldType::ALL.into_iter().map(|k| view! { <option value=k.as_str() selected=move || kind.get() == k>{k.as_str()}</option> }).collect_view()}
                </select>
                <input type="text" placeholder="Options, comma separated (optional)" prop:value=move || options.get() on:input=move |ev| options.set(event_target_value(&ev))/>
                <label class="inline"><input type="checkbox" prop:checked=move || mandatory.get() on:change=move |ev| mandatory.set(event_target_checked(&ev))/>" Mandatory"</label>
                <button type="submit" class="primary">"Add field"</button>
            </form>
            <ErrorNote error=error/>
            {move || lookups.get().map(|r| match r {
                Err(e) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
                Ok(l) if l.custom_fields.is_empty() => view! { <EmptyState title="No custom fields" hint="Fields analysts fill in on every case (business unit, CVSS…)."/> }.into_any(),
                Ok(l) => view! {
                    <table class="grid">
                        <thead><tr><th>"Name"</th><th>"Reference"</th><th>"Type"</th><th>"Options"</th><th>"Mandatory"</th><th></th></tr></thead>
                        <tbody>{l.custom_fields.into_iter().map(|d| {
                            let d2 = d.clone();
                            view! {
                                <tr>
                                    <td>{d.name.clone()}</td><td><code>{d.reference.clone()}</code></td><td>{d.kind.as_str()}</td>
                                    <td>{d.options.iter().map(|o| crate::ui::pages::case::field_text(d.kind, o)).collect::<Vec<_>>().join(", ")}</td>
                                    <td>{if d.mandatory { "yes" } else { "-" }}</td>
                                    <td><button class="small danger" on:click=move |_| delete(d2.clone())>"Delete"</button></td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
            })}
        </section>
    }
}

#[component]
pub fn MetricsAdmin() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let error = RwSignal::new(None::<ApiError>);
    let lookups = LocalResource::new(move || {
        reload.track();
        async move { api::get_case_lookups().await }
    });
    let name = RwSignal::new(String::new());
    let title = RwSignal::new(String::new());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = MetricInput { name: name.get_untracked(), title: Some(title.get_untracked()).filter(|t| !t.trim().is_empty()), description: None };
        spawn_local(async move {
            if finish(api::create_metric(input).await, error, reload) {
                name.set(String::new());
                title.set(String::new());
            }
        });
    };
    let delete = move |m: MetricDefinition| {
        if window().confirm_with_message(&format!("Delete the metric “{}”?", m.title)).unwrap_or(false) {
            spawn_local(async move { finish(api::delete_metric(m.id).await, error, reload); });
        }
    };
    view! {
        <section class="card">
            <h2>"Metrics"</h2>
            <form class="inline-form" on:submit=create>
                <input type="text" placeholder="Name (e.g. timeToContain)" required prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <input type="text" placeholder="Title" prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/>
                <button type="submit" class="primary">"Add metric"</button>
            </form>
            <ErrorNote error=error/>
            {move || lookups.get().map(|r| match r {
                Err(e) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
                Ok(l) if l.metrics.is_empty() => view! { <EmptyState title="No metrics" hint="Numbers measured on cases (hours to contain, systems affected…)."/> }.into_any(),
                Ok(l) => view! {
                    <table class="grid">
                        <thead><tr><th>"Name"</th><th>"Title"</th><th></th></tr></thead>
                        <tbody>{l.metrics.into_iter().map(|m| {
                            let m2 = m.clone();
                            view! { <tr><td><code>{m.name.clone()}</code></td><td>{m.title.clone()}</td><td><button class="small danger" on:click=move |_| delete(m2.clone())>"Delete"</button></td></tr> }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
            })}
        </section>
    }
}

#[component]
pub fn DataTypesAdmin() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let error = RwSignal::new(None::<ApiError>);
    let lookups = LocalResource::new(move || {
        reload.track();
        async move { api::get_case_lookups().await }
    });
    let name = RwSignal::new(String::new());
    let is_file = RwSignal::new(false);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (n, f) = (name.get_untracked(), is_file.get_untracked());
        spawn_local(async move {
            if finish(api::create_data_type(n, f).await, error, reload) {
                name.set(String::new());
            }
        });
    };
    let delete = move |t: ObservableDataType| {
        if window().confirm_with_message(&format!("Delete the observable type “{}”?", t.name)).unwrap_or(false) {
            spawn_local(async move { finish(api::delete_data_type(t.id).await, error, reload); });
        }
    };
    view! {
        <section class="card">
            <h2>"Observable types"</h2>
            <form class="inline-form" on:submit=create>
                <input type="text" placeholder="Name (e.g. bitcoin-address)" required prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <label class="inline"><input type="checkbox" prop:checked=move || is_file.get() on:change=move |ev| is_file.set(event_target_checked(&ev))/>" Files"</label>
                <button type="submit" class="primary">"Add type"</button>
            </form>
            <ErrorNote error=error/>
            {move || match lookups.get() {
                None => view! { <Loading/> }.into_any(),
                Some(Err(e)) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
                Some(Ok(l)) => view! {
                    <table class="grid">
                        <thead><tr><th>"Name"</th><th>"Kind"</th><th></th></tr></thead>
                        <tbody>{l.data_types.into_iter().map(|t| {
                            let t2 = t.clone();
                            view! { <tr><td><code>{t.name.clone()}</code></td><td>{if t.is_attachment { "file" } else { "value" }}</td><td><button class="small danger" on:click=move |_| delete(t2.clone())>"Delete"</button></td></tr> }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_make_clean_inputs() {
        let mut d = TemplateDraft::new();
        d.name = "  Phishing ".into();
        d.tags = "a, b, a".into();
        d.tasks = vec![
            TemplateTask { title: "Second".into(), order: 7, group: Some(" ".into()), ..Default::default() },
            TemplateTask { title: "  ".into(), ..Default::default() },
            TemplateTask { title: "Third".into(), description: Some("do".into()), ..Default::default() },
        ];
        let i = d.input();
        assert_eq!(i.name.as_deref(), Some("Phishing"));
        assert_eq!(i.tags, Some(vec!["a".to_string(), "b".to_string()]));
        let tasks = i.tasks.unwrap();
        assert_eq!(tasks.len(), 2, "untitled tasks are dropped");
        assert_eq!((tasks[0].order, tasks[0].group.clone()), (0, None));
        assert_eq!((tasks[1].order, tasks[1].title.as_str()), (1, "Third"));
    }
}
