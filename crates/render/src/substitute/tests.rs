use super::envsubst::{eval, EvalError};
use super::*;
use serde_json::json;

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn ev(s: &str, pairs: &[(&str, &str)], strict: bool) -> Result<String, EvalError> {
    let v = vars(pairs);
    eval(s, &|n: &str| match v.get(n) {
        Some(x) => (x.clone(), true),
        None => (String::new(), !strict),
    })
}

fn ok(s: &str, pairs: &[(&str, &str)]) -> String {
    match ev(s, pairs, false) {
        Ok(v) => v,
        Err(e) => panic!("{s}: {e}"),
    }
}

fn cm(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "c", "namespace": "ns"}, "data": data})
}

fn run(
    objs: Vec<Value>,
    pairs: &[(&str, &str)],
    strict: bool,
) -> Result<Vec<Value>, SubstituteError> {
    let mut objs = objs;
    substitute(&mut objs, &vars(pairs), strict)?;
    Ok(objs)
}

#[test]
fn plain_and_braced_references() {
    assert_eq!(ok("a ${X} b", &[("X", "1")]), "a 1 b");
    assert_eq!(ok("${X}${Y}", &[("X", "1"), ("Y", "2")]), "12");
    // Without braces nothing happens.
    assert_eq!(ok("$X and $ alone", &[("X", "1")]), "$X and $ alone");
}

#[test]
fn default_operators() {
    assert_eq!(ok("${X:=dflt}", &[]), "dflt");
    assert_eq!(ok("${X:=dflt}", &[("X", "set")]), "set");
    assert_eq!(ok("${X:-dflt}", &[]), "dflt");
    assert_eq!(ok("${X=dflt}", &[]), "dflt");
    // The fork treats :+ and :? like the default operators.
    assert_eq!(ok("${X:+alt}", &[]), "alt");
    assert_eq!(ok("${X:+alt}", &[("X", "v")]), "v");
    assert_eq!(ok("${X:?msg}", &[]), "msg");
    // An empty value takes the default too.
    assert_eq!(ok("${X:=d}", &[("X", "")]), "d");
    // Defaults can nest references and hold spaces and colons.
    assert_eq!(ok("${X:=a-${Y}-b}", &[("Y", "y")]), "a-y-b");
    assert_eq!(ok("${X:=host:80 x}", &[]), "host:80 x");
    assert_eq!(ok("${X:=}", &[]), "");
}

#[test]
fn dash_without_colon_is_a_parse_error() {
    assert_eq!(
        ev("${X-d}", &[], false),
        Err(EvalError::MissingClosingBrace)
    );
    assert_eq!(
        ev("${X.y}", &[], false),
        Err(EvalError::MissingClosingBrace)
    );
    assert_eq!(ev("${}", &[], false), Err(EvalError::ParseVariableName));
    assert_eq!(ev("${X", &[], false), Err(EvalError::MissingClosingBrace));
    assert_eq!(
        ev("${X:=abc", &[], false),
        Err(EvalError::ParseFuncSubstitution)
    );
}

#[test]
fn dollar_escapes() {
    assert_eq!(ok("$${X}", &[("X", "1")]), "${X}");
    assert_eq!(ok("a$$b", &[]), "a$b");
    assert_eq!(ok("$$$${X}", &[("X", "1")]), "$${X}");
    assert_eq!(ok("$$${X}", &[("X", "1")]), "$1");
    // Inside a default, `$$` is literal.
    assert_eq!(ok("${X:=a$$b}", &[]), "a$$b");
}

#[test]
fn missing_variables_strict_and_not() {
    assert_eq!(ok("[${MISSING}]", &[]), "[]");
    assert_eq!(
        ev("${MISSING}", &[], true),
        Err(EvalError::NotSet("MISSING".into()))
    );
    assert_eq!(ev("${MISSING:=d}", &[], true), Ok("d".into()));
    assert_eq!(
        ev("${#MISSING}", &[], true),
        Err(EvalError::NotSet("MISSING".into()))
    );
    assert_eq!(
        EvalError::NotSet("A".into()).to_string(),
        "variable not set (strict mode): \"A\""
    );
}

#[test]
fn string_functions() {
    let v = [("V", "Hello/World.tar.gz")];
    assert_eq!(ok("${#V}", &v), "18");
    assert_eq!(ok("${V^^}", &v), "HELLO/WORLD.TAR.GZ");
    assert_eq!(ok("${V,,}", &v), "hello/world.tar.gz");
    assert_eq!(ok("${V,}", &v), "hello/World.tar.gz");
    assert_eq!(ok("${V:6}", &v), "World.tar.gz");
    assert_eq!(ok("${V:0:5}", &v), "Hello");
    assert_eq!(ok("${V:-6}", &v), "Hello/World.tar.gz"); // `:-` is the default operator
    assert_eq!(ok("${V:1:-1}", &v), "ello/World.tar.g");
    assert_eq!(ok("${V/o/0}", &v), "Hell0/World.tar.gz");
    assert_eq!(ok("${V//o/0}", &v), "Hell0/W0rld.tar.gz");
    assert_eq!(ok("${V/#Hello/Bye}", &v), "Bye/World.tar.gz");
    assert_eq!(ok("${V/%gz/xz}", &v), "Hello/World.tar.xz");
    assert_eq!(ok("${V%.*}", &v), "Hello/World.tar");
    assert_eq!(ok("${V%%.*}", &v), "Hello/World");
    assert_eq!(ok("${V#*/}", &v), "World.tar.gz");
    assert_eq!(ok("${V#*.}", &v), "tar.gz"); // `*` crosses `/` in the fork
    assert_eq!(ok("${V##*/}", &v), "World.tar.gz");
    assert_eq!(ok("${V/\\//-}", &v), "Hello-World.tar.gz");
}

#[test]
fn numbers_and_booleans_after_substitution() {
    let obj = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"replicas": "${REPLICAS}", "paused": "${PAUSED}", "ratio": "${RATIO}",
                 "label": "v${REPLICAS}", "quoted": "'${REPLICAS}'", "legacy": "${YES}"}});
    let out = run(
        vec![obj],
        &[
            ("REPLICAS", "3"),
            ("PAUSED", "false"),
            ("RATIO", "0.5"),
            ("YES", "on"),
        ],
        false,
    )
    .unwrap_or_default();
    let spec = &out[0]["spec"];
    assert_eq!(spec["replicas"], json!(3));
    assert_eq!(spec["paused"], json!(false));
    assert_eq!(spec["ratio"], json!(0.5));
    assert_eq!(spec["label"], json!("v3"));
    // The emitter quotes `'${REPLICAS}'` (it starts with a quote), so the value stays text.
    assert_eq!(spec["quoted"], json!("'3'"));
    // go-yaml v2 reads YAML 1.1 words as booleans.
    assert_eq!(spec["legacy"], json!(true));
}

#[test]
fn values_that_break_yaml_are_errors() {
    let r = run(vec![cm(json!({"k": "${V}"}))], &[("V", "a: b")], false);
    assert!(matches!(r, Err(SubstituteError::Reparse { ref object, .. }) if object == "c"));
}

#[test]
fn multi_line_values_lose_their_newlines() {
    let sources = vec![VarSource {
        kind: "ConfigMap".into(),
        name: "vars".into(),
        optional: false,
        data: Some(SourceData::ConfigMap(vars(&[("CERT", "line1\nline2\n")]))),
    }];
    let v = collect_vars(&sources, Some(&vars(&[("INLINE", "a\nb")]))).unwrap_or_default();
    assert_eq!(v["CERT"], "line1line2");
    assert_eq!(v["INLINE"], "ab");
    let mut objs = vec![cm(json!({"cert": "${CERT}"}))];
    assert!(substitute(&mut objs, &v, false).is_ok());
    assert_eq!(objs[0]["data"]["cert"], json!("line1line2"));
}

#[test]
fn source_order_and_inline_override() {
    let sources = vec![
        VarSource {
            kind: "ConfigMap".into(),
            name: "a".into(),
            optional: false,
            data: Some(SourceData::ConfigMap(vars(&[
                ("X", "cm"),
                ("Y", "cm"),
                ("Z", "cm"),
            ]))),
        },
        VarSource {
            kind: "Secret".into(),
            name: "b".into(),
            optional: false,
            data: Some(SourceData::Secret(
                [
                    ("Y".to_string(), b"secret".to_vec()),
                    ("Z".to_string(), b"secret".to_vec()),
                ]
                .into_iter()
                .collect(),
            )),
        },
        VarSource {
            kind: "ConfigMap".into(),
            name: "gone".into(),
            optional: true,
            data: None,
        },
    ];
    let v = collect_vars(&sources, Some(&vars(&[("Z", "inline")]))).unwrap_or_default();
    assert_eq!(v["X"], "cm");
    assert_eq!(v["Y"], "secret");
    assert_eq!(v["Z"], "inline");
}

#[test]
fn missing_required_source_is_an_error() {
    let sources = vec![VarSource {
        kind: "Secret".into(),
        name: "creds".into(),
        optional: false,
        data: None,
    }];
    let e = collect_vars(&sources, None);
    assert_eq!(
        e.map_err(|e| e.to_string()),
        Err("substitute from 'Secret/creds' error: secrets \"creds\" not found".into())
    );
}

#[test]
fn invalid_names_fail_even_when_unused() {
    for bad in ["1X", "A-B", "a.b", "", "é"] {
        let r = run(
            vec![cm(json!({"k": "v"}))],
            &[(bad, "v"), ("OK", "v")],
            false,
        );
        assert_eq!(
            r.map(|_| ()),
            Err(SubstituteError::InvalidName {
                object: "c".into(),
                name: bad.into()
            }),
            "{bad}"
        );
    }
    for good in ["_", "a1", "_A_b9", "CLUSTER_NAME"] {
        assert!(valid_var_name(good), "{good}");
    }
    // No object to substitute: no check, as in Flux.
    let r = run(vec![], &[("1X", "v")], false);
    assert!(r.is_ok());
}

#[test]
fn disabled_objects_are_skipped() {
    let mut annotated = cm(json!({"k": "${X}"}));
    annotated["metadata"]["annotations"] = json!({SUBSTITUTE_KEY: "disabled"});
    let mut labelled = cm(json!({"k": "${X}"}));
    labelled["metadata"]["labels"] = json!({SUBSTITUTE_KEY: "disabled"});
    let mut other_value = cm(json!({"k": "${X}"}));
    other_value["metadata"]["annotations"] = json!({SUBSTITUTE_KEY: "Disabled"});
    let out = run(vec![annotated, labelled, other_value], &[("X", "1")], true).unwrap_or_default();
    assert_eq!(out[0]["data"]["k"], json!("${X}"));
    assert_eq!(out[1]["data"]["k"], json!("${X}"));
    // Only the exact value `disabled` counts.
    assert_eq!(out[2]["data"]["k"], json!(1));
    // A disabled object may hold anything, even in strict mode.
    let mut d = cm(json!({"k": "${MISSING} ${bad"}));
    d["metadata"]["labels"] = json!({SUBSTITUTE_KEY: "disabled"});
    assert!(run(vec![d], &[("X", "1")], true).is_ok());
}

#[test]
fn no_vars_means_no_substitution() {
    let out = run(vec![cm(json!({"k": "$${X} ${Y}"}))], &[], true).unwrap_or_default();
    assert_eq!(out[0]["data"]["k"], json!("$${X} ${Y}"));
}

#[test]
fn strict_mode_on_objects() {
    let r = run(vec![cm(json!({"k": "${MISSING}"}))], &[("X", "1")], true);
    assert_eq!(
        r.map_err(|e| e.to_string()),
        Err(
            "post build failed for 'c': envsubst error: variable substitution \
             failed: variable not set (strict mode): \"MISSING\""
                .into()
        )
    );
    let out = run(vec![cm(json!({"k": "${MISSING:=d}"}))], &[("X", "1")], true).unwrap_or_default();
    assert_eq!(out[0]["data"]["k"], json!("d"));
    let out = run(vec![cm(json!({"k": "[${MISSING}]"}))], &[("X", "1")], false).unwrap_or_default();
    assert_eq!(out[0]["data"]["k"], json!("[]"));
}

#[test]
fn keys_and_names_are_substituted_too() {
    let obj = json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "team-${TEAM}", "labels": {"${KEY}": "x"}}});
    let out = run(vec![obj], &[("TEAM", "a"), ("KEY", "owner")], false).unwrap_or_default();
    assert_eq!(out[0]["metadata"]["name"], json!("team-a"));
    assert_eq!(out[0]["metadata"]["labels"], json!({"owner": "x"}));
}

#[test]
fn multi_line_strings_in_objects() {
    // A literal block keeps its lines; references inside are expanded.
    let obj = cm(json!({"script": "echo ${A}\necho ${B:=two}\n"}));
    let out = run(vec![obj], &[("A", "one")], false).unwrap_or_default();
    assert_eq!(out[0]["data"]["script"], json!("echo one\necho two\n"));
}

/// The expansion table of Flux's own envsubst tests (inputs and outputs as data).
#[test]
fn flux_envsubst_table() {
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (&[], "abcdEFGH28ij", "abcdEFGH28ij"),
        (&[("var01", "abcdEFGH28ij")], "${#var01}", "12"),
        (&[("var01", "abcdEFGH28ij")], "${var01^}", "AbcdEFGH28ij"),
        (&[("var01", "abcdEFGH28ij")], "${var01^^}", "ABCDEFGH28IJ"),
        (&[("var01", "ABCDEFGH28IJ")], "${var01,}", "aBCDEFGH28IJ"),
        (&[("var01", "ABCDEFGH28IJ")], "${var01,,}", "abcdefgh28ij"),
        (
            &[("p", "/home/bozo/ideas/thoughts.for.today")],
            "${p:11}",
            "ideas/thoughts.for.today",
        ),
        (
            &[("p", "/home/bozo/ideas/thoughts.for.today")],
            "${p:11:5}",
            "ideas",
        ),
        (&[("var", "abc")], "${var=xyz}", "abc"),
        (&[], "${var=xyz}", "xyz"),
        (&[("d", "foo")], "something ${var=${d}}", "something foo"),
        (
            &[("d", "foo1")],
            "foo: ${var=${d}-suffix}",
            "foo: foo1-suffix",
        ),
        (
            &[("d", "foo1")],
            "foo: ${var=prefix${d}-suffix}",
            "foo: prefixfoo1-suffix",
        ),
        (&[], "${var:=xyz}", "xyz"),
        (
            &[("z", "abcABC123ABCabc")],
            "${z/%abc/XYZ}",
            "abcABC123ABCXYZ",
        ),
        (
            &[("z", "abcABC123ABCabc")],
            "${z/#abc/XYZ}",
            "XYZABC123ABCabc",
        ),
        (&[("z", "somevalue")], "${z/#/prefix-}", "prefix-somevalue"),
        (&[("z", "somevalue")], "${z/%/-suffix}", "somevalue-suffix"),
        (
            &[("z", "abcABC123ABCabc")],
            "${z//abc/xyz}",
            "xyzABC123ABCxyz",
        ),
        (
            &[("z", "abcABC123ABCabc")],
            "${z/abc/xyz}",
            "xyzABC123ABCabc",
        ),
        (&[("f", "bash.string.txt")], "${f#*.}", "string.txt"),
        (&[("f", "path/to/file")], "${f#*/}", "to/file"),
        (&[("f", "/path/to/file")], "${f#*/}", "path/to/file"),
        (&[("f", "bash.string.txt")], "${f##*.}", "txt"),
        (&[("f", "path/to/file")], "${f##*/}", "file"),
        (&[("f", "/path/to/file")], "${f##*/}", "file"),
        (&[("f", "bash.string.txt")], "${f%.*}", "bash.string"),
        (&[("f", "bash.string.txt")], "${f%%.*}", "bash"),
        (
            &[("var01", "abcdEFGH28ij")],
            "${var=${var01^^}}",
            "ABCDEFGH28IJ",
        ),
        (&[("var01", "abcdEFGH28ij")], "$${var01}", "${var01}"),
        (
            &[("var01", "abcdEFGH28ij")],
            "some text ${var01}$${var$${var01}$var01${var01}",
            "some text abcdEFGH28ij${var${var01}$var01abcdEFGH28ij",
        ),
        (
            &[("d", "foo")],
            "something $${var=${d}}",
            "something ${var=foo}",
        ),
        (&[("z", "foo/bar")], r"${z/\//-}", "foo-bar"),
        (&[("z", "foo/bar/baz")], r"${z//\//-}", "foo-bar-baz"),
        (
            &[("d", "foo")],
            r"\\something ${var=${d}}",
            r"\\something foo",
        ),
        (&[("z", "foo.bar")], "${z/./}", "foobar"),
    ];
    for (vars, input, want) in cases {
        assert_eq!(ok(input, vars), *want, "{input}");
    }
    // Strict: every non-default operator on a missing variable fails.
    for input in [
        "${missing}",
        "${#missing}",
        "${missing^}",
        "${missing^^}",
        "${missing,}",
        "${missing,,}",
        "${missing:0}",
        "${missing:0:10}",
        "${missing/p/r}",
        "${missing//p/r}",
        "${missing/#p/r}",
        "${missing/%p/r}",
        "${missing#p}",
        "${missing##p}",
        "${missing%p}",
        "${missing%%p}",
    ] {
        assert_eq!(
            ev(input, &[], true),
            Err(EvalError::NotSet("missing".into())),
            "{input}"
        );
    }
    for (input, want) in [
        ("${missing:-fallback}", "fallback"),
        ("${missing:=assigned}", "assigned"),
        ("${missing=assigned}", "assigned"),
    ] {
        assert_eq!(ev(input, &[], true), Ok(want.to_string()), "{input}");
    }
    assert_eq!(ev("${foo}", &[("foo", "")], true), Ok(String::new()));
}
