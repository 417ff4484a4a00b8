//! `serviceentry-ports`: each port has a number within 1-65535 and a name, both unique, the
//! name a DNS-1123 label (capitals allowed, as Istio allows them), a known protocol, and a
//! `targetPort` within range when set.

use std::collections::HashMap;

use super::{Entry, LABEL_FORM, error, port_problem};
use crate::rules::domains::is_label;
use crate::rules::numbers::{IntType, Integer, integer};
use crate::rules::vocabulary::Protocol;
use crate::rules::{FieldPath, Finding, Rule};

pub(super) fn check(entry: &Entry<'_>, findings: &mut Vec<Finding>) {
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
        } else if !port.has_number {
            findings.push(error(
                rule,
                port.path.clone(),
                "the port has no number: give it the port from 1 to 65535 clients call",
            ));
        }
        if let Some(name) = port.name {
            if !is_label(name) {
                findings.push(error(
                    rule,
                    port.path.field("name"),
                    format!("port name `{name}` is not a DNS-1123 label ({LABEL_FORM})"),
                ));
            }
            if let Some(first) = names.insert(name, &port.path) {
                findings.push(error(
                    rule,
                    port.path.field("name"),
                    format!("port name `{name}` is already used by {first}"),
                ));
            }
        } else if !port.has_name {
            findings.push(error(
                rule,
                port.path.clone(),
                "the port has no name: name it with a DNS-1123 label such as `http` or `tcp-5432`",
            ));
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

#[cfg(test)]
mod tests {
    use crate::rules::ObjectKind;
    use crate::rules::Severity::Error;
    use crate::rules::testing::{row, summary};
    use serde_json::{Value, json};

    fn check(ports: Value) -> Vec<(String, String, crate::rules::Severity)> {
        let object = json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                            "metadata": {"name": "ext", "namespace": "shop"},
                            "spec": {"hosts": ["a.example"], "addresses": ["10.0.0.1"], "ports": ports}});
        summary(ObjectKind::ServiceEntry, &object)
    }

    #[test]
    fn a_port_needs_a_number_and_a_name() {
        assert_eq!(
            check(
                json!([{"name": "http", "protocol": "HTTP"}, {"number": 81, "protocol": "HTTP"}])
            ),
            [
                row("serviceentry-ports", "spec.ports[0]", Error),
                row("serviceentry-ports", "spec.ports[1]", Error),
            ]
        );
        // An empty name is there but not a label.
        assert_eq!(
            check(json!([{"number": 80, "name": "", "protocol": "HTTP"}])),
            [row("serviceentry-ports", "spec.ports[0].name", Error)]
        );
    }

    #[test]
    fn capitals_in_a_port_name_are_accepted_as_istio_accepts_them() {
        assert_eq!(
            check(
                json!([{"number": 5432, "name": "Postgres", "protocol": "TCP"},
                         {"number": 80, "name": "HTTP-Web", "protocol": "HTTP"}])
            ),
            []
        );
        for bad in ["tcp_postgres", "-http", "http-", &"a".repeat(64)] {
            assert_eq!(
                check(json!([{"number": 80, "name": bad, "protocol": "HTTP"}])),
                [row("serviceentry-ports", "spec.ports[0].name", Error)],
                "{bad}"
            );
        }
    }
}
