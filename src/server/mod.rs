//! `meshgate serve`: the HTTPS webhook listener and the plain-HTTP admin listener, credential
//! and policy reloads, and the shutdown sequence Kubernetes needs (INTERFACE.md "Shutdown").

pub mod admin;
pub mod reload;
pub mod webhook;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use arc_swap::ArcSwap;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::certs::{self, CertRequest};
use crate::engine::Engine;
use crate::metrics::Metrics;
use crate::policy::{Mode, Policy};
use crate::tls::{self, Credentials, SwappableCert};
use reload::{Change, FileWatch};

/// How long a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the serving certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files, re-read when they change.
    Files {
        /// Certificate chain (`--tls-cert`).
        cert: PathBuf,
        /// Private key (`--tls-key`).
        key: PathBuf,
    },
    /// A certificate made at start for `localhost` and `127.0.0.1`: the development default.
    DevelopmentSelfSigned,
}

/// Everything `serve` needs; the CLI builds it from flags, tests build it directly.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Webhook listener (`--listen`).
    pub listen: SocketAddr,
    /// Admin listener (`--admin-listen`).
    pub admin_listen: SocketAddr,
    /// Serving certificate.
    pub tls: TlsSource,
    /// CA bundle client certificates must chain to (`--client-ca`).
    pub client_ca: Option<PathBuf>,
    /// Policy file (`--policy`); the built-in default otherwise.
    pub policy: Option<PathBuf>,
    /// Mode override (`--mode`).
    pub mode: Option<Mode>,
    /// Largest accepted request body (`--max-body-bytes`).
    pub max_body_bytes: usize,
    /// How long to keep serving after a signal, while endpoints are removed (`--shutdown-delay`).
    pub shutdown_delay: Duration,
    /// How long in-flight reviews may take to finish after that (`--shutdown-grace`).
    pub shutdown_grace: Duration,
    /// How long a client may take to send request headers, idle keep-alive time included
    /// (`--header-read-timeout`).
    pub header_read_timeout: Duration,
    /// How often certificate and policy files are checked for changes (`--reload-interval`).
    pub reload_interval: Duration,
}

/// Reads and validates the policy file, or the built-in default.
pub fn load_policy(path: Option<&PathBuf>, mode: Option<Mode>) -> anyhow::Result<Policy> {
    let policy = match path {
        None => Policy::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--policy {}", path.display()))?;
            text.parse::<Policy>()
                .with_context(|| format!("--policy {}", path.display()))?
        }
    };
    Ok(policy.with_mode(mode))
}

fn load_tls_files(cert: &PathBuf, key: &PathBuf) -> anyhow::Result<Credentials> {
    let cert_pem = std::fs::read(cert).with_context(|| format!("--tls-cert {}", cert.display()))?;
    let key_pem = std::fs::read(key).with_context(|| format!("--tls-key {}", key.display()))?;
    tls::load_credentials(&cert_pem, &key_pem).with_context(|| {
        format!(
            "--tls-cert {} / --tls-key {}",
            cert.display(),
            key.display()
        )
    })
}

fn development_credentials() -> anyhow::Result<Credentials> {
    let bundle = certs::generate(&CertRequest {
        common_name: "meshgate development".into(),
        dns_names: vec!["localhost".into()],
        ips: vec!["127.0.0.1".parse()?, "::1".parse()?],
        days: 30,
    })?;
    tracing::warn!(
        ca_bundle = bundle.ca_bundle_base64(),
        "DEVELOPMENT CERTIFICATE: no --tls-cert/--tls-key given and certs/tls.crt does not exist, so \
         meshgate serves a self-signed certificate for localhost and 127.0.0.1 made at start. \
         No API server will trust it. Use `meshgate certs` or cert-manager for a cluster."
    );
    Ok(tls::load_credentials(
        bundle.cert_pem.as_bytes(),
        bundle.key_pem.as_bytes(),
    )?)
}

/// A running server's listeners, bound but not yet serving.
pub struct Bound {
    config: ServeConfig,
    webhook: TcpListener,
    admin: TcpListener,
    acceptor: TlsAcceptor,
    certs: Arc<SwappableCert>,
    engine: Arc<ArcSwap<Engine>>,
    metrics: Arc<Metrics>,
}

/// Loads credentials and policy (so bad files fail before a port is bound), then binds both
/// listeners.
pub async fn bind(config: ServeConfig) -> anyhow::Result<Bound> {
    let metrics = Arc::new(Metrics::default());
    let policy = load_policy(config.policy.as_ref(), config.mode)?;
    // Parsed here so that no request pays for it.
    if !crate::schema::load() {
        bail!("the Istio schema shipped in this binary did not load");
    }
    let credentials = match &config.tls {
        TlsSource::Files { cert, key } => load_tls_files(cert, key)?,
        TlsSource::DevelopmentSelfSigned => development_credentials()?,
    };
    if let Some(expiry) = credentials.not_after {
        metrics.set_certificate_expiry(expiry);
    }
    let client_ca = match &config.client_ca {
        Some(path) => {
            Some(std::fs::read(path).with_context(|| format!("--client-ca {}", path.display()))?)
        }
        None => None,
    };
    let certs = Arc::new(SwappableCert::new(&credentials));
    let tls_config =
        tls::server_config(certs.clone(), client_ca.as_deref()).with_context(|| {
            format!(
                "--client-ca {}",
                config
                    .client_ca
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )
        })?;
    let webhook = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("--listen {}", config.listen))?;
    let admin = TcpListener::bind(config.admin_listen)
        .await
        .with_context(|| format!("--admin-listen {}", config.admin_listen))?;
    if config.max_body_bytes == 0 {
        bail!("--max-body-bytes must be greater than 0");
    }
    Ok(Bound {
        config,
        webhook,
        admin,
        acceptor: TlsAcceptor::from(Arc::new(tls_config)),
        certs,
        engine: Arc::new(ArcSwap::from_pointee(Engine::new(policy))),
        metrics,
    })
}

impl Bound {
    /// Serves until `shutdown` resolves, then drains as INTERFACE.md describes and returns.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let Bound {
            config,
            webhook,
            admin,
            acceptor,
            certs,
            engine,
            metrics,
        } = self;
        let webhook_addr = webhook.local_addr().context("--listen")?;
        let admin_addr = admin.local_addr().context("--admin-listen")?;
        let ready = Arc::new(AtomicBool::new(false));
        let (stop_tx, stop_rx) = watch::channel(false);

        let admin_router = admin::router(admin::AdminState {
            ready: ready.clone(),
            metrics: metrics.clone(),
        });
        let mut admin_stop = stop_rx.clone();
        let admin_task = tokio::spawn(async move {
            let stopped = async move {
                let _ = admin_stop.wait_for(|stop| *stop).await;
            };
            axum::serve(admin, admin_router)
                .with_graceful_shutdown(stopped)
                .await
        });

        let reload_task = tokio::spawn(watch_files(
            config.clone(),
            certs,
            engine.clone(),
            metrics.clone(),
        ));

        let router = webhook::router(webhook::WebhookState {
            engine,
            metrics,
            max_body_bytes: config.max_body_bytes,
        });
        let accept_task = tokio::spawn(accept_loop(
            webhook,
            acceptor,
            router,
            config.header_read_timeout,
            stop_rx,
        ));

        ready.store(true, Ordering::SeqCst);
        tracing::info!(listen = %webhook_addr, admin = %admin_addr, "listening");

        shutdown.await;
        ready.store(false, Ordering::SeqCst);
        tracing::info!(
            delay_s = config.shutdown_delay.as_secs_f64(),
            "shutdown started: /readyz answers 503; still serving during --shutdown-delay"
        );
        tokio::time::sleep(config.shutdown_delay).await;
        let _ = stop_tx.send(true);
        let graceful = accept_task.await.context("webhook listener task")?;
        tracing::info!(
            connections = graceful.count(),
            grace_s = config.shutdown_grace.as_secs_f64(),
            "stopped accepting; finishing in-flight reviews"
        );
        if tokio::time::timeout(config.shutdown_grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("--shutdown-grace elapsed with connections still open; closing them");
        }
        reload_task.abort();
        match tokio::time::timeout(Duration::from_secs(1), admin_task).await {
            Ok(Ok(Err(e))) => tracing::warn!("admin listener: {e}"),
            Err(_) => tracing::warn!("admin listener did not stop in time"),
            _ => {}
        }
        tracing::info!("shutdown complete");
        Ok(())
    }
}

/// Accepts TLS connections and serves each with HTTP/1.1 or HTTP/2 until `stop` turns true;
/// returns the handle that drains the open connections. Public so that the benchmark's baseline
/// server runs the very same connection handling.
pub async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: axum::Router,
    header_read_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) -> GracefulShutdown {
    let graceful = GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            _ = stop.wait_for(|stop| *stop) => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(router.clone());
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, "TLS handshake failed: {e}");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .keep_alive(true);
            builder.http2().timer(TokioTimer::new());
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(%peer, "connection closed: {e}");
            }
        });
    }
    graceful
}

/// Re-reads the certificate pair and the policy file when they change; a bad new version is
/// refused and the one in service stays.
async fn watch_files(
    config: ServeConfig,
    certs: Arc<SwappableCert>,
    engine: Arc<ArcSwap<Engine>>,
    metrics: Arc<Metrics>,
) {
    let mut tls_watch = match &config.tls {
        TlsSource::Files { cert, key } => Some(FileWatch::new(vec![cert.clone(), key.clone()])),
        TlsSource::DevelopmentSelfSigned => None,
    };
    let mut policy_watch = config
        .policy
        .as_ref()
        .map(|p| FileWatch::new(vec![p.clone()]));
    let mut interval = tokio::time::interval(config.reload_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Some(change) = tls_watch.as_mut().and_then(FileWatch::poll) {
            let loaded = match change {
                Change::Contents(files) => {
                    tls::load_credentials(&files[0], &files[1]).map_err(|e| e.to_string())
                }
                Change::Unreadable(e) => Err(e),
            };
            match loaded {
                Ok(credentials) => {
                    certs.store(&credentials);
                    if let Some(expiry) = credentials.not_after {
                        metrics.set_certificate_expiry(expiry);
                    }
                    metrics.record_tls_reload(true);
                    tracing::info!("serving certificate reloaded");
                }
                Err(e) => {
                    metrics.record_tls_reload(false);
                    tracing::error!(
                        "new serving certificate refused, the previous one stays in service: {e}"
                    );
                }
            }
        }
        if let Some(change) = policy_watch.as_mut().and_then(FileWatch::poll) {
            let loaded = match change {
                Change::Contents(files) => String::from_utf8(files[0].clone())
                    .map_err(|e| e.to_string())
                    .and_then(|text| text.parse::<Policy>().map_err(|e| e.to_string())),
                Change::Unreadable(e) => Err(e),
            };
            match loaded {
                Ok(policy) => {
                    engine.store(Arc::new(Engine::new(policy.with_mode(config.mode))));
                    metrics.record_policy_reload(true);
                    tracing::info!("policy reloaded");
                }
                Err(e) => {
                    metrics.record_policy_reload(false);
                    tracing::error!("new policy refused, the previous one stays in force: {e}");
                }
            }
        }
    }
}
