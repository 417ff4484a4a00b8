//! Reads the validity period from a DER certificate, for the expiry metric and for refusing a
//! pair that is expired or not yet valid. A few lines of DER walking rather than a full X.509
//! parser: the validity is at a fixed place in every certificate.

use time::{Date, Month, PrimitiveDateTime, Time};

/// Splits one DER TLV off the front: `(tag, contents, rest)`.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, tail) = rest.split_at(count);
        rest = tail;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    if rest.len() < len {
        return None;
    }
    let (contents, rest) = rest.split_at(len);
    Some((tag, contents, rest))
}

const SEQUENCE: u8 = 0x30;
const EXPLICIT_VERSION: u8 = 0xa0;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// The certificate's `notAfter` in Unix seconds, or `None` if it is not a DER certificate.
pub fn not_after_unix(der: &[u8]) -> Option<i64> {
    validity_unix(der).map(|(_, not_after)| not_after)
}

/// The certificate's `(notBefore, notAfter)` in Unix seconds, or `None` if it is not a DER
/// certificate.
pub fn validity_unix(der: &[u8]) -> Option<(i64, i64)> {
    let (SEQUENCE, certificate, _) = tlv(der)? else {
        return None;
    };
    let (SEQUENCE, tbs, _) = tlv(certificate)? else {
        return None;
    };
    let (tag, _, mut rest) = tlv(tbs)?;
    if tag == EXPLICIT_VERSION {
        (_, _, rest) = tlv(rest)?; // serialNumber
    }
    let (_, _, rest) = tlv(rest)?; // signature algorithm
    let (_, _, rest) = tlv(rest)?; // issuer
    let (SEQUENCE, validity, _) = tlv(rest)? else {
        return None;
    };
    let (before_tag, not_before, validity) = tlv(validity)?;
    let (after_tag, not_after, _) = tlv(validity)?;
    Some((
        parse_time(before_tag, std::str::from_utf8(not_before).ok()?)?,
        parse_time(after_tag, std::str::from_utf8(not_after).ok()?)?,
    ))
}

/// UTCTime `YYMMDDHHMMSSZ` (years 1950–2049) or GeneralizedTime `YYYYMMDDHHMMSSZ`.
fn parse_time(tag: u8, text: &str) -> Option<i64> {
    let digits = text.strip_suffix('Z')?;
    let (year, rest) = match tag {
        UTC_TIME if digits.len() == 12 => {
            let yy: i32 = digits.get(..2)?.parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &digits[2..])
        }
        GENERALIZED_TIME if digits.len() == 14 => (digits.get(..4)?.parse().ok()?, &digits[4..]),
        _ => return None,
    };
    let field = |i: usize| -> Option<u8> { rest.get(i..i + 2)?.parse().ok() };
    let date = Date::from_calendar_date(year, Month::try_from(field(0)?).ok()?, field(2)?).ok()?;
    let time = Time::from_hms(field(4)?, field(6)?, field(8)?).ok()?;
    Some(
        PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_expiring(year: i32) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(vec!["example.test".into()]).unwrap();
        params.not_before = rcgen::date_time_ymd(2020, 1, 2);
        params.not_after = rcgen::date_time_ymd(year, 3, 4);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn reads_utc_and_generalized_times() {
        // rcgen writes UTCTime before 2050 and GeneralizedTime from 2050 on.
        // 2031-03-04T00:00:00Z and 2061-03-04T00:00:00Z.
        assert_eq!(not_after_unix(&cert_expiring(2031)), Some(1_930_348_800));
        assert_eq!(not_after_unix(&cert_expiring(2061)), Some(2_877_120_000));
        // 2020-01-02T00:00:00Z.
        assert_eq!(
            validity_unix(&cert_expiring(2031)),
            Some((1_577_923_200, 1_930_348_800))
        );
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        for input in [
            &b""[..],
            b"\x30",
            b"\x30\x84\xff\xff\xff\xff",
            b"\x30\x03\x30\x01\x00",
            b"not a cert",
        ] {
            assert_eq!(not_after_unix(input), None);
        }
        let mut truncated = cert_expiring(2031);
        truncated.truncate(100);
        assert_eq!(not_after_unix(&truncated), None);
    }
}
