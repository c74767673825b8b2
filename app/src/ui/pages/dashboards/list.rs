//! The dashboards list: mine and those shared with the organisation; new, import.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;

use crate::api::{self, NewDashboard};
use crate::model::{ApiError, Container, Dashboard, DashboardStatus, Definition, Permission};
use crate::ui::auth::use_auth;
use crate::ui::browser;
use crate::ui::format;
use crate::ui::widgets::{EmptyState, ErrorNote, Loading};

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
        let input = NewDashboard {
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
            let text = match browser::read_text(&file).await {
                Ok(t) => t,
                Err(_) => return error.set(Some(ApiError::new(crate::model::ErrorKind::BadRequest, "This file cannot be read"))),
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
