//! The documentation of the VirtualService field rules: legacy and deprecated fields, spelling,
//! unknown keys and the API version.

use super::{DEPRECATED, NO_ANALYZER, RuleDoc, shared};
use crate::rules::{ObjectKind, Severity};

const VIRTUAL_SERVICE: &[ObjectKind] = &[ObjectKind::VirtualService];

/// `virtualservice-legacy-fields`.
pub const LEGACY_FIELDS: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[],
    checks: "Fields removed from the API in Istio 1.5, in camelCase or snake_case: \
        `websocketUpgrade`, `appendHeaders`, `appendRequestHeaders`, `appendResponseHeaders`, \
        `removeRequestHeaders` and `removeResponseHeaders` (on HTTP routes, the last four on \
        their destinations too), `fault.abort.percent`, `tls[].match[].sourceSubnet`, and \
        `port.name` on a destination.",
    why: "Istio 1.6 and later CRDs do not declare these fields, so the API server prunes them \
        while it decodes the request, before any webhook sees it, or refuses the manifest under \
        kubectl's strict field validation. Nothing reports the loss: an abort fault written \
        `percent: 10` is stored with no percentage and stops firing, and headers the routes \
        were meant to add are no longer added. Clusters still on pre-1.6 CRDs keep the fields, \
        and every Git repository carries them to the next cluster, so they are fixed in the \
        manifests (`meshgate fix`) or by the webhook while the old CRDs are installed.",
    fix: "`meshgate fix` and the mutating webhook convert each field: the header maps and lists \
        move into `headers.request` and `headers.response` (`add`, `remove`), `fault.abort.percent: \
        N` becomes `fault.abort.percentage.value: N.0`, and `websocketUpgrade` and `sourceSubnet` \
        are removed (websockets are upgraded on every route since Istio 1.0; source subnets were \
        never implemented). A destination `port.name` needs the Service's port table, and a \
        header set to different values in the legacy and the current field cannot be merged: \
        both are reported, not fixed.",
    failing: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
  namespace: bookinfo
spec:
  hosts:
  - ratings
  http:
  - fault:
      abort:
        httpStatus: 503
        percent: 10
    route:
    - destination:
        host: ratings
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
  namespace: bookinfo
spec:
  hosts:
  - ratings
  http:
  - fault:
      abort:
        httpStatus: 503
        percentage:
          value: 10.0
    route:
    - destination:
        host: ratings
",
    analyzer: &[DEPRECATED.only(
        "reported by the analyzer of Istio 1.4, the last release whose API had these fields",
    )],
};

/// `virtualservice-deprecated-fields`.
pub const DEPRECATED_FIELDS: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Warning,
    other_severities: &[],
    checks: "Deprecated fields that current CRDs still declare: `fault.delay.percent`, \
        `mirrorPercent` (also `mirror_percent`) and `corsPolicy.allowOrigin`.",
    why: "They still work, which is the trap: each has a replacement with other semantics, and \
        Istio removes deprecated fields in time, after which the API server prunes them like the \
        legacy ones. Converting is only safe once every control plane reading the object knows \
        the replacement: an Istio 1.4 control plane ignores `mirrorPercentage` and then mirrors \
        all traffic, and ignores `allowOrigins` and then drops the CORS origins.",
    fix: "Converted, by `meshgate fix` and the mutating webhook, when the policy's \
        `minIstioVersion` reads the replacement: `fault.delay.percent: N` becomes \
        `fault.delay.percentage.value: N.0` (Istio 1.1, so with the default `minIstioVersion` of \
        1.4); `mirrorPercent: N` becomes `mirrorPercentage.value: N.0` and each `allowOrigin` \
        string an `allowOrigins` entry `{exact: ...}` (Istio 1.5: reported, not converted, until \
        `minIstioVersion` is at least 1.5). Where the replacement is already set, it wins and \
        the deprecated field is only removed.",
    failing: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
  namespace: bookinfo
spec:
  hosts:
  - ratings
  http:
  - fault:
      delay:
        fixedDelay: 5s
        percent: 10
    route:
    - destination:
        host: ratings
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
  namespace: bookinfo
spec:
  hosts:
  - ratings
  http:
  - fault:
      delay:
        fixedDelay: 5s
        percentage:
          value: 10.0
    route:
    - destination:
        host: ratings
",
    analyzer: &[DEPRECATED.only("for `fault.delay.percent`")],
};

/// `virtualservice-field-spelling`.
pub const FIELD_SPELLING: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[],
    checks: shared::SPELLING_CHECKS,
    why: shared::SPELLING_WHY,
    fix: shared::SPELLING_FIX,
    failing: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
  namespace: bookinfo
spec:
  hosts:
  - ratings
  http:
  - retries:
      attempts: 3
      per_try_timeout: 2s
    route:
    - destination:
        host: ratings
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
  namespace: bookinfo
spec:
  hosts:
  - ratings
  http:
  - retries:
      attempts: 3
      perTryTimeout: 2s
    route:
    - destination:
        host: ratings
",
    analyzer: NO_ANALYZER,
};

/// `virtualservice-unknown-fields`.
pub const UNKNOWN_FIELDS: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[],
    checks: shared::UNKNOWN_CHECKS,
    why: shared::UNKNOWN_WHY,
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
  namespace: bookinfo
spec:
  hosts:
  - ratings
  http:
  - timout: 5s
    route:
    - destination:
        host: ratings
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
  namespace: bookinfo
spec:
  hosts:
  - ratings
  http:
  - timeout: 5s
    route:
    - destination:
        host: ratings
",
    analyzer: NO_ANALYZER,
};

/// `virtualservice-api-version`.
pub const API_VERSION: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Info,
    other_severities: &[],
    checks: shared::API_VERSION_CHECKS,
    why: shared::API_VERSION_WHY,
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: ratings
  namespace: bookinfo
spec:
  hosts:
  - ratings
  http:
  - route:
    - destination:
        host: ratings
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
  namespace: bookinfo
spec:
  hosts:
  - ratings
  http:
  - route:
    - destination:
        host: ratings
",
    analyzer: NO_ANALYZER,
};
