//! `destinationrule-deprecated-fields`: the three deprecated traffic-policy settings of docs/rules.md,
//! at every place a traffic policy can stand (the top level, each `portLevelSettings[]`, each
//! subset's policy and its port-level settings).

use serde_json::{Map, Value, json};

use crate::object::fields::{lookup, spellings};
use crate::rules::converted::{self, Converted};
use crate::rules::edit::Editor;
use crate::rules::numbers::{IntType, Integer, integer};
use crate::rules::vocabulary::SimpleLoadBalancer;
use crate::rules::{Change, FieldPath, Finding, Fix, IstioVersion, Rule, Severity, Subject};

/// The deprecated fields the rule owns (`LEAST_CONN`, the third deprecation, is a value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// `outlierDetection.consecutiveErrors`: to `consecutive5xxErrors`.
    ConsecutiveErrors,
    /// `consistentHash.minimumRingSize`: to `ringHash.minimumRingSize`.
    MinimumRingSize,
}

const CONSECUTIVE_ERRORS: Converted<Conversion> = Converted {
    parents: &["outlierDetection"],
    key: "consecutiveErrors",
    conversion: Conversion::ConsecutiveErrors,
};

const MINIMUM_RING_SIZE: Converted<Conversion> = Converted {
    parents: &["consistentHash"],
    key: "minimumRingSize",
    conversion: Conversion::MinimumRingSize,
};

/// Every field the rule owns, where it stands (the field names above it, innermost last).
pub const FIELDS: &[Converted<Conversion>] = &[CONSECUTIVE_ERRORS, MINIMUM_RING_SIZE];

/// Whether `camel_key` under `parents` is converted here (the schema walk then leaves it alone).
pub fn converts(parents: &[String], camel_key: &str) -> bool {
    converted::owns(FIELDS, parents, camel_key)
}

/// Runs the rule on every traffic policy of the object.
pub fn evaluate(subject: &Subject<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let spec = subject.spec();
    let spec_path = FieldPath::fields("spec");
    if let Some((key, Value::Object(policy))) = lookup(spec, "trafficPolicy") {
        policy_with_ports(policy, &spec_path.field(key), &mut findings);
    }
    if let Some((key, Value::Array(subsets))) = lookup(spec, "subsets") {
        for (i, subset) in subsets.iter().enumerate() {
            if let Some((policy_key, Value::Object(policy))) =
                subset.as_object().and_then(|s| lookup(s, "trafficPolicy"))
            {
                policy_with_ports(
                    policy,
                    &spec_path.field(key).index(i).field(policy_key),
                    &mut findings,
                );
            }
        }
    }
    findings
}

fn policy_with_ports(policy: &Map<String, Value>, path: &FieldPath, findings: &mut Vec<Finding>) {
    traffic_policy(policy, path, findings);
    if let Some((key, Value::Array(ports))) = lookup(policy, "portLevelSettings") {
        for (i, port) in ports.iter().enumerate() {
            if let Value::Object(port) = port {
                traffic_policy(port, &path.field(key).index(i), findings);
            }
        }
    }
}

fn finding(path: FieldPath, message: String, fix: Option<Fix>) -> Finding {
    Finding::new(
        Rule::DestinationRuleDeprecatedFields,
        Severity::Warning,
        path,
        message,
    )
    .fixed_by(fix)
}

fn traffic_policy(policy: &Map<String, Value>, path: &FieldPath, findings: &mut Vec<Finding>) {
    if let Some((key, Value::Object(outlier))) = lookup(policy, CONSECUTIVE_ERRORS.parents[0]) {
        consecutive_errors(outlier, &path.field(key), findings);
    }
    if let Some((key, Value::Object(balancer))) = lookup(policy, "loadBalancer") {
        let balancer_path = path.field(key);
        if let Some((simple_key, simple)) = lookup(balancer, "simple")
            && simple.as_str().is_some_and(|name| {
                SimpleLoadBalancer::parse(name) == SimpleLoadBalancer::LeastConn
            })
        {
            let field_path = balancer_path.field(simple_key);
            findings.push(finding(
                field_path.clone(),
                "deprecated: write LEAST_REQUEST, the same algorithm".into(),
                Some(Fix {
                    ops: vec![crate::rules::PatchOp::Replace {
                        path: field_path.clone(),
                        value: json!("LEAST_REQUEST"),
                    }],
                    changes: vec![Change {
                        path: field_path,
                        description: "deprecated; replaced by LEAST_REQUEST".into(),
                    }],
                    target_since: IstioVersion::new(1, 14),
                }),
            ));
        }
        if let Some((hash_key, Value::Object(hash))) =
            lookup(balancer, MINIMUM_RING_SIZE.parents[0])
        {
            minimum_ring_size(hash, &balancer_path.field(hash_key), findings);
        }
    }
}

/// `consecutiveErrors: N` → `consecutiveGatewayErrors: N` + `consecutive5xxErrors: 0`, what Istio
/// 1.1–1.6 did with it; either new field already set is kept.
fn consecutive_errors(outlier: &Map<String, Value>, path: &FieldPath, findings: &mut Vec<Finding>) {
    let mut editor = Editor::new(path.clone(), Value::Object(outlier.clone()));
    let gateway_set = lookup(outlier, "consecutiveGatewayErrors").is_some();
    let five_xx_set = lookup(outlier, "consecutive5xxErrors").is_some();
    let found = spellings(outlier, CONSECUTIVE_ERRORS.key);
    let disagree = found.disagree();
    let mut written = false;
    for (key, value) in found {
        let field_path = path.field(key);
        // consecutiveErrors is an int32; what it holds moves to consecutiveGatewayErrors, a
        // uint32, so every count that is valid here is valid there.
        let read = integer(value, IntType::Int32);
        let count = match read {
            Some(Integer::Value(n)) => u32::try_from(n).ok(),
            _ => None,
        };
        let fix = count.filter(|_| !disagree).map(|n| {
            editor.remove(&FieldPath::fields(key));
            if !written {
                if !gateway_set {
                    editor.set(&FieldPath::fields("consecutiveGatewayErrors"), json!(n));
                }
                if !five_xx_set {
                    editor.set(&FieldPath::fields("consecutive5xxErrors"), json!(0));
                }
                written = true;
            }
            Fix {
                ops: editor.take_ops(),
                changes: vec![Change {
                    path: field_path.clone(),
                    description: format!(
                        "deprecated; moved to {} (and consecutive5xxErrors: 0, as Istio read it)",
                        path.field("consecutiveGatewayErrors")
                    ),
                }],
                target_since: IstioVersion::new(1, 5),
            }
        });
        let message = match count {
            Some(n) if !disagree => format!(
                "deprecated: write consecutiveGatewayErrors: {n} and consecutive5xxErrors: 0 \
                 (what Istio did with it)"
            ),
            Some(_) => "deprecated, and both spellings are set to different values: keep one as consecutiveGatewayErrors".into(),
            None if read == Some(Integer::Outside) => format!(
                "deprecated, and {value} is outside {}, the type of consecutiveErrors: \
                 write consecutiveGatewayErrors by hand",
                IntType::Int32
            ),
            None => format!("deprecated, and {value} is not a count: write consecutiveGatewayErrors by hand"),
        };
        findings.push(finding(field_path, message, fix));
    }
}

/// `consistentHash.minimumRingSize` → `consistentHash.ringHash.minimumRingSize`.
fn minimum_ring_size(hash: &Map<String, Value>, path: &FieldPath, findings: &mut Vec<Finding>) {
    let mut editor = Editor::new(path.clone(), Value::Object(hash.clone()));
    let ring = lookup(hash, "ringHash");
    let maglev = lookup(hash, "maglev").is_some();
    let ring_key = ring.map_or("ringHash", |(k, _)| k);
    let target_rel = FieldPath::fields(ring_key).field("minimumRingSize");
    let mut written = ring
        .and_then(|(_, r)| r.as_object())
        .is_some_and(|r| lookup(r, "minimumRingSize").is_some());
    for (key, value) in spellings(hash, MINIMUM_RING_SIZE.key) {
        let field_path = path.field(key);
        // A uint64, moved as written.
        let size = matches!(integer(value, IntType::Uint64), Some(Integer::Value(_)));
        let fix = (!maglev && size).then(|| {
            editor.remove(&FieldPath::fields(key));
            let description = if written {
                "deprecated; deleted (ringHash.minimumRingSize is set and wins)".to_string()
            } else {
                editor.set(&target_rel, value.clone());
                written = true;
                format!("deprecated; moved to {}", path.join(&target_rel))
            };
            Fix {
                ops: editor.take_ops(),
                changes: vec![Change {
                    path: field_path.clone(),
                    description,
                }],
                target_since: IstioVersion::new(1, 16),
            }
        });
        let message = if maglev {
            "deprecated, and this hash uses maglev, which has no ring size: delete it".to_string()
        } else if !size {
            format!(
                "deprecated, and {value} is not a ring size, a whole number within {}: \
                 write {} by hand",
                IntType::Uint64,
                path.join(&target_rel)
            )
        } else {
            format!("deprecated: write {} ", path.join(&target_rel))
        };
        findings.push(finding(field_path, message, fix));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{ObjectKind, Operation};

    fn run(spec: Value) -> Vec<Finding> {
        let object = json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "spec": spec});
        evaluate(&Subject {
            kind: ObjectKind::DestinationRule,
            operation: Operation::Create,
            object: &object,
            old_object: None,
            requested_version: Some("v1"),
            namespace: None,
            origin: crate::rules::Origin::Request,
            min_istio_version: crate::rules::DEFAULT_MIN_ISTIO_VERSION,
        })
    }

    use crate::rules::testing::patch_of as ops;

    #[test]
    fn every_place_a_traffic_policy_stands() {
        let policy = json!({"outlierDetection": {"consecutiveErrors": 7, "interval": "10s"},
                            "loadBalancer": {"simple": "LEAST_CONN"}});
        let mut with_ports = policy.clone();
        with_ports["portLevelSettings"] = json!([{"port": {"number": 80}, "loadBalancer": {"consistentHash": {"httpHeaderName": "x", "minimumRingSize": 1024}}}]);
        let findings = run(
            json!({"host": "r", "trafficPolicy": with_ports, "subsets": [{"name": "v1", "trafficPolicy": policy}]}),
        );
        let paths: Vec<String> = findings.iter().map(|f| f.path.to_string()).collect();
        assert_eq!(
            paths,
            [
                "spec.trafficPolicy.outlierDetection.consecutiveErrors",
                "spec.trafficPolicy.loadBalancer.simple",
                "spec.trafficPolicy.portLevelSettings[0].loadBalancer.consistentHash.minimumRingSize",
                "spec.subsets[0].trafficPolicy.outlierDetection.consecutiveErrors",
                "spec.subsets[0].trafficPolicy.loadBalancer.simple",
            ]
        );
        assert!(
            findings
                .iter()
                .all(|f| f.severity == Severity::Warning && f.fix.is_some())
        );
        assert_eq!(
            ops(&findings[..3]),
            json!([
                {"op": "remove", "path": "/spec/trafficPolicy/outlierDetection/consecutiveErrors"},
                {"op": "add", "path": "/spec/trafficPolicy/outlierDetection/consecutiveGatewayErrors", "value": 7},
                {"op": "add", "path": "/spec/trafficPolicy/outlierDetection/consecutive5xxErrors", "value": 0},
                {"op": "replace", "path": "/spec/trafficPolicy/loadBalancer/simple", "value": "LEAST_REQUEST"},
                {"op": "remove", "path": "/spec/trafficPolicy/portLevelSettings/0/loadBalancer/consistentHash/minimumRingSize"},
                {"op": "add", "path": "/spec/trafficPolicy/portLevelSettings/0/loadBalancer/consistentHash/ringHash", "value": {"minimumRingSize": 1024}},
            ])
        );
        let targets: Vec<String> = findings
            .iter()
            .map(|f| f.fix.as_ref().unwrap().target_since.to_string())
            .collect();
        assert_eq!(targets, ["1.5", "1.14", "1.16", "1.5", "1.14"]);
    }

    #[test]
    fn counts_outside_their_crd_types_are_not_converted() {
        let consecutive = |count: Value| {
            run(
                json!({"host": "r", "trafficPolicy": {"outlierDetection": {"consecutiveErrors": count}}}),
            )
        };
        // consecutiveErrors is an int32: 2147483648 is outside it, though a uint32 would hold it.
        for (count, message) in [
            (
                json!(2_147_483_648_i64),
                "deprecated, and 2147483648 is outside int32 (-2147483648 to 2147483647), the type \
                 of consecutiveErrors: write consecutiveGatewayErrors by hand",
            ),
            (
                json!(u64::MAX),
                "deprecated, and 18446744073709551615 is outside int32 (-2147483648 to 2147483647), \
                 the type of consecutiveErrors: write consecutiveGatewayErrors by hand",
            ),
            (
                json!(1e300),
                "deprecated, and 1e+300 is outside int32 (-2147483648 to 2147483647), the type of \
                 consecutiveErrors: write consecutiveGatewayErrors by hand",
            ),
            (
                json!(-1),
                "deprecated, and -1 is not a count: write consecutiveGatewayErrors by hand",
            ),
            (
                json!(2.5),
                "deprecated, and 2.5 is not a count: write consecutiveGatewayErrors by hand",
            ),
        ] {
            let findings = consecutive(count.clone());
            assert_eq!(findings.len(), 1, "{count}");
            assert_eq!(findings[0].message, message, "{count}");
            assert!(findings[0].fix.is_none(), "{count}");
        }
        assert_eq!(
            ops(&consecutive(json!(i32::MAX))),
            json!([
                {"op": "remove", "path": "/spec/trafficPolicy/outlierDetection/consecutiveErrors"},
                {"op": "add", "path": "/spec/trafficPolicy/outlierDetection/consecutiveGatewayErrors", "value": 2_147_483_647},
                {"op": "add", "path": "/spec/trafficPolicy/outlierDetection/consecutive5xxErrors", "value": 0},
            ])
        );
        let ring = |size: Value| {
            run(
                json!({"host": "r", "trafficPolicy": {"loadBalancer": {"consistentHash": {"minimumRingSize": size}}}}),
            )
        };
        for size in [json!(-1), json!(1e300), json!(1.5)] {
            let findings = ring(size.clone());
            assert!(findings[0].fix.is_none(), "{size}");
            assert_eq!(
                findings[0].message,
                format!(
                    "deprecated, and {size} is not a ring size, a whole number within uint64 \
                     (0 to 18446744073709551615): write \
                     spec.trafficPolicy.loadBalancer.consistentHash.ringHash.minimumRingSize by hand"
                )
            );
        }
        assert_eq!(
            ops(&ring(json!(u64::MAX))),
            json!([
                {"op": "remove", "path": "/spec/trafficPolicy/loadBalancer/consistentHash/minimumRingSize"},
                {"op": "add", "path": "/spec/trafficPolicy/loadBalancer/consistentHash/ringHash", "value": {"minimumRingSize": u64::MAX}},
            ])
        );
    }

    #[test]
    fn existing_new_fields_are_kept() {
        let findings = run(
            json!({"host": "r", "trafficPolicy": {"outlierDetection": {"consecutiveErrors": 7, "consecutive5xxErrors": 3}}}),
        );
        assert_eq!(
            ops(&findings),
            json!([
                {"op": "remove", "path": "/spec/trafficPolicy/outlierDetection/consecutiveErrors"},
                {"op": "add", "path": "/spec/trafficPolicy/outlierDetection/consecutiveGatewayErrors", "value": 7},
            ])
        );
        let findings = run(
            json!({"host": "r", "trafficPolicy": {"loadBalancer": {"consistentHash": {"useSourceIp": true, "maglev": {}, "minimumRingSize": 64}}}}),
        );
        assert!(
            findings[0].fix.is_none(),
            "maglev has no ring: not converted"
        );
    }
}
