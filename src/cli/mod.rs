//! The command line: `serve`, `review`, `check`, `fix`, `certs`, `rules`, `explain` and
//! `completions`, each a thin shell around the library. Exit codes: 0 success, 1 findings at or
//! above the threshold, 2 usage, I/O or parse errors.

mod args;

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use tracing_subscriber::filter::LevelFilter;

pub use args::*;

use crate::admission;
use crate::catalog_docs;
use crate::certs::{self, CertRequest, Existing};
use crate::engine::{Engine, Webhook};
use crate::lint::exclude::Exclude;
use crate::lint::inputs::{Selection, Symlinks};
use crate::lint::run::{self, FixOutput};
use crate::rules::Rule;
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
    ///
    /// Each finding names its rule; `meshgate explain RULE` and docs/rules.md say what it
    /// checks, why it matters and how to fix or silence it.
    Check(CheckArgs),
    /// Apply every fix the mutating webhook would apply to manifest files.
    ///
    /// `meshgate rules` shows which rules `fix` repairs (fixable `webhook, fix`); docs/rules.md
    /// describes each fix.
    Fix(FixArgs),
    /// Write a CA and a serving certificate for the webhook Service; print the caBundle.
    ///
    /// Existing ca.crt, tls.crt or tls.key in --out-dir are kept unless --force is given.
    Certs(CertsArgs),
    /// List every rule: kinds, severity, default action, fixability and what it checks.
    ///
    /// `--format markdown` prints docs/rules.md, which also holds each rule's explanation.
    Rules(RulesArgs),
    /// Explain one rule: what it checks, why it matters, an example, how to silence it.
    ///
    /// Also how it is fixed and the Istio analyzer message it matches: the rule's section of
    /// docs/rules.md.
    Explain(ExplainArgs),
    /// Print a shell completion script for bash, zsh or fish.
    ///
    /// For example `meshgate completions bash > /etc/bash_completion.d/meshgate`, or
    /// `meshgate completions fish > ~/.config/fish/completions/meshgate.fish`.
    Completions(CompletionsArgs),
}

/// Runs a parsed command line; the exit codes are the README's.
pub fn run(cli: Cli) -> ExitCode {
    // `serve` sets up its own logging from its flags; the one-shot commands log only warnings.
    if !matches!(cli.command, Command::Serve(_)) {
        telemetry::init(LogFormat::Text, LevelFilter::WARN);
    }
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Review(args) => review(&args),
        Command::Check(args) => check(&args),
        Command::Fix(args) => fix(&args),
        Command::Certs(args) => write_certs(&args),
        Command::Rules(args) => print(&match args.format {
            CatalogFormat::Text => catalog_docs::rules_table(),
            CatalogFormat::Json => catalog_docs::rules_json(),
            CatalogFormat::Markdown => catalog_docs::rules_markdown(),
        }),
        Command::Explain(args) => explain(&args),
        Command::Completions(args) => completions(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("meshgate: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Where the serving certificate comes from, per the README: both flags, or neither and
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
    let policy = crate::policy::load(args.policy.as_deref(), args.mode)?;
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

/// Runs `command` on what `args` selects, with the engine of its policy.
fn with_manifests(
    args: &ManifestArgs,
    command: impl FnOnce(&Engine, &Selection<'_>) -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    let engine = Engine::new(crate::policy::load(args.policy.as_deref(), None)?);
    let exclude = Exclude::new(args.exclude.clone()).map_err(anyhow::Error::msg)?;
    let selection = Selection {
        paths: &args.paths,
        symlinks: if args.follow {
            Symlinks::Follow
        } else {
            Symlinks::Skip
        },
        exclude: &exclude,
    };
    command(&engine, &selection)
}

fn check(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    with_manifests(&args.manifests, |engine, selection| {
        let mut out = Stdout::new();
        let run = run::check(
            engine,
            selection,
            args.format,
            args.fail_on,
            &mut out,
            &mut std::io::stderr().lock(),
        );
        finish(&out, run, "writing the report")
    })
}

fn fix(args: &FixArgs) -> anyhow::Result<ExitCode> {
    let output = match (args.in_place, args.diff) {
        (true, _) => FixOutput::InPlace,
        (_, true) => FixOutput::Diff,
        _ => FixOutput::Stdout,
    };
    with_manifests(&args.manifests, |engine, selection| {
        let mut out = Stdout::new();
        let run = run::fix(
            engine,
            selection,
            output,
            args.fail_on,
            &mut out,
            &mut std::io::stderr().lock(),
        );
        finish(&out, run, "writing the result")
    })
}

fn write_certs(args: &CertsArgs) -> anyhow::Result<ExitCode> {
    let existing = certs::existing_files(&args.out_dir);
    if !existing.is_empty() && !args.force {
        let dir = args.out_dir.display();
        let files: Vec<String> = existing.iter().map(|f| format!("{dir}/{f}")).collect();
        bail!(
            "{} already there: pass --force to replace {} (with a new CA, which both webhook \
             configurations then need as caBundle)",
            files.join(", "),
            if files.len() == 1 { "it" } else { "them" }
        );
    }
    let mut dns_names = certs::service_names(&args.service, &args.namespace);
    dns_names.extend(args.dns.iter().cloned());
    let bundle = certs::generate(&CertRequest {
        common_name: format!("{}.{}.svc", args.service, args.namespace),
        dns_names,
        ips: args.ip.clone(),
        days: args.days,
    })
    .context("generating certificates")?;
    let existing = if args.force {
        Existing::Replace
    } else {
        Existing::Keep
    };
    bundle
        .write_to(&args.out_dir, existing)
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

/// Writes a text to stdout: exit 0, also when the reader went away.
fn print(text: &str) -> anyhow::Result<ExitCode> {
    let mut out = Stdout::new();
    let written = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    finish(&out, written.map(|()| run::EXIT_OK), "writing stdout")
}

/// The longest part of an unknown rule id an error message repeats.
const SHOWN_ID_CHARS: usize = 100;

fn explain(args: &ExplainArgs) -> anyhow::Result<ExitCode> {
    match args.rule.parse::<Rule>() {
        Ok(rule) => print(&catalog_docs::explain_text(rule)),
        Err(_) => {
            let shown: String = args.rule.chars().take(SHOWN_ID_CHARS).collect();
            let hint = match Rule::closest(&args.rule) {
                Some(rule) => format!(": did you mean `{rule}`?"),
                None => String::new(),
            };
            bail!(
                "unknown rule `{}`{hint} (`meshgate rules` lists them)",
                shown.escape_debug()
            )
        }
    }
}

fn completions(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    use clap::CommandFactory;
    let shell = match args.shell {
        CompletionShell::Bash => clap_complete::Shell::Bash,
        CompletionShell::Zsh => clap_complete::Shell::Zsh,
        CompletionShell::Fish => clap_complete::Shell::Fish,
    };
    // Into memory first: the generator panics when a write fails, and a closed pipe is an
    // answer here, not a crash.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "meshgate", &mut script);
    print(&String::from_utf8_lossy(&script))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
