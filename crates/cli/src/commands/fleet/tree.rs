//! `flotilla tree ks NAME`: a Kustomization's inventory (`status.inventory.entries[].id`,
//! `<namespace>_<name>_<group>_<kind>`) as a tree, descending into the Kustomizations it
//! applied, as `flux tree kustomization` prints it.
use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::{bail, Result};
use flotilla_model::flux::{KustomizationStatus, KUSTOMIZE_GROUP};
use serde_json::{json, Value};

use super::kinds::{self, KUSTOMIZATION};
use super::{TreeArgs, TreeTarget};

/// One object of an inventory (cli-utils' `ObjMetadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ObjMeta {
    pub namespace: String,
    pub name: String,
    pub group: String,
    pub kind: String,
}

impl ObjMeta {
    /// Parses an inventory id as cli-utils does: namespace up to the first `_`, kind after the
    /// last, group before it, the name in between (`__` stands for `:` in RBAC names).
    pub fn parse(id: &str) -> Option<ObjMeta> {
        let (namespace, rest) = id.split_once('_')?;
        let (rest, kind) = rest.rsplit_once('_')?;
        let (name, group) = rest.rsplit_once('_')?;
        if name.is_empty() || kind.is_empty() {
            return None;
        }
        Some(ObjMeta {
            namespace: namespace.to_string(),
            name: name.replace("__", ":"),
            group: group.to_string(),
            kind: kind.to_string(),
        })
    }

    /// `Kind/namespace/name`, or `Kind/name` for a cluster-scoped object.
    fn label(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }

    fn is_kustomization(&self) -> bool {
        self.kind == KUSTOMIZATION.kind && self.group == KUSTOMIZE_GROUP
    }

    fn is_flux(&self) -> bool {
        self.group.ends_with(".toolkit.fluxcd.io")
    }
}

/// A node of the tree.
struct Node {
    object: ObjMeta,
    children: Vec<Node>,
}

impl Node {
    fn to_json(&self) -> Value {
        let mut v = json!({"resource": {
            "Namespace": self.object.namespace,
            "Name": self.object.name,
            "GroupKind": {"Group": self.object.group, "Kind": self.object.kind},
        }});
        if !self.children.is_empty() {
            v["resources"] = Value::Array(self.children.iter().map(Node::to_json).collect());
        }
        v
    }

    fn print(&self, out: &mut String) {
        out.push_str(&self.object.label());
        out.push('\n');
        self.print_children("", out);
    }

    fn print_children(&self, prefix: &str, out: &mut String) {
        for (i, child) in self.children.iter().enumerate() {
            let last = i + 1 == self.children.len();
            out.push_str(prefix);
            out.push_str(if last { "└── " } else { "├── " });
            out.push_str(&child.object.label());
            out.push('\n');
            let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
            child.print_children(&deeper, out);
        }
    }
}

pub(super) async fn run(args: TreeArgs) -> Result<ExitCode> {
    let client = super::client(&args.kube).await?;
    let TreeTarget::Kustomization { name } = args.target;
    let namespace = args.kube.namespace;
    let root = ObjMeta {
        namespace: namespace.clone(),
        name,
        group: KUSTOMIZE_GROUP.to_string(),
        kind: KUSTOMIZATION.kind.to_string(),
    };
    let mut seen = BTreeSet::new();
    let mut stack = Vec::new();
    let tree = build(&client, root, args.compact, true, &mut seen, &mut stack).await?;
    match args.output.as_deref() {
        Some("json") => println!("{}", serde_json::to_string_pretty(&tree.to_json())?),
        Some("yaml") => print!("{}", flotilla_yaml::to_yaml(&tree.to_json())),
        _ => {
            let mut out = String::new();
            tree.print(&mut out);
            print!("{out}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The node of a Kustomization and, recursively, of the Kustomizations in its inventory.
/// Only the root must exist; a listed Kustomization that is gone (or was seen before, which
/// a cycle would cause) is a leaf.
async fn build(
    client: &kube::Client,
    object: ObjMeta,
    compact: bool,
    root: bool,
    seen: &mut BTreeSet<(String, String)>,
    stack: &mut Vec<(ObjMeta, Vec<Node>, Vec<ObjMeta>)>,
) -> Result<Node> {
    // Depth-first without async recursion: each frame is (kustomization, its built children,
    // its remaining inventory, reversed).
    let Some(entries) = inventory(client, &object, root).await? else {
        bail!("kustomization '{}' has no inventory", object.name);
    };
    seen.insert((object.namespace.clone(), object.name.clone()));
    stack.push((object, Vec::new(), filtered(entries, compact)));
    loop {
        let Some(frame) = stack.last_mut() else {
            bail!("empty tree stack");
        };
        match frame.2.pop() {
            Some(child) => {
                let key = (child.namespace.clone(), child.name.clone());
                if child.is_kustomization() && !seen.contains(&key) {
                    seen.insert(key);
                    if let Some(entries) = inventory(client, &child, false).await? {
                        stack.push((child, Vec::new(), filtered(entries, compact)));
                        continue;
                    }
                }
                frame.1.push(Node {
                    object: child,
                    children: Vec::new(),
                });
            }
            None => {
                let Some((object, children, _)) = stack.pop() else {
                    bail!("empty tree stack");
                };
                let node = Node { object, children };
                match stack.last_mut() {
                    Some(parent) => parent.1.push(node),
                    None => return Ok(node),
                }
            }
        }
    }
}

/// The entries to show, reversed for popping.
fn filtered(entries: Vec<ObjMeta>, compact: bool) -> Vec<ObjMeta> {
    let mut kept: Vec<ObjMeta> = entries
        .into_iter()
        .filter(|e| !compact || e.is_flux())
        .collect();
    kept.reverse();
    kept
}

/// The inventory of a Kustomization: `Some(empty)` when it has none yet, `None` when it does
/// not exist (an error for the root).
async fn inventory(
    client: &kube::Client,
    ks: &ObjMeta,
    root: bool,
) -> Result<Option<Vec<ObjMeta>>> {
    let obj = if root {
        KUSTOMIZATION.get(client, &ks.namespace, &ks.name).await?
    } else {
        match KUSTOMIZATION
            .api(client, &ks.namespace)
            .get_opt(&ks.name)
            .await
        {
            Ok(Some(obj)) => obj,
            Ok(None) => return Ok(None),
            Err(e) => return Err(KUSTOMIZATION.error(e, Some(&ks.name), &ks.namespace)),
        }
    };
    let entries = kinds::status::<KustomizationStatus>(&obj)
        .and_then(|s| s.inventory)
        .map(|i| i.entries)
        .unwrap_or_default();
    let mut out = Vec::new();
    for entry in entries {
        match ObjMeta::parse(&entry.id) {
            Some(o) => out.push(o),
            None => {
                tracing::warn!(id = %entry.id, kustomization = %ks.name, "unreadable inventory id")
            }
        }
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::ObjMeta;

    #[test]
    fn parses_inventory_ids_like_cli_utils() {
        let d = ObjMeta::parse("default_podinfo_apps_Deployment").unwrap();
        assert_eq!(
            (d.namespace.as_str(), d.name.as_str(), d.group.as_str()),
            ("default", "podinfo", "apps")
        );
        assert_eq!(d.kind, "Deployment");
        let ns = ObjMeta::parse("_foo__Namespace").unwrap();
        assert_eq!((ns.namespace.as_str(), ns.name.as_str()), ("", "foo"));
        assert_eq!((ns.group.as_str(), ns.kind.as_str()), ("", "Namespace"));
        let rbac =
            ObjMeta::parse("_system__controller_rbac.authorization.k8s.io_ClusterRole").unwrap();
        assert_eq!(rbac.name, "system:controller");
        assert!(ObjMeta::parse("nounderscores").is_none());
    }
}
