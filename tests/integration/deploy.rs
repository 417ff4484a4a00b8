//! The install story: every overlay of `deploy/` rendered with `kubectl kustomize` and read into
//! k8s-openapi types, with the invariants that keep meshgate from taking a cluster down.

use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use serde_json::Value;

use crate::support::*;

fn kubectl() -> String {
    std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of the repository's `deploy/` and `certs/` in a temp dir, with the static
/// certificates generated the documented way.
fn deploy_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&root.join("deploy"), &dir.path().join("deploy"));
    copy_dir(&root.join("certs"), &dir.path().join("certs"));
    let out = Command::new("bash")
        .arg(dir.path().join("certs/static-certs.sh"))
        .env("MESHGATE", binary())
        .output()
        .expect("run certs/static-certs.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deploy = dir.path().join("deploy");
    (dir, deploy)
}

fn render(overlay: &Path) -> Vec<Value> {
    let out = Command::new(kubectl())
        .args(["kustomize", overlay.to_str().unwrap()])
        .output()
        .unwrap_or_else(|e| panic!("kubectl is required for this test (.ci/run installs it): {e}"));
    assert!(
        out.status.success(),
        "{}: {}",
        overlay.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_saphyr::from_multiple(&String::from_utf8(out.stdout).unwrap()).unwrap()
}

/// The objects of one rendering, typed.
#[derive(Default)]
struct Install {
    namespaces: Vec<Namespace>,
    service_accounts: Vec<ServiceAccount>,
    deployments: Vec<Deployment>,
    services: Vec<Service>,
    budgets: Vec<PodDisruptionBudget>,
    network_policies: Vec<NetworkPolicy>,
    config_maps: Vec<ConfigMap>,
    secrets: Vec<Secret>,
    validating: Vec<ValidatingWebhookConfiguration>,
    mutating: Vec<MutatingWebhookConfiguration>,
    /// cert-manager objects, kept as plain YAML.
    cert_manager: Vec<Value>,
}

fn typed<T: serde::de::DeserializeOwned>(value: &Value) -> T {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{e}: {value}"))
}

fn install(objects: &[Value]) -> Install {
    let mut install = Install::default();
    for object in objects {
        match (
            object["apiVersion"].as_str().unwrap(),
            object["kind"].as_str().unwrap(),
        ) {
            ("v1", "Namespace") => install.namespaces.push(typed(object)),
            ("v1", "ServiceAccount") => install.service_accounts.push(typed(object)),
            ("apps/v1", "Deployment") => install.deployments.push(typed(object)),
            ("v1", "Service") => install.services.push(typed(object)),
            ("policy/v1", "PodDisruptionBudget") => install.budgets.push(typed(object)),
            ("networking.k8s.io/v1", "NetworkPolicy") => {
                install.network_policies.push(typed(object))
            }
            ("v1", "ConfigMap") => install.config_maps.push(typed(object)),
            ("v1", "Secret") => {
                // kustomize wraps base64 lines; the API server's decoder skips line breaks.
                let mut secret = object.clone();
                for value in secret["data"]
                    .as_object_mut()
                    .into_iter()
                    .flat_map(|d| d.values_mut())
                {
                    *value = Value::String(
                        value
                            .as_str()
                            .unwrap_or_default()
                            .split_whitespace()
                            .collect(),
                    );
                }
                install.secrets.push(typed(&secret));
            }
            ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration") => {
                install.validating.push(typed(object))
            }
            ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration") => {
                install.mutating.push(typed(object))
            }
            ("cert-manager.io/v1", _) => install.cert_manager.push(object.clone()),
            (api_version, kind) => panic!("unexpected object {api_version} {kind}"),
        }
    }
    install
}

/// The fields of a validating or mutating webhook the invariants read.
struct WebhookView<'a> {
    path: &'static str,
    client: &'a k8s_openapi::api::admissionregistration::v1::WebhookClientConfig,
    rules: &'a Option<Vec<k8s_openapi::api::admissionregistration::v1::RuleWithOperations>>,
    selector: &'a Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
    side_effects: &'a str,
    match_policy: Option<&'a str>,
    versions: &'a Vec<String>,
    timeout: Option<i32>,
}

/// What every overlay must get right.
fn common_invariants(name: &str, install: &Install) {
    assert_eq!(install.namespaces.len(), 1, "{name}");
    assert_eq!(
        install.namespaces[0].metadata.name.as_deref(),
        Some("meshgate-system")
    );
    assert_eq!(
        install.service_accounts[0].automount_service_account_token,
        Some(false)
    );

    // The Deployment: two replicas, spread, probes on the admin port, hardened, drains in time.
    let deployment = &install.deployments[0];
    assert_eq!(
        deployment.metadata.namespace.as_deref(),
        Some("meshgate-system")
    );
    let spec = &deployment.spec;
    assert!(spec.replicas.unwrap() >= 2, "{name}");
    let pod = spec.template.spec.as_ref().unwrap();
    assert!(
        pod.affinity.as_ref().unwrap().pod_anti_affinity.is_some(),
        "{name}"
    );
    let pod_security = pod.security_context.as_ref().unwrap();
    assert_eq!(pod_security.run_as_non_root, Some(true));
    assert_eq!(
        pod_security.seccomp_profile.as_ref().unwrap().type_,
        "RuntimeDefault"
    );
    let container = &pod.containers[0];
    let security = container.security_context.as_ref().unwrap();
    assert_eq!(security.read_only_root_filesystem, Some(true));
    assert_eq!(security.allow_privilege_escalation, Some(false));
    assert_eq!(
        security.capabilities.as_ref().unwrap().drop.as_deref(),
        Some(&["ALL".to_string()][..])
    );
    let resources = container.resources.as_ref().unwrap();
    assert!(
        resources.requests.is_some() && resources.limits.is_some(),
        "{name}"
    );
    let args = container.args.clone().unwrap();
    assert!(
        !args.iter().any(|a| a == "serve"),
        "the image's entrypoint already says serve: {args:?}"
    );
    let seconds = |flag: &str| -> i64 {
        args.iter()
            .find_map(|a| a.strip_prefix(&format!("--{flag}=")))
            .and_then(|v| v.strip_suffix('s'))
            .unwrap_or_else(|| panic!("--{flag} in {args:?}"))
            .parse()
            .unwrap()
    };
    assert!(
        pod.termination_grace_period_seconds.unwrap()
            >= seconds("shutdown-delay") + seconds("shutdown-grace"),
        "{name}: terminationGracePeriodSeconds must cover the drain"
    );
    // The memory budget leaves the process, its connections and small reviews room within the
    // limit, and holds one review of the largest body (RELIABILITY.md).
    let bytes = |flag: &str| -> usize {
        let value = args
            .iter()
            .find_map(|a| a.strip_prefix(&format!("--{flag}=")))
            .unwrap_or_else(|| panic!("--{flag} in {args:?}"));
        meshgate::cli::parse_size(value).unwrap()
    };
    let limit = resources.limits.as_ref().unwrap()["memory"].0.clone();
    let limit_bytes = meshgate::cli::parse_size(&limit).unwrap();
    let budget = bytes("memory-budget");
    assert!(
        budget * 2 <= limit_bytes,
        "{name}: --memory-budget {budget} must stay under half the {limit} limit"
    );
    assert!(
        meshgate::server::budget::MemoryBudget::cost_of(bytes("max-body-bytes")) <= budget,
        "{name}: the largest body's review must fit the budget"
    );
    assert!(
        args.iter()
            .any(|a| a == "--tls-server-name=meshgate.meshgate-system.svc"),
        "{name}: the certificate is checked for the name the API server dials: {args:?}"
    );
    let probe_path = |probe: &Option<k8s_openapi::api::core::v1::Probe>| {
        let get = probe.as_ref().unwrap().http_get.as_ref().unwrap();
        (get.path.clone().unwrap(), get.port.clone())
    };
    let admin = k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String("admin".into());
    assert_eq!(
        probe_path(&container.liveness_probe),
        ("/livez".into(), admin.clone())
    );
    assert_eq!(
        probe_path(&container.readiness_probe),
        ("/readyz".into(), admin)
    );
    let ports: Vec<(String, i32)> = container
        .ports
        .as_ref()
        .unwrap()
        .iter()
        .map(|p| (p.name.clone().unwrap(), p.container_port))
        .collect();
    assert_eq!(
        ports,
        [("webhook".to_string(), 8443), ("admin".to_string(), 8080)]
    );
    let volumes = pod.volumes.as_ref().unwrap();
    assert!(volumes.iter().any(|v| {
        v.secret
            .as_ref()
            .is_some_and(|s| s.secret_name.as_deref() == Some("meshgate-tls"))
    }));
    assert!(volumes.iter().any(|v| {
        v.config_map
            .as_ref()
            .is_some_and(|c| c.name == "meshgate-policy")
    }));

    // The policy shipped is the built-in default (in the overlay's mode).
    assert_eq!(install.config_maps.len(), 1, "{name}: one policy ConfigMap");
    let policy_text = install.config_maps[0].data.as_ref().unwrap()["policy.yaml"].clone();
    let policy = policy_text.parse::<meshgate::policy::Policy>().unwrap();
    assert_eq!(
        policy
            .clone()
            .with_mode(Some(meshgate::policy::Mode::Enforce)),
        meshgate::policy::Policy::default(),
        "{name}"
    );

    // Service 443 → the webhook port; a PodDisruptionBudget; the network policy.
    let service = &install.services[0];
    assert_eq!(service.metadata.name.as_deref(), Some("meshgate"));
    let webhook_port = service
        .spec
        .as_ref()
        .unwrap()
        .ports
        .as_ref()
        .unwrap()
        .iter()
        .find(|p| p.port == 443)
        .unwrap();
    assert_eq!(
        webhook_port.target_port,
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String("webhook".into()))
    );
    let budget = install.budgets[0].spec.as_ref().unwrap();
    assert!(budget.min_available.is_some() || budget.max_unavailable.is_some());
    let ingress = install.network_policies[0]
        .spec
        .as_ref()
        .unwrap()
        .ingress
        .clone()
        .unwrap();
    assert!(
        ingress.iter().any(|rule| rule.from.is_none()),
        "the webhook port is open to any source"
    );

    // Both webhook configurations: the Service, the paths, every version, exclusions.
    // The two webhook types share these fields but no trait.
    macro_rules! view {
        ($webhook:expr, $path:literal) => {
            WebhookView {
                path: $path,
                client: &$webhook.client_config,
                rules: &$webhook.rules,
                selector: &$webhook.namespace_selector,
                side_effects: &$webhook.side_effects,
                match_policy: $webhook.match_policy.as_deref(),
                versions: &$webhook.admission_review_versions,
                timeout: $webhook.timeout_seconds,
            }
        };
    }
    let mut webhooks: Vec<WebhookView> = install.validating[0]
        .webhooks
        .iter()
        .flatten()
        .map(|w| view!(w, "/validate"))
        .collect();
    for w in install.mutating[0].webhooks.iter().flatten() {
        assert_eq!(w.reinvocation_policy.as_deref(), Some("IfNeeded"));
        webhooks.push(view!(w, "/mutate"));
    }
    for WebhookView {
        path,
        client,
        rules,
        selector,
        side_effects,
        match_policy,
        versions,
        timeout,
    } in webhooks
    {
        let service_ref = client.service.as_ref().unwrap();
        assert_eq!(
            (service_ref.name.as_str(), service_ref.namespace.as_str()),
            ("meshgate", "meshgate-system")
        );
        assert_eq!(service_ref.path.as_deref(), Some(path));
        assert_eq!(side_effects, "None");
        assert_eq!(match_policy, Some("Equivalent"));
        assert_eq!(versions, &["v1".to_string()]);
        assert_eq!(timeout, Some(5));
        let rules = rules.as_ref().unwrap();
        let istio = rules
            .iter()
            .find(|r| r.api_groups.as_deref() == Some(&["networking.istio.io".to_string()][..]))
            .unwrap();
        assert_eq!(
            istio.api_versions.clone().unwrap(),
            ["v1", "v1beta1", "v1alpha3"]
        );
        assert_eq!(
            istio.resources.clone().unwrap(),
            ["virtualservices", "serviceentries", "destinationrules"]
        );
        assert!(
            rules
                .iter()
                .any(|r| r.resources.as_deref() == Some(&["namespaces".to_string()][..]))
        );
        let expressions = selector
            .as_ref()
            .unwrap()
            .match_expressions
            .clone()
            .unwrap();
        assert_eq!(expressions[0].key, "kubernetes.io/metadata.name");
        assert_eq!(expressions[0].operator, "NotIn");
        assert_eq!(
            expressions[0].values.clone().unwrap(),
            ["kube-system", "meshgate-system"]
        );
    }
    assert_eq!(
        install.validating[0].webhooks.as_ref().unwrap()[0]
            .failure_policy
            .as_deref(),
        Some("Fail")
    );
    assert_eq!(
        install.mutating[0].webhooks.as_ref().unwrap()[0]
            .failure_policy
            .as_deref(),
        Some("Ignore")
    );
}

#[test]
fn every_overlay_renders_into_a_safe_install() {
    let (_dir, deploy) = deploy_copy();

    // static-certs: the Secret holds the generated pair, both caBundles its CA.
    let static_certs = install(&render(&deploy.join("overlays/static-certs")));
    common_invariants("static-certs", &static_certs);
    let overlay = deploy.join("overlays/static-certs");
    let secret = &static_certs.secrets[0];
    assert_eq!(secret.type_.as_deref(), Some("kubernetes.io/tls"));
    assert_eq!(secret.metadata.name.as_deref(), Some("meshgate-tls"));
    let data = secret.data.as_ref().unwrap();
    assert_eq!(
        data["tls.crt"].0,
        std::fs::read(overlay.join("tls.crt")).unwrap()
    );
    assert_eq!(
        data["tls.key"].0,
        std::fs::read(overlay.join("tls.key")).unwrap()
    );
    let ca = std::fs::read(overlay.join("ca.crt")).unwrap();
    let validating_bundle = &static_certs.validating[0].webhooks.as_ref().unwrap()[0]
        .client_config
        .ca_bundle;
    let mutating_bundle = &static_certs.mutating[0].webhooks.as_ref().unwrap()[0]
        .client_config
        .ca_bundle;
    assert_eq!(validating_bundle.as_ref().unwrap().0, ca);
    assert_eq!(mutating_bundle.as_ref().unwrap().0, ca);
    // The generated certificate serves the name the API server checks, and the key matches it.
    let credentials = meshgate::tls::load_credentials(
        &data["tls.crt"].0,
        &data["tls.key"].0,
        &Default::default(),
    )
    .unwrap();
    assert!(credentials.not_after.is_some());

    // cert-manager: CA chain, serving Certificate into meshgate-tls with both Service names,
    // inject-ca-from on both configurations pointing at it.
    let cert_manager = install(&render(&deploy.join("overlays/cert-manager")));
    common_invariants("cert-manager", &cert_manager);
    let serving = cert_manager
        .cert_manager
        .iter()
        .find(|o| o["kind"] == "Certificate" && o["spec"]["secretName"] == "meshgate-tls")
        .expect("a serving Certificate");
    let dns: Vec<&str> = serving["spec"]["dnsNames"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        dns,
        [
            "meshgate.meshgate-system.svc",
            "meshgate.meshgate-system.svc.cluster.local"
        ]
    );
    let issuer = serving["spec"]["issuerRef"]["name"].as_str().unwrap();
    let ca_issuer = cert_manager
        .cert_manager
        .iter()
        .find(|o| o["kind"] == "Issuer" && o["metadata"]["name"] == issuer)
        .unwrap();
    let ca_secret = ca_issuer["spec"]["ca"]["secretName"].as_str().unwrap();
    assert!(
        cert_manager
            .cert_manager
            .iter()
            .any(|o| o["kind"] == "Certificate"
                && o["spec"]["isCA"] == true
                && o["spec"]["secretName"] == ca_secret)
    );
    let inject = format!(
        "meshgate-system/{}",
        serving["metadata"]["name"].as_str().unwrap()
    );
    for annotations in [
        &cert_manager.validating[0].metadata.annotations,
        &cert_manager.mutating[0].metadata.annotations,
    ] {
        assert_eq!(
            annotations.as_ref().unwrap()["cert-manager.io/inject-ca-from"],
            inject
        );
    }
    assert!(
        cert_manager.secrets.is_empty(),
        "cert-manager writes the Secret"
    );

    // audit: the same install with the policy in audit mode (otherwise the default policy, as
    // `common_invariants` checks). The mode is the policy's, not an environment variable's, so
    // editing the ConfigMap to `mode: enforce` switches it.
    let audit = install(&render(&deploy.join("overlays/audit")));
    common_invariants("audit", &audit);
    let policy_text = audit.config_maps[0].data.as_ref().unwrap()["policy.yaml"].clone();
    let policy = policy_text.parse::<meshgate::policy::Policy>().unwrap();
    assert_eq!(policy.mode, meshgate::policy::Mode::Audit);
    let container = &audit.deployments[0]
        .spec
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0];
    assert!(
        container
            .env
            .iter()
            .flatten()
            .all(|e| e.name != "MESHGATE_MODE"),
        "no environment variable overrides the policy's mode"
    );
}

#[tokio::test]
async fn the_configured_paths_are_served() {
    use axum::body::Body;
    use tower::ServiceExt;
    let app = meshgate::server::webhook::router(meshgate::server::webhook::WebhookState::new(
        meshgate::engine::Engine::default(),
        std::sync::Arc::new(meshgate::metrics::Metrics::default()),
        meshgate::server::webhook::RequestLimits::default(),
    ));
    let webhooks = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/base/webhooks.yaml"),
    )
    .unwrap();
    let configs: Vec<Value> = serde_saphyr::from_multiple(&webhooks).unwrap();
    for config in configs {
        let path = config["webhooks"][0]["clientConfig"]["service"]["path"]
            .as_str()
            .unwrap()
            .to_string();
        let request = axum::http::Request::post(format!("{path}?timeout=5s"))
            .header("content-type", "application/json")
            .body(Body::from(
                serde_json::to_vec(&captured("namespace-create-both-labels.json")).unwrap(),
            ))
            .unwrap();
        assert_eq!(
            app.clone().oneshot(request).await.unwrap().status(),
            200,
            "{path}"
        );
    }
}
