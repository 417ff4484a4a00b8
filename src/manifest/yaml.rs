//! YAML manifests read with positions: every node knows where it starts and where its content
//! ends, every mapping key where it is written, so that findings get the line of the offending
//! field and fixes can rewrite just the lines they touch. Values resolve as kubectl's YAML does
//! (YAML 1.1 booleans such as `yes` included); anchors are tracked because fixes avoid them.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, Span, StructureStyle};
use serde_json::{Map, Number, Value};

use crate::rules::path::Segment;

/// A position in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    /// Byte offset.
    pub byte: usize,
    /// Line, 1-based.
    pub line: usize,
    /// Column in characters, 0-based.
    pub col: usize,
}

impl Mark {
    fn from(marker: &granit_parser::Marker) -> Self {
        Mark {
            byte: marker.byte_offset().unwrap_or(marker.index()),
            line: marker.line(),
            col: marker.col(),
        }
    }
}

/// A node of a document with where it stands.
#[derive(Debug, Clone)]
pub struct Node {
    /// Where the node's content starts (after any anchor or tag).
    pub start: Mark,
    /// Where its content ends: after the last scalar or closing bracket it contains.
    pub end: Mark,
    /// The node defines an anchor (`&name`) or is an alias (`*name`).
    pub anchored: bool,
    /// What it is.
    pub kind: Kind,
}

/// The kinds of node.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A mapping; `flow` for `{...}`.
    Map {
        /// Flow notation.
        flow: bool,
        /// The entries in order.
        entries: Vec<Entry>,
    },
    /// A sequence; `flow` for `[...]`.
    Seq {
        /// Flow notation.
        flow: bool,
        /// The items in order.
        items: Vec<Node>,
    },
    /// A scalar.
    Scalar {
        /// How it was written.
        plain: bool,
    },
    /// An alias to an anchored node.
    Alias,
}

/// A mapping entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// Where the key starts.
    pub key_start: Mark,
    /// Where the key ends.
    pub key_end: Mark,
    /// The value.
    pub value: Node,
}

/// One document of a stream.
#[derive(Debug, Clone)]
pub struct Document {
    /// The document's root node; `None` for an empty document.
    pub root: Option<Node>,
    /// Its value as JSON.
    pub value: Value,
}

/// Why a text is not YAML meshgate can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct YamlError {
    /// Line, 1-based.
    pub line: usize,
    /// Column, 1-based.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

fn error_at(mark: Mark, message: impl Into<String>) -> YamlError {
    YamlError {
        line: mark.line,
        column: mark.col + 1,
        message: message.into(),
    }
}

/// Parses every document of `text`.
pub fn parse(text: &str) -> Result<Vec<Document>, YamlError> {
    let mut builder = Builder {
        events: Parser::new_from_str(text),
        anchors: HashMap::new(),
    };
    let mut documents = Vec::new();
    loop {
        match builder.next()? {
            None | Some((Event::StreamEnd, _)) => break,
            Some((Event::DocumentStart(..), _)) => {
                builder.anchors.clear();
                let (root, value) = match builder.next_required()? {
                    (Event::DocumentEnd, _) => (None, Value::Null),
                    (event, span) => {
                        let (node, value) = builder.node(event, span)?;
                        match builder.next_required()? {
                            (Event::DocumentEnd, _) => {}
                            (_, span) => {
                                return Err(error_at(
                                    Mark::from(&span.start),
                                    "expected the end of the document",
                                ));
                            }
                        }
                        (Some(node), value)
                    }
                };
                documents.push(Document { root, value });
            }
            Some(_) => {}
        }
    }
    Ok(documents)
}

struct Builder<'a> {
    events: Parser<'a, granit_parser::StrInput<'a>>,
    anchors: HashMap<usize, Value>,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<Option<(Event<'a>, Span)>, YamlError> {
        match self.events.next() {
            None => Ok(None),
            Some(Ok(event)) => Ok(Some(event)),
            Some(Err(e)) => {
                let mark = Mark::from(e.marker());
                let mut message = e.info();
                if message.contains("tab") || message.contains("Tab") {
                    message.push_str(" (YAML indentation must use spaces, not tabs)");
                }
                Err(error_at(mark, message))
            }
        }
    }

    fn next_required(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        self.next()?
            .ok_or_else(|| error_at(Mark::default(), "unexpected end of input"))
    }

    fn remember(&mut self, anchor: usize, value: &Value) {
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
    }

    fn node(&mut self, event: Event<'a>, span: Span) -> Result<(Node, Value), YamlError> {
        let start = Mark::from(&span.start);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value = resolve_scalar(&text, style, tag.as_ref().map(|t| t.suffix()));
                self.remember(anchor, &value);
                let node = Node {
                    start,
                    end: Mark::from(&span.end),
                    anchored: anchor != 0,
                    kind: Kind::Scalar {
                        plain: style == ScalarStyle::Plain,
                    },
                };
                Ok((node, value))
            }
            Event::Alias(id) => {
                let value = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| error_at(start, "alias to an unknown anchor"))?;
                let node = Node {
                    start,
                    end: Mark::from(&span.end),
                    anchored: true,
                    kind: Kind::Alias,
                };
                Ok((node, value))
            }
            Event::SequenceStart(style, anchor, _) => {
                let mut items = Vec::new();
                let mut values = Vec::new();
                let mut end = start;
                loop {
                    match self.next_required()? {
                        (Event::SequenceEnd, span) => {
                            if style == StructureStyle::Flow {
                                end = Mark::from(&span.end);
                            }
                            break;
                        }
                        (event, span) => {
                            let (item, value) = self.node(event, span)?;
                            end = item.end;
                            items.push(item);
                            values.push(value);
                        }
                    }
                }
                let value = Value::Array(values);
                self.remember(anchor, &value);
                let node = Node {
                    start,
                    end,
                    anchored: anchor != 0,
                    kind: Kind::Seq {
                        flow: style == StructureStyle::Flow,
                        items,
                    },
                };
                Ok((node, value))
            }
            Event::MappingStart(style, anchor, _) => {
                let mut entries: Vec<Entry> = Vec::new();
                let mut map = Map::new();
                let mut end = start;
                loop {
                    let (key_event, key_span) = self.next_required()?;
                    let key_start = Mark::from(&key_span.start);
                    let key = match key_event {
                        Event::MappingEnd => {
                            if style == StructureStyle::Flow {
                                end = Mark::from(&key_span.end);
                            }
                            break;
                        }
                        Event::Scalar(text, ..) => text.into_owned(),
                        Event::Alias(_) => {
                            return Err(error_at(
                                key_start,
                                "aliases as mapping keys are not supported",
                            ));
                        }
                        _ => {
                            return Err(error_at(
                                key_start,
                                "only scalar mapping keys are supported",
                            ));
                        }
                    };
                    if key == "<<" {
                        return Err(error_at(
                            key_start,
                            "merge keys (<<) are not supported: write the fields out",
                        ));
                    }
                    if map.contains_key(&key) {
                        return Err(error_at(key_start, format!("duplicate key `{key}`")));
                    }
                    let (value_event, value_span) = self.next_required()?;
                    let (node, value) = self.node(value_event, value_span)?;
                    end = node.end;
                    map.insert(key.clone(), value);
                    entries.push(Entry {
                        key,
                        key_start,
                        key_end: Mark::from(&key_span.end),
                        value: node,
                    });
                }
                let value = Value::Object(map);
                self.remember(anchor, &value);
                let node = Node {
                    start,
                    end,
                    anchored: anchor != 0,
                    kind: Kind::Map {
                        flow: style == StructureStyle::Flow,
                        entries,
                    },
                };
                Ok((node, value))
            }
            _ => Err(error_at(start, "unexpected YAML event")),
        }
    }
}

/// The value of a scalar: quoted and block scalars are strings; plain ones resolve to null,
/// booleans (YAML 1.1's `yes`/`no`/`on`/`off` too, as kubectl reads them), integers and floats.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&str>) -> Value {
    match tag {
        Some("str") => return Value::String(text.to_string()),
        Some("null") => return Value::Null,
        Some("bool") | Some("int") | Some("float") => {}
        _ if style != ScalarStyle::Plain => return Value::String(text.to_string()),
        _ => {}
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            return Value::Bool(true);
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = text.trim_start_matches('+').parse::<i64>() {
            return Value::Number(n.into());
        }
        if let Ok(n) = text.trim_start_matches('+').parse::<u64>() {
            return Value::Number(n.into());
        }
    }
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(n) = i64::from_str_radix(hex, 16)
    {
        return Value::Number(n.into());
    }
    if let Some(octal) = text.strip_prefix("0o")
        && let Ok(n) = i64::from_str_radix(octal, 8)
    {
        return Value::Number(n.into());
    }
    let looks_float = digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().filter(|b| *b == b'.').count() <= 1;
    if looks_float
        && let Ok(n) = text.parse::<f64>()
        && let Some(number) = Number::from_f64(n)
    {
        return Value::Number(number);
    }
    Value::String(text.to_string())
}

impl Node {
    /// The child at one step, with the key's position for mapping entries.
    pub fn child(&self, segment: &Segment) -> Option<(&Node, Option<Mark>)> {
        match (&self.kind, segment) {
            (Kind::Map { entries, .. }, Segment::Field(key) | Segment::Key(key)) => entries
                .iter()
                .find(|e| e.key == *key)
                .map(|e| (&e.value, Some(e.key_start))),
            (Kind::Seq { items, .. }, Segment::Index(i)) => items.get(*i).map(|n| (n, None)),
            _ => None,
        }
    }

    /// The line of the field at `segments` (its key's line), or of the deepest part of the path
    /// that exists when the field itself is missing.
    pub fn line_of(&self, segments: &[Segment]) -> usize {
        let mut node = self;
        let mut line = self.start.line;
        for segment in segments {
            match node.child(segment) {
                Some((child, key)) => {
                    line = key.map_or(child.start.line, |k| k.line);
                    node = child;
                }
                None => break,
            }
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::FieldPath;
    use serde_json::json;

    #[test]
    fn values_resolve_like_kubectl() {
        let docs = parse("a: 1\nb: 1.5\nc: yes\nd: 'yes'\ne: ~\nf: 0x10\ng: 10.0\nh: text\ni: \"2\"\nj: -3\nk: 1e3\n").unwrap();
        assert_eq!(
            docs[0].value,
            json!({"a": 1, "b": 1.5, "c": true, "d": "yes", "e": null, "f": 16, "g": 10.0, "h": "text", "i": "2", "j": -3, "k": 1000.0})
        );
    }

    #[test]
    fn documents_lines_and_empty_documents() {
        let text = "# comment only\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio.io/rev: asm\n---\n---\n- a\n";
        let docs = parse(text).unwrap();
        // The comment before the first `---` is no document; `---` followed by `---` is an
        // empty one (null).
        assert_eq!(docs.len(), 3, "{docs:?}");
        assert_eq!(docs[1].value, Value::Null);
        assert_eq!(docs[2].value, json!(["a"]));
        let root = docs[0].root.as_ref().unwrap();
        let path = FieldPath::fields("metadata.labels").key("istio.io/rev");
        assert_eq!(root.line_of(path.segments()), 8);
        assert_eq!(
            root.line_of(FieldPath::fields("metadata.annotations").segments()),
            5,
            "deepest existing part"
        );
    }

    #[test]
    fn mistakes_are_errors_with_positions() {
        let cases = [
            ("a: 1\na: 2\n", 2, "duplicate key `a`"),
            ("a:\n\tb: 1\n", 2, "tab"),
            ("a: [1, 2\n", 1, "unclosed"),
            ("a: &x 1\nb:\n  <<: *x\n", 3, "merge keys"),
            ("a: *nope\n", 1, ""),
        ];
        for (text, line, contains) in cases {
            let err = parse(text).expect_err(text);
            assert_eq!(err.line, line, "{text:?}: {err}");
            assert!(err.message.contains(contains), "{text:?}: {err}");
        }
    }

    #[test]
    fn anchors_resolve_and_are_marked() {
        let docs = parse("a: &x {k: v}\nb: *x\n").unwrap();
        assert_eq!(docs[0].value, json!({"a": {"k": "v"}, "b": {"k": "v"}}));
        let Some(Node {
            kind: Kind::Map { entries, .. },
            ..
        }) = &docs[0].root
        else {
            panic!()
        };
        assert!(entries[0].value.anchored && entries[1].value.anchored);
    }
}
