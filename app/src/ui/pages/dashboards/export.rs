//! A chart as a PNG download (its SVG rasterised in a canvas), and the file names downloads
//! get. Text downloads (SVG, CSV, JSON) go through [`browser::download_text`].

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::ui::browser;
use crate::url::encode_component;

/// Rasterise an SVG in a canvas (2x for crisp images) and download it as PNG.
pub(super) fn download_png(svg: String, w: u32, h: u32, name: String) {
    use wasm_bindgen::closure::Closure;
    let Ok(img) = web_sys::HtmlImageElement::new() else { return };
    let img2 = img.clone();
    let onload = Closure::once(move || {
        let Some(canvas) = document().create_element("canvas").ok().and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok()) else { return };
        canvas.set_width(w * 2);
        canvas.set_height(h * 2);
        let Some(ctx) = canvas.get_context("2d").ok().flatten().and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok()) else { return };
        let _ = ctx.scale(2.0, 2.0);
        let _ = ctx.draw_image_with_html_image_element(&img2, 0.0, 0.0);
        if let Ok(url) = canvas.to_data_url_with_type("image/png") {
            browser::click_download(&url, &name);
        }
    });
    img.set_onload(Some(onload.as_ref().unchecked_ref()));
    onload.forget();
    img.set_src(&format!("data:image/svg+xml;charset=utf-8,{}", encode_component(&svg)));
}

/// A file name made of a title (letters and digits kept, the rest `_`).
pub(super) fn file_name(s: &str) -> String {
    let n: String = s.chars().map(|c| if c.is_alphanumeric() { c } else { '_' }).collect();
    if n.is_empty() { "widget".into() } else { n }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(file_name("Alerts / week"), "Alerts___week");
        assert_eq!(file_name(""), "widget");
        assert_eq!(file_name("Évènements"), "Évènements");
    }
}
