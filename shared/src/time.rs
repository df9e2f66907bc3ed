//! Timestamps. Every stored timestamp is ISO-8601 UTC with milliseconds
//! (`2026-01-29T11:05:00.000Z`): fixed width, so string order is time order, which is what lets
//! DynamoDB condition expressions and index sort keys compare them directly.
use chrono::{DateTime, Datelike, SecondsFormat, Utc};

pub type Instant = DateTime<Utc>;

pub fn now() -> Instant {
    Utc::now()
}

/// The one wire and storage format.
pub fn format(at: Instant) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses any RFC 3339 timestamp; `None` if it is not one or falls outside years 1000..=9999
/// (outside them the fixed-width format, and so string ordering, would break).
pub fn parse(text: &str) -> Option<Instant> {
    let at = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
    (1000..=9999).contains(&at.year()).then_some(at)
}

pub fn plus_seconds(at: Instant, seconds: u64) -> Instant {
    at + chrono::Duration::seconds(seconds as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_milliseconds_and_z() {
        let at = parse("2026-01-29T12:05:00+01:00").unwrap();
        assert_eq!(format(at), "2026-01-29T11:05:00.000Z");
    }

    #[test]
    fn string_order_is_time_order() {
        let a = format(parse("2026-01-29T11:05:00.999Z").unwrap());
        let b = format(parse("2026-01-29T11:05:01Z").unwrap());
        assert!(a < b);
    }

    #[test]
    fn rejects_garbage_and_five_digit_years() {
        assert!(parse("tomorrow").is_none());
        assert!(parse("2026-13-01T00:00:00Z").is_none());
        assert!(parse("+10000-01-01T00:00:00Z").is_none());
    }
}
