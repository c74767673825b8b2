//! The case page's MISP export dialog: a MISP server, the event's TLP, distribution and tags;
//! the first export makes the event, the next ones update the same event. The dialog lists the
//! events the case was exported to and when.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::model::*;
use crate::ui::action::fetched;
use crate::ui::format;
use crate::ui::widgets::{ErrorNote, Modal};

/// MISP's distribution levels (sharing groups are not offered).
pub const DISTRIBUTIONS: [(u8, &str); 4] = [(0, "Your organisation only"), (1, "This community only"), (2, "Connected communities"), (3, "All communities")];

/// What an export did, in words.
pub fn outcome_text(r: &MispExportResult) -> String {
    let mut s = if r.created {
        format!("Event #{} created on {} with {} attribute{}", r.event_id, r.server, r.added, if r.added == 1 { "" } else { "s" })
    } else {
        format!("Event #{} on {} updated: {} added, {} removed, {} unchanged", r.event_id, r.server, r.added, r.removed, r.unchanged)
    };
    if r.tags_added + r.tags_removed > 0 && !r.created {
        s.push_str(&format!("; tags +{} −{}", r.tags_added, r.tags_removed));
    }
    if !r.failures.is_empty() {
        s.push_str(&format!("; {} refused", r.failures.len()));
    }
    s
}

#[component]
pub fn MispExportDialog(case: Case, on_close: Callback<()>) -> impl IntoView {
    let id = case.id.clone();
    let targets = LocalResource::new(api::misp_export_targets);
    let exports = {
        let id = id.clone();
        LocalResource::new(move || api::case_misp_exports(id.clone()))
    };
    let server = RwSignal::new(String::new());
    let tlp = RwSignal::new(case.tlp);
    let distribution = RwSignal::new(0u8);
    let tags = RwSignal::new(String::new());
    let case_tags = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let result = RwSignal::new(None::<MispExportResult>);
    let busy = RwSignal::new(false);
    let export = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let target = server.get_untracked();
        if target.is_empty() {
            return;
        }
        let request = MispExportRequest {
            tags: tags.get_untracked().split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect(),
            tlp: Some(tlp.get_untracked()),
            distribution: Some(distribution.get_untracked()),
            case_tags: case_tags.get_untracked(),
        };
        let id = id.clone();
        busy.set(true);
        spawn_local(async move {
            match api::export_case_to_misp(id, target, request).await {
                Ok(r) => {
                    error.set(None);
                    result.set(Some(r));
                    exports.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <Modal title="Export to MISP" on_close=on_close>
            <form class="stacked-form" id="misp-export-form" on:submit=export>
                <p class="muted small">"The case's IOC observables become a MISP event. Exporting again updates the same event: new IOCs added, removed ones deleted, tags kept in sync."</p>
                <label>"MISP server"
                    {move || fetched(targets.get(), |list| if list.is_empty() {
                        view! { <p class="muted">"No MISP server takes exports: a platform administrator adds one in Administration › MISP."</p> }.into_any()
                    } else {
                        if server.get_untracked().is_empty() {
                            server.set(list[0].clone());
                        }
                        view! {
                            <select id="misp-export-server" on:change=move |ev| server.set(event_target_value(&ev))>
                                {list.into_iter().map(|n| { let v = n.clone(); view! { <option value=n.clone() selected=move || server.get() == v>{n.clone()}</option> } }).collect_view()}
                            </select>
                        }.into_any()
                    })}
                </label>
                <label>"TLP"
                    <select id="misp-export-tlp" on:change=move |ev| tlp.set(event_target_value(&ev).parse().unwrap_or(2))>
                        {[(0u8, "TLP:CLEAR (white)"), (1, "TLP:GREEN"), (2, "TLP:AMBER"), (3, "TLP:RED")].into_iter().map(|(v, l)| view! { <option value=v.to_string() selected=move || tlp.get() == v>{l}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Distribution"
                    <select id="misp-export-distribution" on:change=move |ev| distribution.set(event_target_value(&ev).parse().unwrap_or(0))>
                        {DISTRIBUTIONS.into_iter().map(|(v, l)| view! { <option value=v.to_string() selected=move || distribution.get() == v>{l}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Event tags"
                    <input id="misp-export-tags" type="text" placeholder="comma-separated, e.g. campaign:x" prop:value=move || tags.get() on:input=move |ev| tags.set(event_target_value(&ev))/>
                </label>
                <label class="inline"><input type="checkbox" prop:checked=move || case_tags.get() on:change=move |ev| case_tags.set(event_target_checked(&ev))/>" Also the case's tags"</label>
                <ErrorNote error=error/>
                {move || result.get().map(|r| view! {
                    <div class="ok-note block" role="status" id="misp-export-result">{outcome_text(&r)}
                        {(!r.failures.is_empty()).then(|| view! { <ul class="errors">{r.failures.iter().map(|f| view! { <li>{f.clone()}</li> }).collect_view()}</ul> })}
                    </div>
                })}
                <h4>"Exports of this case"</h4>
                {move || fetched(exports.get(), |list| if list.is_empty() {
                    view! { <p class="muted small">"Not exported yet."</p> }.into_any()
                } else {
                    view! { <ul class="misp-exports">{list.into_iter().map(|e| view! {
                        <li>{format!("{}: event #{} ({} attribute{}), last exported {}", e.server, e.event_id, e.attributes, if e.attributes == 1 { "" } else { "s" }, format::datetime(e.exported_at))}</li>
                    }).collect_view()}</ul> }.into_any()
                })}
                <div class="dialog-actions">
                    <button type="button" on:click=move |_| on_close.run(())>"Close"</button>
                    <button type="submit" class="primary" id="misp-export-submit" disabled=move || busy.get() || server.get().is_empty()>
                        {move || if busy.get() { "Exporting…" } else { "Export" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_in_words() {
        let r = MispExportResult { server: "circl".into(), event_id: "12".into(), created: true, added: 3, ..Default::default() };
        assert_eq!(outcome_text(&r), "Event #12 created on circl with 3 attributes");
        let r = MispExportResult { server: "circl".into(), event_id: "12".into(), added: 1, removed: 1, tags_added: 1, ..Default::default() };
        assert_eq!(outcome_text(&r), "Event #12 on circl updated: 1 added, 1 removed, 0 unchanged; tags +1 −0");
    }
}
