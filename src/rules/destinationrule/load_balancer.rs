//! Load balancer settings (Istio's `validateLoadBalancer`): a consistent-hash cookie with a name
//! and distinct attribute names, one ring-size setting, a maglev table whose size is a prime
//! below 5000011, one of the locality and zone-aware settings (checked in `locality`), and a
//! well-formed warmup.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{Walk, field, locality, text};
use crate::rules::numbers::{IntType, Integer, integer};
use crate::rules::{FieldPath, Rule};

const RULE: Rule = Rule::DestinationRuleLoadBalancer;

/// Envoy's bound on a maglev table: sizes from here up are refused.
const MAGLEV_TABLE_LIMIT: i128 = 5_000_011;

/// Checks one `loadBalancer`; `has_outlier` says whether the same policy sets outlier
/// detection, which failover needs.
pub(super) fn check(
    walk: &mut Walk<'_>,
    balancer: &Map<String, Value>,
    path: &FieldPath,
    has_outlier: bool,
) {
    if let Some((key, Value::Object(hash))) = field(balancer, "consistentHash") {
        consistent_hash(walk, hash, &path.field(key));
    }
    let locality_lb = field(balancer, "localityLbSetting");
    let zone_aware = field(balancer, "zoneAwareLbSetting");
    if let (Some(_), Some((key, _))) = (locality_lb, zone_aware) {
        walk.error(
            RULE,
            path.field(key),
            "localityLbSetting and zoneAwareLbSetting cannot be set together: keep one",
        );
    }
    if let Some((key, Value::Object(setting))) = locality_lb {
        locality::locality_lb(walk, setting, &path.field(key), has_outlier);
    }
    if let Some((key, Value::Object(setting))) = zone_aware {
        locality::zone_aware(walk, setting, &path.field(key), has_outlier);
    }
    if let Some((key, Value::Object(warmup))) = field(balancer, "warmup") {
        self::warmup(walk, warmup, &path.field(key));
    }
}

fn consistent_hash(walk: &mut Walk<'_>, hash: &Map<String, Value>, path: &FieldPath) {
    if let Some((key, Value::Object(cookie))) = field(hash, "httpCookie") {
        let cookie_path = path.field(key);
        if text(cookie, "name").is_empty() {
            walk.error(
                RULE,
                cookie_path.field("name"),
                "the hash cookie needs a name: write the cookie's name",
            );
        }
        walk.duration(RULE, cookie, "ttl", &cookie_path, false);
        if let Some((key, Value::Array(attributes))) = field(cookie, "attributes") {
            let mut names: HashSet<&str> = HashSet::new();
            for (i, attribute) in attributes.iter().enumerate() {
                let Value::Object(attribute) = attribute else {
                    continue;
                };
                let name = text(attribute, "name");
                let name_path = || cookie_path.field(key).index(i).field("name");
                if name.is_empty() {
                    walk.error(
                        RULE,
                        name_path(),
                        "a cookie attribute needs a name, such as SameSite",
                    );
                } else if !names.insert(name) {
                    walk.error(
                        RULE,
                        name_path(),
                        format!("cookie attribute {name:?} is set twice: keep one"),
                    );
                }
            }
        }
    }
    let ring_size = field(hash, "minimumRingSize")
        .filter(|(_, v)| !matches!(integer(v, IntType::Uint64), Some(Integer::Value(0))));
    if let Some((key, _)) = ring_size
        && (field(hash, "ringHash").is_some() || field(hash, "maglev").is_some())
    {
        walk.error(
            RULE,
            path.field(key),
            "minimumRingSize cannot stand beside ringHash or maglev: remove it (or move it to \
             ringHash.minimumRingSize)",
        );
    }
    if let Some((key, Value::Object(maglev))) = field(hash, "maglev") {
        let size_path = path
            .field(key)
            .field(field(maglev, "tableSize").map_or("tableSize", |(k, _)| k));
        let size = match field(maglev, "tableSize") {
            None => Some(0),
            Some((_, value)) => match integer(value, IntType::Uint64) {
                Some(Integer::Value(n)) => Some(n),
                // Not a uint64: the schema's business.
                _ => None,
            },
        };
        let problem = match size {
            Some(0) => Some("maglev needs a tableSize: write a prime such as 65537".to_string()),
            Some(n) if n >= MAGLEV_TABLE_LIMIT => Some(format!(
                "maglev tableSize {n} is {MAGLEV_TABLE_LIMIT} or more: write a smaller prime such as 65537"
            )),
            Some(n) if !is_prime(n) => Some(format!(
                "maglev tableSize {n} is not a prime number: write a prime such as 65537"
            )),
            _ => None,
        };
        if let Some(problem) = problem {
            walk.error(RULE, size_path, problem);
        }
    }
}

/// Envoy's primality test for table sizes, which counts 1 as prime; only called below
/// [`MAGLEV_TABLE_LIMIT`], so the trial division stays under 1200 steps.
fn is_prime(n: i128) -> bool {
    if n < 1 {
        return false;
    }
    if n < 4 {
        return true;
    }
    if n % 2 == 0 {
        return false;
    }
    let mut factor = 3;
    while factor * factor <= n {
        if n % factor == 0 {
            return false;
        }
        factor += 2;
    }
    true
}

fn warmup(walk: &mut Walk<'_>, warmup: &Map<String, Value>, path: &FieldPath) {
    if field(warmup, "duration").is_none() {
        walk.error(
            RULE,
            path.field("duration"),
            "a warmup needs its duration: write one, such as 60s",
        );
    } else {
        walk.duration(RULE, warmup, "duration", path, true);
    }
    if let Some((key, Value::Number(percent))) = field(warmup, "minimumPercent")
        && percent.as_f64().is_some_and(|p| p > 100.0)
    {
        walk.error(
            RULE,
            path.field(key),
            format!("minimumPercent {percent} is more than 100: write 0 to 100"),
        );
    }
    if let Some((key, Value::Number(aggression))) = field(warmup, "aggression")
        && aggression.as_f64().is_some_and(|a| a <= 0.0)
    {
        walk.error(
            RULE,
            path.field(key),
            format!("aggression {aggression} is not above 0: write 1 for a linear ramp, or more"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::is_prime;
    use crate::rules::destinationrule::spec::tests::run;
    use serde_json::{Value, json};

    fn balancer(lb: Value) -> Vec<(String, String)> {
        run(json!({"host": "r", "trafficPolicy": {"loadBalancer": lb}}))
            .into_iter()
            .inspect(|f| assert_eq!(f.rule.to_string(), "destinationrule-load-balancer"))
            .map(|f| (f.path.to_string(), f.message))
            .collect()
    }

    #[test]
    fn consistent_hash_and_warmup() {
        let p = "spec.trafficPolicy.loadBalancer";
        assert_eq!(
            balancer(json!({"consistentHash": {"httpCookie": {"ttl": "1d", "attributes": [
                {"name": "SameSite"}, {"name": "SameSite"}, {"name": ""}]}}})),
            [
                (format!("{p}.consistentHash.httpCookie.name"), "the hash cookie needs a name: write the cookie's name".to_string()),
                (format!("{p}.consistentHash.httpCookie.ttl"), "\"1d\" is not a duration: write a number with a unit, such as \"5s\" or \"250ms\"".to_string()),
                (format!("{p}.consistentHash.httpCookie.attributes[1].name"), "cookie attribute \"SameSite\" is set twice: keep one".to_string()),
                (format!("{p}.consistentHash.httpCookie.attributes[2].name"), "a cookie attribute needs a name, such as SameSite".to_string()),
            ]
        );
        for (size, message) in [
            (
                json!(1000),
                "maglev tableSize 1000 is not a prime number: write a prime such as 65537",
            ),
            (
                json!(5_000_011),
                "maglev tableSize 5000011 is 5000011 or more: write a smaller prime such as 65537",
            ),
            (
                json!(u64::MAX),
                "maglev tableSize 18446744073709551615 is 5000011 or more: write a smaller prime such as 65537",
            ),
        ] {
            assert_eq!(
                balancer(
                    json!({"consistentHash": {"useSourceIp": true, "maglev": {"tableSize": size}}})
                ),
                [(
                    format!("{p}.consistentHash.maglev.tableSize"),
                    message.to_string()
                )]
            );
        }
        assert!(
            balancer(
                json!({"consistentHash": {"useSourceIp": true, "maglev": {"tableSize": 65537}}})
            )
            .is_empty()
        );
        assert_eq!(balancer(json!({"consistentHash": {"maglev": {}}})).len(), 1);
        assert_eq!(
            balancer(json!({"warmup": {"minimumPercent": 101, "aggression": 0}})),
            [
                (
                    format!("{p}.warmup.duration"),
                    "a warmup needs its duration: write one, such as 60s".to_string()
                ),
                (
                    format!("{p}.warmup.minimumPercent"),
                    "minimumPercent 101 is more than 100: write 0 to 100".to_string()
                ),
                (
                    format!("{p}.warmup.aggression"),
                    "aggression 0 is not above 0: write 1 for a linear ramp, or more".to_string()
                ),
            ]
        );
        assert!(
            balancer(
                json!({"warmup": {"duration": "60s", "minimumPercent": 10, "aggression": 1.5}})
            )
            .is_empty()
        );
        let primes: Vec<i128> = (0..30).filter(|n| is_prime(*n)).collect();
        assert_eq!(primes, [1, 2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
        assert!(is_prime(4_999_999) && !is_prime(4_999_997));
    }
}
