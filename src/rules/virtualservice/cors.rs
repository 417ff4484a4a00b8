//! `virtualservice-cors`: an HTTP route's CORS policy as Istio takes it: origins that match
//! something (an RE2 regex where they are one), HTTP methods, header names, and a `maxAge` in
//! whole seconds.

use serde_json::Value;

use super::RouteRef;
use super::matches::is_token_char;
use super::re2::Patterns;
use super::view::Blocks;
use crate::rules::durations;
use crate::rules::{FieldPath, Finding, Rule, Severity};

const RULE: Rule = Rule::VirtualServiceCors;

/// The methods a CORS policy may allow.
const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*",
];

fn error(path: FieldPath, message: impl Into<String>) -> Finding {
    Finding::new(RULE, Severity::Error, path, message)
}

fn list<'a>(policy: &'a serde_json::Map<String, Value>, name: &str) -> &'a [Value] {
    match policy.get(name) {
        Some(Value::Array(items)) => items,
        _ => &[],
    }
}

/// Checks the CORS policy of one HTTP route.
pub(super) fn route<'a>(
    owner: RouteRef<'a>,
    blocks: &Blocks<'a>,
    patterns: &mut Patterns<'a>,
    findings: &mut Vec<Finding>,
) {
    let Some(Value::Object(policy)) = blocks.cors else {
        return;
    };
    let at = || owner.path().field("corsPolicy");
    for (i, origin) in list(policy, "allowOrigins").iter().enumerate() {
        let Some(origin) = origin.as_object() else {
            continue;
        };
        let matched = ["exact", "prefix", "regex"]
            .into_iter()
            .find_map(|kind| Some((kind, origin.get(kind)?.as_str()?)));
        match matched {
            None | Some((_, "")) => findings.push(error(
                at().field("allowOrigins").index(i),
                "the origin is empty: write the origin to allow (exact, prefix or regex)",
            )),
            Some(("regex", pattern)) => {
                if let Some(message) = patterns.problem(pattern) {
                    findings.push(error(
                        at().field("allowOrigins").index(i).field("regex"),
                        message,
                    ));
                }
            }
            Some(_) => {}
        }
    }
    for (i, method) in list(policy, "allowMethods").iter().enumerate() {
        if let Some(method) = method.as_str()
            && !METHODS.contains(&method)
        {
            findings.push(error(
                at().field("allowMethods").index(i),
                format!(
                    "`{method}` is not an HTTP method CORS allows: write GET, HEAD, POST, PUT, \
                     PATCH, DELETE, CONNECT, OPTIONS, TRACE or *"
                ),
            ));
        }
    }
    for field in ["allowHeaders", "exposeHeaders"] {
        for (i, name) in list(policy, field).iter().enumerate() {
            let Some(name) = name.as_str() else {
                continue;
            };
            let message = if name.is_empty() {
                "header name is empty: name the header, or * for any".to_string()
            } else if name != "*" && !name.bytes().all(is_token_char) {
                format!(
                    "`{name}` is not a header name (letters, digits and !#$%&'*+-.^_`|~): write \
                     the header's name, or * for any"
                )
            } else {
                continue;
            };
            findings.push(error(at().field(field).index(i), message));
        }
    }
    if let Some(max_age) = policy.get("maxAge").and_then(Value::as_str) {
        let message = match durations::parse_nanos(max_age) {
            Some(nanos)
                if nanos % durations::SECOND != 0 && durations::problem(max_age).is_none() =>
            {
                Some(format!(
                    "maxAge {max_age} has a fraction of a second, which browsers do not take: \
                     write whole seconds"
                ))
            }
            _ => durations::problem(max_age).map(|problem| format!("maxAge: {problem}")),
        };
        if let Some(message) = message {
            findings.push(error(at().field("maxAge"), message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::virtualservice::http::testing::block_findings;
    use serde_json::json;

    fn check(policy: Value) -> Vec<(String, String)> {
        block_findings("virtualservice-cors", "corsPolicy", policy)
    }

    #[test]
    fn valid_policy() {
        let policy = json!({"allowOrigins": [{"exact": "https://a.example"}, {"regex": "https://.*\\.example"}],
            "allowMethods": ["GET", "*"], "allowHeaders": ["x-a", "*"], "exposeHeaders": ["x-b"], "maxAge": "24h"});
        assert_eq!(check(policy), []);
    }

    #[test]
    fn invalid_policy() {
        let policy = json!({"allowOrigins": [{"exact": ""}, {"regex": "("}], "allowMethods": ["PUTT"],
            "exposeHeaders": [""], "allowHeaders": ["a b"], "maxAge": "2.000000042s"});
        let paths: Vec<_> = check(policy).into_iter().map(|(path, _)| path).collect();
        assert_eq!(
            paths,
            [
                "spec.http[0].corsPolicy.allowOrigins[0]",
                "spec.http[0].corsPolicy.allowOrigins[1].regex",
                "spec.http[0].corsPolicy.allowMethods[0]",
                "spec.http[0].corsPolicy.allowHeaders[0]",
                "spec.http[0].corsPolicy.exposeHeaders[0]",
                "spec.http[0].corsPolicy.maxAge",
            ]
        );
        assert_eq!(
            check(json!({"maxAge": "1.5s"})),
            [(
                "spec.http[0].corsPolicy.maxAge".to_string(),
                "maxAge 1.5s has a fraction of a second, which browsers do not take: write whole seconds".to_string()
            )]
        );
    }
}
