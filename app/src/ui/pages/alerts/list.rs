//! The alerts triage list: status tabs with counts, filters (in the URL), sort, paging,
//! keyboard (`j`/`k` move, `Enter` previews, `x` selects, `Esc` closes, `/` searches),
//! multi-select (shift-click for a range) with bulk import, merge into a case, ignore,
//! follow/unfollow and delete; the preview panel on the right.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_navigate};

use super::filter::{AlertFilter, PAGE_SIZE, SORTS, select};
use super::preview::{AlertPreviewPanel, MergePicker};
use crate::api::{self, CaseChoice, TriageAction};
use crate::model::{AlertPage, AlertStatus, AlertSummary, ApiError, BulkOutcome};
use crate::ui::action::confirm;
use crate::ui::auth::use_auth;
use crate::ui::format;
use crate::ui::widgets::{EmptyState, ErrorNote, Loading, SeverityBadge, TlpBadge};

/// What the page says after an action.
fn outcome_note(verb: &str, o: &BulkOutcome) -> String {
    let mut s = format!("{} alert{} {verb}", o.done.len(), if o.done.len() == 1 { "" } else { "s" });
    if !o.failed.is_empty() {
        s.push_str(&format!("; {} refused: {}", o.failed.len(), o.failed[0].1));
    }
    s
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    let navigate = StoredValue::new_local(use_navigate());
    let filter = Memo::new(move |_| AlertFilter::from_query_string(&location.search.get()));
    let go = move |f: AlertFilter| {
        let url = format!("/alerts?{}", f.to_query_string());
        navigate.with_value(|n| n(&url, Default::default()));
    };

    let reload = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        let f = filter.get();
        reload.track();
        async move { api::list_alerts(f.query(), f.sort.clone(), f.page * PAGE_SIZE, PAGE_SIZE).await }
    });
    let page = Signal::derive(move || list.get().and_then(|r| r.ok()));
    let rows = Signal::derive(move || page.get().map(|p: AlertPage| p.items).unwrap_or_default());
    let ids = Signal::derive(move || rows.get().into_iter().map(|r| r.id).collect::<Vec<_>>());

    let cursor = RwSignal::new(0usize);
    let selected = RwSignal::new(Vec::<String>::new());
    let last_click = RwSignal::new(None::<usize>);
    let open = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let merging = RwSignal::new(false);
    let template = RwSignal::new(String::new());
    let templates = LocalResource::new(|| async { api::alert_templates().await.unwrap_or_default() });

    // A new page of rows: cursor back to the top, the selection kept to what is shown.
    Effect::new(move |_| {
        let shown = ids.get();
        selected.update(|s| s.retain(|id| shown.contains(id)));
        cursor.update(|c| *c = (*c).min(shown.len().saturating_sub(1)));
    });

    let after = move |r: Result<BulkOutcome, ApiError>, verb: &'static str| {
        match r {
            Ok(o) => {
                notice.set(Some(outcome_note(verb, &o)));
                error.set(None);
                selected.set(Vec::new());
            }
            Err(e) => {
                auth.check(&e);
                error.set(Some(e));
            }
        }
        busy.set(false);
        reload.update(|n| *n += 1);
    };
    let triage = move |action: TriageAction, verb: &'static str| {
        let chosen = selected.get_untracked();
        if chosen.is_empty() {
            return;
        }
        if action == TriageAction::Delete
            && !confirm(&format!("Delete {} alert(s) for good?", chosen.len()))
        {
            return;
        }
        busy.set(true);
        spawn_local(async move { after(api::triage_alerts(chosen, action).await, verb) });
    };
    let import_selected = move || {
        let chosen = selected.get_untracked();
        if chosen.is_empty() {
            return;
        }
        let t = Some(template.get_untracked()).filter(|t| !t.is_empty());
        busy.set(true);
        spawn_local(async move {
            let mut out = BulkOutcome::default();
            for id in chosen {
                match api::import_alert(id.clone(), t.clone()).await {
                    Ok(_) => out.done.push(id),
                    Err(e) => out.failed.push((id, e)),
                }
            }
            after(Ok(out), "imported into new cases");
        });
    };
    let merge_selected = Callback::new(move |c: CaseChoice| {
        let chosen = selected.get_untracked();
        merging.set(false);
        if chosen.is_empty() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let n = chosen.len();
            match api::merge_alerts(chosen.clone(), c.id.clone()).await {
                Ok(case) => {
                    notice.set(Some(format!("{n} alert(s) merged into case #{} {}", case.case_id, case.title)));
                    error.set(None);
                    selected.set(Vec::new());
                }
                Err(e) => {
                    auth.check(&e);
                    error.set(Some(e));
                }
            }
            busy.set(false);
            reload.update(|n| *n += 1);
        });
    });
    let on_changed = Callback::new(move |msg: String| {
        notice.set(Some(msg));
        reload.update(|n| *n += 1);
    });

    // Keyboard: j/k move, Enter previews, x selects, Esc closes.
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        use wasm_bindgen::JsCast;
        let typing = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
            .map(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
            .unwrap_or(false);
        if typing || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let n = ids.get_untracked().len();
        match ev.key().as_str() {
            "j" | "ArrowDown" if n > 0 => cursor.update(|c| *c = (*c + 1).min(n - 1)),
            "k" | "ArrowUp" => cursor.update(|c| *c = c.saturating_sub(1)),
            "Enter" => {
                if let Some(id) = ids.get_untracked().get(cursor.get_untracked()) {
                    open.set(Some(id.clone()));
                }
            }
            "x" => {
                let i = cursor.get_untracked();
                selected.set(select(&selected.get_untracked(), &ids.get_untracked(), i, None, false));
                last_click.set(Some(i));
            }
            "Escape" => {
                if merging.get_untracked() {
                    merging.set(false);
                } else {
                    open.set(None);
                }
            }
            _ => return,
        }
        ev.prevent_default();
    });
    on_cleanup(move || handle.remove());

    let text = RwSignal::new(String::new());
    Effect::new(move |_| text.set(filter.get().text));
    let set_field = move |key: &'static str, value: String| {
        let mut f = filter.get_untracked();
        match key {
            "type" => f.kind = value,
            "source" => f.source = value,
            "observable" => f.observable = value,
            "text" => f.text = value,
            "from" => f.from = value,
            "to" => f.to = value,
            "severity" => f.severity = value.parse().ok(),
            "tag" => {
                if !value.trim().is_empty() && !f.tags.contains(&value) {
                    f.tags.push(value)
                }
            }
            "sort" => f.sort = value,
            _ => {}
        }
        f.page = 0;
        go(f);
    };

    let tab = move |s: Option<AlertStatus>| {
        let label = s.map(|s| s.as_str()).unwrap_or("All");
        let count = move || {
            page.get().map(|p| match s {
                Some(s) => p.counts.get(s),
                None => p.counts.total(),
            })
        };
        view! {
            <button class="tab" class:active=move || filter.get().status == s
                    on:click=move |_| { let mut f = filter.get_untracked(); f.status = s; f.page = 0; go(f); }>
                {label}" "<span class="count">{move || count().map(|n| n.to_string()).unwrap_or_default()}</span>
            </button>
        }
    };

    view! {
        <div class="alerts-page" class:with-preview=move || open.get().is_some()>
            <div class="alerts-main">
                <div class="page-header">
                    <h1>"Alerts"</h1>
                    <input class="search-box" type="search" placeholder="Search titles  ( / )" aria-label="Search alert titles"
                           prop:value=text on:input=move |ev| text.set(event_target_value(&ev))
                           on:keydown=move |ev| if ev.key() == "Enter" { set_field("text", text.get_untracked()) }/>
                </div>
                <div class="tabs" role="tablist">
                    {tab(Some(AlertStatus::New))}{tab(Some(AlertStatus::Updated))}{tab(Some(AlertStatus::Ignored))}
                    {tab(Some(AlertStatus::Imported))}{tab(None)}
                </div>
                <div class="filters">
                    {filter_input("Source", "source", Signal::derive(move || filter.get().source), set_field)}
                    {filter_input("Type", "type", Signal::derive(move || filter.get().kind), set_field)}
                    {filter_input("Observable value", "observable", Signal::derive(move || filter.get().observable), set_field)}
                    {filter_input("Tag", "tag", Signal::derive(String::new), set_field)}
                    <select aria-label="Severity" on:change=move |ev| set_field("severity", event_target_value(&ev))
                            prop:value=move || filter.get().severity.map(|s| s.to_string()).unwrap_or_default()>
                        <option value="">"Any severity"</option>
                        {(1u8..=4).map(|s| view! { <option value=s.to_string()>{format::severity(s).0}</option> }).collect_view()}
                    </select>
                    <label class="date">"From"<input type="date" prop:value=move || filter.get().from on:change=move |ev| set_field("from", event_target_value(&ev))/></label>
                    <label class="date">"To"<input type="date" prop:value=move || filter.get().to on:change=move |ev| set_field("to", event_target_value(&ev))/></label>
                    <select aria-label="Sort" on:change=move |ev| set_field("sort", event_target_value(&ev)) prop:value=move || filter.get().sort>
                        {SORTS.iter().map(|(k, l)| view! { <option value=*k>{*l}</option> }).collect_view()}
                    </select>
                </div>
                <div class="chips">
                    {move || filter.get().chips().into_iter().map(|(key, label)| {
                        let k = key.clone();
                        view! {
                            <span class="chip">{label}
                                <button class="chip-x" title="Remove this filter" on:click=move |_| go(filter.get_untracked().without(&k))>"×"</button>
                            </span>
                        }
                    }).collect_view()}
                </div>
                <Show when=move || !selected.get().is_empty()>
                    <div class="bulk-bar" role="toolbar">
                        <span class="bulk-count">{move || format!("{} selected", selected.get().len())}</span>
                        <select aria-label="Case template" on:change=move |ev| template.set(event_target_value(&ev))>
                            <option value="">"No template"</option>
                            {move || templates.get().unwrap_or_default().into_iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                        </select>
                        <button class="primary" disabled=busy on:click=move |_| import_selected()>"Import"</button>
                        <button disabled=busy on:click=move |_| merging.set(true)>"Merge into case…"</button>
                        <button disabled=busy class="bulk-ignore" on:click=move |_| triage(TriageAction::Ignore, "ignored")>"Ignore"</button>
                        <button disabled=busy on:click=move |_| triage(TriageAction::Unread, "marked unread")>"Unread"</button>
                        <button disabled=busy on:click=move |_| triage(TriageAction::Follow, "followed")>"Follow"</button>
                        <button disabled=busy on:click=move |_| triage(TriageAction::Unfollow, "unfollowed")>"Unfollow"</button>
                        <button disabled=busy class="danger" on:click=move |_| triage(TriageAction::Delete, "deleted")>"Delete"</button>
                        <Show when=move || merging.get()>
                            <div class="popover">
                                <MergePicker on_pick=merge_selected/>
                            </div>
                        </Show>
                    </div>
                </Show>
                {move || notice.get().map(|n| view! { <div class="ok-note" role="status">{n}</div> })}
                <ErrorNote error=error/>
                <Suspense fallback=|| view! { <Loading/> }>
                    {move || list.get().map(|r| match r {
                        Err(e) => { auth.check(&e); view! { <div class="error-note">{e.to_string()}</div> }.into_any() }
                        Ok(p) if p.items.is_empty() => view! {
                            <EmptyState title="No alerts" hint="No alert matches these filters. Alerts pushed by your SIEM, MISP and other feeders through the API appear here."/>
                        }.into_any(),
                        Ok(p) => {
                            let all_ids: Vec<String> = p.items.iter().map(|a| a.id.clone()).collect();
                            let total = if p.total_exact { p.total.to_string() } else { format!("{}+", p.total) };
                            let f = filter.get_untracked();
                            let first = f.page * PAGE_SIZE + 1;
                            let last = f.page * PAGE_SIZE + p.items.len() as u64;
                            let has_next = last < p.total || !p.total_exact;
                            view! {
                                <table class="grid alerts-grid">
                                    <thead><tr>
                                        <th class="check"><input type="checkbox" aria-label="Select all"
                                            prop:checked=move || !selected.get().is_empty() && selected.get().len() == ids.get().len()
                                            on:change={let all_ids = all_ids.clone(); move |ev| selected.set(if event_target_checked(&ev) { all_ids.clone() } else { Vec::new() })}/></th>
                                        <th>"Severity"</th><th>"TLP"</th><th>"Title"</th><th class="col-type">"Type"</th><th>"Source"</th><th class="col-ref">"Reference"</th>
                                        <th class="num col-obs">"Obs."</th><th>"Date"</th><th>"Status"</th>
                                    </tr></thead>
                                    <tbody>
                                        {p.items.into_iter().enumerate().map(|(i, a)| view! { <AlertRow i a cursor selected last_click open ids/> }).collect_view()}
                                    </tbody>
                                </table>
                                <div class="pager">
                                    <span class="muted">{format!("{first}-{last} of {total}")}</span>
                                    <button disabled=f.page == 0 on:click=move |_| { let mut f = filter.get_untracked(); f.page = f.page.saturating_sub(1); go(f); }>"‹ Previous"</button>
                                    <button disabled=!has_next on:click=move |_| { let mut f = filter.get_untracked(); f.page += 1; go(f); }>"Next ›"</button>
                                </div>
                            }.into_any()
                        }
                    })}
                </Suspense>
            </div>
            {move || open.get().map(|id| view! {
                <aside class="alert-preview">
                    <button class="icon-button close" title="Close (Esc)" on:click=move |_| open.set(None)>"×"</button>
                    <AlertPreviewPanel id on_changed/>
                </aside>
            })}
        </div>
    }
}

/// A filter field: applied when it changes (Enter or leaving it).
fn filter_input(label: &'static str, key: &'static str, value: Signal<String>, set: impl Fn(&'static str, String) + Copy + 'static) -> impl IntoView {
    view! {
        <input type="text" class=format!("filter-{key}") placeholder=label aria-label=label prop:value=value
               on:change=move |ev| set(key, event_target_value(&ev))/>
    }
}

#[component]
fn AlertRow(
    i: usize,
    a: AlertSummary,
    cursor: RwSignal<usize>,
    selected: RwSignal<Vec<String>>,
    last_click: RwSignal<Option<usize>>,
    open: RwSignal<Option<String>>,
    #[prop(into)] ids: Signal<Vec<String>>,
) -> impl IntoView {
    let id = a.id.clone();
    let (id2, id3) = (id.clone(), id.clone());
    let status = a.status.as_str();
    view! {
        <tr class="alert-row" class:cursor=move || cursor.get() == i class:selected=move || selected.get().contains(&id)
            class:active=move || open.get().as_deref() == Some(id2.as_str()) data-id=a.id.clone()
            on:click=move |_| { cursor.set(i); open.set(Some(id3.clone())); }>
            <td class="check" on:click=move |ev| ev.stop_propagation()>
                <input type="checkbox" aria-label="Select"
                    prop:checked={let id = a.id.clone(); move || selected.get().contains(&id)}
                    on:click=move |ev: leptos::ev::MouseEvent| {
                        let shift = ev.shift_key();
                        selected.set(select(&selected.get_untracked(), &ids.get_untracked(), i, last_click.get_untracked(), shift));
                        last_click.set(Some(i));
                    }/>
            </td>
            <td><SeverityBadge severity=a.severity/></td>
            <td><TlpBadge level=a.tlp/></td>
            <td class="title">{a.title.clone()}
                {(!a.tags.is_empty()).then(|| view! { <span class="tags">{a.tags.iter().map(|t| view! { <span class="tag">{t.clone()}</span> }).collect_view()}</span> })}
                {(a.occurrences > 1).then(|| view! { <span class="muted" title="Times the feeder sent it">{format!(" ×{}", a.occurrences)}</span> })}
            </td>
            <td class="col-type">{a.kind.clone()}</td>
            <td class="source nowrap">{a.source.clone()}</td>
            <td class="mono col-ref">{a.source_ref.clone()}</td>
            <td class="num col-obs">{a.observable_count}</td>
            <td class="nowrap">{format::datetime(a.date)}</td>
            <td><span class=format!("status status-{}", status.to_ascii_lowercase())>{status}</span>{(!a.follow).then_some(" (unfollowed)")}</td>
        </tr>
    }
}
