//! go-yaml v2's map-key order (`keyList.Less` in sorter.go) for string keys: runes are
//! compared one by one; letters sort after non-letters; runs of digits compare by numeric
//! value ("natural" order).

use std::cmp::Ordering;

/// go-yaml v2's map-key ordering for string keys.
pub fn go_yaml_v2_key_cmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let less = if a.is_ascii() && b.is_ascii() {
        less_by(a.as_bytes(), b.as_bytes(), |c| char::from(*c))
    } else {
        let ar: Vec<char> = a.chars().collect();
        let br: Vec<char> = b.chars().collect();
        less_by(&ar, &br, |c| *c)
    };
    if less {
        Ordering::Less
    } else if less_by_swapped(a, b) {
        Ordering::Greater
    } else {
        // Distinct strings the Go comparator considers equivalent: fall back to byte order
        // so that the result is deterministic.
        a.cmp(b)
    }
}

fn less_by_swapped(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        less_by(b.as_bytes(), a.as_bytes(), |c| char::from(*c))
    } else {
        let ar: Vec<char> = a.chars().collect();
        let br: Vec<char> = b.chars().collect();
        less_by(&br, &ar, |c| *c)
    }
}

/// Go's `unicode.IsLetter` (approximated by Rust's alphabetic property outside ASCII).
fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        c.is_alphabetic()
    }
}

/// Go's `unicode.IsDigit` (approximated by Rust's numeric property outside ASCII).
fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        c.is_numeric()
    }
}

fn digit_val(c: char) -> i64 {
    i64::from(u32::from(c)) - i64::from(b'0')
}

fn less_by<T>(ar: &[T], br: &[T], ch: impl Fn(&T) -> char) -> bool {
    let n = ar.len().min(br.len());
    for i in 0..n {
        let (ca, cb) = (ch(&ar[i]), ch(&br[i]));
        if ca == cb {
            continue;
        }
        let al = is_letter(ca);
        let bl = is_letter(cb);
        if al && bl {
            return ca < cb;
        }
        if al || bl {
            return bl;
        }
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ca == '0' || cb == '0' {
            let mut j = i;
            while j > 0 && is_digit(ch(&ar[j - 1])) {
                j -= 1;
                if ch(&ar[j]) != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && is_digit(ch(&ar[ai])) {
            an = an.wrapping_mul(10).wrapping_add(digit_val(ch(&ar[ai])));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && is_digit(ch(&br[bi])) {
            bn = bn.wrapping_mul(10).wrapping_add(digit_val(ch(&br[bi])));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return ca < cb;
    }
    ar.len() < br.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(keys: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = keys.iter().map(|s| s.to_string()).collect();
        v.sort_by(|a, b| go_yaml_v2_key_cmp(a, b));
        v
    }

    #[test]
    fn natural_order() {
        assert_eq!(
            sorted(&["b", "a10", "a2", "A", "_x", "1", "10", "9", "a"]),
            vec!["_x", "1", "9", "10", "A", "a", "a2", "a10", "b"]
        );
        assert_eq!(sorted(&["a01", "a1"]), vec!["a1", "a01"]);
        assert_eq!(
            sorted(&["metadata", "apiVersion", "kind", "spec", "data"]),
            vec!["apiVersion", "data", "kind", "metadata", "spec"]
        );
        // Letters after non-letters even when the non-letter has a higher code point.
        assert_eq!(sorted(&["a", "~"]), vec!["~", "a"]);
        assert_eq!(sorted(&["ab", "a"]), vec!["a", "ab"]);
        assert_eq!(sorted(&["x-1", "x.1", "x_1"]), vec!["x-1", "x.1", "x_1"]);
    }
}
