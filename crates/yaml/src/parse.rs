//! The input half: a YAML stream read the way kustomize reads resources (go-yaml v3 via
//! kyaml, decoded into Go `interface{}` values and then marshalled to JSON).
//!
//! Events come from `saphyr-parser`; this module builds `serde_json::Value`s with v3's
//! scalar resolution, resolves anchors/aliases and `<<` merge keys, and turns every place
//! where kustomize would fail (duplicate keys, non-string keys in nested mappings, `.inf`,
//! `.nan`, mismatching explicit tags, characters go-yaml v2 rejects) into a [`YamlError`].

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, StrInput, Tag};
use serde_json::{Map, Number, Value};

use crate::resolve::{resolve_plain, resolve_tagged, Resolved, Schema};
use crate::{Document, YamlError};

/// Nesting deeper than this is rejected instead of risking the stack.
const MAX_DEPTH: usize = 1000;
/// Upper bound on values materialised through aliases (guards against alias bombs).
const MAX_ALIAS_NODES: u64 = 5_000_000;

fn err_at(span: Span, message: impl Into<String>) -> YamlError {
    YamlError {
        line: span.start.line(),
        column: span.start.col() + 1,
        message: message.into(),
    }
}

fn scan_err(e: &ScanError) -> YamlError {
    YamlError {
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: e.info().to_string(),
    }
}

/// How a node's tag is interpreted.
enum TagKind<'t> {
    /// No tag or the non-specific `!`.
    None,
    /// `!!suffix` (tag:yaml.org,2002:suffix).
    Core(&'t str),
    /// A local or foreign tag: the scalar stays a string.
    Other,
}

fn tag_kind(tag: Option<&Tag>) -> TagKind<'_> {
    match tag {
        None => TagKind::None,
        Some(t) if t.is_yaml_core_schema() => TagKind::Core(&t.suffix),
        Some(t)
            if (t.handle.is_empty() && t.suffix == "!")
                || (t.handle == "!" && t.suffix.is_empty()) =>
        {
            TagKind::None
        }
        Some(_) => TagKind::Other,
    }
}

/// Reject strings that kustomize cannot print: encoding/json leaves these characters raw
/// and go-yaml v2 then refuses them ("control characters are not allowed").
fn check_printable(s: &str, span: Span) -> Result<(), YamlError> {
    let bad = s
        .chars()
        .any(|c| matches!(c, '\u{7f}'..='\u{84}' | '\u{86}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}'));
    if bad {
        Err(err_at(span, "yaml: control characters are not allowed"))
    } else {
        Ok(())
    }
}

/// Keys additionally must not contain U+0085: go-yaml v2 reads the raw NEL that
/// encoding/json leaves in the JSON text as a line break, and a JSON key cannot span lines.
fn check_key(s: &str, span: Span) -> Result<(), YamlError> {
    check_printable(s, span)?;
    if s.contains('\u{85}') {
        return Err(err_at(
            span,
            "yaml: did not find expected ',' or '}' (U+0085 in a mapping key)",
        ));
    }
    Ok(())
}

fn number_value(r: Resolved, span: Span) -> Result<Value, YamlError> {
    Ok(match r {
        Resolved::Int(i) => Value::from(i),
        Resolved::Uint(u) => Value::from(u),
        Resolved::Float(f) => match Number::from_f64(f) {
            Some(n) => Value::Number(n),
            None => {
                let shown = if f.is_nan() {
                    "NaN"
                } else if f > 0.0 {
                    "+Inf"
                } else {
                    "-Inf"
                };
                return Err(err_at(span, format!("json: unsupported value: {shown}")));
            }
        },
        Resolved::Null => Value::Null,
        Resolved::Bool(b) => Value::Bool(b),
        Resolved::Timestamp(t) => Value::String(t.to_rfc3339_nano()),
        Resolved::Merge | Resolved::Str => Value::Null,
    })
}

fn tag_name(r: Resolved) -> &'static str {
    match r {
        Resolved::Null => "!!null",
        Resolved::Bool(_) => "!!bool",
        Resolved::Int(_) | Resolved::Uint(_) => "!!int",
        Resolved::Float(_) => "!!float",
        Resolved::Timestamp(_) => "!!timestamp",
        Resolved::Merge => "!!merge",
        Resolved::Str => "!!str",
    }
}

/// Decode standard base64 as Go's `base64.StdEncoding` (padding required, CR/LF ignored),
/// then turn the bytes into a string the way encoding/json does (each invalid byte
/// becomes U+FFFD).
fn decode_binary(text: &str) -> Option<String> {
    fn sextet(c: u8) -> Option<u8> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    }
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| *c != b'\r' && *c != b'\n')
        .collect();
    if !clean.len().is_multiple_of(4) {
        return None;
    }
    let mut bytes = Vec::with_capacity(clean.len() / 4 * 3);
    let last = (clean.len() / 4).saturating_sub(1);
    for (ci, ch) in clean.chunks(4).enumerate() {
        let pad = ch.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 || (pad > 0 && ci != last) {
            return None;
        }
        let mut v = [0u8; 4];
        for j in 0..4 - pad {
            v[j] = sextet(ch[j])?;
        }
        let b = [
            v[0] << 2 | v[1] >> 4,
            v[1] << 4 | v[2] >> 2,
            v[2] << 6 | v[3],
        ];
        bytes.extend_from_slice(&b[..3 - pad]);
    }
    let mut out = String::with_capacity(bytes.len());
    let mut rest = &bytes[..];
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                let skip = e.error_len().unwrap_or(bad.len());
                out.extend(std::iter::repeat_n('\u{fffd}', skip));
                rest = &bad[skip..];
            }
        }
    }
    Some(out)
}

/// kyaml serialises every resource with go-yaml v3 and parses it again before converting
/// it to JSON. go-yaml's folded-scalar writer decides whether a line break needs an extra
/// empty line by looking at the first character of the whole value instead of the line
/// after the break, so a folded (`>`) value with more-indented lines (or one starting with
/// a blank) does not survive that round trip. This reproduces the result.
fn kyaml_refold(v: String) -> String {
    if !crate::emit::analyze_v3(&v).block_allowed || !v.contains('\n') {
        // Written double-quoted (or a single line): the round trip is exact.
        return v;
    }
    let b = v.as_bytes();
    let first = b.iter().position(|&c| c != b'\n');
    let starts_blank = first.is_some_and(|i| b[i] == b' ' || b[i] == b'\t');
    let keep = v.ends_with("\n\n");
    let mut out = String::with_capacity(v.len() + 8);
    let mut line_start = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\n' {
            i += 1;
            continue;
        }
        let line_blank_led = matches!(b.get(line_start), Some(b' ' | b'\t'));
        let prev_is_text = i > 0 && b[i - 1] != b'\n';
        let run_end = b[i..]
            .iter()
            .position(|&c| c != b'\n')
            .map_or(b.len(), |n| i + n);
        out.push_str(&v[line_start..i]);
        let run = run_end - i;
        if prev_is_text && !line_blank_led {
            let next_blank = run_end == b.len() || matches!(b[run_end], b' ' | b'\t');
            if !starts_blank && next_blank && (run_end < b.len() || keep) {
                out.push('\n'); // extra empty line survives as one more break
            } else if starts_blank && !next_blank {
                // The needed empty line is missing: the first break folds away.
                if run == 1 {
                    out.push(' ');
                }
                out.extend(std::iter::repeat_n('\n', run - 1));
                line_start = run_end;
                i = run_end;
                continue;
            }
        }
        out.extend(std::iter::repeat_n('\n', run));
        line_start = run_end;
        i = run_end;
    }
    out.push_str(&v[line_start..]);
    out
}

/// Resolve an untagged plain scalar with the loader's schema.
fn resolve_untagged(text: &str, schema: Schema) -> Resolved {
    match schema {
        Schema::V3 => resolve_tagged(text, None),
        Schema::V2 => resolve_plain(text, Schema::V2),
    }
}

/// A scalar as go-yaml v3 decodes it into `interface{}`.
fn scalar_value(
    text: Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<&Tag>,
    span: Span,
    schema: Schema,
) -> Result<Value, YamlError> {
    let v = match tag_kind(tag) {
        TagKind::None if style == ScalarStyle::Plain => match resolve_untagged(&text, schema) {
            Resolved::Str | Resolved::Merge => Value::String(text.into_owned()),
            r => number_value(r, span)?,
        },
        TagKind::None | TagKind::Core("str") if style == ScalarStyle::Folded => {
            Value::String(kyaml_refold(text.into_owned()))
        }
        TagKind::None | TagKind::Other => Value::String(text.into_owned()),
        TagKind::Core("binary") => match decode_binary(&text) {
            Some(s) => Value::String(s),
            None => {
                return Err(err_at(
                    span,
                    "yaml: !!binary value contains invalid base64 data",
                ))
            }
        },
        TagKind::Core(want @ ("int" | "float" | "bool" | "null" | "timestamp")) => {
            let r = resolve_tagged(&text, Some(want));
            let ok = match (want, r) {
                ("int", Resolved::Int(_) | Resolved::Uint(_))
                | ("float", Resolved::Float(_))
                | ("bool", Resolved::Bool(_))
                | ("null", Resolved::Null)
                | ("timestamp", Resolved::Timestamp(_)) => Some(r),
                ("float", Resolved::Int(i)) => Some(Resolved::Float(i as f64)),
                _ => None,
            };
            match ok {
                Some(r) => number_value(r, span)?,
                None => {
                    return Err(err_at(
                        span,
                        format!(
                            "yaml: cannot decode {} `{}` as a !!{}",
                            tag_name(r),
                            text,
                            want
                        ),
                    ))
                }
            }
        }
        TagKind::Core(_) => Value::String(text.into_owned()),
    };
    if let Value::String(s) = &v {
        check_printable(s, span)?;
    }
    Ok(v)
}

/// A mapping key after v3 decoding.
enum Key {
    Str(String),
    Merge,
}

struct Loader<'a> {
    parser: Parser<'a, StrInput<'a>>,
    schema: Schema,
    anchors: HashMap<usize, (Value, u64)>,
    alias_nodes: u64,
}

impl<'a> Loader<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        match self.parser.next_event() {
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => Err(scan_err(&e)),
            None => Err(YamlError {
                line: 0,
                column: 0,
                message: "unexpected end of YAML stream".into(),
            }),
        }
    }

    fn anchor(&mut self, id: usize, v: &Value, count: u64) {
        if id != 0 {
            self.anchors.insert(id, (v.clone(), count));
        }
    }

    fn alias(&mut self, id: usize, span: Span) -> Result<(Value, u64), YamlError> {
        let (v, count) = self
            .anchors
            .get(&id)
            .cloned()
            .ok_or_else(|| err_at(span, "yaml: unknown anchor referenced"))?;
        self.alias_nodes += count;
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(err_at(span, "yaml: document contains excessive aliasing"));
        }
        Ok((v, count))
    }

    /// Parse the node starting with `ev`; returns the value and its node count.
    fn node(
        &mut self,
        ev: Event<'a>,
        span: Span,
        depth: usize,
        top: bool,
    ) -> Result<(Value, u64), YamlError> {
        if depth > MAX_DEPTH {
            return Err(err_at(span, "yaml: exceeded max depth"));
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let v = scalar_value(text, style, tag.as_deref(), span, self.schema)?;
                self.anchor(anchor, &v, 1);
                Ok((v, 1))
            }
            Event::Alias(id) => self.alias(id, span),
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                let mut count = 1;
                loop {
                    let (ev, sp) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    let (v, c) = self.node(ev, sp, depth + 1, false)?;
                    count += c;
                    items.push(v);
                }
                let v = Value::Array(items);
                self.anchor(anchor, &v, count);
                Ok((v, count))
            }
            Event::MappingStart(anchor, _) => {
                let (v, count) = self.mapping(depth, top)?;
                self.anchor(anchor, &v, count);
                Ok((v, count))
            }
            _ => Err(err_at(span, "yaml: did not find expected node content")),
        }
    }

    fn key(
        &mut self,
        ev: Event<'a>,
        span: Span,
        depth: usize,
        top: bool,
    ) -> Result<Key, YamlError> {
        let unsupported = |what: &str| {
            err_at(
                span,
                format!("json: unsupported type: map[interface {{}}]interface {{}} (non-string key {what})"),
            )
        };
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag.as_deref();
                let plain = style == ScalarStyle::Plain;
                // The key's tag as go-yaml v3 sees it (`Node.ShortTag`).
                let resolved = match tag_kind(tag) {
                    // go-yaml v3's parser tags a plain `<<` as a merge key.
                    TagKind::None if plain && text == "<<" => Resolved::Merge,
                    TagKind::None if plain => resolve_untagged(&text, self.schema),
                    TagKind::None | TagKind::Core("str") => Resolved::Str,
                    TagKind::Core("merge") => Resolved::Merge,
                    TagKind::Core("null") => Resolved::Null,
                    _ => {
                        // Some other tag: the key must still decode under it.
                        scalar_value(Cow::Borrowed(&text), style, tag, span, self.schema)?;
                        Resolved::Bool(false)
                    }
                };
                if anchor != 0 {
                    let v = scalar_value(Cow::Borrowed(&text), style, tag, span, self.schema)?;
                    self.anchor(anchor, &v, 1);
                }
                match resolved {
                    Resolved::Merge => Ok(Key::Merge),
                    Resolved::Null => {
                        Err(err_at(span, "yaml: null mapping keys are not supported"))
                    }
                    Resolved::Str => {
                        check_key(&text, span)?;
                        Ok(Key::Str(text.into_owned()))
                    }
                    // sigs.k8s.io/yaml turns YAML 1.1 boolean keys into "true"/"false".
                    Resolved::Bool(b) if self.schema == Schema::V2 => {
                        Ok(Key::Str(if b { "true" } else { "false" }.to_string()))
                    }
                    // A resource's top-level keys are decoded into Go strings: the text.
                    _ if top => {
                        check_key(&text, span)?;
                        Ok(Key::Str(text.into_owned()))
                    }
                    _ => Err(unsupported(&text)),
                }
            }
            Event::Alias(id) => match self.alias(id, span)?.0 {
                Value::String(s) => {
                    check_key(&s, span)?;
                    Ok(Key::Str(s))
                }
                _ => Err(unsupported("from an alias")),
            },
            other => {
                self.node(other, span, depth + 1, false)?;
                Err(err_at(
                    span,
                    "yaml: cannot use a collection as a mapping key",
                ))
            }
        }
    }

    fn mapping(&mut self, depth: usize, top: bool) -> Result<(Value, u64), YamlError> {
        let mut map = Map::new();
        let mut lines: Vec<usize> = Vec::new();
        let mut merges: Vec<Map<String, Value>> = Vec::new();
        let mut seen_merge = false;
        // kyaml drops the first key spelled `<<` when it is not a real merge key.
        let mut seen_lt = false;
        let mut count = 1;
        loop {
            let (ev, ksp) = self.next()?;
            if matches!(ev, Event::MappingEnd) {
                break;
            }
            let key = self.key(ev, ksp, depth + 1, top)?;
            let (vev, vsp) = self.next()?;
            let (value, c) = self.node(vev, vsp, depth + 1, false)?;
            count += c;
            let is_merge = matches!(key, Key::Merge);
            if !seen_lt && (is_merge || matches!(&key, Key::Str(k) if k == "<<")) {
                seen_lt = true;
                if !is_merge {
                    continue;
                }
            }
            match key {
                Key::Merge => {
                    if seen_merge {
                        return Err(err_at(ksp, "duplicate merge key"));
                    }
                    seen_merge = true;
                    let want_map = || {
                        err_at(
                            vsp,
                            "yaml: map merge requires map or sequence of maps as the value",
                        )
                    };
                    match value {
                        Value::Object(m) => merges.push(m),
                        Value::Array(items) => {
                            for item in items {
                                match item {
                                    Value::Object(m) => merges.push(m),
                                    _ => return Err(want_map()),
                                }
                            }
                        }
                        _ => return Err(want_map()),
                    }
                }
                Key::Str(k) => {
                    if map.contains_key(&k) {
                        let first = map
                            .keys()
                            .position(|x| *x == k)
                            .and_then(|i| lines.get(i))
                            .copied()
                            .unwrap_or(0);
                        return Err(err_at(
                            ksp,
                            format!("yaml: mapping key {k:?} already defined at line {first}"),
                        ));
                    }
                    lines.push(ksp.start.line());
                    map.insert(k, value);
                }
            }
        }
        // Explicit keys win over merged ones; earlier merge sources win over later ones.
        for m in merges {
            for (k, v) in m {
                map.entry(k).or_insert(v);
            }
        }
        Ok((Value::Object(map), count))
    }
}

/// Parse a whole stream.
pub(crate) fn parse_stream(src: &str, schema: Schema) -> Result<Vec<Document>, YamlError> {
    let mut l = Loader {
        parser: Parser::new_from_str(src),
        schema,
        anchors: HashMap::new(),
        alias_nodes: 0,
    };
    let mut docs = Vec::new();
    loop {
        let (ev, span) = l.next()?;
        match ev {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                l.anchors.clear();
                let (ev, span) = l.next()?;
                if matches!(ev, Event::DocumentEnd) {
                    docs.push(Document {
                        value: Value::Null,
                        line: span.start.line(),
                    });
                    continue;
                }
                let line = span.start.line();
                let (value, _) = l.node(ev, span, 0, true)?;
                docs.push(Document { value, line });
            }
            _ => return Err(err_at(span, "yaml: unexpected event outside a document")),
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::{parse_documents, parse_one};

    #[test]
    fn documents_and_lines() {
        let docs = parse_documents("# c\na: 1\n---\n---\n\nb: [x]\n").unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!((docs[0].line, &docs[0].value), (2, &json!({"a": 1})));
        assert!(docs[1].value.is_null());
        assert_eq!((docs[2].line, &docs[2].value), (6, &json!({"b": ["x"]})));
        assert!(parse_documents("").unwrap().is_empty());
        assert_eq!(parse_one("").unwrap(), json!(null));
        assert!(parse_one("a: 1\n---\nb: 2\n").is_err());
    }

    #[test]
    fn v3_resolution() {
        let v = parse_one(
            "a: on\nb: 0755\nc: 1e3\nd: 2024-01-01\ne: ~\nf: '1'\ng: !!str 1\nh: 1_000\n",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"a": "on", "b": 493, "c": 1000.0, "d": "2024-01-01T00:00:00Z", "e": null, "f": "1", "g": "1", "h": 1000})
        );
    }

    #[test]
    fn keys_and_merges() {
        assert_eq!(
            parse_one("1: a\ntrue: b\n").unwrap(),
            json!({"1": "a", "true": "b"})
        );
        assert!(parse_one("x:\n  1: a\n").is_err());
        assert!(parse_one("x:\n  ~: a\n").is_err());
        let e = parse_one("x:\n  a: 1\n  a: 2\n").unwrap_err();
        assert_eq!((e.line, e.column), (3, 3));
        assert!(
            e.message.contains("already defined at line 2"),
            "{}",
            e.message
        );
        assert_eq!(
            parse_one("b: &b {p: 1, q: 2}\nm:\n  q: 3\n  <<: [*b, {r: 4, p: 9}]\n").unwrap(),
            json!({"b": {"p": 1, "q": 2}, "m": {"q": 3, "p": 1, "r": 4}})
        );
        assert_eq!(
            parse_one("m:\n  '<<': {a: 1}\n  b: 2\n").unwrap(),
            json!({"m": {"b": 2}})
        );
        assert!(parse_one("m:\n  <<: 1\n").is_err());
    }

    #[test]
    fn kustomize_failures_are_errors() {
        for src in [
            "a: .inf\n",
            "a: !!int abc\n",
            "a: \"\\x7f\"\n",
            "a: *nope\n",
            "a: [\n",
            "k:\n  \"a\\x85b\": 1\n",
        ] {
            assert!(parse_one(src).is_err(), "{src:?}");
        }
    }

    #[test]
    fn folded_scalars_follow_the_kyaml_round_trip() {
        assert_eq!(
            parse_one("a: >\n  x\n   more\n  y\n").unwrap(),
            json!({"a": "x\n\n more\ny\n"})
        );
        assert_eq!(
            parse_one("a: >\n  x\n  y\n\n  z\n").unwrap(),
            json!({"a": "x y\nz\n"})
        );
    }
}
