//! The structural VirtualService rules of docs/rules.md, following Istio's own validation
//! (`validateVirtualService` and friends): hosts, routes, destinations, weights, fault injection,
//! mirroring, gateway references, `exportTo`, and the `external-mesh` (Cloud Run) pattern.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::fault::{self, percentage_value};
use super::tls_match::check_gateway_domain;
use super::view::Routes;
use super::{Destination, section};
use crate::rules::domains::is_label;
use crate::rules::names::{
    check_fqdn, check_wildcard_domain, first_overlaps, is_ip, service_namespace,
};
use crate::rules::numbers::{IntType, Integer, double_text, integer};
use crate::rules::{
    FieldPath, Finding, IstioVersion, Rule, Severity, Subject, export_to, spec_list,
};

/// The gateway name of in-mesh sidecars.
const MESH: &str = "mesh";
/// The gateway name of mesh-external clients such as Cloud Run services.
const EXTERNAL_MESH: &str = "external-mesh";

/// Runs the structural rules over the routes `all` of the subject's spec.
pub(super) fn evaluate(subject: &Subject<'_>, all: &Routes<'_>, findings: &mut Vec<Finding>) {
    let spec = subject.spec();
    let gateways = spec_list(spec, "gateways", Value::as_str);
    hosts(spec, &gateways, findings);
    routes(spec, all, findings);
    destination_fields(all, findings);
    weights(all, subject.min_istio_version, findings);
    fault::faults(&all.http, findings);
    mirrors(all, findings);
    gateway_names(&gateways, findings);
    findings.extend(export_to::evaluate(
        subject,
        spec,
        Rule::VirtualServiceExportTo,
        false,
    ));
    external_mesh(subject, &all.destinations, &gateways, findings);
}

/// A field by its camelCase name. The structural rules do not read snake_case spellings: those
/// are `virtualservice-field-spelling` findings, renamed by `/mutate` before `/validate` runs
/// (and dropped by current CRDs before either), and the exact lookup is what keeps this fast.
fn field<'a>(map: &'a Map<String, Value>, name: &str) -> Option<(&'a str, &'a Value)> {
    map.get_key_value(name).map(|(k, v)| (k.as_str(), v))
}

fn non_empty(spec: &Map<String, Value>, name: &str) -> Option<FieldPath> {
    match field(spec, name) {
        Some((key, Value::Array(items))) if !items.is_empty() => {
            Some(FieldPath::fields("spec").field(key))
        }
        _ => None,
    }
}

fn error(rule: Rule, path: FieldPath, message: impl Into<String>) -> Finding {
    Finding::new(rule, Severity::Error, path, message)
}

fn hosts(spec: &Map<String, Value>, gateways: &[(FieldPath, &str)], findings: &mut Vec<Finding>) {
    let rule = Rule::VirtualServiceHosts;
    let hosts = spec_list(spec, "hosts", Value::as_str);
    if hosts.is_empty() {
        // A delegate, attached by another VirtualService's `delegate`.
        for (name, what) in [
            ("gateways", "gateways"),
            ("tls", "tls routes"),
            ("tcp", "tcp routes"),
        ] {
            if let Some(path) = non_empty(spec, name) {
                findings.push(error(
                    rule,
                    path,
                    format!("a VirtualService without hosts is a delegate and cannot have {what}: add hosts or remove them"),
                ));
            }
        }
        return;
    }
    let applies_to_mesh = gateways.is_empty() || gateways.iter().any(|(_, g)| *g == MESH);
    // On gateways, TLS routes may match auto-passthrough names, which hosts then name too.
    let sni = !applies_to_mesh && has_sni_hosts(spec);
    let mut all_valid = true;
    for (path, host) in &hosts {
        let checked = if applies_to_mesh {
            check_wildcard_domain(host)
        } else {
            check_gateway_domain(host, sni)
        };
        if let Err(reason) = checked {
            if !is_ip(host) {
                findings.push(error(
                    rule,
                    path.clone(),
                    format!("{reason}: write a DNS name, *.domain or an IP"),
                ));
                all_valid = false;
            }
        } else if *host == "*" && applies_to_mesh {
            findings.push(error(
                rule,
                path.clone(),
                "`*` is not allowed on a VirtualService bound to the mesh gateway: name the hosts",
            ));
            all_valid = false;
        }
    }
    if all_valid {
        let names: Vec<&str> = hosts.iter().map(|(_, host)| *host).collect();
        for ((path, host), earlier) in hosts.iter().zip(first_overlaps(&names)) {
            if let Some((earlier_path, earlier)) = earlier.and_then(|i| hosts.get(i)) {
                findings.push(error(
                    rule,
                    path.clone(),
                    format!("`{host}` overlaps `{earlier}` ({earlier_path}): keep one of them"),
                ));
            }
        }
    }
}

/// Whether a TLS match names SNI hosts (Istio's "SNI host" VirtualService).
fn has_sni_hosts(spec: &Map<String, Value>) -> bool {
    section(spec, "tls").any(|owner| {
        matches!(field(owner.route, "match"), Some((_, Value::Array(requests)))
            if requests.iter().any(|r| matches!(r.get("sniHosts"), Some(Value::Array(h)) if !h.is_empty())))
    })
}

fn routes(spec: &Map<String, Value>, all: &Routes<'_>, findings: &mut Vec<Finding>) {
    let rule = Rule::VirtualServiceRoutes;
    if ["http", "tcp", "tls"]
        .iter()
        .all(|name| non_empty(spec, name).is_none())
    {
        findings.push(error(
            rule,
            FieldPath::fields("spec.http"),
            "a VirtualService needs http, tcp or tls routes",
        ));
    }
    for http in &all.http {
        let (owner, blocks) = (http.owner, &http.blocks);
        // Set, and not `null` (which the API server keeps but Istio reads as unset).
        let set = |block: Option<&Value>| block.is_some_and(|v| !v.is_null());
        let has_route = matches!(blocks.route, Some(Value::Array(list)) if !list.is_empty());
        let (redirect, direct_response) = (set(blocks.redirect), set(blocks.direct_response));
        if !has_route && !redirect && !direct_response && !set(blocks.delegate) {
            findings.push(error(
                rule,
                owner.path(),
                "an HTTP route needs route, redirect, directResponse or delegate",
            ));
        }
        if has_route && redirect {
            findings.push(error(
                rule,
                owner.path().field("redirect"),
                "route and redirect cannot be combined: keep one",
            ));
        }
        // What a redirect or a direct response cannot stand beside.
        for (answered, what) in [
            (redirect, "a redirect"),
            (direct_response, "a direct response"),
        ] {
            if !answered {
                continue;
            }
            for (other, block) in [("fault", blocks.fault), ("rewrite", blocks.rewrite)] {
                if set(block) {
                    findings.push(error(
                        rule,
                        owner.path().field(other),
                        format!(
                            "{other} has no effect on {what}: remove {other}, or route the requests"
                        ),
                    ));
                }
            }
        }
        if direct_response && (has_route || redirect) {
            findings.push(error(
                rule,
                owner.path().field("directResponse"),
                "directResponse cannot be combined with route or redirect: keep one",
            ));
        }
        if set(blocks.mirror) && set(blocks.mirrors) {
            findings.push(error(
                rule,
                owner.path().field("mirrors"),
                "mirror and mirrors cannot be combined: move mirror into mirrors",
            ));
        }
    }
    for (name, what, section) in [("tcp", "TCP", &all.tcp), ("tls", "TLS", &all.tls)] {
        for owner in section {
            if !matches!(field(owner.route, "route"), Some((_, Value::Array(list))) if !list.is_empty())
            {
                findings.push(error(
                    rule,
                    owner.path().field("route"),
                    format!("a {what} route needs route: name the destination"),
                ));
            }
            if name == "tls"
                && !matches!(field(owner.route, "match"), Some((_, Value::Array(list))) if !list.is_empty())
            {
                findings.push(error(
                    rule,
                    owner.path().field("match"),
                    "a TLS route needs match: name the SNI hosts it takes",
                ));
            }
        }
    }
}

fn destination_fields(all: &Routes<'_>, findings: &mut Vec<Finding>) {
    let rule = Rule::VirtualServiceDestinations;
    // Large VirtualServices name the same few hosts thousands of times: check each once.
    let mut valid_hosts: HashSet<&str> = HashSet::new();
    for view in &all.lists {
        for entry in all.entries(view) {
            if entry.fields.is_some() && entry.destination.is_none() {
                findings.push(error(
                    rule,
                    view.list.path().index(entry.index).field("destination"),
                    "destination is required: name the host to route to",
                ));
            }
        }
    }
    for found in &all.destinations {
        if !found.value.is_object() {
            continue;
        }
        let path = || found.path();
        match found.host.and_then(Value::as_str) {
            None | Some("") => {
                findings.push(error(
                    rule,
                    path().field("host"),
                    "host is required: name the service to route to",
                ));
            }
            Some("*") => findings.push(error(
                rule,
                path().field("host"),
                "`*` is not a destination: name a service host",
            )),
            Some(host) if valid_hosts.contains(host) => {}
            Some(host) => {
                if let Err(reason) = check_wildcard_domain(host) {
                    findings.push(error(
                        rule,
                        path().field("host"),
                        format!("{reason}: name a service host"),
                    ));
                } else {
                    valid_hosts.insert(host);
                }
            }
        }
        if let Some(Value::String(subset)) = found.subset
            && !subset.is_empty()
            && !is_label(subset)
        {
            findings.push(error(
                rule,
                path().field("subset"),
                format!("subset `{subset}` is not a DNS-1123 label (letters, digits, '-'): use the subset's name"),
            ));
        }
        if let Some(Value::Object(port)) = found.port {
            // A port selector without a number selects no port: Istio refuses it.
            let message = match port.get("number") {
                Some(number) => port_problem(number),
                None => {
                    Some("port has no number: write a port from 1 to 65535, or remove port".into())
                }
            };
            if let Some(message) = message {
                findings.push(error(rule, path().field("port").field("number"), message));
            }
        }
    }
}

/// Why a destination's `port.number` (uint32) is not a port, if it is not.
pub(super) fn port_problem(number: &Value) -> Option<String> {
    match integer(number, IntType::Uint32)? {
        Integer::Value(n) if (1..=65535).contains(&n) => None,
        Integer::Value(_) | Integer::Outside => Some(format!("port {number} is outside 1-65535")),
        Integer::Fraction => Some(format!(
            "port {number} is not a whole number: write a port from 1 to 65535"
        )),
    }
}

/// Istio validates that weights add up to 100 before 1.15 and scales them from then on.
const WEIGHTS_SCALED_SINCE: IstioVersion = IstioVersion::new(1, 15);

fn weights(all: &Routes<'_>, oldest: IstioVersion, findings: &mut Vec<Finding>) {
    let rule = Rule::VirtualServiceWeights;
    for view in &all.lists {
        let list = &view.list;
        // Weights are int32: the sum of any number of them fits an i128.
        let mut total: i128 = 0;
        // A weight outside int32 is its own error; a total with it left out would mislead.
        let mut all_int32 = true;
        for entry in all.entries(view) {
            let Some(weight) = entry.weight else {
                continue;
            };
            let path = || list.path().index(entry.index).field("weight");
            match integer(weight, IntType::Int32) {
                Some(Integer::Value(n)) => {
                    if n < 0 {
                        findings.push(error(rule, path(), format!("weight {n} is negative")));
                    }
                    total += n;
                }
                Some(Integer::Outside) => {
                    all_int32 = false;
                    findings.push(error(
                        rule,
                        path(),
                        format!(
                            "weight {weight} is outside {}: write a weight from 0 to 100",
                            IntType::Int32
                        ),
                    ));
                }
                Some(Integer::Fraction) => {
                    all_int32 = false;
                    findings.push(error(
                        rule,
                        path(),
                        format!(
                            "weight {weight} is not a whole number: write a weight from 0 to 100"
                        ),
                    ));
                }
                // Not a number: the schema's business; counted as unset, as Istio reads it.
                None => {}
            }
        }
        if list.entries.len() < 2 || !all_int32 {
            continue;
        }
        if total == 0 {
            findings.push(error(
                rule,
                list.path(),
                "the destinations' weights add up to 0: give them weights that add up to 100",
            ));
        } else if total != 100 && oldest < WEIGHTS_SCALED_SINCE {
            findings.push(error(
                rule,
                list.path(),
                format!(
                    "weights add up to {total}, not 100: Istio before {WEIGHTS_SCALED_SINCE} rejects \
                     this and minIstioVersion is {oldest}: make them add up to 100"
                ),
            ));
        } else if total != 100 {
            // Accepted by every control plane left, as Istio's validation accepts it: a note.
            findings.push(Finding::new(
                rule,
                Severity::Info,
                list.path(),
                format!(
                    "weights add up to {total}, not 100: Istio {WEIGHTS_SCALED_SINCE} and later \
                     (minIstioVersion is {oldest}) scale them to 100; make them add up to 100 to \
                     say what you mean"
                ),
            ));
        }
    }
}

fn mirrors(all: &Routes<'_>, findings: &mut Vec<Finding>) {
    let rule = Rule::VirtualServiceMirror;
    for http in &all.http {
        let (owner, blocks) = (http.owner, &http.blocks);
        if let Some(percentage) = blocks.mirror_percentage
            && let Some(value) = percentage.get("value").and_then(Value::as_f64)
            && !(0.0..=100.0).contains(&value)
        {
            findings.push(error(
                rule,
                owner.path().field("mirrorPercentage").field("value"),
                format!("mirror percentage {} is outside 0-100", double_text(value)),
            ));
        }
        // Deprecated (virtualservice-deprecated-fields), but still read: over 100 is refused.
        if let Some(percent) = blocks.mirror_percent
            && let Some(Integer::Value(value)) = integer(percent, IntType::Uint32)
            && value > 100
        {
            findings.push(error(
                rule,
                owner.path().field("mirrorPercent"),
                format!(
                    "mirrorPercent {value} is over 100: write mirrorPercentage.value from 0 to 100"
                ),
            ));
        }
        if let Some(Value::Array(list)) = blocks.mirrors {
            for (k, mirror) in list.iter().enumerate() {
                let Some(mirror) = mirror.as_object() else {
                    continue;
                };
                let mirror_path = || owner.path().field("mirrors").index(k);
                if field(mirror, "destination").is_none() {
                    findings.push(error(
                        rule,
                        mirror_path().field("destination"),
                        "a mirror needs a destination",
                    ));
                }
                if let Some((percentage_key, value)) = percentage_value(mirror)
                    && !(0.0..=100.0).contains(&value)
                {
                    findings.push(error(
                        rule,
                        mirror_path().field(percentage_key).field("value"),
                        format!("mirror percentage {} is outside 0-100", double_text(value)),
                    ));
                }
            }
        }
    }
}

pub(super) fn gateway_names(gateways: &[(FieldPath, &str)], findings: &mut Vec<Finding>) {
    let rule = Rule::VirtualServiceGateways;
    for (path, gateway) in gateways {
        if let Some((namespace, name)) = gateway.split_once('/') {
            if !is_label(namespace) || !is_label(name) {
                findings.push(error(
                    rule,
                    path.clone(),
                    format!(
                        "`{gateway}`: namespace and name must be DNS-1123 labels (namespace/name)"
                    ),
                ));
            }
        } else if gateway.contains('.') {
            if let Err(reason) = check_fqdn(gateway) {
                findings.push(error(
                    rule,
                    path.clone(),
                    format!("{reason}: write namespace/name"),
                ));
            } else {
                // The dotted form names its own namespace: no namespace to resolve it in.
                let resolved = crate::mesh::host::gateway(gateway, "");
                findings.push(Finding::new(
                    rule,
                    Severity::Warning,
                    path.clone(),
                    format!("legacy name.namespace form: write {resolved}"),
                ));
            }
        } else if !is_label(gateway) {
            findings.push(error(
                rule,
                path.clone(),
                format!("`{gateway}` is not a gateway name, namespace/name or `mesh`"),
            ));
        }
    }
}

/// The Cloud Run → mesh pattern: clients outside the mesh reach Services through the
/// `external-mesh` gateway, and such a VirtualService must live in the destination's namespace.
fn external_mesh(
    subject: &Subject<'_>,
    destinations: &[Destination<'_>],
    gateways: &[(FieldPath, &str)],
    findings: &mut Vec<Finding>,
) {
    let rule = Rule::VirtualServiceExternalMesh;
    if !gateways.iter().any(|(_, g)| *g == EXTERNAL_MESH) {
        return;
    }
    let own = subject.object_namespace();
    let mut reported: HashSet<String> = HashSet::new();
    for found in destinations {
        let Some(host) = found.host.and_then(Value::as_str) else {
            continue;
        };
        let Some(Some(target)) = service_namespace(host) else {
            continue;
        };
        if let Some(own) = own
            && target != own
        {
            let path = found.path().field("host");
            if reported.insert(path.to_string()) {
                findings.push(error(
                    rule,
                    path,
                    format!(
                        "external-mesh VirtualServices must live in the destination Service's namespace: \
                         `{host}` is in `{target}`, this one in `{own}`; create it in `{target}`"
                    ),
                ));
            }
        }
    }
    if !gateways.iter().any(|(_, g)| *g == MESH) {
        let path = FieldPath::fields("spec.gateways");
        findings.push(Finding::new(
            rule,
            Severity::Info,
            path,
            "external-mesh without mesh: clients inside the mesh do not get these routes; add mesh if they should",
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::ObjectKind;
    use crate::rules::Severity::{Error, Info, Warning};
    use crate::rules::testing::{row, summary};
    use serde_json::{Value, json};

    fn vs(spec: Value) -> Value {
        json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
               "metadata": {"name": "ratings", "namespace": "shop"}, "spec": spec})
    }

    fn route(host: &str) -> Value {
        json!({"route": [{"destination": {"host": host}}]})
    }

    fn check(spec: Value) -> Vec<(String, String, crate::rules::Severity)> {
        summary(ObjectKind::VirtualService, &vs(spec))
    }

    #[test]
    fn valid_objects_produce_nothing() {
        let valid = [
            json!({"hosts": ["ratings"], "http": [route("ratings")]}),
            json!({"hosts": ["*.example.com", "10.0.0.1"], "gateways": ["istio-system/ingress"], "http": [route("ratings")]}),
            json!({"hosts": ["*"], "gateways": ["ingress"], "http": [{"redirect": {"uri": "/x"}}]}),
            json!({"hosts": ["ratings"], "http": [{"route": [
                {"destination": {"host": "ratings", "subset": "v1", "port": {"number": 9080}}, "weight": 10},
                {"destination": {"host": "ratings-new.shop.svc.cluster.local"}, "weight": 90}],
                "mirror": {"host": "ratings-shadow"}, "mirrorPercentage": {"value": 12.5},
                "fault": {"abort": {"httpStatus": 503, "percentage": {"value": 0.5}}}}],
                "exportTo": [".", "payments"]}),
            json!({"hosts": ["db.example"], "tcp": [{"route": [{"destination": {"host": "db.example", "port": {"number": 5432}}}]}]}),
        ];
        for spec in valid {
            assert_eq!(check(spec.clone()), [], "{spec}");
        }
    }

    #[test]
    fn hosts() {
        let cases = [
            (
                json!({"hosts": ["Rat_ings"], "http": [route("r")]}),
                vec![row("virtualservice-hosts", "spec.hosts[0]", Error)],
            ),
            // Istio reads host names in either case, and with a trailing dot.
            (
                json!({"hosts": ["Ratings", "reviews.shop.svc.cluster.local."], "http": [route("r")]}),
                vec![],
            ),
            (
                json!({"hosts": ["foo*.com"], "http": [route("r")]}),
                vec![row("virtualservice-hosts", "spec.hosts[0]", Error)],
            ),
            (
                json!({"hosts": ["*"], "http": [route("r")]}),
                vec![row("virtualservice-hosts", "spec.hosts[0]", Error)],
            ),
            (
                json!({"hosts": ["*"], "gateways": ["mesh", "gw"], "http": [route("r")]}),
                vec![row("virtualservice-hosts", "spec.hosts[0]", Error)],
            ),
            (
                json!({"hosts": ["a", "a"], "http": [route("r")]}),
                vec![row("virtualservice-hosts", "spec.hosts[1]", Error)],
            ),
            (
                json!({"hosts": ["*.foo.com", "a.foo.com"], "http": [route("r")]}),
                vec![row("virtualservice-hosts", "spec.hosts[1]", Error)],
            ),
            (
                json!({"gateways": ["gw"], "tcp": [{"route": [{"destination": {"host": "r"}}]}]}),
                vec![
                    row("virtualservice-hosts", "spec.gateways", Error),
                    row("virtualservice-hosts", "spec.tcp", Error),
                    // Delegates need Istio 1.8, and the default minIstioVersion is older.
                    row("virtualservice-delegate", "spec.hosts", Error),
                ],
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(check(spec.clone()), expected, "{spec}");
        }
    }

    #[test]
    fn routes_destinations_weights() {
        let cases = [
            (
                json!({"hosts": ["r"]}),
                vec![row("virtualservice-routes", "spec.http", Error)],
            ),
            (
                json!({"hosts": ["r"], "http": [{"timeout": "1s"}]}),
                vec![row("virtualservice-routes", "spec.http[0]", Error)],
            ),
            (
                json!({"hosts": ["r"], "http": [{"route": [{"destination": {"host": "r"}}], "redirect": {"uri": "/"}}]}),
                vec![row("virtualservice-routes", "spec.http[0].redirect", Error)],
            ),
            (
                json!({"hosts": ["r"], "http": [{"route": [{"destination": {"host": "r"}}], "mirror": {"host": "m"}, "mirrors": [{"destination": {"host": "m"}}]}]}),
                vec![row("virtualservice-routes", "spec.http[0].mirrors", Error)],
            ),
            (
                json!({"hosts": ["r"], "http": [{"route": [{"weight": 100}]}]}),
                vec![row(
                    "virtualservice-destinations",
                    "spec.http[0].route[0].destination",
                    Error,
                )],
            ),
            (
                json!({"hosts": ["r"], "http": [{"route": [{"destination": {"subset": "v1"}}]}]}),
                vec![row(
                    "virtualservice-destinations",
                    "spec.http[0].route[0].destination.host",
                    Error,
                )],
            ),
            (
                json!({"hosts": ["r"], "http": [route("*")]}),
                vec![row(
                    "virtualservice-destinations",
                    "spec.http[0].route[0].destination.host",
                    Error,
                )],
            ),
            (
                json!({"hosts": ["r"], "http": [{"route": [{"destination": {"host": "r", "subset": "V_1"}}]}]}),
                vec![row(
                    "virtualservice-destinations",
                    "spec.http[0].route[0].destination.subset",
                    Error,
                )],
            ),
            (
                json!({"hosts": ["r"], "tls": [{"match": [{"sniHosts": ["r"]}], "route": [{"destination": {"host": "r", "port": {"number": 70000}}}]}]}),
                vec![row(
                    "virtualservice-destinations",
                    "spec.tls[0].route[0].destination.port.number",
                    Error,
                )],
            ),
            (
                json!({"hosts": ["r"], "http": [{"route": [{"destination": {"host": "a"}, "weight": -10}, {"destination": {"host": "b"}, "weight": 110}]}]}),
                vec![row(
                    "virtualservice-weights",
                    "spec.http[0].route[0].weight",
                    Error,
                )],
            ),
            (
                json!({"hosts": ["r"], "http": [{"route": [{"destination": {"host": "a"}}, {"destination": {"host": "b"}}]}]}),
                vec![row("virtualservice-weights", "spec.http[0].route", Error)],
            ),
            (
                // Istio 1.4 (the default minIstioVersion) rejects it.
                json!({"hosts": ["r"], "http": [{"route": [{"destination": {"host": "a"}, "weight": 10}, {"destination": {"host": "b"}, "weight": 80}]}]}),
                vec![row("virtualservice-weights", "spec.http[0].route", Error)],
            ),
            (
                json!({"hosts": ["r"], "http": [{"route": [{"destination": {"host": "a"}, "weight": 50}]}]}),
                vec![],
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(check(spec.clone()), expected, "{spec}");
        }
    }

    /// `(path, message)` of every finding of `rule`.
    fn messages(spec: Value, rule: crate::rules::Rule) -> Vec<(String, String)> {
        let object = vs(spec);
        crate::rules::evaluate(&crate::rules::Subject::created(
            ObjectKind::VirtualService,
            &object,
        ))
        .into_iter()
        .filter(|f| f.rule == rule)
        .map(|f| (f.path.to_string(), f.message))
        .collect()
    }

    fn weighted(weights: Value) -> Value {
        let entries: Vec<Value> = weights
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, w)| json!({"destination": {"host": format!("v{i}")}, "weight": w}))
            .collect();
        json!({"hosts": ["r"], "http": [{"route": entries}]})
    }

    fn row_of(path: &str, message: &str) -> (String, String) {
        (path.to_string(), message.to_string())
    }

    #[test]
    fn a_sum_other_than_100_is_an_error_while_an_istio_before_1_15_reads_it() {
        let spec = weighted(json!([80, 30]));
        let object = vs(spec);
        use crate::rules::{IstioVersion, Rule, Subject};
        let judged = |oldest: IstioVersion| {
            crate::rules::evaluate(&Subject {
                min_istio_version: oldest,
                ..Subject::created(ObjectKind::VirtualService, &object)
            })
            .into_iter()
            .filter(|f| f.rule == Rule::VirtualServiceWeights)
            .map(|f| (f.severity, f.message))
            .collect::<Vec<_>>()
        };
        assert_eq!(
            judged(IstioVersion::new(1, 14)),
            [(
                Error,
                "weights add up to 110, not 100: Istio before 1.15 rejects this and \
                 minIstioVersion is 1.14: make them add up to 100"
                    .to_string()
            )]
        );
        assert_eq!(
            judged(IstioVersion::new(1, 15)),
            [(
                Info,
                "weights add up to 110, not 100: Istio 1.15 and later (minIstioVersion is 1.15) \
                 scale them to 100; make them add up to 100 to say what you mean"
                    .to_string()
            )]
        );
    }

    #[test]
    fn weights_outside_int32_are_errors_and_never_wrap() {
        use crate::rules::Rule::VirtualServiceWeights as W;
        let outside = |value: &str| {
            format!(
                "weight {value} is outside int32 (-2147483648 to 2147483647): write a weight from 0 to 100"
            )
        };
        // Two i64::MAX and 102 wrap to 100 in i64 arithmetic (and panic in a debug build).
        assert_eq!(
            messages(weighted(json!([i64::MAX, i64::MAX, 102])), W),
            [
                row_of(
                    "spec.http[0].route[0].weight",
                    &outside("9223372036854775807")
                ),
                row_of(
                    "spec.http[0].route[1].weight",
                    &outside("9223372036854775807")
                ),
            ]
        );
        assert_eq!(
            messages(weighted(json!([2_147_483_648_i64, 0])), W),
            [row_of(
                "spec.http[0].route[0].weight",
                &outside("2147483648")
            )]
        );
        assert_eq!(
            messages(weighted(json!([u64::MAX, -2_147_483_649_i64, 1e300])), W),
            [
                row_of(
                    "spec.http[0].route[0].weight",
                    &outside("18446744073709551615")
                ),
                row_of("spec.http[0].route[1].weight", &outside("-2147483649")),
                row_of("spec.http[0].route[2].weight", &outside("1e+300")),
            ]
        );
        assert_eq!(
            messages(weighted(json!([50.5, 49.5])), W),
            [
                row_of(
                    "spec.http[0].route[0].weight",
                    "weight 50.5 is not a whole number: write a weight from 0 to 100"
                ),
                row_of(
                    "spec.http[0].route[1].weight",
                    "weight 49.5 is not a whole number: write a weight from 0 to 100"
                ),
            ]
        );
        // The largest int32 weights still add up exactly (no i32 or i64 overflow).
        assert_eq!(
            messages(weighted(json!([i32::MAX, i32::MAX, i32::MAX])), W),
            [row_of(
                "spec.http[0].route",
                "weights add up to 6442450941, not 100: Istio before 1.15 rejects this and minIstioVersion is 1.4: make them add up to 100"
            )]
        );
        // Whole doubles are the numbers they spell.
        assert_eq!(messages(weighted(json!([60.0, 40])), W), []);
        assert_eq!(
            messages(weighted(json!([i32::MIN, 100])), W),
            [
                row_of(
                    "spec.http[0].route[0].weight",
                    "weight -2147483648 is negative"
                ),
                row_of(
                    "spec.http[0].route",
                    "weights add up to -2147483548, not 100: Istio before 1.15 rejects this and minIstioVersion is 1.4: make them add up to 100"
                ),
            ]
        );
    }

    #[test]
    fn ports_statuses_and_percentages_outside_their_types() {
        use crate::rules::Rule::{
            VirtualServiceDestinations, VirtualServiceFault, VirtualServiceMirror,
        };
        let port = |number: Value| {
            messages(
                json!({"hosts": ["r"], "http": [{"route": [{"destination": {"host": "r", "port": {"number": number}}}],
                       "mirror": {"host": "m", "port": {"number": number}}}]}),
                VirtualServiceDestinations,
            )
        };
        for (number, text) in [
            (json!(-1), "-1"),
            (json!(0), "0"),
            (json!(65536), "65536"),
            (json!(4_294_967_296_u64), "4294967296"),
            (json!(u64::MAX), "18446744073709551615"),
            (json!(i64::MIN), "-9223372036854775808"),
            (json!(1e300), "1e+300"),
        ] {
            let message = format!("port {text} is outside 1-65535");
            assert_eq!(
                port(number),
                [
                    row_of("spec.http[0].route[0].destination.port.number", &message),
                    row_of("spec.http[0].mirror.port.number", &message),
                ],
                "{text}"
            );
        }
        assert_eq!(port(json!(8080.0)), []);
        assert_eq!(
            port(json!(80.5))[0],
            row_of(
                "spec.http[0].route[0].destination.port.number",
                "port 80.5 is not a whole number: write a port from 1 to 65535"
            )
        );
        let fault = |fault: Value| {
            messages(
                json!({"hosts": ["r"], "http": [{"route": [{"destination": {"host": "r"}}], "fault": fault}]}),
                VirtualServiceFault,
            )
        };
        assert_eq!(
            fault(
                json!({"abort": {"httpStatus": 4_294_967_799_u64, "percentage": {"value": 1e300}}})
            ),
            [
                row_of(
                    "spec.http[0].fault.abort.percentage.value",
                    "percentage 1e+300 is neither 0 nor within 0.0001-100"
                ),
                row_of(
                    "spec.http[0].fault.abort.httpStatus",
                    "HTTP status 4294967799 is outside 200-600"
                ),
            ]
        );
        assert_eq!(
            fault(
                json!({"abort": {"httpStatus": 503.5}, "delay": {"fixedDelay": "1s", "percentage": {"value": -1e300}}})
            ),
            [
                row_of(
                    "spec.http[0].fault.delay.percentage.value",
                    "percentage -1e+300 is neither 0 nor within 0.0001-100"
                ),
                row_of(
                    "spec.http[0].fault.abort.httpStatus",
                    "HTTP status 503.5 is not a whole number: write a status from 200 to 600"
                ),
            ]
        );
        assert_eq!(
            messages(
                json!({"hosts": ["r"], "http": [{"route": [{"destination": {"host": "r"}}],
                       "mirror": {"host": "m"}, "mirrorPercentage": {"value": u64::MAX},
                       "mirrors": [{"destination": {"host": "m"}, "percentage": {"value": 1e300}}]}]}),
                VirtualServiceMirror,
            ),
            [
                row_of(
                    "spec.http[0].mirrorPercentage.value",
                    "mirror percentage 1.8446744073709552e+19 is outside 0-100"
                ),
                row_of(
                    "spec.http[0].mirrors[0].percentage.value",
                    "mirror percentage 1e+300 is outside 0-100"
                ),
            ]
        );
    }

    #[test]
    fn fault_mirror_gateways_export_to() {
        let with = |extra: Value| {
            let mut http = route("r");
            for (k, v) in extra.as_object().unwrap() {
                http[k] = v.clone();
            }
            json!({"hosts": ["r"], "http": [http]})
        };
        let cases = [
            (
                with(json!({"fault": {}})),
                vec![row("virtualservice-fault", "spec.http[0].fault", Error)],
            ),
            (
                with(
                    json!({"fault": {"abort": {"httpStatus": 503, "percentage": {"value": 0.00001}}}}),
                ),
                vec![row(
                    "virtualservice-fault",
                    "spec.http[0].fault.abort.percentage.value",
                    Error,
                )],
            ),
            (
                with(
                    json!({"fault": {"delay": {"fixedDelay": "1s", "percentage": {"value": 101.0}}}}),
                ),
                vec![row(
                    "virtualservice-fault",
                    "spec.http[0].fault.delay.percentage.value",
                    Error,
                )],
            ),
            (
                with(json!({"fault": {"abort": {"httpStatus": 601}}})),
                vec![row(
                    "virtualservice-fault",
                    "spec.http[0].fault.abort.httpStatus",
                    Error,
                )],
            ),
            (
                with(json!({"fault": {"abort": {"httpStatus": 503, "percentage": {"value": 0}}}})),
                vec![],
            ),
            (
                with(json!({"mirror": {"host": "m"}, "mirrorPercentage": {"value": 150.0}})),
                vec![row(
                    "virtualservice-mirror",
                    "spec.http[0].mirrorPercentage.value",
                    Error,
                )],
            ),
            (
                with(json!({"mirrors": [{"percentage": {"value": 5.0}}]})),
                vec![row(
                    "virtualservice-mirror",
                    "spec.http[0].mirrors[0].destination",
                    Error,
                )],
            ),
            (
                json!({"hosts": ["r"], "gateways": ["ingress.istio-system.svc.cluster.local"], "http": [route("r")]}),
                vec![row("virtualservice-gateways", "spec.gateways[0]", Warning)],
            ),
            (
                json!({"hosts": ["r"], "gateways": ["istio-system/"], "http": [route("r")]}),
                vec![row("virtualservice-gateways", "spec.gateways[0]", Error)],
            ),
            (
                json!({"hosts": ["r"], "gateways": ["Bad_Gateway"], "http": [route("r")]}),
                vec![row("virtualservice-gateways", "spec.gateways[0]", Error)],
            ),
            (
                json!({"hosts": ["r"], "exportTo": ["~"], "http": [route("r")]}),
                vec![row("virtualservice-export-to", "spec.exportTo[0]", Error)],
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(check(spec.clone()), expected, "{spec}");
        }
        // The legacy form's message gives the namespace/name form.
        let object = vs(
            json!({"hosts": ["r"], "gateways": ["ingress.istio-system.svc.cluster.local"], "http": [route("r")]}),
        );
        let subject = crate::rules::Subject {
            kind: ObjectKind::VirtualService,
            operation: crate::rules::Operation::Create,
            object: &object,
            old_object: None,
            requested_version: None,
            namespace: None,
            origin: crate::rules::Origin::Request,
            min_istio_version: crate::rules::DEFAULT_MIN_ISTIO_VERSION,
        };
        assert!(
            crate::rules::evaluate(&subject)[0]
                .message
                .contains("istio-system/ingress")
        );
    }

    #[test]
    fn external_mesh() {
        let cases = [
            // Same namespace, in every host form.
            (
                json!({"hosts": ["ratings"], "gateways": ["external-mesh", "mesh"], "http": [route("ratings")]}),
                vec![],
            ),
            (
                json!({"hosts": ["ratings"], "gateways": ["external-mesh", "mesh"], "http": [route("ratings.shop.svc.cluster.local")]}),
                vec![],
            ),
            // Another namespace: error at the host.
            (
                json!({"hosts": ["ratings"], "gateways": ["external-mesh", "mesh"], "http": [route("ratings.prod.svc")]}),
                vec![row(
                    "virtualservice-external-mesh",
                    "spec.http[0].route[0].destination.host",
                    Error,
                )],
            ),
            // Not a Service name: not checked. Without mesh: info.
            (
                json!({"hosts": ["ratings"], "gateways": ["external-mesh"], "http": [route("api.example.com")]}),
                vec![row("virtualservice-external-mesh", "spec.gateways", Info)],
            ),
            // Without external-mesh nothing is checked.
            (
                json!({"hosts": ["ratings"], "http": [route("ratings.prod.svc")]}),
                vec![],
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(check(spec.clone()), expected, "{spec}");
        }
    }
}
