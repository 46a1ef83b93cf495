//! The first pass: every YAML file, every object with its file and line, and the checks a
//! single object can fail on its own.

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use super::kinds::{group_of, Scope, Scopes};
use super::{Finding, Rule};
use crate::error::{Error, Result};
use crate::names::name_rule;

/// One object of the repository.
#[derive(Debug, Clone)]
pub(crate) struct Obj {
    /// Relative to the root.
    pub file: PathBuf,
    /// 1-based line where the document starts, and where the next one starts.
    pub line: usize,
    pub end: usize,
    pub value: Value,
    pub group: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

impl Obj {
    pub fn label(&self, key: &str) -> Option<&str> {
        self.value["metadata"]["labels"][key].as_str()
    }

    /// `Kind namespace/name` for messages.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// What the first pass found.
#[derive(Debug, Default)]
pub(crate) struct Scanned {
    pub objects: Vec<Obj>,
    pub findings: Vec<Finding>,
    pub scopes: Scopes,
    /// Files that failed to parse (their Kustomizations' render errors are not repeated).
    pub broken_files: BTreeSet<PathBuf>,
    texts: HashMap<PathBuf, Vec<String>>,
}

impl Scanned {
    /// The line of the key reached by matching `needles` in order (each a line prefix after
    /// indentation and `- `) inside the object's document; the document line otherwise.
    pub fn locate(&self, obj: &Obj, needles: &[&str]) -> usize {
        let Some(lines) = self.texts.get(&obj.file) else {
            return obj.line;
        };
        let mut found = obj.line;
        let mut i = obj.line.saturating_sub(1);
        for needle in needles {
            let hit = (i..obj.end.saturating_sub(1).min(lines.len())).find(|&j| {
                let t = lines[j].trim_start();
                let t = t.strip_prefix("- ").unwrap_or(t);
                t.starts_with(needle)
            });
            match hit {
                Some(j) => {
                    found = j + 1;
                    i = j + 1;
                }
                None => return found,
            }
        }
        found
    }
}

const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Reads every `.yaml`/`.yml` file below `root`.
pub(crate) fn scan(root: &Path) -> Result<Scanned> {
    let mut files = Vec::new();
    walk(root, root, &mut files)?;
    let mut s = Scanned::default();
    for rel in files {
        let full = root.join(&rel);
        let text = match std::fs::read_to_string(&full) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                s.findings
                    .push(finding(&rel, 1, Rule::Parse, "not UTF-8 text".into()));
                s.broken_files.insert(rel);
                continue;
            }
            Err(e) => return Err(Error::io(full, e)),
        };
        read_file(&mut s, &rel, &text);
    }
    for o in &s.objects {
        if o.group == "apiextensions.k8s.io" && o.kind == "CustomResourceDefinition" {
            s.scopes.add_crd(&o.value);
        }
    }
    let mut findings = Vec::new();
    let mut unknown = BTreeSet::new();
    for o in &s.objects {
        check_object(&s, o, &mut unknown, &mut findings);
    }
    s.findings.extend(findings);
    Ok(s)
}

fn finding(file: &Path, line: usize, rule: Rule, message: String) -> Finding {
    Finding {
        file: file.to_path_buf(),
        line: line.max(1),
        rule,
        message,
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = e.path();
        if path.is_dir() {
            walk(root, &path, out)?;
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_path_buf());
            }
        }
    }
    Ok(())
}

fn read_file(s: &mut Scanned, rel: &Path, text: &str) {
    s.texts.insert(
        rel.to_path_buf(),
        text.lines().map(str::to_string).collect(),
    );
    let docs = match flotilla_yaml::parse_documents(text) {
        Ok(d) => d,
        Err(e) => {
            s.findings
                .push(finding(rel, e.line, Rule::Parse, e.message.clone()));
            s.broken_files.insert(rel.to_path_buf());
            return;
        }
    };
    let is_kustomization = rel
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| KUSTOMIZATION_FILES.contains(&n));
    if is_kustomization {
        return;
    }
    let eof = text.lines().count() + 1;
    for (i, d) in docs.iter().enumerate() {
        let end = docs.get(i + 1).map(|n| n.line).unwrap_or(eof);
        match &d.value {
            Value::Null => {}
            Value::Object(m)
                if m.get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.ends_with("List"))
                    && m.get("items").is_some_and(Value::is_array) =>
            {
                for item in m["items"].as_array().into_iter().flatten() {
                    add_object(s, rel, d.line, end, item);
                }
            }
            v => add_object(s, rel, d.line, end, v),
        }
    }
}

fn add_object(s: &mut Scanned, rel: &Path, line: usize, end: usize, v: &Value) {
    let (Some(api), Some(kind)) = (v["apiVersion"].as_str(), v["kind"].as_str()) else {
        s.findings.push(finding(
            rel,
            line,
            Rule::Parse,
            "not a Kubernetes object: a document needs `apiVersion` and `kind`".into(),
        ));
        s.broken_files.insert(rel.to_path_buf());
        return;
    };
    let Some(name) = v["metadata"]["name"].as_str() else {
        s.findings.push(finding(
            rel,
            line,
            Rule::Parse,
            format!("{kind} has no metadata.name"),
        ));
        s.broken_files.insert(rel.to_path_buf());
        return;
    };
    s.objects.push(Obj {
        file: rel.to_path_buf(),
        line,
        end,
        group: group_of(api).to_string(),
        kind: kind.to_string(),
        name: name.to_string(),
        namespace: v["metadata"]["namespace"].as_str().map(str::to_string),
        value: v.clone(),
    });
}

/// The folder an object's file is in: `namespaced`, `non-namespaced`, or neither (the
/// innermost one counts).
fn folder_scope(rel: &Path) -> Option<Scope> {
    rel.parent()?
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => n.to_str(),
            _ => None,
        })
        .filter_map(|n| match n {
            "namespaced" => Some(Scope::Namespaced),
            "non-namespaced" => Some(Scope::Cluster),
            _ => None,
        })
        .next_back()
}

fn check_object(
    s: &Scanned,
    o: &Obj,
    unknown: &mut BTreeSet<(String, String)>,
    out: &mut Vec<Finding>,
) {
    let scope = s.scopes.scope(&o.group, &o.kind);
    match (scope, folder_scope(&o.file)) {
        (Some(Scope::Cluster), Some(Scope::Namespaced)) => out.push(finding(
            &o.file,
            o.line,
            Rule::FolderScope,
            format!(
                "{} is cluster-scoped but lives under a `namespaced` folder",
                o.describe()
            ),
        )),
        (Some(Scope::Namespaced), Some(Scope::Cluster)) => out.push(finding(
            &o.file,
            o.line,
            Rule::FolderScope,
            format!(
                "{} is namespaced but lives under a `non-namespaced` folder",
                o.describe()
            ),
        )),
        (None, _) if unknown.insert((o.group.clone(), o.kind.clone())) => {
            let api = o.value["apiVersion"].as_str().unwrap_or("");
            out.push(finding(
                &o.file,
                o.line,
                Rule::UnknownKind,
                format!("no scope known for kind {} ({api}): not built in, and no CustomResourceDefinition in the repository defines it", o.kind),
            ));
        }
        _ => {}
    }
    if !o.name.contains("${") {
        let rule = name_rule(&o.group, &o.kind);
        if !rule.check(&o.name) {
            out.push(finding(
                &o.file,
                s.locate(o, &["metadata:", "name:"]),
                Rule::InvalidName,
                format!(
                    "{} {:?}: the name must be {}",
                    o.kind,
                    o.name,
                    rule.describe()
                ),
            ));
        }
    }
    if let Some(ns) = &o.namespace {
        if !ns.contains("${") && !crate::names::is_dns1123_label(ns) {
            out.push(finding(
                &o.file,
                s.locate(o, &["metadata:", "namespace:"]),
                Rule::InvalidName,
                format!(
                    "{} {}: namespace {ns:?} must be {}",
                    o.kind,
                    o.name,
                    crate::names::NameRule::Label.describe()
                ),
            ));
        }
    }
    if o.group.is_empty() && o.kind == "Secret" && o.value.get("sops").is_none() {
        let has = |k: &str| {
            o.value
                .get(k)
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty())
        };
        for key in ["data", "stringData"] {
            if has(key) {
                out.push(finding(
                    &o.file,
                    s.locate(o, &[&format!("{key}:")]),
                    Rule::PlainSecret,
                    format!(
                        "Secret {} has `{key}` but no `sops` metadata: encrypt it (sops --encrypt) or keep it out of the repository",
                        o.name
                    ),
                ));
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_scope_is_the_innermost_folder() {
        let f = |p: &str| folder_scope(Path::new(p));
        assert_eq!(f("features/a/namespaced/x.yaml"), Some(Scope::Namespaced));
        assert_eq!(f("features/a/non-namespaced/x.yaml"), Some(Scope::Cluster));
        assert_eq!(
            f("tenants/aws/common/t/non-namespaced/namespaced/x.yaml"),
            Some(Scope::Namespaced)
        );
        assert_eq!(f("providers/aws/v1/x.yaml"), None);
        assert_eq!(f("namespaced.yaml"), None);
    }

    #[test]
    fn objects_carry_lines_and_keys_are_located() {
        let mut s = Scanned::default();
        let text = "# c\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    app.kubernetes.io/name: x\n  name: a\n  namespace: n\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\nstringData:\n  k: v\n";
        read_file(&mut s, Path::new("f.yaml"), text);
        assert_eq!(s.objects.len(), 2);
        let (a, b) = (&s.objects[0], &s.objects[1]);
        assert_eq!((a.line, a.end, b.line), (2, 10, 10));
        assert_eq!(s.locate(a, &["metadata:", "name:"]), 7);
        assert_eq!(s.locate(a, &["metadata:", "namespace:"]), 8);
        assert_eq!(s.locate(b, &["stringData:"]), 14);
        assert_eq!(s.locate(b, &["nope:"]), 10);
        let mut out = Vec::new();
        check_object(&s, b, &mut BTreeSet::new(), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].rule, out[0].line), (Rule::PlainSecret, 14));
        // With sops metadata the Secret is fine.
        let mut enc = b.clone();
        enc.value["sops"] = serde_json::json!({"version": "3.9.0"});
        out.clear();
        check_object(&s, &enc, &mut BTreeSet::new(), &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn non_objects_and_bad_yaml_are_parse_findings() {
        let mut s = Scanned::default();
        read_file(&mut s, Path::new("a.yaml"), "- just\n- a list\n");
        read_file(&mut s, Path::new("b.yaml"), "a: [\n");
        read_file(
            &mut s,
            Path::new("kustomization.yaml"),
            "resources:\n  - x.yaml\n",
        );
        let rules: Vec<_> = s
            .findings
            .iter()
            .map(|f| (f.file.clone(), f.rule))
            .collect();
        assert_eq!(
            rules,
            [
                (PathBuf::from("a.yaml"), Rule::Parse),
                (PathBuf::from("b.yaml"), Rule::Parse)
            ]
        );
        assert!(s.objects.is_empty());
    }
}
