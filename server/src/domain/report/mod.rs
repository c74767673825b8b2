//! Case reports: a case, its tasks and logs, observables, related alerts, audit trail and charts,
//! through a report template, as PDF, HTML or markdown ([`make`]); the templates themselves
//! ([`template`]).
//!
//! Rules: a report shows a case the caller may read, read through the case area (a case of
//! another organisation is not found); deleted observables and logs are left out; IOCs come
//! first; the timeline is the case's audit trail, oldest first (the last 1,000 changes); the
//! marking in the header and footer is the template's TLP, else the case's. A template is
//! minijinja whose output is markdown, the one source of the three formats: the markdown as
//! is, HTML rendered and sanitised (nothing in a case's text can run in a reader's browser),
//! PDF laid out by `core::pdf`. Uploading or deleting templates needs `manageCaseTemplate`; a
//! template that does not compile or fails on a sample case is refused at upload; `default`
//! is shipped and cannot be replaced or deleted.

mod chart;
pub mod model;
pub mod template;

use app::model::{ReportFormat, ReportTemplate};
use base64::Engine as _;

use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::pdf;
use crate::core::state::AppState;
use crate::core::store::now_millis;

/// A report ready to send.
#[derive(Debug)]
pub struct Report {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    /// `case-42-report.pdf`
    pub file_name: String,
}

/// The TLP marking's label and its colour (FIRST TLP 2.0, drawn on black).
fn marking(tlp: u8) -> pdf::Marking {
    let (label, color) = match tlp {
        0 => ("TLP:CLEAR", (0xff, 0xff, 0xff)),
        1 => ("TLP:GREEN", (0x33, 0xff, 0x00)),
        2 => ("TLP:AMBER", (0xff, 0xc0, 0x00)),
        _ => ("TLP:RED", (0xff, 0x2b, 0x2b)),
    };
    pdf::Marking { label: label.into(), color }
}

/// Make the report of a case (`case_id`: an id or `#number`) with a template (by name; none or
/// `default`: the shipped one).
pub async fn make(state: &AppState, caller: &Caller, case_id: &str, format: ReportFormat, template_name: Option<&str>) -> Result<Report> {
    let template = template::by_name(state, caller, template_name.unwrap_or_default()).await?;
    let gathered = model::gather(state, caller, case_id).await?;
    let mark = marking(template.tlp.unwrap_or(gathered.case.tlp));
    let info = model::ReportInfo {
        generated_at: model::date(now_millis()),
        generated_by: caller.login.clone(),
        template: template.name.clone(),
        marking: mark.label.clone(),
    };
    let number = gathered.case.case_id;
    let title = format!("Case #{number}: {}", gathered.case.title);
    let footer = format!("{} · generated {} by {}", template.name, info.generated_at, info.generated_by);
    // Drawing, templating and PDF layout are CPU work: off the runtime's workers.
    let bytes = tokio::task::spawn_blocking(move || render(&gathered, &template, info, format, &title, &footer, mark))
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("report task: {e}")))??;
    Ok(Report { bytes, content_type: format.content_type(), file_name: format!("case-{number}-report.{}", format.as_str()) })
}

/// The charts as PNG, by their address in the template's output.
struct Images(Vec<(&'static str, Vec<u8>)>);

impl Images {
    fn get(&self, url: &str) -> Option<&[u8]> {
        self.0.iter().find(|(u, _)| *u == url).map(|(_, p)| p.as_slice())
    }

    fn data_uri(&self, url: &str) -> Option<String> {
        self.get(url).map(|p| format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(p)))
    }
}

fn render(
    g: &model::Gathered,
    template: &ReportTemplate,
    info: model::ReportInfo,
    format: ReportFormat,
    title: &str,
    footer: &str,
    mark: pdf::Marking,
) -> Result<Vec<u8>> {
    let (severity, types) = model::chart_counts(g);
    let mut images = Images(Vec::new());
    let mut charts = model::Charts::default();
    if !severity.is_empty() {
        images.0.push((model::CHART_ALERTS, chart::alerts_by_severity(&severity)?));
        charts.alerts_by_severity = Some(model::CHART_ALERTS);
    }
    if !types.is_empty() {
        images.0.push((model::CHART_OBSERVABLES, chart::observables_by_type(&types)?));
        charts.observables_by_type = Some(model::CHART_OBSERVABLES);
    }
    let m = model::build(g, info, charts);
    let markdown = template::render(&template.name, &template.content, &m)?;
    Ok(match format {
        ReportFormat::Md => markdown_report(&markdown, &images, &mark).into_bytes(),
        ReportFormat::Html => html_report(&markdown, &images, &mark, title, footer).into_bytes(),
        ReportFormat::Pdf => {
            let blocks = pdf::markdown::blocks(&markdown, &|url| {
                images.get(url).map(|p| (p.to_vec(), chart::WIDTH, chart::HEIGHT))
            });
            let doc = pdf::Document { title: title.to_string(), header: title.to_string(), footer: footer.to_string(), marking: Some(mark), blocks };
            pdf::render(&doc).map_err(|e| Error::Internal(anyhow::anyhow!("PDF: {e}")))?
        }
    })
}

/// The markdown with the marking first and last, and the charts inlined as data URIs.
fn markdown_report(markdown: &str, images: &Images, mark: &pdf::Marking) -> String {
    let mut body = markdown.to_string();
    for (url, _) in &images.0 {
        if let Some(uri) = images.data_uri(url) {
            body = body.replace(&format!("]({url})"), &format!("]({uri})"));
        }
    }
    format!("**{0}**\n\n{1}\n\n---\n\n**{0}**\n", mark.label, body.trim())
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A standalone HTML page: the markdown rendered and sanitised (`core::markdown`), then the
/// charts' addresses (which sanitising keeps as relative URLs) swapped for their images; a
/// content security policy that allows no script at all, in case.
fn html_report(markdown: &str, images: &Images, mark: &pdf::Marking, title: &str, footer: &str) -> String {
    let mut body = crate::core::markdown::to_safe_html(markdown);
    for (url, _) in &images.0 {
        if let Some(uri) = images.data_uri(url) {
            body = body.replace(&format!("src=\"{url}\""), &format!("src=\"{uri}\""));
        }
    }
    let (r, g, b) = mark.color;
    let badge = format!("<span class=\"tlp\" style=\"color:#{r:02X}{g:02X}{b:02X}\">{}</span>", escape_html(&mark.label));
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n\
<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
<header class=\"marking\">{badge}<span>{title}</span></header>\n<main>\n{body}\n</main>\n\
<footer class=\"marking\">{badge}<span>{footer}</span></footer>\n</body>\n</html>\n",
        title = escape_html(title),
        footer = escape_html(footer),
    )
}

const STYLE: &str = "body{font-family:'Liberation Sans',Arial,Helvetica,sans-serif;color:#1d2330;max-width:60rem;margin:0 auto;padding:1rem 2rem;line-height:1.45}\
.marking{display:flex;gap:1rem;align-items:center;color:#5f6b7a;font-size:.85rem;border-bottom:1px solid #c8cdd4;padding:.4rem 0}\
footer.marking{border-bottom:0;border-top:1px solid #c8cdd4;margin-top:2rem}\
.tlp{background:#000;font-weight:bold;padding:.1rem .4rem}\
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0 1rem}th,td{border-bottom:1px solid #c8cdd4;padding:.25rem .4rem;text-align:left;vertical-align:top}\
th{background:#eef0f3}h1,h2{border-bottom:1px solid #c8cdd4;padding-bottom:.2rem}pre{background:#eef0f3;padding:.5rem;overflow-x:auto}\
img{max-width:100%}@media print{.marking{position:static}}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_reports_run_nothing_from_the_markdown() {
        let images = Images(vec![(model::CHART_ALERTS, vec![1, 2, 3])]);
        let md = format!("# T\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n![c]({})", model::CHART_ALERTS);
        let h = html_report(&md, &images, &marking(2), "<b>t</b>", "f");
        assert!(!h.contains("<script>alert"), "{h}");
        assert!(!h.contains("onerror"), "{h}");
        assert!(h.contains("src=\"data:image/png;base64,AQID\""), "{h}");
        assert!(h.contains("&lt;b&gt;t&lt;/b&gt;"), "{h}");
        assert_eq!(h.matches("TLP:AMBER").count(), 2);
    }
}
