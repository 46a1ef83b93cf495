//! Link `flotilla` as a position-dependent executable on Linux: `flotilla build` runs as a
//! short-lived process thousands of times per commit, and a PIE binary of this size spends a
//! measurable part of its life applying ~40,000 relative relocations and copying the pages
//! they touch. The code is still compiled position-independent; only the final link changes.
fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
