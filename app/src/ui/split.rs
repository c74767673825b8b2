//! The pages that are downloaded only when first opened: the dashboards (with the charts), the
//! administration pages, a case and its tasks (with their dialogs: report, MISP export, merge,
//! analysis), an analysis job. Most analysts never open the administration, and the dashboards'
//! charts are large; the sign-in page, the cases and the alerts lists come first, and a case's
//! module (fetched once, when the first case opens) is not needed to triage (docs/benchmarks.md,
//! "Bundle").
//!
//! Each page's view is made by an `async fn` marked `#[lazy]` in WASM builds (the
//! `waggle_split` cfg, `.cargo/config.toml`): the splitter (`wasm-split-cli`, run by
//! `scripts/build-wasm.sh`) moves the code only these functions reach into a WASM module of its
//! own, fetched at the first call. Without the cfg (the server's build, its tests) they are
//! plain async functions.

use std::future::Future;

use leptos::prelude::*;

use super::analysis::JobPage;
use super::pages::admin::AdminPage;
use super::pages::cases::{CasePage, TaskPage};
use super::pages::dashboards::{DashboardPage, DashboardsPage};
use super::widgets::Loading;

/// A route's view made by a lazily loaded function: the loading spinner until its module has
/// arrived (the first time only; then it is immediate).
pub fn page<F: Future<Output = AnyView> + Send + 'static>(load: fn() -> F) -> impl IntoView {
    view! { <Suspense fallback=|| view! { <Loading/> }>{Suspend::new(load())}</Suspense> }
}

#[cfg_attr(waggle_split, lazy)]
pub async fn admin() -> AnyView {
    view! { <AdminPage/> }.into_any()
}

#[cfg_attr(waggle_split, lazy)]
pub async fn dashboards() -> AnyView {
    view! { <DashboardsPage/> }.into_any()
}

#[cfg_attr(waggle_split, lazy)]
pub async fn dashboard() -> AnyView {
    view! { <DashboardPage/> }.into_any()
}

#[cfg_attr(waggle_split, lazy)]
pub async fn case() -> AnyView {
    view! { <CasePage/> }.into_any()
}

#[cfg_attr(waggle_split, lazy)]
pub async fn task() -> AnyView {
    view! { <TaskPage/> }.into_any()
}

#[cfg_attr(waggle_split, lazy)]
pub async fn job() -> AnyView {
    view! { <JobPage/> }.into_any()
}
