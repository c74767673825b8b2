//! The pages that are downloaded only when first opened: the dashboards (with the charts) and
//! the administration pages. Most analysts never open the administration, and the dashboards'
//! charts are large; leaving them out of the first download keeps the sign-in and triage pages
//! fast (docs/benchmarks.md, "Bundle").
//!
//! Each page's view is made by an `async fn` marked `#[lazy]` in the split build (the
//! `waggle_split` cfg, set by `scripts/build-ui.sh`): the splitter (`wasm-split-cli`) moves
//! the code only these functions reach into its own WASM module, fetched at the first call.
//! Without the cfg (tests, `cargo check`) they are plain async functions in the one module.

use std::future::Future;

use leptos::prelude::*;

use super::pages::admin::AdminPage;
use super::widgets::Loading;
use super::pages::dashboards::{DashboardPage, DashboardsPage};

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
