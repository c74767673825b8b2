//! Report templates: the organisation's list (the shipped `default` first), upload (a file or
//! pasted text, a TLP marking), delete. The model templates see is in `docs/reports.md`.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::model::*;
use crate::ui::action::{Settle, confirm, fetched};
use crate::ui::browser;
use crate::ui::widgets::{ErrorNote, TlpBadge};

const FILE_INPUT: &str = "report-template-file";

/// The TLP choice of an upload: `""` (the case's own) or `0`..`3`.
pub fn tlp_choice(value: &str) -> Option<u8> {
    value.parse().ok().filter(|n| *n <= 3)
}

#[component]
pub fn ReportTemplatesAdmin() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let error = RwSignal::new(None::<ApiError>);
    let outcome = Settle::new(error, reload);
    let notice = RwSignal::new(None::<String>);
    let templates = LocalResource::new(move || {
        reload.track();
        async move { api::report_templates().await }
    });
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let tlp = RwSignal::new(String::new());
    let content = RwSignal::new(String::new());
    let upload = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let file = browser::chosen_file(FILE_INPUT);
        notice.set(None);
        spawn_local(async move {
            let r = async {
                let text = match &file {
                    Some(f) => browser::read_text(f).await?,
                    None => content.get_untracked(),
                };
                let input = NewReportTemplate {
                    name: name.get_untracked(),
                    description: Some(description.get_untracked()).filter(|d| !d.trim().is_empty()),
                    tlp: tlp_choice(&tlp.get_untracked()),
                    content: text,
                };
                api::upload_report_template(input).await
            }
            .await;
            if let Some(t) = outcome.settle(r) {
                browser::clear_file(FILE_INPUT);
                notice.set(Some(format!("Uploaded “{}”", t.name)));
                name.set(String::new());
                description.set(String::new());
                content.set(String::new());
            }
        });
    };
    let delete = move |t: ReportTemplate| {
        if confirm(&format!("Delete the report template “{}”?", t.name)) {
            spawn_local(async move { outcome.settle(api::delete_report_template(t.id).await); });
        }
    };
    view! {
        <section class="card">
            <h2>"Report templates"</h2>
            <p class="muted small">"A template is minijinja (Jinja2 syntax) whose output is markdown: the same output makes the PDF, HTML and Markdown reports of a case. The model it reads (case, tasks and logs, observables, alerts, timeline, charts) is described in docs/reports.md; start from the default template."</p>
            <form class="stacked-form wide" id="report-template-form" on:submit=upload>
                <label>"Name"<input type="text" id="report-template-name" required maxlength="64" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/></label>
                <label>"Description"<input type="text" prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev))/></label>
                <label>"Marking in the header and footer"
                    <select id="report-template-tlp" on:change=move |ev| tlp.set(event_target_value(&ev))>
                        <option value="" selected=move || tlp.get().is_empty()>"The case's TLP"</option>
                        {[(0u8, "TLP:CLEAR"), (1, "TLP:GREEN"), (2, "TLP:AMBER"), (3, "TLP:RED")].into_iter().map(|(n, l)| view! {
                            <option value=n.to_string() selected=move || tlp.get() == n.to_string()>{l}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label class="file-label">"Template file "<input id=FILE_INPUT type="file" accept=".j2,.jinja,.md,.txt,text/*"/></label>
                <label>"…or the template's text"
                    <textarea id="report-template-content" rows="6" placeholder="# {{ case.title | md }}" prop:value=move || content.get() on:input=move |ev| content.set(event_target_value(&ev))></textarea>
                </label>
                <div class="dialog-actions"><button type="submit" class="primary">"Upload template"</button></div>
            </form>
            {move || notice.get().map(|n| view! { <div class="ok-note block" role="status">{n}</div> })}
            <ErrorNote error=error/>
            {move || fetched(templates.get(), |list| view! {
                <table class="grid report-templates">
                    <thead><tr><th>"Name"</th><th>"Description"</th><th>"Marking"</th><th>"Uploaded by"</th><th></th></tr></thead>
                    <tbody>{list.into_iter().map(|t| {
                        let t2 = t.clone();
                        let builtin = t.builtin;
                        view! {
                            <tr>
                                <td><strong>{t.name.clone()}</strong></td>
                                <td>{t.description.clone()}</td>
                                <td>{match t.tlp { Some(n) => view! { <TlpBadge level=n/> }.into_any(), None => view! { <span class="muted">"the case's TLP"</span> }.into_any() }}</td>
                                <td>{if builtin { "shipped with Waggle".to_string() } else { t.created_by.clone() }}</td>
                                <td class="actions">
                                    {(!builtin).then(|| view! { <button class="small danger" on:click=move |_| delete(t2.clone())>"Delete"</button> })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            }.into_any())}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlp_choices() {
        assert_eq!(tlp_choice(""), None);
        assert_eq!(tlp_choice("3"), Some(3));
        assert_eq!(tlp_choice("9"), None);
    }
}
