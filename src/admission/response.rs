//! Encodes an engine outcome as the AdmissionReview response the API server accepts: denial
//! status and causes, warnings within the API server's limits, base64 patch, audit annotations.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::wire::{CauseOut, DetailsOut, ResponseOut, ReviewOut, StatusOut};
use crate::engine::{Outcome, Webhook};
use crate::rules::Rule;

/// The longest warning the API server keeps whole.
pub const MAX_WARNING_BYTES: usize = 256;
/// The most warnings in one response, the `... and N more findings` line included.
pub const MAX_WARNINGS: usize = 20;
/// The most warning bytes in one response.
pub const MAX_WARNINGS_TOTAL_BYTES: usize = 4000;

/// Makes one warning safe to send: control characters become spaces (the API server drops a
/// warning containing one), and it is cut to [`MAX_WARNING_BYTES`] on a character boundary.
pub fn sanitize_warning(text: &str) -> String {
    let mut clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.len() > MAX_WARNING_BYTES {
        let ellipsis = "...";
        let mut cut = MAX_WARNING_BYTES - ellipsis.len();
        while !clean.is_char_boundary(cut) {
            cut -= 1;
        }
        clean.truncate(cut);
        clean.push_str(ellipsis);
    }
    clean
}

/// Caps the warnings at [`MAX_WARNINGS`] entries and [`MAX_WARNINGS_TOTAL_BYTES`] bytes; what
/// does not fit is counted in one last `... and N more findings`. Lines past what can be kept
/// are counted, not formatted (a large object can have hundreds).
pub fn cap_warnings(lines: impl ExactSizeIterator<Item = String>) -> Vec<String> {
    let count = lines.len();
    let all: Vec<String> = lines
        .take(MAX_WARNINGS + 1)
        .map(|line| sanitize_warning(&line))
        .collect();
    let fits = |items: &[String]| {
        items.len() <= MAX_WARNINGS
            && items.iter().map(String::len).sum::<usize>() <= MAX_WARNINGS_TOTAL_BYTES
    };
    if count == all.len() && fits(&all) {
        return all;
    }
    // Room for the trailer: it is at most "... and 99999 more findings".
    let trailer_room = 40;
    let mut kept = Vec::new();
    let mut total = 0;
    for line in all {
        if kept.len() + 1 >= MAX_WARNINGS
            || total + line.len() + trailer_room > MAX_WARNINGS_TOTAL_BYTES
        {
            break;
        }
        total += line.len();
        kept.push(line);
    }
    let more = count - kept.len();
    kept.push(format!("... and {more} more findings"));
    kept
}

/// The denial's `status`: the message and the causes are held to the same bounds as warnings
/// (what is left out is counted in a last `... and N more findings`), so a denial stays a few
/// KiB however many findings an object has.
fn denial_status(outcome: &Outcome) -> Option<StatusOut> {
    if outcome.denials.is_empty() {
        return None;
    }
    let lines = cap_warnings(outcome.denials.iter().map(|d| d.line()));
    let shown = if lines.len() < outcome.denials.len() {
        lines.len() - 1
    } else {
        lines.len()
    };
    let mut causes: Vec<CauseOut> = outcome.denials[..shown]
        .iter()
        .map(|d| CauseOut {
            reason: "FieldValueInvalid",
            field: sanitize_warning(&d.path.to_string()),
            message: sanitize_warning(&format!("{}: {}", d.rule, d.message)),
        })
        .collect();
    if shown < outcome.denials.len() {
        causes.push(CauseOut {
            reason: "FieldValueInvalid",
            field: String::new(),
            message: format!("... and {} more findings", outcome.denials.len() - shown),
        });
    }
    Some(StatusOut {
        status: "Failure",
        code: 403,
        reason: "Forbidden",
        message: format!("meshgate: {}", lines.join("; ")),
        details: DetailsOut { causes },
    })
}

/// A JSON list of the distinct rule ids, in order of first appearance.
fn rule_ids(rules: impl Iterator<Item = Rule>) -> String {
    let mut ids: Vec<&str> = Vec::new();
    for rule in rules {
        if !ids.contains(&rule.id()) {
            ids.push(rule.id());
        }
    }
    serde_json::to_string(&ids).unwrap_or_default()
}

/// The AdmissionReview JSON answering `uid` in `api_version`.
pub fn encode(api_version: &str, uid: String, webhook: Webhook, outcome: &Outcome) -> Vec<u8> {
    let status = denial_status(outcome);
    // `/validate` never patches, whatever the outcome holds.
    let patch = (webhook == Webhook::Mutate && !outcome.patch.is_empty()).then(|| {
        let json = serde_json::to_vec(&outcome.patch).unwrap_or_default();
        BASE64.encode(json)
    });
    let mut audit_annotations = BTreeMap::new();
    if !outcome.reported.is_empty() {
        audit_annotations.insert(
            "findings",
            rule_ids(outcome.reported.iter().map(|(rule, _)| *rule)),
        );
    }
    if !outcome.suppressed.is_empty() {
        audit_annotations.insert("suppressed", rule_ids(outcome.suppressed.iter().copied()));
    }
    if patch.is_some() {
        audit_annotations.insert("patched", "true".to_string());
    }
    let review = ReviewOut {
        api_version,
        kind: "AdmissionReview",
        response: ResponseOut {
            uid,
            allowed: outcome.denials.is_empty(),
            status,
            patch_type: patch.as_ref().map(|_| "JSONPatch"),
            patch,
            warnings: cap_warnings(outcome.warnings.iter().map(|w| w.line())),
            audit_annotations,
        },
    };
    // Serializing these plain structs cannot fail; an empty body would be answered as an error.
    serde_json::to_vec(&review).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_spaces_and_long_warnings_are_cut() {
        assert_eq!(sanitize_warning("a\nb\tc\u{7}d"), "a b c d");
        let long = "é".repeat(300);
        let cut = sanitize_warning(&long);
        assert!(cut.len() <= MAX_WARNING_BYTES, "{}", cut.len());
        assert!(cut.ends_with("..."));
    }

    #[test]
    fn few_warnings_pass_unchanged() {
        let lines: Vec<String> = (0..20)
            .map(|i| format!("rule: path: message {i}"))
            .collect();
        assert_eq!(cap_warnings(lines.clone().into_iter()), lines);
    }

    #[test]
    fn many_warnings_end_with_a_count() {
        let lines: Vec<String> = (0..25)
            .map(|i| format!("rule: path: message {i}"))
            .collect();
        let capped = cap_warnings(lines.into_iter());
        assert_eq!(capped.len(), MAX_WARNINGS);
        assert_eq!(capped[19], "... and 6 more findings");
        assert_eq!(capped[18], "rule: path: message 18");
    }

    #[test]
    fn long_warnings_respect_the_total() {
        let lines: Vec<String> = (0..18)
            .map(|i| format!("{i:02}{}", "x".repeat(300)))
            .collect();
        let capped = cap_warnings(lines.into_iter());
        let total: usize = capped.iter().map(String::len).sum();
        assert!(total <= MAX_WARNINGS_TOTAL_BYTES, "{total}");
        let last = capped.last().unwrap();
        assert_eq!(
            last,
            &format!("... and {} more findings", 18 - (capped.len() - 1))
        );
        assert!(capped.iter().all(|w| w.len() <= MAX_WARNING_BYTES));
    }
}
