//! `virtualservice-fault`: fault injection as Istio takes it: an abort or a delay, percentages
//! of 0 or within 0.0001-100, an abort with an HTTP status from 200 to 600 or a gRPC status name
//! (HTTP/2 errors are not supported), and a fixed delay of at least 1ms in whole milliseconds.

use serde_json::{Map, Value};

use super::view::HttpRoute;
use crate::rules::durations;
use crate::rules::numbers::{IntType, Integer, double_text, integer};
use crate::rules::{Finding, Rule, Severity};

/// The gRPC status names an abort may return.
const GRPC_STATUSES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

fn field<'a>(map: &'a Map<String, Value>, name: &str) -> Option<(&'a str, &'a Value)> {
    map.get_key_value(name).map(|(k, v)| (k.as_str(), v))
}

fn error(path: crate::rules::FieldPath, message: impl Into<String>) -> Finding {
    Finding::new(Rule::VirtualServiceFault, Severity::Error, path, message)
}

/// Istio's percentage rule: 0, or within [0.0001, 100].
fn bad_percentage(value: f64) -> bool {
    value != 0.0 && !(0.0001..=100.0).contains(&value)
}

/// `percentage.value` of a fault part or a mirror, with the key as written.
pub(super) fn percentage_value(holder: &Map<String, Value>) -> Option<(&str, f64)> {
    let (key, percentage) = field(holder, "percentage")?;
    Some((key, percentage.get("value")?.as_f64()?))
}

/// Checks the fault injection of every HTTP route.
pub(super) fn faults(http: &[HttpRoute<'_>], findings: &mut Vec<Finding>) {
    for route in http {
        let Some(Value::Object(fault)) = &route.blocks.fault else {
            continue;
        };
        let fault_path = route.owner.path().field("fault");
        let abort = field(fault, "abort");
        let delay = field(fault, "delay");
        if abort.is_none() && delay.is_none() {
            findings.push(error(
                fault_path.clone(),
                "a fault needs an abort or a delay (or both)",
            ));
        }
        for (key, part) in [abort, delay].into_iter().flatten() {
            let Some(part) = part.as_object() else {
                continue;
            };
            if let Some((percentage_key, value)) = percentage_value(part)
                && bad_percentage(value)
            {
                findings.push(error(
                    fault_path.field(key).field(percentage_key).field("value"),
                    format!(
                        "percentage {} is neither 0 nor within 0.0001-100",
                        double_text(value)
                    ),
                ));
            }
        }
        if let Some((abort_key, Value::Object(abort))) = abort {
            abort_error(abort, &|| fault_path.field(abort_key), findings);
        }
        if let Some((delay_key, Value::Object(delay))) = delay {
            for name in ["fixedDelay", "exponentialDelay"] {
                let Some(text) = delay.get(name).and_then(Value::as_str) else {
                    continue;
                };
                let path = || fault_path.field(delay_key).field(name);
                if let Some(problem) = durations::problem(text) {
                    findings.push(error(path(), format!("{name}: {problem}")));
                }
                if name == "exponentialDelay" {
                    findings.push(error(
                        path(),
                        "exponentialDelay is not supported by Istio: write fixedDelay",
                    ));
                }
            }
        }
    }
}

/// The error an abort returns: one of `httpStatus`, `grpcStatus` (`http2Error` is not supported).
fn abort_error(
    abort: &Map<String, Value>,
    path: &dyn Fn() -> crate::rules::FieldPath,
    findings: &mut Vec<Finding>,
) {
    if let Some((status_key, status)) = field(abort, "httpStatus") {
        let message = match integer(status, IntType::Int32) {
            Some(Integer::Value(code)) if (200..=600).contains(&code) => None,
            Some(Integer::Value(_) | Integer::Outside) => {
                Some(format!("HTTP status {status} is outside 200-600"))
            }
            Some(Integer::Fraction) => Some(format!(
                "HTTP status {status} is not a whole number: write a status from 200 to 600"
            )),
            None => None,
        };
        if let Some(message) = message {
            findings.push(error(path().field(status_key), message));
        }
    } else if let Some((status_key, status)) = field(abort, "grpcStatus") {
        if let Some(status) = status.as_str()
            && !GRPC_STATUSES.contains(&status)
        {
            findings.push(error(
                path().field(status_key),
                format!(
                    "`{status}` is not a gRPC status name: write one such as UNAVAILABLE, \
                     NOT_FOUND or DEADLINE_EXCEEDED"
                ),
            ));
        }
    } else if let Some((key, _)) = field(abort, "http2Error") {
        findings.push(error(
            path().field(key),
            "http2Error aborts are not supported by Istio: abort with httpStatus or grpcStatus",
        ));
    } else {
        findings.push(Finding::new(
            Rule::VirtualServiceFault,
            Severity::Warning,
            path(),
            "the abort sets no httpStatus or grpcStatus, so it aborts nothing: set one",
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::virtualservice::http::testing::block_findings;
    use serde_json::{Value, json};

    fn check(fault: Value) -> Vec<(String, String)> {
        block_findings("virtualservice-fault", "fault", fault)
    }

    #[test]
    fn abort_errors() {
        for good in [
            json!({"abort": {"httpStatus": 600}}),
            json!({"abort": {"grpcStatus": "UNAVAILABLE", "percentage": {"value": 20}}}),
            json!({"delay": {"fixedDelay": "3s"}}),
        ] {
            assert_eq!(check(good.clone()), [], "{good}");
        }
        let at = |field: &str| format!("spec.http[0].fault.{field}");
        assert_eq!(
            check(json!({"abort": {"httpStatus": 601}})),
            [(
                at("abort.httpStatus"),
                "HTTP status 601 is outside 200-600".to_string()
            )]
        );
        assert_eq!(
            check(json!({"abort": {"grpcStatus": "BAD_STATUS"}})),
            [(
                at("abort.grpcStatus"),
                "`BAD_STATUS` is not a gRPC status name: write one such as UNAVAILABLE, NOT_FOUND \
                 or DEADLINE_EXCEEDED"
                    .to_string()
            )]
        );
        let paths: Vec<_> =
            check(json!({"abort": {"http2Error": "x"}, "delay": {"exponentialDelay": "1s"}}))
                .into_iter()
                .map(|(path, _)| path)
                .collect();
        assert_eq!(
            paths,
            [at("abort.http2Error"), at("delay.exponentialDelay")]
        );
    }

    #[test]
    fn delays_in_whole_milliseconds() {
        assert_eq!(
            check(json!({"delay": {"fixedDelay": "3.000000042s"}})),
            [(
                "spec.http[0].fault.delay.fixedDelay".to_string(),
                "fixedDelay: 3.000000042s is not a whole number of milliseconds, the precision \
                 Istio accepts: write 0.001s or more, in whole milliseconds"
                    .to_string()
            )]
        );
    }
}
