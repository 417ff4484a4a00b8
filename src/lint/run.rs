//! The whole of a `check` or `fix` run: inputs in, reports out, and the exit code the
//! README gives (2 when an input could not be read or parsed — the others are still checked —
//! else 1 when a finding at or above `--fail-on` remains, else 0).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use super::inputs::{self, Collected, Input, Selection, Source};
use super::report::{self, Report, Summary};
use super::template::SkippedFile;
use super::{InputError, LintFinding, check_text, fix_text, github};
use crate::engine::Engine;
use crate::rules::Severity;

/// Exit code: nothing at or above the threshold.
pub const EXIT_OK: u8 = 0;
/// Exit code: findings at or above the threshold remain.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: an input could not be read or parsed.
pub const EXIT_INPUT: u8 = 2;

/// `--format` of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per finding, then a summary.
    Text,
    /// JSON: findings, suppressed, errors, skipped and summary (see the README).
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=...,line=...::...`), which the runner
    /// shows as annotations on the pull request; then the summary line.
    Github,
}

/// `--fail-on`: the least severity that fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Errors fail.
    Error,
    /// Warnings and errors fail.
    Warning,
    /// Every finding fails.
    Info,
    /// Nothing fails.
    None,
}

impl FailOn {
    fn fails(self, severity: Severity) -> bool {
        match self {
            FailOn::Error => severity >= Severity::Error,
            FailOn::Warning => severity >= Severity::Warning,
            FailOn::Info => true,
            FailOn::None => false,
        }
    }
}

/// Where `fix` puts its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixOutput {
    /// The rewritten files on stdout.
    Stdout,
    /// The files rewritten in place.
    InPlace,
    /// A unified diff on stdout.
    Diff,
}

/// A `progress` line on stderr for long runs, when stderr is a terminal.
struct Progress {
    enabled: bool,
    started: Instant,
    shown: bool,
}

impl Progress {
    fn new() -> Self {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            started: Instant::now(),
            shown: false,
        }
    }

    fn update(&mut self, done: usize, total: usize) {
        if self.enabled
            && self.started.elapsed() > Duration::from_secs(1)
            && (done.is_multiple_of(50) || done == total)
        {
            eprint!("\rmeshgate: {done}/{total} files");
            self.shown = true;
        }
    }

    fn finish(&self) {
        if self.shown {
            eprint!("\r\x1b[K");
        }
    }
}

fn exit_code(findings: &[LintFinding], errors: &[InputError], fail_on: FailOn) -> u8 {
    if !errors.is_empty() {
        EXIT_INPUT
    } else if findings.iter().any(|f| fail_on.fails(f.severity)) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

/// The inputs selected, with a line on `err` for each one left out on purpose.
fn collect(
    selection: &Selection<'_>,
    err: &mut dyn Write,
) -> std::io::Result<(Vec<Input>, Vec<InputError>)> {
    let Collected {
        inputs,
        errors,
        notes,
    } = inputs::collect(selection.paths, selection.symlinks, selection.exclude);
    for note in &notes {
        writeln!(err, "{note}")?;
    }
    Ok((inputs, errors))
}

/// Runs `check` and writes its report to `out`; input errors also go to `err`. Templates are
/// skipped with a note in the report; they do not change the exit code.
pub fn check(
    engine: &Engine,
    selection: &Selection<'_>,
    format: Format,
    fail_on: FailOn,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<u8> {
    let (inputs, mut errors) = collect(selection, err)?;
    let mut findings = Vec::new();
    let mut suppressed = Vec::new();
    let mut skipped = Vec::new();
    let mut summary = Summary {
        files: inputs.len(),
        ..Summary::default()
    };
    let mut progress = Progress::new();
    for (done, input) in inputs.iter().enumerate() {
        let checked =
            inputs::read(input).and_then(|text| match SkippedFile::template(&input.name, &text) {
                Some(template) => Ok(Err(template)),
                None => check_text(engine, &input.name, &text).map(Ok),
            });
        match checked {
            Ok(Ok(result)) => {
                summary.documents += result.documents;
                summary.objects += result.objects;
                findings.extend(result.findings);
                suppressed.extend(result.suppressed);
            }
            Ok(Err(template)) => skipped.push(template),
            Err(e) => errors.push(e),
        }
        progress.update(done + 1, inputs.len());
    }
    progress.finish();
    summary.count(&findings);
    summary.suppressed = suppressed.len();
    summary.skipped = skipped.len();
    for error in &errors {
        writeln!(err, "{error}")?;
    }
    let everything = Report {
        findings: &findings,
        suppressed: &suppressed,
        errors: &errors,
        skipped: &skipped,
        summary: &summary,
    };
    match format {
        Format::Text => {
            for finding in &findings {
                writeln!(out, "{}", report::text_line(finding))?;
            }
            for skip in &skipped {
                writeln!(out, "{skip}")?;
            }
            writeln!(out, "{}", report::text_summary(&summary, errors.len()))?;
        }
        Format::Json => writeln!(out, "{}", report::json(&everything))?,
        Format::Sarif => writeln!(out, "{}", report::sarif(&everything))?,
        Format::Github => {
            for finding in &findings {
                writeln!(out, "{}", github::finding(finding))?;
            }
            for error in &errors {
                writeln!(out, "{}", github::input_error(error))?;
            }
            for skip in &skipped {
                writeln!(out, "{}", github::skipped(skip))?;
            }
            writeln!(out, "{}", report::text_summary(&summary, errors.len()))?;
        }
    }
    out.flush()?;
    Ok(exit_code(&findings, &errors, fail_on))
}

/// Runs `fix`: rewritten files (or a diff) to `out`, what remains and what was skipped to `err`.
/// Lines on `err` are those of the files as they are afterwards: the input's for `--diff` and
/// stdout (the files are unchanged), the rewritten text's for `--in-place`. Templates are left
/// as they are, with a note.
pub fn fix(
    engine: &Engine,
    selection: &Selection<'_>,
    output: FixOutput,
    fail_on: FailOn,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<u8> {
    let (inputs, mut errors) = collect(selection, err)?;
    let input_lines = output != FixOutput::InPlace;
    let mut remaining = Vec::new();
    let mut summary = Summary {
        files: inputs.len(),
        ..Summary::default()
    };
    let mut changes = 0;
    let mut changed_files = 0;
    let mut printed = 0;
    let mut progress = Progress::new();
    for (done, input) in inputs.iter().enumerate() {
        progress.update(done + 1, inputs.len());
        let original = match inputs::read(input) {
            Ok(text) => text,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if let Some(template) = SkippedFile::template(&input.name, &original) {
            writeln!(err, "{template}")?;
            summary.skipped += 1;
            if output == FixOutput::Stdout {
                // The stream of files stays whole: the template goes through as it is.
                print_file(out, &mut printed, &original)?;
            }
            continue;
        }
        let fixed = match fix_text(engine, &input.name, &original) {
            Ok(fixed) => fixed,
            Err(e) => {
                // Nothing is written for a file that does not parse.
                errors.push(e);
                continue;
            }
        };
        for skipped in &fixed.skipped {
            let line = if input_lines {
                skipped.line
            } else {
                skipped.output_line
            };
            writeln!(
                err,
                "{}:{line}: not fixed: {}",
                skipped.file, skipped.reason
            )?;
        }
        changes += fixed.changes;
        summary.documents += fixed.remaining.documents;
        summary.objects += fixed.remaining.objects;
        let changed = fixed.text != original;
        changed_files += usize::from(changed);
        match output {
            FixOutput::Stdout => print_file(out, &mut printed, &fixed.text)?,
            FixOutput::Diff if changed => write_diff(out, input, &original, &fixed.text)?,
            FixOutput::InPlace if changed => match &input.source {
                Source::File(path) => {
                    if let Err(e) = inputs::write_atomically(path, &fixed.text) {
                        errors.push(InputError::file(&input.name, format!("cannot write: {e}")));
                    }
                }
                Source::Stdin => write!(out, "{}", fixed.text)?,
            },
            _ => {}
        }
        summary.suppressed += fixed.remaining.suppressed.len();
        remaining.extend(fixed.remaining_findings(input_lines));
    }
    progress.finish();
    summary.count(&remaining);
    for error in &errors {
        writeln!(err, "{error}")?;
    }
    for finding in &remaining {
        writeln!(err, "{}", report::text_line(finding))?;
    }
    writeln!(
        err,
        "fixed {changes} field{} in {changed_files} file{}; remaining: {}",
        if changes == 1 { "" } else { "s" },
        if changed_files == 1 { "" } else { "s" },
        report::text_summary(&summary, errors.len())
    )?;
    out.flush()?;
    Ok(exit_code(&remaining, &errors, fail_on))
}

/// One file of the stream `fix` prints, `---` between files.
fn print_file(out: &mut dyn Write, printed: &mut usize, text: &str) -> std::io::Result<()> {
    if *printed > 0 {
        writeln!(out, "---")?;
    }
    write!(out, "{text}")?;
    if !text.is_empty() && !text.ends_with('\n') {
        writeln!(out)?;
    }
    *printed += 1;
    Ok(())
}

fn write_diff(
    out: &mut dyn Write,
    input: &Input,
    before: &str,
    after: &str,
) -> std::io::Result<()> {
    let diff = similar::TextDiff::from_lines(before, after);
    write!(
        out,
        "{}",
        diff.unified_diff()
            .context_radius(3)
            .header(&format!("a/{}", input.name), &format!("b/{}", input.name))
    )
}
