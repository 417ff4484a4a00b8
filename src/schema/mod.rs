//! What the API server keeps: the `spec` schemas of VirtualService, ServiceEntry and
//! DestinationRule (`networking.istio.io/v1`), derived once from Istio's CRDs and shipped inside
//! the binary (`istio-networking-v1.json`), plus a validator for the OpenAPI subset they use.
//! The field-spelling and unknown-field rules walk these; tests validate patched objects with them.

#[cfg(test)]
mod derive;

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::{Map, Value};

use crate::object::{FieldPath, ObjectKind};

/// The derived schemas, as committed: `{ "<Kind>": <openAPIV3Schema of spec> }`.
pub const DERIVED_JSON: &str = include_str!("istio-networking-v1.json");

static SCHEMAS: LazyLock<Value> = LazyLock::new(|| {
    // The file is generated and checked by a test; a parse failure is a build defect.
    serde_json::from_str(DERIVED_JSON).unwrap_or(Value::Null)
});

/// Parses and compiles the shipped schemas now, so that no request pays for it. Returns whether
/// all three kinds are present.
pub fn load() -> bool {
    [
        ObjectKind::VirtualService,
        ObjectKind::ServiceEntry,
        ObjectKind::DestinationRule,
    ]
    .iter()
    .all(|kind| spec_schema(*kind).is_some() && compiled(*kind).is_some())
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

/// One way a value does not match its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaError {
    /// Where.
    pub path: FieldPath,
    /// What.
    pub message: String,
}

/// Validates an object's `spec` against the shipped v1 schema of its kind: types, enums,
/// required fields, `oneOf`/`anyOf`/`not`, bounds, and fields the schema does not declare
/// (which the API server would prune or reject). CEL rules are not evaluated.
pub fn validate_spec(kind: ObjectKind, object: &Value) -> Vec<SchemaError> {
    let mut errors = Vec::new();
    let (Some(schema), Some(spec)) = (spec_schema(kind), object.get("spec")) else {
        return errors;
    };
    validate(schema, spec, &FieldPath::fields("spec"), &mut errors);
    errors
}

/// Validates `value` against `schema`, appending what is wrong to `errors`.
pub fn validate(schema: &Value, value: &Value, path: &FieldPath, errors: &mut Vec<SchemaError>) {
    check(schema, value, path, errors, Fields::Declared);
}

/// Whether undeclared fields are errors. Combinator branches constrain a value without
/// redeclaring its fields, so inside them unknown fields are the parent schema's business.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fields {
    Declared,
    Any,
}

fn check(
    schema: &Value,
    value: &Value,
    path: &FieldPath,
    errors: &mut Vec<SchemaError>,
    fields: Fields,
) {
    let mut fail = |message: String| {
        errors.push(SchemaError {
            path: path.clone(),
            message,
        })
    };
    if value.is_null() {
        if schema.get("nullable") != Some(&Value::Bool(true)) {
            fail("null is not allowed".into());
        }
        return;
    }
    let int_or_string = schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
    if let Some(expected) = schema.get("type").and_then(Value::as_str) {
        let ok = match expected {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string() || (int_or_string && (value.is_i64() || value.is_u64())),
            "integer" => value.is_i64() || value.is_u64() || (int_or_string && value.is_string()),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            _ => true,
        };
        if !ok {
            fail(format!("expected {expected}, found {value}"));
            return;
        }
    }
    if let Some(Value::Array(allowed)) = schema.get("enum")
        && !allowed.contains(value)
    {
        fail(format!(
            "{value} is not one of {}",
            Value::Array(allowed.clone())
        ));
    }
    if let Some(number) = value.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && number < min
        {
            fail(format!("{value} is less than the minimum {min}"));
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && number > max
        {
            fail(format!("{value} is more than the maximum {max}"));
        }
    }
    if let (Some(text), Some(max)) = (
        value.as_str(),
        schema.get("maxLength").and_then(Value::as_u64),
    ) && text.chars().count() as u64 > max
    {
        fail(format!("longer than {max} characters"));
    }
    match value {
        Value::Object(map) => check_object(schema, map, path, errors, fields),
        Value::Array(items) => {
            let mut fail = |message: String| {
                errors.push(SchemaError {
                    path: path.clone(),
                    message,
                })
            };
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                && items.len() as u64 > max
            {
                fail(format!("more than {max} items"));
            }
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && (items.len() as u64) < min
            {
                fail(format!("fewer than {min} items"));
            }
            if let Some(item_schema) = list_items(schema) {
                for (i, item) in items.iter().enumerate() {
                    check(item_schema, item, &path.index(i), errors, fields);
                }
            }
        }
        _ => {}
    }
    check_combinators(schema, value, path, errors);
}

fn check_object(
    schema: &Value,
    map: &Map<String, Value>,
    path: &FieldPath,
    errors: &mut Vec<SchemaError>,
    fields: Fields,
) {
    if let Some(Value::Array(required)) = schema.get("required") {
        for name in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(name) {
                errors.push(SchemaError {
                    path: path.field(name),
                    message: "required field is missing".into(),
                });
            }
        }
    }
    if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64)
        && map.len() as u64 > max
    {
        errors.push(SchemaError {
            path: path.clone(),
            message: format!("more than {max} properties"),
        });
    }
    let declared = declared_fields(schema);
    let values = map_values(schema);
    let free_form = schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    for (key, child) in map {
        if let Some(child_schema) = field_schema(schema, key) {
            check(child_schema, child, &path.field(key), errors, fields);
        } else if let Some(value_schema) = values {
            check(value_schema, child, &path.key(key), errors, fields);
        } else if declared.is_some() && !free_form && fields == Fields::Declared {
            errors.push(SchemaError {
                path: path.field(key),
                message: "field is not declared in the schema".into(),
            });
        }
    }
}

/// `oneOf`, `anyOf`, `allOf` and `not`: a branch matches when it produces no errors.
fn check_combinators(
    schema: &Value,
    value: &Value,
    path: &FieldPath,
    errors: &mut Vec<SchemaError>,
) {
    let passes = |branch: &Value| {
        let mut scratch = Vec::new();
        check(branch, value, path, &mut scratch, Fields::Any);
        scratch.is_empty()
    };
    let branches = |name: &str| {
        schema
            .get(name)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    let one_of = branches("oneOf");
    if !one_of.is_empty() {
        let matching = one_of.iter().filter(|b| passes(b)).count();
        if matching != 1 {
            errors.push(SchemaError {
                path: path.clone(),
                message: format!("must match exactly one of its alternatives (matches {matching})"),
            });
        }
    }
    let any_of = branches("anyOf");
    if !any_of.is_empty() && !any_of.iter().any(&passes) {
        errors.push(SchemaError {
            path: path.clone(),
            message: "must match at least one of its alternatives".into(),
        });
    }
    for branch in branches("allOf") {
        check(branch, value, path, errors, Fields::Any);
    }
    if let Some(not) = schema.get("not")
        && passes(not)
    {
        errors.push(SchemaError {
            path: path.clone(),
            message: "matches a form that is not allowed".into(),
        });
    }
}
