//! Working time: which days are working days in mainland China (weekends, public holidays and
//! adjusted working days, 调休) and which hours of them count, for SLAs measured in working time.
//! All reckoning is in Beijing time (UTC+8).
use std::collections::HashSet;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc, Weekday,
};

#[derive(Clone, Debug)]
pub struct WorkCalendar {
    holidays: HashSet<NaiveDate>,
    workdays: HashSet<NaiveDate>,
    /// Working periods of a day, in order, not overlapping.
    periods: Vec<(NaiveTime, NaiveTime)>,
    offset: FixedOffset,
}

#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error("bad working period {0:?}: use [\"HH:MM\", \"HH:MM\"], in order, not overlapping")]
    Period(Vec<String>),
    #[error("a working day needs at least one working period")]
    NoPeriods,
}

const BEIJING: i32 = 8 * 3600;

/// China Standard Time (UTC+8), the clock of every office day, number and report: the one
/// place the offset is written.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(BEIJING).unwrap_or_else(|| unreachable!("UTC+8 is a valid offset"))
}

/// The Beijing date of an instant.
pub fn beijing_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&beijing()).date_naive()
}

/// An instant as people read it in notes: `2026-11-28 14:30`, Beijing time.
pub fn beijing_minute(at: DateTime<Utc>) -> String {
    at.with_timezone(&beijing())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The instant a Beijing date begins.
pub fn beijing_day_start(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    (midnight - Duration::seconds(i64::from(BEIJING))).and_utc()
}

impl WorkCalendar {
    pub fn new(
        holidays: impl IntoIterator<Item = NaiveDate>,
        workdays: impl IntoIterator<Item = NaiveDate>,
        periods: &[(String, String)],
    ) -> Result<Self, CalendarError> {
        let mut parsed = Vec::new();
        for (a, b) in periods {
            let bad = || CalendarError::Period(vec![a.clone(), b.clone()]);
            let start = NaiveTime::parse_from_str(a, "%H:%M").map_err(|_| bad())?;
            let end = NaiveTime::parse_from_str(b, "%H:%M").map_err(|_| bad())?;
            if end <= start || parsed.last().is_some_and(|(_, prev_end)| start < *prev_end) {
                return Err(bad());
            }
            parsed.push((start, end));
        }
        if parsed.is_empty() {
            return Err(CalendarError::NoPeriods);
        }
        Ok(WorkCalendar {
            holidays: holidays.into_iter().collect(),
            workdays: workdays.into_iter().collect(),
            periods: parsed,
            offset: beijing(),
        })
    }

    /// The default: weekends off, 08:30–12:00 and 13:30–17:30, no holidays known.
    pub fn weekdays_only() -> Self {
        let periods = [
            ("08:30".to_owned(), "12:00".to_owned()),
            ("13:30".to_owned(), "17:30".to_owned()),
        ];
        WorkCalendar::new([], [], &periods)
            .unwrap_or_else(|_| unreachable!("the default periods are valid"))
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.workdays.contains(&date) {
            return true;
        }
        if self.holidays.contains(&date) {
            return false;
        }
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// Minutes of working time in a working day.
    pub fn minutes_per_day(&self) -> i64 {
        self.periods
            .iter()
            .map(|(a, b)| (*b - *a).num_minutes())
            .sum()
    }

    /// The instant `minutes` of working time after `start`.
    pub fn add_working_minutes(&self, start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
        let mut remaining = Duration::minutes(minutes.max(0));
        let local = start.with_timezone(&self.offset);
        let mut date = local.date_naive();
        let mut cursor = local.time();
        // Ten years of days is far beyond any SLA; the bound only guards against a bad calendar.
        for _ in 0..3660 {
            if self.is_working_day(date) {
                for (from, to) in &self.periods {
                    if cursor >= *to {
                        continue;
                    }
                    let begin = cursor.max(*from);
                    let available = *to - begin;
                    if remaining <= available {
                        let at = date.and_time(begin) + remaining;
                        return self
                            .offset
                            .from_local_datetime(&at)
                            .single()
                            .map_or(start, |t| t.with_timezone(&Utc));
                    }
                    remaining -= available;
                }
            }
            date = date.succ_opt().unwrap_or(date);
            cursor = NaiveTime::MIN;
        }
        start + Duration::minutes(minutes)
    }

    /// The minutes of working time from `start` to `end` (none when `end` is not later): what
    /// is left of a working-time deadline when its clock stops at `start`.
    pub fn working_minutes_between(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
        if end <= start {
            return 0;
        }
        let (from, to) = (
            start.with_timezone(&self.offset).naive_local(),
            end.with_timezone(&self.offset).naive_local(),
        );
        let mut total = Duration::zero();
        let mut date = from.date();
        while date <= to.date() {
            if self.is_working_day(date) {
                for (a, b) in &self.periods {
                    let begin = date.and_time(*a).max(from);
                    let finish = date.and_time(*b).min(to);
                    if finish > begin {
                        total += finish - begin;
                    }
                }
            }
            match date.succ_opt() {
                Some(d) => date = d,
                None => break,
            }
        }
        total.num_minutes()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Beijing wall time → UTC.
    fn bj(s: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        beijing()
            .from_local_datetime(&naive)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn working_minutes_between_undo_adding_them() {
        let cal = calendar_2026();
        let start = bj("2026-09-30 16:00");
        for minutes in [0, 30, 90, 240, 450, 451, 2000] {
            let end = cal.add_working_minutes(start, minutes);
            assert_eq!(
                cal.working_minutes_between(start, end),
                minutes,
                "{minutes}"
            );
        }
        // The National Day week holds no working time.
        assert_eq!(
            cal.working_minutes_between(bj("2026-10-01 09:00"), bj("2026-10-07 17:00")),
            0
        );
        assert_eq!(
            cal.working_minutes_between(bj("2026-10-09 10:00"), start),
            0
        );
    }

    fn calendar_2026() -> WorkCalendar {
        let holidays = [
            "2026-10-01",
            "2026-10-02",
            "2026-10-03",
            "2026-10-04",
            "2026-10-05",
            "2026-10-06",
            "2026-10-07",
        ];
        let workdays = ["2026-09-20", "2026-10-10"];
        let periods = [
            ("08:30".to_owned(), "12:00".to_owned()),
            ("13:30".to_owned(), "17:30".to_owned()),
        ];
        WorkCalendar::new(holidays.map(d), workdays.map(d), &periods).unwrap()
    }

    #[test]
    fn within_a_day_the_lunch_break_does_not_count() {
        let cal = calendar_2026();
        // Wednesday 11:00 + 120 working minutes: one hour before lunch, one after.
        assert_eq!(
            cal.add_working_minutes(bj("2026-11-18 11:00"), 120),
            bj("2026-11-18 14:30")
        );
    }

    #[test]
    fn a_weekend_is_skipped() {
        let cal = calendar_2026();
        // Friday 17:00 + 60 minutes: half an hour on Friday, the rest on Monday morning.
        assert_eq!(
            cal.add_working_minutes(bj("2026-11-20 17:00"), 60),
            bj("2026-11-23 09:00")
        );
        // Submitted on Saturday: the clock starts on Monday.
        assert_eq!(
            cal.add_working_minutes(bj("2026-11-21 10:00"), 30),
            bj("2026-11-23 09:00")
        );
    }

    #[test]
    fn the_national_day_holiday_is_skipped() {
        let cal = calendar_2026();
        // Wednesday 30 September 17:00 + 60 min: 1–7 October are off, Thursday 8 October resumes.
        assert_eq!(
            cal.add_working_minutes(bj("2026-09-30 17:00"), 60),
            bj("2026-10-08 09:00")
        );
    }

    #[test]
    fn an_adjusted_working_saturday_counts() {
        let cal = calendar_2026();
        assert!(
            cal.is_working_day(d("2026-10-10")),
            "Saturday 10 October is a working day"
        );
        assert!(
            !cal.is_working_day(d("2026-10-17")),
            "an ordinary Saturday is not"
        );
        // Friday 9 October 17:00 + 60 min: the adjusted Saturday takes the second half hour.
        assert_eq!(
            cal.add_working_minutes(bj("2026-10-09 17:00"), 60),
            bj("2026-10-10 09:00")
        );
        // Sunday 20 September is a working day too.
        assert_eq!(
            cal.add_working_minutes(bj("2026-09-19 12:00"), 30),
            bj("2026-09-20 09:00")
        );
    }

    #[test]
    fn a_full_working_day_is_seven_and_a_half_hours() {
        let cal = calendar_2026();
        assert_eq!(
            cal.add_working_minutes(bj("2026-11-18 08:30"), 450),
            bj("2026-11-18 17:30")
        );
        assert_eq!(
            cal.add_working_minutes(bj("2026-11-18 08:30"), 451),
            bj("2026-11-19 08:31")
        );
    }

    #[test]
    fn bad_periods_are_refused() {
        assert!(WorkCalendar::new([], [], &[("13:00".into(), "12:00".into())]).is_err());
        assert!(WorkCalendar::new([], [], &[]).is_err());
    }
}
