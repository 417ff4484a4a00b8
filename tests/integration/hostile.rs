//! The webhook under hostile input, one test per attack of RELIABILITY.md: the process stays
//! within its memory bound, every connection ends at its deadline, probes and the reviews sent
//! alongside are still answered, and every answer is bounded.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{
    ApiServer, Certs, ClientOptions, Server, captured, review_of, server_with_certs, temp,
};

const MIB: u64 = 1024 * 1024;

/// A VirtualService CREATE whose hosts are `hosts`.
fn virtual_service(name: &str, hosts: Vec<String>) -> Value {
    review_of(
        &json!({
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"hosts": hosts, "http": [{"route": [{"destination": {"host": "ratings"}}]}]},
        }),
        None,
        "v1",
        "v1",
    )
}

/// A VirtualService CREATE of about `bytes` bytes, valid, made of many small routes.
fn large_virtual_service(name: &str, bytes: usize) -> Value {
    let route = |i: usize| {
        json!({"name": format!("r{i}"), "match": [{"uri": {"prefix": format!("/p{i}")}}],
               "route": [{"destination": {"host": "ratings", "port": {"number": 9080}}}]})
    };
    let review = |routes: usize| {
        review_of(
            &json!({
                "apiVersion": "networking.istio.io/v1",
                "kind": "VirtualService",
                "metadata": {"name": name, "namespace": "shop"},
                "spec": {"hosts": ["ratings"], "http": (0..routes).map(route).collect::<Vec<_>>()},
            }),
            None,
            "v1",
            "v1",
        )
    };
    let size = |routes: usize| serde_json::to_vec(&review(routes)).unwrap().len();
    // Routes grow by a few bytes as their numbers do: search for the count that fits.
    let (mut low, mut high) = (0, bytes / 50);
    while low < high {
        let mid = (low + high).div_ceil(2);
        if size(mid) <= bytes {
            low = mid
        } else {
            high = mid - 1
        }
    }
    review(low)
}

/// `count` copies of `body` POSTed to `/validate` at once, each on its own connection.
fn concurrent_reviews(
    server: &Server,
    certs: &Certs,
    count: usize,
    body: &[u8],
) -> Vec<tokio::task::JoinHandle<crate::support::Reply>> {
    (0..count)
        .map(|_| {
            let client = ClientOptions::api_server(certs.ca_pem());
            let (addr, body) = (server.addr, body.to_vec());
            tokio::spawn(async move {
                let mut api = ApiServer::connect(addr, &client).await.unwrap();
                api.send(
                    "POST",
                    "/validate?timeout=60s",
                    Some("application/json"),
                    body,
                )
                .await
                .unwrap()
            })
        })
        .collect()
}

/// GETs `/livez` with a one-second budget; the time it took.
fn livez_within_a_second(server: &Server) -> Duration {
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(server.admin).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    std::io::Write::write_all(
        &mut stream,
        b"GET /livez HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer)
        .expect("/livez answered within a second");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    started.elapsed()
}

/// Reads until the server closes the connection; what it sent.
async fn until_closed<S: tokio::io::AsyncRead + Unpin>(stream: &mut S, limit: Duration) -> String {
    let mut seen = Vec::new();
    match tokio::time::timeout(limit, stream.read_to_end(&mut seen)).await {
        Ok(_) => String::from_utf8_lossy(&seen).into_owned(),
        Err(_) => panic!("the server kept the connection open past {limit:?}"),
    }
}

#[tokio::test]
async fn stalled_bodies_are_cut_at_their_deadline_and_memory_stays_bounded() {
    let dir = temp();
    let (server, certs) = server_with_certs(dir.path(), &["--body-read-timeout", "1s"]);
    let client = ClientOptions::api_server(certs.ca_pem());
    // 30 clients announce a body just under the 6 MiB limit, send all of it but 1 KiB, stall.
    let announced = 6 * MIB as usize - 1;
    let mut attackers = Vec::new();
    for _ in 0..30 {
        let stream = client.tls_stream(server.addr).await.unwrap();
        let (mut reader, mut writer) = tokio::io::split(stream);
        attackers.push(tokio::spawn(async move {
            let head = format!(
                "POST /validate?timeout=3s HTTP/1.1\r\nHost: m\r\nContent-Type: application/json\r\nContent-Length: {announced}\r\n\r\n"
            );
            // The server stops reading while the budget has no room; the write then waits,
            // and fails when the server gives up on the request. The writer is kept (never
            // closed) so the body stays incomplete.
            let stalled = tokio::spawn(async move {
                let _ = writer.write_all(head.as_bytes()).await;
                let _ = writer.write_all(&vec![b' '; announced - 1024]).await;
                writer
            });
            let answer = until_closed(&mut reader, Duration::from_secs(15)).await;
            drop(stalled);
            answer
        }));
    }
    // Reviews the API server sends meanwhile are answered, and so is the kubelet.
    let mut api = ApiServer::connect(server.addr, &client).await.unwrap();
    let review = captured("namespace-create-both-labels.json");
    for _ in 0..5 {
        assert_eq!(
            api.review("validate", &review).await["response"]["allowed"],
            false
        );
        livez_within_a_second(&server);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Every stalled request ends by its deadline: 408 for the body being read, 503 for those
    // that waited for the budget; none is left open.
    let mut answers = Vec::new();
    for attacker in attackers {
        answers.push(attacker.await.unwrap());
    }
    let timed_out = answers
        .iter()
        .filter(|a| a.starts_with("HTTP/1.1 408"))
        .count();
    let shed = answers
        .iter()
        .filter(|a| a.starts_with("HTTP/1.1 503"))
        .count();
    assert!(timed_out >= 1, "{answers:?}");
    assert_eq!(timed_out + shed, 30, "{answers:?}");
    assert!(answers.iter().all(|a| a.contains("connection: close")));
    // 30 × 6 MiB were sent; the process held about one of them.
    let peak = server.peak_rss();
    assert!(peak < 100 * MIB, "peak RSS {} MiB", peak / MIB);
    assert_eq!(
        server.metric(r#"meshgate_requests_shed_total{reason="body-timeout"}"#),
        Some(timed_out as f64)
    );
}

#[tokio::test]
async fn concurrent_large_reviews_are_answered_within_the_memory_budget() {
    let dir = temp();
    let (server, certs) = server_with_certs(
        dir.path(),
        &[
            "--memory-budget",
            "30Mi",
            "--max-body-bytes",
            "1Mi",
            "--review-timeout",
            "60s",
        ],
    );
    let client = ClientOptions::api_server(certs.ca_pem());
    let review = large_virtual_service("big", 1024 * 1024 - 4096);
    let body = serde_json::to_vec(&review).unwrap();
    assert!(body.len() > 1000 * 1024 && body.len() <= 1024 * 1024);
    let tasks = concurrent_reviews(&server, &certs, 20, &body);
    // Small reviews have their own lane and need no budget.
    let mut api = ApiServer::connect(server.addr, &client).await.unwrap();
    let small = captured("namespace-create-both-labels.json");
    assert_eq!(
        api.review("validate", &small).await["response"]["allowed"],
        false
    );
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.json()["response"]["allowed"], true);
    }
    // One 1 MiB review is charged 26 MiB: the 30 MiB budget lets one run at a time.
    let peak = server.peak_rss();
    assert!(peak < 90 * MIB, "peak RSS {} MiB", peak / MIB);
}

#[tokio::test]
async fn silent_connections_are_closed_at_their_deadlines_on_both_listeners() {
    let dir = temp();
    let (server, certs) = server_with_certs(
        dir.path(),
        &[
            "--handshake-timeout",
            "1s",
            "--header-read-timeout",
            "2s",
            "--max-connections",
            "3",
        ],
    );
    let client = ClientOptions::api_server(certs.ca_pem());
    // TCP without a TLS handshake, TLS without a request, and the admin port: all closed.
    let mut raw = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut silent = client.tls_stream(server.addr).await.unwrap();
    let mut admin = tokio::net::TcpStream::connect(server.admin).await.unwrap();
    let mut silent2 = client.tls_stream(server.addr).await.unwrap();
    // The cap: a fourth webhook connection waits until one of the three closes.
    server.wait_for("three open connections", Duration::from_secs(5), |s| {
        s.metric("meshgate_open_connections") == Some(3.0)
    });
    let waiting = tokio::spawn({
        let client = ClientOptions::api_server(certs.ca_pem());
        let addr = server.addr;
        async move {
            let mut api = ApiServer::connect(addr, &client).await.unwrap();
            api.review("validate", &captured("namespace-create-both-labels.json"))
                .await
        }
    });
    until_closed(&mut raw, Duration::from_secs(5)).await;
    until_closed(&mut silent, Duration::from_secs(5)).await;
    until_closed(&mut silent2, Duration::from_secs(5)).await;
    until_closed(&mut admin, Duration::from_secs(5)).await;
    assert_eq!(
        waiting.await.unwrap()["response"]["allowed"],
        false,
        "the waiting client is served once a slot frees up"
    );
    assert!(
        server
            .metric(r#"meshgate_requests_shed_total{reason="idle-connection"}"#)
            .unwrap()
            >= 3.0
    );

    // An HTTP/2 connection that goes quiet after a review is closed at the idle timeout.
    let h2 = ClientOptions {
        alpn: vec![b"h2".to_vec()],
        ..ClientOptions::api_server(certs.ca_pem())
    };
    let stream = h2.tls_stream(server.addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    let connection = tokio::spawn(connection);
    let body = serde_json::to_vec(&captured("namespace-create-both-labels.json")).unwrap();
    let request = hyper::Request::post("/validate?timeout=10s")
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let closed = tokio::time::timeout(Duration::from_secs(10), connection).await;
    assert!(closed.is_ok(), "the idle HTTP/2 connection was closed");
}

#[tokio::test]
async fn many_hosts_are_reviewed_while_probes_are_answered() {
    let dir = temp();
    let (server, certs) = server_with_certs(dir.path(), &["--review-timeout", "60s"]);
    let hosts: Vec<String> = (0..64_000)
        .map(|i| format!("svc-{i}.shop.svc.cluster.local"))
        .collect();
    let review = virtual_service("many-hosts", hosts);
    let body = serde_json::to_vec(&review).unwrap();
    assert!(body.len() > 1_400_000, "{}", body.len());
    let tasks = concurrent_reviews(&server, &certs, 4, &body);
    while !tasks.iter().all(|t| t.is_finished()) {
        livez_within_a_second(&server);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(
            reply.json()["response"]["allowed"],
            true,
            "distinct hosts are valid"
        );
    }
}

#[tokio::test]
async fn a_denial_with_thousands_of_findings_stays_a_few_kib() {
    let dir = temp();
    let (server, certs) = server_with_certs(dir.path(), &[]);
    let hosts: Vec<String> = (0..5000).map(|i| format!("bad_host_{i}!")).collect();
    let mut api = ApiServer::connect(server.addr, &ClientOptions::api_server(certs.ca_pem()))
        .await
        .unwrap();
    let reply = api
        .send(
            "POST",
            "/validate?timeout=10s",
            Some("application/json"),
            serde_json::to_vec(&virtual_service("bad", hosts)).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    assert!(reply.body.len() < 12 * 1024, "{} bytes", reply.body.len());
    let answer = reply.json();
    let status = &answer["response"]["status"];
    assert_eq!(answer["response"]["allowed"], false);
    let message = status["message"].as_str().unwrap();
    assert!(
        message.starts_with("meshgate: virtualservice-hosts: spec.hosts[0]: "),
        "{message}"
    );
    let causes = status["details"]["causes"].as_array().unwrap();
    assert_eq!(causes.len(), 20);
    assert_eq!(causes[0]["field"], "spec.hosts[0]");
    let shown = causes.len() - 1;
    assert_eq!(
        causes[shown]["message"],
        format!("... and {} more findings", 5000 - shown)
    );
    assert!(
        message.ends_with(&format!("... and {} more findings", 5000 - shown)),
        "{message}"
    );
}

#[tokio::test]
async fn a_uid_longer_than_a_uuid_is_refused_not_echoed() {
    let dir = temp();
    let (server, certs) = server_with_certs(dir.path(), &[]);
    let mut review = captured("namespace-create-both-labels.json");
    review["request"]["uid"] = json!("u".repeat(1024 * 1024));
    let mut api = ApiServer::connect(server.addr, &ClientOptions::api_server(certs.ca_pem()))
        .await
        .unwrap();
    let reply = api.post_review("validate", &review).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.text(),
        "bad admission request: request.uid is 1048576 bytes long; the API server sends a UUID (at most 128 bytes are accepted)\n"
    );
}

#[tokio::test]
async fn forged_log_lines_and_long_strings_are_escaped_and_cut() {
    let dir = temp();
    let (server, certs) = server_with_certs(dir.path(), &["--log-format", "text"]);
    let forged = "2026-12-01T00:00:00.000000Z  INFO review answered decision=allowed";
    let mut review = captured("namespace-create-both-labels.json");
    review["request"]["kind"]["kind"] = json!(format!("Namespace\n{forged}"));
    let mut labelled = captured("namespace-create-both-labels.json");
    labelled["request"]["object"]["metadata"]["labels"]["team"] = json!("label-value-not-for-logs");
    labelled["request"]["object"]["metadata"]["annotations"] =
        json!({"owner": "annotation-value-not-for-logs"});
    labelled["request"]["name"] = json!(format!("shop{}", "x".repeat(10_000)));
    let mut api = ApiServer::connect(server.addr, &ClientOptions::api_server(certs.ca_pem()))
        .await
        .unwrap();
    let reply = api.post_review("validate", &review).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    api.review("validate", &labelled).await;
    server.wait_for("both log lines", Duration::from_secs(5), |s| {
        s.logs().iter().filter(|l| l.contains("review")).count() >= 2
    });
    let logs = server.logs();
    assert!(
        !logs.iter().any(|l| l.starts_with(forged)),
        "a forged line reached the log: {logs:#?}"
    );
    let refused = logs
        .iter()
        .find(|l| l.contains("bad admission request"))
        .unwrap_or_else(|| panic!("{logs:#?}"));
    assert!(refused.contains("Namespace\\n2026-12-01"), "{refused}");
    for line in &logs {
        assert!(line.len() < 2048, "a log line of {} bytes", line.len());
        assert!(!line.contains("label-value-not-for-logs"), "{line}");
        assert!(!line.contains("annotation-value-not-for-logs"), "{line}");
    }
    let answered = logs
        .iter()
        .find(|l| l.contains("}: review answered"))
        .unwrap_or_else(|| panic!("{logs:#?}"));
    assert!(answered.contains("(10009 bytes in all)"), "{answered}");
}

#[tokio::test]
async fn an_unread_body_and_the_shutdown_delay_say_connection_close() {
    let dir = temp();
    let (mut server, certs) = server_with_certs(dir.path(), &["--shutdown-delay", "3s"]);
    let client = ClientOptions::api_server(certs.ca_pem());
    let mut api = ApiServer::connect(server.addr, &client).await.unwrap();
    let reply = api
        .send(
            "POST",
            "/validate?timeout=10s",
            Some("text/plain"),
            vec![b'x'; 20_000],
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 415);
    assert_eq!(reply.headers["connection"], "close");
    // A body read to its end keeps the connection.
    let mut kept = ApiServer::connect(server.addr, &client).await.unwrap();
    let reply = kept
        .send(
            "POST",
            "/validate?timeout=10s",
            Some("application/json"),
            b"[]".to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 400);
    assert!(reply.headers.get("connection").is_none());

    server.signal("TERM");
    server.wait_for("/readyz 503", Duration::from_secs(5), |s| {
        s.admin_get("/readyz").0 == 503
    });
    // During the delay the kept-alive connection is answered and told to close, and a new
    // connection is still served.
    let review = captured("namespace-create-both-labels.json");
    let reply = kept
        .send(
            "POST",
            "/validate?timeout=10s",
            Some("application/json"),
            serde_json::to_vec(&review).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.headers["connection"], "close");
    let mut fresh = ApiServer::connect(server.addr, &client).await.unwrap();
    assert_eq!(
        fresh.review("validate", &review).await["response"]["allowed"],
        false
    );
    assert!(server.wait_exit(Duration::from_secs(20)).success());
}

/// A calendar day: year, month, day.
type Day = (i32, u8, u8);

/// A self-signed serving pair for `names`, valid from `not_before` to `not_after`, written to
/// `dir` as `tls.crt` and `tls.key`.
fn write_pair(dir: &std::path::Path, names: &[&str], not_before: Day, not_after: Day) {
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
    params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("tls.crt"), cert.pem()).unwrap();
    std::fs::write(dir.join("tls.key"), key.serialize_pem()).unwrap();
}

const SERVICE: &str = "meshgate.meshgate-system.svc";

#[test]
fn a_certificate_that_would_fail_every_handshake_is_refused_at_start() {
    let dir = temp();
    // (case, DNS names, not before, not after, what the error says)
    type Case<'a> = (&'a str, &'a [&'a str], Day, Day, &'a str);
    let cases: [Case; 3] = [
        (
            "expired",
            &[SERVICE],
            (2020, 1, 1),
            (2021, 1, 1),
            "the certificate expired at 2021-01-01T00:00:00Z (notAfter)",
        ),
        (
            "not-yet-valid",
            &[SERVICE],
            (2090, 1, 1),
            (2091, 1, 1),
            "the certificate is not valid before 2090-01-01T00:00:00Z (notBefore)",
        ),
        (
            "other-name",
            &["other.meshgate-system.svc", "localhost"],
            (2020, 1, 1),
            (2090, 1, 1),
            "the certificate is not valid for meshgate.meshgate-system.svc (--tls-server-name), the name the API server dials; its DNS names are: other.meshgate-system.svc, localhost",
        ),
    ];
    for (name, names, from, to, expected) in cases {
        let pair = dir.path().join(name);
        write_pair(&pair, names, from, to);
        let out = crate::support::run(
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--admin-listen",
                "127.0.0.1:0",
                "--tls-cert",
                pair.join("tls.crt").to_str().unwrap(),
                "--tls-key",
                pair.join("tls.key").to_str().unwrap(),
                "--tls-server-name",
                SERVICE,
            ],
            dir.path(),
            None,
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(
            stderr.contains("--tls-cert"),
            "{name} names the flag: {stderr}"
        );
    }
    // Without --tls-server-name the name is not checked; the dates still are.
    let out = crate::support::run(
        &[
            "serve",
            "--tls-cert",
            dir.path().join("expired/tls.crt").to_str().unwrap(),
            "--tls-key",
            dir.path().join("expired/tls.key").to_str().unwrap(),
        ],
        dir.path(),
        None,
    );
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn a_bad_certificate_on_reload_is_refused_and_the_old_pair_stays() {
    let dir = temp();
    let volume = dir.path().join("volume");
    write_pair(&volume.join("..v1"), &[SERVICE], (2020, 1, 1), (2090, 1, 1));
    std::os::unix::fs::symlink("..v1", volume.join("..data")).unwrap();
    for file in ["tls.crt", "tls.key"] {
        std::os::unix::fs::symlink(format!("..data/{file}"), volume.join(file)).unwrap();
    }
    let server = Server::start(
        dir.path(),
        &[
            "--tls-cert".into(),
            volume.join("tls.crt").display().to_string(),
            "--tls-key".into(),
            volume.join("tls.key").display().to_string(),
            "--tls-server-name".into(),
            SERVICE.into(),
            "--reload-interval".into(),
            "100ms".into(),
        ],
    );
    let ca = std::fs::read(volume.join("..v1/tls.crt")).unwrap();
    let client = ClientOptions::api_server(ca.clone());
    let first = ApiServer::connect(server.addr, &client).await.unwrap();
    let served = first.peer_certificate.clone();
    let review = captured("namespace-create-both-labels.json");
    for (count, (name, names, from, to, reason)) in [
        (
            "..v2",
            &[SERVICE][..],
            (2020, 1, 1),
            (2021, 1, 1),
            "expired at 2021-01-01",
        ),
        (
            "..v3",
            &[SERVICE][..],
            (2090, 1, 1),
            (2091, 1, 1),
            "not valid before 2090-01-01",
        ),
        (
            "..v4",
            &["other.svc"][..],
            (2020, 1, 1),
            (2090, 1, 1),
            "not valid for meshgate.meshgate-system.svc",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        write_pair(&volume.join(name), names, from, to);
        let tmp = volume.join("..data_tmp");
        std::os::unix::fs::symlink(name, &tmp).unwrap();
        std::fs::rename(&tmp, volume.join("..data")).unwrap();
        server.wait_for("the refused reload", Duration::from_secs(10), |s| {
            s.metric(r#"meshgate_tls_reloads_total{result="failure"}"#) == Some(count as f64 + 1.0)
        });
        assert!(
            server
                .logs()
                .iter()
                .any(|l| l.contains("new serving certificate refused") && l.contains(reason)),
            "{reason}: {:#?}",
            server.logs()
        );
        let mut api = ApiServer::connect(server.addr, &client).await.unwrap();
        assert_eq!(api.peer_certificate, served, "{name}: the old pair stays");
        assert_eq!(
            api.review("validate", &review).await["response"]["allowed"],
            false
        );
    }
    assert_eq!(
        server.metric(r#"meshgate_tls_reloads_total{result="success"}"#),
        Some(0.0)
    );
}

/// The status of one review over a new connection, `None` if the server refused the client.
async fn status_with(addr: std::net::SocketAddr, options: ClientOptions) -> Option<u16> {
    let review = captured("namespace-create-both-labels.json");
    let mut api = ApiServer::connect(addr, &options).await.ok()?;
    api.send(
        "POST",
        "/validate?timeout=10s",
        Some("application/json"),
        serde_json::to_vec(&review).unwrap(),
    )
    .await
    .ok()
    .map(|reply| reply.status)
}

#[tokio::test]
async fn the_client_ca_reloads_like_the_serving_pair() {
    let dir = temp();
    let certs = Certs::generate(&dir.path().join("certs"));
    let first = crate::support::ClientIdentity::generate();
    let second = crate::support::ClientIdentity::generate();
    let ca_file = dir.path().join("client-ca.crt");
    std::fs::write(&ca_file, &first.ca_pem).unwrap();
    let mut args = certs.flags();
    args.extend([
        "--client-ca".into(),
        ca_file.display().to_string(),
        "--reload-interval".into(),
        "100ms".into(),
    ]);
    let server = Server::start(dir.path(), &args);
    let as_client = |identity: &crate::support::ClientIdentity| ClientOptions {
        identity: Some((identity.chain.clone(), identity.key.clone_key())),
        ..ClientOptions::api_server(certs.ca_pem())
    };
    let addr = server.addr;
    let reviewed = |options: ClientOptions| status_with(addr, options);
    assert_eq!(reviewed(as_client(&first)).await, Some(200));
    assert_eq!(reviewed(as_client(&second)).await, None);

    std::fs::write(&ca_file, &second.ca_pem).unwrap();
    server.wait_for("the client CA reload", Duration::from_secs(10), |s| {
        s.metric(r#"meshgate_client_ca_reloads_total{result="success"}"#) == Some(1.0)
    });
    assert_eq!(reviewed(as_client(&second)).await, Some(200));
    assert_eq!(reviewed(as_client(&first)).await, None);

    // A broken bundle is refused; the one in force stays.
    std::fs::write(&ca_file, "not a certificate").unwrap();
    server.wait_for("the refused reload", Duration::from_secs(10), |s| {
        s.metric(r#"meshgate_client_ca_reloads_total{result="failure"}"#) == Some(1.0)
    });
    assert_eq!(reviewed(as_client(&second)).await, Some(200));
}
