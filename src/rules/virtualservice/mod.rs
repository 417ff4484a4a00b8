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

use serde_json::{Map, Value};

use super::FieldPath;
use crate::object::fields::lookup;

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

/// Every `route` list of every HTTP, TCP and TLS route.
pub fn route_lists(spec: &Map<String, Value>) -> impl Iterator<Item = RouteList<'_>> {
    ["http", "tcp", "tls"]
        .into_iter()
        .flat_map(move |name| section(spec, name))
        .filter_map(|owner| match lookup(owner.route, "route") {
            Some((key, Value::Array(entries))) => Some(RouteList {
                owner,
                key,
                entries,
            }),
            _ => None,
        })
}

/// Where a destination stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestinationPlace {
    /// `route[].destination` of an HTTP, TCP or TLS route.
    Route,
    /// `http[].mirror` (the destination itself).
    Mirror,
    /// `http[].mirrors[].destination`.
    Mirrors,
}

/// A destination of the VirtualService.
#[derive(Debug, Clone, Copy)]
pub struct Destination<'a> {
    owner: RouteRef<'a>,
    /// `route`/`mirrors` with the index and the `destination` key, or the `mirror` key.
    steps: (&'a str, Option<(usize, &'a str)>),
    /// The destination object.
    pub value: &'a Value,
    /// Where it stands.
    pub place: DestinationPlace,
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

/// Every destination of the VirtualService.
pub fn destinations(spec: &Map<String, Value>) -> Vec<Destination<'_>> {
    let mut found = Vec::new();
    for list in route_lists(spec) {
        for (j, entry) in list.entries.iter().enumerate() {
            if let Some((key, value)) = entry.as_object().and_then(|e| lookup(e, "destination")) {
                found.push(Destination {
                    owner: list.owner,
                    steps: (list.key, Some((j, key))),
                    value,
                    place: DestinationPlace::Route,
                });
            }
        }
    }
    for owner in section(spec, "http") {
        if let Some((key, value)) = lookup(owner.route, "mirror") {
            found.push(Destination {
                owner,
                steps: (key, None),
                value,
                place: DestinationPlace::Mirror,
            });
        }
        if let Some((key, Value::Array(mirrors))) = lookup(owner.route, "mirrors") {
            for (k, mirror) in mirrors.iter().enumerate() {
                if let Some((dest_key, value)) =
                    mirror.as_object().and_then(|m| lookup(m, "destination"))
                {
                    found.push(Destination {
                        owner,
                        steps: (key, Some((k, dest_key))),
                        value,
                        place: DestinationPlace::Mirrors,
                    });
                }
            }
        }
    }
    found
}
