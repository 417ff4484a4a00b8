//! Name and address checks shared by the rules of every kind, with Istio's
//! semantics: DNS-1123 labels, host names with a leading wildcard, IPs and CIDRs, and whether two
//! hosts overlap.

use std::net::IpAddr;

use super::domains::is_label;

/// A Kubernetes DNS-1123 label: 1–63 lowercase letters, digits and `-`, starting and ending
/// alphanumeric — what a Service or namespace name must be (`meshgate certs`). Istio reads labels
/// in Istio objects in either case: `rules::domains::is_label`.
pub fn is_dns1123_label(label: &str) -> bool {
    super::domains::is_label(label) && !label.bytes().any(|b| b.is_ascii_uppercase())
}

/// Istio's `IsWildcardDNS1123Label`: a label, `*`, or a label after `*` or `*-`.
fn is_wildcard_label(label: &str) -> bool {
    label.len() <= 63
        && (label == "*"
            || is_label(label)
            || label
                .strip_prefix("*-")
                .or_else(|| label.strip_prefix('*'))
                .is_some_and(is_label))
}

/// Istio's `CheckDNS1123Preconditions`: not empty, at most 255 characters.
fn length_problem(name: &str) -> Result<(), String> {
    if name.is_empty() {
        Err("it is empty".into())
    } else if name.len() > 255 {
        Err(format!(
            "it is {} characters long, more than 255",
            name.len()
        ))
    } else {
        Ok(())
    }
}

/// Istio's `ValidateDNS1123Labels`: dot-separated labels in either case, an optional final dot
/// (`istio.io.`), and a last label that is not all digits.
fn labels_problem(name: &str) -> Result<(), String> {
    let last = name.rsplit('.').next().unwrap_or(name);
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("its last label {last:?} is all digits"));
    }
    let labels: Vec<&str> = name.split('.').collect();
    for (i, label) in labels.iter().enumerate() {
        if i == labels.len() - 1 && label.is_empty() {
            break;
        }
        if !is_label(label) {
            return Err(format!(
                "label {label:?} is not 1-63 letters, digits or '-'"
            ));
        }
    }
    Ok(())
}

/// Istio's `ValidateFQDN`: why `name` is not a domain name without wildcards, in words that
/// follow "is not a DNS name: " (`it is empty`, `label "a_b" is not ...`).
pub fn fqdn_problem(name: &str) -> Result<(), String> {
    length_problem(name)?;
    labels_problem(name)
}

/// Istio's `ValidateWildcardDomain`: why `name` is not a domain name whose first label may be a
/// wildcard (`*`, `*api`, `*-api`), in words that follow "is not a host name: ".
pub fn wildcard_domain_problem(name: &str) -> Result<(), String> {
    length_problem(name)?;
    let (first, rest) = match name.split_once('.') {
        Some((first, rest)) => (first, Some(rest)),
        None => (name, None),
    };
    if !is_wildcard_label(first) {
        return Err(format!(
            "label {first:?} is not 1-63 letters, digits or '-' (or `*` first)"
        ));
    }
    rest.map_or(Ok(()), labels_problem)
}

/// A fully qualified name without wildcards; `Err` is the whole sentence.
pub fn check_fqdn(name: &str) -> Result<(), String> {
    fqdn_problem(name).map_err(|why| format!("{name:?} is not a DNS name ({why})"))
}

/// A host name whose first label may be a wildcard; `Err` is the whole sentence.
pub fn check_wildcard_domain(name: &str) -> Result<(), String> {
    wildcard_domain_problem(name).map_err(|why| format!("{name:?} is not a host name ({why})"))
}

/// A wildcard anywhere but as the whole first label (`foo*.com`, `*x`): Istio treats it literally.
pub fn is_partial_wildcard(name: &str) -> bool {
    let rest = name.strip_prefix("*.").unwrap_or(name);
    name != "*" && rest.contains('*')
}

/// An IP address, IPv4 or IPv6.
pub fn is_ip(text: &str) -> bool {
    text.parse::<IpAddr>().is_ok()
}

/// An IP address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`).
pub fn parse_ip_or_cidr(text: &str) -> Option<(IpAddr, Option<u8>)> {
    match text.split_once('/') {
        None => text.parse().ok().map(|ip| (ip, None)),
        Some((ip, bits)) => {
            let ip: IpAddr = ip.parse().ok()?;
            // Go's `netip.ParsePrefix`: decimal digits without a sign or a leading zero.
            let canonical = !bits.is_empty()
                && bits.bytes().all(|b| b.is_ascii_digit())
                && (bits == "0" || !bits.starts_with('0'));
            if !canonical {
                return None;
            }
            let bits: u8 = bits.parse().ok()?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            (bits <= max).then_some((ip, Some(bits)))
        }
    }
}

/// Istio's `host.Name.Matches`: equal names, or a wildcard whose suffix covers the other.
pub fn hosts_overlap(a: &str, b: &str) -> bool {
    match (a.strip_prefix('*'), b.strip_prefix('*')) {
        (Some(a_suffix), Some(b_suffix)) => {
            a_suffix.ends_with(b_suffix) || b_suffix.ends_with(a_suffix)
        }
        (Some(a_suffix), None) => b.ends_with(a_suffix),
        (None, Some(b_suffix)) => a.ends_with(b_suffix),
        (None, None) => a == b,
    }
}

/// For each host, the index of the first earlier host it overlaps (as [`hosts_overlap`]), in
/// O(n log n) for n hosts of bounded length: hosts are sorted by their reversed text, so that
/// every host sharing a suffix follows that suffix in one block, and one pass with a stack finds
/// each host's suffixes among the others (where the wildcards that cover it stand) and the block
/// below it (the hosts a wildcard covers). `*` overlaps everything, as its suffix is empty.
pub fn first_overlaps(hosts: &[&str]) -> Vec<Option<usize>> {
    // A host as the suffix it matches (a wildcard without its `*`, an exact name as it is),
    // reversed once so that sorting and suffix tests are plain byte-slice comparisons.
    let mut entries: Vec<(Vec<u8>, bool, usize)> = hosts
        .iter()
        .enumerate()
        .map(|(index, host)| {
            let (suffix, wildcard) = match host.strip_prefix('*') {
                Some(suffix) => (suffix, true),
                None => (*host, false),
            };
            let mut reversed = suffix.as_bytes().to_vec();
            reversed.reverse();
            (reversed, wildcard, index)
        })
        .collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.2.cmp(&b.2)));
    let mut groups: Vec<SuffixGroup<'_>> = Vec::new();
    for (position, (suffix, wildcard, index)) in entries.iter().enumerate() {
        match groups.last_mut() {
            Some(group) if group.reversed == suffix.as_slice() => group.add(*wildcard, *index),
            _ => {
                let mut group = SuffixGroup::new(suffix, position);
                group.add(*wildcard, *index);
                groups.push(group);
            }
        }
    }
    // `above[g]`: the first wildcard among the groups whose suffix is a proper suffix of g's;
    // `below[g]`: the first host among the groups of which g's suffix is a proper suffix.
    let mut above = vec![NONE; groups.len()];
    let mut below = vec![NONE; groups.len()];
    // The groups whose suffixes are suffixes of the current one, longest last.
    let mut stack: Vec<usize> = Vec::new();
    let close = |stack: &mut Vec<usize>, below: &mut [usize]| {
        if let Some(done) = stack.pop() {
            let subtree = below[done].min(groups[done].first_any());
            if let Some(&parent) = stack.last() {
                below[parent] = below[parent].min(subtree);
            }
        }
    };
    for g in 0..groups.len() {
        while let Some(&top) = stack.last() {
            if groups[g].reversed.starts_with(groups[top].reversed) {
                break;
            }
            close(&mut stack, &mut below);
        }
        if let Some(&parent) = stack.last() {
            above[g] = above[parent].min(groups[parent].wildcards[0]);
        }
        stack.push(g);
    }
    while !stack.is_empty() {
        close(&mut stack, &mut below);
    }
    let mut first = vec![None; hosts.len()];
    for (g, group) in groups.iter().enumerate() {
        let end = groups.get(g + 1).map_or(entries.len(), |next| next.start);
        for &(_, wildcard, index) in &entries[group.start..end] {
            let same_kind = group.first_other(wildcard, index);
            let earliest = if wildcard {
                // A wildcard also covers every exact name equal to its suffix or below it.
                above[g].min(same_kind).min(group.exact[0]).min(below[g])
            } else {
                above[g].min(group.wildcards[0]).min(same_kind)
            };
            if earliest < index {
                first[index] = Some(earliest);
            }
        }
    }
    first
}

/// No host.
const NONE: usize = usize::MAX;

/// The hosts that match one suffix (kept reversed): where they start in the sorted entries, and
/// the first two exact names and wildcards (the first other than a given host is all
/// [`first_overlaps`] asks).
struct SuffixGroup<'a> {
    reversed: &'a [u8],
    start: usize,
    exact: [usize; 2],
    wildcards: [usize; 2],
}

impl<'a> SuffixGroup<'a> {
    fn new(reversed: &'a [u8], start: usize) -> Self {
        Self {
            reversed,
            start,
            exact: [NONE; 2],
            wildcards: [NONE; 2],
        }
    }

    /// Members arrive in index order, so the first two kept are the earliest.
    fn add(&mut self, wildcard: bool, index: usize) {
        let slots = if wildcard {
            &mut self.wildcards
        } else {
            &mut self.exact
        };
        if let Some(slot) = slots.iter_mut().find(|slot| **slot == NONE) {
            *slot = index;
        }
    }

    fn first_any(&self) -> usize {
        self.exact[0].min(self.wildcards[0])
    }

    /// The first member of this kind other than `index`.
    fn first_other(&self, wildcard: bool, index: usize) -> usize {
        let slots = if wildcard {
            &self.wildcards
        } else {
            &self.exact
        };
        if slots[0] == index {
            slots[1]
        } else {
            slots[0]
        }
    }
}

/// The namespace a Kubernetes Service host names, if it is one: `svc` (the object's own
/// namespace: `None` here), `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`. Other names are
/// not Services.
pub fn service_namespace(host: &str) -> Option<Option<&str>> {
    let parts: Vec<&str> = host.split('.').collect();
    match parts.as_slice() {
        [_] => Some(None),
        [_, ns] | [_, ns, "svc"] | [_, ns, "svc", "cluster", "local"] => Some(Some(ns)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_as_istio_reads_them() {
        for ok in [
            "reviews",
            "Reviews.Default.svc",
            "*",
            "*.example.com",
            "*-x.io",
            "a.b.",
            "*foo",
        ] {
            assert_eq!(wildcard_domain_problem(ok), Ok(()), "{ok}");
        }
        assert_eq!(wildcard_domain_problem("").unwrap_err(), "it is empty");
        assert_eq!(
            wildcard_domain_problem("foo.*.com").unwrap_err(),
            "label \"*\" is not 1-63 letters, digits or '-'"
        );
        assert_eq!(
            wildcard_domain_problem("a.123").unwrap_err(),
            "its last label \"123\" is all digits"
        );
        assert!(wildcard_domain_problem("a_b").is_err());
        assert!(fqdn_problem("*.example.com").is_err());
        assert_eq!(fqdn_problem("proxy.example.com"), Ok(()));
    }

    #[test]
    fn labels() {
        for good in ["a", "ratings", "v1", "a-b", "0abc"] {
            assert!(is_dns1123_label(good), "{good}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", &"x".repeat(64)] {
            assert!(!is_dns1123_label(bad), "{bad}");
        }
    }

    #[test]
    fn hosts() {
        for good in [
            "ratings",
            "ratings.prod.svc.cluster.local",
            "*.example.com",
            "*",
            "*x",
            "*-x.example.com",
            "a.b-c.com",
            "*-foo.baz",
            // Istio reads host names in either case, and with a trailing dot.
            "Ratings",
            "API.Example.com",
            "a.b.",
            "*.example.com.",
        ] {
            assert_eq!(check_wildcard_domain(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "foo*.com",
            "a..b",
            "a.b..",
            ".",
            "*.*.com",
            "*--.com",
            "a.123",
            "under_score.com",
        ] {
            assert!(check_wildcard_domain(bad).is_err(), "{bad}");
        }
        assert!(check_fqdn("*.example.com").is_err());
        assert!(check_fqdn("api.example.com").is_ok());
        assert!(
            is_partial_wildcard("foo*.com")
                && is_partial_wildcard("*x")
                && is_partial_wildcard("*.a*.com")
        );
        assert!(
            !is_partial_wildcard("*.example.com")
                && !is_partial_wildcard("*")
                && !is_partial_wildcard("a.com")
        );
    }

    #[test]
    fn addresses() {
        assert_eq!(
            parse_ip_or_cidr("10.0.0.1"),
            Some(("10.0.0.1".parse().unwrap(), None))
        );
        assert_eq!(
            parse_ip_or_cidr("240.0.0.0/4"),
            Some(("240.0.0.0".parse().unwrap(), Some(4)))
        );
        assert!(parse_ip_or_cidr("001:db8::").is_some());
        for bad in [
            "10.0.0.1/33",
            "10.0.0/8",
            "host.example",
            "",
            "1.2.3.4/",
            "10.0.0.0/+8",
            "10.0.0.0/08",
            "10.0.0.0/8/8",
        ] {
            assert_eq!(parse_ip_or_cidr(bad), None, "{bad}");
        }
    }

    #[test]
    fn overlap() {
        assert!(hosts_overlap("*.foo.com", "a.foo.com"));
        assert!(hosts_overlap("a.foo.com", "*.foo.com"));
        assert!(hosts_overlap("*.foo.com", "*.a.foo.com"));
        assert!(hosts_overlap("a", "a"));
        assert!(!hosts_overlap("a.foo.com", "b.foo.com"));
        assert!(!hosts_overlap("*.foo.com", "foo.com"));
    }

    /// The definition: the first earlier host that overlaps, compared pairwise.
    fn pairwise(hosts: &[&str]) -> Vec<Option<usize>> {
        (0..hosts.len())
            .map(|j| (0..j).find(|&i| hosts_overlap(hosts[i], hosts[j])))
            .collect()
    }

    /// Suffixes that nest by label and by character (`*a` covers `ba`), `*`, and an IP.
    const POOL: [&str; 12] = [
        "*", "*.a", "*a", "a", "b.a", "ba", "*.b.a", "*ba", "a.b", "*b", "10.0.0.1", "b",
    ];

    #[test]
    fn first_overlaps_agrees_with_pairwise_on_every_short_list() {
        let mut lists: Vec<Vec<&str>> = vec![Vec::new()];
        for _ in 0..4 {
            let longer: Vec<Vec<&str>> = lists
                .iter()
                .filter(|list| list.len() == lists.last().map_or(0, Vec::len))
                .flat_map(|list| {
                    POOL.iter().map(move |host| {
                        let mut next = list.clone();
                        next.push(host);
                        next
                    })
                })
                .collect();
            lists.extend(longer);
        }
        assert_eq!(lists.len(), 1 + 12 + 144 + 1728 + 20736);
        for list in &lists {
            assert_eq!(first_overlaps(list), pairwise(list), "{list:?}");
        }
    }

    #[test]
    fn first_overlaps_agrees_with_pairwise_on_longer_lists() {
        // A fixed linear congruential sequence: the same lists on every run.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..2000 {
            let list: Vec<&str> = (0..16)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    POOL[(state >> 33) as usize % POOL.len()]
                })
                .collect();
            assert_eq!(first_overlaps(&list), pairwise(&list), "{list:?}");
        }
    }

    #[test]
    fn service_hosts() {
        assert_eq!(service_namespace("ratings"), Some(None));
        assert_eq!(service_namespace("ratings.prod"), Some(Some("prod")));
        assert_eq!(service_namespace("ratings.prod.svc"), Some(Some("prod")));
        assert_eq!(
            service_namespace("ratings.prod.svc.cluster.local"),
            Some(Some("prod"))
        );
        assert_eq!(service_namespace("api.example.com"), None);
        assert_eq!(service_namespace("ratings.prod.svc.cluster"), None);
    }
}
