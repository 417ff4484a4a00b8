//! The inputs that fuzzing saved (tests/fixtures/fuzz/<target>/), replayed through the very
//! assertions of the fuzz targets (fuzz/src/checks.rs) on stable Rust, together with the test
//! data the fuzz corpora start from, so that what a fuzz run once found stays fixed.

use std::path::{Path, PathBuf};

#[path = "../../fuzz/src/checks.rs"]
mod checks;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every file of `dir` but its README, sorted; the directory must have some.
fn files_of(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file() && path.file_name() != Some("README.md".as_ref()))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} has no inputs", dir.display());
    files
}

/// The saved inputs of one fuzz target.
fn saved(target: &str) -> Vec<(String, Vec<u8>)> {
    files_of(&fixtures().join("fuzz").join(target))
        .into_iter()
        .map(|path| (path.display().to_string(), std::fs::read(&path).unwrap()))
        .collect()
}

/// Runs `check` on each input, naming the input that fails.
fn replay(inputs: &[(String, Vec<u8>)], check: impl Fn(&[u8])) {
    for (name, data) in inputs {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(data)));
        assert!(outcome.is_ok(), "{name} fails the fuzz target's assertions");
    }
}

/// The AdmissionReview bodies of the captured requests.
fn captured_bodies() -> Vec<(String, Vec<u8>)> {
    files_of(&fixtures().join("admission"))
        .into_iter()
        .map(|path| {
            let capture: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let body = serde_json::to_vec(&capture["body"]).unwrap();
            (path.display().to_string(), body)
        })
        .collect()
}

/// Every YAML file under `dir`, recursively.
fn yaml_under(dir: &Path, into: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_under(&path, into);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            into.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
}

#[test]
fn review_bytes_inputs_pass() {
    replay(&saved("review_bytes"), checks::review_bytes);
}

#[test]
fn review_structured_inputs_pass_under_every_policy_and_webhook() {
    replay(&saved("review_structured"), checks::review_all);
}

#[test]
fn captured_requests_pass_the_review_assertions() {
    let bodies = captured_bodies();
    assert_eq!(bodies.len(), 7);
    replay(&bodies, checks::review_all);
}

#[test]
fn yaml_fix_inputs_pass_under_both_policies() {
    let mut inputs = saved("yaml_fix");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in [
        "tests/fixtures/legacy",
        "tests/fixtures/check-tree",
        "deploy",
    ] {
        yaml_under(&root.join(dir), &mut inputs);
    }
    // As the target runs them (every fixable rule at `fix`), then under the built-in policy.
    replay(&inputs, checks::yaml_fix);
    replay(&inputs, |data| {
        if let Ok(text) = std::str::from_utf8(data) {
            checks::check_manifests(&checks::engines()[0], text);
        }
    });
}

#[test]
fn policy_load_inputs_pass() {
    let mut inputs = saved("policy_load");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/base/policy.yaml");
    inputs.push((
        shipped.display().to_string(),
        std::fs::read(&shipped).unwrap(),
    ));
    replay(&inputs, checks::policy_load);
}

/// Found by `yaml_fix` (tests/fixtures/fuzz/yaml_fix/list-after-longer-document): the members of
/// a List were looked up at their offsets in the file within the List's own text, so `fix`
/// panicked on a List after a longer document.
#[test]
fn a_list_after_a_longer_document_is_fixed() {
    let first = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  notes: \"{}\"\n---\n",
        "x".repeat(400)
    );
    let list = "\
apiVersion: v1
kind: List
items:
- apiVersion: networking.istio.io/v1alpha3
  kind: VirtualService
  metadata:
    name: ratings
  spec:
    hosts: [ratings]
    http:
    - route:
      - destination:
          host: ratings
      fault:
        abort:
          httpStatus: 503
          percent: 10
";
    let engine = meshgate::engine::Engine::default();
    let fixed =
        meshgate::lint::fix_text(&engine, "routes.yaml", &format!("{first}{list}")).unwrap();
    let expected = list.replace(
        "          percent: 10\n",
        "          percentage:\n            value: 10.0\n",
    );
    assert_eq!(fixed.text, format!("{first}{expected}"));
    assert_eq!(fixed.changes, 1);
    assert!(fixed.skipped.is_empty(), "{:?}", fixed.skipped);
}
