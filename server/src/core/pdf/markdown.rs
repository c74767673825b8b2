//! Markdown (CommonMark with tables, strikethrough and task lists) to PDF [`Block`]s. Raw HTML
//! is shown as the text it is, never interpreted; images are drawn only when `image` resolves
//! their address (to a PNG and its pixel size), otherwise their description is shown.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::{Block, Span, Style};

/// A PNG and its size in pixels.
pub type Png = (Vec<u8>, u32, u32);

enum Frame {
    Root(Vec<Block>),
    Quote(Vec<Block>),
    List { ordered: Option<u64>, items: Vec<Vec<Block>> },
    Item(Vec<Block>),
}

impl Frame {
    fn blocks(&mut self) -> Option<&mut Vec<Block>> {
        match self {
            Frame::Root(b) | Frame::Quote(b) | Frame::Item(b) => Some(b),
            Frame::List { .. } => None,
        }
    }
}

#[derive(Default)]
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    in_head: bool,
    cell: Option<String>,
}

struct Builder<'a> {
    stack: Vec<Frame>,
    spans: Vec<Span>,
    bold: usize,
    heading: Option<u8>,
    code: Option<String>,
    table: Option<Table>,
    image: Option<(String, String)>,
    link: Option<String>,
    resolve: &'a dyn Fn(&str) -> Option<Png>,
}

/// The blocks of a markdown text.
pub fn blocks(markdown: &str, image: &dyn Fn(&str) -> Option<Png>) -> Vec<Block> {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    let mut b = Builder { stack: vec![Frame::Root(Vec::new())], spans: Vec::new(), bold: 0, heading: None, code: None, table: None, image: None, link: None, resolve: image };
    for event in Parser::new_ext(markdown, opts) {
        b.event(event);
    }
    b.flush();
    while b.stack.len() > 1 {
        b.close();
    }
    match b.stack.pop() {
        Some(Frame::Root(blocks)) => blocks,
        _ => Vec::new(),
    }
}

impl Builder<'_> {
    fn style(&self) -> Style {
        if self.bold > 0 { Style::Bold } else { Style::Regular }
    }

    fn push_block(&mut self, block: Block) {
        if let Some(top) = self.stack.last_mut() {
            match top {
                Frame::List { items, .. } => {
                    // Content directly in a list (should not happen): a new item.
                    items.push(vec![block]);
                }
                other => {
                    if let Some(b) = other.blocks() {
                        b.push(block);
                    }
                }
            }
        }
    }

    /// The pending inline text as a paragraph (or heading).
    fn flush(&mut self) {
        if self.spans.iter().all(|s| s.text.trim().is_empty()) {
            self.spans.clear();
            return;
        }
        let spans = std::mem::take(&mut self.spans);
        match self.heading {
            Some(level) => {
                let text = spans.iter().map(|s| if s.text == "\n" { " " } else { s.text.as_str() }).collect::<String>();
                self.push_block(Block::Heading { level, text: text.trim().to_string() });
            }
            None => self.push_block(Block::Paragraph(spans)),
        }
    }

    fn text(&mut self, text: &str, style: Style) {
        if let Some(code) = &mut self.code {
            code.push_str(text);
        } else if let Some((_, alt)) = &mut self.image {
            alt.push_str(text);
        } else if let Some(t) = &mut self.table {
            t.cell.get_or_insert_with(String::new).push_str(text);
        } else {
            self.spans.push(Span::new(text, style));
        }
    }

    fn close(&mut self) {
        self.flush();
        let Some(frame) = self.stack.pop() else { return };
        let block = match frame {
            Frame::Root(b) => {
                self.stack.push(Frame::Root(b));
                return;
            }
            Frame::Quote(b) => Block::Quote(b),
            Frame::List { ordered, items } => Block::List { ordered, items },
            Frame::Item(b) => {
                if let Some(Frame::List { items, .. }) = self.stack.last_mut() {
                    items.push(b);
                }
                return;
            }
        };
        self.push_block(block);
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph => self.flush(),
                Tag::Heading { level, .. } => {
                    self.flush();
                    self.heading = Some(match level {
                        HeadingLevel::H1 => 1,
                        HeadingLevel::H2 => 2,
                        HeadingLevel::H3 => 3,
                        HeadingLevel::H4 => 4,
                        HeadingLevel::H5 => 5,
                        HeadingLevel::H6 => 6,
                    });
                }
                Tag::BlockQuote(_) => {
                    self.flush();
                    self.stack.push(Frame::Quote(Vec::new()));
                }
                Tag::CodeBlock(_) => {
                    self.flush();
                    self.code = Some(String::new());
                }
                Tag::List(start) => {
                    self.flush();
                    self.stack.push(Frame::List { ordered: start, items: Vec::new() });
                }
                Tag::Item => {
                    self.flush();
                    self.stack.push(Frame::Item(Vec::new()));
                }
                Tag::Table(_) => {
                    self.flush();
                    self.table = Some(Table::default());
                }
                Tag::TableHead => {
                    if let Some(t) = &mut self.table {
                        t.in_head = true;
                    }
                }
                Tag::TableRow => {
                    if let Some(t) = &mut self.table {
                        t.rows.push(Vec::new());
                    }
                }
                Tag::TableCell => {
                    if let Some(t) = &mut self.table {
                        t.cell = Some(String::new());
                    }
                }
                Tag::Strong => self.bold += 1,
                Tag::Link { dest_url, .. } => self.link = Some(dest_url.to_string()),
                Tag::Image { dest_url, .. } => self.image = Some((dest_url.to_string(), String::new())),
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph => self.flush(),
                TagEnd::Heading(_) => {
                    self.flush();
                    self.heading = None;
                }
                TagEnd::BlockQuote(_) | TagEnd::List(_) | TagEnd::Item => self.close(),
                TagEnd::CodeBlock => {
                    if let Some(code) = self.code.take() {
                        self.push_block(Block::Code(code));
                    }
                }
                TagEnd::TableCell => {
                    if let Some(t) = &mut self.table {
                        let cell = t.cell.take().unwrap_or_default().trim().to_string();
                        if t.in_head {
                            t.header.push(cell);
                        } else if let Some(row) = t.rows.last_mut() {
                            row.push(cell);
                        }
                    }
                }
                TagEnd::TableHead => {
                    if let Some(t) = &mut self.table {
                        t.in_head = false;
                    }
                }
                TagEnd::Table => {
                    if let Some(t) = self.table.take() {
                        self.push_block(Block::Table { header: t.header, rows: t.rows });
                    }
                }
                TagEnd::Strong => self.bold = self.bold.saturating_sub(1),
                TagEnd::Link => {
                    if let Some(url) = self.link.take() {
                        let shown = self.spans.iter().rev().take(1).any(|s| s.text == url);
                        if !shown && !url.is_empty() && self.table.is_none() {
                            self.text(&format!(" <{url}>"), Style::Regular);
                        }
                    }
                }
                TagEnd::Image => {
                    if let Some((url, alt)) = self.image.take() {
                        match (self.resolve)(&url) {
                            Some((png, width, height)) if self.table.is_none() => {
                                self.flush();
                                self.push_block(Block::Image { png, width, height });
                            }
                            _ => self.text(&format!("[image: {}]", if alt.is_empty() { &url } else { &alt }), Style::Regular),
                        }
                    }
                }
                _ => {}
            },
            Event::Text(t) => {
                let style = self.style();
                self.text(&t, style);
            }
            Event::Code(t) => self.text(&t, Style::Mono),
            Event::Html(t) | Event::InlineHtml(t) => {
                // Shown as written: a report shows what the analyst typed, and runs none of it.
                let t = t.trim_end_matches('\n').to_string();
                self.text(&t, Style::Mono);
            }
            Event::SoftBreak => self.text(" ", self.style()),
            Event::HardBreak => {
                if let Some(t) = &mut self.table {
                    t.cell.get_or_insert_with(String::new).push('\n');
                } else {
                    self.spans.push(Span::new("\n", Style::Regular));
                }
            }
            Event::Rule => {
                self.flush();
                self.push_block(Block::Rule);
            }
            Event::TaskListMarker(done) => self.text(if done { "[x] " } else { "[ ] " }, Style::Regular),
            Event::FootnoteReference(t) | Event::InlineMath(t) | Event::DisplayMath(t) => self.text(&t, Style::Regular),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure() {
        let b = blocks("# Title\n\nSome **bold** text.\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode\n```\n\n---\n", &|_| None);
        assert_eq!(b[0], Block::Heading { level: 1, text: "Title".into() });
        assert_eq!(b[1], Block::Paragraph(vec![Span::new("Some ", Style::Regular), Span::new("bold", Style::Bold), Span::new(" text.", Style::Regular)]));
        assert!(matches!(&b[2], Block::List { ordered: None, items } if items.len() == 2));
        assert_eq!(b[3], Block::Table { header: vec!["a".into(), "b".into()], rows: vec![vec!["1".into(), "2".into()]] });
        assert_eq!(b[4], Block::Code("code\n".into()));
        assert_eq!(b[5], Block::Rule);
    }

    #[test]
    fn html_is_text_and_unknown_images_their_description() {
        let b = blocks("<script>alert(1)</script>\n\n![chart](chart:x) and ![other](https://x/y.png)", &|u| (u == "chart:x").then(|| (vec![1], 2, 3)));
        assert!(matches!(&b[0], Block::Paragraph(s) if s[0].text.contains("<script>")), "{b:?}");
        assert!(b.iter().any(|x| matches!(x, Block::Image { width: 2, height: 3, .. })), "{b:?}");
        assert!(b.iter().any(|x| matches!(x, Block::Paragraph(s) if s.iter().any(|s| s.text.contains("[image: other]")))), "{b:?}");
    }
}
