//! Plain-scalar resolution as go-yaml does it.
//!
//! go-yaml v3 (input side, used by kustomize's kyaml) and go-yaml v2 (output side, used by
//! `sigs.k8s.io/yaml.JSONToYAML` to decide whether a string must be quoted) share one
//! resolver; they differ only in the set of boolean words (v2 also knows the YAML 1.1
//! `y/yes/on/n/no/off` family). Integers go through Go's `strconv.ParseInt(s, 0, 64)` rules
//! after removing every `_`, floats through a fixed regular expression, timestamps through
//! Go's `time.Parse` with four layouts. All of that is reimplemented here without regexes.

use crate::time::{parse_timestamp, Timestamp};

/// Result of resolving a plain scalar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Timestamp(Timestamp),
    /// `<<` (only meaningful as a mapping key).
    Merge,
    Str,
}

/// Which resolver: v3 knows only YAML 1.2 booleans, v2 also the YAML 1.1 words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Schema {
    V2,
    V3,
}

fn lookup_word(s: &str, schema: Schema) -> Option<Resolved> {
    let r = match s {
        "" | "~" | "null" | "Null" | "NULL" => Resolved::Null,
        "true" | "True" | "TRUE" => Resolved::Bool(true),
        "false" | "False" | "FALSE" => Resolved::Bool(false),
        ".nan" | ".NaN" | ".NAN" => Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Resolved::Float(f64::NEG_INFINITY),
        "<<" => Resolved::Merge,
        _ if schema == Schema::V2 => match s {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Resolved::Bool(true),
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Resolved::Bool(false),
            _ => return None,
        },
        _ => return None,
    };
    Some(r)
}

/// Resolve an untagged plain scalar.
pub(crate) fn resolve_plain(s: &str, schema: Schema) -> Resolved {
    resolve(s, schema, true)
}

/// go-yaml v3 resolution of a scalar that is untagged (`None`) or carries the explicit core
/// tag `!!tag` (`Some("int")`, ...): timestamps are only recognised untagged or under
/// `!!timestamp`.
pub(crate) fn resolve_tagged(s: &str, tag: Option<&str>) -> Resolved {
    resolve(s, Schema::V3, matches!(tag, None | Some("timestamp")))
}

fn resolve(s: &str, schema: Schema, allow_timestamp: bool) -> Resolved {
    let hint = match s.as_bytes().first() {
        None => return Resolved::Null,
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        _ => return Resolved::Str,
    };
    if let Some(r) = lookup_word(s, schema) {
        return r;
    }
    match hint {
        b'.' => match go_parse_float(s) {
            Some(f) => Resolved::Float(f),
            None => Resolved::Str,
        },
        b'D' | b'S' => {
            if hint == b'D' && allow_timestamp {
                if let Some(t) = parse_timestamp(s) {
                    return Resolved::Timestamp(t);
                }
            }
            resolve_number(s).unwrap_or(Resolved::Str)
        }
        _ => Resolved::Str,
    }
}

/// The numeric part of the resolver (after timestamps): `_` removed, then ParseInt,
/// ParseUint, then the YAML float regex. (The explicit `0b`/`0o` branches of go-yaml are
/// subsumed by Go's base-0 prefix handling.)
pub(crate) fn resolve_number(s: &str) -> Option<Resolved> {
    let mut buf = [0u8; 64];
    let plain: &[u8] = if s.contains('_') {
        let mut n = 0;
        for &b in s.as_bytes() {
            if b != b'_' {
                if n == buf.len() {
                    // Longer than any representable integer; only the float path is left.
                    return float_path_long(s);
                }
                buf[n] = b;
                n += 1;
            }
        }
        &buf[..n]
    } else {
        s.as_bytes()
    };
    if let Some(i) = go_parse_int(plain) {
        return Some(Resolved::Int(i));
    }
    if let Some(u) = go_parse_uint(plain) {
        return Some(Resolved::Uint(u));
    }
    if is_yaml_style_float(plain) {
        // The regex guarantees ASCII.
        let text = std::str::from_utf8(plain).ok()?;
        if let Some(f) = go_parse_float(text) {
            return Some(Resolved::Float(f));
        }
    }
    None
}

fn float_path_long(s: &str) -> Option<Resolved> {
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if is_yaml_style_float(plain.as_bytes()) {
        if let Some(f) = go_parse_float(&plain) {
            return Some(Resolved::Float(f));
        }
    }
    None
}

/// Go `strconv.ParseUint(s, 0, 64)` (input has no underscores).
pub(crate) fn go_parse_uint(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let (base, digits): (u64, &[u8]) = if s[0] == b'0' {
        if s.len() >= 3 {
            match s[1] | 0x20 {
                b'b' => (2, &s[2..]),
                b'o' => (8, &s[2..]),
                b'x' => (16, &s[2..]),
                _ => (8, &s[1..]),
            }
        } else {
            (8, &s[1..])
        }
    } else {
        (10, s)
    };
    let mut n: u64 = 0;
    for &c in digits {
        let d = match c {
            b'0'..=b'9' => u64::from(c - b'0'),
            b'a'..=b'z' => u64::from(c - b'a') + 10,
            b'A'..=b'Z' => u64::from(c - b'A') + 10,
            _ => return None,
        };
        if d >= base {
            return None;
        }
        n = n.checked_mul(base)?.checked_add(d)?;
    }
    Some(n)
}

/// Go `strconv.ParseInt(s, 0, 64)` (input has no underscores).
pub(crate) fn go_parse_int(s: &[u8]) -> Option<i64> {
    let (neg, rest) = match s.first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let u = go_parse_uint(rest)?;
    if neg {
        if u > 1u64 << 63 {
            None
        } else {
            Some((u as i64).wrapping_neg())
        }
    } else {
        i64::try_from(u).ok()
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
pub(crate) fn is_yaml_style_float(s: &[u8]) -> bool {
    let mut i = 0;
    let n = s.len();
    if i < n && (s[i] == b'+' || s[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < n && s[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < n && s[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < n && s[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < n && (s[i] == b'e' || s[i] == b'E') {
        i += 1;
        if i < n && (s[i] == b'+' || s[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == n
}

/// Go `strconv.ParseFloat(s, 64)` restricted to decimal syntax: `None` on syntax error or
/// overflow (Go reports ErrRange there); underflow gives 0 like Go.
pub(crate) fn go_parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    // Reject what Rust accepts but Go's decimal syntax (as reachable here) does not.
    if b.iter()
        .any(|c| !matches!(c, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    if f.is_finite() {
        Some(f)
    } else {
        None
    }
}

/// YAML 1.1 base-60 float (`^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`), which
/// go-yaml v2 quotes on output.
pub(crate) fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let n = b.len();
    let mut i = 0;
    if n == 0 || !b.contains(&b':') {
        return false;
    }
    if b[0] == b'+' || b[0] == b'-' {
        i += 1;
    }
    if i >= n || !b[i].is_ascii_digit() {
        return false;
    }
    i += 1;
    while i < n && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < n && b[i] == b':' {
        i += 1;
        // [0-5]?[0-9]: one digit, or two digits whose first is 0-5.
        if i < n && b[i].is_ascii_digit() {
            if i + 1 < n && b[i + 1].is_ascii_digit() && b[i] <= b'5' {
                i += 2;
            } else {
                i += 1;
            }
        } else {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < n && b[i] == b'.' {
        i += 1;
        while i < n && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == n
}

/// Whether go-yaml v2 may write `s` as a plain scalar as far as the resolver is concerned
/// (it must resolve back to a string and not look like a base-60 float).
pub(crate) fn v2_plain_is_string(s: &str) -> bool {
    resolve_plain(s, Schema::V2) == Resolved::Str && !is_base60_float(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v3(s: &str) -> Resolved {
        resolve_plain(s, Schema::V3)
    }

    #[test]
    fn words() {
        assert_eq!(v3("on"), Resolved::Str);
        assert_eq!(resolve_plain("on", Schema::V2), Resolved::Bool(true));
        assert_eq!(resolve_plain("OFF", Schema::V2), Resolved::Bool(false));
        assert_eq!(resolve_plain("oN", Schema::V2), Resolved::Str);
        assert_eq!(v3("True"), Resolved::Bool(true));
        assert_eq!(v3("tRue"), Resolved::Str);
        assert_eq!(v3("~"), Resolved::Null);
        assert_eq!(v3(""), Resolved::Null);
        assert_eq!(v3("<<"), Resolved::Str); // '<' is not a hint character
    }

    #[test]
    fn ints() {
        assert_eq!(v3("0755"), Resolved::Int(493));
        assert_eq!(v3("0o17"), Resolved::Int(15));
        assert_eq!(v3("0x1F"), Resolved::Int(31));
        assert_eq!(v3("-0x1F"), Resolved::Int(-31));
        assert_eq!(v3("0b101"), Resolved::Int(5));
        assert_eq!(v3("1_000"), Resolved::Int(1000));
        assert_eq!(v3("0x_1F"), Resolved::Int(31));
        assert_eq!(v3("+12"), Resolved::Int(12));
        assert_eq!(v3("-0"), Resolved::Int(0));
        assert_eq!(
            v3("12345678901234567890"),
            Resolved::Uint(12345678901234567890)
        );
        assert_eq!(v3("-9223372036854775808"), Resolved::Int(i64::MIN));
        assert_eq!(v3("08"), Resolved::Float(8.0));
        assert_eq!(v3("0x"), Resolved::Str);
        assert_eq!(v3("0o8"), Resolved::Str);
        assert_eq!(v3("0xFFFFFFFFFFFFFFFFFFFF"), Resolved::Str);
        assert_eq!(v3("1e3"), Resolved::Float(1000.0));
        assert_eq!(v3("1e400"), Resolved::Str);
        assert_eq!(v3("1e-400"), Resolved::Float(0.0));
        assert_eq!(v3(".5"), Resolved::Float(0.5));
        assert_eq!(v3("-.5e3"), Resolved::Float(-500.0));
        assert_eq!(v3("1."), Resolved::Float(1.0));
        assert_eq!(v3("1.2.3"), Resolved::Str);
        assert_eq!(v3("+"), Resolved::Str);
        assert_eq!(v3("-"), Resolved::Str);
        assert_eq!(v3("._5"), Resolved::Str);
        assert_eq!(v3("1_2.5"), Resolved::Float(12.5));
    }

    #[test]
    fn base60() {
        assert!(is_base60_float("10:30"));
        assert!(is_base60_float("1:2:3.5"));
        assert!(is_base60_float("-1_0:59"));
        assert!(!is_base60_float("8080:80"));
        assert!(!is_base60_float("10:"));
        assert!(!is_base60_float("a:1"));
        assert!(!v2_plain_is_string("10:30"));
        assert!(v2_plain_is_string("8080:80"));
    }

    #[test]
    fn yaml_float_regex() {
        for ok in ["1", "-1.", "+.5", "1e5", "1.5E-3", "0.0"] {
            assert!(is_yaml_style_float(ok.as_bytes()), "{ok}");
        }
        for bad in ["", ".", "e5", "1e", "1.5e+", "--1", "1x"] {
            assert!(!is_yaml_style_float(bad.as_bytes()), "{bad}");
        }
    }
}
