//! Writes a fix's JSON Patch back into YAML text, changing only the lines of the fields it
//! converts and adding lines for their replacements: comments, key order, quoting, indentation
//! and every other document stay as they were, and the comments of a converted field go with its
//! value. Each result is re-read and compared with the patch applied to the parsed value, so a
//! rewrite that would lose anything is refused.

use serde_json::Value;

use super::comments::{Carried, Rendered};
use super::yaml::{self, Entry, Kind, Node, Size};
use crate::object::path::Segment;
use crate::rules::{FieldPath, PatchOp};

/// Why a document was left as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The region a fix touches uses anchors or aliases: changing it would change other places.
    #[error("{0} uses YAML anchors or aliases; fix it by hand")]
    Anchored(String),
    /// The fix needs an edit this rewriter does not make.
    #[error("cannot rewrite {0} in place; fix it by hand")]
    Unsupported(String),
    /// The rewritten text did not read back as the patched object.
    #[error("the rewritten document would not equal the fixed object; left unchanged")]
    Mismatch,
    /// The document's anchors and aliases copy too much to re-read it after every change.
    #[error(
        "its YAML anchors and aliases copy {} nodes and {} bytes of text, and fix rewrites \
         documents that copy at most {MAX_COPIED_NODES_TO_REWRITE} nodes and \
         {MAX_COPIED_BYTES_TO_REWRITE} bytes; fix it by hand",
        .0.nodes,
        .0.bytes
    )]
    Expansive(Size),
}

/// The most nodes the anchors and aliases of a document that is rewritten may copy. Every
/// change re-reads the document, so this bounds what a fix costs beyond the text (the reader
/// allows 100 times more, for checking); real manifests copy a few hundred nodes at most.
pub const MAX_COPIED_NODES_TO_REWRITE: usize = 10_000;

/// The most bytes of text the anchors and aliases of a document that is rewritten may copy.
pub const MAX_COPIED_BYTES_TO_REWRITE: usize = 1 << 20;

/// Whether a document copies too much through anchors and aliases to be rewritten.
pub fn too_expansive(copied: Size) -> bool {
    copied.nodes > MAX_COPIED_NODES_TO_REWRITE || copied.bytes > MAX_COPIED_BYTES_TO_REWRITE
}

/// Applies `fixes` (each the operations of one fix, paths relative to `base` inside document
/// `index`) to `text`. The comments a fix's removals take are carried to the lines its later
/// operations add, so each fix is one group.
pub fn apply(
    text: &str,
    index: usize,
    base: &FieldPath,
    fixes: &[&[PatchOp]],
) -> Result<String, EditError> {
    let before = yaml::parse(text).map_err(|_| EditError::Mismatch)?;
    let mut expected: Vec<Value> = before.iter().map(|d| d.value.clone()).collect();
    let target = expected.get_mut(index).ok_or(EditError::Mismatch)?;
    let rebased: Vec<Vec<PatchOp>> = fixes
        .iter()
        .map(|ops| ops.iter().map(|op| rebase(op, base)).collect())
        .collect();
    crate::rules::patch::apply(target, &rebased.concat()).map_err(|_| EditError::Mismatch)?;

    let mut current = text.to_string();
    for fix in &rebased {
        let mut carried = Carried::default();
        for op in fix {
            current = apply_one(&current, index, op, &mut carried)?;
        }
        current = carried.leave(&current);
    }
    let after = yaml::parse(&current).map_err(|_| EditError::Mismatch)?;
    let values: Vec<Value> = after.into_iter().map(|d| d.value).collect();
    if values != expected {
        return Err(EditError::Mismatch);
    }
    Ok(current)
}

/// Whether writing `op` (its paths relative to `base`) into the document under `root` would
/// touch a region that uses anchors or aliases, which [`apply`] refuses: a node on the way to the
/// field is anchored, or the value it removes or replaces holds an anchor or alias.
pub fn touches_anchors(root: &Node, base: &FieldPath, op: &PatchOp) -> bool {
    let op = rebase(op, base);
    let (path, value_too) = match &op {
        PatchOp::Remove { path } | PatchOp::Add { path, .. } | PatchOp::Replace { path, .. } => {
            (path, true)
        }
        PatchOp::Move { from, .. } => (from, false),
    };
    let Some((last, parent)) = path.segments().split_last() else {
        return root.anchored;
    };
    let mut node = root;
    for segment in parent {
        if node.anchored {
            return true;
        }
        match node.child(segment) {
            Some((child, _)) => node = child,
            None => return false,
        }
    }
    node.anchored
        || (value_too
            && node
                .child(last)
                .is_some_and(|(value, _)| value.contains_anchor()))
}

fn rebase(op: &PatchOp, base: &FieldPath) -> PatchOp {
    match op {
        PatchOp::Add { path, value } => PatchOp::Add {
            path: base.join(path),
            value: value.clone(),
        },
        PatchOp::Remove { path } => PatchOp::Remove {
            path: base.join(path),
        },
        PatchOp::Replace { path, value } => PatchOp::Replace {
            path: base.join(path),
            value: value.clone(),
        },
        PatchOp::Move { from, path } => PatchOp::Move {
            from: base.join(from),
            path: base.join(path),
        },
    }
}

/// The node at `segments`, refusing a route through anchors or aliases.
fn navigate<'a>(
    root: &'a Node,
    segments: &[Segment],
    whole: &FieldPath,
) -> Result<&'a Node, EditError> {
    let mut node = root;
    for segment in segments {
        if node.anchored {
            return Err(EditError::Anchored(whole.to_string()));
        }
        node = node
            .child(segment)
            .map(|(child, _)| child)
            .ok_or_else(|| EditError::Unsupported(whole.to_string()))?;
    }
    if node.anchored {
        return Err(EditError::Anchored(whole.to_string()));
    }
    Ok(node)
}

fn apply_one(
    text: &str,
    index: usize,
    op: &PatchOp,
    carried: &mut Carried,
) -> Result<String, EditError> {
    let documents = yaml::parse(text).map_err(|_| EditError::Mismatch)?;
    let document = documents.get(index).ok_or(EditError::Mismatch)?;
    let root = document.root.as_ref().ok_or(EditError::Mismatch)?;
    let seq_offset = document_sequence_offset(text, root).unwrap_or(2);
    let editor = TextEdit { text, seq_offset };
    let splice = match op {
        PatchOp::Remove { path } => {
            let (parent, last) = split(path)?;
            let parent_node = navigate(root, parent, path)?;
            let (entries, flow) = map_of(parent_node, path)?;
            let key = key_of(last, path)?;
            let entry = entries
                .iter()
                .find(|e| e.key == key)
                .ok_or(EditError::Mismatch)?;
            if entry.value.contains_anchor() {
                return Err(EditError::Anchored(path.to_string()));
            }
            if flow || entries.len() == 1 {
                let mut value = value_at(&document.value, parent)?;
                if let Value::Object(map) = &mut value {
                    map.remove(key);
                }
                let splice = editor.replace_node(parent_node, &value);
                if !flow {
                    let site = line_start(text, splice.start);
                    carried.take(text, entry, splice.start..splice.end, site);
                }
                splice
            } else {
                editor.remove_entry(entries, entry, carried)
            }
        }
        PatchOp::Add { path, value } | PatchOp::Replace { path, value } => {
            let (parent, last) = split(path)?;
            let parent_node = navigate(root, parent, path)?;
            match (&parent_node.kind, last) {
                (Kind::Map { flow, entries }, Segment::Field(key) | Segment::Key(key)) => {
                    if let Some(entry) = entries.iter().find(|e| e.key == *key) {
                        if entry.value.contains_anchor() {
                            return Err(EditError::Anchored(path.to_string()));
                        }
                        editor.replace_node(&entry.value, value)
                    } else if *flow || entries.is_empty() {
                        let mut whole = value_at(&document.value, parent)?;
                        if let Value::Object(map) = &mut whole {
                            map.insert(key.clone(), value.clone());
                        }
                        editor.replace_node(parent_node, &whole)
                    } else {
                        editor.insert_entry(entries, key, value, carried)
                    }
                }
                (Kind::Seq { flow, items }, Segment::Index(i)) if *i == items.len() => {
                    if *flow || items.is_empty() {
                        let mut whole = value_at(&document.value, parent)?;
                        if let Value::Array(list) = &mut whole {
                            list.push(value.clone());
                        }
                        editor.replace_node(parent_node, &whole)
                    } else {
                        editor.append_item(items, value, carried)
                    }
                }
                (Kind::Seq { items, .. }, Segment::Index(i))
                    if *i < items.len() && matches!(op, PatchOp::Replace { .. }) =>
                {
                    editor.replace_node(&items[*i], value)
                }
                _ => return Err(EditError::Unsupported(path.to_string())),
            }
        }
        PatchOp::Move { from, path } => {
            let (from_parent, from_last) = split(from)?;
            let (to_parent, to_last) = split(path)?;
            if from_parent != to_parent {
                return Err(EditError::Unsupported(from.to_string()));
            }
            let parent_node = navigate(root, from_parent, from)?;
            let (entries, _) = map_of(parent_node, from)?;
            let key = key_of(from_last, from)?;
            let new_key = key_of(to_last, path)?;
            let entry = entries
                .iter()
                .find(|e| e.key == key)
                .ok_or(EditError::Mismatch)?;
            // The key alone is rewritten: whatever follows it on its line stays.
            Splice {
                start: entry.key_start.byte,
                end: entry.key_end.byte,
                with: render_key(new_key),
            }
        }
    };
    Ok(splice.apply(text, carried))
}

fn split(path: &FieldPath) -> Result<(&[Segment], &Segment), EditError> {
    let (last, parent) = path.segments().split_last().ok_or(EditError::Mismatch)?;
    Ok((parent, last))
}

fn key_of<'a>(segment: &'a Segment, path: &FieldPath) -> Result<&'a str, EditError> {
    match segment {
        Segment::Field(k) | Segment::Key(k) => Ok(k),
        Segment::Index(_) => Err(EditError::Unsupported(path.to_string())),
    }
}

fn map_of<'a>(node: &'a Node, path: &FieldPath) -> Result<(&'a [Entry], bool), EditError> {
    match &node.kind {
        Kind::Map { entries, flow } => Ok((entries, *flow)),
        _ => Err(EditError::Unsupported(path.to_string())),
    }
}

fn value_at(value: &Value, segments: &[Segment]) -> Result<Value, EditError> {
    crate::rules::edit::navigate(value, segments)
        .cloned()
        .ok_or(EditError::Mismatch)
}

/// How far a document indents block sequences under their key. A document that is a block
/// sequence itself (a `List` member read alone, as `fix` rewrites one) counts as the `items:`
/// of a List, a key at column 0.
fn document_sequence_offset(text: &str, root: &Node) -> Option<usize> {
    if let Kind::Seq { items, flow: false } = &root.kind
        && let Some(first) = items.first()
    {
        return dash_column(text, first);
    }
    sequence_offset(text, root)
}

/// How far this document indents block sequences under their key (0 for `key:\n- a`, 2 for
/// `key:\n  - a`), from the first one it has.
fn sequence_offset(text: &str, node: &Node) -> Option<usize> {
    if let Kind::Map {
        entries,
        flow: false,
    } = &node.kind
    {
        for entry in entries {
            if let Kind::Seq { items, flow: false } = &entry.value.kind
                && let Some(first) = items.first()
                && let Some(dash) = dash_column(text, first)
            {
                return Some(dash.saturating_sub(entry.key_start.col));
            }
            if let Some(offset) = sequence_offset(text, &entry.value) {
                return Some(offset);
            }
        }
    }
    if let Kind::Seq { items, .. } = &node.kind {
        return items.iter().find_map(|item| sequence_offset(text, item));
    }
    None
}

/// The column of the `-` that introduces a block sequence item.
fn dash_column(text: &str, item: &Node) -> Option<usize> {
    let line_start = text[..item.start.byte].rfind('\n').map_or(0, |i| i + 1);
    let prefix = &text[line_start..item.start.byte];
    let dash = prefix.rfind('-')?;
    Some(prefix[..dash].chars().count())
}

/// Where the line holding byte `byte` of `text` starts. Bytes, not characters: `byte` may be
/// inside a character (the last byte of a content that ends in `é`), a newline never is.
pub fn line_start(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1)
}

/// The offset just after the line holding byte `byte` of `text` (its newline included).
pub fn after_line(text: &str, byte: usize) -> usize {
    text.as_bytes()[byte..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(text.len(), |i| byte + i + 1)
}

/// One edit of the text: bytes `start..end` replaced by `with`.
struct Splice {
    start: usize,
    end: usize,
    with: String,
}

impl Splice {
    /// The text with the edit made; the comments carried follow it.
    fn apply(self, text: &str, carried: &mut Carried) -> String {
        carried.shift(self.start, self.end, self.with.len());
        let mut out = String::with_capacity(text.len() + self.with.len());
        out.push_str(&text[..self.start]);
        out.push_str(&self.with);
        out.push_str(&text[self.end..]);
        out
    }

    fn nothing() -> Self {
        Splice {
            start: 0,
            end: 0,
            with: String::new(),
        }
    }
}

struct TextEdit<'a> {
    text: &'a str,
    seq_offset: usize,
}

impl TextEdit<'_> {
    fn line_start(&self, byte: usize) -> usize {
        line_start(self.text, byte)
    }

    /// The offset just after the line holding `byte`.
    fn after_line(&self, byte: usize) -> usize {
        after_line(self.text, byte)
    }

    /// The last byte of an entry's content, for line arithmetic. A block scalar ends where
    /// the next line's content starts: the blanks before that are not the entry's.
    fn content_end(&self, entry: &Entry) -> usize {
        let end = entry.value.end.byte.max(entry.key_end.byte);
        let content = self.text[..end].trim_end().len();
        content.max(entry.key_end.byte).saturating_sub(1)
    }

    /// Replaces a node's text with the value written inline (flow style for collections);
    /// what follows the node on its line, a comment say, stays.
    fn replace_node(&self, node: &Node, value: &Value) -> Splice {
        Splice {
            start: node.start.byte,
            end: node.end.byte.max(node.start.byte),
            with: render_inline(value),
        }
    }

    /// Removes an entry's lines; its comments are carried.
    fn remove_entry(&self, entries: &[Entry], entry: &Entry, carried: &mut Carried) -> Splice {
        let line_start = self.line_start(entry.key_start.byte);
        let own_line = self.text[line_start..entry.key_start.byte]
            .trim()
            .is_empty();
        let splice = if own_line {
            Splice {
                start: line_start,
                end: self.after_line(self.content_end(entry)),
                with: String::new(),
            }
        } else {
            // The first entry of an item (`- key: value`): the next entry moves up after the
            // dash, or an empty map takes its place.
            let position = entries
                .iter()
                .position(|e| std::ptr::eq(e, entry))
                .unwrap_or(0);
            match entries.get(position + 1) {
                Some(next) => Splice {
                    start: entry.key_start.byte,
                    end: next.key_start.byte,
                    with: String::new(),
                },
                None => Splice {
                    start: entry.key_start.byte,
                    end: self.content_end(entry) + 1,
                    with: "{}".into(),
                },
            }
        };
        carried.take(self.text, entry, splice.start..splice.end, line_start);
        splice
    }

    fn insert_entry(
        &self,
        entries: &[Entry],
        key: &str,
        value: &Value,
        carried: &mut Carried,
    ) -> Splice {
        let indent = entries[0].key_start.col;
        let Some(last) = entries.last() else {
            return Splice::nothing();
        };
        let at = self.after_line(self.content_end(last));
        let mut lines = Vec::new();
        render_entry(key, value, indent, self.seq_offset, &mut lines);
        carried.attach(&mut lines);
        self.insert_lines(at, &lines)
    }

    fn append_item(&self, items: &[Node], value: &Value, carried: &mut Carried) -> Splice {
        let Some(last) = items.last() else {
            return Splice::nothing();
        };
        let dash =
            dash_column(self.text, &items[0]).unwrap_or(items[0].start.col.saturating_sub(2));
        let at = self.after_line(last.end.byte.max(last.start.byte + 1) - 1);
        let mut lines = Vec::new();
        render_item(value, dash, self.seq_offset, &mut lines);
        carried.attach(&mut lines);
        self.insert_lines(at, &lines)
    }

    fn insert_lines(&self, at: usize, lines: &[Rendered]) -> Splice {
        let mut block = String::new();
        if at == self.text.len() && !self.text.ends_with('\n') {
            block.push('\n');
        }
        for line in lines {
            block.push_str(&line.text);
            block.push('\n');
        }
        Splice {
            start: at,
            end: at,
            with: block,
        }
    }
}

/// A plain scalar that reads back as the same string.
fn plain_safe(text: &str) -> bool {
    !text.is_empty()
        && text.trim() == text
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-' | ':' | '+' | '~' | ' ')
        })
        && !text.starts_with(['-', ':', '~', '+', '.'])
        && !text.contains(": ")
        && !text.ends_with(':')
        && matches!(yaml::parse(&format!("k: {text}\n")).ok().and_then(|d| d.into_iter().next()).map(|d| d.value), Some(v) if v["k"] == text)
}

fn render_key(key: &str) -> String {
    if plain_safe(key) {
        key.to_string()
    } else {
        Value::String(key.to_string()).to_string()
    }
}

/// A value on one line: scalars as YAML scalars (floats keep their `.0`), collections as flow.
fn render_inline(value: &Value) -> String {
    match value {
        Value::String(s) if plain_safe(s) => s.clone(),
        Value::Number(n) => match (n.as_f64(), n.is_f64()) {
            (Some(f), true) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.1}"),
            _ => n.to_string(),
        },
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(render_inline)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", render_key(k), render_inline(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn is_block(value: &Value) -> bool {
    matches!(value, Value::Object(m) if !m.is_empty())
        || matches!(value, Value::Array(a) if !a.is_empty())
}

/// `key: value` at `indent`, nested block collections below it.
fn render_entry(
    key: &str,
    value: &Value,
    indent: usize,
    seq_offset: usize,
    lines: &mut Vec<Rendered>,
) {
    let pad = " ".repeat(indent);
    if !is_block(value) {
        let inline = render_inline(value);
        lines.push(Rendered {
            text: format!("{pad}{}: {inline}", render_key(key)),
            key: Some(key.to_string()),
            value: Some(inline),
        });
        return;
    }
    lines.push(Rendered {
        text: format!("{pad}{}:", render_key(key)),
        key: Some(key.to_string()),
        value: None,
    });
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                render_entry(k, v, indent + 2, seq_offset, lines);
            }
        }
        Value::Array(items) => {
            for item in items {
                render_item(item, indent + seq_offset, seq_offset, lines);
            }
        }
        _ => {}
    }
}

/// `- item` with its dash at `dash`.
fn render_item(value: &Value, dash: usize, seq_offset: usize, lines: &mut Vec<Rendered>) {
    let pad = " ".repeat(dash);
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut nested = Vec::new();
            for (k, v) in map {
                render_entry(k, v, dash + 2, seq_offset, &mut nested);
            }
            if let Some(first) = nested.first_mut() {
                first.text.replace_range(..dash + 2, &format!("{pad}- "));
            }
            lines.extend(nested);
        }
        other => {
            let inline = render_inline(other);
            lines.push(Rendered {
                text: format!("{pad}- {inline}"),
                key: None,
                value: Some(inline),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `ops` written as one fix.
    fn fix(text: &str, ops: Vec<PatchOp>) -> String {
        apply(text, 0, &FieldPath::root(), &[&ops]).unwrap()
    }

    #[test]
    fn removals_take_their_lines_only() {
        let text = "spec:\n  http:\n  # the main route\n  - websocketUpgrade: true  # old\n    route:\n    - destination:\n        host: r\n    timeout: 5s\n";
        let out = fix(
            text,
            vec![PatchOp::Remove {
                path: FieldPath::fields("spec.http")
                    .index(0)
                    .field("websocketUpgrade"),
            }],
        );
        // The comment of the deleted field stays, on a line of its own at its indentation.
        assert_eq!(
            out,
            "spec:\n  http:\n  # the main route\n    # old\n  - route:\n    - destination:\n        host: r\n    timeout: 5s\n"
        );
        let out = fix(
            text,
            vec![PatchOp::Remove {
                path: FieldPath::fields("spec.http").index(0).field("timeout"),
            }],
        );
        assert_eq!(
            out,
            "spec:\n  http:\n  # the main route\n  - websocketUpgrade: true  # old\n    route:\n    - destination:\n        host: r\n"
        );
    }

    /// The operations of converting `abort.percent` to `abort.percentage.value`.
    fn percent_fix(value: f64) -> Vec<PatchOp> {
        vec![
            PatchOp::Remove {
                path: FieldPath::fields("abort.percent"),
            },
            PatchOp::Add {
                path: FieldPath::fields("abort.percentage"),
                value: json!({"value": value}),
            },
        ]
    }

    #[test]
    fn a_converted_value_keeps_the_comment_of_its_line() {
        let text = "abort:\n  httpStatus: 503\n  percent: 10  # 10% of jason's requests fail\n";
        assert_eq!(
            fix(text, percent_fix(10.0)),
            "abort:\n  httpStatus: 503\n  percentage:\n    value: 10.0  # 10% of jason's requests fail\n"
        );
        // A removal of another fix gives its comments to nothing of this one.
        let text = "abort:\n  x: 1 # of x\n  httpStatus: 503\n  percent: 10\n";
        let remove_x = vec![PatchOp::Remove {
            path: FieldPath::fields("abort.x"),
        }];
        let out = apply(
            text,
            0,
            &FieldPath::root(),
            &[&remove_x, &percent_fix(10.0)],
        )
        .unwrap();
        assert_eq!(
            out,
            "abort:\n  # of x\n  httpStatus: 503\n  percentage:\n    value: 10.0\n"
        );
    }

    #[test]
    fn moved_entries_take_their_comments_along() {
        let text = "route:\n  appendHeaders:  # legacy\n    # canary marker\n    x-env: prod  # env\n    x-b: \"1\"\n  timeout: 5s\n";
        let ops = vec![
            PatchOp::Remove {
                path: FieldPath::fields("route.appendHeaders"),
            },
            PatchOp::Add {
                path: FieldPath::fields("route.headers"),
                value: json!({"request": {"add": {"x-b": "1", "x-env": "prod"}}}),
            },
        ];
        assert_eq!(
            fix(text, ops),
            "route:\n  timeout: 5s\n  headers:  # legacy\n    request:\n      add:\n        x-b: \"1\"\n        # canary marker\n        x-env: prod  # env\n"
        );
        // Into an existing map, one entry at a time; a header already there (x-b) takes
        // nothing, so its comment stays where the field was.
        let text = "route:\n  appendHeaders:\n    x-env: prod  # env\n    x-b: \"1\"  # b\n  headers:\n    request:\n      add:\n        x-b: \"1\"\n";
        let ops = vec![
            PatchOp::Remove {
                path: FieldPath::fields("route.appendHeaders"),
            },
            PatchOp::Add {
                path: FieldPath::fields("route.headers.request.add").key("x-env"),
                value: json!("prod"),
            },
        ];
        assert_eq!(
            fix(text, ops),
            "route:\n  # b\n  headers:\n    request:\n      add:\n        x-b: \"1\"\n        x-env: prod  # env\n"
        );
    }

    #[test]
    fn comments_of_removed_fields_are_never_dropped() {
        // The first entry of an item, the only one of an item, a block scalar whose lines look
        // like comments (they are text), a block map under its key.
        let cases = [
            (
                "http:\n- websocketUpgrade: true  # first\n  route: x\n",
                "http.0.websocketUpgrade",
                "http:\n  # first\n- route: x\n",
            ),
            (
                "http:\n- websocketUpgrade: true  # only\n- route: x\n",
                "http.0.websocketUpgrade",
                "http:\n- {}  # only\n- route: x\n",
            ),
            (
                "a:\n  s: |  # header\n    # text, not a comment\n  b: 1\n",
                "a.s",
                "a:\n  # header\n  b: 1\n",
            ),
            (
                "a:\n  m:  # on m\n    # inside\n    k: v  # on k\n  b: 1\n",
                "a.m",
                "a:\n  # on m\n  # inside\n  # on k\n  b: 1\n",
            ),
            (
                "a:\n  l:\n  - |  # literal\n    # text\n  - x  # on x\n  b: 1\n",
                "a.l",
                "a:\n  # literal\n  # on x\n  b: 1\n",
            ),
        ];
        for (text, path, expected) in cases {
            let segments: Vec<Segment> = path
                .split('.')
                .map(|s| match s.parse() {
                    Ok(i) => Segment::Index(i),
                    Err(_) => Segment::Field(s.to_string()),
                })
                .collect();
            let ops = vec![PatchOp::Remove {
                path: FieldPath::from_segments(segments),
            }];
            let out = apply(text, 0, &FieldPath::root(), &[&ops]);
            assert_eq!(out.as_deref(), Ok(expected), "{text:?}");
        }
    }

    #[test]
    fn anchors_are_found_where_apply_refuses_them() {
        let text = "a: &h\n  x: 1\nb: *h\nc:\n  d: &v 2\n  e: 3\n";
        let root = yaml::parse(text).unwrap().remove(0).root.unwrap();
        for (op, refused) in [
            (
                PatchOp::Remove {
                    path: FieldPath::fields("a.x"),
                },
                true,
            ),
            (
                PatchOp::Remove {
                    path: FieldPath::fields("c.d"),
                },
                true,
            ),
            (
                PatchOp::Remove {
                    path: FieldPath::fields("c.e"),
                },
                false,
            ),
            (
                PatchOp::Add {
                    path: FieldPath::fields("c.f"),
                    value: json!(1),
                },
                false,
            ),
            (
                PatchOp::Move {
                    from: FieldPath::fields("c.d"),
                    path: FieldPath::fields("c.g"),
                },
                false,
            ),
        ] {
            assert_eq!(
                touches_anchors(&root, &FieldPath::root(), &op),
                refused,
                "{op:?}"
            );
            let applied = apply(text, 0, &FieldPath::root(), &[std::slice::from_ref(&op)]);
            assert_eq!(
                matches!(applied, Err(EditError::Anchored(_))),
                refused,
                "{op:?}: {applied:?}"
            );
        }
    }

    #[test]
    fn additions_follow_the_indentation_of_their_map() {
        let text = "spec:\n  http:\n  - headers:\n      response:\n        add:\n          x: \"1\"\n    route: []  # keep\n";
        let out = fix(
            text,
            vec![
                PatchOp::Add {
                    path: FieldPath::fields("spec.http")
                        .index(0)
                        .field("headers")
                        .field("request"),
                    value: json!({"add": {"x-env": "prod"}}),
                },
                PatchOp::Add {
                    path: FieldPath::fields("spec.http")
                        .index(0)
                        .field("mirrorPercentage"),
                    value: json!({"value": 25.0}),
                },
                PatchOp::Add {
                    path: FieldPath::fields("spec.origins"),
                    value: json!([{"exact": "*"}, {"prefix": "https://"}]),
                },
            ],
        );
        assert_eq!(
            out,
            "spec:\n  http:\n  - headers:\n      response:\n        add:\n          x: \"1\"\n      request:\n        add:\n          x-env: prod\n    route: []  # keep\n    mirrorPercentage:\n      value: 25.0\n  origins:\n  - exact: \"*\"\n  - prefix: https://\n"
        );
    }

    #[test]
    fn renames_replacements_and_appends() {
        let text = "a:\n  per_try_timeout: 2s # why\n  simple: LEAST_CONN\n  names:\n    - x\n";
        let out = fix(
            text,
            vec![
                PatchOp::Move {
                    from: FieldPath::fields("a.per_try_timeout"),
                    path: FieldPath::fields("a.perTryTimeout"),
                },
                PatchOp::Replace {
                    path: FieldPath::fields("a.simple"),
                    value: json!("LEAST_REQUEST"),
                },
                PatchOp::Add {
                    path: FieldPath::fields("a.names").index(1),
                    value: json!("y"),
                },
            ],
        );
        assert_eq!(
            out,
            "a:\n  perTryTimeout: 2s # why\n  simple: LEAST_REQUEST\n  names:\n    - x\n    - y\n"
        );
    }

    #[test]
    fn the_last_field_of_an_item_leaves_an_empty_map() {
        let text = "http:\n- websocketUpgrade: true\n- route: x\n";
        let out = fix(
            text,
            vec![PatchOp::Remove {
                path: FieldPath::fields("http").index(0).field("websocketUpgrade"),
            }],
        );
        assert_eq!(out, "http:\n- {}\n- route: x\n");
    }

    #[test]
    fn flow_collections_are_rewritten_inline() {
        let text = "a: {b: 1, c: [x]}  # note\n";
        let out = fix(
            text,
            vec![PatchOp::Remove {
                path: FieldPath::fields("a.b"),
            }],
        );
        assert_eq!(out, "a: {c: [x]}  # note\n");
    }

    #[test]
    fn anchors_are_refused_and_other_documents_kept() {
        let text = "a: &h\n  x: 1\nb: *h\n";
        assert!(matches!(
            apply(
                text,
                0,
                &FieldPath::root(),
                &[&[PatchOp::Remove {
                    path: FieldPath::fields("a.x")
                }]]
            ),
            Err(EditError::Anchored(_))
        ));
        let text = "# first\nkind: A\n---\nkind: B\nold: 1\n---\nkind: C\n";
        let out = apply(
            text,
            1,
            &FieldPath::root(),
            &[&[PatchOp::Remove {
                path: FieldPath::fields("old"),
            }]],
        )
        .unwrap();
        assert_eq!(out, "# first\nkind: A\n---\nkind: B\n---\nkind: C\n");
    }
}
