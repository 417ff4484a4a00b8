//! `virtualservice-api-version` and `serviceentry-api-version`: the request used `v1alpha3` or
//! `v1beta1`, which still work but `networking.istio.io/v1` is served since Istio 1.22.

use super::{FieldPath, Finding, Rule, Severity, Subject};

/// The older versions of the Istio networking API.
const OLD_VERSIONS: [&str; 2] = ["v1alpha3", "v1beta1"];

/// One info finding when the user wrote an old API version.
pub fn evaluate(subject: &Subject<'_>, rule: Rule) -> Option<Finding> {
    let version = subject.requested_version?;
    OLD_VERSIONS.contains(&version).then(|| Finding {
        rule,
        severity: Severity::Info,
        path: FieldPath::root(),
        message: format!(
            "networking.istio.io/{version} is an older version of this API; write apiVersion: \
             networking.istio.io/v1 (served since Istio 1.22, same schema)"
        ),
        fix: None,
    })
}
