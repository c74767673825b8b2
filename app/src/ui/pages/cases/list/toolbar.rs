//! The top of the cases list: its header (count, "New case", the search box), the filter bar
//! (status, severity, TLP, assignee, tags, dates, flagged; the saved filter) and the filter's
//! removable chips.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::ListCtx;
use crate::api::{self, Member};
use crate::model::CaseStatus;
use crate::ui::format;
use crate::ui::pages::cases::filter::CaseFilter;

/// `Some(v)` unless the select or input was left empty ("any").
fn chosen(v: String) -> Option<String> {
    (!v.is_empty()).then_some(v)
}

#[component]
pub(super) fn ListHeader(list: ListCtx, count: Signal<Option<String>>, new_open: RwSignal<bool>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    Effect::new(move |_| text.set(list.filter.get().text));
    view! {
        <div class="page-header">
            <h1>"Cases"</h1>
            <span class="count muted">{move || count.get()}</span>
            <button class="primary" on:click=move |_| new_open.set(true)>"New case"</button>
            <input class="search-box" type="search" placeholder="Search cases, or #number  ( / )" aria-label="Search cases"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" {
                        list.change(|f| f.text = text.get_untracked());
                    } else if ev.key() == "Escape" {
                        if let Some(el) = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(t).ok()) { let _ = el.blur(); }
                    }
                }/>
        </div>
    }
}

#[component]
pub(super) fn FilterBar(list: ListCtx, members: Signal<Vec<Member>>, saved: RwSignal<Option<String>>, pref_key: &'static str) -> impl IntoView {
    let filter = list.filter;
    let save_filter = move |_| {
        let qs = filter.get_untracked().to_query();
        spawn_local(async move {
            match api::save_filter(pref_key.into(), Some(qs.clone())).await {
                Ok(()) => {
                    list.notice.set(Some("Filter saved: it applies when you open the cases list; “My filter” brings it back.".into()));
                    saved.set(Some(qs).filter(|q| !q.is_empty()));
                }
                Err(e) => list.error.set(Some(e)),
            }
        });
    };
    let load_filter = move |_| {
        spawn_local(async move {
            match api::saved_filter(pref_key.into()).await {
                Ok(Some(qs)) => list.apply.run(CaseFilter::from_query(&qs)),
                Ok(None) => list.notice.set(Some("No saved filter yet: set one up, then “Save filter”.".into())),
                Err(e) => list.error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="filter-bar">
            <select aria-label="Status" on:change=move |ev| list.change(|f| f.status = chosen(event_target_value(&ev)))>
                <option value="" selected=move || filter.get().status.is_none()>"Any status"</option>
                {CaseStatus::ALL.into_iter().map(|s| view! {
                    <option value=s.as_str() selected=move || filter.get().status.as_deref() == Some(s.as_str())>{s.as_str()}</option>
                }).collect_view()}
            </select>
            <select aria-label="Severity" on:change=move |ev| list.change(|f| f.severity = event_target_value(&ev).parse().ok())>
                <option value="" selected=move || filter.get().severity.is_none()>"Any severity"</option>
                {(1u8..=4).map(|s| view! { <option value=s.to_string() selected=move || filter.get().severity == Some(s)>{format::severity(s).0}</option> }).collect_view()}
            </select>
            <select aria-label="TLP" on:change=move |ev| list.change(|f| f.tlp = event_target_value(&ev).parse().ok())>
                <option value="" selected=move || filter.get().tlp.is_none()>"Any TLP"</option>
                {(0u8..=3).map(|t| view! { <option value=t.to_string() selected=move || filter.get().tlp == Some(t)>"TLP:"{format::tlp(t).0}</option> }).collect_view()}
            </select>
            <select aria-label="Assignee" on:change=move |ev| list.change(|f| f.owner = chosen(event_target_value(&ev)))>
                <option value="">"Any assignee"</option>
                {move || members.get().into_iter().map(|m| {
                    let login = m.login.clone();
                    view! { <option value=m.login.clone() selected=move || filter.get().owner.as_deref() == Some(login.as_str())>{m.name}</option> }
                }).collect_view()}
            </select>
            <input type="text" class="tag-filter" placeholder="Tag + Enter" aria-label="Filter by tag" on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                if ev.key() == "Enter" {
                    list.change(|f| f.add_tags(&event_target_value(&ev)));
                }
            }/>
            <label class="inline">"From "<input type="date" aria-label="Created from" prop:value=move || filter.get().from.unwrap_or_default()
                on:change=move |ev| list.change(|f| f.from = chosen(event_target_value(&ev)))/></label>
            <label class="inline">"to "<input type="date" aria-label="Created until" prop:value=move || filter.get().to.unwrap_or_default()
                on:change=move |ev| list.change(|f| f.to = chosen(event_target_value(&ev)))/></label>
            <label class="inline"><input type="checkbox" prop:checked=move || filter.get().flagged
                on:change=move |ev| list.change(|f| f.flagged = event_target_checked(&ev))/>" Flagged"</label>
            <span class="spacer"></span>
            <button on:click=load_filter title="Apply your saved filter">"My filter"</button>
            <button on:click=save_filter title="Save this filter for you">"Save filter"</button>
        </div>
    }
}

#[component]
pub(super) fn FilterChips(list: ListCtx, saved: RwSignal<Option<String>>) -> impl IntoView {
    let filter = list.filter;
    let saved_active = move || saved.get().is_some_and(|qs| CaseFilter::from_query(&qs) == filter.get());
    view! {
        <div class="chips">
            <Show when=saved_active>
                <span class="chip saved-filter-chip" title="Your saved filter is applied">"★ My filter"
                    <button class="chip-remove" title="Clear: show open cases" aria-label="Clear my filter" on:click=move |_| list.apply.run(CaseFilter::default_view())>"×"</button>
                </span>
            </Show>
            {move || filter.get().chips().into_iter().map(|c| {
                let chip = c.clone();
                view! {
                    <span class="chip">{c.label.clone()}
                        <button class="chip-remove" title="Remove this filter" aria-label=format!("Remove {}", c.label) on:click=move |_| list.apply.run(filter.get_untracked().without(&chip))>"×"</button>
                    </span>
                }
            }).collect_view()}
            <Show when=move || filter.get() != CaseFilter::default_view()>
                <button class="linklike small" on:click=move |_| list.apply.run(CaseFilter::default_view())>"Reset"</button>
            </Show>
        </div>
    }
}
