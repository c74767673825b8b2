//! Analysis in the UI: mini-report badges on observables, the "Analyze" dialog (run analyzers,
//! follow their jobs), and the report page (`/jobs/:id`: summary, artifacts to add, the full
//! report as a tree, raw JSON, the observable's other jobs).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use serde_json::{Map, Value};

use crate::api;
use crate::model::{ApiError, Job, JobStatus, Taxonomy};
use crate::ui::action::fetched;
use crate::ui::browser;
use crate::ui::format;
use crate::ui::widgets::{ErrorNote, Modal, TlpBadge};

/// The CSS class of a taxonomy level (unknown levels show as info).
pub fn level_class(level: &str) -> &'static str {
    match level {
        "safe" => "level-safe",
        "suspicious" => "level-suspicious",
        "malicious" => "level-malicious",
        _ => "level-info",
    }
}

/// An observable's mini-reports: `(analyzer, taxonomy)`, analyzers in name order.
pub fn mini_reports(reports: &Map<String, Value>) -> Vec<(String, Taxonomy)> {
    let mut names: Vec<&String> = reports.keys().collect();
    names.sort();
    names.into_iter().flat_map(|n| Taxonomy::of_report(&reports[n]).into_iter().map(move |t| (n.clone(), t))).collect()
}

/// Whether a job is still to finish (the dialog keeps polling).
pub fn pending(jobs: &[Job]) -> bool {
    jobs.iter().any(|j| !j.status.is_finished())
}

pub fn status_class(s: JobStatus) -> &'static str {
    match s {
        JobStatus::Waiting => "job-status waiting",
        JobStatus::InProgress => "job-status running",
        JobStatus::Success => "job-status success",
        JobStatus::Failure => "job-status failure",
        JobStatus::Deleted => "job-status deleted",
    }
}

/// How long a job ran (or has waited), in words.
pub fn took(j: &Job) -> String {
    match (j.start_date, j.end_date) {
        (Some(s), Some(e)) => format!("{:.1} s", (e - s).max(0) as f64 / 1000.0),
        _ => String::new(),
    }
}

/// One badge per taxonomy, coloured by level.
#[component]
pub fn MiniReports(reports: Map<String, Value>, #[prop(optional)] link: Option<String>) -> impl IntoView {
    let list = mini_reports(&reports);
    (!list.is_empty()).then(|| {
        view! {
            <span class="mini-reports">
                {list.into_iter().map(|(analyzer, t)| {
                    let title = format!("{analyzer}: {}", t.label());
                    let badge = view! { <span class=format!("taxonomy {}", level_class(&t.level)) title=title>{format!("{}:{}=", t.namespace, t.predicate)}<b>{match &t.value { Value::String(s) => s.clone(), v => v.to_string() }}</b></span> };
                    match &link {
                        Some(href) => view! { <A href=href.clone() attr:class="taxonomy-link">{badge}</A> }.into_any(),
                        None => badge.into_any(),
                    }
                }).collect_view()}
            </span>
        }
    })
}

#[component]
pub fn JobStatusPill(status: JobStatus) -> impl IntoView {
    view! { <span class=status_class(status)>{status.as_str()}</span> }
}

/// Run analyzers on one observable (a case's or an alert's: `id`, and `label` naming it) and
/// follow its jobs.
#[component]
pub fn AnalyzeDialog(id: String, #[prop(into)] label: String, on_close: Callback<()>, on_change: Callback<()>) -> impl IntoView {
    let error = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(None::<String>);
    let chosen = RwSignal::new(Vec::<String>::new());
    let force = RwSignal::new(false);
    let tick = RwSignal::new(0u32);
    // Bumped after each run: the analyzers' quotas are read again.
    let ran = RwSignal::new(0u32);
    let alive = RwSignal::new(true);
    on_cleanup(move || alive.set(false));
    let analyzers = LocalResource::new({
        let id = id.clone();
        move || {
            ran.track();
            let id = id.clone();
            async move { api::analyzers_for_observable(id).await }
        }
    });
    let jobs = LocalResource::new({
        let id = id.clone();
        move || {
            tick.track();
            let id = id.clone();
            async move { api::observable_jobs(id).await }
        }
    });
    // Poll while a job waits or runs; tell the page when one finished (new mini-reports).
    let was_pending = RwSignal::new(false);
    Effect::new(move |_| {
        let Some(Ok(list)) = jobs.get() else { return };
        let now = pending(&list);
        if was_pending.get_untracked() && !now {
            on_change.run(());
        }
        was_pending.set(now);
        if now {
            spawn_local(async move {
                browser::sleep(1_000).await;
                if alive.get_untracked() {
                    tick.update(|t| *t += 1);
                }
            });
        }
    });
    let run = {
        let id = id.clone();
        move |which: Option<Vec<String>>| {
            let id = id.clone();
            spawn_local(async move {
                match api::run_analyzers(vec![id], which, force.get_untracked()).await {
                    Ok(out) => {
                        error.set(None);
                        let failed = out.failed.iter().map(|(w, e)| format!("{w}: {e}")).collect::<Vec<_>>().join("; ");
                        notice.set(Some(if failed.is_empty() { format!("{} job(s) started", out.done) } else { format!("{} job(s) started; {failed}", out.done) }));
                        tick.update(|t| *t += 1);
                        ran.update(|r| *r += 1);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    let run_chosen = {
        let run = run.clone();
        move |_| run(Some(chosen.get_untracked()))
    };
    let run_all = move |_| run(None);
    let title = format!("Analyze {label}");
    view! {
        <Modal title=title on_close=on_close>
            <div class="analyze-dialog">
                <ErrorNote error=error/>
                {move || notice.get().map(|n| view! { <div class="ok-note block" role="status">{n}</div> })}
                {move || fetched(analyzers.get(), |list: Vec<crate::model::Analyzer>| {
                    if list.is_empty() {
                        return view! { <p class="muted">"No analyzer of this organisation takes this type. An organisation administrator enables them in Administration › Analyzers."</p> }.into_any();
                    }
                    view! {
                        <div class="analyzer-choices">
                            {list.into_iter().map(|a| {
                                let (n1, n2) = (a.run_key(), a.run_key());
                                let remote = (a.cortex_id != crate::model::LOCAL_ENGINE).then(|| format!(" (on {})", a.cortex_id));
                                let quota = a.quota.map(|q| format!(" · {} of {} left", q.remaining, q.used + q.remaining)).unwrap_or_default();
                                view! {
                                    <label class="analyzer-choice">
                                        <input type="checkbox" name=a.name.clone() prop:checked=move || chosen.with(|c| c.contains(&n1))
                                            on:change=move |ev| { let on = event_target_checked(&ev); let n = n2.clone(); chosen.update(|c| { c.retain(|x| *x != n); if on { c.push(n) } }) }/>
                                        <strong>{a.name.clone()}</strong>{remote}
                                        <span class="muted small">" "{a.description.clone()}{quota}</span>
                                    </label>
                                }
                            }).collect_view()}
                        </div>
                        <div class="dialog-actions">
                            <label class="inline small"><input type="checkbox" prop:checked=force on:change=move |ev| force.set(event_target_checked(&ev))/>" Ignore cached reports"</label>
                            <span class="spacer"></span>
                            <button class="run-chosen" disabled=move || chosen.with(|c| c.is_empty()) on:click=run_chosen.clone()>"Run selected"</button>
                            <button class="primary run-all" on:click=run_all.clone()>"Run all"</button>
                        </div>
                    }.into_any()
                })}
                <h3>"Jobs"</h3>
                {move || fetched(jobs.get(), |list: Vec<Job>| view! { <JobTable jobs=list/> }.into_any())}
            </div>
        </Modal>
    }
}

/// Jobs with their status and a link to their report.
#[component]
pub fn JobTable(jobs: Vec<Job>) -> impl IntoView {
    if jobs.is_empty() {
        return view! { <p class="muted">"No job yet."</p> }.into_any();
    }
    view! {
        <table class="grid jobs">
            <thead><tr><th>"Analyzer"</th><th>"Status"</th><th>"Started"</th><th>"Took"</th><th>"By"</th><th></th></tr></thead>
            <tbody>{jobs.into_iter().map(|j| view! {
                <tr data-job=j.id.clone()>
                    <td>{j.analyzer_name.clone()}{j.from_cache.then(|| view! { <span class="muted small">" (cached)"</span> })}</td>
                    <td><JobStatusPill status=j.status/>{j.error_message.clone().map(|m| view! { <div class="muted small error-text">{m}</div> })}</td>
                    <td class="date">{format::datetime(j.start_date.unwrap_or(j.created_at))}</td>
                    <td>{took(&j)}</td>
                    <td>{j.created_by.clone()}</td>
                    <td><A href=format!("/jobs/{}", j.id) attr:class="open-report">"Report"</A></td>
                </tr>
            }).collect_view()}</tbody>
        </table>
    }
    .into_any()
}

/// A JSON value as nested tables (objects: key/value rows; arrays: numbered rows).
#[component]
pub fn JsonTree(value: Value) -> impl IntoView {
    match value {
        Value::Object(m) if !m.is_empty() => view! {
            <table class="json-tree"><tbody>{m.into_iter().map(|(k, v)| view! {
                <tr><th>{k}</th><td><JsonTree value=v/></td></tr>
            }).collect_view()}</tbody></table>
        }
        .into_any(),
        Value::Array(a) if !a.is_empty() => view! {
            <table class="json-tree array"><tbody>{a.into_iter().enumerate().map(|(i, v)| view! {
                <tr><th class="muted">{i + 1}</th><td><JsonTree value=v/></td></tr>
            }).collect_view()}</tbody></table>
        }
        .into_any(),
        Value::String(s) => view! { <span class="json-string">{s}</span> }.into_any(),
        Value::Null => view! { <span class="muted">"–"</span> }.into_any(),
        other => view! { <span class="json-scalar">{other.to_string()}</span> }.into_any(),
    }
}

/// The report of one job.
#[component]
pub fn JobPage() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let tick = RwSignal::new(0u32);
    let alive = RwSignal::new(true);
    on_cleanup(move || alive.set(false));
    let view_data = LocalResource::new(move || {
        tick.track();
        let id = id();
        async move { api::job_details(id).await }
    });
    Effect::new(move |_| {
        if let Some(Ok(v)) = view_data.get() {
            if !v.job.status.is_finished() {
                spawn_local(async move {
                    browser::sleep(1_000).await;
                    if alive.get_untracked() {
                        tick.update(|t| *t += 1);
                    }
                });
            }
        }
    });
    let error = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(None::<String>);
    let add = move |indices: Option<Vec<usize>>| {
        spawn_local(async move {
            match api::add_job_artifacts(id(), indices).await {
                Ok(out) => {
                    error.set(None);
                    let failed = out.failed.iter().map(|(w, e)| format!("{w}: {e}")).collect::<Vec<_>>().join("; ");
                    notice.set(Some(if failed.is_empty() { format!("{} observable(s) added to the case", out.done) } else { format!("{} added; {failed}", out.done) }));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <div class="wide-page job-page">
            {move || fetched(view_data.get(), move |v: api::JobView| {
                let j = v.job.clone();
                let back = v.case_number.map(|n| format!("/cases/{n}/observables"));
                let subject = v.observable.as_ref().map(|o| format!("{} {}", o.data_type, o.display_value())).unwrap_or_else(|| format!("{} {}", j.data_type, j.data.clone().unwrap_or_default()));
                let raw = v.report.as_ref().map(|r| serde_json::to_string_pretty(r).unwrap_or_default()).unwrap_or_default();
                view! {
                    <div class="page-head">
                        <h1>{j.analyzer_name.clone()}" on "<code>{subject}</code></h1>
                        {back.map(|b| view! { <A href=b attr:class="back-link">"← Back to the case's observables"</A> })}
                    </div>
                    <section class="card job-summary">
                        <div class="job-facts">
                            <JobStatusPill status=j.status/>
                            <TlpBadge level=j.tlp/>
                            <span class="muted">"Started "{format::datetime(j.start_date.unwrap_or(j.created_at))}</span>
                            <span class="muted">{took(&j)}</span>
                            <span class="muted">"by "{j.created_by.clone()}</span>
                            {j.from_cache.then(|| view! { <span class="muted">"(from the cache)"</span> })}
                        </div>
                        {v.report.clone().map(|r| if r.success {
                            let mut entry = Map::new();
                            entry.insert(j.analyzer_name.clone(), serde_json::json!({ "taxonomies": r.summary.get("taxonomies").cloned().unwrap_or(Value::Array(Vec::new())) }));
                            view! { <div class="job-taxonomies"><MiniReports reports=entry/></div> }.into_any()
                        } else {
                            view! { <div class="error-note job-error">{r.error_message.clone().unwrap_or_else(|| "The analyzer failed".into())}</div> }.into_any()
                        })}
                        {(!j.status.is_finished()).then(|| view! { <p class="muted">"The job is "{j.status.as_str()}"…"</p> })}
                    </section>
                    <ErrorNote error=error/>
                    {move || notice.get().map(|n| view! { <div class="ok-note block" role="status">{n}</div> })}
                    {v.report.clone().filter(|r| r.success && !r.artifacts.is_empty()).map(|r| view! {
                        <section class="card job-artifacts">
                            <div class="toolbar"><h2>"Artifacts"</h2><span class="spacer"></span>
                                {v.case_number.map(|_| view! { <button class="primary add-all-artifacts" on:click=move |_| add(None)>"Add all as observables"</button> })}
                            </div>
                            <table class="grid artifacts">
                                <thead><tr><th>"Type"</th><th>"Value"</th><th>"Tags"</th><th></th></tr></thead>
                                <tbody>{r.artifacts.into_iter().enumerate().map(|(i, a)| view! {
                                    <tr>
                                        <td>{a.data_type.clone()}</td>
                                        <td>{match &a.attachment {
                                            Some(f) => view! { <a href=format!("/api/datastore/{}?name={}", f.id, crate::url::encode_component(&f.name))>{f.name.clone()}</a> }.into_any(),
                                            None => view! { <code>{a.data.clone().unwrap_or_default()}</code> }.into_any(),
                                        }}{a.message.clone().map(|m| view! { <div class="muted small">{m}</div> })}</td>
                                        <td>{a.tags.join(", ")}</td>
                                        <td>{v.case_number.map(|_| view! { <button class="small add-artifact" on:click=move |_| add(Some(vec![i]))>"Add as observable"</button> })}</td>
                                    </tr>
                                }).collect_view()}</tbody>
                            </table>
                        </section>
                    })}
                    {v.report.clone().filter(|r| r.success).map(|r| view! {
                        <section class="card job-full">
                            <h2>"Report"</h2>
                            <JsonTree value=r.full.clone()/>
                            <details class="raw-json"><summary>"Raw JSON"</summary><pre>{raw.clone()}</pre></details>
                        </section>
                    })}
                    {(v.history.len() > 1).then(|| view! {
                        <section class="card job-history">
                            <h2>"Jobs on this observable"</h2>
                            <JobTable jobs=v.history.clone()/>
                        </section>
                    })}
                }.into_any()
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mini_reports_in_analyzer_order_with_levels() {
        let reports: Map<String, Value> = serde_json::from_value(json!({
            "Zeta_1_0": { "taxonomies": [{ "level": "malicious", "namespace": "Z", "predicate": "p", "value": 3 }] },
            "Alpha_1_0": { "taxonomies": [{ "level": "safe", "namespace": "A", "predicate": "q", "value": "ok" }] },
            "Broken": "not a report",
        }))
        .unwrap();
        let list = mini_reports(&reports);
        assert_eq!(list.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(), ["Alpha_1_0", "Zeta_1_0"]);
        assert_eq!(list[1].1.label(), "Z:p=\"3\"");
        assert_eq!(level_class("malicious"), "level-malicious");
        assert_eq!(level_class("whatever"), "level-info");
    }
}
