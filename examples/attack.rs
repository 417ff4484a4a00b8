//! The attack harness of RELIABILITY.md: reproduces every attack of its table against the
//! built `meshgate` (a fresh `serve` per row, with the flags `deploy/` gives it) and prints what
//! happened — the server's peak RSS, `/livez` latency sampled every 100 ms, the reviews an API
//! server sent alongside (answered / failed), and the attack connections still open past their
//! deadline. Rows 10–12 run `check` on hostile files.
//!
//! `attack --meshgate PATH --work DIR` (bench/attack.sh builds and runs it). Loopback only.

#[path = "../benches/corpus.rs"]
mod corpus;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SERVICE: &str = "meshgate.meshgate-system.svc";
const MIB: usize = 1024 * 1024;

/// The flags deploy/base gives `serve`, on loopback ports, serving the pair in `certs`.
fn deploy_flags(certs: &Path) -> Vec<String> {
    [
        "serve",
        "--listen",
        "127.0.0.1:28443",
        "--admin-listen",
        "127.0.0.1:28080",
        "--log-format",
        "text",
        "--tls-server-name",
        SERVICE,
        "--memory-budget",
        "160Mi",
        "--max-body-bytes",
        "6Mi",
        "--shutdown-delay",
        "0s",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        "--tls-cert".into(),
        certs.join("tls.crt").display().to_string(),
        "--tls-key".into(),
        certs.join("tls.key").display().to_string(),
    ])
    .collect()
}

fn webhook_addr() -> SocketAddr {
    "127.0.0.1:28443".parse().expect("address")
}

fn admin_addr() -> SocketAddr {
    "127.0.0.1:28080".parse().expect("address")
}

/// A running `meshgate serve`.
struct Server {
    child: Child,
}

impl Server {
    fn start(meshgate: &Path, work: &Path, extra: &[String]) -> Server {
        Self::start_with(meshgate, work, &work.join("certs"), extra)
    }

    fn start_with(meshgate: &Path, work: &Path, certs: &Path, extra: &[String]) -> Server {
        let log = work.join("serve.log");
        let mut args = deploy_flags(certs);
        args.extend(extra.iter().cloned());
        let child = Command::new(meshgate)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start meshgate serve");
        let deadline = Instant::now() + Duration::from_secs(10);
        while livez().is_none() {
            assert!(
                Instant::now() < deadline,
                "meshgate serve did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Server { child }
    }

    fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().strip_suffix("kB"))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    }

    fn metric(&self, series: &str) -> f64 {
        admin_get("/metrics")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(f64::NAN)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn admin_get(path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(admin_addr()).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.starts_with("HTTP/1.1 200").then_some(answer)
}

/// `/livez` latency, or `None` when it did not answer within a second.
fn livez() -> Option<Duration> {
    let started = Instant::now();
    admin_get("/livez").map(|_| started.elapsed())
}

fn connector(work: &Path) -> tokio_rustls::TlsConnector {
    let ca = std::fs::read(work.join("certs/ca.crt")).expect("ca.crt");
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&ca) {
        roots.add(cert.expect("CA PEM")).expect("CA");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

type Tls = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

async fn tls(connector: &tokio_rustls::TlsConnector) -> std::io::Result<Tls> {
    let tcp = tokio::net::TcpStream::connect(webhook_addr()).await?;
    let name = ServerName::try_from(SERVICE).map_err(std::io::Error::other)?;
    connector.connect(name, tcp).await
}

/// POSTs one review over a new connection: status and body, or `None` on a transport error.
async fn post(
    connector: &tokio_rustls::TlsConnector,
    path: &str,
    body: Bytes,
) -> Option<(u16, Bytes)> {
    let stream = tls(connector).await.ok()?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .ok()?;
    tokio::spawn(connection);
    let request = hyper::Request::post(path)
        .header("host", SERVICE)
        .header("content-type", "application/json")
        .body(Full::new(body))
        .ok()?;
    let response = sender.send_request(request).await.ok()?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.ok()?.to_bytes();
    Some((status, body))
}

fn review(object: &Value, old: Option<&Value>) -> Value {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let kind = object["kind"].as_str().unwrap_or_default();
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
        "uid": "6f1e1c55-1111-4a4a-9c9c-000000000001",
        "kind": {"group": group, "version": version, "kind": kind},
        "name": object["metadata"]["name"], "namespace": object["metadata"]["namespace"],
        "operation": if old.is_some() { "UPDATE" } else { "CREATE" },
        "userInfo": {"username": "admin"}, "object": object, "oldObject": old}})
}

fn body_of(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("JSON"))
}

/// What the API server and the kubelet saw while a row ran.
#[derive(Default)]
struct Alongside {
    answered: AtomicU64,
    failed: AtomicU64,
    livez_max_us: AtomicU64,
    livez_missed: AtomicU64,
}

/// Sends a Namespace review every 100 ms and probes `/livez` every 100 ms until `stop`.
fn watch_alongside(
    connector: tokio_rustls::TlsConnector,
    stop: Arc<AtomicBool>,
) -> (Arc<Alongside>, Vec<tokio::task::JoinHandle<()>>) {
    let seen = Arc::new(Alongside::default());
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop",
        "labels": {"istio-injection": "enabled", "istio.io/rev": "asm-managed"}}});
    let body = body_of(&review(&namespace, None));
    let reviews = {
        let (seen, stop) = (seen.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let answer = tokio::time::timeout(
                    Duration::from_secs(5),
                    post(&connector, "/validate?timeout=5s", body.clone()),
                )
                .await;
                let ok = matches!(answer, Ok(Some((200, ref b))) if b.windows(9).any(|w| w == b"\"allowed\""));
                let counter = if ok { &seen.answered } else { &seen.failed };
                counter.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let probes = {
        let (seen, stop) = (seen.clone(), stop.clone());
        tokio::task::spawn_blocking(move || {
            while !stop.load(Ordering::Relaxed) {
                match livez() {
                    Some(t) => {
                        let us = u64::try_from(t.as_micros()).unwrap_or(u64::MAX);
                        seen.livez_max_us.fetch_max(us, Ordering::Relaxed);
                    }
                    None => {
                        seen.livez_missed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    (seen, vec![reviews, probes])
}

/// One printed row.
struct Row {
    id: &'static str,
    attack: String,
    outcome: String,
    rss_mib: f64,
    seen: Option<Arc<Alongside>>,
    left_open: Option<usize>,
}

fn print(rows: &[Row]) {
    println!(
        "| # | attack | what happened | peak RSS (MiB) | /livez max (ms) / missed | reviews alongside answered / failed | left open past deadline |"
    );
    println!("|---|---|---|---|---|---|---|");
    for row in rows {
        let (livez, alongside) = match &row.seen {
            Some(s) => (
                format!(
                    "{:.1} / {}",
                    s.livez_max_us.load(Ordering::Relaxed) as f64 / 1000.0,
                    s.livez_missed.load(Ordering::Relaxed)
                ),
                format!(
                    "{} / {}",
                    s.answered.load(Ordering::Relaxed),
                    s.failed.load(Ordering::Relaxed)
                ),
            ),
            None => ("—".into(), "—".into()),
        };
        println!(
            "| {} | {} | {} | {:.0} | {} | {} | {} |",
            row.id,
            row.attack,
            row.outcome,
            row.rss_mib,
            livez,
            alongside,
            row.left_open.map_or("—".into(), |n| n.to_string())
        );
    }
}

/// Runs `attack` against a fresh server with API-server traffic and probes alongside; waits
/// `deadline` after it for the server to close what it must, then counts what is still open
/// beyond the API server's own connection.
async fn server_row(
    meshgate: &Path,
    work: &Path,
    extra: &[String],
    deadline: Duration,
    attack: impl AsyncFnOnce(&tokio_rustls::TlsConnector) -> String,
) -> (String, f64, Arc<Alongside>, usize) {
    let server = Server::start(meshgate, work, extra);
    let connector = connector(work);
    let stop = Arc::new(AtomicBool::new(false));
    let (seen, tasks) = watch_alongside(connector.clone(), stop.clone());
    let outcome = attack(&connector).await;
    tokio::time::sleep(deadline).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    let open = server.metric("meshgate_open_connections");
    (outcome, server.peak_rss_mib(), seen, open.max(0.0) as usize)
}

/// `count` copies of `body` sent at once, each on its own connection: how many were answered
/// 200, and how long they took.
async fn concurrent_reviews(
    connector: &tokio_rustls::TlsConnector,
    count: usize,
    body: &Bytes,
) -> String {
    let started = Instant::now();
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let (connector, body) = (connector.clone(), body.clone());
            tokio::spawn(async move {
                post(&connector, "/validate?timeout=10s", body)
                    .await
                    .map(|(status, _)| status)
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        ok += usize::from(task.await.ok().flatten() == Some(200));
    }
    format!(
        "{ok}/{count} answered 200 in {:.2} s",
        started.elapsed().as_secs_f64()
    )
}

/// `count` clients that announce `announced` bytes, send all but `missing`, then stall until
/// the server ends the request; the statuses they got, counted.
async fn stalled_bodies(
    connector: &tokio_rustls::TlsConnector,
    count: usize,
    announced: usize,
    missing: usize,
) -> String {
    let mut tasks = Vec::new();
    for _ in 0..count {
        let Ok(stream) = tls(connector).await else {
            continue;
        };
        tasks.push(tokio::spawn(async move {
            let (mut reader, mut writer) = tokio::io::split(stream);
            let head = format!("POST /validate HTTP/1.1\r\nHost: m\r\nContent-Type: application/json\r\nContent-Length: {announced}\r\n\r\n");
            let writing = tokio::spawn(async move {
                let _ = writer.write_all(head.as_bytes()).await;
                let _ = writer.write_all(&vec![b' '; announced - missing]).await;
                writer
            });
            let mut answer = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(30), reader.read_to_end(&mut answer)).await;
            drop(writing);
            String::from_utf8_lossy(&answer).get(9..12).unwrap_or("---").to_string()
        }));
    }
    let mut statuses = std::collections::BTreeMap::<String, usize>::new();
    for task in tasks {
        *statuses.entry(task.await.unwrap_or_default()).or_default() += 1;
    }
    statuses
        .iter()
        .map(|(status, n)| format!("{n}× {status}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `meshgate` with `args`, sampling its RSS: exit code, peak RSS (MiB), wall time, stderr.
fn run_sampled(
    meshgate: &Path,
    args: &[&str],
    stdout_lines: Option<usize>,
) -> (Option<i32>, f64, Duration, String) {
    let started = Instant::now();
    let mut child = Command::new(meshgate)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run meshgate");
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("stdout");
    if let Some(lines) = stdout_lines {
        // `| head -N`: read N lines, then close the pipe.
        let mut seen = 0;
        let mut byte = [0u8; 1];
        while seen < lines && stdout.read(&mut byte).unwrap_or(0) == 1 {
            seen += usize::from(byte[0] == b'\n');
        }
        drop(stdout);
    } else {
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    }
    let mut peak_kib = 0f64;
    let status = loop {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            && let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().strip_suffix("kB"))
                .and_then(|v| v.trim().parse::<f64>().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    (status.code(), peak_kib / 1024.0, started.elapsed(), stderr)
}

fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(110)
        .collect::<String>()
        .replace('|', "\\|")
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(PathBuf::from)
            .unwrap_or_else(|| panic!("usage: attack --meshgate PATH --work DIR (missing {name})"))
    };
    let meshgate = flag("--meshgate");
    let work = flag("--work");
    let mut rows = Vec::new();
    let none: &[String] = &[];

    let (outcome, rss, seen, open) =
        server_row(&meshgate, &work, none, Duration::from_secs(12), async |c| {
            stalled_bodies(c, 30, 6 * MIB - 1, 1024).await
        })
        .await;
    rows.push(Row {
        id: "1",
        attack: "30 connections announce 6 MiB, send all but 1 KiB, stall".into(),
        outcome: format!("answered {outcome}"),
        rss_mib: rss,
        seen: Some(seen),
        left_open: Some(open.saturating_sub(1)),
    });

    let large = {
        let vs = corpus::virtual_service(2 * MIB);
        body_of(&review(&vs, None))
    };
    let (outcome, rss, seen, open) =
        server_row(&meshgate, &work, none, Duration::from_secs(1), async |c| {
            concurrent_reviews(c, 20, &large).await
        })
        .await;
    rows.push(Row {
        id: "2",
        attack: format!(
            "20 concurrent {:.1} MiB reviews",
            large.len() as f64 / MIB as f64
        ),
        outcome,
        rss_mib: rss,
        seen: Some(seen),
        left_open: Some(open.saturating_sub(1)),
    });

    let (outcome, rss, seen, open) = server_row(&meshgate, &work, none, Duration::from_secs(12), async |c| {
        let mut held = Vec::new();
        for _ in 0..100 {
            if let Ok(s) = tls(c).await {
                held.push(s);
            }
        }
        let mut raw = Vec::new();
        for _ in 0..100 {
            if let Ok(s) = tokio::net::TcpStream::connect(webhook_addr()).await {
                raw.push(s);
            }
            if let Ok(s) = tokio::net::TcpStream::connect(admin_addr()).await {
                raw.push(s);
            }
        }
        let started = Instant::now();
        let mut closed = 0;
        for s in &mut held {
            let mut buf = [0u8; 1];
            if tokio::time::timeout(Duration::from_secs(12), s.read(&mut buf)).await.is_ok() {
                closed += 1;
            }
        }
        format!("{closed}/{} silent TLS connections closed by the server within {:.1} s; 100 raw TCP + 100 admin held", held.len(), started.elapsed().as_secs_f64())
    })
    .await;
    rows.push(Row {
        id: "3",
        attack:
            "100 TLS connections that send nothing, 100 without a handshake, 100 on the admin port"
                .into(),
        outcome,
        rss_mib: rss,
        seen: Some(seen),
        left_open: Some(open.saturating_sub(1)),
    });

    let many_hosts = {
        let hosts: Vec<String> = (0..64_000)
            .map(|i| format!("svc-{i}.shop.svc.cluster.local"))
            .collect();
        body_of(&review(
            &json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "many", "namespace": "shop"},
            "spec": {"hosts": hosts, "http": [{"route": [{"destination": {"host": "ratings"}}]}]}}),
            None,
        ))
    };
    let (outcome, rss, seen, open) =
        server_row(&meshgate, &work, none, Duration::from_secs(1), async |c| {
            concurrent_reviews(c, 4, &many_hosts).await
        })
        .await;
    rows.push(Row {
        id: "4",
        attack: format!(
            "4 concurrent VirtualServices with 64,000 hosts ({:.1} MB)",
            many_hosts.len() as f64 / 1e6
        ),
        outcome,
        rss_mib: rss,
        seen: Some(seen),
        left_open: Some(open.saturating_sub(1)),
    });

    let invalid = |count: usize| {
        let hosts: Vec<String> = (0..count).map(|i| format!("bad_host_{i}!")).collect();
        body_of(&review(
            &json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "bad", "namespace": "shop"}, "spec": {"hosts": hosts}}),
            None,
        ))
    };
    let (small_bad, large_bad) = (invalid(5000), invalid(380_000));
    let (outcome, rss, seen, open) =
        server_row(&meshgate, &work, none, Duration::from_secs(1), async |c| {
            let size =
                async |body: &Bytes| match post(c, "/validate?timeout=10s", body.clone()).await {
                    Some((status, answer)) => format!("{status}, {} B answer", answer.len()),
                    None => "no answer".into(),
                };
            format!(
                "{:.0} KB request: {}; {:.1} MB request: {}",
                small_bad.len() as f64 / 1e3,
                size(&small_bad).await,
                large_bad.len() as f64 / 1e6,
                size(&large_bad).await
            )
        })
        .await;
    rows.push(Row {
        id: "5",
        attack: "5,000 and 380,000 invalid hosts".into(),
        outcome,
        rss_mib: rss,
        seen: Some(seen),
        left_open: Some(open.saturating_sub(1)),
    });

    rows.push(certificates(&meshgate, &work));

    let (outcome, rss, seen, open) =
        server_row(&meshgate, &work, none, Duration::from_secs(1), async |c| {
            let namespace =
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
            let mut forged = review(&namespace, None);
            forged["request"]["kind"]["kind"] = json!(
                "Namespace\n2026-12-01T00:00:00.000000Z  INFO review answered decision=\"allowed\""
            );
            let answer = post(c, "/validate?timeout=10s", body_of(&forged))
                .await
                .map(|(s, _)| s);
            format!("HTTP {answer:?}")
        })
        .await;
    let log = std::fs::read_to_string(work.join("serve.log")).unwrap_or_default();
    let forged_lines = log
        .lines()
        .filter(|l| l.starts_with("2026-12-01T00:00:00"))
        .count();
    rows.push(Row {
        id: "7",
        attack: "`request.kind.kind` with a newline and a forged log line".into(),
        outcome: format!("{outcome}; forged lines in the text log: {forged_lines}"),
        rss_mib: rss,
        seen: Some(seen),
        left_open: Some(open.saturating_sub(1)),
    });

    let (outcome, rss, seen, open) = server_row(&meshgate, &work, none, Duration::from_secs(1), async |c| {
        let vs = json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "w", "namespace": "shop"},
            "spec": {"hosts": ["r"], "http": [{"route": [
                {"destination": {"host": "a"}, "weight": 9223372036854775807u64},
                {"destination": {"host": "b"}, "weight": 9223372036854775807u64},
                {"destination": {"host": "c"}, "weight": 102}]}]}});
        match post(c, "/validate?timeout=10s", body_of(&review(&vs, None))).await {
            Some((status, body)) => {
                let answer: Value = serde_json::from_slice(&body).unwrap_or_default();
                format!("HTTP {status}, allowed {}, {}", answer["response"]["allowed"], first_line(answer["response"]["status"]["message"].as_str().unwrap_or("")))
            }
            None => "no answer".into(),
        }
    })
    .await;
    rows.push(Row {
        id: "8",
        attack: "weights `[i64::MAX, i64::MAX, 102]`".into(),
        outcome,
        rss_mib: rss,
        seen: Some(seen),
        left_open: Some(open.saturating_sub(1)),
    });

    rows.push(idempotence(&meshgate, &work).await);
    rows.extend(files(&meshgate, &work));
    print(&rows);
}

/// Row 6: expired, not yet valid and wrong-name pairs at start and on reload.
fn certificates(meshgate: &Path, work: &Path) -> Row {
    let pair = |name: &str, names: Vec<String>, from: i32, to: i32| {
        let dir = work.join(name);
        let _ = std::fs::create_dir_all(&dir);
        let mut params = rcgen::CertificateParams::new(names).expect("names");
        params.not_before = rcgen::date_time_ymd(from, 1, 1);
        params.not_after = rcgen::date_time_ymd(to, 1, 1);
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("certificate");
        std::fs::write(dir.join("tls.crt"), cert.pem()).expect("write");
        std::fs::write(dir.join("tls.key"), key.serialize_pem()).expect("write");
        dir
    };
    let mut outcomes = Vec::new();
    for (name, names, from, to) in [
        ("expired", vec![SERVICE.to_string()], 2020, 2021),
        ("not-yet-valid", vec![SERVICE.to_string()], 2090, 2091),
        ("other-name", vec!["other.svc".to_string()], 2020, 2090),
    ] {
        let dir = pair(name, names, from, to);
        let out = Command::new(meshgate)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--admin-listen",
                "127.0.0.1:0",
                "--tls-server-name",
                SERVICE,
            ])
            .arg("--tls-cert")
            .arg(dir.join("tls.crt"))
            .arg("--tls-key")
            .arg(dir.join("tls.key"))
            .output()
            .expect("run serve");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let why = stderr
            .split("the certificate ")
            .nth(1)
            .map_or("", |w| w.split(';').next().unwrap_or(w))
            .split(" (")
            .next()
            .unwrap_or("")
            .to_string();
        outcomes.push(format!("{name}: exit {:?} ({why})", out.status.code()));
    }
    // On reload: the served pair stays, the failure is counted.
    let volume = work.join("volume");
    let _ = std::fs::remove_dir_all(&volume);
    std::fs::create_dir_all(&volume).expect("volume");
    for file in ["tls.crt", "tls.key"] {
        std::fs::copy(work.join("certs").join(file), volume.join(file)).expect("copy");
    }
    let server = Server::start_with(
        meshgate,
        work,
        &volume,
        &["--reload-interval".into(), "100ms".into()],
    );
    for file in ["tls.crt", "tls.key"] {
        std::fs::copy(work.join("expired").join(file), volume.join(file)).expect("copy");
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.metric(r#"meshgate_tls_reloads_total{result="failure"}"#) < 1.0
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let failures = server.metric(r#"meshgate_tls_reloads_total{result="failure"}"#);
    let rss = server.peak_rss_mib();
    Row {
        id: "6",
        attack: "expired, not-yet-valid, other-name certificates".into(),
        outcome: format!(
            "at start: {}; expired pair on reload: refused ({failures} failure counted), old pair served",
            outcomes.join("; ")
        ),
        rss_mib: rss,
        seen: None,
        left_open: None,
    }
}

/// Row 9: a patched Namespace reviewed again gets no second patch.
async fn idempotence(meshgate: &Path, work: &Path) -> Row {
    let policy = work.join("fix-all.yaml");
    std::fs::write(&policy, "apiVersion: meshgate.io/v1alpha1\nkind: Policy\nrules:\n  namespace-injection-conflict: fix\n  namespace-injection-shadowed-revision: fix\n").expect("policy");
    let server = Server::start(
        meshgate,
        work,
        &["--policy".into(), policy.display().to_string()],
    );
    let connector = connector(work);
    let old = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"istio-injection": "disabled", "istio.io/dataplane-mode": "ambient"}}});
    let mut new = old.clone();
    new["metadata"]["labels"]["istio.io/rev"] = json!("asm-managed");
    let patch_of = |body: &Bytes| -> Option<Value> {
        use base64::Engine as _;
        let answer: Value = serde_json::from_slice(body).ok()?;
        let patch = answer["response"]["patch"].as_str()?;
        serde_json::from_slice(
            &base64::engine::general_purpose::STANDARD
                .decode(patch)
                .ok()?,
        )
        .ok()
    };
    let first = post(
        &connector,
        "/mutate?timeout=10s",
        body_of(&review(&new, Some(&old))),
    )
    .await;
    let outcome = match first.as_ref().and_then(|(_, b)| patch_of(b)) {
        None => "no first patch".to_string(),
        Some(patch) => {
            let mut patched = new.clone();
            let ops: json_patch::Patch = serde_json::from_value(patch.clone()).expect("patch");
            match json_patch::patch(&mut patched, &ops) {
                Err(e) => format!("first patch does not apply: {e}"),
                Ok(()) => {
                    let second = post(
                        &connector,
                        "/mutate?timeout=10s",
                        body_of(&review(&patched, Some(&old))),
                    )
                    .await;
                    let again = second.as_ref().and_then(|(_, b)| patch_of(b));
                    format!(
                        "first patch {patch}; second review: {}",
                        again.map_or("no patch".to_string(), |p| format!("patch {p}"))
                    )
                }
            }
        }
    };
    Row { id: "9", attack: "UPDATE adds `istio.io/rev` beside `istio-injection: disabled` and `dataplane-mode: ambient`, both rules at fix".into(), outcome: outcome.replace('|', "\\|"), rss_mib: server.peak_rss_mib(), seen: None, left_open: None }
}

/// Rows 10–12: `check` on hostile files.
fn files(meshgate: &Path, work: &Path) -> Vec<Row> {
    let dir = work.join("files");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    // Billion laughs: nine levels of nine aliases.
    let mut bomb = String::from(
        "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for level in 1..10 {
        let p = level - 1;
        bomb.push_str(&format!(
            "a{level}: &a{level} [*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p}]\n"
        ));
    }
    let bomb_file = dir.join("laughs.yaml");
    std::fs::write(&bomb_file, &bomb).expect("write");
    let (code, rss, took, stderr) = run_sampled(
        meshgate,
        &["check", bomb_file.to_str().unwrap_or_default()],
        None,
    );
    let mut rows = vec![Row {
        id: "10",
        attack: format!("{}-byte YAML of nested aliases to `check`", bomb.len()),
        outcome: format!(
            "exit {code:?} in {:.2} s: {}",
            took.as_secs_f64(),
            first_line(&stderr)
        ),
        rss_mib: rss,
        seen: None,
        left_open: None,
    }];

    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("sub")).expect("dir");
    std::fs::write(
        tree.join("sub/ns.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
    )
    .expect("write");
    let _ = std::os::unix::fs::symlink(".", tree.join("sub/a"));
    let _ = std::os::unix::fs::symlink("..", tree.join("sub/b"));
    let (code, rss, took, _) = run_sampled(
        meshgate,
        &[
            "check",
            "--format",
            "json",
            tree.to_str().unwrap_or_default(),
        ],
        None,
    );
    let json = Command::new(meshgate)
        .args(["check", "--format", "json"])
        .arg(&tree)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let files = serde_json::from_str::<Value>(&json)
        .ok()
        .and_then(|v| v["summary"]["files"].as_u64());
    rows.push(Row {
        id: "11",
        attack: "directory with two symlink loops to `check`".into(),
        outcome: format!(
            "exit {code:?} in {:.2} s, files checked: {files:?}",
            took.as_secs_f64()
        ),
        rss_mib: rss,
        seen: None,
        left_open: None,
    });

    let many = dir.join("many");
    std::fs::create_dir_all(&many).expect("dir");
    for i in 0..200 {
        std::fs::write(many.join(format!("vs-{i:03}.yaml")), format!("apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata:\n  name: vs-{i}\nspec:\n  hosts: [\"bad_{i}!\"]\n")).expect("write");
    }
    let (code, rss, _, stderr) = run_sampled(
        meshgate,
        &["check", many.to_str().unwrap_or_default()],
        Some(1),
    );
    rows.push(Row {
        id: "12",
        attack: "`meshgate check dir | head -1`".into(),
        outcome: format!("exit {code:?}, stderr {:?}", first_line(&stderr)),
        rss_mib: rss,
        seen: None,
        left_open: None,
    });
    rows
}
