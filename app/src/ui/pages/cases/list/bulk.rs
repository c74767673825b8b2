//! What the cases list does to its selection: the bulk action bar (assign, add or remove tags,
//! flag, merge, close) and its dialogs.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use super::ListCtx;
use crate::api::{self, BulkOutcome, Member};
use crate::model::{ApiError, Case, CasePatch, CaseStatus, ErrorKind, ImpactStatus, ResolutionStatus};
use crate::ui::action::Settle;
use crate::ui::auth::use_auth;
use crate::ui::format::parse_tags;
use crate::ui::widgets::{ErrorNote, Modal, SeverityBadge, TlpBadge};

/// Apply `patch` to every selected case, in one call; `what` names it in the notice.
pub(super) fn bulk_update(list: ListCtx, outcome: Settle, patch: CasePatch, what: &'static str) {
    let ids: Vec<String> = list.selected.get_untracked().into_iter().collect();
    spawn_local(async move {
        if let Some(out) = outcome.settle(api::bulk_update_cases(ids, patch).await) {
            list.notice.set(Some(bulk_notice(what, &out)));
            list.selected.set(HashSet::new());
        }
    });
}

#[component]
pub(super) fn BulkBar(list: ListCtx, outcome: Settle, members: Signal<Vec<Member>>, merge_open: RwSignal<bool>, close_open: RwSignal<bool>) -> impl IntoView {
    let selected = list.selected;
    let bulk_tag = RwSignal::new(String::new());
    // Tags added to or removed from every selected case, in one call.
    let change_tags = move |remove: bool| {
        let Some((add, del)) = tag_change(&bulk_tag.get_untracked(), remove) else {
            list.error.set(Some(ApiError::new(ErrorKind::AttributeCheckingError, "Type the tags first (comma separated)")));
            return;
        };
        let ids: Vec<String> = selected.get_untracked().into_iter().collect();
        spawn_local(async move {
            if let Some(out) = outcome.settle(api::change_case_tags(ids, add, del).await) {
                list.notice.set(Some(tags_notice(remove, &out)));
                bulk_tag.set(String::new());
                selected.set(HashSet::new());
            }
        });
    };
    view! {
        <Show when=move || !selected.get().is_empty()>
            <div class="bulk-bar">
                <strong>{move || format!("{} selected", selected.get().len())}</strong>
                <select aria-label="Assign selected to" on:change=move |ev| {
                    let v = event_target_value(&ev);
                    if !v.is_empty() { bulk_update(list, outcome, CasePatch { owner: Some(v), ..Default::default() }, "Assigned") }
                }>
                    <option value="">"Assign to…"</option>
                    {move || members.get().into_iter().map(|m| view! { <option value=m.login.clone()>{m.name}</option> }).collect_view()}
                </select>
                <input id="bulk-tags" type="text" placeholder="tags, comma separated" aria-label="Tags to add or remove" prop:value=move || bulk_tag.get() on:input=move |ev| bulk_tag.set(event_target_value(&ev))/>
                <button id="bulk-add-tags" on:click=move |_| change_tags(false)>"Add tags"</button>
                <button id="bulk-remove-tags" on:click=move |_| change_tags(true)>"Remove tags"</button>
                <button on:click=move |_| bulk_update(list, outcome, CasePatch { flag: Some(true), ..Default::default() }, "Flagged")>"Flag"</button>
                <button id="bulk-merge" disabled=move || selected.get().len() < 2 title="Merge the selected cases into a new case"
                    on:click=move |_| merge_open.set(true)>"Merge…"</button>
                <button class="danger" on:click=move |_| close_open.set(true)>"Close…"</button>
                <button class="linklike" on:click=move |_| selected.set(HashSet::new())>"Clear selection"</button>
            </div>
        </Show>
    }
}

/// What a bulk update did, in words: `Closed: 3 case(s)`, with the refusals and their reasons.
pub fn bulk_notice(what: &str, out: &BulkOutcome) -> String {
    if out.failed.is_empty() {
        format!("{what}: {} case(s)", out.done)
    } else {
        let why: Vec<&str> = out.failed.iter().map(|(_, m)| m.as_str()).collect();
        format!("{what}: {} case(s); {} refused: {}", out.done, why.len(), why.join("; "))
    }
}

/// The tags to add and to remove from what was typed (`a, b`); `None` when nothing was.
pub fn tag_change(typed: &str, remove: bool) -> Option<(Vec<String>, Vec<String>)> {
    let tags = parse_tags(typed);
    if tags.is_empty() {
        None
    } else if remove {
        Some((Vec::new(), tags))
    } else {
        Some((tags, Vec::new()))
    }
}

/// What a tag change did, in words.
pub fn tags_notice(remove: bool, out: &BulkOutcome) -> String {
    format!("{}: {} case(s) changed", if remove { "Tags removed" } else { "Tags added" }, out.done)
}

/// The title TheHive gives a merge of these cases: `#n:title / #m:title`, by case number.
pub fn merged_title(cases: &[Case]) -> String {
    let mut list: Vec<&Case> = cases.iter().collect();
    list.sort_by_key(|c| c.case_id);
    list.iter().map(|c| format!("#{}:{}", c.case_id, c.title)).collect::<Vec<_>>().join(" / ")
}

/// Merge the selected cases (two or more) into a new case, then open it.
#[component]
pub(super) fn MergeSelectedDialog(cases: Signal<Vec<Case>>, on_close: Callback<()>) -> impl IntoView {
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
pub(super) fn BulkCloseDialog(count: Signal<usize>, on_close: Callback<()>, on_submit: Callback<CasePatch>) -> impl IntoView {
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

    #[test]
    fn notices_and_tag_changes() {
        let ok = BulkOutcome { done: 3, failed: vec![] };
        assert_eq!(bulk_notice("Closed", &ok), "Closed: 3 case(s)");
        let some = BulkOutcome { done: 1, failed: vec![("c1".into(), "locked".into()), ("c2".into(), "gone".into())] };
        assert_eq!(bulk_notice("Assigned", &some), "Assigned: 1 case(s); 2 refused: locked; gone");
        assert_eq!(tags_notice(true, &ok), "Tags removed: 3 case(s) changed");
        assert_eq!(tags_notice(false, &ok), "Tags added: 3 case(s) changed");
        assert_eq!(tag_change(" , ", false), None);
        assert_eq!(tag_change("a, b,a", false), Some((vec!["a".into(), "b".into()], vec![])));
        assert_eq!(tag_change("a", true), Some((vec![], vec!["a".into()])));
    }
}
