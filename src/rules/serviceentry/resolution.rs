//! `serviceentry-resolution`: the endpoints, hosts, addresses, ports and location fit the
//! resolution mode. DYNAMIC_DNS is version-dependent: Istio 1.28 introduced it for HTTP ports
//! of MESH_EXTERNAL entries, 1.29 added TLS, 1.30 GRPC, HTTP2 and MESH_INTERNAL (without a
//! waypoint); each is judged by the oldest release in `minIstioVersion`.

use super::{DYNAMIC_DNS_SINCE, Entry, Port, error, warning};
use crate::rules::vocabulary::{Protocol, Resolution};
use crate::rules::{FieldPath, Finding, IstioVersion, Rule};

/// The first release that takes TLS ports under DYNAMIC_DNS.
const DYNAMIC_DNS_TLS_SINCE: IstioVersion = IstioVersion::new(1, 29);
/// The first release that takes GRPC and HTTP2 ports, and MESH_INTERNAL, under DYNAMIC_DNS.
const DYNAMIC_DNS_GRPC_INTERNAL_SINCE: IstioVersion = IstioVersion::new(1, 30);

/// The label that puts an object's traffic through a waypoint proxy.
const USE_WAYPOINT: &str = "istio.io/use-waypoint";

pub(super) fn check(entry: &Entry<'_>, oldest: IstioVersion, findings: &mut Vec<Finding>) {
    let rule = Rule::ServiceEntryResolution;
    let endpoints_path = FieldPath::fields("spec.endpoints");
    match entry.resolution {
        Resolution::None if !entry.endpoints.is_empty() => findings.push(error(
            rule,
            endpoints_path,
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
                    endpoints_path,
                    "resolution DNS_ROUND_ROBIN takes at most one endpoint: use DNS for several",
                ));
            }
            if blind_port(entry).is_none() {
                shared_addresses(entry, findings);
            }
        }
        Resolution::DynamicDns => dynamic_dns(entry, oldest, findings),
        _ => {}
    }
    if let Some(port) = blind_port(entry) {
        findings.push(error(
            rule,
            FieldPath::fields("spec.hosts"),
            format!(
                "several hosts with resolution {} need HTTP or TLS ports to tell them apart, and {} is {}: \
                 split the entry per host",
                entry.resolution,
                port.path,
                port.protocol_name()
            ),
        ));
    }
}

/// With several hosts under a resolution other than NONE, the first port whose traffic does
/// not name its host (no HTTP `Host`, no TLS SNI).
fn blind_port<'e, 'a>(entry: &'e Entry<'a>) -> Option<&'e Port<'a>> {
    if entry.resolution == Resolution::None || entry.hosts.len() < 2 {
        return None;
    }
    entry.ports.iter().find(|p| {
        p.protocol
            .as_ref()
            .is_none_or(|protocol| !protocol.names_its_host())
    })
}

/// Istio's warning for DNS entries with addresses, several hosts and a port proxied as TCP
/// (HTTPS and TLS included, whose hosts the SNI would tell apart without the addresses).
fn shared_addresses(entry: &Entry<'_>, findings: &mut Vec<Finding>) {
    if entry.addresses.is_empty() || entry.hosts.len() < 2 {
        return;
    }
    let tcp_carried = entry.ports.iter().find(|p| {
        p.protocol.as_ref().is_some_and(|protocol| {
            matches!(
                protocol,
                Protocol::Tcp
                    | Protocol::Https
                    | Protocol::Tls
                    | Protocol::Mongo
                    | Protocol::Redis
                    | Protocol::Mysql
            )
        })
    });
    if let Some(port) = tcp_carried {
        findings.push(warning(
            Rule::ServiceEntryResolution,
            FieldPath::fields("spec.hosts"),
            format!(
                "several hosts share spec.addresses and {} is {}, a port the sidecars proxy as TCP: \
                 the addresses cannot tell the hosts apart, and Istio warns: give each host its own \
                 entry and address",
                port.path,
                port.protocol_name()
            ),
        ));
    }
}

fn dynamic_dns(entry: &Entry<'_>, oldest: IstioVersion, findings: &mut Vec<Finding>) {
    let rule = Rule::ServiceEntryResolution;
    if oldest < DYNAMIC_DNS_SINCE {
        findings.push(error(
            rule,
            FieldPath::fields("spec.resolution"),
            format!(
                "resolution DYNAMIC_DNS is new in Istio {DYNAMIC_DNS_SINCE}: earlier releases' CRDs \
                 refuse it, and minIstioVersion is {oldest}: use DNS with named hosts while older \
                 control planes run, or raise minIstioVersion"
            ),
        ));
    }
    // The checks below are those of the oldest release that knows the resolution.
    let judged = oldest.max(DYNAMIC_DNS_SINCE);
    for (path, host) in entry.hosts.iter().filter(|(_, h)| !h.starts_with('*')) {
        findings.push(error(
            rule,
            path.clone(),
            format!(
                "resolution DYNAMIC_DNS needs wildcard hosts such as *.example.com, and `{host}` is \
                 not one: use resolution DNS for a named host"
            ),
        ));
    }
    if !entry.addresses.is_empty() {
        findings.push(error(
            rule,
            FieldPath::fields("spec.addresses"),
            "resolution DYNAMIC_DNS takes no addresses (routes are built from the hosts): remove them",
        ));
    }
    if !entry.endpoints.is_empty() {
        findings.push(error(
            rule,
            FieldPath::fields("spec.endpoints"),
            "resolution DYNAMIC_DNS takes no endpoints (the destination is resolved from the \
             requested host name): remove them",
        ));
    }
    let (allowed, names): (&[Protocol], &str) = if judged >= DYNAMIC_DNS_GRPC_INTERNAL_SINCE {
        (
            &[
                Protocol::Http,
                Protocol::Tls,
                Protocol::Grpc,
                Protocol::Http2,
            ],
            "HTTP, TLS, GRPC and HTTP2",
        )
    } else if judged >= DYNAMIC_DNS_TLS_SINCE {
        (&[Protocol::Http, Protocol::Tls], "HTTP and TLS")
    } else {
        (&[Protocol::Http], "HTTP")
    };
    for port in &entry.ports {
        if port.protocol.as_ref().is_some_and(|p| allowed.contains(p)) {
            continue;
        }
        let versions = if judged >= DYNAMIC_DNS_GRPC_INTERNAL_SINCE {
            String::new()
        } else {
            format!(
                " in Istio {judged} (minIstioVersion is {oldest}; TLS from \
                 {DYNAMIC_DNS_TLS_SINCE}, GRPC and HTTP2 from {DYNAMIC_DNS_GRPC_INTERNAL_SINCE})"
            )
        };
        let path = match port.protocol {
            Some(_) => port.path.field("protocol"),
            None => port.path.clone(),
        };
        findings.push(error(
            rule,
            path,
            format!(
                "resolution DYNAMIC_DNS takes only {names} ports{versions}, and {} is {}: serve it \
                 from an entry with another resolution",
                port.path,
                port.protocol_name()
            ),
        ));
    }
    if entry.location == Some("MESH_INTERNAL") {
        let path = FieldPath::fields("spec.location");
        if judged < DYNAMIC_DNS_GRPC_INTERNAL_SINCE {
            findings.push(error(
                rule,
                path,
                format!(
                    "location MESH_INTERNAL with resolution DYNAMIC_DNS needs Istio \
                     {DYNAMIC_DNS_GRPC_INTERNAL_SINCE}, and minIstioVersion is {oldest}: use \
                     MESH_EXTERNAL"
                ),
            ));
        } else if let Some(waypoint) = waypoint(entry) {
            findings.push(error(
                rule,
                path,
                format!(
                    "location MESH_INTERNAL with resolution DYNAMIC_DNS does not work through a \
                     waypoint, and the entry has label {USE_WAYPOINT}: {waypoint}: use \
                     MESH_EXTERNAL, or remove the label"
                ),
            ));
        }
    }
}

/// The waypoint the object's `istio.io/use-waypoint` label names (`none` opts out).
fn waypoint<'a>(entry: &Entry<'a>) -> Option<&'a str> {
    entry
        .labels?
        .get(USE_WAYPOINT)?
        .as_str()
        .filter(|name| !name.is_empty() && !name.eq_ignore_ascii_case("none"))
}

#[cfg(test)]
mod tests {
    use crate::rules::Severity::{self, Error, Warning};
    use crate::rules::{IstioVersion, ObjectKind, Rule, Subject};
    use serde_json::{Value, json};

    fn judged(object: &Value, oldest: IstioVersion) -> Vec<(String, Severity, String)> {
        crate::rules::evaluate(&Subject {
            min_istio_version: oldest,
            ..Subject::created(ObjectKind::ServiceEntry, object)
        })
        .into_iter()
        .filter(|f| f.rule == Rule::ServiceEntryResolution)
        .map(|f| (f.path.to_string(), f.severity, f.message))
        .collect()
    }

    fn dynamic(spec: Value) -> Value {
        let mut spec = spec;
        spec["resolution"] = json!("DYNAMIC_DNS");
        json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
               "metadata": {"name": "ext", "namespace": "shop"}, "spec": spec})
    }

    fn paths(findings: &[(String, Severity, String)]) -> Vec<(&str, Severity)> {
        findings.iter().map(|(p, s, _)| (p.as_str(), *s)).collect()
    }

    const NEWEST: IstioVersion = IstioVersion::new(1, 32);

    #[test]
    fn dynamic_dns_needs_wildcard_hosts_and_no_addresses_or_endpoints() {
        let object = dynamic(json!({"hosts": ["*.example.com", "api.example.com"],
            "addresses": ["10.0.0.1"], "endpoints": [{"address": "1.1.1.1"}],
            "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}]}));
        let found = judged(&object, NEWEST);
        assert_eq!(
            paths(&found),
            [
                ("spec.hosts[1]", Error),
                ("spec.addresses", Error),
                ("spec.endpoints", Error),
            ]
        );
        assert_eq!(
            found[0].2,
            "resolution DYNAMIC_DNS needs wildcard hosts such as *.example.com, and \
             `api.example.com` is not one: use resolution DNS for a named host"
        );
    }

    #[test]
    fn dynamic_dns_protocols_follow_the_oldest_release() {
        let object = dynamic(json!({"hosts": ["*.example.com"], "ports": [
            {"number": 80, "name": "http", "protocol": "http"},
            {"number": 443, "name": "tls", "protocol": "TLS"},
            {"number": 9090, "name": "grpc", "protocol": "GRPC"},
            {"number": 81, "name": "tcp"}]}));
        assert_eq!(paths(&judged(&object, NEWEST)), [("spec.ports[3]", Error)]);
        assert_eq!(
            judged(&object, NEWEST)[0].2,
            "resolution DYNAMIC_DNS takes only HTTP, TLS, GRPC and HTTP2 ports, and \
             spec.ports[3] is TCP (no protocol): serve it from an entry with another resolution"
        );
        assert_eq!(
            paths(&judged(&object, IstioVersion::new(1, 29))),
            [("spec.ports[2].protocol", Error), ("spec.ports[3]", Error)]
        );
        let at_1_28 = judged(&object, IstioVersion::new(1, 28));
        assert_eq!(
            paths(&at_1_28),
            [
                ("spec.ports[1].protocol", Error),
                ("spec.ports[2].protocol", Error),
                ("spec.ports[3]", Error),
            ]
        );
        assert_eq!(
            at_1_28[0].2,
            "resolution DYNAMIC_DNS takes only HTTP ports in Istio 1.28 (minIstioVersion is \
             1.28; TLS from 1.29, GRPC and HTTP2 from 1.30), and spec.ports[1] is TLS: serve it \
             from an entry with another resolution"
        );
    }

    #[test]
    fn dynamic_dns_before_1_28_is_refused() {
        let object = dynamic(json!({"hosts": ["*.example.com"],
            "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}]}));
        assert_eq!(judged(&object, IstioVersion::new(1, 28)), []);
        assert_eq!(
            judged(&object, IstioVersion::new(1, 4)),
            [(
                "spec.resolution".to_string(),
                Error,
                "resolution DYNAMIC_DNS is new in Istio 1.28: earlier releases' CRDs refuse it, \
                 and minIstioVersion is 1.4: use DNS with named hosts while older control planes \
                 run, or raise minIstioVersion"
                    .to_string()
            )]
        );
    }

    #[test]
    fn mesh_internal_dynamic_dns_needs_1_30_and_no_waypoint() {
        let mut object = dynamic(
            json!({"hosts": ["*.example.com"], "location": "MESH_INTERNAL",
            "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}]}),
        );
        assert_eq!(judged(&object, NEWEST), []);
        assert_eq!(
            paths(&judged(&object, IstioVersion::new(1, 29))),
            [("spec.location", Error)]
        );
        object["metadata"]["labels"] = json!({"istio.io/use-waypoint": "None"});
        assert_eq!(judged(&object, NEWEST), []);
        object["metadata"]["labels"] = json!({"istio.io/use-waypoint": "egress"});
        assert_eq!(
            judged(&object, NEWEST),
            [(
                "spec.location".to_string(),
                Error,
                "location MESH_INTERNAL with resolution DYNAMIC_DNS does not work through a \
                 waypoint, and the entry has label istio.io/use-waypoint: egress: use \
                 MESH_EXTERNAL, or remove the label"
                    .to_string()
            )]
        );
    }

    #[test]
    fn several_hosts_sharing_addresses_on_a_tls_port_are_a_warning() {
        let object = json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "spec": {"hosts": ["a.example.com", "b.example.com"], "addresses": ["10.0.0.1"],
                     "resolution": "DNS", "ports": [
                        {"number": 80, "name": "http", "protocol": "HTTP"},
                        {"number": 443, "name": "https", "protocol": "HTTPS"}]}});
        assert_eq!(paths(&judged(&object, NEWEST)), [("spec.hosts", Warning)]);
        let mut single = object.clone();
        single["spec"]["hosts"] = json!(["a.example.com"]);
        assert_eq!(judged(&single, NEWEST), []);
        // A plain TCP port is the error about telling hosts apart, not this warning as well.
        let mut tcp = object.clone();
        tcp["spec"]["ports"][1]["protocol"] = json!("TCP");
        assert_eq!(paths(&judged(&tcp, NEWEST)), [("spec.hosts", Error)]);
    }
}
