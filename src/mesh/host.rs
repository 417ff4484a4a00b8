//! Host names as Istio resolves them between objects (`pilot/pkg/model`'s
//! `ResolveShortnameToFQDN`): a name without a dot is a Service of the referring object's
//! namespace, every other name is taken as written; and a map that finds a host by its name and
//! by the wildcards that cover it (`host.Name.Matches`).

use std::collections::HashMap;

/// The DNS domain of Kubernetes Services, which Istio appends to short names.
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// The name `host`, written in an object of `namespace`, refers to: `reviews` in `shop` is
/// `reviews.shop.svc.cluster.local`; `reviews.prod`, `reviews.prod.svc.cluster.local`,
/// `api.example.com`, `*.example.com`, `*` and IP addresses stay as written (Istio does not
/// complete a name with a dot, so `reviews.prod` names no Service). Lower-cased: DNS names
/// compare without case.
pub fn resolve(host: &str, namespace: &str) -> String {
    let host = host.to_ascii_lowercase();
    if host.is_empty() || host == "*" || host.contains('.') || host.contains(':') {
        return host;
    }
    format!(
        "{host}.{}.svc.{CLUSTER_DOMAIN}",
        namespace.to_ascii_lowercase()
    )
}

/// A gateway reference as Istio resolves it (`resolveGatewayName`), written in an object of
/// `namespace`: `mesh` as it is, `namespace/name` as written, `./name` and a short name in
/// `namespace`, the legacy `name.namespace[.svc.cluster.local]` as `namespace/name`.
pub fn gateway(written: &str, namespace: &str) -> String {
    if written == "mesh" {
        return written.to_string();
    }
    match written.split_once('/') {
        Some((".", name)) => format!("{namespace}/{name}"),
        Some(_) => written.to_string(),
        None => match written.split_once('.') {
            None => format!("{namespace}/{written}"),
            Some((name, rest)) => {
                let gateway_namespace = rest.split('.').next().unwrap_or(rest);
                format!("{gateway_namespace}/{name}")
            }
        },
    }
}

/// Values by host, found for a resolved host by its name and by every wildcard that covers it:
/// one hash look-up per label of the host, however many hosts the map holds.
#[derive(Debug, Clone)]
pub struct HostMap<T> {
    /// By exact name.
    exact: HashMap<String, Vec<T>>,
    /// By the suffix after a wildcard's `*` (`.example.com`; empty for `*`).
    wildcards: HashMap<String, Vec<T>>,
}

impl<T> Default for HostMap<T> {
    fn default() -> Self {
        HostMap {
            exact: HashMap::new(),
            wildcards: HashMap::new(),
        }
    }
}

impl<T> HostMap<T> {
    /// Files `value` under the resolved host `host` (a name, `*.suffix` or `*`).
    pub fn insert(&mut self, host: &str, value: T) {
        match host.strip_prefix('*') {
            Some(suffix) => self.wildcards.entry(suffix.to_string()),
            None => self.exact.entry(host.to_string()),
        }
        .or_default()
        .push(value);
    }

    /// The values filed under `host` or a wildcard that covers it: exact ones first, then the
    /// wildcards from the narrowest. A wildcard `host` is matched by name only.
    pub fn matching<'a>(&'a self, host: &str) -> impl Iterator<Item = &'a T> + 'a {
        let lists: Vec<&'a Vec<T>> = match host.strip_prefix('*') {
            Some(suffix) => self.wildcards.get(suffix).into_iter().collect(),
            None => self
                .exact
                .get(host)
                .into_iter()
                .chain(
                    host.match_indices('.')
                        .map(|(at, _)| &host[at..])
                        .chain(std::iter::once(""))
                        .filter_map(|suffix| self.wildcards.get(suffix)),
                )
                .collect(),
        };
        lists.into_iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_services_of_the_referring_namespace() {
        for (written, resolved) in [
            ("reviews", "reviews.shop.svc.cluster.local"),
            ("Reviews", "reviews.shop.svc.cluster.local"),
            ("reviews.prod", "reviews.prod"),
            ("reviews.prod.svc", "reviews.prod.svc"),
            (
                "reviews.prod.svc.cluster.local",
                "reviews.prod.svc.cluster.local",
            ),
            ("api.example.com", "api.example.com"),
            ("*.example.com", "*.example.com"),
            ("*", "*"),
            ("10.0.0.1", "10.0.0.1"),
            ("2001:db8::1", "2001:db8::1"),
            ("", ""),
        ] {
            assert_eq!(resolve(written, "shop"), resolved, "{written}");
        }
    }

    #[test]
    fn host_maps_find_names_and_covering_wildcards() {
        let mut map = HostMap::default();
        for (host, value) in [
            ("api.example.com", 1),
            ("*.example.com", 2),
            ("*", 3),
            ("*.eu.example.com", 4),
        ] {
            map.insert(host, value);
        }
        let found = |host: &str| map.matching(host).copied().collect::<Vec<_>>();
        assert_eq!(found("api.example.com"), [1, 2, 3]);
        assert_eq!(found("web.eu.example.com"), [4, 2, 3]);
        assert_eq!(found("example.org"), [3]);
        assert_eq!(found("*.example.com"), [2]);
    }
}
