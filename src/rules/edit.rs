//! Builds a fix's JSON Patch against a working copy of one subtree (an HTTP route, a traffic
//! policy), so that operations written one after another stay valid when applied in order, and
//! every operation touches only the fields it names: containers are added only where missing,
//! existing ones are extended member by member, never replaced.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{FieldPath, PatchOp};
use crate::object::path::Segment;

/// A subtree being edited, and the operations that make the same edits to the real object.
#[derive(Debug)]
pub struct Editor {
    base: FieldPath,
    doc: Value,
    ops: Vec<PatchOp>,
}

impl Editor {
    /// Edits `copy`, a copy of the subtree at `base` in the object.
    pub fn new(base: FieldPath, copy: Value) -> Self {
        Self {
            base,
            doc: copy,
            ops: Vec::new(),
        }
    }

    /// Edits the members `names` of the map at `base`, which are all its operations may name
    /// paths in: the working copy holds them alone, so an edit costs what they hold, however
    /// large the rest of the map is.
    pub fn of_members<'n>(
        base: FieldPath,
        map: &Map<String, Value>,
        names: impl IntoIterator<Item = &'n str>,
    ) -> Self {
        let names: Vec<&str> = names.into_iter().collect();
        let copy = map
            .iter()
            .filter(|(key, _)| names.contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        Self::new(base, Value::Object(copy))
    }

    /// The subtree with the edits so far.
    pub fn current(&self) -> &Value {
        &self.doc
    }

    /// The operations recorded since the last call.
    pub fn take_ops(&mut self) -> Vec<PatchOp> {
        std::mem::take(&mut self.ops)
    }

    /// Removes the member at `rel` (it must exist).
    pub fn remove(&mut self, rel: &FieldPath) {
        if let Some((parent, last)) = split_last(rel)
            && let Some(container) = navigate_mut(&mut self.doc, parent)
        {
            match (container, last) {
                (Value::Object(map), Segment::Field(k) | Segment::Key(k)) => {
                    map.remove(k);
                }
                (Value::Array(items), Segment::Index(i)) if *i < items.len() => {
                    items.remove(*i);
                }
                _ => return,
            }
            self.ops.push(PatchOp::Remove {
                path: self.base.join(rel),
            });
        }
    }

    /// Replaces the existing value at `rel`.
    pub fn replace(&mut self, rel: &FieldPath, value: Value) {
        if let Some(slot) = navigate_mut(&mut self.doc, rel.segments()) {
            *slot = value.clone();
            self.ops.push(PatchOp::Replace {
                path: self.base.join(rel),
                value,
            });
        }
    }

    /// Sets the object member at `rel` to `value`, adding the missing objects on the way with one
    /// `add` at the first missing level.
    pub fn set(&mut self, rel: &FieldPath, value: Value) {
        let segments = rel.segments();
        // The longest existing prefix.
        let mut depth = 0;
        let mut node = &self.doc;
        while depth < segments.len() - 1 {
            match step(node, &segments[depth]) {
                Some(child) if child.is_object() || child.is_array() => {
                    node = child;
                    depth += 1;
                }
                _ => break,
            }
        }
        let mut nested = value;
        for segment in segments[depth + 1..].iter().rev() {
            let (Segment::Field(k) | Segment::Key(k)) = segment else {
                return;
            };
            let mut map = Map::new();
            map.insert(k.clone(), nested);
            nested = Value::Object(map);
        }
        let target = FieldPath::from_segments(segments[..=depth].to_vec());
        let Some((parent, last)) = split_last(&target) else {
            return;
        };
        let Some(Value::Object(map)) = navigate_mut(&mut self.doc, parent) else {
            return;
        };
        let (Segment::Field(k) | Segment::Key(k)) = last else {
            return;
        };
        map.insert(k.clone(), nested.clone());
        self.ops.push(PatchOp::Add {
            path: self.base.join(&target),
            value: nested,
        });
    }

    /// Adds `entries` to the map at `rel`: the whole map when it is missing, else member by member
    /// (entries already there with the same value are left alone).
    pub fn extend_map(&mut self, rel: &FieldPath, entries: &Map<String, Value>) {
        match navigate(&self.doc, rel.segments()) {
            Some(Value::Object(existing)) => {
                let missing: Vec<(String, Value)> = entries
                    .iter()
                    .filter(|(k, v)| existing.get(*k) != Some(*v))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                for (key, value) in missing {
                    self.set(&rel.key(&key), value);
                }
            }
            _ => self.set(rel, Value::Object(entries.clone())),
        }
    }

    /// Appends the `names` not already in the list at `rel`; creates the list when missing.
    /// Membership goes through a set of each value's JSON text, so that long header lists cost
    /// linear time rather than a scan per name.
    pub fn extend_list(&mut self, rel: &FieldPath, names: &[Value]) {
        let target = navigate_mut(&mut self.doc, rel.segments());
        let mut seen: HashSet<String> = match &target {
            Some(Value::Array(items)) => items.iter().map(Value::to_string).collect(),
            _ => HashSet::new(),
        };
        let wanted: Vec<Value> = names
            .iter()
            .filter(|name| seen.insert(name.to_string()))
            .cloned()
            .collect();
        match target {
            Some(Value::Array(items)) => {
                for name in wanted {
                    self.ops.push(PatchOp::Add {
                        path: self.base.join(&rel.index(items.len())),
                        value: name.clone(),
                    });
                    items.push(name);
                }
            }
            _ => self.set(rel, Value::Array(wanted)),
        }
    }
}

fn split_last(path: &FieldPath) -> Option<(&[Segment], &Segment)> {
    let (last, parent) = path.segments().split_last()?;
    Some((parent, last))
}

fn step<'a>(node: &'a Value, segment: &Segment) -> Option<&'a Value> {
    match segment {
        Segment::Field(k) | Segment::Key(k) => node.as_object()?.get(k),
        Segment::Index(i) => node.as_array()?.get(*i),
    }
}

/// The value at `segments` below `node`.
pub fn navigate<'a>(node: &'a Value, segments: &[Segment]) -> Option<&'a Value> {
    segments.iter().try_fold(node, step)
}

/// The value at `segments` below `node`, to change.
pub fn navigate_mut<'a>(node: &'a mut Value, segments: &[Segment]) -> Option<&'a mut Value> {
    segments
        .iter()
        .try_fold(node, |node, segment| match segment {
            Segment::Field(k) | Segment::Key(k) => node.as_object_mut()?.get_mut(k),
            Segment::Index(i) => node.as_array_mut()?.get_mut(*i),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(original: &Value, ops: &[PatchOp]) -> Value {
        let patch: json_patch::Patch =
            serde_json::from_value(serde_json::to_value(ops).unwrap()).unwrap();
        let mut doc = original.clone();
        json_patch::patch(&mut doc, &patch).unwrap();
        doc
    }

    #[test]
    fn ops_replay_the_edits_on_the_real_object() {
        let object = json!({"spec": {"http": [{"appendHeaders": {"a": "1"}, "headers": {"response": {"add": {"z": "9"}}}}]}});
        let base = FieldPath::fields("spec.http").index(0);
        let mut editor = Editor::new(base, object["spec"]["http"][0].clone());
        editor.remove(&FieldPath::fields("appendHeaders"));
        editor.extend_map(
            &FieldPath::fields("headers.request.add"),
            json!({"a": "1"}).as_object().unwrap(),
        );
        editor.extend_map(
            &FieldPath::fields("headers.request.add"),
            json!({"b": "2", "a": "1"}).as_object().unwrap(),
        );
        editor.extend_list(
            &FieldPath::fields("headers.response.remove"),
            &[json!("x"), json!("x")],
        );
        editor.extend_list(
            &FieldPath::fields("headers.response.remove"),
            &[json!("x"), json!("y")],
        );
        editor.set(
            &FieldPath::fields("fault.abort.percentage.value"),
            json!(10.0),
        );
        let ops = editor.take_ops();
        assert_eq!(
            serde_json::to_value(&ops).unwrap(),
            json!([
                {"op": "remove", "path": "/spec/http/0/appendHeaders"},
                {"op": "add", "path": "/spec/http/0/headers/request", "value": {"add": {"a": "1"}}},
                {"op": "add", "path": "/spec/http/0/headers/request/add/b", "value": "2"},
                {"op": "add", "path": "/spec/http/0/headers/response/remove", "value": ["x"]},
                {"op": "add", "path": "/spec/http/0/headers/response/remove/1", "value": "y"},
                {"op": "add", "path": "/spec/http/0/fault", "value": {"abort": {"percentage": {"value": 10.0}}}},
            ])
        );
        let patched = apply(&object, &ops);
        assert_eq!(&patched["spec"]["http"][0], editor.current());
        assert_eq!(
            patched["spec"]["http"][0]["headers"]["response"]["add"],
            json!({"z": "9"})
        );
    }
}
