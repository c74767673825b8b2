//! A case's page: header (number, title, severity, TLP/PAP, tags, flag, owner, dates, actions),
//! tabs in the URL (details, tasks, observables, activity), and the new-case, close and merge
//! dialogs.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::Value;

use super::observables::ObservablesTab;
use super::tasks::TasksTab;
use crate::api::{self, CaseDetail, CaseLookups};
use crate::model::*;
use crate::ui::action::confirm;
use crate::ui::auth::use_auth;
use crate::ui::format::{self, parse_tags};
use crate::ui::pages::alerts::preview::CaseAlerts;
use crate::ui::widgets::{ErrorNote, Loading, MarkdownEditor, Modal, SeverityBadge, Tags, TlpBadge};

/// What the tabs of a case page share.
#[derive(Clone, Copy)]
pub struct CaseCtx {
    pub detail: LocalResource<Result<CaseDetail, ApiError>>,
    pub lookups: LocalResource<CaseLookups>,
    pub reload: RwSignal<u32>,
}

impl CaseCtx {
    pub fn case(&self) -> Option<Case> {
        self.detail.get().and_then(|r| r.ok()).map(|d| d.case)
    }
    pub fn refresh(&self) {
        self.reload.update(|n| *n += 1);
    }
}

pub fn use_case() -> CaseCtx {
    expect_context::<CaseCtx>()
}

#[component]
pub fn CasePage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let tab = Memo::new(move |_| params.with(|p| p.get("tab").unwrap_or_else(|| "details".into())));
    let reload = RwSignal::new(0u32);
    let detail = LocalResource::new(move || {
        reload.track();
        let id = id.get();
        async move { api::get_case_detail(id).await }
    });
    let lookups = LocalResource::new(|| async { api::get_case_lookups().await.unwrap_or_default() });
    let ctx = CaseCtx { detail, lookups, reload };
    provide_context(ctx);
    crate::ui::activity::follow_case(move || ctx.case().map(|c| (c.id, c.case_id)), move || ctx.refresh());
    let auth = use_auth();
    // Whether the case could be read, kept while it is read again: refreshing the case after a
    // change must not rebuild the tabs (and lose what they show, like a bulk action's outcome).
    let loaded = Memo::new(move |prev: Option<&Option<Result<(), ApiError>>>| {
        detail.get().map(|r| r.map(|_| ())).or_else(|| prev.cloned().flatten())
    });
    view! {
        <div class="wide-page case-page">
            {move || match loaded.get() {
                None => view! { <Loading/> }.into_any(),
                Some(Err(e)) => {
                    auth.check(&e);
                    view! { <div class="centered"><h1>"Case not available"</h1><p class="error-note">{e.to_string()}</p><p><A href="/cases">"Back to cases"</A></p></div> }.into_any()
                }
                Some(Ok(_)) => view! {
                    <CaseHeader/>
                    <nav class="tabs" role="tablist">
                        {[("details", "Details"), ("tasks", "Tasks"), ("observables", "Observables"), ("activity", "Activity")].into_iter().map(|(t, label)| {
                            let count = move || ctx.detail.get().and_then(|r| r.ok()).map(|d| match t {
                                "tasks" => format!(" ({})", d.stats.tasks.total),
                                "observables" => format!(" ({})", d.stats.observables),
                                _ => String::new(),
                            }).unwrap_or_default();
                            view! {
                                <A href=move || format!("/cases/{}/{t}", id.get()) attr:class=move || if tab.get() == t { "tab active" } else { "tab" } attr:role="tab">{label}{count}</A>
                            }
                        }).collect_view()}
                    </nav>
                    {move || match tab.get().as_str() {
                        "tasks" => view! { <TasksTab/> }.into_any(),
                        "observables" => view! { <ObservablesTab/> }.into_any(),
                        "activity" => view! { <ActivityTab/> }.into_any(),
                        _ => view! { <DetailsTab/> }.into_any(),
                    }}
                }.into_any(),
            }}
        </div>
    }
}

/// Save a change to the case; errors go to `error`.
pub fn save_case(ctx: CaseCtx, patch: CasePatch, error: RwSignal<Option<ApiError>>) {
    let Some(c) = ctx.case() else { return };
    let auth = use_auth();
    spawn_local(async move {
        match api::update_case(c.id, patch).await {
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
}

#[component]
fn CaseHeader() -> impl IntoView {
    let ctx = use_case();
    let navigate = use_navigate();
    let error = RwSignal::new(None::<ApiError>);
    let close_open = RwSignal::new(false);
    let merge_open = RwSignal::new(false);
    let report_open = RwSignal::new(false);
    let misp_open = RwSignal::new(false);
    let editing_title = RwSignal::new(false);
    let title = RwSignal::new(String::new());
    let members = move || ctx.lookups.get().map(|l| l.members).unwrap_or_default();
    let case = move || ctx.case();
    let delete = move || {
        let Some(c) = case() else { return };
        if !confirm(&format!("Delete case #{} “{}”? It stays readable, marked Deleted.", c.case_id, c.title)) {
            return;
        }
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::delete_case(c.id).await {
                Ok(()) => navigate("/cases", Default::default()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let delete = StoredValue::new(delete);
    let reopen = move |_| {
        let Some(c) = case() else { return };
        spawn_local(async move {
            match api::reopen_case(c.id).await {
                Ok(_) => ctx.refresh(),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        {move || case().map(|c| {
            let open = c.status == CaseStatus::Open;
            let deleted = c.status == CaseStatus::Deleted;
            let flag = c.flag;
            let status = match (c.status, c.resolution_status) {
                (CaseStatus::Resolved, Some(r)) => format!("Resolved: {}", r.label()),
                (s, _) => s.as_str().to_string(),
            };
            let owner = c.owner.clone().unwrap_or_default();
            view! {
                <div class="case-header card">
                    <div class="case-title-row">
                        <A href="/cases" attr:class="back" attr:title="Back to cases">"‹ Cases"</A>
                        <span class="case-number">"#"{c.case_id}</span>
                        {move || if editing_title.get() {
                            view! {
                                <form class="inline-form title-form" on:submit=move |ev| {
                                    ev.prevent_default();
                                    editing_title.set(false);
                                    save_case(ctx, CasePatch { title: Some(title.get_untracked()), ..Default::default() }, error);
                                }>
                                    <input type="text" class="title-input" aria-label="Title" prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/>
                                    <button type="submit" class="primary">"Save"</button>
                                    <button type="button" on:click=move |_| editing_title.set(false)>"Cancel"</button>
                                </form>
                            }.into_any()
                        } else {
                            let t = c.title.clone();
                            view! { <h1 class="case-title" title="Click to edit" on:click=move |_| { title.set(t.clone()); editing_title.set(!deleted) }>{c.title.clone()}</h1> }.into_any()
                        }}
                        <button class="flag-toggle" class:on=flag title=if flag { "Unflag" } else { "Flag" } aria-pressed=flag.to_string()
                            on:click=move |_| save_case(ctx, CasePatch { flag: Some(!flag), ..Default::default() }, error)>"⚑"</button>
                        <span class="spacer"></span>
                        <button id="case-report" title="A report of the case as PDF, HTML or Markdown" on:click=move |_| report_open.set(true)>"Report…"</button>
                        <Show when=move || !deleted><button id="case-misp-export" title="Export the case's IOCs to a MISP event (updated at each export)" on:click=move |_| misp_open.set(true)>"MISP…"</button></Show>
                        <Show when=move || open>
                            <button on:click=move |_| merge_open.set(true)>"Merge…"</button>
                            <button class="primary" on:click=move |_| close_open.set(true)>"Close case…"</button>
                        </Show>
                        <Show when=move || !open && !deleted><button on:click=reopen>"Reopen"</button></Show>
                        <Show when=move || !deleted><button class="danger" on:click=move |_| delete.with_value(|d| d())>"Delete"</button></Show>
                    </div>
                    <div class="case-meta">
                        <SeverityBadge severity=c.severity/>
                        <TlpBadge level=c.tlp/>
                        <TlpBadge level=c.pap kind="PAP"/>
                        <span class=format!("status status-{}", c.status.as_str().to_lowercase())>{status}</span>
                        <Tags tags=c.tags.clone()/>
                        <span class="spacer"></span>
                        <label class="inline">"Assignee "
                            <select aria-label="Assignee" disabled=deleted on:change=move |ev| save_case(ctx, CasePatch { owner: Some(event_target_value(&ev)), ..Default::default() }, error)>
                                {let owner = owner.clone(); move || {
                                    let owner = owner.clone();
                                    let mut list = members();
                                    if !owner.is_empty() && !list.iter().any(|m| m.login == owner) {
                                        list.push(api::Member { login: owner.clone(), name: owner.clone() });
                                    }
                                    list.into_iter().map(|m| { let sel = m.login == owner; view! { <option value=m.login.clone() selected=sel>{m.name}</option> } }).collect_view()
                                }}
                            </select>
                        </label>
                        <span class="muted">"Started "{format::datetime(c.start_date)}</span>
                        {c.end_date.map(|d| view! { <span class="muted">"Ended "{format::datetime(d)}</span> })}
                        <span class="muted">"Created by "{c.created_by.clone()}</span>
                    </div>
                    <ErrorNote error=error/>
                </div>
            }
        })}
        <Show when=move || close_open.get()>
            <CloseDialog on_close=Callback::new(move |_| close_open.set(false))/>
        </Show>
        <Show when=move || merge_open.get()>
            <MergeDialog on_close=Callback::new(move |_| merge_open.set(false))/>
        </Show>
        {move || report_open.get().then(|| case().map(|c| view! {
            <super::report::ReportDialog case=c on_close=Callback::new(move |_| report_open.set(false))/>
        }))}
        {move || misp_open.get().then(|| case().map(|c| view! {
            <super::misp::MispExportDialog case=c on_close=Callback::new(move |_| misp_open.set(false))/>
        }))}
    }
}

#[component]
fn DetailsTab() -> impl IntoView {
    let ctx = use_case();
    let error = RwSignal::new(None::<ApiError>);
    let editing = RwSignal::new(false);
    let description = RwSignal::new(String::new());
    let tags = RwSignal::new(String::new());
    let links = LocalResource::new(move || {
        ctx.reload.track();
        let id = ctx.case().map(|c| c.id).unwrap_or_default();
        async move { api::case_links(id).await }
    });
    view! {
        {move || ctx.detail.get().and_then(|r| r.ok()).map(|d: CaseDetail| {
            let c = d.case.clone();
            let deleted = c.status == CaseStatus::Deleted;
            let desc = c.description.clone();
            let tag_text = c.tags.join(", ");
            view! {
                <div class="details-grid">
                    <div>
                        <section class="card">
                            <div class="card-title"><h2>"Description"</h2>
                                <Show when=move || !editing.get() && !deleted>
                                    <button class="small" on:click={ let desc = desc.clone(); move |_| { description.set(desc.clone()); editing.set(true) } }>"Edit"</button>
                                </Show>
                            </div>
                            {move || if editing.get() {
                                view! {
                                    <MarkdownEditor value=description rows=10/>
                                    <div class="dialog-actions">
                                        <button on:click=move |_| editing.set(false)>"Cancel"</button>
                                        <button class="primary" on:click=move |_| { editing.set(false); save_case(ctx, CasePatch { description: Some(description.get_untracked()), ..Default::default() }, error) }>"Save description"</button>
                                    </div>
                                }.into_any()
                            } else {
                                view! { <div class="markdown" inner_html=d.description_html.clone()></div> }.into_any()
                            }}
                        </section>
                        {(c.status == CaseStatus::Resolved).then(|| view! {
                            <section class="card">
                                <h2>"Resolution"</h2>
                                <dl class="facts">
                                    <dt>"Resolution"</dt><dd>{c.resolution_status.map(|r| r.label()).unwrap_or("-")}</dd>
                                    <dt>"Impact"</dt><dd>{c.impact_status.map(|i| i.label()).unwrap_or("-")}</dd>
                                </dl>
                                <div class="markdown" inner_html=d.summary_html.clone()></div>
                            </section>
                        })}
                        <section class="card">
                            <h2>"Related cases"</h2>
                            {move || links.get().map(|r| match r {
                                Err(e) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
                                Ok(list) if list.is_empty() => view! { <p class="muted">"No other case shares an observable with this one."</p> }.into_any(),
                                Ok(list) => view! {
                                    <table class="grid">
                                        <thead><tr><th class="num">"#"</th><th>"Title"</th><th>"Severity"</th><th>"Status"</th><th>"Shared observables"</th></tr></thead>
                                        <tbody>{list.into_iter().map(|l| view! {
                                            <tr>
                                                <td class="num">{l.case.case_id}</td>
                                                <td><A href=format!("/cases/{}", l.case.case_id)>{l.case.title.clone()}</A></td>
                                                <td><SeverityBadge severity=l.case.severity/></td>
                                                <td>{l.case.status.as_str()}</td>
                                                <td>{l.linked_with.iter().map(|o| format!("{}: {}", o.data_type, o.display_value())).collect::<Vec<_>>().join(", ")}</td>
                                            </tr>
                                        }).collect_view()}</tbody>
                                    </table>
                                }.into_any(),
                            })}
                        </section>
                        <section class="card">
                            <CaseAlerts case_id=c.id.clone()/>
                        </section>
                    </div>
                    <div>
                        <section class="card">
                            <h2>"Properties"</h2>
                            <dl class="facts editable">
                                <dt>"Severity"</dt>
                                <dd><select aria-label="Severity" disabled=deleted on:change=move |ev| save_case(ctx, CasePatch { severity: event_target_value(&ev).parse().ok(), ..Default::default() }, error)>
                                    {(1u8..=4).map(|s| view! { <option value=s.to_string() selected=c.severity == s>{format::severity(s).0}</option> }).collect_view()}
                                </select></dd>
                                <dt>"TLP"</dt>
                                <dd><select aria-label="TLP" disabled=deleted on:change=move |ev| save_case(ctx, CasePatch { tlp: event_target_value(&ev).parse().ok(), ..Default::default() }, error)>
                                    {(0u8..=3).map(|t| view! { <option value=t.to_string() selected=c.tlp == t>{format::tlp(t).0}</option> }).collect_view()}
                                </select></dd>
                                <dt>"PAP"</dt>
                                <dd><select aria-label="PAP" disabled=deleted on:change=move |ev| save_case(ctx, CasePatch { pap: event_target_value(&ev).parse().ok(), ..Default::default() }, error)>
                                    {(0u8..=3).map(|t| view! { <option value=t.to_string() selected=c.pap == t>{format::tlp(t).0}</option> }).collect_view()}
                                </select></dd>
                                <dt>"Tags"</dt>
                                <dd><input type="text" aria-label="Tags" disabled=deleted prop:value=tag_text.clone() on:input=move |ev| tags.set(event_target_value(&ev))
                                    on:change=move |_| save_case(ctx, CasePatch { tags: Some(parse_tags(&tags.get_untracked())), ..Default::default() }, error)/></dd>
                                <dt>"Template"</dt><dd>{c.template.clone().unwrap_or_else(|| "-".into())}</dd>
                                <dt>"Tasks"</dt><dd>{format!("{} ({} waiting, {} in progress, {} done)", d.stats.tasks.total, d.stats.tasks.waiting, d.stats.tasks.in_progress, d.stats.tasks.completed + d.stats.tasks.cancel)}</dd>
                                <dt>"Observables"</dt><dd>{format!("{} ({} IOC)", d.stats.observables, d.stats.iocs)}</dd>
                                {c.merge_into.clone().map(|m| view! { <dt>"Merged into"</dt><dd><A href=format!("/cases/{m}")>"the merged case"</A></dd> })}
                                {(!c.merge_from.is_empty()).then(|| view! { <dt>"Merged from"</dt><dd>{c.merge_from.iter().enumerate().map(|(i, m)| view! { <A href=format!("/cases/{m}")>{format!("source {}", i + 1)}</A>" " }).collect_view()}</dd> })}
                            </dl>
                        </section>
                        <CustomFieldsCard case=c.clone() deleted=deleted error=error/>
                        <MetricsCard case=c.clone() deleted=deleted error=error/>
                        <ErrorNote error=error/>
                    </div>
                </div>
            }
        })}
    }
}

#[component]
fn CustomFieldsCard(case: Case, deleted: bool, error: RwSignal<Option<ApiError>>) -> impl IntoView {
    let ctx = use_case();
    view! {
        <section class="card">
            <h2>"Custom fields"</h2>
            {move || {
                let defs = ctx.lookups.get().map(|l| l.custom_fields).unwrap_or_default();
                let mut refs: Vec<(String, String, CustomFieldType, Vec<Value>)> = defs.iter().map(|d| (d.reference.clone(), d.name.clone(), d.kind, d.options.clone())).collect();
                for (k, v) in &case.custom_fields {
                    if !refs.iter().any(|r| &r.0 == k) {
                        refs.push((k.clone(), k.clone(), v.kind, Vec::new()));
                    }
                }
                if refs.is_empty() {
                    return view! { <p class="muted">"No custom fields defined (Admin › Custom fields)."</p> }.into_any();
                }
                view! {
                    <dl class="facts editable">
                        {refs.into_iter().map(|(reference, name, kind, options)| {
                            let current = case.custom_fields.get(&reference).map(|v| v.value.clone()).unwrap_or(Value::Null);
                            let order = case.custom_fields.get(&reference).and_then(|v| v.order);
                            let r2 = reference.clone();
                            let label = name.clone();
                            let save = move |raw: String| {
                                let value = match field_value(kind, &raw) {
                                    Ok(v) => v,
                                    Err(m) => { error.set(Some(ApiError::new(ErrorKind::AttributeCheckingError, format!("{label}: {m}")))); return; }
                                };
                                let mut map = CustomFields::new();
                                map.insert(r2.clone(), CustomFieldValue { kind, value, order });
                                save_case(ctx, CasePatch { custom_fields: Some(map), ..Default::default() }, error);
                            };
                            let shown = field_text(kind, &current);
                            let input = if !options.is_empty() {
                                view! {
                                    <select aria-label=reference.clone() disabled=deleted on:change=move |ev| save(event_target_value(&ev))>
                                        <option value="">"-"</option>
                                        {options.iter().map(|o| { let t = field_text(kind, o); let sel = t == shown; view! { <option value=t.clone() selected=sel>{t.clone()}</option> } }).collect_view()}
                                    </select>
                                }.into_any()
                            } else if kind == CustomFieldType::Boolean {
                                view! {
                                    <select aria-label=reference.clone() disabled=deleted on:change=move |ev| save(event_target_value(&ev))>
                                        <option value="" selected=shown.is_empty()>"-"</option>
                                        <option value="true" selected=shown == "true">"Yes"</option>
                                        <option value="false" selected=shown == "false">"No"</option>
                                    </select>
                                }.into_any()
                            } else {
                                let ty = match kind { CustomFieldType::Date => "date", CustomFieldType::String => "text", _ => "number" };
                                view! { <input type=ty aria-label=reference.clone() disabled=deleted prop:value=shown.clone() on:change=move |ev| save(event_target_value(&ev))/> }.into_any()
                            };
                            view! { <dt title=reference.clone()>{name.clone()}</dt><dd>{input}</dd> }
                        }).collect_view()}
                    </dl>
                }.into_any()
            }}
        </section>
    }
}

/// A custom field's value as an input shows it.
pub fn field_text(kind: CustomFieldType, v: &Value) -> String {
    match (kind, v) {
        (_, Value::Null) => String::new(),
        (CustomFieldType::Date, Value::Number(n)) => n.as_i64().map(crate::date::day).unwrap_or_default(),
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

/// An input's text as a custom field value (empty: no value).
pub fn field_value(kind: CustomFieldType, raw: &str) -> Result<Value, &'static str> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(Value::Null);
    }
    match kind {
        CustomFieldType::String => Ok(Value::String(raw.to_string())),
        CustomFieldType::Boolean => raw.parse::<bool>().map(Value::Bool).map_err(|_| "yes or no"),
        CustomFieldType::Integer => raw.parse::<i64>().map(Value::from).map_err(|_| "a whole number is expected"),
        CustomFieldType::Number | CustomFieldType::Float => {
            raw.parse::<f64>().ok().filter(|f| f.is_finite()).map(Value::from).ok_or("a number is expected")
        }
        CustomFieldType::Date => crate::date::day_start(raw).map(Value::from).ok_or("a date (YYYY-MM-DD) is expected"),
    }
}

#[component]
fn MetricsCard(case: Case, deleted: bool, error: RwSignal<Option<ApiError>>) -> impl IntoView {
    let ctx = use_case();
    view! {
        <section class="card">
            <h2>"Metrics"</h2>
            {move || {
                let defs = ctx.lookups.get().map(|l| l.metrics).unwrap_or_default();
                let mut names: Vec<(String, String)> = defs.iter().map(|d| (d.name.clone(), d.title.clone())).collect();
                for k in case.metrics.keys() {
                    if !names.iter().any(|n| &n.0 == k) {
                        names.push((k.clone(), k.clone()));
                    }
                }
                if names.is_empty() {
                    return view! { <p class="muted">"No metrics defined (Admin › Metrics)."</p> }.into_any();
                }
                view! {
                    <dl class="facts editable">
                        {names.into_iter().map(|(name, title)| {
                            let current = case.metrics.get(&name).copied().flatten().map(|f| f.to_string()).unwrap_or_default();
                            let n2 = name.clone();
                            view! {
                                <dt title=name.clone()>{title}</dt>
                                <dd><input type="number" step="any" aria-label=format!("Metric {name}") disabled=deleted prop:value=current on:change=move |ev| {
                                    let raw = event_target_value(&ev);
                                    let value = if raw.trim().is_empty() { None } else {
                                        match raw.trim().parse::<f64>() { Ok(f) => Some(f), Err(_) => { error.set(Some(ApiError::new(ErrorKind::AttributeCheckingError, "A metric is a number"))); return; } }
                                    };
                                    let mut m = Metrics::new();
                                    m.insert(n2.clone(), value);
                                    save_case(ctx, CasePatch { metrics: Some(m), ..Default::default() }, error);
                                }/></dd>
                            }
                        }).collect_view()}
                    </dl>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn ActivityTab() -> impl IntoView {
    let ctx = use_case();
    let entries = LocalResource::new(move || {
        ctx.reload.track();
        let id = ctx.case().map(|c| c.id).unwrap_or_default();
        async move { api::case_activity(id).await }
    });
    view! {
        <section class="card">
            {move || entries.get().map(|r| match r {
                Err(e) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
                Ok(list) => view! {
                    <table class="grid activity">
                        <thead><tr><th>"When"</th><th>"Who"</th><th>"Change"</th><th>"On"</th><th>"Details"</th></tr></thead>
                        <tbody>{list.into_iter().map(|e| view! {
                            <tr>
                                <td class="date">{format::datetime(e.created_at)}</td>
                                <td>{e.created_by.clone()}</td>
                                <td>{e.operation.as_str()}</td>
                                <td>{format::object_label(&e.object_type).to_string()}</td>
                                <td class="details">{audit_summary(&e)}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
            })}
        </section>
    }
}

/// What changed, in one line: `field: value` pairs (long values shortened).
pub fn audit_summary(e: &AuditEntry) -> String {
    let skip = ["id", "_id", "org", "createdAt", "createdBy", "updatedAt", "updatedBy", "case", "task", "createdDesc"];
    let mut parts = Vec::new();
    for (k, v) in &e.details {
        if skip.contains(&k.as_str()) {
            continue;
        }
        let text = match v {
            Value::Number(n) if k.ends_with("Date") => n.as_i64().map(format::datetime).unwrap_or_else(|| n.to_string()),
            Value::String(s) => s.clone(),
            Value::Null => "∅".into(),
            other => other.to_string(),
        };
        let text: String = if text.chars().count() > 60 { text.chars().take(60).collect::<String>() + "…" } else { text };
        parts.push(format!("{k}: {text}"));
        if parts.len() >= 6 {
            parts.push("…".into());
            break;
        }
    }
    parts.join(" · ")
}

/// The new case dialog: blank or from a template.
#[component]
pub fn NewCaseDialog(on_close: Callback<()>) -> impl IntoView {
    let navigate = use_navigate();
    let auth = use_auth();
    let lookups = LocalResource::new(|| async { api::get_case_lookups().await.unwrap_or_default() });
    let template = RwSignal::new(String::new());
    let title = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let severity = RwSignal::new(2u8);
    let tlp = RwSignal::new(2u8);
    let pap = RwSignal::new(2u8);
    let tags = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    // Choosing a template fills in its defaults.
    let choose = move |name: String| {
        template.set(name.clone());
        if let Some(t) = lookups.get_untracked().and_then(|l| l.templates.into_iter().find(|t| t.name == name)) {
            if let Some(s) = t.severity { severity.set(s) }
            if let Some(x) = t.tlp { tlp.set(x) }
            if let Some(x) = t.pap { pap.set(x) }
            if description.get_untracked().is_empty() { description.set(t.description.clone().unwrap_or_default()) }
            tags.set(t.tags.join(", "));
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = NewCase {
            title: title.get_untracked(),
            description: Some(description.get_untracked()),
            severity: Some(severity.get_untracked()),
            tlp: Some(tlp.get_untracked()),
            pap: Some(pap.get_untracked()),
            tags: Some(parse_tags(&tags.get_untracked())),
            template: Some(template.get_untracked()).filter(|t| !t.is_empty()),
            ..Default::default()
        };
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::create_case(input).await {
                Ok(c) => {
                    on_close.run(());
                    navigate(&format!("/cases/{}", c.case_id), Default::default());
                }
                Err(e) => {
                    auth.check(&e);
                    busy.set(false);
                    error.set(Some(e));
                }
            }
        });
    };
    view! {
        <Modal title="New case" on_close=on_close>
            <form class="stacked-form wide" on:submit=submit>
                <label>"Template"
                    <select id="new-case-template" on:change=move |ev| choose(event_target_value(&ev))>
                        <option value="">"Blank case"</option>
                        {move || lookups.get().map(|l| l.templates.into_iter().map(|t| view! { <option value=t.name.clone()>{t.name.clone()}</option> }).collect_view())}
                    </select>
                </label>
                {move || {
                    let name = template.get();
                    lookups.get().and_then(|l| l.templates.into_iter().find(|t| t.name == name)).map(|t| view! {
                        <p class="muted small">{format!("{} task(s){}", t.tasks.len(), t.title_prefix.map(|p| format!("; titles start with “{p}”")).unwrap_or_default())}</p>
                    })
                }}
                <label>"Title"<input id="new-case-title" type="text" required prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/></label>
                <div class="form-row">
                    <label>"Severity"<select on:change=move |ev| severity.set(event_target_value(&ev).parse().unwrap_or(2))>
                        {(1u8..=4).map(|s| view! { <option value=s.to_string() selected=move || severity.get() == s>{format::severity(s).0}</option> }).collect_view()}
                    </select></label>
                    <label>"TLP"<select on:change=move |ev| tlp.set(event_target_value(&ev).parse().unwrap_or(2))>
                        {(0u8..=3).map(|t| view! { <option value=t.to_string() selected=move || tlp.get() == t>{format::tlp(t).0}</option> }).collect_view()}
                    </select></label>
                    <label>"PAP"<select on:change=move |ev| pap.set(event_target_value(&ev).parse().unwrap_or(2))>
                        {(0u8..=3).map(|t| view! { <option value=t.to_string() selected=move || pap.get() == t>{format::tlp(t).0}</option> }).collect_view()}
                    </select></label>
                </div>
                <label>"Tags"<input type="text" placeholder="comma separated" prop:value=move || tags.get() on:input=move |ev| tags.set(event_target_value(&ev))/></label>
                <label>"Description"</label>
                <MarkdownEditor value=description rows=6 id="new-case-description"/>
                <ErrorNote error=error/>
                <div class="dialog-actions">
                    <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="primary" disabled=move || busy.get()>"Create case"</button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
fn CloseDialog(on_close: Callback<()>) -> impl IntoView {
    let ctx = use_case();
    let resolution = RwSignal::new(ResolutionStatus::TruePositive);
    let impact = RwSignal::new(ImpactStatus::NoImpact);
    let summary = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(c) = ctx.case() else { return };
        let closure = CaseClosure { resolution_status: resolution.get_untracked(), impact_status: Some(impact.get_untracked()), summary: summary.get_untracked() };
        spawn_local(async move {
            match api::close_case(c.id, closure).await {
                Ok(_) => {
                    on_close.run(());
                    ctx.refresh();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <Modal title="Close case" on_close=on_close>
            <form class="stacked-form wide" on:submit=submit>
                <p class="muted small">"Closing the case also closes its open tasks."</p>
                <label>"Resolution"
                    <select id="close-resolution" on:change=move |ev| if let Some(r) = ResolutionStatus::parse(&event_target_value(&ev)) { resolution.set(r) }>
                        {ResolutionStatus::ALL.into_iter().filter(|r| *r != ResolutionStatus::Duplicated).map(|r| view! { <option value=r.as_str() selected=move || resolution.get() == r>{r.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Impact"
                    <select id="close-impact" on:change=move |ev| if let Some(i) = ImpactStatus::parse(&event_target_value(&ev)) { impact.set(i) }>
                        {ImpactStatus::ALL.into_iter().map(|i| view! { <option value=i.as_str() selected=move || impact.get() == i>{i.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Summary"</label>
                <MarkdownEditor value=summary rows=5 id="close-summary"/>
                <ErrorNote error=error/>
                <div class="dialog-actions">
                    <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="primary">"Close case"</button>
                </div>
            </form>
        </Modal>
    }
}

/// Merge this case with one or more others, found by number (`#12`) or title words.
#[component]
fn MergeDialog(on_close: Callback<()>) -> impl IntoView {
    let ctx = use_case();
    let navigate = use_navigate();
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let chosen = RwSignal::new(Vec::<Case>::new());
    let busy = RwSignal::new(false);
    let me = ctx.case();
    let my_id = me.as_ref().map(|c| c.id.clone()).unwrap_or_default();
    let candidates = LocalResource::new(move || {
        let t = text.get();
        async move {
            let f = super::filter::CaseFilter { text: t, ..super::filter::CaseFilter::default_view() };
            api::list_cases(f.to_v0(), f.sort_keys(), 0, 10).await
        }
    });
    let all = move || {
        let mut list: Vec<Case> = ctx.case().into_iter().chain(chosen.get()).collect();
        list.sort_by_key(|c| c.case_id);
        list
    };
    let merge = move |_| {
        let list = all();
        if list.len() < 2 {
            return;
        }
        let numbers: Vec<String> = list.iter().map(|c| format!("#{}", c.case_id)).collect();
        if !confirm(&format!("Merge {} into a new case? They are then closed as duplicates.", numbers.join(", "))) {
            return;
        }
        let ids: Vec<String> = list.into_iter().map(|c| c.id).collect();
        let navigate = navigate.clone();
        busy.set(true);
        spawn_local(async move {
            let r = api::merge_cases(ids).await;
            busy.set(false);
            match r {
                Ok(c) => {
                    on_close.run(());
                    navigate(&format!("/cases/{}", c.case_id), Default::default());
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <Modal title="Merge cases" on_close=on_close>
            <p class="muted small">"This case and the ones you add are merged into a new case (tasks, observables, tags); they are then closed as duplicates."</p>
            <div class="chips merge-chosen">
                {move || all().into_iter().map(|c| {
                    let mine = c.id == my_id;
                    let id = c.id.clone();
                    view! {
                        <span class="chip">"#"{c.case_id}" "{c.title.clone()}
                            {(!mine).then(|| view! { <button class="chip-remove" aria-label=format!("Remove #{}", c.case_id) on:click=move |_| chosen.update(|l| l.retain(|x| x.id != id))>"×"</button> })}
                        </span>
                    }
                }).collect_view()}
            </div>
            <input id="merge-search" type="search" placeholder="Case number (#12) or words of the title" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
            <ErrorNote error=error/>
            {move || candidates.get().map(|r| match r {
                Err(e) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
                Ok(p) => {
                    let my_id = me.as_ref().map(|c| c.id.clone()).unwrap_or_default();
                    let list: Vec<Case> = p.items.into_iter().map(|r| r.case).filter(|c| c.id != my_id).collect();
                    if list.is_empty() {
                        return view! { <p class="muted">"No other open case matches."</p> }.into_any();
                    }
                    view! {
                        <table class="grid merge-candidates">
                            <tbody>{list.into_iter().map(|c| {
                                let (c2, id) = (c.clone(), c.id.clone());
                                view! {
                                    <tr>
                                        <td class="num">"#"{c.case_id}</td>
                                        <td>{c.title.clone()}</td>
                                        <td><SeverityBadge severity=c.severity/></td>
                                        <td>{move || if chosen.get().iter().any(|x| x.id == id) {
                                            view! { <span class="muted small">"Added"</span> }.into_any()
                                        } else {
                                            let c3 = c2.clone();
                                            view! { <button class="small" on:click=move |_| chosen.update(|l| l.push(c3.clone()))>"Add"</button> }.into_any()
                                        }}</td>
                                    </tr>
                                }
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any()
                }
            })}
            <div class="dialog-actions">
                <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button id="merge-chosen" class="primary" disabled=move || busy.get() || chosen.get().is_empty() on:click=merge>
                    {move || if busy.get() { "Merging…".to_string() } else { format!("Merge {} cases", all().len()) }}
                </button>
            </div>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn custom_field_inputs() {
        assert_eq!(field_value(CustomFieldType::Integer, " 42 "), Ok(json!(42)));
        assert!(field_value(CustomFieldType::Integer, "4.5").is_err());
        assert_eq!(field_value(CustomFieldType::Float, "4.5"), Ok(json!(4.5)));
        assert!(field_value(CustomFieldType::Number, "NaN").is_err());
        assert_eq!(field_value(CustomFieldType::String, ""), Ok(Value::Null));
        assert_eq!(field_value(CustomFieldType::Boolean, "true"), Ok(json!(true)));
        assert_eq!(field_value(CustomFieldType::Date, "2000-02-29"), Ok(json!(951_782_400_000i64)));
        assert_eq!(field_text(CustomFieldType::Date, &json!(951_782_400_000i64)), "2000-02-29");
        assert_eq!(field_text(CustomFieldType::String, &json!("x")), "x");
        assert_eq!(field_text(CustomFieldType::Integer, &Value::Null), "");
    }

    #[test]
    fn audit_lines() {
        let mut details = serde_json::Map::new();
        details.insert("title".into(), json!("New title"));
        details.insert("updatedAt".into(), json!(1));
        details.insert("severity".into(), json!(3));
        details.insert("endDate".into(), json!(0));
        let e = AuditEntry {
            id: "a".into(),
            operation: AuditOperation::Update,
            object_type: "case".into(),
            object_id: "c".into(),
            root_id: "c".into(),
            request_id: None,
            start_date: 0,
            details,
            before: None,
            created_at: 0,
            created_by: "bob".into(),
        };
        assert_eq!(audit_summary(&e), "endDate: 1970-01-01 00:00 · severity: 3 · title: New title");
    }
}
