//! The reports of `check`: text lines, the JSON document the README describes and SARIF 2.1.0 for
//! code-scanning UIs.

use serde::Serialize;
use serde_json::{Value, json};

use super::template::SkippedFile;
use super::{InputError, LintFinding, SuppressedFinding};
use crate::catalog_docs;
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
    /// Findings silenced by `ignore.meshgate.io` annotations (in none of the counts above).
    pub suppressed: usize,
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
    if summary.suppressed > 0 {
        line.push_str(&format!(
            "; {} suppressed by ignore.meshgate.io annotations",
            plural(summary.suppressed, "finding")
        ));
    }
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

impl<'a> JsonFinding<'a> {
    fn of(f: &'a LintFinding) -> Self {
        JsonFinding {
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
        }
    }
}

#[derive(Serialize)]
struct JsonSuppressed<'a> {
    #[serde(flatten)]
    finding: JsonFinding<'a>,
    reason: &'a str,
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
    suppressed: Vec<JsonSuppressed<'a>>,
    errors: Vec<JsonError<'a>>,
    skipped: Vec<JsonSkipped<'a>>,
    summary: Summary,
}

/// Everything a `check` run reports, for the structured formats.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    /// Findings, in file order.
    pub findings: &'a [LintFinding],
    /// Findings silenced by ignore annotations.
    pub suppressed: &'a [SuppressedFinding],
    /// Inputs that could not be read or parsed.
    pub errors: &'a [InputError],
    /// Files left out (templates).
    pub skipped: &'a [SkippedFile],
    /// The totals.
    pub summary: &'a Summary,
}

/// The `--format json` document.
pub fn json(report: &Report<'_>) -> String {
    let document = JsonReport {
        findings: report.findings.iter().map(JsonFinding::of).collect(),
        suppressed: report
            .suppressed
            .iter()
            .map(|s| JsonSuppressed {
                finding: JsonFinding::of(&s.finding),
                reason: &s.reason,
            })
            .collect(),
        errors: report
            .errors
            .iter()
            .map(|e| JsonError {
                file: &e.file,
                line: e.line,
                column: e.column,
                message: &e.message,
            })
            .collect(),
        skipped: report
            .skipped
            .iter()
            .map(|s| JsonSkipped {
                file: &s.file,
                line: s.line,
                reason: &s.reason,
            })
            .collect(),
        summary: *report.summary,
    };
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The `--format sarif` document (SARIF 2.1.0): one rule per rule id of the catalog, one
/// result per finding with its file and line — a silenced one with an `inSource` suppression
/// carrying the annotation's reason, which code-scanning UIs show as dismissed — unreadable
/// inputs as tool notifications (errors) and skipped files as notes.
pub fn sarif(report: &Report<'_>) -> String {
    let rules: Vec<Value> = Rule::ALL
        .iter()
        .map(|rule| {
            let fixing = match catalog_docs::fixing_clause(*rule) {
                "" => String::new(),
                clause => format!("; {clause}"),
            };
            json!({
                "id": rule.id(),
                "name": rule.id(),
                "shortDescription": {"text": rule.summary()},
                "helpUri": catalog_docs::help_uri(*rule),
                "help": {"text": format!("{} Default action: {}{fixing}.", rule.summary(), rule.default_action().as_str())},
            })
        })
        .collect();
    let result = |f: &LintFinding| {
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
    };
    let silenced = report.suppressed.iter().map(|s| {
        let mut silenced = result(&s.finding);
        silenced["suppressions"] = json!([{
            "kind": "inSource",
            "justification": s.reason,
        }]);
        silenced
    });
    let results: Vec<Value> = report.findings.iter().map(result).chain(silenced).collect();
    let mut notifications: Vec<Value> = report
        .errors
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
    notifications.extend(report.skipped.iter().map(|s| {
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
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&document).unwrap_or_default()
}
