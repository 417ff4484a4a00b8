//! `virtualservice-match`: the conditions of HTTP matches as Envoy takes them: header names,
//! string matches that are not empty (`prefix` and `regex`, and for `uri` the regex only), RE2
//! regexes, and JWT-claim conditions (`@request.auth.claims...`) only where a gateway
//! authenticates. TLS matches are `tls_match`.

use serde_json::{Map, Value};

use super::RouteRef;
use super::match_source::{self, MatchKind};
use super::re2::Patterns;
use super::view::Blocks;
use crate::rules::{FieldPath, Finding, Rule, Severity};

const RULE: Rule = Rule::VirtualServiceMatch;

/// The prefix of a header name that routes on a JWT claim.
const JWT_CLAIM: &str = "@request.auth.claims";

/// The HTTP/2 pseudo-headers a match may name.
const PSEUDO_HEADERS: [&str; 5] = [":method", ":scheme", ":authority", ":path", ":status"];

fn error(path: FieldPath, message: impl Into<String>) -> Finding {
    Finding::new(RULE, Severity::Error, path, message)
}

/// Checks the match conditions of one HTTP route. `gateway_only`: the VirtualService is bound
/// to gateways and not to `mesh`, so JWT claims can be routed on.
pub(super) fn route<'a>(
    owner: RouteRef<'a>,
    blocks: &Blocks<'a>,
    gateway_only: bool,
    patterns: &mut Patterns<'a>,
    findings: &mut Vec<Finding>,
) {
    let Some(Value::Array(requests)) = blocks.matches else {
        return;
    };
    for (m, request) in requests.iter().enumerate() {
        let Some(request) = request.as_object() else {
            continue;
        };
        let at = || owner.path().field("match").index(m);
        match_source::request(request, &at, MatchKind::Http, findings);
        // One pass over the request's fields: each lookup of an absent one costs as much.
        for (field, value) in request {
            let Value::Object(value) = value else {
                continue;
            };
            let path = || at().field(field);
            match field.as_str() {
                "headers" | "withoutHeaders" => {
                    header_conditions(field, value, &path, gateway_only, patterns, findings);
                }
                // Envoy matches every path on an empty uri prefix, and Istio allows it.
                "uri" => string_match(value, false, &path, patterns, findings),
                "scheme" | "method" | "authority" => {
                    string_match(value, true, &path, patterns, findings);
                }
                "queryParams" => {
                    for (name, condition) in value {
                        if let Some(condition) = condition.as_object() {
                            let path = || path().key(name);
                            string_match(condition, true, &path, patterns, findings);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// The conditions of `headers` or `withoutHeaders` (`field`) of one match.
fn header_conditions<'a>(
    field: &str,
    headers: &'a Map<String, Value>,
    at: &dyn Fn() -> FieldPath,
    gateway_only: bool,
    patterns: &mut Patterns<'a>,
    findings: &mut Vec<Finding>,
) {
    for (name, condition) in headers {
        let path = || at().key(name);
        let claim = is_jwt_claim(name);
        if !claim && let Some(message) = header_name_problem(name) {
            findings.push(error(path(), message));
        }
        if claim && !gateway_only {
            findings.push(error(
                path(),
                format!(
                    "`{name}` routes on a JWT claim, which only gateways do: bind the \
                     VirtualService to a gateway (without mesh), or match on a header"
                ),
            ));
        }
        let Some(condition) = condition.as_object() else {
            continue;
        };
        // In withoutHeaders, `regex: "*"` is Istio's "header present", not a regex.
        if field == "withoutHeaders" && condition.get("regex").and_then(Value::as_str) == Some("*")
        {
            continue;
        }
        string_match(condition, true, &path, patterns, findings);
    }
}

/// Istio's reading of a header name as a JWT claim: the prefix (any case) followed by
/// `.claim[.nested]` or `[claim][nested]`.
pub(super) fn is_jwt_claim(name: &str) -> bool {
    let Some(rest) = name
        .get(..JWT_CLAIM.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(JWT_CLAIM))
        .map(|_| &name[JWT_CLAIM.len()..])
    else {
        return false;
    };
    (rest.len() > 1 && rest.starts_with('.'))
        || (rest.len() > 2 && rest.starts_with('[') && rest.ends_with(']'))
}

/// An RFC 7230 token character, of which header names are made.
pub(super) fn is_token_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

fn header_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("header name is empty: name the header".into());
    }
    if PSEUDO_HEADERS.contains(&name) || name.bytes().all(is_token_char) {
        return None;
    }
    Some(format!(
        "`{name}` is not a header name (letters, digits and !#$%&'*+-.^_`|~): write the header's name"
    ))
}

/// A `StringMatch` (`exact`, `prefix` or `regex`). `prefix_must_be_set`: Envoy refuses an empty
/// prefix on every field but `uri`. An empty `regex` is refused everywhere.
fn string_match<'a>(
    condition: &'a Map<String, Value>,
    prefix_must_be_set: bool,
    path: &dyn Fn() -> FieldPath,
    patterns: &mut Patterns<'a>,
    findings: &mut Vec<Finding>,
) {
    for (kind, value) in condition {
        match (kind.as_str(), value.as_str()) {
            ("prefix", Some("")) if prefix_must_be_set => findings.push(error(
                path().field(kind),
                "the prefix is empty, which Envoy refuses here: write a prefix, or leave the \
                 condition out to match any value",
            )),
            ("regex", Some("")) => findings.push(error(
                path().field(kind),
                "the regex is empty, which Envoy refuses: write a pattern, or leave the \
                 condition out",
            )),
            ("regex", Some(pattern)) => {
                if let Some(message) = patterns.problem(pattern) {
                    findings.push(error(path().field(kind), message));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::virtualservice::http::testing::{found, http, vs};
    use serde_json::json;

    fn with_match(request: Value) -> Value {
        http(json!({"route": [{"destination": {"host": "r"}}], "match": [request]}))
    }

    #[test]
    fn header_names() {
        assert!(is_jwt_claim("@request.auth.claims.group"));
        assert!(is_jwt_claim("@Request.Auth.Claims[a][b]"));
        assert!(!is_jwt_claim("@request.auth.claims."));
        assert!(!is_jwt_claim("@request.auth.claims[]"));
        for good in ["x-tenant", ":authority", "X_Y~", "Content-Type"] {
            assert_eq!(header_name_problem(good), None, "{good}");
        }
        assert_eq!(
            found(&with_match(
                json!({"headers": {"::": {"exact": "t"}, "illegal\"char": {"exact": "t"}}})
            )),
            [
                (
                    "virtualservice-match".to_string(),
                    "spec.http[0].match[0].headers[::]".to_string(),
                    "`::` is not a header name (letters, digits and !#$%&'*+-.^_`|~): write the \
                     header's name"
                        .to_string()
                ),
                (
                    "virtualservice-match".to_string(),
                    "spec.http[0].match[0].headers[illegal\"char]".to_string(),
                    "`illegal\"char` is not a header name (letters, digits and !#$%&'*+-.^_`|~): \
                     write the header's name"
                        .to_string()
                ),
            ]
        );
    }

    #[test]
    fn empty_and_invalid_string_matches() {
        let request = json!({"uri": {"prefix": ""}, "method": {"prefix": ""},
            "queryParams": {"q": {"regex": "["}}, "scheme": {"regex": ""},
            "withoutHeaders": {"x-a": {"regex": "*"}, "x-b": {"regex": "?"}}});
        let paths: Vec<_> = found(&with_match(request))
            .into_iter()
            .map(|(rule, path, _)| {
                assert_eq!(rule, "virtualservice-match");
                path
            })
            .collect();
        assert_eq!(
            paths,
            [
                "spec.http[0].match[0].method.prefix",
                "spec.http[0].match[0].queryParams.q.regex",
                "spec.http[0].match[0].scheme.regex",
                "spec.http[0].match[0].withoutHeaders[x-b].regex",
            ]
        );
    }

    #[test]
    fn jwt_claims_only_on_gateways() {
        let claim = json!({"headers": {"@request.auth.claims.foo": {"exact": "bar"}}});
        let route = json!({"route": [{"destination": {"host": "r"}}], "match": [claim]});
        for gateways in [json!([]), json!(["mesh"]), json!(["gw", "mesh"])] {
            let object = vs(json!({"hosts": ["r"], "gateways": gateways, "http": [route]}));
            let rows: Vec<_> = found(&object).into_iter().map(|(r, p, _)| (r, p)).collect();
            assert_eq!(
                rows,
                [(
                    "virtualservice-match".to_string(),
                    "spec.http[0].match[0].headers[@request.auth.claims.foo]".to_string()
                )],
                "{gateways}"
            );
        }
        let object = vs(json!({"hosts": ["r"], "gateways": ["gw"], "http": [route]}));
        assert_eq!(found(&object), []);
    }
}
