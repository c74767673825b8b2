//! Case reports: the formats and the report templates organisations upload
//! (`docs/reports.md` documents the model a template sees).

use serde::{Deserialize, Serialize};

use super::{Id, Millis};

/// What a report is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    #[default]
    Pdf,
    Html,
    Md,
}

impl ReportFormat {
    pub const ALL: [ReportFormat; 3] = [ReportFormat::Pdf, ReportFormat::Html, ReportFormat::Md];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Pdf => "pdf",
            ReportFormat::Html => "html",
            ReportFormat::Md => "md",
        }
    }

    pub fn parse(s: &str) -> Option<ReportFormat> {
        ReportFormat::ALL.into_iter().find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// What the UI shows.
    pub fn label(self) -> &'static str {
        match self {
            ReportFormat::Pdf => "PDF",
            ReportFormat::Html => "HTML",
            ReportFormat::Md => "Markdown",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Pdf => "application/pdf",
            ReportFormat::Html => "text/html; charset=utf-8",
            ReportFormat::Md => "text/markdown; charset=utf-8",
        }
    }
}

/// The name of the template every organisation has (shipped with Waggle, not deletable).
pub const DEFAULT_REPORT_TEMPLATE: &str = "default";

/// A report template: a minijinja template whose output is markdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportTemplate {
    pub id: Id,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The TLP marking printed in the report's header and footer, numbered as TheHive does
    /// (0 CLEAR, 1 GREEN, 2 AMBER, 3 RED); none: the case's own TLP.
    #[serde(default)]
    pub tlp: Option<u8>,
    pub content: String,
    /// The shipped template (`default`), not stored.
    #[serde(default)]
    pub builtin: bool,
    pub created_at: Millis,
    pub created_by: String,
}

/// A template to upload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewReportTemplate {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tlp: Option<u8>,
    pub content: String,
}
