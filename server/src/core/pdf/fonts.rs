//! The fonts compiled into the binary (`server/assets/fonts`, SIL OFL 1.1): what PDFs and
//! server-side charts draw with, so no system font is needed at run time.

use std::sync::OnceLock;

use ab_glyph::{Font as _, FontRef};

use super::{PdfError, Style};

pub static SANS: &[u8] = include_bytes!("../../../assets/fonts/LiberationSans-Regular.ttf");
pub static SANS_BOLD: &[u8] = include_bytes!("../../../assets/fonts/LiberationSans-Bold.ttf");
pub static MONO: &[u8] = include_bytes!("../../../assets/fonts/LiberationMono-Regular.ttf");

/// One style's font: for krilla (drawing) and ab_glyph (measuring).
pub(super) struct Face {
    pub pdf: krilla::text::Font,
    metrics: FontRef<'static>,
    units_per_em: f32,
}

impl Face {
    fn load(bytes: &'static [u8]) -> Option<Face> {
        let metrics = FontRef::try_from_slice(bytes).ok()?;
        let units_per_em = metrics.units_per_em().unwrap_or(2048.0);
        let pdf = krilla::text::Font::new(krilla::Data::from(bytes), 0)?;
        Some(Face { pdf, metrics, units_per_em })
    }

    /// The advance width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text.chars().map(|c| self.metrics.h_advance_unscaled(self.metrics.glyph_id(c))).sum();
        units * size / self.units_per_em
    }
}

pub(super) struct Faces {
    regular: Face,
    bold: Face,
    mono: Face,
}

impl Faces {
    pub fn get() -> Result<&'static Faces, PdfError> {
        static FACES: OnceLock<Option<Faces>> = OnceLock::new();
        FACES
            .get_or_init(|| Some(Faces { regular: Face::load(SANS)?, bold: Face::load(SANS_BOLD)?, mono: Face::load(MONO)? }))
            .as_ref()
            .ok_or(PdfError::Fonts)
    }

    pub fn of(&self, style: Style) -> &Face {
        match style {
            Style::Regular => &self.regular,
            Style::Bold => &self.bold,
            Style::Mono => &self.mono,
        }
    }
}
