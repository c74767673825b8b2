use leptos::prelude::*;

use crate::ui::widgets::EmptyState;

/// The cases list. (Case management fills it; the shell and the empty state are here.)
#[component]
pub fn CasesPage() -> impl IntoView {
    view! {
        <div class="list-page">
            <div class="page-header">
                <h1>"Cases"</h1>
                <input class="search-box" type="search" placeholder="Search cases  ( / )" aria-label="Search cases"/>
            </div>
            <table class="grid">
                <thead>
                    <tr>
                        <th class="num">"#"</th><th>"Title"</th><th>"Severity"</th><th>"TLP"</th><th>"PAP"</th>
                        <th>"Status"</th><th>"Assignee"</th><th>"Created"</th>
                    </tr>
                </thead>
                <tbody></tbody>
            </table>
            <EmptyState title="No cases yet" hint="Cases you create, or import from alerts, appear here."/>
        </div>
    }
}
