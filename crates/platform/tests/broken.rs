//! One broken repository per lint rule (tests/broken/<rule-id>/), each giving exactly its
//! finding: the rule id, file and line in its `expected` file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use flotilla_platform::{lint, Rule, Severity};

fn check(rule: Rule) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/broken")
        .join(rule.id());
    let expected = std::fs::read_to_string(dir.join("expected"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let report = lint(&dir).unwrap();
    assert_eq!(
        report.findings.len(),
        1,
        "{}: expected exactly one finding, got:\n{}",
        rule.id(),
        report.to_text()
    );
    let f = &report.findings[0];
    assert_eq!(f.rule, rule, "{f}");
    let shown = f.to_string();
    assert!(
        shown.starts_with(&format!("{}: ", expected.trim())),
        "{}: expected `{}`, got `{shown}`",
        rule.id(),
        expected.trim()
    );
    assert!(
        f.message.len() > 20,
        "a message that says something: {shown}"
    );
    let json = report.to_json();
    assert_eq!(json["findings"][0]["rule"], rule.id());
    assert_eq!(json["findings"][0]["line"], f.line);
    let errors = usize::from(rule.severity() == Severity::Error);
    assert_eq!(json["errors"], errors);
    assert_eq!(report.errors(), errors);
}

macro_rules! broken {
    ($($name:ident => $rule:expr,)*) => {
        $(#[test] fn $name() { check($rule); })*

        #[test]
        fn every_rule_has_a_broken_repository() {
            let covered = [$($rule),*];
            for r in Rule::ALL {
                assert!(covered.contains(&r), "no test for {}", r.id());
            }
        }
    };
}

broken! {
    parse => Rule::Parse,
    folder_scope => Rule::FolderScope,
    unknown_kind => Rule::UnknownKind,
    namespace_missing => Rule::NamespaceMissing,
    kustomization_path => Rule::KustomizationPath,
    render => Rule::Render,
    duplicate_object => Rule::DuplicateObject,
    kubeconfig_cluster => Rule::KubeconfigCluster,
    prod_follows_main => Rule::ProdFollowsMain,
    invalid_name => Rule::InvalidName,
    plain_secret => Rule::PlainSecret,
}
