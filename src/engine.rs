//! The engine: applies a policy (mode, per-rule action, exemptions, `minIstioVersion`,
//! ratcheting) to the findings of the rules, and turns them into what each webhook does with
//! them — the decision table of the README, in one place.

use crate::object::fields::member;
use std::collections::HashSet;

use serde_json::Value;
use serde_json::value::RawValue;

use crate::policy::{IgnoreAnnotations, Mode, Policy};
use crate::rules::{
    self, Action, FieldPath, Finding, ObjectKind, Operation, PatchOp, Rule, Severity, Subject,
};

/// Which webhook endpoint is answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Webhook {
    /// `POST /validate`: denies or warns on what remains; never patches.
    Validate,
    /// `POST /mutate`: patches what it can fix; never denies.
    Mutate,
}

impl Webhook {
    /// The endpoint's name, as in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Webhook::Validate => "validate",
            Webhook::Mutate => "mutate",
        }
    }
}

/// Who sent the request, for `exemptUsers` and `exemptGroups`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Requester<'a> {
    /// `request.userInfo.username`.
    pub username: &'a str,
    /// `request.userInfo.groups`.
    pub groups: &'a [String],
}

/// One object to judge, with what the request says about it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The rules' view: kind, operation, object, old object, requested version, namespace.
    pub subject: Subject<'a>,
    /// The user or controller making the change.
    pub requester: Requester<'a>,
    /// The stored object as received text, when `subject.old_object` was not parsed for the
    /// rules: ratcheting parses it only if something would be denied.
    pub stored: Option<&'a RawValue>,
}

/// What the policy makes of one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// The fix applies: `/mutate` patches it; `/validate` only sees it when no mutating
    /// webhook ran, and warns.
    Fix,
    /// An `error` finding under `deny` (or an unfixable `fix`): `/validate` denies.
    Deny,
    /// Reported as a warning by `/validate`.
    Warn,
}

/// A finding with the action the policy gives its rule and what follows from it.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessed {
    /// What the rule found.
    pub finding: Finding,
    /// The policy's action for the rule.
    pub action: Action,
    /// What is done with it.
    pub disposition: Disposition,
    /// Why an intended outcome did not happen (fix gated by version, denial ratcheted).
    pub note: Option<String>,
}

/// A finding the object's `ignore.meshgate.io/<rule-id>` annotation silenced, as the policy
/// allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppressed {
    /// What the rule found.
    pub finding: Finding,
    /// The policy's action for the rule.
    pub action: Action,
    /// The annotation's reason.
    pub reason: String,
}

/// Everything the engine concluded about one object.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Assessment {
    /// The policy exempts the object or the requester: allowed, nothing said.
    pub exempt: bool,
    /// The mode the policy ran in.
    pub audit: bool,
    /// Every finding of a rule that is not `off` and not silenced, in rule order.
    pub items: Vec<Assessed>,
    /// Findings silenced by the object's ignore annotations.
    pub suppressed: Vec<Suppressed>,
}

/// A message for the user: a finding, or a change a fix made.
#[derive(Debug, Clone, PartialEq)]
pub struct Reported {
    /// The rule.
    pub rule: Rule,
    /// Where.
    pub path: FieldPath,
    /// What.
    pub message: String,
}

impl Reported {
    /// `<rule-id>: <path>: <message>`, the form of warnings and deny messages.
    pub fn line(&self) -> String {
        format!("{}: {}: {}", self.rule, self.path, self.message)
    }
}

/// What one webhook answers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// Findings that deny the request (`/validate` only); empty means allowed.
    pub denials: Vec<Reported>,
    /// Warnings, in order.
    pub warnings: Vec<Reported>,
    /// JSON Patch operations (`/mutate` only).
    pub patch: Vec<PatchOp>,
    /// The rules this answer reports, with the action taken, for audit annotations and metrics.
    pub reported: Vec<(Rule, Action)>,
    /// The rules the object's ignore annotations silenced (`/validate` only).
    pub suppressed: Vec<Rule>,
}

impl Outcome {
    /// Whether the request is allowed.
    pub fn allowed(&self) -> bool {
        self.denials.is_empty()
    }
}

/// A compiled policy; cheap to share between requests.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    policy: Policy,
}

impl Engine {
    /// An engine running `policy`.
    pub fn new(policy: Policy) -> Self {
        Self { policy }
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    fn is_exempt(&self, request: &Request<'_>) -> bool {
        let policy = &self.policy;
        let namespace = match request.subject.kind {
            ObjectKind::Namespace => {
                member(request.subject.object, &["metadata", "name"]).and_then(Value::as_str)
            }
            _ => request.subject.object_namespace(),
        };
        namespace.is_some_and(|ns| policy.exempt_namespaces.contains(ns))
            || policy.exempt_users.contains(request.requester.username)
            || request
                .requester
                .groups
                .iter()
                .any(|g| policy.exempt_groups.contains(g))
    }

    /// Runs the rules on the request's object and applies the policy to each finding.
    pub fn assess(&self, request: &Request<'_>) -> Assessment {
        self.assess_scoped(request, rules::Scope::All)
    }

    /// As [`Engine::assess`], running only the rules of `scope`.
    fn assess_scoped(&self, request: &Request<'_>, scope: rules::Scope) -> Assessment {
        let subject = &Subject {
            min_istio_version: self.policy.min_istio_version,
            ..request.subject
        };
        let audit = self.policy.mode == Mode::Audit;
        if matches!(subject.operation, Operation::Delete | Operation::Connect) {
            return Assessment {
                audit,
                ..Assessment::default()
            };
        }
        if self.is_exempt(request) {
            return Assessment {
                exempt: true,
                audit,
                ..Assessment::default()
            };
        }
        let mut old_findings: Option<HashSet<(Rule, FieldPath)>> = None;
        let mut items = Vec::new();
        let mut suppressed = Vec::new();
        let reasons = match self.policy.allow_ignore_annotations {
            IgnoreAnnotations::None => Vec::new(),
            _ => rules::ignore::reasons(subject.object),
        };
        for finding in rules::evaluate_scoped(subject, scope) {
            let action = self.policy.action(finding.rule);
            if action == Action::Off {
                continue;
            }
            let (intended, mut note) = self.intended(&finding, action);
            // Judged on what enforcement would do, so audit mode previews it faithfully.
            match self.ignored(&reasons, &finding, intended) {
                Ignore::Honoured(reason) => {
                    suppressed.push(Suppressed {
                        finding,
                        action,
                        reason,
                    });
                    continue;
                }
                Ignore::Refused(why) => note = Some(join_notes(note, why)),
                Ignore::Absent => {}
            }
            let ratcheted = intended == Disposition::Deny
                && self.already_there(request, &finding, &mut old_findings);
            let disposition = match (intended, ratcheted) {
                (Disposition::Deny, true) => {
                    note = Some(join_notes(
                        note,
                        "allowed: the stored object already had it".into(),
                    ));
                    Disposition::Warn
                }
                (Disposition::Deny, false) if audit => {
                    note = Some(join_notes(note, "would deny in enforce mode".into()));
                    Disposition::Warn
                }
                (Disposition::Fix, _) if audit => {
                    note = Some(join_notes(
                        note,
                        "would be fixed by the mutating webhook in enforce mode".into(),
                    ));
                    Disposition::Warn
                }
                (other, _) => other,
            };
            items.push(Assessed {
                finding,
                action,
                disposition,
                note,
            });
        }
        Assessment {
            exempt: false,
            audit,
            items,
            suppressed,
        }
    }

    /// What the object's `ignore.meshgate.io/<rule-id>` annotation does for a finding whose
    /// disposition under enforcement is `intended`.
    fn ignored(
        &self,
        reasons: &[(Rule, &str)],
        finding: &Finding,
        intended: Disposition,
    ) -> Ignore {
        let allowed = self.policy.allow_ignore_annotations;
        if allowed == IgnoreAnnotations::None || !rules::ignore::can_silence(finding.rule) {
            return Ignore::Absent;
        }
        match rules::ignore::reason_for(reasons, finding.rule) {
            // No reason, no silence; `ignore-annotation` says so.
            None | Some("") => Ignore::Absent,
            Some(_) if intended == Disposition::Deny && allowed != IgnoreAnnotations::All => {
                // Short: it rides on a denial message, and warnings are cut at 256 bytes.
                Ignore::Refused(
                    "not silenced: the policy lets annotations silence warnings only".into(),
                )
            }
            Some(reason) => Ignore::Honoured(reason.to_string()),
        }
    }

    /// The disposition the action gives a finding, before mode and ratcheting.
    fn intended(&self, finding: &Finding, action: Action) -> (Disposition, Option<String>) {
        let as_deny = || match finding.severity {
            Severity::Error => Disposition::Deny,
            Severity::Warning | Severity::Info => Disposition::Warn,
        };
        match action {
            Action::Fix => match &finding.fix {
                Some(fix) if fix.target_since <= self.policy.min_istio_version => {
                    (Disposition::Fix, None)
                }
                Some(fix) => (
                    as_deny(),
                    Some(format!(
                        "not fixed: needs Istio {}, minIstioVersion is {}",
                        fix.target_since, self.policy.min_istio_version
                    )),
                ),
                None => (as_deny(), None),
            },
            Action::Deny => (as_deny(), None),
            Action::Warn | Action::Off => (Disposition::Warn, None),
        }
    }

    /// Ratcheting: on UPDATE, whether the stored object has the same finding (rule and path).
    fn already_there(
        &self,
        request: &Request<'_>,
        finding: &Finding,
        cache: &mut Option<HashSet<(Rule, FieldPath)>>,
    ) -> bool {
        let subject = &request.subject;
        if subject.operation != Operation::Update {
            return false;
        }
        let old_findings = cache.get_or_insert_with(|| {
            let evaluate_old = |old: &Value| {
                rules::evaluate(&Subject {
                    object: old,
                    old_object: None,
                    operation: Operation::Create,
                    ..*subject
                })
            };
            match (subject.old_object, request.stored) {
                (Some(old), _) => evaluate_old(old),
                // Already validated as JSON when the review was read.
                (None, Some(raw)) => serde_json::from_str(raw.get())
                    .map(|old: Value| evaluate_old(&old))
                    .unwrap_or_default(),
                (None, None) => Vec::new(),
            }
            // A set, so that an object with many findings is compared in linear time.
            .into_iter()
            .map(|f| (f.rule, f.path))
            .collect()
        });
        old_findings.contains(&(finding.rule, finding.path.clone()))
    }

    /// Runs the rules and answers as `webhook` would.
    pub fn review(&self, request: &Request<'_>, webhook: Webhook) -> Outcome {
        match webhook {
            // Audit mode never patches; otherwise only the rules that can patch matter.
            Webhook::Mutate if self.policy.mode == Mode::Audit => Outcome::default(),
            Webhook::Mutate => {
                outcome(&self.assess_scoped(request, rules::Scope::Fixable), webhook)
            }
            Webhook::Validate => outcome(&self.assess(request), webhook),
        }
    }
}

/// What an ignore annotation does for one finding.
enum Ignore {
    /// None, or one without a reason.
    Absent,
    /// The finding is silenced, for this reason.
    Honoured(String),
    /// The policy does not let it silence this finding; the note says why.
    Refused(String),
}

fn join_notes(first: Option<String>, second: String) -> String {
    match first {
        Some(first) => format!("{first}; {second}"),
        None => second,
    }
}

/// What `webhook` answers for an assessment (the decision table of the README).
pub fn outcome(assessment: &Assessment, webhook: Webhook) -> Outcome {
    let mut out = Outcome::default();
    if webhook == Webhook::Validate {
        out.suppressed = assessment
            .suppressed
            .iter()
            .map(|s| s.finding.rule)
            .collect();
    }
    for item in &assessment.items {
        let finding = &item.finding;
        let reported = |message: String| Reported {
            rule: finding.rule,
            path: finding.path.clone(),
            message,
        };
        let with_note = || match &item.note {
            Some(note) => format!("{} ({note})", finding.message),
            None => finding.message.clone(),
        };
        match (webhook, item.disposition) {
            (Webhook::Mutate, Disposition::Fix) => {
                let Some(fix) = &finding.fix else { continue };
                out.patch.extend(fix.ops.iter().cloned());
                out.warnings
                    .extend(fix.changes.iter().map(|change| Reported {
                        rule: finding.rule,
                        path: change.path.clone(),
                        message: change.description.clone(),
                    }));
                out.reported.push((finding.rule, Action::Fix));
            }
            (Webhook::Mutate, _) => {}
            (Webhook::Validate, Disposition::Deny) => {
                out.denials.push(reported(with_note()));
                out.reported.push((finding.rule, Action::Deny));
            }
            (Webhook::Validate, Disposition::Fix) => {
                out.warnings.push(reported(format!(
                    "{} (not fixed: is the mutating webhook installed?)",
                    finding.message
                )));
                out.reported.push((finding.rule, Action::Warn));
            }
            (Webhook::Validate, Disposition::Warn) => {
                out.warnings.push(reported(with_note()));
                out.reported.push((finding.rule, Action::Warn));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::namespace::{INJECTION, REVISION};
    use serde_json::json;

    fn ns(labels: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": labels}})
    }

    fn both() -> Value {
        ns(json!({INJECTION: "enabled", REVISION: "asm-managed"}))
    }

    fn request<'a>(
        operation: Operation,
        object: &'a Value,
        old: Option<&'a Value>,
        user: &'a str,
    ) -> Request<'a> {
        Request {
            subject: Subject {
                kind: ObjectKind::Namespace,
                operation,
                object,
                old_object: old,
                requested_version: Some("v1"),
                namespace: None,
                origin: crate::rules::Origin::Request,
                min_istio_version: crate::rules::DEFAULT_MIN_ISTIO_VERSION,
            },
            requester: Requester {
                username: user,
                groups: &[],
            },
            stored: None,
        }
    }

    fn engine(policy_yaml: &str) -> Engine {
        let text = format!("apiVersion: meshgate.io/v1alpha1\nkind: Policy\n{policy_yaml}");
        Engine::new(text.parse().unwrap())
    }

    fn rules_of(list: &[Reported]) -> Vec<String> {
        list.iter()
            .map(|r| format!("{} {}", r.rule, r.path))
            .collect()
    }

    #[test]
    fn enforce_deny_denies_on_validate_and_is_silent_on_mutate() {
        let engine = Engine::default();
        let object = both();
        let req = request(Operation::Create, &object, None, "admin");
        let validate = engine.review(&req, Webhook::Validate);
        assert_eq!(
            rules_of(&validate.denials),
            ["namespace-injection-conflict metadata.labels[istio-injection]"]
        );
        assert!(!validate.allowed());
        assert_eq!(validate.patch, vec![]);
        let mutate = engine.review(&req, Webhook::Mutate);
        assert_eq!(mutate, Outcome::default());
    }

    #[test]
    fn fix_applies_on_mutate_with_one_warning_per_change() {
        let engine = engine("rules:\n  namespace-injection-conflict: fix\n");
        let old = ns(json!({INJECTION: "enabled"}));
        let new = both();
        let req = request(Operation::Update, &new, Some(&old), "admin");
        let mutate = engine.review(&req, Webhook::Mutate);
        assert!(mutate.allowed());
        assert_eq!(
            mutate.patch,
            vec![PatchOp::Remove {
                path: FieldPath::fields("metadata.labels").key(INJECTION)
            }]
        );
        assert_eq!(
            rules_of(&mutate.warnings),
            ["namespace-injection-conflict metadata.labels[istio-injection]"]
        );
        // Without the mutating webhook, /validate sees the fixable finding and warns.
        let validate = engine.review(&req, Webhook::Validate);
        assert!(validate.allowed());
        assert_eq!(validate.patch, vec![]);
        assert_eq!(validate.warnings.len(), 1);
    }

    #[test]
    fn fix_that_cannot_apply_denies_like_deny() {
        let engine = engine("rules:\n  namespace-injection-conflict: fix\n");
        let object = both();
        let req = request(Operation::Create, &object, None, "admin");
        assert_eq!(engine.review(&req, Webhook::Mutate), Outcome::default());
        assert_eq!(engine.review(&req, Webhook::Validate).denials.len(), 1);
    }

    #[test]
    fn audit_mode_never_denies_or_patches() {
        let engine = engine("mode: audit\nrules:\n  namespace-injection-conflict: fix\n");
        let old = ns(json!({INJECTION: "enabled"}));
        let new = both();
        for (op, old) in [(Operation::Create, None), (Operation::Update, Some(&old))] {
            let req = request(op, &new, old, "admin");
            assert_eq!(engine.review(&req, Webhook::Mutate), Outcome::default());
            let validate = engine.review(&req, Webhook::Validate);
            assert!(validate.allowed());
            assert_eq!(validate.warnings.len(), 1);
            assert_eq!(
                validate.reported,
                vec![(Rule::NamespaceInjectionConflict, Action::Warn)]
            );
        }
    }

    #[test]
    fn off_says_nothing() {
        let engine = engine("rules:\n  namespace-injection-conflict: off\n");
        let object = both();
        let req = request(Operation::Create, &object, None, "admin");
        assert_eq!(engine.review(&req, Webhook::Validate), Outcome::default());
    }

    #[test]
    fn warn_action_warns() {
        let engine = engine("rules:\n  namespace-injection-conflict: warn\n");
        let object = both();
        let req = request(Operation::Create, &object, None, "admin");
        let validate = engine.review(&req, Webhook::Validate);
        assert!(validate.allowed());
        assert_eq!(validate.warnings.len(), 1);
    }

    #[test]
    fn ratchet_warns_on_update_that_keeps_an_existing_violation() {
        let engine = Engine::default();
        let old = both();
        let mut new = both();
        new["metadata"]["annotations"] = json!({"owner": "team-a"});
        let req = request(Operation::Update, &new, Some(&old), "controller");
        let validate = engine.review(&req, Webhook::Validate);
        assert!(validate.allowed(), "{validate:?}");
        assert_eq!(
            rules_of(&validate.warnings),
            ["namespace-injection-conflict metadata.labels[istio-injection]"]
        );
        assert!(validate.warnings[0].message.contains("already had it"));
        // A new violation on UPDATE is still denied.
        let clean = ns(json!({REVISION: "asm-managed"}));
        let req = request(Operation::Update, &new, Some(&clean), "admin");
        assert!(!engine.review(&req, Webhook::Validate).allowed());
    }

    #[test]
    fn exemptions_silence_everything() {
        let engine = engine(
            "exemptUsers: [system:serviceaccount:argocd:argocd-application-controller]\nexemptGroups: [platform]\nexemptNamespaces: [shop]\n",
        );
        let object = both();
        let req = request(Operation::Create, &object, None, "admin");
        let assessment = engine.assess(&req);
        assert!(assessment.exempt);
        assert!(assessment.items.is_empty());
        let mut other = both();
        other["metadata"]["name"] = json!("payments");
        let by_argo = request(
            Operation::Create,
            &other,
            None,
            "system:serviceaccount:argocd:argocd-application-controller",
        );
        assert!(engine.assess(&by_argo).exempt);
        let groups = vec!["platform".to_string()];
        let mut by_group = request(Operation::Create, &other, None, "alice");
        by_group.requester.groups = &groups;
        assert!(engine.assess(&by_group).exempt);
        let plain = request(Operation::Create, &other, None, "alice");
        assert!(!engine.assess(&plain).exempt);
    }

    #[test]
    fn delete_and_connect_are_never_checked() {
        let engine = Engine::default();
        let object = both();
        for op in [Operation::Delete, Operation::Connect] {
            let req = request(op, &object, None, "admin");
            assert_eq!(engine.review(&req, Webhook::Validate), Outcome::default());
            assert_eq!(engine.review(&req, Webhook::Mutate), Outcome::default());
        }
    }

    fn annotated(labels: Value, annotations: Value) -> Value {
        let mut object = ns(labels);
        object["metadata"]["annotations"] = annotations;
        object
    }

    #[test]
    fn an_ignore_annotation_silences_a_warning_and_is_counted() {
        let object = annotated(
            json!({INJECTION: "yes"}),
            json!({"ignore.meshgate.io/namespace-injection-label-value": "legacy tooling reads it"}),
        );
        let req = request(Operation::Create, &object, None, "alice");
        let assessment = Engine::default().assess(&req);
        assert!(assessment.items.is_empty(), "{:?}", assessment.items);
        assert_eq!(assessment.suppressed.len(), 1);
        assert_eq!(assessment.suppressed[0].reason, "legacy tooling reads it");
        assert_eq!(
            assessment.suppressed[0].finding.rule,
            Rule::NamespaceInjectionLabelValue
        );
        let validate = Engine::default().review(&req, Webhook::Validate);
        assert_eq!(validate.warnings, vec![]);
        assert_eq!(
            validate.suppressed,
            vec![Rule::NamespaceInjectionLabelValue]
        );
    }

    #[test]
    fn a_denial_is_lifted_only_where_the_policy_allows_it() {
        let object = annotated(
            json!({INJECTION: "enabled", REVISION: "asm-managed"}),
            json!({"ignore.meshgate.io/namespace-injection-conflict": "migrating, see OPS-7"}),
        );
        let req = request(Operation::Create, &object, None, "alice");
        // Default `warnings`: the denial stands and says why the annotation did nothing.
        let validate = Engine::default().review(&req, Webhook::Validate);
        assert_eq!(
            rules_of(&validate.denials),
            ["namespace-injection-conflict metadata.labels[istio-injection]"]
        );
        assert!(
            validate.denials[0]
                .message
                .ends_with("(not silenced: the policy lets annotations silence warnings only)"),
            "{}",
            validate.denials[0].message
        );
        assert_eq!(validate.suppressed, vec![]);
        // `all`: lifted.
        let all = engine("allowIgnoreAnnotations: all\n").review(&req, Webhook::Validate);
        assert!(all.allowed());
        assert_eq!(all.warnings, vec![]);
        assert_eq!(all.suppressed, vec![Rule::NamespaceInjectionConflict]);
        // `none`: annotations are not read at all.
        let none = engine("allowIgnoreAnnotations: none\n").review(&req, Webhook::Validate);
        assert!(!none.allowed());
        assert!(!none.denials[0].message.contains("silenced"));
        // Audit mode previews enforcement: the denial would stand, so it is not silenced.
        let audit = engine("mode: audit\n").review(&req, Webhook::Validate);
        assert!(audit.allowed());
        assert_eq!(audit.suppressed, vec![]);
        assert!(audit.warnings[0].message.contains("not silenced"));
    }

    #[test]
    fn an_annotation_without_a_reason_silences_nothing_and_is_a_finding() {
        let object = annotated(
            json!({INJECTION: "yes"}),
            json!({"ignore.meshgate.io/namespace-injection-label-value": "  "}),
        );
        let req = request(Operation::Create, &object, None, "alice");
        let validate = Engine::default().review(&req, Webhook::Validate);
        assert_eq!(
            rules_of(&validate.warnings),
            [
                "namespace-injection-label-value metadata.labels[istio-injection]",
                "ignore-annotation metadata.annotations[ignore.meshgate.io/namespace-injection-label-value]"
            ]
        );
        assert_eq!(validate.suppressed, vec![]);
    }

    #[test]
    fn a_silenced_fix_is_not_applied() {
        let engine =
            engine("rules:\n  namespace-injection-conflict: fix\nallowIgnoreAnnotations: all\n");
        let old = ns(json!({INJECTION: "enabled"}));
        let new = annotated(
            json!({INJECTION: "enabled", REVISION: "asm-managed"}),
            json!({"ignore.meshgate.io/namespace-injection-conflict": "both on purpose for a test"}),
        );
        let req = request(Operation::Update, &new, Some(&old), "alice");
        assert_eq!(engine.review(&req, Webhook::Mutate), Outcome::default());
    }

    #[test]
    fn audit_warnings_say_what_enforcement_would_do() {
        let engine = engine("mode: audit\nrules:\n  namespace-injection-conflict: fix\n");
        let old = ns(json!({INJECTION: "enabled"}));
        let new = both();
        let create = request(Operation::Create, &new, None, "admin");
        let validate = engine.review(&create, Webhook::Validate);
        assert!(
            validate.warnings[0]
                .message
                .ends_with("(would deny in enforce mode)"),
            "{}",
            validate.warnings[0].message
        );
        let update = request(Operation::Update, &new, Some(&old), "admin");
        let validate = engine.review(&update, Webhook::Validate);
        assert!(
            validate.warnings[0]
                .message
                .ends_with("(would be fixed by the mutating webhook in enforce mode)"),
            "{}",
            validate.warnings[0].message
        );
        // What already was there would be let through in enforce mode too.
        let kept = request(Operation::Update, &new, Some(&new), "admin");
        let validate = engine.review(&kept, Webhook::Validate);
        assert!(
            validate.warnings[0]
                .message
                .ends_with("(allowed: the stored object already had it)"),
            "{}",
            validate.warnings[0].message
        );
    }
}
