//! `virtualservice-redirect`: an HTTP route's `redirect` as Istio takes it: it changes something
//! (uri, prefixRewrite, authority, scheme or port), not the path twice, a `prefixRewrite` only
//! behind prefix URI matches, a 3xx code, an `http` or `https` scheme and a port.

use serde_json::Value;

use super::RouteRef;
use super::view::Blocks;
use crate::rules::numbers::{IntType, Integer, integer};
use crate::rules::{FieldPath, Finding, Rule, Severity};

const RULE: Rule = Rule::VirtualServiceRedirect;

fn error(path: FieldPath, message: impl Into<String>) -> Finding {
    Finding::new(RULE, Severity::Error, path, message)
}

/// Checks the redirect of one HTTP route.
pub(super) fn route(owner: RouteRef<'_>, blocks: &Blocks<'_>, findings: &mut Vec<Finding>) {
    let Some(Value::Object(redirect)) = blocks.redirect else {
        return;
    };
    let at = || owner.path().field("redirect");
    let text = |name: &str| {
        redirect
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let present = |name: &str| redirect.get(name).is_some_and(|v| !v.is_null());
    if !text("uri").is_empty() && !text("prefixRewrite").is_empty() {
        findings.push(error(
            at().field("prefixRewrite"),
            "uri and prefixRewrite both set the path: keep one",
        ));
    }
    if !text("prefixRewrite").is_empty()
        && let Some(Value::Array(requests)) = blocks.matches
    {
        for (m, request) in requests.iter().enumerate() {
            if let Some(Value::Object(uri)) = request.get("uri")
                && !uri.contains_key("prefix")
            {
                findings.push(error(
                    owner.path().field("match").index(m).field("uri"),
                    "redirect.prefixRewrite replaces a matched prefix, and this URI match is not \
                     a prefix: match with prefix, or redirect with uri",
                ));
            }
        }
    }
    if ["uri", "prefixRewrite", "authority", "scheme"]
        .iter()
        .all(|n| text(n).is_empty())
        && !present("port")
        && !present("derivePort")
    {
        findings.push(error(
            at(),
            "a redirect needs uri, prefixRewrite, authority, scheme or port: say where to send \
             the client",
        ));
    }
    if let Some(code) = redirect.get("redirectCode") {
        let valid = match integer(code, IntType::Uint32) {
            Some(Integer::Value(n)) => n == 0 || (300..=399).contains(&n),
            Some(Integer::Outside | Integer::Fraction) => false,
            None => true,
        };
        if !valid {
            findings.push(error(
                at().field("redirectCode"),
                format!("redirect code {code} is not 3xx: write 301, 302, 303, 307 or 308"),
            ));
        }
    }
    let scheme = text("scheme");
    if !matches!(scheme, "" | "http" | "https") {
        findings.push(error(
            at().field("scheme"),
            format!("scheme `{scheme}` is neither http nor https: write one of them"),
        ));
    }
    if let Some(port) = redirect.get("port")
        && let Some(Integer::Value(n)) = integer(port, IntType::Uint32)
        && n > 65535
    {
        findings.push(error(
            at().field("port"),
            format!("port {n} is outside 1-65535"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::virtualservice::http::testing::findings_of;
    use serde_json::json;

    fn check(route: Value) -> Vec<(String, String)> {
        findings_of("virtualservice-redirect", route)
    }

    #[test]
    fn redirects() {
        for good in [
            json!({"uri": "/v2", "redirectCode": 308}),
            json!({"scheme": "https"}),
            json!({"port": 8443}),
            json!({"derivePort": "FROM_REQUEST_PORT"}),
        ] {
            assert_eq!(check(json!({"redirect": good})), [], "{good}");
        }
        assert_eq!(
            check(json!({"redirect": {}})),
            [(
                "spec.http[0].redirect".to_string(),
                "a redirect needs uri, prefixRewrite, authority, scheme or port: say where to send the client".to_string()
            )]
        );
        assert_eq!(
            check(json!({"redirect": {"uri": "t", "redirectCode": 299}})),
            [(
                "spec.http[0].redirect.redirectCode".to_string(),
                "redirect code 299 is not 3xx: write 301, 302, 303, 307 or 308".to_string()
            )]
        );
        let paths: Vec<_> = check(
            json!({"match": [{"uri": {"prefix": "/a"}}, {"uri": {"exact": "/b"}}],
            "redirect": {"uri": "/old", "prefixRewrite": "/new", "scheme": "ftp", "port": 70000}}),
        )
        .into_iter()
        .map(|(path, _)| path)
        .collect();
        assert_eq!(
            paths,
            [
                "spec.http[0].redirect.prefixRewrite",
                "spec.http[0].match[1].uri",
                "spec.http[0].redirect.scheme",
                "spec.http[0].redirect.port",
            ]
        );
    }
}
