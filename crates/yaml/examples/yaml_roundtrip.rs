//! Read a YAML stream on stdin and print each non-empty document the way
//! `kustomize build` would (`---` between documents). Handy for comparing with the oracle.

use std::io::Read;

fn main() {
    let mut src = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut src) {
        eprintln!("read error: {e}");
        std::process::exit(2);
    }
    match flotilla_yaml::parse_documents(&src) {
        Ok(docs) => {
            let mut out = String::new();
            for d in docs.iter().filter(|d| !d.value.is_null()) {
                if !out.is_empty() {
                    out.push_str("---\n");
                }
                flotilla_yaml::write_yaml(&mut out, &d.value);
            }
            print!("{out}");
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
