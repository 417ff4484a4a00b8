//! The documentation of the VirtualService rules on the blocks inside routes (retries, CORS,
//! rewrite, redirect, direct response, header operations, match conditions, delegation) and on
//! routes that are never reached, which follow Istio's own validation.

use super::{AnalyzerMessage, RuleDoc, SCHEMA_VALIDATION_ERROR, SCHEMA_WARNING};
use crate::rules::{ObjectKind, Severity};

const VIRTUAL_SERVICE: &[ObjectKind] = &[ObjectKind::VirtualService];

/// `virtualservice-retries`.
pub const RETRIES: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[],
    checks: "An HTTP route's `timeout` is at least 1ms (`0s` included: leave the field out for \
        no timeout), in whole milliseconds. `retries.attempts` is not negative, and is set (not \
        0) when `perTryTimeout`, `retryOn` or `retryRemoteLocalities` is; `perTryTimeout` and \
        `backoff` are at least 1ms, in whole milliseconds; `retryOn` is a comma-separated list of Envoy retry conditions \
        (`5xx`, `gateway-error`, `reset`, `connect-failure`, `retriable-4xx`, gRPC's \
        `unavailable`, ...) and HTTP status codes.",
    why: concat!(
        "A retry policy with 0 attempts retries nothing while its timeouts and conditions say \
         otherwise, and an unknown `retryOn` condition would be handed to Envoy, which refuses \
         the route: requests then keep the configuration the proxy had before.",
        istio_validates!()
    ),
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
  - route:
    - destination:
        host: ratings
    retries:
      attempts: 3
      perTryTimeout: 2s
      retryOn: 5xx,timeout
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
    retries:
      attempts: 3
      perTryTimeout: 2s
      retryOn: 5xx,reset
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `virtualservice-cors`.
pub const CORS: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[],
    checks: "Each of `corsPolicy.allowOrigins` has a non-empty `exact`, `prefix` or `regex` (an \
        RE2 regex of at most 1024 bytes); `allowMethods` are HTTP methods (GET, HEAD, POST, PUT, \
        PATCH, DELETE, CONNECT, OPTIONS, TRACE) or `*`; `allowHeaders` and `exposeHeaders` are \
        header names or `*`; `maxAge` is at least 1ms and a whole number of seconds.",
    why: concat!(
        "Browsers apply the policy the proxy sends: an empty origin or a misspelt method \
         silently blocks the cross-origin calls the policy was written for, and Envoy refuses \
         what it cannot read.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: api
  namespace: shop
spec:
  hosts:
  - api.example.com
  gateways:
  - istio-system/public
  http:
  - route:
    - destination:
        host: api
    corsPolicy:
      allowOrigins:
      - exact: https://shop.example.com
      allowMethods:
      - GET
      - PUTT
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: api
  namespace: shop
spec:
  hosts:
  - api.example.com
  gateways:
  - istio-system/public
  http:
  - route:
    - destination:
        host: api
    corsPolicy:
      allowOrigins:
      - exact: https://shop.example.com
      allowMethods:
      - GET
      - PUT
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `virtualservice-rewrite`.
pub const REWRITE: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[],
    checks: "A `rewrite` sets `uri`, `uriRegexRewrite` or `authority`, and not both `uri` and \
        `uriRegexRewrite`; a `uriRegexRewrite` has a `match`, an RE2 regex of at most 1024 bytes, \
        and a `rewrite`.",
    why: concat!(
        "An empty rewrite does nothing while the route reads as if it rewrote, and two path \
         rewrites leave it to the proxy which one applies; a regex Envoy cannot compile makes it \
         refuse the route.",
        istio_validates!()
    ),
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
  - route:
    - destination:
        host: ratings
    rewrite:
      uriRegexRewrite:
        match: ^/v1/(.*
        rewrite: /\\1
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
    rewrite:
      uriRegexRewrite:
        match: ^/v1/(.*)
        rewrite: /\\1
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `virtualservice-redirect`.
pub const REDIRECT: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[],
    checks: "A `redirect` sets `uri`, `prefixRewrite`, `authority`, `scheme` or a port, and not \
        both `uri` and `prefixRewrite`; with `prefixRewrite`, every URI match of the route is a \
        `prefix` match; `redirectCode` is 3xx; `scheme` is `http` or `https`; `port` is within \
        1-65535.",
    why: concat!(
        "A redirect that changes nothing sends clients back to the same URL in a loop, and a \
         prefix rewrite behind an exact or regex match has no prefix to replace. A code outside \
         3xx is not a redirect for browsers.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: legacy
  namespace: shop
spec:
  hosts:
  - shop.example.com
  gateways:
  - istio-system/public
  http:
  - match:
    - uri:
        prefix: /old
    redirect:
      uri: /new
      redirectCode: 200
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: legacy
  namespace: shop
spec:
  hosts:
  - shop.example.com
  gateways:
  - istio-system/public
  http:
  - match:
    - uri:
        prefix: /old
    redirect:
      uri: /new
      redirectCode: 301
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `virtualservice-direct-response`.
pub const DIRECT_RESPONSE: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[(
        Severity::Warning,
        "the body is over 100 KiB but within 1 MiB",
    )],
    checks: "A `directResponse` has a `status` from 200 to 600, and its body (`string`, or \
        `bytes` once decoded) is at most 1 MiB; over 100 KiB is a warning.",
    why: concat!(
        "The body of a direct response travels in the configuration istiod pushes to every \
         proxy that imports the VirtualService, on every change: large bodies slow every push \
         down and cost memory in every proxy. A status outside the range is refused.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: maintenance
  namespace: shop
spec:
  hosts:
  - shop.example.com
  gateways:
  - istio-system/public
  http:
  - directResponse:
      status: 1503
      body:
        string: down for maintenance
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: maintenance
  namespace: shop
spec:
  hosts:
  - shop.example.com
  gateways:
  - istio-system/public
  http:
  - directResponse:
      status: 503
      body:
        string: down for maintenance
",
    analyzer: &[
        SCHEMA_VALIDATION_ERROR,
        SCHEMA_WARNING.only("for a body over 100 KiB"),
    ],
};

/// `virtualservice-headers`.
pub const HEADERS: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[],
    checks: "In `headers.request` and `headers.response` of HTTP routes and of their \
        destinations: header names are not empty; pseudo-headers (`:path`, ...) are not set or \
        removed, nor `host` removed or set on responses (requests may set `host` or \
        `:authority`); values have no control characters and every `%` is escaped (`%%`) or \
        part of a closed `%VARIABLE%`; the authority is set once, by `rewrite.authority` or \
        one header.",
    why: concat!(
        "Envoy reads `%...%` in header values as its variables: an unescaped `%` makes it \
         refuse the route, and two authority settings leave it to the proxy which one wins.",
        istio_validates!()
    ),
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
  - route:
    - destination:
        host: ratings
    headers:
      response:
        set:
          x-discount: 10%
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
    headers:
      response:
        set:
          x-discount: 10%%
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `virtualservice-match`.
pub const MATCH: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[(
        Severity::Warning,
        "an SNI host of a TLS match is an IP address",
    )],
    checks: "In HTTP matches: header names (`headers`, `withoutHeaders`) are header names, \
        pseudo-headers or JWT claims (`@request.auth.claims.<claim>`), and JWT claims only where \
        the VirtualService is bound to gateways and not to `mesh`; string matches of headers, \
        query parameters, `scheme`, `method` and `authority` have no empty `prefix`, and no \
        string match an empty `regex`; regexes are RE2 of at most 1024 bytes; `sourceNamespace` \
        is a namespace name. In TLS matches: `sniHosts` is set, each a host name within the \
        VirtualService's hosts (on gateways also the `outbound_.<port>_._.<host>` names of \
        auto-passthrough). In TCP and TLS matches, `destinationSubnets` are IP addresses or CIDR \
        blocks. In every match, `port` is within 1-65535 (0 is no condition) and `sourceLabels` \
        are Kubernetes label keys and values; `gateways` are checked as \
        `virtualservice-gateways` checks `spec.gateways`.",
    why: concat!(
        "Envoy refuses an empty prefix or regex and a regex it cannot compile, so the route is \
         not applied; JWT claims are only known where a gateway authenticates, so on sidecars \
         the match can never hold. An SNI host outside the hosts is never offered to this \
         VirtualService.",
        istio_validates!()
    ),
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
  - match:
    - uri:
        regex: /v1/(ratings
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
  - match:
    - uri:
        regex: /v1/(ratings)
    route:
    - destination:
        host: ratings
",
    analyzer: &[
        SCHEMA_VALIDATION_ERROR,
        SCHEMA_WARNING.only("for an IP address as SNI host"),
    ],
};

/// `virtualservice-delegate`.
pub const DELEGATE: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[],
    checks: "An HTTP route with `delegate` has no `route` or `redirect`; a delegate \
        VirtualService (one without hosts) has no route with `delegate`; and a VirtualService \
        without hosts is reported when minIstioVersion is below 1.8, the first release that \
        takes delegates.",
    why: concat!(
        "A delegating route hands its requests to the delegate VirtualService whole, so \
         destinations beside it are never used; delegation is one level deep. Control planes \
         before 1.8 refuse a VirtualService without hosts.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: storefront
  namespace: shop
spec:
  hosts:
  - shop.example.com
  gateways:
  - istio-system/public
  http:
  - match:
    - uri:
        prefix: /cart
    delegate:
      name: cart
      namespace: cart
    route:
    - destination:
        host: cart.cart.svc.cluster.local
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: storefront
  namespace: shop
spec:
  hosts:
  - shop.example.com
  gateways:
  - istio-system/public
  http:
  - match:
    - uri:
        prefix: /cart
    delegate:
      name: cart
      namespace: cart
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `virtualservice-unreachable`.
pub const UNREACHABLE: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Warning,
    other_severities: &[],
    checks: "Within `http`, `tcp` and `tls` each: a route after a route without matches (which \
        takes every request); a match equal to an earlier one apart from its `name`, and a \
        route all of whose matches are such repeats; and an HTTP match whose URI `prefix` \
        starts with an earlier match's shorter prefix when the earlier match's other \
        conditions (port, method, authority, headers, query parameters, withoutHeaders) take \
        the same requests, Istio's overlap analysis.",
    why: concat!(
        "Routes are tried in order and the first match wins, so the later route or match never \
         receives a request: its destinations, retries and rewrites do nothing, usually not \
         what the author meant.",
        istio_validates!()
    ),
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
  - match:
    - uri:
        prefix: /api
    route:
    - destination:
        host: ratings
        subset: v1
  - match:
    - uri:
        prefix: /api/v2
    route:
    - destination:
        host: ratings
        subset: v2
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
  - match:
    - uri:
        prefix: /api/v2
    route:
    - destination:
        host: ratings
        subset: v2
  - match:
    - uri:
        prefix: /api
    route:
    - destination:
        host: ratings
        subset: v1
",
    analyzer: &[
        AnalyzerMessage {
            code: "IST0130",
            name: "VirtualServiceUnreachableRule",
            note: "for routes never used",
        },
        AnalyzerMessage {
            code: "IST0131",
            name: "VirtualServiceIneffectiveMatch",
            note: "for matches never used",
        },
    ],
};
