//! The output half: a value written the way `sigs.k8s.io/yaml.JSONToYAML` writes it.
//!
//! JSONToYAML re-reads the JSON with go-yaml v2 and marshals the result with go-yaml v2,
//! whose emitter is a port of libyaml's. This module replays the parts of that emitter
//! state machine the marshaller can reach (block mappings and sequences, `{}`/`[]` for
//! empty collections, plain/single/double/literal scalars) with the same column, indent,
//! `whitespace` and `indention` bookkeeping, so folding at 80 columns, indentation
//! indicators and chomping come out identical.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::keys::go_yaml_v2_key_cmp;
use crate::number::write_number;
use crate::resolve::v2_plain_is_string;

const BEST_INDENT: isize = 2;
const BEST_WIDTH: usize = 80;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

#[derive(Clone, Copy, Default)]
struct Ctx {
    mapping: bool,
    simple_key: bool,
}

/// libyaml's `yaml_emitter_analyze_scalar` result.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Analysis {
    pub(crate) multiline: bool,
    pub(crate) block_plain_allowed: bool,
    pub(crate) single_quoted_allowed: bool,
    pub(crate) block_allowed: bool,
}

fn width(b: u8) -> usize {
    if b & 0x80 == 0 {
        1
    } else if b & 0xE0 == 0xC0 {
        2
    } else if b & 0xF0 == 0xE0 {
        3
    } else {
        4
    }
}

fn at(v: &[u8], i: usize) -> u8 {
    v.get(i).copied().unwrap_or(0)
}

fn is_printable(v: &[u8], i: usize) -> bool {
    let b = at(v, i);
    let b1 = at(v, i + 1);
    let b2 = at(v, i + 2);
    b == 0x0A
        || (0x20..=0x7E).contains(&b)
        || (b == 0xC2 && b1 >= 0xA0)
        || (b > 0xC2 && b < 0xED)
        || (b == 0xED && b1 < 0xA0)
        || b == 0xEE
        || (b == 0xEF && !(b1 == 0xBB && b2 == 0xBF) && !(b1 == 0xBF && (b2 == 0xBE || b2 == 0xBF)))
}

fn is_break(v: &[u8], i: usize) -> bool {
    let b = at(v, i);
    b == b'\r'
        || b == b'\n'
        || (b == 0xC2 && at(v, i + 1) == 0x85)
        || (b == 0xE2 && at(v, i + 1) == 0x80 && (at(v, i + 2) == 0xA8 || at(v, i + 2) == 0xA9))
}

fn is_blank(v: &[u8], i: usize) -> bool {
    matches!(at(v, i), b' ' | b'\t')
}

fn is_blankz(v: &[u8], i: usize) -> bool {
    is_blank(v, i) || is_break(v, i) || at(v, i) == 0
}

pub(crate) fn analyze(value: &str) -> Analysis {
    analyze_with(value, false)
}

/// `analyze` with go-yaml v3's treatment of tabs (they only rule out plain style), used to
/// predict how kyaml's v3 encoder writes a scalar.
pub(crate) fn analyze_v3(value: &str) -> Analysis {
    analyze_with(value, true)
}

fn analyze_with(value: &str, tab_ok: bool) -> Analysis {
    let v = value.as_bytes();
    if v.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = v.starts_with(b"---") || v.starts_with(b"...");
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let mut preceded_by_ws = true;
    let (mut prev_space, mut prev_break) = (false, false);
    let mut i = 0;
    while i < v.len() {
        let w = width(v[i]);
        let followed_by_ws = i + w >= v.len() || is_blank(v, i + w);
        let c = v[i];
        if i == 0 {
            match c {
                b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>'
                | b'\'' | b'"' | b'%' | b'@' | b'`' => block_indicators = true,
                b'?' | b':' | b'-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                b':' if followed_by_ws => block_indicators = true,
                b'#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if c == b'\t' && tab_ok {
            block_indicators = true; // not plain, but fine for quoting and block styles
        } else if !is_printable(v, i) {
            special = true;
        }
        if c == b' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + w == v.len() {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(v, i) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + w == v.len() {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = is_blankz(v, i);
        i += w;
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// What JSONToYAML's go-yaml v2 reading of the JSON text does to a string: encoding/json
/// leaves U+0085 (NEL) unescaped, and inside a double-quoted YAML scalar a NEL is a line
/// break that gets folded together with the spaces around it.
pub(crate) fn json_roundtrip_str(s: &str) -> Cow<'_, str> {
    if !s.contains('\u{85}') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut pending_spaces = 0usize;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' => pending_spaces += 1,
            '\u{85}' => {
                // Spaces before the first break are dropped; then swallow spaces and
                // further breaks, each further break becoming a newline.
                let mut extra = 0usize;
                while let Some(&n) = chars.peek() {
                    match n {
                        ' ' => {}
                        '\u{85}' => extra += 1,
                        _ => break,
                    }
                    chars.next();
                }
                pending_spaces = 0;
                if extra == 0 {
                    out.push(' ');
                } else {
                    out.extend(std::iter::repeat_n('\n', extra));
                }
            }
            _ => {
                out.extend(std::iter::repeat_n(' ', pending_spaces));
                pending_spaces = 0;
                out.push(c);
            }
        }
    }
    out.extend(std::iter::repeat_n(' ', pending_spaces));
    Cow::Owned(out)
}

pub(crate) struct Emitter<'o> {
    out: &'o mut String,
    column: usize,
    indent: isize,
    whitespace: bool,
    indention: bool,
}

impl<'o> Emitter<'o> {
    pub(crate) fn new(out: &'o mut String) -> Self {
        Emitter {
            out,
            column: 0,
            indent: -1,
            whitespace: true,
            indention: true,
        }
    }

    /// Emit one document (implicit start, implicit end) and its final line break.
    pub(crate) fn document(mut self, v: &Value) {
        self.node(v, Ctx::default());
        self.write_indent();
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    /// libyaml `write`: one character, one column.
    fn write_char(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn write_indent(&mut self) {
        let indent = usize::try_from(self.indent.max(0)).unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, ind: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        for c in ind.chars() {
            self.write_char(c);
        }
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) -> isize {
        let saved = self.indent;
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
        saved
    }

    fn node(&mut self, v: &Value, ctx: Ctx) {
        match v {
            // These always come out as short plain ASCII scalars: write them directly.
            Value::Null => self.plain_ascii(|o| o.push_str("null")),
            Value::Bool(b) => self.plain_ascii(|o| o.push_str(if *b { "true" } else { "false" })),
            Value::Number(n) => self.plain_ascii(|o| write_number(o, n)),
            Value::String(s) => self.string(&json_roundtrip_str(s), ctx),
            Value::Array(a) if a.is_empty() => self.empty_flow("[", "]"),
            Value::Object(m) if m.is_empty() => self.empty_flow("{", "}"),
            Value::Array(a) => self.block_sequence(a, ctx),
            Value::Object(m) => self.block_mapping(m),
        }
    }

    /// A plain scalar known to be single-line ASCII that libyaml would write unchanged
    /// (`null`, booleans, numbers), written without analysis or allocation.
    fn plain_ascii(&mut self, write: impl FnOnce(&mut String)) {
        if !self.whitespace {
            self.put(' ');
        }
        let before = self.out.len();
        write(self.out);
        self.column += self.out.len() - before;
        self.whitespace = false;
        self.indention = false;
    }

    fn empty_flow(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.write_indicator(close, false, false, false);
    }

    fn block_sequence(&mut self, items: &[Value], ctx: Ctx) {
        let saved = self.increase_indent(false, ctx.mapping && !self.indention);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(item, Ctx::default());
        }
        self.indent = saved;
    }

    fn block_mapping(&mut self, m: &Map<String, Value>) {
        let saved = self.increase_indent(false, false);
        let mut entries: Vec<(Cow<'_, str>, &Value)> =
            m.iter().map(|(k, v)| (json_roundtrip_str(k), v)).collect();
        entries.sort_by(|a, b| go_yaml_v2_key_cmp(&a.0, &b.0));
        for (k, v) in &entries {
            self.write_indent();
            let simple = k.len() <= 128 && !analyze(k).multiline;
            if simple {
                self.string(
                    k,
                    Ctx {
                        mapping: true,
                        simple_key: true,
                    },
                );
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.string(
                    k,
                    Ctx {
                        mapping: true,
                        simple_key: false,
                    },
                );
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.node(
                v,
                Ctx {
                    mapping: true,
                    simple_key: false,
                },
            );
        }
        self.indent = saved;
    }

    /// go-yaml v2 `encoder.stringv`: the requested style.
    fn string(&mut self, s: &str, ctx: Ctx) {
        let style = if s.contains('\n') {
            Style::Literal
        } else if v2_plain_is_string(s) {
            Style::Plain
        } else {
            Style::Double
        };
        self.scalar(s, style, ctx);
    }

    fn scalar(&mut self, value: &str, requested: Style, ctx: Ctx) {
        let a = analyze(value);
        let mut style = requested;
        if ctx.simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain && (!a.block_plain_allowed || (value.is_empty() && ctx.simple_key))
        {
            style = Style::Single;
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block_allowed || ctx.simple_key) {
            style = Style::Double;
        }
        let saved = self.increase_indent(true, false);
        let allow_breaks = !ctx.simple_key;
        match style {
            Style::Plain => self.write_plain(value, allow_breaks),
            Style::Single => self.write_single(value, allow_breaks),
            Style::Double => self.write_double(value, allow_breaks),
            Style::Literal => self.write_literal(value),
        }
        self.indent = saved;
    }

    fn write_plain(&mut self, value: &str, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let v = value.as_bytes();
        let mut spaces = false;
        let mut breaks = false;
        for (i, c) in value.char_indices() {
            if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && at(v, i + 1) != b' ' {
                    self.write_indent();
                } else {
                    self.write_char(c);
                }
                spaces = true;
            } else if is_break(v, i) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write_char(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let v = value.as_bytes();
        let mut spaces = false;
        let mut breaks = false;
        for (i, c) in value.char_indices() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < v.len()
                    && at(v, i + 1) != b' '
                {
                    self.write_indent();
                } else {
                    self.write_char(c);
                }
                spaces = true;
            } else if is_break(v, i) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.write_char(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let v = value.as_bytes();
        let bom = v.starts_with(&[0xEF, 0xBB, 0xBF]);
        let mut spaces = false;
        for (i, c) in value.char_indices() {
            if bom || !is_printable(v, i) || is_break(v, i) || c == '"' || c == '\\' {
                self.put('\\');
                let esc = match c {
                    '\0' => Some('0'),
                    '\u{7}' => Some('a'),
                    '\u{8}' => Some('b'),
                    '\t' => Some('t'),
                    '\n' => Some('n'),
                    '\u{b}' => Some('v'),
                    '\u{c}' => Some('f'),
                    '\r' => Some('r'),
                    '\u{1b}' => Some('e'),
                    '"' => Some('"'),
                    '\\' => Some('\\'),
                    '\u{85}' => Some('N'),
                    '\u{a0}' => Some('_'),
                    '\u{2028}' => Some('L'),
                    '\u{2029}' => Some('P'),
                    _ => None,
                };
                match esc {
                    Some(e) => self.put(e),
                    None => {
                        let cp = u32::from(c);
                        let (ind, digits) = if cp <= 0xFF {
                            ('x', 2)
                        } else if cp <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(ind);
                        for k in (0..digits).rev() {
                            let d = (cp >> (k * 4)) & 0xF;
                            self.put(
                                char::from_digit(d, 16).map_or('0', |c| c.to_ascii_uppercase()),
                            );
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i + 1 < v.len() {
                    self.write_indent();
                    if at(v, i + 1) == b' ' {
                        self.put('\\');
                    }
                } else {
                    self.write_char(c);
                }
                spaces = true;
            } else {
                self.write_char(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, value: &str) {
        self.write_indicator("|", true, false, false);
        let v = value.as_bytes();
        if c_is_space_or_break(v) {
            self.write_indicator("2", false, false, false);
        }
        let chomp = chomp_hint(value);
        if let Some(h) = chomp {
            self.write_indicator(h, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for (i, c) in value.char_indices() {
            if is_break(v, i) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.write_char(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

fn c_is_space_or_break(v: &[u8]) -> bool {
    at(v, 0) == b' ' || is_break(v, 0)
}

fn chomp_hint(value: &str) -> Option<&'static str> {
    let mut rev = value.char_indices().rev();
    let v = value.as_bytes();
    match rev.next() {
        None => Some("-"),
        Some((i, _)) if !is_break(v, i) => Some("-"),
        Some((0, _)) => Some("+"),
        Some(_) => match rev.next() {
            Some((j, _)) if is_break(v, j) => Some("+"),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests;
