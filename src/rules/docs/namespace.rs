//! The documentation of the Namespace injection-label rules.

use super::{NAMESPACE_MULTIPLE_INJECTION_LABELS, NO_ANALYZER, RuleDoc};
use crate::rules::{ObjectKind, Severity};

const NAMESPACE: &[ObjectKind] = &[ObjectKind::Namespace];

/// `namespace-injection-conflict`.
pub const INJECTION_CONFLICT: RuleDoc = RuleDoc {
    kinds: NAMESPACE,
    severity: Severity::Error,
    other_severities: &[],
    checks: "A Namespace whose labels select more than one injection mechanism: \
        `istio-injection` together with `istio.io/rev`, or either of them with \
        `istio.io/dataplane-mode`. The revision and ambient labels count while `istio-injection` \
        is absent or `enabled`, the way Istio's analyzer collects them.",
    why: "Sidecar injection is done by mutating webhooks that select namespaces by label, and a \
        revision's injector only selects namespaces without `istio-injection`. On a namespace \
        with both labels, new pods are injected by whatever still serves `istio-injection`: the \
        old control plane during a revision or managed-mesh migration, and nothing at all once it \
        is uninstalled. Those pods then start without a proxy and cannot reach peers that \
        require mTLS. Next to `istio.io/dataplane-mode=ambient`, a sidecar label puts the same \
        pods in two data planes. Nothing fails when the label is written; it shows at the next \
        rollout, which is why meshgate denies it by default where Istio only warns.",
    fix: "With the action `fix`, an UPDATE that added or changed exactly one of the labels shows \
        which injector is meant: the mutating webhook keeps that label and removes the others \
        (the manual step of the migration, `kubectl label namespace shop istio.io/rev=asm-managed \
        istio-injection-`, and of its rollback). On CREATE, in a request that set several of the \
        labels, and in manifest files the intent is unknown: the finding stays, and `meshgate \
        fix` leaves the labels alone.",
    failing: "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio-injection: enabled
    istio.io/rev: asm-managed
",
    fixed: "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio.io/rev: asm-managed
",
    analyzer: &[NAMESPACE_MULTIPLE_INJECTION_LABELS],
};

/// `namespace-injection-shadowed-revision`.
pub const SHADOWED_REVISION: RuleDoc = RuleDoc {
    kinds: NAMESPACE,
    severity: Severity::Warning,
    other_severities: &[],
    checks: "`istio-injection` with a value other than `enabled` (usually `disabled`) on a \
        Namespace that also has `istio.io/rev`.",
    why: "A revision's injector only selects namespaces without `istio-injection`, so \
        `istio-injection=disabled` wins and the revision label has no effect: new pods get no \
        sidecar although the namespace looks migrated. It is what remains when one script turns \
        injection off the old way and another turns it on the new way.",
    fix: "With the action `fix`, an UPDATE that changed one of the two labels shows which is \
        meant: setting `istio.io/rev` removes `istio-injection` (and `istio.io/dataplane-mode`), \
        setting `istio-injection` removes `istio.io/rev`. On CREATE and in manifest files the \
        intent is unknown, so only the mutating webhook fixes it; `meshgate fix` leaves the \
        labels alone.",
    failing: "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio-injection: disabled
    istio.io/rev: asm-managed
",
    fixed: "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio.io/rev: asm-managed
",
    analyzer: &[NAMESPACE_MULTIPLE_INJECTION_LABELS.only(
        "older istioctl releases, which reported any `istio-injection` value next to \
         `istio.io/rev`; current ones report nothing here",
    )],
};

/// `namespace-injection-label-value`.
pub const LABEL_VALUE: RuleDoc = RuleDoc {
    kinds: NAMESPACE,
    severity: Severity::Warning,
    other_severities: &[],
    checks: "`istio-injection` with a value other than `enabled` or `disabled`: `true`, \
        `Enabled`, `yes`, ...",
    why: "The sidecar injector selects `istio-injection=enabled` exactly, and a revision's \
        injector skips every namespace that has the label at all. Any other value therefore \
        turns injection off without a word: a namespace labelled `istio-injection=true` runs its \
        new pods without sidecars. Istio's analyzer reads every value but `enabled` as a \
        deliberate opt-out and says nothing.",
    fix: "",
    failing: "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio-injection: \"true\"
",
    fixed: "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio-injection: enabled
",
    analyzer: NO_ANALYZER,
};
