//! A dashboard: its rows of widgets (drag to reorder), the period and auto-refresh, each
//! widget's chart with its drill-down and downloads.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use serde_json::{Value, json};
use wasm_bindgen::JsCast;

use super::editor::WidgetEditor;
use super::export::{download_png, file_name};
use super::{CHART_H, CHART_W};
use crate::api::{self, NewDashboard};
use crate::chart::{self as charts, Chart, Theme};
use crate::model::{ApiError, Container, Dashboard, DashboardStatus, Definition, PERIODS, Permission, Widget, WidgetOptions};
use crate::ui::action::confirm;
use crate::ui::auth::use_auth;
use crate::ui::browser;
use crate::ui::widgets::{ErrorNote, Loading};

fn now() -> i64 {
    js_sys::Date::now() as i64
}

/// The chart theme of the page's theme (reactive: charts redraw when the theme is toggled).
fn theme() -> Theme {
    if crate::ui::shell::theme::is_dark() { Theme::dark() } else { Theme::light() }
}

/// What the editor works on: the dashboard and its parsed definition.
#[derive(Clone)]
pub(super) struct Editing {
    pub(super) dashboard: Dashboard,
    pub(super) def: Definition,
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let auth = use_auth();
    let params = use_params_map();
    let query = use_query_map();
    let navigate = use_navigate();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let state = RwSignal::new(None::<Editing>);
    let load_error = RwSignal::new(None::<ApiError>);
    let error = RwSignal::new(None::<ApiError>);
    let edit = RwSignal::new(false);
    let dirty = RwSignal::new(false);
    let refresh = RwSignal::new(0u32);
    let every = RwSignal::new(0u32);
    let editor = RwSignal::new(None::<(usize, Option<usize>, Widget)>);
    Effect::new(move |_| {
        let id = id();
        let period = query.with_untracked(|q| q.get("period"));
        if query.with_untracked(|q| q.get("edit").is_some()) {
            edit.set(true);
        }
        spawn_local(async move {
            match api::get_dashboard(id).await {
                Ok(d) => {
                    let mut def = d.parsed();
                    if let Some(p) = period.filter(|p| PERIODS.iter().any(|(k, _)| k == p)) {
                        def.period = p;
                    }
                    state.set(Some(Editing { dashboard: d, def }));
                    load_error.set(None);
                }
                Err(e) => {
                    auth.check(&e);
                    load_error.set(Some(e));
                }
            }
        });
    });
    // Auto-refresh.
    Effect::new(move |prev: Option<Option<IntervalHandle>>| {
        if let Some(Some(h)) = prev {
            h.clear();
        }
        let secs = every.get();
        (secs > 0).then(|| set_interval_with_handle(move || refresh.update(|n| *n += 1), std::time::Duration::from_secs(secs as u64)).ok()).flatten()
    });
    let me = move || auth.current();
    let mine = move || state.with(|s| s.as_ref().map(|s| s.dashboard.created_by.clone())) == me().map(|u| u.login);
    let may_edit = move || {
        let shared = state.with(|s| s.as_ref().is_some_and(|s| s.dashboard.status == DashboardStatus::Shared));
        me().is_some_and(|u| u.can(Permission::ManageDashboard) && (mine() || (shared && u.can(Permission::ManageUser))))
    };
    let save = move || {
        let Some(s) = state.get_untracked() else { return };
        let input = NewDashboard {
            id: Some(s.dashboard.id.clone()),
            title: s.dashboard.title.clone(),
            description: s.dashboard.description.clone(),
            status: s.dashboard.status,
            definition: serde_json::to_string(&s.def).unwrap_or_default(),
        };
        spawn_local(async move {
            match api::save_dashboard(input).await {
                Ok(d) => {
                    state.update(|s| if let Some(s) = s { s.dashboard = d });
                    dirty.set(false);
                    error.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let set_period = move |p: String| {
        state.update(|s| if let Some(s) = s { s.def.period = p.clone() });
        dirty.set(true);
    };
    let nav = navigate.clone();
    let copy = move |_| {
        let nav = nav.clone();
        spawn_local(async move {
            match api::copy_dashboard(id()).await {
                Ok(d) => nav(&format!("/dashboards/{}", d.id), Default::default()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let nav = navigate.clone();
    let remove = move |_| {
        if !confirm("Delete this dashboard? Everyone it is shared with loses it.") {
            return;
        }
        let nav = nav.clone();
        spawn_local(async move {
            match api::delete_dashboard(id()).await {
                Ok(()) => nav("/dashboards", Default::default()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let toggle_share = move |_| {
        state.update(|s| {
            if let Some(s) = s {
                s.dashboard.status = if s.dashboard.status == DashboardStatus::Shared { DashboardStatus::Private } else { DashboardStatus::Shared };
            }
        });
        save();
    };
    let export = move |_| {
        if let Some(s) = state.get_untracked() {
            // What is saved, as saved (an imported file exports unchanged); unsaved edits as edited.
            let saved = (!dirty.get_untracked()).then(|| serde_json::from_str::<Value>(&s.dashboard.definition).ok()).flatten();
            let definition = saved.unwrap_or_else(|| serde_json::to_value(&s.def).unwrap_or(Value::Null));
            let file = json!({"title": s.dashboard.title, "description": s.dashboard.description, "status": s.dashboard.status.as_str(),
                              "definition": definition});
            browser::download_text(&format!("{}.json", file_name(&s.dashboard.title)), "application/json", &serde_json::to_string_pretty(&file).unwrap_or_default());
        }
    };
    let esc = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            editor.set(None);
        }
    });
    on_cleanup(move || esc.remove());
    view! {
        <div class="wide-page dashboard-page">
            <ErrorNote error=load_error/>
            {move || {
                let (copy, remove) = (copy.clone(), remove.clone());
                state.get().map(|s| view! {
                <div class="page-header dash-header">
                    <h1>{s.dashboard.title.clone()}</h1>
                    <span class=format!("badge status-{}", s.dashboard.status.as_str().to_lowercase())>{s.dashboard.status.as_str()}</span>
                    <span class="muted">"by "{s.dashboard.created_by.clone()}</span>
                    <div class="spacer"></div>
                    <label class="muted">"Period "
                        <select class="period" aria-label="Period" on:change=move |ev| set_period(event_target_value(&ev))>
                            {PERIODS.iter().map(|(k, l)| view! { <option value=*k selected=s.def.period == *k>{*l}</option> }).collect_view()}
                        </select>
                    </label>
                    <Show when=move || state.with(|s| s.as_ref().is_some_and(|s| s.def.period == "custom"))>
                        <CustomRange state=state dirty=dirty/>
                    </Show>
                    <label class="muted">"Refresh "
                        <select aria-label="Auto-refresh" on:change=move |ev| every.set(event_target_value(&ev).parse().unwrap_or(0))>
                            <option value="0">"off"</option><option value="60">"1 min"</option><option value="300">"5 min"</option><option value="900">"15 min"</option>
                        </select>
                    </label>
                    <button on:click=move |_| refresh.update(|n| *n += 1) title="Refresh now">"↻"</button>
                    <button on:click=export>"Export JSON"</button>
                    <button on:click=copy>"Copy"</button>
                    <Show when=may_edit>
                        <button class="share" on:click=toggle_share>{move || if state.with(|s| s.as_ref().is_some_and(|s| s.dashboard.status == DashboardStatus::Shared)) { "Make private" } else { "Share" }}</button>
                        <button class:primary=move || edit.get() on:click=move |_| edit.update(|e| *e = !*e)>{move || if edit.get() { "Done editing" } else { "Edit" }}</button>
                        <button class="danger" on:click=remove.clone()>"Delete"</button>
                    </Show>
                    <Show when=move || dirty.get() && may_edit()>
                        <button class="primary save" on:click=move |_| save()>"Save"</button>
                    </Show>
                </div>
            })}}
            <ErrorNote error=error/>
            {move || editor.get().map(|(row, idx, w)| view! { <WidgetEditor row=row index=idx widget=w state=state dirty=dirty editor=editor/> })}
            {move || state.get().map(|s| {
                let rows = s.def.items.clone();
                view! {
                    <div class="dash-rows" class:editing=move || edit.get()>
                        {rows.into_iter().enumerate().map(|(ri, row)| view! {
                            <DashRow index=ri row=row state=state edit=edit dirty=dirty refresh=refresh editor=editor/>
                        }).collect_view()}
                        <Show when=move || edit.get()>
                            <button class="add-row" on:click=move |_| { state.update(|s| if let Some(s) = s { s.def.items.push(Container::default()) }); dirty.set(true); }>"+ Add a row"</button>
                        </Show>
                    </div>
                }
            })}
        </div>
    }
}

#[component]
fn CustomRange(state: RwSignal<Option<Editing>>, dirty: RwSignal<bool>) -> impl IntoView {
    let get = move |from: bool| {
        state.with(|s| {
            s.as_ref()
                .and_then(|s| if from { s.def.custom_period.from_date.clone() } else { s.def.custom_period.to_date.clone() })
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        })
    };
    let set = move |from: bool, v: String| {
        state.update(|s| {
            if let Some(s) = s {
                let v = if v.is_empty() { None } else { Some(Value::String(v)) };
                if from { s.def.custom_period.from_date = v } else { s.def.custom_period.to_date = v }
            }
        });
        dirty.set(true);
    };
    view! {
        <input type="date" aria-label="From" prop:value=move || get(true) on:change=move |ev| set(true, event_target_value(&ev))/>
        <input type="date" aria-label="To" prop:value=move || get(false) on:change=move |ev| set(false, event_target_value(&ev))/>
    }
}

/// Drag and drop: what is being dragged ("row:N" or "widget:R:I").
fn drag_data(ev: &leptos::ev::DragEvent) -> Option<String> {
    ev.data_transfer().and_then(|d| d.get_data("text/plain").ok())
}

#[component]
fn DashRow(
    index: usize,
    row: Container,
    state: RwSignal<Option<Editing>>,
    edit: RwSignal<bool>,
    dirty: RwSignal<bool>,
    refresh: RwSignal<u32>,
    editor: RwSignal<Option<(usize, Option<usize>, Widget)>>,
) -> impl IntoView {
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        let Some(data) = drag_data(&ev) else { return };
        let parts: Vec<usize> = data.split(':').skip(1).filter_map(|p| p.parse().ok()).collect();
        state.update(|s| {
            let Some(s) = s else { return };
            let items = &mut s.def.items;
            if data.starts_with("row:") {
                if let Some(&from) = parts.first() {
                    if from < items.len() && index < items.len() && from != index {
                        let r = items.remove(from);
                        items.insert(index, r);
                    }
                }
            } else if let [r, i] = parts[..] {
                if r < items.len() && i < items[r].items.len() && index < items.len() {
                    let w = items[r].items.remove(i);
                    items[index].items.push(w);
                }
            }
        });
        dirty.set(true);
    };
    let widgets = row.items.clone();
    let width = chart_width(widgets.len());
    view! {
        <div class="dash-row" draggable=move || if edit.get() { "true" } else { "false" }
             on:dragstart=move |ev: leptos::ev::DragEvent| {
                 if let Some(d) = ev.data_transfer() { if d.get_data("text/plain").unwrap_or_default().is_empty() { let _ = d.set_data("text/plain", &format!("row:{index}")); } }
             }
             on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
             on:drop=on_drop>
            <Show when=move || edit.get()>
                <div class="row-tools">
                    <span class="drag-handle" title="Drag to move this row">"⠿ row "{index + 1}</span>
                    <button on:click=move |_| editor.set(Some((index, None, Widget { kind: "donut".into(), id: new_widget_id(), options: WidgetOptions { entity: Some("case".into()), field: Some("status".into()), query: Some(json!({})), ..Default::default() }, extra: Default::default() })))>"+ Widget"</button>
                    <button class="danger" on:click=move |_| {
                        if confirm("Remove this row and its widgets?") {
                            state.update(|s| if let Some(s) = s { if index < s.def.items.len() { s.def.items.remove(index); } });
                            dirty.set(true);
                        }
                    }>"Remove row"</button>
                </div>
            </Show>
            <div class="dash-widgets">
                {widgets.into_iter().enumerate().map(|(wi, w)| view! { <WidgetCard row=index index=wi widget=w width=width state=state edit=edit dirty=dirty refresh=refresh editor=editor/> }).collect_view()}
            </div>
        </div>
    }
}

/// The drawing width of a chart in a row of `n` widgets: the text keeps about its size on
/// screen whatever the number of columns (the SVG scales to its card).
fn chart_width(n: usize) -> u32 {
    match n {
        0 | 1 => 1000,
        2 => CHART_W,
        _ => 420,
    }
}

fn new_widget_id() -> String {
    format!("w{:x}{:x}", now(), (js_sys::Math::random() * 1e9) as u64)
}

#[component]
fn WidgetCard(
    row: usize,
    index: usize,
    widget: Widget,
    /// Drawing width (see [`chart_width`]); the height is always `CHART_H`.
    width: u32,
    state: RwSignal<Option<Editing>>,
    edit: RwSignal<bool>,
    dirty: RwSignal<bool>,
    refresh: RwSignal<u32>,
    editor: RwSignal<Option<(usize, Option<usize>, Widget)>>,
) -> impl IntoView {
    let navigate = use_navigate();
    let auth = use_auth();
    let chart = RwSignal::new(None::<Result<Chart, ApiError>>);
    let w = widget.clone();
    let period = Memo::new(move |_| state.with(|s| s.as_ref().map(|s| (s.def.period.clone(), s.def.custom_period.clone()))));
    Effect::new(move |_| {
        refresh.track();
        period.track();
        let Some(def) = state.with_untracked(|s| s.as_ref().map(|s| s.def.clone())) else { return };
        let w = w.clone();
        spawn_local(async move {
            let mut answers = Vec::new();
            for (model, body) in charts::requests(&w, &def, now()) {
                match api::widget_stats(model, body).await {
                    Ok(v) => answers.push(v),
                    Err(e) => {
                        auth.check(&e);
                        chart.set(Some(Err(e)));
                        return;
                    }
                }
            }
            chart.set(Some(Ok(charts::build(&w, &answers))));
        });
    });
    let title = widget.options.title.clone().unwrap_or_else(|| widget.kind.clone());
    let svg = move || match chart.get() {
        Some(Ok(c)) => charts::svg(&c, width, CHART_H, &theme(), None),
        _ => String::new(),
    };
    let w2 = widget.clone();
    let click = move |ev: leptos::ev::MouseEvent| {
        let Some(Ok(c)) = chart.get_untracked() else { return };
        let Some(el) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        let rect = el.get_bounding_client_rect();
        if rect.width() <= 0.0 {
            return;
        }
        let scale = width as f64 / rect.width();
        let x = ((ev.client_x() as f64 - rect.left()) * scale) as i32;
        let y = ((ev.client_y() as f64 - rect.top()) * scale) as i32;
        if let Some(h) = charts::hit(&c, width as i32, CHART_H as i32, x, y) {
            let Some(def) = state.with_untracked(|s| s.as_ref().map(|s| s.def.clone())) else { return };
            if let Some((url, _)) = charts::drill_down(&w2, &def, now(), &h) {
                navigate(&url, Default::default());
            }
        }
    };
    let name = file_name(&title);
    let (n1, n2, n3) = (name.clone(), name.clone(), name);
    let export_png = move |_| {
        if let Some(Ok(c)) = chart.get_untracked() {
            download_png(charts::svg(&c, width, CHART_H, &Theme::light(), None), width, CHART_H, format!("{n1}.png"));
        }
    };
    let export_svg = move |_| {
        if let Some(Ok(c)) = chart.get_untracked() {
            browser::download_text(&format!("{n2}.svg"), "image/svg+xml", &charts::svg(&c, width, CHART_H, &Theme::light(), None));
        }
    };
    let export_csv = move |_| {
        if let Some(Ok(c)) = chart.get_untracked() {
            browser::download_text(&format!("{n3}.csv"), "text/csv", &charts::csv(&c, true));
        }
    };
    let is_text = widget.kind == "text";
    let wid = widget.clone();
    view! {
        <div class="card widget" data-widget=widget.id.clone() data-type=widget.kind.clone()
             draggable=move || if edit.get() { "true" } else { "false" }
             on:dragstart=move |ev: leptos::ev::DragEvent| { if let Some(d) = ev.data_transfer() { let _ = d.set_data("text/plain", &format!("widget:{row}:{index}")); } }>
            <div class="widget-head">
                <span class="widget-title">{title.clone()}</span>
                <span class="widget-tools">
                    <button class="tool" title="Save as PNG" on:click=export_png>"PNG"</button>
                    <button class="tool" title="Save as SVG" on:click=export_svg>"SVG"</button>
                    <button class="tool" title="Save the data as CSV" on:click=export_csv>"CSV"</button>
                    <Show when=move || edit.get()>
                        {
                            let wid = wid.clone();
                            view! {
                                <button class="tool" title="Edit" on:click=move |_| editor.set(Some((row, Some(index), wid.clone())))>"✎"</button>
                                <button class="tool danger" title="Remove" on:click=move |_| {
                                    if confirm("Remove this widget?") {
                                        state.update(|s| if let Some(s) = s { if let Some(r) = s.def.items.get_mut(row) { if index < r.items.len() { r.items.remove(index); } } });
                                        dirty.set(true);
                                    }
                                }>"✕"</button>
                            }
                        }
                    </Show>
                </span>
            </div>
            {move || match chart.get() {
                None => view! { <Loading/> }.into_any(),
                Some(Err(e)) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
                Some(Ok(Chart::Text { text })) if is_text => view! { <div class="widget-text">{text}</div> }.into_any(),
                Some(Ok(_)) => view! { <div class="chart" inner_html=svg on:click=click.clone()></div> }.into_any(),
            }}
        </div>
    }
}
