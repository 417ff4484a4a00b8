//! `meshgate check` and `meshgate fix`: the webhook's rules and policy run over manifest files.
//! Findings carry file, line and document; fixes are the webhook's own patches written back
//! into the text by [`crate::manifest::edit`]. No rule is implemented twice: both commands call
//! the same [`Engine`] the server does.

pub mod inputs;
pub mod report;
pub mod run;

use serde_json::Value;

use crate::engine::{Disposition, Engine, Request, Requester, Webhook};
use crate::manifest::edit::{self, EditError};
use crate::manifest::yaml::{self, YamlError};
use crate::rules::{Action, FieldPath, ObjectKind, Rule, Severity, Subject};

/// One finding in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct LintFinding {
    /// The rule.
    pub rule: Rule,
    /// How bad.
    pub severity: Severity,
    /// The policy's action for the rule.
    pub action: Action,
    /// Whether `meshgate fix` (and the mutating webhook) fixes it.
    pub fixable: bool,
    /// The file as named on the command line (or found under a directory); `-` for stdin.
    pub file: String,
    /// Line of the offending field, 1-based.
    pub line: usize,
    /// Index of the YAML document in the file, 0-based.
    pub document: usize,
    /// The object's `apiVersion`.
    pub api_version: String,
    /// The object's `kind`.
    pub kind: String,
    /// `metadata.namespace`, if set.
    pub namespace: Option<String>,
    /// `metadata.name`, if set.
    pub name: Option<String>,
    /// The path from the document root (`items[i].` first for List members).
    pub path: String,
    /// What to change.
    pub message: String,
}

/// An input that could not be read or parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    /// The file.
    pub file: String,
    /// Line, 1-based, when known.
    pub line: Option<usize>,
    /// Column, 1-based, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl InputError {
    /// An error about a whole file.
    pub fn file(file: &str, message: impl Into<String>) -> Self {
        InputError {
            file: file.to_string(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    fn yaml(file: &str, error: YamlError) -> Self {
        InputError {
            file: file.to_string(),
            line: Some(error.line),
            column: Some(error.column),
            message: error.message,
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => {
                write!(f, "{}:{line}:{column}: {}", self.file, self.message)
            }
            (Some(line), None) => write!(f, "{}:{line}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// What checking one file found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileCheck {
    /// Findings in document order.
    pub findings: Vec<LintFinding>,
    /// YAML documents read.
    pub documents: usize,
    /// Namespaces and Istio objects checked.
    pub objects: usize,
}

/// An object meshgate checks, found in a document.
struct Located<'a> {
    /// `items/i` for List members, empty otherwise.
    base: FieldPath,
    kind: ObjectKind,
    object: &'a Value,
}

/// The checked objects of a document: the document itself, or the members of a `List`.
fn objects_of(value: &Value) -> Vec<Located<'_>> {
    let is_list = value
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"))
        && value.get("items").is_some_and(Value::is_array);
    let candidates: Vec<(FieldPath, &Value)> = if is_list {
        value["items"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, item)| (FieldPath::fields("items").index(i), item))
            .collect()
    } else {
        vec![(FieldPath::root(), value)]
    };
    candidates
        .into_iter()
        .filter_map(|(base, object)| {
            Some(Located {
                base,
                kind: ObjectKind::of(object)?,
                object,
            })
        })
        .collect()
}

fn subject<'a>(located: &Located<'a>) -> Subject<'a> {
    let api_version = located.object["apiVersion"].as_str().unwrap_or_default();
    Subject {
        requested_version: Some(api_version.rsplit('/').next().unwrap_or(api_version)),
        ..Subject::created(located.kind, located.object)
    }
}

/// Checks the text of one file.
pub fn check_text(engine: &Engine, file: &str, text: &str) -> Result<FileCheck, InputError> {
    let documents = yaml::parse(text).map_err(|e| InputError::yaml(file, e))?;
    let mut result = FileCheck {
        documents: documents.len(),
        ..FileCheck::default()
    };
    for (index, document) in documents.iter().enumerate() {
        for located in objects_of(&document.value) {
            result.objects += 1;
            let request = Request {
                subject: subject(&located),
                requester: Requester::default(),
                stored: None,
            };
            let assessment = engine.assess(&request);
            let text_of = |field: &str| {
                located
                    .object
                    .pointer(field)
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            for item in assessment.items {
                let path = located.base.join(&item.finding.path);
                let line = document
                    .root
                    .as_ref()
                    .map_or(1, |root| root.line_of(path.segments()));
                let shown_path = if located.base.segments().is_empty() {
                    item.finding.path.to_string()
                } else {
                    format!("{}.{}", located.base, item.finding.path)
                };
                result.findings.push(LintFinding {
                    rule: item.finding.rule,
                    severity: item.finding.severity,
                    action: item.action,
                    fixable: item.disposition == Disposition::Fix,
                    file: file.to_string(),
                    line,
                    document: index,
                    api_version: text_of("/apiVersion").unwrap_or_default(),
                    kind: text_of("/kind").unwrap_or_default(),
                    namespace: text_of("/metadata/namespace"),
                    name: text_of("/metadata/name"),
                    path: shown_path,
                    message: match item.note {
                        Some(note) => format!("{} ({note})", item.finding.message),
                        None => item.finding.message,
                    },
                });
            }
        }
    }
    // Within a document the rules report in catalog order; readers want file order.
    result.findings.sort_by_key(|f| (f.document, f.line));
    Ok(result)
}

/// A document `fix` left as it was, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// The file.
    pub file: String,
    /// The document's first line.
    pub line: usize,
    /// Why.
    pub reason: EditError,
}

/// What fixing one file did.
#[derive(Debug, Clone, PartialEq)]
pub struct FileFix {
    /// The rewritten text (the input when nothing changed).
    pub text: String,
    /// Fields converted.
    pub changes: usize,
    /// Documents whose fixes could not be written.
    pub skipped: Vec<Skipped>,
    /// What is left, checked on the rewritten text.
    pub remaining: FileCheck,
}

/// Applies the fixes the mutating webhook would apply to every object of one file.
///
/// Each document is rewritten on its own text, so a change re-reads that document rather than
/// the file: fixing a stream of many documents stays linear in its size, and the aliases of
/// one document cost nothing when another is fixed.
pub fn fix_text(engine: &Engine, file: &str, text: &str) -> Result<FileFix, InputError> {
    let documents = yaml::parse(text).map_err(|e| InputError::yaml(file, e))?;
    let mut rewritten: Vec<Option<String>> = Vec::with_capacity(documents.len());
    let mut changes = 0;
    let mut skipped = Vec::new();
    for document in &documents {
        let skip = |reason| Skipped {
            file: file.to_string(),
            line: document.root.as_ref().map_or(1, |r| r.start.line),
            reason,
        };
        match fix_document(engine, document, &text[document.span.clone()]) {
            Ok(Some((fixed, fields))) => {
                changes += fields;
                rewritten.push(Some(fixed));
            }
            Ok(None) => rewritten.push(None),
            Err(reason) => {
                skipped.push(skip(reason));
                rewritten.push(None);
            }
        }
    }
    let mut current = assemble(text, &documents, &rewritten);
    if current != text && !reads_back(&current, &documents, &rewritten) {
        // Each document read back alone as fixed; together they did not (a directive of one
        // applying to the next, say). Nothing is written.
        for (document, fixed) in documents.iter().zip(&rewritten) {
            if fixed.is_some() {
                skipped.push(Skipped {
                    file: file.to_string(),
                    line: document.root.as_ref().map_or(1, |r| r.start.line),
                    reason: EditError::Mismatch,
                });
            }
        }
        skipped.sort_by_key(|s| s.line);
        current = text.to_string();
        changes = 0;
    }
    let remaining = check_text(engine, file, &current)?;
    Ok(FileFix {
        text: current,
        changes,
        skipped,
        remaining,
    })
}

/// The text of one document with the fixes of its objects, and the fields they convert;
/// `None` when nothing needs fixing. Members of one List share the document: their patches
/// apply one after the other, and a failure leaves the whole document as it was.
fn fix_document(
    engine: &Engine,
    document: &yaml::Document,
    text: &str,
) -> Result<Option<(String, usize)>, EditError> {
    let mut staged: Option<String> = None;
    let mut fields = 0;
    for located in objects_of(&document.value) {
        let request = Request {
            subject: subject(&located),
            requester: Requester::default(),
            stored: None,
        };
        let outcome = engine.review(&request, Webhook::Mutate);
        if outcome.patch.is_empty() {
            continue;
        }
        if document.copied_nodes > edit::MAX_COPIED_NODES_TO_REWRITE {
            return Err(EditError::Expansive(document.copied_nodes));
        }
        let current = staged.as_deref().unwrap_or(text);
        staged = Some(edit::apply(current, 0, &located.base, &outcome.patch)?);
        fields += outcome.warnings.len();
    }
    Ok(staged.map(|text| (text, fields)))
}

/// The file's text with the rewritten documents in place of their originals.
fn assemble(text: &str, documents: &[yaml::Document], rewritten: &[Option<String>]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (document, fixed) in documents.iter().zip(rewritten) {
        if let Some(fixed) = fixed {
            out.push_str(&text[copied..document.span.start]);
            out.push_str(fixed);
            copied = document.span.end;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Whether the assembled text reads as the original documents, the rewritten ones as they
/// read alone.
fn reads_back(text: &str, documents: &[yaml::Document], rewritten: &[Option<String>]) -> bool {
    let Ok(after) = yaml::parse(text) else {
        return false;
    };
    after.len() == documents.len()
        && after
            .iter()
            .zip(documents.iter().zip(rewritten))
            .all(|(read, (original, fixed))| match fixed {
                None => read.value == original.value,
                Some(fixed) => yaml::parse(fixed)
                    .ok()
                    .and_then(|alone| alone.into_iter().next())
                    .is_some_and(|alone| alone.value == read.value),
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFESTS: &str = "\
# routes for ratings
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: ratings
  namespace: bookinfo
spec:
  hosts:
  - ratings
  http:
  - route:
    - destination:
        host: ratings
    fault:
      abort:
        httpStatus: 503
        percent: 10   # ten percent
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: shop
    labels:
      istio-injection: enabled
      istio.io/rev: asm-managed
";

    #[test]
    fn findings_carry_file_line_document_and_list_paths() {
        let check = check_text(&Engine::default(), "routes.yaml", MANIFESTS).unwrap();
        assert_eq!((check.documents, check.objects), (3, 2));
        let rows: Vec<(String, usize, usize, String, bool)> = check
            .findings
            .iter()
            .map(|f| {
                (
                    f.rule.id().to_string(),
                    f.line,
                    f.document,
                    f.path.clone(),
                    f.fixable,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "virtualservice-api-version".to_string(),
                    2,
                    0,
                    "apiVersion".to_string(),
                    false
                ),
                (
                    "virtualservice-legacy-fields".to_string(),
                    17,
                    0,
                    "spec.http[0].fault.abort.percent".to_string(),
                    true
                ),
                (
                    "namespace-injection-conflict".to_string(),
                    32,
                    2,
                    "items[0].metadata.labels[istio-injection]".to_string(),
                    false
                ),
            ]
        );
    }

    #[test]
    fn fix_rewrites_only_the_converted_lines() {
        let fixed = fix_text(&Engine::default(), "routes.yaml", MANIFESTS).unwrap();
        assert_eq!(fixed.changes, 1);
        assert!(fixed.skipped.is_empty());
        let expected = MANIFESTS.replace(
            "        percent: 10   # ten percent\n",
            "        percentage:\n          value: 10.0\n",
        );
        assert_eq!(fixed.text, expected);
        assert!(fixed.remaining.findings.iter().all(|f| !f.fixable));
    }

    /// A VirtualService with a legacy `percent` in its last line, `extra` lines in its spec.
    fn legacy_route(name: &str, extra: &str) -> String {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: {name}\n\
             spec:\n{extra}  hosts: [{name}]\n  http:\n  - route:\n    - destination:\n        \
             host: {name}\n    fault:\n      abort:\n        httpStatus: 503\n        percent: 10"
        )
    }

    #[test]
    fn fix_rewrites_each_document_alone_and_keeps_what_lies_between() {
        let text = format!(
            "# head\n{}\n...\n# between\n---\n{} # last\n# trailing\n",
            legacy_route("a", ""),
            legacy_route("b", "")
        );
        let fixed = fix_text(&Engine::default(), "routes.yaml", &text).unwrap();
        assert_eq!((fixed.changes, fixed.skipped.len()), (2, 0));
        let converted = "        percentage:\n          value: 10.0";
        let expected = format!(
            "# head\n{}\n...\n# between\n---\n{}\n# trailing\n",
            legacy_route("a", "").replace("        percent: 10", converted),
            legacy_route("b", "").replace("        percent: 10", converted)
        );
        assert_eq!(fixed.text, expected);
    }

    #[test]
    fn documents_whose_aliases_copy_much_are_checked_but_not_rewritten() {
        // 2 x 5,001 nodes copied: over what a rewrite may copy, far under what reading may.
        let anchored = format!(
            "  x-shared: &shared [{}]\n  x-again: *shared\n",
            vec!["1"; 5_000].join(",")
        );
        let text = format!(
            "{}\n---\n{}\n",
            legacy_route("big", &anchored),
            legacy_route("small", "")
        );
        let fixed = fix_text(&Engine::default(), "routes.yaml", &text).unwrap();
        assert_eq!(fixed.changes, 1, "the other document is still fixed");
        assert_eq!(fixed.skipped.len(), 1);
        assert_eq!(
            (fixed.skipped[0].file.as_str(), fixed.skipped[0].line),
            ("routes.yaml", 1)
        );
        assert_eq!(
            fixed.skipped[0].reason.to_string(),
            "its YAML anchors and aliases copy 10002 nodes, and fix rewrites documents that \
             copy at most 10000; fix it by hand"
        );
        assert!(fixed.text.starts_with(&legacy_route("big", &anchored)));
        assert!(
            fixed
                .text
                .ends_with("        percentage:\n          value: 10.0\n")
        );
    }

    #[test]
    fn unparsable_text_names_line_and_column() {
        let err = check_text(&Engine::default(), "bad.yaml", "a: 1\nb: [\n").unwrap_err();
        assert_eq!(err.file, "bad.yaml");
        assert!(err.line.is_some() && err.column.is_some());
        assert!(err.to_string().starts_with("bad.yaml:"), "{err}");
    }
}
