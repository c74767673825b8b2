//! Dashboards and widgets rendered to PNG on the server, with the same drawing code as the
//! browser (`app::chart`) on plotters' bitmap backend and a font compiled into the binary
//! (Liberation Sans): no system fonts needed at run time.

use std::sync::Once;

use app::model::{Definition, Widget};
use app::chart::{self, Chart, Theme};
use plotters::prelude::*;
use serde_json::Value;

use crate::core::auth::Caller;
use crate::core::error::{Error, Result};
use crate::core::state::AppState;
use crate::{domain::dashboard, core::stats};

static FONT: &[u8] = include_bytes!("../../../assets/fonts/LiberationSans-Regular.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            if plotters::style::register_font("sans-serif", style, FONT).is_err() {
                tracing::error!("the bundled font could not be loaded: charts will have no text");
            }
        }
    });
}

const HEIGHT: u32 = 320;
/// The largest image rendered (3 bytes a pixel: 48 MiB of buffer); a larger request is refused.
pub const MAX_PIXELS: u64 = 16_000_000;
/// Images rendered at once, on the blocking pool (never on a runtime worker).
static RENDERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

fn check_size(wd: u32, ht: u32) -> Result<()> {
    let pixels = u64::from(wd) * u64::from(ht);
    if pixels > MAX_PIXELS {
        return Err(Error::BadRequest(format!(
            "The image would be {wd} x {ht} pixels, more than {MAX_PIXELS}: ask for a smaller width"
        )));
    }
    Ok(())
}

/// Run `draw` (which fills an RGB buffer of `wd` x `ht`) on the blocking pool, at most two at
/// once, and encode the result as PNG.
async fn render(wd: u32, ht: u32, draw: impl FnOnce(&mut [u8]) -> Result<()> + Send + 'static) -> Result<Vec<u8>> {
    check_size(wd, ht)?;
    let _permit = RENDERS.acquire().await.map_err(|e| Error::Internal(anyhow::anyhow!("renders: {e}")))?;
    tokio::task::spawn_blocking(move || {
        let mut buf = vec![0u8; (wd as usize) * (ht as usize) * 3];
        draw(&mut buf)?;
        encode(buf, wd, ht)
    })
    .await
    .map_err(|e| Error::Internal(anyhow::anyhow!("rendering task: {e}")))?
}

/// Compute a widget's chart for the caller (statistics of their organisation).
pub async fn chart(state: &AppState, caller: &Caller, w: &Widget, def: &Definition) -> Result<Chart> {
    let mut answers = Vec::new();
    for (model, body) in chart::requests(w, def, crate::core::store::now_millis()) {
        let entity = stats::entity_of_model(&model)?;
        let req = stats::Request::parse(entity, &body)?;
        answers.push(Value::Object(stats::run(state, caller, req).await?));
    }
    Ok(chart::build(w, &answers))
}

fn encode(buf: Vec<u8>, w: u32, h: u32) -> Result<Vec<u8>> {
    let img = image::RgbImage::from_raw(w, h, buf).ok_or_else(|| Error::Internal(anyhow::anyhow!("image buffer size")))?;
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageOutputFormat::Png).map_err(|e| Error::Internal(anyhow::anyhow!("PNG encoding: {e}")))?;
    Ok(out.into_inner())
}

fn width_of(w: Option<u32>) -> u32 {
    w.unwrap_or(640).clamp(200, 4000)
}

/// One widget as a PNG image (its title on top).
pub async fn widget_png(state: &AppState, caller: &Caller, id: &str, widget: &str, width: Option<u32>, theme: Option<&str>) -> Result<Vec<u8>> {
    register_font();
    let d = dashboard::get(state, caller, id).await?;
    let def = d.parsed();
    let w = def
        .items
        .iter()
        .flat_map(|r| r.items.iter())
        .find(|w| w.id == widget)
        .ok_or_else(|| Error::not_found("widget", widget))?;
    let chart = chart(state, caller, w, &def).await?;
    let (wd, ht) = (width_of(width), HEIGHT);
    let theme = Theme::named(theme.unwrap_or("light"));
    let title = w.options.title.clone().unwrap_or_else(|| w.kind.clone());
    render(wd, ht, move |buf| {
        let root = BitMapBackend::with_buffer(buf, (wd, ht)).into_drawing_area();
        chart::draw(&root, &chart, &theme, Some(&title)).map_err(|e| Error::Internal(anyhow::anyhow!("drawing: {e}")))?;
        root.present().map_err(|e| Error::Internal(anyhow::anyhow!("drawing: {e}")))
    })
    .await
}

/// The whole dashboard as one PNG: its title, then its rows of widgets.
pub async fn dashboard_png(state: &AppState, caller: &Caller, id: &str, width: Option<u32>, theme: Option<&str>) -> Result<Vec<u8>> {
    register_font();
    let d = dashboard::get(state, caller, id).await?;
    let def = d.parsed();
    let cell = width_of(width);
    let rows: Vec<&app::model::Container> = def.items.iter().filter(|r| !r.items.is_empty()).take(50).collect();
    let cols = rows.iter().map(|r| r.items.len()).max().unwrap_or(1).min(8) as u32;
    let (wd, ht) = (cell * cols, 44 + HEIGHT * rows.len().max(1) as u32);
    // Refused before any statistic is computed.
    check_size(wd, ht)?;
    let theme = Theme::named(theme.unwrap_or("light"));
    let mut charts_ = Vec::new();
    for r in &rows {
        let mut row = Vec::new();
        for w in r.items.iter().take(cols as usize) {
            row.push((w.options.title.clone().unwrap_or_else(|| w.kind.clone()), chart(state, caller, w, &def).await?));
        }
        charts_.push(row);
    }
    let title = format!("{}  ·  {}", d.title, app::model::PERIODS.iter().find(|(k, _)| *k == def.period).map(|(_, l)| *l).unwrap_or("All time"));
    render(wd, ht, move |buf| {
        let root = BitMapBackend::with_buffer(buf, (wd, ht)).into_drawing_area();
        let err = |e: String| Error::Internal(anyhow::anyhow!("drawing: {e}"));
        root.fill(&theme.background).map_err(|e| err(e.to_string()))?;
        root.draw(&Text::new(title, (12, 12), ("sans-serif", 20).into_font().color(&theme.text))).map_err(|e| err(e.to_string()))?;
        for (ri, row) in charts_.iter().enumerate() {
            let rw = wd / row.len().max(1) as u32;
            for (ci, (title, c)) in row.iter().enumerate() {
                let area = root.clone().shrink(((ci as u32 * rw) as i32, (44 + ri as u32 * HEIGHT) as i32), (rw - 4, HEIGHT - 4));
                chart::draw(&area, c, &theme, Some(title)).map_err(err)?;
            }
        }
        root.present().map_err(|e| err(e.to_string()))
    })
    .await
}
