//! Browser-only helpers: multipart uploads to the v0 endpoints (same origin, the session
//! cookie), downloads of what they answer, and downloads of text made in the page.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::model::{ApiError, ErrorKind};

/// The file chosen in an `<input type=file>` with this id.
pub fn chosen_file(input_id: &str) -> Option<web_sys::File> {
    let input = document().get_element_by_id(input_id)?.dyn_into::<web_sys::HtmlInputElement>().ok()?;
    input.files()?.get(0)
}

/// Clear a file input.
pub fn clear_file(input_id: &str) {
    if let Some(input) = document().get_element_by_id(input_id).and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok()) {
        input.set_value("");
    }
}

fn document() -> web_sys::Document {
    leptos::prelude::document()
}

fn js_error(e: wasm_bindgen::JsValue) -> ApiError {
    ApiError::new(ErrorKind::InternalError, format!("The browser refused the request: {e:?}"))
}

/// Post TheHive's multipart upload (`_json` attributes and an `attachment` file) to a v0 path.
pub async fn post_multipart(path: &str, json: &serde_json::Value, file: &web_sys::File) -> Result<serde_json::Value, ApiError> {
    let form = web_sys::FormData::new().map_err(js_error)?;
    form.append_with_str("_json", &json.to_string()).map_err(js_error)?;
    form.append_with_blob_and_filename("attachment", file, &file.name()).map_err(js_error)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&form);
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    let resp = JsFuture::from(leptos::prelude::window().fetch_with_str_and_init(path, &init))
        .await
        .map_err(|_| ApiError::new(ErrorKind::InternalError, "The server could not be reached. Check your connection."))?;
    let resp: web_sys::Response = resp.dyn_into().map_err(js_error)?;
    let text = JsFuture::from(resp.text().map_err(js_error)?).await.map_err(js_error)?.as_string().unwrap_or_default();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    if resp.ok() {
        return Ok(body);
    }
    Err(refusal(&resp, &body, "Upload refused"))
}

/// Download what a GET of a v0 path answers (a report...) as a file named `name`; a refusal
/// (TheHive's `{"type","message"}`) is the error, for the page to show where the user acted.
pub async fn download(path: &str, name: &str) -> Result<(), ApiError> {
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    let resp = JsFuture::from(leptos::prelude::window().fetch_with_str_and_init(path, &init))
        .await
        .map_err(|_| ApiError::new(ErrorKind::InternalError, "The server could not be reached. Check your connection."))?;
    let resp: web_sys::Response = resp.dyn_into().map_err(js_error)?;
    if !resp.ok() {
        let text = JsFuture::from(resp.text().map_err(js_error)?).await.map_err(js_error)?.as_string().unwrap_or_default();
        let body: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        return Err(refusal(&resp, &body, "Download refused"));
    }
    let blob: web_sys::Blob = JsFuture::from(resp.blob().map_err(js_error)?).await.map_err(js_error)?.dyn_into().map_err(js_error)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(js_error)?;
    click_download(&url, name);
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// The error a v0 refusal says (its `type` and `message`), else one made of its status.
fn refusal(resp: &web_sys::Response, body: &serde_json::Value, what: &str) -> ApiError {
    let kind = body.get("type").and_then(|t| serde_json::from_value::<ErrorKind>(t.clone()).ok()).unwrap_or(match resp.status() {
        401 => ErrorKind::AuthenticationError,
        403 => ErrorKind::AuthorizationError,
        413 => ErrorKind::RequestEntityTooLarge,
        _ => ErrorKind::BadRequest,
    });
    let message = body.get("message").and_then(|m| m.as_str()).map(str::to_string).unwrap_or_else(|| format!("{what} ({})", resp.status()));
    ApiError::new(kind, message)
}

/// Offer `content` as a file download named `name`.
pub fn download_text(name: &str, mime: &str, content: &str) {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(content));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else { return };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    click_download(&url, name);
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// Download what `href` points to (an object or data URL) as a file named `name`: a link is
/// added to the page, clicked and removed (some browsers ignore clicks on detached links).
pub fn click_download(href: &str, name: &str) {
    if let Some(a) = document().create_element("a").ok().and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok()) {
        a.set_href(href);
        a.set_download(name);
        if let Some(body) = document().body() {
            let _ = body.append_child(&a);
            a.click();
            let _ = body.remove_child(&a);
        }
    }
}

/// Whether a key event comes from a field the user types in (shortcuts stay out of its way).
pub fn typing(ev: &web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
        .map(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || el.is_content_editable())
        .unwrap_or(false)
        || ev.ctrl_key()
        || ev.meta_key()
        || ev.alt_key()
}

/// The text content of a chosen file.
pub async fn read_text(file: &web_sys::File) -> Result<String, ApiError> {
    let text = JsFuture::from(file.text()).await.map_err(|_| ApiError::new(ErrorKind::BadRequest, "The file could not be read"))?;
    text.as_string().ok_or_else(|| ApiError::new(ErrorKind::BadRequest, "The file is not text"))
}

/// Wait `ms` milliseconds (a timer of the page).
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = leptos::prelude::window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

/// A value remembered by the browser (local storage).
pub fn remembered(key: &str) -> Option<String> {
    leptos::prelude::window().local_storage().ok().flatten().and_then(|s| s.get_item(key).ok().flatten())
}

/// Remember a value in the browser (local storage); a browser that refuses forgets it.
pub fn remember(key: &str, value: &str) {
    if let Some(s) = leptos::prelude::window().local_storage().ok().flatten() {
        let _ = s.set_item(key, value);
    }
}
