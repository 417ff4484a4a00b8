//! Findings in regions that use YAML anchors and aliases. `fix` rewrites no such region (a
//! change there would change every place an alias copies it to), and leaves the whole document
//! as it is, so `check` counts none of that document's findings as fixable and says why.

use super::LintFinding;
use crate::manifest::edit;
use crate::manifest::yaml::{Document, Node};
use crate::rules::{FieldPath, Fix};

/// Why `fix` leaves a fixable finding alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Its fix writes into a region that uses anchors or aliases.
    Anchored,
    /// The document's anchors and aliases copy more than `fix` re-reads.
    Expansive,
}

/// Why `fix` would not write `fix` (its paths relative to `base`) into `document`, if it would
/// not.
pub(super) fn refusal(document: &Document, base: &FieldPath, fix: Option<&Fix>) -> Option<Refusal> {
    if document.copied.nodes == 0 {
        return None;
    }
    if edit::too_expansive(document.copied) {
        return Some(Refusal::Expansive);
    }
    let root: &Node = document.root.as_ref()?;
    fix?.ops
        .iter()
        .any(|op| edit::touches_anchors(root, base, op))
        .then_some(Refusal::Anchored)
}

/// The note a finding's message ends with: why it is not fixed, and the alias through which
/// the object reaches its field (its line is in the anchor's definition).
pub(super) fn note(refusal: Option<Refusal>, alias_line: Option<usize>) -> Option<String> {
    let through = alias_line.map(|line| format!("reached through the alias at line {line}"));
    match (refusal, through) {
        (None, None) => None,
        (None, Some(_)) => {
            alias_line.map(|line| format!("reached through the YAML alias at line {line}"))
        }
        (Some(Refusal::Anchored), Some(through)) => Some(format!(
            "not fixed: inside YAML anchors/aliases, {through}; write it out"
        )),
        (Some(Refusal::Anchored), None) => {
            Some("not fixed: inside YAML anchors/aliases; write it out".into())
        }
        (Some(Refusal::Expansive), through) => Some(format!(
            "not fixed: the YAML anchors and aliases of this document copy more than fix \
             rewrites{}; write them out",
            through.map(|t| format!(", {t}")).unwrap_or_default()
        )),
    }
}

/// Marks the fixable findings of one document not fixable when another of its fixes is
/// refused: `fix` then leaves the whole document as it is. `findings` are the document's,
/// `refused_line` the line of the first refused one.
pub(super) fn leave_document(findings: &mut [LintFinding], refused_line: usize) {
    for finding in findings.iter_mut().filter(|f| f.fixable) {
        finding.fixable = false;
        finding.message.push_str(&format!(
            " (not fixed: the fix at line {refused_line} of this document is inside YAML \
             anchors/aliases, so fix leaves the document as it is)"
        ));
    }
}
