//! Alert administration: the organisation's alert sources and how a feeder's duplicate of one
//! is handled (refused with a ConflictError, or merged into the existing alert: upsert).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::model::*;
use crate::ui::action::{Settle, fetched, refresh};
use crate::ui::auth::use_auth;
use crate::ui::format;
use crate::ui::pages::alerts::filter::AlertFilter;
use crate::ui::widgets::{EmptyState, ErrorNote};

/// The alerts list filtered to one source (every status).
pub fn source_link(source: &str) -> String {
    let f = AlertFilter { status: None, source: source.to_string(), ..AlertFilter::from_query_string("") };
    format!("/alerts?{}", f.to_query_string())
}

#[component]
pub fn AlertSourcesAdmin() -> impl IntoView {
    let auth = use_auth();
    let can_change = move || auth.current().is_some_and(|u| u.can(Permission::ManageAlert));
    let reload = RwSignal::new(0u32);
    let error = RwSignal::new(None::<ApiError>);
    let outcome = Settle::new(error, reload);
    let notice = RwSignal::new(None::<String>);
    let sources = LocalResource::new(move || {
        reload.track();
        async move { api::alert_sources().await }
    });
    let set = move |source: String, upsert: bool| {
        spawn_local(async move {
            if outcome.settle(api::set_alert_source(source.clone(), upsert).await).is_some() {
                notice.set(Some(if upsert {
                    format!("Alerts sent again by “{source}” now update the existing alert")
                } else {
                    format!("Alerts sent again by “{source}” are now refused as duplicates")
                }));
            } else {
                // The toggle the user flipped shows the setting as it is again.
                refresh(reload);
            }
        });
    };
    let new_source = RwSignal::new(String::new());
    let new_upsert = RwSignal::new(true);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let s = new_source.get_untracked().trim().to_string();
        if s.is_empty() {
            return;
        }
        new_source.set(String::new());
        set(s, new_upsert.get_untracked());
    };
    view! {
        <section class="card">
            <h2>"Alert sources"</h2>
            <p class="muted">
                "A feeder that sends an alert again (same type, source and reference) gets a ConflictError with the existing alert, as TheHive does. "
                "With “update duplicates” on, the existing alert is updated instead: new observables are added, its occurrences counted. "
                "A request's "<code>"?upsert=true|false"</code>" overrides this setting."
            </p>
            <Show when=can_change>
                <form class="inline-form" on:submit=add>
                    <input id="alert-source-name" type="text" placeholder="Source (as feeders send it, e.g. misp)" required
                        prop:value=move || new_source.get() on:input=move |ev| new_source.set(event_target_value(&ev))/>
                    <label class="inline"><input type="checkbox" prop:checked=move || new_upsert.get() on:change=move |ev| new_upsert.set(event_target_checked(&ev))/>" Update duplicates (upsert)"</label>
                    <button type="submit" class="primary">"Save source"</button>
                </form>
            </Show>
            <ErrorNote error=error/>
            {move || notice.get().map(|n| view! { <div class="ok-note block" role="status">{n}</div> })}
            {move || fetched(sources.get(), |list| if list.is_empty() {
                view! { <EmptyState title="No alert sources yet" hint="Sources appear here with the first alert a feeder sends; you can also name one in advance."/> }.into_any()
            } else {
                view! {
                    <table class="grid alert-sources">
                        <thead><tr><th>"Source"</th><th class="num">"Alerts"</th><th>"Duplicates"</th><th>"Changed"</th></tr></thead>
                        <tbody>{list.into_iter().map(|s| {
                            let name = s.source.clone();
                            let label = format!("Update duplicates from {}", s.source);
                            view! {
                                <tr data-source=s.source.clone()>
                                    <td><a href=source_link(&s.source)>{s.source.clone()}</a></td>
                                    <td class="num">{s.alerts}</td>
                                    <td>
                                        <label class="inline">
                                            <input type="checkbox" class="upsert-toggle" aria-label=label prop:checked=s.upsert disabled=move || !can_change()
                                                on:change=move |ev| set(name.clone(), event_target_checked(&ev))/>
                                            {if s.upsert { " update (upsert)" } else { " refuse (ConflictError)" }}
                                        </label>
                                    </td>
                                    <td class="muted">{match (s.updated_at, s.updated_by.clone()) {
                                        (Some(at), Some(by)) => format!("{} by {by}", format::datetime(at)),
                                        (Some(at), None) => format::datetime(at),
                                        _ => "-".to_string(),
                                    }}</td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_links_filter_the_alerts_list() {
        assert!(source_link("misp").starts_with("/alerts?status=all&source=misp"));
        for s in ["misp", "Zero Fox/2", "a&b c=d"] {
            let link = source_link(s);
            let f = AlertFilter::from_query_string(link.split_once('?').map(|x| x.1).unwrap_or(""));
            assert_eq!((f.source.as_str(), f.status), (s, None), "{link}");
        }
    }
}
