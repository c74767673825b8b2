//! The case page's report dialog: a format and a template, then the file is fetched from
//! `GET /api/case/{id}/report` (the session's cookie goes with it) and saved; a refusal (a
//! template that fails...) is shown in the dialog.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::model::*;
use crate::ui::action::fetched;
use crate::ui::browser;
use crate::ui::widgets::{ErrorNote, Modal};

#[component]
pub fn ReportDialog(case: Case, on_close: Callback<()>) -> impl IntoView {
    let format = RwSignal::new(ReportFormat::Pdf);
    let template = RwSignal::new(DEFAULT_REPORT_TEMPLATE.to_string());
    let templates = LocalResource::new(api::report_templates);
    let (id, number) = (case.id.clone(), case.case_id);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let download = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let f = format.get_untracked();
        let url = api::report_url(&id, f, &template.get_untracked());
        busy.set(true);
        spawn_local(async move {
            let r = browser::download(&url, &format!("case-{number}-report.{}", f.as_str())).await;
            busy.set(false);
            match r {
                Ok(()) => on_close.run(()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <Modal title="Case report" on_close=on_close>
            <form class="stacked-form" id="report-form" on:submit=download>
                <p class="muted small">"The case, its custom fields and metrics, tasks and logs, observables (IOCs first) with their analysis, related alerts, charts and the timeline of its changes."</p>
                <label>"Format"
                    <select id="report-format" on:change=move |ev| if let Some(f) = ReportFormat::parse(&event_target_value(&ev)) { format.set(f) }>
                        {ReportFormat::ALL.into_iter().map(|f| view! { <option value=f.as_str() selected=move || format.get() == f>{f.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Template"
                    {move || fetched(templates.get(), |list| view! {
                        <select id="report-template" on:change=move |ev| template.set(event_target_value(&ev))>
                            {list.into_iter().map(|t| {
                                let name = t.name.clone();
                                let label = if t.description.is_empty() { t.name.clone() } else { format!("{} — {}", t.name, t.description) };
                                view! { <option value=name.clone() selected=move || template.get() == name>{label}</option> }
                            }).collect_view()}
                        </select>
                    }.into_any())}
                </label>
                <ErrorNote error=error/>
                <div class="dialog-actions">
                    <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="primary" id="report-download" disabled=move || busy.get()>
                        {move || if busy.get() { "Making the report…" } else { "Download" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}
