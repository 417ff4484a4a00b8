//! The limit meshgate is measured against (BENCHMARKS.md): the same HTTPS stack — axum on
//! hyper-util and tokio-rustls, meshgate's TLS configuration and accept loop — answering every
//! review "allowed" after reading the body and parsing it into a generic JSON value. Nothing else.
//!
//! `baseline --listen ADDR --tls-cert FILE --tls-key FILE`

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{Value, json};

async fn allow(body: Bytes) -> axum::response::Response {
    let review: Value = match serde_json::from_slice(&body) {
        Ok(review) => review,
        Err(e) => return (axum::http::StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let answer = json!({
        "apiVersion": review["apiVersion"],
        "kind": "AdmissionReview",
        "response": {"uid": review["request"]["uid"], "allowed": true},
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(&answer).unwrap_or_default(),
    )
        .into_response()
}

fn flag(args: &[String], name: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| {
            panic!("usage: baseline --listen ADDR --tls-cert FILE --tls-key FILE (missing {name})")
        })
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().collect();
    let cert = std::fs::read(flag(&args, "--tls-cert")).expect("--tls-cert");
    let key = std::fs::read(flag(&args, "--tls-key")).expect("--tls-key");
    let credentials = meshgate::tls::load_credentials(&cert, &key, &Default::default())
        .expect("certificate pair");
    let certs = Arc::new(meshgate::tls::SwappableCert::new(&credentials));
    let config = meshgate::tls::server_config(certs, None).expect("TLS configuration");
    let listener = tokio::net::TcpListener::bind(flag(&args, "--listen"))
        .await
        .expect("--listen");
    println!("listening {}", listener.local_addr().expect("address"));
    // The same body limit as meshgate's default.
    let router = Router::new()
        .route("/validate", post(allow))
        .route("/mutate", post(allow))
        .layer(axum::extract::DefaultBodyLimit::max(8 * 1024 * 1024));
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    let limits = meshgate::server::connection::Limits {
        max_connections: 256,
        handshake_timeout: Duration::from_secs(10),
        header_read_timeout: Duration::from_secs(100),
        idle_timeout: Duration::from_secs(100),
    };
    let connections = meshgate::server::connection::Connections::new(
        limits.max_connections,
        stop_rx.clone(),
        stop_rx.clone(),
        None,
    );
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    meshgate::server::connection::accept_loop(
        listener,
        meshgate::server::connection::Transport::Tls(Arc::new(arc_swap::ArcSwap::from_pointee(
            acceptor,
        ))),
        router,
        limits,
        connections,
        stop_rx,
    )
    .await;
}
