//! Property tests of the loader and the YAML layer: arbitrary bytes as kustomization or
//! resource files, and arbitrary kustomization trees built from a vocabulary of fields,
//! never make the renderer panic; they render or give an error. The number of cases per
//! property is `PROPTEST_CASES` (default 256); run long with
//! `PROPTEST_CASES=20000 cargo test -p flotilla-render --release --test robustness`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use flotilla_render::{build, Options};
use proptest::prelude::*;
use std::path::Path;

fn tmpdir() -> tempfile_dir::Dir {
    tempfile_dir::Dir::new()
}

/// A minimal self-cleaning temp dir (no extra dependency).
mod tempfile_dir {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    pub struct Dir(PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let p = std::env::temp_dir().join(format!(
                "flotilla-robust-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn must_not_panic(root: &Path) {
    let r = std::panic::catch_unwind(|| build(root, &Options::flux()));
    assert!(r.is_ok(), "renderer panicked on {}", root.display());
    if let Ok(Ok(rendered)) = r {
        // Output must re-parse as YAML.
        let text = rendered.to_yaml();
        flotilla_yaml::parse_documents(&text).expect("our own output parses");
    }
}

const RESOURCE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      serviceAccountName: sa\n      containers:\n      - name: web\n        image: nginx:1.25\n        envFrom:\n        - configMapRef:\n            name: cfg\n";

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("resources:\n- res.yaml\n".to_string()),
        Just("resources:\n- missing.yaml\n".to_string()),
        Just("resources:\n- sub\n".to_string()),
        Just("resources:\n- ../outside.yaml\n".to_string()),
        Just("resources:\n- https://github.com/x/y\n".to_string()),
        Just("components:\n- comp\n".to_string()),
        "[a-z]{1,8}".prop_map(|p| format!("namePrefix: {p}-\n")),
        "[a-z]{1,8}".prop_map(|p| format!("nameSuffix: -{p}\n")),
        "[a-z]{1,8}".prop_map(|p| format!("namespace: {p}\n")),
        "[a-z]{1,5}".prop_map(|p| format!("commonLabels:\n  {p}: v\n")),
        "[a-z]{1,5}".prop_map(|p| format!("commonAnnotations:\n  {p}: \"1\"\n")),
        Just("images:\n- name: nginx\n  newTag: \"2\"\n".to_string()),
        Just("replicas:\n- name: web\n  count: 3\n".to_string()),
        Just("configMapGenerator:\n- name: cfg\n  literals:\n  - a=b\n".to_string()),
        Just("secretGenerator:\n- name: s\n  literals:\n  - a=b\n".to_string()),
        Just("configMapGenerator:\n- name: cfg\n  behavior: merge\n  literals:\n  - c=d\n".to_string()),
        Just("patches:\n- patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 2\n  target:\n    kind: Deployment\n".to_string()),
        Just("patches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n    spec:\n      replicas: 5\n".to_string()),
        Just("patchesStrategicMerge:\n- res.yaml\n".to_string()),
        Just("replacements:\n- source:\n    kind: Deployment\n    fieldPath: metadata.name\n  targets:\n  - select:\n      kind: Deployment\n    fieldPaths:\n    - metadata.labels.x\n".to_string()),
        Just("vars:\n- name: X\n  objref:\n    kind: Deployment\n    name: web\n    apiVersion: apps/v1\n".to_string()),
        Just("sortOptions:\n  order: fifo\n".to_string()),
        Just("labels:\n- pairs:\n    a: b\n  includeSelectors: true\n".to_string()),
        any::<String>().prop_map(|s| format!("namePrefix: {s:?}\n")),
    ]
}

proptest! {
    #[test]
    fn arbitrary_bytes_as_kustomization(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let d = tmpdir();
        std::fs::write(d.path().join("kustomization.yaml"), &bytes).unwrap();
        std::fs::write(d.path().join("res.yaml"), RESOURCE).unwrap();
        must_not_panic(d.path());
    }

    #[test]
    fn arbitrary_bytes_as_resource(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let d = tmpdir();
        std::fs::write(d.path().join("kustomization.yaml"), "resources:\n- res.yaml\n").unwrap();
        std::fs::write(d.path().join("res.yaml"), &bytes).unwrap();
        must_not_panic(d.path());
        // And as a Flux path without a kustomization file.
        let f = tmpdir();
        std::fs::write(f.path().join("x.yaml"), &bytes).unwrap();
        must_not_panic(f.path());
    }

    #[test]
    fn arbitrary_text_as_resource(text in "(apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [a-z]{1,5}\n)?[ -~\n]{0,300}") {
        let d = tmpdir();
        std::fs::write(d.path().join("kustomization.yaml"), "resources:\n- res.yaml\nnamePrefix: p-\n").unwrap();
        std::fs::write(d.path().join("res.yaml"), &text).unwrap();
        must_not_panic(d.path());
    }

    #[test]
    fn arbitrary_kustomization_trees(
        top in proptest::collection::vec(field(), 0..8),
        sub in proptest::collection::vec(field(), 0..5),
        comp in proptest::collection::vec(field(), 0..4),
        component_kind in any::<bool>(),
    ) {
        let d = tmpdir();
        let root = d.path().join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(root.join("comp")).unwrap();
        std::fs::write(d.path().join("outside.yaml"), RESOURCE).unwrap();
        std::fs::write(root.join("kustomization.yaml"), top.concat()).unwrap();
        std::fs::write(root.join("res.yaml"), RESOURCE).unwrap();
        std::fs::write(root.join("sub/kustomization.yaml"), sub.concat()).unwrap();
        std::fs::write(root.join("sub/res.yaml"), RESOURCE.replace("name: web", "name: web2")).unwrap();
        let head = if component_kind {
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
        } else {
            ""
        };
        std::fs::write(root.join("comp/kustomization.yaml"), format!("{head}{}", comp.concat())).unwrap();
        std::fs::write(root.join("comp/res.yaml"), RESOURCE).unwrap();
        must_not_panic(&root);
    }
}
