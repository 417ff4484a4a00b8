//! The command line of INTERFACE.md: `serve`, `review`, `check`, `fix` and `certs`, each a thin shell around the
//! library. Exit codes: 0 success, 1 findings at or above the threshold, 2 usage, I/O or parse
//! errors.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use tracing_subscriber::filter::LevelFilter;

use crate::admission;
use crate::certs::{self, CertRequest};
use crate::engine::{Engine, Webhook};
use crate::lint::inputs::Symlinks;
use crate::lint::run::{self, FailOn, FixOutput, Format};
use crate::policy::Mode;
use crate::server::{self, ServeConfig, TlsSource};
use crate::telemetry::{self, LogFormat};

/// Exit code: usage, I/O or parse error.
pub const EXIT_ERROR: u8 = 2;

/// meshgate: admission webhook and linter for Istio clusters under migration.
#[derive(Debug, Parser)]
#[command(name = "meshgate", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the admission webhook (HTTPS) and the admin endpoint (HTTP).
    Serve(ServeArgs),
    /// Answer one AdmissionReview from a file or stdin exactly as `serve` would.
    Review(ReviewArgs),
    /// Lint manifests offline with the webhook's rules: files, directories, `-` for stdin.
    Check(CheckArgs),
    /// Apply every fix the mutating webhook would apply to manifest files.
    Fix(FixArgs),
    /// Write a CA and a serving certificate for the webhook Service; print the caBundle.
    Certs(CertsArgs),
}

/// Flags of `meshgate check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Policy file (YAML); the built-in default policy otherwise.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// The least severity that makes the run fail (exit 1).
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
    /// Follow symbolic links found in directories (each directory and file is read once, so
    /// loops end); without it they are skipped with a note on stderr. Links named on the
    /// command line are always followed.
    #[arg(long)]
    pub follow: bool,
    /// Files, directories (searched for *.yaml, *.yml, *.json) or `-` for stdin. YAML anchors
    /// and aliases may copy at most 1,000,000 nodes and 64 MiB of text per file, and
    /// collections nest at most 128 levels deep.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Flags of `meshgate fix`.
#[derive(Debug, Args)]
pub struct FixArgs {
    /// Policy file (YAML); the built-in default policy otherwise.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// The least severity that makes the run fail when it remains after fixing (exit 1).
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
    /// Rewrite the files (atomically) instead of printing them.
    #[arg(long, conflicts_with = "diff")]
    pub in_place: bool,
    /// Print a unified diff instead of the rewritten files.
    #[arg(long)]
    pub diff: bool,
    /// Follow symbolic links found in directories (each directory and file is read once, so
    /// loops end); without it they are skipped with a note on stderr. Links named on the
    /// command line are always followed; --in-place writes through a link to its file.
    #[arg(long)]
    pub follow: bool,
    /// Files, directories (searched for *.yaml, *.yml, *.json) or `-` for stdin. YAML anchors
    /// and aliases may copy at most 1,000,000 nodes and 64 MiB of text per file, and
    /// collections nest at most 128 levels deep; a document whose anchors and aliases copy more
    /// than 10,000 nodes or 1 MiB is checked but not rewritten.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Flags of `meshgate serve`; each also reads `MESHGATE_<FLAG>`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address of the HTTPS webhook listener.
    #[arg(long, env = "MESHGATE_LISTEN", default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,
    /// Address of the plain-HTTP admin listener (/livez, /readyz, /metrics).
    #[arg(long, env = "MESHGATE_ADMIN_LISTEN", default_value = "0.0.0.0:8080")]
    pub admin_listen: SocketAddr,
    /// Serving certificate chain (PEM). Without it and --tls-key, certs/tls.crt is used if it
    /// exists, else a self-signed development certificate.
    #[arg(long, env = "MESHGATE_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// Serving private key (PEM).
    #[arg(long, env = "MESHGATE_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Require client certificates signed by this CA bundle (mTLS from the API server).
    #[arg(long, env = "MESHGATE_CLIENT_CA")]
    pub client_ca: Option<PathBuf>,
    /// Policy file (YAML); the built-in default policy otherwise.
    #[arg(long, env = "MESHGATE_POLICY")]
    pub policy: Option<PathBuf>,
    /// Override the policy's mode.
    #[arg(long, env = "MESHGATE_MODE", value_enum)]
    pub mode: Option<Mode>,
    /// Largest accepted request body, in bytes (suffixes Ki, Mi allowed).
    #[arg(long, env = "MESHGATE_MAX_BODY_BYTES", default_value = "6Mi", value_parser = parse_size)]
    pub max_body_bytes: usize,
    /// After SIGTERM, keep serving this long while /readyz answers 503.
    #[arg(long, env = "MESHGATE_SHUTDOWN_DELAY", default_value = "5s", value_parser = parse_duration)]
    pub shutdown_delay: Duration,
    /// Then give in-flight reviews this long to finish.
    #[arg(long, env = "MESHGATE_SHUTDOWN_GRACE", default_value = "25s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    /// Log format.
    #[arg(long, env = "MESHGATE_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Close a connection whose client takes longer than this to send request headers. Idle
    /// keep-alive time counts too, so it stays above the API server's 90 s idle timeout.
    #[arg(long, env = "MESHGATE_HEADER_READ_TIMEOUT", default_value = "100s", value_parser = parse_duration)]
    pub header_read_timeout: Duration,
    /// How often certificate, client CA and policy files are checked for changes.
    #[arg(long, env = "MESHGATE_RELOAD_INTERVAL", default_value = "2s", value_parser = parse_duration)]
    pub reload_interval: Duration,
    /// The DNS name the API server dials (`<service>.<namespace>.svc`): a serving certificate
    /// that does not cover it is refused at start and on reload.
    #[arg(long, env = "MESHGATE_TLS_SERVER_NAME")]
    pub tls_server_name: Option<String>,
    /// Open webhook connections at most; more clients wait in the listen queue.
    #[arg(long, env = "MESHGATE_MAX_CONNECTIONS", default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_connections: u16,
    /// Deadline for the TLS handshake, and again for the first bytes of the first request.
    #[arg(long, env = "MESHGATE_HANDSHAKE_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub handshake_timeout: Duration,
    /// Deadline for a request body to arrive once meshgate reads it (answered 408).
    #[arg(long, env = "MESHGATE_BODY_READ_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub body_read_timeout: Duration,
    /// The longest one review may take in all; the API server's `?timeout=` less a tenth
    /// applies when shorter. Past it the answer is 503 and the failurePolicy decides.
    #[arg(long, env = "MESHGATE_REVIEW_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub review_timeout: Duration,
    /// What the bodies being read or reviewed at once may cost, in bytes: each body past 64 KiB
    /// is charged 26 times its size (body, parsed object and answer). Must hold one body of
    /// --max-body-bytes; keep it near 40 % of the container's memory limit.
    #[arg(long, env = "MESHGATE_MEMORY_BUDGET", default_value = "160Mi", value_parser = parse_size)]
    pub memory_budget: usize,
}

/// Which webhook `review` plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WebhookArg {
    /// `POST /validate`.
    Validate,
    /// `POST /mutate`.
    Mutate,
}

/// Flags of `meshgate review`.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Which webhook to answer as.
    #[arg(long, value_enum, default_value = "validate")]
    pub webhook: WebhookArg,
    /// Policy file (YAML); the built-in default policy otherwise.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Override the policy's mode.
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// The AdmissionReview JSON; `-` for stdin.
    #[arg(default_value = "-")]
    pub input: PathBuf,
}

/// Flags of `meshgate certs`.
#[derive(Debug, Args)]
pub struct CertsArgs {
    /// The webhook's Service name.
    #[arg(long)]
    pub service: String,
    /// The Service's namespace.
    #[arg(long)]
    pub namespace: String,
    /// Where to write ca.crt, tls.crt and tls.key.
    #[arg(long, default_value = "certs")]
    pub out_dir: PathBuf,
    /// Validity in days.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
    /// Extra DNS name for the certificate (repeatable).
    #[arg(long = "dns")]
    pub dns: Vec<String>,
    /// Extra IP address for the certificate (repeatable).
    #[arg(long = "ip")]
    pub ip: Vec<IpAddr>,
}

/// Parses `5s`, `500ms`, `2m`, `1h` or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 5s, 500ms, 2m)"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}` (use ms, s, m or h)"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("`{text}`: {e}"))
}

/// Parses a byte count: `8388608`, `8Mi`, `512Ki`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (number, factor) = if let Some(n) = text.strip_suffix("Mi") {
        (n, 1024 * 1024)
    } else if let Some(n) = text.strip_suffix("Ki") {
        (n, 1024)
    } else {
        (text, 1)
    };
    let value: usize = number
        .parse()
        .map_err(|_| format!("`{text}` is not a byte count (e.g. 8388608, 8Mi, 512Ki)"))?;
    value
        .checked_mul(factor)
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("`{text}` must be between 1 byte and the address space"))
}

/// Runs a parsed command line; the exit code follows INTERFACE.md.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Review(args) => {
            telemetry::init(LogFormat::Text, LevelFilter::WARN);
            review(&args)
        }
        Command::Check(args) => {
            telemetry::init(LogFormat::Text, LevelFilter::WARN);
            check(&args)
        }
        Command::Fix(args) => {
            telemetry::init(LogFormat::Text, LevelFilter::WARN);
            fix(&args)
        }
        Command::Certs(args) => {
            telemetry::init(LogFormat::Text, LevelFilter::WARN);
            write_certs(&args)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("meshgate: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Where the serving certificate comes from, per INTERFACE.md: both flags, or neither and
/// `certs/tls.crt` + `certs/tls.key`, or the development certificate.
fn tls_source(args: &ServeArgs) -> anyhow::Result<TlsSource> {
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Ok(TlsSource::Files {
            cert: cert.clone(),
            key: key.clone(),
        }),
        (Some(_), None) => bail!("--tls-cert is set but --tls-key is not: give both, or neither"),
        (None, Some(_)) => bail!("--tls-key is set but --tls-cert is not: give both, or neither"),
        (None, None) => {
            let (cert, key) = (Path::new("certs/tls.crt"), Path::new("certs/tls.key"));
            Ok(if cert.exists() && key.exists() {
                TlsSource::Files {
                    cert: cert.to_path_buf(),
                    key: key.to_path_buf(),
                }
            } else {
                TlsSource::DevelopmentSelfSigned
            })
        }
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    telemetry::init(args.log_format, LevelFilter::INFO);
    let config = ServeConfig {
        tls: tls_source(&args)?,
        listen: args.listen,
        admin_listen: args.admin_listen,
        client_ca: args.client_ca,
        policy: args.policy,
        mode: args.mode,
        max_body_bytes: args.max_body_bytes,
        shutdown_delay: args.shutdown_delay,
        shutdown_grace: args.shutdown_grace,
        header_read_timeout: args.header_read_timeout,
        reload_interval: args.reload_interval,
        max_connections: usize::from(args.max_connections),
        handshake_timeout: args.handshake_timeout,
        body_read_timeout: args.body_read_timeout,
        review_timeout: args.review_timeout,
        memory_budget: args.memory_budget,
        tls_server_name: args.tls_server_name,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let signals = Signals::new()?;
        server::bind(config).await?.serve(signals.first()).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM and SIGINT, registered before serving so none is missed.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
            int: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
        })
    }

    /// Resolves at the first signal; a second one exits the process at once.
    async fn first(mut self) {
        tokio::select! {
            _ = self.term.recv() => tracing::info!("SIGTERM received"),
            _ = self.int.recv() => tracing::info!("SIGINT received"),
        }
        tokio::spawn(async move {
            tokio::select! {
                _ = self.term.recv() => {},
                _ = self.int.recv() => {},
            }
            eprintln!("meshgate: second signal: exiting at once");
            std::process::exit(1);
        });
    }
}

fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut buffer = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buffer)
            .context("reading stdin")?;
        Ok(buffer)
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))
    }
}

fn review(args: &ReviewArgs) -> anyhow::Result<ExitCode> {
    let policy = server::load_policy(args.policy.as_ref(), args.mode)?;
    let body = read_input(&args.input)?;
    let webhook = match args.webhook {
        WebhookArg::Validate => Webhook::Validate,
        WebhookArg::Mutate => Webhook::Mutate,
    };
    let answer = admission::review(&Engine::new(policy), webhook, &body)
        .with_context(|| args.input.display().to_string())?;
    let mut body = answer.body;
    body.push(b'\n');
    let mut out = Stdout::new();
    let written = out.write_all(&body).and_then(|()| out.flush());
    finish(&out, written.map(|()| run::EXIT_OK), "writing stdout")
}

/// Standard output that notes when its reader has gone (`meshgate check | head`): the command
/// then ends quietly with exit 0, as the reader has all it wanted. Rust ignores SIGPIPE, so a
/// write to a closed pipe fails with `BrokenPipe` instead of ending the process.
struct Stdout {
    inner: std::io::StdoutLock<'static>,
    closed: bool,
}

impl Stdout {
    fn new() -> Self {
        Stdout {
            inner: std::io::stdout().lock(),
            closed: false,
        }
    }

    fn note<T>(&mut self, result: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &result
            && e.kind() == std::io::ErrorKind::BrokenPipe
        {
            self.closed = true;
        }
        result
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let result = self.inner.write(buf);
        self.note(result)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let result = self.inner.flush();
        self.note(result)
    }
}

/// The exit code of a command that wrote to `out`: its own, exit 0 if the reader went away,
/// and exit 2 for any other failure to write (a full disk, say).
fn finish(out: &Stdout, run: std::io::Result<u8>, writing: &str) -> anyhow::Result<ExitCode> {
    match run {
        Ok(code) => Ok(ExitCode::from(code)),
        Err(_) if out.closed => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e).context(writing.to_string()),
    }
}

fn check(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let engine = Engine::new(server::load_policy(args.policy.as_ref(), None)?);
    let mut out = Stdout::new();
    let run = run::check(
        &engine,
        &args.paths,
        symlinks(args.follow),
        args.format,
        args.fail_on,
        &mut out,
        &mut std::io::stderr().lock(),
    );
    finish(&out, run, "writing the report")
}

fn symlinks(follow: bool) -> Symlinks {
    if follow {
        Symlinks::Follow
    } else {
        Symlinks::Skip
    }
}

fn fix(args: &FixArgs) -> anyhow::Result<ExitCode> {
    let engine = Engine::new(server::load_policy(args.policy.as_ref(), None)?);
    let output = match (args.in_place, args.diff) {
        (true, _) => FixOutput::InPlace,
        (_, true) => FixOutput::Diff,
        _ => FixOutput::Stdout,
    };
    let mut out = Stdout::new();
    let run = run::fix(
        &engine,
        &args.paths,
        symlinks(args.follow),
        output,
        args.fail_on,
        &mut out,
        &mut std::io::stderr().lock(),
    );
    finish(&out, run, "writing the result")
}

fn write_certs(args: &CertsArgs) -> anyhow::Result<ExitCode> {
    let mut dns_names = certs::service_names(&args.service, &args.namespace);
    dns_names.extend(args.dns.iter().cloned());
    let bundle = certs::generate(&CertRequest {
        common_name: format!("{}.{}.svc", args.service, args.namespace),
        dns_names,
        ips: args.ip.clone(),
        days: args.days,
    })
    .context("generating certificates")?;
    bundle
        .write_to(&args.out_dir)
        .with_context(|| format!("--out-dir {}", args.out_dir.display()))?;
    eprintln!(
        "wrote {dir}/ca.crt, {dir}/tls.crt and {dir}/tls.key (valid {} days); caBundle on stdout",
        args.days,
        dir = args.out_dir.display()
    );
    let mut out = Stdout::new();
    let written = writeln!(out, "{}", bundle.ca_bundle_base64()).and_then(|()| out.flush());
    finish(&out, written.map(|()| run::EXIT_OK), "writing stdout")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8Mi"), Ok(8 * 1024 * 1024));
        assert_eq!(parse_size("512Ki"), Ok(512 * 1024));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
