//! The rule catalog as users read it: the `meshgate rules` listing (an aligned table, JSON, and
//! the Markdown committed as docs/rules.md) and `meshgate explain`, all rendered from the catalog
//! and the long texts of [`crate::rules::docs`]. What to say is decided here once, as sections of
//! paragraphs and YAML; the text and Markdown renderers only lay it out.

mod json;
mod markdown;
mod text;

#[cfg(test)]
mod examples;

pub use json::rules_json;
pub use markdown::rules_markdown;
pub use text::{explain_text, rules_table};

use crate::rules::docs::RuleDoc;
use crate::rules::{Action, Fixable, Rule, Severity};

/// Where the Markdown catalog is committed, relative to the repository root.
pub const DOCS_PATH: &str = "docs/rules.md";

/// The command that rewrites [`DOCS_PATH`].
pub const REGENERATE: &str = "cargo run -- rules --format markdown > docs/rules.md";

/// The link to a rule's section of docs/rules.md in the project's repository.
pub fn help_uri(rule: Rule) -> String {
    format!(
        "{}/blob/main/{DOCS_PATH}#{}",
        env!("CARGO_PKG_REPOSITORY"),
        rule.id()
    )
}

/// Who applies the rule's fix, in a word or two: `no`, `webhook` or `webhook, fix`.
pub fn fixable_label(rule: Rule) -> &'static str {
    match rule.fixing() {
        Fixable::No => "no",
        Fixable::Webhook => "webhook",
        Fixable::WebhookAndFiles => "webhook, fix",
    }
}

/// Who applies the rule's fix, as a clause; empty for a rule without one.
pub fn fixing_clause(rule: Rule) -> &'static str {
    match rule.fixing() {
        Fixable::No => "",
        Fixable::Webhook => {
            "fixed by the mutating webhook only, on an UPDATE that shows which label is meant \
             (meshgate fix leaves it)"
        }
        Fixable::WebhookAndFiles => "fixed by the mutating webhook and by meshgate fix",
    }
}

/// The usual severity, and when the rule reports others: `error; warning when ...`.
fn severity_text(doc: &RuleDoc) -> String {
    let mut text = doc.severity.as_str().to_string();
    for (severity, when) in doc.other_severities {
        text.push_str(&format!("; {} when {when}", severity.as_str()));
    }
    text
}

/// The analyzer messages: `IST0106 SchemaValidationError; IST0133 SchemaWarning (for ...)`, or
/// `none`.
fn analyzer_text(doc: &RuleDoc) -> String {
    if doc.analyzer.is_empty() {
        return "none".to_string();
    }
    doc.analyzer
        .iter()
        .map(|message| match message.note {
            "" => format!("{} {}", message.code, message.name),
            note => format!("{} {} ({note})", message.code, message.name),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One row of facts about a rule, in the order both layouts show them.
fn facts(rule: Rule) -> [(&'static str, String); 5] {
    let doc = rule.doc();
    [
        (
            "kinds",
            doc.kinds
                .iter()
                .map(|kind| kind.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("severity", severity_text(doc)),
        ("default action", rule.default_action().as_str().to_string()),
        ("fixable", fixable_label(rule).to_string()),
        ("Istio analyzer", analyzer_text(doc)),
    ]
}

/// A piece of a section.
enum Block {
    /// A paragraph of prose.
    Text(String),
    /// A YAML example.
    Yaml(String),
}

/// A titled part of a rule's explanation.
struct Section {
    title: &'static str,
    blocks: Vec<Block>,
}

/// What `explain` says about a rule after its facts, section by section.
fn sections(rule: Rule) -> Vec<Section> {
    let doc = rule.doc();
    let text = |s: &str| Block::Text(s.to_string());
    let mut sections = vec![
        Section {
            title: "What it checks",
            blocks: vec![text(doc.checks)],
        },
        Section {
            title: "Why it matters",
            blocks: vec![text(doc.why)],
        },
    ];
    if !doc.fix.is_empty() {
        sections.push(Section {
            title: "How it is fixed",
            blocks: vec![text(doc.fix)],
        });
    }
    sections.extend([
        Section {
            title: "Failing example",
            blocks: vec![Block::Yaml(doc.failing.to_string())],
        },
        Section {
            title: "Fixed",
            blocks: vec![Block::Yaml(doc.fixed.to_string())],
        },
        Section {
            title: "How to silence it",
            blocks: silencing(rule),
        },
    ]);
    sections
}

/// Whether the rule's default action denies some of its findings: it can report `error` and
/// its default is `deny`, or `fix` (which denies like `deny` where the fix cannot apply).
fn denies_by_default(rule: Rule) -> bool {
    reports_errors(rule.doc()) && matches!(rule.default_action(), Action::Deny | Action::Fix)
}

/// Whether the rule can report `error` findings, the only ones an action denies.
fn reports_errors(doc: &RuleDoc) -> bool {
    doc.severity == Severity::Error
        || doc
            .other_severities
            .iter()
            .any(|(severity, _)| *severity == Severity::Error)
}

/// The policy setting and the per-object annotation that silence a rule.
fn silencing(rule: Rule) -> Vec<Block> {
    let id = rule.id();
    let everywhere = vec![
        Block::Text(
            "Everywhere: set the rule's action in the policy file, `warn` to report without \
             denying or `off` to stop running it."
                .to_string(),
        ),
        Block::Yaml(format!(
            "apiVersion: meshgate.io/v1alpha1\nkind: Policy\nrules:\n  {id}: warn   # or off\n"
        )),
    ];
    if !crate::rules::ignore::can_silence(rule) {
        // The engine never silences the rule that explains why an annotation silenced nothing.
        let mut blocks = everywhere;
        blocks.push(Block::Text(
            "No annotation silences this rule: it is the one that says why an annotation \
             silenced nothing. Give the annotation a reason, correct its rule id, or remove it."
                .to_string(),
        ));
        return blocks;
    }
    let annotations = if !reports_errors(rule.doc()) {
        "Its findings never deny, so the annotation works with the policy's default \
         `allowIgnoreAnnotations: warnings`; `none` turns annotations off."
            .to_string()
    } else if denies_by_default(rule) {
        format!(
            "Its `error` findings deny under its default action `{}`, so the annotation \
             silences them only where the policy sets `allowIgnoreAnnotations: all`; under the \
             default `allowIgnoreAnnotations: warnings` an annotation silences only findings \
             that would not deny, and `none` turns annotations off.",
            rule.default_action().as_str()
        )
    } else {
        "Its default action does not deny, so the annotation works with the policy's default \
         `allowIgnoreAnnotations: warnings`; where a policy sets the rule to `deny`, its `error` \
         findings need `allowIgnoreAnnotations: all`, and `none` turns annotations off."
            .to_string()
    };
    let mut blocks = everywhere;
    blocks.extend([
        Block::Text(format!(
            "For one object: the annotation `ignore.meshgate.io/{id}`, whose value is the reason \
             (an empty reason does not count). {annotations}"
        )),
        Block::Yaml(format!(
            "metadata:\n  annotations:\n    ignore.meshgate.io/{id}: \"<why this object is an exception>\"\n"
        )),
    ]);
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_uris_point_at_the_rule_section_of_the_repository() {
        assert_eq!(
            help_uri(Rule::VirtualServiceWeights),
            "https://github.com/meshgate/meshgate/blob/main/docs/rules.md#virtualservice-weights"
        );
    }

    #[test]
    fn fixability_follows_the_catalog() {
        assert_eq!(fixable_label(Rule::NamespaceInjectionConflict), "webhook");
        assert_eq!(
            fixable_label(Rule::VirtualServiceLegacyFields),
            "webhook, fix"
        );
        assert_eq!(fixable_label(Rule::VirtualServiceWeights), "no");
        for rule in Rule::ALL {
            assert_eq!(fixing_clause(*rule).is_empty(), !rule.fixable(), "{rule}");
            assert_eq!(rule.doc().fix.is_empty(), !rule.fixable(), "{rule}");
        }
    }

    #[test]
    fn silencing_says_when_annotations_need_all() {
        let said = |rule: Rule| match &silencing(rule)[2] {
            Block::Text(text) => text.clone(),
            Block::Yaml(_) => String::new(),
        };
        assert!(said(Rule::VirtualServiceWeights).contains("only where the policy sets"));
        assert!(said(Rule::VirtualServiceLegacyFields).contains("default action `fix`"));
        assert!(said(Rule::VirtualServiceUnknownFields).contains("does not deny"));
        // Warnings only: even the default `fix` never denies them.
        assert!(said(Rule::VirtualServiceDeprecatedFields).contains("never deny"));
        assert!(said(Rule::VirtualServiceApiVersion).contains("never deny"));
        assert!(said(Rule::IgnoreAnnotation).starts_with("No annotation silences this rule"));
    }
}
