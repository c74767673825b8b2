//! PDF documents written by the binary itself: a small layout layer (headings, wrapped
//! paragraphs, lists, tables, code, images, page breaks; a header and a footer on every page
//! with a marking and page numbers) over krilla, which writes the PDF (fonts subset and
//! embedded, text extractable). Knows nothing of cases: [`markdown::blocks`] turns any markdown
//! into [`Block`]s, and the caller says what goes in the header, the footer and the marking.
//!
//! Fonts are compiled in ([`fonts`]): Liberation Sans (regular, bold) and Liberation Mono. Text
//! is measured with ab_glyph (advance widths, no kerning: lines are broken a little early
//! rather than late) and drawn with krilla's shaping, one font per run: scripts the fonts lack
//! (CJK...) show as empty boxes.

pub mod fonts;
mod layout;
pub mod markdown;

pub use layout::render;

/// A document to lay out.
#[derive(Debug, Clone, Default)]
pub struct Document {
    /// The PDF's title (metadata).
    pub title: String,
    /// Left of every page's header.
    pub header: String,
    /// Left of every page's footer.
    pub footer: String,
    /// Shown at the right of the header and the middle of the footer of every page.
    pub marking: Option<Marking>,
    pub blocks: Vec<Block>,
}

/// A label drawn in its colour on black (TLP 2.0's way: `TLP:AMBER` in `#FFC000`).
#[derive(Debug, Clone, PartialEq)]
pub struct Marking {
    pub label: String,
    pub color: (u8, u8, u8),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Level 1 (largest) to 6.
    Heading { level: u8, text: String },
    Paragraph(Vec<Span>),
    /// `ordered`: the first item's number.
    List { ordered: Option<u64>, items: Vec<Vec<Block>> },
    /// Cells as plain text; the header row repeats on every page the table spans.
    Table { header: Vec<String>, rows: Vec<Vec<String>> },
    Code(String),
    Quote(Vec<Block>),
    /// A PNG; `width` and `height` in pixels (drawn at 96 dpi, never wider than the text).
    Image { png: Vec<u8>, width: u32, height: u32 },
    Rule,
    PageBreak,
}

/// A run of text in one style; `"\n"` alone is a line break.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub text: String,
    pub style: Style,
}

impl Span {
    pub fn new(text: impl Into<String>, style: Style) -> Span {
        Span { text: text.into(), style }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    #[default]
    Regular,
    Bold,
    Mono,
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the bundled fonts cannot be read")]
    Fonts,
    #[error("image: {0}")]
    Image(String),
    #[error("PDF: {0}")]
    Write(String),
}
