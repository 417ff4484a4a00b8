//! The index of the mesh: small views of the objects that define destination hosts (Services,
//! ServiceEntries, GCPBackends), their subsets (DestinationRules), the VirtualServices bound to
//! them, WorkloadEntries, Namespaces and the injectors installed, by resolved host or name, so
//! that a cross-object rule answers with look-ups, never a scan. It is fed objects one by one,
//! from files, a cluster list or a watch alike, and keeps no whole object.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::host::{CLUSTER_DOMAIN, HostMap, gateway, resolve};
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

/// Labels, as workloads, endpoints, selectors and subsets carry them.
pub type Labels = BTreeMap<String, String>;

/// An object that defines a host: which kind, where, and who sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definer {
    pub source: Source,
    pub namespace: String,
    pub name: String,
    pub visibility: Visibility,
    /// A ServiceEntry's endpoints: the labels of each.
    pub endpoints: Vec<Labels>,
    /// A ServiceEntry's `workloadSelector` labels.
    pub selector: Option<Labels>,
}

/// A VirtualService bound to a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingView {
    pub namespace: String,
    pub name: String,
    /// Its gateways as `namespace/name`, or `mesh` (also when it names none).
    pub gateways: Vec<String>,
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
    /// VirtualServices by resolved host.
    routing: HostMap<RoutingView>,
    /// The labels of each namespace's WorkloadEntries.
    workload_entries: HashMap<String, Vec<Labels>>,
    /// Each Namespace's labels.
    namespaces: HashMap<String, Labels>,
    /// The injector revisions and tags installed: MutatingWebhookConfigurations labelled
    /// `istio.io/rev` or `istio.io/tag`, istiod Deployments labelled `istio.io/rev`, managed
    /// control planes' ControlPlaneRevisions.
    injectors: BTreeSet<String>,
}

/// The label that names an injector's revision.
const REVISION: &str = "istio.io/rev";
/// The label that names a revision tag.
const TAG: &str = "istio.io/tag";

/// A map of string values (labels), other values left out.
fn labels(map: Option<&Value>) -> Labels {
    map.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_string())))
        .collect()
}

/// `metadata.labels[key]` of an object.
fn label<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    member(object, &["metadata", "labels", key]).and_then(Value::as_str)
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
            "VirtualService" => self.add_virtual_service(spec, namespace, name),
            "WorkloadEntry" => self
                .workload_entries
                .entry(namespace)
                .or_default()
                .push(labels(spec.and_then(|s| s.get("labels")))),
            "Namespace" => {
                let labels = labels(member(object, &["metadata", "labels"]));
                self.namespaces.insert(name, labels);
            }
            "MutatingWebhookConfiguration" => {
                let names = [label(object, REVISION), label(object, TAG)];
                self.injectors
                    .extend(names.into_iter().flatten().map(str::to_string));
            }
            "Deployment" => {
                let istiod = name.starts_with("istiod") || label(object, "app") == Some("istiod");
                if let Some(revision) = label(object, REVISION).filter(|_| istiod) {
                    self.injectors.insert(revision.to_string());
                }
            }
            "ControlPlaneRevision" => {
                self.injectors.insert(name);
            }
            _ => return false,
        }
        true
    }

    fn add_virtual_service(
        &mut self,
        spec: Option<&Map<String, Value>>,
        namespace: String,
        name: String,
    ) {
        let Some(spec) = spec else {
            return;
        };
        let written = spec.get("gateways").and_then(Value::as_array);
        let mut gateways: Vec<String> = written
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|written| gateway(written, &namespace))
            .collect();
        if gateways.is_empty() {
            gateways.push("mesh".to_string());
        }
        let view = RoutingView {
            visibility: Visibility::from_export_to(spec.get("exportTo"), &namespace),
            namespace: namespace.clone(),
            name,
            gateways,
        };
        let hosts = spec.get("hosts").and_then(Value::as_array);
        for host in hosts.into_iter().flatten().filter_map(Value::as_str) {
            self.routing
                .insert(&resolve(host, &namespace), view.clone());
        }
    }

    /// The VirtualServices bound to `host` (resolved) by name or by a wildcard that covers it.
    pub fn virtual_services<'a>(&'a self, host: &str) -> impl Iterator<Item = &'a RoutingView> {
        self.routing.matching(host)
    }

    /// The labels of the WorkloadEntries of `namespace`.
    pub fn workload_entries(&self, namespace: &str) -> &[Labels] {
        self.workload_entries
            .get(namespace)
            .map_or(&[], Vec::as_slice)
    }

    /// The labels of the Namespace `name`, if the index holds it.
    pub fn namespace(&self, name: &str) -> Option<&Labels> {
        self.namespaces.get(name)
    }

    /// Whether an injector revision or tag of this name is installed.
    pub fn has_injector(&self, revision: &str) -> bool {
        self.injectors.contains(revision)
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
            endpoints: Vec::new(),
            selector: None,
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
        let definer = Definer {
            source: Source::ServiceEntry,
            visibility: Visibility::from_export_to(spec.get("exportTo"), &namespace),
            endpoints: spec
                .get("endpoints")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|endpoint| labels(endpoint.get("labels")))
                .collect(),
            selector: spec
                .get("workloadSelector")
                .map(|selector| labels(selector.get("labels"))),
            namespace,
            name,
        };
        let hosts = spec.get("hosts").and_then(Value::as_array);
        for host in hosts.into_iter().flatten().filter_map(Value::as_str) {
            let host = resolve(host, &definer.namespace);
            self.hosts.insert(&host, definer.clone());
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
        assert!(!index.add(&object("ConfigMap", "shop", "web", json!({}))));
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

    #[test]
    fn service_entries_keep_their_endpoint_labels_and_selector() {
        let mut index = Index::default();
        index.add(&object(
            "ServiceEntry",
            "shop",
            "db",
            json!({
            "hosts": ["db.global"],
            "endpoints": [{"address": "10.0.0.1", "labels": {"cluster": "cluster1"}},
                          {"address": "10.0.0.2", "labels": {"cluster": "cluster2", "tier": 3}}]}),
        ));
        index.add(&object(
            "ServiceEntry",
            "shop",
            "vms",
            json!({
            "hosts": ["vms.shop.internal"], "workloadSelector": {"labels": {"app": "vm"}}}),
        ));
        index.add(&object(
            "WorkloadEntry",
            "shop",
            "vm-1",
            json!({"labels": {"app": "vm", "version": "v1"}}),
        ));
        let Lookup::Visible(db) = index.destination("db.global", "shop") else {
            panic!("db.global is defined");
        };
        let cluster = |name: &str| Labels::from([("cluster".to_string(), name.to_string())]);
        // A label whose value is no string is left out, as Istio's labels are strings.
        assert_eq!(db.endpoints, [cluster("cluster1"), cluster("cluster2")]);
        assert_eq!(db.selector, None);
        let Lookup::Visible(vms) = index.destination("vms.shop.internal", "shop") else {
            panic!("vms.shop.internal is defined");
        };
        assert_eq!(
            vms.selector,
            Some(Labels::from([("app".to_string(), "vm".to_string())]))
        );
        assert_eq!(index.workload_entries("shop").len(), 1);
        assert!(index.workload_entries("billing").is_empty());
    }

    #[test]
    fn virtual_services_are_filed_by_host_with_their_gateways() {
        let mut index = Index::default();
        index.add(&object(
            "VirtualService",
            "shop",
            "a",
            json!({"hosts": ["reviews"]}),
        ));
        index.add(&object("VirtualService", "shop", "b", json!({
            "hosts": ["reviews.shop.svc.cluster.local", "*.example.com"],
            "gateways": ["mesh", "ingress", "istio-system/public", "./local", "gw.edge.svc.cluster.local"]})));
        let bound = |host: &str| {
            index
                .virtual_services(host)
                .map(|vs| (vs.name.as_str(), vs.gateways.join(",")))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            bound("reviews.shop.svc.cluster.local"),
            [
                ("a", "mesh".to_string()),
                (
                    "b",
                    "mesh,shop/ingress,istio-system/public,shop/local,edge/gw".to_string()
                )
            ]
        );
        assert_eq!(bound("api.example.com").len(), 1);
        assert!(bound("ratings.shop.svc.cluster.local").is_empty());
    }

    #[test]
    fn namespaces_and_installed_injectors() {
        let mut index = Index::default();
        let labelled = |kind: &str, namespace: &str, name: &str, labels: Value| json!({"kind": kind, "metadata": {"namespace": namespace, "name": name, "labels": labels}});
        for added in [
            labelled(
                "Namespace",
                "",
                "shop",
                json!({"istio.io/rev": "asm-managed"}),
            ),
            labelled(
                "MutatingWebhookConfiguration",
                "",
                "istio-revision-tag-prod",
                json!({"istio.io/rev": "1-22-3", "istio.io/tag": "prod"}),
            ),
            labelled(
                "Deployment",
                "istio-system",
                "istiod-1-24-0",
                json!({"istio.io/rev": "1-24-0", "app": "istiod"}),
            ),
            labelled(
                "Deployment",
                "shop",
                "web",
                json!({"istio.io/rev": "canary"}),
            ),
            json!({"kind": "ControlPlaneRevision", "metadata": {"namespace": "istio-system", "name": "asm-managed-rapid"}}),
        ] {
            assert!(index.add(&added));
        }
        assert_eq!(
            index
                .namespace("shop")
                .and_then(|labels| labels.get("istio.io/rev"))
                .map(String::as_str),
            Some("asm-managed")
        );
        assert_eq!(index.namespace("billing"), None);
        for installed in ["1-22-3", "prod", "1-24-0", "asm-managed-rapid"] {
            assert!(index.has_injector(installed), "{installed}");
        }
        // A workload that carries the label is no injector, nor is a revision nothing installs.
        assert!(!index.has_injector("canary"));
        assert!(!index.has_injector("asm-managed"));
    }
}
