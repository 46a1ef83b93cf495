//! kustomize's ReplicaCountTransformer for `replicas:`. An entry matches resources whose
//! current *or previous* name equals its name and whose gvk a `replicas` field spec selects
//! (Deployment, ReplicationController, ReplicaSet, StatefulSet built in), so an entry naming
//! the pre-prefix name still applies. A string-valued count stays a string. An entry
//! matching nothing is an error listing the gvks in kustomize's sorted order.

use serde_json::Value;

use crate::error::RenderError;
use crate::fieldspec::{CreateKind, Gvk, TransformerConfig};
use crate::kustomization::Replica;
use crate::resmap::ResMap;

use super::fields::{apply_specs, node_kind};

const NAME: &str = "replicas";

pub fn apply(
    rm: &mut ResMap,
    replicas: &[Replica],
    cfg: &TransformerConfig,
) -> Result<(), RenderError> {
    for rep in replicas {
        let mut found = false;
        for fs in &cfg.replicas {
            let sel = fs.gvk();
            for r in rm.iter_mut() {
                let cur = r.id();
                let matched = r
                    .meta
                    .previous_ids
                    .iter()
                    .chain(std::iter::once(&cur))
                    .any(|id| id.name == rep.name && Gvk::of_id(id).is_selected(&sel));
                if !matched {
                    continue;
                }
                found = true;
                let mut set = |node: &mut Value| match node {
                    Value::Object(_) | Value::Array(_) => Err(format!(
                        "wrong node kind: expected ScalarNode but got {}",
                        node_kind(node)
                    )),
                    Value::String(_) => {
                        *node = Value::String(rep.count.to_string());
                        Ok(())
                    }
                    _ => {
                        *node = Value::from(rep.count);
                        Ok(())
                    }
                };
                apply_specs(
                    NAME,
                    r,
                    std::slice::from_ref(fs),
                    Some(CreateKind::Int),
                    &mut set,
                )?;
            }
        }
        if !found {
            let mut sorted: Vec<Gvk> = cfg.replicas.iter().map(|fs| fs.gvk()).collect();
            sorted.sort_by(Gvk::kustomize_cmp);
            let gvks: Vec<String> = sorted.iter().map(gvk_string).collect();
            return Err(RenderError::transform(
                NAME,
                format!(
                    "resource with name {} does not match a config with the following GVK [{}]",
                    rep.name,
                    gvks.join(" ")
                ),
            ));
        }
    }
    Ok(())
}

fn gvk_string(g: &Gvk) -> String {
    g.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Resource;
    use serde_json::json;

    fn rm(vals: Vec<Value>) -> ResMap {
        vals.into_iter()
            .map(|v| match v {
                Value::Object(m) => Resource::new(m),
                _ => unreachable!(),
            })
            .collect()
    }

    fn rep(name: &str, count: i64) -> Replica {
        Replica {
            name: name.into(),
            count,
        }
    }

    #[test]
    fn sets_and_creates_replicas() {
        // Oracle: replicas [{name: d, count: 5}, {name: s, count: 2}] over Deployment d
        // (replicas: 1) and StatefulSet s (no replicas) prints 5 and 2 (integers).
        let mut m = rm(vec![
            json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":1}}),
            json!({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"s"},"spec":{}}),
        ]);
        apply(
            &mut m,
            &[rep("d", 5), rep("s", 2)],
            &TransformerConfig::builtin(),
        )
        .unwrap();
        assert_eq!(m.resources()[0].obj["spec"]["replicas"], json!(5));
        assert_eq!(m.resources()[1].obj["spec"]["replicas"], json!(2));
    }

    #[test]
    fn unmatched_name_is_an_error() {
        // Oracle: replicas [{name: nope, count: 1}] fails with "resource with name nope does
        // not match a config with the following GVK [Deployment.[noVer].[noGrp]
        // StatefulSet.[noVer].[noGrp] ReplicaSet.[noVer].[noGrp] ReplicationController...]".
        let mut m = rm(vec![
            json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"}}),
        ]);
        let e = apply(&mut m, &[rep("nope", 1)], &TransformerConfig::builtin())
            .unwrap_err()
            .to_string();
        assert!(e.contains(
            "resource with name nope does not match a config with the following GVK [Deployment.[noVer].[noGrp] StatefulSet.[noVer].[noGrp] ReplicaSet.[noVer].[noGrp] ReplicationController.[noVer].[noGrp]]"
        ), "{e}");
    }

    #[test]
    fn previous_name_still_matches() {
        // Oracle: namePrefix p- plus replicas [{name: d, count: 5}] over Deployment d with
        // replicas 1 prints p-d with replicas 5; a quoted "2" count stays a string ("7").
        let mut m = rm(vec![
            json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":1}}),
        ]);
        crate::transform::prefix_suffix::apply(&mut m, "p-", "", &TransformerConfig::builtin())
            .unwrap();
        apply(&mut m, &[rep("d", 5)], &TransformerConfig::builtin()).unwrap();
        assert_eq!(m.resources()[0].obj["spec"]["replicas"], json!(5));
        let mut m = rm(vec![
            json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"p-e"},"spec":{"replicas":"2"}}),
        ]);
        apply(&mut m, &[rep("p-e", 7)], &TransformerConfig::builtin()).unwrap();
        assert_eq!(m.resources()[0].obj["spec"]["replicas"], json!("7"));
    }
}
