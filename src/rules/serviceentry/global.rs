//! `serviceentry-global-multicluster`: the retired `.global` replicated-control-plane pattern.

use std::net::IpAddr;

use serde_json::Value;

use super::{Entry, warning};
use crate::rules::names::parse_ip_or_cidr;
use crate::rules::{Finding, Rule};

/// The gateway port of the `.global` multicluster pattern.
const GLOBAL_GATEWAY_PORT: u64 = 15443;

/// Whether an address (or CIDR) lies in the class E range 240.0.0.0/4.
fn in_class_e(address: &str) -> bool {
    match parse_ip_or_cidr(address) {
        Some((IpAddr::V4(ip), bits)) => ip.octets()[0] >= 240 && bits.is_none_or(|b| b >= 4),
        _ => false,
    }
}

pub(super) fn check(entry: &Entry<'_>, findings: &mut Vec<Finding>) {
    let rule = Rule::ServiceEntryGlobalMulticluster;
    let global_hosts: Vec<_> = entry
        .hosts
        .iter()
        .filter(|(_, h)| h.ends_with(".global"))
        .collect();
    if global_hosts.is_empty() {
        return;
    }
    for (path, host) in global_hosts {
        findings.push(warning(
            rule,
            path.clone(),
            format!("`{host}`: .global hosts belong to the retired replicated-control-plane multicluster setup; use multi-primary or primary-remote"),
        ));
    }
    for (path, address) in &entry.addresses {
        if !in_class_e(address) {
            findings.push(warning(
                rule,
                path.clone(),
                format!("`{address}` is outside 240.0.0.0/4, the class E range .global entries take their addresses from"),
            ));
        }
    }
    for (path, endpoint) in &entry.endpoints {
        if let Some(Value::Object(ports)) = endpoint.get("ports") {
            for (name, number) in ports {
                if number.as_u64() != Some(GLOBAL_GATEWAY_PORT) {
                    findings.push(warning(
                        rule,
                        path.field("ports").key(name),
                        format!("endpoint port {number} is not 15443, the gateway port .global traffic goes through"),
                    ));
                }
            }
        }
    }
}
