//! The Markdown catalog, committed as docs/rules.md: an index table linking to one section per
//! rule, whose heading is the rule id, so that GitHub anchors it as `#<rule-id>` (the anchor
//! SARIF reports and `meshgate explain` link to).

use super::{Block, REGENERATE, facts, sections};
use crate::rules::Rule;

/// `meshgate rules --format markdown`.
pub fn rules_markdown() -> String {
    let mut out = format!(
        "# Rule catalog\n\
         \n\
         <!-- The output of `meshgate rules --format markdown`: regenerate with\n\
         `{REGENERATE}` (a test compares the two). -->\n\
         \n\
         Every rule meshgate runs, in the admission webhook and in `meshgate check` and \
         `meshgate fix`: what it checks, why that matters, a failing manifest and its fix, the \
         Istio analyzer message it corresponds to, and how to silence it. `meshgate rules` \
         lists the rules and `meshgate explain RULE` prints one section.\n\
         \n\
         Severity is the rule's usual one; a section says when it reports another. The default \
         action is what the built-in policy does with the findings: `deny` (its `error` findings \
         deny, others warn), `warn`, or `fix` (the mutating webhook applies the fix; where it \
         cannot, as `deny`). Fixable `webhook` means only the mutating webhook fixes it, on an \
         UPDATE; `webhook, fix` means `meshgate fix` rewrites manifest files too.\n\
         \n\
         | rule | kinds | severity | default action | fixable | what it checks |\n\
         |---|---|---|---|---|---|\n"
    );
    for rule in Rule::ALL {
        let [kinds, _, action, fixable, _] = facts(*rule).map(|(_, value)| value);
        out.push_str(&format!(
            "| [`{id}`](#{id}) | {kinds} | {} | {action} | {fixable} | {} |\n",
            rule.doc().severity.as_str(),
            cell(rule.summary()),
            id = rule.id(),
        ));
    }
    for rule in Rule::ALL {
        out.push('\n');
        out.push_str(&section(*rule));
    }
    out
}

/// A rule's section: heading, summary, facts, then what `explain` says.
fn section(rule: Rule) -> String {
    let facts = facts(rule);
    let mut out = format!("## {}\n\n{}\n\n", rule.id(), rule.summary());
    let titles: Vec<&str> = facts.iter().map(|(title, _)| *title).collect();
    out.push_str(&format!("| {} |\n", titles.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(titles.len())));
    let values: Vec<String> = facts.iter().map(|(_, value)| cell(value)).collect();
    out.push_str(&format!("| {} |\n", values.join(" | ")));
    for section in sections(rule) {
        for (i, block) in section.blocks.iter().enumerate() {
            out.push('\n');
            match (i, block) {
                (0, Block::Text(text)) => {
                    out.push_str(&format!("**{}.** {text}\n", section.title));
                }
                (_, Block::Text(text)) => out.push_str(&format!("{text}\n")),
                (first, Block::Yaml(yaml)) => {
                    if first == 0 {
                        out.push_str(&format!("**{}**\n\n", section.title));
                    }
                    out.push_str(&format!("```yaml\n{yaml}```\n"));
                }
            }
        }
    }
    out
}

/// Text for a table cell: a `|` would end the cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's heading anchor: lowercase, spaces to `-`, other punctuation but `-` and `_`
    /// dropped.
    fn github_anchor(heading: &str) -> String {
        heading
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_rule_has_a_section_anchored_at_its_id_and_an_index_link() {
        let markdown = rules_markdown();
        let headings: Vec<&str> = markdown
            .lines()
            .filter_map(|line| line.strip_prefix("## "))
            .collect();
        let anchors: Vec<String> = headings.iter().map(|h| github_anchor(h)).collect();
        let ids: Vec<String> = Rule::ALL.iter().map(|r| r.id().to_string()).collect();
        assert_eq!(anchors, ids);
        for id in &ids {
            assert!(
                markdown.contains(&format!("| [`{id}`](#{id}) |")),
                "{id} is in the index"
            );
        }
        // Every fence is closed: an even number, each opening one tagged yaml.
        let fences: Vec<&str> = markdown
            .lines()
            .filter(|line| line.starts_with("```"))
            .collect();
        assert_eq!(fences.len() % 2, 0);
        assert!(fences.chunks(2).all(|pair| pair == ["```yaml", "```"]));
        assert!(markdown.ends_with('\n') && !markdown.ends_with("\n\n"));
    }

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b"), "a\\|b");
    }
}
