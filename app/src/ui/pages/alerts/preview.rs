//! The alert preview panel (description, custom fields, observables with "seen in N cases" and
//! their analyzers' mini-reports ("Analyze" runs them), similar cases ranked by overlap; import with a
//! template, merge into a case, ignore), the
//! case picker used to merge, and [`CaseAlerts`]: the alerts a case came from, for the case
//! page.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, AlertPreview, CaseChoice, TriageAction};
use crate::model::{AlertObservable, ApiError};
use crate::ui::analysis::{AnalyzeDialog, MiniReports};
use crate::ui::auth::use_auth;
use crate::ui::format;
use crate::ui::widgets::{EmptyState, ErrorNote, Loading, SeverityBadge, TlpBadge};

/// Where a case is shown.
pub fn case_href(id: &str) -> String {
    format!("/cases/{id}")
}

/// "seen in N cases" (the eye icon's label).
pub fn seen_label(n: u64) -> String {
    match n {
        1 => "seen in 1 case".into(),
        n => format!("seen in {n} cases"),
    }
}

#[component]
pub fn AlertPreviewPanel(id: String, #[prop(into)] on_changed: Callback<String>) -> impl IntoView {
    let auth = use_auth();
    let reload = RwSignal::new(0u32);
    let id = StoredValue::new(id);
    let preview = LocalResource::new(move || {
        reload.track();
        let id = id.get_value();
        async move { api::preview_alert(id).await }
    });
    let templates = LocalResource::new(|| async { api::alert_templates().await.unwrap_or_default() });
    let template = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let merging = RwSignal::new(false);
    // The observable being analysed: its id and a label.
    let analyzing = RwSignal::new(None::<(String, String)>);
    let fail = move |e: ApiError| {
        auth.check(&e);
        error.set(Some(e));
        busy.set(false);
    };
    let import = move |_| {
        busy.set(true);
        let t = Some(template.get_untracked()).filter(|t| !t.is_empty());
        spawn_local(async move {
            match api::import_alert(id.get_value(), t).await {
                Ok(case) => {
                    busy.set(false);
                    error.set(None);
                    reload.update(|n| *n += 1);
                    on_changed.run(format!("Imported into case #{} {}", case.case_id, case.title));
                }
                Err(e) => fail(e),
            }
        });
    };
    let ignore = move |_| {
        busy.set(true);
        spawn_local(async move {
            match api::triage_alerts(vec![id.get_value()], TriageAction::Ignore).await {
                Ok(o) if o.failed.is_empty() => {
                    busy.set(false);
                    reload.update(|n| *n += 1);
                    on_changed.run("Alert ignored".into());
                }
                Ok(o) => fail(o.failed[0].1.clone()),
                Err(e) => fail(e),
            }
        });
    };
    let merge = Callback::new(move |c: CaseChoice| {
        merging.set(false);
        busy.set(true);
        spawn_local(async move {
            match api::merge_alerts(vec![id.get_value()], c.id.clone()).await {
                Ok(case) => {
                    busy.set(false);
                    error.set(None);
                    reload.update(|n| *n += 1);
                    on_changed.run(format!("Merged into case #{} {}", case.case_id, case.title));
                }
                Err(e) => fail(e),
            }
        });
    });

    view! {
        <Suspense fallback=|| view! { <Loading/> }>
            {move || preview.get().map(|r| match r {
                Err(e) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
                Ok(p) => preview_body(p, templates, template, busy, merging, merge, import, ignore, analyzing).into_any(),
            })}
        </Suspense>
        // Outside the preview's body: the preview is read again when a job ends, the dialog stays.
        {move || analyzing.get().map(|(id, label)| view! {
            <AnalyzeDialog id=id label=label on_close=Callback::new(move |_| analyzing.set(None)) on_change=Callback::new(move |_| reload.update(|n| *n += 1))/>
        })}
        <ErrorNote error=error/>
    }
}

#[allow(clippy::too_many_arguments)]
fn preview_body(
    p: AlertPreview,
    templates: LocalResource<Vec<String>>,
    template: RwSignal<String>,
    busy: RwSignal<bool>,
    merging: RwSignal<bool>,
    merge: Callback<CaseChoice>,
    import: impl Fn(leptos::ev::MouseEvent) + 'static,
    ignore: impl Fn(leptos::ev::MouseEvent) + 'static,
    analyzing: RwSignal<Option<(String, String)>>,
) -> impl IntoView {
    let a = p.alert.alert;
    let similar = p.alert.similar_cases;
    let imported = a.case_id.clone();
    let status = a.status.as_str();
    let default_template = a.case_template.clone().unwrap_or_default();
    if template.get_untracked().is_empty() && !default_template.is_empty() {
        template.set(default_template.clone());
    }
    let mut custom: Vec<(String, String)> = a
        .custom_fields
        .iter()
        .map(|(k, v)| (k.clone(), if v.value.is_null() { String::new() } else { v.value.to_string().trim_matches('"').to_string() }))
        .collect();
    custom.sort();
    view! {
        <div class="preview-head">
            <h2 class="preview-title">{a.title.clone()}</h2>
            <div class="preview-badges">
                <SeverityBadge severity=a.severity/><TlpBadge level=a.tlp/><TlpBadge level=a.pap kind="PAP"/>
                <span class=format!("status status-{}", status.to_ascii_lowercase())>{status}</span>
            </div>
            <dl class="facts">
                <dt>"Type"</dt><dd>{a.kind.clone()}</dd>
                <dt>"Source"</dt><dd>{a.source.clone()}</dd>
                <dt>"Reference"</dt><dd class="mono">{a.source_ref.clone()}</dd>
                <dt>"Date"</dt><dd>{format::datetime(a.date)}</dd>
                <dt>"Occurrences"</dt><dd>{a.occurrences}</dd>
                {a.external_link.clone().map(|l| view! { <dt>"Link"</dt><dd><a href=l.clone() target="_blank" rel="noopener noreferrer">{l.clone()}</a></dd> })}
                {imported.clone().map(|c| view! { <dt>"Case"</dt><dd><a href=case_href(&c)>"Open the case"</a></dd> })}
            </dl>
        </div>
        <div class="preview-actions">
            {imported.is_none().then(|| view! {
                <select aria-label="Case template for the import" on:change=move |ev| template.set(event_target_value(&ev)) prop:value=move || template.get()>
                    <option value="">"No template"</option>
                    {move || templates.get().unwrap_or_default().into_iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                </select>
                <button class="primary import" disabled=busy on:click=import>"Import as a case"</button>
                <button class="merge" disabled=busy on:click=move |_| merging.update(|m| *m = !*m)>"Merge into case…"</button>
                <button class="ignore" disabled=busy on:click=ignore>"Ignore"</button>
            })}
        </div>
        <Show when=move || merging.get()>
            <MergePicker on_pick=merge/>
        </Show>
        <section class="preview-section">
            <h3>"Description"</h3>
            <div class="markdown" inner_html=p.description_html></div>
        </section>
        {(!custom.is_empty()).then(|| view! {
            <section class="preview-section">
                <h3>"Custom fields"</h3>
                <dl class="facts">{custom.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}</dl>
            </section>
        })}
        <section class="preview-section">
            <h3>{format!("Observables ({})", a.observables.len())}</h3>
            <table class="grid observables">
                <thead><tr><th>"Type"</th><th>"Value"</th><th>"TLP"</th><th>"Seen"</th><th></th></tr></thead>
                <tbody>{a.observables.clone().into_iter().map(|o| observable_row(o, analyzing)).collect_view()}</tbody>
            </table>
        </section>
        <section class="preview-section">
            <h3>{format!("Similar cases ({})", similar.len())}</h3>
            {if similar.is_empty() {
                view! { <p class="muted">"No live case shares an observable with this alert."</p> }.into_any()
            } else {
                view! {
                    <ol class="similar-cases">
                        {similar.into_iter().map(|s| view! {
                            <li class="similar-case">
                                <a href=case_href(&s.case.id)>{format!("#{} {}", s.case.case_id, s.case.title)}</a>
                                <span class="overlap" title="Observables of this alert found in the case">
                                    {format!(" {} of {} observables", s.similar_observable_count, s.observable_count)}
                                    {(s.similar_ioc_count > 0).then(|| format!(", {} IOC{}", s.similar_ioc_count, if s.similar_ioc_count == 1 { "" } else { "s" }))}
                                </span>
                                <span class="muted">{format!(" · {:?}", s.case.status)}</span>
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
    }
}

fn observable_row(o: AlertObservable, analyzing: RwSignal<Option<(String, String)>>) -> impl IntoView {
    let seen = o.seen.unwrap_or(0);
    let value = o.display_value().to_string();
    let target = (o.id.clone(), format!("{} {}", o.data_type, value));
    let cases = o.seen_in.clone();
    view! {
        <tr class:ioc=o.ioc>
            <td>{o.data_type.clone()}</td>
            <td class="mono value">{value}{o.ioc.then_some(" (IOC)")}<MiniReports reports=o.reports.clone()/></td>
            <td><TlpBadge level=o.tlp/></td>
            <td class="seen-cell">
                {(seen > 0).then(|| {
                    let label = seen_label(seen);
                    let first = cases.first().cloned().unwrap_or_default();
                    view! {
                        <a class="seen" href=case_href(&first) title=label.clone() aria-label=label.clone()>
                            <svg class="eye" aria-hidden="true" viewBox="0 0 24 24" width="15" height="15">
                                <path d="M1 12s4-7 11-7 11 7 11 7-4 7-11 7S1 12 1 12z" fill="none" stroke="currentColor" stroke-width="2"/>
                                <circle cx="12" cy="12" r="3" fill="currentColor"/>
                            </svg>" "{seen}
                        </a>
                        {(cases.len() > 1).then(|| view! {
                            <span class="seen-more">{cases.iter().skip(1).enumerate().map(|(k, c)| view! {
                                <a href=case_href(c) title="Another case holding it">{format!(" {}", k + 2)}</a>
                            }).collect_view()}</span>
                        })}
                    }
                })}
            </td>
            <td class="actions"><button class="small analyze-observable" title="Run analyzers, see their reports"
                on:click=move |_| analyzing.set(Some(target.clone()))>"Analyze"</button></td>
        </tr>
    }
}

/// Pick a case to merge into: search by number or title.
#[component]
pub fn MergePicker(#[prop(into)] on_pick: Callback<CaseChoice>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let found = LocalResource::new(move || {
        let t = text.get();
        async move { api::find_cases_for_merge(t).await }
    });
    view! {
        <div class="merge-picker">
            <input type="search" class="merge-search" placeholder="Case number or title" aria-label="Case number or title" autofocus
                   prop:value=text on:input=move |ev| text.set(event_target_value(&ev))/>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || found.get().map(|r| match r {
                    Err(e) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No open case matches."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="case-choices">
                            {list.into_iter().map(|c| {
                                let label = format!("#{} {}", c.number, c.title);
                                view! { <li><button class="linklike case-choice" on:click=move |_| on_pick.run(c.clone())>{label}</button></li> }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Suspense>
        </div>
    }
}

/// The alerts a case was imported from or merged with (for the case page).
#[component]
pub fn CaseAlerts(#[prop(into)] case_id: String) -> impl IntoView {
    let id = StoredValue::new(case_id);
    let alerts = LocalResource::new(move || {
        let id = id.get_value();
        async move { api::case_alerts(id).await }
    });
    view! {
        <section class="case-alerts">
            <h3>"Alerts"</h3>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || alerts.get().map(|r| match r {
                    Err(e) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <EmptyState title="No alerts" hint="This case was not made from alerts."/> }.into_any(),
                    Ok(list) => view! {
                        <table class="grid">
                            <thead><tr><th>"Severity"</th><th>"Title"</th><th>"Type"</th><th>"Source"</th><th>"Reference"</th><th>"Date"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|a| view! {
                                    <tr>
                                        <td><SeverityBadge severity=a.severity/></td>
                                        <td><a href=format!("/alerts?status=all&q={}", crate::url::encode_component(&serde_json::json!({"_id": a.id}).to_string()))>{a.title}</a></td>
                                        <td>{a.kind}</td><td>{a.source}</td><td class="mono">{a.source_ref}</td><td>{format::datetime(a.date)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(seen_label(1), "seen in 1 case");
        assert_eq!(seen_label(3), "seen in 3 cases");
        assert_eq!(case_href("abc"), "/cases/abc");
    }
}
