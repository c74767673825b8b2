use leptos::prelude::*;

use crate::ui::widgets::EmptyState;

#[component]
pub fn AlertsPage() -> impl IntoView {
    view! {
        <div class="list-page">
            <div class="page-header">
                <h1>"Alerts"</h1>
                <input class="search-box" type="search" placeholder="Search alerts  ( / )" aria-label="Search alerts"/>
            </div>
            <EmptyState title="No alerts" hint="Alerts pushed by your SIEM, MISP and other feeders through the API appear here."/>
        </div>
    }
}
