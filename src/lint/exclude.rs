//! `--exclude` patterns, read as `.gitignore` reads them: a pattern without `/` matches a file
//! or directory name at any depth, one with `/` is anchored to the directory searched, `**`
//! matches any number of directories, a trailing `/` matches directories only. Patterns come
//! from command lines a pull request may write, so matching never backtracks more than once per
//! star: one path against one pattern costs at most (pattern length + 1) x (path length + 1)
//! steps, and patterns are capped in length and number.

use std::fmt;
use std::str::FromStr;

/// The longest pattern, in bytes.
pub const MAX_PATTERN_BYTES: usize = 1024;

/// The most patterns a run takes.
pub const MAX_PATTERNS: usize = 256;

/// One `--exclude` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// As written, for messages.
    text: String,
    /// What the path's components must match, in order.
    segments: Vec<Segment>,
    /// A trailing `/`: directories only.
    directories_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `**`: any number of components, none included.
    AnyComponents,
    /// One component.
    Name(Vec<Token>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `?`: one character.
    AnyChar,
    /// `*`: any characters (consecutive stars are one).
    Star,
    /// `[a-z]`, `[!.]`: one character in (or, negated, not in) the ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Token {
    fn matches(&self, c: char) -> bool {
        match self {
            Token::Char(expected) => *expected == c,
            Token::AnyChar => true,
            Token::Star => false,
            Token::Class { negated, ranges } => {
                ranges.iter().any(|(low, high)| (*low..=*high).contains(&c)) != *negated
            }
        }
    }
}

/// Why a pattern is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--exclude `{pattern}`: {reason}")]
pub struct PatternError {
    pattern: String,
    reason: String,
}

impl FromStr for Pattern {
    type Err = PatternError;

    fn from_str(text: &str) -> Result<Self, PatternError> {
        let refuse = |reason: &str| PatternError {
            pattern: text.chars().take(80).collect(),
            reason: reason.to_string(),
        };
        if text.len() > MAX_PATTERN_BYTES {
            return Err(refuse(&format!(
                "longer than {MAX_PATTERN_BYTES} bytes, the limit"
            )));
        }
        if text.starts_with('!') {
            return Err(refuse(
                "negation (`!`) is not supported: name only what to leave out (`\\!` for a name \
                 that starts with `!`)",
            ));
        }
        let directories_only = text.ends_with('/');
        let body = text.trim_end_matches('/');
        // A `/` at the start or in the middle anchors the pattern; without one it matches a
        // name at any depth, as if written `**/name`.
        let anchored = body.contains('/');
        let body = body.strip_prefix('/').unwrap_or(body);
        if body.is_empty() {
            return Err(refuse("it names nothing"));
        }
        let mut segments = Vec::new();
        if !anchored {
            segments.push(Segment::AnyComponents);
        }
        let parts: Vec<&str> = body.split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            match *part {
                "" => return Err(refuse("empty path segment (`//`)")),
                "." | ".." => {
                    return Err(refuse(
                        "`.` and `..` never match: patterns are relative to the directory searched",
                    ));
                }
                "**" if i + 1 == parts.len() && i > 0 => {
                    // `dir/**`: everything inside dir, not dir itself.
                    segments.push(Segment::Name(vec![Token::Star]));
                    segments.push(Segment::AnyComponents);
                }
                "**" => {
                    if segments.last() != Some(&Segment::AnyComponents) {
                        segments.push(Segment::AnyComponents);
                    }
                }
                name => segments.push(Segment::Name(tokens(name).map_err(|r| refuse(&r))?)),
            }
        }
        Ok(Pattern {
            text: text.to_string(),
            segments,
            directories_only,
        })
    }
}

/// The tokens of one path segment.
fn tokens(name: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        let token = match c {
            '\\' => Token::Char(chars.next().ok_or("a `\\` at the end escapes nothing")?),
            '?' => Token::AnyChar,
            '*' if tokens.last() == Some(&Token::Star) => continue,
            '*' => Token::Star,
            '[' => {
                let mut negated = false;
                let mut ranges = Vec::new();
                let mut first = true;
                loop {
                    let Some(c) = chars.next() else {
                        return Err("`[` without its `]`".into());
                    };
                    match c {
                        '!' | '^' if first && !negated => {
                            negated = true;
                            continue;
                        }
                        ']' if !first => break,
                        _ => {}
                    }
                    first = false;
                    let low = if c == '\\' {
                        chars.next().ok_or("`[` without its `]`")?
                    } else {
                        c
                    };
                    // `a-z`; a `-` before `]` is itself.
                    let mut ahead = chars.clone();
                    let high = match (ahead.next(), ahead.next()) {
                        (Some('-'), Some(high)) if high != ']' => {
                            chars.next();
                            chars.next();
                            high
                        }
                        _ => low,
                    };
                    if high < low {
                        return Err(format!("range `{low}-{high}` is backwards"));
                    }
                    ranges.push((low, high));
                }
                Token::Class { negated, ranges }
            }
            c => Token::Char(c),
        };
        tokens.push(token);
    }
    Ok(tokens)
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Pattern {
    /// Whether the path `components` (relative to the directory searched; `is_dir` for a
    /// directory) is excluded.
    pub fn matches(&self, components: &[&str], is_dir: bool) -> bool {
        if self.directories_only && !is_dir {
            return false;
        }
        let mut steps = 0;
        match_components(&self.segments, components, &mut steps)
    }
}

/// The `--exclude` patterns of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclude {
    patterns: Vec<Pattern>,
}

impl Exclude {
    /// The patterns; more than [`MAX_PATTERNS`] is an error.
    pub fn new(patterns: Vec<Pattern>) -> Result<Self, String> {
        if patterns.len() > MAX_PATTERNS {
            return Err(format!(
                "{} --exclude patterns, more than {MAX_PATTERNS}, the limit",
                patterns.len()
            ));
        }
        Ok(Exclude { patterns })
    }

    /// Whether the path `components`, relative to the directory searched, is excluded.
    pub fn excludes(&self, components: &[&str], is_dir: bool) -> bool {
        self.patterns.iter().any(|p| p.matches(components, is_dir))
    }

    /// Whether there are no patterns.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// Matches components against segments, `**` taking as few components as it can and one more
/// each time what follows fails: the last `**` is the only one ever retried, as the last star
/// is in [`match_name`], so the cost stays a product of the lengths, never exponential.
fn match_components(segments: &[Segment], components: &[&str], steps: &mut usize) -> bool {
    let (mut s, mut c) = (0, 0);
    let mut retry: Option<(usize, usize)> = None;
    while c < components.len() {
        *steps += 1;
        match segments.get(s) {
            Some(Segment::AnyComponents) => {
                retry = Some((s, c));
                s += 1;
                continue;
            }
            Some(Segment::Name(tokens)) if match_name(tokens, components[c], steps) => {
                s += 1;
                c += 1;
                continue;
            }
            _ => {}
        }
        match retry {
            Some((star, from)) => {
                s = star + 1;
                c = from + 1;
                retry = Some((star, from + 1));
            }
            None => return false,
        }
    }
    segments[s..]
        .iter()
        .all(|segment| *segment == Segment::AnyComponents)
}

/// Matches one name against the tokens of a segment, each star retried one character further
/// when what follows it fails: (tokens + 1) x (characters + 1) steps at most.
fn match_name(tokens: &[Token], name: &str, steps: &mut usize) -> bool {
    let chars: Vec<char> = name.chars().collect();
    let (mut t, mut i) = (0, 0);
    let mut retry: Option<(usize, usize)> = None;
    while i < chars.len() {
        *steps += 1;
        match tokens.get(t) {
            Some(Token::Star) => {
                retry = Some((t, i));
                t += 1;
                continue;
            }
            Some(token) if token.matches(chars[i]) => {
                t += 1;
                i += 1;
                continue;
            }
            _ => {}
        }
        match retry {
            Some((star, from)) => {
                t = star + 1;
                i = from + 1;
                retry = Some((star, from + 1));
            }
            None => return false,
        }
    }
    tokens[t..].iter().all(|token| *token == Token::Star)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excludes(pattern: &str, path: &str, is_dir: bool) -> bool {
        let pattern: Pattern = pattern.parse().unwrap();
        let components: Vec<&str> = path.split('/').collect();
        pattern.matches(&components, is_dir)
    }

    #[test]
    fn names_without_a_slash_match_at_any_depth() {
        assert!(excludes("*.tpl.yaml", "a.tpl.yaml", false));
        assert!(excludes("*.tpl.yaml", "deep/er/a.tpl.yaml", false));
        assert!(!excludes("*.tpl.yaml", "a.yaml", false));
        assert!(excludes("charts", "charts", true));
        assert!(excludes("charts", "x/charts", true));
        assert!(excludes("charts", "x/charts", false), "a file named so too");
        assert!(!excludes("charts", "mycharts", true));
        assert!(excludes("?.yaml", "a.yaml", false));
        assert!(!excludes("?.yaml", "ab.yaml", false));
        assert!(excludes("[ab]*.yaml", "b1.yaml", false));
        assert!(!excludes("[!ab]*.yaml", "b1.yaml", false));
        assert!(excludes("[a-c]x", "bx", false));
        assert!(excludes("\\*.yaml", "*.yaml", false));
        assert!(!excludes("\\*.yaml", "a.yaml", false));
        assert!(excludes("\\!keep", "!keep", false));
    }

    #[test]
    fn a_slash_anchors_to_the_directory_searched() {
        assert!(excludes("overlays/dev/*", "overlays/dev/a.yaml", false));
        assert!(excludes("overlays/dev/*", "overlays/dev/sub", true));
        assert!(!excludes("overlays/dev/*", "x/overlays/dev/a.yaml", false));
        assert!(!excludes("overlays/dev/*", "overlays/dev", true));
        assert!(excludes("/base", "base", true));
        assert!(!excludes("/base", "x/base", true));
        assert!(
            !excludes("overlays/*", "overlays/dev/a.yaml", false),
            "* stays in a name"
        );
    }

    #[test]
    fn double_stars_match_any_number_of_directories() {
        assert!(excludes("**/test/*.yaml", "test/a.yaml", false));
        assert!(excludes("**/test/*.yaml", "a/b/test/a.yaml", false));
        assert!(excludes("a/**/b", "a/b", true));
        assert!(excludes("a/**/b", "a/x/y/b", true));
        assert!(!excludes("a/**/b", "a/x/y/c", true));
        assert!(excludes("gen/**", "gen/x", false));
        assert!(excludes("gen/**", "gen/x/y.yaml", false));
        assert!(
            !excludes("gen/**", "gen", false),
            "gen/** is what is inside gen"
        );
        assert!(excludes("a/**/**/b", "a/b", true));
    }

    #[test]
    fn a_trailing_slash_matches_directories_only() {
        assert!(excludes("charts/", "x/charts", true));
        assert!(!excludes("charts/", "x/charts", false));
        assert!(excludes("overlays/dev/", "overlays/dev", true));
    }

    #[test]
    fn mistakes_are_refused_with_the_reason() {
        for (pattern, reason) in [
            ("", "it names nothing"),
            ("/", "it names nothing"),
            ("!x", "negation"),
            ("a//b", "empty path segment"),
            ("./a", "`.` and `..` never match"),
            ("a/../b", "`.` and `..` never match"),
            ("[ab", "without its `]`"),
            ("[z-a]", "backwards"),
            ("x\\", "escapes nothing"),
        ] {
            let err = pattern.parse::<Pattern>().unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("--exclude `{pattern}`: ")) && err.contains(reason),
                "{pattern:?}: {err}"
            );
        }
        let long = "a".repeat(MAX_PATTERN_BYTES + 1);
        assert!(
            long.parse::<Pattern>()
                .unwrap_err()
                .to_string()
                .contains("longer than 1024 bytes")
        );
        let many: Vec<Pattern> = (0..=MAX_PATTERNS).map(|_| "x".parse().unwrap()).collect();
        assert_eq!(
            Exclude::new(many).unwrap_err(),
            "257 --exclude patterns, more than 256, the limit"
        );
    }

    #[test]
    fn hostile_patterns_cost_a_product_of_the_lengths_not_an_exponential() {
        // Stars that all have to be retried: `*a*a*a...*b` against `aaaa...`.
        let tokens = tokens(&format!("{}b", "*a".repeat(200))).unwrap();
        let name = "a".repeat(250);
        let mut steps = 0;
        assert!(!match_name(&tokens, &name, &mut steps));
        assert!(
            steps <= (tokens.len() + 1) * (name.len() + 1),
            "{steps} steps"
        );
        // Runs of stars are one star.
        assert_eq!(super::tokens("*****a").unwrap().len(), 2);
        // Double stars against deep paths.
        let pattern: Pattern = format!("{}x", "**/a/".repeat(100)).parse().unwrap();
        let path = vec!["a"; 300];
        let mut steps = 0;
        assert!(!match_components(&pattern.segments, &path, &mut steps));
        assert!(
            steps <= (pattern.segments.len() + 1) * (path.len() + 1) * 2,
            "{steps} steps"
        );
    }
}
