//! The cases list: filters (in the URL, as removable chips, one saved per user and applied when
//! the list is opened without filters), sortable columns, paging, a multi-selection with bulk
//! actions (assign, add/remove tags, flag, close, merge), keyboard navigation.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate};

use crate::api::{self, CaseLookups, CasePage};
use crate::model::{ApiError, Case, CasePatch, CaseStatus, ImpactStatus, ResolutionStatus};
use crate::ui::action::Settle;
use crate::ui::auth::use_auth;
use crate::ui::case_filter::{CaseFilter, parse_tags};
use crate::ui::format;
use crate::ui::pages::case::NewCaseDialog;
use crate::ui::widgets::{EmptyState, ErrorNote, Loading, Modal, SeverityBadge, Tags, TlpBadge};

const PREF_KEY: &str = "cases";

#[component]
pub fn CasesPage() -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    let navigate = use_navigate();
    let filter = Memo::new(move |_| CaseFilter::from_query(&location.search.get()));
    let go = {
        let navigate = navigate.clone();
        move |f: CaseFilter| {
            let qs = f.to_query();
            navigate(&if qs.is_empty() { "/cases".to_string() } else { format!("/cases?{qs}") }, Default::default());
        }
    };
    let go = StoredValue::new(go);
    let apply = move |f: CaseFilter| go.with_value(|g| g(f));

    // The user's saved filter applies when the list opens without filters in its URL; the list
    // waits for it rather than flashing the default view first.
    let saved = RwSignal::new(None::<String>);
    let opened_bare = location.search.get_untracked().trim_start_matches('?').trim().is_empty();
    let ready = RwSignal::new(!opened_bare);
    {
        let navigate = navigate.clone();
        spawn_local(async move {
            let qs = api::saved_filter(PREF_KEY.into()).await.ok().flatten().unwrap_or_default();
            let qs = qs.trim_start_matches('?').to_string();
            if !qs.is_empty() {
                saved.set(Some(qs.clone()));
                if opened_bare && location.search.get_untracked().trim_start_matches('?').trim().is_empty() {
                    navigate(&format!("/cases?{qs}"), NavigateOptions { replace: true, ..Default::default() });
                }
            }
            ready.set(true);
        });
    }
    let saved_active = move || saved.get().is_some_and(|qs| CaseFilter::from_query(&qs) == filter.get());

    let reload = RwSignal::new(0u32);
    let page = LocalResource::new(move || {
        reload.track();
        let f = filter.get();
        let ready = ready.get();
        async move {
            // Not fetched until the saved filter is known (the view shows "Loading" meanwhile).
            if !ready {
                return Ok(CasePage { items: Vec::new(), total: 0 });
            }
            let (from, to) = f.range();
            api::list_cases(f.to_v0(), f.sort_keys(), from, to).await
        }
    });
    let lookups = LocalResource::new(|| async { api::get_case_lookups().await.unwrap_or_default() });
    let members = move || lookups.get().map(|l: CaseLookups| l.members).unwrap_or_default();

    let selected = RwSignal::new(HashSet::<String>::new());
    let cursor = RwSignal::new(0usize);
    let last_clicked = RwSignal::new(None::<usize>);
    let error = RwSignal::new(None::<ApiError>);
    let outcome = Settle::new(error, reload);
    let notice = RwSignal::new(None::<String>);
    let new_open = RwSignal::new(false);
    let close_open = RwSignal::new(false);
    let merge_open = RwSignal::new(false);
    let text = RwSignal::new(String::new());
    Effect::new(move |_| text.set(filter.get().text));
    // A new page of rows: the selection and the cursor start over.
    Effect::new(move |_| {
        filter.track();
        selected.set(HashSet::new());
        cursor.set(0);
    });

    let rows = move || page.get().and_then(|r| r.ok()).map(|p: CasePage| p.items).unwrap_or_default();
    let ids = move || rows().into_iter().map(|r| r.case.id).collect::<Vec<_>>();

    // Keyboard: j/k move, Enter opens, x selects.
    let open_row = {
        let navigate = navigate.clone();
        move |i: usize| {
            if let Some(r) = rows().get(i) {
                navigate(&format!("/cases/{}", r.case.case_id), Default::default());
            }
        }
    };
    let open_row = StoredValue::new(open_row);
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if crate::ui::browser::typing(&ev) || new_open.get_untracked() || close_open.get_untracked() || merge_open.get_untracked() {
            return;
        }
        let n = rows().len();
        match ev.key().as_str() {
            "j" if n > 0 => cursor.update(|c| *c = (*c + 1).min(n - 1)),
            "k" => cursor.update(|c| *c = c.saturating_sub(1)),
            "Enter" if n > 0 => open_row.with_value(|o| o(cursor.get_untracked())),
            "x" if n > 0 => {
                if let Some(id) = ids().get(cursor.get_untracked()).cloned() {
                    selected.update(|s| {
                        if !s.remove(&id) {
                            s.insert(id);
                        }
                    });
                }
            }
            _ => {}
        }
    });
    on_cleanup(move || handle.remove());

    let bulk = move |patch: CasePatch, what: &'static str| {
        let ids: Vec<String> = selected.get_untracked().into_iter().collect();
        spawn_local(async move {
            if let Some(out) = outcome.settle(api::bulk_update_cases(ids, patch).await) {
                let failed = out.failed.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>();
                notice.set(Some(if failed.is_empty() {
                    format!("{what}: {} case(s)", out.done)
                } else {
                    format!("{what}: {} case(s); {} refused: {}", out.done, failed.len(), failed.join("; "))
                }));
                selected.set(HashSet::new());
            }
        });
    };
    let bulk_tag = RwSignal::new(String::new());
    // Tags added to or removed from every selected case, in one call.
    let change_tags = move |remove: bool| {
        let tags = parse_tags(&bulk_tag.get_untracked());
        if tags.is_empty() {
            error.set(Some(ApiError::new(crate::model::ErrorKind::AttributeCheckingError, "Type the tags first (comma separated)")));
            return;
        }
        let ids: Vec<String> = selected.get_untracked().into_iter().collect();
        let (add, del) = if remove { (Vec::new(), tags) } else { (tags, Vec::new()) };
        spawn_local(async move {
            if let Some(out) = outcome.settle(api::change_case_tags(ids, add, del).await) {
                notice.set(Some(format!("{}: {} case(s) changed", if remove { "Tags removed" } else { "Tags added" }, out.done)));
                bulk_tag.set(String::new());
                selected.set(HashSet::new());
            }
        });
    };

    let save_filter = move |_| {
        let qs = filter.get_untracked().to_query();
        spawn_local(async move {
            match api::save_filter(PREF_KEY.into(), Some(qs.clone())).await {
                Ok(()) => {
                    notice.set(Some("Filter saved: it applies when you open the cases list; “My filter” brings it back.".into()));
                    saved.set(Some(qs).filter(|q| !q.is_empty()));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let load_filter = move |_| {
        spawn_local(async move {
            match api::saved_filter(PREF_KEY.into()).await {
                Ok(Some(qs)) => apply(CaseFilter::from_query(&qs)),
                Ok(None) => notice.set(Some("No saved filter yet: set one up, then “Save filter”.".into())),
                Err(e) => error.set(Some(e)),
            }
        });
    };

    let sort_header = move |field: &'static str, label: &'static str| {
        view! {
            <th class="sortable" on:click=move |_| {
                let f = filter.get_untracked();
                apply(CaseFilter { sort: f.sorted_by(field), page: 0, ..f })
            }>{label}{move || filter.get().sort_mark(field)}</th>
        }
    };

    view! {
        <div class="list-page">
            <div class="page-header">
                <h1>"Cases"</h1>
                <span class="count muted">{move || ready.get().then(|| page.get()).flatten().and_then(|r| r.ok()).map(|p| format!("{} case{}", p.total, if p.total == 1 { "" } else { "s" }))}</span>
                <button class="primary" on:click=move |_| new_open.set(true)>"New case"</button>
                <input class="search-box" type="search" placeholder="Search cases, or #number  ( / )" aria-label="Search cases"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            let f = filter.get_untracked();
                            apply(CaseFilter { text: text.get_untracked(), page: 0, ..f });
                        } else if ev.key() == "Escape" {
                            if let Some(el) = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(t).ok()) { let _ = el.blur(); }
                        }
                    }/>
            </div>
            <div class="filter-bar">
                <select aria-label="Status" on:change=move |ev| {
                    let v = event_target_value(&ev);
                    let f = filter.get_untracked();
                    apply(CaseFilter { status: (!v.is_empty()).then_some(v), page: 0, ..f })
                }>
                    <option value="" selected=move || filter.get().status.is_none()>"Any status"</option>
                    {CaseStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=move || filter.get().status.as_deref() == Some(s.as_str())>{s.as_str()}</option>
                    }).collect_view()}
                </select>
                <select aria-label="Severity" on:change=move |ev| {
                    let f = filter.get_untracked();
                    apply(CaseFilter { severity: event_target_value(&ev).parse().ok(), page: 0, ..f })
                }>
                    <option value="" selected=move || filter.get().severity.is_none()>"Any severity"</option>
                    {(1u8..=4).map(|s| view! { <option value=s.to_string() selected=move || filter.get().severity == Some(s)>{format::severity(s).0}</option> }).collect_view()}
                </select>
                <select aria-label="TLP" on:change=move |ev| {
                    let f = filter.get_untracked();
                    apply(CaseFilter { tlp: event_target_value(&ev).parse().ok(), page: 0, ..f })
                }>
                    <option value="" selected=move || filter.get().tlp.is_none()>"Any TLP"</option>
                    {(0u8..=3).map(|t| view! { <option value=t.to_string() selected=move || filter.get().tlp == Some(t)>"TLP:"{format::tlp(t).0}</option> }).collect_view()}
                </select>
                <select aria-label="Assignee" on:change=move |ev| {
                    let v = event_target_value(&ev);
                    let f = filter.get_untracked();
                    apply(CaseFilter { owner: (!v.is_empty()).then_some(v), page: 0, ..f })
                }>
                    <option value="">"Any assignee"</option>
                    {move || members().into_iter().map(|m| {
                        let login = m.login.clone();
                        view! { <option value=m.login.clone() selected=move || filter.get().owner.as_deref() == Some(login.as_str())>{m.name}</option> }
                    }).collect_view()}
                </select>
                <input type="text" class="tag-filter" placeholder="Tag + Enter" aria-label="Filter by tag" on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" {
                        let v = event_target_value(&ev);
                        let mut f = filter.get_untracked();
                        for t in parse_tags(&v) {
                            if !f.tags.contains(&t) { f.tags.push(t); }
                        }
                        f.page = 0;
                        apply(f);
                    }
                }/>
                <label class="inline">"From "<input type="date" aria-label="Created from" prop:value=move || filter.get().from.unwrap_or_default() on:change=move |ev| {
                    let v = event_target_value(&ev);
                    let f = filter.get_untracked();
                    apply(CaseFilter { from: (!v.is_empty()).then_some(v), page: 0, ..f })
                }/></label>
                <label class="inline">"to "<input type="date" aria-label="Created until" prop:value=move || filter.get().to.unwrap_or_default() on:change=move |ev| {
                    let v = event_target_value(&ev);
                    let f = filter.get_untracked();
                    apply(CaseFilter { to: (!v.is_empty()).then_some(v), page: 0, ..f })
                }/></label>
                <label class="inline"><input type="checkbox" prop:checked=move || filter.get().flagged on:change=move |ev| {
                    let f = filter.get_untracked();
                    apply(CaseFilter { flagged: event_target_checked(&ev), page: 0, ..f })
                }/>" Flagged"</label>
                <span class="spacer"></span>
                <button on:click=load_filter title="Apply your saved filter">"My filter"</button>
                <button on:click=save_filter title="Save this filter for you">"Save filter"</button>
            </div>
            <div class="chips">
                <Show when=saved_active>
                    <span class="chip saved-filter-chip" title="Your saved filter is applied">"★ My filter"
                        <button class="chip-remove" title="Clear: show open cases" aria-label="Clear my filter" on:click=move |_| apply(CaseFilter::default_view())>"×"</button>
                    </span>
                </Show>
                {move || filter.get().chips().into_iter().map(|c| {
                    let chip = c.clone();
                    view! {
                        <span class="chip">{c.label.clone()}
                            <button class="chip-remove" title="Remove this filter" aria-label=format!("Remove {}", c.label) on:click=move |_| apply(filter.get_untracked().without(&chip))>"×"</button>
                        </span>
                    }
                }).collect_view()}
                <Show when=move || filter.get() != CaseFilter::default_view()>
                    <button class="linklike small" on:click=move |_| apply(CaseFilter::default_view())>"Reset"</button>
                </Show>
            </div>
            <ErrorNote error=error/>
            {move || notice.get().map(|n| view! { <div class="ok-note block" role="status">{n}</div> })}
            <Show when=move || !selected.get().is_empty()>
                <div class="bulk-bar">
                    <strong>{move || format!("{} selected", selected.get().len())}</strong>
                    <select aria-label="Assign selected to" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if !v.is_empty() { bulk(CasePatch { owner: Some(v), ..Default::default() }, "Assigned") }
                    }>
                        <option value="">"Assign to…"</option>
                        {move || members().into_iter().map(|m| view! { <option value=m.login.clone()>{m.name}</option> }).collect_view()}
                    </select>
                    <input id="bulk-tags" type="text" placeholder="tags, comma separated" aria-label="Tags to add or remove" prop:value=move || bulk_tag.get() on:input=move |ev| bulk_tag.set(event_target_value(&ev))/>
                    <button id="bulk-add-tags" on:click=move |_| change_tags(false)>"Add tags"</button>
                    <button id="bulk-remove-tags" on:click=move |_| change_tags(true)>"Remove tags"</button>
                    <button on:click=move |_| bulk(CasePatch { flag: Some(true), ..Default::default() }, "Flagged")>"Flag"</button>
                    <button id="bulk-merge" disabled=move || selected.get().len() < 2 title="Merge the selected cases into a new case"
                        on:click=move |_| merge_open.set(true)>"Merge…"</button>
                    <button class="danger" on:click=move |_| close_open.set(true)>"Close…"</button>
                    <button class="linklike" on:click=move |_| selected.set(HashSet::new())>"Clear selection"</button>
                </div>
            </Show>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || if !ready.get() { Some(view! { <Loading/> }.into_any()) } else { page.get().map(|r| match r {
                    Err(e) => {
                        auth.check(&e);
                        view! { <div class="error-note" role="alert">{e.to_string()}</div> }.into_any()
                    }
                    Ok(p) if p.items.is_empty() => {
                        let filtered = filter.get() != CaseFilter::default_view();
                        if filtered {
                            view! { <EmptyState title="No case matches these filters" hint="Remove a filter above, or reset them."/> }.into_any()
                        } else {
                            view! { <EmptyState title="No open cases" hint="Create one with “New case”, or import one from an alert. Closed cases: Status “Any status”."/> }.into_any()
                        }
                    }
                    Ok(p) => {
                        let all_ids: Vec<String> = p.items.iter().map(|r| r.case.id.clone()).collect();
                        let all_ids2 = all_ids.clone();
                        let total = p.total;
                        view! {
                            <table class="grid cases">
                                <thead><tr>
                                    <th class="check"><input type="checkbox" aria-label="Select all on this page"
                                        prop:checked=move || { let s = selected.get(); !all_ids.is_empty() && all_ids.iter().all(|i| s.contains(i)) }
                                        on:change=move |ev| if event_target_checked(&ev) { selected.set(all_ids2.iter().cloned().collect()) } else { selected.set(HashSet::new()) }/></th>
                                    {sort_header("caseId", "#")}
                                    <th class="flagcol" title="Flagged">"⚑"</th>
                                    {sort_header("title", "Title")}
                                    {sort_header("severity", "Severity")}
                                    {sort_header("tlp", "TLP")}
                                    {sort_header("pap", "PAP")}
                                    {sort_header("status", "Status")}
                                    <th>"Tasks"</th>
                                    <th>"Observables"</th>
                                    {sort_header("owner", "Assignee")}
                                    {sort_header("startDate", "Start")}
                                    {sort_header("createdAt", "Created")}
                                </tr></thead>
                                <tbody>
                                    {p.items.into_iter().enumerate().map(|(i, r)| {
                                        let c = r.case;
                                        let s = r.stats;
                                        let id = c.id.clone();
                                        let id2 = c.id.clone();
                                        let href = format!("/cases/{}", c.case_id);
                                        let status = match (c.status, c.resolution_status) {
                                            (CaseStatus::Resolved, Some(rs)) => format!("Resolved ({})", rs.label()),
                                            (st, _) => st.as_str().to_string(),
                                        };
                                        let done = s.tasks.completed + s.tasks.cancel;
                                        view! {
                                            <tr class:selected=move || selected.get().contains(&id) class:cursor=move || cursor.get() == i data-case=c.case_id>
                                                <td class="check"><input type="checkbox" aria-label=format!("Select case #{}", c.case_id)
                                                    prop:checked={ let id = id2.clone(); move || selected.get().contains(&id) }
                                                    on:click=move |ev: leptos::ev::MouseEvent| {
                                                        let checked = event_target_checked(&ev);
                                                        let range: Vec<usize> = match (ev.shift_key(), last_clicked.get_untracked()) {
                                                            (true, Some(j)) => (i.min(j)..=i.max(j)).collect(),
                                                            _ => vec![i],
                                                        };
                                                        let ids = ids();
                                                        selected.update(|sel| for k in range { if let Some(x) = ids.get(k) { if checked { sel.insert(x.clone()); } else { sel.remove(x); } } });
                                                        last_clicked.set(Some(i));
                                                    }/></td>
                                                <td class="num">{c.case_id}</td>
                                                <td class="flagcol">{c.flag.then_some("⚑")}</td>
                                                <td class="title"><A href=href>{c.title.clone()}</A>" "<Tags tags=c.tags.clone()/></td>
                                                <td><SeverityBadge severity=c.severity/></td>
                                                <td><TlpBadge level=c.tlp/></td>
                                                <td><TlpBadge level=c.pap kind="PAP"/></td>
                                                <td>{status}</td>
                                                <td class="muted">{if s.tasks.total == 0 { "-".to_string() } else { format!("{done}/{}", s.tasks.total) }}</td>
                                                <td class="muted">{if s.observables == 0 { "-".to_string() } else if s.iocs > 0 { format!("{} ({} IOC)", s.observables, s.iocs) } else { s.observables.to_string() }}</td>
                                                <td>{c.owner.clone().unwrap_or_else(|| "-".into())}</td>
                                                <td class="date">{format::datetime(c.start_date)}</td>
                                                <td class="date">{format::datetime(c.created_at)}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <div class="pager">
                                <button disabled=move || filter.get().page == 0 on:click=move |_| { let f = filter.get_untracked(); apply(CaseFilter { page: f.page.saturating_sub(1), ..f }) }>"‹ Previous"</button>
                                <span>{move || format!("Page {} of {}", filter.get().page + 1, CaseFilter::page_count(total))}</span>
                                <button disabled=move || { filter.get().page + 1 >= CaseFilter::page_count(total) } on:click=move |_| { let f = filter.get_untracked(); apply(CaseFilter { page: f.page + 1, ..f }) }>"Next ›"</button>
                                <span class="muted keys">"j/k move · Enter opens · x selects · / searches"</span>
                            </div>
                        }.into_any()
                    }
                }) }}
            </Suspense>
            <Show when=move || new_open.get()>
                <NewCaseDialog on_close=Callback::new(move |_| new_open.set(false))/>
            </Show>
            <Show when=move || merge_open.get()>
                <MergeSelectedDialog
                    cases=Signal::derive(move || { let sel = selected.get(); rows().into_iter().map(|r| r.case).filter(|c| sel.contains(&c.id)).collect::<Vec<_>>() })
                    on_close=Callback::new(move |_| merge_open.set(false))/>
            </Show>
            <Show when=move || close_open.get()>
                <BulkCloseDialog count=Signal::derive(move || selected.get().len()) on_close=Callback::new(move |_| close_open.set(false))
                    on_submit=Callback::new(move |patch: CasePatch| { close_open.set(false); bulk(patch, "Closed") })/>
            </Show>
        </div>
    }
}

/// The title TheHive gives a merge of these cases: `#n:title / #m:title`, by case number.
pub fn merged_title(cases: &[Case]) -> String {
    let mut list: Vec<&Case> = cases.iter().collect();
    list.sort_by_key(|c| c.case_id);
    list.iter().map(|c| format!("#{}:{}", c.case_id, c.title)).collect::<Vec<_>>().join(" / ")
}

/// Merge the selected cases (two or more) into a new case, then open it.
#[component]
fn MergeSelectedDialog(cases: Signal<Vec<Case>>, on_close: Callback<()>) -> impl IntoView {
    let navigate = use_navigate();
    let auth = use_auth();
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let merge = move |_| {
        let mut list = cases.get_untracked();
        list.sort_by_key(|c| c.case_id);
        let ids: Vec<String> = list.into_iter().map(|c| c.id).collect();
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            let r = api::merge_cases(ids).await;
            busy.set(false);
            match r {
                Ok(c) => {
                    on_close.run(());
                    navigate(&format!("/cases/{}", c.case_id), Default::default());
                }
                Err(e) => {
                    auth.check(&e);
                    error.set(Some(e));
                }
            }
        });
    };
    view! {
        <Modal title=format!("Merge {} cases", cases.get_untracked().len()) on_close=on_close>
            <p class="muted small">"The cases are merged into a new case (tasks with their logs, observables, tags); they are then closed as duplicates. This cannot be undone."</p>
            <table class="grid merge-selected">
                <tbody>
                    {move || { let mut l = cases.get(); l.sort_by_key(|c| c.case_id); l }.into_iter().map(|c| view! {
                        <tr><td class="num">"#"{c.case_id}</td><td>{c.title.clone()}</td><td><SeverityBadge severity=c.severity/></td><td><TlpBadge level=c.tlp/></td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p>"New case: "<strong class="merged-title">{move || merged_title(&cases.get())}</strong></p>
            <ErrorNote error=error/>
            <div class="dialog-actions">
                <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button id="confirm-merge" class="primary" disabled=move || busy.get() || cases.get().len() < 2 on:click=merge>
                    {move || if busy.get() { "Merging…".to_string() } else { format!("Merge {} cases", cases.get().len()) }}
                </button>
            </div>
        </Modal>
    }
}

#[component]
fn BulkCloseDialog(count: Signal<usize>, on_close: Callback<()>, on_submit: Callback<CasePatch>) -> impl IntoView {
    let resolution = RwSignal::new(ResolutionStatus::Indeterminate);
    let impact = RwSignal::new(ImpactStatus::NotApplicable);
    let summary = RwSignal::new(String::new());
    view! {
        <Modal title=format!("Close {} case(s)", count.get_untracked()) on_close=on_close>
            <form class="stacked-form wide" on:submit=move |ev| {
                ev.prevent_default();
                on_submit.run(CasePatch {
                    status: Some(CaseStatus::Resolved),
                    resolution_status: Some(resolution.get_untracked()),
                    impact_status: Some(impact.get_untracked()),
                    summary: Some(summary.get_untracked()),
                    ..Default::default()
                });
            }>
                <label>"Resolution"
                    <select on:change=move |ev| if let Some(r) = ResolutionStatus::parse(&event_target_value(&ev)) { resolution.set(r) }>
                        {ResolutionStatus::ALL.into_iter().filter(|r| *r != ResolutionStatus::Duplicated).map(|r| view! { <option value=r.as_str() selected=move || resolution.get() == r>{r.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Impact"
                    <select on:change=move |ev| if let Some(i) = ImpactStatus::parse(&event_target_value(&ev)) { impact.set(i) }>
                        {ImpactStatus::ALL.into_iter().map(|i| view! { <option value=i.as_str() selected=move || impact.get() == i>{i.label()}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Summary"<textarea rows=4 required prop:value=move || summary.get() on:input=move |ev| summary.set(event_target_value(&ev))></textarea></label>
                <div class="dialog-actions">
                    <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="primary">"Close cases"</button>
                </div>
            </form>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(n: i64, title: &str) -> Case {
        serde_json::from_value(serde_json::json!({
            "id": format!("c{n}"), "caseId": n, "title": title, "severity": 2, "startDate": 0, "tlp": 2, "pap": 2,
            "status": "Open", "createdAt": 0, "createdBy": "x"
        }))
        .unwrap()
    }

    #[test]
    fn merged_title_is_by_case_number() {
        assert_eq!(merged_title(&[case(7, "C"), case(2, "A"), case(5, "B")]), "#2:A / #5:B / #7:C");
        assert_eq!(merged_title(&[]), "");
    }
}
