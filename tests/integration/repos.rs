//! `meshgate check` and `meshgate fix` over repositories as CI checks them out: parts left
//! out with `--exclude`, Helm templates among the manifests, annotations for GitHub Actions,
//! comments on the lines `fix` converts, the lines of what remains after a fix, and findings
//! inside YAML anchors. The built binary, exact output.

use std::path::Path;

use serde_json::Value;

use crate::support::*;

fn write(dir: &Path, name: &str, content: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// A ServiceEntry with an error on line 6 (`*` as a host).
fn wildcard_entry(name: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: {name}\nspec:\n  hosts: [\"*\"]\n"
    )
}

fn namespace(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n")
}

fn wildcard_error(file: &str) -> String {
    format!(
        "{file}:6: error serviceentry-hosts: spec.hosts[0]: `*` is not allowed in a ServiceEntry: name the hosts\n"
    )
}

/// A repository with errors in generated files, overlays, templates and a chart.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "overlays/dev/se.yaml", &wildcard_entry("dev"));
    write(root, "overlays/prod/ns.yaml", &namespace("prod"));
    write(root, "apps/team/generated/se.yaml", &wildcard_entry("gen"));
    write(root, "base/se.tpl.yaml", &wildcard_entry("tpl"));
    write(root, "base/ns.yaml", &namespace("base"));
    write(root, "charts/web/templates/broken.yaml", "kind: [\n");
    dir
}

#[test]
fn exclude_leaves_out_what_gitignore_patterns_match() {
    let dir = repository();
    let root = dir.path();
    let all = run(&["check", "."], root, None);
    assert_eq!(all.status.code(), Some(2), "{}", text(&all.stderr));
    assert_eq!(
        text(&all.stdout),
        format!(
            "{}{}{}3 errors, 0 warnings, 0 infos (0 fixable) in 6 files, 5 documents, 5 objects; 1 input could not be read\n",
            wildcard_error("apps/team/generated/se.yaml"),
            wildcard_error("base/se.tpl.yaml"),
            wildcard_error("overlays/dev/se.yaml"),
        )
    );

    // A name at any depth, a file glob, a pattern anchored to the directory searched, and a
    // directory-only pattern behind `**`: nothing of them is read, not even the broken file.
    let out = run(
        &[
            "check",
            "--exclude",
            "charts",
            "--exclude",
            "*.tpl.yaml",
            "--exclude",
            "overlays/dev/*",
            "--exclude",
            "**/generated/",
            ".",
        ],
        root,
        None,
    );
    assert_eq!(
        (out.status.code(), text(&out.stdout), text(&out.stderr)),
        (
            Some(0),
            "0 errors, 0 warnings, 0 infos (0 fixable) in 2 files, 2 documents, 2 objects\n"
                .to_string(),
            String::new()
        )
    );

    // Anchored patterns start at each directory named: `dev/*` under `overlays`, while
    // `overlays/dev/*` there would mean overlays/overlays/dev.
    let out = run(&["check", "--exclude", "dev/*", "overlays"], root, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = run(
        &["check", "--exclude", "overlays/dev/*", "overlays"],
        root,
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        format!(
            "{}1 error, 0 warnings, 0 infos (0 fixable) in 2 files, 2 documents, 2 objects\n",
            wildcard_error("overlays/dev/se.yaml")
        )
    );

    // Named on the command line, an excluded file is read, as ripgrep reads it.
    let out = run(
        &["check", "--exclude", "*.tpl.yaml", "base/se.tpl.yaml"],
        root,
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).starts_with(&wildcard_error("base/se.tpl.yaml")),
        "{}",
        text(&out.stdout)
    );

    // A directory with nothing left to check is a mistake, not a pass.
    let out = run(&["check", "--exclude", "*.yaml", "base"], root, None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "base: no *.yaml, *.yml or *.json files in this directory outside --exclude\n"
    );

    // fix leaves excluded files out too.
    write(
        root,
        "overlays/dev/route.yaml",
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: r\nspec:\n  hosts: [r]\n  http:\n  - route:\n    - destination:\n        host: r\n    websocketUpgrade: true\n",
    );
    let out = run(
        &[
            "fix",
            "--diff",
            "--exclude",
            "dev/",
            "--exclude",
            "*.tpl.yaml",
            "overlays",
        ],
        root,
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    let out = run(
        &["fix", "--diff", "--exclude", "prod/", "overlays"],
        root,
        None,
    );
    assert!(
        text(&out.stdout).starts_with("--- a/overlays/dev/route.yaml\n"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn exclude_patterns_are_checked_and_bounded() {
    let dir = repository();
    let root = dir.path();
    for (pattern, message) in [
        ("!base", "negation (`!`) is not supported"),
        ("a//b", "empty path segment"),
        ("[ab", "`[` without its `]`"),
        ("./base", "`.` and `..` never match"),
    ] {
        let out = run(&["check", "--exclude", pattern, "."], root, None);
        assert_eq!(out.status.code(), Some(2), "{pattern}");
        assert!(
            text(&out.stderr).contains(&format!("--exclude `{pattern}`: {message}")),
            "{pattern}: {}",
            text(&out.stderr)
        );
    }
    let long = "x".repeat(1025);
    let out = run(&["check", "--exclude", &long, "."], root, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("longer than 1024 bytes, the limit"));
    let many: Vec<String> = (0..257)
        .flat_map(|i| ["--exclude".into(), format!("p{i}")])
        .collect();
    let mut args: Vec<&str> = vec!["check"];
    args.extend(many.iter().map(String::as_str));
    args.push(".");
    let out = run(&args, root, None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "meshgate: error: 257 --exclude patterns, more than 256, the limit\n"
    );

    // Patterns that would make a backtracking matcher take exponential time: the run ends,
    // and they match what they say.
    let name = format!("{}.yaml", "a".repeat(200));
    write(root, &format!("deep/{name}"), &wildcard_entry("deep"));
    let hostile = format!("{}b", "*a".repeat(500));
    let stars = format!("{}a.yaml", "*".repeat(1000));
    let out = run(
        &[
            "check",
            "--exclude",
            &hostile,
            "--exclude",
            "**/**/**/**/**/**/**/**/c",
            "deep",
        ],
        root,
        None,
    );
    assert_eq!(out.status.code(), Some(1), "nothing excluded");
    let out = run(
        &["check", "--exclude", &stars, "--exclude", "[!b]", "deep"],
        root,
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "all excluded: {}",
        text(&out.stderr)
    );
}

const TEMPLATE: &str = "apiVersion: networking.istio.io/v1\nkind: VirtualService\n{{- if .Values.enabled }}\nmetadata:\n  name: {{ .Values.name }}\n{{- end }}\n";

const TEMPLATE_NOTE: &str =
    "a Helm/Go template ({{ }} at line 3); render it first (helm template) and check the output";

#[test]
fn templates_are_skipped_with_a_note_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "chart/templates/vs.yaml", TEMPLATE);
    write(root, "chart/ns.yaml", &namespace("chart"));
    // Braces in a quoted string and in comments are text: this file is checked.
    write(
        root,
        "quoted.yaml",
        "# rendered with {{ .Values.x }} elsewhere\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: docs\n  annotations:\n    description: \"use {{name}} in the template\"  # {{ not one }}\nspec:\n  hosts: [\"*\"]\n",
    );

    let out = run(&["check", "."], root, None);
    assert_eq!(out.status.code(), Some(1), "the quoted file's finding");
    assert_eq!(
        text(&out.stdout),
        format!(
            "quoted.yaml:9: error serviceentry-hosts: spec.hosts[0]: `*` is not allowed in a ServiceEntry: name the hosts\n\
             chart/templates/vs.yaml: skipped: {TEMPLATE_NOTE}\n\
             1 error, 0 warnings, 0 infos (0 fixable) in 3 files, 2 documents, 2 objects; 1 file skipped\n"
        )
    );
    assert_eq!(text(&out.stderr), "");

    // Skipped files do not change the exit code.
    let out = run(&["check", "chart"], root, None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    let out = run(&["check", "--format", "json", "chart"], root, None);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["skipped"],
        serde_json::json!([{"file": "chart/templates/vs.yaml", "line": 3, "reason": TEMPLATE_NOTE}])
    );
    assert_eq!(report["summary"]["skipped"], 1);
    assert_eq!(report["summary"]["files"], 2);
    assert_eq!(report["errors"], serde_json::json!([]));

    let out = run(&["check", "--format", "sarif", "chart"], root, None);
    assert_eq!(out.status.code(), Some(0));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        sarif["runs"][0]["invocations"][0],
        serde_json::json!({
            "executionSuccessful": true,
            "toolExecutionNotifications": [{
                "level": "note",
                "message": {"text": format!("skipped: {TEMPLATE_NOTE}")},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": "chart/templates/vs.yaml"},
                    "region": {"startLine": 3},
                }}],
            }],
        })
    );

    let out = run(&["check", "--format", "github", "chart"], root, None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        format!(
            "::notice file=chart/templates/vs.yaml,line=3,title=meshgate skipped::{TEMPLATE_NOTE}\n\
             0 errors, 0 warnings, 0 infos (0 fixable) in 2 files, 1 document, 1 object; 1 file skipped\n"
        )
    );

    // fix leaves it as it is, byte for byte, and says so.
    let out = run(&["fix", "--in-place", "chart"], root, None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stderr),
        format!(
            "chart/templates/vs.yaml: skipped: {TEMPLATE_NOTE}\n\
             fixed 0 fields in 0 files; remaining: 0 errors, 0 warnings, 0 infos (0 fixable) in 2 files, 1 document, 1 object; 1 file skipped\n"
        )
    );
    assert_eq!(
        std::fs::read_to_string(root.join("chart/templates/vs.yaml")).unwrap(),
        TEMPLATE
    );
    // On stdout, the stream of files stays whole.
    let out = run(&["fix", "-"], root, Some(TEMPLATE.as_bytes()));
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), TEMPLATE.to_string())
    );
    assert!(text(&out.stderr).starts_with(&format!("-: skipped: {TEMPLATE_NOTE}\n")));
}

#[test]
fn github_annotations_escape_what_the_runner_reads_as_syntax() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // A file name with `,` `:` `%`, a port name with `%` `,` `:` and a line break.
    write(
        root,
        "odd,name:50%.yaml",
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: db\nspec:\n  hosts: [db.example.com]\n  location: MESH_EXTERNAL\n  resolution: DNS\n  ports:\n  - number: 80\n    name: \"a%b,c:d\\r\\ne\"\n    protocol: HTTP\n",
    );
    write(root, "bad,1.yaml", "kind: [\n");
    let out = run(&["check", "--format", "github", "."], root, None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stdout),
        "::error file=odd%2Cname%3A50%25.yaml,line=11,title=meshgate serviceentry-ports::spec.ports[0].name: port name `a%25b,c:d%0D%0Ae` is not a DNS-1123 label (1-63 letters, digits or '-', starting and ending with a letter or digit)\n\
         ::error file=bad%2C1.yaml,line=1,col=7::unclosed bracket '['\n\
         1 error, 0 warnings, 0 infos (0 fixable) in 2 files, 1 document, 1 object; 1 input could not be read\n"
    );
}

#[test]
fn fix_keeps_the_comments_of_the_lines_it_converts() {
    let dir = tempfile::tempdir().unwrap();
    let input = "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts: [ratings]
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    fault:
      abort:
        httpStatus: 503
        percent: 10  # 10% of jason's requests fail
    route:
    - destination:
        host: ratings
    appendHeaders:  # for the canary dashboards
      x-canary: \"true\"  # read by the dashboards
    websocketUpgrade: true  # the UI streams
    retries:
      attempts: 3
      per_try_timeout: 2s  # under the client's 10s
";
    write(dir.path(), "ratings.yaml", input);
    let out = run(&["fix", "ratings.yaml"], dir.path(), None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let expected = "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts: [ratings]
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    fault:
      abort:
        httpStatus: 503
        percentage:
          value: 10.0  # 10% of jason's requests fail
    route:
    - destination:
        host: ratings
    # the UI streams
    retries:
      attempts: 3
      perTryTimeout: 2s  # under the client's 10s
    headers:  # for the canary dashboards
      request:
        add:
          x-canary: \"true\"  # read by the dashboards
";
    assert_eq!(text(&out.stdout), expected);
    // Fixed once, there is nothing left to do: the output is a fixed point.
    write(dir.path(), "fixed.yaml", expected);
    let again = run(&["fix", "fixed.yaml"], dir.path(), None);
    assert_eq!(text(&again.stdout), expected);
    assert!(
        text(&again.stderr).starts_with("fixed 0 fields in 0 files;"),
        "{}",
        text(&again.stderr)
    );
}

/// A file whose fix removes line 11 and renames two keys of its second document, with three
/// findings that remain: in the first document (line 1), in the renamed block (line 21 before
/// the fix, 20 after) and in a Namespace after both (lines 27 and 28 before).
const SHIFTED: &str = "\
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: r
spec:
  hosts: [r]
  http:
  - route:
    - destination:
        host: r
    websocketUpgrade: true
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: d
spec:
  host: d
  traffic_policy:
    load_balancer:
      simple: LEAST_CONN
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio-injection: enabled
    istio.io/rev: asm
";

fn remaining_lines(prefix: &str, lines: [usize; 4]) -> String {
    let [api, simple, conflict, summary_files] = lines;
    format!(
        "{prefix}:{api}: info virtualservice-api-version: apiVersion: networking.istio.io/v1alpha3 is an older version of this API; write apiVersion: networking.istio.io/v1 (served since Istio 1.22, same schema)\n\
         {prefix}:{simple}: warning destinationrule-deprecated-fields: spec.trafficPolicy.loadBalancer.simple: deprecated: write LEAST_REQUEST, the same algorithm (not fixed: needs Istio 1.14, minIstioVersion is 1.4)\n\
         {prefix}:{conflict}: error namespace-injection-conflict: metadata.labels[istio-injection]: istio-injection=enabled and istio.io/rev=asm conflict, so injection fails: remove `istio-injection` from metadata.labels\n\
         fixed 3 fields in 1 file; remaining: 1 error, 1 warning, 1 info (0 fixable) in {summary_files} file, 3 documents, 3 objects\n"
    )
}

#[test]
fn what_remains_after_fix_carries_the_lines_of_the_file_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "shifted.yaml", SHIFTED);
    // --diff and stdout change no file: lines of the input, where `simple` is written under
    // the old `load_balancer` (the rewritten text has it under `loadBalancer`, a line up).
    for mode in ["--diff", "--fail-on=error"] {
        let out = run(&["fix", mode, "shifted.yaml"], dir.path(), None);
        assert_eq!(out.status.code(), Some(1), "{mode}");
        assert_eq!(
            text(&out.stderr),
            remaining_lines("shifted.yaml", [1, 21, 28, 1]),
            "{mode}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("shifted.yaml")).unwrap(),
            SHIFTED
        );
    }
    // --in-place: the lines of the file it wrote.
    let out = run(&["fix", "--in-place", "shifted.yaml"], dir.path(), None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        remaining_lines("shifted.yaml", [1, 20, 27, 1])
    );
    let written = std::fs::read_to_string(dir.path().join("shifted.yaml")).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines[19], "      simple: LEAST_CONN");
    assert_eq!(lines[26], "    istio-injection: enabled");
}

#[test]
fn findings_inside_anchors_are_located_in_the_anchor_and_not_fixable() {
    let dir = tempfile::tempdir().unwrap();
    let input = "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: r
spec:
  hosts: [r]
  http:
  - match: [{uri: {prefix: /a}}]
    route:
    - destination: {host: r}
    fault: &flaky
      abort:
        httpStatus: 503
        percent: 10
  - route:
    - destination:
        host: r
    fault: *flaky
    websocketUpgrade: true
";
    write(dir.path(), "anchored.yaml", input);
    let out = run(&["check", "anchored.yaml"], dir.path(), None);
    assert_eq!(out.status.code(), Some(1));
    let legacy = "error virtualservice-legacy-fields";
    let percent = "removed in Istio 1.5, dropped by current CRDs, so the fault stops firing: write";
    assert_eq!(
        text(&out.stdout),
        format!(
            "anchored.yaml:14: {legacy}: spec.http[0].fault.abort.percent: {percent} spec.http[0].fault.abort.percentage.value: 10.0 (not fixed: inside YAML anchors/aliases; write it out)\n\
             anchored.yaml:14: {legacy}: spec.http[1].fault.abort.percent: {percent} spec.http[1].fault.abort.percentage.value: 10.0 (not fixed: inside YAML anchors/aliases, reached through the alias at line 18; write it out)\n\
             anchored.yaml:19: {legacy}: spec.http[1].websocketUpgrade: removed in Istio 1.5 (every route upgrades websockets since 1.0): delete it (not fixed: the fix at line 14 of this document is inside YAML anchors/aliases, so fix leaves the document as it is)\n\
             3 errors, 0 warnings, 0 infos (0 fixable) in 1 file, 1 document, 1 object\n"
        )
    );
    let out = run(
        &["check", "--format", "json", "anchored.yaml"],
        dir.path(),
        None,
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows: Vec<(u64, bool)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), f["fixable"].as_bool().unwrap()))
        .collect();
    assert_eq!(rows, [(14, false), (14, false), (19, false)]);
    assert_eq!(report["summary"]["fixable"], 0);
    let out = run(
        &["check", "--format", "sarif", "anchored.yaml"],
        dir.path(),
        None,
    );
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"]["startLine"],
        14
    );
    // And fix indeed leaves the document as it is.
    let out = run(&["fix", "anchored.yaml"], dir.path(), None);
    assert_eq!(text(&out.stdout), input);
    assert!(
        text(&out.stderr).ends_with("fixed 0 fields in 0 files; remaining: 3 errors, 0 warnings, 0 infos (0 fixable) in 1 file, 1 document, 1 object\n"),
        "{}",
        text(&out.stderr)
    );
}
