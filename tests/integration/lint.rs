//! `meshgate check` and `meshgate fix` as CI pipelines run them: the built binary on fixture
//! trees, golden reports diffed in full, exit codes, and fixes that change nothing but the
//! converted fields.

use std::path::Path;

use meshgate::engine::Webhook;
use meshgate::manifest::yaml;
use serde_json::Value;

use crate::support::*;

#[test]
fn check_reports_match_the_golden_files() {
    let tree = fixtures("check-tree");
    for (format, file) in [
        ("text", "check.txt"),
        ("json", "check.json"),
        ("sarif", "check.sarif"),
        ("github", "check.github"),
    ] {
        let out = run(&["check", "--format", format, "."], &tree, None);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{format}: the broken file makes it exit 2\n{}",
            text(&out.stderr)
        );
        golden(file, &text(&out.stdout));
        assert_eq!(
            text(&out.stderr),
            "broken.yaml:6:10: unclosed bracket '['\n",
            "{format}"
        );
    }
    // The JSON report is the document the README describes.
    let out = run(&["check", "--format", "json", "."], &tree, None);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &report["findings"][0];
    for key in [
        "rule",
        "severity",
        "action",
        "fixable",
        "file",
        "line",
        "document",
        "apiVersion",
        "kind",
        "namespace",
        "name",
        "path",
        "message",
    ] {
        assert!(first.get(key).is_some(), "{key} missing in {first}");
    }
    assert_eq!(
        report["errors"][0],
        serde_json::json!({"file": "broken.yaml", "line": 6, "column": 10, "message": "unclosed bracket '['"})
    );
    let sarif: Value =
        serde_json::from_slice(&run(&["check", "--format", "sarif", "."], &tree, None).stdout)
            .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        meshgate::rules::Rule::ALL.len()
    );
}

#[test]
fn exit_codes_follow_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    // One warning (label value) and one info (API version).
    std::fs::write(
        dir.path().join("warn.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels:\n    istio-injection: \"true\"\n---\n\
         apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata:\n  name: r\nspec:\n  hosts: [r]\n  http:\n  - route:\n    - destination:\n        host: r\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("error.yaml"), "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: e\nspec:\n  hosts: ['*']\n").unwrap();
    std::fs::write(
        dir.path().join("clean.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: clean\n",
    )
    .unwrap();
    let cases = [
        ("warn.yaml", "error", 0),
        ("warn.yaml", "warning", 1),
        ("warn.yaml", "info", 1),
        ("warn.yaml", "none", 0),
        ("error.yaml", "error", 1),
        ("error.yaml", "none", 0),
        ("clean.yaml", "info", 0),
    ];
    for (file, level, code) in cases {
        let out = run(&["check", "--fail-on", level, file], dir.path(), None);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{file} --fail-on {level}: {}",
            text(&out.stdout)
        );
    }
    // Input errors win over findings, and the other inputs are still reported.
    let out = run(&["check", "error.yaml", "missing.yaml"], dir.path(), None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stdout).contains("error.yaml:6: error serviceentry-hosts"));
    assert!(text(&out.stderr).contains("missing.yaml: no such file or directory"));
    // stdin is file `-`; usage errors exit 2.
    let out = run(&["check", "-"], dir.path(), Some(b"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: e}\nspec: {hosts: ['*']}\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).starts_with("-:4: error serviceentry-hosts"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        run(&["check", "--fail-on", "sometimes", "x"], dir.path(), None)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(run(&["check"], dir.path(), None).status.code(), Some(2));
}

#[test]
fn input_mistakes_are_reported_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 6] = [
        ("tabs.yaml", b"spec:\n\thosts: [a]\n", "tabs.yaml:2:"),
        (
            "dup.yaml",
            b"kind: VirtualService\nkind: ServiceEntry\n",
            "tabs",
        ),
        (
            "latin1.yaml",
            b"kind: caf\xe9\n",
            "latin1.yaml:1:10: not UTF-8 text",
        ),
        ("alias.yaml", b"a: *nothing\n", "alias.yaml:1:"),
        (
            "merge.yaml",
            b"base: &b {x: 1}\nspec:\n  <<: *b\n",
            "merge keys",
        ),
        ("scalar.yaml", b"just a string\n", ""),
    ];
    for (name, content, _) in &cases {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let out = run(&["check", "."], dir.path(), None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("tabs.yaml:2:") && stderr.contains("tabs"),
        "{stderr}"
    );
    assert!(
        stderr.contains("dup.yaml:2:1: duplicate key `kind`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("latin1.yaml:1:10: not UTF-8 text"),
        "{stderr}"
    );
    assert!(stderr.contains("alias.yaml:1:"), "{stderr}");
    assert!(stderr.contains("merge.yaml:3:3: merge keys"), "{stderr}");
    assert!(
        !stderr.contains("scalar.yaml"),
        "a document that is no object is simply not checked: {stderr}"
    );
    let out = run(&["check", "empty"], dir.path(), None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("empty: no *.yaml, *.yml or *.json files"));
}

/// Adds a comment line before every line of a YAML file (block context only, as these are).
fn with_comments(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let indent = line.len() - line.trim_start().len();
            format!("{}# note {i}\n{line}\n", " ".repeat(indent))
        })
        .collect()
}

/// Line ranges (1-based, inclusive) of the fields that `fix` converts, from the fixable findings.
fn converted_ranges(text: &str, findings: &[Value]) -> Vec<(usize, usize)> {
    findings
        .iter()
        .filter(|f| f["fixable"] == true)
        .map(|f| {
            let start = f["line"].as_u64().unwrap() as usize;
            // The field's value ends where the next line at its indentation or less begins.
            let lines: Vec<&str> = text.lines().collect();
            let indent = lines[start - 1].len()
                - lines[start - 1].trim_start().trim_start_matches("- ").len();
            let mut end = start;
            while end < lines.len() {
                let next = lines[end];
                let next_indent = next.len() - next.trim_start().len();
                if !next.trim().is_empty()
                    && !next.trim_start().starts_with('#')
                    && next_indent <= indent
                {
                    break;
                }
                end += 1;
            }
            (start, end)
        })
        .collect()
}

#[test]
fn fix_changes_only_converted_lines_of_istio_legacy_files() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write_policy(dir.path(), "policy.yaml", "minIstioVersion: \"1.24\"\n");
    let current = policy_of(&policy);
    let mut fixed_any = 0;
    for entry in std::fs::read_dir(fixtures("legacy")).unwrap() {
        let source = entry.unwrap().path();
        if source.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let name = source.file_name().unwrap().to_string_lossy().into_owned();
        let input = with_comments(&std::fs::read_to_string(&source).unwrap());
        std::fs::write(dir.path().join(&name), &input).unwrap();
        let report: Value = serde_json::from_slice(
            &run(
                &[
                    "check",
                    "--format",
                    "json",
                    "--policy",
                    "policy.yaml",
                    &name,
                ],
                dir.path(),
                None,
            )
            .stdout,
        )
        .unwrap();
        let ranges = converted_ranges(&input, report["findings"].as_array().unwrap());
        let out = run(&["fix", "--policy", "policy.yaml", &name], dir.path(), None);
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{name}: {}",
            text(&out.stderr)
        );
        let output = text(&out.stdout);

        // 1. Only the lines of converted fields go (comments inside such a field go with its
        // value); every other line, comments included, stays in order, and no comment is lost
        // or made up.
        let comments = |text: &str| {
            let mut lines: Vec<String> = text
                .lines()
                .filter(|l| l.trim_start().starts_with('#'))
                .map(|l| l.trim().to_string())
                .collect();
            lines.sort();
            lines
        };
        assert_eq!(comments(&output), comments(&input), "{name}\n{output}");
        let diff = similar::TextDiff::from_lines(&input, &output);
        for change in diff.iter_all_changes() {
            match change.tag() {
                similar::ChangeTag::Delete => {
                    let line = change.old_index().unwrap() + 1;
                    assert!(
                        ranges.iter().any(|(a, b)| (*a..=*b).contains(&line)),
                        "{name}: line {line} {:?} changed outside the converted fields {ranges:?}\n{output}",
                        change.value()
                    );
                }
                similar::ChangeTag::Insert | similar::ChangeTag::Equal => {}
            }
        }
        fixed_any += usize::from(input != output);

        // 2. The output parses to exactly what the webhook's patch makes of the input.
        let before = yaml::parse(&input).unwrap();
        let after = yaml::parse(&output).unwrap();
        assert_eq!(before.len(), after.len(), "{name}");
        for (doc_before, doc_after) in before.iter().zip(&after) {
            let object = &doc_before.value;
            let expected = if object["apiVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("networking.istio.io/"))
                && object["kind"] == "VirtualService"
            {
                let version = object["apiVersion"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap();
                let response = answer(
                    &current,
                    Webhook::Mutate,
                    &review_of(object, None, version, version),
                );
                match decoded_patch(&response) {
                    Some(patch) => apply_patch(object, &patch),
                    None => object.clone(),
                }
            } else {
                object.clone()
            };
            assert_eq!(doc_after.value, expected, "{name}");
        }

        // 3. Checking the output finds nothing left to fix.
        std::fs::write(dir.path().join("out.yaml"), &output).unwrap();
        let report: Value = serde_json::from_slice(
            &run(
                &[
                    "check",
                    "--format",
                    "json",
                    "--policy",
                    "policy.yaml",
                    "out.yaml",
                ],
                dir.path(),
                None,
            )
            .stdout,
        )
        .unwrap();
        assert_eq!(report["summary"]["fixable"], 0, "{name}: {report}");
    }
    assert_eq!(fixed_any, 6, "every legacy file had something to fix");
}

fn policy_of(path: &Path) -> meshgate::policy::Policy {
    std::fs::read_to_string(path).unwrap().parse().unwrap()
}

#[test]
fn fix_in_place_diff_and_unparsable_files() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = "apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata:\n  name: r  # keep me\nspec:\n  hosts: [r]\n  http:\n  - route:\n    - destination:\n        host: r\n    websocketUpgrade: true\n";
    std::fs::write(dir.path().join("r.yaml"), legacy).unwrap();
    let broken = b"apiVersion: networking.istio.io/v1\nkind: VirtualService\nspec: [\n";
    std::fs::write(dir.path().join("broken.yaml"), broken).unwrap();

    let out = run(&["fix", "--diff", "r.yaml"], dir.path(), None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "--- a/r.yaml\n+++ b/r.yaml\n@@ -8,4 +8,3 @@\n   - route:\n     - destination:\n         host: r\n-    websocketUpgrade: true\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("r.yaml")).unwrap(),
        legacy,
        "--diff writes nothing"
    );

    let out = run(
        &["fix", "--in-place", "r.yaml", "broken.yaml"],
        dir.path(),
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("broken.yaml:"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read(dir.path().join("broken.yaml")).unwrap(),
        broken,
        "an unparsable file stays byte for byte"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("r.yaml")).unwrap(),
        legacy.replace("    websocketUpgrade: true\n", ""),
        "the good file is fixed in place"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no temporary files: {leftovers:?}");

    // Unfixable findings at or above --fail-on remain: exit 1.
    std::fs::write(dir.path().join("ns.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    istio-injection: enabled\n    istio.io/rev: asm\n").unwrap();
    let out = run(&["fix", "ns.yaml"], dir.path(), None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("ns.yaml:6: error namespace-injection-conflict"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        run(&["fix", "--fail-on", "none", "ns.yaml"], dir.path(), None)
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn fix_leaves_anchored_regions_alone_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let text_in = "apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata:\n  name: r\nspec:\n  hosts: [r]\n  http:\n  - &main\n    route:\n    - destination:\n        host: r\n    websocketUpgrade: true\n";
    std::fs::write(dir.path().join("a.yaml"), text_in).unwrap();
    let out = run(&["fix", "a.yaml"], dir.path(), None);
    assert_eq!(text(&out.stdout), text_in);
    assert!(
        text(&out.stderr).contains(
            "a.yaml:1: not fixed: spec.http[0].websocketUpgrade uses YAML anchors or aliases"
        ),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "the legacy field remains");
}
