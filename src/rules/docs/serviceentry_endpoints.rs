//! The documentation of the ServiceEntry rules about endpoints and the workload selector.

use super::{RuleDoc, SCHEMA_VALIDATION_ERROR, SCHEMA_WARNING};
use crate::rules::{ObjectKind, Severity};

const SERVICE_ENTRY: &[ObjectKind] = &[ObjectKind::ServiceEntry];

/// `serviceentry-endpoints`.
pub const ENDPOINTS: RuleDoc = RuleDoc {
    kinds: SERVICE_ENTRY,
    severity: Severity::Error,
    other_severities: &[(
        Severity::Warning,
        "a STATIC endpoint has no address but a network, so it is reached only through that \
         network's gateway",
    )],
    checks: "Each endpoint of a `STATIC`, `DNS` or `DNS_ROUND_ROBIN` entry: under `STATIC` it \
        has an address (or at least a network), which is an IP address or a `unix://` socket \
        path that is absolute (or an abstract `@name`) and not a directory; a socket endpoint \
        lists no ports and sits in an entry of exactly one port. Under `DNS` the address is an \
        IP address or a DNS name (no `host:port`, no wildcard, at most 255 characters). Every \
        endpoint port is named after a port in `spec.ports` and numbered 1-65535, and the \
        endpoint's labels are valid Kubernetes labels.",
    why: concat!(
        "The endpoints are where the sidecars send the entry's traffic. An address Istio cannot \
         parse (a `host:port`, a relative socket path) leaves the endpoint out or the entry \
         refused; the port a request goes to is looked up by the port's name, so an endpoint \
         port under a name the entry does not declare is never used; and one socket serves one \
         port, so the entry cannot map several ports onto it.",
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
  - payments.example.com
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: https
    protocol: HTTPS
  resolution: DNS
  endpoints:
  - address: eu.payments.example.com:8443
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: payments-provider
  namespace: payments
spec:
  hosts:
  - payments.example.com
  location: MESH_EXTERNAL
  ports:
  - number: 443
    name: https
    protocol: HTTPS
  resolution: DNS
  endpoints:
  - address: eu.payments.example.com
    ports:
      https: 8443
",
    analyzer: &[
        SCHEMA_VALIDATION_ERROR,
        SCHEMA_WARNING.only("for an endpoint with a network and no address"),
    ],
};

/// `serviceentry-workload-selector`.
pub const WORKLOAD_SELECTOR: RuleDoc = RuleDoc {
    kinds: SERVICE_ENTRY,
    severity: Severity::Error,
    other_severities: &[(
        Severity::Warning,
        "the selector has no labels, or the entry's resolution is NONE",
    )],
    checks: "`workloadSelector` labels have non-empty keys and no `*` in keys or values, and \
        the selector is not combined with `endpoints`. A selector without labels, and one on \
        an entry with `resolution: NONE` (the default), are warnings.",
    why: concat!(
        "The selector picks the pods and WorkloadEntries that serve the entry, by exact label \
         match: `*` is not a wildcard, so a selector with one matches nothing, and the entry has \
         no endpoints. A selector without labels picks every workload in the namespace. Under \
         resolution NONE the proxies send traffic to the address the client dialled, so the \
         selected workloads are never used.",
        istio_validates!()
    ),
    fix: "",
    failing: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: billing-vms
  namespace: payments
spec:
  hosts:
  - billing.vms.internal
  location: MESH_INTERNAL
  ports:
  - number: 8080
    name: http
    protocol: HTTP
  resolution: STATIC
  workloadSelector:
    labels:
      app: billing-*
",
    fixed: "\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: billing-vms
  namespace: payments
spec:
  hosts:
  - billing.vms.internal
  location: MESH_INTERNAL
  ports:
  - number: 8080
    name: http
    protocol: HTTP
  resolution: STATIC
  workloadSelector:
    labels:
      app: billing-vm
",
    analyzer: &[
        SCHEMA_VALIDATION_ERROR,
        SCHEMA_WARNING.only("for a selector without labels or under resolution NONE"),
    ],
};
