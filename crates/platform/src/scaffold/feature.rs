//! `flotilla add feature NAME [--clusters …|--envs …]`: the feature's folders (with its
//! namespace, so the path renders) and a `feature-NAME` Kustomization for every chosen
//! cluster.

use std::path::PathBuf;

use super::cluster::kustomization_for;
use super::namespace;
use crate::error::{Error, Result};
use crate::names::check_arg;
use crate::repo::Platform;
use crate::write::{write_all, Outcome, PlannedFile};

/// Options of `add feature`.
#[derive(Debug, Clone, Default)]
pub struct FeatureOptions {
    pub name: String,
    /// Only these clusters.
    pub clusters: Option<Vec<String>>,
    /// Only the clusters of these environments.
    pub envs: Option<Vec<String>>,
    pub force: bool,
}

/// Plans the feature's files.
pub fn plan(p: &Platform, o: &FeatureOptions) -> Result<Vec<PlannedFile>> {
    check_arg("feature name", &o.name)?;
    if o.clusters.is_some() && o.envs.is_some() {
        return Err(Error::Invalid(
            "--clusters and --envs exclude each other".into(),
        ));
    }
    let chosen = chosen(p, o)?;
    let f = o.name.as_str();
    let dir = PathBuf::from("features").join(f);
    let mut files = vec![
        PlannedFile::new(
            dir.join("non-namespaced/namespace.yaml"),
            namespace(
                Some("The feature's own namespace; cluster-wide objects (CRDs, ClusterRoles)\ngo next to this file, namespaced ones under ../namespaced/."),
                f,
                &[("app.kubernetes.io/part-of", f)],
            ),
        ),
        PlannedFile::if_missing(dir.join("namespaced/.gitkeep"), ""),
    ];
    let kname = format!("feature-{f}");
    for c in &chosen {
        files.push(kustomization_for(p, c, &kname, &dir, Vec::new()));
    }
    Ok(files)
}

/// The clusters that get the feature.
fn chosen(p: &Platform, o: &FeatureOptions) -> Result<Vec<crate::repo::ClusterRef>> {
    let all = p.clusters();
    Ok(match (&o.clusters, &o.envs) {
        (Some(names), _) => {
            let mut v = Vec::new();
            for n in names {
                match all.iter().find(|c| &c.name == n) {
                    Some(c) => v.push(c.clone()),
                    None => return Err(Error::Invalid(format!("unknown cluster `{n}`"))),
                }
            }
            v
        }
        (None, Some(envs)) => {
            for e in envs {
                if !all.iter().any(|c| &c.env == e) {
                    return Err(Error::Invalid(format!("no cluster in environment `{e}`")));
                }
            }
            all.iter()
                .filter(|c| envs.contains(&c.env))
                .cloned()
                .collect()
        }
        (None, None) => all,
    })
}

/// Adds the feature to the repository at `p.root`.
pub fn add_feature(p: &Platform, o: &FeatureOptions) -> Result<Outcome> {
    let files = plan(p, o)?;
    let mut out = write_all(&p.root, &files, o.force)?;
    // The cluster layer and tenants-common of each chosen cluster wait for the feature.
    let kname = format!("feature-{}", o.name);
    for c in chosen(p, o)? {
        for layer in [c.name.as_str(), "tenants-common"] {
            let rel = p
                .mgmt_rel()
                .join("namespaced")
                .join(&c.name)
                .join(format!("kustomization-{layer}.yaml"));
            let full = p.root.join(&rel);
            let Ok(text) = std::fs::read_to_string(&full) else {
                continue;
            };
            match add_depends_on(&text, &kname) {
                Some(new) if new != text => {
                    std::fs::write(&full, new).map_err(|e| Error::io(&full, e))?;
                    out.written.push(rel);
                }
                Some(_) => {}
                None => out.notes.push(format!(
                    "{}: could not add {kname} to dependsOn (not in the generated layout); add it by hand",
                    rel.display()
                )),
            }
        }
    }
    Ok(out)
}

/// `text` (a Kustomization as the templates write it) with `- name: dep` in
/// `spec.dependsOn`; unchanged when listed already, `None` when the layout is not the
/// generated one.
pub(crate) fn add_depends_on(text: &str, dep: &str) -> Option<String> {
    let entry = format!("    - name: {}", crate::names::scalar(dep));
    let lines: Vec<&str> = text.lines().collect();
    if let Some(start) = lines.iter().position(|l| *l == "  dependsOn:") {
        let mut end = start + 1;
        while end < lines.len() && lines[end].starts_with("    - name: ") {
            if lines[end] == entry {
                return Some(text.to_string());
            }
            end += 1;
        }
        if end == start + 1 {
            return None;
        }
        let mut out: Vec<&str> = lines[..end].to_vec();
        out.push(&entry);
        out.extend_from_slice(&lines[end..]);
        return Some(out.join("\n") + "\n");
    }
    // No dependsOn yet: append to `spec`, which must be the last top-level key.
    let last_top = lines
        .iter()
        .rposition(|l| !l.is_empty() && !l.starts_with(' ') && !l.starts_with('#'))?;
    if lines[last_top] != "spec:" {
        return None;
    }
    Some(format!("{}\n  dependsOn:\n{entry}\n", text.trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_on_is_extended_once() {
        let k = "spec:\n  path: ./x\n  dependsOn:\n    - name: common\n  postBuild:\n    substitute:\n      a: b\n";
        let once = add_depends_on(k, "feature-a").unwrap();
        assert_eq!(
            once,
            "spec:\n  path: ./x\n  dependsOn:\n    - name: common\n    - name: feature-a\n  postBuild:\n    substitute:\n      a: b\n"
        );
        assert_eq!(add_depends_on(&once, "feature-a").unwrap(), once);
        let none = "kind: Kustomization\nspec:\n  path: ./x\n";
        assert_eq!(
            add_depends_on(none, "feature-a").unwrap(),
            "kind: Kustomization\nspec:\n  path: ./x\n  dependsOn:\n    - name: feature-a\n"
        );
        assert_eq!(add_depends_on("spec:\n  a: 1\nstatus: {}\n", "f"), None);
    }
}
