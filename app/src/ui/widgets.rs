//! Small building blocks used across pages.

use leptos::prelude::*;

use super::format;
use crate::model::{ApiError, Health};

#[component]
pub fn SeverityBadge(#[prop(into)] severity: Signal<u8>) -> impl IntoView {
    view! {
        <span class=move || format!("badge sev {}", format::severity(severity.get()).1)
              title="Severity">{move || format::severity(severity.get()).0}</span>
    }
}

/// `TLP:AMBER` / `PAP:RED` in FIRST's colours on black.
#[component]
pub fn TlpBadge(#[prop(into)] level: Signal<u8>, #[prop(default = "TLP")] kind: &'static str) -> impl IntoView {
    view! {
        <span class=move || format!("badge tlp {}", format::tlp(level.get()).1)>
            {kind}":"{move || format::tlp(level.get()).0}
        </span>
    }
}

#[component]
pub fn HealthDot(health: Health, enabled: bool, #[prop(into)] label: String) -> impl IntoView {
    let (class, state) = format::health(health, enabled);
    let title = format!("{label}: {state}");
    view! { <span class=format!("dot {class}") title=title.clone() aria-label=title></span> }
}

/// An error shown where the user acted.
#[component]
pub fn ErrorNote(#[prop(into)] error: Signal<Option<ApiError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! { <div class="error-note" role="alert">{e.to_string()}</div> }
        })
    }
}

/// A centered spinner with a word.
#[component]
pub fn Loading() -> impl IntoView {
    view! { <div class="loading"><span class="spinner"></span>"Loading…"</div> }
}

/// An empty list, saying what would be here and what to do.
#[component]
pub fn EmptyState(#[prop(into)] title: String, #[prop(into)] hint: String) -> impl IntoView {
    view! {
        <div class="empty-state">
            <div class="empty-title">{title}</div>
            <div class="empty-hint">{hint}</div>
        </div>
    }
}
