//! Schema cases: definitions from k8s-openapi with the patch/list metadata kube-apiserver publishes.
use super::*;

fn def(name: &str) -> Node<'static> {
    Node::new(definitions().get(name).unwrap_or(&EMPTY))
}

#[test]
fn deployment_schema_reaches_container_ports() {
    let d = def("io.k8s.api.apps.v1.Deployment");
    let ports = d
        .field("spec")
        .and_then(|n| n.field("template"))
        .and_then(|n| n.field("spec"))
        .and_then(|n| n.field("containers"))
        .and_then(|n| n.items())
        .and_then(|n| n.field("ports"))
        .expect("ports");
    assert_eq!(
        ports.list_kind(),
        ListKind::Map(vec!["containerPort".into(), "protocol".into()])
    );
    assert_eq!(ports.merge_key(), Some("containerPort"));
}

#[test]
fn metadata_lists_and_atomic_selector() {
    let d = def("io.k8s.api.apps.v1.Deployment");
    let meta = d.field("metadata").expect("metadata");
    assert_eq!(
        meta.field("finalizers").expect("f").list_kind(),
        ListKind::Set
    );
    assert_eq!(
        meta.field("ownerReferences").expect("o").list_kind(),
        ListKind::Map(vec!["uid".into()])
    );
    let labels = meta.field("labels").expect("labels");
    assert_eq!(
        labels.additional().and_then(|n| n.type_name()),
        Some("string")
    );
    let sel = d
        .field("spec")
        .and_then(|s| s.field("selector"))
        .expect("selector");
    assert!(sel.atomic_map());
    let volumes = d
        .field("spec")
        .and_then(|n| n.field("template"))
        .and_then(|n| n.field("spec"))
        .and_then(|n| n.field("volumes"))
        .expect("volumes");
    assert_eq!(volumes.patch_strategy(), "merge,retainKeys");
}

#[test]
fn gvk_extension_on_top_level_definitions() {
    let d = definitions().get("io.k8s.api.core.v1.Pod").expect("pod");
    assert_eq!(
        d["x-kubernetes-group-version-kind"],
        json!([{"group": "", "kind": "Pod", "version": "v1"}])
    );
    let port = def("io.k8s.api.core.v1.ServicePort");
    assert!(port.field("targetPort").expect("tp").int_or_string());
    // Every table entry names a field that exists, so a typo cannot silently drop metadata.
    for (d, f, ..) in patch_meta::LISTS {
        let name = patch_meta::full_name(d);
        assert!(
            definitions()
                .get(&name)
                .and_then(|x| x.pointer(&format!("/properties/{f}")))
                .is_some(),
            "{name}.{f}"
        );
    }
}
