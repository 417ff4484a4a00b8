//! JSON Patch (RFC 6902) operations that fixes are made of, computed against the object exactly
//! as received so that nothing a rule does not name can be lost.

use serde::Serialize;
use serde_json::Value;

use crate::object::path::{FieldPath, Segment};

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

/// A patch operation that does not apply to the value it was computed for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("patch operation on {0} does not apply")]
pub struct PatchError(pub String);

fn container_mut<'a, 'p>(
    root: &'a mut Value,
    path: &'p FieldPath,
) -> Option<(&'a mut Value, &'p Segment)> {
    let (last, parent) = path.segments().split_last()?;
    Some((super::edit::navigate_mut(root, parent)?, last))
}

fn take(root: &mut Value, path: &FieldPath) -> Option<Value> {
    match container_mut(root, path)? {
        (Value::Object(map), Segment::Field(k) | Segment::Key(k)) => map.remove(k),
        (Value::Array(items), Segment::Index(i)) if *i < items.len() => Some(items.remove(*i)),
        _ => None,
    }
}

fn put(root: &mut Value, path: &FieldPath, value: Value) -> Option<()> {
    match container_mut(root, path)? {
        (Value::Object(map), Segment::Field(k) | Segment::Key(k)) => {
            map.insert(k.clone(), value);
        }
        (Value::Array(items), Segment::Index(i)) if *i <= items.len() => items.insert(*i, value),
        _ => return None,
    }
    Some(())
}

/// Applies `ops` to `value` in order, as the API server applies a JSON Patch.
pub fn apply(value: &mut Value, ops: &[PatchOp]) -> Result<(), PatchError> {
    for op in ops {
        let failed = |path: &FieldPath| PatchError(path.pointer());
        match op {
            PatchOp::Add { path, value: new } => {
                put(value, path, new.clone()).ok_or_else(|| failed(path))?
            }
            PatchOp::Remove { path } => take(value, path).map(drop).ok_or_else(|| failed(path))?,
            PatchOp::Replace { path, value: new } => {
                take(value, path).ok_or_else(|| failed(path))?;
                put(value, path, new.clone()).ok_or_else(|| failed(path))?;
            }
            PatchOp::Move { from, path } => {
                let moved = take(value, from).ok_or_else(|| failed(from))?;
                put(value, path, moved).ok_or_else(|| failed(path))?;
            }
        }
    }
    Ok(())
}

fn as_pointer<S: serde::Serializer>(path: &FieldPath, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.pointer())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn apply_agrees_with_the_json_patch_crate() {
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
        let mut ours = original.clone();
        apply(&mut ours, &ops).unwrap();
        let theirs: json_patch::Patch =
            serde_json::from_value(serde_json::to_value(&ops).unwrap()).unwrap();
        let mut expected = original.clone();
        json_patch::patch(&mut expected, &theirs).unwrap();
        assert_eq!(ours, expected);
        let mut broken = original;
        assert!(
            apply(
                &mut broken,
                &[PatchOp::Remove {
                    path: FieldPath::fields("spec.missing")
                }]
            )
            .is_err()
        );
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
