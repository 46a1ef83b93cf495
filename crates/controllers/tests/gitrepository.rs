//! GitRepository end to end: Flux's Ready message and artifact for a branch and a tag, a new
//! commit moving the artifact within the interval, `reconcile.fluxcd.io/requestedAt`,
//! suspend, a bad URL, and a URL that breaks after a good fetch keeping the last artifact.
mod support;

use std::time::Duration;

use flotilla_controllers::resources::{git_repository, REQUESTED_AT};
use serde_json::json;
use support::*;

const NS: &str = "flux-system";

async fn env_and_repo(tag: &str) -> R<Option<(Env, Repo)>> {
    if !git_available() {
        return Ok(None);
    }
    let env = Env::start(tag, false).await?;
    env.namespace(NS).await?;
    let mut repo = Repo::init(tag)?;
    repo.write("deploy/cm.yaml", &config_map("default", "a", &[("k", "1")]))?;
    repo.commit("first")?;
    Ok(Some((env, repo)))
}

#[tokio::test(flavor = "multi_thread")]
async fn branch_artifact_with_flux_message_then_new_commit_moves_it() -> R {
    let Some((env, mut repo)) = env_and_repo("git-branch").await? else {
        return Ok(());
    };
    let sha = repo.git(&["rev-parse", "HEAD"])?;
    env.git_repository(NS, "repo", &repo.url(), json!({"branch": "main"}))
        .await?;
    let rev = main_rev(&sha);
    let g = git_ready(&env.client, NS, "repo", &rev).await;
    let Some((status, reason, message)) = condition(&g, "Ready") else {
        panic!("no Ready condition")
    };
    assert_eq!(status, "True");
    assert_eq!(reason, "Succeeded");
    assert_eq!(message, format!("stored artifact for revision '{rev}'"));
    let digest = field(&g, "/status/artifact/digest").unwrap_or_default();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 7 + 64,
        "digest {digest}"
    );
    assert!(field(&g, "/status/artifact/url").is_some());
    assert!(field(&g, "/status/artifact/lastUpdateTime").is_some());
    assert_eq!(
        g.data.pointer("/status/observedGeneration"),
        g.metadata.generation.map(|g| json!(g)).as_ref()
    );

    repo.write("deploy/cm.yaml", &config_map("default", "a", &[("k", "2")]))?;
    let sha2 = repo.commit("second")?;
    assert_ne!(sha, sha2);
    // Interval 1s: the poll must pick it up well within a few intervals.
    let g2 = wait_for(
        &env.client,
        &git_repository(),
        NS,
        "repo",
        "the artifact to move to the new commit",
        Duration::from_secs(10),
        |o| field(o, "/status/artifact/revision") == Some(main_rev(&sha2)),
    )
    .await;
    assert_ne!(field(&g2, "/status/artifact/digest"), Some(digest));
    let Some((_, _, message)) = condition(&g2, "Ready") else {
        panic!("no Ready condition")
    };
    assert_eq!(
        message,
        format!("stored artifact for revision '{}'", main_rev(&sha2))
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn tag_reference_gives_tag_revision() -> R {
    let Some((env, mut repo)) = env_and_repo("git-tag").await? else {
        return Ok(());
    };
    repo.tag("v0.1.0")?;
    let tagged = repo.git(&["rev-parse", "v0.1.0^{commit}"])?;
    repo.write("deploy/more.yaml", &config_map("default", "b", &[]))?;
    repo.commit("after the tag")?;
    env.git_repository(NS, "release", &repo.url(), json!({"tag": "v0.1.0"}))
        .await?;
    git_ready(&env.client, NS, "release", &format!("v0.1.0@sha1:{tagged}")).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn requested_at_is_handled_and_suspend_stops_polling() -> R {
    let Some((env, mut repo)) = env_and_repo("git-suspend").await? else {
        return Ok(());
    };
    let sha = repo.git(&["rev-parse", "HEAD"])?;
    // A long interval: only the annotation can make it look again.
    env.create(json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "repo", "namespace": NS},
        "spec": {"url": repo.url(), "interval": "1h", "ref": {"branch": "main"}},
    }))
    .await?;
    git_ready(&env.client, NS, "repo", &main_rev(&sha)).await;
    let sha2 = repo.commit("second")?;
    env.patch(
        &git_repository(),
        NS,
        "repo",
        json!({"metadata": {"annotations": {REQUESTED_AT: "2026-01-01T00:00:00Z"}}}),
    )
    .await?;
    let g = git_ready(&env.client, NS, "repo", &main_rev(&sha2)).await;
    let g = if field(&g, "/status/lastHandledReconcileAt").is_some() {
        g
    } else {
        wait_for(
            &env.client,
            &git_repository(),
            NS,
            "repo",
            "lastHandledReconcileAt",
            WAIT,
            |o| field(o, "/status/lastHandledReconcileAt").is_some(),
        )
        .await
    };
    assert_eq!(
        field(&g, "/status/lastHandledReconcileAt").as_deref(),
        Some("2026-01-01T00:00:00Z")
    );

    // Suspend, then a short interval and a new commit: nothing moves.
    env.patch(
        &git_repository(),
        NS,
        "repo",
        json!({"spec": {"suspend": true, "interval": "1s"}}),
    )
    .await?;
    let sha3 = repo.commit("third")?;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let now = env.api(&git_repository(), NS).get("repo").await?;
    assert_eq!(
        field(&now, "/status/artifact/revision"),
        Some(main_rev(&sha2)),
        "a suspended GitRepository fetched"
    );
    // Resumed, it catches up.
    env.patch(
        &git_repository(),
        NS,
        "repo",
        json!({"spec": {"suspend": false}}),
    )
    .await?;
    git_ready(&env.client, NS, "repo", &main_rev(&sha3)).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_url_fails_and_a_broken_url_keeps_the_last_artifact() -> R {
    let Some((env, repo)) = env_and_repo("git-bad").await? else {
        return Ok(());
    };
    let missing = env.dir.join("no-such-repo");
    env.git_repository(
        NS,
        "bad",
        &format!("file://{}", missing.display()),
        json!({"branch": "main"}),
    )
    .await?;
    let g = wait_for(
        &env.client,
        &git_repository(),
        NS,
        "bad",
        "Ready=False",
        WAIT,
        |o| condition(o, "Ready").is_some_and(|c| c.0 == "False"),
    )
    .await;
    let Some((_, reason, message)) = condition(&g, "Ready") else {
        panic!("no Ready condition")
    };
    assert_eq!(reason, "GitOperationFailed", "{message}");
    assert!(!message.is_empty());
    assert!(g.data.pointer("/status/artifact").is_none());

    let sha = repo.git(&["rev-parse", "HEAD"])?;
    env.git_repository(NS, "repo", &repo.url(), json!({"branch": "main"}))
        .await?;
    let good = git_ready(&env.client, NS, "repo", &main_rev(&sha)).await;
    let digest = field(&good, "/status/artifact/digest");
    // The remote disappears.
    let moved = repo.dir.with_extension("moved");
    std::fs::rename(&repo.dir, &moved)?;
    let g = wait_for(
        &env.client,
        &git_repository(),
        NS,
        "repo",
        "Ready=False after the remote vanished",
        WAIT,
        |o| condition(o, "Ready").is_some_and(|c| c.0 == "False"),
    )
    .await;
    assert_eq!(field(&g, "/status/artifact/revision"), Some(main_rev(&sha)));
    assert_eq!(field(&g, "/status/artifact/digest"), digest);
    // Back again: Ready with the same revision.
    std::fs::rename(&moved, &repo.dir)?;
    git_ready(&env.client, NS, "repo", &main_rev(&sha)).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn v1beta1_object_is_reconciled() -> R {
    let Some((env, repo)) = env_and_repo("git-v1beta1").await? else {
        return Ok(());
    };
    let sha = repo.git(&["rev-parse", "HEAD"])?;
    env.create(json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1beta1",
        "kind": "GitRepository",
        "metadata": {"name": "old", "namespace": NS},
        "spec": {"url": repo.url(), "interval": "1s", "ref": {"branch": "main"},
                 "gitImplementation": "go-git"},
    }))
    .await?;
    git_ready(&env.client, NS, "old", &main_rev(&sha)).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn commit_semver_and_missing_secret_refs() -> R {
    let Some((env, mut repo)) = env_and_repo("git-refs").await? else {
        return Ok(());
    };
    let first = repo.git(&["rev-parse", "HEAD"])?;
    repo.tag("v0.1.0")?;
    let second = repo.commit("second")?;
    repo.tag("v0.2.0")?;
    repo.commit("third, untagged")?;
    env.git_repository(
        NS,
        "pinned",
        &repo.url(),
        json!({"branch": "main", "commit": first}),
    )
    .await?;
    env.git_repository(NS, "bare-commit", &repo.url(), json!({"commit": second}))
        .await?;
    env.git_repository(NS, "semver", &repo.url(), json!({"semver": ">=0.1.0"}))
        .await?;
    git_ready(&env.client, NS, "pinned", &main_rev(&first)).await;
    git_ready(&env.client, NS, "bare-commit", &format!("sha1:{second}")).await;
    git_ready(&env.client, NS, "semver", &format!("v0.2.0@sha1:{second}")).await;

    env.create(json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "private", "namespace": NS},
        "spec": {"url": repo.url(), "interval": "1s", "ref": {"branch": "main"},
                 "secretRef": {"name": "git-credentials"}},
    }))
    .await?;
    let g = wait_for(
        &env.client,
        &git_repository(),
        NS,
        "private",
        "Ready=False AuthenticationFailed",
        WAIT,
        |o| condition(o, "Ready").is_some_and(|c| c.0 == "False" && c.1 == "AuthenticationFailed"),
    )
    .await;
    let message = condition(&g, "Ready").map(|c| c.2).unwrap_or_default();
    assert!(message.contains("git-credentials"), "{message}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_in_the_url_never_reach_status_or_events() -> R {
    let Some((env, _repo)) = env_and_repo("git-creds").await? else {
        return Ok(());
    };
    env.git_repository(
        NS,
        "leaky",
        "https://user:hunter2secret@127.0.0.1:1/repo.git",
        json!({"branch": "main"}),
    )
    .await?;
    let g = wait_for(
        &env.client,
        &git_repository(),
        NS,
        "leaky",
        "Ready=False",
        WAIT,
        |o| condition(o, "Ready").is_some_and(|c| c.0 == "False"),
    )
    .await;
    let message = condition(&g, "Ready").map(|c| c.2).unwrap_or_default();
    assert!(!message.contains("hunter2secret"), "{message}");
    let events = poll("a Warning event for 'leaky'", WAIT, || async {
        match event_messages(&env.client, NS, "leaky").await {
            Ok(m) if !m.is_empty() => (Some(m), String::new()),
            Ok(m) => (None, format!("{m:?}")),
            Err(e) => (None, e.to_string()),
        }
    })
    .await;
    for m in events {
        assert!(!m.contains("hunter2secret"), "{m}");
    }
    Ok(())
}
