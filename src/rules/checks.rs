//! Which rule modules run, in which order, for which kind: one table, [`CHECKS`], with the rules
//! each module can report. `/mutate` runs only the modules that hold a fixable rule
//! ([`Scope::Fixable`]), read from the catalog through that table, not kept as a list of its own.

use super::{
    Finding, ObjectKind, Rule, Subject, api_version, destinationrule, ignore, namespace,
    serviceentry, spelling, virtualservice,
};

/// One rule module, for the kinds it reads.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// The kinds it runs for.
    pub kinds: &'static [ObjectKind],
    /// Every rule it can report.
    pub rules: &'static [Rule],
    /// Runs it, with what the checks of one evaluation share.
    pub run: fn(&Subject<'_>, &Shared<'_>) -> Vec<Finding>,
    /// In [`Scope::Fixable`], a cheap test that the module can find anything at all: the
    /// schema walk, most of the cost on large objects, can only rename a snake_case key.
    pub fixable_only_if: Option<fn(&Subject<'_>) -> bool>,
}

use ObjectKind::{DestinationRule, Namespace, ServiceEntry, VirtualService};

fn virtualservice_api_version(subject: &Subject<'_>) -> Vec<Finding> {
    api_version::evaluate(subject, Rule::VirtualServiceApiVersion)
        .into_iter()
        .collect()
}

fn has_snake_case_key(subject: &Subject<'_>) -> bool {
    subject
        .object
        .get("spec")
        .is_some_and(crate::object::fields::has_underscore_key)
}

/// Every rule module, in the order their findings are reported. Conversions come before the
/// schema walk's renames: the other fixes name keys as received, and a `move` of a container
/// carries whatever they changed inside it.
const CHECKS: &[Check] = &[
    Check {
        kinds: &[Namespace],
        rules: &[
            Rule::NamespaceInjectionConflict,
            Rule::NamespaceInjectionShadowedRevision,
            Rule::NamespaceInjectionLabelValue,
        ],
        run: |subject, _| namespace::evaluate(subject),
        fixable_only_if: None,
    },
    Check {
        kinds: &[VirtualService],
        rules: &[
            Rule::VirtualServiceLegacyFields,
            Rule::VirtualServiceDeprecatedFields,
        ],
        run: virtualservice::legacy::evaluate,
        fixable_only_if: None,
    },
    Check {
        kinds: &[VirtualService],
        rules: &[
            Rule::VirtualServiceHosts,
            Rule::VirtualServiceRoutes,
            Rule::VirtualServiceDestinations,
            Rule::VirtualServiceWeights,
            Rule::VirtualServiceFault,
            Rule::VirtualServiceMirror,
            Rule::VirtualServiceGateways,
            Rule::VirtualServiceExportTo,
            Rule::VirtualServiceExternalMesh,
            Rule::VirtualServiceDelegate,
            Rule::VirtualServiceHeaders,
            Rule::VirtualServiceMatch,
            Rule::VirtualServiceRetries,
            Rule::VirtualServiceCors,
            Rule::VirtualServiceRewrite,
            Rule::VirtualServiceRedirect,
            Rule::VirtualServiceDirectResponse,
            Rule::VirtualServiceUnreachable,
        ],
        run: virtualservice::evaluate_routes,
        fixable_only_if: None,
    },
    Check {
        kinds: &[VirtualService],
        rules: &[Rule::VirtualServiceApiVersion],
        run: |subject, _| virtualservice_api_version(subject),
        fixable_only_if: None,
    },
    Check {
        kinds: &[ServiceEntry],
        rules: &[
            Rule::ServiceEntryHosts,
            Rule::ServiceEntryAddresses,
            Rule::ServiceEntryPorts,
            Rule::ServiceEntryResolution,
            Rule::ServiceEntryAddressesRequired,
            Rule::ServiceEntryExportTo,
            Rule::ServiceEntryGlobalMulticluster,
            Rule::ServiceEntryApiVersion,
            Rule::ServiceEntryEndpoints,
            Rule::ServiceEntryWorkloadSelector,
        ],
        run: |subject, _| serviceentry::evaluate(subject),
        fixable_only_if: None,
    },
    Check {
        kinds: &[DestinationRule],
        rules: &[Rule::DestinationRuleDeprecatedFields],
        run: |subject, _| destinationrule::deprecated::evaluate(subject),
        fixable_only_if: None,
    },
    Check {
        kinds: &[DestinationRule],
        rules: &[
            Rule::DestinationRuleHost,
            Rule::DestinationRuleSubsets,
            Rule::DestinationRuleTrafficPolicy,
            Rule::DestinationRuleConnectionPool,
            Rule::DestinationRuleLoadBalancer,
            Rule::DestinationRuleOutlierDetection,
            Rule::DestinationRuleTls,
            Rule::DestinationRuleExportTo,
            Rule::DestinationRuleWorkloadSelector,
        ],
        run: |subject, _| destinationrule::evaluate_spec(subject),
        fixable_only_if: None,
    },
    Check {
        kinds: &[VirtualService, ServiceEntry, DestinationRule],
        rules: &[
            Rule::VirtualServiceFieldSpelling,
            Rule::VirtualServiceUnknownFields,
            Rule::ServiceEntryFieldSpelling,
            Rule::ServiceEntryUnknownFields,
            Rule::DestinationRuleFieldSpelling,
            Rule::DestinationRuleUnknownFields,
        ],
        run: |subject, _| spelling::evaluate(subject),
        fixable_only_if: Some(has_snake_case_key),
    },
    Check {
        kinds: &[Namespace, VirtualService, ServiceEntry, DestinationRule],
        rules: &[Rule::IgnoreAnnotation],
        run: |subject, _| ignore::evaluate(subject),
        fixable_only_if: None,
    },
];

/// What the checks of one evaluation read from the object and share, each read at most once:
/// on a large object every pass over it costs a reading of memory spread over the heap.
pub struct Shared<'a> {
    spec: &'a serde_json::Map<String, serde_json::Value>,
    routes: std::cell::OnceCell<virtualservice::view::Routes<'a>>,
}

impl<'a> Shared<'a> {
    /// Nothing read yet from `subject`.
    pub fn new(subject: &Subject<'a>) -> Self {
        Shared {
            spec: subject.spec(),
            routes: std::cell::OnceCell::new(),
        }
    }

    /// The routes of a VirtualService's spec.
    pub(crate) fn routes(&self) -> &virtualservice::view::Routes<'a> {
        self.routes
            .get_or_init(|| virtualservice::view::Routes::of(self.spec))
    }
}

/// The rule modules, in order.
pub fn checks() -> &'static [Check] {
    CHECKS
}

/// Which rules a caller needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every rule.
    All,
    /// The modules that hold a fixable rule: all `/mutate` can use. The structural rules and
    /// the API-version hints can never produce a patch, so `/mutate` does not pay for them.
    Fixable,
}

/// Runs every rule for the subject's kind. The webhook and the CLI both call this.
pub fn evaluate(subject: &Subject<'_>) -> Vec<Finding> {
    evaluate_scoped(subject, Scope::All)
}

/// Runs the rules of `scope` for the subject's kind.
pub fn evaluate_scoped(subject: &Subject<'_>, scope: Scope) -> Vec<Finding> {
    if !subject.object.is_object() {
        return Vec::new();
    }
    let mut findings = Vec::new();
    let shared = Shared::new(subject);
    for check in CHECKS.iter().filter(|c| c.kinds.contains(&subject.kind)) {
        if scope == Scope::Fixable
            && (!check.rules.iter().any(|rule| rule.fixable())
                || check.fixable_only_if.is_some_and(|can| !can(subject)))
        {
            continue;
        }
        findings.extend((check.run)(subject, &shared));
    }
    findings
}
