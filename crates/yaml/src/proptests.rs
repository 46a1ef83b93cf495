//! Property tests: the parser never panics, and `parse_one(to_yaml(v))` gives `v` back
//! modulo the conversions of the Go chain (numbers re-resolved, see `same`).

use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::{parse_documents, parse_one, to_yaml};

/// Characters whose round trip is deliberately not the identity: DEL, C1 controls and
/// non-characters make kustomize fail; NEL/LS/PS are line breaks for go-yaml but not for
/// the YAML 1.2 parser used here (see the crate's known divergences).
fn roundtrips(c: char) -> bool {
    !matches!(
        c,
        '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{fffe}' | '\u{ffff}'
    )
}

fn arb_string() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just(" "),
        Just("  "),
        Just("\n"),
        Just("\n\n"),
        Just(":"),
        Just(": "),
        Just(" #"),
        Just("#"),
        Just("-"),
        Just("- "),
        Just("'"),
        Just("\""),
        Just("\\"),
        Just("on"),
        Just("y"),
        Just("1"),
        Just("0x"),
        Just("."),
        Just("e"),
        Just("\t"),
        Just("\r"),
        Just("\u{0}"),
        Just("é"),
        Just("😀"),
        Just("a"),
        Just("word"),
        Just("~"),
        Just("null"),
        Just("2024-01-01"),
        Just("10:30"),
        Just("\u{feff}"),
        Just("["),
        Just("{"),
        Just("&"),
        Just("*"),
        Just("!"),
        Just("|"),
        Just(">"),
        Just("%"),
        Just("@"),
        Just("`"),
        Just("?"),
        Just(","),
        Just("---"),
        Just("..."),
        Just("\u{a0}"),
    ];
    prop_oneof![
        prop::collection::vec(fragment, 0..16).prop_map(|v| v.concat()),
        "\\PC{0,40}",
        "[a-z ]{60,220}",
        "[a-z\n ]{60,220}",
    ]
    .prop_map(|s| s.chars().filter(|c| roundtrips(*c)).collect())
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        (-1000i32..1000, -30i32..30).prop_map(|(m, e)| Value::from(f64::from(m) * 10f64.powi(e))),
        arb_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            // A string key spelled `<<` would be read back as a merge key, as go-yaml does.
            prop::collection::vec(
                (arb_string().prop_filter("merge", |k| k != "<<"), inner),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Equality modulo the number conversions: integers stay exact, floats compare by value
/// (an integral float may come back as an integer).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x.is_f64() || y.is_f64() {
                x.as_f64() == y.as_f64()
            } else {
                x == y
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse_documents(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,200}") {
        let _ = parse_documents(&s);
    }

    #[test]
    fn yamlish_strings_never_panic(s in "([-:?&*!|>'\"%@`#,\\[\\]{} \n\ta-z0-9.~<]){0,120}") {
        let _ = parse_documents(&s);
    }

    #[test]
    fn emitted_yaml_reads_back(v in arb_json()) {
        let text = to_yaml(&v);
        let back = parse_one(&text);
        prop_assert!(back.is_ok(), "emitted text does not parse: {:?}\n{}", back, text);
        let back = back.unwrap_or(Value::Null);
        prop_assert!(same(&v, &back), "round trip changed the value\n{}\n{:?}\n{:?}", text, v, back);
    }
}
