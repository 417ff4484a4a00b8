//! `meshgate check` and `meshgate fix`: the webhook's rules and policy run over manifest files.
//! Findings carry file, line and document; fixes are the webhook's own patches written back
//! into the text by [`crate::manifest::edit`]. No rule is implemented twice: both commands call
//! the same [`Engine`] the server does.

mod anchored;
pub mod exclude;
mod fix;
mod github;
pub mod inputs;
pub mod report;
pub mod run;
pub mod template;

pub use fix::{FileFix, Skipped, fix_text};

use serde_json::Value;

use crate::engine::{Disposition, Engine, Request, Requester};
use crate::manifest::anchors::Anchors;
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
    /// The same path as segments, to find the field in another version of the text.
    pub field: FieldPath,
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

/// A finding the object's `ignore.meshgate.io/<rule-id>` annotation silenced.
#[derive(Debug, Clone, PartialEq)]
pub struct SuppressedFinding {
    /// The finding as it would have been reported.
    pub finding: LintFinding,
    /// The annotation's reason.
    pub reason: String,
}

/// What checking one file found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileCheck {
    /// Findings in document order.
    pub findings: Vec<LintFinding>,
    /// Findings silenced by ignore annotations, in document order.
    pub suppressed: Vec<SuppressedFinding>,
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
        let anchors = document
            .root
            .as_ref()
            .map(|root| Anchors::of(root, document.copied.nodes > 0))
            .unwrap_or_default();
        let first_of_document = result.findings.len();
        let mut refused_line = None;
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
            let unsilenced = assessment.items.into_iter().map(|item| {
                let fixable = item.disposition == Disposition::Fix;
                (item.finding, item.action, fixable, item.note, None)
            });
            let silenced = assessment
                .suppressed
                .into_iter()
                .map(|s| (s.finding, s.action, false, None, Some(s.reason)));
            for (finding, action, fixable, note, reason) in unsilenced.chain(silenced) {
                let path = located.base.join(&finding.path);
                // Through an alias, the line of the field in the anchor's definition: that is
                // where it is written.
                let location = document
                    .root
                    .as_ref()
                    .map(|root| root.locate(path.segments(), &anchors));
                let line = location.map_or(1, |l| l.line);
                let mut fixable = fixable;
                let refusal = fixable
                    .then(|| anchored::refusal(document, &located.base, finding.fix.as_ref()))
                    .flatten();
                if refusal.is_some() {
                    fixable = false;
                    refused_line.get_or_insert(line);
                }
                let shown_path = if located.base.segments().is_empty() {
                    finding.path.to_string()
                } else {
                    format!("{}.{}", located.base, finding.path)
                };
                let mut message = match note {
                    Some(note) => format!("{} ({note})", finding.message),
                    None => finding.message,
                };
                if let Some(note) = anchored::note(refusal, location.and_then(|l| l.alias_line)) {
                    message.push_str(&format!(" ({note})"));
                }
                let found = LintFinding {
                    rule: finding.rule,
                    severity: finding.severity,
                    action,
                    fixable,
                    file: file.to_string(),
                    line,
                    document: index,
                    api_version: text_of("/apiVersion").unwrap_or_default(),
                    kind: text_of("/kind").unwrap_or_default(),
                    namespace: text_of("/metadata/namespace"),
                    name: text_of("/metadata/name"),
                    path: shown_path,
                    field: path,
                    message,
                };
                match reason {
                    Some(reason) => result.suppressed.push(SuppressedFinding {
                        finding: found,
                        reason,
                    }),
                    None => result.findings.push(found),
                }
            }
        }
        if let Some(line) = refused_line {
            anchored::leave_document(&mut result.findings[first_of_document..], line);
        }
    }
    // Within a document the rules report in catalog order; readers want file order.
    result.findings.sort_by_key(|f| (f.document, f.line));
    result
        .suppressed
        .sort_by_key(|s| (s.finding.document, s.finding.line));
    Ok(result)
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
    fn fix_rewrites_only_the_converted_lines_and_keeps_their_comments() {
        let fixed = fix_text(&Engine::default(), "routes.yaml", MANIFESTS).unwrap();
        assert_eq!(fixed.changes, 1);
        assert!(fixed.skipped.is_empty());
        let expected = MANIFESTS.replace(
            "        percent: 10   # ten percent\n",
            "        percentage:\n          value: 10.0   # ten percent\n",
        );
        assert_eq!(fixed.text, expected);
        assert!(fixed.remaining.findings.iter().all(|f| !f.fixable));
    }

    #[test]
    fn unparsable_text_names_line_and_column() {
        let err = check_text(&Engine::default(), "bad.yaml", "a: 1\nb: [\n").unwrap_err();
        assert_eq!(err.file, "bad.yaml");
        assert!(err.line.is_some() && err.column.is_some());
        assert!(err.to_string().starts_with("bad.yaml:"), "{err}");
    }
}
