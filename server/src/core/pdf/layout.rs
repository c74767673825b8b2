//! Blocks to pages (first pass: positions, so the page count is known), then pages to PDF with
//! krilla (second pass: "Page n of N" in every footer).

use std::sync::Arc;

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::TextDirection;

use super::fonts::Faces;
use super::{Block, Document, Marking, PdfError, Span, Style};

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const LEFT: f32 = 56.0;
const RIGHT: f32 = PAGE_W - 56.0;
const TOP: f32 = 72.0;
const BOTTOM: f32 = PAGE_H - 62.0;
const BODY: f32 = 10.0;
const TEXT: (u8, u8, u8) = (0x1d, 0x23, 0x30);
const MUTED: (u8, u8, u8) = (0x5f, 0x6b, 0x7a);
const GRID: (u8, u8, u8) = (0xc8, 0xcd, 0xd4);
const SHADE: (u8, u8, u8) = (0xee, 0xf0, 0xf3);

type Rgb = (u8, u8, u8);

#[derive(Debug, Clone)]
enum Op {
    Text { x: f32, y: f32, style: Style, size: f32, text: String, color: Rgb },
    Fill { x: f32, y: f32, w: f32, h: f32, color: Rgb },
    Line { x1: f32, y1: f32, x2: f32, y2: f32, color: Rgb, width: f32 },
    Image { x: f32, y: f32, w: f32, h: f32, index: usize },
}

/// A piece of a line: text in one style at an offset from the line's start.
struct Run {
    x: f32,
    style: Style,
    text: String,
}

struct Layout<'a> {
    faces: &'a Faces,
    pages: Vec<Vec<Op>>,
    y: f32,
    images: Vec<Arc<Vec<u8>>>,
}

/// Lay the document out and write it as PDF.
pub fn render(doc: &Document) -> Result<Vec<u8>, PdfError> {
    let faces = Faces::get()?;
    let mut l = Layout { faces, pages: vec![Vec::new()], y: TOP, images: Vec::new() };
    l.blocks(&doc.blocks, LEFT, RIGHT);
    let total = l.pages.len();
    let mut pages = std::mem::take(&mut l.pages);
    for (i, ops) in pages.iter_mut().enumerate() {
        l.decorate(ops, doc, i + 1, total);
    }
    write(faces, doc, &pages, &l.images)
}

/// Characters drawn as they are: control characters (tabs included) become spaces.
fn clean(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

impl Layout<'_> {
    fn ops(&mut self) -> &mut Vec<Op> {
        // `pages` is never empty: it starts with one page and only grows.
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Make room for `h` points: a new page unless the current one has them (or is empty).
    fn room(&mut self, h: f32) {
        if self.y + h > BOTTOM && self.y > TOP {
            self.new_page();
        }
    }

    fn width(&self, style: Style, size: f32, text: &str) -> f32 {
        self.faces.of(style).width(text, size)
    }

    fn blocks(&mut self, blocks: &[Block], left: f32, right: f32) {
        for b in blocks {
            self.block(b, left, right);
        }
    }

    fn block(&mut self, b: &Block, left: f32, right: f32) {
        match b {
            Block::Heading { level, text } => {
                let size = match level { 1 => 18.0, 2 => 14.0, 3 => 12.0, _ => 11.0 };
                self.y += match level { 1 => 10.0, 2 => 10.0, _ => 6.0 };
                // Keep a heading with what follows it.
                self.room(size * 1.3 + 40.0);
                self.paragraph(&[Span::new(text.clone(), Style::Bold)], left, right, size, TEXT);
                if *level <= 2 {
                    let y = self.y - 2.0;
                    self.ops().push(Op::Line { x1: left, y1: y, x2: right, y2: y, color: GRID, width: 0.6 });
                    self.y += 3.0;
                }
                self.y += 3.0;
            }
            Block::Paragraph(spans) => {
                self.paragraph(spans, left, right, BODY, TEXT);
                self.y += 5.0;
            }
            Block::List { ordered, items } => {
                for (i, item) in items.iter().enumerate() {
                    let marker = match ordered {
                        Some(start) => format!("{}.", start + i as u64),
                        None => "\u{2022}".to_string(),
                    };
                    self.room(BODY * 1.35);
                    let y = self.y + BODY;
                    let mw = self.width(Style::Regular, BODY, &marker);
                    self.ops().push(Op::Text { x: left + 12.0 - mw, y, style: Style::Regular, size: BODY, text: marker, color: TEXT });
                    let before = self.y;
                    self.blocks(item, left + 16.0, right);
                    if self.y == before {
                        self.y += BODY * 1.35;
                    }
                }
                self.y += 3.0;
            }
            Block::Table { header, rows } => self.table(header, rows, left, right),
            Block::Code(text) => {
                let size = 8.5;
                let lh = size * 1.3;
                let cw = self.width(Style::Mono, size, "M").max(1.0);
                let per_line = (((right - left - 8.0) / cw) as usize).max(8);
                self.y += 2.0;
                for line in text.trim_end_matches('\n').split('\n') {
                    let line = clean(&line.replace('\t', "    "));
                    let chars: Vec<char> = line.chars().collect();
                    let pieces: Vec<String> = if chars.is_empty() { vec![String::new()] } else { chars.chunks(per_line).map(|c| c.iter().collect()).collect() };
                    for piece in pieces {
                        self.room(lh);
                        let y = self.y;
                        self.ops().push(Op::Fill { x: left, y, w: right - left, h: lh, color: SHADE });
                        self.ops().push(Op::Text { x: left + 4.0, y: y + size, style: Style::Mono, size, text: piece, color: TEXT });
                        self.y += lh;
                    }
                }
                self.y += 7.0;
            }
            Block::Quote(inner) => {
                let start_page = self.pages.len();
                let start = self.y;
                self.blocks(inner, left + 12.0, right);
                if self.pages.len() == start_page {
                    let end = self.y - 5.0;
                    self.ops().push(Op::Line { x1: left + 3.0, y1: start, x2: left + 3.0, y2: end, color: GRID, width: 2.0 });
                }
            }
            Block::Image { png, width, height } => {
                let (mut w, mut h) = (*width as f32 * 0.75, *height as f32 * 0.75);
                let avail = right - left;
                if w > avail {
                    h *= avail / w;
                    w = avail;
                }
                let page_room = BOTTOM - TOP;
                if h > page_room {
                    w *= page_room / h;
                    h = page_room;
                }
                self.room(h + 6.0);
                let index = self.images.len();
                self.images.push(Arc::new(png.clone()));
                let y = self.y;
                self.ops().push(Op::Image { x: left, y, w, h, index });
                self.y += h + 8.0;
            }
            Block::Rule => {
                self.room(10.0);
                let y = self.y + 4.0;
                self.ops().push(Op::Line { x1: left, y1: y, x2: right, y2: y, color: GRID, width: 0.8 });
                self.y += 10.0;
            }
            Block::PageBreak => {
                if self.y > TOP {
                    self.new_page();
                }
            }
        }
    }

    /// Break spans into lines of at most `right - left` points.
    fn lines(&self, spans: &[Span], width: f32, size: f32) -> Vec<Vec<Run>> {
        let mut lines: Vec<Vec<Run>> = vec![Vec::new()];
        let mut x = 0.0f32;
        let space = |style: Style| self.width(style, size, " ");
        for span in spans {
            if span.text == "\n" {
                lines.push(Vec::new());
                x = 0.0;
                continue;
            }
            let text = clean(&span.text);
            let mut first = true;
            for word in text.split(' ') {
                if !first {
                    // The space before this word, unless the line is empty.
                    if !lines.last().is_some_and(|l| l.is_empty()) {
                        x += space(span.style);
                        push_text(lines.last_mut(), " ", span.style, x - space(span.style));
                    }
                }
                first = false;
                if word.is_empty() {
                    continue;
                }
                let w = self.width(span.style, size, word);
                if x + w > width && x > 0.0 {
                    // Drop the trailing space of the full line.
                    if let Some(line) = lines.last_mut() {
                        trim_end(line);
                    }
                    lines.push(Vec::new());
                    x = 0.0;
                }
                if w > width {
                    // A word longer than the line: cut it where it overflows.
                    let mut piece = String::new();
                    for c in word.chars() {
                        let cw = self.width(span.style, size, &c.to_string());
                        if x + self.width(span.style, size, &piece) + cw > width && !piece.is_empty() {
                            push_text(lines.last_mut(), &piece, span.style, x);
                            lines.push(Vec::new());
                            x = 0.0;
                            piece.clear();
                        }
                        piece.push(c);
                    }
                    let pw = self.width(span.style, size, &piece);
                    push_text(lines.last_mut(), &piece, span.style, x);
                    x += pw;
                } else {
                    push_text(lines.last_mut(), word, span.style, x);
                    x += w;
                }
            }
        }
        for line in &mut lines {
            trim_end(line);
        }
        lines
    }

    fn paragraph(&mut self, spans: &[Span], left: f32, right: f32, size: f32, color: Rgb) {
        let lh = size * 1.35;
        for line in self.lines(spans, right - left, size) {
            self.room(lh);
            let y = self.y + size;
            for run in line {
                if !run.text.trim().is_empty() {
                    self.ops().push(Op::Text { x: left + run.x, y, style: run.style, size, text: run.text, color });
                }
            }
            self.y += lh;
        }
    }

    fn table(&mut self, header: &[String], rows: &[Vec<String>], left: f32, right: f32) {
        let size = 8.5;
        let lh = size * 1.3;
        let pad = 3.0;
        let n = header.len().max(rows.iter().map(|r| r.len()).max().unwrap_or(0));
        if n == 0 {
            return;
        }
        let avail = right - left;
        // Natural widths; narrow columns get theirs, the rest share what is left.
        let mut natural = vec![20.0f32; n];
        for (i, h) in header.iter().enumerate() {
            natural[i] = natural[i].max(self.width(Style::Bold, size, h) + 2.0 * pad);
        }
        for r in rows {
            for (i, c) in r.iter().enumerate() {
                let w = c.split('\n').map(|l| self.width(Style::Regular, size, l)).fold(0.0, f32::max);
                natural[i] = natural[i].max(w + 2.0 * pad);
            }
        }
        let fair = avail / n as f32;
        let mut widths: Vec<f32> = natural.iter().map(|w| w.min(fair)).collect();
        let excess: f32 = natural.iter().map(|w| (w - fair).max(0.0)).sum();
        let left_over = avail - widths.iter().sum::<f32>();
        if excess > 0.0 {
            for (i, w) in natural.iter().enumerate() {
                widths[i] += left_over * (w - fair).max(0.0) / excess;
            }
        } else {
            for w in &mut widths {
                *w += left_over / n as f32;
            }
        }
        let wrap = |l: &Self, cells: &[String], style: Style| -> Vec<Vec<String>> {
            (0..n)
                .map(|i| {
                    let text = cells.get(i).map(String::as_str).unwrap_or("");
                    let mut spans = Vec::new();
                    for (k, part) in text.split('\n').enumerate() {
                        if k > 0 {
                            spans.push(Span::new("\n", style));
                        }
                        spans.push(Span::new(part, style));
                    }
                    l.lines(&spans, widths[i] - 2.0 * pad, size).into_iter().map(|runs| runs.into_iter().map(|r| r.text).collect()).collect()
                })
                .collect()
        };
        let head = wrap(self, header, Style::Bold);
        let max_lines = ((BOTTOM - TOP) / lh) as usize - 6;
        let draw_row = |l: &mut Self, cells: &[Vec<String>], style: Style, shade: bool| {
            let lines = cells.iter().map(|c| c.len()).max().unwrap_or(1).clamp(1, max_lines);
            let h = lines as f32 * lh + 2.0 * pad;
            let y = l.y;
            if shade {
                l.ops().push(Op::Fill { x: left, y, w: avail, h, color: SHADE });
            }
            let mut x = left;
            for (i, cell) in cells.iter().enumerate() {
                for (k, text) in cell.iter().take(lines).enumerate() {
                    if !text.trim().is_empty() {
                        l.ops().push(Op::Text { x: x + pad, y: y + pad + size + k as f32 * lh, style, size, text: text.clone(), color: TEXT });
                    }
                }
                x += widths[i];
            }
            l.ops().push(Op::Line { x1: left, y1: y + h, x2: right, y2: y + h, color: GRID, width: 0.5 });
            l.y += h;
            h
        };
        let head_h = head.iter().map(|c| c.len()).max().unwrap_or(1) as f32 * lh + 2.0 * pad;
        self.room(head_h + lh + 2.0 * pad);
        let has_header = header.iter().any(|h| !h.is_empty());
        if has_header {
            draw_row(self, &head, Style::Bold, true);
        }
        for r in rows {
            let cells = wrap(self, r, Style::Regular);
            let lines = cells.iter().map(|c| c.len()).max().unwrap_or(1).clamp(1, max_lines);
            let h = lines as f32 * lh + 2.0 * pad;
            if self.y + h > BOTTOM {
                self.new_page();
                if has_header {
                    draw_row(self, &head, Style::Bold, true);
                }
            }
            draw_row(self, &cells, Style::Regular, false);
        }
        self.y += 8.0;
    }

    /// The header (title, marking) and the footer (text, marking, page n of N) of a page.
    fn decorate(&self, ops: &mut Vec<Op>, doc: &Document, page: usize, total: usize) {
        let size = 8.0;
        let header_y = 40.0;
        let footer_y = PAGE_H - 34.0;
        let mut header_right = RIGHT;
        let mut footer_right = PAGE_W / 2.0 - 8.0;
        if let Some(m) = &doc.marking {
            let w = self.marking(ops, m, RIGHT, header_y, true);
            header_right = RIGHT - w - 8.0;
            let fw = self.width(Style::Bold, size, &m.label) + 8.0;
            self.marking(ops, m, (PAGE_W + fw) / 2.0, footer_y, true);
            footer_right = (PAGE_W - fw) / 2.0 - 8.0;
        }
        let header = fit(self, &clean(&doc.header), Style::Regular, size, header_right - LEFT);
        ops.push(Op::Text { x: LEFT, y: header_y, style: Style::Regular, size, text: header, color: MUTED });
        ops.push(Op::Line { x1: LEFT, y1: header_y + 6.0, x2: RIGHT, y2: header_y + 6.0, color: GRID, width: 0.5 });
        ops.push(Op::Line { x1: LEFT, y1: footer_y - 12.0, x2: RIGHT, y2: footer_y - 12.0, color: GRID, width: 0.5 });
        let number = format!("Page {page} of {total}");
        let nw = self.width(Style::Regular, size, &number);
        ops.push(Op::Text { x: RIGHT - nw, y: footer_y, style: Style::Regular, size, text: number, color: MUTED });
        let footer = fit(self, &clean(&doc.footer), Style::Regular, size, footer_right - LEFT);
        ops.push(Op::Text { x: LEFT, y: footer_y, style: Style::Regular, size, text: footer, color: MUTED });
    }

    /// A marking badge whose right edge is at `right`, baseline at `y`; its width.
    fn marking(&self, ops: &mut Vec<Op>, m: &Marking, right: f32, y: f32, bold: bool) -> f32 {
        let size = 8.0;
        let style = if bold { Style::Bold } else { Style::Regular };
        let label = clean(&m.label);
        let w = self.width(style, size, &label) + 8.0;
        ops.push(Op::Fill { x: right - w, y: y - size - 1.0, w, h: size + 5.0, color: (0, 0, 0) });
        ops.push(Op::Text { x: right - w + 4.0, y, style, size, text: label, color: m.color });
        w
    }
}

/// `text` cut (with an ellipsis) to `width` points.
fn fit(l: &Layout<'_>, text: &str, style: Style, size: f32, width: f32) -> String {
    if l.width(style, size, text) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if l.width(style, size, &format!("{out}{c}\u{2026}")) > width {
            break;
        }
        out.push(c);
    }
    out.push('\u{2026}');
    out
}

fn push_text(line: Option<&mut Vec<Run>>, text: &str, style: Style, x: f32) {
    let Some(line) = line else { return };
    match line.last_mut() {
        Some(run) if run.style == style => run.text.push_str(text),
        _ => line.push(Run { x, style, text: text.to_string() }),
    }
}

fn trim_end(line: &mut Vec<Run>) {
    while let Some(run) = line.last_mut() {
        let t = run.text.trim_end().len();
        run.text.truncate(t);
        if run.text.is_empty() {
            line.pop();
        } else {
            break;
        }
    }
}

fn color(c: Rgb) -> krilla::paint::Paint {
    rgb::Color::new(c.0, c.1, c.2).into()
}

fn write(faces: &Faces, doc: &Document, pages: &[Vec<Op>], pngs: &[Arc<Vec<u8>>]) -> Result<Vec<u8>, PdfError> {
    let mut images = Vec::with_capacity(pngs.len());
    for png in pngs {
        let data: krilla::Data = Arc::new(png.as_ref().clone()).into();
        images.push(krilla::image::Image::from_png(data, true).map_err(PdfError::Image)?);
    }
    let mut document = krilla::Document::new();
    document.set_metadata(krilla::metadata::Metadata::new().title(doc.title.clone()).creator("Waggle".to_string()));
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| PdfError::Write("page size".into()))?;
    for ops in pages {
        let mut page = document.start_page_with(settings.clone());
        let mut s = page.surface();
        for op in ops {
            match op {
                Op::Text { x, y, style, size, text, color: c } => {
                    s.set_stroke(None);
                    s.set_fill(Some(Fill { paint: color(*c), opacity: NormalizedF32::ONE, rule: Default::default() }));
                    s.draw_text(Point::from_xy(*x, *y), faces.of(*style).pdf.clone(), *size, text, false, TextDirection::Auto);
                }
                Op::Fill { x, y, w, h, color: c } => {
                    let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) else { continue };
                    let mut pb = PathBuilder::new();
                    pb.push_rect(rect);
                    let Some(path) = pb.finish() else { continue };
                    s.set_stroke(None);
                    s.set_fill(Some(Fill { paint: color(*c), opacity: NormalizedF32::ONE, rule: Default::default() }));
                    s.draw_path(&path);
                }
                Op::Line { x1, y1, x2, y2, color: c, width } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(*x1, *y1);
                    pb.line_to(*x2, *y2);
                    let Some(path) = pb.finish() else { continue };
                    s.set_fill(None);
                    s.set_stroke(Some(Stroke { paint: color(*c), width: *width, ..Default::default() }));
                    s.draw_path(&path);
                    s.set_stroke(None);
                }
                Op::Image { x, y, w, h, index } => {
                    let (Some(image), Some(size)) = (images.get(*index), Size::from_wh(*w, *h)) else { continue };
                    s.push_transform(&Transform::from_translate(*x, *y));
                    s.draw_image(image.clone(), size);
                    s.pop();
                }
            }
        }
        s.finish();
        page.finish();
    }
    document.finish().map_err(|e| PdfError::Write(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_documents_get_numbered_pages() {
        let mut blocks = vec![Block::Heading { level: 1, text: "Title".into() }];
        for i in 0..200 {
            blocks.push(Block::Paragraph(vec![Span::new(format!("Paragraph {i} with some words to wrap around the line end. ").repeat(3), Style::Regular)]));
        }
        blocks.push(Block::Table { header: vec!["a".into(), "b".into()], rows: (0..100).map(|i| vec![format!("{i}"), "x ".repeat(80)]).collect() });
        let doc = Document { title: "t".into(), header: "h".into(), footer: "f".into(), marking: Some(Marking { label: "TLP:AMBER".into(), color: (255, 192, 0) }), blocks };
        let pdf = render(&doc).expect("pdf");
        assert!(pdf.starts_with(b"%PDF-"));
    }

    #[test]
    fn words_wrap_within_the_width() {
        let faces = Faces::get().unwrap();
        let l = Layout { faces, pages: vec![Vec::new()], y: TOP, images: Vec::new() };
        let lines = l.lines(&[Span::new("alpha beta gamma delta epsilon zeta eta theta", Style::Regular)], 80.0, 10.0);
        assert!(lines.len() > 2, "{}", lines.len());
        for line in &lines {
            let end = line.last().map(|r| r.x + l.width(r.style, 10.0, &r.text)).unwrap_or(0.0);
            assert!(end <= 80.5, "{end}");
        }
        let text: Vec<String> = lines.iter().map(|r| r.iter().map(|r| r.text.as_str()).collect()).collect();
        assert_eq!(text.join(" "), "alpha beta gamma delta epsilon zeta eta theta");
    }
}
