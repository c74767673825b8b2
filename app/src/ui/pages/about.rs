use leptos::prelude::*;

use crate::api;
use crate::ui::auth::use_auth;
use crate::ui::format;
use crate::ui::widgets::{HealthDot, Loading};

#[component]
pub fn AboutPage() -> impl IntoView {
    let auth = use_auth();
    let status = LocalResource::new(move || async move {
        let s = api::platform_status().await;
        if let Err(e) = &s {
            auth.check(e);
        }
        s
    });
    view! {
        <div class="narrow-page">
            <h1>"About Waggle"</h1>
            <Suspense fallback=|| view! { <Loading/> }>
                {move || status.get().map(|s| match s {
                    Err(e) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
                    Ok(s) => view! {
                        <section class="card">
                            <h2>"Versions"</h2>
                            <dl class="facts">
                                <dt>"Waggle"</dt><dd>{s.version.clone()}</dd>
                                <dt>"Database"</dt><dd>"SurrealDB "{s.database_version.clone()}</dd>
                                <dt>"Storage"</dt><dd>{s.storage.clone()}</dd>
                                <dt>"Schema"</dt><dd>{s.schema_version}</dd>
                                <dt>"Sign-in methods"</dt><dd>{s.auth_methods.join(", ")}</dd>
                                <dt>"Platform health"</dt><dd><HealthDot health=s.health enabled=true label="Platform"/>{format::health(s.health, true).1}</dd>
                            </dl>
                        </section>
                        <section class="card">
                            <h2>"Connectors"</h2>
                            <table class="grid">
                                <thead><tr><th>"Connector"</th><th>"Server"</th><th>"Version"</th><th>"Status"</th><th>"Checked"</th></tr></thead>
                                <tbody>
                                    {s.connectors.iter().map(|c| {
                                        let label = if c.name == "cortex" { "Analysis (Cortex)" } else { "MISP" };
                                        if c.servers.is_empty() {
                                            view! {
                                                <tr><td><HealthDot health=c.status enabled=c.enabled label=label/>{label}</td>
                                                <td colspan="4" class="muted">"No server configured"</td></tr>
                                            }.into_any()
                                        } else {
                                            c.servers.iter().map(|srv| view! {
                                                <tr>
                                                    <td><HealthDot health=c.status enabled=c.enabled label=label/>{label}</td>
                                                    <td>{srv.name.clone()}{(!srv.url.is_empty()).then(|| view! { " "<span class="muted">{srv.url.clone()}</span> })}</td>
                                                    <td>{srv.version.clone().unwrap_or_else(|| "-".into())}</td>
                                                    <td><HealthDot health=srv.status enabled=true label=srv.name.clone()/>
                                                        {format::health(srv.status, true).1}
                                                        {srv.message.clone().map(|m| format!(" ({m})"))}</td>
                                                    <td>{srv.checked_at.map(format::datetime).unwrap_or_else(|| "-".into())}</td>
                                                </tr>
                                            }).collect_view().into_any()
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }.into_any(),
                })}
            </Suspense>
        </div>
    }
}
