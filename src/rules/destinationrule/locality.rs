//! Locality-weighted and zone-aware load balancing (Istio's `ValidateLocalityLbSetting`,
//! `ValidateZoneAwareLbSetting` and `validateLocalities`): `distribute` or `failover`, weights
//! that add up to 100, localities that do not overlap, region-only failover between different
//! regions, and outlier detection beside any failover (a warning: without it nothing fails over).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::{Walk, field, non_empty_list, text};
use crate::rules::numbers::{IntType, Integer, integer};
use crate::rules::{FieldPath, IstioVersion, Rule};

const RULE: Rule = Rule::DestinationRuleLoadBalancer;

/// Since when Istio refuses topology labels in `failoverPriority` beside `failover`.
const FAILOVER_TOPOLOGY_SINCE: IstioVersion = IstioVersion::new(1, 20);

/// The topology labels the locality levels are read from.
const TOPOLOGY_LABELS: &[&str] = &[
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.istio.io/subzone",
];

/// Checks a `localityLbSetting`. Like Istio, it stops at the first error of `distribute`.
pub(super) fn locality_lb(
    walk: &mut Walk<'_>,
    setting: &Map<String, Value>,
    path: &FieldPath,
    has_outlier: bool,
) {
    let distribute = non_empty_list(setting, "distribute");
    let failover = non_empty_list(setting, "failover");
    let priority = non_empty_list(setting, "failoverPriority");
    if let (Some(_), Some((key, _))) = (distribute, failover) {
        walk.error(
            RULE,
            path.field(key),
            "distribute and failover cannot be set together: keep one",
        );
        return;
    }
    if let (Some(_), Some((key, labels))) = (failover, priority)
        && let Some((i, label)) = topology_label(labels)
    {
        let refused = walk.oldest >= FAILOVER_TOPOLOGY_SINCE;
        walk.error_since(
            FAILOVER_TOPOLOGY_SINCE,
            RULE,
            path.field(key).index(i),
            format!(
                "{label} orders failover by locality, which failover already does: remove it \
                 from failoverPriority, or remove failover"
            ),
        );
        if refused {
            return;
        }
    }
    if let Some((key, entries)) = distribute
        && !self::distribute(walk, entries, &path.field(key))
    {
        return;
    }
    failover_warning(walk, failover, priority, path, has_outlier);
    if let Some((key, entries)) = failover {
        failovers(walk, entries, &path.field(key), "locality");
    }
}

/// Checks a `zoneAwareLbSetting`: failover is between regions only (zones and subzones are
/// ordered by Envoy), and the topology labels have no place in `failoverPriority`.
pub(super) fn zone_aware(
    walk: &mut Walk<'_>,
    setting: &Map<String, Value>,
    path: &FieldPath,
    has_outlier: bool,
) {
    let failover = non_empty_list(setting, "failover");
    let priority = non_empty_list(setting, "failoverPriority");
    if let Some((key, labels)) = priority {
        for (i, label) in labels.iter().enumerate() {
            if let Some(label) = label.as_str().filter(|l| TOPOLOGY_LABELS.contains(l)) {
                walk.error(
                    RULE,
                    path.field(key).index(i),
                    format!(
                        "{label}: zone-aware balancing orders regions, zones and subzones \
                         itself: remove it from failoverPriority"
                    ),
                );
            }
        }
    }
    failover_warning(walk, failover, priority, path, has_outlier);
    if let Some((key, entries)) = failover {
        failovers(walk, entries, &path.field(key), "zone-aware");
    }
}

fn topology_label(labels: &[Value]) -> Option<(usize, &str)> {
    labels.iter().enumerate().find_map(|(i, l)| {
        l.as_str()
            .filter(|l| TOPOLOGY_LABELS.contains(l))
            .map(|l| (i, l))
    })
}

fn failover_warning(
    walk: &mut Walk<'_>,
    failover: Option<(&str, &[Value])>,
    priority: Option<(&str, &[Value])>,
    path: &FieldPath,
    has_outlier: bool,
) {
    if let Some((key, _)) = failover.or(priority)
        && !has_outlier
    {
        walk.warning(
            RULE,
            path.field(key),
            "failover needs outlier detection to notice unhealthy endpoints: add \
             outlierDetection to the same traffic policy",
        );
    }
}

/// `from`/`to` region pairs: different regions, no zones, no wildcards.
fn failovers(walk: &mut Walk<'_>, entries: &[Value], path: &FieldPath, setting: &str) {
    for (i, entry) in entries.iter().enumerate() {
        let Value::Object(entry) = entry else {
            continue;
        };
        let (from, to) = (text(entry, "from"), text(entry, "to"));
        let entry_path = || path.index(i);
        if from == to {
            walk.error(
                RULE,
                entry_path(),
                format!("{setting} failover from {from:?} to the same region: name another region in `to`"),
            );
        }
        for (name, region) in [("from", from), ("to", to)] {
            if region.contains('/') {
                walk.error(
                    RULE,
                    entry_path().field(name),
                    format!("{setting} failover is between regions: write the region of {region:?} alone"),
                );
            }
            if region.contains('*') {
                walk.error(
                    RULE,
                    entry_path().field(name),
                    format!("{setting} failover region {region:?} has a `*`: name the region"),
                );
            }
        }
    }
}

/// The `distribute` entries: weights 1-100 adding up to 100, localities without overlaps.
/// Returns whether checking may go on (Istio stops at a weight error).
fn distribute(walk: &mut Walk<'_>, entries: &[Value], path: &FieldPath) -> bool {
    // Which entry each source locality is from; paths are built only for a finding.
    let mut sources: Vec<(usize, &str)> = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let Value::Object(entry) = entry else {
            continue;
        };
        sources.push((i, text(entry, "from")));
        let Some((to_key, Value::Object(to))) = field(entry, "to") else {
            // No `to` at all: its total, 0, is not 100.
            walk.error(
                RULE,
                path.index(i).field("to"),
                "total locality weight 0 is not 100: give `to` weights adding up to 100",
            );
            return false;
        };
        let to_path = || path.index(i).field(to_key);
        // Each weight is at most 100, so the total of any number of them fits an i128.
        let mut total: i128 = 0;
        for (locality, weight) in to {
            match integer(weight, IntType::Uint32) {
                Some(Integer::Value(n)) if (1..=100).contains(&n) => total += n,
                _ => {
                    walk.error(
                        RULE,
                        to_path().key(locality),
                        format!("locality weight {weight} is not within 1-100"),
                    );
                    return false;
                }
            }
        }
        if total != 100 {
            walk.error(
                RULE,
                to_path(),
                format!("total locality weight {total} is not 100: make the weights add up to 100"),
            );
            return false;
        }
        if let Some((position, problem)) = first_bad_locality(to.keys().map(String::as_str))
            && let Some(locality) = to.keys().nth(position)
        {
            walk.error(RULE, to_path().key(locality), problem);
        }
    }
    let froms = sources.iter().map(|(_, from)| *from);
    if let Some((position, problem)) = first_bad_locality(froms) {
        walk.error(RULE, path.index(sources[position].0).field("from"), problem);
    }
    true
}

/// The zones of a region, each with its subzones; `*` stands for all of a level.
type Zones<'a> = HashMap<&'a str, HashSet<&'a str>>;

/// Istio's `validateLocalities`: `region[/zone[/subzone]]`, no empty part, at most one `*` and
/// only at the end, and no locality inside one listed before it. Returns the position of the
/// first locality that breaks this, with the message saying why.
fn first_bad_locality<'a>(localities: impl Iterator<Item = &'a str>) -> Option<(usize, String)> {
    let mut regions: HashMap<&str, Zones<'_>> = HashMap::new();
    for (position, locality) in localities.enumerate() {
        let stars = locality.matches('*').count();
        let problem = if stars > 1 || (stars == 1 && !locality.ends_with('*')) {
            Some("may hold one `*`, as its last part".to_string())
        } else if regions.contains_key("*") {
            Some("overlaps `*`, listed before it".to_string())
        } else {
            let parts: Vec<&str> = locality.splitn(3, '/').collect();
            if parts.iter().any(|p| p.is_empty()) {
                Some("has an empty region, zone or subzone".to_string())
            } else if !insert(&mut regions, &parts) {
                Some("overlaps a locality listed before it".to_string())
            } else {
                None
            }
        };
        if let Some(problem) = problem {
            return Some((position, format!("locality {locality:?} {problem}")));
        }
    }
    None
}

/// Adds `region[/zone[/subzone]]` to the localities seen; false when it overlaps one of them.
fn insert<'a>(regions: &mut HashMap<&'a str, Zones<'a>>, parts: &[&'a str]) -> bool {
    match *parts {
        [region] => {
            if regions.contains_key(region) {
                return false;
            }
            regions.insert(region, HashMap::from([("*", HashSet::from(["*"]))]));
        }
        [region, zone] => {
            let zones = regions.entry(region).or_default();
            if zones.contains_key("*") || zones.contains_key(zone) {
                return false;
            }
            zones.insert(zone, HashSet::from(["*"]));
        }
        [region, zone, subzone] => {
            let zones = regions.entry(region).or_default();
            if zones.contains_key("*") {
                return false;
            }
            let subzones = zones.entry(zone).or_default();
            if subzones.contains("*") || !subzones.insert(subzone) {
                return false;
            }
        }
        _ => {}
    }
    true
}

#[cfg(test)]
mod tests {
    use crate::rules::Severity;
    use crate::rules::destinationrule::spec::tests::run;
    use serde_json::{Value, json};

    fn lb(setting: &str, value: Value, outlier: bool) -> Vec<(String, Severity, String)> {
        let mut policy = json!({"loadBalancer": {setting: value}});
        if outlier {
            policy["outlierDetection"] = json!({});
        }
        run(json!({"host": "r", "trafficPolicy": policy}))
            .into_iter()
            .inspect(|f| assert_eq!(f.rule.to_string(), "destinationrule-load-balancer"))
            .map(|f| (f.path.to_string(), f.severity, f.message))
            .collect()
    }

    fn from(localities: &[&str]) -> Value {
        let entries: Vec<Value> = localities
            .iter()
            .map(|l| json!({"from": l, "to": {"r/z/s": 100}}))
            .collect();
        json!({"distribute": entries})
    }

    #[test]
    fn overlapping_and_malformed_localities() {
        let p = "spec.trafficPolicy.loadBalancer.localityLbSetting.distribute";
        for (list, bad, problem) in [
            (&["*/zone/*"][..], 0, "may hold one `*`, as its last part"),
            (&["*/zone"], 0, "may hold one `*`, as its last part"),
            (&["*", "a/b/c"], 1, "overlaps `*`, listed before it"),
            (&["a", "a/b/c"], 1, "overlaps a locality listed before it"),
            (&["a/*", "a/b/c"], 1, "overlaps a locality listed before it"),
            (&["a/b", "a/b/c"], 1, "overlaps a locality listed before it"),
            (
                &["a/b/*", "a/b/c"],
                1,
                "overlaps a locality listed before it",
            ),
            (&["a//c"], 0, "has an empty region, zone or subzone"),
        ] {
            let locality = list[bad];
            assert_eq!(
                lb("localityLbSetting", from(list), false),
                [(
                    format!("{p}[{bad}].from"),
                    Severity::Error,
                    format!("locality {locality:?} {problem}")
                )],
                "{list:?}"
            );
        }
        assert_eq!(
            lb("localityLbSetting", from(&["a", "b", "a"]), false)[0].0,
            format!("{p}[2].from"),
            "the second of two equal localities is the one that overlaps"
        );
        assert_eq!(
            lb(
                "localityLbSetting",
                json!({"distribute": [{"from": "a", "to": {"b/*": 50, "b/c": 50}}]}),
                false
            ),
            [(
                format!("{p}[0].to[b/c]"),
                Severity::Error,
                "locality \"b/c\" overlaps a locality listed before it".to_string()
            )]
        );
        assert!(
            lb(
                "localityLbSetting",
                from(&["a1/*", "a2/*", "a3/b3/c3", "a4/b4", "a5/b5/*", "a3/b3/c4"]),
                false
            )
            .is_empty()
        );
    }

    #[test]
    fn weights_failover_and_outlier_detection() {
        let p = "spec.trafficPolicy.loadBalancer.localityLbSetting";
        assert_eq!(
            lb(
                "localityLbSetting",
                json!({"distribute": [{"from": "a", "to": {"a/b": 80, "c": 25}}]}),
                true
            ),
            [(
                format!("{p}.distribute[0].to"),
                Severity::Error,
                "total locality weight 105 is not 100: make the weights add up to 100".to_string()
            )]
        );
        assert_eq!(
            lb(
                "localityLbSetting",
                json!({"distribute": [{"from": "a", "to": {"a/b": 0, "c": 100}}]}),
                true
            )[0]
            .2,
            "locality weight 0 is not within 1-100"
        );
        assert_eq!(
            lb("localityLbSetting", json!({"failover": [{"from": "r1", "to": "r1/z"}]}), false),
            [
                (format!("{p}.failover"), Severity::Warning, "failover needs outlier detection to notice unhealthy endpoints: add outlierDetection to the same traffic policy".to_string()),
                (format!("{p}.failover[0].to"), Severity::Error, "locality failover is between regions: write the region of \"r1/z\" alone".to_string()),
            ]
        );
        assert_eq!(
            lb("localityLbSetting", json!({"failover": [{"from": "r1", "to": "r2"}], "failoverPriority": ["topology.kubernetes.io/region"]}), true)[0].0,
            format!("{p}.failoverPriority[0]")
        );
        let z = "spec.trafficPolicy.loadBalancer.zoneAwareLbSetting";
        assert_eq!(
            lb("zoneAwareLbSetting", json!({"failoverPriority": ["version", "topology.istio.io/subzone"], "failover": [{"from": "*", "to": "*"}]}), true),
            [
                (format!("{z}.failoverPriority[1]"), Severity::Error, "topology.istio.io/subzone: zone-aware balancing orders regions, zones and subzones itself: remove it from failoverPriority".to_string()),
                (format!("{z}.failover[0]"), Severity::Error, "zone-aware failover from \"*\" to the same region: name another region in `to`".to_string()),
                (format!("{z}.failover[0].from"), Severity::Error, "zone-aware failover region \"*\" has a `*`: name the region".to_string()),
                (format!("{z}.failover[0].to"), Severity::Error, "zone-aware failover region \"*\" has a `*`: name the region".to_string()),
            ]
        );
        assert!(lb("zoneAwareLbSetting", json!({"enabled": true}), false).is_empty());
    }
}
