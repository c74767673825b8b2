//! Sign-in settings (platform administrators): the methods that are on, client certificates
//! and how they name users, and the directory (LDAP, Active Directory) with a connection test.
//! Certificate settings come from the configuration file (README: Sign in with certificates);
//! the directory's are changed here (stored, used instead of the file's `[ldap]`).

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
            <p class="muted">"Certificates come from the configuration file (send SIGHUP to reload them and the CRLs); the directory is changed below, without a restart."</p>
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
        <Directory l=ldap/>
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

/// One value per line, blank lines dropped.
pub fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
}

fn opt(s: String) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The directory: its settings in a form (changed without a restart), a test of the form's
/// settings before saving them, and turning the directory off.
#[component]
fn Directory(l: Option<LdapView>) -> impl IntoView {
    let shown = RwSignal::new(l.is_some());
    let l = l.unwrap_or_else(|| LdapView { login_attribute: "uid".into(), name_attribute: "cn".into(), mail_attribute: "mail".into(), timeout_secs: 10, ..Default::default() });
    let describe = |l: &LdapView| match l.changed_at {
        Some(at) => format!("{} on {}", l.source, crate::ui::format::datetime(at)),
        None => l.source.clone(),
    };
    let source = RwSignal::new(describe(&l));
    let f = |v: String| RwSignal::new(v);
    let urls = f(l.urls.join("\n"));
    let starttls = RwSignal::new(l.starttls);
    let ca_file = f(l.ca_file.clone().unwrap_or_default());
    let bind_dn = f(l.bind_dn.clone().unwrap_or_default());
    let bind_password = f(l.bind_password.clone().unwrap_or_default());
    let base_dn = f(l.base_dn.clone());
    let user_filter = f(l.user_filter.clone());
    let login_attribute = f(l.login_attribute.clone());
    let name_attribute = f(l.name_attribute.clone());
    let mail_attribute = f(l.mail_attribute.clone());
    let group_attribute = f(l.group_attribute.clone().unwrap_or_default());
    let group_base = f(l.group_base.clone().unwrap_or_default());
    let group_filter = f(l.group_filter.clone().unwrap_or_default());
    let timeout = f(l.timeout_secs.to_string());
    let create_users = RwSignal::new(l.create_users);
    let groups = RwSignal::new(l.groups.clone());
    let form = move || LdapView {
        urls: lines(&urls.get_untracked()),
        starttls: starttls.get_untracked(),
        ca_file: opt(ca_file.get_untracked()),
        bind_dn: opt(bind_dn.get_untracked()),
        bind_password: opt(bind_password.get_untracked()),
        base_dn: base_dn.get_untracked(),
        user_filter: user_filter.get_untracked(),
        login_attribute: login_attribute.get_untracked(),
        name_attribute: name_attribute.get_untracked(),
        mail_attribute: mail_attribute.get_untracked(),
        group_attribute: opt(group_attribute.get_untracked()),
        group_base: opt(group_base.get_untracked()),
        group_filter: opt(group_filter.get_untracked()),
        timeout_secs: timeout.get_untracked().trim().parse().unwrap_or(10),
        create_users: create_users.get_untracked(),
        groups: groups.get_untracked(),
        source: String::new(),
        changed_at: None,
    };
    let result = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let run = move |what: &'static str| {
        busy.set(true);
        result.set(None);
        error.set(None);
        spawn_local(async move {
            let outcome = match what {
                "test" => api::test_directory_settings(form()).await,
                "save" => api::save_directory(Some(form())).await.map(|s| {
                    source.set(s.ldap.map(|l| describe(&l)).unwrap_or_default());
                    bind_password.set(if bind_password.get_untracked().is_empty() { String::new() } else { "********".into() });
                    "Saved: the next sign-in uses these settings.".to_string()
                }),
                _ => api::save_directory(None).await.map(|_| {
                    shown.set(false);
                    source.set(String::new());
                    "Directory sign-in is off.".to_string()
                }),
            };
            match outcome {
                Ok(text) => result.set(Some(text)),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let text_input = move |label: &'static str, name: &'static str, value: RwSignal<String>, hint: &'static str| view! {
        <label>{label}<input type="text" name=name prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) placeholder=hint/></label>
    };
    view! {
        <section class="card auth-ldap">
            <h2>"Directory (LDAP, Active Directory)"</h2>
            <Show when=move || !shown.get()>
                <p class="muted">"No directory is set up."</p>
                <button class="setup-directory" on:click=move |_| shown.set(true)>"Set up a directory"</button>
            </Show>
            <Show when=move || shown.get()>
                <p class="muted small directory-source">{move || { let s = source.get(); if s.is_empty() { "Not saved yet.".to_string() } else { format!("Settings in use: {s}.") } }}</p>
                <form class="directory-form" on:submit=move |ev| { ev.prevent_default(); run("save") }>
                    <label>"Servers (one URL per line, tried in order)"<textarea name="urls" rows=2 placeholder="ldaps://dc1.corp.example" prop:value=urls on:input=move |ev| urls.set(event_target_value(&ev))></textarea></label>
                    <label class="inline"><input type="checkbox" name="starttls" prop:checked=starttls on:change=move |ev| starttls.set(event_target_checked(&ev))/>" StartTLS on ldap:// URLs"</label>
                    {text_input("Trusted CA file (PEM, on the server)", "ca-file", ca_file, "the system's CAs when empty")}
                    <div class="form-row">
                        {text_input("Service account DN", "bind-dn", bind_dn, "anonymous search when empty")}
                        <label>"Service account password"<input type="password" name="bind-password" autocomplete="new-password" prop:value=bind_password on:input=move |ev| bind_password.set(event_target_value(&ev))/></label>
                    </div>
                    {text_input("Users under (base DN)", "base-dn", base_dn, "ou=people,dc=example,dc=org")}
                    {text_input("User filter", "user-filter", user_filter, "(&(objectClass=person)(uid={login}))")}
                    <div class="form-row">
                        {text_input("Login attribute", "login-attribute", login_attribute, "uid, sAMAccountName, userPrincipalName")}
                        {text_input("Name attribute", "name-attribute", name_attribute, "cn")}
                        {text_input("Mail attribute", "mail-attribute", mail_attribute, "mail")}
                        {text_input("Timeout (s)", "timeout", timeout, "10")}
                    </div>
                    <div class="form-row">
                        {text_input("Group attribute", "group-attribute", group_attribute, "memberOf")}
                        {text_input("or groups under", "group-base", group_base, "ou=groups,dc=example,dc=org")}
                        {text_input("with the filter", "group-filter", group_filter, "(&(objectClass=groupOfNames)(member={dn}))")}
                    </div>
                    <label class="inline"><input type="checkbox" name="create-users" prop:checked=create_users on:change=move |ev| create_users.set(event_target_checked(&ev))/>" Create the account of a directory user at first sign-in (from their first mapped group)"</label>
                    <table class="grid group-mapping">
                        <thead><tr><th>"Directory group (DN)"</th><th>"Organisation"</th><th>"Profile"</th><th></th></tr></thead>
                        <tbody>
                            {move || groups.get().into_iter().enumerate().map(|(i, (g, o, p))| view! {
                                <tr>
                                    <td><input type="text" name="group" prop:value=g on:change=move |ev| groups.update(|l| l[i].0 = event_target_value(&ev))/></td>
                                    <td><input type="text" name="group-org" prop:value=o on:change=move |ev| groups.update(|l| l[i].1 = event_target_value(&ev))/></td>
                                    <td><select name="group-profile" on:change=move |ev| groups.update(|l| l[i].2 = event_target_value(&ev))>
                                        {["read-only", "analyst", "org-admin"].into_iter().map(|x| view! { <option value=x selected=p == x>{x}</option> }).collect_view()}
                                    </select></td>
                                    <td><button type="button" class="small danger" on:click=move |_| groups.update(|l| { l.remove(i); })>"Remove"</button></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <p><button type="button" class="small add-group" on:click=move |_| groups.update(|l| l.push((String::new(), String::new(), "analyst".into())))>"Add a group"</button></p>
                    <div class="dialog-actions">
                        <button type="button" class="test-directory" disabled=move || busy.get() on:click=move |_| run("test")>
                            {move || if busy.get() { "Working…" } else { "Test these settings" }}
                        </button>
                        <span class="spacer"></span>
                        <button type="button" class="danger directory-off" disabled=move || busy.get() on:click=move |_| if crate::ui::action::confirm("Turn directory sign-in off? Directory users can no longer sign in.") { run("off") }>"Turn off"</button>
                        <button type="submit" class="primary save-directory" disabled=move || busy.get()>"Save"</button>
                    </div>
                </form>
            </Show>
            {move || result.get().map(|r| view! { <pre class="test-result ok">{r.replace("; ", "\n")}</pre> })}
            <ErrorNote error=error/>
        </section>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn server_lines() {
        assert_eq!(super::lines(" ldap://a \n\nldaps://b\n"), vec!["ldap://a".to_string(), "ldaps://b".to_string()]);
    }
}
