//! JSON Patch (RFC 6902) operations that fixes are made of, computed against the object exactly
//! as received so that nothing a rule does not name can be lost.

use serde::Serialize;
use serde_json::Value;

use super::path::FieldPath;

/// One RFC 6902 operation. Only the operations fixes need; each names its target by path.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum PatchOp {
    /// Add a member (or replace an existing one) at `path`.
    Add {
        #[serde(serialize_with = "as_pointer")]
        path: FieldPath,
        value: Value,
    },
    /// Remove the member at `path`; it must exist.
    Remove {
        #[serde(serialize_with = "as_pointer")]
        path: FieldPath,
    },
    /// Replace the existing member at `path`.
    Replace {
        #[serde(serialize_with = "as_pointer")]
        path: FieldPath,
        value: Value,
    },
    /// Move the member at `from` to `path` (a rename keeps the value byte for byte).
    Move {
        #[serde(serialize_with = "as_pointer")]
        from: FieldPath,
        #[serde(serialize_with = "as_pointer")]
        path: FieldPath,
    },
}

fn as_pointer<S: serde::Serializer>(path: &FieldPath, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.pointer())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serializes_as_rfc6902() {
        let ops = vec![
            PatchOp::Remove {
                path: FieldPath::fields("metadata.labels").key("istio.io/rev"),
            },
            PatchOp::Add {
                path: FieldPath::fields("spec.x"),
                value: json!(10.0),
            },
            PatchOp::Move {
                from: FieldPath::fields("spec.source_labels"),
                path: FieldPath::fields("spec.sourceLabels"),
            },
        ];
        assert_eq!(
            serde_json::to_value(&ops).unwrap(),
            json!([
                {"op": "remove", "path": "/metadata/labels/istio.io~1rev"},
                {"op": "add", "path": "/spec/x", "value": 10.0},
                {"op": "move", "from": "/spec/source_labels", "path": "/spec/sourceLabels"}
            ])
        );
    }
}
