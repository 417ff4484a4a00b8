//! What the write path guarantees whatever the object: bounded cost, user numbers read as their
//! CRD types, and fixes that settle in one pass. Each large-input test builds an object of tens
//! of thousands of entries and checks the exact findings; a rule that compared entries pairwise
//! would take minutes on them, which is the failure these tests catch. The namespace tests
//! replay the API server's reinvocation: the patched object reviewed again must get no patch.

use meshgate::engine::{Engine, Webhook};
use meshgate::policy::Policy;
use meshgate::rules::namespace::{DATAPLANE_MODE, INJECTION, REVISION};
use meshgate::rules::{self, Finding, ObjectKind, Operation, PatchOp, Rule, Subject};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::support::{answer, apply_patch, captured, decoded_patch, namespace_update, review_of};

/// Hosts in one large VirtualService (with the names below, its JSON is over 2 MB).
const MANY_HOSTS: usize = 64_000;
/// Entries in one large list of ports or header names: pairwise checks take 2 × 10⁸
/// comparisons on it, linear ones stay well under a second in a debug build.
const MANY: usize = 20_000;
/// Destinations of one HTTP route, each with a legacy header field to convert: each costs a
/// fix of several patch operations, so fewer keep the test fast while pairwise bookkeeping
/// would still take over 10⁷ comparisons.
const MANY_DESTINATIONS: usize = 5_000;

fn evaluate(kind: ObjectKind, object: &Value) -> Vec<Finding> {
    rules::evaluate(&Subject::created(kind, object))
}

/// The findings of `virtualservice-legacy-fields` alone.
fn legacy_fields(object: &Value) -> Vec<Finding> {
    let subject = Subject::created(ObjectKind::VirtualService, object);
    rules::virtualservice::legacy::evaluate(&subject, &rules::Shared::new(&subject))
        .into_iter()
        .filter(|f| f.rule == rules::Rule::VirtualServiceLegacyFields)
        .collect()
}

fn virtual_service(spec: Value) -> Value {
    json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
           "metadata": {"name": "big", "namespace": "shop"}, "spec": spec})
}

fn service_entry(spec: Value) -> Value {
    json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
           "metadata": {"name": "big", "namespace": "shop"}, "spec": spec})
}

/// The object with the fixes' operations applied in order.
fn patched(object: &Value, ops: &[PatchOp]) -> Value {
    let mut patched = object.clone();
    rules::patch::apply(&mut patched, ops).unwrap();
    patched
}

/// `(rule id, path)` of each finding.
fn rows(findings: &[Finding]) -> Vec<(&'static str, String)> {
    findings
        .iter()
        .map(|f| (f.rule.id(), f.path.to_string()))
        .collect()
}

fn one_route() -> Value {
    json!([{"route": [{"destination": {"host": "ratings"}}]}])
}

fn distinct_hosts(count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| json!(format!("service-{i}.team-{}.example.com", i % 97)))
        .collect()
}

#[test]
fn sixty_four_thousand_distinct_hosts_produce_no_host_finding() {
    let object = virtual_service(json!({"hosts": distinct_hosts(MANY_HOSTS), "http": one_route()}));
    assert_eq!(rows(&evaluate(ObjectKind::VirtualService, &object)), []);
}

#[test]
fn every_host_a_leading_wildcard_covers_is_reported_against_it() {
    // `*.example.com` first, then names under it (overlaps), then names outside it (none).
    let mut hosts = vec![json!("*.example.com")];
    hosts.extend(distinct_hosts(MANY_HOSTS / 2));
    hosts.extend((0..MANY_HOSTS / 2).map(|i| json!(format!("service-{i}.example.org"))));
    let object = virtual_service(json!({"hosts": hosts, "http": one_route()}));
    let findings = evaluate(ObjectKind::VirtualService, &object);
    assert_eq!(findings.len(), MANY_HOSTS / 2);
    assert!(
        findings
            .iter()
            .all(|f| f.rule == rules::Rule::VirtualServiceHosts)
    );
    assert_eq!(findings[0].path.to_string(), "spec.hosts[1]");
    assert_eq!(
        findings[0].message,
        "`service-0.team-0.example.com` overlaps `*.example.com` (spec.hosts[0]): keep one of them"
    );
    assert_eq!(
        findings.last().unwrap().path.to_string(),
        format!("spec.hosts[{}]", MANY_HOSTS / 2)
    );
}

#[test]
fn duplicates_and_nested_wildcards_name_the_first_host_they_overlap() {
    // The first half again (duplicates), then a wildcard per team after the names it covers.
    let first: Vec<Value> = distinct_hosts(MANY_HOSTS / 2);
    let mut hosts = first.clone();
    hosts.extend(first);
    hosts.extend((0..97).map(|team| json!(format!("*.team-{team}.example.com"))));
    hosts.push(json!("*.example.com"));
    let object = virtual_service(json!({"hosts": hosts, "http": one_route()}));
    let findings = evaluate(ObjectKind::VirtualService, &object);
    assert_eq!(findings.len(), MANY_HOSTS / 2 + 97 + 1);
    let half = MANY_HOSTS / 2;
    assert_eq!(findings[0].path.to_string(), format!("spec.hosts[{half}]"));
    assert_eq!(
        findings[0].message,
        "`service-0.team-0.example.com` overlaps `service-0.team-0.example.com` (spec.hosts[0]): keep one of them"
    );
    // `*.team-5.example.com` overlaps host 5 first; `*.example.com` overlaps host 0.
    let team_5 = &findings[half + 5];
    assert_eq!(
        team_5.path.to_string(),
        format!("spec.hosts[{}]", 2 * half + 5)
    );
    assert!(
        team_5
            .message
            .ends_with("(spec.hosts[5]): keep one of them"),
        "{}",
        team_5.message
    );
    assert!(
        findings
            .last()
            .unwrap()
            .message
            .ends_with("(spec.hosts[0]): keep one of them")
    );
}

#[test]
fn a_route_with_five_thousand_legacy_header_fields_converts_each_once() {
    // Every destination appends a header; every other one's value is not a map of strings,
    // which leaves the whole route for a hand merge, naming each bad field.
    let destinations = |bad_every: Option<usize>| -> Vec<Value> {
        (0..MANY_DESTINATIONS)
            .map(|i| {
                let headers = match bad_every {
                    Some(n) if i % n == 0 => json!(["not", "a", "map"]),
                    _ => json!({format!("x-route-{i}"): "1"}),
                };
                json!({"destination": {"host": format!("backend-{i}")},
                       "appendRequestHeaders": headers})
            })
            .collect()
    };
    let object =
        virtual_service(json!({"hosts": ["ratings"], "http": [{"route": destinations(None)}]}));
    let findings = legacy_fields(&object);
    assert_eq!(findings.len(), MANY_DESTINATIONS);
    assert_eq!(
        findings[1].path.to_string(),
        "spec.http[0].route[1].appendRequestHeaders"
    );
    let patch: Vec<PatchOp> = findings
        .iter()
        .flat_map(|f| f.fix.iter().flat_map(|fix| fix.ops.iter().cloned()))
        .collect();
    assert_eq!(
        patch.len(),
        2 * MANY_DESTINATIONS,
        "a remove and an add per destination"
    );
    let patched = patched(&object, &patch);
    assert_eq!(
        patched["spec"]["http"][0]["route"][MANY_DESTINATIONS - 1]["headers"],
        json!({"request": {"add": {format!("x-route-{}", MANY_DESTINATIONS - 1): "1"}}})
    );

    let object =
        virtual_service(json!({"hosts": ["ratings"], "http": [{"route": destinations(Some(2))}]}));
    let findings = legacy_fields(&object);
    assert_eq!(findings.len(), MANY_DESTINATIONS);
    assert!(findings.iter().all(|f| f.fix.is_none()));
    assert_eq!(
        findings[10].message,
        "removed in Istio 1.5, dropped by current CRDs; its value is not a map of header names to strings: rewrite it by hand"
    );
    assert!(
        findings[11]
            .message
            .contains("another header of this route needs a hand merge"),
        "{}",
        findings[11].message
    );
}

#[test]
fn twenty_thousand_header_names_to_remove_are_merged_without_repeats() {
    // Names 0..MANY, each listed twice, next to an existing list holding the even ones.
    let names: Vec<Value> = (0..2 * MANY)
        .map(|i| json!(format!("x-old-{}", i % MANY)))
        .collect();
    let existing: Vec<Value> = (0..MANY)
        .step_by(2)
        .map(|i| json!(format!("x-old-{i}")))
        .collect();
    let object = virtual_service(json!({"hosts": ["ratings"], "http": [{
        "removeRequestHeaders": names,
        "headers": {"request": {"remove": existing}},
        "route": [{"destination": {"host": "ratings"}}]}]}));
    let findings = evaluate(ObjectKind::VirtualService, &object);
    assert_eq!(
        rows(&findings),
        [(
            "virtualservice-legacy-fields",
            "spec.http[0].removeRequestHeaders".to_string()
        )]
    );
    let ops = &findings[0].fix.as_ref().unwrap().ops;
    assert_eq!(
        ops.len(),
        1 + MANY / 2,
        "the remove, then one add per odd name"
    );
    let patched = patched(&object, ops);
    let merged = patched["spec"]["http"][0]["headers"]["request"]["remove"]
        .as_array()
        .unwrap();
    assert_eq!(merged.len(), MANY);
    assert_eq!(merged[MANY / 2], json!("x-old-1"));
}

#[test]
fn twenty_thousand_ports_are_checked_once_each() {
    // Ports 1..=MANY named port-N, then the first thousand again; endpoints name every
    // declared port and one undeclared one each.
    let mut ports: Vec<Value> = (1..=MANY)
        .map(|n| json!({"number": n, "name": format!("port-{n}"), "protocol": "HTTP"}))
        .collect();
    ports.extend(
        (1..=1000).map(|n| json!({"number": n, "name": format!("port-{n}"), "protocol": "HTTP"})),
    );
    let endpoint_ports: serde_json::Map<String, Value> = (1..=MANY)
        .map(|n| (format!("port-{n}"), json!(n)))
        .chain([("undeclared".to_string(), json!(1))])
        .collect();
    let endpoints: Vec<Value> = (0..3)
        .map(|i| json!({"address": format!("10.0.0.{i}"), "ports": endpoint_ports.clone()}))
        .collect();
    let object = service_entry(json!({"hosts": ["api.example.com"], "ports": ports,
        "resolution": "STATIC", "addresses": ["10.1.0.0/16"], "endpoints": endpoints}));
    let findings = evaluate(ObjectKind::ServiceEntry, &object);
    let rows = rows(&findings);
    assert_eq!(rows.len(), 2 * 1000 + 3);
    assert_eq!(
        rows[..2],
        [
            ("serviceentry-ports", format!("spec.ports[{MANY}].number")),
            ("serviceentry-ports", format!("spec.ports[{MANY}].name")),
        ]
    );
    assert_eq!(
        findings[0].message,
        "port 1 is already defined by spec.ports[0]"
    );
    assert_eq!(
        rows[2000..],
        [
            (
                "serviceentry-endpoints",
                "spec.endpoints[0].ports.undeclared".to_string()
            ),
            (
                "serviceentry-endpoints",
                "spec.endpoints[1].ports.undeclared".to_string()
            ),
            (
                "serviceentry-endpoints",
                "spec.endpoints[2].ports.undeclared".to_string()
            ),
        ]
    );
}

#[test]
fn ratcheting_compares_twenty_thousand_stored_findings_once_each() {
    // The stored object already had the duplicate hosts, so the UPDATE is warned, not denied.
    let hosts: Vec<Value> = (0..20_000)
        .map(|_| json!("ratings.shop.svc.cluster.local"))
        .collect();
    let old = virtual_service(json!({"hosts": hosts, "http": [one_route()]}));
    let mut new = old.clone();
    new["metadata"]["labels"] = json!({"changed": "yes"});
    let review = review_of(&new, Some(&old), "v1", "v1");
    let answer = answer(&Policy::default(), Webhook::Validate, &review);
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    let warnings = crate::support::warnings_of(&answer);
    assert_eq!(warnings.len(), 20);
    assert!(
        warnings[0].starts_with("virtualservice-hosts: spec.hosts[1]: "),
        "{}",
        warnings[0]
    );
    assert_eq!(warnings[19], "... and 19980 more findings");
}

#[test]
fn a_megabyte_unknown_key_gets_no_suggestion_search() {
    let long_key = "x".repeat(1 << 20);
    let mut spec = json!({"hosts": ["ratings"], "http": one_route()});
    spec[&long_key] = json!(true);
    // Many short unknown keys too: each is compared with the declared names once.
    for i in 0..MANY / 2 {
        spec["http"][0][format!("unknown{i}")] = json!(1);
    }
    let findings = evaluate(ObjectKind::VirtualService, &virtual_service(spec));
    assert_eq!(findings.len(), MANY / 2 + 1);
    assert!(
        findings
            .iter()
            .all(|f| f.rule == rules::Rule::VirtualServiceUnknownFields)
    );
    let long = findings
        .iter()
        .find(|f| f.path.to_string().len() > 1 << 20)
        .unwrap();
    assert_eq!(
        long.message,
        "not in the Istio schema meshgate ships; the API server drops or rejects it"
    );
}

#[test]
fn weights_that_wrap_in_64_bits_are_denied_at_their_paths() {
    // Two i64::MAX and 102 add up to 100 in wrapping i64 arithmetic.
    let object = virtual_service(json!({"hosts": ["ratings"], "http": [{"route": [
        {"destination": {"host": "ratings", "subset": "v1"}, "weight": i64::MAX},
        {"destination": {"host": "ratings", "subset": "v2"}, "weight": i64::MAX},
        {"destination": {"host": "ratings", "subset": "v3"}, "weight": 102}]}]}));
    let review = review_of(&object, None, "v1", "v1");
    let response = answer(&Policy::default(), Webhook::Validate, &review);
    assert_eq!(response["response"]["allowed"], false, "{response}");
    let causes: Vec<(&str, &str)> = response["response"]["status"]["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["field"].as_str().unwrap(), c["message"].as_str().unwrap()))
        .collect();
    let outside = "virtualservice-weights: weight 9223372036854775807 is outside int32 \
                   (-2147483648 to 2147483647): write a weight from 0 to 100";
    assert_eq!(
        causes,
        [
            ("spec.http[0].route[0].weight", outside),
            ("spec.http[0].route[1].weight", outside),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Namespace fixes settle in one pass.

/// The three injection labels, in the order the rules read them.
const INJECTION_LABELS: [&str; 3] = [INJECTION, REVISION, DATAPLANE_MODE];

/// Realistic and odd values of each injection label.
fn values_of(key: &str) -> &'static [&'static str] {
    match key {
        INJECTION => &["enabled", "disabled", "true", "Enabled", ""],
        REVISION => &["asm-managed", "1-22", "canary", "default", ""],
        _ => &["ambient", "none", "Ambient", ""],
    }
}

/// Labels no namespace rule reads; fixes must leave them as they are.
const UNRELATED: [(&str, &[&str]); 3] = [
    ("kubernetes.io/metadata.name", &["shop"]),
    ("istio.io/use-waypoint", &["waypoint", "none"]),
    ("team", &["payments", "istio-injection"]),
];

/// What a request does to one label.
#[derive(Debug, Clone)]
enum LabelChange {
    Keep,
    Remove,
    Set(&'static str),
}

fn label_state(values: &'static [&'static str]) -> impl Strategy<Value = Option<&'static str>> {
    prop::option::of(prop::sample::select(values))
}

fn label_change(values: &'static [&'static str]) -> impl Strategy<Value = LabelChange> {
    prop_oneof![
        3 => Just(LabelChange::Keep),
        1 => Just(LabelChange::Remove),
        2 => prop::sample::select(values).prop_map(LabelChange::Set),
    ]
}

/// Every labelled key with its value set and what a request does to it.
fn label_plan() -> impl Strategy<Value = Vec<(&'static str, Option<&'static str>, LabelChange)>> {
    let keyed: Vec<(&'static str, &'static [&'static str])> = INJECTION_LABELS
        .iter()
        .map(|key| (*key, values_of(key)))
        .chain(UNRELATED)
        .collect();
    keyed
        .into_iter()
        .map(|(key, values)| {
            (label_state(values), label_change(values))
                .prop_map(move |(old, change)| (key, old, change))
        })
        .collect::<Vec<_>>()
}

/// The old and new label maps of a plan (`None`: the object has no `labels` at all).
fn labels_of_plan(
    plan: &[(&str, Option<&str>, LabelChange)],
    omit_empty: bool,
) -> (Option<Value>, Option<Value>) {
    let mut old = Map::new();
    let mut new = Map::new();
    for (key, before, change) in plan {
        if let Some(value) = before {
            old.insert(key.to_string(), json!(value));
        }
        let after = match change {
            LabelChange::Keep => *before,
            LabelChange::Remove => None,
            LabelChange::Set(value) => Some(*value),
        };
        if let Some(value) = after {
            new.insert(key.to_string(), json!(value));
        }
    }
    let wrap =
        |map: Map<String, Value>| (!(omit_empty && map.is_empty())).then_some(Value::Object(map));
    (wrap(old), wrap(new))
}

/// A Namespace review as the API server sends it: built on a captured request, with these
/// labels (`None` drops `metadata.labels`).
fn namespace_review(old: Option<Option<Value>>, new: Option<Value>) -> Value {
    let mut review = match &old {
        Some(_) => namespace_update(json!({}), json!({})),
        None => {
            let mut review = captured("namespace-create-both-labels.json");
            review["request"]["uid"] = json!(crate::support::uid());
            review
        }
    };
    let set = |object: &mut Value, labels: Option<Value>| match labels {
        Some(labels) => object["metadata"]["labels"] = labels,
        None => {
            object["metadata"].as_object_mut().unwrap().remove("labels");
        }
    };
    set(&mut review["request"]["object"], new);
    if let Some(old) = old {
        set(&mut review["request"]["oldObject"], old);
    }
    review
}

/// The `/mutate` answer of `engine` for a review, through the admission entry point.
fn mutate(engine: &Engine, review: &Value) -> Value {
    let body = serde_json::to_vec(review).unwrap();
    let answer =
        meshgate::admission::review(engine, Webhook::Mutate, &body).expect("a valid review");
    serde_json::from_slice(&answer.body).unwrap()
}

/// The actions a policy can give the namespace rules: the two fixable ones take all four, the
/// label-value rule (which has no fix) the other three.
fn namespace_policies() -> Vec<(String, Engine)> {
    const ALL: [&str; 4] = ["fix", "deny", "warn", "off"];
    let mut policies = Vec::new();
    for conflict in ALL {
        for shadowed in ALL {
            for value in ["deny", "warn", "off"] {
                let text = format!(
                    "apiVersion: meshgate.io/v1alpha1\nkind: Policy\nrules:\n  \
                     namespace-injection-conflict: {conflict}\n  \
                     namespace-injection-shadowed-revision: {shadowed}\n  \
                     namespace-injection-label-value: {value}\n"
                );
                let policy: Policy = text.parse().expect("policy");
                policies.push((text, Engine::new(policy)));
            }
        }
    }
    policies
}

/// `labels` without the injection labels.
fn unrelated_labels(object: &Value) -> Map<String, Value> {
    object["metadata"]["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, _)| !INJECTION_LABELS.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// Reviews `review` under `engine`, applies the patch as the API server does, reviews the
/// patched object again (the reinvocation: same oldObject, same policy) and checks that the
/// second answer patches nothing, that only injection labels were removed, and that neither
/// fixable rule has anything left to say. Returns the operations of the first patch.
fn mutate_settles(engine: &Engine, review: &Value, policy: &str) -> Vec<Value> {
    let first = mutate(engine, review);
    assert_eq!(first["response"]["allowed"], true, "/mutate never denies");
    let received = &review["request"]["object"];
    let Some(patch) = decoded_patch(&first) else {
        return Vec::new();
    };
    let ops = patch.as_array().unwrap().clone();
    let patched = apply_patch(received, &patch);
    for op in &ops {
        assert_eq!(op["op"], "remove", "{policy}{op}");
        let path = op["path"].as_str().unwrap();
        assert!(
            INJECTION_LABELS
                .iter()
                .any(|key| path == format!("/metadata/labels/{}", key.replace('/', "~1"))),
            "{policy}{path}"
        );
    }
    assert_eq!(unrelated_labels(&patched), unrelated_labels(received));
    let mut outside_labels = patched.clone();
    let mut received_outside = received.clone();
    outside_labels["metadata"]["labels"] = json!(null);
    received_outside["metadata"]["labels"] = json!(null);
    assert_eq!(outside_labels, received_outside, "only labels change");

    let mut again = review.clone();
    again["request"]["object"] = patched.clone();
    let second = mutate(engine, &again);
    assert_eq!(
        decoded_patch(&second),
        None,
        "{policy}second review of {:#} after {patch} patched again",
        patched["metadata"]["labels"]
    );
    let old = &review["request"]["oldObject"];
    let left: Vec<Rule> = rules::evaluate(&Subject {
        kind: ObjectKind::Namespace,
        operation: Operation::Update,
        object: &patched,
        old_object: Some(old),
        requested_version: Some("v1"),
        namespace: None,
        origin: meshgate::rules::Origin::Request,
        min_istio_version: meshgate::rules::DEFAULT_MIN_ISTIO_VERSION,
    })
    .into_iter()
    .map(|f| f.rule)
    .filter(|rule| *rule != Rule::NamespaceInjectionLabelValue)
    .collect();
    assert_eq!(left, [], "{policy}{:#}", patched["metadata"]["labels"]);
    ops
}

#[test]
fn a_revision_label_added_to_an_opted_out_ambient_namespace_is_fixed_in_one_pass() {
    // `kubectl label namespace shop istio.io/rev=asm-managed` on a namespace labelled
    // istio-injection=disabled and istio.io/dataplane-mode=ambient, both rules at `fix`.
    let base = json!({"kubernetes.io/metadata.name": "shop", "istio-injection": "disabled",
                      "istio.io/dataplane-mode": "ambient"});
    let mut with_revision = base.clone();
    with_revision["istio.io/rev"] = json!("asm-managed");
    let review = namespace_update(base, with_revision);
    let policy = "rules:\n  namespace-injection-conflict: fix\n  namespace-injection-shadowed-revision: fix\n";
    let engine = Engine::new(crate::support::policy(policy));
    let ops = mutate_settles(&engine, &review, policy);
    assert_eq!(
        ops,
        [
            json!({"op": "remove", "path": "/metadata/labels/istio-injection"}),
            json!({"op": "remove", "path": "/metadata/labels/istio.io~1dataplane-mode"}),
        ]
    );
    let warnings = crate::support::warnings_of(&mutate(&engine, &review));
    assert_eq!(
        warnings,
        [
            "namespace-injection-shadowed-revision: metadata.labels[istio-injection]: removed; this request set istio.io/rev=asm-managed, which now decides injection",
            "namespace-injection-shadowed-revision: metadata.labels[istio.io/dataplane-mode]: removed; this request set istio.io/rev=asm-managed, which now decides injection",
        ]
    );
}

/// The `virtualservice-unreachable` findings: `(path, message)`.
fn unreachable(object: &Value) -> Vec<(String, String)> {
    evaluate(ObjectKind::VirtualService, object)
        .into_iter()
        .filter(|f| f.rule == Rule::VirtualServiceUnreachable)
        .map(|f| (f.path.to_string(), f.message))
        .collect()
}

#[test]
fn twenty_thousand_repeated_matches_each_name_the_first() {
    let route = |i: usize| {
        json!({"name": format!("r{i}"), "match": [{"uri": {"exact": "/checkout"}, "port": 8080}],
               "route": [{"destination": {"host": "ratings"}}]})
    };
    let object = virtual_service(
        json!({"hosts": ["ratings"], "http": (0..MANY).map(route).collect::<Vec<_>>()}),
    );
    let found = unreachable(&object);
    // Each later route: its one match repeats route 0's, so the match and the route are reported.
    assert_eq!(found.len(), 2 * (MANY - 1));
    assert_eq!(
        found[0],
        (
            "spec.http[1].match[0]".to_string(),
            "this match is never used: spec.http[0] (\"r0\").match[0] matches the same requests \
             first: remove it, or change its conditions"
                .to_string()
        )
    );
    assert!(found.chunks(2).enumerate().all(|(i, pair)| {
        pair[0].0 == format!("spec.http[{}].match[0]", i + 1)
            && pair[0].1.contains("spec.http[0] (\"r0\").match[0]")
            && pair[1].0 == format!("spec.http[{}]", i + 1)
    }));
}

#[test]
fn twenty_thousand_prefixes_under_one_are_each_reported_once() {
    let route = |i: usize| {
        let prefix = if i == 0 {
            "/api".to_string()
        } else {
            format!("/api/{i}")
        };
        json!({"match": [{"uri": {"prefix": prefix}}], "route": [{"destination": {"host": "ratings"}}]})
    };
    let object = virtual_service(
        json!({"hosts": ["ratings"], "http": (0..MANY).map(route).collect::<Vec<_>>()}),
    );
    let found = unreachable(&object);
    assert_eq!(found.len(), MANY - 1);
    // In route order, each naming the first prefix, however many others also cover it
    // (`/api/1` covers `/api/10`, which comes later).
    assert!(found.iter().enumerate().all(|(i, (path, message))| {
        *path == format!("spec.http[{}].match[0]", i + 1)
            && message.contains("starts with \"/api\" of spec.http[0].match[0]")
    }));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn namespace_fixes_settle_in_one_pass_under_every_policy(
        plan in label_plan(),
        create in prop::bool::weighted(0.2),
        omit_empty in any::<bool>(),
    ) {
        let (old, new) = labels_of_plan(&plan, omit_empty);
        let review = namespace_review((!create).then_some(old), new);
        for (policy, engine) in namespace_policies() {
            let ops = mutate_settles(&engine, &review, &policy);
            if create || !policy.contains(": fix") {
                prop_assert!(ops.is_empty(), "{}{:?}", policy, ops);
            }
        }
    }
}
