//! Flux's shell-style variable expansion (`github.com/fluxcd/pkg/envsubst`, a fork of
//! `drone/envsubst`), reproduced rule for rule: the same scanner state machine, the same
//! parse errors and the same functions, so text that Flux accepts or rejects is accepted
//! or rejected here.
//!
//! Supported forms: `${var}`, `${var=d}`, `${var:=d}`, `${var:-d}`, `${var:?d}`,
//! `${var:+d}` (all four colon forms, like `=`, yield the variable when it is non-empty and
//! the default otherwise, exactly as the fork does), `${#var}`, `${var:pos}`,
//! `${var:pos:len}`, `${var#glob}`, `${var##glob}`, `${var%glob}`, `${var%%glob}`,
//! `${var/a/b}`, `${var//a/b}`, `${var/#a/b}`, `${var/%a/b}`, `${var,}`, `${var,,}`,
//! `${var^}`, `${var^^}`. Outside `${…}`, `$$` is one literal `$` (so `$${var}` gives
//! `${var}`); `$var` without braces is left alone. `${var-d}` is a parse error ("missing
//! closing brace"), as in Flux.

use std::fmt;

/// A parse or strict-mode error, worded as the Go package words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    BadSubstitution,
    MissingClosingBrace,
    ParseVariableName,
    ParseFuncSubstitution,
    ParseDefaultFunction,
    /// Strict mode: a variable referenced without a default-providing operator is unset.
    NotSet(String),
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::BadSubstitution => f.write_str("bad substitution"),
            EvalError::MissingClosingBrace => f.write_str("missing closing brace"),
            EvalError::ParseVariableName => f.write_str("unable to parse variable name"),
            EvalError::ParseFuncSubstitution => {
                f.write_str("unable to parse substitution within function")
            }
            EvalError::ParseDefaultFunction => f.write_str("unable to parse default function"),
            EvalError::NotSet(name) => write!(f, "variable not set (strict mode): {name:?}"),
        }
    }
}

/// Expand `s`. `lookup` returns the value and whether the variable exists; a
/// non-strict caller answers "exists" for every name (missing ones as `""`).
pub fn eval(s: &str, lookup: &dyn Fn(&str) -> (String, bool)) -> Result<String, EvalError> {
    let nodes = Parser::new(s).parse_any()?;
    let mut out = String::with_capacity(s.len());
    for n in &nodes {
        eval_node(n, lookup, &mut out)?;
    }
    Ok(out)
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Func {
        name: String,
        param: String,
        args: Vec<Node>,
    },
}

fn eval_node(
    n: &Node,
    lookup: &dyn Fn(&str) -> (String, bool),
    out: &mut String,
) -> Result<(), EvalError> {
    match n {
        Node::Text(t) => out.push_str(t),
        Node::Func { name, param, args } => {
            let mut vals = Vec::with_capacity(args.len());
            for a in args {
                let mut buf = String::new();
                eval_node(a, lookup, &mut buf)?;
                vals.push(buf);
            }
            let (v, exists) = lookup(param);
            if !exists && !is_default_op(name) {
                return Err(EvalError::NotSet(param.clone()));
            }
            out.push_str(&apply(name, &v, &vals));
        }
    }
    Ok(())
}

fn is_default_op(name: &str) -> bool {
    matches!(name, "-" | "+" | "=" | "?" | ":-" | ":+" | ":=" | ":?")
}

fn apply(name: &str, s: &str, args: &[String]) -> String {
    match name {
        "," => first_char(s, char::to_lowercase),
        ",," => s.to_lowercase(),
        "^" => first_char(s, char::to_uppercase),
        "^^" => s.to_uppercase(),
        "#" if args.is_empty() => s.len().to_string(),
        "#" => trim_shortest(s, &args[0]),
        "##" => trim_longest(s, &args[0]),
        "%" => rev(&trim_shortest(&rev(s), &rev(&args[0]))),
        "%%" => rev(&trim_longest(&rev(s), &rev(&args[0]))),
        ":" => substr(s, args),
        "/#" => match args {
            [a, b] if s.starts_with(a.as_str()) => s.replacen(a.as_str(), b, 1),
            _ => s.to_string(),
        },
        "/%" => match args {
            [a, b] if s.ends_with(a.as_str()) => format!("{}{b}", &s[..s.len() - a.len()]),
            _ => s.to_string(),
        },
        "/" => match args {
            [] => s.to_string(),
            [a] => s.replacen(a.as_str(), "", 1),
            [a, b, ..] => s.replacen(a.as_str(), b, 1),
        },
        "//" => match args {
            [] => s.to_string(),
            [a] => s.replace(a.as_str(), ""),
            [a, b, ..] => s.replace(a.as_str(), b),
        },
        _ => {
            if s.is_empty() && !args.is_empty() {
                args.concat()
            } else {
                s.to_string()
            }
        }
    }
}

fn first_char<I: Iterator<Item = char>>(s: &str, f: impl Fn(char) -> I) -> String {
    let mut it = s.chars();
    match it.next() {
        // Go's unicode.ToLower/ToUpper map one rune to one rune; take the first.
        Some(c) => {
            let mapped = f(c).next().unwrap_or(c);
            let mut out = String::with_capacity(s.len());
            out.push(mapped);
            out.push_str(it.as_str());
            out
        }
        None => String::new(),
    }
}

fn rev(s: &str) -> String {
    s.chars().rev().collect()
}

/// Byte-indexed like Go; a cut inside a character is widened to the character boundary.
fn substr(s: &str, args: &[String]) -> String {
    let Some(a0) = args.first() else {
        return s.to_string();
    };
    let Ok(mut pos) = a0.parse::<i64>() else {
        return s.to_string();
    };
    let len = s.len() as i64;
    if pos < 0 {
        pos = (len + pos).max(0);
    }
    let cut = |from: i64, to: i64| -> String {
        let b = s.as_bytes();
        String::from_utf8_lossy(&b[from as usize..to as usize]).into_owned()
    };
    let Some(a1) = args.get(1) else {
        return if pos < len {
            cut(pos, len)
        } else {
            String::new()
        };
    };
    let Ok(length) = a1.parse::<i64>() else {
        return s.to_string();
    };
    if length < 0 {
        let end = len + length;
        return if end < pos {
            String::new()
        } else {
            cut(pos, end)
        };
    }
    if pos + length >= len {
        return if pos < len {
            cut(pos, len)
        } else {
            String::new()
        };
    }
    cut(pos, pos + length)
}

/// Prefixes of `s`, longest first, cut at character boundaries.
fn prefixes(s: &str) -> impl Iterator<Item = &str> {
    let mut ends: Vec<usize> = s.char_indices().map(|(i, _)| i).skip(1).collect();
    ends.push(s.len());
    ends.into_iter().rev().map(move |e| &s[..e])
}

fn trim_shortest(s: &str, pat: &str) -> String {
    let mut shortest: Option<&str> = None;
    for p in prefixes(s) {
        match glob_match(pat, p) {
            Err(()) => return s.to_string(),
            Ok(true) => shortest = Some(p),
            Ok(false) => {}
        }
    }
    match shortest {
        Some(p) if !p.is_empty() => s[p.len()..].to_string(),
        _ => s.to_string(),
    }
}

fn trim_longest(s: &str, pat: &str) -> String {
    for p in prefixes(s) {
        match glob_match(pat, p) {
            Err(()) => return s.to_string(),
            Ok(true) => return s[p.len()..].to_string(),
            Ok(false) => {}
        }
    }
    s.to_string()
}

/// The fork's `path.Match`: Go's glob syntax (`*`, `?`, `[...]` classes with `^` negation
/// and ranges, `\` escapes) where, unlike Go's, `*` and `?` also match `/` (so
/// `${f##*/}` is the base name). `Err` for a malformed pattern.
fn glob_match(pat: &str, name: &str) -> Result<bool, ()> {
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob(&p, &n)
}

fn glob(p: &[char], n: &[char]) -> Result<bool, ()> {
    let Some(&c) = p.first() else {
        return Ok(n.is_empty());
    };
    match c {
        '*' => {
            // Validate the rest of the pattern even when the name runs out.
            let rest = &p[1..];
            for k in 0..=n.len() {
                if glob(rest, &n[k..])? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        '?' => match n.first() {
            Some(_) => glob(&p[1..], &n[1..]),
            None => Ok(false),
        },
        '[' => {
            let (matched, used) = class(&p[1..], n.first().copied())?;
            if matched {
                glob(&p[1 + used..], &n[1..])
            } else {
                Ok(false)
            }
        }
        '\\' => {
            let Some(&e) = p.get(1) else { return Err(()) };
            match n.first() {
                Some(&x) if x == e => glob(&p[2..], &n[1..]),
                _ => Ok(false),
            }
        }
        _ => match n.first() {
            Some(&x) if x == c => glob(&p[1..], &n[1..]),
            _ => Ok(false),
        },
    }
}

/// A character class after `[`: (matched, pattern chars used including `]`).
fn class(p: &[char], ch: Option<char>) -> Result<(bool, usize), ()> {
    let mut i = 0;
    let negated = p.first() == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let Some(&c) = p.get(i) else { return Err(()) };
        if c == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        let lo = esc(p, &mut i)?;
        let hi = if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&x| x != ']') {
            i += 1;
            esc(p, &mut i)?
        } else {
            lo
        };
        if let Some(x) = ch {
            if lo <= x && x <= hi {
                matched = true;
            }
        }
    }
    match ch {
        Some(_) => Ok((matched != negated, i)),
        None => Ok((false, i)),
    }
}

fn esc(p: &[char], i: &mut usize) -> Result<char, ()> {
    let c = *p.get(*i).ok_or(())?;
    if c == '\\' {
        let e = *p.get(*i + 1).ok_or(())?;
        *i += 2;
        return Ok(e);
    }
    if c == '-' || c == ']' {
        return Err(());
    }
    *i += 1;
    Ok(c)
}

// ---- scanner (port of the state machine in fluxcd/pkg/envsubst/parse/scan.go) ----

const EOF: char = '\0';
const SCAN_IDENT: u8 = 1;
const SCAN_LBRACK: u8 = 2;
const SCAN_RBRACK: u8 = 4;
const SCAN_ESCAPE: u8 = 8;
const ESC_DOLLAR: u8 = 1;
const ESC_ALL: u8 = 3;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tok {
    Illegal,
    Eof,
    Ident,
    Lbrack,
    Rbrack,
}

#[derive(Clone, Copy)]
enum Accept {
    Rune,
    Ident,
    Colon,
    OneHash,
    NotClosing,
    HashFunc,
    PercentFunc,
    DefaultFunc,
    ReplaceFunc,
    OneEqual,
    OneColon,
    RejectColonClose,
    Slash,
    NotSlash,
    CasingFunc,
}

impl Accept {
    fn ok(self, r: char, i: usize) -> bool {
        match self {
            Accept::Rune => true,
            Accept::Ident => r.is_alphabetic() || r.is_numeric() || r == '_',
            Accept::Colon => r == ':',
            Accept::OneHash => r == '#' && i == 1,
            Accept::NotClosing => r != '}',
            Accept::HashFunc => r == '#' && i < 3,
            Accept::PercentFunc => r == '%' && i < 3,
            Accept::DefaultFunc => {
                (i == 1 && r == ':') || (i == 2 && matches!(r, '=' | '-' | '?' | '+'))
            }
            Accept::ReplaceFunc => (i == 1 && r == '/') || (i == 2 && matches!(r, '/' | '#' | '%')),
            Accept::OneEqual => i == 1 && r == '=',
            Accept::OneColon => i == 1 && r == ':',
            Accept::RejectColonClose => r != ':' && r != '}',
            Accept::Slash => r == '/',
            Accept::NotSlash => r != '/',
            Accept::CasingFunc => (r == ',' || r == '^') && i < 3,
        }
    }
}

struct Parser {
    buf: Vec<char>,
    pos: usize,
    start: usize,
    width: usize,
    mode: u8,
    escape: u8,
    accept: Accept,
}

impl Parser {
    fn new(s: &str) -> Parser {
        Parser {
            buf: s.chars().collect(),
            pos: 0,
            start: 0,
            width: 0,
            mode: 0,
            escape: 0,
            accept: Accept::Rune,
        }
    }

    fn read(&mut self) -> char {
        match self.buf.get(self.pos) {
            None => {
                self.width = 0;
                EOF
            }
            Some(&r) => {
                self.width = 1;
                self.pos += 1;
                r
            }
        }
    }

    fn unread(&mut self) {
        self.pos -= self.width;
    }

    /// Drop the character before the current position (an escaping `$` or `\`).
    fn skip(&mut self) {
        self.buf.remove(self.pos - 1);
    }

    fn peek(&mut self) -> char {
        let r = self.read();
        self.unread();
        r
    }

    fn string(&self) -> String {
        self.buf[self.start..self.pos].iter().collect()
    }

    fn scan(&mut self) -> Tok {
        self.start = self.pos;
        let r = self.read();
        if r == EOF {
            Tok::Eof
        } else if self.scan_lbrack(r) {
            Tok::Lbrack
        } else if self.mode & SCAN_RBRACK != 0 && r == '}' {
            Tok::Rbrack
        } else if self.scan_ident(r) {
            Tok::Ident
        } else {
            Tok::Illegal
        }
    }

    fn scan_ident(&mut self, r: char) -> bool {
        if self.mode & SCAN_IDENT == 0 {
            return false;
        }
        if self.escaped(r) {
            self.skip();
        } else if !self.accept.ok(r, self.pos - self.start) {
            return false;
        }
        loop {
            let r = self.read();
            if r == EOF {
                self.unread();
                break;
            }
            if self.scan_lbrack(r) {
                self.unread();
                self.unread();
                break;
            }
            if self.escaped(r) {
                self.skip();
                continue;
            }
            if !self.accept.ok(r, self.pos - self.start) {
                self.unread();
                break;
            }
        }
        true
    }

    fn scan_lbrack(&mut self, r: char) -> bool {
        if self.mode & SCAN_LBRACK == 0 {
            return false;
        }
        if r == '$' {
            if self.read() == '{' {
                return true;
            }
            self.unread();
        }
        false
    }

    fn escaped(&mut self, r: char) -> bool {
        if self.mode & SCAN_ESCAPE == 0 {
            return false;
        }
        if r == '$' && self.escape & ESC_DOLLAR != 0 && self.peek() == '$' {
            return true;
        }
        if r == '\\' && self.escape & (ESC_ALL & !ESC_DOLLAR) != 0 {
            return matches!(self.peek(), '/' | '\\');
        }
        false
    }

    // ---- parser (port of parse.go) ----

    fn parse_any(&mut self) -> Result<Vec<Node>, EvalError> {
        let mut nodes = Vec::new();
        loop {
            self.accept = Accept::Rune;
            self.mode = SCAN_IDENT | SCAN_LBRACK | SCAN_ESCAPE;
            self.escape = ESC_DOLLAR;
            match self.scan() {
                Tok::Ident => nodes.push(Node::Text(self.string())),
                Tok::Eof => return Ok(nodes),
                Tok::Lbrack => nodes.push(self.parse_func()?),
                _ => return Err(EvalError::BadSubstitution),
            }
        }
    }

    fn parse_func(&mut self) -> Result<Node, EvalError> {
        self.escape = ESC_ALL;
        if self.peek() == '#' {
            return self.parse_len_func();
        }
        self.accept = Accept::Ident;
        self.mode = SCAN_IDENT;
        let name = match self.scan() {
            Tok::Ident => self.string(),
            _ => return Err(EvalError::ParseVariableName),
        };
        match self.peek() {
            ':' => return self.parse_default_or_substr(name),
            '=' => return self.parse_default_func(name),
            ',' | '^' => return self.parse_named(name, Accept::CasingFunc, None),
            '/' => return self.parse_replace_func(name),
            '#' => return self.parse_named(name, Accept::HashFunc, Some(Accept::NotClosing)),
            '%' => return self.parse_named(name, Accept::PercentFunc, Some(Accept::NotClosing)),
            _ => {}
        }
        self.accept = Accept::Ident;
        self.mode = SCAN_RBRACK;
        match self.scan() {
            Tok::Rbrack => Ok(func(String::new(), name, Vec::new())),
            _ => Err(EvalError::MissingClosingBrace),
        }
    }

    fn parse_param(&mut self, accept: Accept, mode: u8) -> Result<Node, EvalError> {
        self.accept = accept;
        self.mode = mode | SCAN_LBRACK;
        match self.scan() {
            Tok::Lbrack => self.parse_func(),
            Tok::Ident | Tok::Rbrack => Ok(Node::Text(self.string())),
            _ => Err(EvalError::ParseFuncSubstitution),
        }
    }

    /// Scan the operator with `accept`; `Bad` when it is not there.
    fn scan_op(&mut self, accept: Accept, err: EvalError) -> Result<String, EvalError> {
        self.accept = accept;
        self.mode = SCAN_IDENT;
        match self.scan() {
            Tok::Ident => Ok(self.string()),
            _ => Err(err),
        }
    }

    fn parse_default_or_substr(&mut self, name: String) -> Result<Node, EvalError> {
        self.read();
        let r = self.peek();
        self.unread();
        match r {
            '=' | '-' | '?' | '+' => self.parse_default_func(name),
            _ => self.parse_substr_func(name),
        }
    }

    fn parse_substr_func(&mut self, param: String) -> Result<Node, EvalError> {
        let op = self.scan_op(Accept::OneColon, EvalError::BadSubstitution)?;
        let mut args = vec![self.parse_param(Accept::RejectColonClose, SCAN_IDENT)?];
        self.accept = Accept::Colon;
        self.mode = SCAN_IDENT | SCAN_RBRACK;
        match self.scan() {
            Tok::Rbrack => return Ok(func(op, param, args)),
            Tok::Ident => {}
            _ => return Err(EvalError::BadSubstitution),
        }
        args.push(self.parse_param(Accept::NotClosing, SCAN_IDENT)?);
        self.consume_rbrack()?;
        Ok(func(op, param, args))
    }

    /// `${param<op>}` (casing) or `${param<op>word}` (remove prefix/suffix).
    fn parse_named(
        &mut self,
        param: String,
        op_accept: Accept,
        arg: Option<Accept>,
    ) -> Result<Node, EvalError> {
        let op = self.scan_op(op_accept, EvalError::BadSubstitution)?;
        let mut args = Vec::new();
        if let Some(a) = arg {
            args.push(self.parse_param(a, SCAN_IDENT)?);
        }
        self.consume_rbrack()?;
        Ok(func(op, param, args))
    }

    fn parse_replace_func(&mut self, param: String) -> Result<Node, EvalError> {
        let op = self.scan_op(Accept::ReplaceFunc, EvalError::BadSubstitution)?;
        let mut args = Vec::new();
        if self.peek() == '/' {
            args.push(Node::Text(String::new()));
        } else {
            args.push(self.parse_param(Accept::NotSlash, SCAN_IDENT | SCAN_ESCAPE)?);
        }
        self.scan_op(Accept::Slash, EvalError::BadSubstitution)?;
        if self.peek() == '}' {
            self.consume_rbrack()?;
            return Ok(func(op, param, args));
        }
        args.push(self.parse_param(Accept::NotClosing, SCAN_IDENT | SCAN_ESCAPE)?);
        self.consume_rbrack()?;
        Ok(func(op, param, args))
    }

    fn parse_default_func(&mut self, param: String) -> Result<Node, EvalError> {
        let accept = if self.peek() == '=' {
            Accept::OneEqual
        } else {
            Accept::DefaultFunc
        };
        let op = self.scan_op(accept, EvalError::ParseDefaultFunction)?;
        let mut args = Vec::new();
        loop {
            if self.peek() == '}' {
                self.consume_rbrack()?;
                return Ok(func(op, param, args));
            }
            args.push(self.parse_param(Accept::NotClosing, SCAN_IDENT)?);
        }
    }

    fn parse_len_func(&mut self) -> Result<Node, EvalError> {
        let op = self.scan_op(Accept::OneHash, EvalError::BadSubstitution)?;
        let param = self.scan_op(Accept::Ident, EvalError::BadSubstitution)?;
        self.consume_rbrack()?;
        Ok(func(op, param, Vec::new()))
    }

    fn consume_rbrack(&mut self) -> Result<(), EvalError> {
        self.mode = SCAN_RBRACK;
        if self.scan() != Tok::Rbrack {
            return Err(EvalError::BadSubstitution);
        }
        Ok(())
    }
}

fn func(name: String, param: String, args: Vec<Node>) -> Node {
    Node::Func { name, param, args }
}
