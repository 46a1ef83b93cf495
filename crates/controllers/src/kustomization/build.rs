//! From artifact to objects, as kustomize-controller does it: the Flux kustomize build of
//! `spec.path` ([`flotilla_render::flux::build_kustomization`]), SOPS decryption, post-build
//! substitution, then the owner labels.
use std::collections::BTreeMap;
use std::path::Path;

use flotilla_model::flux::KustomizationSpec;
use flotilla_render::substitute::{SourceData, VarSource};
use serde_json::{json, Value};

/// Owner label naming the Kustomization.
pub const NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
/// Owner label naming its namespace.
pub const NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";

/// Why a build failed: the Ready reason and the message.
#[derive(Debug)]
pub struct BuildFailure {
    /// `BuildFailed`, `DecryptionFailed` or `ArtifactFailed`.
    pub reason: &'static str,
    /// One line naming the file, object or field.
    pub message: String,
}

impl BuildFailure {
    fn new(reason: &'static str, message: impl Into<String>) -> BuildFailure {
        BuildFailure {
            reason,
            message: message.into(),
        }
    }
}

/// What the build needs from the cluster, read beforehand.
#[derive(Default)]
pub struct Inputs {
    /// `postBuild.substituteFrom`, looked up.
    pub var_sources: Vec<VarSource>,
    /// The keys of `decryption.secretRef`.
    pub decryption_keys: Option<BTreeMap<String, Vec<u8>>>,
}

/// Reads what `spec` references (substitution ConfigMaps/Secrets, the decryption Secret)
/// from namespace `ns`.
pub async fn inputs(
    client: &kube::Client,
    ns: &str,
    spec: &KustomizationSpec,
) -> Result<Inputs, BuildFailure> {
    let mut out = Inputs::default();
    if let Some(pb) = &spec.post_build {
        for r in &pb.substitute_from {
            let data = match r.kind.as_str() {
                "ConfigMap" => crate::lookup::config_map_data(client, ns, &r.name)
                    .await
                    .map_err(|e| BuildFailure::new("BuildFailed", e.to_string()))?
                    .map(SourceData::ConfigMap),
                "Secret" => crate::lookup::secret_data(client, ns, &r.name)
                    .await
                    .map_err(|e| BuildFailure::new("BuildFailed", e.to_string()))?
                    .map(SourceData::Secret),
                _ => None,
            };
            out.var_sources.push(VarSource {
                kind: r.kind.clone(),
                name: r.name.clone(),
                optional: r.optional,
                data,
            });
        }
    }
    if let Some(dec) = &spec.decryption {
        if let Some(secret) = &dec.secret_ref {
            let data = crate::lookup::secret_data(client, ns, &secret.name)
                .await
                .map_err(|e| BuildFailure::new("DecryptionFailed", e.to_string()))?
                .ok_or_else(|| {
                    BuildFailure::new(
                        "DecryptionFailed",
                        format!(
                            "cannot get decryption Secret '{ns}/{}': secrets \"{}\" not found",
                            secret.name, secret.name
                        ),
                    )
                })?;
            out.decryption_keys = Some(data);
        }
    }
    Ok(out)
}

/// Builds the objects of Kustomization `ns/name` from the unpacked artifact at `root`.
/// `spec_json` is the v1 spec as JSON (what the renderer reads); runs on a blocking thread.
pub fn build(
    root: &Path,
    ns: &str,
    name: &str,
    spec: &KustomizationSpec,
    spec_json: &Value,
    inputs: &Inputs,
) -> Result<Vec<Value>, BuildFailure> {
    let rendered = flotilla_render::flux::build_kustomization(root, spec_json)
        .map_err(|e| BuildFailure::new("BuildFailed", scrub_root(&e.to_string(), root)))?;
    let mut objects = rendered.objects;

    if let Some(dec) = &spec.decryption {
        if dec.provider != "sops" {
            return Err(BuildFailure::new(
                "DecryptionFailed",
                format!(
                    "spec.decryption.provider: unsupported provider '{}'",
                    dec.provider
                ),
            ));
        }
        let identities = match &inputs.decryption_keys {
            Some(keys) => flotilla_sops::identities_from_secret(keys)
                .map_err(|e| BuildFailure::new("DecryptionFailed", e.to_string()))?,
            None => Vec::new(),
        };
        for obj in objects.iter_mut() {
            match flotilla_sops::decrypt_document(obj, &identities) {
                Ok(Some(plain)) => *obj = plain,
                Ok(None) => {}
                Err(e) => {
                    return Err(BuildFailure::new(
                        "DecryptionFailed",
                        format!("{}: {e}", describe(obj)),
                    ))
                }
            }
        }
    }

    if let Some(pb) = &spec.post_build {
        let inline = (!pb.substitute.is_empty()).then_some(&pb.substitute);
        let vars = flotilla_render::substitute::collect_vars(&inputs.var_sources, inline)
            .map_err(|e| BuildFailure::new("BuildFailed", e.to_string()))?;
        flotilla_render::substitute::substitute(&mut objects, &vars, false)
            .map_err(|e| BuildFailure::new("BuildFailed", e.to_string()))?;
    }

    for obj in objects.iter_mut() {
        set_owner_labels(obj, ns, name);
    }
    Ok(objects)
}

/// Sets the owner labels on `obj`.
pub fn set_owner_labels(obj: &mut Value, ns: &str, name: &str) {
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    if !obj["metadata"]["labels"].is_object() {
        obj["metadata"]["labels"] = json!({});
    }
    obj["metadata"]["labels"][NAME_LABEL] = json!(name);
    obj["metadata"]["labels"][NAMESPACE_LABEL] = json!(ns);
}

/// The owner labels of Kustomization `ns/name`.
pub fn owner_labels(ns: &str, name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (NAME_LABEL.to_string(), name.to_string()),
        (NAMESPACE_LABEL.to_string(), ns.to_string()),
    ])
}

fn describe(obj: &Value) -> String {
    let kind = obj["kind"].as_str().unwrap_or("?");
    let name = obj["metadata"]["name"].as_str().unwrap_or("?");
    match obj["metadata"]["namespace"].as_str() {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    }
}

/// Messages name files relative to the artifact, not the controller's disk.
fn scrub_root(message: &str, root: &Path) -> String {
    let mut prefix = root.to_string_lossy().to_string();
    if !prefix.ends_with('/') {
        prefix.push('/');
    }
    let scrubbed = message
        .replace(&prefix, "")
        .replace(&*root.to_string_lossy(), ".");
    // An error about the artifact root itself (`spec.path`) names no file.
    match scrubbed.strip_prefix(".: ") {
        Some(rest) => rest.to_string(),
        None => scrubbed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Value) -> (KustomizationSpec, Value) {
        let s: KustomizationSpec = serde_json::from_value(v.clone()).unwrap_or_default();
        (s, v)
    }

    fn tree(files: &[(&str, &str)]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "flotilla-ks-build-{}-{}",
            std::process::id(),
            files.len() * 7 + files.first().map_or(0, |f| f.1.len())
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for (p, c) in files {
            let path = dir.join(p);
            if let Some(parent) = path.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            let _ = std::fs::write(path, c);
        }
        dir
    }

    #[test]
    fn builds_substitutes_and_labels() {
        let root = tree(&[(
            "apps/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  region: ${region}\n  zone: ${zone:=a}\n",
        )]);
        let (s, j) =
            spec(json!({"path": "./apps", "postBuild": {"substitute": {"region": "eu-west-1"}}}));
        let objs = build(&root, "flux-system", "apps", &s, &j, &Inputs::default());
        let Ok(objs) = objs else {
            panic!("build failed: {objs:?}")
        };
        assert_eq!(objs.len(), 1);
        assert_eq!(objs[0]["data"]["region"], "eu-west-1");
        assert_eq!(objs[0]["data"]["zone"], "a");
        assert_eq!(objs[0]["metadata"]["labels"][NAME_LABEL], "apps");
        assert_eq!(
            objs[0]["metadata"]["labels"][NAMESPACE_LABEL],
            "flux-system"
        );
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn missing_path_is_a_build_failure_naming_the_field() {
        let root = tree(&[(
            "x/a.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n",
        )]);
        let (s, j) = spec(json!({"path": "./nope"}));
        let Err(e) = build(&root, "ns", "n", &s, &j, &Inputs::default()) else {
            panic!("expected failure")
        };
        assert_eq!(e.reason, "BuildFailed");
        assert!(e.message.contains("spec.path"), "{}", e.message);
        assert!(
            !e.message.contains(&*root.to_string_lossy()),
            "{}",
            e.message
        );
        let _ = std::fs::remove_dir_all(root);
    }
}
