//! The live activity panel beside every page (TheHive 3's flow): the organisation's latest
//! changes, or on a case page the case's own, kept current without a reload by a long-polled
//! stream. A page narrows the panel to a case with [`follow_case`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use super::browser;
use super::format;
use crate::api;
use crate::model::{Activity, AuditOperation, ErrorKind};

/// How many lines the panel keeps.
const KEEP: usize = 50;
/// Where the browser remembers whether the panel is open.
const OPEN_KEY: &str = "waggle-activity-open";

/// The case the panel follows (its id and number; `None`: the whole organisation), and a count
/// of the changes made to it by others that the panel has seen.
#[derive(Clone, Copy)]
struct Scope {
    case: RwSignal<Option<(String, i64)>>,
    changed: RwSignal<u32>,
}

/// Make the panel's scope available to the pages of the shell.
pub fn provide_scope() {
    provide_context(Scope { case: RwSignal::new(None), changed: RwSignal::new(0) });
}

/// Narrow the panel to the case `case` gives while the calling component lives; `on_change`
/// runs when the panel sees someone else change that case, so the page shows it too.
pub fn follow_case(case: impl Fn() -> Option<(String, i64)> + Send + Sync + 'static, on_change: impl Fn() + Send + Sync + 'static) {
    let Some(Scope { case: scope, changed }) = use_context::<Scope>() else { return };
    Effect::new(move |_| {
        let c = case();
        if scope.get_untracked() != c {
            scope.set(c);
        }
    });
    Effect::new(move |first: Option<()>| {
        changed.track();
        if first.is_some() {
            on_change();
        }
    });
    on_cleanup(move || {
        let _ = scope.try_set(None);
    });
}

/// The toggle in the top bar.
#[component]
pub fn ActivityToggle(open: RwSignal<bool>) -> impl IntoView {
    let toggle = move |_| {
        open.update(|o| *o = !*o);
        browser::remember(OPEN_KEY, if open.get_untracked() { "1" } else { "0" });
    };
    view! {
        <button class="icon-button activity-toggle" class:active=move || open.get() title="Live activity" aria-label="Live activity"
            aria-pressed=move || open.get().to_string() on:click=toggle>"⚡"</button>
    }
}

/// Whether the panel starts open: as the user left it, else open on screens wide enough for it
/// and a full cases table side by side.
pub fn initially_open() -> bool {
    match browser::remembered(OPEN_KEY).as_deref() {
        Some("1") => true,
        Some("0") => false,
        _ => window().inner_width().ok().and_then(|w| w.as_f64()).is_some_and(|w| w >= 1560.0),
    }
}

/// The panel (rendered only while open: a closed panel holds no stream).
#[component]
pub fn ActivityPanel() -> impl IntoView {
    let Scope { case: scope, changed } = expect_context::<Scope>();
    let me = super::auth::use_auth().current().map(|u| u.login).unwrap_or_default();
    let items = RwSignal::new(Vec::<Activity>::new());
    let error = RwSignal::new(None::<String>);
    let now = RwSignal::new(js_sys::Date::now() as i64);
    let alive = Arc::new(AtomicBool::new(true));
    {
        let alive = alive.clone();
        on_cleanup(move || alive.store(false, Ordering::Relaxed));
    }
    if let Ok(h) = set_interval_with_handle(move || now.set(js_sys::Date::now() as i64), std::time::Duration::from_secs(30)) {
        on_cleanup(move || h.clear());
    }

    // The latest changes, read again whenever the scope changes.
    Effect::new(move |_| {
        let wanted = scope.get();
        spawn_local(async move {
            let result = api::recent_activity(wanted.as_ref().map(|(id, _)| id.clone()), KEEP).await;
            // A slower answer for a scope left meanwhile is dropped.
            if scope.try_get_untracked().flatten() != wanted {
                return;
            }
            match result {
                Ok(list) => {
                    let _ = items.try_set(list);
                    let _ = error.try_set(None);
                }
                Err(e) => {
                    let _ = error.try_set(Some(e.to_string()));
                }
            }
        });
    });

    // The stream: new changes go on top (oldest first, so the newest ends up first).
    spawn_local(async move {
        let mut stream: Option<String> = None;
        while alive.load(Ordering::Relaxed) {
            let id = match &stream {
                Some(id) => id.clone(),
                None => match api::open_activity_stream().await {
                    Ok(id) => {
                        stream = Some(id.clone());
                        id
                    }
                    Err(e) if e.kind == ErrorKind::AuthenticationError => break,
                    Err(_) => {
                        browser::sleep(5_000).await;
                        continue;
                    }
                },
            };
            match api::next_activity(id, None).await {
                Ok(list) => {
                    if !alive.load(Ordering::Relaxed) {
                        break;
                    }
                    let Some(wanted) = scope.try_get_untracked() else { break };
                    let mut by_others = false;
                    let _ = items.try_update(|v| {
                        for a in list {
                            if wanted.as_ref().is_none_or(|(case, _)| a.root_id == *case) {
                                by_others |= a.by != me;
                                add_line(v, a);
                            }
                        }
                        v.truncate(KEEP);
                    });
                    if by_others && wanted.is_some() {
                        let _ = changed.try_update(|n| *n += 1);
                    }
                    let _ = now.try_set(js_sys::Date::now() as i64);
                }
                Err(e) if e.kind == ErrorKind::AuthenticationError => break,
                Err(_) => {
                    // Expired or lost: open another after a pause.
                    stream = None;
                    browser::sleep(3_000).await;
                }
            }
        }
    });

    view! {
        <aside class="activity-panel" aria-label="Live activity">
            <header class="activity-header">
                <h2>{move || match scope.get() {
                    Some((_, n)) => format!("Case #{n} activity"),
                    None => "Live activity".to_string(),
                }}</h2>
                <span class="live-dot" title="Updates as changes happen"></span>
            </header>
            {move || error.get().map(|e| view! { <div class="error-note">{e}</div> })}
            {move || {
                // Drawn again when the scope changes: a line reads differently inside a case.
                let in_case = scope.with(Option::is_some);
                view! {
                    <ol class="activity-list">
                        <For each=move || items.get() key=|a| a.id.clone() let:a>
                            <ActivityLine a=a now=now in_case=in_case/>
                        </For>
                    </ol>
                }
            }}
            <Show when=move || items.with(Vec::is_empty) && error.with(Option::is_none)>
                <p class="muted activity-empty">"No activity yet."</p>
            </Show>
        </aside>
    }
}

#[component]
fn ActivityLine(a: Activity, now: RwSignal<i64>, in_case: bool) -> impl IntoView {
    let at = a.at;
    let op_class = match a.operation {
        AuditOperation::Creation => "op-creation",
        AuditOperation::Update => "op-update",
        AuditOperation::Delete => "op-delete",
    };
    let target = link(&a);
    let what = if a.label.is_empty() { String::new() } else { a.label.clone() };
    // The case is named unless the line is the case's own, or the panel shows only that case.
    let case = a.case.clone().filter(|_| a.object_type != "case" && !in_case);
    let more = others(&a);
    view! {
        <li class=format!("activity-item {op_class}") data-object=a.object_type.clone()>
            <div class="activity-meta"><span class="who">{a.by.clone()}</span><span class="when" title=format::datetime(at)>{move || crate::date::ago(now.get(), at)}</span></div>
            <div class="activity-what">
                {verb(a.operation)}" "{format::object_label(&a.object_type).to_lowercase()}" "
                {match target {
                    Some(href) if a.operation != AuditOperation::Delete => view! { <A href=href attr:class="activity-label">{what}</A> }.into_any(),
                    _ => view! { <span class="activity-label">{what}</span> }.into_any(),
                }}
            </div>
            {case.map(|(n, title)| view! {
                <div class="activity-case">"in "<A href=format!("/cases/{n}")>"#"{n}" "{title}</A></div>
            })}
            {(!more.is_empty()).then(|| view! { <div class="activity-more">{more}</div> })}
        </li>
    }
}

/// Put a line on top, or fold it into the line of the same request (a request may commit in
/// several steps, read in separate polls); a line already shown (the first read and the stream
/// may overlap) is not added again.
fn add_line(lines: &mut Vec<Activity>, a: Activity) {
    if lines.iter().any(|x| x.id == a.id) {
        return;
    }
    let same_request = a.request_id.is_some().then(|| lines.iter_mut().find(|x| x.request_id == a.request_id)).flatten();
    match same_request {
        Some(line) => {
            for (ty, op, n) in a.summary {
                match line.summary.iter_mut().find(|(t, o, _)| *t == ty && *o == op) {
                    Some((_, _, m)) => *m += n,
                    None => line.summary.push((ty, op, n)),
                }
            }
        }
        None => lines.insert(0, a),
    }
}

fn verb(op: AuditOperation) -> &'static str {
    match op {
        AuditOperation::Creation => "added",
        AuditOperation::Update => "updated",
        AuditOperation::Delete => "deleted",
    }
}

/// Where a line leads: the case (its tab for observables and tasks), the alert list, the
/// dashboard.
fn link(a: &Activity) -> Option<String> {
    let case = a.case.as_ref().map(|(n, _)| *n);
    match a.object_type.as_str() {
        "case" => case.map(|n| format!("/cases/{n}")),
        "case_artifact" => case.map(|n| format!("/cases/{n}/observables")),
        "case_task" => case.map(|n| format!("/cases/{n}/tasks/{}", a.object_id)),
        "case_task_log" => case.map(|n| format!("/cases/{n}/tasks")),
        "alert" => Some("/alerts".into()),
        "dashboard" => Some(format!("/dashboards/{}", a.object_id)),
        _ => None,
    }
}

/// What else the request changed, in words: "+ 3 tasks added".
fn others(a: &Activity) -> String {
    a.summary
        .iter()
        .map(|(ty, op, n)| {
            let n = if ty == &a.object_type && *op == a.operation { n.saturating_sub(1) } else { *n };
            (ty, op, n)
        })
        .filter(|(_, _, n)| *n > 0)
        .map(|(ty, op, n)| {
            let word = format::object_label(ty).to_lowercase();
            let plural = if n > 1 && !word.ends_with('s') { "s" } else { "" };
            format!("+ {n} {word}{plural} {}", verb(*op))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity(ty: &str, summary: Vec<(&str, AuditOperation, u64)>) -> Activity {
        Activity {
            id: "e".into(),
            request_id: Some("r1".into()),
            at: 0,
            by: "ana".into(),
            operation: AuditOperation::Creation,
            object_type: ty.into(),
            object_id: "t1".into(),
            root_id: "c1".into(),
            label: "x".into(),
            case: Some((4, "Phishing".into())),
            summary: summary.into_iter().map(|(t, o, n)| (t.to_string(), o, n)).collect(),
        }
    }

    #[test]
    fn lines_say_what_else_changed_and_where_they_lead() {
        let a = activity("case", vec![("case", AuditOperation::Creation, 1), ("case_task", AuditOperation::Creation, 3)]);
        assert_eq!(others(&a), "+ 3 tasks added");
        assert_eq!(link(&a).as_deref(), Some("/cases/4"));
        let o = activity("case_artifact", vec![("case_artifact", AuditOperation::Creation, 2)]);
        assert_eq!(others(&o), "+ 1 observable added");
        assert_eq!(link(&o).as_deref(), Some("/cases/4/observables"));
        assert_eq!(link(&activity("case_task", vec![])).as_deref(), Some("/cases/4/tasks/t1"));
        assert_eq!(link(&activity("user", vec![])), None);
    }

    #[test]
    fn a_request_read_in_two_polls_stays_one_line() {
        let mut lines = vec![activity("case_artifact", vec![("case_artifact", AuditOperation::Creation, 1)])];
        let mut rest = activity("case_artifact", vec![("case_artifact", AuditOperation::Creation, 2)]);
        rest.id = "e2".into();
        add_line(&mut lines, rest);
        assert_eq!(lines.len(), 1);
        assert_eq!(others(&lines[0]), "+ 2 observables added");
        add_line(&mut lines, activity("case_artifact", vec![("case_artifact", AuditOperation::Creation, 5)]));
        assert_eq!(others(&lines[0]), "+ 2 observables added", "a line already shown is not added again");
        let mut another = activity("case", vec![("case", AuditOperation::Update, 1)]);
        another.id = "e3".into();
        another.request_id = Some("r2".into());
        add_line(&mut lines, another);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].id, "e3");
    }
}
