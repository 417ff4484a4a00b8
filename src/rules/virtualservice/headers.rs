//! `virtualservice-headers`: the header operations of HTTP routes and of their destinations
//! (`headers.request` and `headers.response`: `set`, `add`, `remove`) as Envoy takes them, and
//! the request authority set in one place only.

use serde_json::{Map, Value};

use super::RouteRef;
use super::view::Blocks;
use crate::rules::{FieldPath, Finding, Rule, Severity};

const RULE: Rule = Rule::VirtualServiceHeaders;

/// Checks the header operations of one HTTP route and of its destinations.
pub(super) fn route(owner: RouteRef<'_>, blocks: &Blocks<'_>, findings: &mut Vec<Finding>) {
    if let Some(Value::Object(headers)) = blocks.headers {
        operations(headers, &|| owner.path().field("headers"), findings);
    }
    authority(owner, blocks, findings);
    if let Some(Value::Array(entries)) = blocks.route {
        for (j, entry) in entries.iter().enumerate() {
            if let Some(Value::Object(headers)) = entry.get("headers") {
                let base = || owner.path().field("route").index(j).field("headers");
                operations(headers, &base, findings);
            }
        }
    }
}

fn error(path: FieldPath, message: impl Into<String>) -> Finding {
    Finding::new(RULE, Severity::Error, path, message)
}

fn operations(
    headers: &Map<String, Value>,
    base: &dyn Fn() -> FieldPath,
    findings: &mut Vec<Finding>,
) {
    for (direction, request) in [("request", true), ("response", false)] {
        let Some(Value::Object(operations)) = headers.get(direction) else {
            continue;
        };
        for operation in ["set", "add"] {
            let Some(Value::Object(values)) = operations.get(operation) else {
                continue;
            };
            for (name, value) in values {
                let path = || base().field(direction).field(operation).key(name);
                if let Some(message) = name_problem(name, request) {
                    findings.push(error(path(), message));
                }
                if let Some(message) = value.as_str().and_then(value_problem) {
                    findings.push(error(path(), message));
                }
            }
        }
        if let Some(Value::Array(names)) = operations.get("remove") {
            for (k, name) in names.iter().enumerate() {
                if let Some(message) = name.as_str().and_then(|n| name_problem(n, false)) {
                    findings.push(error(
                        base().field(direction).field("remove").index(k),
                        message,
                    ));
                }
            }
        }
    }
}

/// `:authority` or `host`, either of which sets the request's authority.
fn is_authority(name: &str) -> bool {
    name.eq_ignore_ascii_case(":authority") || name.eq_ignore_ascii_case("host")
}

/// Why a header cannot be set, added or removed; `sets_request` is true for `request.set` and
/// `request.add`, the only operations that may write the authority.
fn name_problem(name: &str, sets_request: bool) -> Option<String> {
    if name.is_empty() {
        return Some("header name is empty: name the header".into());
    }
    if sets_request && is_authority(name) {
        return None;
    }
    if name.eq_ignore_ascii_case("host") {
        return Some(format!(
            "`{name}` cannot be removed or set on responses: set the authority in request.set or rewrite.authority"
        ));
    }
    if name.starts_with(':') {
        return Some(format!(
            "`{name}` is a pseudo-header, which routes cannot change: name a regular header"
        ));
    }
    None
}

/// Why Envoy refuses a header value, if it does: a control character, or `%` that neither
/// escapes another `%` nor opens a `%VARIABLE%` or `%VARIABLE(args)%` that is closed.
fn value_problem(value: &str) -> Option<String> {
    if value
        .bytes()
        .any(|b| b <= 0x08 || (0x0a..=0x1f).contains(&b) || b == 0x7f)
    {
        return Some("header value holds a control character: remove it".into());
    }
    let reason = envoy_format_problem(value.as_bytes())?;
    Some(format!(
        "header value: {reason}: write `%%` for a literal %, or a closed %VARIABLE% for an Envoy variable"
    ))
}

/// Where Envoy's parser of header value formats is while reading a value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Literal,
    VariableName,
    ArgsStart,
    ArgString,
    ArgDelimiterOrEnd,
    ArgsEnd,
    VariableEnd,
    Quoted,
}

/// Envoy's reading of a header value format (`header_parser.cc`), as Istio checks it.
fn envoy_format_problem(value: &[u8]) -> Option<&'static str> {
    let mut state = State::Literal;
    let mut i = 0;
    while i < value.len() {
        let byte = value[i];
        let next = value.get(i + 1).copied();
        state = match (state, byte) {
            (State::Literal, b'%') => match next {
                None => return Some("a `%` ends the value unescaped"),
                Some(b'%') => {
                    i += 1;
                    State::Literal
                }
                Some(_) => State::VariableName,
            },
            (State::Literal, _) => State::Literal,
            (State::VariableName, b'%') => State::Literal,
            (State::VariableName, b'(') => State::ArgsStart,
            (State::VariableName, _) => State::VariableName,
            (State::ArgsStart, b'[') => State::ArgString,
            (State::ArgsStart, b' ') => State::ArgsStart,
            (State::ArgsStart, _) => State::Quoted,
            (State::ArgDelimiterOrEnd, b',') => State::ArgString,
            (State::ArgDelimiterOrEnd, b']') => State::ArgsEnd,
            (State::ArgDelimiterOrEnd, b' ') => State::ArgDelimiterOrEnd,
            (State::ArgDelimiterOrEnd, _) => {
                return Some("a variable's argument list expects `,` or `]`");
            }
            (State::ArgString, b'"') => State::Quoted,
            (State::ArgString, b' ') => State::ArgString,
            (State::ArgString, _) => return Some("a variable's argument expects `\"`"),
            (State::Quoted, b'\\') => {
                if next.is_none() {
                    return Some("a backslash ends a variable's argument");
                }
                i += 1;
                State::Quoted
            }
            (State::Quoted, b')') => State::VariableEnd,
            (State::Quoted, b'"') => State::ArgDelimiterOrEnd,
            (State::Quoted, _) => State::Quoted,
            (State::ArgsEnd, b')') => State::VariableEnd,
            (State::ArgsEnd, b' ') => State::ArgsEnd,
            (State::ArgsEnd, _) => return Some("a variable's arguments expect `)`"),
            (State::VariableEnd, b'%') => State::Literal,
            (State::VariableEnd, b' ') => State::VariableEnd,
            (State::VariableEnd, _) => return Some("a variable expects its closing `%`"),
        };
        i += 1;
    }
    (state != State::Literal).then_some("a `%` opens a variable that is not closed")
}

/// The request authority is set by `rewrite.authority` or an authority header in
/// `headers.request` (`set`, then `add`); Istio refuses a second one.
fn authority(owner: RouteRef<'_>, blocks: &Blocks<'_>, findings: &mut Vec<Finding>) {
    let mut current = blocks
        .rewrite
        .and_then(|r| r.get("authority"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(Value::Object(request)) = blocks.headers.and_then(|h| h.get("request")) else {
        return;
    };
    for operation in ["set", "add"] {
        let Some(Value::Object(values)) = request.get(operation) else {
            continue;
        };
        for (name, value) in values {
            if !is_authority(name) {
                continue;
            }
            if !current.is_empty() {
                findings.push(error(
                    owner
                        .path()
                        .field("headers")
                        .field("request")
                        .field(operation)
                        .key(name),
                    format!(
                        "the authority is already set to `{current}` (by rewrite.authority or another header): set it in one place"
                    ),
                ));
                return;
            }
            current = value.as_str().unwrap_or_default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::virtualservice::http::testing::{found, http};
    use serde_json::json;

    #[test]
    fn values_follow_envoys_format() {
        for good in [
            "foo",
            "%HOSTNAME%",
            "100%%",
            "prefix %HOSTNAME% suffix",
            "%REQ(x-a)%",
            "%START_TIME(%s)%",
            "%PER_REQUEST_STATE([\"a\", \"b\"])%",
            "",
        ] {
            assert_eq!(value_problem(good), None, "{good}");
        }
        for bad in [
            "abc%123",
            "%START_TIME%%",
            "%",
            "a\u{1}b",
            "%VAR([a])%",
            "%VAR(x) y%",
        ] {
            assert!(value_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(
            value_problem("abc%123").as_deref(),
            Some(
                "header value: a `%` opens a variable that is not closed: write `%%` for a \
                 literal %, or a closed %VARIABLE% for an Envoy variable"
            )
        );
    }

    #[test]
    fn names_per_operation() {
        let route = json!({"route": [{"destination": {"host": "r"},
            "headers": {"response": {"add": {"": "v"}, "remove": ["host"]}}}],
            "headers": {"request": {"set": {":path": "/", "host": "a"}, "remove": [":authority"]},
                        "response": {"set": {"x": "abcd%oij"}}}});
        let paths: Vec<_> = found(&http(route))
            .into_iter()
            .map(|(rule, path, _)| {
                assert_eq!(rule, "virtualservice-headers");
                path
            })
            .collect();
        assert_eq!(
            paths,
            [
                "spec.http[0].headers.request.set[:path]",
                "spec.http[0].headers.request.remove[0]",
                "spec.http[0].headers.response.set.x",
                "spec.http[0].route[0].headers.response.add[]",
                "spec.http[0].route[0].headers.response.remove[0]",
            ]
        );
    }

    #[test]
    fn the_authority_is_set_once() {
        let route = json!({"route": [{"destination": {"host": "r"}}],
            "rewrite": {"authority": "bar"}, "headers": {"request": {"set": {":authority": "foo"}}}});
        assert_eq!(
            found(&http(route)),
            [(
                "virtualservice-headers".to_string(),
                "spec.http[0].headers.request.set[:authority]".to_string(),
                "the authority is already set to `bar` (by rewrite.authority or another header): \
                 set it in one place"
                    .to_string()
            )]
        );
        let once = json!({"route": [{"destination": {"host": "r"}}],
            "headers": {"request": {"set": {"Host": "foo"}}}});
        assert_eq!(found(&http(once)), []);
    }
}
