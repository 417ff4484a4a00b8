//! Reading a field written either way: Istio's own parser accepts the proto's snake_case name
//! (`per_try_timeout`) beside the CRD's camelCase one (`perTryTimeout`), so every rule that reads
//! a field looks for both, and the spelling rule renames one to the other.

use serde_json::{Map, Value};

/// The member at `names` below `value`, following object members by name: what
/// `Value::pointer` finds for `/a/b`, without the escaping it allocates for on every call.
pub fn member<'a>(value: &'a Value, names: &[&str]) -> Option<&'a Value> {
    names
        .iter()
        .try_fold(value, |node, name| node.as_object()?.get(*name))
}

/// `per_try_timeout` → `perTryTimeout`. `None` for a key that is not snake_case.
pub fn camel_case(key: &str) -> Option<String> {
    if !key.contains('_') || key.starts_with('_') || key.ends_with('_') || key.contains("__") {
        return None;
    }
    let mut out = String::with_capacity(key.len());
    for (i, part) in key.split('_').enumerate() {
        if i == 0 {
            out.push_str(part);
        } else {
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        }
    }
    Some(out)
}

/// `appendHeaders` → `append_headers`, `consecutive5xxErrors` → `consecutive_5xx_errors`.
pub fn snake_case(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    let mut previous_digit = false;
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.extend(c.to_lowercase());
        } else {
            if c.is_ascii_digit() && !previous_digit && !out.is_empty() {
                out.push('_');
            }
            out.push(c);
        }
        previous_digit = c.is_ascii_digit();
    }
    out
}

/// Runs `f` on the snake_case form of `camel`, built on the stack (this runs for every field a
/// rule reads, on every request); `None` when it is spelled the same.
fn with_snake<R>(camel: &str, f: impl FnOnce(&str) -> R) -> Option<R> {
    if !camel
        .bytes()
        .any(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return None;
    }
    let mut buffer = [0u8; 96];
    let mut len = 0;
    let mut previous_digit = false;
    for b in camel.bytes() {
        let underscore =
            b.is_ascii_uppercase() || (b.is_ascii_digit() && !previous_digit && len > 0);
        if len + 2 > buffer.len() || !b.is_ascii() {
            return Some(f(&snake_case(camel)));
        }
        if underscore {
            buffer[len] = b'_';
            len += 1;
        }
        buffer[len] = b.to_ascii_lowercase();
        len += 1;
        previous_digit = b.is_ascii_digit();
    }
    let snake = std::str::from_utf8(&buffer[..len]).ok()?;
    (snake != camel).then(|| f(snake))
}

/// The members of a map that spell one field: camelCase first, then snake_case.
#[derive(Debug, Clone, Copy)]
pub struct Spellings<'a>([Option<(&'a str, &'a Value)>; 2]);

impl<'a> Spellings<'a> {
    /// Neither spelling is there.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }

    /// Both spellings are there, with different values.
    pub fn disagree(&self) -> bool {
        matches!(self.0, [Some((_, a)), Some((_, b))] if a != b)
    }
}

impl<'a> IntoIterator for Spellings<'a> {
    type Item = (&'a str, &'a Value);
    type IntoIter = std::iter::Flatten<std::array::IntoIter<Option<(&'a str, &'a Value)>, 2>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter().flatten()
    }
}

/// The members of `map` that spell the field `camel` either way, camelCase first.
pub fn spellings<'a>(map: &'a Map<String, Value>, camel: &str) -> Spellings<'a> {
    let pair = |found: Option<(&'a String, &'a Value)>| found.map(|(k, v)| (k.as_str(), v));
    let snake = with_snake(camel, |snake| pair(map.get_key_value(snake))).flatten();
    Spellings([pair(map.get_key_value(camel)), snake])
}

/// The field `camel` of `map`, written either way (camelCase wins).
pub fn lookup<'a>(map: &'a Map<String, Value>, camel: &str) -> Option<(&'a str, &'a Value)> {
    spellings(map, camel).into_iter().next()
}

/// Whether any key below `value` contains `_`: without one, there is nothing to rename.
pub fn has_underscore_key(value: &Value) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(key, child)| key.contains('_') || has_underscore_key(child)),
        Value::Array(items) => items.iter().any(has_underscore_key),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn underscore_keys_are_found_anywhere() {
        assert!(!has_underscore_key(&json!({"a": [{"b": {"c-d": "e_f"}}]})));
        assert!(has_underscore_key(&json!({"a": [{"b": {"c_d": 1}}]})));
    }

    #[test]
    fn case_conversions() {
        assert_eq!(
            camel_case("per_try_timeout").as_deref(),
            Some("perTryTimeout")
        );
        assert_eq!(
            camel_case("consecutive_5xx_errors").as_deref(),
            Some("consecutive5xxErrors")
        );
        assert_eq!(camel_case("hosts"), None);
        assert_eq!(camel_case("_x"), None);
        assert_eq!(snake_case("appendHeaders"), "append_headers");
        assert_eq!(snake_case("consecutive5xxErrors"), "consecutive_5xx_errors");
        assert_eq!(snake_case("mirrorPercent"), "mirror_percent");
        for camel in [
            "appendHeaders",
            "consecutive5xxErrors",
            "http",
            "mirrorPercent",
            "x1y22Z",
        ] {
            let snake = with_snake(camel, str::to_string);
            assert_eq!(
                snake.unwrap_or_else(|| camel.to_string()),
                snake_case(camel),
                "{camel}"
            );
        }
    }
}
