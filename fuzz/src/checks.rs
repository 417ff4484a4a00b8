//! What every fuzz target asserts about one input. The regression tests replay saved inputs
//! through these same functions on stable Rust (`tests/integration/fuzz_regressions.rs`
//! includes this file), so a finding stays fixed without libFuzzer.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use base64::Engine as _;
use meshgate::admission::{self, Decision, response};
use meshgate::engine::{Engine, Webhook};
use meshgate::lint;
use meshgate::policy::Policy;
use meshgate::rules::{Action, Rule};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// The file name findings of `check` and `fix` carry; any name does.
const FILE: &str = "fuzz.yaml";

/// The policies every input runs under: the built-in one, and one with every fixable rule at
/// `fix` and a `minIstioVersion` recent enough that no fix is held back by it.
pub fn engines() -> &'static [Engine] {
    static ENGINES: OnceLock<Vec<Engine>> = OnceLock::new();
    ENGINES.get_or_init(|| {
        // As `serve` does before it answers: the shipped schemas, parsed once.
        assert!(meshgate::schema::load().is_ok(), "the shipped schemas load");
        let mut all_fix = String::from(
            "apiVersion: meshgate.io/v1alpha1\nkind: Policy\nminIstioVersion: \"1.22\"\nrules:\n",
        );
        for rule in Rule::ALL.iter().filter(|rule| rule.fixable()) {
            all_fix.push_str(&format!("  {}: fix\n", rule.id()));
        }
        let all_fix: Policy = all_fix
            .parse()
            .expect("the every-rule-at-fix policy parses");
        vec![Engine::default(), Engine::new(all_fix)]
    })
}

/// The engine and webhook a fuzz input's first byte picks: bit 0 the webhook (`/mutate` when
/// set), bit 1 the policy. One review per input rather than four keeps the target fast.
pub fn pick(byte: u8) -> (&'static Engine, Webhook) {
    let webhook = if byte & 1 == 0 {
        Webhook::Validate
    } else {
        Webhook::Mutate
    };
    (&engines()[usize::from((byte >> 1) & 1)], webhook)
}

/// `review_bytes`: the first byte picks policy and webhook, the rest is the request body.
pub fn review_bytes(data: &[u8]) {
    if let Some((&first, body)) = data.split_first() {
        let (engine, webhook) = pick(first);
        check_review(engine, webhook, body);
    }
}

/// One AdmissionReview answered under every policy by both webhooks (regression inputs).
pub fn review_all(body: &[u8]) {
    for choice in 0..4 {
        let (engine, webhook) = pick(choice);
        check_review(engine, webhook, body);
    }
}

/// Answers `body` and checks the answer: a well-formed AdmissionReview for the same uid and
/// version, warnings within the API server's limits, `/validate` never patching and `/mutate`
/// never denying, and a patch that applies to the object and leaves nothing more to patch when
/// the API server sends the patched object again.
pub fn check_review(engine: &Engine, webhook: Webhook, body: &[u8]) {
    let Ok(answer) = admission::review(engine, webhook, body) else {
        return;
    };
    // Lossy: serde skips the fields meshgate does not read without checking their UTF-8.
    let text = String::from_utf8_lossy(body);
    let sent: Sent<'_> = serde_json::from_str(&text).expect("a reviewed body is a review");
    let reply: Value = serde_json::from_slice(&answer.body).expect("the answer is JSON");
    assert_eq!(reply["kind"], "AdmissionReview");
    assert_eq!(reply["apiVersion"], sent.api_version);
    let response = &reply["response"];
    let uid: Value = serde_json::from_str(sent.request["uid"].get()).expect("uid is JSON");
    assert_eq!(response["uid"], uid);
    assert_eq!(response["uid"].as_str(), Some(answer.uid.as_str()));
    check_warnings(response);
    let allowed = response["allowed"].as_bool().expect("allowed is a boolean");
    assert_eq!(allowed, answer.decision != Decision::Denied);
    assert_eq!(response.get("status").is_some(), !allowed);
    let patch = response.get("patch");
    assert_eq!(patch.is_some(), answer.decision == Decision::Patched);
    match webhook {
        Webhook::Validate => assert!(patch.is_none(), "/validate patched"),
        Webhook::Mutate => assert!(allowed, "/mutate denied"),
    }
    if let Some(patch) = patch {
        check_patch(engine, &sent, response, patch);
    }
}

fn check_warnings(response: &Value) {
    let Some(warnings) = response.get("warnings") else {
        return;
    };
    let warnings = warnings.as_array().expect("warnings is an array");
    assert!(!warnings.is_empty(), "an empty warnings list is omitted");
    assert!(warnings.len() <= response::MAX_WARNINGS, "{warnings:?}");
    let mut total = 0;
    for warning in warnings {
        let warning = warning.as_str().expect("a warning is a string");
        assert!(warning.len() <= response::MAX_WARNING_BYTES, "{warning:?}");
        assert!(!warning.chars().any(char::is_control), "{warning:?}");
        total += warning.len();
    }
    assert!(total <= response::MAX_WARNINGS_TOTAL_BYTES, "{total}");
}

/// The parts of a review the checks read, taken as meshgate takes them: fields it ignores are
/// kept as text (serde skips them without a depth limit, so they may nest deeper than a value
/// can be built).
#[derive(Deserialize)]
struct Sent<'a> {
    #[serde(rename = "apiVersion")]
    api_version: Value,
    #[serde(borrow)]
    request: BTreeMap<String, &'a RawValue>,
}

/// A review sent again with the patched object, as the API server does when it reinvokes.
#[derive(Serialize)]
struct Resent<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a Value,
    kind: &'static str,
    request: BTreeMap<&'a str, &'a RawValue>,
}

/// The patch applies as the API server applies it, and the patched object needs no other.
fn check_patch(engine: &Engine, sent: &Sent<'_>, response: &Value, patch: &Value) {
    assert_eq!(response["patchType"], "JSONPatch");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(patch.as_str().expect("the patch is a string"))
        .expect("the patch is base64");
    let patch: json_patch::Patch = serde_json::from_slice(&bytes).expect("an RFC 6902 patch");
    let mut patched: Value =
        serde_json::from_str(sent.request["object"].get()).expect("a patched object is JSON");
    if let Err(e) = json_patch::patch(&mut patched, &patch) {
        panic!("the patch does not apply: {e}\npatch: {patch:?}");
    }
    let patched = serde_json::value::to_raw_value(&patched).expect("JSON serializes");
    let mut request: BTreeMap<&str, &RawValue> =
        sent.request.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    request.insert("object", &patched);
    let again = Resent {
        api_version: &sent.api_version,
        kind: "AdmissionReview",
        request,
    };
    let body = serde_json::to_vec(&again).expect("JSON serializes");
    let second = admission::review(engine, Webhook::Mutate, &body)
        .unwrap_or_else(|e| panic!("the patched object is refused: {e}"));
    assert!(
        second.outcome.patch.is_empty(),
        "patching is not idempotent: the patched object gets {:?}",
        second.outcome.patch
    );
}

/// `yaml_fix`: `check` and `fix` on the text, as the CLI runs them on a file, under the policy
/// with every fixable rule at `fix`: its patches include every patch of the default policy, so
/// it exercises the writer most.
pub fn yaml_fix(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        check_manifests(&engines()[1], text);
    }
}

/// `meshgate check` and `meshgate fix` agree on whether the text is readable; a fixed text
/// reads back (with the same findings as `check` when nothing changed), and fixing it again
/// changes nothing.
pub fn check_manifests(engine: &Engine, text: &str) {
    let checked = lint::check_text(engine, FILE, text);
    let fixed = lint::fix_text(engine, FILE, text);
    let (checked, fixed) = match (checked, fixed) {
        (Ok(checked), Ok(fixed)) => (checked, fixed),
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "check and fix name different errors");
            return;
        }
        (Ok(_), Err(e)) => panic!("the fixed text does not read back: {e}"),
        (Err(e), Ok(_)) => panic!("fix read a text check refuses: {e}"),
    };
    if fixed.text == text {
        assert_eq!(fixed.remaining, checked, "the same text, other findings");
        return;
    }
    let again = lint::fix_text(engine, FILE, &fixed.text)
        .unwrap_or_else(|e| panic!("the fixed text does not read back: {e}"));
    assert_eq!(
        again.text, fixed.text,
        "fixing twice changes the text again"
    );
}

/// `policy_load`: the policy loader on the text. A policy it accepts never puts `fix` on a
/// rule that cannot fix; one it refuses says why.
pub fn policy_load(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<Policy>() {
        Ok(policy) => {
            for rule in Rule::ALL {
                assert!(
                    policy.action(*rule) != Action::Fix || rule.fixable(),
                    "{rule}"
                );
            }
        }
        Err(e) => assert!(!e.to_string().is_empty(), "an error without a message"),
    }
}
