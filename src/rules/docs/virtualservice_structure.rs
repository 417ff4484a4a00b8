//! The documentation of the structural VirtualService rules, which follow Istio's own validation,
//! and of the `external-mesh` rule.

use super::{NO_ANALYZER, RuleDoc, SCHEMA_VALIDATION_ERROR, SCHEMA_WARNING};
use crate::rules::{ObjectKind, Severity};

const VIRTUAL_SERVICE: &[ObjectKind] = &[ObjectKind::VirtualService];

/// `virtualservice-hosts`.
pub const HOSTS: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[],
    checks: "Each host is a DNS name, a wildcard name (`*.example.com`) or an IP; the hosts are \
        distinct and do not overlap (`*.example.com` and `api.example.com`); `*` is not used on a \
        VirtualService bound to the mesh gateway (no `gateways`, or `mesh` among them); and a \
        VirtualService without hosts, a delegate, has no `gateways`, `tls` or `tcp`. On gateways \
        (`mesh` not among them) whose TLS routes match SNI hosts, a host may also be the \
        `outbound_.<port>_._.<host>` name of auto-passthrough.",
    why: concat!(
        "`*` bound to the mesh gateway would take every outbound HTTP request of every sidecar \
         that imports the VirtualService. A host that is not a name matches no request, so the \
         routes are never used, and overlapping hosts in one object leave the route a request \
         takes to the order in which Istio merges them.",
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
  - \"*.example.com\"
  - api.example.com
  http:
  - route:
    - destination:
        host: api.shop.svc.cluster.local
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
  http:
  - route:
    - destination:
        host: api.shop.svc.cluster.local
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `virtualservice-routes`.
pub const ROUTES: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[],
    checks: "The VirtualService has `http`, `tcp` or `tls` routes; each HTTP route has a \
        `route`, `redirect`, `directResponse` or `delegate`; `route` and `redirect` are not \
        combined, nor `mirror` and `mirrors`; `directResponse` stands without `route` or \
        `redirect`, and neither a redirect nor a direct response has a `fault` or `rewrite` \
        beside it; each TCP and TLS route has a `route`, and each TLS route a `match`.",
    why: concat!(
        "A route without an action has nowhere to send the requests it matches, and one with \
         both a destination and a redirect, or both mirror fields, leaves it to the proxy which \
         one counts. Such routes usually come from a merge or a template that dropped a block.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews
  http:
  - match:
    - uri:
        prefix: /v2
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews
  http:
  - match:
    - uri:
        prefix: /v2
    route:
    - destination:
        host: reviews
        subset: v2
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `virtualservice-destinations`.
pub const DESTINATIONS: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[],
    checks: "Every `route[]` entry has a `destination`; each destination (of routes, `mirror` \
        and `mirrors`) names a host that is a DNS or wildcard name and not `*`, a subset that is \
        a DNS-1123 label, and a port number within 1-65535 (a `port` without a number selects \
        no port).",
    why: concat!(
        "The destination host is the Service or ServiceEntry host the proxy sends to, and the \
         subset names a DestinationRule subset, whose names are DNS-1123 labels. A destination \
         that can name nothing sends the matched requests to no upstream: clients get 503s \
         instead of an error when the object is applied.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v2_canary
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v2
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `virtualservice-weights`.
pub const WEIGHTS: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[(
        Severity::Info,
        "the weights of several destinations add up to neither 0 nor 100 and minIstioVersion is \
         1.15 or later",
    )],
    checks: "Destination weights are whole numbers and not negative; when a route has several \
        destinations their weights do not add up to 0, and add up to 100: an error while the \
        policy's minIstioVersion is below 1.15, a note (info) from 1.15 on.",
    why: "Weights split traffic between destinations: a canary, or the move to a new backend \
        during a migration. Istio rejects negative weights and a total of 0 (what remains when a \
        GitOps tool strips the weights a rollout controller manages); meshgate denies them too, \
        so that they are caught in CI and where Istio's webhook is not in the path. A total \
        other than 100 is rejected by Istio before 1.15 and scaled by later releases: while old \
        and new control planes run side by side, the same object is refused by one and accepted \
        by the other, and a split written as 90/20 sends 82 % and 18 %, not what was reviewed. \
        So while minIstioVersion (default 1.4) names a control plane before 1.15 it is an error: \
        that control plane would refuse the object, and a botched cutover must not pass CI. From \
        1.15 on every control plane left accepts and scales the weights, as Istio's validation \
        does, so it is a note: the webhook still sends it to the client as a warning (only \
        errors are denied), but `check --fail-on warning` does not fail on it.",
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 90
    - destination:
        host: reviews
        subset: v2
      weight: 20
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 90
    - destination:
        host: reviews
        subset: v2
      weight: 10
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `virtualservice-fault`.
pub const FAULT: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[(
        Severity::Warning,
        "an abort sets neither `httpStatus` nor `grpcStatus`",
    )],
    checks: "A `fault` has an `abort` or a `delay`; their percentages are 0 or within \
        0.0001-100; an abort returns an `httpStatus` within 200-600 or a `grpcStatus` name \
        (`http2Error` is not supported; an abort with neither is a warning); a `fixedDelay` is at \
        least 1ms in whole milliseconds (`exponentialDelay` is not supported).",
    why: concat!(
        "Fault injection is how teams rehearse failures in shared environments. A fault with \
         neither abort nor delay does nothing while the manifest says a test is running, and a \
         status or percentage out of range is refused.",
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
  - fault:
      abort:
        httpStatus: 1503
        percentage:
          value: 10.0
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
    analyzer: &[
        SCHEMA_VALIDATION_ERROR,
        SCHEMA_WARNING.only("for an abort without an error to return"),
    ],
};

/// `virtualservice-mirror`.
pub const MIRROR: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[],
    checks: "`mirrorPercentage.value`, and each `mirrors[].percentage.value`, is within 0-100, \
        and the deprecated `mirrorPercent` at most 100; every `mirrors[]` entry has a \
        `destination`.",
    why: concat!(
        "Mirroring copies live requests to a shadow service, often the new backend of a \
         migration, so that it sees production traffic before it serves any. A mirror without a \
         destination has nowhere to send the copies, and a percentage over 100 is refused.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: payments
  namespace: payments
spec:
  hosts:
  - payments
  http:
  - route:
    - destination:
        host: payments
    mirror:
      host: payments-next
    mirrorPercentage:
      value: 150.0
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: payments
  namespace: payments
spec:
  hosts:
  - payments
  http:
  - route:
    - destination:
        host: payments
    mirror:
      host: payments-next
    mirrorPercentage:
      value: 15.0
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `virtualservice-gateways`.
pub const GATEWAYS: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[(
        Severity::Warning,
        "a gateway is named in the legacy `name.namespace.svc.cluster.local` form",
    )],
    checks: "Each `gateways` entry is `mesh`, a Gateway name, or `namespace/name`, whose parts \
        are DNS-1123 labels. The legacy dotted form, `name.namespace.svc.cluster.local`, is a \
        warning.",
    why: concat!(
        "The gateways decide where the routes apply: the named Gateways' proxies, and the \
         sidecars when `mesh` is listed. A reference that cannot name a Gateway is refused. The \
         dotted form still works, but Istio only reads it by splitting it at the dots and warns \
         about it (IST0133); `namespace/name` says the same plainly and is the form Istio \
         documents.",
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
  - public-gateway.istio-system.svc.cluster.local
  http:
  - route:
    - destination:
        host: storefront
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
  - istio-system/public-gateway
  http:
  - route:
    - destination:
        host: storefront
",
    analyzer: &[
        SCHEMA_VALIDATION_ERROR,
        SCHEMA_WARNING.only("for the legacy dotted form"),
    ],
};

/// `virtualservice-export-to`.
pub const EXPORT_TO: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[],
    checks: "`exportTo` entries are `.`, `*` or namespace names (DNS-1123 labels), each listed \
        once (`.` and the object's own namespace are the same entry); `*` stands alone; `~` \
        (export to no one) is not allowed on a VirtualService.",
    why: concat!(
        "`exportTo` decides which namespaces' sidecars and gateways see the routes, so a mistake \
         either hides them from the clients that need them or publishes them mesh-wide. A list \
         that mixes `*` with names usually means the author wanted the names only.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: payments
  namespace: payments
spec:
  hosts:
  - payments
  exportTo:
  - \".\"
  - frontend
  - \"*\"
  http:
  - route:
    - destination:
        host: payments
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: payments
  namespace: payments
spec:
  hosts:
  - payments
  exportTo:
  - \".\"
  - frontend
  http:
  - route:
    - destination:
        host: payments
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `virtualservice-external-mesh`.
pub const EXTERNAL_MESH: RuleDoc = RuleDoc {
    kinds: VIRTUAL_SERVICE,
    severity: Severity::Error,
    other_severities: &[(
        Severity::Info,
        "`external-mesh` is listed without `mesh`, so clients inside the mesh do not get the \
         routes",
    )],
    checks: "A VirtualService bound to the `external-mesh` gateway, which applies its routes to \
        clients outside the mesh such as Cloud Run services, lives in the namespace of each \
        Kubernetes Service it routes to (hosts `svc`, `svc.ns`, `svc.ns.svc`, \
        `svc.ns.svc.cluster.local`; other names are not Services and are not checked).",
    why: "Routes for mesh-external clients are taken only from VirtualServices in the \
        destination Service's own namespace. One elsewhere is accepted by the API server and \
        has no effect for those clients: a canary split or a header route written for the Cloud \
        Run services silently does not happen, and they keep default routing. Without `mesh` \
        among the gateways, workloads inside the mesh do not get the routes either; that can be \
        intended, hence only info.",
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: payments-external
  namespace: frontend
spec:
  hosts:
  - payments.payments.svc.cluster.local
  gateways:
  - external-mesh
  - mesh
  http:
  - route:
    - destination:
        host: payments.payments.svc.cluster.local
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: payments-external
  namespace: payments
spec:
  hosts:
  - payments.payments.svc.cluster.local
  gateways:
  - external-mesh
  - mesh
  http:
  - route:
    - destination:
        host: payments.payments.svc.cluster.local
",
    analyzer: NO_ANALYZER,
};
