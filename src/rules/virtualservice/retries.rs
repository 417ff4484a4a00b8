//! `virtualservice-retries`: an HTTP route's timeout and retry policy as Istio takes them:
//! durations of at least 1ms in whole milliseconds, attempts not negative and set wherever the
//! policy says anything else, and `retryOn` made of Envoy's retry conditions and HTTP status
//! codes.

use serde_json::Value;

use super::RouteRef;
use super::view::Blocks;
use crate::rules::durations;
use crate::rules::numbers::{IntType, Integer, integer};
use crate::rules::{FieldPath, Finding, Rule, Severity};

const RULE: Rule = Rule::VirtualServiceRetries;

/// The conditions of Envoy's `x-envoy-retry-on` and `x-envoy-retry-grpc-on`.
const RETRY_ON: [&str; 16] = [
    "5xx",
    "gateway-error",
    "reset",
    "reset-before-request",
    "connect-failure",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "envoy-ratelimited",
    "http3-post-connect-failure",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
];

fn error(path: FieldPath, message: impl Into<String>) -> Finding {
    Finding::new(RULE, Severity::Error, path, message)
}

/// Checks the timeout and the retry policy of one HTTP route.
pub(super) fn route(owner: RouteRef<'_>, blocks: &Blocks<'_>, findings: &mut Vec<Finding>) {
    if let Some(Value::String(timeout)) = blocks.timeout {
        timeout_problem(timeout, owner, findings);
    }
    let Some(Value::Object(retries)) = blocks.retries else {
        return;
    };
    let at = || owner.path().field("retries");
    let attempts = match retries
        .get("attempts")
        .map(|a| (a, integer(a, IntType::Int32)))
    {
        Some((_, Some(Integer::Value(n)))) => n,
        Some((value, Some(Integer::Outside | Integer::Fraction))) => {
            findings.push(error(
                at().field("attempts"),
                format!("attempts {value} is not an int32 whole number: write a count such as 3"),
            ));
            return;
        }
        // Unset, or not a number (the schema's business): Istio reads 0.
        _ => 0,
    };
    if attempts < 0 {
        findings.push(error(
            at().field("attempts"),
            format!("attempts {attempts} is negative: write 0 to turn retries off, or a count"),
        ));
    }
    let retry_on = retries
        .get("retryOn")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if attempts == 0 {
        let configured = ["perTryTimeout", "retryOn", "retryRemoteLocalities"]
            .into_iter()
            .find(|name| match retries.get(*name) {
                Some(Value::String(text)) if *name == "retryOn" => !text.is_empty(),
                Some(value) => !value.is_null(),
                None => false,
            });
        if let Some(name) = configured {
            findings.push(error(
                at().field("attempts"),
                format!(
                    "attempts is 0 (retries off) but {name} is set: set attempts, or remove {name}"
                ),
            ));
        }
    }
    for name in ["perTryTimeout", "backoff"] {
        if let Some(text) = retries.get(name).and_then(Value::as_str)
            && let Some(problem) = durations::problem(text)
        {
            findings.push(error(at().field(name), format!("{name}: {problem}")));
        }
    }
    if !retry_on.is_empty() {
        for condition in retry_on.split(',') {
            if !RETRY_ON.contains(&condition) && !is_status_code(condition) {
                findings.push(error(
                    at().field("retryOn"),
                    format!(
                        "`{condition}` is not a retry condition: use Envoy's (5xx, gateway-error, \
                         reset, connect-failure, retriable-4xx, ...) or an HTTP status code, \
                         separated by commas without spaces"
                    ),
                ));
            }
        }
    }
}

/// The route's `timeout`: Istio refuses one under 1ms, `0s` included, which Envoy would read as
/// no timeout; leaving the field out says that.
fn timeout_problem(timeout: &str, owner: RouteRef<'_>, findings: &mut Vec<Finding>) {
    // A valid timeout is read once; the zero case is told apart only on the error path.
    let Some(problem) = durations::problem(timeout) else {
        return;
    };
    let message = if durations::parse(timeout).is_some_and(|d| d.nanos() == 0) {
        format!(
            "timeout {timeout} is refused by Istio, which takes 1ms or more: leave timeout out \
             for no route timeout, or write one such as 15s"
        )
    } else {
        format!("timeout: {problem}")
    };
    findings.push(error(owner.path().field("timeout"), message));
}

/// An HTTP status code with a standard reason phrase (those Go's `net/http` names).
fn is_status_code(text: &str) -> bool {
    let Ok(code) = text.parse::<i32>() else {
        return false;
    };
    matches!(code,
        100..=103 | 200..=208 | 226 | 300..=305 | 307 | 308 | 400..=418 | 421..=426 | 428 | 429
        | 431 | 451 | 500..=508 | 510 | 511)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::virtualservice::http::testing::{block_findings, found, http};
    use serde_json::json;

    fn check(retries: Value) -> Vec<(String, String)> {
        block_findings("virtualservice-retries", "retries", retries)
    }

    #[test]
    fn valid_policies() {
        for retries in [
            json!({"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx,reset,503,cancelled"}),
            json!({"attempts": 0}),
            json!({"attempts": 10, "backoff": "25ms", "retryRemoteLocalities": true}),
        ] {
            assert_eq!(check(retries.clone()), [], "{retries}");
        }
    }

    #[test]
    fn route_timeouts() {
        let timeout = |text: &str| {
            found(&http(
                json!({"route": [{"destination": {"host": "r"}}], "timeout": text}),
            ))
        };
        assert_eq!(timeout("1.5s"), []);
        let row = |message: &str| {
            vec![(
                "virtualservice-retries".to_string(),
                "spec.http[0].timeout".to_string(),
                message.to_string(),
            )]
        };
        assert_eq!(
            timeout("0s"),
            row(
                "timeout 0s is refused by Istio, which takes 1ms or more: leave timeout out for \
                 no route timeout, or write one such as 15s"
            )
        );
        assert_eq!(
            timeout("1500us"),
            row(
                "timeout: 1500us is not a whole number of milliseconds, the precision Istio \
                 accepts: write 0.001s or more, in whole milliseconds"
            )
        );
    }

    #[test]
    fn invalid_policies() {
        let path = |field: &str| format!("spec.http[0].retries.{field}");
        assert_eq!(
            check(json!({"attempts": -1, "perTryTimeout": "2s"})),
            [(
                path("attempts"),
                "attempts -1 is negative: write 0 to turn retries off, or a count".to_string()
            )]
        );
        assert_eq!(
            check(json!({"retryRemoteLocalities": false})),
            [(path("attempts"), "attempts is 0 (retries off) but retryRemoteLocalities is set: set attempts, or remove retryRemoteLocalities".to_string())]
        );
        assert_eq!(
            check(json!({"attempts": 1, "perTryTimeout": "0.000000999s", "backoff": "1.5ms"})),
            [
                (path("perTryTimeout"), "perTryTimeout: 0.000000999s is shorter than 1ms, the least Istio accepts: write 0.001s or more, in whole milliseconds".to_string()),
                (path("backoff"), "backoff: 1.5ms is not a whole number of milliseconds, the precision Istio accepts: write 0.001s or more, in whole milliseconds".to_string()),
            ]
        );
        let bad: Vec<_> =
            check(json!({"attempts": 1, "retryOn": "600,connect-failure,invalid policy, 5xx"}))
                .into_iter()
                .map(|(path, message)| {
                    (
                        path,
                        message.split(' ').next().unwrap_or_default().to_string(),
                    )
                })
                .collect();
        assert_eq!(
            bad,
            [
                (path("retryOn"), "`600`".to_string()),
                (path("retryOn"), "`invalid".to_string()),
                (path("retryOn"), "`".to_string()),
            ]
        );
    }
}
