//! DestinationRule rules: the deprecated traffic-policy settings (converted), and Istio's own
//! validation of the object (`ValidateDestinationRule`), one module per part of the spec. Which
//! run, in which order: `rules::checks`.

mod connection_pool;
pub mod deprecated;

mod load_balancer;
mod locality;
mod outlier;
mod spec;
mod tls;
mod traffic_policy;

pub use deprecated::{Conversion, FIELDS, converts};
pub use spec::evaluate as evaluate_spec;

use serde_json::{Map, Value};

use super::durations::{self, Duration};
use super::numbers::{IntType, Integer, integer};
use super::{FieldPath, Finding, IstioVersion, Rule, Severity};
use crate::object::fields::lookup;

/// A field as protobuf JSON reads it: `null` is the same as absent.
fn field<'a>(map: &'a Map<String, Value>, camel: &str) -> Option<(&'a str, &'a Value)> {
    lookup(map, camel).filter(|(_, value)| !value.is_null())
}

/// A repeated field that holds something: protobuf JSON reads `[]` as unset.
fn non_empty_list<'a>(map: &'a Map<String, Value>, camel: &str) -> Option<(&'a str, &'a [Value])> {
    match field(map, camel) {
        Some((key, Value::Array(items))) if !items.is_empty() => Some((key, items.as_slice())),
        _ => None,
    }
}

/// A string field's text; `""` when absent, as Go reads an unset string.
fn text<'a>(map: &'a Map<String, Value>, camel: &str) -> &'a str {
    field(map, camel)
        .and_then(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// A bool field (or a `BoolValue` wrapper) that is `true`.
fn is_true(map: &Map<String, Value>, camel: &str) -> bool {
    field(map, camel).is_some_and(|(_, v)| v.as_bool() == Some(true))
}

/// The findings of one object, and what every check needs to know about it.
struct Walk<'a> {
    /// The object's namespace, when the request or the manifest says it.
    namespace: Option<&'a str>,
    /// The oldest Istio that reads the object (the policy's `minIstioVersion`).
    oldest: IstioVersion,
    findings: Vec<Finding>,
}

impl Walk<'_> {
    fn error(&mut self, rule: Rule, path: FieldPath, message: impl Into<String>) {
        self.findings
            .push(Finding::new(rule, Severity::Error, path, message.into()));
    }

    fn warning(&mut self, rule: Rule, path: FieldPath, message: impl Into<String>) {
        self.findings
            .push(Finding::new(rule, Severity::Warning, path, message.into()));
    }

    /// A check Istio added in `since`: an error when every Istio reading the object makes it,
    /// a warning (the next upgrade will refuse the object) while older ones still accept it.
    fn error_since(&mut self, since: IstioVersion, rule: Rule, path: FieldPath, message: String) {
        if self.oldest >= since {
            self.error(rule, path, message);
        } else {
            let oldest = self.oldest;
            self.warning(
                rule,
                path,
                format!(
                    "{message} (Istio {since} and later refuse this; minIstioVersion {oldest} \
                     still accepts it)"
                ),
            );
        }
    }

    /// A duration field: parsed (a string that is not a duration is an error), then, when
    /// `validated`, held to Istio's `ValidateDuration` (at least 1ms, whole milliseconds).
    fn duration(
        &mut self,
        rule: Rule,
        map: &Map<String, Value>,
        camel: &str,
        path: &FieldPath,
        validated: bool,
    ) -> Option<Duration> {
        let (key, Value::String(written)) = field(map, camel)? else {
            // Not a string: the schema's business.
            return None;
        };
        let Some(duration) = durations::parse(written) else {
            self.error(rule, path.field(key), durations::not_a_duration(written));
            return None;
        };
        if validated && let Some(why) = durations::validate(duration) {
            self.error(rule, path.field(key), why);
        }
        Some(duration)
    }

    /// An int32 count that must not be negative (Istio's `< 0` checks).
    fn non_negative(
        &mut self,
        rule: Rule,
        map: &Map<String, Value>,
        camel: &str,
        path: &FieldPath,
    ) {
        if let Some((key, value)) = field(map, camel)
            && let Some(Integer::Value(n)) = integer(value, IntType::Int32)
            && n < 0
        {
            self.error(
                rule,
                path.field(key),
                format!("{camel} {n} is negative: write 0 or more"),
            );
        }
    }

    /// An int32 percentage within 0-100 (Istio's `ValidatePercent`).
    fn percent(&mut self, rule: Rule, map: &Map<String, Value>, camel: &str, path: &FieldPath) {
        if let Some((key, value)) = field(map, camel)
            && let Some(Integer::Value(n)) = integer(value, IntType::Int32)
            && !(0..=100).contains(&n)
        {
            self.error(
                rule,
                path.field(key),
                format!("{camel} {n} is not a percentage: write 0 to 100"),
            );
        }
    }
}
