//! The signed-in user, shared by every page through context.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::model::{ApiError, CurrentUser};

#[derive(Clone, Copy)]
pub struct AuthState {
    /// `None` until the first check answers, then `Some(None)` (signed out) or `Some(Some(user))`.
    pub user: RwSignal<Option<Option<CurrentUser>>>,
}

impl AuthState {
    pub fn new() -> Self {
        Self { user: RwSignal::new(None) }
    }

    /// Ask the server who we are.
    pub fn refresh(self) {
        spawn_local(async move {
            let me = api::whoami().await.ok();
            self.user.set(Some(me));
        });
    }

    pub fn current(self) -> Option<CurrentUser> {
        self.user.get().flatten()
    }

    pub fn signed_in(self, user: CurrentUser) {
        self.user.set(Some(Some(user)));
    }

    pub fn signed_out(self) {
        self.user.set(Some(None));
    }

    /// Pages call this with every server error: an authentication error means the session is
    /// gone, and the shell sends the user to the login page.
    pub fn check(self, err: &ApiError) {
        if err.is_authentication() {
            self.signed_out();
        }
    }
}

impl Default for AuthState {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_auth() -> AuthState {
    expect_context::<AuthState>()
}
