//! The comments of the fields a fix removes. A converted field's comments go to the lines that
//! take its value (`percent: 10  # why` becomes `value: 10.0  # why`, a moved header keeps its
//! comment), and those no line takes stay as comment lines where the field was: a fix never
//! drops a comment.

use std::collections::HashMap;
use std::ops::Range;

use super::edit::{after_line, line_start};
use super::yaml::{Entry, Kind, Node};

/// A comment of a removed field.
#[derive(Debug, Clone, PartialEq)]
struct Comment {
    /// Byte offset of its `#` in the text it was taken from.
    at: usize,
    /// The keys from the removed entry down to the entry it belongs to; empty for the removed
    /// entry itself.
    keys: Vec<String>,
    /// `# ...`, to the end of its line.
    text: String,
    /// The blanks between the content it ends and its `#`.
    gap: String,
    /// On a line of its own, rather than at the end of a line of content.
    own_line: bool,
    /// The single-line scalar whose line it ends, as written (`prod`, `"1"`).
    scalar: Option<String>,
}

/// Where comments no line takes are left: the start of the line the removed field began on.
#[derive(Debug, Clone, Copy)]
struct Site {
    at: usize,
    indent: usize,
}

/// One line a fix adds, with what it holds, so that a carried comment can find its line.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The line, without its newline.
    pub text: String,
    /// The key it writes (`x-env` for `x-env: prod`), if any.
    pub key: Option<String>,
    /// The scalar it writes, as written on the line, if any.
    pub value: Option<String>,
}

/// The comments taken from what one fix removed, waiting for the lines that take their values.
#[derive(Debug, Default)]
pub struct Carried {
    waiting: Vec<(Comment, Site)>,
}

impl Carried {
    /// Takes the comments of `entry` that lie in `removed`, the bytes of `text` about to be
    /// removed; those no later line takes are left at `site` (a line start), indented as the
    /// entry was.
    pub fn take(&mut self, text: &str, entry: &Entry, removed: Range<usize>, site: usize) {
        let site = Site {
            at: site,
            indent: entry.key_start.col,
        };
        self.waiting.extend(
            comments_of(text, entry, removed.clone())
                .into_iter()
                .filter(|c| removed.contains(&c.at))
                .map(|c| (c, site)),
        );
    }

    /// Follows an edit that replaced bytes `start..end` with `len` bytes.
    pub fn shift(&mut self, start: usize, end: usize, len: usize) {
        for (_, site) in &mut self.waiting {
            let inserted_here = site.at == start && end == start;
            if site.at > start || inserted_here {
                site.at = if site.at >= end {
                    site.at - (end - start) + len
                } else {
                    start + len
                };
            }
        }
    }

    /// Gives each waiting comment that one of `lines` takes to that line: a comment that ended
    /// a line ends the line with the same key (or the same scalar, or for the removed entry
    /// itself the line that carries the converted value), one on a line of its own goes just
    /// before it.
    pub fn attach(&mut self, lines: &mut Vec<Rendered>) {
        if self.waiting.is_empty() || lines.is_empty() {
            return;
        }
        let index = LineIndex::of(lines);
        let mut before: Vec<Vec<String>> = vec![Vec::new(); lines.len()];
        let mut ending: Vec<Option<String>> = vec![None; lines.len()];
        self.waiting.retain(|(comment, _)| {
            let Some(target) = index.target(comment, lines) else {
                return true;
            };
            let indent = indent_of(&lines[target].text);
            if comment.own_line || ending[target].is_some() {
                before[target].push(format!("{}{}", " ".repeat(indent), comment.text));
            } else {
                ending[target] = Some(format!("{}{}", comment.gap, comment.text));
            }
            false
        });
        let mut out = Vec::with_capacity(lines.len());
        for ((mut line, own), end) in lines.drain(..).zip(before).zip(ending) {
            out.extend(own.into_iter().map(|text| Rendered {
                text,
                key: None,
                value: None,
            }));
            if let Some(end) = end {
                line.text.push_str(&end);
            }
            out.push(line);
        }
        *lines = out;
    }

    /// `text` with the comments no line took, each on a line of its own where its field was.
    pub fn leave(self, text: &str) -> String {
        if self.waiting.is_empty() {
            return text.to_string();
        }
        let mut waiting = self.waiting;
        // In text order, the order they were taken in kept for one site.
        waiting.sort_by_key(|(_, site)| site.at.min(text.len()));
        let mut out = String::with_capacity(text.len() + 64);
        let mut copied = 0;
        for (comment, site) in waiting {
            let at = line_start(text, site.at.min(text.len())).max(copied);
            out.push_str(&text[copied..at]);
            copied = at;
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&" ".repeat(site.indent));
            out.push_str(&comment.text);
            out.push('\n');
        }
        out.push_str(&text[copied..]);
        out
    }
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The lines a fix adds, by the keys and scalars they write, so that finding the line of each
/// carried comment is a lookup, however many there are.
struct LineIndex<'a> {
    by_key: HashMap<&'a str, Vec<usize>>,
    by_value: HashMap<&'a str, usize>,
    /// The last line that writes a value.
    last_value: Option<usize>,
}

impl<'a> LineIndex<'a> {
    fn of(lines: &'a [Rendered]) -> Self {
        let mut by_key: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_value = HashMap::new();
        for (i, line) in lines.iter().enumerate() {
            if let Some(key) = &line.key {
                by_key.entry(key).or_default().push(i);
            }
            if let Some(value) = &line.value {
                by_value.entry(value.as_str()).or_insert(i);
            }
        }
        LineIndex {
            by_key,
            by_value,
            last_value: lines.iter().rposition(|l| l.value.is_some()),
        }
    }

    /// The line that takes `comment`: the one with its key (and its scalar, if several have
    /// the key); for a comment of the removed entry itself, the one with its scalar, else the
    /// first line (a comment on `key:` of a block) or the last that writes a value (the
    /// comment of `percent: 10` goes to `value: 10.0`).
    fn target(&self, comment: &Comment, lines: &[Rendered]) -> Option<usize> {
        let scalar = comment.scalar.as_deref();
        match comment.keys.last() {
            Some(key) => {
                let with_key = self.by_key.get(key.as_str())?;
                with_key
                    .iter()
                    .copied()
                    .find(|i| scalar.is_some() && lines[*i].value.as_deref() == scalar)
                    .or_else(|| with_key.first().copied())
            }
            None => scalar.and_then(|s| self.by_value.get(s).copied()).or(
                if comment.own_line || scalar.is_none() {
                    Some(0)
                } else {
                    self.last_value
                },
            ),
        }
    }
}

/// What an entry's walk gathers.
#[derive(Default)]
struct Walk {
    comments: Vec<Comment>,
    /// The line of each key below the entry, with the keys leading to it, in text order.
    keyed_lines: Vec<(usize, Vec<String>)>,
    /// Lines inside multi-line scalars and flow collections: content, not comments.
    content_lines: Vec<Range<usize>>,
}

/// The comments of `entry` in text order: those ending its lines, and the comment lines of
/// `removed` below its first line.
fn comments_of(text: &str, entry: &Entry, removed: Range<usize>) -> Vec<Comment> {
    let mut walk = Walk::default();
    walk.entry(text, entry, &mut Vec::new());
    let mut line = entry.key_start.line;
    let mut at = removed.start;
    while at < removed.end.min(text.len()) {
        let next = after_line(text, at);
        let content = &text[at..next];
        let trimmed = content.trim_start();
        let inside = walk.content_lines.iter().any(|r| r.contains(&line));
        if line > entry.key_start.line && trimmed.starts_with('#') && !inside {
            // It belongs to the entry below it.
            // The keys are in text order.
            let below = walk
                .keyed_lines
                .partition_point(|(key_line, _)| *key_line <= line);
            let keys = walk
                .keyed_lines
                .get(below)
                .map(|(_, keys)| keys.clone())
                .unwrap_or_default();
            walk.comments.push(Comment {
                at: at + (content.len() - trimmed.len()),
                keys,
                text: trimmed.trim_end().to_string(),
                gap: String::new(),
                own_line: true,
                scalar: None,
            });
        }
        line += 1;
        at = next;
    }
    walk.comments.sort_by_key(|c| c.at);
    walk.comments
}

impl Walk {
    fn entry(&mut self, text: &str, entry: &Entry, keys: &mut Vec<String>) {
        self.keyed_lines.push((entry.key_start.line, keys.clone()));
        match &entry.value.kind {
            Kind::Map {
                flow: false,
                entries,
            } if !entries.is_empty() => {
                self.after_key(text, entry, keys);
                for nested in entries {
                    keys.push(nested.key.clone());
                    self.entry(text, nested, keys);
                    keys.pop();
                }
            }
            Kind::Seq { flow: false, items } if !items.is_empty() => {
                self.after_key(text, entry, keys);
                for item in items {
                    self.item(text, item, keys);
                }
            }
            _ if entry.value.end.byte <= entry.value.start.byte => {
                // Empty: nothing follows the colon but a comment, if anything.
                self.after_key(text, entry, keys);
            }
            _ => {
                let indicator = block_indicator(text, entry.key_end.byte, &entry.value, ':');
                self.ends_line(text, &entry.value, indicator, keys);
            }
        }
    }

    fn item(&mut self, text: &str, item: &Node, keys: &mut Vec<String>) {
        match &item.kind {
            Kind::Map {
                flow: false,
                entries,
            } if !entries.is_empty() => {
                for nested in entries {
                    keys.push(nested.key.clone());
                    self.entry(text, nested, keys);
                    keys.pop();
                }
            }
            Kind::Seq { flow: false, items } if !items.is_empty() => {
                for nested in items {
                    self.item(text, nested, keys);
                }
            }
            _ if item.end.byte <= item.start.byte => {}
            _ => {
                // A block scalar's `- |` is on the line before its content.
                let content_line = line_start(text, item.start.byte);
                let dash_line = line_start(text, content_line.saturating_sub(1));
                let indicator = block_indicator(text, dash_line, item, '-');
                self.ends_line(text, item, indicator, keys);
            }
        }
    }

    /// The comment after `key:` on the key's line, when the value starts below it.
    fn after_key(&mut self, text: &str, entry: &Entry, keys: &[String]) {
        let start = entry.key_end.byte.min(text.len());
        let rest = &text[start..line_end(text, start)];
        let after_colon = rest.trim_start().strip_prefix(':').unwrap_or_default();
        self.push_ending(
            start + (rest.len() - after_colon.len()),
            after_colon,
            keys,
            None,
        );
    }

    /// The comment ending the line where `node` (a scalar, flow collection or alias) ends;
    /// for a block scalar (`indicator` at its `|` or `>`), the comment after its indicators.
    fn ends_line(&mut self, text: &str, node: &Node, indicator: Option<usize>, keys: &[String]) {
        let start = node.start.byte.min(text.len());
        let end = node.end.byte.min(text.len());
        if let Some(indicator) = indicator {
            // The lines below `key: |  # comment` are the scalar's content, whatever they look
            // like.
            let last_line = node.start.line + text[start..end].trim_end().matches('\n').count();
            self.content_lines.push(node.start.line..last_line + 1);
            let line = &text[indicator..line_end(text, indicator)];
            let after = line.trim_start_matches(|c: char| "|>-+0123456789".contains(c));
            self.push_ending(indicator + (line.len() - after.len()), after, keys, None);
            return;
        }
        if node.end.line > node.start.line {
            self.content_lines
                .push(node.start.line + 1..node.end.line + 1);
        }
        let scalar = (node.end.line == node.start.line && matches!(node.kind, Kind::Scalar { .. }))
            .then(|| text[start..end].to_string());
        self.push_ending(end, &text[end..line_end(text, end)], keys, scalar);
    }

    /// Adds the comment `rest` (the rest of a line, from byte `at`) holds, if it is one.
    fn push_ending(&mut self, at: usize, rest: &str, keys: &[String], scalar: Option<String>) {
        let trimmed = rest.trim_start();
        if trimmed.starts_with('#') {
            let gap = &rest[..rest.len() - trimmed.len()];
            self.comments.push(Comment {
                at: at + gap.len(),
                keys: keys.to_vec(),
                text: trimmed.trim_end().to_string(),
                gap: if gap.is_empty() {
                    " ".into()
                } else {
                    gap.into()
                },
                own_line: false,
                scalar,
            });
        }
    }
}

/// Where the `|` or `>` of a block scalar `node` is, if it is one: in `text[from..]`, after
/// blanks and the `mark` (`:` after a key, `-` of an item) that comes before it.
fn block_indicator(text: &str, from: usize, node: &Node, mark: char) -> Option<usize> {
    if !matches!(node.kind, Kind::Scalar { plain: false }) {
        return None;
    }
    let region = text.get(from..node.start.byte)?;
    let after_mark = region.trim_start().strip_prefix(mark)?.trim_start();
    after_mark
        .starts_with(['|', '>'])
        .then(|| from + (region.len() - after_mark.len()))
}

/// Where the line holding byte `at` ends, before its newline (and a carriage return).
fn line_end(text: &str, at: usize) -> usize {
    let after = after_line(text, at.min(text.len().saturating_sub(1)));
    let line = &text[at.min(after)..after];
    at.min(after) + line.trim_end_matches(['\n', '\r']).len()
}
