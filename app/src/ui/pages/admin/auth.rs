//! Sign-in settings (platform administrators): the methods that are on, client certificates
//! and how they name users, and the directory (LDAP, Active Directory) with a connection test.
//! The settings come from the configuration file (README: Sign in with certificates, LDAP).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, AuthSettings, LdapView};
use crate::model::ApiError;
use crate::ui::widgets::ErrorNote;

#[component]
pub fn AuthenticationAdmin() -> impl IntoView {
    let settings = LocalResource::new(|| async { api::sign_in_settings().await });
    view! {
        {move || settings.get().map(|r| match r {
            Err(e) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
            Ok(s) => view! { <Settings s=s/><SecurityTrail/> }.into_any(),
        })}
    }
}

/// The latest sign-ins, failed sign-ins and changes of credentials or rights.
#[component]
fn SecurityTrail() -> impl IntoView {
    let events = LocalResource::new(|| async { api::security_events().await });
    view! {
        <section class="card security-trail">
            <h2>"Security trail"</h2>
            {move || events.get().map(|r| match r {
                Err(e) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
                Ok(list) => view! {
                    <table class="grid security-events">
                        <thead><tr><th>"When"</th><th>"What"</th><th>"Account"</th><th>"By"</th><th>"From"</th><th>"Detail"</th></tr></thead>
                        <tbody>{list.into_iter().map(|e| view! {
                            <tr class=format!("event-{}", e.kind)>
                                <td class="date">{crate::ui::format::datetime(e.at)}</td>
                                <td>{e.kind.replace('-', " ")}</td>
                                <td>{e.login}</td>
                                <td>{e.by.unwrap_or_default()}</td>
                                <td>{e.from.unwrap_or_default()}</td>
                                <td>{e.detail.unwrap_or_default()}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
            })}
        </section>
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

#[component]
fn Settings(s: AuthSettings) -> impl IntoView {
    let AuthSettings { methods, tls, client_certificates, certificate_rule, certificate_create, trusted_proxies, certificate_header, ldap } = s;
    let certificates = client_certificates.clone().or_else(|| certificate_header.as_ref().map(|_| "through a trusted proxy".into()));
    view! {
        <section class="card auth-methods">
            <h2>"Sign-in methods"</h2>
            <p class="chips">{methods.into_iter().map(|m| view! { <span class="chip method" data-method=m.clone()>{method_label(&m).to_string()}</span> }).collect_view()}</p>
            <p class="muted">"These come from the configuration file; restart Waggle (or send SIGHUP for certificates and CRLs) after changing it."</p>
        </section>
        <section class="card auth-certificates">
            <h2>"Client certificates"</h2>
            <dl class="facts">
                <dt>"HTTPS by Waggle"</dt><dd>{yes_no(tls)}</dd>
                <dt>"Certificates asked"</dt><dd class="cert-mode">{certificates.unwrap_or_else(|| "no".into())}</dd>
                <dt>"User named by"</dt><dd class="cert-rule"><code>{certificate_rule}</code></dd>
                <dt>"Unknown holders"</dt><dd>{certificate_create.map(|c| format!("created in {c}")).unwrap_or_else(|| "refused".into())}</dd>
                <dt>"Trusted proxies"</dt><dd>{if trusted_proxies.is_empty() { "none".to_string() } else { format!("{} (header {})", trusted_proxies.join(", "), certificate_header.unwrap_or_default()) }}</dd>
            </dl>
        </section>
        {match ldap {
            None => view! {
                <section class="card auth-ldap">
                    <h2>"Directory (LDAP, Active Directory)"</h2>
                    <p class="muted">"No directory is configured: add an [ldap] table to the configuration file."</p>
                </section>
            }.into_any(),
            Some(l) => view! { <Directory l=l/> }.into_any(),
        }}
    }
}

fn method_label(m: &str) -> &str {
    match m {
        "local" => "Local passwords",
        "key" => "API keys",
        "basic" => "HTTP Basic",
        "session" => "Sessions",
        "ldap" => "Directory (LDAP / AD)",
        "pki" => "Client certificates",
        other => other,
    }
}

#[component]
fn Directory(l: LdapView) -> impl IntoView {
    let result = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let test = move |_| {
        busy.set(true);
        result.set(None);
        error.set(None);
        spawn_local(async move {
            match api::test_directory().await {
                Ok(text) => result.set(Some(text)),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card auth-ldap">
            <h2>"Directory (LDAP, Active Directory)"</h2>
            <dl class="facts">
                <dt>"Servers"</dt><dd>{l.urls.join(", ")}{l.starttls.then_some(" (StartTLS)")}</dd>
                <dt>"Trusted CA"</dt><dd>{l.ca_file.unwrap_or_else(|| "the system's".into())}</dd>
                <dt>"Service account"</dt><dd>{l.bind_dn.unwrap_or_else(|| "anonymous search".into())}</dd>
                <dt>"Users under"</dt><dd><code>{l.base_dn}</code></dd>
                <dt>"User filter"</dt><dd><code>{l.user_filter}</code></dd>
                <dt>"Login attribute"</dt><dd><code>{l.login_attribute}</code></dd>
                <dt>"Groups"</dt><dd>{l.groups_from}</dd>
                <dt>"New users"</dt><dd>{if l.create_users { "created at first sign-in from their first mapped group" } else { "refused until an administrator creates them" }}</dd>
            </dl>
            <table class="grid group-mapping">
                <thead><tr><th>"Directory group"</th><th>"Organisation"</th><th>"Profile"</th></tr></thead>
                <tbody>{l.groups.into_iter().map(|(g, o, p)| view! { <tr><td><code>{g}</code></td><td>{o}</td><td>{p}</td></tr> }).collect_view()}</tbody>
            </table>
            <p><button class="test-directory" disabled=move || busy.get() on:click=test>
                {move || if busy.get() { "Testing…" } else { "Test connection" }}
            </button></p>
            {move || result.get().map(|r| view! { <pre class="test-result ok">{r.replace("; ", "\n")}</pre> })}
            <ErrorNote error=error/>
        </section>
    }
}
