//! A case's Observables tab: type, value, IOC and sighted toggles, tags, TLP, "seen in N other
//! cases" with links; add one or many (one value per line) or a file; edit one (tags, TLP,
//! description); bulk mark IOC/sighted, set TLP, run analyzers, delete; export CSV/JSON;
//! mini-reports of analyzers on each row, and "Analyze" to run them and read their reports.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use super::case::use_case;
use crate::api::{self, BulkOutcome, Sighting};
use crate::csv::Csv;
use crate::model::*;
use crate::ui::action::{Settle, confirm};
use crate::ui::analysis::{AnalyzeDialog, MiniReports};
use crate::ui::auth::use_auth;
use crate::ui::browser;
use crate::ui::format::{self, parse_tags};
use crate::ui::widgets::{EmptyState, ErrorNote, Modal, Tags, TlpBadge};

const FILE_INPUT: &str = "observable-file";

/// Observables as CSV: a header, one line per observable (through the one CSV writer, which
/// neutralises formulas).
pub fn to_csv(list: &[Observable]) -> String {
    let mut csv = Csv::new(',');
    csv.row(["dataType", "data", "tlp", "ioc", "sighted", "tags", "message", "seenInOtherCases", "createdAt"]);
    for o in list {
        csv.row([
            o.data_type.clone(),
            o.display_value().to_string(),
            format::tlp(o.tlp).0.to_string(),
            o.ioc.to_string(),
            o.sighted.to_string(),
            o.tags.join(";"),
            o.message.clone().unwrap_or_default(),
            o.seen.unwrap_or(0).to_string(),
            format::datetime(o.created_at),
        ]);
    }
    csv.finish()
}

/// What a bulk action did, in words.
pub fn outcome_text(what: &str, out: &BulkOutcome) -> String {
    if out.failed.is_empty() {
        format!("{what}: {}", out.done)
    } else {
        let why: Vec<String> = out.failed.iter().map(|(v, m)| format!("{v}: {m}")).collect();
        format!("{what}: {}; refused {}: {}", out.done, out.failed.len(), why.join("; "))
    }
}

#[component]
pub fn ObservablesTab() -> impl IntoView {
    let ctx = use_case();
    let error = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(None::<String>);
    let selected = RwSignal::new(HashSet::<String>::new());
    let reload = RwSignal::new(0u32);
    let outcome = Settle::new(error, reload);
    let list = LocalResource::new(move || {
        reload.track();
        ctx.reload.track();
        let id = ctx.case().map(|c| c.id).unwrap_or_default();
        async move { api::case_observables(id).await }
    });
    let items = move || list.get().and_then(|r| r.ok()).unwrap_or_default();
    // Observables with an analysis waiting or running: polled until none is; then the list is
    // read again (new mini-reports).
    let poll = RwSignal::new(0u32);
    let running = LocalResource::new(move || {
        reload.track();
        ctx.reload.track();
        poll.track();
        let id = ctx.case().map(|c| c.id).unwrap_or_default();
        async move { api::running_analyses(id).await.unwrap_or_default() }
    });
    let alive = RwSignal::new(true);
    on_cleanup(move || alive.set(false));
    let was_running = RwSignal::new(false);
    Effect::new(move |_| {
        let Some(list) = running.get() else { return };
        let now = !list.is_empty();
        if was_running.get_untracked() && !now {
            reload.update(|r| *r += 1);
        }
        was_running.set(now);
        if now {
            spawn_local(async move {
                browser::sleep(2_000).await;
                if alive.get_untracked() {
                    poll.update(|p| *p += 1);
                }
            });
        }
    });
    let is_running = move |id: &str| running.get().is_some_and(|l| l.iter().any(|x| x == id));
    let writable = move || ctx.case().is_some_and(|c| c.status != CaseStatus::Deleted);
    let case_number = move || ctx.case().map(|c| c.case_id).unwrap_or_default();
    let done = move |r: Result<BulkOutcome, ApiError>, what: &'static str| {
        if let Some(out) = outcome.settle(r) {
            notice.set(Some(outcome_text(what, &out)));
            selected.set(HashSet::new());
            ctx.refresh();
        }
    };
    let patch_ids = move |ids: Vec<String>, patch: ObservablePatch, what: &'static str| {
        spawn_local(async move { done(api::update_observables(ids, patch).await, what) });
    };
    let bulk_patch = move |patch: ObservablePatch, what: &'static str| patch_ids(selected.get_untracked().into_iter().collect(), patch, what);
    let bulk_delete = move |_| {
        let ids: Vec<String> = selected.get_untracked().into_iter().collect();
        if !confirm(&format!("Delete {} observable(s)?", ids.len())) {
            return;
        }
        spawn_local(async move { done(api::delete_observables(ids).await, "Deleted") });
    };
    let export = move |json: bool| {
        let list = items();
        let name = format!("case-{}-observables.{}", case_number(), if json { "json" } else { "csv" });
        if json {
            browser::download_text(&name, "application/json", &serde_json::to_string_pretty(&list).unwrap_or_default());
        } else {
            browser::download_text(&name, "text/csv", &to_csv(&list));
        }
    };

    let editing = RwSignal::new(None::<Observable>);
    let analyzing = RwSignal::new(None::<Observable>);
    let bulk_analyze = move |_| {
        let ids: Vec<String> = selected.get_untracked().into_iter().collect();
        spawn_local(async move {
            done(api::run_analyzers(ids, None, false).await, "Analyzers started");
            poll.update(|p| *p += 1);
        });
    };

    // The add form.
    let adding = RwSignal::new(false);
    let data_type = RwSignal::new("ip".to_string());
    let values = RwSignal::new(String::new());
    let tlp = RwSignal::new(2u8);
    let tags = RwSignal::new(String::new());
    let message = RwSignal::new(String::new());
    let ioc = RwSignal::new(false);
    let sighted = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let data_types = move || ctx.lookups.get().map(|l| l.data_types).unwrap_or_default();
    let is_file = move || data_types().iter().any(|t| t.name == data_type.get() && t.is_attachment);
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(c) = ctx.case() else { return };
        let meta = NewObservables {
            data_type: data_type.get_untracked(),
            data: NewObservables::values_from_lines(&values.get_untracked()),
            message: Some(message.get_untracked()).filter(|m| !m.trim().is_empty()),
            tlp: Some(tlp.get_untracked()),
            tags: Some(parse_tags(&tags.get_untracked())),
            ioc: Some(ioc.get_untracked()),
            sighted: Some(sighted.get_untracked()),
            ..Default::default()
        };
        let file = if is_file() { browser::chosen_file(FILE_INPUT) } else { None };
        if file.is_none() && meta.data.is_empty() {
            error.set(Some(ApiError::new(ErrorKind::AttributeCheckingError, if is_file() { "Choose a file" } else { "Give at least one value (one per line)" })));
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let r = match file {
                Some(f) => {
                    let mut json = serde_json::to_value(&meta).unwrap_or_default();
                    if let Some(m) = json.as_object_mut() {
                        m.remove("data");
                        m.retain(|_, v| !v.is_null());
                    }
                    browser::post_multipart(&format!("/api/case/{}/artifact", c.id), &json, &f).await.map(|_| BulkOutcome { done: 1, failed: Vec::new() })
                }
                None => api::add_observables(c.id, meta).await,
            };
            busy.set(false);
            if r.is_ok() {
                values.set(String::new());
                browser::clear_file(FILE_INPUT);
            }
            done(r, "Added");
        });
    };

    view! {
        <section class="card">
            <div class="toolbar">
                <Show when=writable><button class="primary" on:click=move |_| adding.update(|a| *a = !*a)>{move || if adding.get() { "Hide form" } else { "Add observables" }}</button></Show>
                <span class="spacer"></span>
                <button on:click=move |_| export(false) title="Download as CSV">"Export CSV"</button>
                <button on:click=move |_| export(true) title="Download as JSON">"Export JSON"</button>
            </div>
            <Show when=move || adding.get()>
                <form class="add-observables" on:submit=add>
                    <div class="form-row">
                        <label>"Type"
                            <select id="observable-type" on:change=move |ev| data_type.set(event_target_value(&ev))>
                                {move || data_types().into_iter().map(|t| { let n = t.name.clone(); view! { <option value=t.name.clone() selected=move || data_type.get() == n>{t.name.clone()}</option> } }).collect_view()}
                            </select>
                        </label>
                        <label>"TLP"<select on:change=move |ev| tlp.set(event_target_value(&ev).parse().unwrap_or(2))>
                            {(0u8..=3).map(|t| view! { <option value=t.to_string() selected=move || tlp.get() == t>{format::tlp(t).0}</option> }).collect_view()}
                        </select></label>
                        <label>"Tags"<input type="text" placeholder="comma separated" prop:value=move || tags.get() on:input=move |ev| tags.set(event_target_value(&ev))/></label>
                        <label class="inline"><input id="observable-ioc" type="checkbox" prop:checked=move || ioc.get() on:change=move |ev| ioc.set(event_target_checked(&ev))/>" IOC"</label>
                        <label class="inline"><input type="checkbox" prop:checked=move || sighted.get() on:change=move |ev| sighted.set(event_target_checked(&ev))/>" Sighted"</label>
                    </div>
                    {move || if is_file() {
                        view! { <label>"File "<input id=FILE_INPUT type="file"/></label> }.into_any()
                    } else {
                        view! { <textarea id="observable-values" rows=5 placeholder="One value per line" prop:value=move || values.get() on:input=move |ev| values.set(event_target_value(&ev))></textarea> }.into_any()
                    }}
                    <input type="text" class="wide-input" placeholder="Description (optional)" prop:value=move || message.get() on:input=move |ev| message.set(event_target_value(&ev))/>
                    <div class="dialog-actions">
                        <span class="muted small">{move || if is_file() { String::new() } else { format!("{} value(s)", NewObservables::values_from_lines(&values.get()).len()) }}</span>
                        <button type="submit" class="primary" disabled=move || busy.get()>"Add"</button>
                    </div>
                </form>
            </Show>
            <ErrorNote error=error/>
            {move || notice.get().map(|n| view! { <div class="ok-note block" role="status">{n}</div> })}
            <Show when=move || !selected.get().is_empty()>
                <div class="bulk-bar">
                    <strong>{move || format!("{} selected", selected.get().len())}</strong>
                    <button on:click=move |_| bulk_patch(ObservablePatch { ioc: Some(true), ..Default::default() }, "Marked IOC")>"Mark IOC"</button>
                    <button on:click=move |_| bulk_patch(ObservablePatch { ioc: Some(false), ..Default::default() }, "Unmarked IOC")>"Not IOC"</button>
                    <button on:click=move |_| bulk_patch(ObservablePatch { sighted: Some(true), ..Default::default() }, "Marked sighted")>"Mark sighted"</button>
                    <button on:click=move |_| bulk_patch(ObservablePatch { sighted: Some(false), ..Default::default() }, "Unmarked sighted")>"Not sighted"</button>
                    <select id="bulk-observable-tlp" aria-label="Set the TLP of the selected observables" on:change=move |ev| {
                        if let Ok(t) = event_target_value(&ev).parse::<u8>() { bulk_patch(ObservablePatch { tlp: Some(t), ..Default::default() }, "TLP set") }
                    }>
                        <option value="" selected=true>"Set TLP…"</option>
                        {(0u8..=3).map(|t| view! { <option value=t.to_string()>"TLP:"{format::tlp(t).0}</option> }).collect_view()}
                    </select>
                    <button class="bulk-analyze" title="Run every analyzer that takes each selected observable" on:click=bulk_analyze>"Run analyzers"</button>
                    <button class="danger" on:click=bulk_delete>"Delete…"</button>
                    <button class="linklike" on:click=move |_| selected.set(HashSet::new())>"Clear selection"</button>
                </div>
            </Show>
            {move || list.get().map(|r| match r {
                Err(e) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
                Ok(list) if list.is_empty() => view! { <EmptyState title="No observables" hint="Add IPs, domains, hashes, URLs… one per line, or a file."/> }.into_any(),
                Ok(list) => {
                    let all: Vec<String> = list.iter().map(|o| o.id.clone()).collect();
                    let all2 = all.clone();
                    view! {
                        <table class="grid observables">
                            <thead><tr>
                                <th class="check"><input type="checkbox" aria-label="Select all observables"
                                    prop:checked=move || { let s = selected.get(); !all.is_empty() && all.iter().all(|i| s.contains(i)) }
                                    on:change=move |ev| if event_target_checked(&ev) { selected.set(all2.iter().cloned().collect()) } else { selected.set(HashSet::new()) }/></th>
                                <th>"Type"</th><th>"Value"</th><th>"IOC"</th><th>"Sighted"</th><th>"Tags"</th><th>"TLP"</th><th>"Seen in"</th><th>"Added"</th><th class="actions"></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|o| view! { <ObservableRow running=Signal::derive({ let id = o.id.clone(); move || is_running(&id) }) o=o selected=selected writable=writable()
                                    on_patch=Callback::new(move |(id, patch): (String, ObservablePatch)| patch_ids(vec![id], patch, "Updated"))
                                    on_edit=Callback::new(move |o: Observable| editing.set(Some(o)))
                                    on_analyze=Callback::new(move |o: Observable| analyzing.set(Some(o)))/> }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }
            })}
            {move || analyzing.get().map(|o| view! {
                <AnalyzeDialog id=o.id.clone() label=format!("{} {}", o.data_type, o.display_value()) on_close=Callback::new(move |_| { analyzing.set(None); poll.update(|p| *p += 1) }) on_change=Callback::new(move |_| ctx.refresh())/>
            })}
            {move || editing.get().map(|o| view! {
                <ObservableEditDialog o=o on_close=Callback::new(move |_| editing.set(None))
                    on_saved=Callback::new(move |_| { editing.set(None); done(Ok(BulkOutcome { done: 1, failed: Vec::new() }), "Updated") })/>
            })}
        </section>
    }
}

/// The changes an edit makes to an observable: only the fields that differ.
pub fn edit_patch(o: &Observable, tags: &str, tlp: u8, message: &str) -> ObservablePatch {
    let tags = parse_tags(tags);
    let message = message.trim();
    ObservablePatch {
        tags: (tags != o.tags).then_some(tags),
        tlp: (tlp != o.tlp).then_some(tlp),
        message: (message != o.message.as_deref().unwrap_or("").trim()).then(|| message.to_string()),
        ..Default::default()
    }
}

/// Edit an observable's tags, TLP and description (the value and type do not change).
#[component]
fn ObservableEditDialog(o: Observable, on_close: Callback<()>, on_saved: Callback<()>) -> impl IntoView {
    let auth = use_auth();
    let tags = RwSignal::new(o.tags.join(", "));
    let tlp = RwSignal::new(o.tlp);
    let message = RwSignal::new(o.message.clone().unwrap_or_default());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let title = format!("Edit {} {}", o.data_type, o.display_value());
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let patch = edit_patch(&o, &tags.get_untracked(), tlp.get_untracked(), &message.get_untracked());
        if patch == ObservablePatch::default() {
            on_close.run(());
            return;
        }
        let id = o.id.clone();
        busy.set(true);
        spawn_local(async move {
            let r = api::update_observables(vec![id], patch).await;
            busy.set(false);
            match r {
                Ok(out) if out.failed.is_empty() => on_saved.run(()),
                Ok(out) => error.set(Some(ApiError::new(ErrorKind::BadRequest, out.failed.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join("; ")))),
                Err(e) => {
                    auth.check(&e);
                    error.set(Some(e));
                }
            }
        });
    };
    view! {
        <Modal title=title on_close=on_close>
            <form class="stacked-form wide observable-edit" on:submit=save>
                <label>"Tags"<input id="edit-observable-tags" type="text" placeholder="comma separated" prop:value=move || tags.get() on:input=move |ev| tags.set(event_target_value(&ev))/></label>
                <label>"TLP"<select id="edit-observable-tlp" on:change=move |ev| tlp.set(event_target_value(&ev).parse().unwrap_or(2))>
                    {(0u8..=3).map(|t| view! { <option value=t.to_string() selected=move || tlp.get() == t>"TLP:"{format::tlp(t).0}</option> }).collect_view()}
                </select></label>
                <label>"Description"<textarea id="edit-observable-message" rows=4 prop:value=move || message.get() on:input=move |ev| message.set(event_target_value(&ev))></textarea></label>
                <ErrorNote error=error/>
                <div class="dialog-actions">
                    <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="primary" disabled=move || busy.get()>{move || if busy.get() { "Saving…" } else { "Save" }}</button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
fn ObservableRow(
    o: Observable,
    selected: RwSignal<HashSet<String>>,
    writable: bool,
    on_patch: Callback<(String, ObservablePatch)>,
    on_edit: Callback<Observable>,
    on_analyze: Callback<Observable>,
    /// An analysis of it waits or runs.
    running: Signal<bool>,
) -> impl IntoView {
    let for_edit = o.clone();
    let for_analyze = o.clone();
    let id = o.id.clone();
    let (id1, id2, id3, id4) = (id.clone(), id.clone(), id.clone(), id.clone());
    let ioc = o.ioc;
    let sighted = o.sighted;
    let seen = o.seen.unwrap_or(0);
    let sightings = RwSignal::new(None::<Result<Vec<Sighting>, ApiError>>);
    let show_sightings = move |_| {
        if sightings.get_untracked().is_some() {
            sightings.set(None);
            return;
        }
        let id = id4.clone();
        spawn_local(async move { sightings.set(Some(api::observable_sightings(id).await)) });
    };
    let value = match &o.attachment {
        Some(a) => view! {
            <span class="file">"File: "<a href=format!("/api/datastore/{}?name={}", a.id, crate::url::encode_component(&a.name))>{a.name.clone()}</a>
                " "<a class="muted small" href=format!("/api/datastorezip/{}?name={}", a.id, crate::url::encode_component(&a.name)) title="Zip protected with the password “malware”">"(zip)"</a></span>
        }.into_any(),
        None => view! { <code class="value">{o.display_value().to_string()}</code> }.into_any(),
    };
    view! {
        <tr class:selected=move || selected.get().contains(&id) class:ioc=ioc>
            <td class="check"><input type="checkbox" aria-label=format!("Select {}", o.display_value())
                prop:checked=move || selected.get().contains(&id1)
                on:change=move |ev| { let c = event_target_checked(&ev); let id = id2.clone(); selected.update(|s| { if c { s.insert(id); } else { s.remove(&id); } }) }/></td>
            <td>{o.data_type.clone()}</td>
            <td class="value-cell">{value}{o.message.clone().filter(|m| !m.is_empty()).map(|m| view! { <div class="muted small">{m}</div> })}
                <MiniReports reports=o.reports.clone()/>
                <Show when=move || running.get()><span class="job-status running analyzing">"analyzing…"</span></Show></td>
            <td><button class="toggle ioc-toggle" class:on=ioc aria-pressed=ioc.to_string() title=if ioc { "IOC: click to unmark" } else { "Not an IOC: click to mark" }
                on:click={ let id = id3.clone(); move |_| on_patch.run((id.clone(), ObservablePatch { ioc: Some(!ioc), ..Default::default() })) }>{if ioc { "IOC" } else { "–" }}</button></td>
            <td><button class="toggle sighted-toggle" class:on=sighted aria-pressed=sighted.to_string() title=if sighted { "Sighted: click to unmark" } else { "Not sighted: click to mark" }
                on:click={ let id = id3.clone(); move |_| on_patch.run((id.clone(), ObservablePatch { sighted: Some(!sighted), ..Default::default() })) }>{if sighted { "Sighted" } else { "–" }}</button>
                {o.misp_sightings.map(|n| view! { <div class="muted small misp-sightings" title="Sightings of this value on the MISP servers it was sent to">{format!("MISP: {n} sighting{}", if n == 1 { "" } else { "s" })}</div> })}</td>
            <td><Tags tags=o.tags.clone()/></td>
            <td><TlpBadge level=o.tlp/></td>
            <td class="seen">
                {if seen == 0 {
                    view! { <span class="muted">"-"</span> }.into_any()
                } else {
                    view! { <button class="linklike small" on:click=show_sightings>{format!("{seen} other case{}", if seen == 1 { "" } else { "s" })}</button> }.into_any()
                }}
                {move || sightings.get().map(|r| match r {
                    Err(e) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
                    Ok(list) => view! {
                        <ul class="sightings">{list.into_iter().map(|s| view! {
                            <li><A href=format!("/cases/{}/observables", s.case.case_id)>"#"{s.case.case_id}" "{s.case.title.clone()}</A>{s.observable.ioc.then_some(" (IOC)")}</li>
                        }).collect_view()}</ul>
                    }.into_any(),
                })}
            </td>
            <td class="date">{format::datetime(o.created_at)}</td>
            <td class="actions">
                <button class="small analyze-observable" title="Run analyzers, see their reports" on:click=move |_| on_analyze.run(for_analyze.clone())>"Analyze"</button>
                {writable.then(|| view! {
                    " "<button class="small edit-observable" title="Edit tags, TLP and description" on:click=move |_| on_edit.run(for_edit.clone())>"Edit"</button>
                })}
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_send_only_what_changed() {
        let o: Observable = serde_json::from_value(serde_json::json!({
            "id": "o1", "case": "c1", "dataType": "ip", "data": "10.0.0.1", "startDate": 0, "tlp": 2,
            "tags": ["a"], "status": "Ok", "createdAt": 0, "createdBy": "x", "message": "seen"
        }))
        .unwrap();
        assert_eq!(edit_patch(&o, " a ", 2, "seen "), ObservablePatch::default());
        let p = edit_patch(&o, "a, b", 3, "");
        assert_eq!(p.tags, Some(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(p.tlp, Some(3));
        assert_eq!(p.message.as_deref(), Some(""), "clearing the description is a change");
        assert_eq!(edit_patch(&o, "", 2, "seen").tags, Some(Vec::new()));
    }

    #[test]
    fn csv_export() {
        let o: Observable = serde_json::from_value(serde_json::json!({
            "id": "o1", "case": "c1", "dataType": "domain", "data": "evil,example.com", "startDate": 0, "tlp": 3,
            "tags": ["a", "b"], "ioc": true, "status": "Ok", "createdAt": 0, "createdBy": "x", "seen": 2, "message": "=HYPERLINK()"
        }))
        .unwrap();
        let csv = to_csv(&[o]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "dataType,data,tlp,ioc,sighted,tags,message,seenInOtherCases,createdAt");
        assert_eq!(lines[1], "domain,\"evil,example.com\",RED,true,false,a;b,'=HYPERLINK(),2,1970-01-01 00:00");
    }

    #[test]
    fn outcomes() {
        assert_eq!(outcome_text("Added", &BulkOutcome { done: 2, failed: vec![] }), "Added: 2");
        let out = BulkOutcome { done: 1, failed: vec![("1.2.3.4".into(), "already in the case".into())] };
        assert_eq!(outcome_text("Added", &out), "Added: 1; refused 1: 1.2.3.4: already in the case");
    }
}
