//! kustomize v5's NamespaceTransformer as the `namespace:` field configures it: set
//! `metadata.namespace` on every object that is not cluster-scoped, set the namespace of
//! RoleBinding/ClusterRoleBinding subjects named `default` (the `defaultOnly` subject mode,
//! whatever their kind), and write the namespace into the `namespace` field specs (a v1
//! Namespace object gets *renamed* to the namespace, APIService `spec.service.namespace` is
//! created even for local APIServices, CRD conversion webhooks are updated). Every resource
//! records its id before the change; two resources ending with the same id are an error.

use serde_json::Value;

use crate::error::RenderError;
use crate::fieldspec::{CreateKind, FieldSpec, Gvk, TransformerConfig};
use crate::resmap::ResMap;

use super::fields::{apply_specs, node_kind};

const NAME: &str = "namespace";

fn is_role_binding(kind: &str) -> bool {
    kind == "RoleBinding" || kind == "ClusterRoleBinding"
}

pub fn apply(rm: &mut ResMap, namespace: &str, cfg: &TransformerConfig) -> Result<(), RenderError> {
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
        let mut specs: Vec<FieldSpec> = cfg
            .namespace
            .iter()
            .filter(|fs| fs.path != "metadata/namespace" && (v1 || fs.path != "metadata/name"))
            .cloned()
            .collect();
        if !gvk.is_cluster_scoped() {
            r.set_namespace(namespace);
        }
        if is_role_binding(&gvk.kind) {
            specs.retain(|fs| !(is_role_binding(&fs.kind) && fs.path == "subjects/namespace"));
            let id = r.id();
            match r.obj.get_mut("subjects") {
                Some(Value::Array(subjects)) => {
                    for s in subjects.iter_mut() {
                        let Value::Object(m) = s else {
                            continue;
                        };
                        if m.get("name").and_then(Value::as_str) == Some("default") {
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
