//! Logging: text or JSON lines on stderr, level from `RUST_LOG` (default `info`). Objects are
//! never logged, only their identity: they can carry secrets in annotations.

use std::io::IsTerminal;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::prelude::*;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log pipelines.
    Json,
}

/// Installs the global subscriber. `default_level` applies when `RUST_LOG` is unset or invalid.
pub fn init(format: LogFormat, default_level: LevelFilter) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|spec| spec.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(default_level));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_target(false),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr)
                    .with_span_events(FmtSpan::NONE)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_target(false),
            )
            .try_init(),
    };
    // A second call (tests) keeps the first subscriber.
    let _ = result;
}

/// The most characters of one client-supplied string that a log line carries.
pub const MAX_LOGGED_CHARS: usize = 200;

/// A client-supplied string made safe for a log line, in text and JSON formats alike: control
/// characters (newlines, escapes, terminal sequences) are written as `\n`, `\u{1b}`..., and
/// past [`MAX_LOGGED_CHARS`] it is cut, saying how long it was — so no request can forge a log
/// line or flood the log.
pub fn untrusted(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_LOGGED_CHARS + 32));
    for (count, c) in text.chars().enumerate() {
        if count == MAX_LOGGED_CHARS {
            out.push_str(&format!("... ({} bytes in all)", text.len()));
            return out;
        }
        if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// An error with its causes, `outer: inner: innermost`, for the places that show one as text
/// (a plain-text answer, a log line) rather than through `anyhow`'s `{:#}`.
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_strings_cannot_forge_lines_or_flood() {
        assert_eq!(
            untrusted("Namespace\n2026-01-01T00:00:00Z INFO forged"),
            "Namespace\\n2026-01-01T00:00:00Z INFO forged"
        );
        assert_eq!(untrusted("a\u{1b}[31mred\r\t"), "a\\u{1b}[31mred\\r\\t");
        assert_eq!(untrusted("shop/ratings"), "shop/ratings");
        let long = "é".repeat(1000);
        let cut = untrusted(&long);
        assert!(cut.starts_with(&"é".repeat(MAX_LOGGED_CHARS)));
        assert!(cut.ends_with("... (2000 bytes in all)"), "{cut}");
        assert_eq!(cut.chars().count(), MAX_LOGGED_CHARS + 23);
    }

    #[test]
    fn causes_follow_the_error() {
        let inner = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        let outer = crate::admission::BadReview::NotJson(inner);
        assert_eq!(
            with_causes(&outer),
            "request body is not JSON: EOF while parsing an object at line 1 column 1"
        );
    }
}
