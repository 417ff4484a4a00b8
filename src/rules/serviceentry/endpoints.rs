//! `serviceentry-endpoints`: each endpoint of a STATIC, DNS or DNS_ROUND_ROBIN entry is one
//! Istio can use: an address (an IP, or a `unix://` socket path under STATIC, an IP or DNS name
//! under DNS), ports that are declared, named and numbered within range, valid labels, and a
//! socket endpoint only on an entry of exactly one port. (NONE and DYNAMIC_DNS take no
//! endpoints at all, which `serviceentry-resolution` reports.)

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{Entry, LABEL_FORM, error, port_problem, warning};
use crate::rules::domains::{is_label, is_qualified_name};
use crate::rules::names::{fqdn_problem, is_ip};
use crate::rules::vocabulary::Resolution;
use crate::rules::{FieldPath, Finding, Rule};

const UNIX_PREFIX: &str = "unix://";

pub(super) fn check(entry: &Entry<'_>, findings: &mut Vec<Finding>) {
    let resolution = &entry.resolution;
    if !matches!(
        resolution,
        Resolution::Static | Resolution::Dns | Resolution::DnsRoundRobin
    ) || entry.endpoints.is_empty()
    {
        return;
    }
    // Istio counts the distinct names (an unnamed port counts as the name "").
    let declared: HashSet<&str> = entry
        .ports
        .iter()
        .map(|p| p.name.unwrap_or_default())
        .collect();
    for (path, endpoint) in &entry.endpoints {
        let address = endpoint.get("address").and_then(Value::as_str);
        if *resolution == Resolution::Static {
            if !static_address(path, endpoint, address, declared.len(), findings) {
                continue;
            }
        } else {
            dns_address(path, resolution, address.unwrap_or_default(), findings);
        }
        ports(path, endpoint, &declared, findings);
        if let Some(Value::Object(labels)) = endpoint.get("labels") {
            labels_of(&path.field("labels"), labels, findings);
        }
    }
}

/// The address of a STATIC endpoint; `false` when it has none at all (Istio then checks
/// nothing else of it).
fn static_address(
    path: &FieldPath,
    endpoint: &Map<String, Value>,
    address: Option<&str>,
    service_ports: usize,
    findings: &mut Vec<Finding>,
) -> bool {
    let rule = Rule::ServiceEntryEndpoints;
    let Some(address) = address.filter(|a| !a.is_empty()) else {
        match endpoint
            .get("network")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        {
            None => {
                findings.push(error(
                    rule,
                    path.clone(),
                    "the endpoint has no address: give it an IP address or a unix:// socket path",
                ));
                return false;
            }
            Some(network) => findings.push(warning(
                rule,
                path.clone(),
                format!(
                    "the endpoint has no address, only network `{network}`: it is reachable only \
                     through that network's gateway; give it its address if it can be reached \
                     directly"
                ),
            )),
        }
        return true;
    };
    // Paths are built only for findings: most endpoints have none.
    let address_path = || path.field("address");
    if let Some(socket) = address.strip_prefix(UNIX_PREFIX) {
        if let Some(problem) = unix_path_problem(socket) {
            findings.push(error(
                rule,
                address_path(),
                format!("`{address}`: {problem}"),
            ));
        }
        if endpoint
            .get("ports")
            .and_then(Value::as_object)
            .is_some_and(|ports| !ports.is_empty())
        {
            findings.push(error(
                rule,
                path.field("ports"),
                format!(
                    "unix socket endpoint `{address}` takes no ports: remove them (the socket is \
                     the entry's single port)"
                ),
            ));
        }
        if service_ports != 1 {
            findings.push(error(
                rule,
                address_path(),
                format!(
                    "unix socket endpoint `{address}` needs an entry with exactly one port, and \
                     it has {service_ports}: put the socket in an entry of its own"
                ),
            ));
        }
    } else if !is_ip(address) {
        findings.push(error(
            rule,
            address_path(),
            format!("resolution STATIC needs IP (or unix://) endpoint addresses, not `{address}`: use DNS for names"),
        ));
    }
    true
}

/// Why the path of a `unix://` address is not one Istio accepts: an absolute path to a file,
/// or an abstract socket name (`@name`).
fn unix_path_problem(socket: &str) -> Option<&'static str> {
    if socket.is_empty() {
        Some("the socket path is empty: write unix:///path/to/socket")
    } else if socket.starts_with('@') {
        None
    } else if !socket.starts_with('/') {
        Some("the socket path is relative: write an absolute path, unix:///path/to/socket")
    } else if socket.ends_with('/') {
        Some("the socket path names a directory: write the path of the socket file")
    } else {
        None
    }
}

fn dns_address(
    path: &FieldPath,
    resolution: &Resolution,
    address: &str,
    findings: &mut Vec<Finding>,
) {
    if is_ip(address) {
        return;
    }
    let Err(why) = fqdn_problem(address) else {
        return;
    };
    let hint = if address.starts_with(UNIX_PREFIX) {
        "unix:// sockets need resolution STATIC".to_string()
    } else {
        format!("resolution {resolution} needs an IP address or a DNS name (no port, no wildcard)")
    };
    findings.push(error(
        Rule::ServiceEntryEndpoints,
        path.field("address"),
        format!("endpoint address `{address}` is not a DNS name ({why}): {hint}"),
    ));
}

fn ports(
    path: &FieldPath,
    endpoint: &Map<String, Value>,
    declared: &HashSet<&str>,
    findings: &mut Vec<Finding>,
) {
    let rule = Rule::ServiceEntryEndpoints;
    let Some(Value::Object(ports)) = endpoint.get("ports") else {
        return;
    };
    for (name, number) in ports {
        let port_path = || path.field("ports").key(name);
        // A declared name's form is reported at spec.ports; an undeclared one's here.
        if !declared.contains(name.as_str()) {
            let form = if is_label(name) {
                String::new()
            } else {
                format!(", nor a DNS-1123 label ({LABEL_FORM})")
            };
            findings.push(error(
                rule,
                port_path(),
                format!("port name `{name}` is not declared in spec.ports{form}"),
            ));
        }
        if let Some(problem) = port_problem("endpoint port", number, false) {
            findings.push(error(rule, port_path(), problem));
        }
    }
}

/// Endpoint labels are Kubernetes labels: a name of at most 63 characters (letters, digits,
/// `-`, `_`, `.`, alphanumeric at both ends) after an optional DNS prefix and `/`, and a value
/// of the same characters (or empty).
fn labels_of(path: &FieldPath, labels: &Map<String, Value>, findings: &mut Vec<Finding>) {
    for (key, value) in labels {
        if let Some(problem) = label_key_problem(key) {
            findings.push(error(
                Rule::ServiceEntryEndpoints,
                path.key(key),
                format!("label key `{key}` {problem}"),
            ));
        }
        if let Some(value) = value.as_str()
            && !value.is_empty()
            && !is_qualified_name(value)
        {
            findings.push(error(
                Rule::ServiceEntryEndpoints,
                path.key(key),
                format!(
                    "label value `{value}` is not a label value: use letters, digits, '-', '_' \
                     or '.', starting and ending with a letter or digit"
                ),
            ));
        }
    }
}

fn label_key_problem(key: &str) -> Option<&'static str> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix
        && (prefix.is_empty() || !prefix.split('.').all(is_label))
    {
        return Some("has a prefix that is not a DNS name: write prefix.example.com/name");
    }
    if let Some(prefix) = prefix
        && prefix.len() > 253
    {
        return Some("has a prefix longer than 253 characters");
    }
    if !is_qualified_name(name) {
        return Some(
            "is not a label name: use letters, digits, '-', '_' or '.', starting and ending \
             with a letter or digit",
        );
    }
    if name.len() > 63 {
        return Some("has a name longer than 63 characters");
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::rules::Severity::{self, Error, Warning};
    use crate::rules::{ObjectKind, Rule, Subject};
    use serde_json::{Value, json};

    fn judged(resolution: &str, ports: Value, endpoints: Value) -> Vec<(String, Severity, String)> {
        let object = json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "metadata": {"name": "ext", "namespace": "shop"},
            "spec": {"hosts": ["api.example.com"], "resolution": resolution,
                     "ports": ports, "endpoints": endpoints}});
        crate::rules::evaluate(&Subject::created(ObjectKind::ServiceEntry, &object))
            .into_iter()
            .filter(|f| f.rule == Rule::ServiceEntryEndpoints)
            .map(|f| (f.path.to_string(), f.severity, f.message))
            .collect()
    }

    fn one_port() -> Value {
        json!([{"number": 443, "name": "https", "protocol": "HTTPS"}])
    }

    fn rows(found: &[(String, Severity, String)]) -> Vec<(&str, Severity)> {
        found.iter().map(|(p, s, _)| (p.as_str(), *s)).collect()
    }

    #[test]
    fn static_endpoints_need_an_address_or_a_network() {
        let found = judged(
            "STATIC",
            one_port(),
            json!([{}, {"network": "west"}, {"address": "10.0.0.1"}]),
        );
        assert_eq!(
            rows(&found),
            [("spec.endpoints[0]", Error), ("spec.endpoints[1]", Warning)]
        );
        assert_eq!(
            found[1].2,
            "the endpoint has no address, only network `west`: it is reachable only through \
             that network's gateway; give it its address if it can be reached directly"
        );
    }

    #[test]
    fn unix_sockets_are_absolute_portless_and_alone() {
        assert_eq!(
            judged(
                "STATIC",
                one_port(),
                json!([{"address": "unix:///run/a.sock"}, {"address": "unix://@abstract"}])
            ),
            []
        );
        let found = judged(
            "STATIC",
            one_port(),
            json!([{"address": "unix://./rel.sock"}, {"address": "unix:///run/"},
                   {"address": "unix://"}, {"address": "unix:///run/a.sock", "ports": {"https": 443}}]),
        );
        assert_eq!(
            rows(&found),
            [
                ("spec.endpoints[0].address", Error),
                ("spec.endpoints[1].address", Error),
                ("spec.endpoints[2].address", Error),
                ("spec.endpoints[3].ports", Error),
            ]
        );
        assert_eq!(
            found[0].2,
            "`unix://./rel.sock`: the socket path is relative: write an absolute path, \
             unix:///path/to/socket"
        );
        let two_ports = json!([{"number": 80, "name": "http", "protocol": "HTTP"},
                               {"number": 81, "name": "http2", "protocol": "HTTP"}]);
        assert_eq!(
            judged(
                "STATIC",
                two_ports,
                json!([{"address": "unix:///run/a.sock"}])
            ),
            [(
                "spec.endpoints[0].address".to_string(),
                Error,
                "unix socket endpoint `unix:///run/a.sock` needs an entry with exactly one \
                 port, and it has 2: put the socket in an entry of its own"
                    .to_string()
            )]
        );
    }

    #[test]
    fn dns_endpoints_are_ips_or_dns_names() {
        let good = json!([{"address": "1.1.1.1"}, {"address": "istio.io."},
                          {"address": "EU.Example.com"}]);
        assert_eq!(judged("DNS", one_port(), good), []);
        let long = "x".repeat(256);
        let found = judged(
            "DNS_ROUND_ROBIN",
            one_port(),
            json!([{"address": "db.example.com:5432"}, {"address": ""}, {"address": long},
                   {"address": "unix:///run/a.sock"}, {"address": "a.123"}]),
        );
        assert_eq!(
            rows(&found),
            [
                ("spec.endpoints[0].address", Error),
                ("spec.endpoints[1].address", Error),
                ("spec.endpoints[2].address", Error),
                ("spec.endpoints[3].address", Error),
                ("spec.endpoints[4].address", Error),
            ]
        );
        assert_eq!(
            found[0].2,
            "endpoint address `db.example.com:5432` is not a DNS name (label \"com:5432\" is not \
             1-63 letters, digits or '-'): resolution DNS_ROUND_ROBIN needs an IP address or a \
             DNS name (no port, no wildcard)"
        );
        assert_eq!(
            found[3].2,
            "endpoint address `unix:///run/a.sock` is not a DNS name (label \"unix:///run/a\" \
             is not 1-63 letters, digits or '-'): unix:// sockets need resolution STATIC"
        );
    }

    #[test]
    fn endpoint_ports_are_declared_and_in_range() {
        let found = judged(
            "STATIC",
            one_port(),
            json!([{"address": "10.0.0.1",
                    "ports": {"Bad_Name": 1, "grpc": 9090, "http": 0, "https": 65536}}]),
        );
        assert_eq!(
            found
                .iter()
                .map(|(p, _, m)| (p.as_str(), m.as_str()))
                .collect::<Vec<_>>(),
            [
                (
                    "spec.endpoints[0].ports.Bad_Name",
                    "port name `Bad_Name` is not declared in spec.ports, nor a DNS-1123 label \
                     (1-63 letters, digits or '-', starting and ending with a letter or digit)"
                ),
                (
                    "spec.endpoints[0].ports.grpc",
                    "port name `grpc` is not declared in spec.ports"
                ),
                (
                    "spec.endpoints[0].ports.http",
                    "port name `http` is not declared in spec.ports"
                ),
                (
                    "spec.endpoints[0].ports.http",
                    "endpoint port 0 is outside 1-65535"
                ),
                (
                    "spec.endpoints[0].ports.https",
                    "endpoint port 65536 is outside 1-65535"
                ),
            ]
        );
    }

    #[test]
    fn endpoint_labels_are_kubernetes_labels() {
        let found = judged(
            "STATIC",
            one_port(),
            json!([{"address": "10.0.0.1", "labels": {
                "security.istio.io/tlsMode": "istio", "app": "", "version": "v1.2_3",
                "-bad": "x", "ok": "bad value", "a/b/c": "x", "": "x",
                "n": "z"}}]),
        );
        let mut bad: Vec<&str> = found.iter().map(|(p, _, _)| p.as_str()).collect();
        bad.sort_unstable();
        assert_eq!(
            bad,
            [
                "spec.endpoints[0].labels.ok",
                "spec.endpoints[0].labels[-bad]",
                "spec.endpoints[0].labels[]",
                "spec.endpoints[0].labels[a/b/c]",
            ]
        );
    }

    #[test]
    fn none_and_dynamic_dns_endpoints_are_the_resolution_rules_business() {
        let bad = json!([{"address": "unix://rel"}]);
        assert_eq!(judged("NONE", one_port(), bad.clone()), []);
        assert_eq!(judged("DYNAMIC_DNS", one_port(), bad), []);
    }
}
