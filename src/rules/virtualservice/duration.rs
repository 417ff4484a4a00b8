//! Durations as route fields carry them (`timeout`, `retries.perTryTimeout`, `fault.delay`,
//! `corsPolicy.maxAge`): Go duration text (`2s`, `150ms`, `1m30s`), which is what Istio's decoder
//! and the CRDs' CEL rules read, and Istio's checks of them.

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

/// One millisecond in nanoseconds.
const MILLISECOND: i128 = 1_000_000;

/// One second in nanoseconds.
pub const SECOND: i128 = 1_000_000_000;

/// The duration in nanoseconds, or `None` when the text is not a Go duration.
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
