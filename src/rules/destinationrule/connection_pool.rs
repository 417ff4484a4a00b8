//! Connection pool settings (Istio's `validateConnectionPool`): at least one of `tcp` and
//! `http`, no negative limits, timeouts of at least 1ms in whole milliseconds, and an HTTP/2
//! keepalive with both its interval and its timeout.

use serde_json::{Map, Value};

use super::{Walk, field, is_true, text};
use crate::rules::durations;
use crate::rules::{FieldPath, IstioVersion, Rule};

const RULE: Rule = Rule::DestinationRuleConnectionPool;

/// Since when Istio refuses `useClientProtocol` beside `h2UpgradePolicy: UPGRADE`.
const CLIENT_PROTOCOL_SINCE: IstioVersion = IstioVersion::new(1, 8);

/// Since when Istio accepts a TCP idle timeout of 0s, meaning none (older releases hold it to
/// the 1ms minimum like every other duration).
const IDLE_OFF_SINCE: IstioVersion = IstioVersion::new(1, 26);

/// Checks one `connectionPool`.
pub(super) fn check(walk: &mut Walk<'_>, pool: &Map<String, Value>, path: &FieldPath) {
    let http = field(pool, "http");
    let tcp = field(pool, "tcp");
    if http.is_none() && tcp.is_none() {
        walk.error(
            RULE,
            path.clone(),
            "the connection pool sets nothing: write tcp or http limits, or remove it",
        );
        return;
    }
    if let Some((key, Value::Object(http))) = http {
        self::http(walk, http, &path.field(key));
    }
    if let Some((key, Value::Object(tcp))) = tcp {
        self::tcp(walk, tcp, &path.field(key));
    }
}

fn http(walk: &mut Walk<'_>, http: &Map<String, Value>, path: &FieldPath) {
    for count in [
        "http1MaxPendingRequests",
        "http2MaxRequests",
        "maxRequestsPerConnection",
        "maxRetries",
        "maxConcurrentStreams",
    ] {
        walk.non_negative(RULE, http, count, path);
    }
    walk.duration(RULE, http, "idleTimeout", path, true);
    if text(http, "h2UpgradePolicy") == "UPGRADE" && is_true(http, "useClientProtocol") {
        walk.error_since(
            CLIENT_PROTOCOL_SINCE,
            RULE,
            path.field("useClientProtocol"),
            "useClientProtocol keeps the client's protocol, and h2UpgradePolicy UPGRADE \
             upgrades it to HTTP/2: keep one"
                .into(),
        );
    }
    if let Some((key, Value::Object(keepalive))) = field(http, "http2KeepAlive") {
        let keepalive_path = path.field(key);
        for required in ["interval", "timeout"] {
            if field(keepalive, required).is_none() {
                walk.error(
                    RULE,
                    keepalive_path.field(required),
                    format!("an HTTP/2 keepalive needs its {required}: write one, such as 30s"),
                );
            } else {
                walk.duration(RULE, keepalive, required, &keepalive_path, true);
            }
        }
    }
}

fn tcp(walk: &mut Walk<'_>, tcp: &Map<String, Value>, path: &FieldPath) {
    walk.non_negative(RULE, tcp, "maxConnections", path);
    walk.duration(RULE, tcp, "connectTimeout", path, true);
    walk.duration(RULE, tcp, "maxConnectionDuration", path, true);
    // An idle timeout of 0s turns the timeout off (since 1.26): Istio checks only the others.
    if let Some(idle) = walk.duration(RULE, tcp, "idleTimeout", path, false)
        && let Some(why) = durations::check(idle)
    {
        let path = path.field(field(tcp, "idleTimeout").map_or("idleTimeout", |(k, _)| k));
        if !durations::is_zero_millis(idle) {
            walk.error(
                RULE,
                path,
                format!("{why}: write 0s (no timeout), or 0.001s or more in whole milliseconds"),
            );
        } else if walk.oldest < IDLE_OFF_SINCE {
            let oldest = walk.oldest;
            walk.error(
                RULE,
                path,
                format!(
                    "{why}: Istio before {IDLE_OFF_SINCE} refuses it, and minIstioVersion is \
                     {oldest}: write 0.001s or more, or leave idleTimeout out"
                ),
            );
        }
    }
    if let Some((key, Value::Object(keepalive))) = field(tcp, "tcpKeepalive") {
        let keepalive_path = path.field(key);
        walk.duration(RULE, keepalive, "time", &keepalive_path, true);
        walk.duration(RULE, keepalive, "interval", &keepalive_path, true);
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::Severity;
    use crate::rules::destinationrule::spec::tests::run;
    use serde_json::json;

    fn pool(pool: serde_json::Value) -> Vec<(String, String)> {
        run(json!({"host": "r", "trafficPolicy": {"connectionPool": pool}}))
            .into_iter()
            .inspect(|f| {
                assert_eq!(f.rule.to_string(), "destinationrule-connection-pool");
                assert_eq!(f.severity, Severity::Error);
            })
            .map(|f| (f.path.to_string(), f.message))
            .collect()
    }

    #[test]
    fn limits_durations_and_keepalives() {
        let p = "spec.trafficPolicy.connectionPool";
        assert_eq!(
            pool(json!({})),
            [(
                p.to_string(),
                "the connection pool sets nothing: write tcp or http limits, or remove it"
                    .to_string()
            )]
        );
        assert_eq!(
            pool(json!({"tcp": {"maxConnections": -1, "connectTimeout": "2.000000005s", "idleTimeout": "0s"},
                        "http": {"maxRetries": -3, "http2KeepAlive": {"interval": "1 minute"}}})),
            [
                (format!("{p}.http.maxRetries"), "maxRetries -3 is negative: write 0 or more".to_string()),
                (format!("{p}.http.http2KeepAlive.interval"),
                 "\"1 minute\" is not a duration: write a number with a unit, such as \"5s\" or \"250ms\"".to_string()),
                (format!("{p}.http.http2KeepAlive.timeout"), "an HTTP/2 keepalive needs its timeout: write one, such as 30s".to_string()),
                (format!("{p}.tcp.maxConnections"), "maxConnections -1 is negative: write 0 or more".to_string()),
                (format!("{p}.tcp.connectTimeout"),
                 "2.000000005s is not a whole number of milliseconds, the precision Istio accepts: write 0.001s or more, in whole milliseconds".to_string()),
            ]
        );
        assert_eq!(
            pool(json!({"tcp": {"idleTimeout": "0.0005001s"}})),
            Vec::<(String, String)>::new(),
            "below 1ms is read as 0ms, no timeout"
        );
        assert_eq!(pool(json!({"tcp": {"idleTimeout": "1.0005s"}})).len(), 1);
        assert_eq!(
            pool(json!({"http": {"h2UpgradePolicy": "UPGRADE", "useClientProtocol": true}}))[0].0,
            format!("{p}.http.useClientProtocol")
        );
        assert!(
            pool(json!({"tcp": {"connectTimeout": "0.001s", "tcpKeepalive": {"time": "7200s"}}}))
                .is_empty()
        );
    }
}
