//! The widget editor: type, entity, fields, and a query builder (or a typed v0 query).

use leptos::prelude::*;
use serde_json::{Value, json};

use super::dashboard::Editing;
use crate::chart as charts;
use crate::model::{ApiError, Container, Series, WIDGET_TYPES, Widget, WidgetOptions};
use crate::ui::widgets::ErrorNote;

/// Field choices of the query builder and the widget editor, per entity.
fn fields_of(entity: &str) -> &'static [&'static str] {
    match entity {
        "case" => &["status", "severity", "tlp", "pap", "owner", "tags", "resolutionStatus", "impactStatus", "flag", "createdBy", "createdAt", "startDate", "endDate"],
        "alert" => &["status", "type", "source", "severity", "tlp", "pap", "tags", "follow", "caseTemplate", "createdBy", "createdAt", "date"],
        "case_artifact" => &["dataType", "tlp", "tags", "ioc", "sighted", "status", "attachment.contentType", "createdBy", "createdAt", "startDate"],
        "case_task" => &["status", "group", "owner", "flag", "createdBy", "createdAt", "startDate", "endDate", "dueDate"],
        "case_artifact_job" => &["analyzerId", "analyzerName", "cortexId", "status", "dataType", "createdBy", "createdAt", "startDate", "endDate"],
        _ => &["createdBy", "createdAt"],
    }
}

const ENTITIES: &[(&str, &str)] = &[("case", "Cases"), ("alert", "Alerts"), ("case_artifact", "Observables"), ("case_task", "Tasks"), ("case_artifact_job", "Analyzer jobs")];

/// The widget editor: type, entity, fields, and a query builder (or a typed v0 query).
#[component]
pub(super) fn WidgetEditor(
    row: usize,
    index: Option<usize>,
    widget: Widget,
    state: RwSignal<Option<Editing>>,
    dirty: RwSignal<bool>,
    editor: RwSignal<Option<(usize, Option<usize>, Widget)>>,
) -> impl IntoView {
    let w = RwSignal::new(widget.clone());
    let query_text = RwSignal::new(widget.options.query.clone().map(|q| q.to_string()).unwrap_or_else(|| "{}".into()));
    let series_text = RwSignal::new(serde_json::to_string(&widget.options.series.clone().unwrap_or_default()).unwrap_or_else(|_| "[]".into()));
    let cond_field = RwSignal::new(String::new());
    let cond_value = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let set = move |f: &dyn Fn(&mut WidgetOptions)| w.update(|w| f(&mut w.options));
    let entity = move || w.with(|w| w.options.entity.clone().unwrap_or_else(|| "case".into()));
    let add_condition = move |_| {
        let (f, v) = (cond_field.get_untracked(), cond_value.get_untracked());
        if f.is_empty() {
            return;
        }
        let value = match v.as_str() {
            "true" | "false" => Value::Bool(v == "true"),
            _ => v.parse::<i64>().map(Value::from).unwrap_or(Value::String(v.clone())),
        };
        let current: Value = serde_json::from_str(&query_text.get_untracked()).unwrap_or(json!({}));
        let q = charts::and(vec![Some(current), Some(json!({"_field": f, "_value": value}))]);
        query_text.set(q.to_string());
        cond_value.set(String::new());
    };
    let apply = move |_| {
        let q: Value = match serde_json::from_str(&query_text.get_untracked()) {
            Ok(q) => q,
            Err(e) => return error.set(Some(ApiError::new(crate::model::ErrorKind::BadRequest, format!("The query is not valid JSON: {e}")))),
        };
        let series: Vec<Series> = match serde_json::from_str(&series_text.get_untracked()) {
            Ok(s) => s,
            Err(e) => return error.set(Some(ApiError::new(crate::model::ErrorKind::BadRequest, format!("The series are not valid JSON: {e}")))),
        };
        let mut widget = w.get_untracked();
        widget.options.query = Some(q);
        widget.options.series = if series.is_empty() { None } else { Some(series) };
        state.update(|s| {
            if let Some(s) = s {
                while s.def.items.len() <= row {
                    s.def.items.push(Container::default());
                }
                let items = &mut s.def.items[row].items;
                match index {
                    Some(i) if i < items.len() => items[i] = widget.clone(),
                    _ => items.push(widget.clone()),
                }
            }
        });
        dirty.set(true);
        editor.set(None);
    };
    let opt = |v: Option<String>| v.unwrap_or_default();
    view! {
        <div class="card widget-editor" role="dialog" aria-label="Widget editor">
            <h2>{if index.is_some() { "Edit widget" } else { "New widget" }}</h2>
            <div class="editor-grid">
                <label>"Type"<select name="type" on:change=move |ev| { let t = event_target_value(&ev); w.update(|w| w.kind = t) }>
                    {WIDGET_TYPES.iter().map(|t| view! { <option value=*t selected=widget.kind == *t>{*t}</option> }).collect_view()}
                </select></label>
                <label>"Title"<input type="text" name="title" prop:value=opt(widget.options.title.clone()) on:input=move |ev| { let v = event_target_value(&ev); set(&|o| o.title = Some(v.clone())) }/></label>
                <label>"Entity"<select name="entity" on:change=move |ev| { let v = event_target_value(&ev); set(&|o| o.entity = Some(v.clone())) }>
                    {ENTITIES.iter().map(|(k, l)| view! { <option value=*k selected=widget.options.entity.as_deref() == Some(*k)>{*l}</option> }).collect_view()}
                </select></label>
                <label>"Field"<input type="text" name="field" list="field-choices" prop:value=opt(widget.options.field.clone()) on:input=move |ev| { let v = event_target_value(&ev); set(&|o| o.field = Some(v.clone())) }/></label>
                <label>"Date field"<input type="text" name="dateField" list="field-choices" prop:value=opt(widget.options.date_field.clone()) on:input=move |ev| { let v = event_target_value(&ev); set(&|o| o.date_field = Some(v.clone()).filter(|v| !v.is_empty())) }/></label>
                <label>"Interval"<select name="interval" on:change=move |ev| { let v = event_target_value(&ev); set(&|o| o.interval = Some(v.clone())) }>
                    {["1d", "1w", "1M", "1y"].iter().map(|i| view! { <option value=*i selected=widget.options.interval.as_deref().unwrap_or("1w") == *i>{*i}</option> }).collect_view()}
                </select></label>
                <label class="check"><input type="checkbox" name="stacked" prop:checked=widget.options.stacked.unwrap_or(true) on:change=move |ev| { let v = event_target_checked(&ev); set(&|o| o.stacked = Some(v)) }/>"Stacked"</label>
                <label>"Sort"<select name="sort" on:change=move |ev| { let v = event_target_value(&ev); set(&|o| o.sort = Some(v.clone())) }>
                    <option value="-_count">"Most first"</option><option value="+_count">"Fewest first"</option><option value="+_term">"By value"</option>
                </select></label>
                <label>"Limit"<input type="number" name="limit" min="1" max="100" prop:value=widget.options.limit.clone().map(|l| l.to_string()).unwrap_or_else(|| "10".into()) on:input=move |ev| { let v = event_target_value(&ev); set(&|o| o.limit = v.parse::<u64>().ok().map(Value::from)) }/></label>
            </div>
            <datalist id="field-choices">{move || fields_of(&entity()).iter().map(|f| view! { <option value=*f/> }).collect_view()}</datalist>
            <div class="query-builder">
                <span class="muted">"Filter: "</span>
                <select aria-label="Condition field" on:change=move |ev| cond_field.set(event_target_value(&ev))>
                    <option value="">"field…"</option>
                    {move || fields_of(&entity()).iter().map(|f| view! { <option value=*f>{*f}</option> }).collect_view()}
                </select>
                <span>"="</span>
                <input type="text" aria-label="Condition value" placeholder="value" prop:value=cond_value on:input=move |ev| cond_value.set(event_target_value(&ev))/>
                <button on:click=add_condition>"Add condition"</button>
                <button on:click=move |_| query_text.set("{}".into())>"Clear"</button>
            </div>
            <label class="block">"Query (TheHive v0 JSON)"<textarea name="query" rows="2" prop:value=query_text on:input=move |ev| query_text.set(event_target_value(&ev))></textarea></label>
            <label class="block">"Series (line, multi-line, counter, text): [{\"agg\":\"count\",\"label\":\"…\",\"query\":{…}}]"<textarea name="series" rows="2" prop:value=series_text on:input=move |ev| series_text.set(event_target_value(&ev))></textarea></label>
            <label class="block">"Text template (text widget: {{agg_1}})"<textarea name="template" rows="2" prop:value=opt(widget.options.template.clone()) on:input=move |ev| { let v = event_target_value(&ev); set(&|o| o.template = Some(v.clone())) }></textarea></label>
            <ErrorNote error=error/>
            <div class="inline-form">
                <button class="primary apply" on:click=apply>"Apply"</button>
                <button on:click=move |_| editor.set(None)>"Cancel (Esc)"</button>
            </div>
        </div>
    }
}
