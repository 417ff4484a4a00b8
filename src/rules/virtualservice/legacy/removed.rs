//! `virtualservice-legacy-fields`: the fields Istio 1.5 removed, which current CRDs drop, and
//! their conversions.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::super::view::HttpRoute;
use super::super::{Destination, RouteRef};
use super::{
    Conversion, DESTINATION_KEYS, FieldPath, HTTP_KEYS, HeaderTarget, V1_0, V1_1, float_text,
    has_legacy_field, percent_change, percent_conversion, removed_members,
};
use crate::object::fields::{lookup, spellings};
use crate::object::path::Segment;
use crate::rules::edit::{Editor, navigate};
use crate::rules::{Change, Finding, Fix, Rule, Severity};

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
pub(super) fn http_route(http: &HttpRoute<'_>, findings: &mut Vec<Finding>) {
    let (owner, route) = (http.owner, http.owner.route);
    if !has_legacy_field(http) {
        return;
    }
    let mut occurrences = Vec::new();
    for (field, key, value) in removed_members(route, &HTTP_KEYS) {
        let kind = match field.conversion {
            Conversion::Websocket => LegacyKind::Websocket,
            Conversion::Header(target) => LegacyKind::Header {
                target_rel: target.rel(),
                target,
                value: value.clone(),
            },
            _ => continue,
        };
        occurrences.push(Occurrence {
            rel: FieldPath::fields(key),
            kind,
        });
    }
    if let Some((route_key, Value::Array(destinations))) = lookup(route, "route") {
        for (j, destination) in destinations.iter().enumerate() {
            let Value::Object(destination) = destination else {
                continue;
            };
            let base = FieldPath::fields(route_key).index(j);
            for (field, key, value) in removed_members(destination, &DESTINATION_KEYS) {
                let Conversion::Header(target) = field.conversion else {
                    continue;
                };
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
    let touched = touched_members(&occurrences);
    let mut editor = Editor::of_members(path.clone(), route, touched.iter().map(String::as_str));
    let problems = header_problems(editor.current(), &occurrences);
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
/// The members of the route that the conversions of `occurrences` read or edit: the first
/// field of each path they name.
fn touched_members(occurrences: &[Occurrence]) -> Vec<String> {
    let head = |path: &FieldPath| match path.segments().first() {
        Some(Segment::Field(name) | Segment::Key(name)) => Some(name.clone()),
        _ => None,
    };
    let mut names: Vec<String> = Vec::new();
    for occurrence in occurrences {
        names.extend(head(&occurrence.rel));
        match &occurrence.kind {
            LegacyKind::Header { target_rel, .. } => names.extend(head(target_rel)),
            LegacyKind::AbortPercent { abort_rel, .. } => names.extend(head(abort_rel)),
            LegacyKind::Websocket => {}
        }
    }
    names
}

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

/// `tls[].match[].sourceSubnet`: never implemented, removed.
pub(super) fn source_subnets(owner: RouteRef<'_>, findings: &mut Vec<Finding>) {
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
pub(super) fn port_names(destinations: &[Destination<'_>], findings: &mut Vec<Finding>) {
    for found in destinations {
        let Some(Value::Object(port)) = found.port else {
            continue;
        };
        if let Some(name) = port.get("name") {
            let shown = name
                .as_str()
                .map_or_else(|| name.to_string(), |s| format!("\"{s}\""));
            findings.push(legacy_finding(
                found.path().field("port").field("name"),
                format!("removed in Istio 1.5, dropped by current CRDs: set port.number to the number of port {shown}"),
                None,
            ));
        }
    }
}
