//! VirtualService rules (`networking.istio.io` v1, v1beta1, v1alpha3: one schema).

pub mod legacy;

use super::{Finding, Rule, Subject, api_version};

/// Runs the VirtualService rules. Conversions come before the schema walk's renames, so that
/// their operations name keys as received (see `spelling`).
pub fn evaluate(subject: &Subject<'_>) -> Vec<Finding> {
    let mut findings = legacy::evaluate(subject);
    findings.extend(api_version::evaluate(
        subject,
        Rule::VirtualServiceApiVersion,
    ));
    findings
}
