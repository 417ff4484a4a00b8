//! `meshgate rules --format json`: the catalog for scripts, one object per rule with stable keys.

use serde::Serialize;

use super::help_uri;
use crate::rules::{Fixable, Rule};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonRule {
    id: &'static str,
    kinds: Vec<&'static str>,
    severity: &'static str,
    other_severities: Vec<JsonSeverity>,
    default_action: &'static str,
    fixable: bool,
    /// Who applies the fix: `webhook`, and `fix` when `meshgate fix` rewrites files too.
    fixed_by: Vec<&'static str>,
    summary: &'static str,
    istio_analyzer: Vec<JsonAnalyzer>,
    help_uri: String,
}

#[derive(Serialize)]
struct JsonSeverity {
    severity: &'static str,
    when: &'static str,
}

#[derive(Serialize)]
struct JsonAnalyzer {
    code: &'static str,
    name: &'static str,
    /// Which findings or releases the message covers; empty when it covers the whole rule.
    note: &'static str,
}

/// The JSON array of every rule, in catalog order.
pub fn rules_json() -> String {
    let rules: Vec<JsonRule> = Rule::ALL
        .iter()
        .map(|rule| {
            let doc = rule.doc();
            JsonRule {
                id: rule.id(),
                kinds: doc.kinds.iter().map(|kind| kind.as_str()).collect(),
                severity: doc.severity.as_str(),
                other_severities: doc
                    .other_severities
                    .iter()
                    .map(|(severity, when)| JsonSeverity {
                        severity: severity.as_str(),
                        when,
                    })
                    .collect(),
                default_action: rule.default_action().as_str(),
                fixable: rule.fixable(),
                fixed_by: match rule.fixing() {
                    Fixable::No => vec![],
                    Fixable::Webhook => vec!["webhook"],
                    Fixable::WebhookAndFiles => vec!["webhook", "fix"],
                },
                summary: rule.summary(),
                istio_analyzer: doc
                    .analyzer
                    .iter()
                    .map(|message| JsonAnalyzer {
                        code: message.code,
                        name: message.name,
                        note: message.note,
                    })
                    .collect(),
                help_uri: help_uri(*rule),
            }
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&rules).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn one_object_per_rule_with_the_documented_keys() {
        let rules: Value = serde_json::from_str(&rules_json()).unwrap();
        let rules = rules.as_array().unwrap();
        assert_eq!(rules.len(), Rule::ALL.len());
        for (object, rule) in rules.iter().zip(Rule::ALL) {
            let keys: Vec<&str> = object
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            let mut expected = [
                "defaultAction",
                "fixable",
                "fixedBy",
                "helpUri",
                "id",
                "istioAnalyzer",
                "kinds",
                "otherSeverities",
                "severity",
                "summary",
            ];
            let mut keys = keys;
            keys.sort_unstable();
            expected.sort_unstable();
            assert_eq!(keys, expected);
            assert_eq!(object["id"], rule.id());
            assert_eq!(object["fixable"], rule.fixable());
        }
        let weights = &rules[Rule::ALL
            .iter()
            .position(|r| *r == Rule::VirtualServiceWeights)
            .unwrap()];
        assert_eq!(weights["severity"], "error");
        assert_eq!(weights["otherSeverities"][0]["severity"], "info");
        assert_eq!(weights["istioAnalyzer"][0]["code"], "IST0106");
        assert_eq!(weights["fixedBy"], serde_json::json!([]));
    }
}
