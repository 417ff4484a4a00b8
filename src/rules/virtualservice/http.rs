//! The checks of the blocks inside HTTP routes (header operations, match conditions, retries,
//! CORS, rewrite, redirect, direct response, delegation) and of TCP and TLS match conditions,
//! run in one pass over the routes. Each block's check is its own module; this one walks the
//! routes and hands each route to them.

use serde_json::Value;

use super::view::Routes;
use super::{cors, delegate, direct_response, headers, matches, redirect, retries, rewrite};
use super::{match_source, re2::Patterns, tls_match};
use crate::rules::{Finding, Subject};

/// The gateway name of in-mesh sidecars.
const MESH: &str = "mesh";

/// Runs the route-block rules over the routes `all` of the subject's spec.
pub(super) fn evaluate(subject: &Subject<'_>, all: &Routes<'_>, findings: &mut Vec<Finding>) {
    let spec = subject.spec();
    let hostless = !matches!(spec.get("hosts"), Some(Value::Array(hosts)) if !hosts.is_empty());
    let gateways = match spec.get("gateways") {
        Some(Value::Array(gateways)) => gateways.as_slice(),
        _ => &[],
    };
    let names_mesh = gateways.iter().any(|g| g.as_str() == Some(MESH));
    // Istio's "applies to a gateway": gateways are named and `mesh` is not among them.
    let gateway_only = !gateways.is_empty() && !names_mesh;
    delegate::spec(subject, hostless, findings);
    let mut patterns = Patterns::default();
    for route in &all.http {
        let (owner, blocks) = (route.owner, &route.blocks);
        delegate::route(owner, blocks, hostless, findings);
        headers::route(owner, blocks, findings);
        matches::route(owner, blocks, gateway_only, &mut patterns, findings);
        retries::route(owner, blocks, findings);
        cors::route(owner, blocks, &mut patterns, findings);
        rewrite::route(owner, blocks, &mut patterns, findings);
        redirect::route(owner, blocks, findings);
        direct_response::route(owner, blocks, findings);
    }
    // SNI hosts are checked as a gateway's unless `mesh` is named (also with no gateways).
    tls_match::evaluate(spec, &all.tls, !names_mesh, findings);
    match_source::l4_routes(all, findings);
}

/// Test helpers of the route-block rules.
#[cfg(test)]
pub(crate) mod testing {
    use serde_json::{Value, json};

    use crate::rules::{
        DEFAULT_MIN_ISTIO_VERSION, IstioVersion, ObjectKind, Operation, Origin, Subject,
    };

    /// A VirtualService `r` in `shop` with this spec.
    pub fn vs(spec: Value) -> Value {
        json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
               "metadata": {"name": "r", "namespace": "shop"}, "spec": spec})
    }

    /// A VirtualService for host `r` with this one HTTP route.
    pub fn http(route: Value) -> Value {
        vs(json!({"hosts": ["r"], "http": [route]}))
    }

    /// `(path, message)` of the findings for the one HTTP route `route`, each asserted to be
    /// `rule`'s.
    pub fn findings_of(rule: &str, route: Value) -> Vec<(String, String)> {
        found(&http(route))
            .into_iter()
            .map(|(id, path, message)| {
                assert_eq!(id, rule, "{path}: {message}");
                (path, message)
            })
            .collect()
    }

    /// [`findings_of`] a route to `r` whose `block` is `value`.
    pub fn block_findings(rule: &str, block: &str, value: Value) -> Vec<(String, String)> {
        findings_of(
            rule,
            json!({"route": [{"destination": {"host": "r"}}], block: value}),
        )
    }

    /// `(rule id, path, message)` of every finding of Istio's validation for `object`.
    pub fn found(object: &Value) -> Vec<(String, String, String)> {
        found_for(object, DEFAULT_MIN_ISTIO_VERSION)
    }

    /// [`found`], for clusters whose oldest control plane is `oldest`.
    pub fn found_for(object: &Value, oldest: IstioVersion) -> Vec<(String, String, String)> {
        crate::rules::evaluate(&Subject {
            kind: ObjectKind::VirtualService,
            operation: Operation::Create,
            object,
            old_object: None,
            requested_version: Some("v1"),
            namespace: None,
            origin: Origin::Request,
            min_istio_version: oldest,
        })
        .into_iter()
        .filter(|f| f.rule != crate::rules::Rule::VirtualServiceApiVersion)
        .map(|f| (f.rule.id().to_string(), f.path.to_string(), f.message))
        .collect()
    }
}
