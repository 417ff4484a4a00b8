//! ServiceEntry rules (`networking.istio.io` v1, v1beta1, v1alpha3), following Istio's
//! `validateServiceEntry` and analyzer IST0134, plus the retired `.global` multicluster pattern.
//! Protocol names match case-insensitively, as in Istio.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use serde_json::{Map, Value};

use super::names::{
    check_wildcard_domain, is_dns1123_label, is_ip, is_partial_wildcard, parse_ip_or_cidr,
};
use super::numbers::{IntType, Integer, integer};
use super::vocabulary::{Protocol, Resolution};
use super::{FieldPath, Finding, Rule, Severity, Subject, api_version, export_to, spec_list};
use crate::object::fields::lookup;

/// The gateway port of the `.global` multicluster pattern.
const GLOBAL_GATEWAY_PORT: u64 = 15443;

/// Runs the ServiceEntry rules.
pub fn evaluate(subject: &Subject<'_>) -> Vec<Finding> {
    let spec = subject.spec();
    let entry = Entry::read(spec);
    let mut findings = Vec::new();
    hosts(&entry, &mut findings);
    addresses(&entry, &mut findings);
    ports(&entry, &mut findings);
    resolution(spec, &entry, &mut findings);
    addresses_required(subject.object, &entry, &mut findings);
    findings.extend(export_to::evaluate(
        subject,
        spec,
        Rule::ServiceEntryExportTo,
        true,
    ));
    global_multicluster(&entry, &mut findings);
    findings.extend(api_version::evaluate(subject, Rule::ServiceEntryApiVersion));
    findings
}

/// One `spec.ports[]` entry.
struct Port<'a> {
    path: FieldPath,
    /// `number` as written, when it is a number.
    number: Option<&'a Value>,
    name: Option<&'a str>,
    /// `None` when unset or empty; an unknown name is kept upper-cased.
    protocol: Option<Protocol>,
    /// `targetPort` (in either spelling) as written, when it is a number.
    target_port: Option<&'a Value>,
}

/// The fields the rules read, with their paths.
struct Entry<'a> {
    hosts: Vec<(FieldPath, &'a str)>,
    addresses: Vec<(FieldPath, &'a str)>,
    ports: Vec<Port<'a>>,
    endpoints: Vec<(FieldPath, &'a Map<String, Value>)>,
    resolution: Resolution,
}

impl<'a> Entry<'a> {
    fn read(spec: &'a Map<String, Value>) -> Self {
        let ports = spec_list(spec, "ports", Value::as_object)
            .into_iter()
            .map(|(path, port)| Port {
                path,
                number: port.get("number").filter(|n| n.is_number()),
                name: port.get("name").and_then(Value::as_str),
                protocol: port
                    .get("protocol")
                    .and_then(Value::as_str)
                    .filter(|p| !p.is_empty())
                    .map(|p| Protocol::parse(&p.to_ascii_uppercase())),
                target_port: lookup(port, "targetPort")
                    .map(|(_, v)| v)
                    .filter(|v| v.is_number()),
            })
            .collect();
        Entry {
            hosts: spec_list(spec, "hosts", Value::as_str),
            addresses: spec_list(spec, "addresses", Value::as_str),
            ports,
            endpoints: spec_list(spec, "endpoints", Value::as_object),
            resolution: spec
                .get("resolution")
                .and_then(Value::as_str)
                .map_or(Resolution::None, Resolution::parse),
        }
    }
}

fn error(rule: Rule, path: FieldPath, message: impl Into<String>) -> Finding {
    Finding::new(rule, Severity::Error, path, message)
}

fn hosts(entry: &Entry<'_>, findings: &mut Vec<Finding>) {
    let rule = Rule::ServiceEntryHosts;
    if entry.hosts.is_empty() {
        findings.push(error(
            rule,
            FieldPath::fields("spec.hosts"),
            "a ServiceEntry needs at least one host",
        ));
    }
    for (path, host) in &entry.hosts {
        if *host == "*" {
            findings.push(error(
                rule,
                path.clone(),
                "`*` is not allowed in a ServiceEntry: name the hosts",
            ));
        } else if is_partial_wildcard(host) {
            findings.push(Finding::new(
                rule,
                Severity::Warning,
                path.clone(),
                format!("partial wildcard `{host}`: only a whole leading label `*.` is a wildcard; write *.domain"),
            ));
        } else if let Err(reason) = check_wildcard_domain(host) {
            findings.push(error(
                rule,
                path.clone(),
                format!("{reason}: write a DNS name or *.domain"),
            ));
        }
    }
}

fn addresses(entry: &Entry<'_>, findings: &mut Vec<Finding>) {
    let rule = Rule::ServiceEntryAddresses;
    for (path, address) in &entry.addresses {
        match parse_ip_or_cidr(address) {
            None => findings.push(error(
                rule,
                path.clone(),
                format!("`{address}` is not an IP address or CIDR block"),
            )),
            Some((_, Some(_)))
                if !matches!(entry.resolution, Resolution::None | Resolution::Static) =>
            {
                findings.push(error(
                    rule,
                    path.clone(),
                    format!(
                        "CIDR `{address}` needs resolution NONE or STATIC, not {}",
                        entry.resolution
                    ),
                ))
            }
            Some(_) => {}
        }
    }
}

/// Why a port field (uint32) is not a port from 1 to 65535, if it is not; `unset_ok` accepts 0.
fn port_problem(field: &str, number: &Value, unset_ok: bool) -> Option<String> {
    match integer(number, IntType::Uint32)? {
        Integer::Value(0) if unset_ok => None,
        Integer::Value(n) if (1..=65535).contains(&n) => None,
        Integer::Value(_) | Integer::Outside => {
            Some(format!("{field} {number} is outside 1-65535"))
        }
        Integer::Fraction => Some(format!(
            "{field} {number} is not a whole number: write a port from 1 to 65535"
        )),
    }
}

fn ports(entry: &Entry<'_>, findings: &mut Vec<Finding>) {
    let rule = Rule::ServiceEntryPorts;
    // Keyed by the whole number, so `80` and `80.0` are the same port.
    let mut numbers: HashMap<i128, &FieldPath> = HashMap::new();
    let mut names: HashMap<&str, &FieldPath> = HashMap::new();
    for port in &entry.ports {
        if let Some(number) = port.number {
            if let Some(message) = port_problem("port", number, false) {
                findings.push(error(rule, port.path.field("number"), message));
            }
            if let Some(Integer::Value(whole)) = integer(number, IntType::Uint32)
                && let Some(first) = numbers.insert(whole, &port.path)
            {
                findings.push(error(
                    rule,
                    port.path.field("number"),
                    format!("port {number} is already defined by {first}"),
                ));
            }
        }
        if let Some(name) = port.name {
            if !is_dns1123_label(name) {
                findings.push(error(
                    rule,
                    port.path.field("name"),
                    format!("port name `{name}` is not a DNS-1123 label (lowercase letters, digits, '-')"),
                ));
            }
            if let Some(first) = names.insert(name, &port.path) {
                findings.push(error(
                    rule,
                    port.path.field("name"),
                    format!("port name `{name}` is already used by {first}"),
                ));
            }
        }
        if let Some(target) = port.target_port
            && let Some(message) = port_problem("targetPort", target, true)
        {
            findings.push(error(rule, port.path.field("targetPort"), message));
        }
        if let Some(protocol @ Protocol::Other(_)) = &port.protocol {
            findings.push(error(
                rule,
                port.path.field("protocol"),
                format!("unknown protocol `{protocol}`: use HTTP, HTTPS, HTTP2, GRPC, TLS, TCP, UDP, MONGO, REDIS or MYSQL"),
            ));
        }
    }
}

fn resolution(spec: &Map<String, Value>, entry: &Entry<'_>, findings: &mut Vec<Finding>) {
    let rule = Rule::ServiceEntryResolution;
    let endpoints_path = FieldPath::fields("spec.endpoints");
    match entry.resolution {
        Resolution::None if !entry.endpoints.is_empty() => findings.push(error(
            rule,
            endpoints_path.clone(),
            "resolution NONE takes no endpoints: set STATIC or DNS, or remove the endpoints",
        )),
        Resolution::Dns | Resolution::DnsRoundRobin => {
            if entry.endpoints.is_empty() {
                for (path, host) in entry.hosts.iter().filter(|(_, h)| h.starts_with('*')) {
                    findings.push(error(
                        rule,
                        path.clone(),
                        format!(
                            "resolution {} without endpoints resolves the host itself, and `{host}` is a wildcard: \
                             add endpoints or use resolution NONE",
                            entry.resolution
                        ),
                    ));
                }
            }
            if entry.resolution == Resolution::DnsRoundRobin && entry.endpoints.len() > 1 {
                findings.push(error(
                    rule,
                    endpoints_path.clone(),
                    "resolution DNS_ROUND_ROBIN takes at most one endpoint: use DNS for several",
                ));
            }
        }
        Resolution::Static => {
            for (path, endpoint) in &entry.endpoints {
                if let Some(address) = endpoint.get("address").and_then(Value::as_str)
                    && !is_ip(address)
                    && !address.starts_with("unix://")
                {
                    findings.push(error(
                        rule,
                        path.field("address"),
                        format!("resolution STATIC needs IP (or unix://) endpoint addresses, not `{address}`: use DNS for names"),
                    ));
                }
            }
        }
        _ => {}
    }
    let declared: HashSet<&str> = entry.ports.iter().filter_map(|p| p.name).collect();
    for (path, endpoint) in &entry.endpoints {
        if let Some(Value::Object(ports)) = endpoint.get("ports") {
            for name in ports
                .keys()
                .filter(|name| !declared.contains(&name.as_str()))
            {
                findings.push(error(
                    rule,
                    path.field("ports").key(name),
                    format!("port name `{name}` is not declared in spec.ports"),
                ));
            }
        }
    }
    if let Some((key, selector)) = lookup(spec, "workloadSelector") {
        let selector_path = FieldPath::fields("spec").field(key);
        if !entry.endpoints.is_empty() {
            findings.push(error(
                rule,
                selector_path.clone(),
                "workloadSelector and endpoints cannot be combined: keep one",
            ));
        }
        if let Some(Value::Object(labels)) = selector.get("labels") {
            for (label, value) in labels {
                if label.contains('*') || value.as_str().is_some_and(|v| v.contains('*')) {
                    findings.push(error(
                        rule,
                        selector_path.field("labels").key(label),
                        "workloadSelector labels match exactly: `*` is not a wildcard here",
                    ));
                }
            }
        }
    }
    if entry.resolution != Resolution::None && entry.hosts.len() > 1 {
        let blind = entry.ports.iter().find(|p| {
            p.protocol
                .as_ref()
                .is_none_or(|protocol| !protocol.names_its_host())
        });
        if let Some(port) = blind {
            findings.push(error(
                rule,
                FieldPath::fields("spec.hosts"),
                format!(
                    "several hosts with resolution {} need HTTP or TLS ports to tell them apart, and {} is {}: \
                     split the entry per host",
                    entry.resolution,
                    port.path,
                    port.protocol
                        .as_ref()
                        .map_or("TCP (no protocol)", Protocol::as_str)
                ),
            ));
        }
    }
}

/// IST0134: a TCP or unset-protocol port needs an address to be routed, unless Istio allocated
/// one (`status.addresses`, written by DNS auto-allocation).
fn addresses_required(object: &Value, entry: &Entry<'_>, findings: &mut Vec<Finding>) {
    if !entry.addresses.is_empty() {
        return;
    }
    let allocated = object
        .pointer("/status/addresses")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if allocated {
        return;
    }
    if let Some(port) = entry.ports.iter().find(|p| {
        p.protocol
            .as_ref()
            .is_none_or(|protocol| *protocol == Protocol::Tcp)
    }) {
        findings.push(Finding::new(
            Rule::ServiceEntryAddressesRequired,
            Severity::Warning,
            FieldPath::fields("spec.addresses"),
            format!(
                "{} is TCP (or has no protocol) and the entry has no addresses: add a VIP under spec.addresses \
                 (fine without one when DNS auto-allocation is on)",
                port.path
            ),
        ));
    }
}

/// Whether an address (or CIDR) lies in the class E range 240.0.0.0/4.
fn in_class_e(address: &str) -> bool {
    match parse_ip_or_cidr(address) {
        Some((IpAddr::V4(ip), bits)) => ip.octets()[0] >= 240 && bits.is_none_or(|b| b >= 4),
        _ => false,
    }
}

fn global_multicluster(entry: &Entry<'_>, findings: &mut Vec<Finding>) {
    let rule = Rule::ServiceEntryGlobalMulticluster;
    let global_hosts: Vec<_> = entry
        .hosts
        .iter()
        .filter(|(_, h)| h.ends_with(".global"))
        .collect();
    if global_hosts.is_empty() {
        return;
    }
    let warn =
        |path: FieldPath, message: String| Finding::new(rule, Severity::Warning, path, message);
    for (path, host) in global_hosts {
        findings.push(warn(
            path.clone(),
            format!("`{host}`: .global hosts belong to the retired replicated-control-plane multicluster setup; use multi-primary or primary-remote"),
        ));
    }
    for (path, address) in &entry.addresses {
        if !in_class_e(address) {
            findings.push(warn(
                path.clone(),
                format!("`{address}` is outside 240.0.0.0/4, the class E range .global entries take their addresses from"),
            ));
        }
    }
    for (path, endpoint) in &entry.endpoints {
        if let Some(Value::Object(ports)) = endpoint.get("ports") {
            for (name, number) in ports {
                if number.as_u64() != Some(GLOBAL_GATEWAY_PORT) {
                    findings.push(warn(
                        path.field("ports").key(name),
                        format!("endpoint port {number} is not 15443, the gateway port .global traffic goes through"),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::ObjectKind;
    use crate::rules::Severity::{Error, Warning};
    use crate::rules::testing::{row, summary};
    use serde_json::{Value, json};

    fn check(spec: Value) -> Vec<(String, String, crate::rules::Severity)> {
        let object = json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                            "metadata": {"name": "ext", "namespace": "shop"}, "spec": spec});
        summary(ObjectKind::ServiceEntry, &object)
    }

    fn http_port() -> Value {
        json!([{"number": 443, "name": "https", "protocol": "HTTPS"}])
    }

    #[test]
    fn valid_objects_produce_nothing() {
        let valid = [
            json!({"hosts": ["api.example.com"], "ports": http_port(), "resolution": "DNS", "location": "MESH_EXTERNAL"}),
            json!({"hosts": ["*.example.com"], "ports": http_port(), "resolution": "NONE"}),
            json!({"hosts": ["db.internal"], "addresses": ["10.1.0.0/16"], "ports": [{"number": 5432, "name": "pg", "protocol": "tcp"}], "resolution": "STATIC",
                   "endpoints": [{"address": "10.1.2.3", "ports": {"pg": 15432}}, {"address": "unix:///var/run/pg.sock"}]}),
            json!({"hosts": ["a.example.com", "b.example.com"], "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}], "resolution": "DNS"}),
            json!({"hosts": ["only.example"], "exportTo": ["~"]}),
        ];
        for spec in valid {
            assert_eq!(check(spec.clone()), [], "{spec}");
        }
    }

    #[test]
    fn table() {
        let cases = [
            (
                json!({"ports": http_port()}),
                vec![row("serviceentry-hosts", "spec.hosts", Error)],
            ),
            (
                json!({"hosts": ["*"], "ports": http_port()}),
                vec![row("serviceentry-hosts", "spec.hosts[0]", Error)],
            ),
            (
                json!({"hosts": ["Bad_Host"], "ports": http_port()}),
                vec![row("serviceentry-hosts", "spec.hosts[0]", Error)],
            ),
            (
                json!({"hosts": ["foo*.com"], "ports": http_port()}),
                vec![row("serviceentry-hosts", "spec.hosts[0]", Warning)],
            ),
            (
                json!({"hosts": ["a.example"], "addresses": ["10.0.0.300"], "ports": http_port()}),
                vec![row("serviceentry-addresses", "spec.addresses[0]", Error)],
            ),
            (
                json!({"hosts": ["a.example"], "addresses": ["10.0.0.0/8"], "ports": http_port(), "resolution": "DNS"}),
                vec![row("serviceentry-addresses", "spec.addresses[0]", Error)],
            ),
            (
                json!({"hosts": ["a.example"], "ports": [{"number": 443, "name": "https", "protocol": "HTTPS"}, {"number": 443, "name": "https", "protocol": "HTTPS"}]}),
                vec![
                    row("serviceentry-ports", "spec.ports[1].number", Error),
                    row("serviceentry-ports", "spec.ports[1].name", Error),
                ],
            ),
            (
                json!({"hosts": ["a.example"], "ports": [{"number": 0, "name": "Web_Port", "protocol": "SPDY", "targetPort": 70000}]}),
                vec![
                    row("serviceentry-ports", "spec.ports[0].number", Error),
                    row("serviceentry-ports", "spec.ports[0].name", Error),
                    row("serviceentry-ports", "spec.ports[0].targetPort", Error),
                    row("serviceentry-ports", "spec.ports[0].protocol", Error),
                ],
            ),
            (
                json!({"hosts": ["a.example"], "ports": http_port(), "endpoints": [{"address": "1.1.1.1"}]}),
                vec![row("serviceentry-resolution", "spec.endpoints", Error)],
            ),
            (
                json!({"hosts": ["*.example.com"], "ports": http_port(), "resolution": "DNS"}),
                vec![row("serviceentry-resolution", "spec.hosts[0]", Error)],
            ),
            (
                json!({"hosts": ["a.example"], "ports": http_port(), "resolution": "DNS_ROUND_ROBIN", "endpoints": [{"address": "a.example"}, {"address": "b.example"}]}),
                vec![row("serviceentry-resolution", "spec.endpoints", Error)],
            ),
            (
                json!({"hosts": ["a.example"], "ports": http_port(), "resolution": "STATIC", "endpoints": [{"address": "db.example"}]}),
                vec![row(
                    "serviceentry-resolution",
                    "spec.endpoints[0].address",
                    Error,
                )],
            ),
            (
                json!({"hosts": ["a.example"], "ports": http_port(), "resolution": "STATIC", "endpoints": [{"address": "1.1.1.1", "ports": {"http": 8080}}]}),
                vec![row(
                    "serviceentry-resolution",
                    "spec.endpoints[0].ports.http",
                    Error,
                )],
            ),
            (
                json!({"hosts": ["a.example"], "ports": http_port(), "resolution": "STATIC", "endpoints": [{"address": "1.1.1.1"}], "workloadSelector": {"labels": {"app": "*"}}}),
                vec![
                    row("serviceentry-resolution", "spec.workloadSelector", Error),
                    row(
                        "serviceentry-resolution",
                        "spec.workloadSelector.labels.app",
                        Error,
                    ),
                ],
            ),
            (
                json!({"hosts": ["a.example", "b.example"], "addresses": ["10.0.0.1"], "ports": [{"number": 9000, "name": "tcp", "protocol": "TCP"}], "resolution": "DNS"}),
                vec![row("serviceentry-resolution", "spec.hosts", Error)],
            ),
            (
                json!({"hosts": ["a.example"], "ports": [{"number": 22, "name": "ssh", "protocol": "tcp"}]}),
                vec![row(
                    "serviceentry-addresses-required",
                    "spec.addresses",
                    Warning,
                )],
            ),
            (
                json!({"hosts": ["a.example"], "ports": [{"number": 22, "name": "ssh"}]}),
                vec![row(
                    "serviceentry-addresses-required",
                    "spec.addresses",
                    Warning,
                )],
            ),
            (
                json!({"hosts": ["a.example"], "exportTo": ["~", "."], "ports": http_port()}),
                vec![row("serviceentry-export-to", "spec.exportTo", Error)],
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(check(spec.clone()), expected, "{spec}");
        }
    }

    #[test]
    fn port_numbers_outside_uint32_are_findings_not_wraps() {
        let messages = |ports: Value| -> Vec<(String, String)> {
            let object = json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                                "spec": {"hosts": ["a.example"], "addresses": ["10.0.0.1"], "ports": ports}});
            crate::rules::evaluate(&crate::rules::Subject::created(
                ObjectKind::ServiceEntry,
                &object,
            ))
            .into_iter()
            .filter(|f| f.rule == crate::rules::Rule::ServiceEntryPorts)
            .map(|f| (f.path.to_string(), f.message))
            .collect()
        };
        let port = |number: Value, target: Value| json!({"number": number, "name": "http", "protocol": "HTTP", "targetPort": target});
        let pair = |path: &str, message: &str| (path.to_string(), message.to_string());
        assert_eq!(
            messages(json!([port(json!(-1), json!(u64::MAX))])),
            [
                pair("spec.ports[0].number", "port -1 is outside 1-65535"),
                pair(
                    "spec.ports[0].targetPort",
                    "targetPort 18446744073709551615 is outside 1-65535"
                ),
            ]
        );
        assert_eq!(
            messages(json!([port(json!(4_294_967_296_u64), json!(1e300))])),
            [
                pair("spec.ports[0].number", "port 4294967296 is outside 1-65535"),
                pair(
                    "spec.ports[0].targetPort",
                    "targetPort 1e+300 is outside 1-65535"
                ),
            ]
        );
        assert_eq!(
            messages(json!([port(json!(i64::MIN), json!(8080.5))])),
            [
                pair(
                    "spec.ports[0].number",
                    "port -9223372036854775808 is outside 1-65535"
                ),
                pair(
                    "spec.ports[0].targetPort",
                    "targetPort 8080.5 is not a whole number: write a port from 1 to 65535"
                ),
            ]
        );
        // `443.0` is port 443: a duplicate of `443`, and targetPort 0 is unset.
        let mut second = port(json!(443.0), json!(0));
        second["name"] = json!("https");
        assert_eq!(
            messages(json!([port(json!(443), json!(8443)), second])),
            [pair(
                "spec.ports[1].number",
                "port 443.0 is already defined by spec.ports[0]"
            )]
        );
    }

    #[test]
    fn global_multicluster() {
        let global = |address: &str, port: u64| {
            json!({"hosts": ["httpbin.bar.global"], "location": "MESH_INTERNAL",
                   "ports": [{"name": "http1", "number": 8000, "protocol": "http"}], "resolution": "DNS",
                   "addresses": [address], "endpoints": [{"address": "172.17.0.2", "ports": {"http1": port}}]})
        };
        assert_eq!(
            check(global("240.0.0.2", 15443)),
            [row(
                "serviceentry-global-multicluster",
                "spec.hosts[0]",
                Warning
            )]
        );
        assert_eq!(
            check(global("10.0.0.2", 8000)),
            [
                row("serviceentry-global-multicluster", "spec.hosts[0]", Warning),
                row(
                    "serviceentry-global-multicluster",
                    "spec.addresses[0]",
                    Warning
                ),
                row(
                    "serviceentry-global-multicluster",
                    "spec.endpoints[0].ports.http1",
                    Warning
                ),
            ]
        );
    }
}
