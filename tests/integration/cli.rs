//! The binary as users run it: `review`, `certs` (and what it refuses to overwrite or write), and
//! `serve` refusing bad start-up input.

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::support::*;

#[tokio::test]
async fn review_prints_exactly_what_serve_answers() {
    let dir = tempfile::tempdir().unwrap();
    let certs = Certs::generate(&dir.path().join("certs-out"));
    let policy = write_policy(
        dir.path(),
        "policy.yaml",
        "rules:\n  namespace-injection-conflict: fix\n",
    );
    let mut args = certs.flags();
    args.extend(["--policy".to_string(), policy.display().to_string()]);
    let server = Server::start(dir.path(), &args);
    let mut api = ApiServer::connect(server.addr, &ClientOptions::api_server(certs.ca_pem()))
        .await
        .unwrap();
    let fixtures = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/admission"
    ))
    .unwrap();
    let mut compared = 0;
    for entry in fixtures {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let review = captured(path.file_name().unwrap().to_str().unwrap());
        let input = dir.path().join("review.json");
        std::fs::write(&input, serde_json::to_vec(&review).unwrap()).unwrap();
        for webhook in ["validate", "mutate"] {
            let reply = api
                .send(
                    "POST",
                    &format!("/{webhook}?timeout=10s"),
                    Some("application/json"),
                    serde_json::to_vec(&review).unwrap(),
                )
                .await
                .unwrap();
            let out = run(
                &[
                    "review",
                    "--webhook",
                    webhook,
                    "--policy",
                    policy.to_str().unwrap(),
                    input.to_str().unwrap(),
                ],
                dir.path(),
                None,
            );
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
            assert_eq!(
                text(&out.stdout),
                format!("{}\n", reply.text()),
                "{} {webhook}",
                path.display()
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 14);
}

#[test]
fn review_reads_stdin_and_defaults_to_validate() {
    let dir = tempfile::tempdir().unwrap();
    let review = captured("namespace-create-both-labels.json");
    let out = run(
        &["review", "-"],
        dir.path(),
        Some(&serde_json::to_vec(&review).unwrap()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["response"]["allowed"], false);
}

#[test]
fn review_errors_exit_2_naming_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"kind\": \"AdmissionReview\"").unwrap();
    let out = run(&["review", broken.to_str().unwrap()], dir.path(), None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("broken.json"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());

    let out = run(&["review", "missing.json"], dir.path(), None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("missing.json"));

    let policy = write_policy(
        dir.path(),
        "p.yaml",
        "rules:\n  virtualservice-weights: fix\n",
    );
    let out = run(
        &["review", "--policy", policy.to_str().unwrap(), "-"],
        dir.path(),
        Some(b"{}"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("virtualservice-weights"),
        "{}",
        text(&out.stderr)
    );

    let out = run(
        &["review", "--webhook", "admit", "-"],
        dir.path(),
        Some(b"{}"),
    );
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}

#[tokio::test]
async fn certs_writes_the_pair_for_every_service_name() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("generated");
    let out = run(
        &[
            "certs",
            "--service",
            "meshgate",
            "--namespace",
            "meshgate-system",
            "--out-dir",
            out_dir.to_str().unwrap(),
            "--days",
            "10",
            "--dns",
            "webhook.example.test",
            "--ip",
            "127.0.0.1",
        ],
        dir.path(),
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    use base64::Engine as _;
    let ca_bundle = base64::engine::general_purpose::STANDARD
        .decode(text(&out.stdout).trim())
        .unwrap();
    assert_eq!(
        ca_bundle,
        std::fs::read(out_dir.join("ca.crt")).unwrap(),
        "stdout is the base64 caBundle"
    );
    let mode = std::fs::metadata(out_dir.join("tls.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the key is readable by its owner only");

    let certs = Certs { dir: out_dir };
    let server = Server::start(dir.path(), &certs.flags());
    for name in [
        "meshgate",
        "meshgate.meshgate-system",
        "meshgate.meshgate-system.svc",
        "meshgate.meshgate-system.svc.cluster.local",
        "webhook.example.test",
        "127.0.0.1",
    ] {
        let client = ClientOptions {
            server_name: name.into(),
            ..ClientOptions::api_server(certs.ca_pem())
        };
        assert!(
            ApiServer::connect(server.addr, &client).await.is_ok(),
            "{name} must be a SAN"
        );
    }
    let client = ClientOptions {
        server_name: "other.meshgate-system.svc".into(),
        ..ClientOptions::api_server(certs.ca_pem())
    };
    assert!(
        ApiServer::connect(server.addr, &client).await.is_err(),
        "other names are not"
    );
}

#[test]
fn serve_refuses_bad_start_up_input_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let certs = Certs::generate(&dir.path().join("a"));
    let other = Certs::generate(&dir.path().join("b"));
    let bad_policy = write_policy(
        dir.path(),
        "bad.yaml",
        "mode: enforce\nexemptNamespace: [x]\n",
    );
    let cert = certs.dir.join("tls.crt").display().to_string();
    let key = certs.dir.join("tls.key").display().to_string();
    let other_key = other.dir.join("tls.key").display().to_string();
    let base = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
    ];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--tls-cert", &cert], "--tls-key"),
        (vec!["--tls-key", &key], "--tls-cert"),
        (
            vec!["--tls-cert", "nope.crt", "--tls-key", &key],
            "--tls-cert",
        ),
        (vec!["--tls-cert", &key, "--tls-key", &key], "--tls-cert"),
        (
            vec!["--tls-cert", &cert, "--tls-key", &other_key],
            "do not form a usable pair",
        ),
        (
            vec![
                "--tls-cert",
                &cert,
                "--tls-key",
                &key,
                "--policy",
                bad_policy.to_str().unwrap(),
            ],
            "exemptNamespace",
        ),
        (
            vec![
                "--tls-cert",
                &cert,
                "--tls-key",
                &key,
                "--client-ca",
                "missing-ca.crt",
            ],
            "--client-ca",
        ),
        (vec!["--mode", "strict"], "strict"),
        (vec!["--shutdown-delay", "soon"], "soon"),
    ];
    for (extra, named) in cases {
        let mut args = base.to_vec();
        args.extend(extra.iter().copied());
        let out = run(&args, dir.path(), None);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{extra:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(named),
            "{extra:?} should name {named}: {}",
            text(&out.stderr)
        );
    }
    // The port already taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let out = run(
        &[
            "serve",
            "--listen",
            &listen,
            "--admin-listen",
            "127.0.0.1:0",
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
        ],
        dir.path(),
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--listen"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn serve_flags_read_their_environment_variables() {
    let dir = tempfile::tempdir().unwrap();
    let certs = Certs::generate(&dir.path().join("certs-out"));
    let cert = certs.dir.join("tls.crt").display().to_string();
    let key = certs.dir.join("tls.key").display().to_string();
    let server = Server::start_with_env(
        dir.path(),
        &[],
        &[
            ("MESHGATE_MODE", "audit"),
            ("MESHGATE_TLS_CERT", &cert),
            ("MESHGATE_TLS_KEY", &key),
        ],
    );
    let mut api = ApiServer::connect(server.addr, &ClientOptions::api_server(certs.ca_pem()))
        .await
        .unwrap();
    let answer = api
        .review("validate", &captured("namespace-create-both-labels.json"))
        .await;
    assert_eq!(
        answer["response"]["allowed"], true,
        "MESHGATE_MODE=audit applies"
    );
}

#[test]
fn serve_uses_certs_folder_when_present() {
    let dir = tempfile::tempdir().unwrap();
    Certs::generate(&dir.path().join("certs"));
    let server = Server::start(dir.path(), &[]);
    assert!(
        !server
            .logs()
            .iter()
            .any(|l| l.contains("DEVELOPMENT CERTIFICATE")),
        "certs/tls.crt and certs/tls.key are used when they exist"
    );
}

/// `meshgate certs` for the Service `meshgate` in `meshgate-system`, into `out_dir`, with `extra`.
fn certs_into(
    cwd: &std::path::Path,
    out_dir: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "certs",
        "--service",
        "meshgate",
        "--namespace",
        "meshgate-system",
        "--out-dir",
        out_dir.to_str().unwrap(),
    ];
    args.extend(extra);
    run(&args, cwd, None)
}

fn read_all(dir: &std::path::Path) -> Vec<Option<Vec<u8>>> {
    ["ca.crt", "tls.crt", "tls.key"]
        .iter()
        .map(|name| std::fs::read(dir.join(name)).ok())
        .collect()
}

#[test]
fn certs_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("certs");
    assert_eq!(certs_into(dir.path(), &out_dir, &[]).status.code(), Some(0));
    let first = read_all(&out_dir);

    let out = certs_into(dir.path(), &out_dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no caBundle for files not written");
    let stderr = text(&out.stderr);
    for name in ["ca.crt", "tls.crt", "tls.key"] {
        assert!(
            stderr.contains(&out_dir.join(name).display().to_string()),
            "{name}: {stderr}"
        );
    }
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(read_all(&out_dir), first, "nothing was written");

    // One file is enough to refuse, and then none is written.
    let partial = dir.path().join("partial");
    std::fs::create_dir(&partial).unwrap();
    std::fs::write(partial.join("tls.key"), "keep me").unwrap();
    let out = certs_into(dir.path(), &partial, &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("tls.key") && !stderr.contains("ca.crt"),
        "{stderr}"
    );
    assert_eq!(
        read_all(&partial),
        [None, None, Some(b"keep me".to_vec())],
        "nothing was written"
    );

    let out = certs_into(dir.path(), &out_dir, &["--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let replaced = read_all(&out_dir);
    for (old, new) in first.iter().zip(&replaced) {
        assert!(
            new.is_some() && new != old,
            "--force writes a new pair and CA"
        );
    }
    use base64::Engine as _;
    let ca_bundle = base64::engine::general_purpose::STANDARD
        .decode(text(&out.stdout).trim())
        .unwrap();
    assert_eq!(Some(ca_bundle), replaced[0], "the caBundle is the new CA");
}

#[test]
fn certs_checks_names_before_writing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str, &str, &str); 6] = [
        (
            &["--service", "Meshgate_X", "--namespace", "meshgate-system"],
            "--service",
            "Meshgate_X",
            "DNS-1123 label",
        ),
        (
            &["--service", "meshgate", "--namespace", "meshgate.system"],
            "--namespace",
            "meshgate.system",
            "DNS-1123 label",
        ),
        (
            &[
                "--service",
                "meshgate",
                "--namespace",
                "ns",
                "--dns",
                "web_hook.example",
            ],
            "--dns",
            "web_hook.example",
            "DNS-1123 subdomain",
        ),
        (
            &[
                "--service",
                "meshgate",
                "--namespace",
                "ns",
                "--dns",
                "a.*.example",
            ],
            "--dns",
            "a.*.example",
            "wildcard",
        ),
        (
            &[
                "--service",
                "meshgate",
                "--namespace",
                "ns",
                "--dns",
                "Webhook.Example",
            ],
            "--dns",
            "Webhook.Example",
            "lowercase",
        ),
        (
            &[
                "--service",
                "meshgate",
                "--namespace",
                "ns",
                "--dns",
                "10.0.0.1",
            ],
            "--dns",
            "10.0.0.1",
            "--ip",
        ),
    ];
    for (flags, flag, value, allowed) in cases {
        let mut args = vec!["certs", "--out-dir", "out"];
        args.extend(flags);
        let out = run(&args, dir.path(), None);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        for said in [flag, value, allowed] {
            assert!(
                stderr.contains(said),
                "{flags:?} should say {said}: {stderr}"
            );
        }
        assert!(
            !dir.path().join("out").exists(),
            "{flags:?}: nothing written"
        );
    }
    // A leading wildcard is a DNS name a certificate can carry.
    let out = run(
        &[
            "certs",
            "--service",
            "meshgate",
            "--namespace",
            "meshgate-system",
            "--out-dir",
            "out",
            "--dns",
            "*.webhook.example.test",
        ],
        dir.path(),
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn static_certs_script_keeps_its_certificates_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("certs/static-certs.sh");
    std::fs::create_dir_all(script.parent().unwrap()).unwrap();
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/certs/static-certs.sh"),
        &script,
    )
    .unwrap();
    let overlay = dir.path().join("deploy/overlays/static-certs");
    let patch = overlay.join("ca-bundle-patch.yaml");
    let run_script = |args: &[&str]| {
        std::process::Command::new("bash")
            .arg(&script)
            .args(args)
            .env("MESHGATE", binary())
            .output()
            .unwrap()
    };
    let first = run_script(&[]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let written = (read_all(&overlay), std::fs::read(&patch).unwrap());

    let again = run_script(&[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("--force"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(
        (read_all(&overlay), std::fs::read(&patch).unwrap()),
        written,
        "a refused run changes neither the certificates nor the patch"
    );

    let forced = run_script(&["--force"]);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    let new_patch = text(&std::fs::read(&patch).unwrap());
    assert_ne!(new_patch.as_bytes(), written.1.as_slice());
    use base64::Engine as _;
    let ca = base64::engine::general_purpose::STANDARD
        .encode(std::fs::read(overlay.join("ca.crt")).unwrap());
    assert!(new_patch.contains(&ca), "the patch carries the new CA");
}
