//! The reports of `check`: text lines, the JSON document of INTERFACE.md and SARIF 2.1.0 for
//! code-scanning UIs.

use serde::Serialize;
use serde_json::{Value, json};

use super::template::SkippedFile;
use super::{InputError, LintFinding};
use crate::rules::{Rule, Severity};

/// Totals over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Input files.
    pub files: usize,
    /// YAML documents read.
    pub documents: usize,
    /// Namespaces and Istio objects checked.
    pub objects: usize,
    /// Findings of severity error.
    pub errors: usize,
    /// Findings of severity warning.
    pub warnings: usize,
    /// Findings of severity info.
    pub infos: usize,
    /// Findings `meshgate fix` fixes.
    pub fixable: usize,
    /// Files left out (templates), each with a note.
    pub skipped: usize,
}

impl Summary {
    /// Counts the findings into the summary.
    pub fn count(&mut self, findings: &[LintFinding]) {
        for finding in findings {
            match finding.severity {
                Severity::Error => self.errors += 1,
                Severity::Warning => self.warnings += 1,
                Severity::Info => self.infos += 1,
            }
            self.fixable += usize::from(finding.fixable);
        }
    }
}

/// `file:line: severity rule-id: path: message`.
pub fn text_line(finding: &LintFinding) -> String {
    format!(
        "{}:{}: {} {}: {}: {}",
        finding.file,
        finding.line,
        finding.severity.as_str(),
        finding.rule,
        finding.path,
        finding.message
    )
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// The closing line of the text report.
pub fn text_summary(summary: &Summary, input_errors: usize) -> String {
    let mut line = format!(
        "{}, {}, {} ({} fixable) in {}, {}, {}",
        plural(summary.errors, "error"),
        plural(summary.warnings, "warning"),
        plural(summary.infos, "info"),
        summary.fixable,
        plural(summary.files, "file"),
        plural(summary.documents, "document"),
        plural(summary.objects, "object"),
    );
    if input_errors > 0 {
        line.push_str(&format!(
            "; {} could not be read",
            plural(input_errors, "input")
        ));
    }
    if summary.skipped > 0 {
        line.push_str(&format!("; {} skipped", plural(summary.skipped, "file")));
    }
    line
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonFinding<'a> {
    rule: &'static str,
    severity: &'static str,
    action: &'static str,
    fixable: bool,
    file: &'a str,
    line: usize,
    document: usize,
    api_version: &'a str,
    kind: &'a str,
    namespace: Option<&'a str>,
    name: Option<&'a str>,
    path: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonError<'a> {
    file: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonSkipped<'a> {
    file: &'a str,
    line: usize,
    reason: &'a str,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    findings: Vec<JsonFinding<'a>>,
    errors: Vec<JsonError<'a>>,
    skipped: Vec<JsonSkipped<'a>>,
    summary: Summary,
}

/// The `--format json` document.
pub fn json(
    findings: &[LintFinding],
    errors: &[InputError],
    skipped: &[SkippedFile],
    summary: &Summary,
) -> String {
    let report = JsonReport {
        findings: findings
            .iter()
            .map(|f| JsonFinding {
                rule: f.rule.id(),
                severity: f.severity.as_str(),
                action: f.action.as_str(),
                fixable: f.fixable,
                file: &f.file,
                line: f.line,
                document: f.document,
                api_version: &f.api_version,
                kind: &f.kind,
                namespace: f.namespace.as_deref(),
                name: f.name.as_deref(),
                path: &f.path,
                message: &f.message,
            })
            .collect(),
        errors: errors
            .iter()
            .map(|e| JsonError {
                file: &e.file,
                line: e.line,
                column: e.column,
                message: &e.message,
            })
            .collect(),
        skipped: skipped
            .iter()
            .map(|s| JsonSkipped {
                file: &s.file,
                line: s.line,
                reason: &s.reason,
            })
            .collect(),
        summary: *summary,
    };
    serde_json::to_string_pretty(&report).unwrap_or_default()
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The `--format sarif` document (SARIF 2.1.0): one rule per rule id of the catalog, one
/// result per finding with its file and line, unreadable inputs as tool notifications (errors)
/// and skipped files as notes.
pub fn sarif(findings: &[LintFinding], errors: &[InputError], skipped: &[SkippedFile]) -> String {
    let rules: Vec<Value> = Rule::ALL
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id(),
                "name": rule.id(),
                "shortDescription": {"text": rule.summary()},
                "help": {"text": format!("{} Default action: {}{}.", rule.summary(), rule.default_action().as_str(),
                                          if rule.fixable() { "; fixable with meshgate fix" } else { "" })},
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.rule.id(),
                "ruleIndex": Rule::ALL.iter().position(|r| *r == f.rule).unwrap_or_default(),
                "level": sarif_level(f.severity),
                "message": {"text": format!("{}: {}", f.path, f.message)},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": f.file},
                    "region": {"startLine": f.line},
                }}],
            })
        })
        .collect();
    let mut notifications: Vec<Value> = errors
        .iter()
        .map(|e| {
            let mut notification = json!({"level": "error", "message": {"text": e.message}});
            let mut location = json!({"physicalLocation": {"artifactLocation": {"uri": e.file}}});
            if let Some(line) = e.line {
                location["physicalLocation"]["region"] =
                    json!({"startLine": line, "startColumn": e.column.unwrap_or(1)});
            }
            notification["locations"] = json!([location]);
            notification
        })
        .collect();
    notifications.extend(skipped.iter().map(|s| {
        json!({
            "level": "note",
            "message": {"text": format!("skipped: {}", s.reason)},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": s.file},
                "region": {"startLine": s.line},
            }}],
        })
    }));
    let document = json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "name": "meshgate",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&document).unwrap_or_default()
}
