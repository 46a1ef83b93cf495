//! What the build takes from the spec and the cluster, end to end: SOPS decryption with an
//! age key from a Secret (real sops 3.11 fixtures of `crates/sops`), `provider: sops` with
//! nothing to decrypt, post-build substitution from inline vars, a ConfigMap, a Secret and
//! an optional missing source, the spec's kustomize fields, and a v1beta2 object.
mod support;

use std::path::PathBuf;

use serde_json::json;
use support::*;

const NS: &str = "flux-system";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../sops/tests/fixtures")
        .join(name)
}

async fn setup(tag: &str, files: &[(&str, String)]) -> R<Option<(Env, Repo, String)>> {
    setup_repo(tag, false, NS, files).await
}

#[tokio::test(flavor = "multi_thread")]
async fn sops_secret_is_decrypted_and_never_shown_in_events() -> R {
    let encrypted = std::fs::read_to_string(fixture("secret.enc.yaml"))?;
    let key = std::fs::read_to_string(fixture("age1.agekey"))?;
    let files = [
        (
            "secrets/ns.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n".to_string(),
        ),
        ("secrets/secret.yaml", encrypted),
    ];
    let Some((env, _repo, rev)) = setup("ks-sops", &files).await? else {
        return Ok(());
    };
    let spec = json!({"path": "./secrets",
        "decryption": {"provider": "sops", "secretRef": {"name": "sops-age"}}});
    env.kustomization(NS, "secrets", spec).await?;
    // The key is not there yet: decryption fails, then succeeds once it is.
    let msg = ks_failed(&env.client, NS, "secrets", "DecryptionFailed").await;
    assert!(msg.contains("sops-age"), "{msg}");
    env.create(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "sops-age", "namespace": NS},
        "data": {"age.agekey": b64(&key)}}))
        .await?;
    ks_ready(&env.client, NS, "secrets", &rev).await;
    let s = env.api(&secrets(), "apps").get("db-credentials").await?;
    assert_eq!(
        field(&s, "/data/password").as_deref(),
        Some(b64("s3cr3t!").as_str())
    );
    // As kube-apiserver does: stringData merged into data, not stored.
    assert_eq!(
        field(&s, "/data/username").as_deref(),
        Some(b64("admin").as_str())
    );
    assert!(s.data.get("stringData").is_none(), "stringData stored");
    assert!(s.data.get("sops").is_none(), "sops metadata applied");

    let msgs = event_messages(&env.client, NS, "secrets").await?;
    assert!(!msgs.is_empty(), "no events at all");
    for m in &msgs {
        for secret in ["s3cr3t!", "postgres://admin@db", "AGE-SECRET-KEY"] {
            assert!(!m.contains(secret), "event leaks a secret value: {m}");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn sops_provider_without_key_and_nothing_encrypted_is_ready() -> R {
    let files = [(
        "plain/cm.yaml",
        config_map("default", "plain", &[("k", "v")]),
    )];
    let Some((env, _repo, rev)) = setup("ks-sops-plain", &files).await? else {
        return Ok(());
    };
    env.kustomization(
        NS,
        "plain",
        json!({"path": "./plain", "decryption": {"provider": "sops"}}),
    )
    .await?;
    ks_ready(&env.client, NS, "plain", &rev).await;
    assert!(exists(&env.client, &config_maps(), "default", "plain").await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn post_build_substitution_from_all_sources() -> R {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: subst\n  namespace: default\ndata:\n  region: ${region}\n  color: ${color}\n  token: ${token}\n  fallback: ${missing:=dflt}\n";
    let Some((env, _repo, rev)) = setup("ks-subst", &[("vars/cm.yaml", cm.to_string())]).await?
    else {
        return Ok(());
    };
    env.create(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "vars", "namespace": NS}, "data": {"color": "blue"}}))
        .await?;
    env.create(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "secret-vars", "namespace": NS}, "data": {"token": b64("abc")}}))
        .await?;
    env.kustomization(
        NS,
        "vars",
        json!({"path": "./vars", "postBuild": {
        "substitute": {"region": "eu-west-1"},
        "substituteFrom": [
            {"kind": "ConfigMap", "name": "vars"},
            {"kind": "Secret", "name": "secret-vars"},
            {"kind": "ConfigMap", "name": "nope", "optional": true},
        ]}}),
    )
    .await?;
    ks_ready(&env.client, NS, "vars", &rev).await;
    let o = env.api(&config_maps(), "default").get("subst").await?;
    assert_eq!(field(&o, "/data/region").as_deref(), Some("eu-west-1"));
    assert_eq!(field(&o, "/data/color").as_deref(), Some("blue"));
    assert_eq!(field(&o, "/data/token").as_deref(), Some("abc"));
    assert_eq!(field(&o, "/data/fallback").as_deref(), Some("dflt"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn spec_kustomize_fields_reach_the_objects() -> R {
    let files = [
        ("app/deploy.yaml", deployment("default", "web")),
        ("app/cm.yaml", config_map("default", "conf", &[("k", "v")])),
    ];
    let Some((env, _repo, rev)) = setup("ks-fields", &files).await? else {
        return Ok(());
    };
    env.namespace("team").await?;
    env.kustomization(
        NS,
        "app",
        json!({"path": "./app", "targetNamespace": "team", "namePrefix": "p-",
            "patches": [{"patch": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n",
                         "target": {"kind": "Deployment"}}],
            "images": [{"name": "nginx", "newTag": "1.28"}],
            "commonMetadata": {"labels": {"team": "a"}, "annotations": {"owner": "x"}}}),
    )
    .await?;
    ks_ready(&env.client, NS, "app", &rev).await;
    let d = env.api(&deployments(), "team").get("p-web").await?;
    assert_eq!(d.data.pointer("/spec/replicas"), Some(&json!(2)));
    assert_eq!(
        field(&d, "/spec/template/spec/containers/0/image").as_deref(),
        Some("nginx:1.28")
    );
    assert_eq!(field(&d, "/metadata/labels/team").as_deref(), Some("a"));
    assert_eq!(
        field(&d, "/metadata/annotations/owner").as_deref(),
        Some("x")
    );
    let c = env.api(&config_maps(), "team").get("p-conf").await?;
    assert_eq!(field(&c, "/metadata/labels/team").as_deref(), Some("a"));
    assert!(!exists(&env.client, &deployments(), "default", "web").await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn v1beta2_object_with_patches_strategic_merge() -> R {
    let files = [(
        "old/cm.yaml",
        config_map("default", "legacy", &[("k", "v")]),
    )];
    let Some((env, _repo, rev)) = setup("ks-v1beta2", &files).await? else {
        return Ok(());
    };
    env.create(json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1beta2",
        "kind": "Kustomization",
        "metadata": {"name": "old", "namespace": NS},
        "spec": {
            "sourceRef": {"kind": "GitRepository", "name": "repo"},
            "path": "./old", "interval": "2s", "prune": true,
            "patchesStrategicMerge": [{"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "legacy", "namespace": "default"},
                "data": {"patched": "yes"}}],
        },
    }))
    .await?;
    ks_ready(&env.client, NS, "old", &rev).await;
    let c = env.api(&config_maps(), "default").get("legacy").await?;
    assert_eq!(field(&c, "/data/patched").as_deref(), Some("yes"));
    assert_eq!(field(&c, "/data/k").as_deref(), Some("v"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn v1beta1_object_with_patches_json6902_and_validation() -> R {
    let files = [("old/cm.yaml", config_map("default", "older", &[("k", "v")]))];
    let Some((env, _repo, rev)) = setup("ks-v1beta1", &files).await? else {
        return Ok(());
    };
    env.create(json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1beta1",
        "kind": "Kustomization",
        "metadata": {"name": "older", "namespace": NS},
        "spec": {
            "sourceRef": {"kind": "GitRepository", "name": "repo"},
            "path": "./old", "interval": "2s", "prune": true, "validation": "client",
            "patchesJson6902": [{
                "target": {"version": "v1", "kind": "ConfigMap", "name": "older"},
                "patch": [{"op": "add", "path": "/data/j", "value": "6902"}]}],
        },
    }))
    .await?;
    ks_ready(&env.client, NS, "older", &rev).await;
    let c = env.api(&config_maps(), "default").get("older").await?;
    assert_eq!(field(&c, "/data/j").as_deref(), Some("6902"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn sops_with_the_wrong_key_fails_without_leaking() -> R {
    let encrypted = std::fs::read_to_string(fixture("values.enc.yaml"))?;
    let key = std::fs::read_to_string(fixture("other.agekey"))?;
    let Some((env, _repo, _rev)) = setup("ks-sops-wrong", &[("s/values.yaml", encrypted)]).await?
    else {
        return Ok(());
    };
    env.create(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "sops-age", "namespace": NS},
        "data": {"age.agekey": b64(&key)}}))
        .await?;
    env.kustomization(
        NS,
        "wrong",
        json!({"path": "./s", "decryption": {"provider": "sops", "secretRef": {"name": "sops-age"}}}),
    )
    .await?;
    let msg = ks_failed(&env.client, NS, "wrong", "DecryptionFailed").await;
    assert!(!msg.contains("AGE-SECRET-KEY"), "{msg}");
    let msgs = event_messages(&env.client, NS, "wrong").await?;
    assert!(
        msgs.iter().all(|m| !m.contains("AGE-SECRET-KEY")),
        "{msgs:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn force_recreates_on_an_immutable_change() -> R {
    let cm = |v: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: frozen\n  namespace: default\nimmutable: true\ndata:\n  k: {v}\n")
    };
    let Some((env, mut repo, rev)) = setup("ks-force", &[("f/cm.yaml", cm("one"))]).await? else {
        return Ok(());
    };
    env.kustomization(NS, "frozen", json!({"path": "./f"}))
        .await?;
    ks_ready(&env.client, NS, "frozen", &rev).await;
    repo.write("f/cm.yaml", &cm("two"))?;
    let rev2 = main_rev(&repo.commit("change frozen")?);
    let msg = ks_failed(&env.client, NS, "frozen", "ReconciliationFailed").await;
    assert!(msg.contains("ConfigMap/default/frozen"), "{msg}");
    assert!(msg.contains("immutable"), "{msg}");
    env.patch(
        &flotilla_controllers::resources::kustomization(),
        NS,
        "frozen",
        json!({"spec": {"force": true}}),
    )
    .await?;
    ks_ready(&env.client, NS, "frozen", &rev2).await;
    let c = env.api(&config_maps(), "default").get("frozen").await?;
    assert_eq!(field(&c, "/data/k").as_deref(), Some("two"));
    Ok(())
}
