//! Numbers through the Go chain kustomize uses for output:
//! `encoding/json` writes a float64 (`'f'` format, or `'e'` outside `[1e-6, 1e21)`), then
//! go-yaml v2 re-reads that text (an integer literal becomes an int if it fits in
//! int64/uint64, anything else a float64) and writes floats with
//! `strconv.FormatFloat(f, 'g', -1, 64)`.

use serde_json::Number;

/// Append the text kustomize prints for `n`.
pub(crate) fn write_number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        push_display(out, i);
    } else if let Some(u) = n.as_u64() {
        push_display(out, u);
    } else if let Some(f) = n.as_f64() {
        write_float(out, f);
    } else {
        // Arbitrary-precision numbers are not enabled; keep the text as a fallback.
        out.push_str(&n.to_string());
    }
}

fn push_display<T: std::fmt::Display>(out: &mut String, v: T) {
    use std::fmt::Write as _;
    let _ = write!(out, "{v}");
}

/// A float64 through encoding/json then go-yaml v2.
pub(crate) fn write_float(out: &mut String, f: f64) {
    if !f.is_finite() {
        // Not representable in JSON; serde_json never holds these.
        out.push_str(if f.is_nan() {
            ".nan"
        } else if f > 0.0 {
            ".inf"
        } else {
            "-.inf"
        });
        return;
    }
    // encoding/json uses 'f' (no exponent) for integral values below 1e21; that text is an
    // integer literal for go-yaml v2, which keeps it as an int when it fits.
    if f.fract() == 0.0 && f.abs() < 1e21 {
        // Rust's Display is the shortest round-trip digits padded with zeros, like Go's
        // FormatFloat(f, 'f', -1, 64).
        let text = format!("{f}");
        if let Ok(i) = text.parse::<i64>() {
            push_display(out, i); // also turns "-0" into "0"
            return;
        }
        if let Ok(u) = text.parse::<u64>() {
            push_display(out, u);
            return;
        }
    }
    format_g(out, f);
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` for finite `f`.
pub(crate) fn format_g(out: &mut String, f: f64) {
    // Rust's `{:e}` gives the shortest round-trip digits: "-1.2345e-7", "1e21".
    let e = format!("{f:e}");
    let (mant, exp) = match e.split_once('e') {
        Some(p) => p,
        None => (e.as_str(), "0"),
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    if neg {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        // %e: d[.ddd]e±XX (at least two exponent digits).
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        push_display(out, a);
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = usize::try_from(exp).unwrap_or(0) + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> String {
        let mut s = String::new();
        write_float(&mut s, x);
        s
    }

    #[test]
    fn chain() {
        assert_eq!(f(1000.0), "1000");
        assert_eq!(f(1e21), "1e+21");
        assert_eq!(f(1e20), "1e+20");
        assert_eq!(f(0.000001), "1e-06");
        assert_eq!(f(0.0000001), "1e-07");
        assert_eq!(f(1500000.5), "1.5000005e+06");
        assert_eq!(f(123456.5), "123456.5");
        assert_eq!(f(0.5), "0.5");
        assert_eq!(f(0.0001), "0.0001");
        assert_eq!(f(0.00001), "1e-05");
        assert_eq!(f(-0.0), "0");
        assert_eq!(f(-2.5), "-2.5");
        assert_eq!(f(1.2345678901234568e29), "1.2345678901234568e+29");
        assert_eq!(f(1152921504606846976.0), "1152921504606847000");
        assert_eq!(f(18446744073709551615.0), "1.8446744073709552e+19");
        assert_eq!(f(-9223372036854775808.0), "-9.223372036854776e+18");
        assert_eq!(f(-4611686018427387904.0), "-4611686018427388000");
        assert_eq!(f(3.0e-300), "3e-300");
        assert_eq!(f(12345.678), "12345.678");
    }
}
