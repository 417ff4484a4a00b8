//! The rule catalog (documented in docs/rules.md, printed by `meshgate rules`): every rule id with
//! its metadata, the finding and fix types, and `evaluate`, the one entry point the webhook and
//! the CLI share. Rules are pure: they see an object and its request context, never HTTP, files
//! or a cluster.

pub mod api_version;
mod checks;
pub mod converted;
pub mod destinationrule;
pub mod docs;
pub mod domains;
pub mod durations;
pub mod edit;
pub mod export_to;
pub mod ignore;
pub mod names;
pub mod namespace;
pub mod numbers;
pub mod patch;
pub mod serviceentry;
pub mod spelling;
mod suggest;
pub mod virtualservice;
pub mod vocabulary;

use crate::object::fields::member;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

use serde_json::{Map, Value};

pub use crate::object::{FieldPath, ObjectKind, path};
pub use patch::PatchOp;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Advice.
    Info,
    /// Works today but risky or deprecated.
    Warning,
    /// The object is broken or will silently lose configuration.
    Error,
}

impl Severity {
    /// The lowercase name used in messages and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What the policy does with a rule's findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// `error` findings deny; others warn.
    Deny,
    /// Every finding is a warning.
    Warn,
    /// The mutating webhook applies the fix; where it cannot, as `deny`.
    Fix,
    /// The rule is not run.
    Off,
}

impl Action {
    /// The lowercase name used in the policy file and in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deny => "deny",
            Action::Warn => "warn",
            Action::Fix => "fix",
            Action::Off => "off",
        }
    }
}

/// Declares the catalog once: variant, id, whether it is fixable, its default action.
macro_rules! catalog {
    ($($variant:ident => $id:literal, fixable: $fixable:literal, default: $default:ident, $summary:literal;)*) => {
        /// A rule of the catalog.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule {
            $(#[doc = $summary] $variant,)*
        }

        impl Rule {
            /// Every rule, in catalog order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// The rule id users write in policies and see in messages.
            pub fn id(self) -> &'static str {
                match self {
                    $(Rule::$variant => $id,)*
                }
            }

            /// Whether the rule can compute a fix (only these accept the action `fix`).
            pub fn fixable(self) -> bool {
                match self {
                    $(Rule::$variant => $fixable,)*
                }
            }

            /// What the rule checks, in one sentence (help text of reports).
            pub fn summary(self) -> &'static str {
                match self {
                    $(Rule::$variant => $summary,)*
                }
            }

            /// The action when the policy does not name the rule.
            pub fn default_action(self) -> Action {
                match self {
                    $(Rule::$variant => Action::$default,)*
                }
            }
        }
    };
}

catalog! {
    NamespaceInjectionConflict => "namespace-injection-conflict", fixable: true, default: Deny, "A namespace selects more than one sidecar injector (istio-injection with istio.io/rev or istio.io/dataplane-mode), so injection fails.";
    NamespaceInjectionShadowedRevision => "namespace-injection-shadowed-revision", fixable: true, default: Warn, "istio-injection other than enabled overrides istio.io/rev, which then has no effect.";
    NamespaceInjectionLabelValue => "namespace-injection-label-value", fixable: false, default: Warn, "istio-injection has a value other than enabled or disabled, which Istio ignores.";
    VirtualServiceLegacyFields => "virtualservice-legacy-fields", fixable: true, default: Fix, "Fields removed in Istio 1.5 that current CRDs drop (appendHeaders, websocketUpgrade, fault.abort.percent, ...).";
    VirtualServiceDeprecatedFields => "virtualservice-deprecated-fields", fixable: true, default: Fix, "Deprecated fields with a current replacement (fault.delay.percent, mirrorPercent, corsPolicy.allowOrigin).";
    VirtualServiceFieldSpelling => "virtualservice-field-spelling", fixable: true, default: Fix, "A snake_case key whose camelCase form the CRD declares; the API server drops the snake_case one.";
    VirtualServiceUnknownFields => "virtualservice-unknown-fields", fixable: false, default: Warn, "A key the Istio schema does not declare: a typo, or a field newer than meshgate.";
    VirtualServiceApiVersion => "virtualservice-api-version", fixable: false, default: Warn, "networking.istio.io/v1alpha3 or v1beta1 used where v1 is served (Istio 1.22 and later).";
    VirtualServiceHosts => "virtualservice-hosts", fixable: false, default: Deny, "Hosts must be valid names, wildcards or IPs, distinct and non-overlapping; * is not allowed with the mesh gateway.";
    VirtualServiceRoutes => "virtualservice-routes", fixable: false, default: Deny, "A VirtualService needs routes; each HTTP route a route, redirect, directResponse or delegate; each TCP/TLS route a route.";
    VirtualServiceDestinations => "virtualservice-destinations", fixable: false, default: Deny, "Destinations need a valid host (not *), a DNS-1123 subset and a port within 1-65535.";
    VirtualServiceWeights => "virtualservice-weights", fixable: false, default: Deny, "Destination weights must not be negative and should add up to 100.";
    VirtualServiceFault => "virtualservice-fault", fixable: false, default: Deny, "Fault injection needs an abort or a delay, percentages within range, an HTTP status 200-600 or a gRPC status, delays in whole ms.";
    VirtualServiceMirror => "virtualservice-mirror", fixable: false, default: Deny, "Mirror percentages within 0-100, and a destination for every mirror.";
    VirtualServiceGateways => "virtualservice-gateways", fixable: false, default: Deny, "Gateway references are name, namespace/name or mesh; the dotted legacy form is deprecated.";
    VirtualServiceExportTo => "virtualservice-export-to", fixable: false, default: Deny, "exportTo entries are ., * or namespaces, without duplicates; * stands alone.";
    VirtualServiceExternalMesh => "virtualservice-external-mesh", fixable: false, default: Deny, "external-mesh VirtualServices must live in the destination Service's namespace.";
    VirtualServiceRetries => "virtualservice-retries", fixable: false, default: Deny, "Route timeouts and retry durations of 1ms or more in whole milliseconds; retry policies need attempts wherever they set anything, and known retryOn conditions.";
    VirtualServiceCors => "virtualservice-cors", fixable: false, default: Deny, "CORS policies need non-empty origins, HTTP methods, header names and a maxAge in whole seconds.";
    VirtualServiceRewrite => "virtualservice-rewrite", fixable: false, default: Deny, "A rewrite sets uri, uriRegexRewrite (match and rewrite, RE2) or authority, and not uri with uriRegexRewrite.";
    VirtualServiceRedirect => "virtualservice-redirect", fixable: false, default: Deny, "A redirect changes something, uses a 3xx code and http/https, and prefixRewrite only behind prefix URI matches.";
    VirtualServiceDirectResponse => "virtualservice-direct-response", fixable: false, default: Deny, "A direct response has a status 200-600 and a body under 1 MiB (warned over 100 KiB).";
    VirtualServiceHeaders => "virtualservice-headers", fixable: false, default: Deny, "Header operations name settable headers with values Envoy parses; the authority is set in one place.";
    VirtualServiceMatch => "virtualservice-match", fixable: false, default: Deny, "Match conditions: header names, non-empty prefixes and regexes in RE2, JWT claims on gateways only, SNI hosts within hosts, ports, source labels and namespaces, destination subnets.";
    VirtualServiceDelegate => "virtualservice-delegate", fixable: false, default: Deny, "Delegation: a delegating route has no route or redirect, a delegate does not delegate, and Istio 1.8+ for hostless delegates.";
    VirtualServiceUnreachable => "virtualservice-unreachable", fixable: false, default: Warn, "Routes and matches an earlier route always takes first: after a route without matches, repeated matches, covered URI prefixes.";
    ServiceEntryFieldSpelling => "serviceentry-field-spelling", fixable: true, default: Fix, "A snake_case key whose camelCase form the CRD declares; the API server drops the snake_case one.";
    ServiceEntryUnknownFields => "serviceentry-unknown-fields", fixable: false, default: Warn, "A key the Istio schema does not declare: a typo, or a field newer than meshgate.";
    ServiceEntryApiVersion => "serviceentry-api-version", fixable: false, default: Warn, "networking.istio.io/v1alpha3 or v1beta1 used where v1 is served (Istio 1.22 and later).";
    ServiceEntryHosts => "serviceentry-hosts", fixable: false, default: Deny, "A ServiceEntry needs hosts that are valid names; * is not allowed, partial wildcards (*api.example.com) are warned about.";
    ServiceEntryAddresses => "serviceentry-addresses", fixable: false, default: Deny, "Addresses must be IPs or CIDRs; CIDRs need resolution NONE or STATIC.";
    ServiceEntryPorts => "serviceentry-ports", fixable: false, default: Deny, "Ports need a unique number within range, a unique DNS-1123 name and a known protocol.";
    ServiceEntryResolution => "serviceentry-resolution", fixable: false, default: Deny, "Endpoints, hosts, addresses, ports and location must fit the resolution mode (DYNAMIC_DNS by Istio release).";
    ServiceEntryAddressesRequired => "serviceentry-addresses-required", fixable: false, default: Warn, "A TCP port without addresses cannot be routed unless DNS auto-allocation assigns one (IST0134).";
    ServiceEntryExportTo => "serviceentry-export-to", fixable: false, default: Deny, "exportTo entries are ., *, ~ or namespaces, without duplicates; * and ~ stand alone.";
    ServiceEntryGlobalMulticluster => "serviceentry-global-multicluster", fixable: false, default: Warn, "The retired .global multicluster pattern: .global hosts, non class E addresses, ports other than 15443.";
    ServiceEntryEndpoints => "serviceentry-endpoints", fixable: false, default: Deny, "Endpoints need an address Istio can use, declared ports within range and valid labels; unix sockets need an absolute path and a single-port entry.";
    ServiceEntryWorkloadSelector => "serviceentry-workload-selector", fixable: false, default: Deny, "workloadSelector labels need keys and no *, and the selector takes no endpoints; warned without labels or under resolution NONE.";
    DestinationRuleDeprecatedFields => "destinationrule-deprecated-fields", fixable: true, default: Fix, "Deprecated traffic policy settings (consecutiveErrors, LEAST_CONN, consistentHash.minimumRingSize).";
    DestinationRuleFieldSpelling => "destinationrule-field-spelling", fixable: true, default: Fix, "A snake_case key whose camelCase form the CRD declares; the API server drops the snake_case one.";
    DestinationRuleUnknownFields => "destinationrule-unknown-fields", fixable: false, default: Warn, "A key the Istio schema does not declare: a typo, or a field newer than meshgate.";
    DestinationRuleHost => "destinationrule-host", fixable: false, default: Deny, "The host must be a service or DNS name, optionally with a leading wildcard.";
    DestinationRuleSubsets => "destinationrule-subsets", fixable: false, default: Deny, "Subsets need distinct DNS-1123 names and valid Kubernetes label keys and values.";
    DestinationRuleTrafficPolicy => "destinationrule-traffic-policy", fixable: false, default: Deny, "A traffic policy sets something, port-level ones name a port; tunnel and proxyProtocol are exclusive and well-formed.";
    DestinationRuleConnectionPool => "destinationrule-connection-pool", fixable: false, default: Deny, "Connection pool limits not negative, timeouts of 1ms or more in whole ms, HTTP/2 keepalives with interval and timeout.";
    DestinationRuleLoadBalancer => "destinationrule-load-balancer", fixable: false, default: Deny, "Hash cookies named, maglev tables prime, locality weights adding up to 100, region failover with outlier detection.";
    DestinationRuleOutlierDetection => "destinationrule-outlier-detection", fixable: false, default: Deny, "Outlier detection intervals of 1ms or more in whole ms, percentages within 0-100, local-origin failures counted apart.";
    DestinationRuleTls => "destinationrule-tls", fixable: false, default: Deny, "Client TLS fields must fit the mode: no files beside credentialName, MUTUAL needs cert and key, insecureSkipVerify no CA.";
    DestinationRuleExportTo => "destinationrule-export-to", fixable: false, default: Deny, "exportTo entries are ., * or namespaces, without duplicates; * stands alone; with a workloadSelector only its own namespace.";
    DestinationRuleWorkloadSelector => "destinationrule-workload-selector", fixable: false, default: Deny, "workloadSelector labels have keys and no wildcards; a selector without labels selects every workload (warning).";
    IgnoreAnnotation => "ignore-annotation", fixable: false, default: Warn, "An ignore.meshgate.io/<rule-id> annotation that silences nothing: it gives no reason, or names no rule.";
}

/// Where a fixable rule's repair is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fixable {
    /// The rule has no fix.
    No,
    /// Only the mutating webhook fixes it: the repair depends on what an UPDATE changed, which
    /// a manifest file does not show.
    Webhook,
    /// The mutating webhook and `meshgate fix` both apply the fix.
    WebhookAndFiles,
}

impl Rule {
    /// Where the rule's fix is applied (`fixable()` says whether there is one at all).
    pub fn fixing(self) -> Fixable {
        match self {
            _ if !self.fixable() => Fixable::No,
            // The namespace repairs keep the label an UPDATE added or changed and remove the
            // others; a file is read as a CREATE, whose intent is unknown.
            Rule::NamespaceInjectionConflict | Rule::NamespaceInjectionShadowedRevision => {
                Fixable::Webhook
            }
            _ => Fixable::WebhookAndFiles,
        }
    }

    /// Whether `meshgate fix` rewrites this rule's findings in manifest files.
    pub fn fixable_offline(self) -> bool {
        self.fixing() == Fixable::WebhookAndFiles
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A rule id that is not in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule id `{0}`")]
pub struct UnknownRule(pub String);

impl FromStr for Rule {
    type Err = UnknownRule;

    fn from_str(id: &str) -> Result<Self, Self::Err> {
        Rule::ALL
            .iter()
            .copied()
            .find(|rule| rule.id() == id)
            .ok_or_else(|| UnknownRule(id.to_owned()))
    }
}

/// An Istio control-plane release, `MAJOR.MINOR`; patch releases do not change the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IstioVersion {
    /// Major release (1 for every Istio so far).
    pub major: u32,
    /// Minor release.
    pub minor: u32,
}

impl IstioVersion {
    /// `MAJOR.MINOR`.
    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }
}

impl fmt::Display for IstioVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A string that is not an Istio release written `MAJOR.MINOR`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not MAJOR.MINOR (e.g. \"1.22\"){}", hint.as_ref().map(|h| format!(": write \"{h}\"")).unwrap_or_default())]
pub struct BadIstioVersion {
    /// The text as written.
    pub text: String,
    /// The `MAJOR.MINOR` the text seems to mean (`1.6` for `v1.6` or `1.6.3`).
    pub hint: Option<String>,
}

impl FromStr for IstioVersion {
    type Err = BadIstioVersion;

    /// Exactly `MAJOR.MINOR`, digits only: the README promises no more, and a patch release or
    /// a `v` prefix accepted here would read as if it meant something.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let number = |part: &str| {
            (!part.is_empty() && part.len() <= 6 && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse::<u32>().ok())
                .flatten()
        };
        let strict = text
            .split_once('.')
            .and_then(|(major, minor)| Some(Self::new(number(major)?, number(minor)?)));
        strict.ok_or_else(|| {
            // What the author probably meant, when the text holds a version at all.
            let loose = text.trim().trim_start_matches(['v', 'V']);
            let mut parts = loose.split('.');
            let hint = match (parts.next().and_then(number), parts.next().and_then(number)) {
                (Some(major), Some(minor)) => Some(format!("{major}.{minor}")),
                _ => None,
            };
            BadIstioVersion {
                text: text.to_owned(),
                hint,
            }
        })
    }
}

/// The admission operation, or `Create` for a manifest read from a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// A new object.
    Create,
    /// A change to an existing object; `Subject::old_object` holds the stored one.
    Update,
    /// Never checked.
    Delete,
    /// Never checked.
    Connect,
}

impl Operation {
    /// The API server's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

/// What a rule looks at: the object and what the request says about it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// Which kind the object is.
    pub kind: ObjectKind,
    /// The request's operation.
    pub operation: Operation,
    /// The object as received.
    pub object: &'a Value,
    /// The stored object on UPDATE.
    pub old_object: Option<&'a Value>,
    /// The API version the user wrote (`request.requestKind.version` or the manifest's).
    pub requested_version: Option<&'a str>,
    /// The namespace of the request (`request.namespace`); `metadata.namespace` when absent.
    pub namespace: Option<&'a str>,
    /// Where the object comes from, so that a message tells its reader what to change there.
    pub origin: Origin,
    /// The oldest control plane still reading the object (the policy's `minIstioVersion`):
    /// what an older Istio rejects is an error while one still runs.
    pub min_istio_version: IstioVersion,
}

/// The `minIstioVersion` when the policy does not say otherwise: safe for Istio 1.4 control planes.
pub const DEFAULT_MIN_ISTIO_VERSION: IstioVersion = IstioVersion::new(1, 4);

/// Where an object under review comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// An admission request: the user applies or edits it on a cluster (`kubectl ...`).
    Request,
    /// A manifest file: the author edits the file.
    Manifest,
}

/// The `spec` of an object that has none: rules then report what is missing.
static NO_SPEC: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);

impl<'a> Subject<'a> {
    /// A manifest on its own (from a file, or a test): a CREATE with no stored object, no
    /// requested version and no request namespace.
    pub fn created(kind: ObjectKind, object: &'a Value) -> Self {
        Subject {
            kind,
            operation: Operation::Create,
            object,
            old_object: None,
            requested_version: None,
            namespace: None,
            origin: Origin::Manifest,
            min_istio_version: DEFAULT_MIN_ISTIO_VERSION,
        }
    }

    /// The object's `spec`, or an empty map when it has none.
    pub fn spec(&self) -> &'a Map<String, Value> {
        self.object
            .get("spec")
            .and_then(Value::as_object)
            .unwrap_or(&NO_SPEC)
    }

    /// The object's namespace, from the request or from `metadata.namespace`.
    pub fn object_namespace(&self) -> Option<&'a str> {
        self.namespace
            .filter(|ns| !ns.is_empty())
            .or_else(|| member(self.object, &["metadata", "namespace"]).and_then(Value::as_str))
    }
}

/// One change a fix makes, reported to the user by `/mutate` as a warning.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Where the change is.
    pub path: FieldPath,
    /// What was done there, e.g. `removed; ...` or `moved to spec.http[0].headers.request.add`.
    pub description: String,
}

/// How to repair a finding: patch operations against the object as received.
#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    /// The operations, in order.
    pub ops: Vec<PatchOp>,
    /// One entry per changed field, for the user.
    pub changes: Vec<Change>,
    /// The oldest Istio release that reads the fields the fix writes.
    pub target_since: IstioVersion,
}

/// One rule firing at one place.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// How bad it is.
    pub severity: Severity,
    /// Where it is.
    pub path: FieldPath,
    /// What is wrong and what to write instead.
    pub message: String,
    /// The repair, when the rule can compute one for this object and request.
    pub fix: Option<Fix>,
}

impl Finding {
    /// A finding without a fix.
    pub fn new(
        rule: Rule,
        severity: Severity,
        path: FieldPath,
        message: impl Into<String>,
    ) -> Self {
        Self {
            rule,
            severity,
            path,
            message: message.into(),
            fix: None,
        }
    }

    /// This finding with the given repair (or none).
    pub fn fixed_by(self, fix: Option<Fix>) -> Self {
        Self { fix, ..self }
    }
}

/// The entries of the list `spec.<name>` that `pick` accepts, with their paths (entries of
/// another shape are the schema's business, not a rule's).
pub(crate) fn spec_list<'a, T>(
    spec: &'a serde_json::Map<String, Value>,
    name: &str,
    pick: impl Fn(&'a Value) -> Option<T>,
) -> Vec<(FieldPath, T)> {
    match spec.get_key_value(name) {
        Some((key, Value::Array(items))) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                Some((FieldPath::fields("spec").field(key).index(i), pick(item)?))
            })
            .collect(),
        _ => Vec::new(),
    }
}

pub use checks::{Check, Scope, Shared, checks, evaluate, evaluate_scoped};

/// Helpers for the rule tables of the rule modules.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// `(rule id, path, severity)` of every finding for `object` as a CREATE in `namespace`.
    pub fn summary(kind: ObjectKind, object: &Value) -> Vec<(String, String, Severity)> {
        evaluate(&Subject {
            kind,
            operation: Operation::Create,
            object,
            old_object: None,
            requested_version: Some("v1"),
            namespace: None,
            origin: Origin::Request,
            min_istio_version: DEFAULT_MIN_ISTIO_VERSION,
        })
        .into_iter()
        .map(|f| (f.rule.id().to_string(), f.path.to_string(), f.severity))
        .collect()
    }

    /// Every fix's operations in order, as the JSON Patch they make together.
    pub fn patch_of(findings: &[Finding]) -> Value {
        let all: Vec<&PatchOp> = findings
            .iter()
            .flat_map(|f| f.fix.iter().flat_map(|x| x.ops.iter()))
            .collect();
        serde_json::to_value(all).unwrap_or_default()
    }

    /// One expected row.
    pub fn row(rule: &str, path: &str, severity: Severity) -> (String, String, Severity) {
        (rule.to_string(), path.to_string(), severity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_round_trip_and_are_unique() {
        for rule in Rule::ALL {
            assert_eq!(rule.id().parse::<Rule>(), Ok(*rule));
        }
        let mut ids: Vec<_> = Rule::ALL.iter().map(|r| r.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Rule::ALL.len());
        assert_eq!(
            "virtualservice-nope".parse::<Rule>(),
            Err(UnknownRule("virtualservice-nope".into()))
        );
    }

    #[test]
    fn default_actions_follow_the_catalog() {
        assert_eq!(
            Rule::NamespaceInjectionConflict.default_action(),
            Action::Deny
        );
        assert!(Rule::NamespaceInjectionConflict.fixable());
        assert_eq!(
            Rule::NamespaceInjectionShadowedRevision.default_action(),
            Action::Warn
        );
        assert_eq!(
            Rule::VirtualServiceLegacyFields.default_action(),
            Action::Fix
        );
        assert_eq!(
            Rule::VirtualServiceUnknownFields.default_action(),
            Action::Warn
        );
        assert_eq!(
            Rule::ServiceEntryGlobalMulticluster.default_action(),
            Action::Warn
        );
        assert!(!Rule::VirtualServiceWeights.fixable());
        // Every fixable rule except the namespace ones defaults to `fix`.
        for rule in Rule::ALL {
            if rule.default_action() == Action::Fix {
                assert!(rule.fixable(), "{rule}");
            }
        }
    }

    #[test]
    fn istio_versions_parse_and_order() {
        assert_eq!("1.4".parse(), Ok(IstioVersion::new(1, 4)));
        assert_eq!("1.22".parse(), Ok(IstioVersion::new(1, 22)));
        assert!(IstioVersion::new(1, 4) < IstioVersion::new(1, 22));
        for bad in [
            "", "1", "1.x", "one.two", "1.2.x", "+1.4", "1.-4", " 1.4", "1.4 ",
        ] {
            assert!(bad.parse::<IstioVersion>().is_err(), "{bad}");
        }
        // A patch release or a `v` prefix is refused with the MAJOR.MINOR it means.
        for (bad, hint) in [("1.6.3", "1.6"), ("v1.6", "1.6"), ("1.2.3.4", "1.2")] {
            let err = bad.parse::<IstioVersion>().unwrap_err();
            assert_eq!(err.hint.as_deref(), Some(hint), "{bad}");
            assert_eq!(
                err.to_string(),
                format!("`{bad}` is not MAJOR.MINOR (e.g. \"1.22\"): write \"{hint}\"")
            );
        }
        assert_eq!("1".parse::<IstioVersion>().unwrap_err().hint, None);
    }
}
