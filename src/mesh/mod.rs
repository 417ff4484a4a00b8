//! The mesh beyond one object: an index of small views of the objects that define hosts and
//! subsets, which cross-object rules read. It is fed objects from files, a cluster list or a
//! watch alike, and resolves host names as Istio does.

pub mod host;
pub mod index;
pub mod visibility;

pub use index::{Definer, Index, Lookup, Source, SubsetsView};
pub use visibility::Visibility;
