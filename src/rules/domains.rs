//! Names as Istio's validation reads them where it differs from `rules::names`: Istio's
//! DNS-1123 label (`pkg/config/labels`) also admits upper-case letters, a wildcard label may be
//! `*-foo`, and Kubernetes label keys and values have their own grammar.

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

/// Istio's `IsWildcardDNS1123Label`: a label, `*`, or a label after `*` or `*-`.
fn is_wildcard_label(label: &str) -> bool {
    if label.len() > 63 {
        return false;
    }
    label == "*"
        || is_label(label)
        || label
            .strip_prefix("*-")
            .or_else(|| label.strip_prefix('*'))
            .is_some_and(is_label)
}

/// Istio's `ValidateDNS1123Labels`: dot-separated labels, an optional final dot, and a last
/// label that is not all digits.
fn check_labels(name: &str) -> Result<(), String> {
    let last = name.rsplit('.').next().unwrap_or(name);
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("its last label {last:?} is all digits"));
    }
    let labels: Vec<&str> = name.split('.').collect();
    for (i, label) in labels.iter().enumerate() {
        if i == labels.len() - 1 && label.is_empty() {
            break;
        }
        if !is_label(label) {
            return Err(format!(
                "label {label:?} is not 1-63 letters, digits or '-'"
            ));
        }
    }
    Ok(())
}

/// Istio's length preconditions of a domain name.
fn check_length(name: &str) -> Result<(), String> {
    if name.is_empty() {
        Err("it is empty".into())
    } else if name.len() > 255 {
        Err(format!(
            "it is {} characters long, more than 255",
            name.len()
        ))
    } else {
        Ok(())
    }
}

/// Istio's `ValidateWildcardDomain`: a domain name whose first label may be a wildcard. `Err`
/// says why not, in words that follow "is not a host name: ".
pub fn check_wildcard_domain(name: &str) -> Result<(), String> {
    check_length(name)?;
    let (first, rest) = match name.split_once('.') {
        Some((first, rest)) => (first, Some(rest)),
        None => (name, None),
    };
    if !is_wildcard_label(first) {
        return Err(format!(
            "label {first:?} is not 1-63 letters, digits or '-' (or `*` first)"
        ));
    }
    rest.map_or(Ok(()), check_labels)
}

/// Istio's `ValidateFQDN`: a domain name without wildcards.
pub fn check_fqdn(name: &str) -> Result<(), String> {
    check_length(name)?;
    check_labels(name)
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
    fn istios_names() {
        for ok in [
            "reviews",
            "Reviews.Default.svc",
            "*",
            "*.example.com",
            "*-x.io",
            "a.b.",
            "*foo",
        ] {
            assert_eq!(check_wildcard_domain(ok), Ok(()), "{ok}");
        }
        assert_eq!(check_wildcard_domain("").unwrap_err(), "it is empty");
        assert_eq!(
            check_wildcard_domain("foo.*.com").unwrap_err(),
            "label \"*\" is not 1-63 letters, digits or '-'"
        );
        assert_eq!(
            check_wildcard_domain("a.123").unwrap_err(),
            "its last label \"123\" is all digits"
        );
        assert!(check_wildcard_domain("a_b").is_err());
        assert!(check_fqdn("*.example.com").is_err());
        assert_eq!(check_fqdn("proxy.example.com"), Ok(()));
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
