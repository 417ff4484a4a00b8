//! The validation catalog against data nobody here wrote (Istio's analyzer inputs with the
//! results Istio's own tests expect) and against the migration patterns users write.

use meshgate::engine::Webhook;
use meshgate::rules::{self, ObjectKind, Severity, Subject};
use serde_json::Value;

use crate::support::*;

/// `(rule, path, severity)` of every finding for a manifest read from a file.
fn findings(object: &Value) -> Vec<Row> {
    let Some(kind) = ObjectKind::of(object) else {
        return Vec::new();
    };
    let version = object["apiVersion"]
        .as_str()
        .and_then(|v| v.rsplit('/').next());
    rules::evaluate(&Subject {
        requested_version: version,
        ..Subject::created(kind, object)
    })
    .into_iter()
    .map(|f| (f.rule.id().to_string(), f.path.to_string(), f.severity))
    .collect()
}

/// Istio's analyzer origin: `<Kind> <namespace>/<name>`, or `<Kind> <name>` without a namespace.
fn origin(object: &Value) -> String {
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    match object["metadata"]["namespace"].as_str() {
        Some(ns) => format!(
            "{} {ns}/{name}",
            object["kind"].as_str().unwrap_or_default()
        ),
        None => format!("{} {name}", object["kind"].as_str().unwrap_or_default()),
    }
}

/// The origins of the objects in `file` where `rule` fires, one entry per finding.
fn origins_with(file: &str, rule: &str) -> Vec<String> {
    let mut found = Vec::new();
    for object in yaml_documents(&fixtures("analyzer").join(file)) {
        for (id, _, _) in findings(&object) {
            if id == rule {
                found.push(origin(&object));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn addresses_required_fires_where_istio_ist0134_does() {
    let rule = "serviceentry-addresses-required";
    assert_eq!(
        origins_with("serviceentry-missing-addresses-protocol.yaml", rule),
        [
            "ServiceEntry default/service-entry-test-03",
            "ServiceEntry default/service-entry-test-04",
            "ServiceEntry default/service-entry-test-07",
        ]
    );
    assert_eq!(
        origins_with("serviceentry-address-required-lowercase.yaml", rule),
        ["ServiceEntry address-missing-lowercase"]
    );
    assert_eq!(
        origins_with("serviceentry-address-required-uppercase.yaml", rule),
        ["ServiceEntry address-missing-uppercase"]
    );
    // Istio allocated an address (status.addresses): nothing to say.
    assert_eq!(
        origins_with("serviceentry-address-allocated.yaml", rule),
        Vec::<String>::new()
    );
}

#[test]
fn with_dns_auto_allocation_the_rule_is_turned_off_in_the_policy() {
    // meshgate reads no MeshConfig; a mesh with ISTIO_META_DNS_AUTO_ALLOCATE (Istio's second
    // IST0134 case) turns the rule off, and then nothing is reported, as Istio expects.
    let off = policy("rules:\n  serviceentry-addresses-required: off\n");
    for object in
        yaml_documents(&fixtures("analyzer").join("serviceentry-missing-addresses-protocol.yaml"))
    {
        let answer = answer(
            &off,
            Webhook::Validate,
            &review_of(&object, None, "v1", "v1"),
        );
        assert_eq!(answer["response"]["allowed"], true);
        assert!(
            warnings_of(&answer).is_empty(),
            "{}: {:?}",
            origin(&object),
            warnings_of(&answer)
        );
    }
}

#[test]
fn istio_valid_serviceentries_produce_no_errors() {
    let objects =
        yaml_documents(&fixtures("analyzer").join("crd-validation-serviceentry-valid.yaml"));
    assert_eq!(objects.len(), 5);
    for object in objects {
        let errors: Vec<_> = findings(&object)
            .into_iter()
            .filter(|(_, _, s)| *s == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", origin(&object));
    }
}

#[test]
fn the_deprecation_case_agrees_with_virtualservice_deprecated_fields() {
    // Istio reports the VirtualService's fault.delay.percent (and a Sidecar field, a kind
    // meshgate does not check); meshgate reports exactly the VirtualService's field.
    let mut reported = Vec::new();
    for object in yaml_documents(&fixtures("analyzer").join("deprecation.yaml")) {
        for (rule, path, severity) in findings(&object) {
            if rule == "virtualservice-deprecated-fields" {
                reported.push((origin(&object), path, severity));
            }
        }
    }
    assert_eq!(
        reported,
        [(
            "VirtualService foo/productpage".to_string(),
            "spec.http[0].fault.delay.percent".to_string(),
            Severity::Warning
        )]
    );
}

/// One expected finding: rule id, path, severity.
type Row = (String, String, Severity);

fn row(rule: &str, path: &str, severity: Severity) -> Row {
    (rule.into(), path.into(), severity)
}

#[test]
fn migration_scenarios() {
    use Severity::{Error, Warning};
    let cases: Vec<(&str, Vec<Vec<Row>>)> = vec![
        (
            "split-serviceentry-to-new-backend.yaml",
            vec![vec![], vec![]],
        ),
        ("split-with-mirroring.yaml", vec![vec![]]),
        (
            "split-weights-not-100.yaml",
            vec![vec![row(
                "virtualservice-weights",
                "spec.http[0].route",
                Error,
            )]],
        ),
        (
            "split-negative-weight.yaml",
            vec![vec![row(
                "virtualservice-weights",
                "spec.http[0].route[0].weight",
                Error,
            )]],
        ),
        (
            "external-mesh-other-namespace.yaml",
            vec![vec![row(
                "virtualservice-external-mesh",
                "spec.http[0].route[0].destination.host",
                Error,
            )]],
        ),
        (
            "global-serviceentry-class-e.yaml",
            vec![vec![row(
                "serviceentry-global-multicluster",
                "spec.hosts[0]",
                Warning,
            )]],
        ),
        (
            "global-serviceentry-private-address.yaml",
            vec![vec![
                row("serviceentry-global-multicluster", "spec.hosts[0]", Warning),
                row(
                    "serviceentry-global-multicluster",
                    "spec.addresses[0]",
                    Warning,
                ),
            ]],
        ),
    ];
    let defaults = meshgate::policy::Policy::default();
    for (file, expected) in cases {
        let objects = yaml_documents(&fixtures("migration").join(file));
        let got: Vec<_> = objects.iter().map(findings).collect();
        assert_eq!(got, expected, "{file}");
        // Through the webhook: errors deny, warnings only warn.
        for (object, rows) in objects.iter().zip(&expected) {
            let answer = answer(
                &defaults,
                Webhook::Validate,
                &review_of(object, None, "v1", "v1"),
            );
            let denies = rows.iter().any(|(_, _, s)| *s == Error);
            assert_eq!(answer["response"]["allowed"], !denies, "{file}: {answer}");
            assert_eq!(
                warnings_of(&answer).len(),
                rows.len() - usize::from(denies),
                "{file}: {answer}"
            );
        }
    }
    // The private-address warning names the class E range.
    let object =
        &yaml_documents(&fixtures("migration").join("global-serviceentry-private-address.yaml"))[0];
    let answer = answer(
        &defaults,
        Webhook::Validate,
        &review_of(object, None, "v1", "v1"),
    );
    assert!(
        warnings_of(&answer)
            .iter()
            .any(|w| w.contains("240.0.0.0/4")),
        "{answer}"
    );
}

#[test]
fn the_captured_global_dry_run_is_warned_not_denied() {
    let review = captured("serviceentry-create-v1-global-dryrun.json");
    let answer = answer(
        &meshgate::policy::Policy::default(),
        Webhook::Validate,
        &review,
    );
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    let warnings = warnings_of(&answer);
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("serviceentry-global-multicluster: spec.hosts[0]: ")),
        "{warnings:?}"
    );
}

#[test]
fn namespace_warnings_over_the_admission_path() {
    let defaults = meshgate::policy::Policy::default();
    let update = namespace_update(
        serde_json::json!({"istio.io/rev": "asm-managed"}),
        serde_json::json!({"istio-injection": "disabled", "istio.io/rev": "asm-managed"}),
    );
    let answer = answer(&defaults, Webhook::Validate, &update);
    assert_eq!(answer["response"]["allowed"], true);
    let warnings = warnings_of(&answer);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with("namespace-injection-shadowed-revision: metadata.labels[istio.io/rev]: istio-injection=disabled overrides"));
    // With `fix`, /mutate keeps the label this request set (istio-injection) and drops the revision.
    let fix = policy("rules:\n  namespace-injection-shadowed-revision: fix\n");
    let mutate = crate::support::answer(&fix, Webhook::Mutate, &update);
    assert_eq!(
        decoded_patch(&mutate),
        Some(serde_json::json!([{"op": "remove", "path": "/metadata/labels/istio.io~1rev"}]))
    );
}

#[test]
fn ratcheting_reads_the_stored_object_only_when_something_would_deny() {
    let defaults = meshgate::policy::Policy::default();
    let broken =
        yaml_documents(&fixtures("migration").join("split-negative-weight.yaml")).remove(0);
    let fine =
        yaml_documents(&fixtures("migration").join("split-serviceentry-to-new-backend.yaml"))
            .remove(1);
    // The stored object already had the negative weight: warned, not denied.
    let mut touched = broken.clone();
    touched["metadata"]["labels"] = serde_json::json!({"team": "billing"});
    let answer = answer(
        &defaults,
        Webhook::Validate,
        &review_of(&touched, Some(&broken), "v1", "v1"),
    );
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    assert!(
        warnings_of(&answer)[0]
            .starts_with("virtualservice-weights: spec.http[0].route[0].weight: ")
    );
    // A new violation on UPDATE is denied.
    let answer = crate::support::answer(
        &defaults,
        Webhook::Validate,
        &review_of(&broken, Some(&fine), "v1", "v1"),
    );
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
}
