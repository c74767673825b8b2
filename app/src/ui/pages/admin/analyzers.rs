//! Analyzers (organisation-admins): the definitions found on the server, enabled per
//! organisation with a form made from their configuration items, rate, cache and timeout; the
//! quota used and left; and the jobs page (status filter, delete, purge old jobs).

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Map, Value};

use crate::api::{self, CatalogView, JobPage};
use crate::model::{Analyzer, AnalyzerDefinition, AnalyzerInput, ApiError, ConfigItem, ItemType, JobStatus, OverQuota, RateUnit};
use crate::ui::action::{Settle, confirm, fetched};
use crate::ui::analysis::{JobStatusPill, took};
use crate::ui::format;
use crate::ui::widgets::{ErrorNote, Modal};

/// The mask the server shows for a secret that is set; sent back, it keeps the secret.
pub const MASK: &str = "********";

/// A configuration value as the form shows it (a multi item: one value per line).
pub fn item_text(item: &ConfigItem, value: Option<&Value>) -> String {
    let one = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    match value.or(item.default_value.as_ref()) {
        None | Some(Value::Null) => String::new(),
        Some(Value::Array(a)) => a.iter().map(one).collect::<Vec<_>>().join("\n"),
        Some(v) => one(v),
    }
}

/// A form field's text as the item's value: `None` when left empty.
pub fn parse_item(item: &ConfigItem, text: &str) -> Result<Option<Value>, String> {
    let one = |s: &str| -> Result<Value, String> {
        match item.kind {
            ItemType::Number => s.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).ok_or_else(|| format!("{}: {s:?} is not a number", item.name)),
            ItemType::Boolean => match s.trim() {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                other => Err(format!("{}: {other:?} is not true or false", item.name)),
            },
            _ => Ok(Value::String(s.to_string())),
        }
    };
    if item.multi {
        let values: Vec<Value> = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(one).collect::<Result<_, _>>()?;
        return Ok(Some(Value::Array(values)));
    }
    if text.trim().is_empty() {
        return Ok(None);
    }
    // Integers stay integers (a port, a count).
    if item.kind == ItemType::Number {
        if let Ok(i) = text.trim().parse::<i64>() {
            return Ok(Some(Value::from(i)));
        }
    }
    one(if item.kind == ItemType::Text { text } else { text.trim() }).map(Some)
}

/// The configuration object of a filled form.
pub fn configuration(items: &[ConfigItem], texts: &[String]) -> Result<Map<String, Value>, String> {
    let mut m = Map::new();
    for (item, text) in items.iter().zip(texts) {
        if let Some(v) = parse_item(item, text)? {
            m.insert(item.name.clone(), v);
        }
    }
    Ok(m)
}

fn number(text: &str) -> Option<u32> {
    text.trim().parse().ok()
}

#[component]
pub fn AnalyzersAdmin() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let error = RwSignal::new(None::<ApiError>);
    let outcome = Settle::new(error, reload);
    let catalog = LocalResource::new(move || {
        reload.track();
        async move { api::analyzer_catalog().await }
    });
    let rescanned = RwSignal::new(None::<Result<CatalogView, ApiError>>);
    let rescan = move |_| {
        spawn_local(async move {
            let r = api::rescan_analyzers().await;
            if outcome.settle(r.clone()).is_some() {
                rescanned.set(Some(r));
            }
        });
    };
    // The form: enabling a definition, or changing an analyzer.
    let editing = RwSignal::new(None::<(AnalyzerDefinition, Option<Analyzer>)>);
    view! {
        <section class="card analyzers-admin">
            <div class="toolbar">
                <h2>"Analyzers of the organisation"</h2>
                <span class="spacer"></span>
                <button class="rescan" on:click=rescan title="Read the analyzers directories again">"Rescan definitions"</button>
            </div>
            <ErrorNote error=error/>
            {move || fetched(catalog.get(), move |c: CatalogView| {
                let defs = c.definitions.clone();
                let enabled = c.analyzers.clone();
                let def_of = move |id: &str| defs.iter().find(|d| d.id == id).cloned();
                view! {
                    {enabled.is_empty().then(|| view! { <p class="muted">"No analyzer is enabled yet: enable one from the definitions below."</p> })}
                    {(!enabled.is_empty()).then(|| view! {
                        <table class="grid enabled-analyzers">
                            <thead><tr><th>"Analyzer"</th><th>"Types"</th><th>"Rate"</th><th>"Quota"</th><th>"Cache"</th><th>"Timeout"</th><th></th></tr></thead>
                            <tbody>{enabled.clone().into_iter().map(|a| {
                                let def = def_of(&a.definition_id);
                                let (id, name) = (a.id.clone(), a.name.clone());
                                let a2 = a.clone();
                                view! {
                                    <tr data-analyzer=a.name.clone()>
                                        <td><strong>{a.name.clone()}</strong>{a.missing.then(|| view! { <div class="error-text small">"Definition missing: it cannot run"</div> })}
                                            <div class="muted small">{a.description.clone()}</div></td>
                                        <td class="small">{a.data_type_list.join(", ")}</td>
                                        <td>{match (a.rate, a.rate_unit) { (Some(r), Some(u)) => format!("{r} / {}", u.as_str()), _ => "unlimited".into() }}
                                            {(a.over_quota == OverQuota::Refuse).then(|| view! { <div class="muted small">"over it: refused (429)"</div> })}</td>
                                        <td class="quota">{a.quota.map(|q| format!("{} used, {} left{}", q.used, q.remaining, if q.waiting > 0 { format!(", {} waiting", q.waiting) } else { String::new() })).unwrap_or_else(|| "–".into())}</td>
                                        <td>{a.job_cache.map(|c| if c == 0 { "off".to_string() } else { format!("{c} min") })}</td>
                                        <td>{a.job_timeout.map(|t| format!("{t} min"))}</td>
                                        <td class="actions">
                                            {def.map(|d| view! { <button class="small edit-analyzer" on:click=move |_| editing.set(Some((d.clone(), Some(a2.clone()))))>"Configure"</button> })}
                                            " "<button class="small danger disable-analyzer" on:click=move |_| {
                                                let id = id.clone();
                                                if confirm(&format!("Disable {name}? Its past jobs stay.")) {
                                                    spawn_local(async move { outcome.settle(api::disable_analyzer(id).await); });
                                                }
                                            }>"Disable"</button>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}</tbody>
                        </table>
                    })}
                    <h3>"Definitions"</h3>
                    <p class="muted small">
                        {if c.directories.is_empty() { "No analyzers directory is configured (waggle serve --analyzers DIR).".to_string() } else { format!("Read from {}. Up to {} analyzers run at once.", c.directories.join(", "), c.concurrency) }}
                    </p>
                    {(!c.errors.is_empty()).then(|| view! {
                        <details class="definition-errors"><summary>{format!("{} definition(s) refused", c.errors.len())}</summary>
                            <ul>{c.errors.iter().map(|(f, e)| view! { <li><code>{f.clone()}</code>": "{e.clone()}</li> }).collect_view()}</ul>
                        </details>
                    })}
                    <table class="grid definitions">
                        <thead><tr><th>"Definition"</th><th>"Types"</th><th>"Description"</th><th></th></tr></thead>
                        <tbody>{c.definitions.into_iter().map(|d| {
                            let count = enabled.iter().filter(|a| a.definition_id == d.id).count();
                            let d2 = d.clone();
                            view! {
                                <tr data-definition=d.id.clone()>
                                    <td><strong>{d.name.clone()}</strong>" "<span class="muted small">{d.version.clone()}</span><div class="muted small"><code>{d.id.clone()}</code></div></td>
                                    <td class="small">{d.data_type_list.join(", ")}</td>
                                    <td class="small">{d.description.clone()}</td>
                                    <td>{if count > 0 {
                                        // Another analyzer of the same definition (another name and configuration).
                                        view! { <span class="muted small">"enabled "</span><button class="small enable-analyzer" title="Enable it again under another name, with another configuration" on:click=move |_| editing.set(Some((d2.clone(), None)))>"Enable another"</button> }.into_any()
                                    } else {
                                        view! { <button class="small primary enable-analyzer" on:click=move |_| editing.set(Some((d2.clone(), None)))>"Enable"</button> }.into_any()
                                    }}</td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any()
            })}
        </section>
        {move || editing.get().map(|(def, current)| view! {
            <AnalyzerForm def=def current=current on_close=Callback::new(move |_| editing.set(None))
                on_saved=Callback::new(move |_| { editing.set(None); reload.update(|r| *r += 1) })/>
        })}
    }
}

/// Enable a definition, or change an enabled analyzer: its configuration items, then the
/// rate, what happens over it, the cache and the timeout.
#[component]
fn AnalyzerForm(def: AnalyzerDefinition, current: Option<Analyzer>, on_close: Callback<()>, on_saved: Callback<()>) -> impl IntoView {
    let items = def.configuration_items.clone();
    let texts: Vec<RwSignal<String>> = items.iter().map(|i| RwSignal::new(item_text(i, current.as_ref().and_then(|a| a.configuration.get(&i.name))))).collect();
    let name = RwSignal::new(current.as_ref().map(|a| a.name.clone()).unwrap_or_else(|| def.id.clone()));
    let rate = RwSignal::new(current.as_ref().and_then(|a| a.rate).map(|r| r.to_string()).unwrap_or_default());
    let unit = RwSignal::new(current.as_ref().and_then(|a| a.rate_unit).unwrap_or(RateUnit::Day));
    let refuse = RwSignal::new(current.as_ref().is_some_and(|a| a.over_quota == OverQuota::Refuse));
    let cache = RwSignal::new(current.as_ref().and_then(|a| a.job_cache).unwrap_or(10).to_string());
    let timeout = RwSignal::new(current.as_ref().and_then(|a| a.job_timeout).unwrap_or(30).to_string());
    let error = RwSignal::new(None::<ApiError>);
    let editing_id = current.as_ref().map(|a| a.id.clone());
    let def_id = def.id.clone();
    let items2 = items.clone();
    let texts2 = texts.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let values: Vec<String> = texts2.iter().map(|t| t.get_untracked()).collect();
        let configuration = match configuration(&items2, &values) {
            Ok(c) => c,
            Err(e) => return error.set(Some(ApiError::new(crate::model::ErrorKind::AttributeCheckingError, e))),
        };
        let rate_value = number(&rate.get_untracked());
        let input = AnalyzerInput {
            name: Some(name.get_untracked()),
            configuration: Some(configuration),
            rate: Some(rate_value),
            rate_unit: Some(rate_value.map(|_| unit.get_untracked())),
            job_cache: Some(number(&cache.get_untracked())),
            job_timeout: Some(number(&timeout.get_untracked())),
            over_quota: Some(if refuse.get_untracked() { OverQuota::Refuse } else { OverQuota::Queue }),
        };
        let (editing_id, def_id) = (editing_id.clone(), def_id.clone());
        spawn_local(async move {
            let r = match editing_id {
                Some(id) => api::update_analyzer(id, input).await,
                None => api::enable_analyzer(def_id, input).await,
            };
            match r {
                Ok(_) => on_saved.run(()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let title = if current.is_some() { format!("Configure {}", def.name) } else { format!("Enable {}", def.name) };
    view! {
        <Modal title=title on_close=on_close>
            <form class="analyzer-form" on:submit=save>
                <p class="muted small">{def.description.clone()}" · "{def.data_type_list.join(", ")}</p>
                <label>"Name"<input type="text" name="analyzer-name" prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/></label>
                {items.into_iter().zip(texts).map(|(item, text)| {
                    let label = format!("{}{}", item.name, if item.required { " *" } else { "" });
                    let hint = format!("{}{}", item.description, if item.multi { " (one value per line)" } else { "" });
                    let secret = ["key", "password", "secret", "token"].iter().any(|w| item.name.to_ascii_lowercase().contains(w));
                    let field = if item.kind == ItemType::Boolean && !item.multi {
                        view! { <select name=item.name.clone() on:change=move |ev| text.set(event_target_value(&ev))>
                            <option value="" selected=move || text.get().is_empty()>"(default)"</option>
                            <option value="true" selected=move || text.get() == "true">"true"</option>
                            <option value="false" selected=move || text.get() == "false">"false"</option>
                        </select> }.into_any()
                    } else if item.multi || item.kind == ItemType::Text {
                        view! { <textarea name=item.name.clone() rows=3 prop:value=text on:input=move |ev| text.set(event_target_value(&ev))></textarea> }.into_any()
                    } else {
                        view! { <input type=if secret { "password" } else { "text" } name=item.name.clone() autocomplete="off" prop:value=text on:input=move |ev| text.set(event_target_value(&ev))/> }.into_any()
                    };
                    view! { <label class="config-item">{label}{field}<span class="muted small">{hint}</span></label> }
                }).collect_view()}
                <div class="form-row">
                    <label>"Rate"<input type="number" min="1" name="rate" placeholder="unlimited" prop:value=rate on:input=move |ev| rate.set(event_target_value(&ev))/></label>
                    <label>"per"<select name="rate-unit" on:change=move |ev| if let Some(u) = RateUnit::parse(&event_target_value(&ev)) { unit.set(u) }>
                        {RateUnit::ALL.into_iter().map(|u| view! { <option value=u.as_str() selected=move || unit.get() == u>{u.as_str()}</option> }).collect_view()}
                    </select></label>
                    <label class="inline"><input type="checkbox" name="refuse" prop:checked=refuse on:change=move |ev| refuse.set(event_target_checked(&ev))/>" Refuse over the rate (429) instead of queueing"</label>
                </div>
                <div class="form-row">
                    <label>"Cache (minutes, 0: off)"<input type="number" min="0" name="job-cache" prop:value=cache on:input=move |ev| cache.set(event_target_value(&ev))/></label>
                    <label>"Timeout (minutes)"<input type="number" min="1" max="1440" name="job-timeout" prop:value=timeout on:input=move |ev| timeout.set(event_target_value(&ev))/></label>
                </div>
                <ErrorNote error=error/>
                <div class="dialog-actions"><span class="spacer"></span><button type="submit" class="primary save-analyzer">"Save"</button></div>
            </form>
        </Modal>
    }
}

/// The organisation's jobs, newest first: filter by status, delete one, purge old ones.
#[component]
pub fn JobsAdmin() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let error = RwSignal::new(None::<ApiError>);
    let outcome = Settle::new(error, reload);
    let status = RwSignal::new(None::<JobStatus>);
    let from = RwSignal::new(0u64);
    let jobs = LocalResource::new(move || {
        reload.track();
        let (s, f) = (status.get(), from.get());
        async move { api::list_jobs(s, f).await }
    });
    let days = RwSignal::new("30".to_string());
    let notice = RwSignal::new(None::<String>);
    let purge = move |_| {
        let Some(d) = number(&days.get_untracked()) else { return };
        if !confirm(&format!("Remove every finished job older than {d} days, with its report?")) {
            return;
        }
        spawn_local(async move {
            if let Some(n) = outcome.settle(api::purge_jobs(d).await) {
                notice.set(Some(format!("{n} job(s) removed")));
            }
        });
    };
    let statuses = [JobStatus::Waiting, JobStatus::InProgress, JobStatus::Success, JobStatus::Failure, JobStatus::Deleted];
    view! {
        <section class="card jobs-admin">
            <div class="toolbar">
                <h2>"Analysis jobs"</h2>
                <select name="job-status" on:change=move |ev| { status.set(statuses.into_iter().find(|s| s.as_str() == event_target_value(&ev))); from.set(0) }>
                    <option value="">"All (not deleted)"</option>
                    {statuses.into_iter().map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                </select>
                <span class="spacer"></span>
                <label class="inline small">"Purge finished jobs older than "<input type="number" min="0" class="narrow" name="purge-days" prop:value=days on:input=move |ev| days.set(event_target_value(&ev))/>" days "</label>
                <button class="danger purge-jobs" on:click=purge>"Purge"</button>
            </div>
            <ErrorNote error=error/>
            {move || notice.get().map(|n| view! { <div class="ok-note block" role="status">{n}</div> })}
            {move || fetched(jobs.get(), move |p: JobPage| view! {
                <table class="grid jobs all-jobs">
                    <thead><tr><th>"Created"</th><th>"Analyzer"</th><th>"Data"</th><th>"Status"</th><th>"Took"</th><th>"By"</th><th></th></tr></thead>
                    <tbody>{p.jobs.into_iter().map(|j| {
                        let id = j.id.clone();
                        view! {
                            <tr data-job=j.id.clone()>
                                <td class="date">{format::datetime(j.created_at)}</td>
                                <td>{j.analyzer_name.clone()}</td>
                                <td><code>{j.data.clone().or_else(|| j.attachment.as_ref().map(|a| a.name.clone())).unwrap_or_default()}</code>" "<span class="muted small">{j.data_type.clone()}</span></td>
                                <td><JobStatusPill status=j.status/></td>
                                <td>{took(&j)}</td>
                                <td>{j.created_by.clone()}</td>
                                <td class="actions"><a href=format!("/jobs/{}", j.id)>"Report"</a>
                                    {(j.status != JobStatus::Deleted).then(|| view! { " "<button class="small danger delete-job" on:click=move |_| {
                                        let id = id.clone();
                                        spawn_local(async move { outcome.settle(api::delete_job(id).await); });
                                    }>"Delete"</button> })}</td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
                <div class="pager">
                    <span class="muted small">{format!("{} job(s)", p.total)}</span>
                    <button disabled=move || from.get() == 0 on:click=move |_| from.update(|f| *f = f.saturating_sub(50))>"Newer"</button>
                    <button disabled=move || from.get() + 50 >= p.total on:click=move |_| from.update(|f| *f += 50)>"Older"</button>
                </div>
            }.into_any())}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(kind: &str, multi: bool) -> ConfigItem {
        let kind = serde_json::from_value(json!(kind)).unwrap();
        ConfigItem { name: "x".into(), description: String::new(), kind, multi, required: false, default_value: None }
    }

    #[test]
    fn form_values_become_typed_configuration() {
        assert_eq!(parse_item(&item("number", false), " 42 "), Ok(Some(json!(42))));
        assert_eq!(parse_item(&item("number", false), "1.5"), Ok(Some(json!(1.5))));
        assert!(parse_item(&item("number", false), "many").is_err());
        assert_eq!(parse_item(&item("boolean", false), "true"), Ok(Some(json!(true))));
        assert_eq!(parse_item(&item("string", false), "  "), Ok(None), "empty means unset");
        assert_eq!(parse_item(&item("string", true), "a\n\n b \n"), Ok(Some(json!(["a", "b"]))));
        assert_eq!(parse_item(&item("string", true), ""), Ok(Some(json!([]))), "a multi item is a list");
        let with_default = ConfigItem { default_value: Some(json!(["r1", "r2"])), ..item("string", true) };
        assert_eq!(item_text(&with_default, None), "r1\nr2");
        assert_eq!(item_text(&item("boolean", false), Some(&json!(false))), "false");
        assert_eq!(item_text(&item("string", false), Some(&json!(MASK))), MASK, "a set secret shows its mask, sent back as is");
    }
}
