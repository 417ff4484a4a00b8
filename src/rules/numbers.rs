//! Numbers as users write them and as the Istio CRDs type them. JSON carries integers of any
//! size and doubles up to 1.8e308; the CRDs declare int32 (`format: int32`), uint32
//! (`minimum: 0, maximum: 4294967295`) and uint64 (`minimum: 0`) fields. Rules read integer
//! fields through [`integer`], so that a value outside its field's type is a finding and never a
//! wrapped, truncated or ignored number.

use std::fmt;

use serde_json::Value;

/// An integer type of the Istio CRDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntType {
    /// `format: int32`: weights, HTTP status codes, `consecutiveErrors`.
    Int32,
    /// `minimum: 0, maximum: 4294967295`: port numbers, `mirrorPercent`.
    Uint32,
    /// `minimum: 0` and no maximum: `minimumRingSize`.
    Uint64,
}

impl IntType {
    /// The smallest and largest value of the type.
    pub fn bounds(self) -> (i128, i128) {
        match self {
            IntType::Int32 => (i128::from(i32::MIN), i128::from(i32::MAX)),
            IntType::Uint32 => (0, i128::from(u32::MAX)),
            IntType::Uint64 => (0, i128::from(u64::MAX)),
        }
    }

    /// The type's name in the CRD's terms.
    pub fn name(self) -> &'static str {
        match self {
            IntType::Int32 => "int32",
            IntType::Uint32 => "uint32",
            IntType::Uint64 => "uint64",
        }
    }
}

impl fmt::Display for IntType {
    /// `int32 (-2147483648 to 2147483647)`, for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (low, high) = self.bounds();
        write!(f, "{} ({low} to {high})", self.name())
    }
}

/// What a number in an integer field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Integer {
    /// A whole number within the type (`80` or `80.0`).
    Value(i128),
    /// A whole number outside the type: an integer of any size, or a double such as `1e300`.
    Outside,
    /// A number with a fractional part, which no integer field takes.
    Fraction,
}

/// Doubles beyond this are far outside every integer type; below it `f64 as i128` is exact for
/// whole numbers, so the conversion neither saturates nor rounds.
const BEYOND_EVERY_TYPE: f64 = 1e20;

/// The number `value` holds, read as the integer type `of`; `None` when it is not a number
/// (strings and other shapes are the schema's business).
pub fn integer(value: &Value, of: IntType) -> Option<Integer> {
    let Value::Number(number) = value else {
        return None;
    };
    let whole = if let Some(n) = number.as_i64() {
        i128::from(n)
    } else if let Some(n) = number.as_u64() {
        i128::from(n)
    } else {
        let n = number.as_f64()?;
        if n.fract() != 0.0 {
            return Some(Integer::Fraction);
        }
        if n.abs() >= BEYOND_EVERY_TYPE {
            return Some(Integer::Outside);
        }
        // A whole double below 1e20 in magnitude: the cast is exact.
        n as i128
    };
    let (low, high) = of.bounds();
    Some(if (low..=high).contains(&whole) {
        Integer::Value(whole)
    } else {
        Integer::Outside
    })
}

/// A double for a message: as Rust prints it, except that huge values keep their exponent as
/// JSON writes it (`1e+300`, not three hundred digits), like the integers quoted as written.
pub fn double_text(value: f64) -> String {
    match serde_json::Number::from_f64(value) {
        Some(number) if value.abs() >= 1e15 => number.to_string(),
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_of_every_json_shape() {
        use Integer::{Fraction, Outside, Value as V};
        let cases = [
            (json!(80), IntType::Uint32, V(80)),
            (json!(80.0), IntType::Uint32, V(80)),
            (json!(-1), IntType::Uint32, Outside),
            (json!(-1), IntType::Int32, V(-1)),
            (json!(2_147_483_647), IntType::Int32, V(2_147_483_647)),
            (json!(2_147_483_648_i64), IntType::Int32, Outside),
            (json!(-2_147_483_649_i64), IntType::Int32, Outside),
            (json!(4_294_967_295_u64), IntType::Uint32, V(4_294_967_295)),
            (json!(4_294_967_296_u64), IntType::Uint32, Outside),
            (json!(i64::MAX), IntType::Int32, Outside),
            (json!(u64::MAX), IntType::Uint64, V(i128::from(u64::MAX))),
            (json!(u64::MAX), IntType::Int32, Outside),
            (json!(1e300), IntType::Uint64, Outside),
            (json!(-1e300), IntType::Int32, Outside),
            (json!(1.8446744073709552e19), IntType::Uint64, Outside),
            (json!(50.5), IntType::Int32, Fraction),
            (json!(1e-300), IntType::Int32, Fraction),
        ];
        for (value, of, expected) in cases {
            assert_eq!(integer(&value, of), Some(expected), "{value} as {of}");
        }
        // Past u64, serde_json reads a JSON integer as a double.
        let huge: Value = serde_json::from_str("18446744073709551616").unwrap();
        assert_eq!(integer(&huge, IntType::Uint64), Some(Outside));
        assert_eq!(integer(&json!("80"), IntType::Uint32), None);
        assert_eq!(integer(&json!(null), IntType::Uint32), None);
    }

    #[test]
    fn type_names_and_doubles_for_messages() {
        assert_eq!(
            IntType::Int32.to_string(),
            "int32 (-2147483648 to 2147483647)"
        );
        assert_eq!(IntType::Uint32.to_string(), "uint32 (0 to 4294967295)");
        assert_eq!(double_text(1e300), "1e+300");
        assert_eq!(double_text(-1e300), "-1e+300");
        assert_eq!(double_text(150.0), "150");
        assert_eq!(double_text(0.00001), "0.00001");
    }
}
