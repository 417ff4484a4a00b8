//! Istio's label grammar (`pkg/config/labels`): its DNS-1123 label, which also admits upper-case
//! letters, and Kubernetes label keys and values. Host names built from these labels are
//! `rules::names`'.

/// A label of Istio's `IsDNS1123Label`: 1-63 letters (either case), digits and `-`, starting and
/// ending alphanumeric.
pub fn is_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// Istio's label keys (`validateTagKey`): an optional DNS prefix of at most 253 characters and
/// `/`, then a name of at most 63 letters, digits, `-`, `_` and `.`, alphanumeric at both ends.
pub fn check_label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        if prefix.len() > 253 {
            return Err(format!(
                "its prefix is {} characters long, more than 253",
                prefix.len()
            ));
        }
        if !prefix.split('.').all(is_label) {
            return Err(format!("its prefix {prefix:?} is not a DNS name"));
        }
    }
    if !is_qualified_name(name) {
        return Err(format!(
            "{name:?} is not letters, digits, '-', '_' or '.', alphanumeric at both ends"
        ));
    }
    if name.len() > 63 {
        return Err(format!(
            "its name is {} characters long, more than 63",
            name.len()
        ));
    }
    Ok(())
}

/// Istio's label values: empty, or letters, digits, `-`, `_` and `.`, alphanumeric at both ends.
pub fn is_label_value(value: &str) -> bool {
    value.is_empty() || is_qualified_name(value)
}

/// What is wrong with each label of a label set (Istio's `labels.Instance.Validate`), as
/// `(key, message)`: a key that is not a Kubernetes label key, a value that is not a label value.
pub fn label_problems(
    labels: &serde_json::Map<String, serde_json::Value>,
) -> impl Iterator<Item = (&str, String)> {
    labels.iter().flat_map(|(key, value)| {
        let key_problem = check_label_key(key)
            .err()
            .map(|why| format!("label key {key:?} is not a Kubernetes label key: {why}"));
        let value_problem = value
            .as_str()
            .filter(|value| !is_label_value(value))
            .map(|value| {
                format!(
                    "label value {value:?} is not a Kubernetes label value (letters, digits, \
                     '-', '_' or '.', alphanumeric at both ends)"
                )
            });
        [key_problem, value_problem]
            .into_iter()
            .flatten()
            .map(move |message| (key.as_str(), message))
    })
}

/// Letters, digits, `-`, `_` and `.`, alphanumeric at both ends (a label name or value).
pub fn is_qualified_name(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istios_label_keys_and_values() {
        for ok in ["app", "app.kubernetes.io/name", "a_b.c-d", "Version"] {
            assert_eq!(check_label_key(ok), Ok(()), "{ok}");
        }
        for bad in ["", "-a", "a/", "/a", "a b", "x_/y"] {
            assert!(check_label_key(bad).is_err(), "{bad}");
        }
        assert!(check_label_key(&"a".repeat(64)).is_err());
        assert!(is_label_value("") && is_label_value("v1.2_x") && !is_label_value("v1-"));
    }
}
