//! The web UI (Leptos components only; the logic they share with the server lives outside
//! `ui`: [`crate::chart`], [`crate::date`], [`crate::url`], [`crate::csv`]).
//!
//! - [`App`]: the routes. [`shell`]: top bar, footer, sign-in guard, keyboard, theme.
//! - [`pages`]: one folder per area (cases, alerts, dashboards, admin) and the single pages.
//! - [`widgets`]: badges, tags, modal, markdown editor... shared by pages.
//! - [`analysis`]: mini-reports, the "Analyze" dialog and the job report page.
//! - [`action`]: what every action does with its answer; [`auth`]: the session;
//!   [`browser`]: uploads, downloads and other browser-only helpers.
//! - [`format`](mod@format): presentation rules (labels, colours, dates) as plain, unit-tested functions.
//!
//! Logic that can be tested without a browser lives in plain functions next to the components
//! that use it (e.g. `pages::cases::filter`; the cases list's keys, selection and notices).

pub mod action;
pub mod activity;
pub mod analysis;
pub mod auth;
pub mod browser;
pub mod format;
pub mod pages;
pub mod shell;
mod split;
pub mod widgets;

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::path;

use auth::AuthState;
use pages::about::AboutPage;
use pages::alerts::AlertsPage;
use pages::cases::CasesPage;
use pages::login::LoginPage;
use pages::profile::ProfilePage;
use shell::{NotFound, Shell};

/// The whole application.
#[component]
pub fn App() -> impl IntoView {
    let auth = AuthState::new();
    provide_context(auth);
    auth.refresh();
    shell::theme::init();

    view! {
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/login") view=LoginPage/>
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("") view=|| view! { <Redirect path="/cases"/> }/>
                    <Route path=path!("cases") view=CasesPage/>
                    <Route path=path!("cases/:id") view=|| split::page(split::case)/>
                    <Route path=path!("cases/:id/tasks/:task") view=|| split::page(split::task)/>
                    <Route path=path!("cases/:id/:tab") view=|| split::page(split::case)/>
                    <Route path=path!("alerts") view=AlertsPage/>
                    <Route path=path!("dashboards") view=|| split::page(split::dashboards)/>
                    <Route path=path!("dashboards/:id") view=|| split::page(split::dashboard)/>
                    <Route path=path!("admin") view=|| split::page(split::admin)/>
                    <Route path=path!("admin/:tab") view=|| split::page(split::admin)/>
                    <Route path=path!("jobs/:id") view=|| split::page(split::job)/>
                    <Route path=path!("about") view=AboutPage/>
                    <Route path=path!("profile") view=ProfilePage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
