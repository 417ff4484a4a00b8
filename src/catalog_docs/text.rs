//! Plain-text layouts for a terminal: the `meshgate rules` table and `meshgate explain`.

use super::{Block, DOCS_PATH, facts, fixable_label, help_uri, sections};
use crate::rules::Rule;

/// Prose is wrapped to this many columns, indent included.
const WIDTH: usize = 80;

/// The `rules --format text` table: one aligned row per rule, then how to read more.
pub fn rules_table() -> String {
    let header = ["RULE", "KINDS", "SEVERITY", "DEFAULT", "FIXABLE", "SUMMARY"];
    let rows: Vec<[String; 6]> = Rule::ALL
        .iter()
        .map(|rule| {
            let doc = rule.doc();
            [
                rule.id().to_string(),
                doc.kinds
                    .iter()
                    .map(|kind| kind.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                doc.severity.as_str().to_string(),
                rule.default_action().as_str().to_string(),
                fixable_label(*rule).to_string(),
                rule.summary().to_string(),
            ]
        })
        .collect();
    // Padding counts characters, as `format!` does.
    let mut widths = header.map(|title| title.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = header.map(str::to_string);
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let legend = format!(
        "{} rules. SEVERITY is each rule's usual one. FIXABLE says who applies the fix: \
         `webhook` only the mutating webhook, `webhook, fix` `meshgate fix` too. `meshgate \
         explain RULE` describes a rule, {DOCS_PATH} all of them.",
        rows.len()
    );
    out.push_str(&format!("\n{}\n", wrap(&legend, 0)));
    out
}

/// What `meshgate explain RULE` prints.
pub fn explain_text(rule: Rule) -> String {
    let mut out = format!("{}\n{}\n\n", rule.id(), wrap(rule.summary(), 0));
    let facts = facts(rule);
    let label_width = facts
        .iter()
        .map(|(label, _)| label.chars().count())
        .max()
        .unwrap_or(0);
    for (label, value) in &facts {
        let indent = 2 + label_width + 2;
        let wrapped = wrap(value, indent);
        out.push_str(&format!(
            "  {label:<label_width$}  {}\n",
            wrapped.trim_start()
        ));
    }
    for section in sections(rule) {
        out.push_str(&format!("\n{}\n", section.title));
        for (i, block) in section.blocks.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            match block {
                Block::Text(text) => {
                    out.push_str(&wrap(text, 2));
                    out.push('\n');
                }
                Block::Yaml(yaml) => {
                    for line in yaml.lines() {
                        if line.is_empty() {
                            out.push('\n');
                        } else {
                            out.push_str(&format!("    {line}\n"));
                        }
                    }
                }
            }
        }
    }
    out.push_str(&format!("\nDocumentation: {}\n", help_uri(rule)));
    out
}

/// `text` broken at spaces into lines of at most [`WIDTH`] columns (a longer word gets a line of
/// its own), each indented by `indent` spaces; no trailing newline.
fn wrap(text: &str, indent: usize) -> String {
    let room = WIDTH.saturating_sub(indent).max(20);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    let pad = " ".repeat(indent);
    lines
        .iter()
        .map(|line| format!("{pad}{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word_within_the_width() {
        let text = "one two three four five six seven eight nine ten eleven twelve thirteen \
                    fourteen fifteen sixteen seventeen eighteen nineteen twenty";
        let wrapped = wrap(text, 4);
        assert!(wrapped.lines().count() > 1);
        for line in wrapped.lines() {
            assert!(line.starts_with("    ") && line.len() <= WIDTH, "{line:?}");
        }
        assert_eq!(
            wrapped.split_whitespace().collect::<Vec<_>>().join(" "),
            text
        );
        let long = "x".repeat(120);
        assert_eq!(wrap(&long, 2), format!("  {long}"));
    }

    #[test]
    fn the_table_has_a_row_per_rule_with_aligned_columns() {
        let table = rules_table();
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("RULE "));
        let summary_at = lines[0].find("SUMMARY").unwrap();
        for (line, rule) in lines[1..=Rule::ALL.len()].iter().zip(Rule::ALL) {
            assert!(line.starts_with(rule.id()), "{line}");
            assert_eq!(&line[summary_at..], rule.summary(), "{line}");
        }
    }
}
