//! Calendar days, and the FHIR `date`, `dateTime` and `instant` forms they are read from.
//!
//! A small parser of its own instead of chrono: the crate is compiled into a WebAssembly
//! component with a tight size budget, and it needs only days and an ordering.
//!
//! **Which day a `dateTime` is on.** A `dateTime` or `instant` with a time and an offset
//! (`2021-03-18T22:10:00-05:00`) is on the calendar day written in it, the local day where it
//! was recorded, not on its UTC day (here the 19th). The assessment date a caller gives is a
//! local calendar day too, and the UTC day would move every evening measurement in the Americas
//! to the next day: a blood pressure taken this evening would read as dated tomorrow, so "in
//! the future", and be refused. Ordering two values is another matter: that uses the instant
//! itself (offset applied, see [`Stamp`]), so that "newest" is right across time zones.

use std::fmt;

/// A calendar day (proleptic Gregorian), held as days since 1970-01-01.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

/// How much of a FHIR date is given: `2021`, `2021-03` or `2021-03-18` (and any time after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Year,
    Month,
    Day,
}

impl Date {
    /// The day `year`-`month`-`day`, if it exists (years 1 to 9999, as FHIR allows).
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date(days_from_civil(year, month, day)))
    }

    /// A FHIR `date` of full precision (`YYYY-MM-DD`), or a `dateTime` or `instant` with a time
    /// (the calendar day written in it; see the module's documentation). A partial date
    /// (`YYYY`, `YYYY-MM`) gives None: its first day would be a guess, and a guessed birth date
    /// gives a wrong age. [`Date::parse_with_precision`] reads partial dates too.
    pub fn parse(text: &str) -> Option<Date> {
        match Date::parse_with_precision(text)? {
            (date, Precision::Day) => Some(date),
            _ => None,
        }
    }

    /// Any FHIR `date`, `dateTime` or `instant`, with how much of it is given: a partial date
    /// gives its first day, with its precision for the caller to judge.
    pub fn parse_with_precision(text: &str) -> Option<(Date, Precision)> {
        Stamp::parse(text).map(|(stamp, precision)| (stamp.day, precision))
    }

    /// The UTC calendar day of a Unix time (seconds since 1970-01-01T00:00:00Z): today, from a
    /// clock. None outside the years FHIR allows.
    pub fn from_unix_seconds(seconds: i64) -> Option<Date> {
        let days = i32::try_from(seconds.div_euclid(86_400)).ok()?;
        let (year, month, day) = civil_from_days(days);
        Date::from_ymd(year, month, day)
    }

    /// Days from `other` to `self`: positive when `self` is later.
    pub fn days_since(&self, other: Date) -> i64 {
        i64::from(self.0) - i64::from(other.0)
    }

    /// The day's (year, month, day).
    pub fn ymd(&self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// Whole years from `self` (a birth date) to `on`: one less while this year's birthday is
    /// still to come. A 29 February birthday is reached on 1 March in common years. None when
    /// `on` is before `self`.
    pub fn whole_years_until(&self, on: Date) -> Option<u32> {
        if on < *self {
            return None;
        }
        let (birth_year, birth_month, birth_day) = self.ymd();
        let (year, month, day) = on.ymd();
        let birthday_reached = (month, day) >= (birth_month, birth_day);
        let years = year - birth_year - i32::from(!birthday_reached);
        u32::try_from(years).ok()
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.ymd();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

/// A point in time read from a FHIR date: its local calendar day, and an instant to order by.
///
/// The instant is milliseconds since 1970-01-01T00:00:00Z with the written offset applied. A
/// date without a time, or a time without an offset (FHIR requires one; read leniently), is
/// ordered as if at UTC: that can misorder two values only within the same day or two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub day: Date,
    pub instant_ms: i64,
}

impl Stamp {
    /// A FHIR `date`, `dateTime` or `instant`; a partial date gives its first day.
    pub fn parse(text: &str) -> Option<(Stamp, Precision)> {
        let bytes = text.as_bytes();
        let year = i32::try_from(digits(bytes, 0, 4)?).ok()?;
        let (month, day, precision) = match bytes.len() {
            4 => (1, 1, Precision::Year),
            7 if bytes[4] == b'-' => (digits(bytes, 5, 2)?, 1, Precision::Month),
            len if len >= 10 && bytes[4] == b'-' && bytes[7] == b'-' => {
                (digits(bytes, 5, 2)?, digits(bytes, 8, 2)?, Precision::Day)
            }
            _ => return None,
        };
        let date = Date::from_ymd(year, month, day)?;
        let midnight_ms = i64::from(date.0) * MS_PER_DAY;
        if bytes.len() == 4 || bytes.len() == 7 || bytes.len() == 10 {
            return Some((
                Stamp {
                    day: date,
                    instant_ms: midnight_ms,
                },
                precision,
            ));
        }
        let since_midnight_ms = time_of_day_ms(&bytes[10..])?;
        Some((
            Stamp {
                day: date,
                instant_ms: midnight_ms + since_midnight_ms,
            },
            Precision::Day,
        ))
    }
}

const MS_PER_DAY: i64 = 86_400_000;

/// `Thh:mm:ss[.fff...][Z|(+|-)hh:mm]` as milliseconds since local midnight, minus the offset.
fn time_of_day_ms(bytes: &[u8]) -> Option<i64> {
    if bytes.len() < 9 || bytes[0] != b'T' || bytes[3] != b':' || bytes[6] != b':' {
        return None;
    }
    let hours = digits(bytes, 1, 2)?;
    let minutes = digits(bytes, 4, 2)?;
    // 60: a leap second, which FHIR's pattern allows.
    let seconds = digits(bytes, 7, 2)?;
    if hours > 23 || minutes > 59 || seconds > 60 {
        return None;
    }
    let mut rest = &bytes[9..];
    let mut millis = 0;
    if let Some((b'.', fraction)) = rest.split_first() {
        let count = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if count == 0 {
            return None;
        }
        // Milliseconds: the first three digits, padded ("5" is 500 ms).
        let fraction_digits = &fraction[..count];
        for position in 0..3 {
            millis = millis * 10
                + fraction_digits
                    .get(position)
                    .map_or(0, |digit| i64::from(digit - b'0'));
        }
        rest = &fraction[count..];
    }
    let offset_minutes = match rest {
        [] | [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let offset_hours = digits(rest, 1, 2)?;
            let offset_mins = digits(rest, 4, 2)?;
            if offset_hours > 14 || offset_mins > 59 {
                return None;
            }
            let magnitude = i64::from(offset_hours * 60 + offset_mins);
            if *sign == b'-' {
                -magnitude
            } else {
                magnitude
            }
        }
        _ => return None,
    };
    let local_ms =
        (i64::from(hours) * 3600 + i64::from(minutes) * 60 + i64::from(seconds)) * 1000 + millis;
    Some(local_ms - offset_minutes * 60_000)
}

/// The `count` ASCII digits at `start`, as a number.
fn digits(bytes: &[u8], start: usize, count: usize) -> Option<u32> {
    let field = bytes.get(start..start + count)?;
    field.iter().try_fold(0u32, |number, &byte| {
        byte.is_ascii_digit()
            .then(|| number * 10 + u32::from(byte - b'0'))
    })
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a valid civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12; // March = 0
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year as i32;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date of a day count (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i32::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(year: i32, month: u32, day: u32) -> Date {
        Date::from_ymd(year, month, day).unwrap()
    }

    #[test]
    fn days_count_from_1970() {
        assert_eq!(day(1970, 1, 1).days_since(day(1970, 1, 1)), 0);
        assert_eq!(day(2000, 3, 1).days_since(day(2000, 2, 28)), 2);
        assert_eq!(day(1900, 3, 1).days_since(day(1900, 2, 28)), 1);
        assert_eq!(day(2021, 1, 1).days_since(day(2020, 1, 1)), 366);
        assert_eq!(day(1969, 12, 31).days_since(day(1970, 1, 1)), -1);
        assert_eq!(day(2024, 2, 29).days_since(day(1970, 1, 1)), 19_782);
    }

    #[test]
    fn every_day_round_trips_through_its_calendar_date() {
        let first = day(1, 1, 1).0;
        let last = day(9999, 12, 31).0;
        assert_eq!((first, last), (-719_162, 2_932_896));
        for days in first..=last {
            let (year, month, day_of_month) = civil_from_days(days);
            assert_eq!(
                Date::from_ymd(year, month, day_of_month),
                Some(Date(days)),
                "{days}"
            );
        }
        assert_eq!(civil_from_days(first - 1), (0, 12, 31));
        assert_eq!(civil_from_days(last + 1), (10_000, 1, 1));
    }

    #[test]
    fn impossible_days_are_refused() {
        assert_eq!(Date::from_ymd(2023, 2, 29), None);
        assert_eq!(Date::from_ymd(1900, 2, 29), None);
        assert!(Date::from_ymd(2000, 2, 29).is_some());
        assert_eq!(Date::from_ymd(2021, 4, 31), None);
        assert_eq!(Date::from_ymd(2021, 13, 1), None);
        assert_eq!(Date::from_ymd(2021, 0, 1), None);
        assert_eq!(Date::from_ymd(0, 1, 1), None);
    }

    #[test]
    fn full_dates_date_times_and_instants_parse_to_their_written_day() {
        assert_eq!(Date::parse("2021-03-18"), Some(day(2021, 3, 18)));
        assert_eq!(
            Date::parse("2021-03-18T10:09:19+00:00"),
            Some(day(2021, 3, 18))
        );
        assert_eq!(
            Date::parse("2021-03-18T22:10:00-05:00"),
            Some(day(2021, 3, 18))
        );
        assert_eq!(
            Date::parse("2021-03-18T00:30:00+14:00"),
            Some(day(2021, 3, 18))
        );
        assert_eq!(
            Date::parse("2021-03-18T10:09:19.604Z"),
            Some(day(2021, 3, 18))
        );
        assert_eq!(Date::parse("2021-03-18T10:09:19"), Some(day(2021, 3, 18)));
    }

    #[test]
    fn partial_dates_parse_only_with_their_precision() {
        assert_eq!(Date::parse("1980"), None);
        assert_eq!(Date::parse("1980-07"), None);
        assert_eq!(
            Date::parse_with_precision("1980"),
            Some((day(1980, 1, 1), Precision::Year))
        );
        assert_eq!(
            Date::parse_with_precision("1980-07"),
            Some((day(1980, 7, 1), Precision::Month))
        );
        assert_eq!(
            Date::parse_with_precision("1980-07-23"),
            Some((day(1980, 7, 23), Precision::Day))
        );
    }

    #[test]
    fn malformed_dates_are_refused() {
        for text in [
            "",
            "80",
            "19800",
            "1980-7-23",
            "1980/07/23",
            "1980-07-32",
            "1980-02-30",
            "2021-03-18T",
            "2021-03-18T10:09",
            "2021-03-18T24:00:00Z",
            "2021-03-18T10:60:00Z",
            "2021-03-18T10:09:19+0500",
            "2021-03-18T10:09:19+15:00",
            "2021-03-18T10:09:19.Z",
            "2021-03-18T10:09:19Zjunk",
            "2021-03-18 10:09:19Z",
            "１９８０-07-23",
            "2021-03-18x",
        ] {
            assert_eq!(Date::parse_with_precision(text), None, "{text:?}");
        }
    }

    #[test]
    fn instants_order_by_the_moment_offsets_included() {
        let instant = |text: &str| Stamp::parse(text).unwrap().0.instant_ms;
        // 09:00 at UTC-5 is 14:00 UTC: earlier than 14:30 UTC, though "later" by the clock.
        assert!(instant("2021-03-18T09:00:00-05:00") < instant("2021-03-18T14:30:00Z"));
        assert!(instant("2021-03-18T10:00:00-05:00") > instant("2021-03-18T14:30:00Z"));
        assert_eq!(
            instant("2021-03-18T10:00:00+02:00"),
            instant("2021-03-18T08:00:00Z")
        );
        assert_eq!(
            instant("2021-03-18T10:00:00.5Z") - instant("2021-03-18T10:00:00Z"),
            500
        );
        assert_eq!(
            instant("2021-03-18T10:00:00.123456Z") - instant("2021-03-18T10:00:00Z"),
            123
        );
        assert_eq!(instant("2021-03-19") - instant("2021-03-18"), MS_PER_DAY);
    }

    #[test]
    fn dates_display_as_iso_days() {
        assert_eq!(day(2021, 3, 8).to_string(), "2021-03-08");
        assert_eq!(day(987, 12, 31).to_string(), "0987-12-31");
        assert_eq!(format!("{:?}", day(2021, 3, 8)), "Date(2021-03-08)");
    }

    #[test]
    fn whole_years_wait_for_the_birthday() {
        let birth = day(1981, 7, 23);
        assert_eq!(birth.whole_years_until(day(2021, 7, 22)), Some(39));
        assert_eq!(birth.whole_years_until(day(2021, 7, 23)), Some(40));
        assert_eq!(birth.whole_years_until(day(2021, 12, 31)), Some(40));
        assert_eq!(birth.whole_years_until(birth), Some(0));
        assert_eq!(birth.whole_years_until(day(1981, 7, 22)), None);
        let leap = day(2000, 2, 29);
        assert_eq!(leap.whole_years_until(day(2021, 2, 28)), Some(20));
        assert_eq!(leap.whole_years_until(day(2021, 3, 1)), Some(21));
        assert_eq!(leap.whole_years_until(day(2024, 2, 29)), Some(24));
    }

    #[test]
    fn a_unix_time_is_on_its_utc_day() {
        assert_eq!(Date::from_unix_seconds(0), Some(day(1970, 1, 1)));
        // 2026-12-04T23:59:59Z and the second after it.
        assert_eq!(
            Date::from_unix_seconds(1_796_428_799),
            Some(day(2026, 12, 4))
        );
        assert_eq!(
            Date::from_unix_seconds(1_796_428_800),
            Some(day(2026, 12, 5))
        );
        assert_eq!(Date::from_unix_seconds(-1), Some(day(1969, 12, 31)));
        assert_eq!(Date::from_unix_seconds(i64::MAX), None);
    }
}
