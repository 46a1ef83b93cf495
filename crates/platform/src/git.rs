//! `git init` and the first commit, through the `git` program. The identity is the user's
//! own git configuration; only when it has none does the commit fall back to
//! `Flotilla <flotilla@localhost>`.

use std::path::Path;
use std::process::Command;

use crate::error::{Error, Result};

/// The identity used when git has no `user.name` / `user.email` configured.
pub const FALLBACK_NAME: &str = "Flotilla";
/// See [`FALLBACK_NAME`].
pub const FALLBACK_EMAIL: &str = "flotilla@localhost";

/// Runs `git -C dir <args>`; stdout, or an error with git's last stderr line (the runner
/// of `flotilla-release`, whose error is mapped to ours).
pub fn run(dir: &Path, args: &[&str]) -> Result<String> {
    flotilla_release::gitcli::run(dir, args).map_err(|e| match e {
        flotilla_release::Error::GitCommand { args, message } => Error::Git { args, message },
        other => Error::Git {
            args: args.join(" "),
            message: other.to_string(),
        },
    })
}

/// Whether the `git` program can be run.
pub fn available() -> bool {
    Command::new("git")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn configured(dir: &Path, key: &str) -> bool {
    run(dir, &["config", "--get", key])
        .map(|v| !v.trim().is_empty())
        .unwrap_or(false)
}

/// `git init` on branch `main` (idempotent), stage everything, commit with `title`.
/// Returns the new commit id.
pub fn init_and_commit(dir: &Path, title: &str, body: &str) -> Result<String> {
    run(dir, &["init", "--quiet", "--initial-branch=main"])?;
    run(dir, &["add", "--all"])?;
    let name = format!("user.name={FALLBACK_NAME}");
    let email = format!("user.email={FALLBACK_EMAIL}");
    let mut args: Vec<&str> = Vec::new();
    if !configured(dir, "user.name") {
        args.extend(["-c", name.as_str()]);
    }
    if !configured(dir, "user.email") {
        args.extend(["-c", email.as_str()]);
    }
    let message = format!("{title}\n\n{body}");
    args.extend(["commit", "--quiet", "--no-verify", "-m", message.as_str()]);
    run(dir, &args)?;
    Ok(run(dir, &["rev-parse", "HEAD"])?.trim().to_string())
}
