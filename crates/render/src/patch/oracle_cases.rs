//! Oracle tests: every case under `crates/render/tests/patch_cases/` was run
//! through the real `kubectl kustomize` (kustomize v5.5.0) by `regen.sh`, which
//! stored the inputs as JSON (`base.json`, `patch.json`) and kubectl's output
//! as `expected.json` (`null` = resource deleted) or `expected_error.txt`.
//! Cases with a `target.yaml` are JSON 6902 patches, the others strategic
//! merge patches.  Values are compared as JSON (map key order ignored: kustomize
//! sorts keys on output).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{apply_json6902, strategic_merge, SmpOutcome};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/patch_cases")
}

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs one case; `Err` describes a mismatch.
fn run_case(dir: &Path) -> Result<(), String> {
    let base = read_json(&dir.join("base.json"));
    let patch = read_json(&dir.join("patch.json"));
    let ours: Result<Option<Value>, String> = if dir.join("target.yaml").exists() {
        apply_json6902(&base, &patch)
            .map(Some)
            .map_err(|e| e.to_string())
    } else {
        match strategic_merge(&base, &patch) {
            Ok(SmpOutcome::Merged(v)) => Ok(Some(v)),
            Ok(SmpOutcome::Deleted) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    };
    let error_file = dir.join("expected_error.txt");
    if error_file.exists() {
        return match ours {
            Err(_) => Ok(()),
            Ok(v) => Err(format!(
                "kustomize failed ({}) but we produced {v:?}",
                fs::read_to_string(&error_file).unwrap_or_default().trim()
            )),
        };
    }
    let expected = match read_json(&dir.join("expected.json")) {
        Value::Null => None,
        v => Some(v),
    };
    match ours {
        Err(e) => Err(format!("we failed: {e}")),
        Ok(v) if v == expected => Ok(()),
        Ok(v) => Err(format!(
            "mismatch\n  expected: {}\n  actual:   {}",
            expected
                .map(|e| e.to_string())
                .unwrap_or_else(|| "<deleted>".into()),
            v.map(|e| e.to_string())
                .unwrap_or_else(|| "<deleted>".into()),
        )),
    }
}

#[test]
fn oracle_cases_match_kustomize() {
    let mut dirs: Vec<PathBuf> = fs::read_dir(cases_dir())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 40,
        "expected at least 40 oracle cases, found {}",
        dirs.len()
    );
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|d| {
            run_case(d).err().map(|e| {
                format!(
                    "{}: {e}",
                    d.file_name().unwrap_or_default().to_string_lossy()
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}

#[test]
fn oracle_covers_errors_and_deletion() {
    let dir = cases_dir();
    let errors = fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("expected_error.txt").exists())
        .count();
    assert!(errors >= 5, "too few error cases: {errors}");
    assert_eq!(
        read_json(&dir.join("smp_top_level_delete/expected.json")),
        Value::Null
    );
}
