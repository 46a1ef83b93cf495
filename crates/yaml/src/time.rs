//! YAML timestamps the way go-yaml resolves them: Go's `time.Parse` with the layouts
//! `2006-1-2T15:4:5.999999999Z07:00` (also with a lower-case `t`),
//! `2006-1-2 15:4:5.999999999` and `2006-1-2`, and output as Go's `time.RFC3339Nano`
//! (which is how `encoding/json` writes a `time.Time`).

use std::fmt::Write as _;

/// A parsed timestamp in its own zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timestamp {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// Offset east of UTC in seconds.
    offset: i32,
}

/// Go's `getnum(s, false)`: one or two digits.
fn getnum(s: &[u8], i: &mut usize) -> Option<u32> {
    let d0 = *s.get(*i).filter(|c| c.is_ascii_digit())?;
    *i += 1;
    let mut v = u32::from(d0 - b'0');
    if let Some(&d1) = s.get(*i).filter(|c| c.is_ascii_digit()) {
        *i += 1;
        v = v * 10 + u32::from(d1 - b'0');
    }
    Some(v)
}

/// Two fixed digits.
fn getnum2(s: &[u8]) -> Option<u32> {
    if s.len() == 2 && s[0].is_ascii_digit() && s[1].is_ascii_digit() {
        Some(u32::from(s[0] - b'0') * 10 + u32::from(s[1] - b'0'))
    } else {
        None
    }
}

fn expect(s: &[u8], i: &mut usize, c: u8) -> Option<()> {
    if s.get(*i) == Some(&c) {
        *i += 1;
        Some(())
    } else {
        None
    }
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// `2006-1-2T15:4:5.999999999Z07:00` with the given separator.
    Zoned(u8),
    /// `2006-1-2 15:4:5.999999999`.
    Spaced,
    /// `2006-1-2`.
    Date,
}

/// go-yaml's `parseTimestamp`.
pub(crate) fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    // Quick check: exactly four digits, then '-'.
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    [
        Layout::Zoned(b'T'),
        Layout::Zoned(b't'),
        Layout::Spaced,
        Layout::Date,
    ]
    .into_iter()
    .find_map(|l| parse_layout(b, l))
}

fn parse_layout(b: &[u8], layout: Layout) -> Option<Timestamp> {
    let year = b[..4]
        .iter()
        .fold(0u32, |a, &c| a * 10 + u32::from(c - b'0'));
    let mut i = 5;
    let month = getnum(b, &mut i)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    expect(b, &mut i, b'-')?;
    let day = getnum(b, &mut i)?;
    let mut t = Timestamp {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        offset: 0,
    };
    match layout {
        Layout::Date => {}
        Layout::Zoned(sep) => {
            expect(b, &mut i, sep)?;
            parse_clock(b, &mut i, &mut t)?;
            t.offset = parse_zone(b, &mut i)?;
        }
        Layout::Spaced => {
            // A space in a Go layout matches any run of spaces (at least one unless the
            // input ends there).
            if i < b.len() && b[i] != b' ' {
                return None;
            }
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
            parse_clock(b, &mut i, &mut t)?;
        }
    }
    if i != b.len() || day < 1 || day > days_in(month, year) {
        return None;
    }
    Some(t)
}

fn parse_clock(b: &[u8], i: &mut usize, t: &mut Timestamp) -> Option<()> {
    t.hour = getnum(b, i)?;
    if t.hour >= 24 {
        return None;
    }
    expect(b, i, b':')?;
    t.minute = getnum(b, i)?;
    if t.minute >= 60 {
        return None;
    }
    expect(b, i, b':')?;
    t.second = getnum(b, i)?;
    if t.second >= 60 {
        return None;
    }
    // Optional fraction: '.' or ',' followed by at least one digit; any number of digits
    // is consumed, the first nine count.
    if *i + 1 < b.len() && (b[*i] == b'.' || b[*i] == b',') && b[*i + 1].is_ascii_digit() {
        *i += 1;
        let mut n = 0u32;
        let mut count = 0;
        while *i < b.len() && b[*i].is_ascii_digit() {
            if count < 9 {
                n = n * 10 + u32::from(b[*i] - b'0');
                count += 1;
            }
            *i += 1;
        }
        for _ in count..9 {
            n *= 10;
        }
        t.nanos = n;
    }
    Some(())
}

fn parse_zone(b: &[u8], i: &mut usize) -> Option<i32> {
    let rest = &b[*i..];
    if rest.first() == Some(&b'Z') {
        *i += 1;
        return Some(0);
    }
    if rest.len() < 6 || rest[3] != b':' {
        return None;
    }
    let hr = getnum2(&rest[1..3])?;
    let mm = getnum2(&rest[4..6])?;
    if hr > 24 || mm > 60 {
        return None;
    }
    let off = i32::try_from((hr * 60 + mm) * 60).ok()?;
    *i += 6;
    match rest[0] {
        b'+' => Some(off),
        b'-' => Some(-off),
        _ => None,
    }
}

impl Timestamp {
    /// Go's `time.RFC3339Nano` formatting.
    pub(crate) fn to_rfc3339_nano(self) -> String {
        let mut s = String::with_capacity(35);
        let _ = write!(
            s,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        if self.nanos != 0 {
            let mut frac = format!("{:09}", self.nanos);
            while frac.ends_with('0') {
                frac.pop();
            }
            s.push('.');
            s.push_str(&frac);
        }
        let zone = self.offset / 60;
        if zone == 0 {
            s.push('Z');
        } else {
            let sign = if zone < 0 { '-' } else { '+' };
            let z = zone.unsigned_abs();
            let _ = write!(s, "{sign}{:02}:{:02}", z / 60, z % 60);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(s: &str) -> Option<String> {
        parse_timestamp(s).map(Timestamp::to_rfc3339_nano)
    }

    #[test]
    fn layouts() {
        assert_eq!(fmt("2024-01-01").as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!(
            fmt("2024-1-1 1:2:3").as_deref(),
            Some("2024-01-01T01:02:03Z")
        );
        assert_eq!(
            fmt("2024-01-01   10:00:00").as_deref(),
            Some("2024-01-01T10:00:00Z")
        );
        assert_eq!(
            fmt("2024-01-01T10:00:00.500+01:00").as_deref(),
            Some("2024-01-01T10:00:00.5+01:00")
        );
        assert_eq!(
            fmt("2024-01-01T10:00:00.1234567891Z").as_deref(),
            Some("2024-01-01T10:00:00.123456789Z")
        );
        assert_eq!(
            fmt("2024-01-01t10:00:00,5-00:00").as_deref(),
            Some("2024-01-01T10:00:00.5Z")
        );
        assert_eq!(fmt("2024-02-29").as_deref(), Some("2024-02-29T00:00:00Z"));
    }

    #[test]
    fn rejects() {
        for s in [
            "2024-02-30",
            "2023-02-29",
            "2024-13-01",
            "2024-00-01",
            "2024-01-00",
            "2024-001-01",
            "24-01-01",
            "2024-01-01T",
            "2024-01-01T24:00:00Z",
            "2024-01-01T10:00:00",
            "2024-01-01T10:00:00+0100",
            "2024-01-01 10:00:00Z",
            "2024-01-01x",
            "20240-01-01",
        ] {
            assert_eq!(parse_timestamp(s), None, "{s}");
        }
    }
}
