//! Time. Every timestamp the service stores or sends is a [`Timestamp`]: ISO-8601 UTC with
//! milliseconds (`2026-01-29T11:05:00.000Z`). The format is fixed width, so string order is time
//! order, which is what lets DynamoDB condition expressions and index sort keys compare them
//! directly. A `Timestamp` is made only here: from the clock, by parsing, or by adding seconds.
use std::fmt;

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant in the one wire and storage format. Ordered as time is (and as its text is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn now() -> Self {
        // Truncated to the millisecond, so a Timestamp equals its own text read back.
        Timestamp::from_datetime(Utc::now())
    }

    /// Parses any RFC 3339 timestamp; `None` if it is not one or falls outside years 1000..=9999
    /// (outside them the fixed-width format, and so string ordering, would break).
    pub fn parse(text: &str) -> Option<Self> {
        let at = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
        (1000..=9999).contains(&at.year()).then(|| Timestamp::from_datetime(at))
    }

    fn from_datetime(at: DateTime<Utc>) -> Self {
        let millis = at.timestamp_millis();
        Timestamp(DateTime::from_timestamp_millis(millis).unwrap_or(at))
    }

    /// This instant moved by `seconds` (negative: earlier).
    pub fn plus_seconds(self, seconds: i64) -> Self {
        Timestamp(self.0 + chrono::Duration::seconds(seconds))
    }

    /// Seconds since the Unix epoch (JWT `iat`/`exp`).
    pub fn unix_seconds(self) -> i64 {
        self.0.timestamp()
    }

    /// The wire and storage text.
    pub fn text(self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not an ISO-8601 timestamp: {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn formats_with_milliseconds_and_z() {
        assert_eq!(at("2026-01-29T12:05:00+01:00").text(), "2026-01-29T11:05:00.000Z");
    }

    #[test]
    fn string_order_is_time_order() {
        let (a, b) = (at("2026-01-29T11:05:00.999Z"), at("2026-01-29T11:05:01Z"));
        assert!(a < b);
        assert!(a.text() < b.text());
    }

    #[test]
    fn rejects_garbage_and_five_digit_years() {
        assert!(Timestamp::parse("tomorrow").is_none());
        assert!(Timestamp::parse("2026-13-01T00:00:00Z").is_none());
        assert!(Timestamp::parse("+10000-01-01T00:00:00Z").is_none());
    }

    #[test]
    fn the_clock_reads_back_equal_and_seconds_add() {
        let now = Timestamp::now();
        assert_eq!(Timestamp::parse(&now.text()), Some(now));
        assert_eq!(at("2026-01-29T11:05:00Z").plus_seconds(300), at("2026-01-29T11:10:00Z"));
        assert_eq!(at("2026-01-29T11:05:00Z").plus_seconds(-60).text(), "2026-01-29T11:04:00.000Z");
        let json = serde_json::to_string(&now).unwrap();
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), now);
        assert!(serde_json::from_str::<Timestamp>("\"soon\"").is_err());
    }
}
