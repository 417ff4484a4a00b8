//! Regular expressions as Istio checks them before handing them to Envoy: RE2 syntax, at most
//! 1024 bytes. Syntax is checked with the `regex` crate, whose syntax is RE2's with a few
//! extensions (see [`problem`]); each distinct pattern of an object is compiled once, within a
//! size limit, so a large object full of regexes costs one compilation per pattern.

use std::collections::HashSet;

use regex::RegexBuilder;

/// Istio's limit on a pattern's length, its stand-in for Envoy's RE2 program-size limit.
pub const MAX_LEN: usize = 1024;

/// The compiled-program budget per pattern. A 1024-byte pattern within RE2's own repetition
/// limits compiles to far less; a pattern that does not fit (nested counted repetitions) is one
/// RE2 refuses as well.
const SIZE_LIMIT: usize = 2 << 20;

/// The patterns of one object already found valid.
#[derive(Debug, Default)]
pub struct Patterns<'a> {
    valid: HashSet<&'a str>,
}

impl<'a> Patterns<'a> {
    /// Why `pattern` is not a regex Istio accepts; `None` when it is one.
    ///
    /// Where the `regex` crate's syntax differs from RE2's, this follows the crate: it also
    /// accepts the `x` (verbose) and `R` (CRLF) flags, class set operations (`[a&&b]`, `[a--b]`,
    /// `[a~~b]`) and nested classes, repetition counts over 1000, and `\<`/`\>`-style word
    /// boundaries, and it rejects `\C`, `\Q...\E` and Unicode classes it was built without
    /// (`\p{...}` beyond general categories and scripts).
    pub fn problem(&mut self, pattern: &'a str) -> Option<String> {
        if pattern.len() > MAX_LEN {
            return Some(format!(
                "the regex is {} bytes long, over Istio's limit of {MAX_LEN}: shorten it",
                pattern.len()
            ));
        }
        if self.valid.contains(pattern) {
            return None;
        }
        match RegexBuilder::new(pattern).size_limit(SIZE_LIMIT).build() {
            Ok(_) => {
                self.valid.insert(pattern);
                None
            }
            Err(error) => Some(format!(
                "`{pattern}` is not an RE2 regex ({}): write RE2 syntax (github.com/google/re2/wiki/Syntax)",
                reason(&error)
            )),
        }
    }
}

/// The one-line reason of a `regex` error: the syntax error's last line (`error: ...`), without
/// the pattern and caret drawing before it.
fn reason(error: &regex::Error) -> String {
    let text = error.to_string();
    let line = text
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("error: "))
        .unwrap_or_else(|| text.lines().next().unwrap_or_default());
    line.trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re2_syntax_and_length() {
        let mut patterns = Patterns::default();
        assert_eq!(patterns.problem("^/service/([^/]+)(/.*)$"), None);
        assert_eq!(patterns.problem("(?i)\\p{Greek}+\\d\\w"), None);
        assert_eq!(
            patterns.problem("[").as_deref(),
            Some(
                "`[` is not an RE2 regex (unclosed character class): write RE2 syntax (github.com/google/re2/wiki/Syntax)"
            )
        );
        assert_eq!(
            patterns.problem("?").as_deref(),
            Some(
                "`?` is not an RE2 regex (repetition operator missing expression): write RE2 syntax (github.com/google/re2/wiki/Syntax)"
            )
        );
        let long = "a".repeat(MAX_LEN + 1);
        assert_eq!(
            patterns.problem(&long).as_deref(),
            Some("the regex is 1025 bytes long, over Istio's limit of 1024: shorten it")
        );
        assert_eq!(patterns.problem(&"a".repeat(MAX_LEN)), None);
    }

    #[test]
    fn a_pattern_too_large_to_compile_is_refused() {
        let mut patterns = Patterns::default();
        let problem = patterns.problem("((a{100}){100}){100}").unwrap_or_default();
        assert!(problem.contains("size limit"), "{problem}");
    }
}
