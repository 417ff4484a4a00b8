//! `virtualservice-legacy-fields` (removed in Istio 1.5: current CRDs drop them) and
//! `virtualservice-deprecated-fields` (still declared, deprecated): each field found, in camelCase
//! or snake_case, with the conversion docs/rules.md describes as its fix.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::{RouteRef, section};
use crate::object::fields::{lookup, spellings};
use crate::rules::edit::{Editor, navigate};
use crate::rules::{Change, FieldPath, Finding, Fix, IstioVersion, Rule, Severity, Subject};

const V1_0: IstioVersion = IstioVersion::new(1, 0);
const V1_1: IstioVersion = IstioVersion::new(1, 1);
const V1_5: IstioVersion = IstioVersion::new(1, 5);

/// Where a legacy header field's content goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderTarget {
    RequestAdd,
    ResponseAdd,
    RequestRemove,
    ResponseRemove,
}

impl HeaderTarget {
    fn rel(self) -> FieldPath {
        FieldPath::fields(match self {
            HeaderTarget::RequestAdd => "headers.request.add",
            HeaderTarget::ResponseAdd => "headers.response.add",
            HeaderTarget::RequestRemove => "headers.request.remove",
            HeaderTarget::ResponseRemove => "headers.response.remove",
        })
    }

    fn is_map(self) -> bool {
        matches!(self, HeaderTarget::RequestAdd | HeaderTarget::ResponseAdd)
    }
}

/// Header fields of `http[]`.
const HTTP_HEADER_FIELDS: [(&str, HeaderTarget); 5] = [
    ("appendHeaders", HeaderTarget::RequestAdd),
    ("appendRequestHeaders", HeaderTarget::RequestAdd),
    ("appendResponseHeaders", HeaderTarget::ResponseAdd),
    ("removeRequestHeaders", HeaderTarget::RequestRemove),
    ("removeResponseHeaders", HeaderTarget::ResponseRemove),
];

/// Header fields of `http[].route[]`.
const ROUTE_HEADER_FIELDS: [(&str, HeaderTarget); 4] = [
    ("appendRequestHeaders", HeaderTarget::RequestAdd),
    ("appendResponseHeaders", HeaderTarget::ResponseAdd),
    ("removeRequestHeaders", HeaderTarget::RequestRemove),
    ("removeResponseHeaders", HeaderTarget::ResponseRemove),
];

/// A key of an HTTP route that is a legacy field, in either spelling (a `match` on the key is
/// much cheaper than looking each field up in every route).
fn is_http_legacy_key(key: &str) -> bool {
    matches!(
        key,
        "websocketUpgrade" | "websocket_upgrade" | "appendHeaders" | "append_headers"
    ) || is_destination_legacy_key(key)
}

/// A key of `http[].route[]` that is a legacy field, in either spelling.
fn is_destination_legacy_key(key: &str) -> bool {
    matches!(
        key,
        "appendRequestHeaders"
            | "append_request_headers"
            | "appendResponseHeaders"
            | "append_response_headers"
            | "removeRequestHeaders"
            | "remove_request_headers"
            | "removeResponseHeaders"
            | "remove_response_headers"
    )
}

/// Whether an HTTP route holds any legacy field, without looking each one up.
fn has_legacy_field(route: &Map<String, Value>) -> bool {
    route.keys().any(|k| is_http_legacy_key(k))
        || matches!(route.get("route"), Some(Value::Array(list)) if list.iter().any(|d| d.as_object().is_some_and(|d| d.keys().any(|k| is_destination_legacy_key(k)))))
        || route
            .get("fault")
            .and_then(|f| f.get("abort"))
            .is_some_and(|abort| abort.get("percent").is_some())
}

/// Whether `camel_key` under the fields `parents` is one these rules convert, so the schema walk
/// neither renames it nor calls it unknown.
pub fn converts(parents: &[String], camel_key: &str) -> bool {
    let ends = |suffix: &[&str]| {
        parents.len() >= suffix.len() && parents[parents.len() - suffix.len()..] == *suffix
    };
    (ends(&["http"])
        && (camel_key == "websocketUpgrade"
            || camel_key == "mirrorPercent"
            || HTTP_HEADER_FIELDS.iter().any(|(f, _)| *f == camel_key)))
        || (ends(&["http", "route"]) && ROUTE_HEADER_FIELDS.iter().any(|(f, _)| *f == camel_key))
        || ((ends(&["fault", "abort"]) || ends(&["fault", "delay"])) && camel_key == "percent")
        || (ends(&["tls", "match"]) && camel_key == "sourceSubnet")
        || (ends(&["port"]) && camel_key == "name")
        || (ends(&["corsPolicy"]) && camel_key == "allowOrigin")
}

/// Runs both rules over `spec.http`, `spec.tls` and every destination.
pub fn evaluate(subject: &Subject<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let spec = subject.spec();
    for owner in section(spec, "http") {
        legacy_http_route(owner, &mut findings);
    }
    for owner in section(spec, "tls") {
        source_subnets(owner, &mut findings);
    }
    port_names(spec, &mut findings);
    for owner in section(spec, "http") {
        delay_percent(owner, &mut findings);
        // One pass over the route's keys instead of a lookup per spelling of each field.
        let (mut mirror, mut cors) = (false, false);
        for key in owner.route.keys() {
            match key.as_str() {
                "mirrorPercent" | "mirror_percent" => mirror = true,
                "corsPolicy" | "cors_policy" => cors = true,
                _ => {}
            }
        }
        if mirror {
            mirror_percent(owner, &mut findings);
        }
        if cors {
            allow_origin(owner, &mut findings);
        }
    }
    findings
}

/// One legacy field found, before its fix is known.
struct Occurrence {
    /// Relative to the HTTP route.
    rel: FieldPath,
    kind: LegacyKind,
}

enum LegacyKind {
    Websocket,
    Header {
        target_rel: FieldPath,
        target: HeaderTarget,
        value: Value,
    },
    AbortPercent {
        abort_rel: FieldPath,
        value: Value,
        percentage_set: bool,
    },
}

fn legacy_finding(path: FieldPath, message: String, fix: Option<Fix>) -> Finding {
    Finding::new(
        Rule::VirtualServiceLegacyFields,
        Severity::Error,
        path,
        message,
    )
    .fixed_by(fix)
}

/// `http[i]`: websocketUpgrade, the header fields at both levels and `fault.abort.percent`,
/// converted with one editor so that their operations apply in order. A header that cannot be
/// merged (same name, other value) leaves the whole route unfixed.
fn legacy_http_route(owner: RouteRef<'_>, findings: &mut Vec<Finding>) {
    let route = owner.route;
    if !has_legacy_field(route) {
        return;
    }
    let mut occurrences = Vec::new();
    for (key, _) in spellings(route, "websocketUpgrade") {
        occurrences.push(Occurrence {
            rel: FieldPath::fields(key),
            kind: LegacyKind::Websocket,
        });
    }
    for (field, target) in HTTP_HEADER_FIELDS {
        for (key, value) in spellings(route, field) {
            occurrences.push(Occurrence {
                rel: FieldPath::fields(key),
                kind: LegacyKind::Header {
                    target_rel: target.rel(),
                    target,
                    value: value.clone(),
                },
            });
        }
    }
    if let Some((route_key, Value::Array(destinations))) = lookup(route, "route") {
        for (j, destination) in destinations.iter().enumerate() {
            let Value::Object(destination) = destination else {
                continue;
            };
            let base = FieldPath::fields(route_key).index(j);
            for (field, target) in ROUTE_HEADER_FIELDS {
                for (key, value) in spellings(destination, field) {
                    occurrences.push(Occurrence {
                        rel: base.field(key),
                        kind: LegacyKind::Header {
                            target_rel: base.join(&target.rel()),
                            target,
                            value: value.clone(),
                        },
                    });
                }
            }
        }
    }
    if let Some((fault_key, Value::Object(fault))) = lookup(route, "fault")
        && let Some((abort_key, Value::Object(abort))) = lookup(fault, "abort")
        && let Some(percent) = abort.get("percent")
    {
        let abort_rel = FieldPath::fields(fault_key).field(abort_key);
        occurrences.push(Occurrence {
            rel: abort_rel.field("percent"),
            kind: LegacyKind::AbortPercent {
                abort_rel,
                value: percent.clone(),
                percentage_set: abort.contains_key("percentage"),
            },
        });
    }
    if occurrences.is_empty() {
        return;
    }
    let path = &owner.path();
    let route_value = Value::Object(route.clone());

    let problems = header_problems(&route_value, &occurrences);
    let mut editor = Editor::new(path.clone(), route_value);
    for occurrence in occurrences {
        let field_path = path.join(&occurrence.rel);
        match occurrence.kind {
            LegacyKind::Websocket => {
                let fix = problems.is_empty().then(|| {
                    editor.remove(&occurrence.rel);
                    Fix {
                        ops: editor.take_ops(),
                        changes: vec![Change {
                            path: field_path.clone(),
                            description: "removed in Istio 1.5; deleted (every route upgrades websockets since Istio 1.0)".into(),
                        }],
                        target_since: V1_0,
                    }
                });
                findings.push(legacy_finding(
                    field_path,
                    "removed in Istio 1.5 (every route upgrades websockets since 1.0): delete it"
                        .into(),
                    fix,
                ));
            }
            LegacyKind::Header {
                target_rel,
                target,
                value,
            } => {
                let target_path = path.join(&target_rel);
                let fix = problems.is_empty().then(|| {
                    editor.remove(&occurrence.rel);
                    if let Value::Object(entries) = &value {
                        editor.extend_map(&target_rel, entries);
                    } else if let Value::Array(names) = &value {
                        editor.extend_list(&target_rel, names);
                    }
                    Fix {
                        ops: editor.take_ops(),
                        changes: vec![Change {
                            path: field_path.clone(),
                            description: format!("removed in Istio 1.5; moved to {target_path}"),
                        }],
                        target_since: V1_1,
                    }
                });
                let verb = if target.is_map() {
                    "write these headers"
                } else {
                    "list these names"
                };
                let message = match problems.get(&occurrence.rel) {
                    Some(text) => {
                        format!("removed in Istio 1.5, dropped by current CRDs; {text}")
                    }
                    None if !problems.is_empty() => format!(
                        "removed in Istio 1.5: {verb} under {target_path} \
                         (not fixed automatically: another header of this route needs a hand merge)"
                    ),
                    None => format!(
                        "removed in Istio 1.5, dropped by current CRDs: {verb} under {target_path}"
                    ),
                };
                findings.push(legacy_finding(field_path, message, fix));
            }
            LegacyKind::AbortPercent {
                abort_rel,
                value,
                percentage_set,
            } => {
                let conversion = percent_conversion(&value, percentage_set);
                let target_path = path.join(&abort_rel).field("percentage").field("value");
                let fix = match (&conversion, problems.is_empty()) {
                    (Ok(write), true) => {
                        editor.remove(&occurrence.rel);
                        if let Some(percent) = write {
                            editor.set(
                                &abort_rel.field("percentage").field("value"),
                                json!(percent),
                            );
                        }
                        Some(Fix {
                            ops: editor.take_ops(),
                            changes: vec![Change {
                                path: field_path.clone(),
                                description: percent_change(*write, percentage_set, &target_path),
                            }],
                            target_since: V1_1,
                        })
                    }
                    _ => None,
                };
                let message = match conversion {
                    Err(reason) => {
                        format!("removed in Istio 1.5, dropped by current CRDs; {reason}")
                    }
                    Ok(_) => format!(
                        "removed in Istio 1.5, dropped by current CRDs, so the fault stops firing: \
                         write {target_path}: {}",
                        float_text(value.as_f64().unwrap_or_default())
                    ),
                };
                findings.push(legacy_finding(field_path, message, fix));
            }
        }
    }
}

/// Checks every header field of a route before anything is changed: the value's shape, and
/// names that the new map already sets (or another legacy field sets) to a different value.
/// Returns the first reason each field (by its path relative to the route) cannot be converted
/// mechanically. Maps by path, not lists: a route can hold thousands of destinations, each with
/// its own header fields and target maps.
fn header_problems(route: &Value, occurrences: &[Occurrence]) -> HashMap<FieldPath, String> {
    let mut problems: HashMap<FieldPath, String> = HashMap::new();
    let mut planned: HashMap<&FieldPath, Map<String, Value>> = HashMap::new();
    for occurrence in occurrences {
        let LegacyKind::Header {
            target_rel,
            target,
            value,
        } = &occurrence.kind
        else {
            continue;
        };
        let existing = navigate(route, target_rel.segments());
        let mut problem = |text: String| {
            problems.entry(occurrence.rel.clone()).or_insert(text);
        };
        if target.is_map() {
            let Some(entries) = value
                .as_object()
                .filter(|m| m.values().all(Value::is_string))
            else {
                problem(
                    "its value is not a map of header names to strings: rewrite it by hand".into(),
                );
                continue;
            };
            if existing.is_some_and(|e| !e.is_object()) {
                problem(format!("{} is not a map: merge by hand", target_rel));
                continue;
            }
            let merged = planned.entry(target_rel).or_insert_with(|| {
                existing
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default()
            });
            for (name, new_value) in entries {
                match merged.get(name) {
                    Some(old) if old != new_value => {
                        problem(format!(
                            "header `{name}` is set to {new_value} here but to {old} under {}: merge by hand",
                            target_rel
                        ));
                    }
                    _ => {
                        merged.insert(name.clone(), new_value.clone());
                    }
                }
            }
        } else {
            let valid = value
                .as_array()
                .is_some_and(|names| names.iter().all(Value::is_string));
            if !valid {
                problem("its value is not a list of header names: rewrite it by hand".into());
            } else if existing.is_some_and(|e| !e.is_array()) {
                problem(format!("{} is not a list: merge by hand", target_rel));
            }
        }
    }
    problems
}

/// What a legacy integer percent becomes: `Some(n)` to write `n.0`, `None` to write nothing
/// (0 %, or the new field is already set and wins); `Err` when it is not an integer 0–100.
fn percent_conversion(value: &Value, new_field_set: bool) -> Result<Option<f64>, String> {
    let Some(number) = value
        .as_f64()
        .filter(|n| n.fract() == 0.0 && (0.0..=100.0).contains(n))
    else {
        return Err(format!(
            "its value {value} is not an integer from 0 to 100: write percentage.value by hand"
        ));
    };
    if new_field_set || number == 0.0 {
        return Ok(None);
    }
    Ok(Some(number))
}

fn percent_change(write: Option<f64>, new_field_set: bool, target: &FieldPath) -> String {
    match write {
        Some(n) => format!(
            "removed in Istio 1.5; moved to {target} ({})",
            float_text(n)
        ),
        None if new_field_set => {
            "removed in Istio 1.5; deleted (percentage is set and wins)".into()
        }
        None => "removed in Istio 1.5; deleted (0 %: nothing to write)".into(),
    }
}

/// A percentage as users read it in YAML: `10.0`, `12.5`.
fn float_text(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{n:.1}")
    } else {
        n.to_string()
    }
}

/// `tls[].match[].sourceSubnet`: never implemented, removed.
fn source_subnets(owner: RouteRef<'_>, findings: &mut Vec<Finding>) {
    let route = owner.route;
    let Some((match_key, Value::Array(matches))) = lookup(route, "match") else {
        return;
    };
    for (m, condition) in matches.iter().enumerate() {
        let Value::Object(condition) = condition else {
            continue;
        };
        for (key, _) in spellings(condition, "sourceSubnet") {
            let field_path = owner.path().field(match_key).index(m).field(key);
            findings.push(legacy_finding(
                field_path.clone(),
                "removed in Istio 1.5 (it was never implemented): delete it".into(),
                Some(Fix {
                    ops: vec![crate::rules::PatchOp::Remove {
                        path: field_path.clone(),
                    }],
                    changes: vec![Change {
                        path: field_path,
                        description: "removed in Istio 1.5; deleted (it was never implemented)"
                            .into(),
                    }],
                    target_since: V1_0,
                }),
            ));
        }
    }
}

/// `destination.port.name`: needs the service's port table, so it is reported, never fixed.
fn port_names(spec: &Map<String, Value>, findings: &mut Vec<Finding>) {
    for found in super::destinations(spec) {
        let Some((port_key, Value::Object(port))) =
            found.value.as_object().and_then(|d| lookup(d, "port"))
        else {
            continue;
        };
        if let Some(name) = port.get("name") {
            let shown = name
                .as_str()
                .map_or_else(|| name.to_string(), |s| format!("\"{s}\""));
            findings.push(legacy_finding(
                found.path().field(port_key).field("name"),
                format!("removed in Istio 1.5, dropped by current CRDs: set port.number to the number of port {shown}"),
                None,
            ));
        }
    }
}

fn deprecated_finding(path: FieldPath, message: String, fix: Option<Fix>) -> Finding {
    Finding::new(
        Rule::VirtualServiceDeprecatedFields,
        Severity::Warning,
        path,
        message,
    )
    .fixed_by(fix)
}

/// Part of `virtualservice-deprecated-fields` for one HTTP route.
fn delay_percent(owner: RouteRef<'_>, findings: &mut Vec<Finding>) {
    let route = owner.route;
    let Some((fault_key, Value::Object(fault))) = lookup(route, "fault") else {
        return;
    };
    let Some((delay_key, Value::Object(delay))) = lookup(fault, "delay") else {
        return;
    };
    let Some(value) = delay.get("percent") else {
        return;
    };
    let delay_path = owner.path().field(fault_key).field(delay_key);
    let field_path = delay_path.field("percent");
    let target_path = delay_path.field("percentage").field("value");
    let percentage_set = delay.contains_key("percentage");
    let conversion = percent_conversion(value, percentage_set);
    let fix = conversion.as_ref().ok().map(|write| {
        let mut editor = Editor::new(delay_path.clone(), Value::Object(delay.clone()));
        editor.remove(&FieldPath::fields("percent"));
        if let Some(percent) = write {
            editor.set(&FieldPath::fields("percentage.value"), json!(percent));
        }
        Fix {
            ops: editor.take_ops(),
            changes: vec![Change {
                path: field_path.clone(),
                description: percent_change(*write, percentage_set, &target_path)
                    .replace("removed in Istio 1.5", "deprecated"),
            }],
            target_since: V1_1,
        }
    });
    let message = match conversion {
        Err(reason) => format!("deprecated; {reason}"),
        Ok(_) => format!(
            "deprecated: write {target_path}: {}",
            float_text(value.as_f64().unwrap_or_default())
        ),
    };
    findings.push(deprecated_finding(field_path, message, fix));
}

/// Part of `virtualservice-deprecated-fields` for one HTTP route.
fn mirror_percent(owner: RouteRef<'_>, findings: &mut Vec<Finding>) {
    let route = owner.route;
    let found = spellings(route, "mirrorPercent");
    if found.is_empty() {
        return;
    }
    let percentage_set = lookup(route, "mirrorPercentage").is_some();
    let path = &owner.path();
    let target_path = path.field("mirrorPercentage").field("value");
    // Both spellings with different values: which one the user meant is unknown.
    let disagree = found.disagree();
    let mut editor = Editor::new(path.clone(), Value::Object(route.clone()));
    let mut written = percentage_set;
    for (key, value) in found {
        let field_path = path.field(key);
        // Unset (`null`) means 100 %, like an absent mirrorPercentage: nothing to write.
        let conversion = if value.is_null() {
            Ok(None)
        } else {
            match value
                .as_f64()
                .filter(|n| n.fract() == 0.0 && (0.0..=100.0).contains(n))
            {
                Some(n) if !written => Ok(Some(n)),
                Some(_) => Ok(None),
                None => Err(format!(
                    "its value {value} is not an integer from 0 to 100: write mirrorPercentage.value by hand"
                )),
            }
        };
        let fix = match (&conversion, disagree) {
            (Ok(write), false) => {
                editor.remove(&FieldPath::fields(key));
                if let Some(n) = write {
                    editor.set(&FieldPath::fields("mirrorPercentage.value"), json!(n));
                    written = true;
                }
                Some(Fix {
                    ops: editor.take_ops(),
                    changes: vec![Change {
                        path: field_path.clone(),
                        description: match write {
                            Some(n) => {
                                format!("deprecated; moved to {target_path} ({})", float_text(*n))
                            }
                            None if percentage_set => {
                                "deprecated; deleted (mirrorPercentage is set and wins)".into()
                            }
                            None => {
                                "deprecated; deleted (unset: mirror 100 %, as without it)".into()
                            }
                        },
                    }],
                    target_since: V1_5,
                })
            }
            _ => None,
        };
        let message = match (&conversion, disagree) {
            (Err(reason), _) => format!("deprecated; {reason}"),
            (_, true) => "deprecated, and both spellings are set to different values: keep one as mirrorPercentage.value".into(),
            (Ok(_), false) => match value.as_f64() {
                Some(n) => format!("deprecated: write {target_path}: {}", float_text(n)),
                None => "deprecated: delete it (unset mirrors 100 %)".into(),
            },
        };
        findings.push(deprecated_finding(field_path, message, fix));
    }
}

/// Part of `virtualservice-deprecated-fields` for one HTTP route.
fn allow_origin(owner: RouteRef<'_>, findings: &mut Vec<Finding>) {
    let route = owner.route;
    let Some((cors_key, Value::Object(cors))) = lookup(route, "corsPolicy") else {
        return;
    };
    if spellings(cors, "allowOrigin").is_empty() {
        return;
    }
    let cors_path = owner.path().field(cors_key);
    let allow_origins_set = lookup(cors, "allowOrigins").is_some();
    let mut editor = Editor::new(cors_path.clone(), Value::Object(cors.clone()));
    let mut written = allow_origins_set;
    for (key, value) in spellings(cors, "allowOrigin") {
        let field_path = cors_path.field(key);
        let origins = value
            .as_array()
            .filter(|list| list.iter().all(Value::is_string));
        let fix = origins.map(|origins| {
            editor.remove(&FieldPath::fields(key));
            let converted: Vec<Value> = origins.iter().map(|s| json!({"exact": s})).collect();
            let description = if written {
                "deprecated; deleted (allowOrigins is set and wins)".to_string()
            } else {
                editor.set(&FieldPath::fields("allowOrigins"), Value::Array(converted));
                written = true;
                format!(
                    "deprecated; moved to {} as exact matches",
                    cors_path.field("allowOrigins")
                )
            };
            Fix {
                ops: editor.take_ops(),
                changes: vec![Change {
                    path: field_path.clone(),
                    description,
                }],
                target_since: V1_5,
            }
        });
        let message = if origins.is_some() {
            format!(
                "deprecated: write {}: [{{exact: ORIGIN}}, ...]",
                cors_path.field("allowOrigins")
            )
        } else {
            "deprecated, and its value is not a list of strings: rewrite it as allowOrigins by hand"
                .into()
        };
        findings.push(deprecated_finding(field_path, message, fix));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{ObjectKind, Operation};

    fn run(http: Value) -> Vec<Finding> {
        let object = json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
                            "spec": {"hosts": ["ratings"], "http": http}});
        evaluate(&Subject {
            kind: ObjectKind::VirtualService,
            operation: Operation::Create,
            object: &object,
            old_object: None,
            requested_version: Some("v1alpha3"),
            namespace: None,
            origin: crate::rules::Origin::Request,
            min_istio_version: crate::rules::DEFAULT_MIN_ISTIO_VERSION,
        })
    }

    fn summary(findings: &[Finding]) -> Vec<(&'static str, String, Severity, bool)> {
        findings
            .iter()
            .map(|f| (f.rule.id(), f.path.to_string(), f.severity, f.fix.is_some()))
            .collect()
    }

    use crate::rules::testing::patch_of as ops;

    const LEGACY: &str = "virtualservice-legacy-fields";
    const DEPRECATED: &str = "virtualservice-deprecated-fields";

    #[test]
    fn each_field_is_found_at_its_path_in_both_spellings() {
        let findings = run(json!([{
            "websocket_upgrade": true,
            "appendHeaders": {"x-a": "1"},
            "append_request_headers": {"x-b": "2"},
            "appendResponseHeaders": {"x-c": "3"},
            "remove_request_headers": ["x-d"],
            "removeResponseHeaders": ["x-e"],
            "route": [{"destination": {"host": "r", "port": {"name": "http"}}, "append_response_headers": {"x-f": "6"}}],
            "fault": {"abort": {"percent": 10, "httpStatus": 503}, "delay": {"percent": 5, "fixedDelay": "1s"}},
            "mirror": {"host": "shadow"},
            "mirror_percent": 25,
            "corsPolicy": {"allowOrigin": ["*"]},
        }]));
        assert_eq!(
            summary(&findings),
            [
                (
                    LEGACY,
                    "spec.http[0].websocket_upgrade".to_string(),
                    Severity::Error,
                    true
                ),
                (
                    LEGACY,
                    "spec.http[0].appendHeaders".into(),
                    Severity::Error,
                    true
                ),
                (
                    LEGACY,
                    "spec.http[0].append_request_headers".into(),
                    Severity::Error,
                    true
                ),
                (
                    LEGACY,
                    "spec.http[0].appendResponseHeaders".into(),
                    Severity::Error,
                    true
                ),
                (
                    LEGACY,
                    "spec.http[0].remove_request_headers".into(),
                    Severity::Error,
                    true
                ),
                (
                    LEGACY,
                    "spec.http[0].removeResponseHeaders".into(),
                    Severity::Error,
                    true
                ),
                (
                    LEGACY,
                    "spec.http[0].route[0].append_response_headers".into(),
                    Severity::Error,
                    true
                ),
                (
                    LEGACY,
                    "spec.http[0].fault.abort.percent".into(),
                    Severity::Error,
                    true
                ),
                (
                    LEGACY,
                    "spec.http[0].route[0].destination.port.name".into(),
                    Severity::Error,
                    false
                ),
                (
                    DEPRECATED,
                    "spec.http[0].fault.delay.percent".into(),
                    Severity::Warning,
                    true
                ),
                (
                    DEPRECATED,
                    "spec.http[0].mirror_percent".into(),
                    Severity::Warning,
                    true
                ),
                (
                    DEPRECATED,
                    "spec.http[0].corsPolicy.allowOrigin".into(),
                    Severity::Warning,
                    true
                ),
            ]
        );
        assert!(
            findings[8].message.contains("\"http\""),
            "the message names the port"
        );
    }

    #[test]
    fn header_fields_merge_into_one_headers_block() {
        let findings = run(json!([{
            "appendHeaders": {"x-a": "1"},
            "appendRequestHeaders": {"x-b": "2", "x-a": "1"},
            "headers": {"response": {"remove": ["x-old"]}},
            "removeResponseHeaders": ["x-old", "x-new"],
            "route": [{"destination": {"host": "r"}}],
        }]));
        assert_eq!(
            ops(&findings),
            json!([
                {"op": "remove", "path": "/spec/http/0/appendHeaders"},
                {"op": "add", "path": "/spec/http/0/headers/request", "value": {"add": {"x-a": "1"}}},
                {"op": "remove", "path": "/spec/http/0/appendRequestHeaders"},
                {"op": "add", "path": "/spec/http/0/headers/request/add/x-b", "value": "2"},
                {"op": "remove", "path": "/spec/http/0/removeResponseHeaders"},
                {"op": "add", "path": "/spec/http/0/headers/response/remove/1", "value": "x-new"},
            ])
        );
        let change = &findings[0].fix.as_ref().unwrap().changes[0];
        assert_eq!(change.path.to_string(), "spec.http[0].appendHeaders");
        assert_eq!(
            change.description,
            "removed in Istio 1.5; moved to spec.http[0].headers.request.add"
        );
    }

    #[test]
    fn a_header_conflict_leaves_the_route_unfixed_and_names_the_key() {
        let findings = run(json!([{
            "websocketUpgrade": true,
            "appendHeaders": {"x-env": "prod"},
            "headers": {"request": {"add": {"x-env": "dev"}}},
            "route": [{"destination": {"host": "r"}}],
        }]));
        assert_eq!(
            summary(&findings).iter().filter(|s| s.3).count(),
            0,
            "no fix at all for that route"
        );
        let conflict = findings
            .iter()
            .find(|f| f.path.to_string() == "spec.http[0].appendHeaders")
            .unwrap();
        assert!(conflict.message.contains("`x-env`"), "{}", conflict.message);
        // The same key with the same value merges.
        let findings = run(
            json!([{"appendHeaders": {"x-env": "prod"}, "headers": {"request": {"add": {"x-env": "prod"}}}}]),
        );
        assert_eq!(
            ops(&findings),
            json!([{"op": "remove", "path": "/spec/http/0/appendHeaders"}])
        );
    }

    #[test]
    fn percents_follow_the_table() {
        let abort = |abort: Value| {
            ops(&run(
                json!([{"fault": {"abort": abort}, "route": [{"destination": {"host": "r"}}]}]),
            ))
        };
        assert_eq!(
            abort(json!({"percent": 10, "httpStatus": 503})),
            json!([
                {"op": "remove", "path": "/spec/http/0/fault/abort/percent"},
                {"op": "add", "path": "/spec/http/0/fault/abort/percentage", "value": {"value": 10.0}},
            ])
        );
        // percentage wins; 0 writes nothing.
        assert_eq!(
            abort(json!({"percent": 10, "percentage": {"value": 1.5}, "httpStatus": 503})),
            json!([{"op": "remove", "path": "/spec/http/0/fault/abort/percent"}])
        );
        assert_eq!(
            abort(json!({"percent": 0, "httpStatus": 503})),
            json!([{"op": "remove", "path": "/spec/http/0/fault/abort/percent"}])
        );
        // Out of range: reported, not fixed.
        let findings = run(json!([{"fault": {"abort": {"percent": 150, "httpStatus": 503}}}]));
        assert!(findings[0].fix.is_none() && findings[0].message.contains("150"));
        // mirrorPercent 0 must be written: without mirrorPercentage Istio mirrors 100 %.
        assert_eq!(
            ops(&run(json!([{"mirror": {"host": "m"}, "mirrorPercent": 0}]))),
            json!([
                {"op": "remove", "path": "/spec/http/0/mirrorPercent"},
                {"op": "add", "path": "/spec/http/0/mirrorPercentage", "value": {"value": 0.0}},
            ])
        );
        assert_eq!(
            ops(&run(
                json!([{"mirror": {"host": "m"}, "mirrorPercent": 30, "mirrorPercentage": {"value": 5.0}}])
            )),
            json!([{"op": "remove", "path": "/spec/http/0/mirrorPercent"}])
        );
    }

    #[test]
    fn percents_outside_their_types_are_reported_not_converted() {
        for value in [
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1e300),
            json!(4_294_967_296_u64),
        ] {
            let findings = run(
                json!([{"fault": {"abort": {"percent": value, "httpStatus": 503},
                                                 "delay": {"percent": value, "fixedDelay": "1s"}},
                                       "mirror": {"host": "m"}, "mirrorPercent": value,
                                       "route": [{"destination": {"host": "r"}}]}]),
            );
            assert_eq!(
                summary(&findings),
                [
                    (
                        LEGACY,
                        "spec.http[0].fault.abort.percent".to_string(),
                        Severity::Error,
                        false
                    ),
                    (
                        DEPRECATED,
                        "spec.http[0].fault.delay.percent".to_string(),
                        Severity::Warning,
                        false
                    ),
                    (
                        DEPRECATED,
                        "spec.http[0].mirrorPercent".to_string(),
                        Severity::Warning,
                        false
                    ),
                ],
                "{value}"
            );
            for finding in &findings {
                assert!(
                    finding.message.contains(&format!(
                        "its value {value} is not an integer from 0 to 100"
                    )),
                    "{}",
                    finding.message
                );
            }
        }
    }

    #[test]
    fn allow_origin_becomes_exact_matches_unless_allow_origins_exists() {
        assert_eq!(
            ops(&run(
                json!([{"corsPolicy": {"allowOrigin": ["*", "https://a.example"], "maxAge": "1s"}}])
            )),
            json!([
                {"op": "remove", "path": "/spec/http/0/corsPolicy/allowOrigin"},
                {"op": "add", "path": "/spec/http/0/corsPolicy/allowOrigins", "value": [{"exact": "*"}, {"exact": "https://a.example"}]},
            ])
        );
        assert_eq!(
            ops(&run(
                json!([{"corsPolicy": {"allowOrigin": ["*"], "allowOrigins": [{"prefix": "https://"}]}}])
            )),
            json!([{"op": "remove", "path": "/spec/http/0/corsPolicy/allowOrigin"}])
        );
    }

    #[test]
    fn source_subnet_is_removed_from_tls_matches() {
        let object = json!({"spec": {"hosts": ["a"], "tls": [{"match": [{"sniHosts": ["a"], "sourceSubnet": "10.0.0.0/8"}],
                            "route": [{"destination": {"host": "a"}}]}]}});
        let findings = evaluate(&Subject::created(ObjectKind::VirtualService, &object));
        assert_eq!(
            summary(&findings),
            [(
                LEGACY,
                "spec.tls[0].match[0].sourceSubnet".to_string(),
                Severity::Error,
                true
            )]
        );
        assert_eq!(
            ops(&findings),
            json!([{"op": "remove", "path": "/spec/tls/0/match/0/sourceSubnet"}])
        );
    }

    #[test]
    fn the_quick_key_checks_agree_with_the_field_tables() {
        use crate::object::fields::snake_case;
        for (camel, _) in HTTP_HEADER_FIELDS {
            assert!(
                is_http_legacy_key(camel) && is_http_legacy_key(&snake_case(camel)),
                "{camel}"
            );
        }
        assert!(is_http_legacy_key("websocketUpgrade") && is_http_legacy_key("websocket_upgrade"));
        for (camel, _) in ROUTE_HEADER_FIELDS {
            assert!(
                is_destination_legacy_key(camel) && is_destination_legacy_key(&snake_case(camel)),
                "{camel}"
            );
        }
        assert!(!is_destination_legacy_key("appendHeaders"));
    }

    #[test]
    fn the_schema_walk_leaves_converted_fields_to_these_rules() {
        let parents = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(converts(&parents(&["http"]), "appendHeaders"));
        assert!(converts(
            &parents(&["http", "route"]),
            "removeRequestHeaders"
        ));
        assert!(converts(&parents(&["http", "fault", "abort"]), "percent"));
        assert!(converts(
            &parents(&["http", "route", "destination", "port"]),
            "name"
        ));
        assert!(!converts(&parents(&["http", "retries"]), "percent"));
        assert!(!converts(&parents(&[]), "appendHeaders"));
    }
}
