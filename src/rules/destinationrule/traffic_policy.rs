//! A traffic policy (Istio's `validateTrafficPolicy`), at the top of the spec or in a subset:
//! at least one setting, `tunnel` or `proxyProtocol` but not both, each port-level policy with a
//! port and a setting, and each setting checked by its own module.

use serde_json::{Map, Value};

use super::{Walk, connection_pool, field, load_balancer, non_empty_list, outlier, text, tls};
use crate::rules::names::{fqdn_problem, is_ip};
use crate::rules::numbers::{IntType, Integer, integer};
use crate::rules::{FieldPath, Rule};

/// What a traffic policy may set; one of them makes it a policy.
const POLICY_FIELDS: &[&str] = &[
    "loadBalancer",
    "connectionPool",
    "outlierDetection",
    "tls",
    "portLevelSettings",
    "tunnel",
    "proxyProtocol",
    "retryBudget",
];

/// What a port-level policy may set besides its port.
const PORT_FIELDS: &[&str] = &["loadBalancer", "connectionPool", "outlierDetection", "tls"];

fn sets_any(policy: &Map<String, Value>, fields: &[&str]) -> bool {
    fields.iter().any(|name| {
        if *name == "portLevelSettings" {
            non_empty_list(policy, name).is_some()
        } else {
            field(policy, name).is_some()
        }
    })
}

/// Checks a traffic policy and its port-level policies.
pub(super) fn policy(walk: &mut Walk<'_>, policy: &Map<String, Value>, path: &FieldPath) {
    let rule = Rule::DestinationRuleTrafficPolicy;
    if !sets_any(policy, POLICY_FIELDS) {
        walk.error(
            rule,
            path.clone(),
            "the traffic policy sets nothing: write a setting (loadBalancer, connectionPool, \
             outlierDetection, tls, portLevelSettings, ...) or remove it",
        );
        return;
    }
    if field(policy, "tunnel").is_some() && field(policy, "proxyProtocol").is_some() {
        walk.error(
            rule,
            path.clone(),
            "tunnel and proxyProtocol cannot be set together: keep one",
        );
        return;
    }
    settings(walk, policy, path);
    if let Some((key, ports)) = non_empty_list(policy, "portLevelSettings") {
        let ports_path = path.field(key);
        for (i, port) in ports.iter().enumerate() {
            port_policy(walk, port, &ports_path.index(i));
        }
    }
    if let Some((key, Value::Object(tunnel))) = field(policy, "tunnel") {
        self::tunnel(walk, tunnel, &path.field(key));
    }
    if let Some((key, Value::Object(proxy))) = field(policy, "proxyProtocol")
        && let Some((version_key, Value::String(version))) = field(proxy, "version")
        && !matches!(version.as_str(), "V1" | "V2")
    {
        walk.error(
            rule,
            path.field(key).field(version_key),
            format!("proxy protocol version {version:?} is not V1 or V2"),
        );
    }
}

/// The settings a port-level policy shares with the whole policy.
fn settings(walk: &mut Walk<'_>, policy: &Map<String, Value>, path: &FieldPath) {
    let outlier = field(policy, "outlierDetection");
    if let Some((key, Value::Object(outlier))) = outlier {
        outlier::check(walk, outlier, &path.field(key));
    }
    if let Some((key, Value::Object(pool))) = field(policy, "connectionPool") {
        connection_pool::check(walk, pool, &path.field(key));
    }
    if let Some((key, Value::Object(balancer))) = field(policy, "loadBalancer") {
        load_balancer::check(walk, balancer, &path.field(key), outlier.is_some());
    }
    if let Some((key, Value::Object(settings))) = field(policy, "tls") {
        tls::check(walk, settings, &path.field(key));
    }
}

fn port_policy(walk: &mut Walk<'_>, port: &Value, path: &FieldPath) {
    let rule = Rule::DestinationRuleTrafficPolicy;
    let port = match port {
        Value::Null => {
            walk.error(rule, path.clone(), "a port-level policy is null: remove it");
            return;
        }
        Value::Object(port) => port,
        _ => return,
    };
    if field(port, "port").is_none() {
        walk.error(
            rule,
            path.field("port"),
            "a port-level policy needs the port it applies to: write port: {number: ...}",
        );
    }
    if sets_any(port, PORT_FIELDS) {
        settings(walk, port, path);
    } else {
        walk.error(
            rule,
            path.clone(),
            "the port-level policy sets nothing: write loadBalancer, connectionPool, \
             outlierDetection or tls, or remove it",
        );
    }
}

fn tunnel(walk: &mut Walk<'_>, tunnel: &Map<String, Value>, path: &FieldPath) {
    let rule = Rule::DestinationRuleTrafficPolicy;
    let protocol = text(tunnel, "protocol");
    if !matches!(protocol, "" | "CONNECT" | "POST") {
        walk.error(
            rule,
            path.field("protocol"),
            format!("tunnel protocol {protocol:?} is not CONNECT or POST"),
        );
    }
    let host = text(tunnel, "targetHost");
    if let Err(why) = fqdn_problem(host)
        && !is_ip(host)
    {
        walk.error(
            rule,
            path.field("targetHost"),
            format!("tunnel target host {host:?} is neither a DNS name ({why}) nor an IP address"),
        );
    }
    let port = field(tunnel, "targetPort").map(|(_, v)| integer(v, IntType::Uint32));
    let number = match port {
        None => Some(0),
        Some(Some(Integer::Value(n))) => Some(n),
        // Not a number, or outside uint32: the schema's business.
        Some(_) => None,
    };
    if let Some(n) = number
        && !(1..=65535).contains(&n)
    {
        walk.error(
            rule,
            path.field("targetPort"),
            format!("tunnel target port {n} is not a port: write 1 to 65535"),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::destinationrule::spec::tests::run;
    use serde_json::{Value, json};

    fn policy(policy: Value) -> Vec<(String, String, String)> {
        run(json!({"host": "r", "trafficPolicy": policy}))
            .into_iter()
            .map(|f| (f.rule.to_string(), f.path.to_string(), f.message))
            .collect()
    }

    fn row(rule: &str, path: &str, message: &str) -> (String, String, String) {
        (rule.into(), path.into(), message.into())
    }

    #[test]
    fn empty_policies_ports_and_tunnels() {
        let tp = "destinationrule-traffic-policy";
        assert_eq!(
            policy(json!({"portLevelSettings": []})),
            [row(
                tp,
                "spec.trafficPolicy",
                "the traffic policy sets nothing: write a setting (loadBalancer, connectionPool, outlierDetection, tls, portLevelSettings, ...) or remove it"
            )]
        );
        assert_eq!(
            policy(json!({"tunnel": {"targetHost": "h", "targetPort": 8443}, "proxyProtocol": {}})),
            [row(
                tp,
                "spec.trafficPolicy",
                "tunnel and proxyProtocol cannot be set together: keep one"
            )]
        );
        assert_eq!(
            policy(json!({"portLevelSettings": [
                {"loadBalancer": {"simple": "ROUND_ROBIN"}},
                {"port": {"number": 80}},
                null,
                {"port": {"number": 81}, "connectionPool": {}},
            ]})),
            [
                row(
                    tp,
                    "spec.trafficPolicy.portLevelSettings[0].port",
                    "a port-level policy needs the port it applies to: write port: {number: ...}"
                ),
                row(
                    tp,
                    "spec.trafficPolicy.portLevelSettings[1]",
                    "the port-level policy sets nothing: write loadBalancer, connectionPool, outlierDetection or tls, or remove it"
                ),
                row(
                    tp,
                    "spec.trafficPolicy.portLevelSettings[2]",
                    "a port-level policy is null: remove it"
                ),
                row(
                    "destinationrule-connection-pool",
                    "spec.trafficPolicy.portLevelSettings[3].connectionPool",
                    "the connection pool sets nothing: write tcp or http limits, or remove it"
                ),
            ]
        );
        assert_eq!(
            policy(
                json!({"tunnel": {"protocol": "GET", "targetHost": "not a host", "targetPort": 0}})
            ),
            [
                row(
                    tp,
                    "spec.trafficPolicy.tunnel.protocol",
                    "tunnel protocol \"GET\" is not CONNECT or POST"
                ),
                row(
                    tp,
                    "spec.trafficPolicy.tunnel.targetHost",
                    "tunnel target host \"not a host\" is neither a DNS name (label \"not a host\" is not 1-63 letters, digits or '-') nor an IP address"
                ),
                row(
                    tp,
                    "spec.trafficPolicy.tunnel.targetPort",
                    "tunnel target port 0 is not a port: write 1 to 65535"
                ),
            ]
        );
        assert!(
            policy(
                json!({"tunnel": {"protocol": "POST", "targetHost": "10.0.0.1", "targetPort": 443}})
            )
            .is_empty()
        );
        assert_eq!(
            policy(json!({"proxyProtocol": {"version": "V3"}})),
            [row(
                tp,
                "spec.trafficPolicy.proxyProtocol.version",
                "proxy protocol version \"V3\" is not V1 or V2"
            )]
        );
        assert!(policy(json!({"retryBudget": {"percent": {"value": 20}}})).is_empty());
        // A subset's policy is held to the same checks.
        let findings = run(json!({"host": "r", "subsets": [{"name": "v1", "trafficPolicy": {}}]}));
        assert_eq!(
            findings[0].path.to_string(),
            "spec.subsets[0].trafficPolicy"
        );
    }
}
