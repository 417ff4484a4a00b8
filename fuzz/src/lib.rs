//! Fuzz targets for meshgate: what they assert ([`checks`], shared with the regression tests)
//! and how the structure-aware target edits captured requests ([`mutate`]).

pub mod checks;
pub mod mutate;
