//! End to end, as a cluster would run it: the built binary with certificates from
//! `meshgate certs`, a policy that fixes, and this test in the API server's role — mutate, apply
//! the patch, validate the result — across a restart of the server.

use std::time::Duration;

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn the_api_server_round_trip_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let certs = Certs::generate(&dir.path().join("tls"));
    let policy = write_policy(
        dir.path(),
        "policy.yaml",
        "minIstioVersion: \"1.24\"\nrules:\n  namespace-injection-conflict: fix\n",
    );
    let mut args = certs.flags();
    args.extend([
        "--policy".to_string(),
        policy.display().to_string(),
        "--shutdown-delay".into(),
        "0s".into(),
    ]);
    let mut server = Server::start(dir.path(), &args);
    let client = ClientOptions::api_server(certs.ca_pem());
    let mut api = ApiServer::connect(server.addr, &client).await.unwrap();

    // 1. kubectl create ns with both labels: intent unknown, so /mutate leaves it and /validate denies.
    let create = captured("namespace-create-both-labels.json");
    assert!(decoded_patch(&api.review("mutate", &create).await).is_none());
    let denied = api.review("validate", &create).await;
    assert_eq!(denied["response"]["allowed"], false);
    assert!(
        denied["response"]["status"]["message"]
            .as_str()
            .unwrap()
            .contains("kubectl label namespace shop istio-injection-")
    );

    // 2. The migration relabel: /mutate removes istio-injection, /validate accepts the result.
    let relabel = namespace_update(
        json!({"istio-injection": "enabled", "kubernetes.io/metadata.name": "shop"}),
        json!({"istio-injection": "enabled", "istio.io/rev": "asm-managed", "kubernetes.io/metadata.name": "shop"}),
    );
    let (patched, validated) = mutate_then_validate(&mut api, &relabel).await;
    assert_eq!(
        patched["metadata"]["labels"],
        json!({"istio.io/rev": "asm-managed", "kubernetes.io/metadata.name": "shop"})
    );
    assert_eq!(
        validated["response"],
        json!({"uid": relabel["request"]["uid"], "allowed": true})
    );

    // 3. A v1alpha3 VirtualService with legacy fields, converted by the API server to v1 (the
    //    webhook rules name v1 only here): fixed, then allowed with nothing said about fixed fields.
    let legacy =
        captured("virtualservice-create-v1alpha3-legacy-fields.json")["request"]["object"].clone();
    let converted = review_of(&legacy, None, "v1", "v1alpha3");
    assert_eq!(
        converted["request"]["object"]["apiVersion"],
        "networking.istio.io/v1"
    );
    let (patched, validated) = mutate_then_validate(&mut api, &converted).await;
    assert_eq!(
        patched["spec"]["http"][0]["fault"]["abort"]["percentage"],
        json!({"value": 10.0})
    );
    assert_eq!(validated["response"]["allowed"], true);
    let warnings = warnings_of(&validated);
    assert!(
        warnings
            .iter()
            .all(|w| !w.starts_with("virtualservice-legacy-fields")
                && !w.starts_with("virtualservice-deprecated-fields")),
        "{warnings:?}"
    );
    assert_eq!(warnings.len(), 1, "only the API version hint: {warnings:?}");

    // 4. A dry run gets the same answers.
    let mut dry = relabel.clone();
    dry["request"]["dryRun"] = json!(true);
    let wet = api.review("mutate", &relabel).await;
    let dry_answer = api.review("mutate", &dry).await;
    assert_eq!(dry_answer["response"]["patch"], wet["response"]["patch"]);

    // 5. A DELETE: allowed, never a patch.
    let delete = captured("virtualservice-delete-v1.json");
    for webhook in ["mutate", "validate"] {
        assert_eq!(
            api.review(webhook, &delete).await["response"],
            json!({"uid": delete["request"]["uid"], "allowed": true})
        );
    }

    // 6. The server restarts between two requests; the API server reconnects and gets the same answer.
    server.signal("TERM");
    assert_eq!(server.wait_exit(Duration::from_secs(10)).code(), Some(0));
    assert!(
        api.send(
            "POST",
            "/validate?timeout=5s",
            Some("application/json"),
            serde_json::to_vec(&create).unwrap()
        )
        .await
        .is_err()
    );
    let server = Server::start(dir.path(), &args);
    let mut api = ApiServer::connect(server.addr, &client).await.unwrap();
    assert_eq!(
        api.review("validate", &create).await["response"],
        denied["response"]
    );
}

/// The API server's two steps: the mutating webhook's patch applied, then the validating webhook.
async fn mutate_then_validate(
    api: &mut ApiServer,
    review: &serde_json::Value,
) -> (serde_json::Value, serde_json::Value) {
    let mutated = api.review("mutate", review).await;
    let patch = decoded_patch(&mutated).expect("a patch");
    let patched = apply_patch(&review["request"]["object"], &patch);
    let mut after = review.clone();
    after["request"]["object"] = patched.clone();
    let validated = api.review("validate", &after).await;
    (patched, validated)
}
