//! JSON Patch (RFC 6902) operations that fixes are made of, computed against the object exactly
//! as received so that nothing a rule does not name can be lost.

use serde::Serialize;
use serde_json::Value;

use crate::object::path::FieldPath;

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

/// A patch that does not apply to the value it was computed for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the patch does not apply: {0}")]
pub struct PatchError(pub String);

/// Applies `ops` to `value` in order, as the API server applies a JSON Patch: through the
/// `json-patch` crate, so that what `fix` writes back is checked against an implementation of
/// RFC 6902 that is not meshgate's own. On failure `value` is left as it was.
pub fn apply(value: &mut Value, ops: &[PatchOp]) -> Result<(), PatchError> {
    let patch: json_patch::Patch = serde_json::to_value(ops)
        .and_then(serde_json::from_value)
        .map_err(|e| PatchError(e.to_string()))?;
    json_patch::patch(value, &patch).map_err(|e| PatchError(e.to_string()))
}

fn as_pointer<S: serde::Serializer>(path: &FieldPath, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.pointer())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_apply_in_order_and_a_failed_patch_changes_nothing() {
        let original = json!({"spec": {"a": 1, "list": [1, 2], "snake_key": {"x": true}}});
        let ops = vec![
            PatchOp::Remove {
                path: FieldPath::fields("spec.a"),
            },
            PatchOp::Add {
                path: FieldPath::fields("spec.list").index(2),
                value: json!(3),
            },
            PatchOp::Add {
                path: FieldPath::fields("spec.new"),
                value: json!({"v": 1.5}),
            },
            PatchOp::Replace {
                path: FieldPath::fields("spec.list").index(0),
                value: json!(0),
            },
            PatchOp::Move {
                from: FieldPath::fields("spec.snake_key"),
                path: FieldPath::fields("spec.snakeKey"),
            },
        ];
        let mut patched = original.clone();
        apply(&mut patched, &ops).unwrap();
        assert_eq!(
            patched,
            json!({"spec": {"list": [0, 2, 3], "new": {"v": 1.5}, "snakeKey": {"x": true}}})
        );
        let mut broken = original.clone();
        let failing = [
            ops[0].clone(),
            PatchOp::Remove {
                path: FieldPath::fields("spec.missing"),
            },
        ];
        assert!(apply(&mut broken, &failing).is_err());
        assert_eq!(broken, original, "nothing of a failed patch stays");
    }

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
