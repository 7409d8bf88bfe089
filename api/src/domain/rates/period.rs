//! Periods as offices say them: `[from, to)` from RFC 3339 instants or plain Beijing dates
//! (`from=2026-11-01` is that day's 00:00 +08:00, `to=2026-11-30` includes that day), or a
//! named period (`this_month`, `last_month`, `this_quarter`, `this_year`, in Beijing time).
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use crate::domain::{
    calendar::{beijing_date, beijing_day_start},
    string_enum,
};

/// A window of time, `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The years a period may name.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// One end of a period as written: an instant, or a whole Beijing day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    Instant(DateTime<Utc>),
    Day(NaiveDate),
}

impl Bound {
    /// An RFC 3339 instant or a `YYYY-MM-DD` date, in the years statistics can cover
    /// ([`YEARS`]; far years are refused rather than computed with).
    pub fn parse(s: &str) -> Option<Bound> {
        let bound = match DateTime::parse_from_rfc3339(s) {
            Ok(t) => Bound::Instant(t.with_timezone(&Utc)),
            Err(_) => Bound::Day(NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?),
        };
        let year = match bound {
            Bound::Instant(t) => t.year(),
            Bound::Day(d) => d.year(),
        };
        YEARS.contains(&year).then_some(bound)
    }

    /// As the start of a period: a day starts at its 00:00 Beijing time.
    fn as_from(self) -> DateTime<Utc> {
        match self {
            Bound::Instant(t) => t,
            Bound::Day(d) => beijing_day_start(d),
        }
    }

    /// As the end of a period: a day is included whole.
    fn as_to(self) -> DateTime<Utc> {
        match self {
            Bound::Instant(t) => t,
            Bound::Day(d) => beijing_day_start(d + Duration::days(1)),
        }
    }
}

string_enum!(
    /// A period by its name, in Beijing time.
    NamedPeriod { ThisMonth => "this_month", LastMonth => "last_month", ThisQuarter => "this_quarter", ThisYear => "this_year", }
);

fn first_of(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN)
}

/// The first day of the month `months` after the one starting on `d` (a first of a month).
fn months_after(d: NaiveDate, months: i32) -> NaiveDate {
    let index = d.year() * 12 + d.month0() as i32 + months;
    first_of(index.div_euclid(12), index.rem_euclid(12) as u32 + 1)
}

impl NamedPeriod {
    /// The period around `now`: whole Beijing months, quarter or year.
    pub fn around(self, now: DateTime<Utc>) -> Period {
        let today = beijing_date(now);
        let month = first_of(today.year(), today.month());
        let (start, months) = match self {
            NamedPeriod::ThisMonth => (month, 1),
            NamedPeriod::LastMonth => (months_after(month, -1), 1),
            NamedPeriod::ThisQuarter => (first_of(today.year(), today.month0() / 3 * 3 + 1), 3),
            NamedPeriod::ThisYear => (first_of(today.year(), 1), 12),
        };
        Period {
            from: beijing_day_start(start),
            to: beijing_day_start(months_after(start, months)),
        }
    }
}

/// Why a period cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodError {
    /// `period` together with `from` or `to`.
    Both,
    /// `to` does not follow `from`.
    Backwards,
}

impl Period {
    /// What an office asks for: a named period, or `from`/`to` (`to` by default now, `from` by
    /// default 30 days before `to`).
    pub fn asked(
        from: Option<Bound>,
        to: Option<Bound>,
        named: Option<NamedPeriod>,
        now: DateTime<Utc>,
    ) -> Result<Self, PeriodError> {
        if let Some(named) = named {
            if from.is_some() || to.is_some() {
                return Err(PeriodError::Both);
            }
            return Ok(named.around(now));
        }
        let to = to.map_or(now, Bound::as_to);
        let from = from.map_or(to - Duration::days(30), Bound::as_from);
        if to <= from {
            return Err(PeriodError::Backwards);
        }
        Ok(Period { from, to })
    }

    pub fn contains(self, t: DateTime<Utc>) -> bool {
        t >= self.from && t < self.to
    }

    /// The part of the period that has happened by `now`: what its figures count (empty for
    /// a period wholly in the future).
    pub fn until(self, now: DateTime<Utc>) -> Period {
        Period {
            from: self.from,
            to: self.to.min(now).max(self.from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::beijing;
    use chrono::TimeZone;

    fn bj(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        beijing()
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn plain_dates_are_whole_beijing_days() {
        let p = Period::asked(
            Bound::parse("2026-11-01"),
            Bound::parse("2026-11-30"),
            None,
            bj(2026, 12, 5, 9),
        );
        assert_eq!(
            p,
            Ok(Period {
                from: bj(2026, 11, 1, 0),
                to: bj(2026, 12, 1, 0)
            })
        );
        assert_eq!(
            Bound::parse("2026-11-01T08:00:00+08:00"),
            Some(Bound::Instant(bj(2026, 11, 1, 8)))
        );
        assert_eq!(Bound::parse("yesterday"), None);
        assert_eq!(Bound::parse("+262142-12-31"), None);
        assert_eq!(Bound::parse("1900-01-01T00:00:00Z"), None);
        assert_eq!(
            Period::asked(
                Bound::parse("2026-11-30"),
                Bound::parse("2026-11-01"),
                None,
                bj(2026, 12, 5, 9)
            ),
            Err(PeriodError::Backwards)
        );
    }

    #[test]
    fn named_periods_follow_the_beijing_calendar() {
        // 1 January 07:00 in Beijing is still 31 December in UTC.
        let new_year = bj(2027, 1, 1, 7);
        let at = |n: NamedPeriod, now| n.around(now);
        assert_eq!(
            at(NamedPeriod::ThisMonth, new_year),
            Period {
                from: bj(2027, 1, 1, 0),
                to: bj(2027, 2, 1, 0)
            }
        );
        assert_eq!(
            at(NamedPeriod::LastMonth, new_year),
            Period {
                from: bj(2026, 12, 1, 0),
                to: bj(2027, 1, 1, 0)
            }
        );
        assert_eq!(
            at(NamedPeriod::ThisQuarter, bj(2026, 11, 28, 9)),
            Period {
                from: bj(2026, 10, 1, 0),
                to: bj(2027, 1, 1, 0)
            }
        );
        assert_eq!(
            at(NamedPeriod::ThisYear, bj(2026, 11, 28, 9)),
            Period {
                from: bj(2026, 1, 1, 0),
                to: bj(2027, 1, 1, 0)
            }
        );
        assert_eq!(
            Period::asked(
                None,
                Bound::parse("2026-11-30"),
                Some(NamedPeriod::ThisMonth),
                new_year
            ),
            Err(PeriodError::Both)
        );
    }
}
