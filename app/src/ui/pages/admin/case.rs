//! Case administration tabs: case templates (editor with tasks, TheHive file import and
//! export), custom fields, metrics, observable data types.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::api::{self, CaseLookups};
use crate::model::*;
use crate::ui::action::{Settle, confirm, fetched};
use crate::ui::browser;
use crate::ui::format::{self, parse_tags};
use crate::ui::widgets::{EmptyState, ErrorNote, SeverityBadge, Tags};

const IMPORT_INPUT: &str = "template-import-file";

/// A default custom field value of a template being edited: the text of its input.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDefault {
    pub reference: String,
    pub kind: CustomFieldType,
    /// As typed (`YYYY-MM-DD` for dates, `true`/`false` for booleans; empty: no value).
    pub value: String,
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
    /// Default custom fields, in their order on cases.
    pub custom_fields: Vec<FieldDefault>,
    /// Default metrics (name, value: none until measured).
    pub metrics: Vec<(String, Option<f64>)>,
}

impl TemplateDraft {
    pub fn new() -> Self {
        TemplateDraft { severity: 2, tlp: 2, pap: 2, ..Default::default() }
    }

    pub fn of(t: &CaseTemplate) -> Self {
        let mut fields: Vec<(&String, &CustomFieldValue)> = t.custom_fields.iter().collect();
        fields.sort_by_key(|(k, f)| (f.order.unwrap_or(i64::MAX), (*k).clone()));
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
            custom_fields: fields
                .into_iter()
                .map(|(k, f)| FieldDefault { reference: k.clone(), kind: f.kind, value: crate::ui::pages::cases::case::field_text(f.kind, &f.value) })
                .collect(),
            metrics: t.metrics.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        }
    }

    /// The input to save: tasks without a title dropped, orders renumbered as listed, custom
    /// field values typed (an invalid one: the message to show).
    pub fn input(&self) -> Result<NewTemplate, String> {
        let tasks = self
            .tasks
            .iter()
            .filter(|t| !t.title.trim().is_empty())
            .enumerate()
            .map(|(i, t)| TemplateTask {
                order: i as i64,
                group: t.group.clone().filter(|g| !g.trim().is_empty()),
                description: t.description.clone().filter(|d| !d.trim().is_empty()),
                owner: t.owner.clone().filter(|o| !o.trim().is_empty()),
                ..t.clone()
            })
            .collect();
        let mut custom_fields = CustomFields::new();
        for (i, f) in self.custom_fields.iter().enumerate() {
            let value = crate::ui::pages::cases::case::field_value(f.kind, &f.value).map_err(|m| format!("Default of {}: {m}", f.reference))?;
            custom_fields.insert(f.reference.clone(), CustomFieldValue { kind: f.kind, value, order: Some(i as i64) });
        }
        Ok(NewTemplate {
            name: Some(self.name.trim().to_string()),
            title_prefix: Some(self.title_prefix.trim().to_string()),
            description: Some(self.description.clone()),
            severity: Some(self.severity),
            tlp: Some(self.tlp),
            pap: Some(self.pap),
            tags: Some(parse_tags(&self.tags)),
            tasks: Some(tasks),
            custom_fields: Some(custom_fields),
            metrics: Some(self.metrics.iter().cloned().collect()),
            ..Default::default()
        })
    }
}

/// A change to one of the editor's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOp {
    /// Move the row up one place.
    Up(usize),
    Remove(usize),
}

impl ListOp {
    pub fn apply<T>(self, list: &mut Vec<T>) {
        match self {
            ListOp::Up(i) if i > 0 && i < list.len() => list.swap(i, i - 1),
            ListOp::Remove(i) if i < list.len() => {
                list.remove(i);
            }
            _ => {}
        }
    }
}

#[component]
pub fn TemplatesAdmin() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let error = RwSignal::new(None::<ApiError>);
    let outcome = Settle::new(error, reload);
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
            outcome.settle(r);
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
        if !confirm(&format!("Delete the template “{}”? Cases made from it keep their tasks.", t.name)) {
            return;
        }
        spawn_local(async move { outcome.settle(api::delete_template(t.id).await); });
    };
    let save = move |d: TemplateDraft| {
        let input = match d.input() {
            Ok(i) => i,
            Err(m) => {
                error.set(Some(ApiError::new(ErrorKind::AttributeCheckingError, m)));
                return;
            }
        };
        spawn_local(async move {
            let r = match d.id.clone() {
                Some(id) => api::update_template(id, input).await,
                None => api::create_template(input).await,
            };
            if outcome.settle(r).is_some() {
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
            {move || notice.get().map(|n| view! { <div class="ok-note block" role="status">{n}</div> })}
            {move || draft.get().map(|d| {
                let l = lookups.get_untracked().and_then(Result::ok).unwrap_or_default();
                view! { <TemplateEditor draft=d lookups=l error=error on_save=Callback::new(save) on_cancel=Callback::new(move |_| { error.set(None); draft.set(None) })/> }
            })}
            {move || draft.with(Option::is_none).then(|| view! { <ErrorNote error=error/> })}
            {move || fetched(lookups.get(), |l| if l.templates.is_empty() {
                    view! { <EmptyState title="No case templates" hint="Create one, or import a TheHive Case-Template__<name>.json file."/> }.into_any()
                } else { view! {
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
                }.into_any() })}
        </section>
    }
}

/// The rows of one of the editor's lists (tasks, custom fields, metrics): a number, the cells
/// `row` makes for each index, "move up" and "remove" buttons; `len` is re-read when the list
/// changes.
#[component]
fn ListEditor(
    /// The headers of the cells `row` makes.
    headers: Vec<&'static str>,
    #[prop(into)] len: Signal<usize>,
    row: Callback<usize, AnyView>,
    on_op: Callback<ListOp>,
    /// Shown when the list is empty.
    empty: &'static str,
    /// For tests and screen readers: what the list holds.
    label: &'static str,
) -> impl IntoView {
    view! {
        <table class="grid list-editor" aria-label=label>
            <thead><tr><th class="num">"#"</th>{headers.into_iter().map(|h| view! { <th>{h}</th> }).collect_view()}<th></th></tr></thead>
            <tbody>
                {move || (0..len.get()).map(|i| view! {
                    <tr>
                        <td class="num">{i + 1}</td>
                        {row.run(i)}
                        <td class="actions">
                            <button type="button" class="tiny" title="Move up" disabled=i == 0 on:click=move |_| on_op.run(ListOp::Up(i))>"▲"</button>
                            <button type="button" class="small danger" on:click=move |_| on_op.run(ListOp::Remove(i))>"Remove"</button>
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        {move || (len.get() == 0).then(|| view! { <p class="muted">{empty}</p> })}
    }
}

/// The input of a custom field's default value, typed by the field's type: a list of its
/// options, yes/no, a date, a number or text.
#[component]
fn DefaultValueInput(kind: CustomFieldType, options: Vec<Value>, value: String, label: String, on_change: Callback<String>) -> impl IntoView {
    let change = move |ev: leptos::ev::Event| on_change.run(event_target_value(&ev));
    let field_text = crate::ui::pages::cases::case::field_text;
    if !options.is_empty() || kind == CustomFieldType::Boolean {
        let choices: Vec<(String, String)> = if options.is_empty() {
            vec![("true".into(), "yes".into()), ("false".into(), "no".into())]
        } else {
            options.iter().map(|o| (field_text(kind, o), field_text(kind, o))).collect()
        };
        let v = value.clone();
        return view! {
            <select aria-label=label on:change=change>
                <option value="" selected=value.is_empty()>"(no default)"</option>
                {choices.into_iter().map(|(val, text)| { let sel = val == v; view! { <option value=val selected=sel>{text}</option> } }).collect_view()}
            </select>
        }
        .into_any();
    }
    let (ty, step) = match kind {
        CustomFieldType::Date => ("date", None),
        CustomFieldType::Integer => ("number", Some("1")),
        CustomFieldType::Number | CustomFieldType::Float => ("number", Some("any")),
        _ => ("text", None),
    };
    view! { <input type=ty step=step aria-label=label placeholder="(no default)" prop:value=value on:change=change/> }.into_any()
}

#[component]
fn TemplateEditor(
    draft: TemplateDraft,
    lookups: CaseLookups,
    error: RwSignal<Option<ApiError>>,
    on_save: Callback<TemplateDraft>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let d = RwSignal::new(draft);
    let field = move |f: fn(&mut TemplateDraft, String)| move |ev: leptos::ev::Event| d.update(|x| f(x, event_target_value(&ev)));
    let CaseLookups { custom_fields: field_defs, metrics: metric_defs, members, .. } = lookups;
    let field_defs = StoredValue::new(field_defs);
    let metric_defs = StoredValue::new(metric_defs);
    let members = StoredValue::new(members);

    // Tasks.
    let task_row = Callback::new(move |i: usize| {
        let t = d.with_untracked(|x| x.tasks.get(i).cloned()).unwrap_or_default();
        let owner = t.owner.clone().unwrap_or_default();
        let mut people: Vec<(String, String)> = members.with_value(|m| m.iter().map(|m| (m.login.clone(), m.name.clone())).collect());
        if !owner.is_empty() && !people.iter().any(|(l, _)| *l == owner) {
            people.push((owner.clone(), owner.clone()));
        }
        view! {
            <td><input type="text" aria-label="Task title" prop:value=t.title.clone() on:change=move |ev| d.update(|x| x.tasks[i].title = event_target_value(&ev))/></td>
            <td><input type="text" aria-label="Task group" prop:value=t.group.clone().unwrap_or_default() on:change=move |ev| d.update(|x| x.tasks[i].group = Some(event_target_value(&ev)))/></td>
            <td><select aria-label="Task owner" on:change=move |ev| d.update(|x| x.tasks[i].owner = Some(event_target_value(&ev)).filter(|o| !o.is_empty()))>
                <option value="" selected=owner.is_empty()>"(unassigned)"</option>
                {people.into_iter().map(|(login, name)| { let sel = login == owner; view! { <option value=login.clone() selected=sel>{format!("{name} ({login})")}</option> } }).collect_view()}
            </select></td>
            <td><textarea rows=1 aria-label="Task description" prop:value=t.description.clone().unwrap_or_default() on:change=move |ev| d.update(|x| x.tasks[i].description = Some(event_target_value(&ev)))></textarea></td>
        }
        .into_any()
    });

    // Default custom fields.
    let field_row = Callback::new(move |i: usize| {
        let Some(f) = d.with_untracked(|x| x.custom_fields.get(i).cloned()) else { return ().into_any() };
        let def = field_defs.with_value(|defs| defs.iter().find(|x| x.reference == f.reference).cloned());
        let name = def.as_ref().map(|x| x.name.clone()).unwrap_or_else(|| f.reference.clone());
        let options = def.as_ref().map(|x| x.options.clone()).unwrap_or_default();
        view! {
            <td>{name.clone()}" "<code class="muted">{f.reference.clone()}</code>{def.is_none().then(|| view! { " "<span class="muted" title="Not defined in this organisation">"(undefined)"</span> })}</td>
            <td>{f.kind.as_str()}</td>
            <td><DefaultValueInput kind=f.kind options=options value=f.value.clone() label=format!("Default value of {name}")
                on_change=Callback::new(move |v: String| d.update(|x| x.custom_fields[i].value = v))/></td>
        }
        .into_any()
    });
    let field_pick = RwSignal::new(String::new());
    let add_field = move |_| {
        let r = field_pick.get_untracked();
        if let Some(def) = field_defs.with_value(|defs| defs.iter().find(|x| x.reference == r).cloned()) {
            d.update(|x| {
                if !x.custom_fields.iter().any(|f| f.reference == def.reference) {
                    x.custom_fields.push(FieldDefault { reference: def.reference.clone(), kind: def.kind, value: String::new() });
                }
            });
            field_pick.set(String::new());
        }
    };

    // Default metrics.
    let metric_row = Callback::new(move |i: usize| {
        let Some((m, _)) = d.with_untracked(|x| x.metrics.get(i).cloned()) else { return ().into_any() };
        let title = metric_defs.with_value(|defs| defs.iter().find(|x| x.name == m).map(|x| x.title.clone())).unwrap_or_default();
        view! { <td><code>{m}</code></td><td>{title}</td> }.into_any()
    });
    let metric_pick = RwSignal::new(String::new());
    let add_metric = move |_| {
        let m = metric_pick.get_untracked();
        if !m.is_empty() {
            d.update(|x| {
                if !x.metrics.iter().any(|(n, _)| *n == m) {
                    x.metrics.push((m.clone(), None));
                }
            });
            metric_pick.set(String::new());
        }
    };

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

            <h4>"Tasks"</h4>
            <ListEditor headers=vec!["Task", "Group", "Owner", "Description"] label="Template tasks"
                len=Signal::derive(move || d.with(|x| x.tasks.len())) row=task_row
                on_op=Callback::new(move |op: ListOp| d.update(|x| op.apply(&mut x.tasks))) empty="No tasks."/>
            <div class="toolbar">
                <button type="button" on:click=move |_| d.update(|x| x.tasks.push(TemplateTask::default()))>"Add task"</button>
            </div>

            <h4>"Default custom fields"</h4>
            <ListEditor headers=vec!["Field", "Type", "Default value"] label="Default custom fields"
                len=Signal::derive(move || d.with(|x| x.custom_fields.len())) row=field_row
                on_op=Callback::new(move |op: ListOp| d.update(|x| op.apply(&mut x.custom_fields))) empty="No custom fields: cases from this template start without any."/>
            <div class="toolbar">
                <select aria-label="Custom field to add" prop:value=move || field_pick.get() on:change=move |ev| field_pick.set(event_target_value(&ev))>
                    <option value="">"Choose a custom field…"</option>
                    {move || {
                        let taken: Vec<String> = d.with(|x| x.custom_fields.iter().map(|f| f.reference.clone()).collect());
                        field_defs.with_value(|defs| defs.iter().filter(|f| !taken.contains(&f.reference)).map(|f| view! {
                            <option value=f.reference.clone()>{format!("{} ({})", f.name, f.kind.as_str())}</option>
                        }).collect_view())
                    }}
                </select>
                <button type="button" disabled=move || field_pick.get().is_empty() on:click=add_field>"Add field"</button>
                {field_defs.with_value(Vec::is_empty).then(|| view! { <span class="muted">"Define custom fields in the Custom fields tab first."</span> })}
            </div>

            <h4>"Default metrics"</h4>
            <ListEditor headers=vec!["Metric", "Title"] label="Default metrics"
                len=Signal::derive(move || d.with(|x| x.metrics.len())) row=metric_row
                on_op=Callback::new(move |op: ListOp| d.update(|x| op.apply(&mut x.metrics))) empty="No metrics."/>
            <div class="toolbar">
                <select aria-label="Metric to add" prop:value=move || metric_pick.get() on:change=move |ev| metric_pick.set(event_target_value(&ev))>
                    <option value="">"Choose a metric…"</option>
                    {move || {
                        let taken: Vec<String> = d.with(|x| x.metrics.iter().map(|(m, _)| m.clone()).collect());
                        metric_defs.with_value(|defs| defs.iter().filter(|m| !taken.contains(&m.name)).map(|m| view! {
                            <option value=m.name.clone()>{format!("{} ({})", m.title, m.name)}</option>
                        }).collect_view())
                    }}
                </select>
                <button type="button" disabled=move || metric_pick.get().is_empty() on:click=add_metric>"Add metric"</button>
                {metric_defs.with_value(Vec::is_empty).then(|| view! { <span class="muted">"Define metrics in the Metrics tab first."</span> })}
            </div>

            <ErrorNote error=error/>
            <div class="dialog-actions">
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
    let outcome = Settle::new(error, reload);
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
            .map(|o| crate::ui::pages::cases::case::field_value(k, &o))
            .collect();
        let opts = match opts {
            Ok(o) => o,
            Err(m) => {
                error.set(Some(ApiError::new(ErrorKind::AttributeCheckingError, format!("Options: {m}"))));
                return;
            }
        };
        let input = NewCustomField {
            name: name.get_untracked(),
            reference: Some(reference.get_untracked()).filter(|r| !r.trim().is_empty()),
            description: None,
            kind: k,
            options: opts,
            mandatory: mandatory.get_untracked(),
        };
        spawn_local(async move {
            if outcome.settle(api::create_custom_field(input).await).is_some() {
                name.set(String::new());
                reference.set(String::new());
                options.set(String::new());
            }
        });
    };
    let delete = move |d: CustomFieldDefinition| {
        if confirm(&format!("Delete the custom field “{}”?", d.name)) {
            spawn_local(async move { outcome.settle(api::delete_custom_field(d.id).await); });
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
            {move || fetched(lookups.get(), |l| if l.custom_fields.is_empty() {
                    view! { <EmptyState title="No custom fields" hint="Fields analysts fill in on every case (business unit, CVSS…)."/> }.into_any()
                } else { view! {
                    <table class="grid">
                        <thead><tr><th>"Name"</th><th>"Reference"</th><th>"Type"</th><th>"Options"</th><th>"Mandatory"</th><th></th></tr></thead>
                        <tbody>{l.custom_fields.into_iter().map(|d| {
                            let d2 = d.clone();
                            view! {
                                <tr>
                                    <td>{d.name.clone()}</td><td><code>{d.reference.clone()}</code></td><td>{d.kind.as_str()}</td>
                                    <td>{d.options.iter().map(|o| crate::ui::pages::cases::case::field_text(d.kind, o)).collect::<Vec<_>>().join(", ")}</td>
                                    <td>{if d.mandatory { "yes" } else { "-" }}</td>
                                    <td><button class="small danger" on:click=move |_| delete(d2.clone())>"Delete"</button></td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any() })}
        </section>
    }
}

#[component]
pub fn MetricsAdmin() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let error = RwSignal::new(None::<ApiError>);
    let outcome = Settle::new(error, reload);
    let lookups = LocalResource::new(move || {
        reload.track();
        async move { api::get_case_lookups().await }
    });
    let name = RwSignal::new(String::new());
    let title = RwSignal::new(String::new());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = NewMetric { name: name.get_untracked(), title: Some(title.get_untracked()).filter(|t| !t.trim().is_empty()), description: None };
        spawn_local(async move {
            if outcome.settle(api::create_metric(input).await).is_some() {
                name.set(String::new());
                title.set(String::new());
            }
        });
    };
    let delete = move |m: MetricDefinition| {
        if confirm(&format!("Delete the metric “{}”?", m.title)) {
            spawn_local(async move { outcome.settle(api::delete_metric(m.id).await); });
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
            {move || fetched(lookups.get(), |l| if l.metrics.is_empty() {
                    view! { <EmptyState title="No metrics" hint="Numbers measured on cases (hours to contain, systems affected…)."/> }.into_any()
                } else { view! {
                    <table class="grid">
                        <thead><tr><th>"Name"</th><th>"Title"</th><th></th></tr></thead>
                        <tbody>{l.metrics.into_iter().map(|m| {
                            let m2 = m.clone();
                            view! { <tr><td><code>{m.name.clone()}</code></td><td>{m.title.clone()}</td><td><button class="small danger" on:click=move |_| delete(m2.clone())>"Delete"</button></td></tr> }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any() })}
        </section>
    }
}

#[component]
pub fn DataTypesAdmin() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let error = RwSignal::new(None::<ApiError>);
    let outcome = Settle::new(error, reload);
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
            if outcome.settle(api::create_data_type(n, f).await).is_some() {
                name.set(String::new());
            }
        });
    };
    let delete = move |t: ObservableDataType| {
        if confirm(&format!("Delete the observable type “{}”?", t.name)) {
            spawn_local(async move { outcome.settle(api::delete_data_type(t.id).await); });
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
            {move || fetched(lookups.get(), |l| view! {
                    <table class="grid">
                        <thead><tr><th>"Name"</th><th>"Kind"</th><th></th></tr></thead>
                        <tbody>{l.data_types.into_iter().map(|t| {
                            let t2 = t.clone();
                            view! { <tr><td><code>{t.name.clone()}</code></td><td>{if t.is_attachment { "file" } else { "value" }}</td><td><button class="small danger" on:click=move |_| delete(t2.clone())>"Delete"</button></td></tr> }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any())}
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
        let i = d.input().unwrap();
        assert_eq!(i.name.as_deref(), Some("Phishing"));
        assert_eq!(i.tags, Some(vec!["a".to_string(), "b".to_string()]));
        let tasks = i.tasks.unwrap();
        assert_eq!(tasks.len(), 2, "untitled tasks are dropped");
        assert_eq!((tasks[0].order, tasks[0].group.clone()), (0, None));
        assert_eq!((tasks[1].order, tasks[1].title.as_str()), (1, "Third"));
    }

    #[test]
    fn defaults_are_typed_and_kept_in_order() {
        let mut d = TemplateDraft::new();
        d.name = "T".into();
        d.custom_fields = vec![
            FieldDefault { reference: "unit".into(), kind: CustomFieldType::String, value: "Finance".into() },
            FieldDefault { reference: "score".into(), kind: CustomFieldType::Integer, value: " 7 ".into() },
            FieldDefault { reference: "seen".into(), kind: CustomFieldType::Date, value: "2024-05-01".into() },
            FieldDefault { reference: "vip".into(), kind: CustomFieldType::Boolean, value: "true".into() },
            FieldDefault { reference: "cvss".into(), kind: CustomFieldType::Float, value: "".into() },
        ];
        d.metrics = vec![("timeToContain".into(), None)];
        d.tasks = vec![TemplateTask { title: "Triage".into(), owner: Some("".into()), ..Default::default() }, TemplateTask { title: "Contain".into(), owner: Some("bob@x".into()), ..Default::default() }];
        let i = d.input().unwrap();
        let cf = i.custom_fields.clone().unwrap();
        assert_eq!(cf["unit"].value, serde_json::json!("Finance"));
        assert_eq!(cf["score"].value, serde_json::json!(7));
        assert_eq!(cf["seen"].value, serde_json::json!(1_714_521_600_000i64));
        assert_eq!(cf["vip"].value, serde_json::json!(true));
        assert!(cf["cvss"].value.is_null(), "empty: a field without a default value");
        assert_eq!(cf["seen"].order, Some(2));
        assert_eq!(i.metrics.clone().unwrap().get("timeToContain"), Some(&None));
        let tasks = i.tasks.clone().unwrap();
        assert_eq!((tasks[0].owner.clone(), tasks[1].owner.clone()), (None, Some("bob@x".to_string())));

        // Saved and re-opened: the same draft.
        let t = CaseTemplate {
            id: "t1".into(), name: "T".into(), title_prefix: None, description: None, severity: Some(2), tags: vec![], flag: false,
            tlp: Some(2), pap: Some(2), status: "Ok".into(), metrics: i.metrics.unwrap(), custom_fields: cf, tasks,
            created_at: 0, created_by: "a".into(), updated_at: None, updated_by: None,
        };
        let again = TemplateDraft::of(&t);
        assert_eq!(again.custom_fields.iter().map(|f| f.reference.as_str()).collect::<Vec<_>>(), ["unit", "score", "seen", "vip", "cvss"]);
        assert_eq!(again.custom_fields[1].value, "7");
        assert_eq!(again.custom_fields[2].value, "2024-05-01");
        assert_eq!(again.custom_fields[3].value, "true");
        assert_eq!(again.metrics, vec![("timeToContain".to_string(), None)]);

        d.custom_fields[1].value = "seven".into();
        assert!(d.input().unwrap_err().contains("score"), "a wrong value says which field");
    }

    #[test]
    fn list_ops() {
        let mut v = vec![1, 2, 3];
        ListOp::Up(2).apply(&mut v);
        assert_eq!(v, [1, 3, 2]);
        ListOp::Up(0).apply(&mut v);
        ListOp::Remove(7).apply(&mut v);
        assert_eq!(v, [1, 3, 2]);
        ListOp::Remove(0).apply(&mut v);
        assert_eq!(v, [3, 2]);
    }
}
