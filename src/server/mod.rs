//! `meshgate serve`: the HTTPS webhook listener and the plain-HTTP admin listener, credential
//! and policy reloads, and the shutdown sequence Kubernetes needs (README "Endpoints").
//! The limits that keep the process alive under hostile input are in `budget` (memory),
//! `lanes` (CPU) and `connection` (sockets); RELIABILITY.md states them.

pub mod admin;
pub mod budget;
pub mod connection;
pub mod lanes;
pub mod reload;
pub mod webhook;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use arc_swap::ArcSwap;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::certs::{self, CertRequest};
use crate::engine::Engine;
use crate::metrics::Metrics;
use crate::policy::{Mode, Policy};
use crate::tls::{self, Credentials, Requirements, SwappableCert};
use budget::MemoryBudget;
use connection::{Connections, Limits, Transport};
use lanes::Lanes;
use reload::{Change, FileWatch};
use webhook::RequestLimits;

/// Connections the admin listener keeps open at most. Its clients are the kubelet and a
/// scraper or two, but a client that holds connections open must not lock the probes out: a
/// plain idle connection costs a few KiB, so the cap is generous and the timeouts short.
const ADMIN_MAX_CONNECTIONS: usize = 1024;
/// Time limits of the admin listener, at most: its clients send their request at once.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(5);

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
    /// Open webhook connections at most (`--max-connections`).
    pub max_connections: usize,
    /// For the TLS handshake and then for the first request bytes (`--handshake-timeout`).
    pub handshake_timeout: Duration,
    /// For a request body once it is read (`--body-read-timeout`).
    pub body_read_timeout: Duration,
    /// The longest one request may take in all (`--review-timeout`).
    pub review_timeout: Duration,
    /// What bodies being read or reviewed at once may cost (`--memory-budget`).
    pub memory_budget: usize,
    /// The DNS name the API server dials, which the serving certificate must cover
    /// (`--tls-server-name`).
    pub tls_server_name: Option<String>,
}

impl ServeConfig {
    fn requirements(&self) -> Requirements {
        Requirements {
            server_name: self.tls_server_name.clone(),
        }
    }
}

/// Says at start what is in force and where it came from: the first thing to check when
/// meshgate does not do what was expected.
fn log_policy(policy: &Policy, config: &ServeConfig) {
    let source = config.policy.as_ref().map_or_else(
        || "built-in default".to_string(),
        |p| p.display().to_string(),
    );
    let mode_from = if config.mode.is_some() {
        "--mode / MESHGATE_MODE (overrides the policy file)"
    } else if config.policy.is_some() {
        "the policy file"
    } else {
        "the built-in default"
    };
    let active = crate::rules::Rule::ALL
        .iter()
        .filter(|rule| policy.action(**rule) != crate::rules::Action::Off)
        .count();
    tracing::info!(
        mode = policy.mode.as_str(),
        mode_from,
        policy = source,
        rules = active,
        rules_off = crate::rules::Rule::ALL.len() - active,
        min_istio_version = %policy.min_istio_version,
        allow_ignore_annotations = policy.allow_ignore_annotations.as_str(),
        "policy in force: {} mode, {active} rules",
        policy.mode
    );
}

fn load_tls_files(
    cert: &PathBuf,
    key: &PathBuf,
    requirements: &Requirements,
) -> anyhow::Result<Credentials> {
    let cert_pem = std::fs::read(cert).with_context(|| format!("--tls-cert {}", cert.display()))?;
    let key_pem = std::fs::read(key).with_context(|| format!("--tls-key {}", key.display()))?;
    tls::load_credentials(&cert_pem, &key_pem, requirements).with_context(|| {
        format!(
            "--tls-cert {} / --tls-key {}",
            cert.display(),
            key.display()
        )
    })
}

fn development_credentials(requirements: &Requirements) -> anyhow::Result<Credentials> {
    let mut dns_names = vec!["localhost".to_string()];
    dns_names.extend(requirements.server_name.clone());
    let bundle = certs::generate(&CertRequest {
        common_name: "meshgate development".into(),
        dns_names,
        ips: vec!["127.0.0.1".parse()?, "::1".parse()?],
        days: 30,
    })?;
    tracing::warn!(
        ca_bundle = bundle.ca_bundle_base64(),
        "DEVELOPMENT CERTIFICATE: no --tls-cert/--tls-key given and certs/tls.crt does not exist, so \
         meshgate serves a self-signed certificate for localhost and 127.0.0.1 made at start. \
         No API server will trust it. Use `meshgate certs` or cert-manager for a cluster."
    );
    match write_development_ca(&bundle.ca_pem) {
        Ok(()) => tracing::info!(
            "development CA written to {DEVELOPMENT_CA}: curl --cacert {DEVELOPMENT_CA} \
             https://localhost:<port>/validate trusts this server"
        ),
        Err(e) => tracing::warn!("development CA not written to {DEVELOPMENT_CA}: {e}"),
    }
    Ok(tls::load_credentials(
        bundle.cert_pem.as_bytes(),
        bundle.key_pem.as_bytes(),
        requirements,
    )?)
}

/// Where `serve` leaves the development certificate's CA, for clients trying it locally.
pub const DEVELOPMENT_CA: &str = "certs/development-ca.crt";

/// Writes the development CA (public, made anew at every start). An existing file or link of
/// that name is removed first and the new file created exclusively, so a link is never
/// followed.
fn write_development_ca(pem: &str) -> std::io::Result<()> {
    let path = Path::new(DEVELOPMENT_CA);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    std::io::Write::write_all(&mut file, pem.as_bytes())
}

fn read_client_ca(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("--client-ca {}", path.display()))
}

fn acceptor(
    certs: &Arc<SwappableCert>,
    client_ca: Option<&[u8]>,
) -> Result<TlsAcceptor, tls::TlsError> {
    Ok(TlsAcceptor::from(Arc::new(tls::server_config(
        certs.clone(),
        client_ca,
    )?)))
}

/// A running server's listeners, bound but not yet serving.
pub struct Bound {
    config: ServeConfig,
    webhook: TcpListener,
    admin: TcpListener,
    acceptor: Arc<ArcSwap<TlsAcceptor>>,
    certs: Arc<SwappableCert>,
    engine: Arc<ArcSwap<Engine>>,
    metrics: Arc<Metrics>,
}

/// Loads credentials and policy (so bad files fail before a port is bound), then binds both
/// listeners.
pub async fn bind(config: ServeConfig) -> anyhow::Result<Bound> {
    let metrics = Arc::new(Metrics::default());
    let policy = crate::policy::load(config.policy.as_deref(), config.mode)?;
    log_policy(&policy, &config);
    // Parsed here so that no request pays for it.
    crate::schema::load()?;
    let requirements = config.requirements();
    let credentials = match &config.tls {
        TlsSource::Files { cert, key } => load_tls_files(cert, key, &requirements)?,
        TlsSource::DevelopmentSelfSigned => development_credentials(&requirements)?,
    };
    if let Some(expiry) = credentials.not_after {
        metrics.set_certificate_expiry(expiry);
    }
    let client_ca = config.client_ca.as_ref().map(read_client_ca).transpose()?;
    let certs = Arc::new(SwappableCert::new(&credentials));
    let acceptor = acceptor(&certs, client_ca.as_deref()).with_context(|| {
        format!(
            "--client-ca {}",
            config
                .client_ca
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        )
    })?;
    if config.max_body_bytes == 0 {
        bail!("--max-body-bytes must be greater than 0");
    }
    if config.max_connections == 0 {
        bail!("--max-connections must be greater than 0");
    }
    let largest_review = MemoryBudget::cost_of(config.max_body_bytes);
    if config.memory_budget < largest_review {
        bail!(
            "--memory-budget {} cannot hold the review of one body of --max-body-bytes {}: that \
             takes up to {} bytes ({}x the body); raise --memory-budget (and the container's \
             memory limit) or lower --max-body-bytes",
            config.memory_budget,
            config.max_body_bytes,
            largest_review,
            budget::REVIEW_COST_FACTOR
        );
    }
    let webhook = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("--listen {}", config.listen))?;
    let admin = TcpListener::bind(config.admin_listen)
        .await
        .with_context(|| format!("--admin-listen {}", config.admin_listen))?;
    Ok(Bound {
        config,
        webhook,
        admin,
        acceptor: Arc::new(ArcSwap::from_pointee(acceptor)),
        certs,
        engine: Arc::new(ArcSwap::from_pointee(Engine::new(policy))),
        metrics,
    })
}

impl Bound {
    /// Serves until `shutdown` resolves, then drains as the README describes and returns.
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
        // `drain` tells open connections to close (shutdown started); `stop` closes the
        // webhook listener (the delay is over); `admin_stop` ends the admin listener last.
        let (drain_tx, drain_rx) = watch::channel(false);
        let (stop_tx, stop_rx) = watch::channel(false);
        let (admin_stop_tx, admin_stop_rx) = watch::channel(false);

        let admin_thread = spawn_admin(
            admin,
            admin::router(admin::AdminState {
                ready: ready.clone(),
                metrics: metrics.clone(),
            }),
            config.handshake_timeout.min(ADMIN_TIMEOUT),
            admin_stop_rx,
        )?;

        let reload_task = tokio::spawn(watch_files(
            config.clone(),
            certs,
            acceptor.clone(),
            engine.clone(),
            metrics.clone(),
        ));

        let router = webhook::router(webhook::WebhookState {
            engine,
            metrics: metrics.clone(),
            limits: RequestLimits {
                max_body_bytes: config.max_body_bytes,
                body_read_timeout: config.body_read_timeout,
                review_timeout: config.review_timeout,
            },
            budget: MemoryBudget::new(config.memory_budget),
            lanes: Lanes::for_this_machine(),
        });
        let limits = Limits {
            max_connections: config.max_connections,
            handshake_timeout: config.handshake_timeout,
            header_read_timeout: config.header_read_timeout,
            idle_timeout: config.header_read_timeout,
        };
        let connections = Connections::new(
            limits.max_connections,
            drain_rx,
            stop_rx.clone(),
            Some(metrics),
        );
        let accept_task = tokio::spawn(connection::accept_loop(
            webhook,
            Transport::Tls(acceptor),
            router,
            limits,
            connections.clone(),
            stop_rx,
        ));

        ready.store(true, Ordering::SeqCst);
        tracing::info!(listen = %webhook_addr, admin = %admin_addr, "listening");

        shutdown.await;
        ready.store(false, Ordering::SeqCst);
        let _ = drain_tx.send(true);
        tracing::info!(
            delay_s = config.shutdown_delay.as_secs_f64(),
            "shutdown started: /readyz answers 503 and connections are told to close; still \
             serving during --shutdown-delay"
        );
        tokio::time::sleep(config.shutdown_delay).await;
        let _ = stop_tx.send(true);
        accept_task.await.context("webhook listener task")?;
        tracing::info!(
            connections = connections.open(),
            grace_s = config.shutdown_grace.as_secs_f64(),
            "stopped accepting; finishing in-flight reviews"
        );
        if !connections.closed_within(config.shutdown_grace).await {
            tracing::warn!("--shutdown-grace elapsed with connections still open; closing them");
        }
        reload_task.abort();
        let _ = admin_stop_tx.send(true);
        let joined = tokio::task::spawn_blocking(move || admin_thread.join());
        if tokio::time::timeout(Duration::from_secs(1), joined)
            .await
            .is_err()
        {
            tracing::warn!("admin listener did not stop in time");
        }
        tracing::info!("shutdown complete");
        Ok(())
    }
}

/// Runs the admin listener on a thread and runtime of its own, so that probes are answered
/// however busy the webhook's workers are.
fn spawn_admin(
    listener: TcpListener,
    router: axum::Router,
    timeout: Duration,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    let listener = listener.into_std().context("--admin-listen")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("admin runtime")?;
    std::thread::Builder::new()
        .name("meshgate-admin".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(e) => {
                        tracing::error!("admin listener: {e}");
                        return;
                    }
                };
                let limits = Limits {
                    max_connections: ADMIN_MAX_CONNECTIONS,
                    handshake_timeout: timeout,
                    header_read_timeout: timeout,
                    idle_timeout: timeout * 6,
                };
                let connections =
                    Connections::new(limits.max_connections, stop.clone(), stop.clone(), None);
                connection::accept_loop(
                    listener,
                    Transport::Plain,
                    router,
                    limits,
                    connections,
                    stop,
                )
                .await;
            });
        })
        .context("admin thread")
}

/// Re-reads the certificate pair, the client CA bundle and the policy file when they change; a
/// bad new version is refused and the one in service stays.
async fn watch_files(
    config: ServeConfig,
    certs: Arc<SwappableCert>,
    acceptor: Arc<ArcSwap<TlsAcceptor>>,
    engine: Arc<ArcSwap<Engine>>,
    metrics: Arc<Metrics>,
) {
    let requirements = config.requirements();
    let mut tls_watch = match &config.tls {
        TlsSource::Files { cert, key } => Some(FileWatch::new(vec![cert.clone(), key.clone()])),
        TlsSource::DevelopmentSelfSigned => None,
    };
    let mut client_ca_watch = config
        .client_ca
        .as_ref()
        .map(|p| FileWatch::new(vec![p.clone()]));
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
                    tls::load_credentials(&files[0], &files[1], &requirements)
                        .map_err(|e| crate::telemetry::with_causes(&e))
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
        if let Some(change) = client_ca_watch.as_mut().and_then(FileWatch::poll) {
            let loaded = match change {
                Change::Contents(files) => self::acceptor(&certs, Some(&files[0]))
                    .map_err(|e| crate::telemetry::with_causes(&e)),
                Change::Unreadable(e) => Err(e),
            };
            match loaded {
                Ok(new) => {
                    acceptor.store(Arc::new(new));
                    metrics.record_client_ca_reload(true);
                    tracing::info!("client CA bundle reloaded");
                }
                Err(e) => {
                    metrics.record_client_ca_reload(false);
                    tracing::error!(
                        "new client CA bundle refused, the previous one stays in force: {e}"
                    );
                }
            }
        }
        if let Some(change) = policy_watch.as_mut().and_then(FileWatch::poll) {
            let path = config.policy.as_deref().unwrap_or(Path::new("policy"));
            let loaded = match change {
                Change::Contents(files) => String::from_utf8(files[0].clone())
                    .map_err(|e| format!("{}: {e}", path.display()))
                    .and_then(|text| {
                        text.parse::<Policy>()
                            .map_err(|e| crate::policy::located(path, &e))
                    }),
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
