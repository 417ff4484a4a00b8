//! The flags of each subcommand, and the parsers of durations and byte counts they share.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::lint::exclude::Pattern;
use crate::lint::run::{FailOn, Format};
use crate::policy::Mode;
use crate::telemetry::LogFormat;

/// What `check` and `fix` read, and the policy they judge it by.
#[derive(Debug, Args)]
pub struct ManifestArgs {
    /// Policy file (YAML); the built-in default policy otherwise.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Follow symbolic links found in directories (each directory and file is read once, so
    /// loops end); without it they are skipped with a note on stderr. Links named on the
    /// command line are always followed.
    #[arg(long)]
    pub follow: bool,
    /// Leave out what GLOB matches inside the directories searched (repeatable), as
    /// .gitignore does: without a `/` it matches a file or directory name at any depth
    /// (`*.tpl.yaml`, `charts`); with one it is anchored to the directory named on the command
    /// line (`overlays/dev/*`); `**` matches any number of directories; a trailing `/` matches
    /// directories only. An excluded directory is not searched. Files and directories named on
    /// the command line are always read, as ripgrep reads them. At most 256 patterns of 1024
    /// bytes.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<Pattern>,
    /// Files, directories (searched for *.yaml, *.yml, *.json) or `-` for stdin. YAML anchors
    /// and aliases may copy at most 1,000,000 nodes and 64 MiB of text per file, and
    /// collections nest at most 128 levels deep. A Helm/Go template (`{{ }}` outside strings
    /// and comments) is skipped with a note: render it first. A finding inside YAML anchors or
    /// aliases is reported at its line in the anchor's definition and is not fixable; `fix`
    /// also leaves as it is a document whose anchors and aliases copy more than 10,000 nodes
    /// or 1 MiB.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Flags of `meshgate check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Inputs and policy.
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// The least severity that makes the run fail (exit 1).
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
}

/// Flags of `meshgate fix`.
#[derive(Debug, Args)]
pub struct FixArgs {
    /// Inputs and policy.
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// The least severity that makes the run fail when it remains after fixing (exit 1).
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
    /// Rewrite the files (atomically; through a symbolic link, the file it leads to) instead
    /// of printing them. The remaining findings on stderr then carry the lines of the
    /// rewritten files.
    #[arg(long, conflicts_with = "diff")]
    pub in_place: bool,
    /// Print a unified diff instead of the rewritten files. As with the rewritten files on
    /// stdout, the remaining findings on stderr carry the lines of the files as they are; a
    /// field only the fix wrote gets the line of the field it was converted from.
    #[arg(long)]
    pub diff: bool,
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
    /// The webhook's Service name (a DNS-1123 label).
    #[arg(long, value_parser = dns_label)]
    pub service: String,
    /// The Service's namespace (a DNS-1123 label).
    #[arg(long, value_parser = dns_label)]
    pub namespace: String,
    /// Where to write ca.crt, tls.crt and tls.key.
    #[arg(long, default_value = "certs")]
    pub out_dir: PathBuf,
    /// Replace ca.crt, tls.crt and tls.key when --out-dir already has them (the new CA then
    /// has to go into both webhook configurations' caBundle).
    #[arg(long)]
    pub force: bool,
    /// Validity in days.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
    /// Extra DNS name for the certificate (repeatable; a DNS-1123 subdomain, `*.` allowed first).
    #[arg(long = "dns", value_parser = dns_name)]
    pub dns: Vec<String>,
    /// Extra IP address for the certificate (repeatable).
    #[arg(long = "ip")]
    pub ip: Vec<IpAddr>,
}

/// The format of `meshgate rules`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CatalogFormat {
    /// An aligned table.
    Text,
    /// A JSON array, one object per rule.
    Json,
    /// The Markdown of docs/rules.md.
    Markdown,
}

/// Flags of `meshgate rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format; `markdown` is docs/rules.md.
    #[arg(long, value_enum, default_value = "text")]
    pub format: CatalogFormat,
}

/// Flags of `meshgate explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The rule id, e.g. virtualservice-weights (`meshgate rules` lists them).
    pub rule: String,
}

/// The shells `meshgate completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
}

/// Flags of `meshgate completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// A `--service` or `--namespace` value: a DNS-1123 label, as Kubernetes names them.
fn dns_label(text: &str) -> Result<String, String> {
    crate::certs::check_dns_label(text).map(|()| text.to_string())
}

/// A `--dns` value: a DNS name a certificate can carry.
fn dns_name(text: &str) -> Result<String, String> {
    crate::certs::check_dns_name(text).map(|()| text.to_string())
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
}
