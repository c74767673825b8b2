//! The report's charts, drawn as PNG with the dashboards' drawing code (`app::chart`) and the
//! bundled font: related alerts by severity, observables by data type.

use std::collections::BTreeMap;
use std::sync::Once;

use app::chart::{self, Chart, PALETTE, Theme};
use plotters::prelude::*;

use crate::core::error::{Error, Result};
use crate::core::pdf::fonts;

/// Pixels (drawn at 96 dpi: about 12 x 5 cm).
pub const WIDTH: u32 = 560;
pub const HEIGHT: u32 = 240;

fn register_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        for (style, bytes) in [(FontStyle::Normal, fonts::SANS), (FontStyle::Bold, fonts::SANS_BOLD)] {
            if plotters::style::register_font("sans-serif", style, bytes).is_err() {
                tracing::error!("the bundled font could not be loaded: report charts will have no text");
            }
        }
    });
}

fn png(chart: &Chart, title: &str) -> Result<Vec<u8>> {
    register_font();
    let (w, h) = (WIDTH, HEIGHT);
    let mut buf = vec![0u8; (w as usize) * (h as usize) * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        chart::draw(&root, chart, &Theme::light(), Some(title)).map_err(|e| Error::Internal(anyhow::anyhow!("drawing: {e}")))?;
        root.present().map_err(|e| Error::Internal(anyhow::anyhow!("drawing: {e}")))?;
    }
    let img = image::RgbImage::from_raw(w, h, buf).ok_or_else(|| Error::Internal(anyhow::anyhow!("image buffer size")))?;
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageOutputFormat::Png).map_err(|e| Error::Internal(anyhow::anyhow!("PNG encoding: {e}")))?;
    Ok(out.into_inner())
}

/// Related alerts by severity (the severity colours and words of the dashboards).
pub fn alerts_by_severity(counts: &BTreeMap<u8, usize>) -> Result<Vec<u8>> {
    let slices: Vec<(String, String, f64, RGBColor)> = counts
        .iter()
        .map(|(sev, n)| {
            let (label, color) = match sev {
                1 => ("Low", RGBColor(0x2f, 0x6f, 0xd6)),
                2 => ("Medium", RGBColor(0xc9, 0x8a, 0x00)),
                3 => ("High", RGBColor(0xe0, 0x6c, 0x00)),
                4 => ("Critical", RGBColor(0xd3, 0x2f, 0x2f)),
                _ => ("Unknown", PALETTE[9]),
            };
            (sev.to_string(), label.to_string(), *n as f64, color)
        })
        .collect();
    let total = slices.iter().map(|s| s.2).sum();
    png(&Chart::Donut { slices, total }, "Related alerts by severity")
}

/// Observables by data type, the largest first (the rest as "other" past nine).
pub fn observables_by_type(counts: &BTreeMap<String, usize>) -> Result<Vec<u8>> {
    let mut sorted: Vec<(&String, &usize)> = counts.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let mut slices: Vec<(String, String, f64, RGBColor)> =
        sorted.iter().take(9).enumerate().map(|(i, (t, n))| ((*t).clone(), (*t).clone(), **n as f64, PALETTE[i % PALETTE.len()])).collect();
    let rest: usize = sorted.iter().skip(9).map(|(_, n)| **n).sum();
    if rest > 0 {
        slices.push(("other".into(), "other".into(), rest as f64, PALETTE[9]));
    }
    let total = slices.iter().map(|s| s.2).sum();
    png(&Chart::Donut { slices, total }, "Observables by type")
}
