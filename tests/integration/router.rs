//! The AdmissionReview path through the router, without sockets: every captured API-server
//! request, both webhooks, both AdmissionReview versions.

use std::sync::Arc;

use axum::body::Body;
use http_body_util::BodyExt;
use meshgate::engine::Engine;
use meshgate::metrics::Metrics;
use meshgate::policy::Policy;
use meshgate::server::webhook::{RequestLimits, WebhookState, router};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::{captured, namespace_update};

async fn call(policy: Policy, path: &str, review: &Value) -> (u16, Value) {
    let (status, answer, _) = send(policy, path, review).await;
    (status, answer)
}

/// One request through a fresh router: status, JSON answer (`Null` if none) and the metrics.
async fn send(policy: Policy, path: &str, review: &Value) -> (u16, Value, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::default());
    let app = router(WebhookState::new(
        Engine::new(policy),
        metrics.clone(),
        RequestLimits::default(),
    ));
    let request = axum::http::Request::post(format!("{path}?timeout=10s"))
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(review).unwrap()))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
        metrics,
    )
}

async fn default_answer(path: &str, fixture: &str) -> Value {
    let review = captured(fixture);
    let (status, answer) = call(Policy::default(), path, &review).await;
    assert_eq!(status, 200, "{fixture}");
    assert_eq!(
        answer["response"]["uid"], review["request"]["uid"],
        "{fixture}: uid echoed"
    );
    assert!(answer["response"].get("patch").is_none() || path == "/mutate");
    answer["response"].clone()
}

#[tokio::test]
async fn captured_namespace_requests_under_the_default_policy() {
    // kubectl create with both labels: denied by /validate, nothing from /mutate.
    let response = default_answer("/validate", "namespace-create-both-labels.json").await;
    assert_eq!(response["allowed"], false);
    assert_eq!(
        response["status"]["details"]["causes"][0]["field"],
        "metadata.labels[istio-injection]"
    );
    let response = default_answer("/mutate", "namespace-create-both-labels.json").await;
    assert_eq!(response.as_object().unwrap().len(), 2, "{response}");

    // kubectl label ns shop istio-injection-: the conflict is gone.
    let response =
        default_answer("/validate", "namespace-update-remove-istio-injection.json").await;
    assert_eq!(
        response.as_object().unwrap().len(),
        2,
        "allowed and silent: {response}"
    );
    assert_eq!(response["allowed"], true);

    // Rollback adding istio-injection next to istio.io/rev: a new violation, denied (the
    // default action is deny; repairing labels is opt-in).
    let response = default_answer(
        "/validate",
        "namespace-update-add-istio-injection-while-rev.json",
    )
    .await;
    assert_eq!(response["allowed"], false);
    let response = default_answer(
        "/mutate",
        "namespace-update-add-istio-injection-while-rev.json",
    )
    .await;
    assert!(response.get("patch").is_none());

    // Changing the revision of a namespace that already had both labels: ratcheted to a warning.
    let response = default_answer(
        "/validate",
        "namespace-update-change-rev-while-istio-injection.json",
    )
    .await;
    assert_eq!(response["allowed"], true);
    let warning = response["warnings"][0].as_str().unwrap();
    assert!(
        warning.starts_with("namespace-injection-conflict: metadata.labels[istio-injection]: "),
        "{warning}"
    );

    // kubectl delete: allowed, no patch.
    let response = default_answer("/validate", "virtualservice-delete-v1.json").await;
    assert_eq!(response, json!({"uid": response["uid"], "allowed": true}));
}

#[tokio::test]
async fn every_captured_request_is_answered_in_its_own_version() {
    for fixture in [
        "namespace-create-both-labels.json",
        "namespace-update-remove-istio-injection.json",
        "namespace-update-add-istio-injection-while-rev.json",
        "namespace-update-change-rev-while-istio-injection.json",
        "virtualservice-create-v1alpha3-legacy-fields.json",
        "serviceentry-create-v1-global-dryrun.json",
        "virtualservice-delete-v1.json",
    ] {
        for version in ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"] {
            let mut review = captured(fixture);
            review["apiVersion"] = json!(version);
            for path in ["/validate", "/mutate"] {
                let (status, answer) = call(Policy::default(), path, &review).await;
                assert_eq!(status, 200, "{fixture} {path}");
                assert_eq!(answer["apiVersion"], version, "{fixture} {path}");
                assert_eq!(answer["kind"], "AdmissionReview");
                assert_eq!(answer["response"]["uid"], review["request"]["uid"]);
                if path == "/validate" {
                    assert!(
                        answer["response"].get("patch").is_none(),
                        "{fixture}: /validate never patches"
                    );
                    assert!(answer["response"].get("patchType").is_none());
                }
            }
        }
    }
}

#[tokio::test]
async fn a_fix_policy_patches_the_migration_relabel() {
    let policy: Policy = "apiVersion: meshgate.io/v1alpha1\nkind: Policy\nrules:\n  namespace-injection-conflict: fix\n"
        .parse()
        .unwrap();
    let update = namespace_update(
        json!({"istio-injection": "enabled"}),
        json!({"istio-injection": "enabled", "istio.io/rev": "asm-managed"}),
    );
    let (_, answer) = call(policy.clone(), "/mutate", &update).await;
    assert_eq!(
        crate::support::decoded_patch(&answer),
        Some(json!([{"op": "remove", "path": "/metadata/labels/istio-injection"}]))
    );
    // Without the mutating webhook in front, /validate warns instead of denying.
    let (_, answer) = call(policy, "/validate", &update).await;
    assert_eq!(answer["response"]["allowed"], true);
    assert_eq!(answer["response"]["warnings"].as_array().unwrap().len(), 1);
}

/// `call`, keeping the metrics the router recorded.
async fn call_counted(policy: Policy, path: &str, review: &Value) -> (Value, String) {
    let (status, answer, metrics) = send(policy, path, review).await;
    assert_eq!(status, 200);
    (answer, metrics.render())
}

fn annotate(review: &mut Value, annotations: Value) {
    review["request"]["object"]["metadata"]["annotations"] = annotations;
}

#[tokio::test]
async fn ignore_annotations_are_honoured_only_as_the_policy_allows() {
    let mut both = captured("namespace-create-both-labels.json");
    annotate(
        &mut both,
        json!({"ignore.meshgate.io/namespace-injection-conflict": "two injectors on purpose, OPS-9"}),
    );
    // Default `allowIgnoreAnnotations: warnings`: an application team cannot lift the denial.
    let (answer, metrics) = call_counted(Policy::default(), "/validate", &both).await;
    let response = &answer["response"];
    assert_eq!(response["allowed"], false);
    assert_eq!(
        response["status"]["details"]["causes"][0]["message"],
        "namespace-injection-conflict: istio-injection=enabled and istio.io/rev=asm-managed conflict, so injection fails: \
         kubectl label namespace shop istio-injection- (not silenced: the policy lets annotations \
         silence warnings only)"
    );
    assert!(response["auditAnnotations"].get("suppressed").is_none());
    assert!(!metrics.contains("meshgate_rule_findings_suppressed_total{"));

    // `all`: the platform team lets annotations lift denials; the request is allowed silently
    // and the audit log says what was silenced.
    let (answer, metrics) = call_counted(
        crate::support::policy("allowIgnoreAnnotations: all\n"),
        "/validate",
        &both,
    )
    .await;
    let response = &answer["response"];
    assert_eq!(response["allowed"], true, "{response}");
    assert!(response.get("warnings").is_none(), "{response}");
    assert_eq!(
        response["auditAnnotations"]["suppressed"],
        "[\"namespace-injection-conflict\"]"
    );
    assert!(
        metrics.contains(
            "meshgate_rule_findings_suppressed_total{rule=\"namespace-injection-conflict\"} 1"
        ),
        "{metrics}"
    );

    // `none`: annotations are not read; the denial carries no note about them.
    let (answer, _) = call_counted(
        crate::support::policy("allowIgnoreAnnotations: none\n"),
        "/validate",
        &both,
    )
    .await;
    assert_eq!(answer["response"]["allowed"], false);
    assert!(
        !answer["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("silenced")
    );
}

#[tokio::test]
async fn ignore_annotations_silence_warnings_and_need_a_reason() {
    let mut labelled = captured("namespace-create-both-labels.json");
    labelled["request"]["object"]["metadata"]["labels"] = json!({"istio-injection": "true"});
    let warned = |answer: &Value| crate::support::warnings_of(answer);
    let (answer, _) = call_counted(Policy::default(), "/validate", &labelled).await;
    assert_eq!(
        warned(&answer),
        [
            "namespace-injection-label-value: metadata.labels[istio-injection]: Istio ignores istio-injection=true: write enabled or disabled"
        ]
    );
    // With a reason, the warning is silenced under the default policy.
    annotate(
        &mut labelled,
        json!({"ignore.meshgate.io/namespace-injection-label-value": "read by the batch scheduler"}),
    );
    let (answer, _) = call_counted(Policy::default(), "/validate", &labelled).await;
    assert_eq!(answer["response"]["allowed"], true);
    assert_eq!(warned(&answer), Vec::<String>::new());
    assert_eq!(
        answer["response"]["auditAnnotations"]["suppressed"],
        "[\"namespace-injection-label-value\"]"
    );
    // Without one, nothing is silenced and the annotation is a finding of its own.
    annotate(
        &mut labelled,
        json!({"ignore.meshgate.io/namespace-injection-label-value": ""}),
    );
    let (answer, _) = call_counted(Policy::default(), "/validate", &labelled).await;
    assert_eq!(
        warned(&answer),
        [
            "namespace-injection-label-value: metadata.labels[istio-injection]: Istio ignores istio-injection=true: write enabled or disabled",
            "ignore-annotation: metadata.annotations[ignore.meshgate.io/namespace-injection-label-value]: no reason given, so it silences nothing: write why the rule does not apply here"
        ]
    );
    assert!(
        answer["response"]["auditAnnotations"]
            .get("suppressed")
            .is_none()
    );
}
