//! Field paths in the two notations meshgate speaks: the human path of findings
//! (`spec.http[0].fault`, `metadata.labels[istio.io/rev]`) and the RFC 6901 JSON Pointer that
//! JSON Patch needs (`/spec/http/0/fault`, `/metadata/labels/istio.io~1rev`).

use std::fmt;

/// One step from a JSON value to one of its children.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// A field of an object whose keys are schema field names (`spec`, `http`).
    Field(String),
    /// A key of a map whose keys are data (labels, header names): bracketed unless plain.
    Key(String),
    /// An index into a list.
    Index(usize),
}

/// A location inside an object, from its root.
///
/// ```
/// use meshgate::object::FieldPath;
///
/// let path = FieldPath::fields("metadata.labels").key("istio.io/rev");
/// assert_eq!(path.to_string(), "metadata.labels[istio.io/rev]");
/// assert_eq!(path.pointer(), "/metadata/labels/istio.io~1rev");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(Vec<Segment>);

impl FieldPath {
    /// The object root.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// Parses a dotted list of schema field names, e.g. `metadata.labels`.
    pub fn fields(dotted: &str) -> Self {
        Self(
            dotted
                .split('.')
                .map(|f| Segment::Field(f.to_owned()))
                .collect(),
        )
    }

    /// This path extended by a schema field name.
    pub fn field(&self, name: &str) -> Self {
        self.with(Segment::Field(name.to_owned()))
    }

    /// This path extended by a map key.
    pub fn key(&self, key: &str) -> Self {
        self.with(Segment::Key(key.to_owned()))
    }

    /// This path extended by a list index.
    pub fn index(&self, index: usize) -> Self {
        self.with(Segment::Index(index))
    }

    /// A path from its steps.
    pub fn from_segments(segments: Vec<Segment>) -> Self {
        Self(segments)
    }

    /// This path followed by `rest`.
    pub fn join(&self, rest: &FieldPath) -> Self {
        let mut segments = Vec::with_capacity(self.0.len() + rest.0.len());
        segments.extend_from_slice(&self.0);
        segments.extend_from_slice(&rest.0);
        Self(segments)
    }

    /// The steps from the root.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    fn with(&self, segment: Segment) -> Self {
        // Sized for the new step: a clone has no room to spare, and the push would reallocate.
        let mut segments = Vec::with_capacity(self.0.len() + 1);
        segments.extend_from_slice(&self.0);
        segments.push(segment);
        Self(segments)
    }

    /// The RFC 6901 JSON Pointer of this path (`~` → `~0`, `/` → `~1`).
    pub fn pointer(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for segment in &self.0 {
            out.push('/');
            match segment {
                Segment::Field(name) | Segment::Key(name) => {
                    for c in name.chars() {
                        match c {
                            '~' => out.push_str("~0"),
                            '/' => out.push_str("~1"),
                            c => out.push(c),
                        }
                    }
                }
                Segment::Index(i) => {
                    let _ = write!(out, "{i}");
                }
            }
        }
        out
    }
}

/// A map key that may stand after a dot: letters, digits and `_`, not starting with a digit.
fn is_plain_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            // A finding about the whole object names `apiVersion` (as the catalog documents).
            return f.write_str("apiVersion");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Field(name) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(name)?;
                }
                Segment::Key(key) if is_plain_identifier(key) => write!(f, ".{key}")?,
                Segment::Key(key) => write!(f, "[{key}]")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_keys_are_bracketed_and_pointer_escaped() {
        let path = FieldPath::fields("metadata.labels").key("istio.io/rev");
        assert_eq!(path.to_string(), "metadata.labels[istio.io/rev]");
        assert_eq!(path.pointer(), "/metadata/labels/istio.io~1rev");
        let dashed = FieldPath::fields("metadata.labels").key("istio-injection");
        assert_eq!(dashed.to_string(), "metadata.labels[istio-injection]");
        assert_eq!(dashed.pointer(), "/metadata/labels/istio-injection");
    }

    #[test]
    fn indices_and_plain_keys() {
        let path = FieldPath::fields("spec.http")
            .index(1)
            .field("headers")
            .key("x_team");
        assert_eq!(path.to_string(), "spec.http[1].headers.x_team");
        assert_eq!(path.pointer(), "/spec/http/1/headers/x_team");
        let tilde = FieldPath::root().key("a~b");
        assert_eq!(tilde.pointer(), "/a~0b");
    }

    #[test]
    fn the_root_is_named_api_version() {
        assert_eq!(FieldPath::root().to_string(), "apiVersion");
        assert_eq!(FieldPath::root().pointer(), "");
    }
}
