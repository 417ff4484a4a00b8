//! Namespace injection labels (docs/rules.md): which injector a namespace selects, and
//! the repair that keeps the label the request itself set.

use crate::object::fields::member;
use serde_json::{Map, Value};

use super::{
    Change, FieldPath, Finding, Fix, IstioVersion, Operation, Origin, PatchOp, Rule, Severity,
    Subject,
};

/// The legacy sidecar-injection label; it wins over the revision label.
pub const INJECTION: &str = "istio-injection";
/// The revision label of revisioned and managed control planes.
pub const REVISION: &str = "istio.io/rev";
/// The ambient data-plane label.
pub const DATAPLANE_MODE: &str = "istio.io/dataplane-mode";

/// Labels are honoured by every Istio release, so label fixes never wait for an upgrade.
const LABELS_SINCE: IstioVersion = IstioVersion::new(1, 0);

/// Runs the namespace rules.
pub fn evaluate(subject: &Subject<'_>) -> Vec<Finding> {
    let labels = labels_of(subject.object);
    let mut findings = Vec::new();
    findings.extend(injection_conflict(subject, labels));
    findings.extend(shadowed_revision(subject, labels));
    findings.extend(label_value(labels));
    findings
}

fn labels_of(object: &Value) -> Option<&Map<String, Value>> {
    member(object, &["metadata", "labels"])?.as_object()
}

fn label<'a>(labels: Option<&'a Map<String, Value>>, key: &str) -> Option<&'a str> {
    labels?.get(key)?.as_str()
}

fn label_path(key: &str) -> FieldPath {
    FieldPath::fields("metadata.labels").key(key)
}

fn namespace_name(object: &Value) -> &str {
    member(object, &["metadata", "name"])
        .and_then(Value::as_str)
        .unwrap_or("NAME")
}

/// The injection labels that select an injector, as Istio's analyzer IST0123 collects them:
/// `istio-injection` if present; the revision and data-plane labels only while
/// `istio-injection` is absent or `enabled`.
fn selecting_labels(labels: Option<&Map<String, Value>>) -> Vec<(&'static str, &str)> {
    let injection = label(labels, INJECTION);
    let mut selecting = Vec::new();
    if let Some(value) = injection {
        selecting.push((INJECTION, value));
    }
    if injection.is_none_or(|value| value == "enabled") {
        for key in [REVISION, DATAPLANE_MODE] {
            if let Some(value) = label(labels, key) {
                selecting.push((key, value));
            }
        }
    }
    selecting
}

fn injection_conflict(
    subject: &Subject<'_>,
    labels: Option<&Map<String, Value>>,
) -> Option<Finding> {
    let selecting = selecting_labels(labels);
    if selecting.len() < 2 {
        return None;
    }
    // Every migration moves towards the revision label, so the finding sits on the label that
    // direction removes, and the message gives that command.
    let (drop_key, _) = selecting
        .iter()
        .copied()
        .find(|(key, _)| *key != REVISION)
        .unwrap_or(selecting[0]);
    let found = selecting
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(" and ");
    let message = format!(
        "{found} conflict, so injection fails: {}",
        remove_labels(subject, &[drop_key])
    );
    let keys: Vec<&str> = selecting.iter().map(|(key, _)| *key).collect();
    Some(Finding {
        rule: Rule::NamespaceInjectionConflict,
        severity: Severity::Error,
        path: label_path(drop_key),
        message,
        fix: keep_intended_label(subject, labels, &keys),
    })
}

/// `istio-injection` other than `enabled` next to `istio.io/rev`: the revision label does nothing.
fn shadowed_revision(
    subject: &Subject<'_>,
    labels: Option<&Map<String, Value>>,
) -> Option<Finding> {
    let injection = label(labels, INJECTION).filter(|value| *value != "enabled")?;
    let revision = label(labels, REVISION)?;
    // Without istio-injection, an ambient label would conflict with the revision label.
    let mut drop = vec![INJECTION];
    if label(labels, DATAPLANE_MODE).is_some() {
        drop.push(DATAPLANE_MODE);
    }
    Some(Finding {
        rule: Rule::NamespaceInjectionShadowedRevision,
        severity: Severity::Warning,
        path: label_path(REVISION),
        message: format!(
            "istio-injection={injection} overrides istio.io/rev={revision}, so the revision label has no \
             effect: to inject, {}",
            remove_labels(subject, &drop)
        ),
        fix: keep_intended_label(subject, labels, &[INJECTION, REVISION]),
    })
}

/// How to remove `keys` where the object comes from: the `kubectl` command for a request, the
/// edit for a manifest (its author changes the file, not the cluster).
fn remove_labels(subject: &Subject<'_>, keys: &[&str]) -> String {
    match subject.origin {
        Origin::Request => {
            let args: Vec<String> = keys.iter().map(|key| format!("{key}-")).collect();
            format!(
                "kubectl label namespace {} {}",
                namespace_name(subject.object),
                args.join(" ")
            )
        }
        Origin::Manifest => {
            let names: Vec<String> = keys.iter().map(|key| format!("`{key}`")).collect();
            format!("remove {} from metadata.labels", names.join(" and "))
        }
    }
}

/// `istio-injection` with a value Istio does not read.
fn label_value(labels: Option<&Map<String, Value>>) -> Option<Finding> {
    let value =
        label(labels, INJECTION).filter(|value| !matches!(*value, "enabled" | "disabled"))?;
    Some(Finding::new(
        Rule::NamespaceInjectionLabelValue,
        Severity::Warning,
        label_path(INJECTION),
        format!("Istio ignores istio-injection={value}: write enabled or disabled"),
    ))
}

/// The injection labels that stop `keep` from deciding injection once it is kept: next to
/// `istio-injection=enabled` or the revision or ambient label, every other one conflicts (or, for
/// the revision label, `istio-injection` shadows it); `istio-injection` with another value only
/// shadows the revision label, and the ambient label does nothing next to it.
fn overriding(keep: &str, kept_value: &str) -> &'static [&'static str] {
    match keep {
        INJECTION if kept_value != "enabled" => &[REVISION],
        INJECTION => &[REVISION, DATAPLANE_MODE],
        REVISION => &[INJECTION, DATAPLANE_MODE],
        _ => &[INJECTION, REVISION],
    }
}

/// On UPDATE, the one label among `keys` that this request added or changed is the user's
/// intent: remove the labels that would override or conflict with it, so that the patched
/// namespace has nothing left for either namespace rule (a second review, as the API server's
/// reinvocation makes, finds nothing to patch). On CREATE, or when the request changed none or
/// several of these labels, intent is unknown and there is no fix.
fn keep_intended_label(
    subject: &Subject<'_>,
    labels: Option<&Map<String, Value>>,
    keys: &[&str],
) -> Option<Fix> {
    if subject.operation != Operation::Update {
        return None;
    }
    let old_labels = subject.old_object.and_then(labels_of);
    let changed = |key: &str| label(labels, key) != label(old_labels, key);
    let mut changed_keys = keys.iter().copied().filter(|key| changed(key));
    let keep = changed_keys.next()?;
    if changed_keys.next().is_some() {
        return None;
    }
    let kept_value = label(labels, keep).unwrap_or_default();
    let remove: Vec<&str> = overriding(keep, kept_value)
        .iter()
        .copied()
        .filter(|key| label(labels, key).is_some())
        .collect();
    // A label this request also set is intent too: which one wins is for the user to say.
    if remove.iter().any(|key| changed(key)) {
        return None;
    }
    let mut fix = Fix {
        ops: Vec::new(),
        changes: Vec::new(),
        target_since: LABELS_SINCE,
    };
    for key in remove {
        let path = label_path(key);
        fix.ops.push(PatchOp::Remove { path: path.clone() });
        fix.changes.push(Change {
            path,
            description: format!(
                "removed; this request set {keep}={kept_value}, which now decides injection"
            ),
        });
    }
    Some(fix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::ObjectKind;
    use serde_json::json;

    fn namespace(labels: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": "shop", "labels": labels}})
    }

    fn run(operation: Operation, object: &Value, old: Option<&Value>) -> Vec<Finding> {
        evaluate(&Subject {
            kind: ObjectKind::Namespace,
            operation,
            object,
            old_object: old,
            requested_version: Some("v1"),
            namespace: None,
            origin: crate::rules::Origin::Request,
            min_istio_version: crate::rules::DEFAULT_MIN_ISTIO_VERSION,
        })
    }

    fn conflicts(labels: Value) -> Vec<String> {
        run(Operation::Create, &namespace(labels), None)
            .into_iter()
            .filter(|f| f.rule == Rule::NamespaceInjectionConflict)
            .map(|f| f.path.to_string())
            .collect()
    }

    #[test]
    fn conflict_table() {
        let cases = [
            (json!({}), vec![]),
            (json!({"istio-injection": "enabled"}), vec![]),
            (json!({"istio.io/rev": "asm-managed"}), vec![]),
            (
                json!({"istio-injection": "enabled", "istio.io/rev": "asm-managed"}),
                vec!["metadata.labels[istio-injection]"],
            ),
            (
                json!({"istio-injection": "enabled", "istio.io/dataplane-mode": "ambient"}),
                vec!["metadata.labels[istio-injection]"],
            ),
            (
                json!({"istio.io/rev": "1-22", "istio.io/dataplane-mode": "ambient"}),
                vec!["metadata.labels[istio.io/dataplane-mode]"],
            ),
            // `disabled` shadows the revision label: not a conflict (another rule warns).
            (
                json!({"istio-injection": "disabled", "istio.io/rev": "asm-managed"}),
                vec![],
            ),
            (
                json!({"istio-injection": "disabled", "istio.io/dataplane-mode": "ambient"}),
                vec![],
            ),
            // Non-string label values are not labels the API server would store.
            (
                json!({"istio-injection": "enabled", "istio.io/rev": 3}),
                vec![],
            ),
        ];
        for (labels, expected) in cases {
            assert_eq!(conflicts(labels.clone()), expected, "labels {labels}");
        }
    }

    #[test]
    fn message_names_both_labels_and_the_command() {
        let ns = namespace(json!({"istio-injection": "enabled", "istio.io/rev": "asm-managed"}));
        let findings = run(Operation::Create, &ns, None);
        assert_eq!(findings.len(), 1);
        let finding = &findings[0];
        assert_eq!(finding.severity, Severity::Error);
        assert!(
            finding.message.contains("istio-injection=enabled"),
            "{}",
            finding.message
        );
        assert!(
            finding.message.contains("istio.io/rev=asm-managed"),
            "{}",
            finding.message
        );
        assert!(
            finding
                .message
                .contains("kubectl label namespace shop istio-injection-"),
            "{}",
            finding.message
        );
        assert_eq!(finding.fix, None, "CREATE never shows intent");
    }

    fn fix_of(old: Value, new: Value) -> Option<Vec<PatchOp>> {
        let (old, new) = (namespace(old), namespace(new));
        let findings = run(Operation::Update, &new, Some(&old));
        let conflict = findings
            .iter()
            .find(|f| f.rule == Rule::NamespaceInjectionConflict)
            .expect("conflict");
        conflict.fix.as_ref().map(|fix| fix.ops.clone())
    }

    fn remove(key: &str) -> PatchOp {
        PatchOp::Remove {
            path: label_path(key),
        }
    }

    #[test]
    fn update_keeps_the_label_the_request_set() {
        // Migration: `kubectl label ns shop istio.io/rev=asm-managed` on an injected namespace.
        assert_eq!(
            fix_of(
                json!({"istio-injection": "enabled"}),
                json!({"istio-injection": "enabled", "istio.io/rev": "asm-managed"})
            ),
            Some(vec![remove(INJECTION)])
        );
        // Rollback: `kubectl label ns shop istio-injection=enabled` on a revisioned namespace.
        assert_eq!(
            fix_of(
                json!({"istio.io/rev": "asm-managed"}),
                json!({"istio-injection": "enabled", "istio.io/rev": "asm-managed"})
            ),
            Some(vec![remove(REVISION)])
        );
        // Changing the revision of a namespace that already has both: keep the revision.
        assert_eq!(
            fix_of(
                json!({"istio-injection": "enabled", "istio.io/rev": "asm-1-19"}),
                json!({"istio-injection": "enabled", "istio.io/rev": "asm-1-20"})
            ),
            Some(vec![remove(INJECTION)])
        );
        // Re-enabling injection over a revision and an ambient label removes both others.
        assert_eq!(
            fix_of(
                json!({"istio-injection": "disabled", "istio.io/rev": "r", "istio.io/dataplane-mode": "ambient"}),
                json!({"istio-injection": "enabled", "istio.io/rev": "r", "istio.io/dataplane-mode": "ambient"})
            ),
            Some(vec![remove(REVISION), remove(DATAPLANE_MODE)])
        );
    }

    #[test]
    fn update_without_a_single_intent_has_no_fix() {
        // Both labels set by the same request.
        assert_eq!(
            fix_of(
                json!({}),
                json!({"istio-injection": "enabled", "istio.io/rev": "asm-managed"})
            ),
            None
        );
        // Neither label touched (e.g. a controller adding an annotation).
        assert_eq!(
            fix_of(
                json!({"istio-injection": "enabled", "istio.io/rev": "asm-managed"}),
                json!({"istio-injection": "enabled", "istio.io/rev": "asm-managed", "team": "a"})
            ),
            None
        );
    }

    #[test]
    fn fix_changes_say_what_was_kept() {
        let old = namespace(json!({"istio-injection": "enabled"}));
        let new = namespace(json!({"istio-injection": "enabled", "istio.io/rev": "asm-managed"}));
        let findings = run(Operation::Update, &new, Some(&old));
        let fix = findings[0].fix.as_ref().expect("fix");
        assert_eq!(fix.changes.len(), 1);
        assert_eq!(
            fix.changes[0].path.to_string(),
            "metadata.labels[istio-injection]"
        );
        assert!(
            fix.changes[0]
                .description
                .contains("istio.io/rev=asm-managed")
        );
    }
}

#[cfg(test)]
mod warning_tests {
    use super::*;
    use crate::rules::ObjectKind;
    use crate::rules::testing::{row, summary};
    use serde_json::json;

    #[test]
    fn shadowed_revision_and_label_value() {
        let ns = |labels: Value| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": labels}});
        let cases = [
            (
                json!({"istio-injection": "disabled", "istio.io/rev": "asm-managed"}),
                vec![row(
                    "namespace-injection-shadowed-revision",
                    "metadata.labels[istio.io/rev]",
                    Severity::Warning,
                )],
            ),
            (
                json!({"istio-injection": "true"}),
                vec![row(
                    "namespace-injection-label-value",
                    "metadata.labels[istio-injection]",
                    Severity::Warning,
                )],
            ),
            (
                json!({"istio-injection": "true", "istio.io/rev": "r"}),
                vec![
                    row(
                        "namespace-injection-shadowed-revision",
                        "metadata.labels[istio.io/rev]",
                        Severity::Warning,
                    ),
                    row(
                        "namespace-injection-label-value",
                        "metadata.labels[istio-injection]",
                        Severity::Warning,
                    ),
                ],
            ),
            (json!({"istio-injection": "disabled"}), vec![]),
            (json!({"istio.io/rev": "r"}), vec![]),
        ];
        for (labels, expected) in cases {
            assert_eq!(
                summary(ObjectKind::Namespace, &ns(labels.clone())),
                expected,
                "{labels}"
            );
        }
    }

    #[test]
    fn shadowed_revision_message_removes_what_would_conflict_next() {
        let message = |labels: Value, origin: Origin| {
            let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": labels}});
            evaluate(&Subject {
                origin,
                ..Subject::created(ObjectKind::Namespace, &ns)
            })
            .into_iter()
            .find(|f| f.rule == Rule::NamespaceInjectionShadowedRevision)
            .map(|f| f.message)
        };
        let head = "istio-injection=disabled overrides istio.io/rev=r, so the revision label has no effect: to inject, ";
        let shadowed = json!({"istio-injection": "disabled", "istio.io/rev": "r"});
        let ambient = json!({"istio-injection": "disabled", "istio.io/rev": "r", "istio.io/dataplane-mode": "ambient"});
        // To someone applying it: the command.
        assert_eq!(
            message(shadowed.clone(), Origin::Request),
            Some(format!(
                "{head}kubectl label namespace shop istio-injection-"
            ))
        );
        assert_eq!(
            message(ambient.clone(), Origin::Request),
            Some(format!(
                "{head}kubectl label namespace shop istio-injection- istio.io/dataplane-mode-"
            ))
        );
        // To a file's author: the edit.
        assert_eq!(
            message(shadowed, Origin::Manifest),
            Some(format!(
                "{head}remove `istio-injection` from metadata.labels"
            ))
        );
        assert_eq!(
            message(ambient, Origin::Manifest),
            Some(format!(
                "{head}remove `istio-injection` and `istio.io/dataplane-mode` from metadata.labels"
            ))
        );
    }

    #[test]
    fn shadowed_revision_fix_keeps_what_the_request_set() {
        let ns = |labels: Value| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": labels}});
        let fix_of = |old: Value, new: Value| {
            let (old, new) = (ns(old), ns(new));
            evaluate(&Subject {
                kind: ObjectKind::Namespace,
                operation: Operation::Update,
                object: &new,
                old_object: Some(&old),
                requested_version: Some("v1"),
                namespace: None,
                origin: crate::rules::Origin::Request,
                min_istio_version: crate::rules::DEFAULT_MIN_ISTIO_VERSION,
            })
            .into_iter()
            .find(|f| f.rule == Rule::NamespaceInjectionShadowedRevision)
            .and_then(|f| f.fix)
            .map(|fix| fix.ops)
        };
        // Migration onto a namespace that had opted out: the new revision label wins.
        assert_eq!(
            fix_of(
                json!({"istio-injection": "disabled"}),
                json!({"istio-injection": "disabled", "istio.io/rev": "asm-managed"})
            ),
            Some(vec![PatchOp::Remove {
                path: label_path(INJECTION)
            }])
        );
        // A revision label added to an opted-out ambient namespace: both others go, or the
        // ambient label would conflict with the revision once istio-injection is removed.
        assert_eq!(
            fix_of(
                json!({"istio-injection": "disabled", "istio.io/dataplane-mode": "ambient"}),
                json!({"istio-injection": "disabled", "istio.io/dataplane-mode": "ambient", "istio.io/rev": "asm-managed"})
            ),
            Some(vec![
                PatchOp::Remove {
                    path: label_path(INJECTION)
                },
                PatchOp::Remove {
                    path: label_path(DATAPLANE_MODE)
                }
            ])
        );
        // The same request also set the ambient label: which of the two wins is unknown.
        assert_eq!(
            fix_of(
                json!({"istio-injection": "disabled"}),
                json!({"istio-injection": "disabled", "istio.io/dataplane-mode": "ambient", "istio.io/rev": "asm-managed"})
            ),
            None
        );
        // Opting out of a revisioned namespace: the revision label goes.
        assert_eq!(
            fix_of(
                json!({"istio.io/rev": "asm-managed"}),
                json!({"istio-injection": "disabled", "istio.io/rev": "asm-managed"})
            ),
            Some(vec![PatchOp::Remove {
                path: label_path(REVISION)
            }])
        );
    }
}
