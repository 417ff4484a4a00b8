//! VirtualService rules (`networking.istio.io` v1, v1beta1, v1alpha3: one schema), and the route
//! and destination walks they share. Which run, in which order: `rules::checks`.

mod cors;
mod delegate;
mod direct_response;
mod fault;
mod headers;
pub mod http;
pub mod legacy;
mod match_source;
mod matches;
mod re2;
pub mod reachability;
mod redirect;
mod retries;
mod rewrite;
pub mod structure;
mod tls_match;
pub(crate) mod view;

use serde_json::{Map, Value};

use super::{FieldPath, Finding, Shared, Subject};
use crate::object::fields::lookup;

/// Runs the rules on the routes (structure, the blocks inside routes, reachability) over the
/// reading of the routes the evaluation shares.
pub fn evaluate_routes(subject: &Subject<'_>, shared: &Shared<'_>) -> Vec<Finding> {
    let routes = shared.routes();
    let mut findings = Vec::new();
    structure::evaluate(subject, routes, &mut findings);
    http::evaluate(subject, routes, &mut findings);
    reachability::evaluate(routes, &mut findings);
    findings
}

/// An HTTP, TCP or TLS route. Its path is built only when a finding needs it: these helpers run
/// over every route of every review.
#[derive(Debug, Clone, Copy)]
pub struct RouteRef<'a> {
    /// `http`, `tcp` or `tls` as written.
    pub section: &'a str,
    /// The index in that list.
    pub index: usize,
    /// The route.
    pub route: &'a Map<String, Value>,
}

impl RouteRef<'_> {
    /// `spec.<section>[<index>]`.
    pub fn path(&self) -> FieldPath {
        FieldPath::fields("spec")
            .field(self.section)
            .index(self.index)
    }
}

/// The routes of a section (`http`, `tcp`, `tls`).
pub fn section<'a>(spec: &'a Map<String, Value>, name: &str) -> impl Iterator<Item = RouteRef<'a>> {
    let (section, routes) = match lookup(spec, name) {
        Some((key, Value::Array(routes))) => (key, routes.as_slice()),
        _ => ("", &[][..]),
    };
    routes.iter().enumerate().filter_map(move |(index, route)| {
        Some(RouteRef {
            section,
            index,
            route: route.as_object()?,
        })
    })
}

/// The `route` list of an HTTP, TCP or TLS route.
#[derive(Debug, Clone, Copy)]
pub struct RouteList<'a> {
    /// The route holding the list.
    pub owner: RouteRef<'a>,
    /// `route` as written.
    pub key: &'a str,
    /// The destinations with their weights.
    pub entries: &'a [Value],
}

impl RouteList<'_> {
    /// `spec.<section>[<index>].route`.
    pub fn path(&self) -> FieldPath {
        self.owner.path().field(self.key)
    }
}

/// A destination of the VirtualService.
#[derive(Debug, Clone, Copy)]
pub struct Destination<'a> {
    owner: RouteRef<'a>,
    /// `route`/`mirrors` with the index and the `destination` key, or the `mirror` key.
    steps: (&'a str, Option<(usize, &'a str)>),
    /// The destination object.
    pub value: &'a Value,
    /// `host`, `subset` and `port`, found in one pass over the destination's keys.
    pub host: Option<&'a Value>,
    pub subset: Option<&'a Value>,
    pub port: Option<&'a Value>,
}

impl<'a> Destination<'a> {
    fn new(
        owner: RouteRef<'a>,
        steps: (&'a str, Option<(usize, &'a str)>),
        value: &'a Value,
    ) -> Self {
        let (mut host, mut subset, mut port) = (None, None, None);
        for (key, field) in value.as_object().into_iter().flatten() {
            match key.as_str() {
                "host" => host = Some(field),
                "subset" => subset = Some(field),
                "port" => port = Some(field),
                _ => {}
            }
        }
        Destination {
            owner,
            steps,
            value,
            host,
            subset,
            port,
        }
    }
}

impl Destination<'_> {
    /// The path of the destination object.
    pub fn path(&self) -> FieldPath {
        let path = self.owner.path().field(self.steps.0);
        match self.steps.1 {
            Some((index, key)) => path.index(index).field(key),
            None => path,
        }
    }
}
