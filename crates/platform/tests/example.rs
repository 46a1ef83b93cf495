//! The example fleet repository (examples/platform) is the layout's reference: it lints
//! clean, with no warning either.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

#[test]
fn example_platform_lints_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/platform");
    let report = flotilla_platform::lint(&root).unwrap();
    assert!(report.findings.is_empty(), "{}", report.to_text());
    // mgmt + flux-system/feature-access-control + 7 per workload cluster.
    assert_eq!(report.kustomizations, 16);
    assert!(report.objects > 90, "{}", report.objects);
}
