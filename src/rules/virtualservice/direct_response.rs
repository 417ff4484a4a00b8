//! `virtualservice-direct-response`: an HTTP route's `directResponse` as Istio takes it: a
//! status from 200 to 600, and a body that the control plane can carry to every proxy (a warning
//! over 100 KiB, an error over 1 MiB).

use serde_json::Value;

use super::RouteRef;
use super::view::Blocks;
use crate::rules::numbers::{IntType, Integer, integer};
use crate::rules::{Finding, Rule, Severity};

const RULE: Rule = Rule::VirtualServiceDirectResponse;

/// Bodies over this size are warned about.
const WARN_BYTES: usize = 100 * 1024;
/// Bodies over this size are refused.
const MAX_BYTES: usize = 1024 * 1024;

/// Checks the direct response of one HTTP route.
pub(super) fn route(owner: RouteRef<'_>, blocks: &Blocks<'_>, findings: &mut Vec<Finding>) {
    let Some(Value::Object(response)) = blocks.direct_response else {
        return;
    };
    let at = || owner.path().field("directResponse");
    let status = response.get("status");
    let valid = match status.map(|s| integer(s, IntType::Uint32)) {
        // Unset is 0.
        None => false,
        Some(Some(Integer::Value(n))) => (200..=600).contains(&n),
        Some(Some(Integer::Outside | Integer::Fraction)) => false,
        Some(None) => true,
    };
    if !valid {
        let message = match status {
            Some(status) => {
                format!("status {status} is outside 200-600: write the HTTP status to answer with")
            }
            None => "a direct response needs a status: write the HTTP status to answer with".into(),
        };
        findings.push(Finding::new(
            RULE,
            Severity::Error,
            at().field("status"),
            message,
        ));
    }
    let Some(Value::Object(body)) = response.get("body") else {
        return;
    };
    let (field, size) = if let Some(text) = body.get("string").and_then(Value::as_str) {
        ("string", text.len())
    } else if let Some(encoded) = body.get("bytes").and_then(Value::as_str) {
        // Base64, padded or not: four characters carry three bytes.
        ("bytes", encoded.trim_end_matches('=').len() * 3 / 4)
    } else {
        return;
    };
    let (severity, message) = if size > MAX_BYTES {
        (
            Severity::Error,
            format!(
                "the body is {size} bytes, over Istio's limit of 1 MiB: large direct responses \
                 are pushed to every proxy; serve it from a backend"
            ),
        )
    } else if size > WARN_BYTES {
        (
            Severity::Warning,
            format!(
                "the body is {size} bytes, over 100 KiB: large direct responses are pushed to \
                 every proxy and slow configuration down; serve it from a backend"
            ),
        )
    } else {
        return;
    };
    findings.push(Finding::new(
        RULE,
        severity,
        at().field("body").field(field),
        message,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::virtualservice::http::testing::{findings_of, http};
    use serde_json::json;

    fn check(response: Value) -> Vec<(String, String)> {
        findings_of(
            "virtualservice-direct-response",
            json!({"directResponse": response}),
        )
    }

    #[test]
    fn status_and_body() {
        assert_eq!(check(json!({"status": 200, "body": {"string": "ok"}})), []);
        assert_eq!(check(json!({"status": 600})), []);
        assert_eq!(
            check(json!({"status": 199})),
            [(
                "spec.http[0].directResponse.status".to_string(),
                "status 199 is outside 200-600: write the HTTP status to answer with".to_string()
            )]
        );
        assert_eq!(
            check(json!({"status": 200, "body": {"string": "a".repeat(WARN_BYTES)}})),
            []
        );
        let warned = check(json!({"status": 200, "body": {"string": "a".repeat(WARN_BYTES + 1)}}));
        assert_eq!(warned.len(), 1);
        assert!(
            warned[0]
                .1
                .starts_with("the body is 102401 bytes, over 100 KiB")
        );
        // 1 MiB + 1 bytes, base64: 1398104 characters with one `=`.
        let encoded = "QUFB".repeat(MAX_BYTES / 3) + "QUE=";
        let refused = check(json!({"status": 200, "body": {"bytes": encoded}}));
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].0, "spec.http[0].directResponse.body.bytes");
        assert!(
            refused[0]
                .1
                .starts_with("the body is 1048577 bytes, over Istio's limit of 1 MiB")
        );
    }

    #[test]
    fn severities() {
        let object = http(
            json!({"directResponse": {"status": 200, "body": {"string": "a".repeat(WARN_BYTES + 1)}}}),
        );
        let severities: Vec<_> =
            crate::rules::testing::summary(crate::rules::ObjectKind::VirtualService, &object)
                .into_iter()
                .map(|(_, _, severity)| severity)
                .collect();
        assert_eq!(severities, [Severity::Warning]);
    }
}
