//! Writes a fix's JSON Patch back into YAML text, changing only the lines of the fields it
//! converts and adding lines for their replacements: comments, key order, quoting, indentation
//! and every other document stay as they were. Each result is re-read and compared with the
//! patch applied to the parsed value, so a rewrite that would lose anything is refused.

use serde_json::Value;

use super::yaml::{self, Entry, Kind, Node, Size};
use crate::rules::path::Segment;
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

/// Applies `ops` (paths relative to `base` inside document `index`) to `text`.
pub fn apply(
    text: &str,
    index: usize,
    base: &FieldPath,
    ops: &[PatchOp],
) -> Result<String, EditError> {
    let before = yaml::parse(text).map_err(|_| EditError::Mismatch)?;
    let mut expected: Vec<Value> = before.iter().map(|d| d.value.clone()).collect();
    let target = expected.get_mut(index).ok_or(EditError::Mismatch)?;
    let rebased: Vec<PatchOp> = ops.iter().map(|op| rebase(op, base)).collect();
    crate::rules::patch::apply(target, &rebased).map_err(|_| EditError::Mismatch)?;

    let mut current = text.to_string();
    for op in &rebased {
        current = apply_one(&current, index, op)?;
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

fn apply_one(text: &str, index: usize, op: &PatchOp) -> Result<String, EditError> {
    let documents = yaml::parse(text).map_err(|_| EditError::Mismatch)?;
    let document = documents.get(index).ok_or(EditError::Mismatch)?;
    let root = document.root.as_ref().ok_or(EditError::Mismatch)?;
    let seq_offset = document_sequence_offset(text, root).unwrap_or(2);
    let editor = TextEdit { text, seq_offset };
    match op {
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
                return Ok(editor.replace_node(parent_node, &value));
            }
            Ok(editor.remove_entry(entries, entry))
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
                        return Ok(editor.replace_node(&entry.value, value));
                    }
                    if *flow || entries.is_empty() {
                        let mut whole = value_at(&document.value, parent)?;
                        if let Value::Object(map) = &mut whole {
                            map.insert(key.clone(), value.clone());
                        }
                        return Ok(editor.replace_node(parent_node, &whole));
                    }
                    Ok(editor.insert_entry(entries, key, value))
                }
                (Kind::Seq { flow, items }, Segment::Index(i)) if *i == items.len() => {
                    if *flow || items.is_empty() {
                        let mut whole = value_at(&document.value, parent)?;
                        if let Value::Array(list) = &mut whole {
                            list.push(value.clone());
                        }
                        return Ok(editor.replace_node(parent_node, &whole));
                    }
                    Ok(editor.append_item(items, value))
                }
                (Kind::Seq { items, .. }, Segment::Index(i))
                    if *i < items.len() && matches!(op, PatchOp::Replace { .. }) =>
                {
                    Ok(editor.replace_node(&items[*i], value))
                }
                _ => Err(EditError::Unsupported(path.to_string())),
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
            Ok(editor.splice(
                entry.key_start.byte,
                entry.key_end.byte,
                &render_key(new_key),
            ))
        }
    }
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

struct TextEdit<'a> {
    text: &'a str,
    seq_offset: usize,
}

impl TextEdit<'_> {
    fn splice(&self, start: usize, end: usize, with: &str) -> String {
        let mut out = String::with_capacity(self.text.len() + with.len());
        out.push_str(&self.text[..start]);
        out.push_str(with);
        out.push_str(&self.text[end..]);
        out
    }

    fn line_start(&self, byte: usize) -> usize {
        line_start(self.text, byte)
    }

    /// The offset just after the line holding `byte`.
    fn after_line(&self, byte: usize) -> usize {
        after_line(self.text, byte)
    }

    /// Where the line holding `byte` ends: at its newline, or at the end of the text.
    fn line_end(&self, byte: usize) -> usize {
        let after = self.after_line(byte);
        if after > 0 && self.text.as_bytes()[after - 1] == b'\n' {
            after - 1
        } else {
            after
        }
    }

    /// Where the content of an entry ends, for line arithmetic.
    fn content_end(entry: &Entry) -> usize {
        entry
            .value
            .end
            .byte
            .max(entry.key_end.byte)
            .saturating_sub(1)
    }

    /// Replaces a node's text with the value written inline (flow style for collections).
    fn replace_node(&self, node: &Node, value: &Value) -> String {
        self.splice(
            node.start.byte,
            node.end.byte.max(node.start.byte),
            &render_inline(value),
        )
    }

    fn remove_entry(&self, entries: &[Entry], entry: &Entry) -> String {
        let line_start = self.line_start(entry.key_start.byte);
        let own_line = self.text[line_start..entry.key_start.byte]
            .trim()
            .is_empty();
        if own_line {
            return self.splice(line_start, self.after_line(Self::content_end(entry)), "");
        }
        // The first entry of an item (`- key: value`): the next entry moves up after the dash.
        let position = entries
            .iter()
            .position(|e| std::ptr::eq(e, entry))
            .unwrap_or(0);
        match entries.get(position + 1) {
            Some(next) => self.splice(entry.key_start.byte, next.key_start.byte, ""),
            None => self.splice(
                entry.key_start.byte,
                self.line_end(Self::content_end(entry)),
                "{}",
            ),
        }
    }

    fn insert_entry(&self, entries: &[Entry], key: &str, value: &Value) -> String {
        let indent = entries[0].key_start.col;
        let Some(last) = entries.last() else {
            return self.text.to_string();
        };
        let at = self.after_line(Self::content_end(last));
        let mut lines = Vec::new();
        render_entry(key, value, indent, self.seq_offset, &mut lines);
        self.insert_lines(at, &lines)
    }

    fn append_item(&self, items: &[Node], value: &Value) -> String {
        let Some(last) = items.last() else {
            return self.text.to_string();
        };
        let dash =
            dash_column(self.text, &items[0]).unwrap_or(items[0].start.col.saturating_sub(2));
        let at = self.after_line(last.end.byte.max(last.start.byte + 1) - 1);
        let mut lines = Vec::new();
        render_item(value, dash, self.seq_offset, &mut lines);
        self.insert_lines(at, &lines)
    }

    fn insert_lines(&self, at: usize, lines: &[String]) -> String {
        let mut block = String::new();
        if at == self.text.len() && !self.text.ends_with('\n') {
            block.push('\n');
        }
        for line in lines {
            block.push_str(line);
            block.push('\n');
        }
        self.splice(at, at, &block)
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
    lines: &mut Vec<String>,
) {
    let pad = " ".repeat(indent);
    if !is_block(value) {
        lines.push(format!(
            "{pad}{}: {}",
            render_key(key),
            render_inline(value)
        ));
        return;
    }
    lines.push(format!("{pad}{}:", render_key(key)));
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
fn render_item(value: &Value, dash: usize, seq_offset: usize, lines: &mut Vec<String>) {
    let pad = " ".repeat(dash);
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut nested = Vec::new();
            for (k, v) in map {
                render_entry(k, v, dash + 2, seq_offset, &mut nested);
            }
            if let Some(first) = nested.first_mut() {
                first.replace_range(..dash + 2, &format!("{pad}- "));
            }
            lines.extend(nested);
        }
        other => lines.push(format!("{pad}- {}", render_inline(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fix(text: &str, ops: Vec<PatchOp>) -> String {
        apply(text, 0, &FieldPath::root(), &ops).unwrap()
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
        assert_eq!(
            out,
            "spec:\n  http:\n  # the main route\n  - route:\n    - destination:\n        host: r\n    timeout: 5s\n"
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
            let applied = apply(text, 0, &FieldPath::root(), std::slice::from_ref(&op));
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
                &[PatchOp::Remove {
                    path: FieldPath::fields("a.x")
                }]
            ),
            Err(EditError::Anchored(_))
        ));
        let text = "# first\nkind: A\n---\nkind: B\nold: 1\n---\nkind: C\n";
        let out = apply(
            text,
            1,
            &FieldPath::root(),
            &[PatchOp::Remove {
                path: FieldPath::fields("old"),
            }],
        )
        .unwrap();
        assert_eq!(out, "# first\nkind: A\n---\nkind: B\n---\nkind: C\n");
    }
}
