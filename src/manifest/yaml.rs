//! YAML manifests read with positions: every node knows where it starts and where its content
//! ends, every mapping key where it is written, so that findings get the line of the offending
//! field and fixes can rewrite just the lines they touch. Values resolve as kubectl's YAML does
//! (YAML 1.1 booleans such as `yes` included); anchors are tracked because fixes avoid them.
//!
//! Files come from pull requests, so reading one is bounded: aliases copy the node they name,
//! and what a file's anchors and aliases copy is capped ([`MAX_COPIED_NODES`],
//! [`MAX_COPIED_BYTES`]), as is how deep collections nest ([`MAX_NESTING`]). Past a limit,
//! reading stops with an error at the line where it was reached.

use std::collections::HashMap;
use std::ops::Range;

use granit_parser::{Event, Parser, ScalarStyle, Span, StructureStyle};
use serde_json::{Map, Number, Value};

use crate::object::path::Segment;

/// The most nodes a file's anchors and aliases may copy. Resolving an alias copies the node it
/// names, so nested aliases ("billion laughs") grow exponentially: this caps what they cost at
/// about 100 MB and a fraction of a second (measured with short keys and values; long text is
/// capped by [`MAX_COPIED_BYTES`]). kubectl's YAML reader (go-yaml, since CVE-2019-11253)
/// refuses a document whose aliases add more than about 400,000 nodes; recording an anchor is a
/// copy too, so this leaves every document kubectl accepts readable, with room to spare, while
/// bounding a file of many documents as a whole.
pub const MAX_COPIED_NODES: usize = 1_000_000;

/// The most bytes of text (scalars and keys) a file's anchors and aliases may copy: one long
/// string named a million times is a million nodes but terabytes. 64 MiB; real manifests copy
/// kilobytes.
pub const MAX_COPIED_BYTES: usize = 64 << 20;

/// What a value holds: what copying it costs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Size {
    /// Nodes: scalars, collections, and the keys of mappings.
    pub nodes: usize,
    /// Bytes of the text of its scalars and keys.
    pub bytes: usize,
}

impl Size {
    fn scalar(text: &str) -> Self {
        Size {
            nodes: 1,
            bytes: text.len(),
        }
    }

    fn add(&mut self, other: Size) {
        self.nodes = self.nodes.saturating_add(other.nodes);
        self.bytes = self.bytes.saturating_add(other.bytes);
    }
}

/// The deepest collections may nest, aliases included: serde_json's default limit, which the
/// webhook's JSON reader applies to admission requests too. Real manifests stay under 30.
pub const MAX_NESTING: usize = 128;

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
    Alias {
        /// Where the content of the node it names starts: the key of
        /// [`super::anchors::Anchors`].
        target: usize,
    },
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
    /// What was copied to resolve its anchors and aliases (nothing without them): what reading
    /// it again costs beyond its text.
    pub copied: Size,
    /// The bytes of the text that hold it, with the comments and directives before it: read
    /// alone, they give this document. The spans of a stream's documents follow each other
    /// from the start of the text; only comments after the last document are in none.
    pub span: Range<usize>,
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
        copied: Size::default(),
        open: 0,
    };
    let mut documents = Vec::new();
    let mut document_start = 0;
    loop {
        match builder.next()? {
            None | Some((Event::StreamEnd, _)) => break,
            Some((Event::DocumentStart(..), _)) => {
                builder.anchors.clear();
                let copied_before = builder.copied;
                let (root, value, end) = match builder.next_required()? {
                    (Event::DocumentEnd, end) => (None, Value::Null, end),
                    (event, span) => {
                        let Built { node, value, .. } = builder.node(event, span)?;
                        match builder.next_required()? {
                            (Event::DocumentEnd, end) => (Some(node), value, end),
                            (_, span) => {
                                return Err(error_at(
                                    Mark::from(&span.start),
                                    "expected the end of the document",
                                ));
                            }
                        }
                    }
                };
                // An explicit end (`...`) is part of the document, an implicit one is where
                // the next `---` line starts or the last content ends; the rest of the line
                // (a comment, the newline) goes with the document.
                let end = Mark::from(&end.end).byte;
                let document_end = if end == 0 || text.as_bytes().get(end - 1) == Some(&b'\n') {
                    end
                } else {
                    text[end..].find('\n').map_or(text.len(), |i| end + i + 1)
                };
                documents.push(Document {
                    root,
                    value,
                    copied: Size {
                        nodes: builder.copied.nodes - copied_before.nodes,
                        bytes: builder.copied.bytes - copied_before.bytes,
                    },
                    span: document_start..document_end,
                });
                document_start = document_end;
            }
            Some(_) => {}
        }
    }
    Ok(documents)
}

/// An anchored node's value, kept for the aliases that name it.
struct Anchored {
    /// Where the anchored node's content starts.
    start: Mark,
    value: Value,
    size: Size,
    /// Collections nested in `value` (0 for a scalar).
    height: usize,
}

/// A node read, with its value and the size and height of that value.
struct Built {
    node: Node,
    value: Value,
    size: Size,
    height: usize,
}

struct Builder<'a> {
    events: Parser<'a, granit_parser::StrInput<'a>>,
    anchors: HashMap<usize, Anchored>,
    /// What anchors and aliases copied so far in this text.
    copied: Size,
    /// Collections open around the node being read.
    open: usize,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<Option<(Event<'a>, Span)>, YamlError> {
        match self.events.next() {
            None => Ok(None),
            Some(Ok(event)) => Ok(Some(event)),
            Some(Err(e)) => {
                let mark = Mark::from(e.marker());
                let mut message = e.info();
                if matches!(e.kind(), granit_parser::ErrorKind::RecursionLimitExceeded) {
                    // The parser's own limit (255 open flow or block collections), reached
                    // before ours when they are left open.
                    message =
                        format!("collections nest more than {MAX_NESTING} levels deep, the limit");
                } else if message.contains("tab") || message.contains("Tab") {
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

    /// Counts a copy about to be made at `at` against [`MAX_COPIED_NODES`] and
    /// [`MAX_COPIED_BYTES`]; called before copying, so a file over a limit never allocates it.
    fn charge(&mut self, size: Size, at: Mark) -> Result<(), YamlError> {
        self.copied.add(size);
        let over = if self.copied.nodes > MAX_COPIED_NODES {
            format!("{MAX_COPIED_NODES} nodes")
        } else if self.copied.bytes > MAX_COPIED_BYTES {
            format!("{} MiB of text", MAX_COPIED_BYTES >> 20)
        } else {
            return Ok(());
        };
        Err(error_at(
            at,
            format!(
                "anchors and aliases expand this file by more than {over}, the limit: write the \
                 repeated parts out"
            ),
        ))
    }

    /// Keeps the value of a node that defines an anchor, for the aliases that follow.
    fn remember(&mut self, anchor: usize, built: &Built) -> Result<(), YamlError> {
        if anchor != 0 {
            self.charge(built.size, built.node.start)?;
            let anchored = Anchored {
                start: built.node.start,
                value: built.value.clone(),
                size: built.size,
                height: built.height,
            };
            self.anchors.insert(anchor, anchored);
        }
        Ok(())
    }

    /// Enters a collection starting at `start`, refusing one nested too deep.
    fn enter(&mut self, start: Mark) -> Result<(), YamlError> {
        if self.open >= MAX_NESTING {
            return Err(error_at(
                start,
                format!("collections nest more than {MAX_NESTING} levels deep, the limit"),
            ));
        }
        self.open += 1;
        Ok(())
    }

    fn node(&mut self, event: Event<'a>, span: Span) -> Result<Built, YamlError> {
        let start = Mark::from(&span.start);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let size = Size::scalar(&text);
                let built = Built {
                    node: Node {
                        start,
                        end: Mark::from(&span.end),
                        anchored: anchor != 0,
                        kind: Kind::Scalar {
                            plain: style == ScalarStyle::Plain,
                        },
                    },
                    value: resolve_scalar(&text, style, tag.as_ref().map(|t| t.suffix())),
                    size,
                    height: 0,
                };
                self.remember(anchor, &built)?;
                Ok(built)
            }
            Event::Alias(id) => {
                let (size, height, target) = self
                    .anchors
                    .get(&id)
                    .map(|a| (a.size, a.height, a.start.byte))
                    .ok_or_else(|| error_at(start, "alias to an unknown anchor"))?;
                if self.open + height > MAX_NESTING {
                    return Err(error_at(
                        start,
                        format!(
                            "this alias nests collections more than {MAX_NESTING} levels deep, \
                             the limit"
                        ),
                    ));
                }
                self.charge(size, start)?;
                let value = self.anchors[&id].value.clone();
                Ok(Built {
                    node: Node {
                        start,
                        end: Mark::from(&span.end),
                        anchored: true,
                        kind: Kind::Alias { target },
                    },
                    value,
                    size,
                    height,
                })
            }
            Event::SequenceStart(style, anchor, _) => {
                self.enter(start)?;
                let mut items = Vec::new();
                let mut values = Vec::new();
                // The collection itself is a node.
                let (mut size, mut height) = (Size { nodes: 1, bytes: 0 }, 1);
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
                            let item = self.node(event, span)?;
                            end = item.node.end;
                            size.add(item.size);
                            height = height.max(item.height + 1);
                            items.push(item.node);
                            values.push(item.value);
                        }
                    }
                }
                self.open -= 1;
                let built = Built {
                    node: Node {
                        start,
                        end,
                        anchored: anchor != 0,
                        kind: Kind::Seq {
                            flow: style == StructureStyle::Flow,
                            items,
                        },
                    },
                    value: Value::Array(values),
                    size,
                    height,
                };
                self.remember(anchor, &built)?;
                Ok(built)
            }
            Event::MappingStart(style, anchor, _) => {
                self.enter(start)?;
                let mut entries: Vec<Entry> = Vec::new();
                let mut map = Map::new();
                // The collection itself is a node.
                let (mut size, mut height) = (Size { nodes: 1, bytes: 0 }, 1);
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
                    let item = self.node(value_event, value_span)?;
                    end = item.node.end;
                    // The key is a node too.
                    size.add(Size::scalar(&key));
                    size.add(item.size);
                    height = height.max(item.height + 1);
                    map.insert(key.clone(), item.value);
                    entries.push(Entry {
                        key,
                        key_start,
                        key_end: Mark::from(&key_span.end),
                        value: item.node,
                    });
                }
                self.open -= 1;
                let built = Built {
                    node: Node {
                        start,
                        end,
                        anchored: anchor != 0,
                        kind: Kind::Map {
                            flow: style == StructureStyle::Flow,
                            entries,
                        },
                    },
                    value: Value::Object(map),
                    size,
                    height,
                };
                self.remember(anchor, &built)?;
                Ok(built)
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

    /// An anchored flow sequence of `items` scalars (`items + 1` nodes) named by `aliases`
    /// aliases, one a line after it.
    fn aliased(items: usize, aliases: usize) -> String {
        let mut text = format!("a: &a [{}]\nb:\n", vec!["x"; items].join(","));
        text.push_str(&"- *a\n".repeat(aliases));
        text
    }

    #[test]
    fn anchors_and_aliases_copy_at_most_the_limit() {
        // Recording the anchor copies 10,000 nodes, each alias 10,000 more: 99 aliases reach
        // the limit exactly, the 100th (line 102) goes past it.
        let at_limit = parse(&aliased(9_999, 99)).unwrap();
        assert_eq!(at_limit[0].copied.nodes, MAX_COPIED_NODES);
        assert_eq!(at_limit[0].value["b"].as_array().unwrap().len(), 99);
        let err = parse(&aliased(9_999, 100)).unwrap_err();
        assert_eq!((err.line, err.column), (102, 3), "{err}");
        assert_eq!(
            err.message,
            "anchors and aliases expand this file by more than 1000000 nodes, the limit: \
             write the repeated parts out"
        );
    }

    #[test]
    fn a_long_string_named_often_stops_at_the_text_limit() {
        // 4 MiB recorded, then 4 MiB an alias: the 16th alias (line 18) passes 64 MiB.
        let mut text = format!("a: &a \"{}\"\nb:\n", "x".repeat(4 << 20));
        text.push_str(&"- *a\n".repeat(15));
        assert_eq!(parse(&text).unwrap()[0].copied.bytes, MAX_COPIED_BYTES);
        text.push_str("- *a\n");
        let err = parse(&text).unwrap_err();
        assert_eq!((err.line, err.column), (18, 3), "{err}");
        assert_eq!(
            err.message,
            "anchors and aliases expand this file by more than 64 MiB of text, the limit: write \
             the repeated parts out"
        );
    }

    #[test]
    fn nested_aliases_stop_at_the_limit_not_at_the_memory() {
        // Each level names the one before nine times: 9^9 copies of "x" if resolved.
        let mut text = format!("l0: &l0 [{}]\n", ["x"; 9].join(","));
        for level in 1..9 {
            let named = format!("*l{}", level - 1);
            text.push_str(&format!(
                "l{level}: &l{level} [{}]\n",
                [named.as_str(); 9].join(",")
            ));
        }
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("more than 1000000 nodes"), "{err}");
        // Levels 0 to 4 copy 149,450 nodes, level 5's aliases 597,870 more; recording its
        // anchor (597,871 nodes) goes past the limit, on line 6, before anything is copied.
        assert_eq!((err.line, err.column), (6, 9), "{err}");
        assert_eq!(
            parse("a: &a {k: v}\nb: *a\n").unwrap()[0].copied,
            Size { nodes: 6, bytes: 4 }
        );
    }

    #[test]
    fn nesting_is_limited_aliases_included() {
        let nested = |depth: usize| format!("{}{}\n", "[".repeat(depth), "]".repeat(depth));
        assert!(parse(&nested(MAX_NESTING)).is_ok());
        let err = parse(&nested(MAX_NESTING + 1)).unwrap_err();
        assert_eq!((err.line, err.column), (1, MAX_NESTING + 1), "{err}");
        assert_eq!(
            err.message,
            "collections nest more than 128 levels deep, the limit"
        );
        // Left open, the parser's own limit comes first; the message is the same.
        let err = parse(&format!("a: {}\n", "[".repeat(100_000))).unwrap_err();
        assert_eq!(
            err.message,
            "collections nest more than 128 levels deep, the limit"
        );
        // Block collections count too.
        let block: String = (0..=MAX_NESTING)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        assert_eq!(parse(&block).unwrap_err().line, MAX_NESTING + 1);
        // An alias counts what it copies: 100 levels under an alias 30 levels deep.
        let text = format!(
            "a: &a {}\nb: {}*a{}\n",
            nested(100).trim_end(),
            "[".repeat(30),
            "]".repeat(30)
        );
        let err = parse(&text).unwrap_err();
        assert_eq!((err.line, err.column), (2, 34), "{err}");
        assert!(
            err.message
                .contains("this alias nests collections more than 128"),
            "{err}"
        );
    }

    #[test]
    fn document_spans_read_alone_give_the_document() {
        let text = "# leading\na: 1\n---\nb: &x 2\nc: *x\n...\n# between\n%YAML 1.2\n---\n- d\n--- e # same line\n# trailing\n";
        let documents = parse(text).unwrap();
        let spans: Vec<&str> = documents.iter().map(|d| &text[d.span.clone()]).collect();
        assert_eq!(
            spans,
            [
                "# leading\na: 1\n",
                "---\nb: &x 2\nc: *x\n...\n",
                "# between\n%YAML 1.2\n---\n- d\n",
                "--- e # same line\n",
            ]
        );
        assert_eq!(&text[documents[3].span.end..], "# trailing\n");
        for document in &documents {
            let alone = parse(&text[document.span.clone()]).unwrap();
            assert_eq!(alone.len(), 1);
            assert_eq!(alone[0].value, document.value);
        }
        assert_eq!(documents[1].copied, Size { nodes: 2, bytes: 2 });
    }
}
