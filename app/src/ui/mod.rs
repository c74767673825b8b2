//! The web UI: an application shell (top bar, footer, sign-in guard) and its pages.
//! Logic that can be tested without a browser lives in plain functions (see [`format`]).

pub mod action;
pub mod auth;
pub mod browser;
pub mod case_filter;
pub mod charts;
pub mod format;
pub mod pages;
pub mod shell;
pub mod widgets;

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::path;

use auth::AuthState;
use pages::{about::AboutPage, admin::AdminPage, alerts::AlertsPage, case::CasePage, case_tasks::TaskPage, cases::CasesPage, dashboards::{DashboardPage, DashboardsPage}, login::LoginPage, profile::ProfilePage};
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
                    <Route path=path!("cases/:id") view=CasePage/>
                    <Route path=path!("cases/:id/tasks/:task") view=TaskPage/>
                    <Route path=path!("cases/:id/:tab") view=CasePage/>
                    <Route path=path!("alerts") view=AlertsPage/>
                    <Route path=path!("dashboards") view=DashboardsPage/>
                    <Route path=path!("dashboards/:id") view=DashboardPage/>
                    <Route path=path!("admin") view=AdminPage/>
                    <Route path=path!("admin/:tab") view=AdminPage/>
                    <Route path=path!("about") view=AboutPage/>
                    <Route path=path!("profile") view=ProfilePage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
