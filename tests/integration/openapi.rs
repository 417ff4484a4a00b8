//! A validator for the OpenAPI subset of Istio's CRD schemas, so tests can check that what
//! meshgate patches is what the API server would store: types, enums, required fields,
//! `oneOf`/`anyOf`/`not`, bounds, and fields the schema does not declare. CEL rules are not
//! evaluated. Test support only: the product never validates a whole object this way.

use meshgate::object::{FieldPath, ObjectKind};
use meshgate::schema::{declared_fields, field_schema, list_items, map_values, spec_schema};
use serde_json::{Map, Value};

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
