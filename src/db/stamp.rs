//! Timestamps read without chrono's format strings.
//!
//! SQLite keeps timestamps as text (`2026-11-28 12:34:56.123456`, diesel's own
//! form). Diesel reads them back by trying a list of `strftime` patterns in turn,
//! each parsed afresh on every value: on the My Apps page that was 5 % of the CPU
//! (two timestamps per card). [`Stamp`] reads the usual form directly and leaves
//! anything else to diesel. On PostgreSQL timestamps are binary and it only
//! delegates. Use it with `#[diesel(deserialize_as = Stamp)]` on a
//! `NaiveDateTime` field, or as the Rust type of a `Timestamp` column.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::Timestamp;
use diesel::sqlite::Sqlite;

use super::MultiBackend;

/// A `NaiveDateTime` read from a `Timestamp` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, diesel::FromSqlRow)]
pub struct Stamp(pub NaiveDateTime);

impl From<Stamp> for NaiveDateTime {
    fn from(s: Stamp) -> NaiveDateTime {
        s.0
    }
}

/// `YYYY-MM-DD HH:MM:SS` (or `T` between date and time) with an optional
/// fraction of 1 to 9 digits; `None` for any other text.
pub fn parse_text(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b' ' | b'T') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?;
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            num(20, b.len())? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let time = NaiveTime::from_hms_nano_opt(num(11, 13)?, num(14, 16)?, num(17, 19)?, nanos)?;
    Some(date.and_time(time))
}

impl FromSql<Timestamp, Sqlite> for Stamp {
    fn from_sql(
        mut value: <Sqlite as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        if let Some(t) = parse_text(value.read_text()) {
            return Ok(Stamp(t));
        }
        // Other text forms, or Julian days: diesel's own reading.
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, Pg> for Stamp {
    fn from_sql(
        value: <Pg as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, MultiBackend> for Stamp {
    fn from_sql(
        value: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        value.from_sql::<Stamp, Timestamp>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    #[test]
    fn reads_what_diesel_writes() {
        for s in [
            "2026-11-28 12:34:56",
            "2026-11-28 12:34:56.1",
            "2026-11-28 12:34:56.123456",
            "2026-11-28 12:34:56.123456789",
            "1999-02-28 00:00:00.000001",
        ] {
            assert_eq!(parse_text(s), Some(chrono(s)), "{s}");
        }
        assert_eq!(
            parse_text("2026-11-28T01:02:03.5"),
            Some(chrono("2026-11-28 01:02:03.5"))
        );
        let written = chrono("2026-01-02 03:04:05.678901");
        assert_eq!(
            parse_text(&written.format("%F %T%.f").to_string()),
            Some(written)
        );
    }

    #[test]
    fn leaves_anything_else_to_diesel() {
        for s in [
            "",
            "2026-11-28",
            "2026-13-01 00:00:00",
            "2026-02-30 00:00:00",
            "2026-11-28 24:00:00",
            "2026-11-28 12:34:56.",
            "2026-11-28 12:34:56.1234567890",
            "2026-11-28 12:34:56Z",
            "2026-11-28 1a:34:56",
            "+2026-11-28 12:34:5",
            "2461007.5",
        ] {
            assert_eq!(parse_text(s), None, "{s}");
        }
    }
}
