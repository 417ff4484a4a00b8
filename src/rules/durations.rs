//! Durations as the Istio CRDs carry them, read as istiod reads them: its decoder (the legacy
//! `jsonpb` of golang/protobuf) parses a `google.protobuf.Duration` with Go's
//! `time.ParseDuration`, so `"1s"`, `"0.001s"`, `"1.000000005s"`, `"250ms"` and `"1m30s"` are all
//! durations (the CRDs' CEL `duration(self)` reads the same text); and Istio's `ValidateDuration`
//! check on the result (at least 1ms, whole milliseconds).

use std::fmt;

/// Nanoseconds in a millisecond.
const NANOS_PER_MILLI: i128 = 1_000_000;

/// A duration in nanoseconds, within Go's range (about ±292 years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(i128);

impl Duration {
    /// The duration in nanoseconds.
    pub fn nanos(self) -> i128 {
        self.0
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

/// Parses a duration as Go's `time.ParseDuration` does; `None` when istiod could not read it.
pub fn parse(text: &str) -> Option<Duration> {
    parse_nanos(text).map(Duration)
}

/// Why Istio's `ValidateDuration` refuses a duration, in words that follow it.
fn refusal(duration: Duration) -> Option<&'static str> {
    let nanos = duration.nanos();
    if nanos < NANOS_PER_MILLI {
        Some("is shorter than 1ms, the least Istio accepts")
    } else if nanos % NANOS_PER_MILLI != 0 {
        Some("is not a whole number of milliseconds, the precision Istio accepts")
    } else {
        None
    }
}

/// Why Istio's `ValidateDuration` refuses a duration (below 1ms, or not whole milliseconds);
/// `None` when it accepts it.
pub fn check(duration: Duration) -> Option<String> {
    refusal(duration).map(|why| format!("{duration} {why}"))
}

/// What to write instead of a duration Istio refuses.
const WRITE_INSTEAD: &str = "write 0.001s or more, in whole milliseconds";

/// [`check`], with what to write instead.
pub fn validate(duration: Duration) -> Option<String> {
    check(duration).map(|why| format!("{why}: {WRITE_INSTEAD}"))
}

/// Why Istio refuses the duration `text`, from reading it to `ValidateDuration`, quoting it as
/// written; `None` when it takes it.
pub fn problem(text: &str) -> Option<String> {
    match parse(text) {
        None => Some(not_a_duration(text)),
        Some(duration) => refusal(duration).map(|why| format!("{text} {why}: {WRITE_INSTEAD}")),
    }
}

/// Whether Istio reads the duration as zero milliseconds (Go's `Milliseconds()`, which truncates
/// toward zero): what a TCP idle timeout of "off" is.
pub fn is_zero_millis(duration: Duration) -> bool {
    duration.nanos() / NANOS_PER_MILLI == 0
}

/// The message for a string that is not a duration.
pub fn not_a_duration(text: &str) -> String {
    format!("{text:?} is not a duration: write a number with a unit, such as \"5s\" or \"250ms\"")
}

/// Nanoseconds per unit; `ms` before `m`, so that the first unit a text starts with is its unit.
const UNITS: [(&str, i128); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// The largest duration Go represents (about 292 years), in nanoseconds.
const MAX_NANOS: i128 = i64::MAX as i128;

/// One second in nanoseconds.
pub const SECOND: i128 = 1_000_000_000;

/// Go duration text in nanoseconds (`2s`, `150ms`, `1m30s`, `.5s`), or `None` when the text is
/// not one; beyond Go's range (about 292 years) it is not one either.
pub fn parse_nanos(text: &str) -> Option<i128> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let whole_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (whole, after) = rest.split_at(whole_len);
        let (fraction, after) = match after.strip_prefix('.') {
            Some(after) => {
                let len = after.bytes().take_while(u8::is_ascii_digit).count();
                after.split_at(len)
            }
            None => ("", after),
        };
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        let (unit, scale) = UNITS
            .iter()
            .find(|(name, _)| after.starts_with(name))
            .copied()?;
        rest = &after[unit.len()..];
        // More digits than a duration can hold overflow; the cap keeps the arithmetic in range.
        if whole.len() > 20 {
            return None;
        }
        let mut value: i128 = whole.parse::<i128>().unwrap_or(0) * scale;
        let mut divisor: i128 = 1;
        let mut digits: i128 = 0;
        for digit in fraction.bytes().take(18) {
            digits = digits * 10 + i128::from(digit - b'0');
            divisor *= 10;
        }
        value += digits * scale / divisor;
        total += value;
        if total > MAX_NANOS {
            return None;
        }
    }
    Some(if negative { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_duration_text_as_istiod_reads_it() {
        let cases = [
            ("1s", Some(1_000_000_000)),
            ("0s", Some(0)),
            ("0", Some(0)),
            ("0.001s", Some(1_000_000)),
            ("1.000000005s", Some(1_000_000_005)),
            ("-2s", Some(-2_000_000_000)),
            ("+2s", Some(2_000_000_000)),
            (".5s", Some(500_000_000)),
            ("250ms", Some(250_000_000)),
            ("1m30s", Some(90_000_000_000)),
            ("1.5h", Some(5_400_000_000_000)),
            ("1us", Some(1_000)),
            ("2562047h", Some(2_562_047 * 3_600_000_000_000)),
            ("2562048h", None),
            ("1d", None),
            ("1", None),
            ("s", None),
            ("-s", None),
            ("1 s", None),
            ("1e3s", None),
            ("", None),
            ("2x", None),
            ("1.s5", None),
            ("--1s", None),
            ("9999999999999999999999h", None),
            ("0.000000999s", Some(999)),
            ("2.000000042s", Some(2_000_000_042)),
        ];
        for (text, nanos) in cases {
            assert_eq!(parse(text).map(Duration::nanos), nanos, "{text}");
        }
    }

    #[test]
    fn problems_say_what_to_write() {
        assert_eq!(problem("2s"), None);
        assert_eq!(problem("1ms"), None);
        assert_eq!(
            problem("0.000000999s").as_deref(),
            Some(
                "0.000000999s is shorter than 1ms, the least Istio accepts: write 0.001s or more, \
                 in whole milliseconds"
            )
        );
        assert_eq!(
            problem("soon").as_deref(),
            Some(
                "\"soon\" is not a duration: write a number with a unit, such as \"5s\" or \"250ms\""
            )
        );
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
        assert!(checked("-1s").is_some());
        assert!(is_zero_millis(parse("0.0009s").unwrap()));
        assert!(is_zero_millis(parse("-0.0009s").unwrap()));
        assert!(!is_zero_millis(parse("0.001s").unwrap()));
    }
}
