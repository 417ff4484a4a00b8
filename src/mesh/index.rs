//! The index of the mesh: small views of the objects that define destination hosts (Services,
//! ServiceEntries, GCPBackends) and their subsets (DestinationRules), by resolved host, so that
//! a cross-object rule answers with look-ups, never a scan. It is fed objects one by one, from
//! files, a cluster list or a watch alike, and keeps no whole object.

use serde_json::{Map, Value};

use super::host::{CLUSTER_DOMAIN, HostMap, resolve};
use super::visibility::{SERVICE_EXPORT_TO, Visibility};
use crate::object::fields::member;

/// What defines a destination host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Service,
    ServiceEntry,
    /// A `networking.gke.io` GCPBackend: its host is `<name>.<namespace>.svc.cluster.local`.
    GcpBackend,
}

/// An object that defines a host: which kind, where, and who sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definer {
    pub source: Source,
    pub namespace: String,
    pub name: String,
    pub visibility: Visibility,
}

/// A DestinationRule's subsets of one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubsetsView {
    pub namespace: String,
    pub name: String,
    pub subsets: Vec<String>,
    pub visibility: Visibility,
}

/// The answer to "what does this host name refer to, seen from that namespace?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// Defined, and visible from the namespace asking.
    Visible(&'a Definer),
    /// Defined only by objects that are not exported to the namespace asking.
    Hidden(&'a Definer),
    /// Nothing the index holds defines it.
    Unknown,
}

/// The mesh as the cross-object rules see it.
#[derive(Debug, Default)]
pub struct Index {
    /// What defines each host: Services, GCPBackends, ServiceEntry hosts.
    hosts: HostMap<Definer>,
    /// DestinationRules by resolved host.
    subsets: HostMap<SubsetsView>,
}

/// `metadata.namespace` and `metadata.name` of an object.
fn identity(object: &Value) -> (String, String) {
    let text = |field| {
        member(object, &["metadata", field])
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    (text("namespace"), text("name"))
}

impl Index {
    /// Adds what `object` defines; `false` for an object of a kind the index does not hold.
    pub fn add(&mut self, object: &Value) -> bool {
        let kind = object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let (namespace, name) = identity(object);
        let spec = object.get("spec").and_then(Value::as_object);
        match kind {
            "Service" => {
                let annotation = member(object, &["metadata", "annotations", SERVICE_EXPORT_TO])
                    .and_then(Value::as_str);
                let host = format!("{name}.{namespace}.svc.{CLUSTER_DOMAIN}");
                let visibility = Visibility::from_annotation(annotation, &namespace);
                self.define(&host, Source::Service, namespace, name, visibility);
            }
            "GCPBackend" => {
                let host = format!("{name}.{namespace}.svc.{CLUSTER_DOMAIN}");
                self.define(&host, Source::GcpBackend, namespace, name, Visibility::All);
            }
            "ServiceEntry" => self.add_service_entry(spec, namespace, name),
            "DestinationRule" => self.add_destination_rule(spec, namespace, name),
            _ => return false,
        }
        true
    }

    fn define(
        &mut self,
        host: &str,
        source: Source,
        namespace: String,
        name: String,
        visibility: Visibility,
    ) {
        let definer = Definer {
            source,
            namespace,
            name,
            visibility,
        };
        self.hosts.insert(host, definer);
    }

    fn add_service_entry(
        &mut self,
        spec: Option<&Map<String, Value>>,
        namespace: String,
        name: String,
    ) {
        let Some(spec) = spec else {
            return;
        };
        let visibility = Visibility::from_export_to(spec.get("exportTo"), &namespace);
        let hosts = spec.get("hosts").and_then(Value::as_array);
        for host in hosts.into_iter().flatten().filter_map(Value::as_str) {
            let host = resolve(host, &namespace);
            self.define(
                &host,
                Source::ServiceEntry,
                namespace.clone(),
                name.clone(),
                visibility.clone(),
            );
        }
    }

    fn add_destination_rule(
        &mut self,
        spec: Option<&Map<String, Value>>,
        namespace: String,
        name: String,
    ) {
        let Some(spec) = spec else {
            return;
        };
        let Some(host) = spec.get("host").and_then(Value::as_str) else {
            return;
        };
        let subsets = spec
            .get("subsets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|subset| subset.get("name")?.as_str().map(str::to_string))
            .collect();
        let view = SubsetsView {
            visibility: Visibility::from_export_to(spec.get("exportTo"), &namespace),
            namespace: namespace.clone(),
            name,
            subsets,
        };
        self.subsets.insert(&resolve(host, &namespace), view);
    }

    /// What the destination host `written` in an object of `namespace` refers to.
    pub fn destination(&self, written: &str, namespace: &str) -> Lookup<'_> {
        let host = resolve(written, namespace);
        let mut hidden = None;
        for definer in self.hosts.matching(&host) {
            if definer.visibility.visible_from(namespace) {
                return Lookup::Visible(definer);
            }
            hidden.get_or_insert(definer);
        }
        hidden.map_or(Lookup::Unknown, Lookup::Hidden)
    }

    /// The subsets that the DestinationRules of `written` (a host in an object of `namespace`)
    /// visible from `namespace` define; `None` when there is no such DestinationRule.
    pub fn subsets(&self, written: &str, namespace: &str) -> Option<Vec<&str>> {
        let host = resolve(written, namespace);
        let mut rules = self
            .subsets
            .matching(&host)
            .filter(|view| view.visibility.visible_from(namespace))
            .peekable();
        rules.peek()?;
        Some(
            rules
                .flat_map(|view| view.subsets.iter().map(String::as_str))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(kind: &str, namespace: &str, name: &str, spec: Value) -> Value {
        json!({"kind": kind, "metadata": {"namespace": namespace, "name": name}, "spec": spec})
    }

    fn mesh() -> Index {
        let mut index = Index::default();
        let service = |namespace: &str, name: &str, export: Option<&str>| {
            let mut service = object("Service", namespace, name, json!({"ports": [{"port": 80}]}));
            if let Some(export) = export {
                service["metadata"]["annotations"] = json!({SERVICE_EXPORT_TO: export});
            }
            service
        };
        for added in [
            service("shop", "reviews", None),
            service("billing", "ledger", Some(".")),
            object(
                "ServiceEntry",
                "shop",
                "payments",
                json!({"hosts": ["api.payments.example.com"]}),
            ),
            object(
                "ServiceEntry",
                "edge",
                "wild",
                json!({"hosts": ["*.cdn.example.com"], "exportTo": ["shop"]}),
            ),
            object(
                "ServiceEntry",
                "edge",
                "private",
                json!({"hosts": ["vault.internal"], "exportTo": ["."]}),
            ),
            object("GCPBackend", "shop", "cr-backend", json!({})),
            object(
                "DestinationRule",
                "shop",
                "reviews",
                json!({"host": "reviews", "subsets": [{"name": "v1"}, {"name": "v2"}]}),
            ),
            object(
                "DestinationRule",
                "billing",
                "ledger",
                json!({"host": "ledger.billing.svc.cluster.local", "exportTo": ["."], "subsets": [{"name": "v1"}]}),
            ),
        ] {
            assert!(index.add(&added), "{added}");
        }
        assert!(!index.add(&object("Deployment", "shop", "web", json!({}))));
        index
    }

    /// `(kind, namespace/name)` of what a destination host refers to, and whether it is
    /// visible.
    fn looked_up(index: &Index, host: &str, from: &str) -> Option<(Source, String, bool)> {
        let described = |d: &Definer| (d.source, format!("{}/{}", d.namespace, d.name));
        match index.destination(host, from) {
            Lookup::Visible(d) => Some((described(d).0, described(d).1, true)),
            Lookup::Hidden(d) => Some((described(d).0, described(d).1, false)),
            Lookup::Unknown => None,
        }
    }

    #[test]
    fn destination_hosts_resolve_as_istio_reads_them() {
        let index = mesh();
        let found = |host, from| looked_up(&index, host, from);
        let visible = |source, id: &str| Some((source, id.to_string(), true));
        let hidden = |source, id: &str| Some((source, id.to_string(), false));
        // Short names are Services of the referring namespace.
        assert_eq!(
            found("reviews", "shop"),
            visible(Source::Service, "shop/reviews")
        );
        assert_eq!(found("reviews", "billing"), None);
        assert_eq!(
            found("reviews.shop.svc.cluster.local", "billing"),
            visible(Source::Service, "shop/reviews")
        );
        // A name with a dot is taken as written: `reviews.shop` is no Service host.
        assert_eq!(found("reviews.shop", "shop"), None);
        // Exported to its own namespace only.
        assert_eq!(
            found("ledger", "billing"),
            visible(Source::Service, "billing/ledger")
        );
        assert_eq!(
            found("ledger.billing.svc.cluster.local", "shop"),
            hidden(Source::Service, "billing/ledger")
        );
        // ServiceEntry hosts, exact and wildcard, with their exportTo.
        assert_eq!(
            found("api.payments.example.com", "billing"),
            visible(Source::ServiceEntry, "shop/payments")
        );
        assert_eq!(
            found("img.cdn.example.com", "shop"),
            visible(Source::ServiceEntry, "edge/wild")
        );
        assert_eq!(
            found("img.cdn.example.com", "billing"),
            hidden(Source::ServiceEntry, "edge/wild")
        );
        assert_eq!(found("cdn.example.com", "shop"), None);
        assert_eq!(
            found("vault.internal", "shop"),
            hidden(Source::ServiceEntry, "edge/private")
        );
        // GCPBackends are hosts of their namespace.
        assert_eq!(
            found("cr-backend", "shop"),
            visible(Source::GcpBackend, "shop/cr-backend")
        );
        assert_eq!(
            found("cr-backend.shop.svc.cluster.local", "edge"),
            visible(Source::GcpBackend, "shop/cr-backend")
        );
        assert_eq!(found("typo-backend.shop.svc.cluster.local", "shop"), None);
    }

    #[test]
    fn subsets_come_from_the_destination_rules_a_namespace_sees() {
        let index = mesh();
        assert_eq!(index.subsets("reviews", "shop"), Some(vec!["v1", "v2"]));
        assert_eq!(
            index.subsets("reviews.shop.svc.cluster.local", "billing"),
            Some(vec!["v1", "v2"])
        );
        assert_eq!(index.subsets("ledger", "billing"), Some(vec!["v1"]));
        // Exported to billing only: shop sees no DestinationRule for the host.
        assert_eq!(
            index.subsets("ledger.billing.svc.cluster.local", "shop"),
            None
        );
        assert_eq!(index.subsets("api.payments.example.com", "shop"), None);
    }
}
