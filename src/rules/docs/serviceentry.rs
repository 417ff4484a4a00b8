//! The documentation of the ServiceEntry rules.

use super::{
    NO_ANALYZER, RuleDoc, SCHEMA_VALIDATION_ERROR, SCHEMA_WARNING,
    SERVICE_ENTRY_ADDRESSES_REQUIRED, shared,
};
use crate::rules::{ObjectKind, Severity};

const SERVICE_ENTRY: &[ObjectKind] = &[ObjectKind::ServiceEntry];

/// `serviceentry-field-spelling`.
pub const FIELD_SPELLING: RuleDoc = RuleDoc {
    kinds: SERVICE_ENTRY,
    severity: Severity::Error,
    other_severities: &[],
    checks: shared::SPELLING_CHECKS,
    why: shared::SPELLING_WHY,
    fix: shared::SPELLING_FIX,
    failing: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: billing-api
  namespace: payments
spec:
  hosts:
  - billing.example.com
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: https
    protocol: HTTPS
  resolution: DNS
  export_to:
  - \".\"
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: billing-api
  namespace: payments
spec:
  hosts:
  - billing.example.com
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: https
    protocol: HTTPS
  resolution: DNS
  exportTo:
  - \".\"
",
    analyzer: NO_ANALYZER,
};

/// `serviceentry-unknown-fields`.
pub const UNKNOWN_FIELDS: RuleDoc = RuleDoc {
    kinds: SERVICE_ENTRY,
    severity: Severity::Error,
    other_severities: &[],
    checks: shared::UNKNOWN_CHECKS,
    why: shared::UNKNOWN_WHY,
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: billing-api
  namespace: payments
spec:
  hosts:
  - billing.example.com
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: https
    protocol: HTTPS
  resolution: DNS
  subjectAltName:
  - spiffe://example.com/ns/billing/sa/api
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: billing-api
  namespace: payments
spec:
  hosts:
  - billing.example.com
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: https
    protocol: HTTPS
  resolution: DNS
  subjectAltNames:
  - spiffe://example.com/ns/billing/sa/api
",
    analyzer: NO_ANALYZER,
};

/// `serviceentry-api-version`.
pub const API_VERSION: RuleDoc = RuleDoc {
    kinds: SERVICE_ENTRY,
    severity: Severity::Info,
    other_severities: &[],
    checks: shared::API_VERSION_CHECKS,
    why: shared::API_VERSION_WHY,
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata:
  name: billing-api
  namespace: payments
spec:
  hosts:
  - billing.example.com
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: https
    protocol: HTTPS
  resolution: DNS
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: billing-api
  namespace: payments
spec:
  hosts:
  - billing.example.com
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: https
    protocol: HTTPS
  resolution: DNS
",
    analyzer: NO_ANALYZER,
};

/// `serviceentry-hosts`.
pub const HOSTS: RuleDoc = RuleDoc {
    kinds: SERVICE_ENTRY,
    severity: Severity::Error,
    other_severities: &[(
        Severity::Warning,
        "a host is a partial wildcard such as `*api.example.com` (Istio 1.18 and later warn \
         too; not under resolution DYNAMIC_DNS, which takes it)",
    )],
    checks: "A ServiceEntry has at least one host (a missing `spec` counts as none); no host \
        is `*`; each is a DNS name or a wildcard whose first label is `*` (`*.example.com`) or \
        starts with `*` or `*-` (`*api.example.com`, `*-api.example.com`); a `*` anywhere else \
        (`api*.example.com`, `api.*.com`) is an error. A first label that only starts with `*` \
        is a partial wildcard, a warning unless the resolution is `DYNAMIC_DNS`; the message \
        says whether the oldest Istio in `minIstioVersion` warns about it (1.18 and later) or \
        accepts it silently.",
    why: concat!(
        "The hosts are the names the mesh routes to the entry. `*` would claim every external \
         name for one entry, and a host that is not a name (a URL pasted from a browser, say) \
         matches no request, so calls to the service bypass the entry and are passed through or, \
         under `REGISTRY_ONLY`, blocked. Envoy takes only a whole `*.` label as a wildcard in \
         TLS server names: a partial wildcard on an entry with an HTTPS or TLS port makes every \
         sidecar reject the listener for that port, which stops all traffic on it.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: payments-provider
  namespace: payments
spec:
  hosts:
  - https://api.example.com
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: tls
    protocol: TLS
  resolution: DNS
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: payments-provider
  namespace: payments
spec:
  hosts:
  - api.example.com
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: tls
    protocol: TLS
  resolution: DNS
",
    analyzer: &[
        SCHEMA_VALIDATION_ERROR,
        SCHEMA_WARNING.only("for partial wildcards"),
    ],
};

/// `serviceentry-addresses`.
pub const ADDRESSES: RuleDoc = RuleDoc {
    kinds: SERVICE_ENTRY,
    severity: Severity::Error,
    other_severities: &[],
    checks: "Each address is an IP address or a CIDR block; CIDR blocks need `resolution: NONE` \
        or `STATIC`.",
    why: concat!(
        "The addresses are the virtual IPs the sidecars capture the entry's traffic on. A \
         malformed one is refused; a CIDR block with DNS resolution asks the proxy to resolve one \
         host name for a whole range of destinations, which cannot work.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: legacy-datacenter
  namespace: payments
spec:
  hosts:
  - legacy.internal.example.com
  addresses:
  - 10.20.0.0/16
  location: MESH_EXTERNAL
  ports:
  - number: 5432
    name: tcp-postgres
    protocol: TCP
  resolution: DNS
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: legacy-datacenter
  namespace: payments
spec:
  hosts:
  - legacy.internal.example.com
  addresses:
  - 10.20.0.0/16
  location: MESH_EXTERNAL
  ports:
  - number: 5432
    name: tcp-postgres
    protocol: TCP
  resolution: NONE
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `serviceentry-ports`.
pub const PORTS: RuleDoc = RuleDoc {
    kinds: SERVICE_ENTRY,
    severity: Severity::Error,
    other_severities: &[],
    checks: "Every port has a number and a name. Numbers are unique and within 1-65535 (so is \
        `targetPort`), names are unique DNS-1123 labels (Istio also accepts capitals), and the \
        protocol is one Istio knows, in any case: HTTP, HTTPS, HTTP2, HTTP_PROXY, GRPC, \
        GRPC-WEB, TLS, TCP, UDP, MONGO, REDIS or MYSQL.",
    why: concat!(
        "The ports decide which listeners the sidecars open for the entry and how they treat \
         the traffic (HTTP routing, TLS passthrough, opaque TCP). Two ports with one number or \
         one name give a listener two meanings, and an unknown protocol leaves the proxy without \
         one.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: payments-provider
  namespace: payments
spec:
  hosts:
  - api.example.com
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: tls_443
    protocol: TLS
  resolution: DNS
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: payments-provider
  namespace: payments
spec:
  hosts:
  - api.example.com
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: tls-443
    protocol: TLS
  resolution: DNS
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `serviceentry-resolution`.
pub const RESOLUTION: RuleDoc = RuleDoc {
    kinds: SERVICE_ENTRY,
    severity: Severity::Error,
    other_severities: &[(
        Severity::Warning,
        "a DNS entry with addresses gives several hosts a port proxied as TCP (HTTPS, TLS)",
    )],
    checks: "The endpoints, hosts, addresses, ports and location fit the resolution mode: no \
        endpoints with `NONE`; no wildcard host under `DNS` or `DNS_ROUND_ROBIN` without \
        endpoints; at most one endpoint with `DNS_ROUND_ROBIN`; several hosts under a mode \
        other than `NONE` only with HTTP or TLS ports (and, under `DNS` with addresses, a \
        warning for an HTTPS or TLS port). `DYNAMIC_DNS` needs Istio 1.28 or later in \
        `minIstioVersion`, wildcard hosts, no addresses and no endpoints, and ports of the \
        protocols the oldest release takes: HTTP in 1.28, also TLS from 1.29, also GRPC and \
        HTTP2 from 1.30; `location: MESH_INTERNAL` only from 1.30, and not on an entry \
        labelled `istio.io/use-waypoint`. What each endpoint holds is \
        `serviceentry-endpoints`' business, the selector `serviceentry-workload-selector`'s.",
    why: concat!(
        "The resolution mode decides where the proxy sends the entry's traffic: `NONE` to the \
         address the client dialled, `STATIC` to the listed IPs, `DNS` to what the endpoints (or \
         the host itself) resolve to, `DYNAMIC_DNS` to what the requested host name resolves \
         to, through a dynamic forward proxy that only understands some protocols. A wildcard \
         host has no name to resolve under `DNS`, and plain TCP carries no host name, so \
         several TCP hosts on one port cannot be told apart.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: google-apis
  namespace: payments
spec:
  hosts:
  - \"*.googleapis.com\"
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: tls
    protocol: TLS
  resolution: DNS
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: google-apis
  namespace: payments
spec:
  hosts:
  - \"*.googleapis.com\"
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: tls
    protocol: TLS
  resolution: NONE
",
    analyzer: &[
        SCHEMA_VALIDATION_ERROR,
        SCHEMA_WARNING.only("for several hosts sharing addresses on an HTTPS or TLS port"),
    ],
};

/// `serviceentry-addresses-required`.
pub const ADDRESSES_REQUIRED: RuleDoc = RuleDoc {
    kinds: SERVICE_ENTRY,
    severity: Severity::Warning,
    other_severities: &[],
    checks: "A port whose protocol is TCP, or unset, on an entry without `addresses`, unless \
        Istio has allocated one (`status.addresses`).",
    why: "Opaque TCP carries no host name, so a sidecar can tell external TCP services apart \
        only by destination IP and port. Without a virtual IP the entry gets a listener for its \
        port on every address, which every other such entry on that port shares: traffic can \
        reach the wrong entry's endpoints, or pass through as unknown traffic. With DNS proxying \
        and automatic address allocation Istio assigns the address itself (`status.addresses`, \
        which this rule honours); on a mesh that allocates addresses but whose manifests are \
        checked before they reach it, turn the rule `off` in the policy.",
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: orders-db
  namespace: payments
spec:
  hosts:
  - orders-db.example.com
  location: MESH_EXTERNAL
  ports:
  - number: 5432
    name: tcp-postgres
    protocol: TCP
  resolution: DNS
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: orders-db
  namespace: payments
spec:
  hosts:
  - orders-db.example.com
  addresses:
  - 240.240.0.10
  location: MESH_EXTERNAL
  ports:
  - number: 5432
    name: tcp-postgres
    protocol: TCP
  resolution: DNS
",
    analyzer: &[SERVICE_ENTRY_ADDRESSES_REQUIRED],
};

/// `serviceentry-export-to`.
pub const EXPORT_TO: RuleDoc = RuleDoc {
    kinds: SERVICE_ENTRY,
    severity: Severity::Error,
    other_severities: &[],
    checks: "`exportTo` entries are `.`, `*`, `~` (export to no one) or namespace names \
        (DNS-1123 labels), each listed once (`.` and the object's own namespace are the same \
        entry); `*` and `~` stand alone.",
    why: concat!(
        "`exportTo` decides which namespaces' sidecars and gateways can reach the external \
         service through the entry, so a mistake either cuts clients off or publishes the entry \
         mesh-wide. `~` next to other entries contradicts itself.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: billing-api
  namespace: payments
spec:
  hosts:
  - billing.example.com
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: https
    protocol: HTTPS
  resolution: DNS
  exportTo:
  - \"~\"
  - \".\"
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: billing-api
  namespace: payments
spec:
  hosts:
  - billing.example.com
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: https
    protocol: HTTPS
  resolution: DNS
  exportTo:
  - \".\"
",
    analyzer: &[SCHEMA_VALIDATION_ERROR],
};

/// `serviceentry-global-multicluster`.
pub const GLOBAL_MULTICLUSTER: RuleDoc = RuleDoc {
    kinds: SERVICE_ENTRY,
    severity: Severity::Warning,
    other_severities: &[],
    checks: "The retired `.global` multicluster pattern: one finding per host ending in \
        `.global`, and on such an entry one per address outside 240.0.0.0/4 (the class E range \
        its addresses come from) and one per endpoint port other than 15443 (the gateway port \
        its traffic goes through).",
    why: "`.global` ServiceEntries belong to Istio's replicated-control-plane multicluster \
        setup, which Istio retired in favour of multi-primary and primary-remote installations, \
        where each istiod discovers the other clusters' Services itself. Every such entry is \
        something that stops working when the old setup is taken down, and clients calling a \
        `.global` name have to move to the Service's own name. An entry that does not \
        follow the pattern's conventions (an address in the class E range, endpoints on gateway \
        port 15443) probably never worked.",
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: reviews-cluster2
  namespace: bookinfo
spec:
  hosts:
  - reviews.bookinfo.global
  location: MESH_INTERNAL
  addresses:
  - 240.0.0.2
  ports:
  - number: 9080
    name: http
    protocol: HTTP
  resolution: DNS
  endpoints:
  - address: cluster2-eastwest.example.com
    ports:
      http: 15443
",
    fixed: "\
# Nothing: in a multi-primary or primary-remote mesh istiod discovers the other
# cluster's Services, and clients call reviews.bookinfo.svc.cluster.local.
",
    analyzer: NO_ANALYZER,
};
