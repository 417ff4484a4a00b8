//! The documentation of `ignore-annotation`.

use super::{NO_ANALYZER, RuleDoc};
use crate::rules::{ObjectKind, Severity};

/// Every kind meshgate checks carries annotations.
const EVERY_KIND: &[ObjectKind] = &[
    ObjectKind::Namespace,
    ObjectKind::VirtualService,
    ObjectKind::ServiceEntry,
    ObjectKind::DestinationRule,
];

pub const IGNORE_ANNOTATION: RuleDoc = RuleDoc {
    kinds: EVERY_KIND,
    severity: Severity::Warning,
    other_severities: &[],
    checks: "An `ignore.meshgate.io/<rule-id>` annotation that silences nothing: its value is \
        empty or blank, or `<rule-id>` is no rule of the catalog (the message names the closest \
        one).",
    why: "An annotation `ignore.meshgate.io/<rule-id>: \"<reason>\"` silences that rule for the \
        object it is on, in the webhook and in `check`/`fix`, as far as the policy's \
        `allowIgnoreAnnotations` allows (`warnings`, the default: only findings that would not \
        deny; `all`; `none`). The reason is what a reviewer reads in the JSON and SARIF reports \
        and in the object itself a year later, so meshgate honours no annotation without one; \
        and an annotation with a misspelled rule id silences nothing while looking as if it \
        did. This rule says so instead of leaving the author to wonder why the finding is \
        still there.",
    fix: "",
    failing: "\
apiVersion: v1
kind: Namespace
metadata:
  name: batch
  labels:
    istio-injection: disabled
  annotations:
    ignore.meshgate.io/namespace-injection-label-value: \"\"
",
    fixed: "\
apiVersion: v1
kind: Namespace
metadata:
  name: batch
  labels:
    istio-injection: disabled
  annotations:
    ignore.meshgate.io/namespace-injection-label-value: \"read by the batch scheduler, OPS-231\"
",
    analyzer: NO_ANALYZER,
};
