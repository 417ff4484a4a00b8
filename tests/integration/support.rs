//! The test harness: plays the Kubernetes API server (HTTPS, CA verification for the Service
//! name, keep-alive connections, `?timeout=` on every path) against the real `meshgate` binary,
//! and runs the binary's other subcommands on temp directories.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::{Value, json};
use tokio_rustls::TlsConnector;

/// The name the API server checks on the serving certificate.
pub const SERVICE_NAME: &str = "meshgate.meshgate-system.svc";

/// The built binary.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_meshgate")
}

/// Runs the binary to completion.
pub fn run(args: &[&str], cwd: &Path, stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(binary())
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn meshgate");
    let mut input = child.stdin.take().expect("stdin");
    // A command that fails before reading its input closes the pipe: that is its answer.
    if let Err(e) = input.write_all(stdin.unwrap_or_default()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
    }
    drop(input);
    child.wait_with_output().expect("meshgate output")
}

/// The captured request body of a fixture in `tests/fixtures/admission/`.
pub fn captured(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/admission")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let capture: Value = serde_json::from_str(&text).expect("fixture JSON");
    capture["body"].clone()
}

/// Certificates from `meshgate certs` for the Service `meshgate` in `meshgate-system`.
pub struct Certs {
    /// The folder holding `ca.crt`, `tls.crt` and `tls.key`.
    pub dir: PathBuf,
}

impl Certs {
    /// Runs `meshgate certs` into `dir`.
    pub fn generate(dir: &Path) -> Certs {
        let out = run(
            &[
                "certs",
                "--service",
                "meshgate",
                "--namespace",
                "meshgate-system",
                "--out-dir",
                dir.to_str().unwrap(),
            ],
            dir.parent().unwrap(),
            None,
        );
        assert!(
            out.status.success(),
            "certs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ca_bundle = base64::engine::general_purpose::STANDARD
            .decode(String::from_utf8(out.stdout).unwrap().trim())
            .expect("caBundle is base64");
        let certs = Certs {
            dir: dir.to_path_buf(),
        };
        assert_eq!(ca_bundle, certs.ca_pem(), "the printed caBundle is ca.crt");
        certs
    }

    /// `ca.crt` as written.
    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("ca.crt")).unwrap()
    }

    /// `--tls-cert X --tls-key Y` for this folder.
    pub fn flags(&self) -> Vec<String> {
        vec![
            "--tls-cert".into(),
            self.dir.join("tls.crt").display().to_string(),
            "--tls-key".into(),
            self.dir.join("tls.key").display().to_string(),
        ]
    }
}

/// A client certificate signed by a fresh CA, for mTLS tests.
pub struct ClientIdentity {
    /// The CA's PEM, for `--client-ca`.
    pub ca_pem: String,
    /// The client's chain.
    pub chain: Vec<CertificateDer<'static>>,
    /// The client's key.
    pub key: PrivateKeyDer<'static>,
}

impl ClientIdentity {
    /// A CA and a client certificate (clientAuth) for `kube-apiserver`.
    pub fn generate() -> ClientIdentity {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa,
            KeyPair,
        };
        let mut ca_params = CertificateParams::default();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let mut params = CertificateParams::new(vec!["kube-apiserver".to_string()]).unwrap();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();
        ClientIdentity {
            ca_pem: ca.pem(),
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        }
    }
}

/// A `meshgate serve` process with its logs.
pub struct Server {
    child: Child,
    /// The HTTPS webhook address.
    pub addr: SocketAddr,
    /// The plain-HTTP admin address.
    pub admin: SocketAddr,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `meshgate serve` on ephemeral loopback ports with JSON logs plus `args`, in `cwd`,
    /// and waits for its `listening` line.
    pub fn start(cwd: &Path, args: &[String]) -> Server {
        Self::start_with_env(cwd, args, &[])
    }

    /// As [`Server::start`], with extra environment variables.
    pub fn start_with_env(cwd: &Path, args: &[String], env: &[(&str, &str)]) -> Server {
        let mut all: Vec<String> = [
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if !args.iter().any(|a| a == "--log-format") {
            all.extend(["--log-format".to_string(), "json".to_string()]);
        }
        all.extend(args.iter().cloned());
        let mut child = Command::new(binary())
            .args(&all)
            .current_dir(cwd)
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn meshgate serve");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Ok(entry) = serde_json::from_str::<Value>(&line)
                    && entry["fields"]["message"] == "listening"
                {
                    let _ = tx.send(entry["fields"].clone());
                } else if line.contains(" listening ") {
                    // The text format: `... INFO listening listen=ADDR admin=ADDR`.
                    let field = |name: &str| {
                        line.split_whitespace()
                            .find_map(|w| w.strip_prefix(name))
                            .map(|v| Value::String(v.to_string()))
                            .unwrap_or_default()
                    };
                    let _ = tx.send(json!({"listen": field("listen="), "admin": field("admin=")}));
                }
                sink.lock().unwrap().push(line);
            }
        });
        let fields = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(fields) => fields,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "meshgate serve did not start; logs:\n{}",
                    logs.lock().unwrap().join("\n")
                );
            }
        };
        Server {
            child,
            addr: fields["listen"].as_str().unwrap().parse().unwrap(),
            admin: fields["admin"].as_str().unwrap().parse().unwrap(),
            logs,
        }
    }

    /// The process's peak resident memory so far (`VmHWM`), in bytes.
    pub fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().strip_suffix("kB"))
            .and_then(|v| v.trim().parse().ok())
            .expect("VmHWM in /proc/PID/status");
        kib * 1024
    }

    /// The log lines so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// A plain-HTTP GET on the admin port: status and body.
    pub fn admin_get(&self, path: &str) -> (u16, String) {
        http_get(self.admin, path)
    }

    /// The value of one metric series, e.g. `meshgate_tls_reloads_total{result="success"}`.
    pub fn metric(&self, series: &str) -> Option<f64> {
        let (_, text) = self.admin_get("/metrics");
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    /// Waits until `predicate` holds, polling; panics with the logs after `timeout`.
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        mut predicate: impl FnMut(&Server) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if predicate(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "timed out waiting for {what}; logs:\n{}",
            self.logs().join("\n")
        );
    }

    /// Sends a signal by name (`TERM`, `INT`).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "meshgate did not exit in {timeout:?}; logs:\n{}",
                    self.logs().join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 GET over plain TCP.
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect admin");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: meshgate\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read admin response");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad response: {response}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// How the test client presents itself.
pub struct ClientOptions {
    /// CA certificates (PEM) the server must chain to.
    pub trust: Vec<Vec<u8>>,
    /// The name verified on the server certificate.
    pub server_name: String,
    /// ALPN offered: the API server offers HTTP/1.1 to Service webhooks.
    pub alpn: Vec<Vec<u8>>,
    /// A client certificate for mTLS.
    pub identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    /// Restrict to TLS 1.2.
    pub tls12_only: bool,
}

impl ClientOptions {
    /// Trusts `ca_pem` and checks the Service name, as the API server does.
    pub fn api_server(ca_pem: Vec<u8>) -> Self {
        ClientOptions {
            trust: vec![ca_pem],
            server_name: SERVICE_NAME.into(),
            alpn: vec![b"http/1.1".to_vec()],
            identity: None,
            tls12_only: false,
        }
    }

    fn connector(&self) -> TlsConnector {
        use rustls_pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for pem in &self.trust {
            for cert in CertificateDer::pem_slice_iter(pem) {
                roots.add(cert.unwrap()).unwrap();
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let versions: &[&rustls::SupportedProtocolVersion] = if self.tls12_only {
            &[&rustls::version::TLS12]
        } else {
            &[&rustls::version::TLS13, &rustls::version::TLS12]
        };
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots);
        let mut config = match &self.identity {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = self.alpn.clone();
        TlsConnector::from(Arc::new(config))
    }

    /// Opens a TLS connection to `addr`.
    pub async fn tls_stream(
        &self,
        addr: SocketAddr,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let name = ServerName::try_from(self.server_name.clone()).unwrap();
        self.connector().connect(name, tcp).await
    }
}

/// One keep-alive HTTP/1.1 connection, as the API server holds them.
pub struct ApiServer {
    sender: http1::SendRequest<Full<Bytes>>,
    /// The server's leaf certificate on this connection.
    pub peer_certificate: Vec<u8>,
    /// The ALPN protocol agreed.
    pub alpn: Option<Vec<u8>>,
}

/// A response: status, content type, headers, body.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// All response headers.
    pub headers: hyper::HeaderMap,
    /// Body bytes.
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl ApiServer {
    /// Connects and completes the TLS and HTTP/1.1 handshakes.
    pub async fn connect(addr: SocketAddr, options: &ClientOptions) -> std::io::Result<ApiServer> {
        let stream = options.tls_stream(addr).await?;
        let (_, session) = stream.get_ref();
        let peer_certificate = session
            .peer_certificates()
            .and_then(|chain| chain.first())
            .map(|c| c.to_vec())
            .unwrap_or_default();
        let alpn = session.alpn_protocol().map(|p| p.to_vec());
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(std::io::Error::other)?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(ApiServer {
            sender,
            peer_certificate,
            alpn,
        })
    }

    /// Sends one request with the API server's headers; `content_type` None omits the header.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> hyper::Result<Reply> {
        self.sender.ready().await?;
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", format!("{SERVICE_NAME}:443"))
            .header("user-agent", "kube-apiserver-admission")
            .header("accept", "application/json, */*");
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = self
            .sender
            .send_request(request.body(Full::new(Bytes::from(body))).unwrap())
            .await?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Reply {
            status,
            content_type,
            headers,
            body,
        })
    }

    /// POSTs an AdmissionReview to `/validate` or `/mutate` with `?timeout=10s`: the reply,
    /// whatever its status.
    pub async fn post_review(&mut self, webhook: &str, review: &Value) -> Reply {
        self.send(
            "POST",
            &format!("/{webhook}?timeout=10s"),
            Some("application/json"),
            serde_json::to_vec(review).unwrap(),
        )
        .await
        .expect("review request")
    }

    /// As [`ApiServer::post_review`], expecting 200: the answer.
    pub async fn review(&mut self, webhook: &str, review: &Value) -> Value {
        let reply = self.post_review(webhook, review).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.content_type, "application/json");
        reply.json()
    }
}

/// A temporary directory for one test.
pub fn temp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// `meshgate serve` with certificates from `meshgate certs` and `extra` flags.
pub fn server_with_certs(dir: &Path, extra: &[&str]) -> (Server, Certs) {
    let certs = Certs::generate(&dir.join("certs-out"));
    let mut args = certs.flags();
    args.extend(extra.iter().map(|s| s.to_string()));
    (Server::start(dir, &args), certs)
}

/// The JSON Patch in a response, decoded from base64.
pub fn decoded_patch(response: &Value) -> Option<Value> {
    let patch = response["response"]["patch"].as_str()?;
    assert_eq!(response["response"]["patchType"], "JSONPatch");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(patch)
        .expect("base64 patch");
    Some(serde_json::from_slice(&bytes).expect("patch is JSON"))
}

/// Applies a JSON Patch the way the API server does, failing on any operation that does not apply.
pub fn apply_patch(object: &Value, patch: &Value) -> Value {
    let patch: json_patch::Patch = serde_json::from_value(patch.clone()).expect("RFC 6902 patch");
    let mut patched = object.clone();
    json_patch::patch(&mut patched, &patch).expect("patch applies");
    patched
}

/// A policy file in `dir` with `body` after the header lines.
pub fn write_policy(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("apiVersion: meshgate.io/v1alpha1\nkind: Policy\n{body}"),
    )
    .unwrap();
    path
}

/// A Namespace UPDATE review with the given old and new labels, built on a captured request.
pub fn namespace_update(old_labels: Value, new_labels: Value) -> Value {
    let mut review = captured("namespace-update-add-istio-injection-while-rev.json");
    review["request"]["uid"] = json!(uid());
    review["request"]["oldObject"]["metadata"]["labels"] = old_labels;
    review["request"]["object"]["metadata"]["labels"] = new_labels;
    review
}

/// A fresh request uid.
pub fn uid() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "00000000-0000-4000-8000-{:012}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The documents of a YAML fixture file (empty documents dropped).
pub fn yaml_documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fixture folder's path.
pub fn fixtures(folder: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(folder)
}

/// An AdmissionReview carrying `object` as the API server sends it. `kind_version` is the version
/// the webhook receives (the object is converted to it), `request_version` what the user sent:
/// equal when the webhook rules list every version, `v1` vs `v1alpha3` after a
/// matchPolicy=Equivalent conversion.
pub fn review_of(
    object: &Value,
    old: Option<&Value>,
    kind_version: &str,
    request_version: &str,
) -> Value {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = object["kind"].as_str().unwrap_or_default();
    let plural = format!("{}s", kind.to_lowercase());
    let mut converted = object.clone();
    converted["apiVersion"] = json!(if group.is_empty() {
        kind_version.to_string()
    } else {
        format!("{group}/{kind_version}")
    });
    let old_converted = old.map(|o| {
        let mut o = o.clone();
        o["apiVersion"] = converted["apiVersion"].clone();
        o
    });
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid(),
            "kind": {"group": group, "version": kind_version, "kind": kind},
            "resource": {"group": group, "version": kind_version, "resource": plural},
            "requestKind": {"group": group, "version": request_version, "kind": kind},
            "requestResource": {"group": group, "version": request_version, "resource": plural},
            "name": object["metadata"]["name"],
            "namespace": object["metadata"]["namespace"].as_str().unwrap_or("default"),
            "operation": if old.is_some() { "UPDATE" } else { "CREATE" },
            "userInfo": {"username": "admin", "groups": ["system:masters", "system:authenticated"]},
            "object": converted,
            "oldObject": old_converted,
            "dryRun": false,
            "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"},
        }
    })
}

/// A policy from the lines after the header.
pub fn policy(body: &str) -> meshgate::policy::Policy {
    format!("apiVersion: meshgate.io/v1alpha1\nkind: Policy\n{body}")
        .parse()
        .expect("policy")
}

/// The answer of the in-process review path (what `serve` and `review` both call).
pub fn answer(
    policy: &meshgate::policy::Policy,
    webhook: meshgate::engine::Webhook,
    review: &Value,
) -> Value {
    let engine = meshgate::engine::Engine::new(policy.clone());
    let body = serde_json::to_vec(review).unwrap();
    let answer = meshgate::admission::review(&engine, webhook, &body).expect("a valid review");
    serde_json::from_slice(&answer.body).unwrap()
}

/// The warnings of an answer (none when the field is absent).
pub fn warnings_of(answer: &Value) -> Vec<String> {
    answer["response"]["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w.as_str().map(str::to_string))
        .collect()
}

/// Compares `actual` with `tests/golden/<name>`; `MESHGATE_BLESS=1` rewrites the golden file.
pub fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("MESHGATE_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (bless with MESHGATE_BLESS=1)", path.display()));
    assert!(
        expected == actual,
        "{name} differs from the golden file (bless with MESHGATE_BLESS=1)\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

/// Stdout or stderr bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
