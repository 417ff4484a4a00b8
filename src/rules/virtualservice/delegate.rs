//! `virtualservice-delegate`: delegation (`http[].delegate`, Istio 1.8 and later). A
//! VirtualService without hosts is a delegate, attached by another one's `delegate`; a route
//! that delegates hands its requests over whole, so it has no destinations or redirect of its
//! own, and a delegate does not delegate again.

use super::RouteRef;
use super::view::Blocks;
use crate::rules::{FieldPath, Finding, IstioVersion, Rule, Severity, Subject};

const RULE: Rule = Rule::VirtualServiceDelegate;

/// The first release that takes delegate VirtualServices (without hosts).
pub const DELEGATES_SINCE: IstioVersion = IstioVersion::new(1, 8);

fn error(path: FieldPath, message: impl Into<String>) -> Finding {
    Finding::new(RULE, Severity::Error, path, message)
}

/// A VirtualService without hosts where an older release may still run.
pub(super) fn spec(subject: &Subject<'_>, hostless: bool, findings: &mut Vec<Finding>) {
    let oldest = subject.min_istio_version;
    if hostless && oldest < DELEGATES_SINCE {
        findings.push(error(
            FieldPath::fields("spec.hosts"),
            format!(
                "a VirtualService without hosts is a delegate, which Istio takes from \
                 {DELEGATES_SINCE} on and minIstioVersion is {oldest}: add hosts, or raise \
                 minIstioVersion once every control plane runs {DELEGATES_SINCE} or later"
            ),
        ));
    }
}

/// What a route beside its `delegate` must not have.
pub(super) fn route(
    owner: RouteRef<'_>,
    blocks: &Blocks<'_>,
    hostless: bool,
    findings: &mut Vec<Finding>,
) {
    let present = |block: Option<&serde_json::Value>| block.is_some_and(|v| !v.is_null());
    if !present(blocks.delegate) {
        return;
    }
    if hostless {
        findings.push(error(
            owner.path().field("delegate"),
            "a delegate VirtualService (without hosts) cannot delegate again: route, redirect or \
             answer the requests here",
        ));
        return;
    }
    for (name, what, block) in [
        ("route", "destinations", blocks.route),
        ("redirect", "a redirect", blocks.redirect),
    ] {
        if present(block) {
            findings.push(error(
                owner.path().field(name),
                format!(
                    "a route that delegates cannot also have {what}: remove {name}, and put it \
                     in the delegate VirtualService"
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::virtualservice::http::testing::{found, found_for, vs};
    use serde_json::json;

    const CURRENT: IstioVersion = IstioVersion::new(1, 28);

    #[test]
    fn delegates_need_istio_1_8() {
        let delegate = vs(json!({"http": [{"route": [{"destination": {"host": "r"}}]}]}));
        assert_eq!(found_for(&delegate, DELEGATES_SINCE), []);
        assert_eq!(
            found_for(&delegate, IstioVersion::new(1, 7)),
            [(
                "virtualservice-delegate".to_string(),
                "spec.hosts".to_string(),
                "a VirtualService without hosts is a delegate, which Istio takes from 1.8 on and \
                 minIstioVersion is 1.7: add hosts, or raise minIstioVersion once every control \
                 plane runs 1.8 or later"
                    .to_string()
            )]
        );
    }

    #[test]
    fn conflicts_beside_delegate() {
        let delegate = json!({"name": "d", "namespace": "shop"});
        let nested = vs(json!({"http": [{"delegate": delegate}]}));
        let rows: Vec<_> = found_for(&nested, CURRENT)
            .into_iter()
            .map(|(rule, path, _)| (rule, path))
            .collect();
        assert_eq!(
            rows,
            [(
                "virtualservice-delegate".to_string(),
                "spec.http[0].delegate".to_string()
            )]
        );
        let root = vs(json!({"hosts": ["r"], "http": [{"delegate": delegate,
            "route": [{"destination": {"host": "r"}}], "redirect": {"uri": "/x"}}]}));
        let rows: Vec<_> = found(&root)
            .into_iter()
            .filter(|(rule, _, _)| rule == "virtualservice-delegate")
            .map(|(_, path, message)| (path, message))
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "spec.http[0].route".to_string(),
                    "a route that delegates cannot also have destinations: remove route, and put \
                     it in the delegate VirtualService"
                        .to_string()
                ),
                (
                    "spec.http[0].redirect".to_string(),
                    "a route that delegates cannot also have a redirect: remove redirect, and put \
                     it in the delegate VirtualService"
                        .to_string()
                ),
            ]
        );
        let fine = vs(json!({"hosts": ["r"], "http": [{"delegate": delegate}]}));
        assert_eq!(found(&fine), []);
    }
}
