//! The checks of the blocks inside HTTP routes (header operations, match conditions, retries,
//! CORS, rewrite, redirect, direct response, delegation) and of TLS match conditions, run in one
//! pass over the routes. Each block's check is its own module; this one walks the routes and
//! hands each route to them.

use serde_json::{Map, Value};

use super::{cors, delegate, direct_response, headers, matches, redirect, retries, rewrite};
use super::{match_source, re2::Patterns, section, tls_match};
use crate::rules::{Finding, Subject};

/// The gateway name of in-mesh sidecars.
const MESH: &str = "mesh";

/// Runs the route-block rules.
pub fn evaluate(subject: &Subject<'_>) -> Vec<Finding> {
    let spec = subject.spec();
    let mut findings = Vec::new();
    let hostless = !matches!(spec.get("hosts"), Some(Value::Array(hosts)) if !hosts.is_empty());
    let gateways = match spec.get("gateways") {
        Some(Value::Array(gateways)) => gateways.as_slice(),
        _ => &[],
    };
    let names_mesh = gateways.iter().any(|g| g.as_str() == Some(MESH));
    // Istio's "applies to a gateway": gateways are named and `mesh` is not among them.
    let gateway_only = !gateways.is_empty() && !names_mesh;
    delegate::spec(subject, hostless, &mut findings);
    let mut patterns = Patterns::default();
    for owner in section(spec, "http") {
        let blocks = Blocks::of(owner.route);
        delegate::route(owner, &blocks, hostless, &mut findings);
        headers::route(owner, &blocks, &mut findings);
        matches::route(owner, &blocks, gateway_only, &mut patterns, &mut findings);
        retries::route(owner, &blocks, &mut findings);
        cors::route(owner, &blocks, &mut patterns, &mut findings);
        rewrite::route(owner, &blocks, &mut patterns, &mut findings);
        redirect::route(owner, &blocks, &mut findings);
        direct_response::route(owner, &blocks, &mut findings);
    }
    // SNI hosts are checked as a gateway's unless `mesh` is named (also with no gateways).
    tls_match::evaluate(spec, !names_mesh, &mut findings);
    match_source::l4_routes(spec, &mut findings);
    findings
}

/// The fields of one HTTP route that the route-block rules read, found in one pass over its
/// keys: on a large object, every lookup of an absent field would compare keys spread over the
/// heap, and most routes have few of these blocks.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Blocks<'a> {
    pub delegate: Option<&'a Value>,
    pub headers: Option<&'a Value>,
    pub matches: Option<&'a Value>,
    pub retries: Option<&'a Value>,
    pub cors: Option<&'a Value>,
    pub rewrite: Option<&'a Value>,
    pub redirect: Option<&'a Value>,
    pub direct_response: Option<&'a Value>,
    pub route: Option<&'a Value>,
    pub timeout: Option<&'a Value>,
}

impl<'a> Blocks<'a> {
    fn of(route: &'a Map<String, Value>) -> Self {
        let mut blocks = Blocks::default();
        for (key, value) in route {
            let slot = match key.as_str() {
                "delegate" => &mut blocks.delegate,
                "headers" => &mut blocks.headers,
                "match" => &mut blocks.matches,
                "retries" => &mut blocks.retries,
                "corsPolicy" => &mut blocks.cors,
                "rewrite" => &mut blocks.rewrite,
                "redirect" => &mut blocks.redirect,
                "directResponse" => &mut blocks.direct_response,
                "route" => &mut blocks.route,
                "timeout" => &mut blocks.timeout,
                _ => continue,
            };
            *slot = Some(value);
        }
        blocks
    }
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
