//! The fields a kind's conversion rules own, as one table per kind: where each field stands and
//! what converts it. The rules detect and convert from their table, and the schema walk reads
//! it too (`owns`), so that what a conversion owns is neither renamed nor called unknown.

/// A field a conversion rule owns.
#[derive(Debug, Clone, Copy)]
pub struct Converted<C: 'static> {
    /// The field names above it, innermost last (list indices do not count): `["fault",
    /// "abort"]` for `http[].fault.abort.percent`. The field is owned wherever its parents end
    /// so.
    pub parents: &'static [&'static str],
    /// Its camelCase name; its snake_case spelling is owned too.
    pub key: &'static str,
    /// What converts it.
    pub conversion: C,
}

/// Whether `table` owns `camel_key` under the fields `parents`.
pub fn owns<C>(table: &[Converted<C>], parents: &[String], camel_key: &str) -> bool {
    table.iter().any(|field| {
        field.key == camel_key
            && parents.len() >= field.parents.len()
            && parents[parents.len() - field.parents.len()..]
                .iter()
                .zip(field.parents)
                .all(|(have, want)| have == want)
    })
}
