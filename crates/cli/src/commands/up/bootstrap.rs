//! The bootstrap `flux bootstrap` would do: the repository (the bundled example made into a
//! git repository when none is given), Namespace `flux-system`, GitRepository
//! `flux-system/main` and Kustomization `flux-system/mgmt` — created only when absent, so
//! the repository's own definitions (applied by `mgmt`) take over and a second `up` resumes.
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use flotilla_apply::{Applier, ApplyOptions};
use kube::api::{Api, DynamicObject, PostParams};
use serde_json::{json, Value};

/// The repository URL and the bootstrap path for `repo` / `path`.
pub fn source(repo: Option<&str>, path: Option<&str>, data: &Path) -> Result<(String, String)> {
    match repo {
        Some(r) if r.contains("://") => Ok((r.to_string(), path.unwrap_or("./").to_string())),
        Some(r) => {
            let abs = std::fs::canonicalize(r)
                .with_context(|| format!("repository {r}: no such directory"))?;
            if !abs.join(".git").exists() && !abs.join("HEAD").exists() {
                bail!("repository {}: not a git repository", abs.display());
            }
            Ok((
                format!("file://{}", abs.display()),
                path.unwrap_or("./").to_string(),
            ))
        }
        None => {
            let dest = data.join("platform-repo");
            if !dest.join(".git").exists() {
                let script = example_script()?;
                eprintln!(
                    "► making {} a git repository of examples/platform",
                    dest.display()
                );
                let out = std::process::Command::new("bash")
                    .arg(&script)
                    .arg(&dest)
                    .output()
                    .with_context(|| format!("running {}", script.display()))?;
                if !out.status.success() {
                    bail!(
                        "{} failed: {}",
                        script.display(),
                        String::from_utf8_lossy(&out.stderr).trim()
                    );
                }
            }
            Ok((
                format!("file://{}", dest.display()),
                path.unwrap_or("./providers/aws/v1/mgmt").to_string(),
            ))
        }
    }
}

fn example_script() -> Result<PathBuf> {
    let candidates = [
        std::env::current_dir()
            .unwrap_or_default()
            .join("examples/make-platform-repo.sh"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/make-platform-repo.sh"),
    ];
    candidates.into_iter().find(|p| p.is_file()).context(
        "examples/make-platform-repo.sh not found: run from the Flotilla checkout or give REPO",
    )
}

/// Applies every object in `file` (YAML, `---`-separated) with server-side apply.
pub async fn apply_file(client: &kube::Client, file: &Path) -> Result<usize> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let docs = flotilla_yaml::parse_documents(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let objects: Vec<Value> = docs
        .into_iter()
        .map(|d| d.value)
        .filter(Value::is_object)
        .collect();
    let n = objects.len();
    let opts = ApplyOptions {
        field_manager: "flotilla-bootstrap".into(),
        ..ApplyOptions::default()
    };
    Applier::new(client.clone())
        .apply_staged(objects, &opts)
        .await
        .map_err(|e| anyhow::anyhow!("applying {}: {e}", file.display()))?;
    Ok(n)
}

/// Creates the bootstrap objects that do not exist; answers whether it created the source.
pub async fn objects(client: &kube::Client, url: &str, branch: &str, path: &str) -> Result<bool> {
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}});
    let git = json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "main", "namespace": "flux-system"},
        "spec": {"interval": "1m", "url": url, "ref": {"branch": branch}},
    });
    let ks = json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "mgmt", "namespace": "flux-system"},
        "spec": {
            "interval": "10m",
            "path": path,
            "prune": true,
            "sourceRef": {"kind": "GitRepository", "name": "main"},
        },
    });
    let namespaces: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &kube::core::ApiResource::from_gvk_with_plural(
            &kube::core::GroupVersionKind::gvk("", "v1", "Namespace"),
            "namespaces",
        ),
    );
    create_if_absent(&namespaces, ns).await?;
    let git_api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "flux-system",
        &flotilla_controllers::resources::git_repository(),
    );
    let created = create_if_absent(&git_api, git).await?;
    let ks_api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "flux-system",
        &flotilla_controllers::resources::kustomization(),
    );
    create_if_absent(&ks_api, ks).await?;
    Ok(created)
}

async fn create_if_absent(api: &Api<DynamicObject>, obj: Value) -> Result<bool> {
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let kind = obj["kind"].as_str().unwrap_or_default().to_string();
    let obj: DynamicObject = serde_json::from_value(obj).context("building a bootstrap object")?;
    match api.create(&PostParams::default(), &obj).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
        Err(e) => Err(e).with_context(|| format!("creating {kind} {name}")),
    }
}
