//! `serviceentry-workload-selector`: a selector's labels match exactly (no empty key, no `*`),
//! it has labels at all, it is not combined with endpoints, and it is not set under resolution
//! NONE, where the selected workloads are never used.

use serde_json::Value;

use super::{Entry, error, warning};
use crate::rules::vocabulary::Resolution;
use crate::rules::{Finding, Rule};

pub(super) fn check(entry: &Entry<'_>, findings: &mut Vec<Finding>) {
    let rule = Rule::ServiceEntryWorkloadSelector;
    let Some((path, selector)) = &entry.selector else {
        return;
    };
    if !entry.endpoints.is_empty() {
        findings.push(error(
            rule,
            path.clone(),
            "workloadSelector and endpoints cannot be combined: keep one",
        ));
    }
    let labels = selector.get("labels").and_then(Value::as_object);
    for (label, value) in labels.into_iter().flatten() {
        if label.is_empty() {
            findings.push(error(
                rule,
                path.field("labels").key(label),
                "a workloadSelector label needs a key: write the label's name",
            ));
        }
        if label.contains('*') || value.as_str().is_some_and(|v| v.contains('*')) {
            findings.push(error(
                rule,
                path.field("labels").key(label),
                "workloadSelector labels match exactly: `*` is not a wildcard here",
            ));
        }
    }
    if labels.is_none_or(|labels| labels.is_empty()) {
        findings.push(warning(
            rule,
            path.clone(),
            "workloadSelector has no labels, so it selects every workload in the namespace as an \
             endpoint of the entry: add the labels of the workloads it stands for",
        ));
    }
    if entry.resolution == Resolution::None {
        findings.push(warning(
            rule,
            path.clone(),
            "resolution NONE sends traffic to the address the client dialled, so the selected \
             workloads are never used: set resolution STATIC to send it to them",
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::ObjectKind;
    use crate::rules::Severity::{Error, Warning};
    use crate::rules::testing::{row, summary};
    use serde_json::{Value, json};

    fn check(selector: Value, resolution: &str) -> Vec<(String, String, crate::rules::Severity)> {
        let object = json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "metadata": {"name": "vm", "namespace": "shop"},
            "spec": {"hosts": ["vm.shop.internal"], "resolution": resolution,
                     "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
                     "workloadSelector": selector}});
        summary(ObjectKind::ServiceEntry, &object)
    }

    const RULE: &str = "serviceentry-workload-selector";

    #[test]
    fn labels_must_have_keys_and_no_wildcards() {
        assert_eq!(check(json!({"labels": {"app": "vm"}}), "STATIC"), []);
        assert_eq!(
            check(json!({"labels": {"": "vm", "tier": "web*"}}), "STATIC"),
            [
                row(RULE, "spec.workloadSelector.labels[]", Error),
                row(RULE, "spec.workloadSelector.labels.tier", Error),
            ]
        );
    }

    #[test]
    fn a_selector_without_labels_or_under_none_is_a_warning() {
        assert_eq!(
            check(json!({}), "STATIC"),
            [row(RULE, "spec.workloadSelector", Warning)]
        );
        assert_eq!(
            check(json!({"labels": {}}), "DNS"),
            [row(RULE, "spec.workloadSelector", Warning)]
        );
        assert_eq!(
            check(json!({"labels": {"app": "vm"}}), "NONE"),
            [row(RULE, "spec.workloadSelector", Warning)]
        );
    }
}
