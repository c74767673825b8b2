//! The cases table (sortable headers, a checkbox per row with shift-click ranges, the keyboard
//! cursor) and its pager.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos_router::components::A;

use super::ListCtx;
use crate::api::CasePage;
use crate::model::{Case, CaseStats, CaseStatus};
use crate::ui::format;
use crate::ui::pages::cases::filter::CaseFilter;
use crate::ui::widgets::{SeverityBadge, Tags, TlpBadge};

#[component]
pub(super) fn CasesTable(list: ListCtx, page: CasePage, cursor: RwSignal<usize>) -> impl IntoView {
    let ListCtx { filter, apply, selected, .. } = list;
    let last_clicked = RwSignal::new(None::<usize>);
    let ids: Vec<String> = page.items.iter().map(|r| r.case.id.clone()).collect();
    let all_ids = StoredValue::new(ids);
    let total = page.total;
    let sort_header = move |field: &'static str, label: &'static str| {
        view! {
            <th class="sortable" on:click=move |_| {
                let f = filter.get_untracked();
                apply.run(CaseFilter { sort: f.sorted_by(field), page: 0, ..f })
            }>{label}{move || filter.get().sort_mark(field)}</th>
        }
    };
    view! {
        <table class="grid cases">
            <thead><tr>
                <th class="check"><input type="checkbox" aria-label="Select all on this page"
                    prop:checked=move || all_ids.with_value(|ids| all_selected(&selected.get(), ids))
                    on:change=move |ev| if event_target_checked(&ev) { selected.set(all_ids.get_value().into_iter().collect()) } else { selected.set(HashSet::new()) }/></th>
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
                {page.items.into_iter().enumerate().map(|(i, r)| {
                    let c = r.case;
                    let s = r.stats;
                    let id = c.id.clone();
                    let id2 = c.id.clone();
                    let href = format!("/cases/{}", c.case_id);
                    let status = status_text(&c);
                    view! {
                        <tr class:selected=move || selected.get().contains(&id) class:cursor=move || cursor.get() == i data-case=c.case_id>
                            <td class="check"><input type="checkbox" aria-label=format!("Select case #{}", c.case_id)
                                prop:checked={ let id = id2.clone(); move || selected.get().contains(&id) }
                                on:click=move |ev: leptos::ev::MouseEvent| {
                                    let checked = event_target_checked(&ev);
                                    let last = last_clicked.get_untracked();
                                    all_ids.with_value(|ids| selected.update(|sel| check_rows(sel, ids, i, last, ev.shift_key(), checked)));
                                    last_clicked.set(Some(i));
                                }/></td>
                            <td class="num">{c.case_id}</td>
                            <td class="flagcol">{c.flag.then_some("⚑")}</td>
                            <td class="title"><A href=href>{c.title.clone()}</A>" "<Tags tags=c.tags.clone()/></td>
                            <td><SeverityBadge severity=c.severity/></td>
                            <td><TlpBadge level=c.tlp/></td>
                            <td><TlpBadge level=c.pap kind="PAP"/></td>
                            <td>{status}</td>
                            <td class="muted">{tasks_text(&s)}</td>
                            <td class="muted">{observables_text(&s)}</td>
                            <td>{c.owner.clone().unwrap_or_else(|| "-".into())}</td>
                            <td class="date">{format::datetime(c.start_date)}</td>
                            <td class="date">{format::datetime(c.created_at)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <div class="pager">
            <button disabled=move || filter.get().page == 0 on:click=move |_| { let f = filter.get_untracked(); apply.run(CaseFilter { page: f.page.saturating_sub(1), ..f }) }>"‹ Previous"</button>
            <span>{move || format!("Page {} of {}", filter.get().page + 1, CaseFilter::page_count(total))}</span>
            <button disabled=move || { filter.get().page + 1 >= CaseFilter::page_count(total) } on:click=move |_| { let f = filter.get_untracked(); apply.run(CaseFilter { page: f.page + 1, ..f }) }>"Next ›"</button>
            <span class="muted keys">"j/k move · Enter opens · x selects · / searches"</span>
        </div>
    }
}

/// A case's status as the list shows it: `Resolved (True positive)` with its resolution.
pub fn status_text(c: &Case) -> String {
    match (c.status, c.resolution_status) {
        (CaseStatus::Resolved, Some(rs)) => format!("Resolved ({})", rs.label()),
        (st, _) => st.as_str().to_string(),
    }
}

/// Tasks done (completed or cancelled) out of all: `2/5`, `-` without tasks.
pub fn tasks_text(s: &CaseStats) -> String {
    if s.tasks.total == 0 { "-".to_string() } else { format!("{}/{}", s.tasks.completed + s.tasks.cancel, s.tasks.total) }
}

/// Observables and IOCs among them: `12 (3 IOC)`, `-` without observables.
pub fn observables_text(s: &CaseStats) -> String {
    if s.observables == 0 {
        "-".to_string()
    } else if s.iocs > 0 {
        format!("{} ({} IOC)", s.observables, s.iocs)
    } else {
        s.observables.to_string()
    }
}

/// Whether every row of the page (and at least one) is selected.
pub fn all_selected(selected: &HashSet<String>, ids: &[String]) -> bool {
    !ids.is_empty() && ids.iter().all(|i| selected.contains(i))
}

/// A click on row `i`'s checkbox, which is now `checked`: that row, or with shift the rows from
/// the last clicked one to it, become selected (or unselected) like it.
pub fn check_rows(selected: &mut HashSet<String>, ids: &[String], i: usize, last: Option<usize>, shift: bool, checked: bool) {
    let range = match (shift, last) {
        (true, Some(j)) => i.min(j)..=i.max(j),
        _ => i..=i,
    };
    for id in range.filter_map(|k| ids.get(k)) {
        if checked {
            selected.insert(id.clone());
        } else {
            selected.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ResolutionStatus, TaskCounts};

    fn ids() -> Vec<String> {
        ["a", "b", "c", "d", "e"].iter().map(|s| s.to_string()).collect()
    }

    fn set(items: &[&str]) -> HashSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn shift_click_selects_a_range() {
        let mut sel = HashSet::new();
        check_rows(&mut sel, &ids(), 1, None, false, true);
        assert_eq!(sel, set(&["b"]));
        check_rows(&mut sel, &ids(), 3, Some(1), true, true);
        assert_eq!(sel, set(&["b", "c", "d"]));
        // Backwards, unchecking.
        check_rows(&mut sel, &ids(), 2, Some(3), true, false);
        assert_eq!(sel, set(&["b"]));
        // Shift without an earlier click: that row only; past the end: nothing.
        check_rows(&mut sel, &ids(), 4, None, true, true);
        assert_eq!(sel, set(&["b", "e"]));
        check_rows(&mut sel, &ids(), 9, None, false, true);
        assert_eq!(sel.len(), 2);
        assert!(!all_selected(&sel, &ids()));
        assert!(all_selected(&set(&["a", "b", "c", "d", "e", "z"]), &ids()));
        assert!(!all_selected(&HashSet::new(), &[]), "an empty page is not all selected");
    }

    #[test]
    fn cells() {
        let mut s = CaseStats::default();
        assert_eq!((tasks_text(&s), observables_text(&s)), ("-".to_string(), "-".to_string()));
        s.tasks = TaskCounts { total: 5, completed: 1, cancel: 1, ..Default::default() };
        s.observables = 12;
        assert_eq!((tasks_text(&s), observables_text(&s)), ("2/5".to_string(), "12".to_string()));
        s.iocs = 3;
        assert_eq!(observables_text(&s), "12 (3 IOC)");
        let mut c: Case = serde_json::from_value(serde_json::json!({
            "id": "c1", "caseId": 1, "title": "t", "severity": 2, "startDate": 0, "tlp": 2, "pap": 2,
            "status": "Open", "createdAt": 0, "createdBy": "x"
        }))
        .unwrap();
        assert_eq!(status_text(&c), "Open");
        c.status = CaseStatus::Resolved;
        c.resolution_status = Some(ResolutionStatus::TruePositive);
        assert_eq!(status_text(&c), format!("Resolved ({})", ResolutionStatus::TruePositive.label()));
    }
}
