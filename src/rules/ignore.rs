//! `ignore.meshgate.io/<rule-id>: "<reason>"` annotations: reading the reason an object gives
//! for silencing a rule, and the rule that reports annotations which silence nothing (no
//! reason, or no such rule). Whether an annotation is honoured is the policy's business (the
//! engine's `allowIgnoreAnnotations`), not the object's.

use crate::object::fields::member;
use serde_json::{Map, Value};

use super::{FieldPath, Finding, Rule, Severity, Subject};

/// The annotation prefix; the rule id follows it.
pub const PREFIX: &str = "ignore.meshgate.io/";

/// Longest reason kept for reports: annotation values may be 256 KiB.
const MAX_REASON_BYTES: usize = 512;

fn annotations(object: &Value) -> Option<&Map<String, Value>> {
    member(object, &["metadata", "annotations"])?.as_object()
}

/// Whether an annotation can silence `rule`: every rule but `ignore-annotation`, which is what
/// explains why an annotation silenced nothing.
pub fn can_silence(rule: Rule) -> bool {
    rule != Rule::IgnoreAnnotation
}

/// The object's `ignore.meshgate.io/<rule>` annotations that name a rule, each with its reason:
/// trimmed, cut at 512 bytes, `""` when empty or blank (which silences nothing). Read once per
/// object, so that judging each finding costs a look through at most one entry per rule.
pub fn reasons(object: &Value) -> Vec<(Rule, &str)> {
    let Some(annotations) = annotations(object) else {
        return Vec::new();
    };
    annotations
        .iter()
        .filter_map(|(key, value)| {
            let rule = key.strip_prefix(PREFIX)?.parse::<Rule>().ok()?;
            Some((rule, cut(value.as_str().unwrap_or_default().trim())))
        })
        .collect()
}

/// The reason `reasons` gives for `rule`, if any.
pub fn reason_for<'a>(reasons: &[(Rule, &'a str)], rule: Rule) -> Option<&'a str> {
    reasons
        .iter()
        .find_map(|(named, reason)| (*named == rule).then_some(*reason))
}

fn cut(text: &str) -> &str {
    if text.len() <= MAX_REASON_BYTES {
        return text;
    }
    let mut end = MAX_REASON_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `ignore-annotation`: an annotation that silences nothing because it gives no reason or
/// names no rule of the catalog.
pub fn evaluate(subject: &Subject<'_>) -> Vec<Finding> {
    let Some(annotations) = annotations(subject.object) else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for (key, value) in annotations {
        let Some(id) = key.strip_prefix(PREFIX) else {
            continue;
        };
        let path = FieldPath::fields("metadata.annotations").key(key);
        let message = match id.parse::<Rule>() {
            Err(_) => {
                let hint = Rule::closest(id)
                    .map(|rule| format!(": did you mean {PREFIX}{rule}?"))
                    .unwrap_or_else(|| ": `meshgate rules` lists them".to_string());
                format!("`{id}` is no rule id, so this annotation silences nothing{hint}")
            }
            Ok(_) if value.as_str().is_none_or(|v| v.trim().is_empty()) => {
                "no reason given, so it silences nothing: write why the rule does not apply here"
                    .to_string()
            }
            Ok(_) => continue,
        };
        findings.push(Finding::new(
            Rule::IgnoreAnnotation,
            Severity::Warning,
            path,
            message,
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::ObjectKind;
    use serde_json::json;

    fn object(annotations: Value) -> Value {
        json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
               "metadata": {"name": "r", "annotations": annotations}, "spec": {}})
    }

    #[test]
    fn reasons_are_read_trimmed_and_cut() {
        let vs = object(json!({
            "ignore.meshgate.io/virtualservice-weights": "  canary, see OPS-12 ",
            "ignore.meshgate.io/virtualservice-hosts": "",
            "ignore.meshgate.io/virtualservice-routes": "é".repeat(400),
            "other.io/virtualservice-fault": "not ours",
        }));
        let read = reasons(&vs);
        assert_eq!(
            reason_for(&read, Rule::VirtualServiceWeights),
            Some("canary, see OPS-12")
        );
        assert_eq!(reason_for(&read, Rule::VirtualServiceHosts), Some(""));
        assert_eq!(
            reason_for(&read, Rule::VirtualServiceRoutes).map(str::len),
            Some(512)
        );
        assert_eq!(reason_for(&read, Rule::VirtualServiceFault), None);
        assert_eq!(read.len(), 3, "other.io/ keys are not ours");
        assert!(reasons(&json!({"metadata": {"annotations": 3}})).is_empty());
    }

    #[test]
    fn annotations_that_silence_nothing_are_findings() {
        let vs = object(json!({
            "ignore.meshgate.io/nothing-like-it": "x",
            "ignore.meshgate.io/virtualservice-hosts": " ",
            "ignore.meshgate.io/virtualservice-weight": "typo",
            "ignore.meshgate.io/virtualservice-weights": "canary",
        }));
        let found: Vec<(String, String)> =
            evaluate(&Subject::created(ObjectKind::VirtualService, &vs))
                .into_iter()
                .map(|f| (f.path.to_string(), f.message))
                .collect();
        assert_eq!(
            found,
            [
                (
                    "metadata.annotations[ignore.meshgate.io/nothing-like-it]".to_string(),
                    "`nothing-like-it` is no rule id, so this annotation silences nothing: `meshgate rules` lists them".to_string()
                ),
                (
                    "metadata.annotations[ignore.meshgate.io/virtualservice-hosts]".to_string(),
                    "no reason given, so it silences nothing: write why the rule does not apply here".to_string()
                ),
                (
                    "metadata.annotations[ignore.meshgate.io/virtualservice-weight]".to_string(),
                    "`virtualservice-weight` is no rule id, so this annotation silences nothing: did you mean ignore.meshgate.io/virtualservice-weights?".to_string()
                ),
            ]
        );
    }
}
