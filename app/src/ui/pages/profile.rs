use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::model::ApiError;
use crate::ui::action;
use crate::ui::auth::use_auth;
use crate::ui::widgets::ErrorNote;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let auth = use_auth();
    let me = move || auth.current();

    let name = RwSignal::new(me().map(|u| u.name).unwrap_or_default());
    let name_msg = RwSignal::new(None::<String>);
    let name_err = RwSignal::new(None::<ApiError>);
    let save_name = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        spawn_local(async move {
            match api::update_me(name.get_untracked()).await {
                Ok(u) => {
                    auth.signed_in(u);
                    name_err.set(None);
                    name_msg.set(Some("Saved".into()));
                }
                Err(e) => {
                    auth.check(&e);
                    name_err.set(Some(e));
                }
            }
        });
    };

    let current = RwSignal::new(String::new());
    let new_pw = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let pw_msg = RwSignal::new(None::<String>);
    let pw_err = RwSignal::new(None::<ApiError>);
    let change_pw = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if new_pw.get_untracked() != confirm.get_untracked() {
            pw_err.set(Some(ApiError::new(crate::model::ErrorKind::BadRequest, "The two new passwords differ")));
            return;
        }
        spawn_local(async move {
            match api::change_password(current.get_untracked(), new_pw.get_untracked()).await {
                Ok(()) => {
                    pw_err.set(None);
                    pw_msg.set(Some("Password changed".into()));
                    current.set(String::new());
                    new_pw.set(String::new());
                    confirm.set(String::new());
                }
                Err(e) => {
                    auth.check(&e);
                    pw_err.set(Some(e));
                }
            }
        });
    };

    let key = RwSignal::new(None::<String>);
    let has_key = RwSignal::new(me().is_some_and(|u| u.has_key));
    let key_err = RwSignal::new(None::<ApiError>);
    let renew = move |_| {
        let question = if has_key.get_untracked() {
            "Make a new API key? The current key stops working at once."
        } else {
            "Make an API key?"
        };
        if !action::confirm(question) {
            return;
        }
        spawn_local(async move {
            match api::renew_api_key().await {
                Ok(k) => {
                    key.set(Some(k));
                    has_key.set(true);
                    key_err.set(None);
                }
                Err(e) => {
                    auth.check(&e);
                    key_err.set(Some(e));
                }
            }
        });
    };
    let revoke = move |_| {
        if !action::confirm("Revoke your API key? Scripts using it stop working.") {
            return;
        }
        spawn_local(async move {
            match api::revoke_api_key().await {
                Ok(()) => {
                    key.set(None);
                    has_key.set(false);
                }
                Err(e) => key_err.set(Some(e)),
            }
        });
    };

    view! {
        <div class="narrow-page">
            <h1>"Profile"</h1>
            <section class="card">
                <h2>"You"</h2>
                <dl class="facts">
                    <dt>"Login"</dt><dd>{move || me().map(|u| u.login)}</dd>
                    <dt>"Organisation"</dt><dd>{move || me().map(|u| u.org_name)}</dd>
                    <dt>"Profile"</dt><dd>{move || me().map(|u| u.profile.label())}</dd>
                </dl>
                <form class="inline-form" on:submit=save_name>
                    <label for="name">"Display name"</label>
                    <input id="name" type="text" required prop:value=name on:input=move |ev| name.set(event_target_value(&ev))/>
                    <button type="submit">"Save"</button>
                    <span class="ok-note">{move || name_msg.get()}</span>
                </form>
                <ErrorNote error=name_err/>
            </section>
            <section class="card">
                <h2>"Password"</h2>
                <form class="stacked-form" on:submit=change_pw>
                    <label for="current">"Current password"</label>
                    <input id="current" type="password" autocomplete="current-password" prop:value=current on:input=move |ev| current.set(event_target_value(&ev))/>
                    <label for="new">"New password (8 characters or more)"</label>
                    <input id="new" type="password" autocomplete="new-password" minlength="8" prop:value=new_pw on:input=move |ev| new_pw.set(event_target_value(&ev))/>
                    <label for="confirm">"New password again"</label>
                    <input id="confirm" type="password" autocomplete="new-password" prop:value=confirm on:input=move |ev| confirm.set(event_target_value(&ev))/>
                    <div><button type="submit">"Change password"</button> <span class="ok-note">{move || pw_msg.get()}</span></div>
                </form>
                <ErrorNote error=pw_err/>
            </section>
            <section class="card" id="api-key">
                <h2>"API key"</h2>
                <p class="muted">"Scripts and feeders (thehive4py, alert feeders) authenticate with "<code>"Authorization: Bearer <key>"</code>". The key is shown once, when it is made."</p>
                {move || key.get().map(|k| view! {
                    <div class="secret-box">
                        <code id="api-key-value">{k.clone()}</code>
                        <button on:click=move |_| {
                            let _ = window().navigator().clipboard().write_text(&k);
                        }>"Copy"</button>
                    </div>
                })}
                <p>{move || if has_key.get() { "You have an API key." } else { "You have no API key." }}</p>
                <button on:click=renew>{move || if has_key.get() { "Renew key" } else { "Create key" }}</button>
                " "
                <Show when=move || has_key.get()><button class="danger" on:click=revoke>"Revoke key"</button></Show>
                <ErrorNote error=key_err/>
            </section>
        </div>
    }
}
