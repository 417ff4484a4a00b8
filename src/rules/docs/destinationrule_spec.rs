//! The documentation of the DestinationRule rules that follow Istio's own validation.

use super::{RuleDoc, SCHEMA_VALIDATION_ERROR, SCHEMA_WARNING};
use crate::rules::{ObjectKind, Severity};

const DESTINATION_RULE: &[ObjectKind] = &[ObjectKind::DestinationRule];

/// `destinationrule-host`.
pub const HOST: RuleDoc = RuleDoc {
    kinds: DESTINATION_RULE,
    severity: Severity::Error,
    other_severities: &[],
    checks: "`spec.host` is set and is a DNS name (at most 255 characters, labels of letters, \
        digits and `-`, the last not all digits), whose first label may be `*` or start with \
        `*`.",
    why: concat!(
        "The host is what the rule applies to: the proxies match it against the services they \
         route to. A host that is empty or not a name (a URL, a name with `_`) matches no \
         service, so the load balancing, TLS and connection limits it carries apply to no \
         traffic at all.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: http://reviews
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `destinationrule-subsets`.
pub const SUBSETS: RuleDoc = RuleDoc {
    kinds: DESTINATION_RULE,
    severity: Severity::Error,
    other_severities: &[(
        Severity::Warning,
        "two subsets share a name and `minIstioVersion` is below 1.22, whose validation \
         accepted that",
    )],
    checks: "Each subset is not null, has a name that is a DNS-1123 label (Istio admits upper \
        case) and not used by another subset, and labels whose keys and values are Kubernetes \
        label keys and values. Each subset's traffic policy is checked by the traffic-policy \
        rules. Istio refuses duplicate names since 1.22; while `minIstioVersion` is older, \
        they are a warning.",
    why: concat!(
        "VirtualServices send traffic to a subset by its name, and the proxies build one \
         cluster per subset: a second subset of the same name is ambiguous, and a name or a \
         label that cannot be a Kubernetes label selects no pod, so the route to it has no \
         endpoints and answers 503.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  subsets:
  - name: v1.0
    labels:
      version: v1.0
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  subsets:
  - name: v1-0
    labels:
      version: v1.0
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `destinationrule-traffic-policy`.
pub const TRAFFIC_POLICY: RuleDoc = RuleDoc {
    kinds: DESTINATION_RULE,
    severity: Severity::Error,
    other_severities: &[],
    checks: "Each traffic policy (at the top and in each subset) sets at least one of \
        `loadBalancer`, `connectionPool`, `outlierDetection`, `tls`, `portLevelSettings`, \
        `tunnel`, `proxyProtocol` and `retryBudget`, and not both `tunnel` and \
        `proxyProtocol`. Each `portLevelSettings[]` entry is not null, names its `port` and \
        sets one of the four settings a port can have. `tunnel` has a protocol of `CONNECT` or \
        `POST` (or none), a `targetHost` that is a DNS name or an IP, and a `targetPort` within \
        1-65535; `proxyProtocol.version` is `V1` or `V2`.",
    why: concat!(
        "An empty policy says nothing and usually means a setting was lost in an edit (or \
         indented under the wrong key); a port-level policy without its port cannot be \
         matched to any port. A tunnel and a PROXY protocol header are two ways of wrapping \
         the same upstream connection, which Envoy cannot do at once.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  trafficPolicy:
    portLevelSettings:
    - loadBalancer:
        simple: ROUND_ROBIN
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  trafficPolicy:
    portLevelSettings:
    - port:
        number: 9080
      loadBalancer:
        simple: ROUND_ROBIN
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `destinationrule-connection-pool`.
pub const CONNECTION_POOL: RuleDoc = RuleDoc {
    kinds: DESTINATION_RULE,
    severity: Severity::Error,
    other_severities: &[(
        Severity::Warning,
        "`useClientProtocol` beside `h2UpgradePolicy: UPGRADE` while `minIstioVersion` is \
         below 1.8, whose validation accepted it",
    )],
    checks: "Each `connectionPool` sets `tcp` or `http`. The limits (`tcp.maxConnections`, \
        `http.http1MaxPendingRequests`, `http2MaxRequests`, `maxRequestsPerConnection`, \
        `maxRetries`, `maxConcurrentStreams`) are not negative. The durations \
        (`tcp.connectTimeout`, `maxConnectionDuration`, `idleTimeout`, `tcpKeepalive.time` and \
        `interval`, `http.idleTimeout`, `http2KeepAlive.interval` and `timeout`) are durations \
        (`5s`, `250ms`, `1m30s`) of at least 1ms in whole milliseconds; a `tcp.idleTimeout` \
        of `0s` (off) is allowed when `minIstioVersion` is 1.26 or later (older releases \
        refuse it). An `http2KeepAlive` has both its interval and its timeout, \
        and `useClientProtocol: true` does not stand beside `h2UpgradePolicy: UPGRADE`.",
    why: concat!(
        "Envoy keeps timeouts in milliseconds: a finer duration would be rounded into \
         something nobody wrote, and text that is no duration (`5 minutes`, `1d`) leaves \
         istiod unable to read the object at all. A negative limit has no meaning, and a \
         keepalive without its interval or timeout would probe never, or give up at once.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  trafficPolicy:
    connectionPool:
      tcp:
        connectTimeout: 0.5ms
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  trafficPolicy:
    connectionPool:
      tcp:
        connectTimeout: 1ms
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `destinationrule-load-balancer`.
pub const LOAD_BALANCER: RuleDoc = RuleDoc {
    kinds: DESTINATION_RULE,
    severity: Severity::Error,
    other_severities: &[(
        Severity::Warning,
        "failover or failoverPriority is set without outlier detection in the same policy, or \
         failoverPriority has a topology label beside failover while `minIstioVersion` is \
         below 1.20",
    )],
    checks: "Consistent hashing: an `httpCookie` has a name, its attributes have names and none \
        twice, `minimumRingSize` does not stand beside `ringHash` or `maglev`, and a `maglev` \
        table size is a prime below 5000011. Not both `localityLbSetting` and \
        `zoneAwareLbSetting`. Locality: not both `distribute` and `failover`; each \
        `distribute[].to` has weights of 1-100 adding up to 100; the localities \
        (`region/zone/subzone`, one trailing `*` at most) do not overlap; failover is from one \
        region to another (no `/`, no `*`), and with `failover`, `failoverPriority` has no \
        topology labels (a warning while `minIstioVersion` is below 1.20); zone-aware \
        `failoverPriority` has none either. A `warmup` has a \
        duration of at least 1ms, a `minimumPercent` of at most 100 and an `aggression` above \
        0.",
    why: concat!(
        "Envoy builds a maglev table only of a prime size, so any other size fails the \
         cluster; a cookie without a name cannot be set or read, so every request hashes \
         alike. Locality weights that do not add up to 100, or localities that overlap, leave \
         it undefined where traffic goes. Failover only happens when outlier detection \
         ejects the unhealthy endpoints, so without it (the warning) the failover order is \
         never used.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  trafficPolicy:
    loadBalancer:
      consistentHash:
        useSourceIp: true
        maglev:
          tableSize: 1000
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  trafficPolicy:
    loadBalancer:
      consistentHash:
        useSourceIp: true
        maglev:
          tableSize: 1009
",
    analyzer: &[
        SCHEMA_VALIDATION_ERROR,
        SCHEMA_WARNING.only("for failover without outlier detection"),
    ],
};

/// `destinationrule-outlier-detection`.
pub const OUTLIER_DETECTION: RuleDoc = RuleDoc {
    kinds: DESTINATION_RULE,
    severity: Severity::Error,
    other_severities: &[],
    checks: "Each `outlierDetection` has `interval` and `baseEjectionTime` of at least 1ms in \
        whole milliseconds, `maxEjectionPercent` and `minHealthPercent` within 0-100, and \
        `consecutiveLocalOriginFailures` only with `splitExternalLocalOriginErrors: true`. \
        (The deprecated `consecutiveErrors` is `destinationrule-deprecated-fields`.)",
    why: concat!(
        "Outlier detection decides which endpoints are ejected and for how long. A percentage \
         outside 0-100 has no meaning, and local-origin failures (connection resets, \
         timeouts) are only counted apart from the upstream's answers when the split is on: \
         without it the threshold is never consulted, and the endpoints it should eject keep \
         their traffic.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  trafficPolicy:
    outlierDetection:
      consecutiveLocalOriginFailures: 5
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  trafficPolicy:
    outlierDetection:
      splitExternalLocalOriginErrors: true
      consecutiveLocalOriginFailures: 5
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `destinationrule-tls`.
pub const TLS: RuleDoc = RuleDoc {
    kinds: DESTINATION_RULE,
    severity: Severity::Error,
    other_severities: &[(
        Severity::Warning,
        "a check Istio added after `minIstioVersion`: the `insecureSkipVerify` conflicts \
         (1.19) and `caCrl` beside `credentialName` (1.22)",
    )],
    checks: "In each client `tls` of mode `SIMPLE` or `MUTUAL` with a `credentialName`: no \
        `clientCertificate`, `privateKey`, `caCertificates` or `caCrl` beside it. `MUTUAL` \
        without a `credentialName` has a `clientCertificate` and a `privateKey`. With \
        `insecureSkipVerify: true`: no `caCertificates` or `subjectAltNames` (and in \
        `SIMPLE`, no `credentialName`). A `configmap://` credential is \
        `configmap://<the object's namespace>/<name>`.",
    why: concat!(
        "A credentialName makes the proxy fetch the certificates from a Secret, so file paths \
         beside it are ignored and say something that is not true; mutual TLS without a \
         client certificate and key fails every handshake. Turning verification off while \
         naming a CA or the server's names suggests a check that is not made.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: payments
  namespace: bookinfo
spec:
  host: payments.example.com
  trafficPolicy:
    tls:
      mode: MUTUAL
      credentialName: payments-client
      caCertificates: /etc/certs/ca.pem
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: payments
  namespace: bookinfo
spec:
  host: payments.example.com
  trafficPolicy:
    tls:
      mode: MUTUAL
      credentialName: payments-client
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `destinationrule-export-to`.
pub const EXPORT_TO: RuleDoc = RuleDoc {
    kinds: DESTINATION_RULE,
    severity: Severity::Error,
    other_severities: &[],
    checks: "Each `exportTo` entry is `.`, `*` or a namespace name (`~` is for ServiceEntries \
        only), none twice (`.` and the object's own namespace count as the same), and `*` \
        alone. With a `workloadSelector`, `exportTo` names only the object's own namespace.",
    why: concat!(
        "`exportTo` decides which namespaces' proxies see the rule. A malformed or duplicated \
         entry, or `*` beside others, says two things at once. A rule with a workload \
         selector applies to pods of its own namespace only, so exporting it elsewhere \
         promises what cannot happen.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  exportTo:
  - \"*\"
  - \".\"
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  exportTo:
  - \"*\"
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `destinationrule-workload-selector`.
pub const WORKLOAD_SELECTOR: RuleDoc = RuleDoc {
    kinds: DESTINATION_RULE,
    severity: Severity::Error,
    other_severities: &[(
        Severity::Warning,
        "the workloadSelector has no matchLabels, so it selects every workload of the namespace",
    )],
    checks: "`workloadSelector.matchLabels` has no empty key and no `*` in a key or a value; a \
        selector without labels is a warning.",
    why: concat!(
        "Labels are matched exactly, so `*` is no wildcard and matches only a label that is \
         literally `*`: the rule then applies to no workload. A selector without labels \
         applies to every workload of the namespace, which is what leaving the selector out \
         says more plainly, and rarely what was meant.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  workloadSelector:
    matchLabels:
      app: \"*\"
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  workloadSelector:
    matchLabels:
      app: productpage
",
    analyzer: &[
        SCHEMA_VALIDATION_ERROR,
        SCHEMA_WARNING.only("for a selector without labels"),
    ],
};
