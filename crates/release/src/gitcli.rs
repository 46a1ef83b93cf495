//! The `git` program, for what gix does not do: pushing (gix has no push), and the
//! `git init` + first commit of `flotilla init` (crates/platform uses this runner).

use std::path::Path;
use std::process::Command;

use crate::error::{Error, Result};

/// Runs `git <args>` in `dir`; returns stdout, or an error with git's first stderr line.
pub fn run(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| Error::GitCommand {
            args: args.join(" "),
            message: e.to_string(),
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let message = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("exited with an error")
            .to_string();
        return Err(Error::GitCommand {
            args: args.join(" "),
            message,
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Pushes `refs/heads/<branch>` to the same name on `remote`.
pub fn push_branch(dir: &Path, remote: &str, branch: &str) -> Result<()> {
    let spec = format!("refs/heads/{branch}:refs/heads/{branch}");
    run(dir, &["push", remote, &spec]).map(|_| ())
}
