//! The rule catalog as users read it from the built binary: `meshgate rules` in each format,
//! `meshgate explain`, docs/rules.md (which must be the Markdown output), the documentation links
//! of the SARIF report, and `meshgate completions`.

use std::path::Path;

use meshgate::rules::Rule;
use serde_json::Value;

use crate::support::*;

/// Runs the binary in a fresh directory; `(exit code, stdout, stderr)`.
fn meshgate(args: &[&str]) -> (Option<i32>, String, String) {
    let dir = temp();
    let out = run(args, dir.path(), None);
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn rules_lists_the_catalog_as_a_table_and_as_json() {
    let (code, table, stderr) = meshgate(&["rules"]);
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    golden("rules.txt", &table);
    assert_eq!(meshgate(&["rules", "--format", "text"]).1, table);
    for rule in Rule::ALL {
        assert!(
            table
                .lines()
                .any(|line| line.starts_with(&format!("{} ", rule.id()))),
            "{rule} has a row"
        );
    }

    let (code, json, stderr) = meshgate(&["rules", "--format", "json"]);
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    golden("rules.json", &json);
    let rules: Value = serde_json::from_str(&json).unwrap();
    let ids: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| rule["id"].as_str().unwrap())
        .collect();
    let catalog: Vec<&str> = Rule::ALL.iter().map(|rule| rule.id()).collect();
    assert_eq!(ids, catalog);
    let conflict = &rules[0];
    assert_eq!(conflict["id"], "namespace-injection-conflict");
    assert_eq!(conflict["kinds"], serde_json::json!(["Namespace"]));
    assert_eq!(conflict["defaultAction"], "deny");
    assert_eq!(conflict["fixedBy"], serde_json::json!(["webhook"]));
    assert_eq!(conflict["istioAnalyzer"][0]["code"], "IST0123");
}

#[test]
fn docs_rules_md_is_the_markdown_output() {
    let (code, markdown, stderr) = meshgate(&["rules", "--format", "markdown"]);
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == markdown,
        "docs/rules.md is not what `meshgate rules --format markdown` prints: regenerate it with \
         `cargo run -- rules --format markdown > docs/rules.md`"
    );
    for rule in Rule::ALL {
        assert!(
            markdown.contains(&format!("\n## {}\n", rule.id())),
            "{rule} has a section"
        );
    }
}

#[test]
fn explain_prints_a_rule_with_its_examples() {
    for (rule, file) in [
        (
            "virtualservice-weights",
            "explain-virtualservice-weights.txt",
        ),
        (
            "namespace-injection-conflict",
            "explain-namespace-injection-conflict.txt",
        ),
    ] {
        let (code, explained, stderr) = meshgate(&["explain", rule]);
        assert_eq!((code, stderr.as_str()), (Some(0), ""), "{rule}");
        golden(file, &explained);
    }
    for rule in Rule::ALL {
        let (code, explained, _) = meshgate(&["explain", rule.id()]);
        assert_eq!(code, Some(0), "{rule}");
        assert!(explained.starts_with(&format!("{}\n", rule.id())), "{rule}");
        for title in [
            "What it checks",
            "Why it matters",
            "Failing example",
            "Fixed",
        ] {
            assert!(
                explained.contains(&format!("\n{title}\n")),
                "{rule}: {title}"
            );
        }
        if *rule == Rule::IgnoreAnnotation {
            // The rule about annotations is the one no annotation silences.
            assert!(explained.contains("No annotation silences this rule"));
        } else {
            assert!(
                explained.contains(&format!("ignore.meshgate.io/{}", rule.id())),
                "{rule}: the annotation"
            );
        }
        assert!(
            explained.ends_with(&format!(
                "Documentation: https://github.com/meshgate/meshgate/blob/main/docs/rules.md#{}\n",
                rule.id()
            )),
            "{rule}"
        );
    }
}

#[test]
fn explain_an_unknown_rule_exits_2_suggesting_the_nearest() {
    for (typed, meant) in [
        ("virtualservice-weight", "virtualservice-weights"),
        (
            "namespace-injection-conflicts",
            "namespace-injection-conflict",
        ),
        ("serviceentry-host", "serviceentry-hosts"),
        ("VirtualService-Weights", "virtualservice-weights"),
    ] {
        let (code, stdout, stderr) = meshgate(&["explain", typed]);
        assert_eq!(code, Some(2), "{typed}");
        assert_eq!(stdout, "", "{typed}");
        assert_eq!(
            stderr,
            format!(
                "meshgate: error: unknown rule `{typed}`: did you mean `{meant}`? (`meshgate \
                 rules` lists them)\n"
            )
        );
    }
    let (code, stdout, stderr) = meshgate(&["explain", "nonsense"]);
    assert_eq!((code, stdout.as_str()), (Some(2), ""));
    assert_eq!(
        stderr,
        "meshgate: error: unknown rule `nonsense` (`meshgate rules` lists them)\n"
    );
    // What the message repeats of an id is bounded and escaped.
    let long = format!("\u{1b}[31m{}", "x".repeat(10_000));
    let (code, _, stderr) = meshgate(&["explain", &long]);
    assert_eq!(code, Some(2));
    assert!(stderr.len() < 300 && !stderr.contains('\u{1b}'), "{stderr}");
}

#[test]
fn usage_mistakes_exit_2() {
    for args in [
        &["rules", "--format", "nope"][..],
        &["explain"],
        &["completions"],
        &["completions", "tcsh"],
    ] {
        let (code, stdout, stderr) = meshgate(args);
        assert_eq!(code, Some(2), "{args:?}");
        assert_eq!(stdout, "", "{args:?}");
        assert!(!stderr.is_empty(), "{args:?}");
    }
    let (_, _, stderr) = meshgate(&["rules", "--format", "nope"]);
    assert!(
        stderr.contains("nope") && stderr.contains("markdown"),
        "{stderr}"
    );
}

#[test]
fn sarif_rules_link_to_their_section_of_docs_rules_md() {
    let out = run(
        &["check", "--format", "sarif", "."],
        &fixtures("check-tree"),
        None,
    );
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md"))
        .unwrap();
    assert_eq!(rules.len(), Rule::ALL.len());
    for (entry, rule) in rules.iter().zip(Rule::ALL) {
        let uri = entry["helpUri"].as_str().unwrap();
        let anchor = uri
            .strip_prefix("https://github.com/meshgate/meshgate/blob/main/docs/rules.md#")
            .unwrap_or_else(|| panic!("{uri}"));
        assert_eq!(anchor, rule.id());
        assert!(docs.contains(&format!("\n## {anchor}\n")), "{anchor}");
        let help = entry["help"]["text"].as_str().unwrap();
        match rule.fixing() {
            meshgate::rules::Fixable::No => assert!(!help.contains("fixed"), "{help}"),
            meshgate::rules::Fixable::Webhook => {
                assert!(help.contains("mutating webhook only"), "{help}")
            }
            meshgate::rules::Fixable::WebhookAndFiles => {
                assert!(help.contains("by meshgate fix"), "{help}")
            }
        }
    }
}

#[test]
fn completions_are_written_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef meshgate"),
        ("fish", "complete -c meshgate"),
    ] {
        let (code, script, stderr) = meshgate(&["completions", shell]);
        assert_eq!((code, stderr.as_str()), (Some(0), ""), "{shell}");
        assert!(script.contains(marker), "{shell}: {marker}");
        for subcommand in ["check", "fix", "explain", "rules", "completions", "certs"] {
            assert!(script.contains(subcommand), "{shell}: {subcommand}");
        }
    }
    // Each script is for its own shell only.
    let (_, bash, _) = meshgate(&["completions", "bash"]);
    assert!(!bash.contains("#compdef") && !bash.contains("complete -c meshgate"));
}
