//! Manifests in files: YAML read with positions, and fixes written back into the text without
//! touching anything they do not change.

pub mod anchors;
mod comments;
pub mod edit;
pub mod yaml;
