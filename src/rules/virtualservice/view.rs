//! The routes of a VirtualService as its rules read them, read once per evaluation and shared by
//! the checks that need them (`rules::Shared`): each HTTP route's fields found in one pass over
//! its keys ([`Blocks`]), and the route lists, their entries and the destinations found from
//! those. Every lookup of a field hashes the name and reads the map's table, and most of the
//! fields the rules ask for are absent; one pass over the keys reads each key once, and on a
//! large object each pass over the routes costs a reading of memory spread over the heap.

use serde_json::{Map, Value};

use super::{Destination, RouteList, RouteRef, section};
use crate::object::fields::lookup;

/// The camelCase fields of one HTTP route that the VirtualService rules read, as written. The
/// rules that check a route's content read camelCase only: a snake_case spelling is
/// `virtualservice-field-spelling`'s finding, renamed by `/mutate` before `/validate` runs.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Blocks<'a> {
    pub name: Option<&'a Value>,
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
    pub fault: Option<&'a Value>,
    pub mirror: Option<&'a Value>,
    pub mirrors: Option<&'a Value>,
    pub mirror_percent: Option<&'a Value>,
    pub mirror_percentage: Option<&'a Value>,
    /// The route has keys besides these: snake_case spellings, removed fields or unknown ones,
    /// which the rules that read them look up only then.
    pub other_keys: bool,
}

impl<'a> Blocks<'a> {
    pub fn of(route: &'a Map<String, Value>) -> Self {
        let mut blocks = Blocks::default();
        for (key, value) in route {
            let slot = match key.as_str() {
                "name" => &mut blocks.name,
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
                "fault" => &mut blocks.fault,
                "mirror" => &mut blocks.mirror,
                "mirrors" => &mut blocks.mirrors,
                "mirrorPercent" => &mut blocks.mirror_percent,
                "mirrorPercentage" => &mut blocks.mirror_percentage,
                _ => {
                    blocks.other_keys = true;
                    continue;
                }
            };
            *slot = Some(value);
        }
        blocks
    }
}

/// An HTTP route with its fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HttpRoute<'a> {
    pub owner: RouteRef<'a>,
    pub blocks: Blocks<'a>,
}

/// One entry of a `route` list: a destination with its weight.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    /// The entry's index in its list.
    pub index: usize,
    /// The entry, when it is an object.
    pub fields: Option<&'a Map<String, Value>>,
    pub destination: Option<&'a Value>,
    pub weight: Option<&'a Value>,
}

/// A `route` list with its entries.
#[derive(Debug, Clone)]
pub(crate) struct ListView<'a> {
    pub list: RouteList<'a>,
    /// Where its entries stand in [`Routes::entries`].
    entries: std::ops::Range<usize>,
}

/// The HTTP, TCP and TLS routes of a VirtualService, their route lists and destinations, each
/// read in one pass over its keys.
#[derive(Debug, Default)]
pub(crate) struct Routes<'a> {
    pub http: Vec<HttpRoute<'a>>,
    pub tcp: Vec<RouteRef<'a>>,
    pub tls: Vec<RouteRef<'a>>,
    /// Every `route` list: of the HTTP routes, then the TCP and TLS ones.
    pub lists: Vec<ListView<'a>>,
    /// The entries of every list, list after list: one allocation for all of them.
    entries: Vec<Entry<'a>>,
    /// Every destination: of each route list's entries, then each HTTP route's mirrors.
    pub destinations: Vec<Destination<'a>>,
}

impl<'a> Routes<'a> {
    pub fn of(spec: &'a Map<String, Value>) -> Self {
        let routes = section(spec, "http");
        // The section's length, which the filtering iterator does not report.
        let mut http = Vec::with_capacity(routes.size_hint().1.unwrap_or_default());
        http.extend(routes.map(|owner| HttpRoute {
            owner,
            blocks: Blocks::of(owner.route),
        }));
        let tcp: Vec<RouteRef<'a>> = section(spec, "tcp").collect();
        let tls: Vec<RouteRef<'a>> = section(spec, "tls").collect();
        let http_lists = http.iter().filter_map(|http| match http.blocks.route {
            Some(Value::Array(entries)) => Some(RouteList {
                owner: http.owner,
                key: "route",
                entries,
            }),
            _ => None,
        });
        let l4_lists =
            tcp.iter()
                .chain(&tls)
                .filter_map(|owner| match lookup(owner.route, "route") {
                    Some((key, Value::Array(entries))) => Some(RouteList {
                        owner: *owner,
                        key,
                        entries,
                    }),
                    _ => None,
                });
        let mut entries = Vec::new();
        let lists: Vec<ListView<'a>> = http_lists
            .chain(l4_lists)
            .map(|list| {
                let start = entries.len();
                entries.extend(list.entries.iter().enumerate().map(entry));
                ListView {
                    entries: start..entries.len(),
                    list,
                }
            })
            .collect();
        let mut destinations = Vec::new();
        for view in &lists {
            for entry in &entries[view.entries.clone()] {
                if let Some(value) = entry.destination {
                    destinations.push(Destination::new(
                        view.list.owner,
                        (view.list.key, Some((entry.index, "destination"))),
                        value,
                    ));
                }
            }
        }
        for route in &http {
            if let Some(value) = route.blocks.mirror {
                destinations.push(Destination::new(route.owner, ("mirror", None), value));
            }
            if let Some(Value::Array(mirrors)) = route.blocks.mirrors {
                for (k, mirror) in mirrors.iter().enumerate() {
                    if let Some(value) = mirror.as_object().and_then(|m| m.get("destination")) {
                        destinations.push(Destination::new(
                            route.owner,
                            ("mirrors", Some((k, "destination"))),
                            value,
                        ));
                    }
                }
            }
        }
        Routes {
            http,
            tcp,
            tls,
            lists,
            entries,
            destinations,
        }
    }

    /// The entries of one of [`Routes::lists`].
    pub fn entries(&self, list: &ListView<'a>) -> &[Entry<'a>] {
        self.entries.get(list.entries.clone()).unwrap_or_default()
    }
}

/// An entry of a route list, its fields found in one pass.
fn entry((index, value): (usize, &Value)) -> Entry<'_> {
    let fields = value.as_object();
    let (mut destination, mut weight) = (None, None);
    for (key, value) in fields.into_iter().flatten() {
        match key.as_str() {
            "destination" => destination = Some(value),
            "weight" => weight = Some(value),
            _ => {}
        }
    }
    Entry {
        index,
        fields,
        destination,
        weight,
    }
}
