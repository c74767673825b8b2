//! MISP administration (platform administrators): the connections (servers and feeds) with
//! their health, the last synchronisation of each, "synchronise now", and a form to add or
//! change one (a connection of the configuration file changed here is replaced by the saved
//! one).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::model::*;
use crate::ui::action::{Settle, confirm, fetched};
use crate::ui::format;
use crate::ui::widgets::{EmptyState, ErrorNote, HealthDot};

/// Comma-separated text as a list (blank items dropped).
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()
}

fn summary(r: &MispSyncReport) -> String {
    let mut s = format!(
        "{} · {} events: {} new, {} updated, {} unchanged, {} skipped · {} ms",
        format::datetime(r.started_at),
        r.events,
        r.created,
        r.updated,
        r.unchanged,
        r.skipped,
        r.duration_ms
    );
    if !r.errors.is_empty() {
        s.push_str(&format!(" · {} errors", r.errors.len()));
    }
    s
}

#[component]
pub fn MispAdmin() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let error = RwSignal::new(None::<ApiError>);
    let outcome = Settle::new(error, reload);
    let notice = RwSignal::new(None::<String>);
    let syncing = RwSignal::new(false);
    let list = LocalResource::new(move || {
        reload.track();
        async move { api::misp_connections().await }
    });
    let editing = RwSignal::new(None::<MispServer>);
    let sync = move |full: bool| {
        syncing.set(true);
        spawn_local(async move {
            if let Some(reports) = outcome.settle(api::sync_misp(full).await) {
                let total: usize = reports.iter().map(|r| r.created + r.updated).sum();
                let errors: usize = reports.iter().map(|r| r.errors.len()).sum();
                notice.set(Some(format!("Synchronised {} connections: {total} alerts created or updated, {errors} errors", reports.len())));
            }
            syncing.set(false);
        });
    };
    let remove = move |name: String| {
        if !confirm(&format!("Remove the MISP connection {name}?")) {
            return;
        }
        spawn_local(async move {
            if outcome.settle(api::delete_misp_connection(name.clone()).await).is_some() {
                notice.set(Some(format!("{name} removed")));
            }
        });
    };
    view! {
        <section class="card misp-admin">
            <h2>"MISP"</h2>
            <p class="muted">
                "Published MISP events become alerts (type misp, source = the connection's name) and stay current; cases are exported as MISP events, updated in place at each export; observables marked sighted are sighted in MISP. "
                "Connections come from "<code>"[[misp]]"</code>" in waggle.toml or are added here."
            </p>
            <div class="toolbar">
                <button class="primary" on:click=move |_| editing.set(Some(MispServer { interval: default_interval(), origin: "ui".into(), ..Default::default() }))>"Add a connection"</button>
                <button id="misp-sync-now" disabled=move || syncing.get() on:click=move |_| sync(false)>{move || if syncing.get() { "Synchronising…" } else { "Synchronise now" }}</button>
                <button disabled=move || syncing.get() on:click=move |_| sync(true) title="Read every event again, not only what changed">"Full synchronisation"</button>
            </div>
            <ErrorNote error=error/>
            {move || notice.get().map(|n| view! { <div class="ok-note block" role="status">{n}</div> })}
            {move || editing.get().map(|s| view! { <ConnectionForm server=s editing=editing outcome=outcome notice=notice/> })}
            {move || fetched(list.get(), |list| if list.is_empty() {
                view! { <EmptyState title="No MISP connection" hint="Add a MISP server (URL and API key of a sync user) or a MISP feed directory."/> }.into_any()
            } else {
                view! {
                    <table class="grid misp-connections">
                        <thead><tr><th>"Health"</th><th>"Name"</th><th>"Where"</th><th>"Purpose"</th><th>"Every"</th><th>"Last synchronisation"</th><th></th></tr></thead>
                        <tbody>{list.into_iter().map(|c| {
                            let s = c.server.clone();
                            let name = s.name.clone();
                            let edit = s.clone();
                            let from_ui = s.origin == "ui";
                            let errors = c.last_sync.as_ref().map(|r| r.errors.clone()).unwrap_or_default();
                            view! {
                                <tr data-misp=s.name.clone()>
                                    <td title=c.message.clone().unwrap_or_default()><HealthDot health=c.status enabled=true label=s.name.clone()/>{format::health(c.status, true).1}
                                        {c.version.clone().map(|v| view! { <span class="muted">" MISP "{v}</span> })}</td>
                                    <td><strong>{s.name.clone()}</strong>{if from_ui { "" } else { " (waggle.toml)" }}</td>
                                    <td class="muted">{s.url.clone().or(s.feed.clone().map(|f| format!("feed {f}"))).unwrap_or_default()}</td>
                                    <td>{format!("{:?}", s.purpose).to_lowercase()}</td>
                                    <td>{s.interval.clone()}</td>
                                    <td class="muted">{c.last_sync.as_ref().map(summary).unwrap_or_else(|| "not yet".into())}
                                        {(!errors.is_empty()).then(|| view! { <ul class="errors">{errors.into_iter().take(5).map(|e| view! { <li>{e}</li> }).collect_view()}</ul> })}</td>
                                    <td class="actions">
                                        <button on:click=move |_| editing.set(Some(edit.clone()))>"Edit"</button>
                                        {from_ui.then(|| { let n = name.clone(); view! { <button class="danger" on:click=move |_| remove(n.clone())>"Remove"</button> } })}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

/// Add or change one connection.
#[component]
fn ConnectionForm(server: MispServer, editing: RwSignal<Option<MispServer>>, outcome: Settle, notice: RwSignal<Option<String>>) -> impl IntoView {
    let is_new = server.name.is_empty();
    let key_set = server.key_set;
    let name = RwSignal::new(server.name.clone());
    let kind_feed = RwSignal::new(server.feed.is_some());
    let url = RwSignal::new(server.url.clone().unwrap_or_default());
    let feed = RwSignal::new(server.feed.clone().unwrap_or_default());
    let key = RwSignal::new(String::new());
    let ca_file = RwSignal::new(server.ca_file.clone().unwrap_or_default());
    let skip_verify = RwSignal::new(server.skip_verify);
    let purpose = RwSignal::new(server.purpose);
    let interval = RwSignal::new(server.interval.clone());
    let max_age = RwSignal::new(server.max_age.clone().unwrap_or_default());
    let tags = RwSignal::new(server.tags.join(", "));
    let include = RwSignal::new(server.include_tags.join(", "));
    let exclude = RwSignal::new(server.exclude_tags.join(", "));
    let exclude_orgs = RwSignal::new(server.exclude_orgs.join(", "));
    let template = RwSignal::new(server.case_template.clone().unwrap_or_default());
    let org = RwSignal::new(server.organisation.clone().unwrap_or_default());
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let opt = |s: RwSignal<String>| Some(s.get_untracked().trim().to_string()).filter(|v| !v.is_empty());
        let feed_mode = kind_feed.get_untracked();
        let input = MispServerInput {
            server: MispServer {
                name: name.get_untracked().trim().to_string(),
                url: if feed_mode { None } else { opt(url) },
                feed: if feed_mode { opt(feed) } else { None },
                ca_file: opt(ca_file),
                skip_verify: skip_verify.get_untracked(),
                purpose: if feed_mode { MispPurpose::Import } else { purpose.get_untracked() },
                interval: interval.get_untracked().trim().to_string(),
                max_age: opt(max_age),
                tags: split_list(&tags.get_untracked()),
                include_tags: split_list(&include.get_untracked()),
                exclude_tags: split_list(&exclude.get_untracked()),
                exclude_orgs: split_list(&exclude_orgs.get_untracked()),
                case_template: opt(template),
                organisation: opt(org),
                ..Default::default()
            },
            key: opt(key),
        };
        let label = input.server.name.clone();
        spawn_local(async move {
            if outcome.settle(api::save_misp_connection(input).await).is_some() {
                editing.set(None);
                notice.set(Some(format!("{label} saved")));
            }
        });
    };
    let text = |label: &'static str, id: &'static str, sig: RwSignal<String>, hint: &'static str| {
        view! {
            <label for=id>{label}</label>
            <input id=id type="text" placeholder=hint prop:value=move || sig.get() on:input=move |ev| sig.set(event_target_value(&ev))/>
        }
    };
    view! {
        <form class="card form-grid misp-form" on:submit=save>
            <h3>{if is_new { "New MISP connection".to_string() } else { format!("MISP connection {}", server.name) }}</h3>
            <label for="misp-name">"Name"</label>
            <input id="misp-name" type="text" required prop:value=move || name.get() readonly=!is_new on:input=move |ev| name.set(event_target_value(&ev))/>
            <label>"Kind"</label>
            <div>
                <label class="inline"><input type="radio" name="misp-kind" prop:checked=move || !kind_feed.get() on:change=move |_| kind_feed.set(false)/>" MISP server"</label>
                <label class="inline"><input type="radio" name="misp-kind" prop:checked=move || kind_feed.get() on:change=move |_| kind_feed.set(true)/>" Feed directory"</label>
            </div>
            <Show when=move || !kind_feed.get() fallback=move || text("Feed directory", "misp-feed", feed, "/srv/misp-feed (manifest.json + <uuid>.json)")>
                {text("URL", "misp-url", url, "https://misp.example.org")}
                <label for="misp-key">"API key"</label>
                <input id="misp-key" type="password" autocomplete="off" placeholder=if key_set { "set (leave empty to keep it)" } else { "the key of a sync user" }
                    prop:value=move || key.get() on:input=move |ev| key.set(event_target_value(&ev))/>
                {text("CA file", "misp-ca", ca_file, "PEM file of the CA of the server's certificate")}
                <label>"TLS"</label>
                <label class="inline"><input type="checkbox" prop:checked=move || skip_verify.get() on:change=move |ev| skip_verify.set(event_target_checked(&ev))/>" Do not verify the certificate (labs only)"</label>
                <label for="misp-purpose">"Purpose"</label>
                <select id="misp-purpose" on:change=move |ev| purpose.set(match event_target_value(&ev).as_str() { "import" => MispPurpose::Import, "export" => MispPurpose::Export, _ => MispPurpose::Both })>
                    <option value="both" selected=move || purpose.get() == MispPurpose::Both>"Import and export"</option>
                    <option value="import" selected=move || purpose.get() == MispPurpose::Import>"Import only"</option>
                    <option value="export" selected=move || purpose.get() == MispPurpose::Export>"Export only"</option>
                </select>
            </Show>
            {text("Poll every", "misp-interval", interval, "1h (90s, 30m, 1h, 1d)")}
            {text("Max age", "misp-max-age", max_age, "7d (empty: every event)")}
            {text("Observable tags", "misp-tags", tags, "tags added to every imported observable, comma-separated")}
            {text("Only events tagged", "misp-include", include, "comma-separated; empty: every event")}
            {text("Skip events tagged", "misp-exclude", exclude, "comma-separated")}
            {text("Skip events of", "misp-exclude-orgs", exclude_orgs, "creator organisations, comma-separated")}
            {text("Case template", "misp-template", template, "template put on the alerts")}
            {text("Organisation", "misp-org", org, "receives the alerts (default: the first organisation)")}
            <div class="form-actions">
                <button type="submit" class="primary">"Save"</button>
                <button type="button" on:click=move |_| editing.set(None)>"Cancel"</button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_comma_separated() {
        assert_eq!(split_list(" a, b ,,c "), vec!["a", "b", "c"]);
        assert!(split_list("  ").is_empty());
    }
}
