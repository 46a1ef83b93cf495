//! Byte-for-byte comparison with `kubectl kustomize` (kustomize v5.5.0), the oracle.
//!
//! Every case becomes a resource (`apiVersion: v1`, `kind: Sample`, `metadata.name`, plus the
//! case's payload). Our output is `to_yaml(parse_documents(resource))`. Expectations are
//! stored in `tests/oracle_expected.json` so the test also runs without kubectl; when kubectl
//! is installed the stored expectations are checked against the live oracle as well.
//!
//! * kubectl missing and `CI=true`: the test fails.
//! * kubectl missing otherwise: a note is printed and only stored expectations are used.
//! * `FLOTILLA_UPDATE_ORACLE=1` (with kubectl): rewrite the fixture from the live oracle.

// Test-only helpers outside #[test] functions; clippy.toml allows unwrap in tests.
#![allow(clippy::unwrap_used)]

#[path = "oracle/cases.rs"]
mod cases;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Map, Value};

const FIXTURE: &str = "tests/oracle_expected.json";

struct Case {
    name: String,
    payload: String,
}

/// Expected result of one case: printed YAML, or `None` when kustomize fails.
type Expect = Option<String>;

fn all_cases() -> Vec<Case> {
    let mut out = Vec::new();
    for raw in cases::RAW_SCALARS {
        out.push(Case {
            name: format!("raw:{raw}"),
            payload: format!("v: {raw}\nl:\n- {raw}\n"),
        });
    }
    for s in cases::strings() {
        let j = yaml_double_quoted(&s);
        out.push(Case {
            name: format!("str:{j}"),
            payload: format!(
                "v: {j}\nl:\n- {j}\nm:\n  k:\n    deep:\n    - {j}\nkeys:\n  {j}: 1\n"
            ),
        });
    }
    for (name, payload) in cases::PAYLOADS {
        out.push(Case {
            name: format!("payload:{name}"),
            payload: payload.to_string(),
        });
    }
    for (name, payload) in cases::ERRORS {
        out.push(Case {
            name: format!("error:{name}"),
            payload: payload.to_string(),
        });
    }
    let mut seen = std::collections::HashSet::new();
    for c in &out {
        assert!(
            seen.insert(c.name.clone()),
            "duplicate case name {}",
            c.name
        );
    }
    out
}

/// A YAML double-quoted scalar for `s`. Characters that go-yaml's reader treats specially
/// (C0/C1 controls, DEL, NEL, LS, PS, BOM, non-characters) are escaped, everything else
/// is written raw.
fn yaml_double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{feff}'
            | '\u{fffe}'
            | '\u{ffff}' => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

fn resource(index: usize, payload: &str) -> String {
    format!("apiVersion: v1\nkind: Sample\nmetadata:\n  name: c{index:04}\n{payload}")
}

fn ours(src: &str) -> Result<String, String> {
    let docs = flotilla_yaml::parse_documents(src).map_err(|e| e.to_string())?;
    let mut out = String::new();
    for d in docs.iter().filter(|d| !d.value.is_null()) {
        if !out.is_empty() {
            out.push_str("---\n");
        }
        flotilla_yaml::write_yaml(&mut out, &d.value);
    }
    Ok(out)
}

fn kubectl_available() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn scratch_dir(tag: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("flotilla-yaml-oracle-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Run `kubectl kustomize` over the given resources; the output split into documents.
fn kustomize(dir: &Path, resources: &[(usize, String)]) -> Result<Vec<String>, String> {
    let mut kust = String::from("resources:\n");
    for (i, text) in resources {
        let file = format!("r{i:04}.yaml");
        std::fs::write(dir.join(&file), text).unwrap();
        kust.push_str(&format!("- {file}\n"));
    }
    std::fs::write(dir.join("kustomization.yaml"), kust).unwrap();
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() || !out.stderr.is_empty() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8(out.stdout).map_err(|e| e.to_string())?;
    let mut docs = vec![String::new()];
    for line in text.split_inclusive('\n') {
        if line == "---\n" {
            docs.push(String::new());
        } else if let Some(last) = docs.last_mut() {
            last.push_str(line);
        }
    }
    Ok(docs)
}

fn name_of(doc: &str) -> Option<usize> {
    let rest = &doc[doc.find("metadata:\n  name: c")? + "metadata:\n  name: c".len()..];
    rest.get(..4)?.parse().ok()
}

/// Run a group of cases through the oracle in one kustomization; when kustomize rejects the
/// group, split it to find the failing cases.
fn live_group(cases: &[Case], group: &[usize], result: &mut BTreeMap<String, Expect>) {
    if group.is_empty() {
        return;
    }
    let resources: Vec<(usize, String)> = group
        .iter()
        .map(|&i| (i, resource(i, &cases[i].payload)))
        .collect();
    let dir = scratch_dir(&format!("g{}-{}", group[0], group.len()));
    let got = kustomize(&dir, &resources);
    let _ = std::fs::remove_dir_all(&dir);
    match got {
        Ok(docs) if group.len() == 1 => {
            result.insert(cases[group[0]].name.clone(), Some(docs.join("---\n")));
        }
        Ok(docs) => {
            for d in docs {
                if let Some(i) = name_of(&d) {
                    result.insert(cases[i].name.clone(), Some(d));
                }
            }
        }
        Err(_) if group.len() == 1 => {
            result.insert(cases[group[0]].name.clone(), None);
        }
        Err(_) => {
            let (a, b) = group.split_at(group.len() / 2);
            live_group(cases, a, result);
            live_group(cases, b, result);
        }
    }
}

/// Live oracle results for all cases. Cases the fixture expects to fail run on their own,
/// the rest in one batch.
fn live(cases: &[Case], stored: &BTreeMap<String, Expect>) -> BTreeMap<String, Expect> {
    let mut result = BTreeMap::new();
    let (fail, ok): (Vec<usize>, Vec<usize>) = (0..cases.len()).partition(|&i| {
        cases[i].name.starts_with("error:") || matches!(stored.get(&cases[i].name), Some(None))
    });
    live_group(cases, &ok, &mut result);
    for i in fail {
        live_group(cases, &[i], &mut result);
    }
    result
}

fn load_fixture(path: &Path) -> BTreeMap<String, Expect> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return BTreeMap::new();
    };
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut out = BTreeMap::new();
    for (k, e) in v.as_object().unwrap() {
        let exp = e.get("output").and_then(Value::as_str).map(str::to_string);
        out.insert(k.clone(), exp);
    }
    out
}

fn save_fixture(path: &Path, cases: &[Case], live: &BTreeMap<String, Expect>) {
    let mut m = Map::new();
    for c in cases {
        let e = match live.get(&c.name) {
            Some(Some(out)) => json!({ "output": out }),
            _ => json!({ "error": true }),
        };
        m.insert(c.name.clone(), e);
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(m)).unwrap();
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

#[test]
fn oracle() {
    let cases = all_cases();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let mut stored = load_fixture(&fixture);
    let live = if kubectl_available() {
        Some(live(&cases, &stored))
    } else if std::env::var("CI").as_deref() == Ok("true") {
        panic!("kubectl (the kustomize oracle) is not installed, and CI=true requires it");
    } else {
        eprintln!("note: kubectl not found; comparing with stored expectations in {FIXTURE} only");
        None
    };
    if let Some(live) = &live {
        if std::env::var("FLOTILLA_UPDATE_ORACLE").as_deref() == Ok("1") {
            save_fixture(&fixture, &cases, live);
            stored = load_fixture(&fixture);
        }
    }

    let mut failures = Vec::new();
    let mut passed = 0;
    for (i, c) in cases.iter().enumerate() {
        let Some(expected) = stored.get(&c.name) else {
            failures.push(format!(
                "{}: no stored expectation (run with FLOTILLA_UPDATE_ORACLE=1 where kubectl is installed)",
                c.name
            ));
            continue;
        };
        if let Some(live) = &live {
            if live.get(&c.name) != Some(expected) {
                failures.push(format!(
                    "{}: stored expectation differs from live kubectl\n  stored: {:?}\n  live:   {:?}",
                    c.name,
                    expected,
                    live.get(&c.name)
                ));
                continue;
            }
        }
        let got = ours(&resource(i, &c.payload));
        match (expected, &got) {
            (Some(want), Ok(out)) if want == out => passed += 1,
            (None, Err(_)) => passed += 1,
            _ => failures.push(format!(
                "{}: mismatch\n--- payload\n{}--- expected\n{}--- ours\n{}",
                c.name,
                c.payload,
                expected.as_deref().unwrap_or("<kustomize error>\n"),
                match &got {
                    Ok(s) => s.clone(),
                    Err(e) => format!("<error: {e}>\n"),
                }
            )),
        }
    }
    eprintln!("oracle: {passed} of {} cases pass", cases.len());
    assert!(
        failures.is_empty(),
        "{} oracle failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
