//! Helm and Go templates among the manifests: a file with a template action (`{{ ... }}`)
//! outside YAML strings and comments is not a manifest yet, so `check` and `fix` skip it with a
//! note instead of reporting what its unrendered text happens to parse as. Found before
//! parsing, in one pass over the text: a template that parses as YAML still holds unrendered
//! values.

/// A file `check` and `fix` leave out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFile {
    /// The file.
    pub file: String,
    /// The line that made it skipped.
    pub line: usize,
    /// Why, for the report.
    pub reason: String,
}

impl SkippedFile {
    /// The file's text when it is a template, `None` when it is a manifest.
    pub fn template(file: &str, text: &str) -> Option<Self> {
        action_line(text).map(|line| SkippedFile {
            file: file.to_string(),
            line,
            reason: format!(
                "a Helm/Go template ({{{{ }}}} at line {line}); render it first (helm template) \
                 and check the output"
            ),
        })
    }
}

impl std::fmt::Display for SkippedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: skipped: {}", self.file, self.reason)
    }
}

/// The line of the first template action outside quoted and block scalars and comments, if
/// any: `{{` followed by `}}` on the same line.
pub fn action_line(text: &str) -> Option<usize> {
    let mut scanner = Scanner::default();
    for (index, line) in text.split('\n').enumerate() {
        if scanner.line_has_action(line) {
            return Some(index + 1);
        }
    }
    None
}

/// Where the scanner is between lines.
#[derive(Debug, Default)]
struct Scanner {
    /// Inside a quoted scalar that goes on to the next line.
    quote: Option<char>,
    /// Inside a block scalar (`|`, `>`) whose key or dash is at this indentation: lines
    /// indented further (and blank ones) are its content.
    block_parent: Option<usize>,
}

impl Scanner {
    fn line_has_action(&mut self, line: &str) -> bool {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some(parent) = self.block_parent {
            if line.trim().is_empty() || indent > parent {
                return false;
            }
            self.block_parent = None;
        }
        let chars: Vec<(usize, char)> = line.char_indices().collect();
        let mut i = 0;
        // At the start of a scalar: a quote there opens a quoted scalar.
        let mut at_scalar_start = true;
        while i < chars.len() {
            let (at, c) = chars[i];
            if let Some(quote) = self.quote {
                match c {
                    '\\' if quote == '"' => i += 1,
                    '\'' if quote == '\'' && chars.get(i + 1).is_some_and(|(_, n)| *n == '\'') => {
                        i += 1
                    }
                    c if c == quote => {
                        self.quote = None;
                        at_scalar_start = false;
                    }
                    _ => {}
                }
                i += 1;
                continue;
            }
            match c {
                '#' if i == 0 || chars[i - 1].1.is_whitespace() => return false,
                '"' | '\'' if at_scalar_start => self.quote = Some(c),
                '{' if line[at..].starts_with("{{") && line[at + 2..].contains("}}") => {
                    return true;
                }
                '|' | '>' if at_scalar_start && is_block_header(&line[at + 1..]) => {
                    self.block_parent = Some(indent);
                    return false;
                }
                ' ' | '\t' => {}
                // After these a new scalar may start (`key: "x"`, `- 'x'`, `[ "a", "b" ]`).
                ':' | '-' | '?' if chars.get(i + 1).is_none_or(|(_, n)| n.is_whitespace()) => {
                    at_scalar_start = true;
                }
                '[' | '{' | ',' => at_scalar_start = true,
                _ => at_scalar_start = false,
            }
            i += 1;
        }
        false
    }
}

/// Whether what follows a `|` or `>` makes it a block scalar's header: indicators, then
/// nothing but a comment.
fn is_block_header(rest: &str) -> bool {
    let after = rest.trim_start_matches(|c: char| c == '-' || c == '+' || c.is_ascii_digit());
    let after = after.trim_start();
    after.is_empty() || after.starts_with('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_is_skipped_with_its_line() {
        let skipped = SkippedFile::template("chart/vs.yaml", "a: 1\n\n{{- if .x }}\n").unwrap();
        assert_eq!(
            skipped.to_string(),
            "chart/vs.yaml: skipped: a Helm/Go template ({{ }} at line 3); render it first \
             (helm template) and check the output"
        );
        assert_eq!(SkippedFile::template("a.yaml", "a: \"{{x}}\"\n"), None);
    }

    #[test]
    fn actions_outside_strings_are_templates() {
        let cases = [
            (
                "apiVersion: v1\n{{- if .Values.enabled }}\nkind: X\n{{- end }}\n",
                2,
            ),
            ("spec:\n  replicas: {{ .Values.n }}\n", 2),
            ("metadata:\n  name: {{ include \"x\" . }}-svc\n", 2),
            ("spec:\n  image: repo/{{ .Values.tag }}\n", 2),
            ("{{/* a comment for Go */}}\nkind: A\n", 1),
            ("a: 'it''s'\nb: {{ .x }}\n", 2),
            ("a: \"multi\n  line\"\nb: {{ .x }}\n", 3),
            ("a: |\n  {{ in the block }}\nb: {{ .x }}\n", 3),
            ("- {{ .x }}\n", 1),
            ("a: it's {{ .x }}\n", 1),
        ];
        for (text, line) in cases {
            assert_eq!(action_line(text), Some(line), "{text:?}");
        }
    }

    #[test]
    fn braces_in_strings_comments_and_block_scalars_are_text() {
        let cases = [
            "description: \"use {{name}}\"\n",
            "description: 'use {{name}}'\n",
            "# render with {{ .Values.x }}\nkind: A\n",
            "kind: A  # {{ .Values.x }}\n",
            "script: |\n  echo {{ not a template here }}\n  # {{ nor here }}\nkind: A\n",
            "script: >-\n  {{ folded }}\n\n  {{ still folded }}\nkind: A\n",
            "a: \"escaped \\\" quote {{x}}\"\n",
            "a: \"two\n  lines {{x}}\"\n",
            "a: {b: {c: 1}}\n",
            "a: {{\n",
            "list: [\"{{a}}\", '{{b}}']\n",
        ];
        for text in cases {
            assert_eq!(action_line(text), None, "{text:?}");
        }
    }
}
