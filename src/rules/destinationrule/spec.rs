//! The DestinationRule as a whole (Istio's `ValidateDestinationRule`): the host, the subsets, the
//! traffic policies at the top and in each subset, `exportTo` and the workload selector.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{Walk, field, traffic_policy};
use crate::object::fields::lookup;
use crate::rules::domains::{is_label, label_problems};
use crate::rules::export_to;
use crate::rules::names::wildcard_domain_problem;
use crate::rules::{FieldPath, Finding, IstioVersion, Rule, Subject};

/// Runs Istio's validation of a DestinationRule.
pub fn evaluate(subject: &Subject<'_>) -> Vec<Finding> {
    let spec = subject.spec();
    let spec_path = FieldPath::fields("spec");
    let mut walk = Walk {
        namespace: subject.object_namespace(),
        oldest: subject.min_istio_version,
        findings: Vec::new(),
    };
    host(&mut walk, spec, &spec_path);
    if let Some((key, Value::Object(policy))) = field(spec, "trafficPolicy") {
        traffic_policy::policy(&mut walk, policy, &spec_path.field(key));
    }
    if let Some((key, Value::Array(subsets))) = field(spec, "subsets") {
        self::subsets(&mut walk, subsets, &spec_path.field(key));
    }
    let selector = field(spec, "workloadSelector");
    walk.findings.extend(export_to::evaluate(
        subject,
        spec,
        Rule::DestinationRuleExportTo,
        false,
    ));
    if selector.is_some() {
        selector_export_to(&mut walk, spec, &spec_path);
    }
    if let Some((key, Value::Object(selector))) = selector {
        workload_selector(&mut walk, selector, &spec_path.field(key));
    }
    walk.findings
}

fn host(walk: &mut Walk<'_>, spec: &Map<String, Value>, spec_path: &FieldPath) {
    let rule = Rule::DestinationRuleHost;
    match field(spec, "host") {
        None => walk.error(
            rule,
            spec_path.field("host"),
            "a DestinationRule needs a host: write the service it applies to, such as \
             `reviews` or `reviews.bookinfo.svc.cluster.local`",
        ),
        Some((key, Value::String(host))) => {
            if let Err(why) = wildcard_domain_problem(host) {
                walk.error(
                    rule,
                    spec_path.field(key),
                    format!(
                        "host {host:?} is not a host name ({why}): write a service name or a \
                         DNS name, optionally with a leading `*.`"
                    ),
                );
            }
        }
        // Not a string: the schema's business.
        Some(_) => {}
    }
}

/// Istio refuses two subsets of one name since 1.22 (older releases accepted them).
const DUPLICATE_SUBSETS_SINCE: IstioVersion = IstioVersion::new(1, 22);

fn subsets(walk: &mut Walk<'_>, subsets: &[Value], path: &FieldPath) {
    let rule = Rule::DestinationRuleSubsets;
    let mut names: HashSet<&str> = HashSet::new();
    for (i, subset) in subsets.iter().enumerate() {
        let subset_path = || path.index(i);
        let subset = match subset {
            Value::Null => {
                walk.error(
                    rule,
                    subset_path(),
                    "a subset is null: remove it or write a name and labels",
                );
                continue;
            }
            Value::Object(subset) => subset,
            _ => continue,
        };
        let name = lookup(subset, "name")
            .and_then(|(_, v)| v.as_str())
            .unwrap_or("");
        let name_path = || subset_path().field(lookup(subset, "name").map_or("name", |(k, _)| k));
        if !names.insert(name) {
            walk.error_since(
                DUPLICATE_SUBSETS_SINCE,
                rule,
                name_path(),
                format!("subset name {name:?} is used twice: give each subset its own name"),
            );
        }
        if name.is_empty() {
            walk.error(
                rule,
                name_path(),
                "a subset needs a name: write a DNS-1123 label such as `v1`",
            );
        } else if !is_label(name) {
            walk.error(
                rule,
                name_path(),
                format!("subset name {name:?} is not a DNS-1123 label (letters, digits, '-'): write one such as `v1`"),
            );
        }
        if let Some((key, Value::Object(labels))) = field(subset, "labels") {
            let labels_path = subset_path().field(key);
            for (label, message) in label_problems(labels) {
                walk.error(rule, labels_path.key(label), message);
            }
        }
        if let Some((key, Value::Object(policy))) = field(subset, "trafficPolicy") {
            traffic_policy::policy(walk, policy, &subset_path().field(key));
        }
    }
}

/// A DestinationRule with a workload selector applies to workloads of its own namespace only, so
/// `exportTo` may name that namespace and nothing else.
fn selector_export_to(walk: &mut Walk<'_>, spec: &Map<String, Value>, spec_path: &FieldPath) {
    let Some((key, Value::Array(entries))) = field(spec, "exportTo") else {
        return;
    };
    let own = walk.namespace.unwrap_or(".");
    let mut exported: HashSet<&str> = HashSet::new();
    for entry in entries.iter().filter_map(Value::as_str) {
        let valid = matches!(entry, "." | "*") || crate::rules::domains::is_label(entry);
        if valid {
            exported.insert(if entry == "." { own } else { entry });
        }
    }
    if exported.is_empty() {
        return;
    }
    let rule = Rule::DestinationRuleExportTo;
    if !exported.contains(own) {
        walk.error(
            rule,
            spec_path.field(key),
            "a DestinationRule with a workloadSelector applies only in its own namespace: \
             write exportTo: [\".\"] or remove exportTo",
        );
    } else if exported.len() > 1 {
        walk.error(
            rule,
            spec_path.field(key),
            "a DestinationRule with a workloadSelector applies only in its own namespace: \
             keep only \".\" in exportTo",
        );
    }
}

fn workload_selector(walk: &mut Walk<'_>, selector: &Map<String, Value>, path: &FieldPath) {
    let rule = Rule::DestinationRuleWorkloadSelector;
    let labels = match field(selector, "matchLabels") {
        Some((key, Value::Object(labels))) => Some((key, labels)),
        _ => None,
    };
    let Some((key, labels)) = labels.filter(|(_, labels)| !labels.is_empty()) else {
        walk.warning(
            rule,
            path.clone(),
            "the workload selector has no labels, so the rule applies to every workload of the \
             namespace: write matchLabels, or remove workloadSelector",
        );
        return;
    };
    let labels_path = path.field(key);
    for (label, value) in labels {
        let value = value.as_str().unwrap_or("");
        if label.is_empty() {
            walk.error(
                rule,
                labels_path.key(label),
                "a label key is empty: write the label's name",
            );
        }
        if label.contains('*') || value.contains('*') {
            walk.error(
                rule,
                labels_path.key(label),
                format!("{label}={value}: a selector matches labels exactly, `*` is no wildcard: write the label's value"),
            );
        }
    }
}

#[cfg(test)]
pub(in crate::rules::destinationrule) mod tests {
    use super::*;
    use crate::rules::{ObjectKind, Severity};
    use serde_json::json;

    /// The findings on a DestinationRule in namespace `shop`, for the newest Istio.
    pub(in crate::rules::destinationrule) fn run(spec: Value) -> Vec<Finding> {
        run_for(spec, IstioVersion::new(1, 28))
    }

    /// The findings when `oldest` is the oldest Istio reading the object.
    pub(in crate::rules::destinationrule) fn run_for(
        spec: Value,
        oldest: IstioVersion,
    ) -> Vec<Finding> {
        let object = json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": "reviews", "namespace": "shop"}, "spec": spec});
        evaluate(&Subject {
            min_istio_version: oldest,
            ..Subject::created(ObjectKind::DestinationRule, &object)
        })
    }

    fn rows(findings: &[Finding]) -> Vec<(String, String, Severity, String)> {
        findings
            .iter()
            .map(|f| {
                (
                    f.rule.to_string(),
                    f.path.to_string(),
                    f.severity,
                    f.message.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn host_and_subsets() {
        let findings = run(json!({"host": "", "subsets": [
            {"name": "v1", "labels": {"version": "v1"}},
            {"name": "v1", "labels": {"version": "v2-"}},
            {"name": "", "labels": {"-bad": "x"}},
            null,
            {"name": "V_2"},
        ]}));
        assert_eq!(
            rows(&findings),
            [
                ("destinationrule-host".into(), "spec.host".into(), Severity::Error,
                 "host \"\" is not a host name (it is empty): write a service name or a DNS name, optionally with a leading `*.`".into()),
                ("destinationrule-subsets".into(), "spec.subsets[1].name".into(), Severity::Error,
                 "subset name \"v1\" is used twice: give each subset its own name".into()),
                ("destinationrule-subsets".into(), "spec.subsets[1].labels.version".into(), Severity::Error,
                 "label value \"v2-\" is not a Kubernetes label value (letters, digits, '-', '_' or '.', alphanumeric at both ends)".into()),
                ("destinationrule-subsets".into(), "spec.subsets[2].name".into(), Severity::Error,
                 "a subset needs a name: write a DNS-1123 label such as `v1`".into()),
                ("destinationrule-subsets".into(), "spec.subsets[2].labels[-bad]".into(), Severity::Error,
                 "label key \"-bad\" is not a Kubernetes label key: \"-bad\" is not letters, digits, '-', '_' or '.', alphanumeric at both ends".into()),
                ("destinationrule-subsets".into(), "spec.subsets[3]".into(), Severity::Error,
                 "a subset is null: remove it or write a name and labels".into()),
                ("destinationrule-subsets".into(), "spec.subsets[4].name".into(), Severity::Error,
                 "subset name \"V_2\" is not a DNS-1123 label (letters, digits, '-'): write one such as `v1`".into()),
            ]
        );
        // Istio's labels admit upper case; a missing host is an empty one.
        assert!(run(json!({"host": "Reviews", "subsets": [{"name": "V1"}]})).is_empty());
        assert_eq!(rows(&run(json!({})))[0].1, "spec.host");
    }

    #[test]
    fn checks_istio_added_follow_min_istio_version() {
        let spec = json!({"host": "r", "subsets": [{"name": "v1"}, {"name": "v1"}]});
        assert_eq!(
            rows(&run_for(spec.clone(), IstioVersion::new(1, 21))),
            [(
                "destinationrule-subsets".into(),
                "spec.subsets[1].name".into(),
                Severity::Warning,
                "subset name \"v1\" is used twice: give each subset its own name (Istio 1.22 and \
               later refuse this; minIstioVersion 1.21 still accepts it)"
                    .into()
            )]
        );
        assert_eq!(
            run_for(spec, IstioVersion::new(1, 22))[0].severity,
            Severity::Error
        );
        let idle_off = json!({"host": "r", "trafficPolicy": {"connectionPool": {"tcp": {"idleTimeout": "0s"}}}});
        assert!(run_for(idle_off.clone(), IstioVersion::new(1, 26)).is_empty());
        assert_eq!(
            rows(&run_for(idle_off, IstioVersion::new(1, 25))),
            [("destinationrule-connection-pool".into(), "spec.trafficPolicy.connectionPool.tcp.idleTimeout".into(), Severity::Error,
              "0s is shorter than 1ms, the least Istio accepts: Istio before 1.26 refuses it, and \
               minIstioVersion is 1.25: write 0.001s or more, or leave idleTimeout out".into())]
        );
        let skip = json!({"host": "r", "trafficPolicy": {"tls": {"mode": "SIMPLE", "caCertificates": "ca", "insecureSkipVerify": true}}});
        assert_eq!(
            run_for(skip.clone(), IstioVersion::new(1, 18))[0].severity,
            Severity::Warning
        );
        assert_eq!(
            run_for(skip, IstioVersion::new(1, 19))[0].severity,
            Severity::Error
        );
    }

    #[test]
    fn workload_selector_and_export_to() {
        let findings =
            run(json!({"host": "r", "workloadSelector": {}, "exportTo": [".", "other"]}));
        assert_eq!(
            rows(&findings),
            [
                ("destinationrule-export-to".into(), "spec.exportTo".into(), Severity::Error,
                 "a DestinationRule with a workloadSelector applies only in its own namespace: keep only \".\" in exportTo".into()),
                ("destinationrule-workload-selector".into(), "spec.workloadSelector".into(), Severity::Warning,
                 "the workload selector has no labels, so the rule applies to every workload of the namespace: write matchLabels, or remove workloadSelector".into()),
            ]
        );
        let sel = json!({"matchLabels": {"app": "reviews"}});
        assert!(
            run(json!({"host": "r", "workloadSelector": sel, "exportTo": ["shop"]})).is_empty()
        );
        assert_eq!(
            rows(&run(
                json!({"host": "r", "workloadSelector": sel, "exportTo": ["*"]})
            ))[0]
                .3,
            "a DestinationRule with a workloadSelector applies only in its own namespace: write exportTo: [\".\"] or remove exportTo"
        );
        let wild = run(json!({"host": "r", "workloadSelector": {"matchLabels": {"app": "*"}}}));
        assert_eq!(rows(&wild)[0].1, "spec.workloadSelector.matchLabels.app");
        assert_eq!(
            run(json!({"host": "r", "exportTo": ["~"]}))[0].rule,
            Rule::DestinationRuleExportTo
        );
    }
}
