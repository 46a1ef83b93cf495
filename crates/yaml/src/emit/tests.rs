//! Emitter unit tests; expectations were checked against `kubectl kustomize` (v5.5.0).

use serde_json::json;

use super::*;
use crate::to_yaml;

fn y(v: Value) -> String {
    to_yaml(&v)
}

#[test]
fn quoting_follows_yaml_1_1_resolution() {
    assert_eq!(y(json!({"a": "on"})), "a: \"on\"\n");
    assert_eq!(
        y(json!({"a": "yes", "b": "Off", "c": "oN"})),
        "a: \"yes\"\nb: \"Off\"\nc: oN\n"
    );
    assert_eq!(y(json!({"n": 1, "y": 2})), "\"n\": 1\n\"y\": 2\n");
    assert_eq!(
        y(json!({"a": "1e3", "b": "0x10", "c": "1_000", "d": "10:30", "e": "8080:80"})),
        "a: \"1e3\"\nb: \"0x10\"\nc: \"1_000\"\nd: \"10:30\"\ne: 8080:80\n"
    );
    assert_eq!(
        y(json!({"a": "", "b": "~", "c": "null", "d": "2024-01-01"})),
        "a: \"\"\nb: \"~\"\nc: \"null\"\nd: \"2024-01-01\"\n"
    );
    assert_eq!(y(json!({"a": "<<", "b": "1e400"})), "a: <<\nb: 1e400\n");
}

#[test]
fn quoting_follows_libyaml_analysis() {
    assert_eq!(y(json!({"i": " lead"})), "i: ' lead'\n");
    assert_eq!(
        y(json!({"u": "- dash", "v": "-x", "w": "a: b", "x": "a:b"})),
        "u: '- dash'\nv: -x\nw: 'a: b'\nx: a:b\n"
    );
    assert_eq!(
        y(json!({"a": "a #b", "b": "a#b", "c": "#c", "d": "it's"})),
        "a: 'a #b'\nb: a#b\nc: '#c'\nd: it's\n"
    );
    assert_eq!(
        y(json!({"a": "'q", "b": "@x", "c": "---", "d": "--"})),
        "a: '''q'\nb: '@x'\nc: '---'\nd: --\n"
    );
    assert_eq!(
        y(json!({"t": "tab\there", "n": "nul\u{0}"})),
        "\"n\": \"nul\\0\"\nt: \"tab\\there\"\n"
    );
    assert_eq!(
        y(json!({"e": "😀x", "b": "\u{feff}ab", "z": "é"})),
        "b: \"\\uFEFF\\x61\\x62\"\ne: \"\\U0001F600x\"\nz: é\n"
    );
    assert_eq!(y(json!({"": 1})), "\"\": 1\n");
}

#[test]
fn block_scalars() {
    assert_eq!(y(json!({"a": "x\ny"})), "a: |-\n  x\n  y\n");
    assert_eq!(y(json!({"a": "x\ny\n"})), "a: |\n  x\n  y\n");
    assert_eq!(y(json!({"a": "x\n\n"})), "a: |+\n  x\n\n");
    assert_eq!(y(json!({"a": "\n"})), "a: |2+\n\n");
    assert_eq!(y(json!({"a": " lead\nx"})), "a: |2-\n   lead\n  x\n");
    assert_eq!(y(json!({"a": "x\n\ny"})), "a: |-\n  x\n\n  y\n");
    // Trailing space on a line, or a tab next to a break, forces double quotes.
    assert_eq!(y(json!({"a": "trailing  \nx"})), "a: \"trailing  \\nx\"\n");
    assert_eq!(y(json!({"a": "x\ny "})), "a: \"x\\ny \"\n");
    assert_eq!(y(json!({"a": ["x\ny"]})), "a:\n- |-\n  x\n  y\n");
    assert_eq!(y(json!({"a\nb": 1})), "? |-\n  a\n  b\n: 1\n");
}

#[test]
fn folding_at_80_columns() {
    let words =
        "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr";
    assert_eq!(
        y(json!({ "long": words })),
        "long: aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp\n  qqqq rrrr\n"
    );
    let no_spaces = "a".repeat(100);
    assert_eq!(y(json!({ "k": no_spaces })), format!("k: {no_spaces}\n"));
    // Double-quoted folding keeps a following space with a backslash.
    let s = format!("{}  b\t", "a".repeat(85));
    assert_eq!(
        y(json!({ "k": s })),
        format!("k: \"{}\n  \\ b\\t\"\n", "a".repeat(85))
    );
    // Keys longer than 128 bytes become complex keys.
    let k = "k".repeat(129);
    assert_eq!(y(json!({ k.clone(): 1 })), format!("? {k}\n: 1\n"));
}

#[test]
fn structure_and_indentation() {
    assert_eq!(y(json!({})), "{}\n");
    assert_eq!(y(json!([])), "[]\n");
    assert_eq!(y(json!(null)), "null\n");
    assert_eq!(y(json!("foo")), "foo\n");
    assert_eq!(
        y(json!({"b": {"c": ["x", "y"]}, "a": 1})),
        "a: 1\nb:\n  c:\n  - x\n  - \"y\"\n"
    );
    assert_eq!(
        y(json!([[1, 2], [[3]], []])),
        "- - 1\n  - 2\n- - - 3\n- []\n"
    );
    assert_eq!(
        y(json!({"l": [{"a": 1, "b": [1]}, {}]})),
        "l:\n- a: 1\n  b:\n  - 1\n- {}\n"
    );
}

#[test]
fn numbers_through_go() {
    assert_eq!(
        y(json!({"a": 1000.0, "b": 1e21, "c": 0.000001, "d": -0.0, "e": 1.5})),
        "a: 1000\nb: 1e+21\nc: 1e-06\nd: 0\ne: 1.5\n"
    );
    assert_eq!(
        y(json!({"u": u64::MAX, "i": i64::MIN})),
        "i: -9223372036854775808\nu: 18446744073709551615\n"
    );
}

#[test]
fn nel_folds_like_the_json_round_trip() {
    assert_eq!(json_roundtrip_str("a\u{85}b"), "a b");
    assert_eq!(json_roundtrip_str("a \u{85}\u{85} b"), "a\nb");
    assert_eq!(
        json_roundtrip_str("a\u{85}\u{85} \u{85}b \u{85}"),
        "a\n\nb "
    );
    assert_eq!(json_roundtrip_str("plain"), "plain");
}

#[test]
fn analysis_flags() {
    let a = analyze("a\nb");
    assert!(a.multiline && a.block_allowed && !a.block_plain_allowed);
    let a = analyze("a \nb");
    assert!(!a.block_allowed && !a.single_quoted_allowed);
    let a = analyze("a\n b");
    assert!(a.block_allowed && !a.single_quoted_allowed);
    assert!(analyze("x\u{2028}y").single_quoted_allowed);
}
