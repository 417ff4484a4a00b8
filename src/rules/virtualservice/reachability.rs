//! `virtualservice-unreachable`: routes and matches that an earlier route always takes first,
//! which Istio's validation warns about (IST0130, IST0131): a route after one without matches,
//! a match written before (apart from its name), and an HTTP URI prefix match that an earlier,
//! shorter prefix with the same other conditions covers. Routes are tried in order, so such a
//! route never receives a request.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use serde_json::{Map, Value};

use super::RouteRef;
use super::view::Routes;
use crate::rules::numbers::{IntType, Integer, integer};
use crate::rules::{Finding, Rule, Severity};

const RULE: Rule = Rule::VirtualServiceUnreachable;

/// The method a match without a method condition is compared as (Istio's analysis assumes GET).
const DEFAULT_METHOD: Condition<'static> = Condition::Exact("GET");

/// Runs the analysis over the HTTP, TCP and TLS routes.
pub(super) fn evaluate(all: &Routes<'_>, findings: &mut Vec<Finding>) {
    let http: Vec<Analysed<'_>> = all
        .http
        .iter()
        .map(|route| Analysed {
            owner: route.owner,
            matches: route.blocks.matches,
            name: route.blocks.name.and_then(Value::as_str),
        })
        .collect();
    routes(&http, true, findings);
    for section in [&all.tcp, &all.tls] {
        let l4: Vec<Analysed<'_>> = section
            .iter()
            .map(|owner| Analysed {
                owner: *owner,
                matches: owner.route.get("match"),
                name: None,
            })
            .collect();
        routes(&l4, false, findings);
    }
}

/// A route as the analysis reads it.
struct Analysed<'a> {
    owner: RouteRef<'a>,
    matches: Option<&'a Value>,
    /// An HTTP route's name; TCP and TLS routes have none.
    name: Option<&'a str>,
}

fn warning(path: crate::rules::FieldPath, message: String) -> Finding {
    Finding::new(RULE, Severity::Warning, path, message)
}

/// A route as a message names it: its path, and its name if it has one.
fn described(route: &Analysed<'_>) -> String {
    match route.name {
        Some(name) if !name.is_empty() => format!("{} ({name:?})", route.owner.path()),
        _ => route.owner.path().to_string(),
    }
}

/// Where a match stands: the route's position among the section's routes, the match index.
type Seen = (usize, usize);

/// The matches seen so far: each with where it stands and the next one of the same
/// fingerprint, and the first of each fingerprint. Two allocations for any number of matches.
struct SeenMatches<'a> {
    matches: Vec<(Seen, &'a Map<String, Value>, Option<usize>)>,
    /// Keyed by the default (keyed) hasher: fingerprints are unkeyed, so a crafted object could
    /// otherwise pile them into a few of the table's buckets.
    first: HashMap<u64, usize>,
}

/// How many earlier matches of the same fingerprint a match is compared with. Distinct matches
/// of real objects share a 64-bit fingerprint essentially never; an object crafted to make them
/// share one costs this many comparisons per match instead of one per match before it, and at
/// worst a repeated match beyond the limit goes unreported.
const CHAIN_LIMIT: usize = 16;

impl<'a> SeenMatches<'a> {
    /// An earlier match with the same conditions, or `None` after recording this one.
    fn repeat_or_record(&mut self, at: Seen, request: &'a Map<String, Value>) -> Option<Seen> {
        let key = fingerprint(request);
        let mut next = self.first.get(&key).copied();
        let mut compared = 0;
        while let Some(index) = next
            && compared < CHAIN_LIMIT
        {
            compared += 1;
            let (seen, earlier, following) = self.matches[index];
            if same_request(earlier, request) {
                return Some(seen);
            }
            next = following;
        }
        let previous_first = self.first.insert(key, self.matches.len());
        self.matches.push((at, request, previous_first));
        None
    }
}

/// Analyses the routes of one section; `http`: they are HTTP routes, whose URI prefixes are
/// compared too.
fn routes(routes: &[Analysed<'_>], http: bool, findings: &mut Vec<Finding>) {
    let mut catch_all: Option<usize> = None;
    // The matches seen so far, by fingerprint.
    if routes.is_empty() {
        return;
    }
    // Most routes have one match: sized for that, the lists grow rarely.
    let mut seen = SeenMatches {
        matches: Vec::with_capacity(routes.len()),
        first: HashMap::with_capacity(routes.len()),
    };
    let mut prefixed: Vec<PrefixMatch<'_>> = Vec::with_capacity(routes.len());
    for (r, route) in routes.iter().enumerate() {
        let owner = route.owner;
        let requests = match route.matches {
            Some(Value::Array(requests)) if !requests.is_empty() => requests,
            _ => {
                match catch_all {
                    Some(first) => findings.push(warning(
                        owner.path(),
                        format!(
                            "this route is never used: {} before it has no match either and \
                             takes every request; only the last route may go without a match: \
                             give one of them a match, or remove this one",
                            described(&routes[first])
                        ),
                    )),
                    None => catch_all = Some(r),
                }
                continue;
            }
        };
        if let Some(first) = catch_all {
            findings.push(warning(
                owner.path(),
                format!(
                    "this route is never used: {} before it has no match and takes every \
                     request: move this route above it",
                    described(&routes[first])
                ),
            ));
            continue;
        }
        let mut repeated = 0;
        for (m, request) in requests.iter().enumerate() {
            let Some(request) = request.as_object() else {
                continue;
            };
            if let Some((r0, m0)) = seen.repeat_or_record((r, m), request) {
                repeated += 1;
                findings.push(warning(
                    owner.path().field("match").index(m),
                    format!(
                        "this match is never used: {}.match[{m0}] matches the same requests \
                         first: remove it, or change its conditions",
                        described(&routes[r0])
                    ),
                ));
                continue;
            }
            if http && let Some(found) = PrefixMatch::of(request, (r, m)) {
                prefixed.push(found);
            }
        }
        if repeated == requests.len() {
            findings.push(warning(
                owner.path(),
                "this route is never used: each of its matches repeats an earlier one: remove \
                 it, or change its matches"
                    .to_string(),
            ));
        }
    }
    covered_prefixes(routes, &prefixed, findings);
}

/// A multiply-rotate hasher (rustc's Fx hash): fast and unkeyed. A crafted object can give many
/// matches one fingerprint; [`CHAIN_LIMIT`] bounds what that costs.
#[derive(Default)]
struct Fingerprint(u64);

impl Hasher for Fingerprint {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
        for &byte in chunks.remainder() {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash of a match's conditions, its `name` left out. Maps hash the same in any key order, as
/// equal matches compare equal in any order.
fn fingerprint(request: &Map<String, Value>) -> u64 {
    map_hash(request.iter().filter(|(key, _)| *key != "name"))
}

/// The order-independent hash of a map's members: the sum of each member's own hash.
fn map_hash<'a>(members: impl Iterator<Item = (&'a String, &'a Value)>) -> u64 {
    members.fold(0u64, |sum, (key, value)| {
        let mut hasher = Fingerprint::default();
        key.hash(&mut hasher);
        hash_value(value, &mut hasher);
        sum.wrapping_add(hasher.finish())
    })
}

fn hash_value(value: &Value, hasher: &mut Fingerprint) {
    match value {
        Value::Null => 0u8.hash(hasher),
        Value::Bool(b) => b.hash(hasher),
        // Equal numbers have equal f64 forms, which is all a fingerprint needs.
        Value::Number(n) => n.as_f64().map(f64::to_bits).hash(hasher),
        Value::String(s) => s.hash(hasher),
        Value::Array(items) => {
            items.len().hash(hasher);
            items.iter().for_each(|item| hash_value(item, hasher));
        }
        Value::Object(map) => {
            map.len().hash(hasher);
            map_hash(map.iter()).hash(hasher);
        }
    }
}

/// Whether two matches have the same conditions, apart from their names.
fn same_request(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    let conditions = |m: &Map<String, Value>| m.keys().filter(|k| *k != "name").count();
    conditions(a) == conditions(b)
        && a.iter()
            .filter(|(key, _)| *key != "name")
            .all(|(key, value)| b.get(key) == Some(value))
}

/// A string condition as Istio's overlap analysis compares it: exact or prefix; a regex, or no
/// condition, compares as `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition<'a> {
    None,
    Exact(&'a str),
    Prefix(&'a str),
}

impl<'a> Condition<'a> {
    fn of(condition: Option<&'a Value>) -> Self {
        // One pass over the condition's keys; `exact` wins over `prefix`, as in Istio.
        let (mut exact, mut prefix) = (None, None);
        for (kind, text) in condition.and_then(Value::as_object).into_iter().flatten() {
            let text = text.as_str().filter(|t| !t.is_empty());
            match kind.as_str() {
                "exact" => exact = text,
                "prefix" => prefix = text,
                _ => {}
            }
        }
        match (exact, prefix) {
            (Some(exact), _) => Condition::Exact(exact),
            (None, Some(prefix)) => Condition::Prefix(prefix),
            (None, None) => Condition::None,
        }
    }

    /// Istio's test that an earlier condition (`self`) takes what a later one does: equal, or
    /// written as `exact:`/`prefix:` text, the later one's text starts the earlier one's.
    fn takes(self, later: Condition<'_>) -> bool {
        match (self, later) {
            (_, Condition::None) => true,
            (Condition::Exact(a), Condition::Exact(b))
            | (Condition::Prefix(a), Condition::Prefix(b)) => a.starts_with(b),
            _ => false,
        }
    }
}

/// An HTTP match with a URI prefix, reduced to what the overlap analysis compares.
struct PrefixMatch<'a> {
    at: Seen,
    prefix: &'a str,
    port: i128,
    method: Condition<'a>,
    authority: Condition<'a>,
    headers: Option<&'a Map<String, Value>>,
    query: Option<&'a Map<String, Value>>,
    without_headers: Option<&'a Map<String, Value>>,
}

impl<'a> PrefixMatch<'a> {
    fn of(request: &'a Map<String, Value>, at: Seen) -> Option<Self> {
        let mut found = PrefixMatch {
            at,
            prefix: "",
            port: 0,
            method: DEFAULT_METHOD,
            authority: Condition::None,
            headers: None,
            query: None,
            without_headers: None,
        };
        // One pass over the match's keys: most of these conditions are absent.
        for (key, value) in request {
            match key.as_str() {
                "uri" => found.prefix = value.get("prefix").and_then(Value::as_str)?,
                "port" => {
                    if let Some(Integer::Value(port)) = integer(value, IntType::Uint32) {
                        found.port = port;
                    }
                }
                "method" => {
                    if let written @ (Condition::Exact(_) | Condition::Prefix(_)) =
                        Condition::of(Some(value))
                    {
                        found.method = written;
                    }
                }
                "authority" => found.authority = Condition::of(Some(value)),
                "headers" => found.headers = value.as_object(),
                "queryParams" => found.query = value.as_object(),
                "withoutHeaders" => found.without_headers = value.as_object(),
                _ => {}
            }
        }
        (!found.prefix.is_empty()).then_some(found)
    }

    /// Whether this (earlier, shorter-prefixed) match takes every request `later` would.
    fn covers(&self, later: &PrefixMatch<'_>) -> bool {
        self.port == later.port
            && self.method.takes(later.method)
            && self.authority.takes(later.authority)
            && same_keys_taken(self.headers, later.headers)
            && same_keys_taken(self.query, later.query)
            && same_keys_taken(self.without_headers, later.without_headers)
    }
}

/// The same condition names on both sides, each of the earlier one's taking the later one's.
fn same_keys_taken(
    earlier: Option<&Map<String, Value>>,
    later: Option<&Map<String, Value>>,
) -> bool {
    let empty = Map::new();
    let (earlier, later) = (earlier.unwrap_or(&empty), later.unwrap_or(&empty));
    earlier.len() == later.len()
        && earlier.iter().all(|(name, condition)| {
            later.get(name).is_some_and(|other| {
                Condition::of(Some(condition)).takes(Condition::of(Some(other)))
            })
        })
}

/// Reports each prefix match that an earlier match with a shorter prefix covers. Sorting the
/// prefixes puts every prefix of a string before it, on a stack of ancestors, so each match is
/// compared only with the matches whose prefix starts its own: the cost stays linear in the
/// bytes of the prefixes, not quadratic in their number.
fn covered_prefixes(
    routes: &[Analysed<'_>],
    prefixed: &[PrefixMatch<'_>],
    findings: &mut Vec<Finding>,
) {
    if prefixed.len() < 2 {
        return;
    }
    // Sorted by prefix, then by position: the prefixes sit beside their indices for the sort.
    let mut sorted: Vec<(&str, usize)> = prefixed
        .iter()
        .enumerate()
        .map(|(i, p)| (p.prefix, i))
        .collect();
    sorted.sort_unstable();
    let order = sorted.into_iter().map(|(_, i)| i);
    let mut ancestors: Vec<usize> = Vec::new();
    let mut covered: Vec<(usize, usize)> = Vec::new();
    for later in order {
        let text = prefixed[later].prefix;
        while ancestors
            .last()
            .is_some_and(|&top| !text.starts_with(prefixed[top].prefix))
        {
            ancestors.pop();
        }
        let cover = ancestors
            .iter()
            .copied()
            .filter(|&earlier| earlier < later && prefixed[earlier].prefix != text)
            .find(|&earlier| prefixed[earlier].covers(&prefixed[later]));
        if let Some(earlier) = cover {
            covered.push((later, earlier));
        }
        ancestors.push(later);
    }
    covered.sort_unstable();
    for (later, earlier) in covered {
        let (b, a) = (&prefixed[later], &prefixed[earlier]);
        findings.push(warning(
            routes[b.at.0].owner.path().field("match").index(b.at.1),
            format!(
                "this match is never used: prefix {:?} starts with {:?} of {}.match[{}], which \
                 comes first with the same other conditions and takes its requests: put the \
                 longer prefix first",
                b.prefix,
                a.prefix,
                described(&routes[a.at.0]),
                a.at.1
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::virtualservice::http::testing::{found, vs};
    use serde_json::{Value, json};

    fn to(host: &str) -> Value {
        json!([{"destination": {"host": host}}])
    }

    fn unreachable(spec: Value) -> Vec<(String, String)> {
        found(&vs(spec))
            .into_iter()
            .filter(|(rule, _, _)| rule == "virtualservice-unreachable")
            .map(|(_, path, message)| (path, message))
            .collect()
    }

    fn paths(spec: Value) -> Vec<String> {
        unreachable(spec)
            .into_iter()
            .map(|(path, _)| path)
            .collect()
    }

    #[test]
    fn routes_after_a_catch_all() {
        let spec = json!({"hosts": ["r"], "http": [
            {"name": "all", "route": to("a")},
            {"match": [{"uri": {"prefix": "/x"}}, {"uri": {"exact": "/y"}}], "route": to("b")},
            {"route": to("c")},
        ]});
        assert_eq!(
            unreachable(spec),
            [
                (
                    "spec.http[1]".to_string(),
                    "this route is never used: spec.http[0] (\"all\") before it has no match and \
                     takes every request: move this route above it"
                        .to_string()
                ),
                (
                    "spec.http[2]".to_string(),
                    "this route is never used: spec.http[0] (\"all\") before it has no match \
                     either and takes every request; only the last route may go without a \
                     match: give one of them a match, or remove this one"
                        .to_string()
                ),
            ]
        );
        // TCP routes are analysed the same way, and a last catch-all is what routes are for.
        let tcp = json!({"hosts": ["r"], "tcp": [{"match": [{"port": 1}], "route": to("a")}, {"route": to("b")}, {"route": to("c")}]});
        assert_eq!(paths(tcp), ["spec.tcp[2]"]);
        assert_eq!(
            paths(
                json!({"hosts": ["r"], "http": [{"match": [{"uri": {"prefix": "/x"}}], "route": to("a")}, {"route": to("b")}]})
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn repeated_matches_apart_from_names() {
        let spec = json!({"hosts": ["r"], "http": [
            {"match": [{"name": "one", "uri": {"exact": "/a"}, "port": 80}], "route": to("a")},
            {"match": [{"name": "two", "port": 80, "uri": {"exact": "/a"}}], "route": to("b")},
            {"match": [{"uri": {"exact": "/a"}, "port": 81}, {"uri": {"exact": "/a"}, "port": 80}], "route": to("c")},
        ]});
        assert_eq!(
            unreachable(spec),
            [
                (
                    "spec.http[1].match[0]".to_string(),
                    "this match is never used: spec.http[0].match[0] matches the same requests \
                     first: remove it, or change its conditions"
                        .to_string()
                ),
                (
                    "spec.http[1]".to_string(),
                    "this route is never used: each of its matches repeats an earlier one: \
                     remove it, or change its matches"
                        .to_string()
                ),
                (
                    "spec.http[2].match[1]".to_string(),
                    "this match is never used: spec.http[0].match[0] matches the same requests \
                     first: remove it, or change its conditions"
                        .to_string()
                ),
            ]
        );
        let tls = json!({"hosts": ["a.example.com"], "tls": [
            {"match": [{"sniHosts": ["a.example.com"]}], "route": to("a")},
            {"match": [{"sniHosts": ["a.example.com"]}], "route": to("b")},
        ]});
        assert_eq!(paths(tls), ["spec.tls[1].match[0]", "spec.tls[1]"]);
    }

    #[test]
    fn covered_uri_prefixes() {
        // Istio's own case: a match without a method is compared as GET.
        let spec = json!({"hosts": ["r"], "http": [{"match": [
            {"uri": {"prefix": "/api/v1/product"}},
            {"uri": {"prefix": "/api/v1/products"}, "method": {"exact": "GET"}},
        ], "route": to("a")}]});
        assert_eq!(
            unreachable(spec),
            [(
                "spec.http[0].match[1]".to_string(),
                "this match is never used: prefix \"/api/v1/products\" starts with \
                 \"/api/v1/product\" of spec.http[0].match[0], which comes first with the same \
                 other conditions and takes its requests: put the longer prefix first"
                    .to_string()
            )]
        );
        let overlapping = |earlier: Value, later: Value| {
            paths(json!({"hosts": ["r"], "http": [
                {"match": [earlier], "route": to("a")},
                {"match": [later], "route": to("b")},
            ]}))
        };
        let covered = ["spec.http[1].match[0]".to_string()];
        let prefix = |p: &str| json!({"prefix": p});
        assert_eq!(
            overlapping(
                json!({"uri": prefix("/a"), "headers": {"x": {"prefix": "tenant-1"}}}),
                json!({"uri": prefix("/ab"), "headers": {"x": {"prefix": "tenant-"}}}),
            ),
            covered
        );
        for (earlier, later) in [
            // The longer prefix first: nothing is covered.
            (json!({"uri": prefix("/ab")}), json!({"uri": prefix("/a")})),
            (
                json!({"uri": prefix("/a"), "port": 80}),
                json!({"uri": prefix("/ab")}),
            ),
            (
                json!({"uri": prefix("/a"), "headers": {"x": {"exact": "1"}}}),
                json!({"uri": prefix("/ab"), "headers": {"x": {"exact": "2"}}}),
            ),
            (
                json!({"uri": prefix("/a"), "headers": {"x": {"exact": "1"}}}),
                json!({"uri": prefix("/ab")}),
            ),
            (
                json!({"uri": prefix("/a"), "method": {"exact": "POST"}}),
                json!({"uri": prefix("/ab")}),
            ),
            (
                json!({"uri": {"exact": "/a"}}),
                json!({"uri": prefix("/ab")}),
            ),
        ] {
            assert_eq!(
                overlapping(earlier.clone(), later.clone()),
                Vec::<String>::new(),
                "{earlier} {later}"
            );
        }
        // Every covered match once, whichever earlier match covers it first.
        let nested = json!({"hosts": ["r"], "http": [
            {"match": [{"uri": prefix("/")}], "route": to("a")},
            {"match": [{"uri": prefix("/a")}], "route": to("a")},
            {"match": [{"uri": prefix("/b")}, {"uri": prefix("/ab")}], "route": to("a")},
        ]});
        assert_eq!(
            paths(nested),
            [
                "spec.http[1].match[0]",
                "spec.http[2].match[0]",
                "spec.http[2].match[1]"
            ]
        );
    }
}
