//! `meshgate fix` on the text of one file: the mutating webhook's patches written back by
//! [`crate::manifest::edit`], which re-reads what it rewrites after every change. So that this
//! stays linear in the size of the file, each document is rewritten on its own text, and each
//! member of a `List` on its own lines; the pieces are put back together and read once more.

use std::ops::Range;

use super::{FileCheck, InputError, LintFinding, check_text, objects_of, subject};
use crate::engine::{Assessment, Disposition, Engine, Request, Requester, Webhook};
use crate::manifest::anchors::Anchors;
use crate::manifest::edit::{self, EditError};
use crate::manifest::yaml::{self, Document, Kind, Node};
use crate::object::path::Segment;
use crate::rules::{FieldPath, PatchOp};

/// A document `fix` left as it was, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// The file.
    pub file: String,
    /// The document's first line in the input.
    pub line: usize,
    /// The same line in the rewritten text (other documents may have grown or shrunk).
    pub output_line: usize,
    /// Why.
    pub reason: EditError,
}

impl Skipped {
    fn of(file: &str, document: &Document, reason: EditError) -> Self {
        let line = document.root.as_ref().map_or(1, |r| r.start.line);
        Skipped {
            file: file.to_string(),
            line,
            output_line: line,
            reason,
        }
    }
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
    /// What is left, checked on the rewritten text: lines are those of the rewritten text.
    pub remaining: FileCheck,
    /// For each finding of `remaining`, its line in the input: the line of its field there,
    /// or, for a field only the rewritten text has, of the field it was converted from.
    pub input_lines: Vec<usize>,
}

impl FileFix {
    /// The remaining findings with the lines of the input (for `--diff` and the rewritten text
    /// on stdout, where the file itself is unchanged) or of the rewritten text (`--in-place`).
    pub fn remaining_findings(&self, input_lines: bool) -> Vec<LintFinding> {
        let mut findings = self.remaining.findings.clone();
        if input_lines {
            for (finding, line) in findings.iter_mut().zip(&self.input_lines) {
                finding.line = *line;
            }
        }
        findings
    }
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
    let mut conversions = Vec::new();
    for (index, document) in documents.iter().enumerate() {
        let fixes = object_fixes(engine, document);
        match fix_document(document, &text[document.span.clone()], &fixes) {
            Ok(Some((fixed, fields))) => {
                changes += fields;
                rewritten.push(Some(fixed));
                conversions.extend(converted_fields(index, &fixes));
            }
            Ok(None) => rewritten.push(None),
            Err(reason) => {
                skipped.push((index, Skipped::of(file, document, reason)));
                rewritten.push(None);
            }
        }
    }
    let (mut current, mut starts) = assemble(text, &documents, &rewritten);
    if current != text && !reads_back(&current, &documents, &rewritten) {
        // Each document read back alone as fixed; together they did not (a directive of one
        // applying to the next, say). Nothing is written.
        for (index, (document, fixed)) in documents.iter().zip(&rewritten).enumerate() {
            if fixed.is_some() {
                skipped.push((index, Skipped::of(file, document, EditError::Mismatch)));
            }
        }
        skipped.sort_by_key(|(index, _)| *index);
        current = text.to_string();
        starts = documents.iter().map(|d| d.span.start).collect();
        changes = 0;
        conversions.clear();
    }
    let skipped = with_output_lines(text, &current, &documents, &starts, skipped);
    let remaining = check_text(engine, file, &current)?;
    let anchors: Vec<Anchors<'_>> = documents
        .iter()
        .map(|d| {
            d.root
                .as_ref()
                .map(|root| Anchors::of(root, d.copied.nodes > 0))
                .unwrap_or_default()
        })
        .collect();
    let input_lines = remaining
        .findings
        .iter()
        .map(|finding| line_in_input(&documents, &anchors, &conversions, finding))
        .collect();
    Ok(FileFix {
        text: current,
        changes,
        skipped,
        remaining,
        input_lines,
    })
}

/// The skipped documents with their first lines in the rewritten text, where `starts` are the
/// documents' offsets; the documents are in order.
fn with_output_lines(
    text: &str,
    current: &str,
    documents: &[Document],
    starts: &[usize],
    skipped: Vec<(usize, Skipped)>,
) -> Vec<Skipped> {
    let newlines = |s: &str| s.bytes().filter(|b| *b == b'\n').count();
    let (mut before_in, mut before_out, mut counted_in, mut counted_out) = (0, 0, 0, 0);
    skipped
        .into_iter()
        .map(|(index, mut skip)| {
            let (start_in, start_out) = (documents[index].span.start, starts[index]);
            before_in += newlines(&text[counted_in..start_in]);
            before_out += newlines(&current[counted_out..start_out]);
            (counted_in, counted_out) = (start_in, start_out);
            skip.output_line = (skip.line + before_out).saturating_sub(before_in);
            skip
        })
        .collect()
}

/// A field a fix wrote (`to`) in document `document`, converted from the field `from`.
struct Conversion {
    document: usize,
    to: FieldPath,
    from: FieldPath,
}

/// What the fixes of a rewritten document converted: each fix's additions and renames, from
/// the first field it removes or renames.
fn converted_fields(document: usize, fixes: &[ObjectFix]) -> Vec<Conversion> {
    let mut conversions = Vec::new();
    for fix in fixes {
        for ops in fix.fixes() {
            let from = ops.iter().find_map(|op| match op {
                PatchOp::Remove { path } | PatchOp::Move { from: path, .. } => Some(path),
                _ => None,
            });
            let Some(from) = from else { continue };
            for op in ops {
                if let PatchOp::Add { path, .. } | PatchOp::Move { path, .. } = op {
                    conversions.push(Conversion {
                        document,
                        to: fix.base.join(path),
                        from: fix.base.join(from),
                    });
                }
            }
        }
    }
    conversions
}

/// The line in the input of a finding made on the rewritten text: its field's line there, or
/// for a field a fix wrote, the line of the field it was converted from (of what it holds, when
/// that was there too). `anchors` are those of each document.
fn line_in_input(
    documents: &[Document],
    anchors: &[Anchors<'_>],
    conversions: &[Conversion],
    finding: &LintFinding,
) -> usize {
    let Some((root, anchors)) = documents
        .get(finding.document)
        .and_then(|d| d.root.as_ref())
        .zip(anchors.get(finding.document))
    else {
        return finding.line;
    };
    let segments = finding.field.segments();
    let exists = segments
        .iter()
        .try_fold(root, |node, segment| {
            node.child(segment).map(|(child, _)| child)
        })
        .is_some();
    if exists {
        return root.locate(segments, anchors).line;
    }
    // What lies below a converted field was below the field it came from (a renamed
    // `load_balancer` held the `simple` now under `loadBalancer`): the conversions undone, last
    // first.
    let mut path = segments.to_vec();
    for conversion in conversions
        .iter()
        .rev()
        .filter(|c| c.document == finding.document)
    {
        if let Some(below) = path.strip_prefix(conversion.to.segments()) {
            let mut from = conversion.from.segments().to_vec();
            from.extend_from_slice(below);
            path = from;
        }
    }
    root.locate(&path, anchors).line
}

/// The patch of one object of a document: where the object is (`items/i` for a List member,
/// the root otherwise) and the fields it converts.
struct ObjectFix {
    base: FieldPath,
    patch: Vec<PatchOp>,
    /// The operations of each fix in `patch`: a fix's removals give their comments to its
    /// additions.
    groups: Vec<Range<usize>>,
    fields: usize,
}

impl ObjectFix {
    /// The operations of `patch`, fix by fix.
    fn fixes(&self) -> Vec<&[PatchOp]> {
        self.groups.iter().map(|r| &self.patch[r.clone()]).collect()
    }
}

/// The fixes of `assessment` that make up `patch`, as ranges of it. The webhook's patch is the
/// fixes' operations one after another; should a patch not split so, each operation is a group
/// of its own (comments of removals then stay where they were).
fn fix_groups(assessment: &Assessment, patch: &[PatchOp]) -> Vec<Range<usize>> {
    let fixes: Vec<&[PatchOp]> = assessment
        .items
        .iter()
        .filter(|item| item.disposition == Disposition::Fix)
        .filter_map(|item| item.finding.fix.as_ref())
        .map(|fix| fix.ops.as_slice())
        .filter(|ops| !ops.is_empty())
        .collect();
    let mut used = vec![false; fixes.len()];
    let mut groups = Vec::new();
    let mut at = 0;
    let mut next = 0;
    while at < patch.len() {
        let fits = |i: usize| !used[i] && patch[at..].starts_with(fixes[i]);
        // In order, as the webhook writes them; any order else.
        let found = (next < fixes.len() && fits(next))
            .then_some(next)
            .or_else(|| (0..fixes.len()).find(|i| fits(*i)));
        let Some(found) = found else {
            return (0..patch.len()).map(|i| i..i + 1).collect();
        };
        used[found] = true;
        next = found + 1;
        groups.push(at..at + fixes[found].len());
        at += fixes[found].len();
    }
    groups
}

/// The patches the mutating webhook makes to the objects of a document.
fn object_fixes(engine: &Engine, document: &Document) -> Vec<ObjectFix> {
    objects_of(&document.value)
        .iter()
        .filter_map(|located| {
            let request = Request {
                subject: subject(located),
                requester: Requester::default(),
                stored: None,
            };
            let outcome = engine.review(&request, Webhook::Mutate);
            (!outcome.patch.is_empty()).then(|| ObjectFix {
                base: located.base.clone(),
                groups: fix_groups(&engine.assess(&request), &outcome.patch),
                patch: outcome.patch,
                fields: outcome.warnings.len(),
            })
        })
        .collect()
}

/// The text of one document with the fixes of its objects, and the fields they convert;
/// `None` when nothing needs fixing. A failure leaves the whole document as it was.
fn fix_document(
    document: &Document,
    text: &str,
    fixes: &[ObjectFix],
) -> Result<Option<(String, usize)>, EditError> {
    if fixes.is_empty() {
        return Ok(None);
    }
    if edit::too_expansive(document.copied) {
        return Err(EditError::Expansive(document.copied));
    }
    let fixed = match fix_members(document, text, fixes) {
        Some(fixed) => fixed?,
        None => fix_whole(text, fixes)?,
    };
    Ok(Some((fixed, fixes.iter().map(|f| f.fields).sum())))
}

/// The document `text` patched as a whole, re-reading all of it after every change.
fn fix_whole(text: &str, fixes: &[ObjectFix]) -> Result<String, EditError> {
    let mut staged = text.to_string();
    for fix in fixes {
        staged = edit::apply(&staged, 0, &fix.base, &fix.fixes())?;
    }
    Ok(staged)
}

/// The List document `text` with each member's patch written on that member's lines alone,
/// so that a change re-reads one member rather than the List: the same text as
/// [`fix_whole`], at a cost linear in the List. `None` when the document does not lend itself
/// (no block sequence of `items`, a member that does not read alone as itself, an anchored
/// one) or does not read back as patched: then it is patched whole.
fn fix_members(
    document: &Document,
    text: &str,
    fixes: &[ObjectFix],
) -> Option<Result<String, EditError>> {
    let items = list_items(document.root.as_ref()?)?;
    let mut expected = document.value.clone();
    let mut fixed = String::with_capacity(text.len());
    let mut copied = 0;
    for fix in fixes {
        let [Segment::Field(field), Segment::Index(index)] = fix.base.segments() else {
            return None;
        };
        let member = items
            .get(*index)
            .filter(|m| field == "items" && !m.anchored)?;
        let lines = member_lines(text, document.span.start, member)
            .filter(|lines| lines.start >= copied)?;
        let alone = &text[lines.clone()];
        let original = &document.value["items"][*index];
        let reads_alone = yaml::parse(alone).ok().is_some_and(|read| {
            matches!(read.as_slice(), [only] if only.value.as_array().is_some_and(|a| a.len() == 1 && a[0] == *original))
        });
        if !reads_alone {
            return None;
        }
        crate::rules::patch::apply(&mut expected["items"][*index], &fix.patch).ok()?;
        match edit::apply(alone, 0, &FieldPath::root().index(0), &fix.fixes()) {
            Ok(member_fixed) => {
                fixed.push_str(&text[copied..lines.start]);
                fixed.push_str(&member_fixed);
                copied = lines.end;
            }
            Err(reason) => return Some(Err(in_document(reason, *index))),
        }
    }
    fixed.push_str(&text[copied..]);
    let reads_back = yaml::parse(&fixed)
        .ok()
        .is_some_and(|read| matches!(read.as_slice(), [only] if only.value == expected));
    reads_back.then_some(Ok(fixed))
}

/// What a member read alone could not take, named as in the document: its paths start at
/// `items[i]`, not at `[0]`.
fn in_document(reason: EditError, index: usize) -> EditError {
    let path_in_document = |path: String| match path.strip_prefix("[0]") {
        Some(rest) => format!("items[{index}]{rest}"),
        None => path,
    };
    match reason {
        EditError::Anchored(path) => EditError::Anchored(path_in_document(path)),
        EditError::Unsupported(path) => EditError::Unsupported(path_in_document(path)),
        other => other,
    }
}

/// The members of a List document's block sequence `items`.
fn list_items(root: &Node) -> Option<&[Node]> {
    let Kind::Map { entries, .. } = &root.kind else {
        return None;
    };
    let items = &entries.iter().find(|e| e.key == "items")?.value;
    match &items.kind {
        Kind::Seq {
            flow: false,
            items: members,
        } if !items.anchored => Some(members),
        _ => None,
    }
}

/// The whole lines of a block sequence member, from its `- ` to the end of its last line: read
/// alone, they are a sequence of that one member. `None` if something else shares its first
/// line. `text` is the document's text, which starts at byte `offset` of the file the member's
/// marks count in.
fn member_lines(text: &str, offset: usize, member: &Node) -> Option<Range<usize>> {
    let member_start = member.start.byte.checked_sub(offset)?;
    let member_end = member.end.byte.checked_sub(offset)?;
    let start = edit::line_start(text, member_start);
    if text[start..member_start].trim() != "-" {
        return None;
    }
    let last = member_end.max(member_start + 1) - 1;
    Some(start..edit::after_line(text, last))
}

/// The file's text with the rewritten documents in place of their originals, and where each
/// document starts in it.
fn assemble(
    text: &str,
    documents: &[Document],
    rewritten: &[Option<String>],
) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(text.len());
    let mut starts = Vec::with_capacity(documents.len());
    let mut copied = 0;
    for (document, fixed) in documents.iter().zip(rewritten) {
        out.push_str(&text[copied..document.span.start]);
        starts.push(out.len());
        match fixed {
            Some(fixed) => out.push_str(fixed),
            None => out.push_str(&text[document.span.clone()]),
        }
        copied = document.span.end;
    }
    out.push_str(&text[copied..]);
    (out, starts)
}

/// Whether the assembled text reads as the original documents, the rewritten ones as they
/// read alone.
fn reads_back(text: &str, documents: &[Document], rewritten: &[Option<String>]) -> bool {
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
        // The comment that ended the converted line ends the line of its value.
        let expected = format!(
            "# head\n{}\n...\n# between\n---\n{} # last\n# trailing\n",
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
            "its YAML anchors and aliases copy 10002 nodes and 10000 bytes of text, and fix \
             rewrites documents that copy at most 10000 nodes and 1048576 bytes; fix it by hand"
        );
        assert!(fixed.text.starts_with(&legacy_route("big", &anchored)));
        assert!(
            fixed
                .text
                .ends_with("        percentage:\n          value: 10.0\n")
        );
    }

    #[test]
    fn documents_whose_aliases_copy_much_text_are_not_rewritten_either() {
        // Three nodes, but 2 x 600,000 bytes copied.
        let anchored = format!(
            "  x-shared: &shared \"{}\"\n  x-again: *shared\n",
            "x".repeat(600_000)
        );
        let text = legacy_route("big", &anchored);
        let fixed = fix_text(&Engine::default(), "routes.yaml", &text).unwrap();
        assert_eq!((fixed.changes, fixed.text.as_str()), (0, text.as_str()));
        assert_eq!(
            fixed.skipped[0].reason,
            EditError::Expansive(yaml::Size {
                nodes: 2,
                bytes: 1_200_000
            })
        );
    }

    /// The List document of `text` rewritten member by member and as a whole.
    fn both_ways(text: &str) -> (Option<Result<String, EditError>>, Result<String, EditError>) {
        let documents = yaml::parse(text).unwrap();
        let fixes = object_fixes(&Engine::default(), &documents[0]);
        assert!(fixes.len() >= 2, "{text}");
        (
            fix_members(&documents[0], text, &fixes),
            fix_whole(text, &fixes),
        )
    }

    #[test]
    fn list_members_are_rewritten_alone_into_the_same_text() {
        let member = |name: &str, extra: &str| {
            legacy_route(name, extra)
                .lines()
                .enumerate()
                .map(|(i, line)| format!("{}{line}\n", if i == 0 { "- " } else { "  " }))
                .collect::<String>()
        };
        let indented = |text: String| {
            text.lines()
                .map(|line| format!("  {line}\n"))
                .collect::<String>()
        };
        let lists = [
            // As kubectl writes them.
            format!(
                "apiVersion: v1\nitems:\n{}{}kind: List\nmetadata:\n  resourceVersion: \"\"\n",
                member("a", ""),
                member("b", "")
            ),
            // Indented under `items:`, comments between members, the last at the end of the
            // text without a newline, a member whose new fields need a sequence.
            format!(
                "apiVersion: v1\nkind: List\nitems:\n{}  # between\n{}{}",
                indented(member("a", "")),
                indented(member("b", "  exportTo: [\"*\"]\n")),
                indented(member("c", "")).trim_end()
            ),
        ];
        for text in &lists {
            let (by_member, whole) = both_ways(text);
            let whole = whole.unwrap();
            assert_ne!(whole, *text);
            assert_eq!(by_member.unwrap().unwrap(), whole, "{text}");
        }
        // The first failure is the document's, as when it is rewritten whole.
        let anchored = lists[0].replace("    fault:\n", "    fault: &f\n");
        let (by_member, whole) = both_ways(&anchored);
        assert_eq!(by_member.unwrap().unwrap_err(), whole.unwrap_err());
        let b_anchored = member("b", "").replace("    fault:\n", "    fault: &f\n");
        let anchored = lists[0].replace(&member("b", ""), &b_anchored);
        let (by_member, whole) = both_ways(&anchored);
        let reason = by_member.unwrap().unwrap_err();
        assert_eq!(
            reason,
            EditError::Anchored("items[1].spec.http[0].fault.abort.percent".into())
        );
        assert_eq!(reason, whole.unwrap_err());
        // Members in flow style are rewritten with the document.
        let flow = "apiVersion: v1\nkind: List\nitems: [{apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: a}, spec: {hosts: [a], http: [{websocketUpgrade: true}]}}, {apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: b}, spec: {hosts: [b], http: [{websocketUpgrade: true}]}}]\n";
        let (by_member, whole) = both_ways(flow);
        assert!(by_member.is_none());
        assert!(whole.is_ok());
    }
}
