//! Go durations (`time.ParseDuration` / `Duration.String`), the wire form of
//! `metav1.Duration` fields such as Flux's `interval` and `timeout`.
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

const NS: u128 = 1;
const US: u128 = 1_000;
const MS: u128 = 1_000_000;
const S: u128 = 1_000_000_000;
const M: u128 = 60 * S;
const H: u128 = 60 * M;

/// A non-negative duration written as a Go duration string (`1m30s`, `10m`, `1h`, `500ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct GoDuration(pub Duration);

impl GoDuration {
    /// Parses a Go duration, as `time.ParseDuration` does: an optional sign, then one or
    /// more decimal numbers (with optional fraction) each followed by a unit
    /// (`ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`, `h`); `0` alone needs no unit. Negative
    /// durations are refused (nothing in the APIs we serve means them).
    pub fn parse(input: &str) -> Result<GoDuration, Error> {
        let err = |reason| Error::Duration {
            input: input.to_string(),
            reason,
        };
        let mut s = input;
        let negative = if let Some(rest) = s.strip_prefix('-') {
            s = rest;
            true
        } else {
            if let Some(rest) = s.strip_prefix('+') {
                s = rest;
            }
            false
        };
        if s == "0" {
            return Ok(GoDuration(Duration::ZERO));
        }
        if s.is_empty() {
            return Err(err("empty"));
        }
        let mut total: u128 = 0;
        while !s.is_empty() {
            let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
            let (int_digits, rest) = s.split_at(int_len);
            let (frac_digits, rest) = match rest.strip_prefix('.') {
                Some(after) => {
                    let n = after.bytes().take_while(u8::is_ascii_digit).count();
                    after.split_at(n)
                }
                None => ("", rest),
            };
            if int_digits.is_empty() && frac_digits.is_empty() {
                return Err(err("expected a number"));
            }
            let unit_len = rest
                .char_indices()
                .find(|(_, c)| *c == '.' || c.is_ascii_digit())
                .map_or(rest.len(), |(i, _)| i);
            let (unit, rest) = rest.split_at(unit_len);
            let unit = match unit {
                "ns" => NS,
                "us" | "\u{b5}s" | "\u{3bc}s" => US,
                "ms" => MS,
                "s" => S,
                "m" => M,
                "h" => H,
                "" => return Err(err("missing unit")),
                _ => return Err(err("unknown unit")),
            };
            let int: u128 = if int_digits.is_empty() {
                0
            } else {
                int_digits.parse().map_err(|_| err("number too large"))?
            };
            let mut part = int.checked_mul(unit).ok_or_else(|| err("overflow"))?;
            if !frac_digits.is_empty() {
                // Digits past nanosecond precision of the unit cannot change the result.
                let digits = &frac_digits[..frac_digits.len().min(30)];
                let frac: u128 = digits.parse().map_err(|_| err("number too large"))?;
                let scale = 10u128.pow(digits.len() as u32);
                part += frac * unit / scale;
            }
            total = total.checked_add(part).ok_or_else(|| err("overflow"))?;
            if total > i64::MAX as u128 {
                return Err(err("overflow"));
            }
            s = rest;
        }
        if negative && total > 0 {
            return Err(err("negative"));
        }
        let secs = (total / S) as u64;
        let nanos = (total % S) as u32;
        Ok(GoDuration(Duration::new(secs, nanos)))
    }

    /// The duration.
    pub fn duration(self) -> Duration {
        self.0
    }

    /// A duration of whole seconds.
    pub fn from_secs(secs: u64) -> GoDuration {
        GoDuration(Duration::from_secs(secs))
    }
}

impl From<Duration> for GoDuration {
    fn from(d: Duration) -> Self {
        GoDuration(d)
    }
}

impl std::str::FromStr for GoDuration {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        GoDuration::parse(s)
    }
}

/// Formats as Go's `Duration.String`: `0s`, `1.5s`, `1m30s`, `1h0m0s`, `500ms`, `2µs`.
impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.0.as_nanos();
        if total == 0 {
            return f.write_str("0s");
        }
        if total < S {
            let (unit, name) = if total < US {
                (NS, "ns")
            } else if total < MS {
                (US, "\u{b5}s")
            } else {
                (MS, "ms")
            };
            return write!(f, "{}{name}", decimal(total, unit));
        }
        let hours = total / H;
        let minutes = (total % H) / M;
        let secs = decimal(total % M, S);
        if hours > 0 {
            write!(f, "{hours}h{minutes}m{secs}s")
        } else if minutes > 0 {
            write!(f, "{minutes}m{secs}s")
        } else {
            write!(f, "{secs}s")
        }
    }
}

/// `value / unit` as a decimal without trailing zeros (`1500, 1000` → `1.5`).
fn decimal(value: u128, unit: u128) -> String {
    let int = value / unit;
    let frac = value % unit;
    if frac == 0 {
        return int.to_string();
    }
    let width = unit.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{int}.{}", digits.trim_end_matches('0'))
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        GoDuration::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Duration {
        match GoDuration::parse(s) {
            Ok(d) => d.0,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn parses_go_durations() {
        assert_eq!(p("1m30s"), Duration::from_secs(90));
        assert_eq!(p("10m"), Duration::from_secs(600));
        assert_eq!(p("1h"), Duration::from_secs(3600));
        assert_eq!(p("60s"), Duration::from_secs(60));
        assert_eq!(p("0"), Duration::ZERO);
        assert_eq!(p("+5s"), Duration::from_secs(5));
        assert_eq!(p("-0"), Duration::ZERO);
        assert_eq!(p("1.5h"), Duration::from_secs(5400));
        assert_eq!(p(".5s"), Duration::from_millis(500));
        assert_eq!(p("1.s"), Duration::from_secs(1));
        assert_eq!(p("300ms"), Duration::from_millis(300));
        assert_eq!(
            p("2h45m0.5s"),
            Duration::from_millis((2 * 3600 + 45 * 60) * 1000 + 500)
        );
        assert_eq!(p("1us"), Duration::from_micros(1));
        assert_eq!(p("1µs"), Duration::from_micros(1));
        assert_eq!(p("1μs"), Duration::from_micros(1));
        assert_eq!(p("7ns"), Duration::from_nanos(7));
        assert_eq!(p("1h1h"), Duration::from_secs(7200));
        assert_eq!(p("0.000000001s"), Duration::from_nanos(1));
    }

    #[test]
    fn refuses_what_go_refuses() {
        for bad in [
            "",
            "s",
            "1",
            "10",
            "1x",
            "1d",
            ".s",
            "1.5",
            "-1s",
            "1m 30s",
            " 1m",
            "1m30",
            "--1s",
            "1e3s",
            "9223372037s",
        ] {
            assert!(GoDuration::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn formats_like_go() {
        let f = |d: Duration| GoDuration(d).to_string();
        assert_eq!(f(Duration::ZERO), "0s");
        assert_eq!(f(Duration::from_secs(90)), "1m30s");
        assert_eq!(f(Duration::from_secs(600)), "10m0s");
        assert_eq!(f(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(f(Duration::from_millis(1500)), "1.5s");
        assert_eq!(f(Duration::from_millis(500)), "500ms");
        assert_eq!(f(Duration::from_micros(2)), "2µs");
        assert_eq!(f(Duration::from_nanos(1_500)), "1.5µs");
        assert_eq!(f(Duration::from_nanos(9)), "9ns");
        assert_eq!(f(Duration::new(3 * 3600 + 5, 250_000_000)), "3h0m5.25s");
    }

    #[test]
    fn round_trips_through_serde() {
        let d: GoDuration = match serde_json::from_str("\"1m30s\"") {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(d.0, Duration::from_secs(90));
        assert_eq!(serde_json::to_string(&d).ok().as_deref(), Some("\"1m30s\""));
        assert!(serde_json::from_str::<GoDuration>("\"soon\"").is_err());
        assert!(serde_json::from_str::<GoDuration>("90").is_err());
    }
}
