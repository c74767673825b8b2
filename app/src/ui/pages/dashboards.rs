use leptos::prelude::*;

use crate::ui::widgets::EmptyState;

#[component]
pub fn DashboardsPage() -> impl IntoView {
    view! {
        <div class="list-page">
            <div class="page-header"><h1>"Dashboards"</h1></div>
            <EmptyState title="No dashboards" hint="Dashboards chart your cases, alerts, observables and analyzer jobs."/>
        </div>
    }
}
