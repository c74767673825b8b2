//! What the UI's actions do with a server call's answer, and the question a destructive action
//! asks first: one place, so every page behaves the same way.

use leptos::prelude::*;

use super::auth::{AuthState, use_auth};
use crate::model::ApiError;

/// Where a page's actions report: its error note, its `reload` signal and the session. Made
/// when the page is built (a context cannot be read from inside a task, after an `await`).
#[derive(Clone, Copy)]
pub struct Settle {
    auth: AuthState,
    error: RwSignal<Option<ApiError>>,
    reload: RwSignal<u32>,
}

impl Settle {
    pub fn new(error: RwSignal<Option<ApiError>>, reload: RwSignal<u32>) -> Self {
        Settle { auth: use_auth(), error, reload }
    }

    /// Handle a server call's result. On success the error shown is cleared and `reload` is
    /// bumped (the resources that track it fetch again); on failure the error is shown where the
    /// user acted (an expired session sends the user to the sign-in page). The answer, on success.
    pub fn settle<T>(self, result: Result<T, ApiError>) -> Option<T> {
        match result {
            Ok(value) => {
                self.error.set(None);
                refresh(self.reload);
                Some(value)
            }
            Err(e) => {
                self.auth.check(&e);
                self.error.set(Some(e));
                None
            }
        }
    }
}

/// Fetch again what tracks `reload`.
pub fn refresh(reload: RwSignal<u32>) {
    reload.update(|n| *n = n.wrapping_add(1));
}

/// Ask the browser's confirmation question; false when the user declines (or no window answers).
pub fn confirm(question: &str) -> bool {
    window().confirm_with_message(question).unwrap_or(false)
}

/// The view of a list fetched from the server: a spinner while it loads, the error in words if
/// it failed, otherwise `ok` of the answer.
pub fn fetched<T>(answer: Option<Result<T, ApiError>>, ok: impl FnOnce(T) -> AnyView) -> AnyView {
    match answer {
        None => view! { <super::widgets::Loading/> }.into_any(),
        Some(Err(e)) => view! { <div class="error-note">{e.to_string()}</div> }.into_any(),
        Some(Ok(value)) => ok(value),
    }
}
