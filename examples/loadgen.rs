//! Load as the Kubernetes API server applies it (BENCHMARKS.md): HTTPS verified against a CA for
//! the Service name, HTTP/1.1 keep-alive over a fixed number of connections, AdmissionReviews
//! from a realistic corpus (Namespace UPDATEs, 4 KiB VirtualServices with legacy fields,
//! ServiceEntry CREATEs, one 2 MiB VirtualService UPDATE per thousand), alternating between
//! `/mutate` and `/validate`.
//!
//! Modes:
//! - `closed`: every connection sends its next review as soon as the last one is answered
//!   (saturation throughput);
//! - `open`: reviews are due at a fixed rate and latency counts from when a review was due, so
//!   queueing behind a slow one is measured (no coordinated omission);
//! - `ready`: the time from `--since` (Unix nanoseconds) until the first review is answered.
//!
//! Prints one JSON object on stdout.

#[path = "../benches/corpus.rs"]
mod corpus;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use serde_json::{Value, json};
use tokio::sync::Mutex;

struct Options {
    mode: String,
    addr: String,
    ca: String,
    server_name: String,
    connections: usize,
    duration: Duration,
    rate: u64,
    large_every: usize,
    since: u128,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let get = |name: &str, default: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| default.to_string())
    };
    Options {
        mode: args.get(1).cloned().unwrap_or_else(|| "closed".into()),
        addr: get("--addr", "127.0.0.1:18443"),
        ca: get("--ca", "ca.crt"),
        server_name: get("--server-name", "meshgate.meshgate-system.svc"),
        connections: get("--connections", "8").parse().expect("--connections"),
        duration: Duration::from_secs_f64(get("--seconds", "10").parse().expect("--seconds")),
        rate: get("--rate", "2000").parse().expect("--rate"),
        large_every: get("--large-every", "1000").parse().expect("--large-every"),
        since: get("--since", "0").parse().expect("--since"),
    }
}

fn review(
    kind: (&str, &str, &str),
    operation: &str,
    object: &Value,
    old: Option<&Value>,
    uid: usize,
) -> Value {
    let (group, version, name) = kind;
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": format!("00000000-0000-4000-8000-{uid:012}"),
            "kind": {"group": group, "version": version, "kind": name},
            "requestKind": {"group": group, "version": version, "kind": name},
            "name": object["metadata"]["name"],
            "namespace": object["metadata"]["namespace"],
            "operation": operation,
            "userInfo": {"username": "system:serviceaccount:argocd:argocd-application-controller", "groups": ["system:serviceaccounts"]},
            "object": object,
            "oldObject": old,
            "dryRun": false,
        }
    })
}

/// The request bodies, with the large one at index 0.
fn corpus() -> Vec<Bytes> {
    let encode = |v: &Value| Bytes::from(serde_json::to_vec(v).expect("JSON"));
    let mut bodies = Vec::new();
    let large = corpus::virtual_service(2 * 1024 * 1024);
    let mut large_old = large.clone();
    large_old["spec"]["http"][0]["timeout"] = json!("10s");
    bodies.push(encode(&review(
        ("networking.istio.io", "v1", "VirtualService"),
        "UPDATE",
        &large,
        Some(&large_old),
        0,
    )));
    for i in 0..30 {
        let mut namespace = corpus::namespace();
        namespace["metadata"]["name"] = json!(format!("team-{i}"));
        let mut old = namespace.clone();
        old["metadata"]["labels"]
            .as_object_mut()
            .expect("labels")
            .remove("istio.io/rev");
        bodies.push(encode(&review(
            ("", "v1", "Namespace"),
            "UPDATE",
            &namespace,
            Some(&old),
            3 * i + 1,
        )));
        let mut vs = corpus::virtual_service(4 * 1024);
        vs["apiVersion"] = json!("networking.istio.io/v1alpha3");
        vs["metadata"]["name"] = json!(format!("items-{i}"));
        vs["spec"]["http"][0]["fault"] = json!({"abort": {"httpStatus": 503, "percent": 5}});
        vs["spec"]["http"][1]["websocketUpgrade"] = json!(true);
        bodies.push(encode(&review(
            ("networking.istio.io", "v1alpha3", "VirtualService"),
            "CREATE",
            &vs,
            None,
            3 * i + 2,
        )));
        let se = json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "metadata": {"name": format!("ext-{i}"), "namespace": "shop"},
            "spec": {"hosts": [format!("api-{i}.example.com")], "location": "MESH_EXTERNAL",
                     "ports": [{"number": 443, "name": "https", "protocol": "HTTPS"}], "resolution": "DNS"}});
        bodies.push(encode(&review(
            ("networking.istio.io", "v1", "ServiceEntry"),
            "CREATE",
            &se,
            None,
            3 * i + 3,
        )));
    }
    bodies
}

/// The body of request number `n`: the large review every `large_every`-th, else the small ones in turn.
fn pick(bodies: &[Bytes], n: u64, large_every: usize) -> &Bytes {
    if large_every > 0 && n % large_every as u64 == (large_every as u64 / 2) {
        &bodies[0]
    } else {
        &bodies[1 + (n as usize) % (bodies.len() - 1)]
    }
}

struct Connection {
    sender: http1::SendRequest<Full<Bytes>>,
}

async fn connect(
    options: &Options,
    connector: &tokio_rustls::TlsConnector,
) -> std::io::Result<Connection> {
    let tcp = tokio::net::TcpStream::connect(&options.addr).await?;
    tcp.set_nodelay(true)?;
    let name = ServerName::try_from(options.server_name.clone()).map_err(std::io::Error::other)?;
    let tls = connector.connect(name, tcp).await?;
    let (sender, connection) = http1::handshake(TokioIo::new(tls))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(Connection { sender })
}

impl Connection {
    async fn post(&mut self, n: u64, body: Bytes) -> bool {
        if self.sender.ready().await.is_err() {
            return false;
        }
        let path = if n.is_multiple_of(2) {
            "/mutate?timeout=5s"
        } else {
            "/validate?timeout=5s"
        };
        let request = hyper::Request::post(path)
            .header("host", "meshgate.meshgate-system.svc:443")
            .header("content-type", "application/json")
            .header("user-agent", "kube-apiserver-admission")
            .body(Full::new(body))
            .expect("request");
        match self.sender.send_request(request).await {
            Ok(response) => {
                let ok = response.status() == 200;
                ok && response.into_body().collect().await.is_ok()
            }
            Err(_) => false,
        }
    }
}

fn connector(options: &Options) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&options.ca).expect("--ca") {
        roots
            .add(cert.expect("CA certificate"))
            .expect("CA certificate");
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

fn percentiles(histogram: &Histogram<u64>) -> Value {
    json!({
        "p50_us": histogram.value_at_quantile(0.50),
        "p99_us": histogram.value_at_quantile(0.99),
        "p999_us": histogram.value_at_quantile(0.999),
        "max_us": histogram.max(),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let options = Arc::new(options());
    let connector = connector(&options);
    if options.mode == "ready" {
        // One small review, built before anything else so that only the server's start counts.
        let body = Bytes::from(
            serde_json::to_vec(&review(
                ("", "v1", "Namespace"),
                "CREATE",
                &corpus::namespace(),
                None,
                1,
            ))
            .expect("JSON"),
        );
        loop {
            if let Ok(mut connection) = connect(&options, &connector).await
                && connection.post(1, body.clone()).await
            {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .expect("clock")
                    .as_nanos();
                println!(
                    "{}",
                    json!({"ready_ms": (now.saturating_sub(options.since)) as f64 / 1e6})
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let bodies = Arc::new(corpus());
    let mut connections = Vec::new();
    for _ in 0..options.connections {
        connections.push(connect(&options, &connector).await.expect("connect"));
    }
    let errors = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + options.duration;
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let completed;
    if options.mode == "closed" {
        let mut tasks = Vec::new();
        for mut connection in connections {
            let (bodies, errors, next, options) = (
                bodies.clone(),
                errors.clone(),
                next.clone(),
                options.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut local =
                    Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
                while Instant::now() < deadline {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let sent = Instant::now();
                    if !connection
                        .post(n, pick(&bodies, n, options.large_every).clone())
                        .await
                    {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = local.record(sent.elapsed().as_micros() as u64);
                }
                local
            }));
        }
        for task in tasks {
            histogram.add(task.await.expect("task")).expect("histogram");
        }
        completed = histogram.len();
    } else {
        // Open loop: a pacer makes reviews due at `rate`; idle connections take them in order.
        let (queue_tx, queue_rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
        let queue_rx = Arc::new(Mutex::new(queue_rx));
        let mut tasks = Vec::new();
        for mut connection in connections {
            let (bodies, errors, queue_rx, options) = (
                bodies.clone(),
                errors.clone(),
                queue_rx.clone(),
                options.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut local =
                    Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
                loop {
                    let job = queue_rx.lock().await.recv().await;
                    let Some((n, due)) = job else { break };
                    if !connection
                        .post(n, pick(&bodies, n, options.large_every).clone())
                        .await
                    {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = local.record(due.elapsed().as_micros() as u64);
                }
                local
            }));
        }
        // The pacer is a thread of its own: the async timer's millisecond granularity would make
        // reviews late before they are even sent.
        let rate = options.rate;
        let pacer = std::thread::spawn(move || {
            let interval = Duration::from_secs_f64(1.0 / rate as f64);
            let mut n = 0u64;
            loop {
                let due = started + interval.mul_f64(n as f64);
                if due >= deadline {
                    break;
                }
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
                let _ = queue_tx.send((n, due));
                n += 1;
            }
        });
        tokio::task::spawn_blocking(move || pacer.join())
            .await
            .expect("pacer")
            .expect("pacer thread");
        for task in tasks {
            histogram.add(task.await.expect("task")).expect("histogram");
        }
        completed = histogram.len();
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut result = json!({
        "mode": options.mode,
        "connections": options.connections,
        "requests": completed,
        "errors": errors.load(Ordering::Relaxed),
        "seconds": seconds,
        "throughput": completed as f64 / seconds,
    });
    if options.mode == "open" {
        result["rate"] = json!(options.rate);
    }
    for (key, value) in percentiles(&histogram).as_object().expect("object") {
        result[key] = value.clone();
    }
    println!("{result}");
}
