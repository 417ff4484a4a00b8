//! Name and address checks shared by the VirtualService and ServiceEntry rules, with Istio's
//! semantics: DNS-1123 labels, host names with a leading wildcard, IPs and CIDRs, and whether two
//! hosts overlap.

use std::net::IpAddr;

/// A DNS-1123 label: 1–63 lowercase letters, digits and `-`, starting and ending alphanumeric.
pub fn is_dns1123_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// Why a name is not a host name.
fn dns_labels_error(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("empty name".into());
    }
    if name.len() > 255 {
        return Some(format!("{name:?} is longer than 255 characters"));
    }
    let labels: Vec<&str> = name.split('.').collect();
    if let Some(bad) = labels.iter().find(|l| !is_dns1123_label(l)) {
        return Some(format!(
            "{name:?} is not a DNS name (label {bad:?} must be 1-63 lowercase letters, digits or '-')"
        ));
    }
    if labels
        .last()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some(format!(
            "{name:?} is not a DNS name (its last label is all digits)"
        ));
    }
    None
}

/// A fully qualified name without wildcards; `Err` says why not.
pub fn check_fqdn(name: &str) -> Result<(), String> {
    dns_labels_error(name).map_or(Ok(()), Err)
}

/// Istio's `ValidateWildcardDomain`: a DNS name whose first label may be `*` or start with `*`.
pub fn check_wildcard_domain(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty host".into());
    }
    if name.len() > 255 {
        return Err(format!("{name:?} is longer than 255 characters"));
    }
    let (first, rest) = match name.split_once('.') {
        Some((first, rest)) => (first, Some(rest)),
        None => (name, None),
    };
    let first_ok = first.len() <= 63
        && (first == "*"
            || is_dns1123_label(first)
            || first.strip_prefix('*').is_some_and(is_dns1123_label));
    if !first_ok {
        return Err(format!(
            "{name:?} is not a host name (label {first:?} is not valid)"
        ));
    }
    match rest {
        Some(rest) => dns_labels_error(rest).map_or(Ok(()), |_| {
            Err(format!(
                "{name:?} is not a host name ({rest:?} is not a DNS name)"
            ))
        }),
        None => Ok(()),
    }
}

/// A wildcard anywhere but as the whole first label (`foo*.com`, `*x`): Istio treats it literally.
pub fn is_partial_wildcard(name: &str) -> bool {
    let rest = name.strip_prefix("*.").unwrap_or(name);
    name != "*" && rest.contains('*')
}

/// An IP address, IPv4 or IPv6.
pub fn is_ip(text: &str) -> bool {
    text.parse::<IpAddr>().is_ok()
}

/// An IP address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`).
pub fn parse_ip_or_cidr(text: &str) -> Option<(IpAddr, Option<u8>)> {
    match text.split_once('/') {
        None => text.parse().ok().map(|ip| (ip, None)),
        Some((ip, bits)) => {
            let ip: IpAddr = ip.parse().ok()?;
            let bits: u8 = bits.parse().ok()?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            (bits <= max).then_some((ip, Some(bits)))
        }
    }
}

/// Istio's `host.Name.Matches`: equal names, or a wildcard whose suffix covers the other.
pub fn hosts_overlap(a: &str, b: &str) -> bool {
    match (a.strip_prefix('*'), b.strip_prefix('*')) {
        (Some(a_suffix), Some(b_suffix)) => {
            a_suffix.ends_with(b_suffix) || b_suffix.ends_with(a_suffix)
        }
        (Some(a_suffix), None) => b.ends_with(a_suffix),
        (None, Some(b_suffix)) => a.ends_with(b_suffix),
        (None, None) => a == b,
    }
}

/// The namespace a Kubernetes Service host names, if it is one: `svc` (the object's own
/// namespace: `None` here), `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`. Other names are
/// not Services.
pub fn service_namespace(host: &str) -> Option<Option<&str>> {
    let parts: Vec<&str> = host.split('.').collect();
    match parts.as_slice() {
        [_] => Some(None),
        [_, ns] | [_, ns, "svc"] | [_, ns, "svc", "cluster", "local"] => Some(Some(ns)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        for good in ["a", "ratings", "v1", "a-b", "0abc"] {
            assert!(is_dns1123_label(good), "{good}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", &"x".repeat(64)] {
            assert!(!is_dns1123_label(bad), "{bad}");
        }
    }

    #[test]
    fn hosts() {
        for good in [
            "ratings",
            "ratings.prod.svc.cluster.local",
            "*.example.com",
            "*",
            "*x",
            "a.b-c.com",
        ] {
            assert_eq!(check_wildcard_domain(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "foo*.com",
            "Ratings",
            "a..b",
            "a.b.",
            "*.*.com",
            "a.123",
            "under_score.com",
        ] {
            assert!(check_wildcard_domain(bad).is_err(), "{bad}");
        }
        assert!(check_fqdn("*.example.com").is_err());
        assert!(check_fqdn("api.example.com").is_ok());
        assert!(
            is_partial_wildcard("foo*.com")
                && is_partial_wildcard("*x")
                && is_partial_wildcard("*.a*.com")
        );
        assert!(
            !is_partial_wildcard("*.example.com")
                && !is_partial_wildcard("*")
                && !is_partial_wildcard("a.com")
        );
    }

    #[test]
    fn addresses() {
        assert_eq!(
            parse_ip_or_cidr("10.0.0.1"),
            Some(("10.0.0.1".parse().unwrap(), None))
        );
        assert_eq!(
            parse_ip_or_cidr("240.0.0.0/4"),
            Some(("240.0.0.0".parse().unwrap(), Some(4)))
        );
        assert!(parse_ip_or_cidr("001:db8::").is_some());
        for bad in ["10.0.0.1/33", "10.0.0/8", "host.example", "", "1.2.3.4/"] {
            assert_eq!(parse_ip_or_cidr(bad), None, "{bad}");
        }
    }

    #[test]
    fn overlap() {
        assert!(hosts_overlap("*.foo.com", "a.foo.com"));
        assert!(hosts_overlap("a.foo.com", "*.foo.com"));
        assert!(hosts_overlap("*.foo.com", "*.a.foo.com"));
        assert!(hosts_overlap("a", "a"));
        assert!(!hosts_overlap("a.foo.com", "b.foo.com"));
        assert!(!hosts_overlap("*.foo.com", "foo.com"));
    }

    #[test]
    fn service_hosts() {
        assert_eq!(service_namespace("ratings"), Some(None));
        assert_eq!(service_namespace("ratings.prod"), Some(Some("prod")));
        assert_eq!(service_namespace("ratings.prod.svc"), Some(Some("prod")));
        assert_eq!(
            service_namespace("ratings.prod.svc.cluster.local"),
            Some(Some("prod"))
        );
        assert_eq!(service_namespace("api.example.com"), None);
        assert_eq!(service_namespace("ratings.prod.svc.cluster"), None);
    }
}
