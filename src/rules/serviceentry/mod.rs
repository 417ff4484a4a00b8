//! ServiceEntry rules (`networking.istio.io` v1, v1beta1, v1alpha3), following Istio's
//! `validateServiceEntry` and analyzer IST0134, plus the retired `.global` multicluster pattern.
//! Protocol names match case-insensitively, as in Istio. One module per concern; this one reads
//! the fields they share.

mod addresses;
mod endpoints;
mod global;
mod hosts;
mod ports;
mod resolution;
mod workload_selector;

use crate::object::fields::member;
use serde_json::{Map, Value};

use super::numbers::{IntType, Integer, integer};
use super::vocabulary::{Protocol, Resolution};
use super::{
    FieldPath, Finding, IstioVersion, Rule, Severity, Subject, api_version, export_to, spec_list,
};
use crate::object::fields::lookup;

/// The first release that knows resolution `DYNAMIC_DNS` (its CRD enum and validation).
const DYNAMIC_DNS_SINCE: IstioVersion = IstioVersion::new(1, 28);

/// Runs the ServiceEntry rules.
pub fn evaluate(subject: &Subject<'_>) -> Vec<Finding> {
    let spec = subject.spec();
    let entry = Entry::read(subject.object, spec);
    let oldest = subject.min_istio_version;
    let mut findings = Vec::new();
    hosts::check(&entry, oldest, &mut findings);
    addresses::check(&entry, &mut findings);
    ports::check(&entry, &mut findings);
    resolution::check(&entry, oldest, &mut findings);
    endpoints::check(&entry, &mut findings);
    workload_selector::check(&entry, &mut findings);
    addresses::required(subject.object, &entry, &mut findings);
    findings.extend(export_to::evaluate(
        subject,
        spec,
        Rule::ServiceEntryExportTo,
        true,
    ));
    global::check(&entry, &mut findings);
    findings.extend(api_version::evaluate(subject, Rule::ServiceEntryApiVersion));
    findings
}

/// One `spec.ports[]` entry.
struct Port<'a> {
    path: FieldPath,
    /// `number` as written, when it is a number.
    number: Option<&'a Value>,
    /// Whether the key `number` is there at all (a value of another type is the schema's).
    has_number: bool,
    name: Option<&'a str>,
    /// Whether the key `name` is there at all.
    has_name: bool,
    /// `None` when unset or empty; an unknown name is kept upper-cased.
    protocol: Option<Protocol>,
    /// `targetPort` (in either spelling) as written, when it is a number.
    target_port: Option<&'a Value>,
}

impl Port<'_> {
    /// The protocol as the messages name it.
    fn protocol_name(&self) -> &str {
        self.protocol
            .as_ref()
            .map_or("TCP (no protocol)", Protocol::as_str)
    }
}

/// The fields the rules read, with their paths.
struct Entry<'a> {
    hosts: Vec<(FieldPath, &'a str)>,
    addresses: Vec<(FieldPath, &'a str)>,
    ports: Vec<Port<'a>>,
    endpoints: Vec<(FieldPath, &'a Map<String, Value>)>,
    resolution: Resolution,
    /// `spec.location` as written (unset is MESH_EXTERNAL, the enum's zero).
    location: Option<&'a str>,
    /// `spec.workloadSelector` (in either spelling), with its path.
    selector: Option<(FieldPath, &'a Value)>,
    /// `metadata.labels` of the object.
    labels: Option<&'a Map<String, Value>>,
}

impl<'a> Entry<'a> {
    fn read(object: &'a Value, spec: &'a Map<String, Value>) -> Self {
        let ports = spec_list(spec, "ports", Value::as_object)
            .into_iter()
            .map(|(path, port)| Port {
                path,
                number: port.get("number").filter(|n| n.is_number()),
                has_number: port.contains_key("number"),
                name: port.get("name").and_then(Value::as_str),
                has_name: port.contains_key("name"),
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
            location: spec.get("location").and_then(Value::as_str),
            selector: lookup(spec, "workloadSelector")
                .map(|(key, value)| (FieldPath::fields("spec").field(key), value)),
            labels: member(object, &["metadata", "labels"]).and_then(Value::as_object),
        }
    }
}

fn error(rule: Rule, path: FieldPath, message: impl Into<String>) -> Finding {
    Finding::new(rule, Severity::Error, path, message)
}

fn warning(rule: Rule, path: FieldPath, message: impl Into<String>) -> Finding {
    Finding::new(rule, Severity::Warning, path, message)
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

/// What such a label must be, for messages.
const LABEL_FORM: &str = "1-63 letters, digits or '-', starting and ending with a letter or digit";

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
                vec![row("serviceentry-hosts", "spec.hosts[0]", Error)],
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
                    "serviceentry-endpoints",
                    "spec.endpoints[0].address",
                    Error,
                )],
            ),
            (
                json!({"hosts": ["a.example"], "ports": http_port(), "resolution": "STATIC", "endpoints": [{"address": "1.1.1.1", "ports": {"http": 8080}}]}),
                vec![row(
                    "serviceentry-endpoints",
                    "spec.endpoints[0].ports.http",
                    Error,
                )],
            ),
            (
                json!({"hosts": ["a.example"], "ports": http_port(), "resolution": "STATIC", "endpoints": [{"address": "1.1.1.1"}], "workloadSelector": {"labels": {"app": "*"}}}),
                vec![
                    row(
                        "serviceentry-workload-selector",
                        "spec.workloadSelector",
                        Error,
                    ),
                    row(
                        "serviceentry-workload-selector",
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
