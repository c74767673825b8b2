//! The cases list: filters (in the URL, as removable chips, one saved per user and applied when
//! the list is opened without filters), sortable columns, paging, a multi-selection with bulk
//! actions (assign, add/remove tags, flag, close, merge), keyboard navigation.
//!
//! The page holds the state and the keyboard; its parts are components: the header and the
//! filter bar with its chips (`toolbar`), the table with its pager (`table`), the bulk action
//! bar and its dialogs (`bulk`). What they decide is in plain, tested functions.

mod bulk;
mod table;
mod toolbar;

use std::collections::HashSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate};

use bulk::{BulkBar, BulkCloseDialog, MergeSelectedDialog, bulk_update};
use table::CasesTable;
use toolbar::{FilterBar, FilterChips, ListHeader};

use super::case::NewCaseDialog;
use super::filter::CaseFilter;
use crate::api::{self, CaseLookups, CasePage};
use crate::model::{ApiError, CasePatch};
use crate::ui::action::Settle;
use crate::ui::auth::use_auth;
use crate::ui::widgets::{EmptyState, ErrorNote, Loading};

/// The key of the user's saved filter.
const PREF_KEY: &str = "cases";

/// What the list's parts share: the filter (read from the URL) and the way to change it (a new
/// URL), the selection, and the notes shown above the table.
#[derive(Clone, Copy)]
struct ListCtx {
    filter: Memo<CaseFilter>,
    apply: Callback<CaseFilter>,
    selected: RwSignal<HashSet<String>>,
    error: RwSignal<Option<ApiError>>,
    notice: RwSignal<Option<String>>,
}

impl ListCtx {
    /// Apply a change to the current filter, back on the first page.
    fn change(self, edit: impl FnOnce(&mut CaseFilter)) {
        let mut f = self.filter.get_untracked();
        edit(&mut f);
        f.page = 0;
        self.apply.run(f);
    }
}

#[component]
pub fn CasesPage() -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    let navigate = use_navigate();
    let filter = Memo::new(move |_| CaseFilter::from_query(&location.search.get()));
    let apply = {
        let navigate = navigate.clone();
        Callback::new(move |f: CaseFilter| navigate(&list_url(&f), Default::default()))
    };

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
    let members = Signal::derive(move || lookups.get().map(|l: CaseLookups| l.members).unwrap_or_default());

    let list = ListCtx {
        filter,
        apply,
        selected: RwSignal::new(HashSet::<String>::new()),
        error: RwSignal::new(None::<ApiError>),
        notice: RwSignal::new(None::<String>),
    };
    let selected = list.selected;
    let outcome = Settle::new(list.error, reload);
    let cursor = RwSignal::new(0usize);
    let new_open = RwSignal::new(false);
    let close_open = RwSignal::new(false);
    let merge_open = RwSignal::new(false);
    // A new page of rows: the selection and the cursor start over.
    Effect::new(move |_| {
        filter.track();
        selected.set(HashSet::new());
        cursor.set(0);
    });

    let rows = move || page.get().and_then(|r| r.ok()).map(|p: CasePage| p.items).unwrap_or_default();

    // Keyboard: j/k move, Enter opens, x selects.
    let open_row = StoredValue::new(move |i: usize| {
        if let Some(r) = rows().get(i) {
            navigate(&format!("/cases/{}", r.case.case_id), Default::default());
        }
    });
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if crate::ui::browser::typing(&ev) || new_open.get_untracked() || close_open.get_untracked() || merge_open.get_untracked() {
            return;
        }
        let rows = rows();
        match list_key(&ev.key(), cursor.get_untracked(), rows.len()) {
            Some(ListKey::Cursor(c)) => cursor.set(c),
            Some(ListKey::Open(i)) => open_row.with_value(|o| o(i)),
            Some(ListKey::Toggle(i)) => {
                if let Some(r) = rows.get(i) {
                    selected.update(|s| toggle(s, &r.case.id));
                }
            }
            None => {}
        }
    });
    on_cleanup(move || handle.remove());

    let count = Signal::derive(move || ready.get().then(|| page.get()).flatten().and_then(|r| r.ok()).map(|p| count_text(p.total)));

    view! {
        <div class="list-page">
            <ListHeader list=list count=count new_open=new_open/>
            <FilterBar list=list members=members saved=saved pref_key=PREF_KEY/>
            <FilterChips list=list saved=saved/>
            <ErrorNote error=list.error/>
            {move || list.notice.get().map(|n| view! { <div class="ok-note block" role="status">{n}</div> })}
            <BulkBar list=list outcome=outcome members=members merge_open=merge_open close_open=close_open/>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || if !ready.get() { Some(view! { <Loading/> }.into_any()) } else { page.get().map(|r| match r {
                    Err(e) => {
                        auth.check(&e);
                        view! { <div class="error-note" role="alert">{e.to_string()}</div> }.into_any()
                    }
                    Ok(p) if p.items.is_empty() => {
                        let (title, hint) = empty_text(filter.get() != CaseFilter::default_view());
                        view! { <EmptyState title=title hint=hint/> }.into_any()
                    }
                    Ok(p) => view! { <CasesTable list=list page=p cursor=cursor/> }.into_any(),
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
                    on_submit=Callback::new(move |patch: CasePatch| { close_open.set(false); bulk_update(list, outcome, patch, "Closed") })/>
            </Show>
        </div>
    }
}

/// The list's URL for a filter (the default view: plain `/cases`).
pub fn list_url(f: &CaseFilter) -> String {
    let qs = f.to_query();
    if qs.is_empty() { "/cases".to_string() } else { format!("/cases?{qs}") }
}

/// `1 case`, `12 cases`.
pub fn count_text(total: u64) -> String {
    format!("{total} case{}", if total == 1 { "" } else { "s" })
}

/// The empty list's title and hint: nothing matches the filters, or no open case at all.
pub fn empty_text(filtered: bool) -> (&'static str, &'static str) {
    if filtered {
        ("No case matches these filters", "Remove a filter above, or reset them.")
    } else {
        ("No open cases", "Create one with “New case”, or import one from an alert. Closed cases: Status “Any status”.")
    }
}

/// What a key does in the list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ListKey {
    /// Move the cursor to this row.
    Cursor(usize),
    /// Open this row's case.
    Open(usize),
    /// Select or unselect this row.
    Toggle(usize),
}

/// The list's keys: `j`/`k` move the cursor, `Enter` opens, `x` selects; `rows` on the page.
pub fn list_key(key: &str, cursor: usize, rows: usize) -> Option<ListKey> {
    match key {
        "j" if rows > 0 => Some(ListKey::Cursor((cursor + 1).min(rows - 1))),
        "k" => Some(ListKey::Cursor(cursor.saturating_sub(1))),
        "Enter" if rows > 0 => Some(ListKey::Open(cursor)),
        "x" if rows > 0 => Some(ListKey::Toggle(cursor)),
        _ => None,
    }
}

/// Select `id` if it was not, unselect it if it was.
pub fn toggle(selected: &mut HashSet<String>, id: &str) {
    if !selected.remove(id) {
        selected.insert(id.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_texts() {
        assert_eq!(list_url(&CaseFilter::default_view()), "/cases");
        assert_eq!(list_url(&CaseFilter { severity: Some(4), ..CaseFilter::default_view() }), "/cases?severity=4");
        assert_eq!(count_text(1), "1 case");
        assert_eq!(count_text(0), "0 cases");
        assert_eq!(empty_text(true).0, "No case matches these filters");
        assert_eq!(empty_text(false).0, "No open cases");
    }

    #[test]
    fn keys() {
        assert_eq!(list_key("j", 0, 3), Some(ListKey::Cursor(1)));
        assert_eq!(list_key("j", 2, 3), Some(ListKey::Cursor(2)), "stays on the last row");
        assert_eq!(list_key("j", 0, 0), None);
        assert_eq!(list_key("k", 0, 3), Some(ListKey::Cursor(0)));
        assert_eq!(list_key("k", 2, 3), Some(ListKey::Cursor(1)));
        assert_eq!(list_key("Enter", 1, 3), Some(ListKey::Open(1)));
        assert_eq!(list_key("Enter", 0, 0), None);
        assert_eq!(list_key("x", 2, 3), Some(ListKey::Toggle(2)));
        assert_eq!(list_key("q", 0, 3), None);
        let mut s = HashSet::new();
        toggle(&mut s, "a");
        toggle(&mut s, "b");
        toggle(&mut s, "a");
        assert_eq!(s, HashSet::from(["b".to_string()]));
    }
}
