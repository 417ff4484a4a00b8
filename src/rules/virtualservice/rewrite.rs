//! `virtualservice-rewrite`: an HTTP route's `rewrite` as Istio takes it: it rewrites something
//! (`uri`, `uriRegexRewrite` or `authority`), not the path twice, and a `uriRegexRewrite` has a
//! `match` in RE2 syntax and a `rewrite`.

use serde_json::Value;

use super::RouteRef;
use super::re2::Patterns;
use super::view::Blocks;
use crate::rules::{FieldPath, Finding, Rule, Severity};

const RULE: Rule = Rule::VirtualServiceRewrite;

fn error(path: FieldPath, message: impl Into<String>) -> Finding {
    Finding::new(RULE, Severity::Error, path, message)
}

/// Checks the rewrite of one HTTP route.
pub(super) fn route<'a>(
    owner: RouteRef<'a>,
    blocks: &Blocks<'a>,
    patterns: &mut Patterns<'a>,
    findings: &mut Vec<Finding>,
) {
    let Some(Value::Object(rewrite)) = blocks.rewrite else {
        return;
    };
    let at = || owner.path().field("rewrite");
    let set = |name: &str| {
        rewrite
            .get(name)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    let regex_rewrite = rewrite.get("uriRegexRewrite").filter(|v| !v.is_null());
    if set("uri") && regex_rewrite.is_some() {
        findings.push(error(
            at().field("uriRegexRewrite"),
            "uri and uriRegexRewrite both rewrite the path: keep one",
        ));
    }
    if !set("uri") && regex_rewrite.is_none() && !set("authority") {
        findings.push(error(
            at(),
            "a rewrite needs uri, uriRegexRewrite or authority: say what to rewrite, or remove rewrite",
        ));
    }
    let Some(Value::Object(regex_rewrite)) = regex_rewrite else {
        return;
    };
    let text = |name: &str| {
        regex_rewrite
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    for name in ["match", "rewrite"] {
        if text(name).is_empty() {
            findings.push(error(
                at().field("uriRegexRewrite").field(name),
                format!("uriRegexRewrite needs both match and rewrite: write its {name}"),
            ));
        }
    }
    if let Some(Value::String(pattern)) = regex_rewrite.get("match")
        && !pattern.is_empty()
        && let Some(message) = patterns.problem(pattern)
    {
        findings.push(error(at().field("uriRegexRewrite").field("match"), message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::virtualservice::http::testing::block_findings;
    use serde_json::json;

    fn check(rewrite: Value) -> Vec<(String, String)> {
        block_findings("virtualservice-rewrite", "rewrite", rewrite)
    }

    #[test]
    fn rewrites() {
        for good in [
            json!({"uri": "/v2"}),
            json!({"authority": "a.example"}),
            json!({"uriRegexRewrite": {"match": "^/service/([^/]+)(/.*)$", "rewrite": "\\2/instance/\\1"}}),
        ] {
            assert_eq!(check(good.clone()), [], "{good}");
        }
        assert_eq!(
            check(json!({})),
            [(
                "spec.http[0].rewrite".to_string(),
                "a rewrite needs uri, uriRegexRewrite or authority: say what to rewrite, or remove rewrite".to_string()
            )]
        );
        let paths: Vec<_> = check(json!({"uri": "/a", "uriRegexRewrite": {"match": "["}}))
            .into_iter()
            .map(|(path, _)| path)
            .collect();
        assert_eq!(
            paths,
            [
                "spec.http[0].rewrite.uriRegexRewrite",
                "spec.http[0].rewrite.uriRegexRewrite.rewrite",
                "spec.http[0].rewrite.uriRegexRewrite.match",
            ]
        );
    }
}
