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

/// A dialog over the page: Esc or the close button closes it.
#[component]
pub fn Modal(#[prop(into)] title: String, on_close: Callback<()>, children: Children) -> impl IntoView {
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            on_close.run(());
        }
    });
    on_cleanup(move || handle.remove());
    view! {
        <div class="modal-backdrop" on:click=move |_| on_close.run(())></div>
        <div class="modal" role="dialog" aria-modal="true" aria-label=title.clone()>
            <div class="modal-header">
                <h2>{title.clone()}</h2>
                <button class="icon-close" title="Close (Esc)" aria-label="Close" on:click=move |_| on_close.run(())>"×"</button>
            </div>
            <div class="modal-body">{children()}</div>
        </div>
    }
}

/// A markdown editor with a preview rendered by the server's sanitiser.
#[component]
pub fn MarkdownEditor(
    value: RwSignal<String>,
    #[prop(optional, into)] placeholder: String,
    #[prop(default = 6)] rows: u32,
    #[prop(optional, into)] id: String,
) -> impl IntoView {
    let preview = RwSignal::new(false);
    let html = RwSignal::new(String::new());
    let show_preview = move |_| {
        preview.set(true);
        let text = value.get_untracked();
        leptos::task::spawn_local(async move {
            let rendered = crate::api::render_markdown(text).await.unwrap_or_else(|e| format!("<p>{}</p>", super::format::escape_html(&e.to_string())));
            html.set(rendered);
        });
    };
    view! {
        <div class="md-editor">
            <div class="md-tabs">
                <button type="button" class:active=move || !preview.get() on:click=move |_| preview.set(false)>"Write"</button>
                <button type="button" class:active=move || preview.get() on:click=show_preview>"Preview"</button>
                <span class="muted md-hint">"Markdown"</span>
            </div>
            <Show when=move || !preview.get() fallback=move || view! { <div class="markdown md-preview" inner_html=move || html.get()></div> }>
                <textarea id=id.clone() rows=rows placeholder=placeholder.clone() prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))></textarea>
            </Show>
        </div>
    }
}

/// Tags as small labels.
#[component]
pub fn Tags(tags: Vec<String>) -> impl IntoView {
    tags.into_iter().map(|t| view! { <span class="tag">{t}</span> }).collect_view()
}
