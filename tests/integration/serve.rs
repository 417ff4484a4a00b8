//! `meshgate serve` over real TLS on 127.0.0.1, played against as the API server plays it.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

#[tokio::test]
async fn conflicting_namespace_is_denied_and_one_connection_carries_many_reviews() {
    let dir = temp();
    let (server, certs) = server_with_certs(dir.path(), &[]);
    let mut api = ApiServer::connect(server.addr, &ClientOptions::api_server(certs.ca_pem()))
        .await
        .unwrap();
    assert_eq!(api.alpn.as_deref(), Some(&b"http/1.1"[..]));

    // 1. kubectl create ns with both labels: denied, 403, uid echoed, message with the fix.
    let create = captured("namespace-create-both-labels.json");
    let answer = api.review("validate", &create).await;
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(answer["kind"], "AdmissionReview");
    let response = &answer["response"];
    assert_eq!(response["uid"], create["request"]["uid"]);
    assert_eq!(response["allowed"], false);
    assert_eq!(response["status"]["code"], 403);
    assert_eq!(response["status"]["reason"], "Forbidden");
    let message = response["status"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "meshgate: namespace-injection-conflict: metadata.labels[istio-injection]: "
        ),
        "{message}"
    );
    assert!(
        message.contains("istio-injection=enabled") && message.contains("istio.io/rev=asm-managed"),
        "{message}"
    );
    assert!(
        message.contains("kubectl label namespace shop istio-injection-"),
        "{message}"
    );
    assert_eq!(
        response["status"]["details"]["causes"],
        json!([{
            "reason": "FieldValueInvalid",
            "field": "metadata.labels[istio-injection]",
            "message": format!("namespace-injection-conflict: {}", message.split(": ").skip(3).collect::<Vec<_>>().join(": ")),
        }])
    );
    assert!(response.get("patch").is_none());

    // 2. the same request to /mutate on the same connection: allowed, no patch (intent unknown).
    let answer = api.review("mutate", &create).await;
    assert_eq!(answer["response"]["allowed"], true);
    assert!(answer["response"].get("patch").is_none());

    // 3. a DELETE: allowed, no patch.
    let delete = captured("virtualservice-delete-v1.json");
    let answer = api.review("validate", &delete).await;
    assert_eq!(
        answer["response"],
        json!({"uid": delete["request"]["uid"], "allowed": true})
    );

    // 4. a kind meshgate does not handle: allowed, nothing said.
    let mut pod = captured("namespace-create-both-labels.json");
    pod["request"]["kind"] = json!({"group": "", "version": "v1", "kind": "Pod"});
    pod["request"]["object"] = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"istio-injection": "enabled", "istio.io/rev": "x"}}});
    let answer = api.review("mutate", &pod).await;
    assert_eq!(
        answer["response"],
        json!({"uid": pod["request"]["uid"], "allowed": true})
    );

    // 5. v1beta1 in, v1beta1 out.
    let mut beta = create.clone();
    beta["apiVersion"] = json!("admission.k8s.io/v1beta1");
    let answer = api.review("validate", &beta).await;
    assert_eq!(answer["apiVersion"], "admission.k8s.io/v1beta1");
    assert_eq!(answer["response"]["allowed"], false);

    // 6. a dry run gets the same answer as the real thing.
    let mut dry = create.clone();
    dry["request"]["dryRun"] = json!(true);
    assert_eq!(
        api.review("validate", &dry).await["response"]["status"],
        response["status"]
    );

    // The metrics saw them.
    assert_eq!(
        server.metric(r#"meshgate_admission_requests_total{webhook="validate",kind="Namespace",operation="CREATE",decision="denied"}"#),
        Some(3.0)
    );
    assert_eq!(
        server.metric(
            r#"meshgate_rule_findings_total{rule="namespace-injection-conflict",action="deny"}"#
        ),
        Some(3.0)
    );
    assert!(
        server
            .metric("meshgate_tls_certificate_expiry_timestamp_seconds")
            .unwrap()
            > 1.7e9
    );
    // One span per review, and no object in the logs.
    let logs = server.logs().join("\n");
    assert!(logs.contains("review answered"), "{logs}");
    assert!(
        !logs.contains("managedFields") && !logs.contains("kubectl-create"),
        "objects must not be logged:\n{logs}"
    );
}

#[tokio::test]
async fn audit_mode_allows_with_a_warning_and_an_audit_annotation() {
    let dir = temp();
    let (server, certs) = server_with_certs(dir.path(), &["--mode", "audit"]);
    let mut api = ApiServer::connect(server.addr, &ClientOptions::api_server(certs.ca_pem()))
        .await
        .unwrap();
    let create = captured("namespace-create-both-labels.json");
    let response = api.review("validate", &create).await["response"].clone();
    assert_eq!(response["allowed"], true);
    let warnings = response["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .starts_with("namespace-injection-conflict: metadata.labels[istio-injection]: ")
    );
    assert_eq!(
        response["auditAnnotations"],
        json!({"findings": "[\"namespace-injection-conflict\"]"})
    );
    // /mutate in audit mode: silent, even where a fix would apply.
    let update = namespace_update(
        json!({"istio-injection": "enabled"}),
        json!({"istio-injection": "enabled", "istio.io/rev": "asm-managed"}),
    );
    let response = api.review("mutate", &update).await["response"].clone();
    assert_eq!(
        response,
        json!({"uid": update["request"]["uid"], "allowed": true})
    );
}

#[tokio::test]
async fn relabel_update_is_patched_by_mutate_when_the_policy_says_fix() {
    let dir = temp();
    let policy = write_policy(
        dir.path(),
        "policy.yaml",
        "rules:\n  namespace-injection-conflict: fix\n",
    );
    let (server, certs) = server_with_certs(dir.path(), &["--policy", policy.to_str().unwrap()]);
    let mut api = ApiServer::connect(server.addr, &ClientOptions::api_server(certs.ca_pem()))
        .await
        .unwrap();

    // Migration: `kubectl label ns shop istio.io/rev=asm-managed` on an injected namespace.
    let update = namespace_update(
        json!({"istio-injection": "enabled", "kubernetes.io/metadata.name": "shop"}),
        json!({"istio-injection": "enabled", "istio.io/rev": "asm-managed", "kubernetes.io/metadata.name": "shop"}),
    );
    let answer = api.review("mutate", &update).await;
    let response = &answer["response"];
    assert_eq!(response["allowed"], true);
    let patch = decoded_patch(&answer).expect("a patch");
    assert_eq!(
        patch,
        json!([{"op": "remove", "path": "/metadata/labels/istio-injection"}])
    );
    assert_eq!(response["auditAnnotations"]["patched"], "true");
    let warnings = response["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .starts_with("namespace-injection-conflict: metadata.labels[istio-injection]: removed")
    );

    // The API server applies the patch, then calls /validate with the result: allowed, silent.
    let patched = apply_patch(&update["request"]["object"], &patch);
    assert_eq!(
        patched["metadata"]["labels"],
        json!({"istio.io/rev": "asm-managed", "kubernetes.io/metadata.name": "shop"})
    );
    let mut after = update.clone();
    after["request"]["object"] = patched.clone();
    let response = api.review("validate", &after).await["response"].clone();
    assert_eq!(
        response,
        json!({"uid": after["request"]["uid"], "allowed": true})
    );
    // Reinvocation on the patched object: no second patch.
    assert!(decoded_patch(&api.review("mutate", &after).await).is_none());

    // Rollback, as captured: `kubectl label ns shop istio-injection=enabled` keeps istio-injection.
    let rollback = captured("namespace-update-add-istio-injection-while-rev.json");
    let answer = api.review("mutate", &rollback).await;
    assert_eq!(
        decoded_patch(&answer),
        Some(json!([{"op": "remove", "path": "/metadata/labels/istio.io~1rev"}]))
    );
    assert_eq!(
        server.metric(
            r#"meshgate_rule_findings_total{rule="namespace-injection-conflict",action="fix"}"#
        ),
        Some(2.0)
    );
}

#[tokio::test]
async fn ratcheting_and_exemptions() {
    let dir = temp();
    let policy = write_policy(
        dir.path(),
        "policy.yaml",
        "exemptUsers: [system:serviceaccount:argocd:argocd-application-controller]\n",
    );
    let (server, certs) = server_with_certs(dir.path(), &["--policy", policy.to_str().unwrap()]);
    let mut api = ApiServer::connect(server.addr, &ClientOptions::api_server(certs.ca_pem()))
        .await
        .unwrap();
    let both = json!({"istio-injection": "enabled", "istio.io/rev": "asm-managed", "kubernetes.io/metadata.name": "shop"});

    // An UPDATE that changes neither label of an already-conflicting namespace: warned.
    let mut touch = namespace_update(both.clone(), both.clone());
    touch["request"]["object"]["metadata"]["annotations"] = json!({"team": "payments"});
    let response = api.review("validate", &touch).await["response"].clone();
    assert_eq!(response["allowed"], true, "{response}");
    assert_eq!(response["warnings"].as_array().unwrap().len(), 1);

    // A new violation on UPDATE is denied.
    let new = namespace_update(json!({"istio.io/rev": "asm-managed"}), both.clone());
    assert_eq!(
        api.review("validate", &new).await["response"]["allowed"],
        false
    );

    // The same request by an exempt user: allowed, no findings.
    let mut by_argo = new.clone();
    by_argo["request"]["userInfo"] = json!({"username": "system:serviceaccount:argocd:argocd-application-controller", "groups": ["system:serviceaccounts"]});
    assert_eq!(
        api.review("validate", &by_argo).await["response"],
        json!({"uid": by_argo["request"]["uid"], "allowed": true})
    );

    // A Namespace named in exemptNamespaces (kube-system by default): allowed, no findings.
    let mut system = captured("namespace-create-both-labels.json");
    system["request"]["name"] = json!("kube-system");
    system["request"]["namespace"] = json!("kube-system");
    system["request"]["object"]["metadata"]["name"] = json!("kube-system");
    assert_eq!(
        api.review("validate", &system).await["response"],
        json!({"uid": system["request"]["uid"], "allowed": true})
    );
}

/// Builds `..data` → `..v1` with `tls.crt`/`tls.key` symlinks into it, the Secret-volume layout.
fn secret_volume(dir: &std::path::Path, first: &Certs) -> std::path::PathBuf {
    let volume = dir.join("volume");
    std::fs::create_dir(&volume).unwrap();
    copy_pair(first, &volume.join("..v1"));
    std::os::unix::fs::symlink("..v1", volume.join("..data")).unwrap();
    for file in ["tls.crt", "tls.key"] {
        std::os::unix::fs::symlink(format!("..data/{file}"), volume.join(file)).unwrap();
    }
    volume
}

fn copy_pair(certs: &Certs, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for file in ["tls.crt", "tls.key"] {
        std::fs::copy(certs.dir.join(file), to.join(file)).unwrap();
    }
}

/// The kubelet's atomic update: a new `..data` symlink renamed over the old one.
fn swap_data(volume: &std::path::Path, target: &str) {
    let tmp = volume.join("..data_tmp");
    std::os::unix::fs::symlink(target, &tmp).unwrap();
    std::fs::rename(&tmp, volume.join("..data")).unwrap();
}

#[tokio::test]
async fn certificate_rotation_by_symlink_swap_keeps_open_connections_and_refuses_a_broken_pair() {
    let dir = temp();
    let first = Certs::generate(&dir.path().join("first"));
    let second = Certs::generate(&dir.path().join("second"));
    let volume = secret_volume(dir.path(), &first);
    let server = Server::start(
        dir.path(),
        &[
            "--tls-cert".into(),
            volume.join("tls.crt").display().to_string(),
            "--tls-key".into(),
            volume.join("tls.key").display().to_string(),
            "--reload-interval".into(),
            "100ms".into(),
        ],
    );
    let client = ClientOptions {
        trust: vec![first.ca_pem(), second.ca_pem()],
        ..ClientOptions::api_server(first.ca_pem())
    };
    let mut open = ApiServer::connect(server.addr, &client).await.unwrap();
    let old_leaf = open.peer_certificate.clone();
    let review = captured("namespace-create-both-labels.json");
    assert_eq!(
        open.review("validate", &review).await["response"]["allowed"],
        false
    );

    copy_pair(&second, &volume.join("..v2"));
    swap_data(&volume, "..v2");
    server.wait_for("the reload", Duration::from_secs(10), |s| {
        s.metric(r#"meshgate_tls_reloads_total{result="success"}"#) == Some(1.0)
    });
    let fresh = ApiServer::connect(server.addr, &client).await.unwrap();
    assert_ne!(
        fresh.peer_certificate, old_leaf,
        "a new connection gets the new certificate"
    );
    let new_leaf = fresh.peer_certificate.clone();
    // The connection opened before the swap still carries reviews.
    assert_eq!(
        open.review("validate", &review).await["response"]["allowed"],
        false
    );

    // A broken pair (the new certificate with the old key) is refused; the new pair stays.
    let broken = volume.join("..v3");
    std::fs::create_dir(&broken).unwrap();
    std::fs::copy(second.dir.join("tls.crt"), broken.join("tls.crt")).unwrap();
    std::fs::copy(first.dir.join("tls.key"), broken.join("tls.key")).unwrap();
    swap_data(&volume, "..v3");
    server.wait_for("the refused reload", Duration::from_secs(10), |s| {
        s.metric(r#"meshgate_tls_reloads_total{result="failure"}"#) == Some(1.0)
    });
    let mut after = ApiServer::connect(server.addr, &client).await.unwrap();
    assert_eq!(after.peer_certificate, new_leaf);
    assert_eq!(
        after.review("validate", &review).await["response"]["allowed"],
        false
    );
    assert!(
        server
            .logs()
            .iter()
            .any(|l| l.contains("new serving certificate refused"))
    );
}

#[tokio::test]
async fn mutual_tls_refuses_a_client_without_a_certificate() {
    let dir = temp();
    let identity = ClientIdentity::generate();
    let ca_path = dir.path().join("client-ca.crt");
    std::fs::write(&ca_path, &identity.ca_pem).unwrap();
    let (server, certs) =
        server_with_certs(dir.path(), &["--client-ca", ca_path.to_str().unwrap()]);
    let review = captured("namespace-create-both-labels.json");

    let anonymous = ClientOptions::api_server(certs.ca_pem());
    // With TLS 1.3 the refusal may surface at the handshake or at the first request.
    let refused = match ApiServer::connect(server.addr, &anonymous).await {
        Err(_) => true,
        Ok(mut api) => api
            .send(
                "POST",
                "/validate?timeout=10s",
                Some("application/json"),
                serde_json::to_vec(&review).unwrap(),
            )
            .await
            .is_err(),
    };
    assert!(
        refused,
        "a client without a certificate must not get an answer"
    );

    let with_identity = ClientOptions {
        identity: Some((identity.chain.clone(), identity.key.clone_key())),
        ..anonymous
    };
    let mut api = ApiServer::connect(server.addr, &with_identity)
        .await
        .unwrap();
    assert_eq!(
        api.review("validate", &review).await["response"]["allowed"],
        false
    );
}

#[tokio::test]
async fn tls12_and_h2_are_served() {
    let dir = temp();
    let (server, certs) = server_with_certs(dir.path(), &[]);
    let tls12 = ClientOptions {
        tls12_only: true,
        ..ClientOptions::api_server(certs.ca_pem())
    };
    let mut api = ApiServer::connect(server.addr, &tls12).await.unwrap();
    assert_eq!(
        api.review("validate", &captured("namespace-create-both-labels.json"))
            .await["response"]["allowed"],
        false
    );
    let h2 = ClientOptions {
        alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        ..ClientOptions::api_server(certs.ca_pem())
    };
    let stream = h2.tls_stream(server.addr).await.unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
}

/// Every bad request gets the HTTP code the README lists, never `allowed: false`, and the server
/// keeps serving.
#[tokio::test]
async fn bad_requests_get_their_codes_and_the_server_keeps_serving() {
    let dir = temp();
    let (server, certs) = server_with_certs(dir.path(), &[]);
    let client = ClientOptions::api_server(certs.ca_pem());
    let good = captured("namespace-create-both-labels.json");
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut review = good.clone();
        edit(&mut review);
        serde_json::to_vec(&review).unwrap()
    };
    let json = Some("application/json");
    // (what, method, path, content type, body, expected status)
    type Case<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, Vec<u8>, u16);
    let cases: Vec<Case> = vec![
        (
            "not JSON",
            "POST",
            "/validate",
            json,
            b"{\"kind\": ".to_vec(),
            400,
        ),
        (
            "plain text",
            "POST",
            "/validate",
            json,
            b"hello".to_vec(),
            400,
        ),
        ("empty body", "POST", "/mutate", json, Vec::new(), 400),
        (
            "a JSON array",
            "POST",
            "/validate",
            json,
            b"[]".to_vec(),
            400,
        ),
        (
            "an empty object",
            "POST",
            "/validate",
            json,
            b"{}".to_vec(),
            400,
        ),
        (
            "another kind",
            "POST",
            "/validate",
            json,
            with(&|r| r["kind"] = json!("ConfigMap")),
            400,
        ),
        (
            "wrong apiVersion",
            "POST",
            "/validate",
            json,
            with(&|r| r["apiVersion"] = json!("admission.k8s.io/v2")),
            400,
        ),
        (
            "no request",
            "POST",
            "/validate",
            json,
            with(&|r| r["request"] = Value::Null),
            400,
        ),
        (
            "missing uid",
            "POST",
            "/validate",
            json,
            with(&|r| {
                r["request"].as_object_mut().unwrap().remove("uid");
            }),
            400,
        ),
        (
            "empty uid",
            "POST",
            "/mutate",
            json,
            with(&|r| r["request"]["uid"] = json!("")),
            400,
        ),
        (
            "uid not a string",
            "POST",
            "/validate",
            json,
            with(&|r| r["request"]["uid"] = json!(7)),
            400,
        ),
        (
            "no request.kind",
            "POST",
            "/validate",
            json,
            with(&|r| {
                r["request"].as_object_mut().unwrap().remove("kind");
            }),
            400,
        ),
        (
            "unknown operation",
            "POST",
            "/validate",
            json,
            with(&|r| r["request"]["operation"] = json!("PATCH")),
            400,
        ),
        (
            "object of another kind",
            "POST",
            "/validate",
            json,
            with(&|r| r["request"]["object"]["kind"] = json!("Pod")),
            400,
        ),
        (
            "object of another apiVersion",
            "POST",
            "/mutate",
            json,
            with(&|r| r["request"]["object"]["apiVersion"] = json!("v2")),
            400,
        ),
        (
            "object not an object",
            "POST",
            "/validate",
            json,
            with(&|r| r["request"]["object"] = json!("Namespace")),
            400,
        ),
        (
            "CREATE without object",
            "POST",
            "/validate",
            json,
            with(&|r| r["request"]["object"] = Value::Null),
            400,
        ),
        (
            "oldObject of another kind",
            "POST",
            "/validate",
            json,
            with(&|r| r["request"]["oldObject"] = json!({"kind": "Secret"})),
            400,
        ),
        (
            "userInfo not an object",
            "POST",
            "/validate",
            json,
            with(&|r| r["request"]["userInfo"] = json!("admin")),
            400,
        ),
        (
            "text/plain",
            "POST",
            "/validate",
            Some("text/plain"),
            with(&|_| {}),
            415,
        ),
        (
            "no content type",
            "POST",
            "/validate",
            None,
            with(&|_| {}),
            415,
        ),
        (
            "9 MiB body",
            "POST",
            "/validate",
            json,
            vec![b' '; 9 * 1024 * 1024],
            413,
        ),
        ("GET", "GET", "/validate", None, Vec::new(), 405),
        ("PUT", "PUT", "/mutate", json, with(&|_| {}), 405),
        ("unknown path", "POST", "/admit", json, with(&|_| {}), 404),
        ("root", "GET", "/", None, Vec::new(), 404),
    ];
    assert!(cases.len() >= 15);
    for (what, method, path, content_type, body, expected) in cases {
        let mut api = ApiServer::connect(server.addr, &client).await.unwrap();
        let reply = api
            .send(method, &format!("{path}?timeout=10s"), content_type, body)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(reply.status, expected, "{what}: {}", reply.text());
        assert!(
            !reply.text().contains("\"allowed\""),
            "{what}: a bad request is never answered with a review"
        );
        if expected != 405 {
            assert!(
                reply.content_type.starts_with("text/plain"),
                "{what}: {}",
                reply.content_type
            );
            assert!(
                !reply.text().trim().is_empty(),
                "{what}: the reason is given"
            );
        }
    }
    let mut api = ApiServer::connect(server.addr, &client).await.unwrap();
    assert_eq!(
        api.review("validate", &good).await["response"]["allowed"],
        false
    );
    assert!(server.metric(r#"meshgate_admission_requests_total{webhook="validate",kind="other",operation="unknown",decision="error"}"#).unwrap() >= 15.0);
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let dir = temp();
    let (server, certs) = server_with_certs(dir.path(), &["--header-read-timeout", "500ms"]);
    let mut stream = ClientOptions::api_server(certs.ca_pem())
        .tls_stream(server.addr)
        .await
        .unwrap();
    stream
        .write_all(b"POST /validate HTTP/1.1\r\nHost: meshgate\r\n")
        .await
        .unwrap();
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buffer)).await;
    assert!(read.is_ok(), "the connection must be closed by the server");
}

#[tokio::test]
async fn sigterm_drains_in_flight_reviews_and_exits_zero() {
    let dir = temp();
    let (mut server, certs) = server_with_certs(
        dir.path(),
        &["--shutdown-delay", "1s", "--shutdown-grace", "5s"],
    );
    let client = ClientOptions::api_server(certs.ca_pem());
    assert_eq!(server.admin_get("/readyz").0, 200);
    assert_eq!(server.admin_get("/livez").0, 200);

    // A review in flight: headers and half the body sent before the signal.
    let review = captured("namespace-create-both-labels.json");
    let body = serde_json::to_vec(&review).unwrap();
    let mut in_flight = client.tls_stream(server.addr).await.unwrap();
    let head = format!(
        "POST /validate?timeout=10s HTTP/1.1\r\nHost: {SERVICE_NAME}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    in_flight.write_all(head.as_bytes()).await.unwrap();
    in_flight.write_all(&body[..body.len() / 2]).await.unwrap();
    in_flight.flush().await.unwrap();
    // An idle keep-alive connection, as the API server holds them.
    let mut idle = ApiServer::connect(server.addr, &client).await.unwrap();
    assert_eq!(
        idle.review("validate", &review).await["response"]["allowed"],
        false
    );

    server.signal("TERM");
    server.wait_for("/readyz to turn 503", Duration::from_secs(2), |s| {
        s.admin_get("/readyz").0 == 503
    });
    // Still answering during --shutdown-delay, on a new connection too.
    let mut late = ApiServer::connect(server.addr, &client).await.unwrap();
    assert_eq!(
        late.review("validate", &review).await["response"]["allowed"],
        false
    );

    // Finish the in-flight request after the delay: it is still answered.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    in_flight.write_all(&body[body.len() / 2..]).await.unwrap();
    in_flight.flush().await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), in_flight.read_to_end(&mut response))
        .await
        .unwrap()
        .ok();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains(review["request"]["uid"].as_str().unwrap()),
        "{response}"
    );

    let status = server.wait_exit(Duration::from_secs(10));
    assert_eq!(
        status.code(),
        Some(0),
        "logs:\n{}",
        server.logs().join("\n")
    );
}

#[tokio::test]
async fn policy_file_reload_takes_effect_and_a_broken_one_is_refused() {
    let dir = temp();
    let policy = write_policy(dir.path(), "policy.yaml", "mode: enforce\n");
    let (server, certs) = server_with_certs(
        dir.path(),
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--reload-interval",
            "100ms",
        ],
    );
    let mut api = ApiServer::connect(server.addr, &ClientOptions::api_server(certs.ca_pem()))
        .await
        .unwrap();
    let review = captured("namespace-create-both-labels.json");
    assert_eq!(
        api.review("validate", &review).await["response"]["allowed"],
        false
    );

    write_policy(dir.path(), "policy.yaml", "mode: audit\n");
    server.wait_for("the policy reload", Duration::from_secs(10), |s| {
        s.metric(r#"meshgate_policy_reloads_total{result="success"}"#) == Some(1.0)
    });
    assert_eq!(
        api.review("validate", &review).await["response"]["allowed"],
        true
    );

    write_policy(
        dir.path(),
        "policy.yaml",
        "mode: audit\nrules:\n  no-such-rule: deny\n",
    );
    server.wait_for("the refused reload", Duration::from_secs(10), |s| {
        s.metric(r#"meshgate_policy_reloads_total{result="failure"}"#) == Some(1.0)
    });
    assert_eq!(
        api.review("validate", &review).await["response"]["allowed"],
        true,
        "the audit policy stays"
    );
    assert!(server.logs().iter().any(|l| l.contains("no-such-rule")));
}

#[tokio::test]
async fn without_certificates_serve_uses_a_development_certificate_for_localhost() {
    let dir = temp();
    let server = Server::start(dir.path(), &[]);
    let warning: Value = server
        .logs()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| {
            l["level"] == "WARN"
                && l["fields"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("DEVELOPMENT CERTIFICATE")
        })
        .expect("a loud warning");
    use base64::Engine as _;
    let ca = base64::engine::general_purpose::STANDARD
        .decode(warning["fields"]["ca_bundle"].as_str().unwrap())
        .unwrap();
    // The same CA is left in certs/development-ca.crt for `curl --cacert` (the README's try-it).
    let written = std::fs::read(dir.path().join("certs/development-ca.crt")).unwrap();
    assert_eq!(written, ca);
    let client = ClientOptions {
        server_name: "localhost".into(),
        ..ClientOptions::api_server(written)
    };
    let mut api = ApiServer::connect(server.addr, &client).await.unwrap();
    assert_eq!(
        api.review("validate", &captured("namespace-create-both-labels.json"))
            .await["response"]["allowed"],
        false
    );
    // ... and /metrics then shows the review.
    assert_eq!(
        server.metric(r#"meshgate_admission_requests_total{webhook="validate",kind="Namespace",operation="CREATE",decision="denied"}"#),
        Some(1.0)
    );
}

#[test]
fn start_up_says_which_mode_and_policy_are_in_force() {
    let dir = temp();
    let in_force = |server: &Server| -> Value {
        server
            .logs()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| {
                l["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("policy in force"))
            })
            .expect("a policy line at start")["fields"]
            .clone()
    };
    let server = Server::start(dir.path(), &[]);
    let fields = in_force(&server);
    // Every rule of the catalog is in force under the built-in policy.
    assert_eq!(
        fields["message"],
        format!(
            "policy in force: enforce mode, {} rules",
            meshgate::rules::Rule::ALL.len()
        )
    );
    assert_eq!(fields["mode"], "enforce");
    assert_eq!(fields["mode_from"], "the built-in default");
    assert_eq!(fields["policy"], "built-in default");
    assert_eq!(fields["rules"], meshgate::rules::Rule::ALL.len());
    assert_eq!(fields["rules_off"], 0);
    assert_eq!(fields["min_istio_version"], "1.4");
    assert_eq!(fields["allow_ignore_annotations"], "warnings");
    drop(server);

    // The audit overlay's MESHGATE_MODE wins over the file, and the log says so.
    let policy = write_policy(
        dir.path(),
        "policy.yaml",
        "mode: enforce\nrules:\n  virtualservice-weights: off\n",
    );
    let args = vec!["--policy".to_string(), policy.display().to_string()];
    let server = Server::start_with_env(dir.path(), &args, &[("MESHGATE_MODE", "audit")]);
    let fields = in_force(&server);
    // One rule is off.
    assert_eq!(
        fields["message"],
        format!(
            "policy in force: audit mode, {} rules",
            meshgate::rules::Rule::ALL.len() - 1
        )
    );
    assert_eq!(
        fields["mode_from"],
        "--mode / MESHGATE_MODE (overrides the policy file)"
    );
    assert_eq!(fields["policy"], policy.display().to_string());
    assert_eq!(fields["rules_off"], 1);
}

#[tokio::test]
async fn a_second_signal_exits_at_once() {
    let dir = temp();
    let (mut server, _certs) = server_with_certs(dir.path(), &["--shutdown-delay", "30s"]);
    server.signal("TERM");
    server.wait_for("/readyz to turn 503", Duration::from_secs(2), |s| {
        s.admin_get("/readyz").0 == 503
    });
    server.signal("INT");
    let status = server.wait_exit(Duration::from_secs(5));
    assert_eq!(
        status.code(),
        Some(1),
        "exits at once, without the 30 s drain"
    );
}
