//! The documentation of the DestinationRule rules.

use super::{NO_ANALYZER, RuleDoc, SCHEMA_WARNING, shared};
use crate::rules::{ObjectKind, Severity};

const DESTINATION_RULE: &[ObjectKind] = &[ObjectKind::DestinationRule];

/// `destinationrule-deprecated-fields`.
pub const DEPRECATED_FIELDS: RuleDoc = RuleDoc {
    kinds: DESTINATION_RULE,
    severity: Severity::Warning,
    other_severities: &[],
    checks: "Deprecated traffic-policy settings, in `trafficPolicy`, in each \
        `portLevelSettings[]` and in each subset's policy: `outlierDetection.consecutiveErrors`, \
        `loadBalancer.simple: LEAST_CONN` and `loadBalancer.consistentHash.minimumRingSize`.",
    why: "They still work, but each has a replacement and Istio removes deprecated fields in \
        time, after which the API server prunes them and the setting is gone without a word: an \
        upstream that was ejected after five gateway errors is then never ejected. \
        `consecutiveErrors` is the one with a trap: Istio 1.1 to 1.6 read it as \
        `consecutiveGatewayErrors` with 5xx ejection off, which is what its replacement has to \
        say. `LEAST_CONN` is another name for `LEAST_REQUEST`, and `minimumRingSize` moved under \
        `ringHash`.",
    fix: "Converted, by `meshgate fix` and the mutating webhook, when the policy's \
        `minIstioVersion` reads the replacement: `consecutiveErrors: N` becomes \
        `consecutiveGatewayErrors: N` with `consecutive5xxErrors: 0` (Istio 1.5; either one \
        already set is kept), `LEAST_CONN` becomes `LEAST_REQUEST` (1.14), and \
        `consistentHash.minimumRingSize` becomes `consistentHash.ringHash.minimumRingSize` (1.16). \
        With the default `minIstioVersion` of 1.4 all three are reported, not converted.",
    failing: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  trafficPolicy:
    outlierDetection:
      consecutiveErrors: 5
      interval: 30s
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  trafficPolicy:
    outlierDetection:
      consecutiveGatewayErrors: 5
      consecutive5xxErrors: 0
      interval: 30s
",
    analyzer: &[SCHEMA_WARNING.only("for `outlierDetection.consecutiveErrors`")],
};

/// `destinationrule-field-spelling`.
pub const FIELD_SPELLING: RuleDoc = RuleDoc {
    kinds: DESTINATION_RULE,
    severity: Severity::Error,
    other_severities: &[],
    checks: shared::SPELLING_CHECKS,
    why: shared::SPELLING_WHY,
    fix: shared::SPELLING_FIX,
    failing: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  trafficPolicy:
    connection_pool:
      http:
        http1MaxPendingRequests: 100
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  trafficPolicy:
    connectionPool:
      http:
        http1MaxPendingRequests: 100
",
    analyzer: NO_ANALYZER,
};

/// `destinationrule-unknown-fields`.
pub const UNKNOWN_FIELDS: RuleDoc = RuleDoc {
    kinds: DESTINATION_RULE,
    severity: Severity::Error,
    other_severities: &[],
    checks: shared::UNKNOWN_CHECKS,
    why: shared::UNKNOWN_WHY,
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  trafficPolicy:
    loadBalancer:
      simpel: ROUND_ROBIN
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  trafficPolicy:
    loadBalancer:
      simple: ROUND_ROBIN
",
    analyzer: NO_ANALYZER,
};
