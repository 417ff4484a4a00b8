//! "Did you mean": the catalog rule nearest to a mistyped rule id, for `meshgate explain` and the
//! policy loader.

use super::Rule;
use super::spelling::edit_distance;

/// No id is longer than this; a longer input is no typo of one and costs no comparison.
const LONGEST_INPUT: usize = 80;

impl Rule {
    /// The rule whose id is nearest to `id`, if one is near enough to be what was meant: within
    /// an edit distance of 2, or of one per 8 characters for long ids, after ignoring case,
    /// `_` for `-`, and a plural `s` on any word (`virtualservice-weight`,
    /// `namespace-injection-conflicts`). `None` when nothing is that near, or when two rules are
    /// equally near (a guess between them would mislead). An exact id gives its rule.
    pub fn closest(id: &str) -> Option<Rule> {
        let nearest = nearest(id, Rule::ALL.iter().map(|rule| rule.id()))?;
        Rule::ALL.iter().copied().find(|rule| rule.id() == nearest)
    }
}

/// The candidate nearest to `typed` within its threshold; `None` for none or a tie.
fn nearest<'a>(typed: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    if typed.chars().count() > LONGEST_INPUT {
        return None;
    }
    let typed = normalized(typed);
    let typed_singular = singular(&typed);
    let mut best: Option<(usize, &str)> = None;
    let mut tied = false;
    for candidate in candidates {
        let distance = edit_distance(&typed, candidate)
            .min(edit_distance(&typed_singular, &singular(candidate)));
        if distance > threshold(candidate) {
            continue;
        }
        match best {
            Some((nearest, _)) if distance > nearest => {}
            Some((nearest, _)) if distance == nearest => tied = true,
            _ => {
                best = Some((distance, candidate));
                tied = false;
            }
        }
    }
    best.filter(|_| !tied).map(|(_, candidate)| candidate)
}

/// How far a typo of `id` may be from it.
fn threshold(id: &str) -> usize {
    (id.len() / 8).max(2)
}

/// Lowercase, with `_` and spaces read as `-`.
fn normalized(id: &str) -> String {
    id.trim()
        .chars()
        .map(|c| match c {
            '_' | ' ' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Each `-`-separated word without a trailing `s`: `hosts` and `host` compare equal.
fn singular(id: &str) -> String {
    id.split('-')
        .map(|word| word.strip_suffix('s').unwrap_or(word))
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_find_their_rule() {
        for (typed, meant) in [
            ("virtualservice-weight", Rule::VirtualServiceWeights),
            (
                "namespace-injection-conflicts",
                Rule::NamespaceInjectionConflict,
            ),
            ("serviceentry-host", Rule::ServiceEntryHosts),
            ("virtualservice-wieghts", Rule::VirtualServiceWeights),
            ("VirtualService_Weights", Rule::VirtualServiceWeights),
            (
                "virtualservices-destination",
                Rule::VirtualServiceDestinations,
            ),
            ("serviceentry-exportto", Rule::ServiceEntryExportTo),
            ("virtualservice-weights", Rule::VirtualServiceWeights),
        ] {
            assert_eq!(Rule::closest(typed), Some(meant), "{typed}");
        }
    }

    #[test]
    fn nonsense_and_ambiguity_find_nothing() {
        for typed in [
            "",
            "nope",
            "foo-bar",
            "virtualservice-nope",
            "virtualservice",
            "serviceentry",
            "deny",
            &"virtualservice-weights".repeat(10),
        ] {
            assert_eq!(Rule::closest(typed), None, "{typed}");
        }
    }

    #[test]
    fn a_tie_suggests_nothing() {
        let ids = ["mesh-alpha", "mesh-alphb"];
        assert_eq!(nearest("mesh-alpha", ids.into_iter()), Some("mesh-alpha"));
        assert_eq!(nearest("mesh-alphc", ids.into_iter()), None);
        assert_eq!(nearest("mesh-alphas", ids.into_iter()), Some("mesh-alpha"));
    }

    #[test]
    fn every_id_is_its_own_closest() {
        for rule in Rule::ALL {
            assert_eq!(Rule::closest(rule.id()), Some(*rule));
        }
    }
}
