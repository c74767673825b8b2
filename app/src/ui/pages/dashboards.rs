//! Dashboards: the list (mine and shared), and a dashboard's rows of widgets drawn with
//! plotters (SVG), with the period, auto-refresh, an editor (query builder, drag to reorder),
//! drill-down to the cases/alerts lists, and exports (PNG, SVG, CSV, JSON).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use serde_json::{Value, json};
use wasm_bindgen::JsCast;

use crate::api::{self, DashboardInput};
use crate::model::{ApiError, Container, Dashboard, DashboardStatus, Definition, Permission, Series, WIDGET_TYPES, Widget, WidgetOptions, PERIODS};
use crate::ui::action::confirm;
use crate::ui::auth::use_auth;
use crate::ui::charts::{self, Chart, Theme};
use crate::ui::format;
use crate::ui::shell::encode_component;
use crate::ui::widgets::{EmptyState, ErrorNote, Loading};

/// Size charts are drawn at (the SVG scales to its card).
pub const CHART_W: u32 = 560;
pub const CHART_H: u32 = 300;

#[component]
pub fn DashboardsPage() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let reload = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        reload.track();
        async move { api::list_dashboards().await }
    });
    let title = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let can = move || auth.current().is_some_and(|u| u.can(Permission::ManageDashboard));
    let nav = navigate.clone();
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let nav = nav.clone();
        let input = DashboardInput {
            id: None,
            title: title.get_untracked(),
            description: String::new(),
            status: DashboardStatus::Private,
            definition: serde_json::to_string(&Definition { items: vec![Container::default()], ..Default::default() }).unwrap_or_default(),
        };
        spawn_local(async move {
            match api::save_dashboard(input).await {
                Ok(d) => nav(&format!("/dashboards/{}?edit=1", d.id), Default::default()),
                Err(e) => {
                    auth.check(&e);
                    error.set(Some(e));
                }
            }
        });
    };
    let nav = navigate.clone();
    let import = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        let nav = nav.clone();
        spawn_local(async move {
            let text = match wasm_bindgen_futures_text(&file).await {
                Some(t) => t,
                None => return error.set(Some(ApiError::new(crate::model::ErrorKind::BadRequest, "This file cannot be read"))),
            };
            match api::import_dashboard(text).await {
                Ok(d) => nav(&format!("/dashboards/{}", d.id), Default::default()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="list-page">
            <div class="page-header">
                <h1>"Dashboards"</h1>
                <Show when=can>
                    <form class="inline-form" on:submit=create.clone()>
                        <input type="text" placeholder="New dashboard title" required prop:value=title on:input=move |ev| title.set(event_target_value(&ev))/>
                        <button type="submit" class="primary">"Create"</button>
                        <label class="button-like">"Import JSON…"<input type="file" accept=".json,application/json" class="hidden-file" on:change=import.clone()/></label>
                    </form>
                </Show>
            </div>
            <ErrorNote error=error/>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <EmptyState title="No dashboards" hint="Create one, or import a TheHive dashboard file."/> }.into_any(),
                    Ok(list) => {
                        let nav = navigate.clone();
                        view! {
                            <table class="grid dashboards">
                                <thead><tr><th>"Title"</th><th>"Description"</th><th>"Visibility"</th><th>"Owner"</th><th>"Updated"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|d: Dashboard| {
                                        let href = format!("/dashboards/{}", d.id);
                                        let nav = nav.clone();
                                        let go = href.clone();
                                        view! {
                                            <tr class="clickable" on:click=move |_| nav(&go, Default::default())>
                                                <td><a href=href.clone()>{d.title.clone()}</a></td>
                                                <td>{d.description.clone()}</td>
                                                <td><span class=format!("badge status-{}", d.status.as_str().to_lowercase())>{d.status.as_str()}</span></td>
                                                <td>{d.created_by.clone()}</td>
                                                <td>{format::datetime(d.updated_at.unwrap_or(d.created_at))}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                })}
            </Suspense>
        </div>
    }
}

/// Read a file's text in the browser.
async fn wasm_bindgen_futures_text(file: &web_sys::File) -> Option<String> {
    let promise = file.text();
    let v = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    v.as_string()
}

fn now() -> i64 {
    js_sys::Date::now() as i64
}

/// The chart theme of the page's theme (reactive: charts redraw when the theme is toggled).
fn theme() -> Theme {
    if crate::ui::shell::theme::is_dark() { Theme::dark() } else { Theme::light() }
}

/// Download `data` as a file.
fn download(name: &str, mime: &str, data: &str) {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(data));
    let bag = web_sys::BlobPropertyBag::new();
    bag.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &bag) else { return };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    click_link(&url, name);
    let _ = web_sys::Url::revoke_object_url(&url);
}

fn click_link(href: &str, name: &str) {
    if let Some(a) = document().create_element("a").ok().and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok()) {
        a.set_href(href);
        a.set_download(name);
        if let Some(body) = document().body() {
            let _ = body.append_child(&a);
            a.click();
            let _ = body.remove_child(&a);
        }
    }
}

/// Rasterise an SVG in a canvas (2x for crisp images) and download it as PNG.
fn download_png(svg: String, w: u32, h: u32, name: String) {
    use wasm_bindgen::closure::Closure;
    let Ok(img) = web_sys::HtmlImageElement::new() else { return };
    let img2 = img.clone();
    let onload = Closure::once(move || {
        let Some(canvas) = document().create_element("canvas").ok().and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok()) else { return };
        canvas.set_width(w * 2);
        canvas.set_height(h * 2);
        let Some(ctx) = canvas.get_context("2d").ok().flatten().and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok()) else { return };
        let _ = ctx.scale(2.0, 2.0);
        let _ = ctx.draw_image_with_html_image_element(&img2, 0.0, 0.0);
        if let Ok(url) = canvas.to_data_url_with_type("image/png") {
            click_link(&url, &name);
        }
    });
    img.set_onload(Some(onload.as_ref().unchecked_ref()));
    onload.forget();
    img.set_src(&format!("data:image/svg+xml;charset=utf-8,{}", encode_component(&svg)));
}

fn file_name(s: &str) -> String {
    let n: String = s.chars().map(|c| if c.is_alphanumeric() { c } else { '_' }).collect();
    if n.is_empty() { "widget".into() } else { n }
}

/// What the editor works on: the dashboard and its parsed definition.
#[derive(Clone)]
struct Editing {
    dashboard: Dashboard,
    def: Definition,
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
        let input = DashboardInput {
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
            download(&format!("{}.json", file_name(&s.dashboard.title)), "application/json", &serde_json::to_string_pretty(&file).unwrap_or_default());
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
pub fn chart_width(n: usize) -> u32 {
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
            download(&format!("{n2}.svg"), "image/svg+xml", &charts::svg(&c, width, CHART_H, &Theme::light(), None));
        }
    };
    let export_csv = move |_| {
        if let Some(Ok(c)) = chart.get_untracked() {
            download(&format!("{n3}.csv"), "text/csv", &charts::csv(&c, true));
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

/// Field choices of the query builder and the widget editor, per entity.
fn fields_of(entity: &str) -> &'static [&'static str] {
    match entity {
        "case" => &["status", "severity", "tlp", "pap", "owner", "tags", "resolutionStatus", "impactStatus", "flag", "createdBy", "createdAt", "startDate", "endDate"],
        "alert" => &["status", "type", "source", "severity", "tlp", "pap", "tags", "follow", "caseTemplate", "createdBy", "createdAt", "date"],
        "case_artifact" => &["dataType", "tlp", "tags", "ioc", "sighted", "status", "attachment.contentType", "createdBy", "createdAt", "startDate"],
        "case_task" => &["status", "group", "owner", "flag", "createdBy", "createdAt", "startDate", "endDate", "dueDate"],
        "case_artifact_job" => &["analyzerId", "analyzerName", "cortexId", "status", "dataType", "createdBy", "createdAt", "startDate", "endDate"],
        _ => &["createdBy", "createdAt"],
    }
}

const ENTITIES: &[(&str, &str)] = &[("case", "Cases"), ("alert", "Alerts"), ("case_artifact", "Observables"), ("case_task", "Tasks"), ("case_artifact_job", "Analyzer jobs")];

/// The widget editor: type, entity, fields, and a query builder (or a typed v0 query).
#[component]
fn WidgetEditor(
    row: usize,
    index: Option<usize>,
    widget: Widget,
    state: RwSignal<Option<Editing>>,
    dirty: RwSignal<bool>,
    editor: RwSignal<Option<(usize, Option<usize>, Widget)>>,
) -> impl IntoView {
    let w = RwSignal::new(widget.clone());
    let query_text = RwSignal::new(widget.options.query.clone().map(|q| q.to_string()).unwrap_or_else(|| "{}".into()));
    let series_text = RwSignal::new(serde_json::to_string(&widget.options.series.clone().unwrap_or_default()).unwrap_or_else(|_| "[]".into()));
    let cond_field = RwSignal::new(String::new());
    let cond_value = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let set = move |f: &dyn Fn(&mut WidgetOptions)| w.update(|w| f(&mut w.options));
    let entity = move || w.with(|w| w.options.entity.clone().unwrap_or_else(|| "case".into()));
    let add_condition = move |_| {
        let (f, v) = (cond_field.get_untracked(), cond_value.get_untracked());
        if f.is_empty() {
            return;
        }
        let value = match v.as_str() {
            "true" | "false" => Value::Bool(v == "true"),
            _ => v.parse::<i64>().map(Value::from).unwrap_or(Value::String(v.clone())),
        };
        let current: Value = serde_json::from_str(&query_text.get_untracked()).unwrap_or(json!({}));
        let q = charts::and(vec![Some(current), Some(json!({"_field": f, "_value": value}))]);
        query_text.set(q.to_string());
        cond_value.set(String::new());
    };
    let apply = move |_| {
        let q: Value = match serde_json::from_str(&query_text.get_untracked()) {
            Ok(q) => q,
            Err(e) => return error.set(Some(ApiError::new(crate::model::ErrorKind::BadRequest, format!("The query is not valid JSON: {e}")))),
        };
        let series: Vec<Series> = match serde_json::from_str(&series_text.get_untracked()) {
            Ok(s) => s,
            Err(e) => return error.set(Some(ApiError::new(crate::model::ErrorKind::BadRequest, format!("The series are not valid JSON: {e}")))),
        };
        let mut widget = w.get_untracked();
        widget.options.query = Some(q);
        widget.options.series = if series.is_empty() { None } else { Some(series) };
        state.update(|s| {
            if let Some(s) = s {
                while s.def.items.len() <= row {
                    s.def.items.push(Container::default());
                }
                let items = &mut s.def.items[row].items;
                match index {
                    Some(i) if i < items.len() => items[i] = widget.clone(),
                    _ => items.push(widget.clone()),
                }
            }
        });
        dirty.set(true);
        editor.set(None);
    };
    let opt = |v: Option<String>| v.unwrap_or_default();
    view! {
        <div class="card widget-editor" role="dialog" aria-label="Widget editor">
            <h2>{if index.is_some() { "Edit widget" } else { "New widget" }}</h2>
            <div class="editor-grid">
                <label>"Type"<select name="type" on:change=move |ev| { let t = event_target_value(&ev); w.update(|w| w.kind = t) }>
                    {WIDGET_TYPES.iter().map(|t| view! { <option value=*t selected=widget.kind == *t>{*t}</option> }).collect_view()}
                </select></label>
                <label>"Title"<input type="text" name="title" prop:value=opt(widget.options.title.clone()) on:input=move |ev| { let v = event_target_value(&ev); set(&|o| o.title = Some(v.clone())) }/></label>
                <label>"Entity"<select name="entity" on:change=move |ev| { let v = event_target_value(&ev); set(&|o| o.entity = Some(v.clone())) }>
                    {ENTITIES.iter().map(|(k, l)| view! { <option value=*k selected=widget.options.entity.as_deref() == Some(*k)>{*l}</option> }).collect_view()}
                </select></label>
                <label>"Field"<input type="text" name="field" list="field-choices" prop:value=opt(widget.options.field.clone()) on:input=move |ev| { let v = event_target_value(&ev); set(&|o| o.field = Some(v.clone())) }/></label>
                <label>"Date field"<input type="text" name="dateField" list="field-choices" prop:value=opt(widget.options.date_field.clone()) on:input=move |ev| { let v = event_target_value(&ev); set(&|o| o.date_field = Some(v.clone()).filter(|v| !v.is_empty())) }/></label>
                <label>"Interval"<select name="interval" on:change=move |ev| { let v = event_target_value(&ev); set(&|o| o.interval = Some(v.clone())) }>
                    {["1d", "1w", "1M", "1y"].iter().map(|i| view! { <option value=*i selected=widget.options.interval.as_deref().unwrap_or("1w") == *i>{*i}</option> }).collect_view()}
                </select></label>
                <label class="check"><input type="checkbox" name="stacked" prop:checked=widget.options.stacked.unwrap_or(true) on:change=move |ev| { let v = event_target_checked(&ev); set(&|o| o.stacked = Some(v)) }/>"Stacked"</label>
                <label>"Sort"<select name="sort" on:change=move |ev| { let v = event_target_value(&ev); set(&|o| o.sort = Some(v.clone())) }>
                    <option value="-_count">"Most first"</option><option value="+_count">"Fewest first"</option><option value="+_term">"By value"</option>
                </select></label>
                <label>"Limit"<input type="number" name="limit" min="1" max="100" prop:value=widget.options.limit.clone().map(|l| l.to_string()).unwrap_or_else(|| "10".into()) on:input=move |ev| { let v = event_target_value(&ev); set(&|o| o.limit = v.parse::<u64>().ok().map(Value::from)) }/></label>
            </div>
            <datalist id="field-choices">{move || fields_of(&entity()).iter().map(|f| view! { <option value=*f/> }).collect_view()}</datalist>
            <div class="query-builder">
                <span class="muted">"Filter: "</span>
                <select aria-label="Condition field" on:change=move |ev| cond_field.set(event_target_value(&ev))>
                    <option value="">"field…"</option>
                    {move || fields_of(&entity()).iter().map(|f| view! { <option value=*f>{*f}</option> }).collect_view()}
                </select>
                <span>"="</span>
                <input type="text" aria-label="Condition value" placeholder="value" prop:value=cond_value on:input=move |ev| cond_value.set(event_target_value(&ev))/>
                <button on:click=add_condition>"Add condition"</button>
                <button on:click=move |_| query_text.set("{}".into())>"Clear"</button>
            </div>
            <label class="block">"Query (TheHive v0 JSON)"<textarea name="query" rows="2" prop:value=query_text on:input=move |ev| query_text.set(event_target_value(&ev))></textarea></label>
            <label class="block">"Series (line, multi-line, counter, text): [{\"agg\":\"count\",\"label\":\"…\",\"query\":{…}}]"<textarea name="series" rows="2" prop:value=series_text on:input=move |ev| series_text.set(event_target_value(&ev))></textarea></label>
            <label class="block">"Text template (text widget: {{agg_1}})"<textarea name="template" rows="2" prop:value=opt(widget.options.template.clone()) on:input=move |ev| { let v = event_target_value(&ev); set(&|o| o.template = Some(v.clone())) }></textarea></label>
            <ErrorNote error=error/>
            <div class="inline-form">
                <button class="primary apply" on:click=apply>"Apply"</button>
                <button on:click=move |_| editor.set(None)>"Cancel (Esc)"</button>
            </div>
        </div>
    }
}
