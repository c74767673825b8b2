//! Administration: the page's tabs, organisations and users here; the case settings (templates,
//! custom fields, metrics, observable types) in [`case`]; alert sources in [`alert`]; analyzers
//! and analysis jobs in [`analyzers`]; report templates in [`reports`].

pub mod alert;
pub mod analyzers;
pub mod auth;
pub mod case;
pub mod misp;
pub mod profiles;
pub mod reports;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, NewUser, UserPatch};
use crate::model::{ApiError, Organisation, Permission, Profile, User, UserStatus};
use crate::ui::action::{Settle, confirm, fetched};
use crate::ui::auth::use_auth;
use crate::ui::format;
use crate::ui::widgets::{EmptyState, ErrorNote};

/// Administration, in tabs (in the URL): users and organisations; case templates, custom
/// fields, metrics and observable types of the organisation.
#[component]
pub fn AdminPage() -> impl IntoView {
    let auth = use_auth();
    let me = move || auth.current();
    let params = leptos_router::hooks::use_params_map();
    let tab = Memo::new(move |_| params.with(|p| p.get("tab").unwrap_or_else(|| "users".into())));
    let tabs = [
        ("users", "Users & organisations"),
        ("templates", "Case templates"),
        ("custom-fields", "Custom fields"),
        ("metrics", "Metrics"),
        ("observable-types", "Observable types"),
        ("report-templates", "Report templates"),
        ("alert-sources", "Alert sources"),
        ("analyzers", "Analyzers"),
        ("jobs", "Analysis jobs"),
    ];
    let is_platform_admin = move || me().is_some_and(|u| u.memberships.iter().any(|m| m.profile == Profile::Admin));
    view! {
        <div class="wide-page">
            <h1>"Administration"</h1>
            <nav class="tabs" role="tablist">
                {tabs.into_iter().map(|(t, label)| view! {
                    <leptos_router::components::A href=format!("/admin/{t}") attr:class=move || if tab.get() == t { "tab active" } else { "tab" } attr:role="tab">{label}</leptos_router::components::A>
                }).collect_view()}
                <Show when=is_platform_admin>
                    <leptos_router::components::A href="/admin/profiles" attr:class=move || if tab.get() == "profiles" { "tab active" } else { "tab" } attr:role="tab">"Profiles"</leptos_router::components::A>
                    <leptos_router::components::A href="/admin/authentication" attr:class=move || if tab.get() == "authentication" { "tab active" } else { "tab" } attr:role="tab">"Authentication"</leptos_router::components::A>
                    <leptos_router::components::A href="/admin/misp" attr:class=move || if tab.get() == "misp" { "tab active" } else { "tab" } attr:role="tab">"MISP"</leptos_router::components::A>
                </Show>
            </nav>
            {move || match tab.get().as_str() {
                "templates" => view! { <case::TemplatesAdmin/> }.into_any(),
                "custom-fields" => view! { <case::CustomFieldsAdmin/> }.into_any(),
                "metrics" => view! { <case::MetricsAdmin/> }.into_any(),
                "observable-types" => view! { <case::DataTypesAdmin/> }.into_any(),
                "report-templates" => view! { <reports::ReportTemplatesAdmin/> }.into_any(),
                "alert-sources" => view! { <alert::AlertSourcesAdmin/> }.into_any(),
                "analyzers" => view! { <analyzers::AnalyzersAdmin/> }.into_any(),
                "jobs" => view! { <analyzers::JobsAdmin/> }.into_any(),
                "authentication" => view! { <auth::AuthenticationAdmin/> }.into_any(),
                "profiles" => view! { <profiles::ProfilesAdmin/> }.into_any(),
                "misp" => view! { <misp::MispAdmin/> }.into_any(),
                _ => view! {
                    <Show when=move || me().is_some_and(|u| u.can(Permission::ManageOrganisation))>
                        <Organisations/>
                    </Show>
                    <Show when=move || me().is_some_and(|u| u.can(Permission::ManageUser))>
                        <Users/>
                    </Show>
                }.into_any(),
            }}
        </div>
    }
}

/// Ask for a line of text (the browser's prompt), `None` when cancelled or left empty.
fn prompt_text(message: &str, default: &str) -> Option<String> {
    window().prompt_with_message_and_default(message, default).ok().flatten().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

#[component]
fn Organisations() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let orgs = LocalResource::new(move || {
        reload.track();
        async move { api::list_orgs().await }
    });
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let outcome = Settle::new(error, reload);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        spawn_local(async move {
            if outcome.settle(api::create_org(name.get_untracked(), description.get_untracked()).await).is_some() {
                name.set(String::new());
                description.set(String::new());
            }
        });
    };
    view! {
        <section class="card">
            <h2>"Organisations"</h2>
            <form class="inline-form" on:submit=create>
                <input type="text" placeholder="Name" required prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                <input type="text" placeholder="Description" prop:value=description on:input=move |ev| description.set(event_target_value(&ev))/>
                <button type="submit" class="primary">"Create organisation"</button>
            </form>
            <ErrorNote error=error/>
            {move || fetched(orgs.get(), |list| view! {
                <table class="grid organisations">
                    <thead><tr><th>"Name"</th><th>"Description"</th><th>"Created"</th><th>"Status"</th><th></th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|o: Organisation| {
                            let special = o.name == "admin";
                            let (rename_id, lock_id, current, locked) = (o.id.clone(), o.id.clone(), o.name.clone(), o.locked);
                            let row_name = o.name.clone();
                            let rename = move |_| {
                                let id = rename_id.clone();
                                let Some(new) = prompt_text(&format!("New name of {current}"), &current) else { return };
                                spawn_local(async move { outcome.settle(api::update_org(id, Some(new), None).await); });
                            };
                            let toggle = move |_| {
                                let id = lock_id.clone();
                                if !locked && !confirm("Lock this organisation? Nobody can work in it until it is unlocked; its data is kept.") {
                                    return;
                                }
                                spawn_local(async move { outcome.settle(api::update_org(id, None, Some(!locked)).await); });
                            };
                            view! {
                                <tr class:locked=locked data-org=row_name>
                                    <td>{o.name}</td><td>{o.description}</td><td>{format::datetime(o.created_at)}</td>
                                    <td>{if locked { "Locked" } else { "Active" }}</td>
                                    <td>{(!special).then(|| view! {
                                        <button class="rename-org" on:click=rename>"Rename"</button>" "
                                        <button class="lock-org" class:danger=!locked on:click=toggle>{if locked { "Unlock" } else { "Lock" }}</button>
                                    })}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any())}
        </section>
    }
}

/// Put a user in another organisation (platform administrators): the organisation and profile.
#[component]
fn AddMembership(user_id: String, orgs: Vec<String>, customs: Vec<String>, outcome: Settle) -> impl IntoView {
    let org = RwSignal::new(String::new());
    let profile = RwSignal::new(Profile::Analyst.as_str().to_string());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (user, o, p) = (user_id.clone(), org.get_untracked(), profile.get_untracked());
        if o.is_empty() {
            return;
        }
        // The admin organisation has only the admin profile.
        let p = if o == "admin" { Profile::Admin.as_str().to_string() } else { p };
        org.set(String::new());
        spawn_local(async move {
            outcome.settle(api::set_membership(user, o, p).await);
        });
    };
    view! {
        <form class="add-membership" on:submit=add>
            <select name="org" aria-label="Organisation" prop:value=move || org.get() on:change=move |ev| org.set(event_target_value(&ev))>
                <option value="">"+ organisation…"</option>
                {orgs.into_iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
            </select>
            <select name="profile" aria-label="Profile" on:change=move |ev| profile.set(event_target_value(&ev))>
                {[Profile::Analyst, Profile::ReadOnly, Profile::OrgAdmin].into_iter().map(|p| view! { <option value=p.as_str()>{p.label()}</option> }).collect_view()}
                {customs.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
            </select>
            <button type="submit">"Add"</button>
        </form>
    }
}

#[component]
fn Users() -> impl IntoView {
    let auth = use_auth();
    let reload = RwSignal::new(0u32);
    let users = LocalResource::new(move || {
        reload.track();
        async move { api::list_users().await }
    });
    let login = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let profile = RwSignal::new(Profile::Analyst);
    let error = RwSignal::new(None::<ApiError>);
    let outcome = Settle::new(error, reload);
    let in_admin_org = move || auth.current().is_some_and(|u| u.is_platform_admin());
    // The organisations a user can be put in (platform administrators), read once for the table.
    let org_names = LocalResource::new(move || {
        reload.track();
        let admin = in_admin_org();
        async move {
            if admin { api::list_orgs().await.unwrap_or_default().into_iter().map(|o| o.name).collect() } else { Vec::<String>::new() }
        }
    });
    let custom_names = LocalResource::new(move || {
        reload.track();
        let admin = in_admin_org();
        async move {
            if admin { api::list_profiles().await.unwrap_or_default().into_iter().map(|p| p.name).collect() } else { Vec::<String>::new() }
        }
    });
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = NewUser {
            login: login.get_untracked(),
            name: name.get_untracked(),
            password: Some(password.get_untracked()).filter(|p| !p.is_empty()),
            organisation: None,
            profile: profile.get_untracked(),
        };
        spawn_local(async move {
            if outcome.settle(api::create_user(input).await).is_some() {
                login.set(String::new());
                name.set(String::new());
                password.set(String::new());
            }
        });
    };
    let set_status = move |id: String, status: UserStatus| {
        spawn_local(async move {
            let input = UserPatch { status: Some(status), ..Default::default() };
            outcome.settle(api::update_user(id, input).await);
        });
    };
    let profiles = move || {
        if in_admin_org() { vec![Profile::Admin] } else { vec![Profile::OrgAdmin, Profile::Analyst, Profile::ReadOnly] }
    };
    view! {
        <section class="card">
            <h2>"Users"</h2>
            <form class="inline-form" on:submit=create>
                <input type="text" placeholder="Login (e.g. alice@example.org)" required prop:value=login on:input=move |ev| login.set(event_target_value(&ev))/>
                <input type="text" placeholder="Name" required prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                <select aria-label="Profile" on:change=move |ev| if let Some(p) = Profile::parse(&event_target_value(&ev)) { profile.set(p) }>
                    {move || profiles().into_iter().map(|p| view! {
                        <option value=p.as_str() selected=move || profile.get() == p>{p.label()}</option>
                    }).collect_view()}
                </select>
                <input type="password" placeholder="Password (optional)" autocomplete="new-password" prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
                <button type="submit" class="primary">"Create user"</button>
            </form>
            <ErrorNote error=error/>
            {move || fetched(users.get(), |list| if list.is_empty() {
                view! { <EmptyState title="No users" hint="Create the first one above."/> }.into_any()
            } else { view! {
                    <table class="grid">
                        <thead><tr><th>"Login"</th><th>"Name"</th><th>"Organisations"</th><th>"Status"</th><th>"API key"</th><th></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|u: User| {
                                let id = u.id.clone();
                                let locked = u.status == UserStatus::Locked;
                                let is_me = auth.current().is_some_and(|me| me.id == u.id);
                                let memberships = u.memberships.clone();
                                let several = u.memberships.len() > 1;
                                let user_id = u.id.clone();
                                let row_login = u.login.clone();
                                view! {
                                    <tr class:locked=locked data-login=row_login>
                                        <td>{u.login}</td><td>{u.name}</td>
                                        <td class="memberships">
                                            {memberships.into_iter().map(|m| {
                                                let (uid, org) = (user_id.clone(), m.org_name.clone());
                                                let removable = in_admin_org() && !is_me && several;
                                                view! {
                                                    <span class="chip membership" data-org=m.org_name.clone()>{format!("{} ({})", m.org_name, m.profile_name())}
                                                        {removable.then(|| view! {
                                                            <button class="chip-remove" aria-label=format!("Remove from {org}") on:click=move |_| {
                                                                let (uid, org) = (uid.clone(), org.clone());
                                                                if confirm(&format!("Take this user out of {org}?")) {
                                                                    spawn_local(async move { outcome.settle(api::remove_membership(uid, org).await); });
                                                                }
                                                            }>"×"</button>
                                                        })}
                                                    </span>
                                                }
                                            }).collect_view()}
                                            {(in_admin_org() && !is_me).then(|| {
                                                let mine: Vec<String> = u.memberships.iter().map(|m| m.org_name.clone()).collect();
                                                let choices: Vec<String> = org_names.get().unwrap_or_default().into_iter().filter(|o| !mine.contains(o)).collect();
                                                let customs: Vec<String> = custom_names.get().unwrap_or_default();
                                                view! { <AddMembership user_id=user_id.clone() orgs=choices customs=customs outcome=outcome/> }
                                            })}
                                        </td>
                                        <td>{if locked { "Locked" } else { "Active" }}</td>
                                        <td>{if u.has_key { "yes" } else { "-" }}</td>
                                        <td>
                                            <Show when=move || !is_me>
                                                {
                                                    let id = id.clone();
                                                    move || {
                                                        let id = id.clone();
                                                        if locked {
                                                            view! { <button on:click=move |_| set_status(id.clone(), UserStatus::Ok)>"Unlock"</button> }.into_any()
                                                        } else {
                                                            view! { <button class="danger" on:click=move |_| {
                                                                if confirm("Lock this user? Their sessions end at once.") {
                                                                    set_status(id.clone(), UserStatus::Locked)
                                                                }
                                                            }>"Lock"</button> }.into_any()
                                                        }
                                                    }
                                                }
                                            </Show>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any() })}
        </section>
    }
}
