//! `virtualservice-match` for the conditions any kind of match may add besides the request's
//! own: the port, the source workloads' labels, the gateways (checked as `spec.gateways` are,
//! under `virtualservice-gateways`), and for HTTP the source namespace, for TCP and TLS the
//! destination subnets.

use serde_json::{Map, Value};

use super::structure::{gateway_names, port_problem};
use super::view::Routes;
use crate::rules::domains::{is_label, label_problems};
use crate::rules::names::parse_ip_or_cidr;
use crate::rules::numbers::{IntType, Integer, integer};
use crate::rules::{FieldPath, Finding, Rule, Severity};

const RULE: Rule = Rule::VirtualServiceMatch;

/// Which route kind a match belongs to: the fields each may carry differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MatchKind {
    Http,
    /// TCP and TLS matches (`L4MatchAttributes`, `TLSMatchAttributes`).
    L4,
}

/// Checks the source and destination conditions of one match at `at`.
pub(super) fn request(
    request: &Map<String, Value>,
    at: &dyn Fn() -> FieldPath,
    kind: MatchKind,
    findings: &mut Vec<Finding>,
) {
    for (field, value) in request {
        let path = || at().field(field);
        match (field.as_str(), value) {
            // 0 is the field's default: no port condition.
            ("port", number)
                if !matches!(integer(number, IntType::Uint32), Some(Integer::Value(0))) =>
            {
                if let Some(problem) = port_problem(number) {
                    findings.push(error(
                        path(),
                        format!(
                            "{problem}: write the port the request arrives on, from 1 to 65535"
                        ),
                    ));
                }
            }
            ("sourceLabels", Value::Object(labels)) => {
                for (label, message) in label_problems(labels) {
                    findings.push(error(path().key(label), message));
                }
            }
            ("gateways", Value::Array(gateways)) => {
                let named: Vec<_> = gateways
                    .iter()
                    .enumerate()
                    .filter_map(|(g, gateway)| Some((path().index(g), gateway.as_str()?)))
                    .collect();
                gateway_names(&named, findings);
            }
            ("sourceNamespace", Value::String(namespace))
                if kind == MatchKind::Http && !namespace.is_empty() && !is_label(namespace) =>
            {
                findings.push(error(
                    path(),
                    format!(
                        "sourceNamespace {namespace:?} is not a namespace name (a DNS-1123 \
                         label): write the namespace the requests come from"
                    ),
                ));
            }
            ("destinationSubnets", Value::Array(subnets)) if kind == MatchKind::L4 => {
                for (s, subnet) in subnets.iter().enumerate() {
                    if let Some(subnet) = subnet.as_str()
                        && subnet_problem(subnet)
                    {
                        findings.push(error(
                            path().index(s),
                            format!(
                                "`{subnet}` is not an IP address or a CIDR block: write one \
                                 such as 10.1.0.0/16 or 2001:db8::/32"
                            ),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
}

/// Checks the matches of every TCP and TLS route.
pub(super) fn l4_routes(all: &Routes<'_>, findings: &mut Vec<Finding>) {
    for owner in all.tcp.iter().chain(&all.tls) {
        let Some(Value::Array(requests)) = owner.route.get("match") else {
            continue;
        };
        for (m, condition) in requests.iter().enumerate() {
            if let Some(condition) = condition.as_object() {
                let at = || owner.path().field("match").index(m);
                request(condition, &at, MatchKind::L4, findings);
            }
        }
    }
}

/// Istio's `ValidateIPSubnet`: with one `/`, a CIDR block; otherwise an IP address.
fn subnet_problem(subnet: &str) -> bool {
    parse_ip_or_cidr(subnet).is_none() || subnet.matches('/').count() > 1
}

fn error(path: FieldPath, message: impl Into<String>) -> Finding {
    Finding::new(RULE, Severity::Error, path, message)
}

#[cfg(test)]
mod tests {
    use crate::rules::virtualservice::http::testing::{found, http, vs};
    use serde_json::{Value, json};

    fn rows(object: &Value) -> Vec<(String, String)> {
        let mut rows: Vec<_> = found(object)
            .into_iter()
            .map(|(rule, path, _)| (rule, path))
            .collect();
        rows.sort();
        rows
    }

    fn row(rule: &str, path: &str) -> (String, String) {
        (rule.to_string(), path.to_string())
    }

    #[test]
    fn http_match_sources() {
        let clean = json!({"port": 8080, "sourceLabels": {"app": "web", "version": ""},
            "gateways": ["istio-system/ingress", "mesh"], "sourceNamespace": "Shop"});
        let route =
            |m: Value| http(json!({"route": [{"destination": {"host": "r"}}], "match": [m]}));
        assert_eq!(rows(&route(clean)), []);
        assert_eq!(rows(&route(json!({"port": 0}))), []);
        let bad = json!({"port": 65536, "sourceLabels": {"app": "-web", "a b": "x"},
            "gateways": ["ns/"], "sourceNamespace": "shop_1"});
        assert_eq!(
            rows(&route(bad)),
            [
                row(
                    "virtualservice-gateways",
                    "spec.http[0].match[0].gateways[0]"
                ),
                row("virtualservice-match", "spec.http[0].match[0].port"),
                row(
                    "virtualservice-match",
                    "spec.http[0].match[0].sourceLabels.app"
                ),
                row(
                    "virtualservice-match",
                    "spec.http[0].match[0].sourceLabels[a b]"
                ),
                row(
                    "virtualservice-match",
                    "spec.http[0].match[0].sourceNamespace"
                ),
            ]
        );
        let messages: Vec<_> = found(&route(json!({"port": 65536, "sourceNamespace": "shop_1"})))
            .into_iter()
            .map(|(_, _, message)| message)
            .collect();
        assert_eq!(
            messages,
            [
                "port 65536 is outside 1-65535: write the port the request arrives on, from 1 to 65535",
                "sourceNamespace \"shop_1\" is not a namespace name (a DNS-1123 label): write the \
                 namespace the requests come from",
            ]
        );
    }

    #[test]
    fn tcp_and_tls_match_destinations() {
        let spec = json!({"hosts": ["db.example.com"],
            "tcp": [{"match": [{"destinationSubnets": ["10.1.0.0/16", "2001:db8::/32", "10.0.0.1",
                                                      "10.0.0.0/33", "10.0.0.0/08", "db"],
                                "port": 70000, "sourceLabels": {"app": "a*"}}],
                     "route": [{"destination": {"host": "db.example.com"}}]}],
            "tls": [{"match": [{"sniHosts": ["db.example.com"], "destinationSubnets": ["1.2.3.4/8/8"],
                                "gateways": ["a.b.c"]}],
                     "route": [{"destination": {"host": "db.example.com"}}]}]});
        assert_eq!(
            rows(&vs(spec)),
            [
                row(
                    "virtualservice-gateways",
                    "spec.tls[0].match[0].gateways[0]"
                ),
                row(
                    "virtualservice-match",
                    "spec.tcp[0].match[0].destinationSubnets[3]"
                ),
                row(
                    "virtualservice-match",
                    "spec.tcp[0].match[0].destinationSubnets[4]"
                ),
                row(
                    "virtualservice-match",
                    "spec.tcp[0].match[0].destinationSubnets[5]"
                ),
                row("virtualservice-match", "spec.tcp[0].match[0].port"),
                row(
                    "virtualservice-match",
                    "spec.tcp[0].match[0].sourceLabels.app"
                ),
                row(
                    "virtualservice-match",
                    "spec.tls[0].match[0].destinationSubnets[0]"
                ),
            ]
        );
    }
}
