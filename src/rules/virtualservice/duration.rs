//! Istio's checks of the durations route fields carry (`timeout`, `retries.perTryTimeout`,
//! `fault.delay`, `corsPolicy.maxAge`), read by `rules::durations`.

pub use crate::rules::durations::{SECOND, parse_nanos};

/// One millisecond in nanoseconds.
const MILLISECOND: i128 = 1_000_000;

/// Istio's check of a route duration: at least 1ms, in whole milliseconds. `None` when it passes
/// (or is not text: the schema's business).
pub fn problem(text: &str) -> Option<String> {
    match parse_nanos(text) {
        None => Some(format!(
            "`{text}` is not a duration: write a number with a unit, such as 2s or 250ms"
        )),
        Some(nanos) if nanos < MILLISECOND => {
            Some(format!("{text} is shorter than 1ms: write at least 1ms"))
        }
        Some(nanos) if nanos % MILLISECOND != 0 => Some(format!(
            "{text} is not a whole number of milliseconds: Istio takes durations to the millisecond; round it"
        )),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_duration_text() {
        assert_eq!(parse_nanos("2s"), Some(2 * SECOND));
        assert_eq!(parse_nanos("1m30s"), Some(90 * SECOND));
        assert_eq!(parse_nanos("250ms"), Some(250 * MILLISECOND));
        assert_eq!(parse_nanos("2.000000042s"), Some(2 * SECOND + 42));
        assert_eq!(parse_nanos("0.000000999s"), Some(999));
        assert_eq!(parse_nanos(".5s"), Some(SECOND / 2));
        assert_eq!(parse_nanos("1h"), Some(3600 * SECOND));
        assert_eq!(parse_nanos("-1s"), Some(-SECOND));
        assert_eq!(parse_nanos("0"), Some(0));
        for bad in [
            "",
            "s",
            "2",
            "2x",
            "1.s5",
            "--1s",
            "9999999999999999999999h",
            "3000000h",
        ] {
            assert_eq!(parse_nanos(bad), None, "{bad}");
        }
    }

    #[test]
    fn istio_checks() {
        assert_eq!(problem("2s"), None);
        assert_eq!(problem("1ms"), None);
        assert_eq!(
            problem("0.000000999s").as_deref(),
            Some("0.000000999s is shorter than 1ms: write at least 1ms")
        );
        assert_eq!(
            problem("2.000000001s").as_deref(),
            Some(
                "2.000000001s is not a whole number of milliseconds: Istio takes durations to the millisecond; round it"
            )
        );
        assert!(problem("soon").is_some());
    }
}
