//! Timestamps as metav1.Time prints them and kubectl-style ages: thin names over
//! `flotilla_apimachinery::time`, which owns the calendar arithmetic.
use flotilla_apimachinery::time::{human_duration, now_secs};

pub use flotilla_apimachinery::time::{
    format_rfc3339 as format_unix, now_rfc3339 as now, parse_rfc3339 as parse,
};

/// kubectl's short human duration of the time since `ts` (`<unknown>` if unparsable).
pub fn age(ts: &str) -> String {
    match parse(ts) {
        Some(t) => human_duration((now_secs() - t).max(0)),
        None => "<unknown>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_parse_round_trip() {
        assert_eq!(format_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_unix(1_709_251_199), "2024-02-29T23:59:59Z");
        for t in [0, 951_782_400, 1_709_251_199, 4_102_444_800] {
            assert_eq!(parse(&format_unix(t)), Some(t));
        }
        assert_eq!(
            parse("2024-02-29T23:59:59.123+01:00"),
            Some(1_709_251_199 - 3600)
        );
        assert_eq!(parse("garbage"), None);
        assert_eq!(age("garbage"), "<unknown>");
    }

    #[test]
    fn human_durations_match_kubectl() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(3600), "60m");
        assert_eq!(human_duration(4 * 3600 + 60), "4h1m");
        assert_eq!(human_duration(3 * 86400), "3d");
    }
}
