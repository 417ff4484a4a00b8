//! "Did you mean": the catalog's rule id closest to one that is not in it, for the messages
//! of the policy loader and `explain`.

use super::Rule;

/// Ids longer than this are not compared: the distance costs their product.
const LONGEST_COMPARED: usize = 128;

impl Rule {
    /// The rule whose id is closest to `id` when one is close enough to be what was meant:
    /// within a quarter of its length in edits (at least two), or equal but for a plural `s`.
    pub fn closest(id: &str) -> Option<Rule> {
        if id.len() > LONGEST_COMPARED {
            return None;
        }
        let id = id.to_ascii_lowercase();
        Rule::ALL
            .iter()
            .map(|rule| (edit_distance(&id, rule.id()), *rule))
            .filter(|(distance, rule)| *distance <= (rule.id().len() / 4).max(2))
            .min_by_key(|(distance, _)| *distance)
            .map(|(_, rule)| rule)
    }
}

/// Levenshtein distance over bytes (ids are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, &x) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, &y) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(x != y);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_find_their_rule() {
        for (typo, meant) in [
            ("virtualservice-weight", Rule::VirtualServiceWeights),
            ("virtualservice-wieghts", Rule::VirtualServiceWeights),
            (
                "namespace-injection-conflicts",
                Rule::NamespaceInjectionConflict,
            ),
            ("serviceentry-host", Rule::ServiceEntryHosts),
            ("VirtualService-Routes", Rule::VirtualServiceRoutes),
            (
                "destinationrule-deprecated-field",
                Rule::DestinationRuleDeprecatedFields,
            ),
        ] {
            assert_eq!(Rule::closest(typo), Some(meant), "{typo}");
        }
    }

    #[test]
    fn nonsense_finds_nothing() {
        for text in ["weights", "", "sidecar-injection", &"x".repeat(10_000)] {
            assert_eq!(Rule::closest(text), None, "{text}");
        }
    }
}
