//! Byte-preserving scalar edits in YAML files.
//!
//! The file is parsed with saphyr-parser, whose events carry spans, into a small tree of
//! [`Node`]s that remember where each scalar is. An edit splices the new text over one
//! scalar's span and leaves every other byte (comments, order, indentation, other
//! documents) as it was; the new value keeps the old one's quoting style.

use saphyr_parser::{Event, Parser, ScalarStyle};

/// A parsed node with positions.
#[derive(Debug, Clone)]
pub enum Node {
    Scalar(Scalar),
    Map(Vec<(Node, Node)>),
    Seq(Vec<Node>),
    /// An alias or anything else this module does not follow.
    Other,
}

/// A scalar, its style and its byte range in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    pub value: String,
    pub style: ScalarStyle,
    /// Byte offsets `[start, end)` of the scalar's text, quotes included.
    pub start: usize,
    pub end: usize,
    /// 1-based line.
    pub line: usize,
}

impl Node {
    /// The value under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find_map(|(k, v)| match k {
                Node::Scalar(s) if s.value == key => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }

    /// The value at a dotted path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }

    /// The scalar, if this is one.
    pub fn scalar(&self) -> Option<&Scalar> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The scalar's text, if this is one.
    pub fn str(&self) -> Option<&str> {
        self.scalar().map(|s| s.value.as_str())
    }

    /// `(key, value)` pairs of a mapping whose keys and values are scalars.
    pub fn string_pairs(&self) -> Vec<(&str, &str)> {
        match self {
            Node::Map(entries) => entries
                .iter()
                .filter_map(|(k, v)| Some((k.str()?, v.str()?)))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// A parse failure: 1-based line and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Parses every document of `src` (an empty document gives [`Node::Other`]).
pub fn parse(src: &str) -> Result<Vec<Node>, ParseError> {
    let offsets = CharOffsets::new(src);
    let mut parser = Parser::new_from_str(src);
    let mut docs = Vec::new();
    // Stack of containers being built: (is_map, items).
    let mut stack: Vec<(bool, Vec<Node>)> = Vec::new();
    let mut current: Option<Node> = None;
    while let Some(ev) = parser.next_event() {
        let (event, span) = ev.map_err(|e| ParseError {
            line: e.marker().line(),
            message: e.info().to_string(),
        })?;
        let node = match event {
            Event::DocumentStart(_) => {
                current = None;
                continue;
            }
            Event::DocumentEnd => {
                docs.push(current.take().unwrap_or(Node::Other));
                continue;
            }
            Event::MappingStart(..) => {
                stack.push((true, Vec::new()));
                continue;
            }
            Event::SequenceStart(..) => {
                stack.push((false, Vec::new()));
                continue;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let Some((is_map, items)) = stack.pop() else {
                    continue;
                };
                if is_map {
                    let mut it = items.into_iter();
                    let mut pairs = Vec::new();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    Node::Map(pairs)
                } else {
                    Node::Seq(items)
                }
            }
            Event::Scalar(value, style, _, _) => {
                let start = offsets.byte(span.start.index());
                let end = scalar_end(src, start, offsets.byte(span.end.index()), style);
                Node::Scalar(Scalar {
                    value: value.into_owned(),
                    style,
                    start,
                    end,
                    line: span.start.line(),
                })
            }
            Event::Alias(_) => Node::Other,
            _ => continue,
        };
        match stack.last_mut() {
            Some((_, items)) => items.push(node),
            None => current = Some(node),
        }
    }
    Ok(docs)
}

/// The end of a scalar's own text. The parser's span of a quoted scalar can run on over
/// the blanks and comment after it, so quoted scalars are scanned to their closing quote;
/// a plain scalar's span loses any trailing blanks.
fn scalar_end(src: &str, start: usize, span_end: usize, style: ScalarStyle) -> usize {
    let bytes = src.as_bytes();
    match style {
        ScalarStyle::SingleQuoted => {
            let mut i = start + 1;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return i + 1;
                }
                i += 1;
            }
            span_end
        }
        ScalarStyle::DoubleQuoted => {
            let mut i = start + 1;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' => i += 2,
                    b'"' => return i + 1,
                    _ => i += 1,
                }
            }
            span_end
        }
        _ => {
            let end = span_end.min(src.len());
            start + src[start..end].trim_end().len()
        }
    }
}

/// Maps the parser's character indices to byte offsets.
struct CharOffsets {
    /// Byte offset of each char, plus the length at the end; empty for ASCII input.
    table: Vec<usize>,
}

impl CharOffsets {
    fn new(src: &str) -> Self {
        if src.is_ascii() {
            return CharOffsets { table: Vec::new() };
        }
        let mut table: Vec<usize> = src.char_indices().map(|(i, _)| i).collect();
        table.push(src.len());
        CharOffsets { table }
    }

    fn byte(&self, char_index: usize) -> usize {
        if self.table.is_empty() {
            char_index
        } else {
            self.table
                .get(char_index)
                .copied()
                .unwrap_or_else(|| self.table.last().copied().unwrap_or(0))
        }
    }
}

/// Why a scalar cannot be replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditError(pub String);

/// The text that writes `value` in `old`'s style: plain stays plain when `value` reads back
/// as the same string, else it becomes double-quoted; quoted styles keep their quotes.
pub fn render_like(old: &Scalar, value: &str) -> Result<String, EditError> {
    match old.style {
        ScalarStyle::Plain if plain_safe(value) => Ok(value.to_string()),
        ScalarStyle::Plain | ScalarStyle::DoubleQuoted => Ok(double_quoted(value)),
        ScalarStyle::SingleQuoted => Ok(format!("'{}'", value.replace('\'', "''"))),
        ScalarStyle::Literal | ScalarStyle::Folded => Err(EditError(format!(
            "line {}: a block scalar cannot be edited in place",
            old.line
        ))),
    }
}

fn double_quoted(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `value` as a plain scalar is the same string: version-like text only, and
/// not something YAML would read as a number, bool or null.
fn plain_safe(value: &str) -> bool {
    let simple = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-+/".contains(c))
        && value.starts_with(|c: char| c.is_ascii_alphanumeric());
    if !simple {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    let keyword = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    ]
    .contains(&lower.as_str());
    let numeric =
        value.parse::<f64>().is_ok() || value.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    !keyword && !numeric
}

/// Replaces the scalars at the given spans (non-overlapping) with new texts.
pub fn splice(src: &str, edits: &mut [(Scalar, String)]) -> String {
    edits.sort_by_key(|(s, _)| s.start);
    let mut out = String::with_capacity(src.len());
    let mut at = 0;
    for (s, text) in edits.iter() {
        out.push_str(&src[at..s.start]);
        out.push_str(text);
        at = s.end;
    }
    out.push_str(&src[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag_of(src: &str) -> Scalar {
        let docs = parse(src).unwrap();
        docs[0]
            .path(&["spec", "ref", "tag"])
            .unwrap()
            .scalar()
            .unwrap()
            .clone()
    }

    #[test]
    fn spans_cover_the_scalar_text() {
        for (src, text) in [
            ("spec:\n  ref:\n    tag: v0.1.0 # pinned\n", "v0.1.0"),
            ("spec:\n  ref:\n    tag: \"v0.1.0\"\n", "\"v0.1.0\""),
            ("spec:\n  ref:\n    tag: 'v0.1.0'\n", "'v0.1.0'"),
            ("# ünïcödé ✓\nspec: {ref: {tag: v0.1.0}}\n", "v0.1.0"),
            ("spec:\n  ref:\n    tag:   v0.1.0\n", "v0.1.0"),
            ("spec:\n  ref:\n    tag: 'it''s'  # c\n", "'it''s'"),
            ("spec:\n  ref:\n    tag: \"a\\\"b\"  # c\n", "\"a\\\"b\""),
            ("spec: {ref: {tag: \"v1\" }}\n", "\"v1\""),
        ] {
            let s = tag_of(src);
            assert_eq!(&src[s.start..s.end], text, "{src}");
        }
    }

    #[test]
    fn splice_keeps_style_and_bytes() {
        let src = "# ü\nspec:\n  ref:\n    tag: 'v0.1.0'   # keep\n  url: x\n";
        let s = tag_of(src);
        let text = render_like(&s, "v0.2.0").unwrap();
        let out = splice(src, &mut [(s, text)]);
        assert_eq!(
            out,
            "# ü\nspec:\n  ref:\n    tag: 'v0.2.0'   # keep\n  url: x\n"
        );
    }

    #[test]
    fn plain_values_that_would_change_type_get_quoted() {
        let s = tag_of("spec: {ref: {tag: v1}}");
        assert_eq!(render_like(&s, "1.2").unwrap(), "\"1.2\"");
        assert_eq!(render_like(&s, "true").unwrap(), "\"true\"");
        assert_eq!(render_like(&s, "0.1.2").unwrap(), "0.1.2");
        assert_eq!(
            render_like(&s, ">=1.0.0 <2.0.0").unwrap(),
            "\">=1.0.0 <2.0.0\""
        );
    }

    #[test]
    fn multi_document_and_nesting() {
        let docs =
            parse("a: 1\n---\nkind: X\nmetadata:\n  labels:\n    k: v\nlist: [1, 2]\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].path(&["kind"]).and_then(Node::str), Some("X"));
        assert_eq!(
            docs[1]
                .path(&["metadata", "labels"])
                .unwrap()
                .string_pairs(),
            [("k", "v")]
        );
        assert!(matches!(docs[1].get("list"), Some(Node::Seq(v)) if v.len() == 2));
    }

    #[test]
    fn errors_carry_lines() {
        let e = parse("a: b\nc: [\n").unwrap_err();
        assert!(e.line >= 2, "{e:?}");
    }
}
