//! The long form of the catalog: for each rule, the kinds it reads, its usual severity and when it
//! reports another, what it checks and why that matters, how it is fixed, a failing manifest with
//! its corrected form, and the Istio analyzer messages it corresponds to. `meshgate rules`,
//! `meshgate explain` and docs/rules.md are rendered from it, and the tests run every example
//! through the rules, so the documentation cannot drift from what the rules do.

/// The sentences every rule that follows Istio's own validation shares, after what is specific
/// to it (defined before the modules that use it).
macro_rules! istio_validates {
    () => {
        " Istio's own validation (istiod's validating webhook, and `istioctl analyze` as \
         IST0106) rejects the object as well; meshgate checks it so that the mistake is caught in \
         CI, and on clusters where Istio's webhook is not in the path: not yet installed for a new \
         control plane, or failing open during an upgrade."
    };
}

mod destinationrule;
mod destinationrule_spec;
mod ignore;
mod namespace;
mod serviceentry;
mod serviceentry_endpoints;
mod virtualservice_fields;
mod virtualservice_routes;
mod virtualservice_structure;

use super::{ObjectKind, Rule, Severity};

/// The documentation of one rule.
#[derive(Debug, Clone, Copy)]
pub struct RuleDoc {
    /// The kinds whose objects the rule reads.
    pub kinds: &'static [ObjectKind],
    /// The severity of most of its findings.
    pub severity: Severity,
    /// The other severities it reports, each with when.
    pub other_severities: &'static [(Severity, &'static str)],
    /// What it checks.
    pub checks: &'static str,
    /// What breaks in the mesh or at the API server when the finding is ignored.
    pub why: &'static str,
    /// How the fix rewrites the object, and when it cannot; empty for a rule without a fix.
    pub fix: &'static str,
    /// A minimal manifest the rule fires on (YAML).
    pub failing: &'static str,
    /// The same manifest corrected: the rule does not fire on it (YAML; for a fixable rule, what
    /// the fix writes).
    pub fixed: &'static str,
    /// The Istio analyzer messages (`istioctl analyze`) the rule corresponds to; empty for none.
    pub analyzer: &'static [AnalyzerMessage],
}

/// A message of Istio's configuration analysis (`pkg/config/analysis/msg/messages.yaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalyzerMessage {
    /// `IST0106`.
    pub code: &'static str,
    /// `SchemaValidationError`.
    pub name: &'static str,
    /// Which findings or Istio releases it covers; empty when it covers the whole rule.
    pub note: &'static str,
}

impl AnalyzerMessage {
    /// This message, limited to what `note` says.
    const fn only(self, note: &'static str) -> Self {
        AnalyzerMessage { note, ..self }
    }
}

/// No analyzer message corresponds to the rule.
const NO_ANALYZER: &[AnalyzerMessage] = &[];

/// IST0002: Istio's deprecation analyzer.
const DEPRECATED: AnalyzerMessage = AnalyzerMessage {
    code: "IST0002",
    name: "Deprecated",
    note: "",
};

/// IST0106: an error of Istio's own validation (istiod's validating webhook runs the same code).
const SCHEMA_VALIDATION_ERROR: AnalyzerMessage = AnalyzerMessage {
    code: "IST0106",
    name: "SchemaValidationError",
    note: "",
};

/// IST0123: the injection analyzer.
const NAMESPACE_MULTIPLE_INJECTION_LABELS: AnalyzerMessage = AnalyzerMessage {
    code: "IST0123",
    name: "NamespaceMultipleInjectionLabels",
    note: "",
};

/// IST0133: a warning of Istio's own validation.
const SCHEMA_WARNING: AnalyzerMessage = AnalyzerMessage {
    code: "IST0133",
    name: "SchemaWarning",
    note: "",
};

/// IST0134: the ServiceEntry address analyzer.
const SERVICE_ENTRY_ADDRESSES_REQUIRED: AnalyzerMessage = AnalyzerMessage {
    code: "IST0134",
    name: "ServiceEntryAddressesRequired",
    note: "",
};

impl Rule {
    /// The rule's documentation.
    pub fn doc(self) -> &'static RuleDoc {
        use destinationrule as dr;
        use destinationrule_spec as drs;
        use serviceentry as se;
        use serviceentry_endpoints as se_endpoints;
        use virtualservice_fields as vsf;
        use virtualservice_routes as vsr;
        use virtualservice_structure as vss;
        match self {
            Rule::NamespaceInjectionConflict => &namespace::INJECTION_CONFLICT,
            Rule::NamespaceInjectionShadowedRevision => &namespace::SHADOWED_REVISION,
            Rule::NamespaceInjectionLabelValue => &namespace::LABEL_VALUE,
            Rule::VirtualServiceLegacyFields => &vsf::LEGACY_FIELDS,
            Rule::VirtualServiceDeprecatedFields => &vsf::DEPRECATED_FIELDS,
            Rule::VirtualServiceFieldSpelling => &vsf::FIELD_SPELLING,
            Rule::VirtualServiceUnknownFields => &vsf::UNKNOWN_FIELDS,
            Rule::VirtualServiceApiVersion => &vsf::API_VERSION,
            Rule::VirtualServiceHosts => &vss::HOSTS,
            Rule::VirtualServiceRoutes => &vss::ROUTES,
            Rule::VirtualServiceDestinations => &vss::DESTINATIONS,
            Rule::VirtualServiceWeights => &vss::WEIGHTS,
            Rule::VirtualServiceFault => &vss::FAULT,
            Rule::VirtualServiceMirror => &vss::MIRROR,
            Rule::VirtualServiceGateways => &vss::GATEWAYS,
            Rule::VirtualServiceExportTo => &vss::EXPORT_TO,
            Rule::VirtualServiceExternalMesh => &vss::EXTERNAL_MESH,
            Rule::VirtualServiceRetries => &vsr::RETRIES,
            Rule::VirtualServiceCors => &vsr::CORS,
            Rule::VirtualServiceRewrite => &vsr::REWRITE,
            Rule::VirtualServiceRedirect => &vsr::REDIRECT,
            Rule::VirtualServiceDirectResponse => &vsr::DIRECT_RESPONSE,
            Rule::VirtualServiceHeaders => &vsr::HEADERS,
            Rule::VirtualServiceMatch => &vsr::MATCH,
            Rule::VirtualServiceDelegate => &vsr::DELEGATE,
            Rule::VirtualServiceUnreachable => &vsr::UNREACHABLE,
            Rule::ServiceEntryFieldSpelling => &se::FIELD_SPELLING,
            Rule::ServiceEntryUnknownFields => &se::UNKNOWN_FIELDS,
            Rule::ServiceEntryApiVersion => &se::API_VERSION,
            Rule::ServiceEntryHosts => &se::HOSTS,
            Rule::ServiceEntryAddresses => &se::ADDRESSES,
            Rule::ServiceEntryPorts => &se::PORTS,
            Rule::ServiceEntryResolution => &se::RESOLUTION,
            Rule::ServiceEntryAddressesRequired => &se::ADDRESSES_REQUIRED,
            Rule::ServiceEntryExportTo => &se::EXPORT_TO,
            Rule::ServiceEntryGlobalMulticluster => &se::GLOBAL_MULTICLUSTER,
            Rule::ServiceEntryEndpoints => &se_endpoints::ENDPOINTS,
            Rule::ServiceEntryWorkloadSelector => &se_endpoints::WORKLOAD_SELECTOR,
            Rule::DestinationRuleDeprecatedFields => &dr::DEPRECATED_FIELDS,
            Rule::DestinationRuleFieldSpelling => &dr::FIELD_SPELLING,
            Rule::DestinationRuleUnknownFields => &dr::UNKNOWN_FIELDS,
            Rule::DestinationRuleHost => &drs::HOST,
            Rule::DestinationRuleSubsets => &drs::SUBSETS,
            Rule::DestinationRuleTrafficPolicy => &drs::TRAFFIC_POLICY,
            Rule::DestinationRuleConnectionPool => &drs::CONNECTION_POOL,
            Rule::DestinationRuleLoadBalancer => &drs::LOAD_BALANCER,
            Rule::DestinationRuleOutlierDetection => &drs::OUTLIER_DETECTION,
            Rule::DestinationRuleTls => &drs::TLS,
            Rule::DestinationRuleExportTo => &drs::EXPORT_TO,
            Rule::DestinationRuleWorkloadSelector => &drs::WORKLOAD_SELECTOR,
            Rule::IgnoreAnnotation => &ignore::IGNORE_ANNOTATION,
        }
    }
}

/// The texts the `*-field-spelling`, `*-unknown-fields` and `*-api-version` rules of every kind
/// share.
mod shared {
    /// `*-field-spelling`: what it checks.
    pub const SPELLING_CHECKS: &str = "A snake_case key, the proto field name (`per_try_timeout`, \
        `export_to`), where the CRD schema declares its camelCase form (`perTryTimeout`, \
        `exportTo`).";
    /// `*-field-spelling`: why it matters.
    pub const SPELLING_WHY: &str = "Istio's own parser accepts both spellings, so the manifest \
        reads right in review and works where the object never passes through the API server's \
        schema, but current Istio CRDs declare only camelCase: the API server prunes the \
        snake_case key while it decodes the request (or refuses the object under kubectl's strict \
        field validation). The setting is then missing from the stored object, and nothing says \
        so.";
    /// `*-field-spelling`: the fix.
    pub const SPELLING_FIX: &str = "Renamed to the camelCase key (a JSON Patch `move`, so the \
        value is kept as written), by the mutating webhook and by `meshgate fix`. When both \
        spellings are present the finding stays: which value is meant is for the author to say.";
    /// `*-unknown-fields`: what it checks.
    pub const UNKNOWN_CHECKS: &str = "A key that the Istio `networking.istio.io/v1` schema \
        meshgate ships does not declare at that place: a typo, a field of another kind, or a \
        field newer than this meshgate. The message names the nearest declared key.";
    /// `*-unknown-fields`: why it matters.
    pub const UNKNOWN_WHY: &str = "The API server prunes undeclared fields (or refuses them \
        under kubectl's strict field validation), so a misspelt setting is no error anywhere: it \
        is simply absent from the stored object and from the proxies' configuration. The default \
        action is `warn`, so that objects written for an Istio newer than meshgate are never \
        blocked; `meshgate check` counts the finding as the error it is.";
    /// `*-api-version`: what it checks.
    pub const API_VERSION_CHECKS: &str = "The object is written (or the request is made) as \
        `networking.istio.io/v1alpha3` or `networking.istio.io/v1beta1`.";
    /// `*-api-version`: why it matters.
    pub const API_VERSION_WHY: &str = "Nothing breaks: the three versions serve the same \
        schema. `networking.istio.io/v1` is served since Istio 1.22 and is the version Istio's \
        documentation and tooling use; moving during a migration, while every manifest is touched \
        anyway, saves a second pass. Keep the old version while any cluster the manifests reach \
        runs an Istio older than 1.22, whose CRDs do not serve `v1`.";
}
