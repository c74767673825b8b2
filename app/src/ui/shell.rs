//! The application shell: top bar, footer with connector health, the sign-in guard, keyboard
//! shortcuts and the theme.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::{use_location, use_navigate};

use super::activity::{self, ActivityPanel, ActivityToggle};
use super::auth::use_auth;
use super::widgets::{HealthDot, Loading};
use crate::api;
use crate::model::{AppStatus, Permission};
use crate::url::encode_component;

/// Pages inside the shell render only for a signed-in user; others are sent to `/login`.
#[component]
pub fn Shell() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let location = use_location();
    Effect::new(move |_| {
        if auth.user.get() == Some(None) {
            let here = location.pathname.get_untracked() + &location.search.get_untracked();
            let next = if here == "/" || here.is_empty() { String::new() } else { format!("?next={}", encode_component(&here)) };
            navigate(&format!("/login{next}"), Default::default());
        }
    });
    keyboard::install();
    activity::provide_scope();
    let activity_open = RwSignal::new(activity::initially_open());
    view! {
        {move || match auth.user.get() {
            Some(Some(_)) => view! {
                <div class="app">
                    <TopBar activity_open=activity_open/>
                    <div class="app-body">
                        <main class="page">
                            {move || if auth.current().is_some_and(|u| u.must_change_password) {
                                view! { <PasswordGate/> }.into_any()
                            } else {
                                view! { <Outlet/> }.into_any()
                            }}
                        </main>
                        <Show when=move || activity_open.get()><ActivityPanel/></Show>
                    </div>
                    <Footer/>
                </div>
            }.into_any(),
            _ => view! { <Loading/> }.into_any(),
        }}
    }
}

/// A password someone else chose (the first administrator's random one) is replaced before
/// anything else.
#[component]
fn PasswordGate() -> impl IntoView {
    let auth = use_auth();
    let current = RwSignal::new(String::new());
    let new_pw = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let error = RwSignal::new(None::<crate::model::ApiError>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if new_pw.get_untracked() != confirm.get_untracked() {
            error.set(Some(crate::model::ApiError::new(crate::model::ErrorKind::BadRequest, "The two new passwords differ")));
            return;
        }
        spawn_local(async move {
            match api::change_password(current.get_untracked(), new_pw.get_untracked()).await {
                Ok(()) => match api::whoami().await {
                    Ok(me) => auth.signed_in(me),
                    Err(e) => error.set(Some(e)),
                },
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="narrow-page password-gate">
            <form class="card" on:submit=submit>
                <h1>"Choose your password"</h1>
                <p class="muted">"Your password was chosen for you. Choose your own before going on."</p>
                <label for="gate-current">"Current password"</label>
                <input id="gate-current" type="password" autocomplete="current-password" required prop:value=current on:input=move |ev| current.set(event_target_value(&ev))/>
                <label for="gate-new">"New password"</label>
                <input id="gate-new" type="password" autocomplete="new-password" required prop:value=new_pw on:input=move |ev| new_pw.set(event_target_value(&ev))/>
                <label for="gate-confirm">"New password again"</label>
                <input id="gate-confirm" type="password" autocomplete="new-password" required prop:value=confirm on:input=move |ev| confirm.set(event_target_value(&ev))/>
                <super::widgets::ErrorNote error=error/>
                <p><button type="submit" class="primary">"Change password"</button></p>
            </form>
        </div>
    }
}

#[component]
fn TopBar(activity_open: RwSignal<bool>) -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let user = move || auth.current();
    let menu_open = RwSignal::new(false);
    let is_admin = move || user().is_some_and(|u| u.can(Permission::ManageUser) || u.can(Permission::ManageOrganisation) || u.can(Permission::ManageCaseTemplate));
    let logout = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            let _ = api::logout().await;
            auth.signed_out();
            navigate("/login", Default::default());
        });
    };
    let switch = move |ev: leptos::ev::Event| {
        let org = event_target_value(&ev);
        spawn_local(async move {
            if let Ok(me) = api::switch_org(org).await {
                auth.signed_in(me);
                // Everything on screen belongs to the previous organisation: start over.
                let _ = window().location().reload();
            }
        });
    };
    view! {
        <header class="topbar">
            <A href="/cases" attr:class="brand"><img src="/public/logo.svg" alt="" width="22" height="22"/>"Waggle"</A>
            <nav class="mainnav">
                <A href="/cases">"Cases"</A>
                <A href="/alerts">"Alerts"</A>
                <A href="/dashboards">"Dashboards"</A>
                <Show when=is_admin><A href="/admin">"Admin"</A></Show>
            </nav>
            <div class="spacer"></div>
            {move || user().filter(|u| u.memberships.len() > 1).map(|u| {
                let current = u.org_id.clone();
                view! {
                    <select class="org-switch" title="Organisation" aria-label="Organisation" on:change=switch>
                        {u.memberships.into_iter().map(|m| {
                            let selected = m.org_id == current;
                            view! { <option value=m.org_id.clone() selected=selected>{m.org_name.clone()}</option> }
                        }).collect_view()}
                    </select>
                }
            })}
            {move || user().filter(|u| u.memberships.len() <= 1).map(|u| view! { <span class="org-name">{u.org_name}</span> })}
            <ActivityToggle open=activity_open/>
            <button class="icon-button theme-toggle" title="Light / dark theme" aria-label="Toggle theme" on:click=|_| theme::toggle()>"◐"</button>
            <div class="usermenu" class:open=move || menu_open.get()>
                <button class="usermenu-button" aria-haspopup="true" on:click=move |_| menu_open.update(|o| *o = !*o)>
                    {move || user().map(|u| u.name).unwrap_or_default()}" ▾"
                </button>
                <div class="usermenu-list" on:click=move |_| menu_open.set(false)>
                    {move || user().filter(|u| u.by_certificate).map(|_| view! {
                        <span class="usermenu-note" title="Your browser's client certificate signed you in">"🔒 Signed in with certificate"</span>
                    })}
                    <A href="/profile">"Profile"</A>
                    <A href="/profile#api-key">"API key"</A>
                    <A href="/about">"About"</A>
                    <button class="linklike" on:click=logout>"Log out"</button>
                </div>
            </div>
        </header>
    }
}

/// Version and connector health, refreshed every minute.
#[component]
fn Footer() -> impl IntoView {
    let status = RwSignal::new(None::<AppStatus>);
    let load = move || {
        spawn_local(async move {
            if let Ok(s) = api::platform_status().await {
                status.set(Some(s));
            }
        })
    };
    load();
    let handle = set_interval_with_handle(load, std::time::Duration::from_secs(60)).ok();
    on_cleanup(move || {
        if let Some(h) = handle {
            h.clear();
        }
    });
    view! {
        <footer class="footer">
            {move || status.get().map(|s| view! {
                <span>"Waggle "{s.version.clone()}</span>
                {s.connectors.iter().map(|c| {
                    let label = if c.name == "cortex" { "Analysis" } else { "MISP" };
                    view! { <span class="connector"><HealthDot health=c.status enabled=c.enabled label=label/>{label}</span> }
                }).collect_view()}
                <A href="/about">"About"</A>
            })}
        </footer>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <div class="centered">
            <h1>"Page not found"</h1>
            <p><a href="/cases">"Back to cases"</a></p>
        </div>
    }
}


/// Only same-site paths are valid `next` targets after login (no open redirect).
pub fn safe_next(next: Option<String>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && !n.starts_with("/login") => n,
        _ => "/cases".into(),
    }
}

pub mod keyboard {
    //! `/` focuses the page's search box (any element with class `search-box`).
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;

    pub fn install() {
        let handle = window_event_listener(leptos::ev::keydown, |ev| {
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
                .map(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || el.is_content_editable())
                .unwrap_or(false);
            if typing || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            if ev.key() == "/" {
                if let Some(el) = document()
                    .query_selector(".search-box")
                    .ok()
                    .flatten()
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    ev.prevent_default();
                    let _ = el.focus();
                }
            }
        });
        on_cleanup(move || handle.remove());
    }
}

pub mod theme {
    //! Light and dark themes; the choice is remembered in the browser.
    use leptos::prelude::*;

    const KEY: &str = "waggle-theme";

    thread_local! {
        static DARK: ArcRwSignal<bool> = ArcRwSignal::new(false);
    }

    /// Whether the dark theme is on; reactive, so what is drawn in code (charts) follows it.
    pub fn is_dark() -> bool {
        DARK.with(|s| s.get())
    }

    fn apply(theme: &str) {
        if let Some(el) = document().document_element() {
            let _ = el.set_attribute("data-theme", theme);
        }
        DARK.with(|s| s.set(theme == "dark"));
    }

    fn stored() -> Option<String> {
        window().local_storage().ok().flatten().and_then(|s| s.get_item(KEY).ok().flatten())
    }

    /// Apply the remembered theme, or the system's preference.
    pub fn init() {
        let theme = stored().unwrap_or_else(|| {
            let dark = window()
                .match_media("(prefers-color-scheme: dark)")
                .ok()
                .flatten()
                .map(|m| m.matches())
                .unwrap_or(false);
            if dark { "dark".into() } else { "light".into() }
        });
        apply(&theme);
    }

    pub fn toggle() {
        let current = document().document_element().and_then(|e| e.get_attribute("data-theme")).unwrap_or_default();
        let next = if current == "dark" { "light" } else { "dark" };
        apply(next);
        if let Some(s) = window().local_storage().ok().flatten() {
            let _ = s.set_item(KEY, next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_targets() {
        assert_eq!(safe_next(Some("/alerts?status=New".into())), "/alerts?status=New");
        assert_eq!(safe_next(Some("//evil.example".into())), "/cases");
        assert_eq!(safe_next(Some("https://evil.example".into())), "/cases");
        assert_eq!(safe_next(Some("/login".into())), "/cases");
        assert_eq!(safe_next(None), "/cases");
    }
}
