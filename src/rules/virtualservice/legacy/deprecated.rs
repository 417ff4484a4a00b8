//! `virtualservice-deprecated-fields`: fields still declared but deprecated, each with a current
//! replacement, and their conversions.

use serde_json::{Value, json};

use super::super::RouteRef;
use super::{FieldPath, V1_1, V1_5, float_text, percent_change, percent_conversion};
use crate::object::fields::{lookup, spellings};
use crate::rules::edit::Editor;
use crate::rules::{Change, Finding, Fix, Rule, Severity};

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
pub(super) fn delay_percent(
    owner: RouteRef<'_>,
    fault: Option<&Value>,
    findings: &mut Vec<Finding>,
) {
    let Some(Value::Object(fault)) = fault else {
        return;
    };
    let Some((delay_key, Value::Object(delay))) = lookup(fault, "delay") else {
        return;
    };
    let Some(value) = delay.get("percent") else {
        return;
    };
    let delay_path = owner.path().field("fault").field(delay_key);
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
pub(super) fn mirror_percent(owner: RouteRef<'_>, findings: &mut Vec<Finding>) {
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
    // The conversion edits the spellings it found and mirrorPercentage, nothing else.
    let keys: Vec<&str> = found.into_iter().map(|(key, _)| key).collect();
    let mut editor = Editor::of_members(
        path.clone(),
        route,
        keys.iter().copied().chain(["mirrorPercentage"]),
    );
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
pub(super) fn allow_origin(owner: RouteRef<'_>, findings: &mut Vec<Finding>) {
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
