//! Outlier detection (Istio's `validateOutlierDetection`): intervals of at least 1ms in whole
//! milliseconds, percentages within 0-100, and local-origin failures only where they are counted
//! apart. (`consecutiveErrors`, deprecated, is `destinationrule-deprecated-fields`.)

use serde_json::{Map, Value};

use super::{Walk, field, is_true};
use crate::rules::numbers::{IntType, Integer, integer};
use crate::rules::{FieldPath, Rule};

const RULE: Rule = Rule::DestinationRuleOutlierDetection;

/// Checks one `outlierDetection`.
pub(super) fn check(walk: &mut Walk<'_>, outlier: &Map<String, Value>, path: &FieldPath) {
    walk.duration(RULE, outlier, "baseEjectionTime", path, true);
    walk.duration(RULE, outlier, "interval", path, true);
    if let Some((key, value)) = field(outlier, "consecutiveLocalOriginFailures")
        && matches!(integer(value, IntType::Uint32), Some(Integer::Value(n)) if n > 0)
        && !is_true(outlier, "splitExternalLocalOriginErrors")
    {
        walk.error(
            RULE,
            path.field(key),
            "consecutiveLocalOriginFailures counts only when local-origin errors are counted \
             apart: set splitExternalLocalOriginErrors: true, or remove it",
        );
    }
    walk.percent(RULE, outlier, "maxEjectionPercent", path);
    walk.percent(RULE, outlier, "minHealthPercent", path);
}

#[cfg(test)]
mod tests {
    use crate::rules::destinationrule::spec::tests::run;
    use serde_json::json;

    #[test]
    fn durations_percentages_and_local_origin() {
        let findings = run(json!({"host": "r", "trafficPolicy": {"outlierDetection": {
            "interval": "0s", "maxEjectionPercent": 105, "minHealthPercent": -1,
            "consecutiveLocalOriginFailures": 10}}}));
        let rows: Vec<(String, String)> = findings
            .iter()
            .inspect(|f| assert_eq!(f.rule.to_string(), "destinationrule-outlier-detection"))
            .map(|f| (f.path.to_string(), f.message.clone()))
            .collect();
        let p = "spec.trafficPolicy.outlierDetection";
        assert_eq!(
            rows,
            [
                (format!("{p}.interval"), "0s is shorter than 1ms, the least Istio accepts: write 0.001s or more, in whole milliseconds".to_string()),
                (format!("{p}.consecutiveLocalOriginFailures"), "consecutiveLocalOriginFailures counts only when local-origin errors are counted apart: set splitExternalLocalOriginErrors: true, or remove it".to_string()),
                (format!("{p}.maxEjectionPercent"), "maxEjectionPercent 105 is not a percentage: write 0 to 100".to_string()),
                (format!("{p}.minHealthPercent"), "minHealthPercent -1 is not a percentage: write 0 to 100".to_string()),
            ]
        );
        assert!(
            run(json!({"host": "r", "trafficPolicy": {"outlierDetection": {
            "consecutiveLocalOriginFailures": 10, "splitExternalLocalOriginErrors": true,
            "baseEjectionTime": "30s", "maxEjectionPercent": 100}}}))
            .is_empty()
        );
    }
}
