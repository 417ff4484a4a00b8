//! `serviceentry-addresses` (IPs or CIDR blocks, CIDRs only with NONE or STATIC) and
//! `serviceentry-addresses-required` (IST0134: a TCP port with no address to route it by).

use super::{Entry, error};
use crate::object::fields::member;
use crate::rules::names::parse_ip_or_cidr;
use crate::rules::vocabulary::{Protocol, Resolution};
use crate::rules::{FieldPath, Finding, Rule, Severity};
use serde_json::Value;

pub(super) fn check(entry: &Entry<'_>, findings: &mut Vec<Finding>) {
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

/// IST0134: a TCP or unset-protocol port needs an address to be routed, unless Istio allocated
/// one (`status.addresses`, written by DNS auto-allocation).
pub(super) fn required(object: &Value, entry: &Entry<'_>, findings: &mut Vec<Finding>) {
    if !entry.addresses.is_empty() {
        return;
    }
    let allocated = member(object, &["status", "addresses"])
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
