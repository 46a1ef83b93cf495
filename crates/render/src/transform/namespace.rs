//! kustomize v5's NamespaceTransformer as the `namespace:` field configures it: set
//! `metadata.namespace` on every object that is not cluster-scoped, set the namespace of
//! RoleBinding/ClusterRoleBinding subjects named `default` (the `defaultOnly` subject mode,
//! whatever their kind), and write the namespace into the `namespace` field specs (a v1
//! Namespace object gets *renamed* to the namespace, APIService `spec.service.namespace` is
//! created even for local APIServices, CRD conversion webhooks are updated). Every resource
//! records its id before the change; two resources ending with the same id are an error.
//!
//! The NamespaceTransformer plugin config adds [`Options`]: `unsetOnly` (only empty
//! namespace fields are set) and `setRoleBindingSubjects` (`defaultOnly`,
//! `allServiceAccounts`: subjects of kind ServiceAccount, `none`).

use serde_json::Value;

use crate::error::RenderError;
use crate::fieldspec::{CreateKind, FieldSpec, Gvk, TransformerConfig};
use crate::resmap::ResMap;

use super::fields::{apply_specs, node_kind};

const NAME: &str = "namespace";

fn is_role_binding(kind: &str) -> bool {
    kind == "RoleBinding" || kind == "ClusterRoleBinding"
}

/// Which (cluster) role binding subjects get the namespace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SubjectMode {
    /// Subjects named `default` (kustomize's default).
    #[default]
    DefaultOnly,
    /// Subjects of kind ServiceAccount.
    AllServiceAccounts,
    /// No subject.
    None,
}

impl SubjectMode {
    /// Parse a `setRoleBindingSubjects` value (empty is the default).
    pub fn parse(s: &str) -> Result<SubjectMode, String> {
        match s {
            "" | "defaultOnly" => Ok(SubjectMode::DefaultOnly),
            "allServiceAccounts" => Ok(SubjectMode::AllServiceAccounts),
            "none" => Ok(SubjectMode::None),
            other => Err(format!(
                "invalid value \"{other}\" for setRoleBindingSubjects: must be one of \"defaultOnly\", \"none\" or \"allServiceAccounts\""
            )),
        }
    }
}

/// NamespaceTransformer plugin options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    pub unset_only: bool,
    pub subjects: SubjectMode,
}

/// Is a namespace field empty (`SetEntryIfEmpty`)?
fn is_unset(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    }
}

pub fn apply(rm: &mut ResMap, namespace: &str, cfg: &TransformerConfig) -> Result<(), RenderError> {
    apply_with(rm, namespace, &cfg.namespace, Options::default())
}

/// The transformer with explicit field specs and options.
pub fn apply_with(
    rm: &mut ResMap,
    namespace: &str,
    field_specs: &[FieldSpec],
    opts: Options,
) -> Result<(), RenderError> {
    if namespace.is_empty() {
        return Ok(());
    }
    for i in 0..rm.len() {
        let r = &mut rm.resources_mut()[i];
        if r.obj.is_empty() {
            continue;
        }
        r.remember_id();
        let v1 = r.api_version() == "v1";
        let gvk = Gvk::of_resource(r);
        let mut specs: Vec<FieldSpec> = field_specs
            .iter()
            .filter(|fs| fs.path != "metadata/namespace" && (v1 || fs.path != "metadata/name"))
            .cloned()
            .collect();
        if !gvk.is_cluster_scoped()
            && (!opts.unset_only || is_unset(r.metadata().and_then(|m| m.get("namespace"))))
        {
            r.set_namespace(namespace);
        }
        if is_role_binding(&gvk.kind) {
            specs.retain(|fs| !(is_role_binding(&fs.kind) && fs.path == "subjects/namespace"));
            let id = r.id();
            let subjects = match opts.subjects {
                SubjectMode::None => None,
                _ => r.obj.get_mut("subjects"),
            };
            match subjects {
                Some(Value::Array(subjects)) => {
                    for s in subjects.iter_mut() {
                        let Value::Object(m) = s else {
                            continue;
                        };
                        let selected = match opts.subjects {
                            SubjectMode::DefaultOnly => {
                                m.get("name").and_then(Value::as_str) == Some("default")
                            }
                            SubjectMode::AllServiceAccounts => {
                                m.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                            }
                            SubjectMode::None => false,
                        };
                        if selected && (!opts.unset_only || is_unset(m.get("namespace"))) {
                            m.insert("namespace".into(), Value::String(namespace.to_string()));
                        }
                    }
                }
                None | Some(Value::Null) => {}
                Some(other) => {
                    return Err(RenderError::transform(
                        NAME,
                        format!(
                            "{}: setting namespace on (cluster)role binding subjects: wrong node kind: expected SequenceNode but got {}",
                            id,
                            node_kind(other)
                        ),
                    ))
                }
            }
        }
        let mut set = |node: &mut Value| match node {
            Value::Object(_) | Value::Array(_) => Err(format!(
                "namespace field specs must target scalar nodes, not {}",
                node_kind(node)
            )),
            _ if opts.unset_only && !is_unset(Some(node)) => Ok(()),
            _ => {
                *node = Value::String(namespace.to_string());
                Ok(())
            }
        };
        apply_specs(NAME, r, &specs, Some(CreateKind::Scalar), &mut set)?;
        let id = rm.resources()[i].id();
        let same = rm.iter().filter(|x| x.id().same_object(&id)).count();
        if same != 1 {
            return Err(RenderError::transform(
                NAME,
                format!("namespace transformation produces ID conflict: {id} appears {same} times"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "namespace_tests.rs"]
mod tests;
