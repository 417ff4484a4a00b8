//! `exportTo` lists, checked the same way for VirtualServices and ServiceEntries (Istio's
//! `validateExportTo`): `.`, `*` or namespace names, no duplicates, `*` alone, and `~` (export to no
//! one) only on ServiceEntries and only alone.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::domains::is_label;
use super::{FieldPath, Finding, Rule, Severity, Subject};
use crate::object::fields::lookup;

/// Checks `spec.exportTo` for `rule`; `allow_none` permits `~`.
pub fn evaluate(
    subject: &Subject<'_>,
    spec: &Map<String, Value>,
    rule: Rule,
    allow_none: bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let Some((key, Value::Array(entries))) = lookup(spec, "exportTo") else {
        return findings;
    };
    let list_path = FieldPath::fields("spec").field(key);
    let own_namespace = subject.object_namespace();
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, entry) in entries.iter().enumerate() {
        let Some(entry) = entry.as_str() else {
            continue;
        };
        let path = list_path.index(i);
        let error = |message: String| Finding::new(rule, Severity::Error, path.clone(), message);
        // `.` is the object's own namespace, so `.` next to that name is a duplicate too.
        let key = if entry == "." {
            own_namespace.unwrap_or(".")
        } else {
            entry
        };
        if seen.contains(key) {
            findings.push(error(if key == entry {
                format!("`{entry}` is listed twice: remove one")
            } else {
                format!("`.` and `{key}` both mean this object's namespace: remove one")
            }));
            continue;
        }
        let valid = match entry {
            "." | "*" => true,
            "~" => allow_none,
            _ => is_label(entry),
        };
        if valid {
            seen.insert(key);
        } else if entry == "~" {
            findings.push(error(
                "`~` (export to no one) is only allowed on ServiceEntries: remove it".into(),
            ));
        } else {
            findings.push(error(format!(
                "`{entry}` is not `.`, `*` or a namespace name"
            )));
        }
    }
    if seen.contains("*") && entries.len() > 1 {
        findings.push(Finding::new(
            rule,
            Severity::Error,
            list_path.clone(),
            "`*` exports to every namespace and cannot be combined with other entries: keep only `*`",
        ));
    }
    if seen.contains("~") && entries.len() > 1 {
        findings.push(Finding::new(
            rule,
            Severity::Error,
            list_path,
            "`~` exports to no one and cannot be combined with other entries: keep only `~`",
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::ObjectKind;
    use serde_json::json;

    fn run(export_to: Value, allow_none: bool) -> Vec<String> {
        let object = json!({"metadata": {"namespace": "shop"}, "spec": {"exportTo": export_to}});
        let subject = Subject::created(ObjectKind::VirtualService, &object);
        evaluate(
            &subject,
            object["spec"].as_object().unwrap(),
            Rule::VirtualServiceExportTo,
            allow_none,
        )
        .into_iter()
        .map(|f| f.path.to_string())
        .collect()
    }

    #[test]
    fn table() {
        let cases: [(Value, bool, &[&str]); 10] = [
            (json!(["."]), false, &[]),
            (json!(["*"]), false, &[]),
            (json!([".", "payments"]), false, &[]),
            (json!([".", "."]), false, &["spec.exportTo[1]"]),
            (json!([".", "shop"]), false, &["spec.exportTo[1]"]),
            (json!(["*", "."]), false, &["spec.exportTo"]),
            (json!(["~"]), false, &["spec.exportTo[0]"]),
            (json!(["~"]), true, &[]),
            (json!(["~", "a"]), true, &["spec.exportTo"]),
            // Istio reads a namespace entry as a DNS-1123 label in either case.
            (json!(["Payments", "a_b"]), false, &["spec.exportTo[1]"]),
        ];
        for (list, allow_none, expected) in cases {
            assert_eq!(
                run(list.clone(), allow_none),
                expected,
                "{list} allow_none={allow_none}"
            );
        }
    }
}
