//! Differential conformance suite: every case under `tests/conformance/cases` is built with
//! the native renderer and compared byte for byte with the stored output of
//! `kubectl kustomize` (`tests/conformance/expected`). When kubectl is on the PATH the stored
//! expectation is also checked against the live oracle, so a stale fixture cannot hide a
//! difference. Without kubectl the suite fails under `CI=true` and otherwise runs on the stored
//! expectations alone, saying so.
//!
//! Run one case: `cargo test -p flotilla-render --test conformance -- 042`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use flotilla_render::{LoadRestrictor, Options};
use std::path::{Path, PathBuf};
use std::process::Command;

struct Case {
    name: String,
    dir: PathBuf,
    root: PathBuf,
    restrictor: LoadRestrictor,
}

enum Expected {
    Output(String),
    Error(String),
}

fn base() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

fn cases(filter: Option<&str>) -> Vec<Case> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(base().join("cases")) else {
        return out;
    };
    let mut dirs: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        if let Some(f) = filter {
            if !name.contains(f) {
                continue;
            }
        }
        let root = match std::fs::read_to_string(dir.join("ROOT")) {
            Ok(r) => dir.join(r.trim()),
            Err(_) => dir.clone(),
        };
        let restrictor = if dir.join("LOAD_RESTRICTOR_NONE").exists() {
            LoadRestrictor::None
        } else {
            LoadRestrictor::RootOnly
        };
        out.push(Case {
            name,
            dir,
            root,
            restrictor,
        });
    }
    out
}

fn expected(case: &Case) -> Option<Expected> {
    let e = base().join("expected");
    if let Ok(s) = std::fs::read_to_string(e.join(format!("{}.yaml", case.name))) {
        return Some(Expected::Output(s));
    }
    if let Ok(s) = std::fs::read_to_string(e.join(format!("{}.error", case.name))) {
        return Some(Expected::Error(s));
    }
    None
}

fn has_kustomization(dir: &Path) -> bool {
    ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .any(|n| dir.join(n).is_file())
}

/// Flux's generated resource list, written independently of the renderer's own walker.
fn flux_resources(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let rel = format!("./{}", p.strip_prefix(root).unwrap().display());
        if p.is_dir() {
            if has_kustomization(&p) {
                out.push(rel);
            } else {
                flux_resources(root, &p, out);
            }
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml") | Some("yml")
        ) {
            out.push(rel);
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_tree(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}

/// Run the real kustomize; `None` when kubectl is unavailable.
fn oracle(case: &Case, scratch: &Path) -> Option<Result<String, String>> {
    let mut root = case.root.clone();
    if !has_kustomization(&case.root) {
        let copy = scratch.join(&case.name);
        let _ = std::fs::remove_dir_all(&copy);
        copy_tree(&case.dir, &copy);
        root = copy.join(case.root.strip_prefix(&case.dir).unwrap());
        let mut res = Vec::new();
        flux_resources(&root, &root, &mut res);
        let mut k = String::from(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
        );
        for r in res {
            k.push_str(&format!("- {r}\n"));
        }
        std::fs::write(root.join("kustomization.yaml"), k).unwrap();
    }
    let mut cmd = Command::new("kubectl");
    cmd.arg("kustomize").arg(&root);
    if case.restrictor == LoadRestrictor::None {
        cmd.arg("--load-restrictor").arg("LoadRestrictionsNone");
    }
    let out = cmd.output().ok()?;
    Some(if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).to_string())
    })
}

fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}: expected `{x}`, got `{y}`", i + 1);
        }
    }
    format!(
        "lengths differ: expected {} lines, got {} lines",
        a.lines().count(),
        b.lines().count()
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filter = args
        .iter()
        .find(|a| !a.starts_with('-'))
        .map(String::as_str);
    let kubectl = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let ci = std::env::var("CI").map(|v| v == "true").unwrap_or(false);
    if !kubectl {
        if ci {
            eprintln!(
                "conformance: kubectl is not installed; under CI=true the oracle is required"
            );
            std::process::exit(1);
        }
        eprintln!("conformance: kubectl not found; comparing with stored expectations only");
    }
    let scratch = std::env::temp_dir().join(format!("flotilla-conformance-{}", std::process::id()));
    let all = cases(filter);
    let (mut passed, mut failed) = (0usize, 0usize);
    for case in &all {
        let mut problems = Vec::new();
        let Some(exp) = expected(case) else {
            eprintln!("FAIL {}: no stored expectation (run regen.sh)", case.name);
            failed += 1;
            continue;
        };
        if kubectl {
            match (oracle(case, &scratch), &exp) {
                (Some(Ok(live)), Expected::Output(stored)) if &live != stored => {
                    problems.push(format!(
                        "stored expectation is stale: {}",
                        first_difference(stored, &live)
                    ))
                }
                (Some(Err(_)), Expected::Output(_)) => {
                    problems.push("kubectl now fails but an output is stored".into())
                }
                (Some(Ok(_)), Expected::Error(_)) => {
                    problems.push("kubectl now succeeds but an error is stored".into())
                }
                _ => {}
            }
        }
        let opts = Options {
            load_restrictor: case.restrictor,
            generate_missing: true,
        };
        let ours = std::panic::catch_unwind(|| flotilla_render::build(&case.root, &opts));
        match (ours, &exp) {
            (Err(_), _) => problems.push("renderer panicked".into()),
            (Ok(Ok(r)), Expected::Output(stored)) => {
                let text = r.to_yaml();
                if &text != stored {
                    problems.push(first_difference(stored, &text));
                }
            }
            (Ok(Err(e)), Expected::Output(_)) => problems.push(format!("unexpected error: {e}")),
            (Ok(Ok(_)), Expected::Error(msg)) => problems.push(format!(
                "kustomize fails ({}) but we succeeded",
                msg.lines().next().unwrap_or("").trim()
            )),
            (Ok(Err(e)), Expected::Error(_)) => {
                let msg = e.to_string();
                if msg.contains('\n') {
                    problems.push(format!("error is not one line: {msg}"));
                }
            }
        }
        if problems.is_empty() {
            passed += 1;
        } else {
            failed += 1;
            for p in problems {
                eprintln!("FAIL {}: {p}", case.name);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    if all.is_empty() {
        eprintln!("conformance: no cases found");
        std::process::exit(1);
    }
    println!("conformance: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
