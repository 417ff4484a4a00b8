//! Prometheus metrics the README lists, kept in fixed arrays of atomics: every label takes values
//! from a small closed set, so recording never allocates or takes a lock on the request path.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::admission::Decision;
use crate::engine::Webhook;
use crate::rules::{Action, ObjectKind, Operation, Rule};

const WEBHOOKS: [Webhook; 2] = [Webhook::Validate, Webhook::Mutate];
const KINDS: [&str; 5] = [
    "Namespace",
    "VirtualService",
    "ServiceEntry",
    "DestinationRule",
    "other",
];
const OPERATIONS: [&str; 5] = ["CREATE", "UPDATE", "DELETE", "CONNECT", "unknown"];
const DECISIONS: [&str; 4] = ["allowed", "denied", "patched", "error"];
const ACTIONS: [Action; 3] = [Action::Deny, Action::Warn, Action::Fix];
/// Histogram bucket upper bounds, in seconds: the webhook's budget is milliseconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The outcome of one request, for `meshgate_admission_requests_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestResult {
    /// A review was answered.
    Answered(Decision),
    /// The request was refused with an HTTP error.
    Error,
}

/// Why a request was refused before a review could answer it (`meshgate_requests_shed_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shed {
    /// The body did not arrive within `--body-read-timeout`.
    BodyTimeout,
    /// The memory budget had no room for the body before the request's deadline.
    MemoryBudget,
    /// The review did not finish before the request's deadline.
    Deadline,
    /// A connection was closed because it sent nothing, or nothing more, within its deadline.
    IdleConnection,
}

const SHEDS: [Shed; 4] = [
    Shed::BodyTimeout,
    Shed::MemoryBudget,
    Shed::Deadline,
    Shed::IdleConnection,
];

impl Shed {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Shed::BodyTimeout => "body-timeout",
            Shed::MemoryBudget => "memory-budget",
            Shed::Deadline => "deadline",
            Shed::IdleConnection => "idle-connection",
        }
    }
}

/// Counters for one webhook's latency histogram.
#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

/// A success/failure counter pair.
#[derive(Debug, Default)]
struct Reloads {
    success: AtomicU64,
    failure: AtomicU64,
}

impl Reloads {
    fn record(&self, ok: bool) {
        let counter = if ok { &self.success } else { &self.failure };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// All of meshgate's metrics. One instance per process, passed to whoever records.
#[derive(Debug)]
pub struct Metrics {
    requests: Vec<AtomicU64>,
    durations: [Histogram; WEBHOOKS.len()],
    findings: Vec<AtomicU64>,
    suppressed: Vec<AtomicU64>,
    tls_expiry: AtomicI64,
    tls_reloads: Reloads,
    client_ca_reloads: Reloads,
    policy_reloads: Reloads,
    shed: [AtomicU64; SHEDS.len()],
    open_connections: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Self {
        let zeros = |n: usize| (0..n).map(|_| AtomicU64::new(0)).collect();
        Self {
            requests: zeros(WEBHOOKS.len() * KINDS.len() * OPERATIONS.len() * DECISIONS.len()),
            durations: Default::default(),
            findings: zeros(Rule::ALL.len() * ACTIONS.len()),
            suppressed: zeros(Rule::ALL.len()),
            tls_expiry: AtomicI64::new(0),
            tls_reloads: Reloads::default(),
            client_ca_reloads: Reloads::default(),
            policy_reloads: Reloads::default(),
            shed: Default::default(),
            open_connections: AtomicI64::new(0),
        }
    }
}

fn webhook_index(webhook: Webhook) -> usize {
    match webhook {
        Webhook::Validate => 0,
        Webhook::Mutate => 1,
    }
}

fn kind_index(kind: Option<ObjectKind>) -> usize {
    match kind {
        Some(ObjectKind::Namespace) => 0,
        Some(ObjectKind::VirtualService) => 1,
        Some(ObjectKind::ServiceEntry) => 2,
        Some(ObjectKind::DestinationRule) => 3,
        None => 4,
    }
}

fn operation_index(operation: Option<Operation>) -> usize {
    match operation {
        Some(Operation::Create) => 0,
        Some(Operation::Update) => 1,
        Some(Operation::Delete) => 2,
        Some(Operation::Connect) => 3,
        None => 4,
    }
}

fn result_index(result: RequestResult) -> usize {
    match result {
        RequestResult::Answered(Decision::Allowed) => 0,
        RequestResult::Answered(Decision::Denied) => 1,
        RequestResult::Answered(Decision::Patched) => 2,
        RequestResult::Error => 3,
    }
}

fn action_index(action: Action) -> Option<usize> {
    ACTIONS.iter().position(|a| *a == action)
}

fn rule_index(rule: Rule) -> usize {
    Rule::ALL
        .iter()
        .position(|r| *r == rule)
        .unwrap_or_default()
}

impl Metrics {
    /// Counts one request and its duration.
    pub fn record_request(
        &self,
        webhook: Webhook,
        kind: Option<ObjectKind>,
        operation: Option<Operation>,
        result: RequestResult,
        seconds: f64,
    ) {
        let index = ((webhook_index(webhook) * KINDS.len() + kind_index(kind)) * OPERATIONS.len()
            + operation_index(operation))
            * DECISIONS.len()
            + result_index(result);
        self.requests[index].fetch_add(1, Ordering::Relaxed);
        let histogram = &self.durations[webhook_index(webhook)];
        for (bound, bucket) in BUCKETS.iter().zip(&histogram.buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        histogram.count.fetch_add(1, Ordering::Relaxed);
        histogram
            .sum_nanos
            .fetch_add((seconds * 1e9) as u64, Ordering::Relaxed);
    }

    /// Counts the findings an answer reported, by rule and action taken.
    pub fn record_findings(&self, reported: &[(Rule, Action)]) {
        for (rule, action) in reported {
            if let Some(a) = action_index(*action) {
                self.findings[rule_index(*rule) * ACTIONS.len() + a]
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Counts the findings objects' ignore annotations silenced, by rule.
    pub fn record_suppressed(&self, rules: &[Rule]) {
        for rule in rules {
            self.suppressed[rule_index(*rule)].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Sets the serving certificate's expiry, in Unix seconds.
    pub fn set_certificate_expiry(&self, unix_seconds: i64) {
        self.tls_expiry.store(unix_seconds, Ordering::Relaxed);
    }

    /// Counts a certificate reload attempt.
    pub fn record_tls_reload(&self, ok: bool) {
        self.tls_reloads.record(ok);
    }

    /// Counts a client CA bundle reload attempt.
    pub fn record_client_ca_reload(&self, ok: bool) {
        self.client_ca_reloads.record(ok);
    }

    /// Counts a request refused before a review answered it.
    pub fn record_shed(&self, why: Shed) {
        if let Some(i) = SHEDS.iter().position(|s| *s == why) {
            self.shed[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a webhook connection opened (`1`) or closed (`-1`).
    pub fn add_open_connections(&self, delta: i64) {
        self.open_connections.fetch_add(delta, Ordering::Relaxed);
    }

    /// Counts a policy reload attempt.
    pub fn record_policy_reload(&self, ok: bool) {
        self.policy_reloads.record(ok);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);

        header(
            &mut out,
            "meshgate_admission_requests_total",
            "counter",
            "Admission requests answered, by webhook, kind, operation and decision.",
        );
        for (w, webhook) in WEBHOOKS.iter().enumerate() {
            for (k, kind) in KINDS.iter().enumerate() {
                for (o, operation) in OPERATIONS.iter().enumerate() {
                    for (d, decision) in DECISIONS.iter().enumerate() {
                        let value = load(
                            &self.requests[((w * KINDS.len() + k) * OPERATIONS.len() + o)
                                * DECISIONS.len()
                                + d],
                        );
                        if value > 0 {
                            let _ = writeln!(
                                out,
                                "meshgate_admission_requests_total{{webhook=\"{}\",kind=\"{kind}\",operation=\"{operation}\",decision=\"{decision}\"}} {value}",
                                webhook.as_str()
                            );
                        }
                    }
                }
            }
        }

        let name = "meshgate_admission_request_duration_seconds";
        header(
            &mut out,
            name,
            "histogram",
            "Time to answer an admission request.",
        );
        for (webhook, histogram) in WEBHOOKS.iter().zip(&self.durations) {
            let webhook = webhook.as_str();
            for (bound, bucket) in BUCKETS.iter().zip(&histogram.buckets) {
                let _ = writeln!(
                    out,
                    "{name}_bucket{{webhook=\"{webhook}\",le=\"{bound}\"}} {}",
                    load(bucket)
                );
            }
            let count = load(&histogram.count);
            let _ = writeln!(
                out,
                "{name}_bucket{{webhook=\"{webhook}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "{name}_sum{{webhook=\"{webhook}\"}} {}",
                load(&histogram.sum_nanos) as f64 / 1e9
            );
            let _ = writeln!(out, "{name}_count{{webhook=\"{webhook}\"}} {count}");
        }

        header(
            &mut out,
            "meshgate_rule_findings_total",
            "counter",
            "Findings reported, by rule and the action taken.",
        );
        for (r, rule) in Rule::ALL.iter().enumerate() {
            for (a, action) in ACTIONS.iter().enumerate() {
                let value = load(&self.findings[r * ACTIONS.len() + a]);
                if value > 0 {
                    let _ = writeln!(
                        out,
                        "meshgate_rule_findings_total{{rule=\"{rule}\",action=\"{}\"}} {value}",
                        action.as_str()
                    );
                }
            }
        }

        header(
            &mut out,
            "meshgate_rule_findings_suppressed_total",
            "counter",
            "Findings silenced by an ignore.meshgate.io annotation the policy honours, by rule.",
        );
        for (r, rule) in Rule::ALL.iter().enumerate() {
            let value = load(&self.suppressed[r]);
            if value > 0 {
                let _ = writeln!(
                    out,
                    "meshgate_rule_findings_suppressed_total{{rule=\"{rule}\"}} {value}"
                );
            }
        }

        header(
            &mut out,
            "meshgate_tls_certificate_expiry_timestamp_seconds",
            "gauge",
            "When the serving certificate expires (Unix seconds).",
        );
        let _ = writeln!(
            out,
            "meshgate_tls_certificate_expiry_timestamp_seconds {}",
            self.tls_expiry.load(Ordering::Relaxed)
        );

        for (name, help, reloads) in [
            (
                "meshgate_tls_reloads_total",
                "Serving certificate reloads, by result.",
                &self.tls_reloads,
            ),
            (
                "meshgate_client_ca_reloads_total",
                "Client CA bundle reloads, by result.",
                &self.client_ca_reloads,
            ),
            (
                "meshgate_policy_reloads_total",
                "Policy file reloads, by result.",
                &self.policy_reloads,
            ),
        ] {
            header(&mut out, name, "counter", help);
            let _ = writeln!(
                out,
                "{name}{{result=\"success\"}} {}",
                load(&reloads.success)
            );
            let _ = writeln!(
                out,
                "{name}{{result=\"failure\"}} {}",
                load(&reloads.failure)
            );
        }

        header(
            &mut out,
            "meshgate_requests_shed_total",
            "counter",
            "Requests refused before a review answered them (503, 408) and connections closed for \
             sending nothing, by reason.",
        );
        for (shed, counter) in SHEDS.iter().zip(&self.shed) {
            let _ = writeln!(
                out,
                "meshgate_requests_shed_total{{reason=\"{}\"}} {}",
                shed.as_str(),
                load(counter)
            );
        }
        header(
            &mut out,
            "meshgate_open_connections",
            "gauge",
            "Connections open on the webhook listener.",
        );
        let _ = writeln!(
            out,
            "meshgate_open_connections {}",
            self.open_connections.load(Ordering::Relaxed)
        );
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_recorded_values() {
        let metrics = Metrics::default();
        metrics.record_request(
            Webhook::Validate,
            Some(ObjectKind::Namespace),
            Some(Operation::Create),
            RequestResult::Answered(Decision::Denied),
            0.0007,
        );
        metrics.record_request(Webhook::Mutate, None, None, RequestResult::Error, 0.2);
        metrics.record_findings(&[(Rule::NamespaceInjectionConflict, Action::Deny)]);
        metrics.record_tls_reload(false);
        metrics.set_certificate_expiry(1_800_000_000);
        metrics.record_shed(Shed::MemoryBudget);
        metrics.add_open_connections(2);
        metrics.add_open_connections(-1);
        let text = metrics.render();
        for line in [
            "meshgate_admission_requests_total{webhook=\"validate\",kind=\"Namespace\",operation=\"CREATE\",decision=\"denied\"} 1",
            "meshgate_admission_requests_total{webhook=\"mutate\",kind=\"other\",operation=\"unknown\",decision=\"error\"} 1",
            "meshgate_admission_request_duration_seconds_bucket{webhook=\"validate\",le=\"0.0005\"} 0",
            "meshgate_admission_request_duration_seconds_bucket{webhook=\"validate\",le=\"0.001\"} 1",
            "meshgate_admission_request_duration_seconds_count{webhook=\"validate\"} 1",
            "meshgate_admission_request_duration_seconds_bucket{webhook=\"mutate\",le=\"0.1\"} 0",
            "meshgate_admission_request_duration_seconds_bucket{webhook=\"mutate\",le=\"0.25\"} 1",
            "meshgate_rule_findings_total{rule=\"namespace-injection-conflict\",action=\"deny\"} 1",
            "meshgate_tls_certificate_expiry_timestamp_seconds 1800000000",
            "meshgate_tls_reloads_total{result=\"failure\"} 1",
            "meshgate_tls_reloads_total{result=\"success\"} 0",
            "meshgate_policy_reloads_total{result=\"success\"} 0",
            "meshgate_requests_shed_total{reason=\"memory-budget\"} 1",
            "meshgate_requests_shed_total{reason=\"deadline\"} 0",
            "meshgate_open_connections 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
    }
}
