//! The policy as a newcomer writes it, through the built binary: typos get a "did you mean",
//! `minIstioVersion` is strictly `MAJOR.MINOR`, each fault is said once with the file it is in;
//! and what the policy changes in `check`: weights by control-plane version, silenced findings.

use serde_json::Value;

use crate::support::*;

fn stderr_of(args: &[&str], dir: &std::path::Path) -> (Option<i32>, String) {
    let out = run(args, dir, None);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn policy_mistakes_are_said_once_naming_the_file_and_what_to_write() {
    let dir = temp();
    std::fs::write(
        dir.path().join("ns.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
    )
    .unwrap();
    let cases = [
        (
            "rules:\n  virtualservice-weight: warn\n",
            "meshgate: error: --policy policy.yaml: rules.virtualservice-weight: unknown rule id; did you mean `virtualservice-weights`?\n",
        ),
        (
            "minIstioVersion: \"1.6.3\"\n",
            "meshgate: error: --policy policy.yaml: minIstioVersion: `1.6.3` is not MAJOR.MINOR (e.g. \"1.22\"): write \"1.6\"\n",
        ),
        (
            "minIstioVersion: \"v1.6\"\n",
            "meshgate: error: --policy policy.yaml: minIstioVersion: `v1.6` is not MAJOR.MINOR (e.g. \"1.22\"): write \"1.6\"\n",
        ),
        (
            "minIstioVersion: \"1\"\n",
            "meshgate: error: --policy policy.yaml: minIstioVersion: `1` is not MAJOR.MINOR (e.g. \"1.22\")\n",
        ),
        (
            "mode: strict\n",
            "meshgate: error: --policy policy.yaml:3:7: unknown variant `strict`, expected one of enforce, audit\n",
        ),
        (
            "allowIgnoreAnnotations: some\n",
            "meshgate: error: --policy policy.yaml:3:25: unknown variant `some`, expected one of warnings, all, none\n",
        ),
    ];
    for (body, expected) in cases {
        write_policy(dir.path(), "policy.yaml", body);
        for command in ["check", "fix"] {
            let (code, stderr) =
                stderr_of(&[command, "--policy", "policy.yaml", "ns.yaml"], dir.path());
            assert_eq!(code, Some(2), "{command} {body}");
            assert_eq!(stderr, expected, "{command} {body}");
        }
    }
    // `serve` refuses the same policy before binding a port, with the same words.
    write_policy(
        dir.path(),
        "policy.yaml",
        "rules:\n  virtualservice-weight: warn\n",
    );
    let (code, stderr) = stderr_of(
        &[
            "serve",
            "--policy",
            "policy.yaml",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ],
        dir.path(),
    );
    assert_eq!(code, Some(2));
    assert!(
        stderr.ends_with("meshgate: error: --policy policy.yaml: rules.virtualservice-weight: unknown rule id; did you mean `virtualservice-weights`?\n"),
        "{stderr}"
    );
}

const SPLIT: &str = "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: cutover
  namespace: shop
spec:
  hosts:
  - billing
  http:
  - route:
    - destination:
        host: billing-old
      weight: 80
    - destination:
        host: billing-new
      weight: 30
";

#[test]
fn a_botched_cutover_fails_ci_while_an_old_control_plane_reads_it() {
    let dir = temp();
    std::fs::write(dir.path().join("split.yaml"), SPLIT).unwrap();
    // The default minIstioVersion, 1.4: Istio rejects 110 %, so CI fails.
    let out = run(&["check", "split.yaml"], dir.path(), None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().next(),
        Some(
            "split.yaml:10: error virtualservice-weights: spec.http[0].route: weights add up to 110, \
             not 100: Istio before 1.15 rejects this and minIstioVersion is 1.4: make them add up to 100"
        )
    );
    // Every control plane at 1.15 or later scales the weights, as Istio's validation accepts
    // them: a note, and exit 0 even where warnings fail the run.
    write_policy(dir.path(), "policy.yaml", "minIstioVersion: \"1.15\"\n");
    let out = run(
        &[
            "check",
            "--policy",
            "policy.yaml",
            "--fail-on",
            "warning",
            "split.yaml",
        ],
        dir.path(),
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().next(),
        Some(
            "split.yaml:10: info virtualservice-weights: spec.http[0].route: weights add up to 110, \
             not 100: Istio 1.15 and later (minIstioVersion is 1.15) scale them to 100; make them add \
             up to 100 to say what you mean"
        )
    );
}

#[test]
fn silenced_findings_are_counted_and_carry_their_reason() {
    let tree = fixtures("check-tree");
    let out = run(&["check", "--format", "json", "silenced.yaml"], &tree, None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the refused annotation leaves a denial"
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["suppressed"], 1);
    let suppressed = report["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["rule"], "namespace-injection-label-value");
    assert_eq!(suppressed[0]["line"], 7);
    assert_eq!(
        suppressed[0]["reason"],
        "read by the batch scheduler until it moves, OPS-231"
    );
    // No finding of that rule on that object is left among the findings.
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["name"] != "legacy-batch")
    );

    let out = run(
        &["check", "--format", "sarif", "silenced.yaml"],
        &tree,
        None,
    );
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let silenced: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(silenced.len(), 1);
    assert_eq!(silenced[0]["ruleId"], "namespace-injection-label-value");
    assert_eq!(
        silenced[0]["suppressions"],
        serde_json::json!([{"kind": "inSource", "justification": "read by the batch scheduler until it moves, OPS-231"}])
    );

    // `allowIgnoreAnnotations: none`: nothing is silenced.
    let dir = temp();
    let policy = write_policy(dir.path(), "policy.yaml", "allowIgnoreAnnotations: none\n");
    let out = run(
        &[
            "check",
            "--format",
            "json",
            "--policy",
            policy.to_str().unwrap(),
            "silenced.yaml",
        ],
        &tree,
        None,
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["suppressed"], 0);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "legacy-batch" && f["rule"] == "namespace-injection-label-value")
    );
}

#[test]
fn fix_leaves_a_silenced_fix_alone() {
    let dir = temp();
    let route = "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
  namespace: bookinfo
  annotations:
    ignore.meshgate.io/virtualservice-legacy-fields: \"pre-1.6 CRDs keep it until the upgrade, OPS-77\"
spec:
  hosts:
  - ratings
  http:
  - route:
    - destination:
        host: ratings
    fault:
      abort:
        httpStatus: 503
        percent: 10
";
    std::fs::write(dir.path().join("route.yaml"), route).unwrap();
    let out = run(&["fix", "route.yaml"], dir.path(), None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), route, "nothing rewritten");
    assert_eq!(
        text(&out.stderr),
        "fixed 0 fields in 0 files; remaining: 0 errors, 0 warnings, 0 infos (0 fixable) in 1 file, \
         1 document, 1 object; 1 finding suppressed by ignore.meshgate.io annotations\n"
    );
    // Without the annotation the same file is converted.
    let plain = route.replace(
        "  annotations:\n    ignore.meshgate.io/virtualservice-legacy-fields: \"pre-1.6 CRDs keep it until the upgrade, OPS-77\"\n",
        "",
    );
    std::fs::write(dir.path().join("route.yaml"), &plain).unwrap();
    let out = run(&["fix", "route.yaml"], dir.path(), None);
    assert!(text(&out.stdout).contains("percentage:\n          value: 10.0\n"));
}
