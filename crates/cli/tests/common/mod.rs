//! Helpers shared by the CLI end-to-end tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

/// Run the `flotilla` binary built for this test run.
pub fn flotilla(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .args(args)
        .output()
        .expect("run flotilla")
}

/// Is an outside tool available? Missing under `CI=true` is a failure; elsewhere the caller
/// skips, and the reason is printed.
pub fn tool_available(tool: &str, version_args: &[&str]) -> bool {
    let ok = Command::new(tool)
        .args(version_args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{tool} is required under CI=true");
        }
        eprintln!("skipping: {tool} not found");
    }
    ok
}
