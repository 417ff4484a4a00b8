//! VirtualService rules (`networking.istio.io` v1, v1beta1, v1alpha3: one schema).

pub mod legacy;
pub mod structure;

use serde_json::{Map, Value};

use super::spelling::lookup;
use super::{FieldPath, Finding, Rule, Subject, api_version};

/// Runs the VirtualService rules. Conversions come before the schema walk's renames, so that
/// their operations name keys as received (see `spelling`).
pub fn evaluate(subject: &Subject<'_>) -> Vec<Finding> {
    let mut findings = legacy::evaluate(subject);
    findings.extend(structure::evaluate(subject));
    findings.extend(api_version::evaluate(
        subject,
        Rule::VirtualServiceApiVersion,
    ));
    findings
}

/// The objects of a route section (`http`, `tcp`, `tls`) with their paths.
pub fn section<'a>(
    spec: &'a Map<String, Value>,
    name: &str,
) -> Vec<(FieldPath, &'a Map<String, Value>)> {
    let Some((key, Value::Array(routes))) = lookup(spec, name) else {
        return Vec::new();
    };
    routes
        .iter()
        .enumerate()
        .filter_map(|(i, route)| {
            Some((
                FieldPath::fields("spec").field(key).index(i),
                route.as_object()?,
            ))
        })
        .collect()
}

/// Every `route` list of every HTTP, TCP and TLS route: `(path of the list, its entries)`.
pub fn route_lists(spec: &Map<String, Value>) -> Vec<(FieldPath, &Vec<Value>)> {
    ["http", "tcp", "tls"]
        .iter()
        .flat_map(|name| section(spec, name))
        .filter_map(|(path, route)| match lookup(route, "route") {
            Some((key, Value::Array(list))) => Some((path.field(key), list)),
            _ => None,
        })
        .collect()
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

/// Every destination of the VirtualService with the path of the destination object.
pub fn destinations(spec: &Map<String, Value>) -> Vec<(FieldPath, &Value, DestinationPlace)> {
    let mut found = Vec::new();
    for (list_path, list) in route_lists(spec) {
        for (j, entry) in list.iter().enumerate() {
            if let Some((key, destination)) =
                entry.as_object().and_then(|e| lookup(e, "destination"))
            {
                found.push((
                    list_path.index(j).field(key),
                    destination,
                    DestinationPlace::Route,
                ));
            }
        }
    }
    for (path, route) in section(spec, "http") {
        if let Some((key, mirror)) = lookup(route, "mirror") {
            found.push((path.field(key), mirror, DestinationPlace::Mirror));
        }
        if let Some((key, Value::Array(mirrors))) = lookup(route, "mirrors") {
            for (k, mirror) in mirrors.iter().enumerate() {
                if let Some((dest_key, destination)) =
                    mirror.as_object().and_then(|m| lookup(m, "destination"))
                {
                    found.push((
                        path.field(key).index(k).field(dest_key),
                        destination,
                        DestinationPlace::Mirrors,
                    ));
                }
            }
        }
    }
    found
}
