//! Profiles (platform administrators): the built-in ones with what they allow, and custom ones
//! made and changed with permission checkboxes; a custom profile is given to users per
//! organisation from the users table.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::model::{ApiError, CustomProfile, Permission, Profile};
use crate::ui::action::{Settle, confirm, fetched};
use crate::ui::widgets::ErrorNote;

/// The permissions a custom profile may hold (the platform's are the admin profile's only).
fn grantable() -> impl Iterator<Item = Permission> {
    Permission::ALL.into_iter().filter(|p| !p.is_platform())
}

#[component]
pub fn ProfilesAdmin() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let profiles = LocalResource::new(move || {
        reload.track();
        async move { api::list_profiles().await }
    });
    let error = RwSignal::new(None::<ApiError>);
    let outcome = Settle::new(error, reload);
    let name = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<Permission>::new());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        spawn_local(async move {
            if outcome.settle(api::save_profile(name.get_untracked(), chosen.get_untracked(), true).await).is_some() {
                name.set(String::new());
                chosen.set(Vec::new());
            }
        });
    };
    view! {
        <section class="card profiles-builtin">
            <h2>"Built-in profiles"</h2>
            <table class="grid">
                <thead><tr><th>"Profile"</th><th>"Allows"</th></tr></thead>
                <tbody>{Profile::ALL.into_iter().map(|p| view! {
                    <tr><td>{p.label()}" "<code>{p.as_str()}</code></td>
                    <td>{if p.permissions().is_empty() { "reading only".to_string() } else { p.permissions().iter().map(|x| x.label()).collect::<Vec<_>>().join(", ") }}</td></tr>
                }).collect_view()}</tbody>
            </table>
        </section>
        <section class="card profiles-custom">
            <h2>"Custom profiles"</h2>
            <form class="new-profile" on:submit=create>
                <input type="text" name="profile-name" placeholder="New profile name (e.g. triage)" required prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                <PermissionBoxes chosen=chosen/>
                <button type="submit" class="primary">"Create profile"</button>
            </form>
            <ErrorNote error=error/>
            {move || fetched(profiles.get(), |list: Vec<CustomProfile>| view! {
                <table class="grid custom-profiles">
                    <thead><tr><th>"Profile"</th><th>"Permissions"</th><th></th></tr></thead>
                    <tbody>{list.into_iter().map(|p| view! { <CustomRow p=p outcome=outcome/> }).collect_view()}</tbody>
                </table>
            }.into_any())}
        </section>
    }
}

#[component]
fn PermissionBoxes(chosen: RwSignal<Vec<Permission>>) -> impl IntoView {
    view! {
        <div class="permission-boxes">
            {grantable().map(|p| view! {
                <label class="permission">
                    <input type="checkbox" name=p.as_str() prop:checked=move || chosen.with(|c| c.contains(&p))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            chosen.update(|c| { c.retain(|x| *x != p); if on { c.push(p) } });
                        }/>
                    {p.label()}
                </label>
            }).collect_view()}
        </div>
    }
}

#[component]
fn CustomRow(p: CustomProfile, outcome: Settle) -> impl IntoView {
    let chosen = RwSignal::new(p.permissions.clone());
    let (save_name, delete_name) = (p.name.clone(), p.name.clone());
    let save = move |_| {
        let name = save_name.clone();
        spawn_local(async move {
            outcome.settle(api::save_profile(name, chosen.get_untracked(), false).await);
        });
    };
    let delete = move |_| {
        let name = delete_name.clone();
        if !confirm(&format!("Delete the profile {name}?")) {
            return;
        }
        spawn_local(async move {
            outcome.settle(api::delete_profile(name).await);
        });
    };
    view! {
        <tr data-profile=p.name.clone()>
            <td>{p.name.clone()}</td>
            <td><PermissionBoxes chosen=chosen/></td>
            <td><button class="save-profile" on:click=save>"Save"</button>" "<button class="danger delete-profile" on:click=delete>"Delete"</button></td>
        </tr>
    }
}
