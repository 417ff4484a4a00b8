//! Durations as the Istio CRDs carry them: the protobuf JSON form (`"1s"`, `"0.001s"`,
//! `"1.000000005s"`: seconds with an optional sign and up to nine fractional digits, then `s`),
//! parsed exactly as Istio's conversion parses them, and Istio's `ValidateDuration` check on the
//! result (at least 1ms, whole milliseconds).

use std::fmt;

/// Nanoseconds in a millisecond.
const NANOS_PER_MILLI: i128 = 1_000_000;

/// The largest number of seconds protobuf's `Duration` holds (about 10,000 years).
const MAX_PROTO_SECONDS: i128 = 315_576_000_000;

/// A duration as written, in nanoseconds (an i128 holds every protobuf duration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(i128);

impl Duration {
    /// The duration in nanoseconds.
    pub fn nanos(self) -> i128 {
        self.0
    }

    /// As Istio reads it (Go's `time.Duration`, an int64 of nanoseconds, saturating beyond about
    /// 292 years).
    fn as_go(self) -> i128 {
        self.0.clamp(i128::from(i64::MIN), i128::from(i64::MAX))
    }
}

impl fmt::Display for Duration {
    /// `1.5s`, `0.001s`, `-2s`: the protobuf JSON form, without trailing zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (seconds, nanos) = (abs / 1_000_000_000, abs % 1_000_000_000);
        if nanos == 0 {
            write!(f, "{sign}{seconds}s")
        } else {
            let fraction = format!("{nanos:09}");
            write!(f, "{sign}{seconds}.{}s", fraction.trim_end_matches('0'))
        }
    }
}

/// Parses the protobuf JSON form of a duration; `None` when Istio's conversion would refuse it.
/// The grammar is protobuf's: `[-+]`, an integer without leading zeros (or none, as in `.5s`), an
/// optional `.` with at most nine digits, and `s`; within ±315576000000 seconds.
pub fn parse(text: &str) -> Option<Duration> {
    let body = text.strip_suffix('s')?;
    if body.is_empty() {
        return None;
    }
    let (negative, body) = match body.as_bytes()[0] {
        b'-' => (true, &body[1..]),
        b'+' => (false, &body[1..]),
        _ => (false, body),
    };
    if body.is_empty() {
        return None;
    }
    let (whole, fraction) = match body.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (body, None),
    };
    if !whole.bytes().all(|b| b.is_ascii_digit())
        || (whole.len() > 1 && whole.starts_with('0'))
        // A whole part beyond 12 digits is beyond the range; bounding it keeps the parse exact.
        || whole.len() > 12
    {
        return None;
    }
    let seconds: i128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut nanos: i128 = 0;
    if let Some(fraction) = fraction {
        if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        for (i, digit) in fraction.bytes().enumerate() {
            nanos += i128::from(digit - b'0') * 10_i128.pow(8 - i as u32);
        }
    }
    if seconds > MAX_PROTO_SECONDS {
        return None;
    }
    let total = seconds * 1_000_000_000 + nanos;
    Some(Duration(if negative { -total } else { total }))
}

/// Why Istio's `ValidateDuration` refuses a duration (below 1ms, or not whole milliseconds);
/// `None` when it accepts it.
pub fn check(duration: Duration) -> Option<String> {
    let nanos = duration.as_go();
    if nanos < NANOS_PER_MILLI {
        Some(format!(
            "{duration} is shorter than 1ms, the least Istio accepts"
        ))
    } else if nanos % NANOS_PER_MILLI != 0 {
        if nanos == i128::from(i64::MAX) {
            Some(format!(
                "{duration} is longer than Istio can hold (about 292 years)"
            ))
        } else {
            Some(format!(
                "{duration} is not a whole number of milliseconds, the precision Istio accepts"
            ))
        }
    } else {
        None
    }
}

/// Whether Istio reads the duration as zero milliseconds (Go's `Milliseconds()`, which truncates
/// toward zero): what a TCP idle timeout of "off" is.
pub fn is_zero_millis(duration: Duration) -> bool {
    duration.as_go() / NANOS_PER_MILLI == 0
}

/// The message for a string that is not a duration.
pub fn not_a_duration(text: &str) -> String {
    format!(
        "{text:?} is not a duration: write seconds with an `s`, such as \"5s\" or \"0.250s\" \
         (not \"5m\" or \"250ms\")"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protobuf_json_grammar() {
        let cases = [
            ("1s", Some(1_000_000_000)),
            ("0s", Some(0)),
            ("0.001s", Some(1_000_000)),
            ("1.000000005s", Some(1_000_000_005)),
            ("-2s", Some(-2_000_000_000)),
            ("+2s", Some(2_000_000_000)),
            (".5s", Some(500_000_000)),
            ("1.s", Some(1_000_000_000)),
            ("315576000000s", Some(315_576_000_000_000_000_000)),
            ("315576000001s", None),
            ("1000000000000000s", None),
            ("01s", None),
            ("1.0000000001s", None),
            ("1m", None),
            ("250ms", None),
            ("1", None),
            ("s", None),
            ("-s", None),
            ("1 s", None),
            ("1e3s", None),
            ("", None),
        ];
        for (text, nanos) in cases {
            assert_eq!(parse(text).map(Duration::nanos), nanos, "{text}");
        }
    }

    #[test]
    fn istios_validate_duration() {
        let checked = |text: &str| check(parse(text).unwrap());
        assert_eq!(checked("0.001s"), None);
        assert_eq!(checked("30s"), None);
        assert_eq!(
            checked("0s").as_deref(),
            Some("0s is shorter than 1ms, the least Istio accepts")
        );
        assert_eq!(
            checked("0.0005s").as_deref(),
            Some("0.0005s is shorter than 1ms, the least Istio accepts")
        );
        assert_eq!(
            checked("2.000000005s").as_deref(),
            Some("2.000000005s is not a whole number of milliseconds, the precision Istio accepts")
        );
        assert_eq!(
            checked("315576000000s").as_deref(),
            Some("315576000000s is longer than Istio can hold (about 292 years)")
        );
        assert!(checked("-315576000000s").is_some());
        assert!(is_zero_millis(parse("0.0009s").unwrap()));
        assert!(is_zero_millis(parse("-0.0009s").unwrap()));
        assert!(!is_zero_millis(parse("0.001s").unwrap()));
    }
}
