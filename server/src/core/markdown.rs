//! Markdown (descriptions, task logs, summaries) to HTML that is safe to insert in a page:
//! rendered with pulldown-cmark, then sanitised with ammonia, so no script can run from any
//! text field whatever it contains (raw HTML, `javascript:` links, event handlers, SVG...).

use std::collections::HashSet;
use std::sync::OnceLock;

use pulldown_cmark::{Options, Parser, html};

fn sanitizer() -> &'static ammonia::Builder<'static> {
    static B: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    B.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        // Links open outside the app and tell the target nothing.
        b.link_rel(Some("noopener noreferrer nofollow"));
        b.url_schemes(HashSet::from(["http", "https", "mailto"]));
        // Task lists render as disabled checkboxes.
        b.add_tags(["input"]);
        b.add_tag_attribute_values("input", "type", ["checkbox"]);
        b.add_tag_attributes("input", ["checked", "disabled"]);
        b.add_tag_attributes("code", ["class"]);
        b
    })
}

/// Render markdown to sanitised HTML.
pub fn to_safe_html(markdown: &str) -> String {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    let mut raw = String::with_capacity(markdown.len() + markdown.len() / 4);
    html::push_html(&mut raw, Parser::new_ext(markdown, opts));
    sanitizer().clean(&raw).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_markdown() {
        let h = to_safe_html("# Title\n\n**bold** and `code`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done");
        assert!(h.contains("<h1>Title</h1>"), "{h}");
        assert!(h.contains("<strong>bold</strong>"));
        assert!(h.contains("<table>"));
        assert!(h.contains("checkbox"));
        let h = to_safe_html("[x](https://example.org)");
        assert!(h.contains("rel=\"noopener noreferrer nofollow\""), "{h}");
    }

    /// The tags of an HTML text (`<...>`), as written.
    fn tags(html: &str) -> Vec<&str> {
        html.split('<').skip(1).filter_map(|t| t.split_once('>').map(|(tag, _)| tag)).collect()
    }

    #[test]
    fn no_script_survives() {
        let payloads = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "<svg><script>alert(1)</script></svg>",
            "<svg onload=alert(1)>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<iframe src=\"https://evil\"></iframe>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
            "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
            "![x](x\" onerror=\"alert(1))",
            "<details open ontoggle=alert(1)>",
            "<object data=\"javascript:alert(1)\"></object>",
            "<form action=\"javascript:alert(1)\"><button>x</button></form>",
            "<input type=\"image\" src=x onerror=alert(1)>",
            "<a href=\"&#106;avascript:alert(1)\">x</a>",
            "<base href=\"javascript:/\">",
            "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
        ];
        for p in payloads {
            let h = to_safe_html(p).to_lowercase();
            // Text may say anything; tags and attributes may not.
            for tag in tags(&h) {
                for bad in ["script", " on", "javascript:", "iframe", "svg", "object", "form", "style", "base", "meta", "data:"] {
                    assert!(!tag.contains(bad), "{p:?} rendered {h:?}: tag {tag:?} contains {bad:?}");
                }
            }
        }
    }
}
