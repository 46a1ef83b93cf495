//! The built-in transformers kustomize runs for kustomization fields, in its order:
//! namespace, name prefix/suffix, labels, annotations, replicas, images, and the name
//! reference fixer that runs after all renames.

pub mod annotations;
mod fields;
pub mod images;
pub mod labels;
pub mod namereference;
pub mod namespace;
pub mod prefix_suffix;
pub mod replicas;
