use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api;
use crate::model::ApiError;
use crate::ui::auth::use_auth;
use crate::ui::shell::safe_next;
use crate::ui::widgets::ErrorNote;
use crate::url::decode_component;

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let query = use_query_map();
    let login = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let next = move || safe_next(query.with_untracked(|q| q.get("next")).map(|n| decode_component(&n)));

    // Already signed in (reload of /login): go on.
    {
        let navigate = navigate.clone();
        Effect::new(move |_| {
            if auth.user.get().flatten().is_some() && !busy.get_untracked() {
                navigate(&next(), Default::default());
            }
        });
    }

    // Either way of signing in ends the same: the user is known, the page goes on.
    let signed_in = move |result: Result<crate::model::CurrentUser, ApiError>, navigate: &dyn Fn(&str, leptos_router::NavigateOptions)| {
        result.map(|user| {
            auth.signed_in(user);
            navigate(&next(), Default::default());
        })
    };

    // A browser that presents a client certificate linked to an account (after its holder signed
    // out of it: otherwise the certificate signs them in before this page shows).
    let certificate = LocalResource::new(|| async { api::certificate_account().await.ok().flatten() });
    let directory = LocalResource::new(|| async { api::sign_in_methods().await.is_ok_and(|m| m.iter().any(|x| x == "ldap")) });
    // One attempt at a time; the error of the last one shown.
    let start = move || {
        if busy.get_untracked() {
            return false;
        }
        busy.set(true);
        error.set(None);
        true
    };
    let with_certificate = {
        let navigate = navigate.clone();
        move |_| {
            if !start() {
                return;
            }
            let navigate = navigate.clone();
            spawn_local(async move {
                if let Err(e) = signed_in(api::certificate_login().await, &navigate) {
                    error.set(Some(e));
                }
                busy.set(false);
            });
        }
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !start() {
            return;
        }
        let navigate = navigate.clone();
        spawn_local(async move {
            if let Err(e) = signed_in(api::login(login.get_untracked(), password.get_untracked()).await, &navigate) {
                password.set(String::new());
                error.set(Some(e));
            }
            busy.set(false);
        });
    };

    view! {
        <div class="login-page">
            <form class="login-card" on:submit=submit>
                <div class="login-brand"><img src="/public/logo.svg" alt="" width="40" height="40"/><h1>"Waggle"</h1></div>
                <p class="muted">"Security incident response"</p>
                <label for="login">"Login"</label>
                {move || directory.get().unwrap_or(false).then(|| view! {
                    <p class="muted login-hint">"Your Waggle login, or your directory (LDAP / Active Directory) account."</p>
                })}
                <input id="login" name="login" type="text" autocomplete="username" autofocus required
                    prop:value=login on:input=move |ev| login.set(event_target_value(&ev))/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required
                    prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
                <ErrorNote error=error/>
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Signing in…" } else { "Sign in" }}
                </button>
                {move || certificate.get().flatten().map(|login| {
                    let with_certificate = with_certificate.clone();
                    view! {
                        <div class="login-certificate">
                            <span class="muted">"or"</span>
                            <button type="button" class="certificate-login" disabled=move || busy.get() on:click=with_certificate>
                                "Sign in with your certificate as "<strong>{login}</strong>
                            </button>
                        </div>
                    }
                })}
            </form>
        </div>
    }
}
