//! What the API server keeps: the `spec` schemas of VirtualService, ServiceEntry and
//! DestinationRule (`networking.istio.io/v1`), derived once from Istio's CRDs and shipped inside
//! the binary (`istio-networking-v1.json`). The field-spelling and unknown-field rules walk
//! them; the tests validate patched objects against them (`tests/integration/openapi.rs`).

#[cfg(test)]
mod derive;

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::Value;

use crate::object::ObjectKind;

/// The derived schemas, as committed: `{ "<Kind>": <openAPIV3Schema of spec> }`.
pub const DERIVED_JSON: &str = include_str!("istio-networking-v1.json");

static SCHEMAS: LazyLock<Value> = LazyLock::new(|| {
    // The file is generated and checked by a test; a parse failure is a build defect.
    serde_json::from_str(DERIVED_JSON).unwrap_or(Value::Null)
});

/// The shipped schemas did not load: a defect of the build, never of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the Istio schema shipped in this binary has no `spec` schema for {0}")]
pub struct SchemaMissing(pub &'static str);

/// Parses and compiles the shipped schemas now, so that no request pays for it.
pub fn load() -> Result<(), SchemaMissing> {
    for kind in [
        ObjectKind::VirtualService,
        ObjectKind::ServiceEntry,
        ObjectKind::DestinationRule,
    ] {
        if spec_schema(kind).is_none() || compiled(kind).is_none() {
            return Err(SchemaMissing(kind.as_str()));
        }
    }
    Ok(())
}

/// FNV-1a: field names are short and trusted (they come from the shipped schema), so a simple
/// hash beats the DoS-resistant default in the per-key lookups of the field walk.
#[derive(Debug, Clone, Copy)]
pub struct FieldHasher(u64);

impl Default for FieldHasher {
    fn default() -> Self {
        FieldHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for FieldHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type FieldMap<V> = HashMap<String, V, std::hash::BuildHasherDefault<FieldHasher>>;

/// A schema reduced to what the field walk asks on every request: which fields an object
/// declares (hashed), what its list items and map values are.
#[derive(Debug, Default)]
pub struct Compiled {
    /// Declared fields, from `properties` and combinator branches.
    pub fields: FieldMap<Compiled>,
    /// The schema of list items.
    pub items: Option<Box<Compiled>>,
    /// The schema of map values (`additionalProperties`).
    pub values: Option<Box<Compiled>>,
    /// Any field is allowed (`x-kubernetes-preserve-unknown-fields`).
    pub free_form: bool,
    /// Nothing below this schema can hold a field: a scalar, or a map or list of scalars.
    pub leaf: bool,
}

impl Compiled {
    fn from(schema: &Value) -> Self {
        let free_form =
            schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
        let fields = if free_form {
            FieldMap::default()
        } else {
            declared_fields(schema)
                .unwrap_or_default()
                .into_iter()
                .map(|(name, child)| (name.to_string(), Compiled::from(child)))
                .collect()
        };
        let items = list_items(schema).map(|s| Box::new(Compiled::from(s)));
        let values = map_values(schema).map(|s| Box::new(Compiled::from(s)));
        let leaf = free_form
            || (fields.is_empty()
                && items.as_ref().is_none_or(|i| i.leaf)
                && values.as_ref().is_none_or(|v| v.leaf));
        Compiled {
            fields,
            items,
            values,
            free_form,
            leaf,
        }
    }

    /// A declared field's name and schema.
    pub fn field(&self, name: &str) -> Option<(&str, &Compiled)> {
        self.fields
            .get_key_value(name)
            .map(|(k, v)| (k.as_str(), v))
    }
}

static COMPILED: LazyLock<HashMap<&'static str, Compiled>> = LazyLock::new(|| {
    [
        ObjectKind::VirtualService,
        ObjectKind::ServiceEntry,
        ObjectKind::DestinationRule,
    ]
    .iter()
    .filter_map(|kind| Some((kind.as_str(), Compiled::from(spec_schema(*kind)?))))
    .collect()
});

/// The compiled `spec` schema of an Istio kind.
pub fn compiled(kind: ObjectKind) -> Option<&'static Compiled> {
    COMPILED.get(kind.as_str())
}

/// The schema of `spec` for an Istio kind.
pub fn spec_schema(kind: ObjectKind) -> Option<&'static Value> {
    SCHEMAS.get(kind.as_str()).filter(|s| s.is_object())
}

/// The fields an object schema declares, including those declared in `allOf`/`oneOf`/`anyOf`
/// branches. `None` when the schema does not describe an object with fixed fields (a map, a
/// free-form object, or not an object at all).
pub fn declared_fields(schema: &Value) -> Option<Vec<(&str, &Value)>> {
    if schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
        return None;
    }
    let mut fields: Vec<(&str, &Value)> = Vec::new();
    let branches = ["allOf", "oneOf", "anyOf"]
        .iter()
        .filter_map(|c| schema.get(*c)?.as_array())
        .flatten();
    for properties in std::iter::once(schema)
        .chain(branches)
        .filter_map(|s| s.get("properties")?.as_object())
    {
        for (key, value) in properties {
            if !fields.iter().any(|(k, _)| k == key) {
                fields.push((key.as_str(), value));
            }
        }
    }
    (!fields.is_empty()).then_some(fields)
}

/// The schema of a declared field, looking into combinator branches too.
pub fn field_schema<'a>(schema: &'a Value, name: &str) -> Option<&'a Value> {
    schema
        .get("properties")
        .and_then(|p| p.get(name))
        .or_else(|| {
            ["allOf", "oneOf", "anyOf"].iter().find_map(|c| {
                schema
                    .get(*c)?
                    .as_array()?
                    .iter()
                    .find_map(|b| b.get("properties")?.get(name))
            })
        })
}

/// The value schema of a map (`additionalProperties` with a schema).
pub fn map_values(schema: &Value) -> Option<&Value> {
    schema.get("additionalProperties").filter(|s| s.is_object())
}

/// The item schema of a list.
pub fn list_items(schema: &Value) -> Option<&Value> {
    schema.get("items").filter(|s| s.is_object())
}
