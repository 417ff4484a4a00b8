//! `virtualservice-match` for TLS routes: each match names SNI hosts, each a host name (or, on a
//! gateway, the `outbound_.<port>_._.<host>` name of auto-passthrough) within the
//! VirtualService's hosts; an IP as SNI is only warned about, as Istio does.

use serde_json::{Map, Value};

use super::RouteRef;
use crate::rules::names::{check_wildcard_domain, is_ip};
use crate::rules::{Finding, Rule, Severity};

const RULE: Rule = Rule::VirtualServiceMatch;

/// The traffic direction of the SNI names auto-passthrough gateways route on.
const OUTBOUND: &str = "outbound";

/// Checks the SNI hosts of every TLS match. `as_gateway`: `mesh` is not among the gateways, so
/// the SNI hosts are read as a gateway's.
pub(super) fn evaluate(
    spec: &Map<String, Value>,
    tls: &[RouteRef<'_>],
    as_gateway: bool,
    findings: &mut Vec<Finding>,
) {
    for owner in tls {
        let Some(Value::Array(requests)) = owner.route.get("match") else {
            continue;
        };
        for (m, request) in requests.iter().enumerate() {
            let Some(request) = request.as_object() else {
                continue;
            };
            let at = || owner.path().field("match").index(m);
            let sni_hosts = match request.get("sniHosts") {
                Some(Value::Array(hosts)) if !hosts.is_empty() => hosts,
                _ => {
                    findings.push(Finding::new(
                        RULE,
                        Severity::Error,
                        at().field("sniHosts"),
                        "a TLS match needs sniHosts: name the server names it matches",
                    ));
                    continue;
                }
            };
            for (k, sni) in sni_hosts.iter().enumerate() {
                let Some(sni) = sni.as_str() else {
                    continue;
                };
                let path = || at().field("sniHosts").index(k);
                let checked = if as_gateway {
                    check_gateway_domain(sni, true)
                } else {
                    check_wildcard_domain(sni)
                };
                match checked {
                    Err(_) if is_ip(sni) => findings.push(Finding::new(
                        RULE,
                        Severity::Warning,
                        path(),
                        format!(
                            "`{sni}` is an IP address, which SNI does not carry and most clients \
                             do not send: name the host, or match on destinationSubnets"
                        ),
                    )),
                    Err(reason) => findings.push(Finding::new(
                        RULE,
                        Severity::Error,
                        path(),
                        format!("{reason}: write a DNS name or *.domain"),
                    )),
                    Ok(()) if !within_hosts(spec, sni) => findings.push(Finding::new(
                        RULE,
                        Severity::Error,
                        path(),
                        format!(
                            "SNI host `{sni}` is not within the VirtualService's hosts: add it to \
                             hosts, or name one of them"
                        ),
                    )),
                    Ok(()) => {}
                }
            }
        }
    }
}

/// Whether an SNI host is one of the hosts or under one of their wildcards (Istio's
/// `host.Name.SubsetOf`).
fn within_hosts(spec: &Map<String, Value>, sni: &str) -> bool {
    let Some(Value::Array(hosts)) = spec.get("hosts") else {
        return false;
    };
    hosts.iter().filter_map(Value::as_str).any(|host| {
        match (sni.strip_prefix('*'), host.strip_prefix('*')) {
            (Some(sni_suffix), Some(host_suffix)) => sni_suffix.ends_with(host_suffix),
            (Some(_), None) => false,
            (None, Some(host_suffix)) => sni.ends_with(host_suffix),
            (None, None) => sni == host,
        }
    })
}

/// Istio's host check on a VirtualService bound to gateways: a host name, or where TLS matches
/// name SNI hosts (`sni`), also the `outbound_.<port>_._.<host>` names of auto-passthrough.
pub(super) fn check_gateway_domain(domain: &str, sni: bool) -> Result<(), String> {
    if !sni || !domain.starts_with("outbound_") || domain.len() > 255 {
        return check_wildcard_domain(domain);
    }
    let mut parts = domain.split('_');
    let (Some(direction), Some(port), Some(_), Some(host)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format!(
            "{domain:?} is not an auto-passthrough name (outbound_.<port>_._.<host>)"
        ));
    };
    let port = port.trim_matches('.');
    let host = host.trim_matches('.');
    if direction != OUTBOUND {
        Err(format!(
            "{domain:?} is not a host name (label {direction:?} is not valid)"
        ))
    } else if !port.bytes().any(|b| b.is_ascii_digit()) {
        Err(format!(
            "{domain:?} is not an auto-passthrough name: {port:?} is not a port (outbound_.<port>_._.<host>)"
        ))
    } else if !host.bytes().any(|b| b.is_ascii_alphabetic()) {
        Err(format!(
            "{domain:?} is not an auto-passthrough name: {host:?} is not a host (outbound_.<port>_._.<host>)"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::virtualservice::http::testing::{found, vs};
    use serde_json::json;

    fn tls(gateways: Value, hosts: Value, sni: Value) -> Value {
        vs(
            json!({"hosts": hosts, "gateways": gateways, "tls": [{"match": [{"port": 443, "sniHosts": sni}],
            "route": [{"destination": {"host": "r"}}]}]}),
        )
    }

    #[test]
    fn auto_passthrough_names_on_gateways() {
        let name = "outbound_.15010_._.istiod.istio-system.svc.cluster.local";
        assert_eq!(check_gateway_domain(name, true), Ok(()));
        assert!(check_gateway_domain(name, false).is_err());
        assert!(check_gateway_domain("outbound_.x_._.istiod", true).is_err());
        assert!(check_gateway_domain("inbound_.80_._.a", true).is_err());
        assert_eq!(
            found(&tls(json!(["ns1/gateway"]), json!([name]), json!([name]))),
            []
        );
        let rows: Vec<_> = found(&tls(json!(["mesh"]), json!(["r"]), json!([name])))
            .into_iter()
            .map(|(rule, path, _)| (rule, path))
            .collect();
        assert_eq!(
            rows,
            [(
                "virtualservice-match".to_string(),
                "spec.tls[0].match[0].sniHosts[0]".to_string()
            )]
        );
    }

    #[test]
    fn sni_hosts() {
        let findings = found(&tls(
            json!(["mesh"]),
            json!(["foo.bar", "*.shop"]),
            json!(["1.1.1.1", "foo.*.com", "other.bar", "a.shop", "foo.bar"]),
        ));
        let rows: Vec<_> = findings
            .iter()
            .map(|(_, path, message)| (path.as_str(), message.as_str()))
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "spec.tls[0].match[0].sniHosts[0]",
                    "`1.1.1.1` is an IP address, which SNI does not carry and most clients do not \
                     send: name the host, or match on destinationSubnets"
                ),
                (
                    "spec.tls[0].match[0].sniHosts[1]",
                    "\"foo.*.com\" is not a host name (label \"*\" is not 1-63 letters, digits or '-'): write a DNS \
                     name or *.domain"
                ),
                (
                    "spec.tls[0].match[0].sniHosts[2]",
                    "SNI host `other.bar` is not within the VirtualService's hosts: add it to \
                     hosts, or name one of them"
                ),
            ]
        );
        let missing = vs(
            json!({"hosts": ["r"], "tls": [{"match": [{"port": 443}], "route": [{"destination": {"host": "r"}}]}]}),
        );
        let rows: Vec<_> = found(&missing)
            .into_iter()
            .map(|(r, p, _)| (r, p))
            .collect();
        assert_eq!(
            rows,
            [(
                "virtualservice-match".to_string(),
                "spec.tls[0].match[0].sniHosts".to_string()
            )]
        );
    }
}
