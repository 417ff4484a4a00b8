//! Anchors and aliases in a document read with positions: where a field reached through an
//! alias is written (in the anchor's definition, where its author edits it), and whether a
//! region uses them, which `fix` leaves alone.

use std::collections::HashMap;

use super::yaml::{Kind, Node};
use crate::object::path::Segment;

impl Node {
    /// Whether this node or one inside it defines an anchor or is an alias.
    pub fn contains_anchor(&self) -> bool {
        self.anchored
            || match &self.kind {
                Kind::Map { entries, .. } => entries.iter().any(|e| e.value.contains_anchor()),
                Kind::Seq { items, .. } => items.iter().any(Node::contains_anchor),
                _ => false,
            }
    }

    /// Where the field at `segments` is written, following aliases into the anchors they name:
    /// a field that reaches the object through `*x` is written where `&x` is defined. As
    /// [`Node::line_of`], the deepest part of the path that exists when the field is missing.
    pub fn locate(&self, segments: &[Segment], anchors: &Anchors<'_>) -> Location {
        let mut node = self;
        let mut location = Location {
            line: self.start.line,
            alias_line: None,
            anchored: self.anchored,
        };
        for segment in segments {
            // An alias names a node defined before it, never another alias: one step.
            if let Kind::Alias { target } = node.kind
                && let Some(defined) = anchors.get(target)
            {
                location.alias_line.get_or_insert(node.start.line);
                node = defined;
            }
            match node.child(segment) {
                Some((child, key)) => {
                    location.line = key.map_or(child.start.line, |k| k.line);
                    location.anchored |= child.anchored;
                    node = child;
                }
                None => break,
            }
        }
        location
    }
}

/// Where [`Node::locate`] found a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// The line of the field, in the anchor's definition when an alias brings it in.
    pub line: usize,
    /// The line of the first alias on the way, if any.
    pub alias_line: Option<usize>,
    /// Whether an anchor or alias is on the way to the field or is the field.
    pub anchored: bool,
}

/// The anchored nodes of a document, by where their content starts, so that following an
/// alias costs a lookup, not a search of the document.
#[derive(Debug, Default)]
pub struct Anchors<'a> {
    defined: HashMap<usize, &'a Node>,
}

impl<'a> Anchors<'a> {
    /// The anchors defined in the tree below `root` (none are looked for when `has_anchors` is
    /// false: a document without them costs nothing).
    pub fn of(root: &'a Node, has_anchors: bool) -> Self {
        let mut defined = HashMap::new();
        if !has_anchors {
            return Anchors { defined };
        }
        let mut pending = vec![root];
        while let Some(node) = pending.pop() {
            match &node.kind {
                Kind::Map { entries, .. } => pending.extend(entries.iter().map(|e| &e.value)),
                Kind::Seq { items, .. } => pending.extend(items.iter()),
                Kind::Scalar { .. } | Kind::Alias { .. } => {}
            }
            if node.anchored && !matches!(node.kind, Kind::Alias { .. }) {
                defined.insert(node.start.byte, node);
            }
        }
        Anchors { defined }
    }

    fn get(&self, target: usize) -> Option<&'a Node> {
        self.defined.get(&target).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::yaml::parse;
    use crate::rules::FieldPath;

    #[test]
    fn fields_through_aliases_are_located_in_the_anchor() {
        let text = "a: &x\n  k:\n    v: 1\nb:\n  c: *x\nd: plain\n";
        let docs = parse(text).unwrap();
        let root = docs[0].root.as_ref().unwrap();
        let anchors = Anchors::of(root, docs[0].copied.nodes > 0);
        let locate = |path: &str| root.locate(FieldPath::fields(path).segments(), &anchors);
        assert_eq!(
            locate("b.c.k.v"),
            Location {
                line: 3,
                alias_line: Some(5),
                anchored: true
            }
        );
        assert_eq!(
            locate("a.k"),
            Location {
                line: 2,
                alias_line: None,
                anchored: true
            }
        );
        assert_eq!(
            locate("d"),
            Location {
                line: 6,
                alias_line: None,
                anchored: false
            }
        );
        // Missing below the alias: the deepest part that exists, in the anchor.
        assert_eq!(locate("b.c.k.missing").line, 2);
        assert!(root.contains_anchor());
    }
}
