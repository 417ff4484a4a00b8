//! Legacy and deprecated Istio fields through `/mutate` and `/validate`: Istio's own old
//! manifests, generated VirtualServices, the default `minIstioVersion`, conflicts and audit mode.
//! Expected objects come from `convert`, a direct transcription of the conversion tables (docs/rules.md) that is
//! independent of the patch machinery under test.

use crate::openapi as schema;
use meshgate::engine::Webhook;
use meshgate::rules::ObjectKind;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::support::*;

/// A current control plane: every fix's target exists.
const CURRENT: &str = "minIstioVersion: \"1.24\"\n";

// ---------------------------------------------------------------------------------------------
// The oracle: the conversion tables applied to a whole object, in the plainest way.

fn take_any(map: &mut Map<String, Value>, camel: &str, snake: &str) -> Vec<Value> {
    [camel, snake]
        .iter()
        .filter_map(|k| map.remove(*k))
        .collect()
}

fn entry<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    map.entry(key)
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .unwrap()
}

/// (camel, snake, direction, add-or-remove)
const HEADER_FIELDS: [(&str, &str, &str, &str); 5] = [
    ("appendHeaders", "append_headers", "request", "add"),
    (
        "appendRequestHeaders",
        "append_request_headers",
        "request",
        "add",
    ),
    (
        "appendResponseHeaders",
        "append_response_headers",
        "response",
        "add",
    ),
    (
        "removeRequestHeaders",
        "remove_request_headers",
        "request",
        "remove",
    ),
    (
        "removeResponseHeaders",
        "remove_response_headers",
        "response",
        "remove",
    ),
];

/// Whether some legacy header name is set to another value than the new map (or another
/// legacy map) already gives it, at the http level or in any of its routes.
fn header_conflict(route: &Map<String, Value>) -> bool {
    let level_conflicts = |level: &Map<String, Value>, fields: &[(&str, &str, &str, &str)]| {
        let mut planned: Map<String, Value> = Map::new();
        for direction in ["request", "response"] {
            let mut seen = level
                .get("headers")
                .and_then(|h| h.get(direction))
                .and_then(|d| d.get("add"))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for (camel, snake, dir, op) in fields {
                if *dir != direction || *op != "add" {
                    continue;
                }
                for key in [camel, snake] {
                    for (name, value) in level
                        .get(*key)
                        .and_then(Value::as_object)
                        .into_iter()
                        .flatten()
                    {
                        match seen.get(name) {
                            Some(old) if old != value => return true,
                            _ => {
                                seen.insert(name.clone(), value.clone());
                            }
                        }
                    }
                }
            }
            planned.insert(direction.into(), Value::Object(seen));
        }
        false
    };
    level_conflicts(route, &HEADER_FIELDS)
        || route
            .get("route")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .any(|r| level_conflicts(r, &HEADER_FIELDS[1..]))
}

fn move_headers(level: &mut Map<String, Value>, fields: &[(&str, &str, &str, &str)]) {
    for (camel, snake, direction, op) in fields {
        for value in take_any(level, camel, snake) {
            let headers = entry(level, "headers");
            let dir = entry(headers, direction);
            match *op {
                "add" => {
                    let add = entry(dir, "add");
                    for (k, v) in value.as_object().unwrap() {
                        add.insert(k.clone(), v.clone());
                    }
                }
                _ => {
                    let list = dir
                        .entry("remove")
                        .or_insert_with(|| json!([]))
                        .as_array_mut()
                        .unwrap();
                    for name in value.as_array().unwrap() {
                        if !list.contains(name) {
                            list.push(name.clone());
                        }
                    }
                }
            }
        }
    }
}

fn convert_percent(holder: &mut Map<String, Value>) {
    if let Some(percent) = holder.remove("percent") {
        let n = percent.as_f64().unwrap();
        if !holder.contains_key("percentage") && n != 0.0 {
            holder.insert("percentage".into(), json!({"value": n}));
        }
    }
}

/// What a VirtualService must look like after meshgate's fixes, per the conversion tables.
fn convert(object: &Value) -> Value {
    let mut out = object.clone();
    let spec = out["spec"].as_object_mut().unwrap();
    for route in spec
        .get_mut("http")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let route = route.as_object_mut().unwrap();
        if !header_conflict(route) {
            take_any(route, "websocketUpgrade", "websocket_upgrade");
            move_headers(route, &HEADER_FIELDS);
            for destination in route
                .get_mut("route")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                move_headers(destination.as_object_mut().unwrap(), &HEADER_FIELDS[1..]);
            }
            if let Some(abort) = route
                .get_mut("fault")
                .and_then(|f| f.get_mut("abort"))
                .and_then(Value::as_object_mut)
            {
                convert_percent(abort);
            }
        }
        if let Some(delay) = route
            .get_mut("fault")
            .and_then(|f| f.get_mut("delay"))
            .and_then(Value::as_object_mut)
        {
            convert_percent(delay);
        }
        let had_percentage = route.contains_key("mirrorPercentage");
        if let Some(value) = take_any(route, "mirrorPercent", "mirror_percent")
            .into_iter()
            .next()
            && !had_percentage
            && let Some(n) = value.as_f64()
        {
            route.insert("mirrorPercentage".into(), json!({"value": n}));
        }
        if let Some(cors) = route.get_mut("corsPolicy").and_then(Value::as_object_mut)
            && let Some(origins) = cors.remove("allowOrigin")
            && !cors.contains_key("allowOrigins")
        {
            let exact: Vec<Value> = origins
                .as_array()
                .unwrap()
                .iter()
                .map(|o| json!({"exact": o}))
                .collect();
            cors.insert("allowOrigins".into(), Value::Array(exact));
        }
    }
    for route in spec
        .get_mut("tls")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        for condition in route
            .get_mut("match")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            take_any(
                condition.as_object_mut().unwrap(),
                "sourceSubnet",
                "source_subnet",
            );
        }
    }
    out
}

fn conflicting_routes(object: &Value) -> bool {
    object["spec"]["http"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|r| header_conflict(r.as_object().unwrap()))
}

// ---------------------------------------------------------------------------------------------

/// Runs `/mutate` on a review, applies the patch like the API server, and checks the four
/// properties: the patch applies, the result is what the conversion tables say, it validates against the v1
/// schema (unless a conflict had to be left for a human), and a second review patches nothing.
fn mutate_and_check(
    policy: &meshgate::policy::Policy,
    object: &Value,
    kind_version: &str,
    request_version: &str,
) -> Value {
    let review = review_of(object, None, kind_version, request_version);
    let response = answer(policy, Webhook::Mutate, &review);
    assert_eq!(
        response["response"]["allowed"], true,
        "/mutate never denies"
    );
    let received = &review["request"]["object"];
    let patched = match decoded_patch(&response) {
        Some(patch) => apply_patch(received, &patch),
        None => received.clone(),
    };
    let expected = convert(received);
    assert_eq!(
        patched, expected,
        "patched object differs from the table conversion of\n{received:#}"
    );
    if !conflicting_routes(received) {
        let errors = schema::validate_spec(ObjectKind::VirtualService, &patched);
        assert!(
            errors.is_empty(),
            "not valid against the v1 schema: {errors:?}\n{patched:#}"
        );
    }
    let mut again = review.clone();
    again["request"]["object"] = patched.clone();
    let second = answer(policy, Webhook::Mutate, &again);
    assert!(
        decoded_patch(&second).is_none(),
        "a second review must not patch: {second}"
    );
    patched
}

fn legacy_virtualservices() -> Vec<(String, Value)> {
    let mut found = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(fixtures("legacy"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
    {
        for (i, doc) in yaml_documents(&path).into_iter().enumerate() {
            if doc["kind"] == "VirtualService" {
                found.push((
                    format!("{}#{i}", path.file_name().unwrap().to_string_lossy()),
                    doc,
                ));
            }
        }
    }
    found
}

#[test]
fn istio_legacy_manifests_are_converted_both_ways_the_api_server_sends_them() {
    let policy = policy(CURRENT);
    let manifests = legacy_virtualservices();
    assert_eq!(
        manifests.len(),
        7,
        "every VirtualService of the legacy fixtures"
    );
    let legacy_or_deprecated = [
        "virtualservice-legacy-fields",
        "virtualservice-deprecated-fields",
    ];
    for (name, object) in manifests {
        let unconverted = mutate_and_check(&policy, &object, "v1alpha3", "v1alpha3");
        let converted = mutate_and_check(&policy, &object, "v1", "v1alpha3");
        assert_eq!(
            unconverted["spec"], converted["spec"],
            "{name}: same result either way"
        );
        assert_ne!(
            unconverted["spec"], object["spec"],
            "{name}: something was converted"
        );
        // Nothing legacy or deprecated is left for /validate to report.
        let review = review_of(&unconverted, None, "v1alpha3", "v1alpha3");
        let validate = answer(&policy, Webhook::Validate, &review);
        let warnings = warnings_of(&validate);
        assert!(
            !warnings
                .iter()
                .any(|w| legacy_or_deprecated.iter().any(|r| w.starts_with(r))),
            "{name}: {warnings:?}"
        );
        // Denials, if any, are structural (Istio's 1.4 analyzer input has routes without
        // destinations), never about the converted fields.
        let causes = validate["response"]["status"]["details"]["causes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            causes.iter().all(|c| !legacy_or_deprecated
                .iter()
                .any(|r| c["message"].as_str().unwrap().starts_with(r))),
            "{name}: {validate}"
        );
    }
}

#[test]
fn the_captured_legacy_request_is_patched_and_says_what_moved() {
    let review = captured("virtualservice-create-v1alpha3-legacy-fields.json");
    let response = answer(&policy(CURRENT), Webhook::Mutate, &review);
    let patched = apply_patch(
        &review["request"]["object"],
        &decoded_patch(&response).unwrap(),
    );
    let http = &patched["spec"]["http"][0];
    assert_eq!(
        http["headers"],
        json!({"request": {"add": {"x-env": "prod"}}})
    );
    assert_eq!(
        http["fault"]["abort"],
        json!({"httpStatus": 503, "percentage": {"value": 10.0}})
    );
    assert_eq!(
        http["fault"]["delay"],
        json!({"fixedDelay": "2s", "percentage": {"value": 5.0}})
    );
    assert_eq!(http["mirrorPercentage"], json!({"value": 25.0}));
    assert_eq!(
        http["corsPolicy"],
        json!({"allowOrigins": [{"exact": "*"}]})
    );
    assert!(http.get("websocketUpgrade").is_none() && http.get("appendHeaders").is_none());
    // The last-applied annotation is a string, not fields: untouched.
    assert_eq!(patched["metadata"], review["request"]["object"]["metadata"]);
    let warnings = warnings_of(&response);
    assert!(warnings.iter().any(|w| w == "virtualservice-legacy-fields: spec.http[0].appendHeaders: removed in Istio 1.5; moved to spec.http[0].headers.request.add"), "{warnings:#?}");
    assert!(warnings.iter().any(|w| w == "virtualservice-legacy-fields: spec.http[0].fault.abort.percent: removed in Istio 1.5; moved to spec.http[0].fault.abort.percentage.value (10.0)"), "{warnings:#?}");
    assert_eq!(
        warnings.len(),
        6,
        "one warning per converted field: {warnings:#?}"
    );
    assert_eq!(response["response"]["auditAnnotations"]["patched"], "true");
}

#[test]
fn the_default_policy_converts_only_what_istio_1_4_reads() {
    let review = captured("virtualservice-create-v1alpha3-legacy-fields.json");
    let defaults = meshgate::policy::Policy::default();
    let response = answer(&defaults, Webhook::Mutate, &review);
    let patch = decoded_patch(&response).unwrap();
    let paths: Vec<&str> = patch
        .as_array()
        .unwrap()
        .iter()
        .map(|op| op["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/spec/http/0/websocketUpgrade",
            "/spec/http/0/appendHeaders",
            "/spec/http/0/headers",
            "/spec/http/0/fault/abort/percent",
            "/spec/http/0/fault/abort/percentage",
            "/spec/http/0/fault/delay/percent",
            "/spec/http/0/fault/delay/percentage",
        ]
    );
    // mirrorPercent and allowOrigin stay; /validate says why, as warnings (deprecated fields).
    let mut fixed = review.clone();
    fixed["request"]["object"] = apply_patch(&review["request"]["object"], &patch);
    let validate = answer(&defaults, Webhook::Validate, &fixed);
    assert_eq!(validate["response"]["allowed"], true);
    let warnings = warnings_of(&validate);
    for path in [
        "spec.http[0].mirrorPercent",
        "spec.http[0].corsPolicy.allowOrigin",
    ] {
        let warning = warnings
            .iter()
            .find(|w| w.starts_with(&format!("virtualservice-deprecated-fields: {path}: ")))
            .unwrap_or_else(|| panic!("{path} in {warnings:#?}"));
        assert!(warning.contains("minIstioVersion is 1.4"), "{warning}");
    }

    // DestinationRule deprecations target Istio 1.5, 1.14 and 1.16: reported, not converted.
    let rule = json!({"apiVersion": "networking.istio.io/v1beta1", "kind": "DestinationRule",
        "metadata": {"name": "reviews", "namespace": "shop"},
        "spec": {"host": "reviews", "trafficPolicy": {"outlierDetection": {"consecutiveErrors": 5},
                 "loadBalancer": {"simple": "LEAST_CONN"}}}});
    let review = review_of(&rule, None, "v1beta1", "v1beta1");
    assert!(decoded_patch(&answer(&defaults, Webhook::Mutate, &review)).is_none());
    let validate = answer(&defaults, Webhook::Validate, &review);
    assert_eq!(validate["response"]["allowed"], true);
    assert_eq!(
        validate["response"]["warnings"].as_array().unwrap().len(),
        2
    );
    // With a current control plane both are converted.
    let converted = answer(&policy(CURRENT), Webhook::Mutate, &review);
    let patched = apply_patch(
        &review["request"]["object"],
        &decoded_patch(&converted).unwrap(),
    );
    assert_eq!(
        patched["spec"]["trafficPolicy"],
        json!({"outlierDetection": {"consecutiveGatewayErrors": 5, "consecutive5xxErrors": 0}, "loadBalancer": {"simple": "LEAST_REQUEST"}})
    );
    assert!(schema::validate_spec(ObjectKind::DestinationRule, &patched).is_empty());
}

fn legacy_vs(http: Value) -> Value {
    json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
           "metadata": {"name": "ratings", "namespace": "shop"},
           "spec": {"hosts": ["ratings"], "http": http}})
}

#[test]
fn a_header_conflict_is_not_patched_and_validate_denies_naming_the_key() {
    let object = legacy_vs(
        json!([{"appendHeaders": {"x-env": "prod"}, "headers": {"request": {"add": {"x-env": "dev"}}},
                                   "websocketUpgrade": true, "route": [{"destination": {"host": "ratings"}}]}]),
    );
    let review = review_of(&object, None, "v1alpha3", "v1alpha3");
    let current = policy(CURRENT);
    assert!(
        decoded_patch(&answer(&current, Webhook::Mutate, &review)).is_none(),
        "no patch for that route"
    );
    let validate = answer(&current, Webhook::Validate, &review);
    assert_eq!(validate["response"]["allowed"], false);
    let message = validate["response"]["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("virtualservice-legacy-fields: spec.http[0].appendHeaders: ")
            && message.contains("`x-env`"),
        "{message}"
    );
}

#[test]
fn a_port_name_is_not_patched_and_validate_denies_naming_the_port() {
    let object = legacy_vs(
        json!([{"route": [{"destination": {"host": "ratings", "port": {"name": "grpc-web"}}}]}]),
    );
    let review = review_of(&object, None, "v1alpha3", "v1alpha3");
    let current = policy(CURRENT);
    assert!(decoded_patch(&answer(&current, Webhook::Mutate, &review)).is_none());
    let validate = answer(&current, Webhook::Validate, &review);
    assert_eq!(validate["response"]["allowed"], false);
    let causes = &validate["response"]["status"]["details"]["causes"];
    assert_eq!(
        causes[0]["field"],
        "spec.http[0].route[0].destination.port.name"
    );
    assert!(
        causes[0]["message"]
            .as_str()
            .unwrap()
            .contains("\"grpc-web\""),
        "{causes}"
    );
}

#[test]
fn audit_mode_warns_from_validate_and_never_patches() {
    let review = captured("virtualservice-create-v1alpha3-legacy-fields.json");
    let audit = policy(&format!("mode: audit\n{CURRENT}"));
    let mutate = answer(&audit, Webhook::Mutate, &review);
    assert_eq!(
        mutate["response"],
        json!({"uid": review["request"]["uid"], "allowed": true})
    );
    let validate = answer(&audit, Webhook::Validate, &review);
    assert_eq!(validate["response"]["allowed"], true);
    assert!(validate["response"].get("patch").is_none());
    let warnings = validate["response"]["warnings"].as_array().unwrap();
    assert_eq!(
        warnings.len(),
        7,
        "six converted fields and the API version: {warnings:#?}"
    );
    let findings: Vec<String> = serde_json::from_str(
        validate["response"]["auditAnnotations"]["findings"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        findings,
        [
            "virtualservice-legacy-fields",
            "virtualservice-deprecated-fields",
            "virtualservice-api-version"
        ]
    );
    // /validate in enforce mode never patches either, even with fixes pending.
    let enforce = answer(&policy(CURRENT), Webhook::Validate, &review);
    assert!(
        enforce["response"].get("patch").is_none()
            && enforce["response"].get("patchType").is_none()
    );
}

#[test]
fn api_version_is_an_info_warning_from_request_kind() {
    let object = legacy_vs(json!([{"route": [{"destination": {"host": "ratings"}}]}]));
    let defaults = meshgate::policy::Policy::default();
    for (kind_version, request_version, warned) in [
        ("v1alpha3", "v1alpha3", true),
        ("v1", "v1beta1", true),
        ("v1", "v1", false),
    ] {
        let validate = answer(
            &defaults,
            Webhook::Validate,
            &review_of(&object, None, kind_version, request_version),
        );
        let warnings = validate["response"]["warnings"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(warnings.len(), usize::from(warned), "{request_version}");
        if warned {
            assert!(
                warnings[0]
                    .as_str()
                    .unwrap()
                    .starts_with("virtualservice-api-version: apiVersion: networking.istio.io/"),
                "{warnings:?}"
            );
        }
    }
}

#[test]
fn snake_case_fields_are_renamed_and_unknown_ones_warned() {
    let object = legacy_vs(json!([{"route": [{"destination": {"host": "ratings"}}],
                                   "retries": {"attempts": 2, "per_try_timeout": "1s", "retryOnn": "5xx"}}]));
    let review = review_of(&object, None, "v1", "v1");
    let current = policy(CURRENT);
    let mutate = answer(&current, Webhook::Mutate, &review);
    assert_eq!(
        decoded_patch(&mutate),
        Some(
            json!([{"op": "move", "from": "/spec/http/0/retries/per_try_timeout", "path": "/spec/http/0/retries/perTryTimeout"}])
        )
    );
    let validate = answer(&current, Webhook::Validate, &review);
    assert_eq!(
        validate["response"]["allowed"], true,
        "unknown fields warn by default: a newer Istio is never blocked"
    );
    let warnings = warnings_of(&validate);
    assert!(
        warnings.iter().any(|w| w
            .starts_with("virtualservice-unknown-fields: spec.http[0].retries.retryOnn: ")
            && w.contains("`retryOn`")),
        "{warnings:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Generated VirtualServices.

fn maybe<T: Strategy>(strategy: T) -> impl Strategy<Value = Option<T::Value>> {
    prop::option::of(strategy)
}

fn header_map() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        prop::sample::select(vec!["x-a", "x-b", "x-c"]),
        prop::sample::select(vec!["1", "2"]),
        1..3,
    )
    .prop_map(|m| json!(m))
}

fn header_list() -> impl Strategy<Value = Value> {
    prop::collection::vec(prop::sample::select(vec!["x-a", "x-b", "x-c"]), 1..3)
        .prop_map(|v| json!(v))
}

fn spelled(camel: &'static str, snake: &'static str) -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![camel, snake])
}

fn existing_headers() -> impl Strategy<Value = Value> {
    (
        maybe(header_map()),
        maybe(header_list()),
        maybe(header_map()),
    )
        .prop_map(|(req_add, req_remove, resp_add)| {
            let mut headers = json!({});
            if req_add.is_some() || req_remove.is_some() {
                headers["request"] = json!({});
                if let Some(add) = req_add {
                    headers["request"]["add"] = add;
                }
                if let Some(remove) = req_remove {
                    headers["request"]["remove"] = remove;
                }
            }
            if let Some(add) = resp_add {
                headers["response"] = json!({"add": add});
            }
            headers
        })
}

fn destination() -> impl Strategy<Value = Value> {
    (
        maybe(Just(json!("v1"))),
        maybe(header_map()),
        spelled("appendRequestHeaders", "append_request_headers"),
        maybe(header_list()),
        maybe(existing_headers()),
        maybe((0u32..=100).prop_map(|w| json!(w))),
    )
        .prop_map(|(subset, append, append_key, remove, headers, weight)| {
            let mut d = json!({"destination": {"host": "ratings"}});
            if let Some(subset) = subset {
                d["destination"]["subset"] = subset;
            }
            if let Some(append) = append {
                d[append_key] = append;
            }
            if let Some(remove) = remove {
                d["removeResponseHeaders"] = remove;
            }
            if let Some(headers) = headers {
                d["headers"] = headers;
            }
            if let Some(weight) = weight {
                d["weight"] = weight;
            }
            d
        })
}

fn http_route() -> impl Strategy<Value = Value> {
    let headers = (
        (
            maybe(header_map()),
            spelled("appendHeaders", "append_headers"),
        ),
        (
            maybe(header_map()),
            spelled("appendRequestHeaders", "append_request_headers"),
        ),
        (
            maybe(header_map()),
            spelled("appendResponseHeaders", "append_response_headers"),
        ),
        (
            maybe(header_list()),
            spelled("removeRequestHeaders", "remove_request_headers"),
        ),
        (
            maybe(header_list()),
            spelled("removeResponseHeaders", "remove_response_headers"),
        ),
        maybe(existing_headers()),
    );
    let faults = (
        maybe((0u32..=100).prop_map(|p| json!(p))),
        any::<bool>(),
        maybe((0u32..=100).prop_map(|p| json!(p))),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    );
    let others = (
        maybe((
            spelled("websocketUpgrade", "websocket_upgrade"),
            any::<bool>(),
        )),
        maybe((
            spelled("mirrorPercent", "mirror_percent"),
            prop_oneof![(0u32..=100).prop_map(|p| json!(p)), Just(Value::Null)],
        )),
        any::<bool>(),
        maybe(prop::collection::vec(
            prop::sample::select(vec!["*", "https://a.example"]),
            1..3,
        )),
        any::<bool>(),
        prop::collection::vec(destination(), 1..3),
        any::<bool>(),
    );
    (headers, faults, others).prop_map(|(headers, faults, others)| {
        let mut route = json!({});
        let (h1, h2, h3, h4, h5, existing) = headers;
        for (value, key) in [h1, h2, h3] {
            if let Some(value) = value {
                route[key] = value;
            }
        }
        for (value, key) in [h4, h5] {
            if let Some(value) = value {
                route[key] = value;
            }
        }
        if let Some(existing) = existing {
            route["headers"] = existing;
        }
        let (
            abort_percent,
            abort_percentage,
            delay_percent,
            delay_percentage,
            with_abort,
            with_delay,
        ) = faults;
        let mut fault = json!({});
        if with_abort || abort_percent.is_some() {
            fault["abort"] = json!({"httpStatus": 503});
            if let Some(p) = abort_percent {
                fault["abort"]["percent"] = p;
            }
            if abort_percentage {
                fault["abort"]["percentage"] = json!({"value": 0.5});
            }
        }
        if with_delay || delay_percent.is_some() {
            fault["delay"] = json!({"fixedDelay": "1s"});
            if let Some(p) = delay_percent {
                fault["delay"]["percent"] = p;
            }
            if delay_percentage {
                fault["delay"]["percentage"] = json!({"value": 2.5});
            }
        }
        if fault.as_object().is_some_and(|f| !f.is_empty()) {
            route["fault"] = fault;
        }
        let (
            websocket,
            mirror_percent,
            mirror_percentage,
            allow_origin,
            allow_origins,
            destinations,
            unrelated,
        ) = others;
        if let Some((key, value)) = websocket {
            route[key] = json!(value);
        }
        if mirror_percent.is_some() || mirror_percentage {
            route["mirror"] = json!({"host": "ratings-shadow"});
        }
        if let Some((key, value)) = mirror_percent {
            route[key] = value;
        }
        if mirror_percentage {
            route["mirrorPercentage"] = json!({"value": 12.5});
        }
        if allow_origin.is_some() || allow_origins {
            route["corsPolicy"] = json!({"maxAge": "10s"});
            if let Some(origins) = allow_origin {
                route["corsPolicy"]["allowOrigin"] = json!(origins);
            }
            if allow_origins {
                route["corsPolicy"]["allowOrigins"] = json!([{"prefix": "https://"}]);
            }
        }
        route["route"] = Value::Array(destinations);
        if unrelated {
            route["name"] = json!("primary");
            route["timeout"] = json!("5s");
            route["retries"] = json!({"attempts": 3, "perTryTimeout": "2s"});
            route["match"] =
                json!([{"uri": {"prefix": "/api"}, "headers": {"x-user": {"exact": "jason"}}}]);
        }
        route
    })
}

fn virtual_service() -> impl Strategy<Value = Value> {
    (prop::collection::vec(http_route(), 1..3), any::<bool>(), any::<bool>()).prop_map(|(http, tls, snake_subnet)| {
        let mut object = json!({
            "apiVersion": "networking.istio.io/v1alpha3",
            "kind": "VirtualService",
            "metadata": {"name": "ratings", "namespace": "shop", "labels": {"team": "a"},
                         "annotations": {"note": "appendHeaders: {x: y}"}},
            "spec": {"hosts": ["ratings"], "gateways": ["mesh"], "http": http},
        });
        if tls {
            let key = if snake_subnet { "source_subnet" } else { "sourceSubnet" };
            object["spec"]["tls"] = json!([{"match": [{"sniHosts": ["ratings"], key: "10.0.0.0/8"}],
                                             "route": [{"destination": {"host": "ratings"}}]}]);
        }
        object
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn generated_virtualservices_keep_the_four_properties(object in virtual_service()) {
        let policy = policy(CURRENT);
        let unconverted = mutate_and_check(&policy, &object, "v1alpha3", "v1alpha3");
        let converted = mutate_and_check(&policy, &object, "v1", "v1alpha3");
        prop_assert_eq!(&unconverted["spec"], &converted["spec"]);
    }
}
