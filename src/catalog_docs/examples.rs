//! The documentation's examples run through the real rules, the way `meshgate check`, `meshgate
//! fix` and the mutating webhook run them: every failing example fires its rule (and no other),
//! every fixed one is clean, and what the catalog claims about fixing holds. Assertions are on
//! rule ids and severities only, never on message texts.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::engine::{Engine, Request, Requester, Webhook};
use crate::lint::{check_text, fix_text};
use crate::manifest::yaml;
use crate::rules::{Action, Fixable, ObjectKind, Operation, Rule, Subject, patch};

/// An engine running the default policy, but with `rule` at `action` (`None`: its default, or
/// `warn` when that is `off`, so that the rule runs) and the given `minIstioVersion`.
fn engine(rule: Rule, action: Option<Action>, min_istio_version: &str) -> Engine {
    let action = action.unwrap_or(match rule.default_action() {
        Action::Off => Action::Warn,
        other => other,
    });
    let policy = format!(
        "apiVersion: meshgate.io/v1alpha1\nkind: Policy\nminIstioVersion: \"{min_istio_version}\"\n\
         rules:\n  {}: {}\n",
        rule.id(),
        action.as_str()
    );
    Engine::new(policy.parse().expect("test policy"))
}

/// The documents of a YAML text as values.
fn values(text: &str) -> Vec<Value> {
    yaml::parse(text)
        .expect("example YAML")
        .into_iter()
        .map(|document| document.value)
        .collect()
}

#[test]
fn every_failing_example_fires_its_rule_and_only_it() {
    for rule in Rule::ALL.iter().copied() {
        let doc = rule.doc();
        let check = check_text(&engine(rule, None, "1.4"), "failing.yaml", doc.failing)
            .unwrap_or_else(|e| panic!("{rule}: {e}"));
        assert_eq!(check.objects, 1, "{rule}: one object");
        let fired: BTreeSet<&str> = check.findings.iter().map(|f| f.rule.id()).collect();
        assert_eq!(fired, BTreeSet::from([rule.id()]), "{rule}");
        let allowed: Vec<_> = std::iter::once(doc.severity)
            .chain(doc.other_severities.iter().map(|(severity, _)| *severity))
            .collect();
        for finding in &check.findings {
            assert!(
                allowed.contains(&finding.severity),
                "{rule}: {} is not a documented severity",
                finding.severity.as_str()
            );
            assert!(
                doc.kinds.iter().any(|kind| kind.as_str() == finding.kind),
                "{rule}: {} is not among its kinds",
                finding.kind
            );
        }
    }
}

#[test]
fn every_fixed_example_is_clean() {
    for rule in Rule::ALL.iter().copied() {
        let doc = rule.doc();
        let check = check_text(&engine(rule, None, "1.4"), "fixed.yaml", doc.fixed)
            .unwrap_or_else(|e| panic!("{rule}: {e}"));
        let fired: Vec<&str> = check.findings.iter().map(|f| f.rule.id()).collect();
        assert!(
            fired.is_empty(),
            "{rule}: the fixed example fires {fired:?}"
        );
    }
}

#[test]
fn fix_rewrites_exactly_the_rules_it_claims_to() {
    for rule in Rule::ALL.iter().copied() {
        let doc = rule.doc();
        // A control plane that reads every replacement field, so that no fix waits for an
        // upgrade, and the rule at `fix` wherever it has a fix.
        let action = rule.fixable().then_some(Action::Fix);
        let fixed = fix_text(&engine(rule, action, "1.22"), "failing.yaml", doc.failing)
            .unwrap_or_else(|e| panic!("{rule}: {e}"));
        let still_fires = fixed.remaining.findings.iter().any(|f| f.rule == rule);
        if rule.fixable_offline() {
            assert!(fixed.changes > 0, "{rule}: meshgate fix changed nothing");
            assert!(!still_fires, "{rule}: still fires after meshgate fix");
            assert_eq!(
                values(&fixed.text),
                values(doc.fixed),
                "{rule}: the fixed example is what meshgate fix writes"
            );
        } else {
            assert_eq!(fixed.changes, 0, "{rule}: meshgate fix changed it");
            assert_eq!(fixed.text, doc.failing, "{rule}");
            assert!(still_fires, "{rule}");
        }
    }
}

#[test]
fn the_webhook_fixes_the_namespace_rules_on_an_update_that_shows_intent() {
    for rule in Rule::ALL
        .iter()
        .copied()
        .filter(|rule| rule.fixing() == Fixable::Webhook)
    {
        let doc = rule.doc();
        let [object] = values(doc.failing).try_into().expect("one document");
        let [expected] = values(doc.fixed).try_into().expect("one document");
        // The stored namespace had every label but the one the fixed example keeps: this
        // request added it.
        let mut stored = object.clone();
        let labels = stored["metadata"]["labels"]
            .as_object_mut()
            .expect("labels");
        for key in expected["metadata"]["labels"]
            .as_object()
            .expect("labels")
            .keys()
        {
            labels.remove(key);
        }
        let request = Request {
            subject: Subject {
                operation: Operation::Update,
                old_object: Some(&stored),
                ..Subject::created(ObjectKind::Namespace, &object)
            },
            requester: Requester::default(),
            stored: None,
        };
        let outcome = engine(rule, Some(Action::Fix), "1.4").review(&request, Webhook::Mutate);
        assert!(!outcome.patch.is_empty(), "{rule}: no patch");
        let mut patched = object.clone();
        patch::apply(&mut patched, &outcome.patch).expect("the patch applies");
        assert_eq!(
            patched, expected,
            "{rule}: the fixed example is what the webhook makes"
        );
    }
}
