//! `check --format github`: GitHub Actions workflow commands, which the Actions runner turns
//! into annotations on the pull request's files. One command a line: a finding as `::error`,
//! `::warning` or `::notice` by severity, an unreadable input as `::error` at its position, a
//! skipped file as `::notice`; then the summary line as plain text. Messages and property
//! values are escaped as the runner requires, so no file name or field value can end a command
//! early or start another.

use super::template::SkippedFile;
use super::{InputError, LintFinding};
use crate::rules::Severity;

/// A message (the part after `::`): `%`, carriage returns and newlines escaped.
pub fn escape_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// A property value (`file=...`): as a message, and `:` and `,` too, which end properties.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn command(name: &str, properties: &[(&str, String)], message: &str) -> String {
    let properties: Vec<String> = properties
        .iter()
        .map(|(key, value)| format!("{key}={}", escape_property(value)))
        .collect();
    format!(
        "::{name} {}::{}",
        properties.join(","),
        escape_data(message)
    )
}

fn command_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

/// `::error file=<f>,line=<n>,title=meshgate <rule-id>::<path>: <message>`.
pub fn finding(finding: &LintFinding) -> String {
    command(
        command_name(finding.severity),
        &[
            ("file", finding.file.clone()),
            ("line", finding.line.to_string()),
            ("title", format!("meshgate {}", finding.rule)),
        ],
        &format!("{}: {}", finding.path, finding.message),
    )
}

/// `::error file=<f>,line=<n>,col=<c>::<message>`, without the position when it is unknown.
pub fn input_error(error: &InputError) -> String {
    let mut properties = vec![("file", error.file.clone())];
    if let Some(line) = error.line {
        properties.push(("line", line.to_string()));
    }
    if let Some(column) = error.column {
        properties.push(("col", column.to_string()));
    }
    command("error", &properties, &error.message)
}

/// `::notice file=<f>,line=<n>,title=meshgate skipped::<reason>`.
pub fn skipped(skipped: &SkippedFile) -> String {
    command(
        "notice",
        &[
            ("file", skipped.file.clone()),
            ("line", skipped.line.to_string()),
            ("title", "meshgate skipped".to_string()),
        ],
        &skipped.reason,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_are_escaped() {
        assert_eq!(escape_data("50% a,b:c\r\nd"), "50%25 a,b:c%0D%0Ad");
        assert_eq!(escape_property("50% a,b:c\r\nd"), "50%25 a%2Cb%3Ac%0D%0Ad");
        // `%` first: an escape in the text is not read as one.
        assert_eq!(escape_data("%0A"), "%250A");
        let error = InputError {
            file: "a,b:c.yaml".into(),
            line: Some(3),
            column: Some(7),
            message: "bad\nthing".into(),
        };
        assert_eq!(
            input_error(&error),
            "::error file=a%2Cb%3Ac.yaml,line=3,col=7::bad%0Athing"
        );
        assert_eq!(
            input_error(&InputError::file("x.yaml", "no such file")),
            "::error file=x.yaml::no such file"
        );
    }
}
