//! YAML the way Kubernetes tools read and write it.
//!
//! `flotilla build` must print byte for byte what `kustomize build` prints. Kustomize reads
//! resources with go-yaml v3 (through kyaml), converts each one to JSON with Go's
//! `encoding/json`, and prints it with `sigs.k8s.io/yaml.JSONToYAML`, i.e. go-yaml v2. This
//! crate reproduces that chain:
//!
//! * [`parse_documents`] reads a YAML stream with go-yaml v3's scalar resolution (YAML 1.2
//!   booleans, `0755` octal, `0x`/`0o`/`0b`, `_` in numbers, timestamps turned into RFC 3339
//!   strings, anchors/aliases, `<<` merge keys) into `serde_json::Value`s, and reports as
//!   errors what makes kustomize fail (duplicate keys, non-string keys in nested mappings,
//!   `.inf`/`.nan`, explicit tags that do not fit their value).
//! * [`to_yaml`] / [`write_yaml`] write a value exactly as `JSONToYAML` does: keys in go-yaml
//!   v2's natural order, YAML 1.1 quoting (`"on"`, `"y"`, `"10:30"`), libyaml's choice of
//!   plain / single / double / literal style, folding at 80 columns, `|`/`|-`/`|+` with
//!   indentation indicators, numbers through Go's float formatting.
//!
//! Kustomize's own detours are reproduced too: kyaml's go-yaml v3 round trip (which mangles
//! folded `>` scalars with more-indented lines and drops the first quoted `"<<"` key),
//! go-yaml v2 re-reading the JSON (a raw U+0085 in a string folds to a space; in a key it is
//! an error), and the characters go-yaml v2 refuses (DEL, C1 controls, U+FFFE/U+FFFF) are
//! parse errors.
//!
//! Known divergences from kustomize (all outside ordinary manifests):
//! * Raw (unescaped) U+0085, U+2028, U+2029 in the *input* are line breaks for go-yaml but
//!   ordinary characters for the YAML 1.2 parser used here (escaped forms behave the same).
//! * YAML 1.2-only syntax that go-yaml rejects is accepted, e.g. the `"\/"` escape.
//! * An empty value inside a flow collection (`{a: }`, `[a: ]`) is `null` here; kustomize's
//!   round trip turns it into `""`.
//! * Outside ASCII, go-yaml v2's key sorter uses Go's `unicode.IsLetter`/`IsDigit`; here
//!   Rust's alphabetic/numeric properties stand in for them.
//! * Error messages (and their positions) are not go-yaml's.
//!
//! Module map: `parse` (events → values), `resolve` (scalar resolution shared by both go-yaml
//! versions), `time` (timestamps), `number` (Go float formatting), `keys` (key order),
//! `emit` (the libyaml emitter replay).

mod emit;
mod keys;
mod number;
mod parse;
mod resolve;
mod time;

#[cfg(test)]
mod proptests;

pub use keys::go_yaml_v2_key_cmp;
pub use serde_json::Value;

/// One YAML document of a stream, with the 1-based line where its content starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The document's content (`Value::Null` for an empty document).
    pub value: Value,
    /// 1-based line of the first content token (or of the document marker when empty).
    pub line: usize,
}

/// Parse error with 1-based line/column and a one-line message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct YamlError {
    /// 1-based line (0 when the position is unknown).
    pub line: usize,
    /// 1-based column (0 when the position is unknown).
    pub column: usize,
    /// What went wrong.
    pub message: String,
}

/// Parse a multi-document stream with go-yaml v3 semantics into JSON-compatible values.
///
/// Anchors/aliases and merge keys are resolved; duplicate keys, non-string keys below the
/// top level, non-finite floats and explicit tags that do not fit are errors, as they are
/// for kustomize. A document's top-level keys are taken as their text (kustomize decodes
/// them into Go strings), so `1: a` there gives the key `"1"`. Empty documents yield
/// `Value::Null`.
pub fn parse_documents(src: &str) -> Result<Vec<Document>, YamlError> {
    parse::parse_stream(src, resolve::Schema::V3)
}

/// Parse one document as `sigs.k8s.io/yaml.Unmarshal` reads it (go-yaml v2, YAML 1.1 words:
/// `y`, `yes`, `on`, `off`, ... are booleans, boolean keys become `"true"`/`"false"`).
/// kustomize reads kustomization files this way.
pub fn parse_one_yaml11(src: &str) -> Result<Value, YamlError> {
    single(parse::parse_stream(src, resolve::Schema::V2)?)
}

/// The one document of a stream (none → `Value::Null`), or an error naming the second.
fn single(mut docs: Vec<Document>) -> Result<Value, YamlError> {
    match docs.len() {
        0 => Ok(Value::Null),
        1 => Ok(docs.remove(0).value),
        n => Err(YamlError {
            line: docs[1].line,
            column: 1,
            message: format!("expected a single YAML document, found {n}"),
        }),
    }
}

/// Convenience: exactly one document expected (empty input -> `Value::Null`).
pub fn parse_one(src: &str) -> Result<Value, YamlError> {
    single(parse_documents(src)?)
}

/// Write one value as `sigs.k8s.io/yaml.JSONToYAML` writes it (no leading `---`, ends
/// with a newline).
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    write_yaml(&mut out, value);
    out
}

/// Same as [`to_yaml`], appending to a buffer.
pub fn write_yaml(out: &mut String, value: &Value) {
    emit::Emitter::new(out).document(value);
}
