//! A category's SLA as a resident reads it: `2小时内响应，3个工作日内办结`.
use super::SlaMode;

/// `minutes` said in the largest whole unit: days (calendar time) or working days (working
/// time, `day_minutes` to a day), else hours, else minutes.
fn span(minutes: i64, mode: SlaMode, day_minutes: i64) -> String {
    let working = mode == SlaMode::Working;
    let day = if working { day_minutes } else { 24 * 60 };
    let prefix = if working { "个工作" } else { "" };
    if minutes >= day && day > 0 && minutes % day == 0 {
        let unit = if working { "日" } else { "天" };
        format!("{}{prefix}{unit}", minutes / day)
    } else if minutes % 60 == 0 {
        format!("{}{}小时", minutes / 60, prefix)
    } else {
        format!("{minutes}{}分钟", if working { "个工作" } else { "" })
    }
}

/// The promise of a category's SLA, in the words of a service window.
pub fn sla_text(
    response_minutes: i32,
    resolution_hours: i32,
    mode: SlaMode,
    day_minutes: i64,
) -> String {
    format!(
        "{}内响应，{}内办结",
        span(i64::from(response_minutes), mode, day_minutes),
        span(i64::from(resolution_hours) * 60, mode, day_minutes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promises_read_as_a_service_window_says_them() {
        assert_eq!(
            sla_text(120, 72, SlaMode::Calendar, 450),
            "2小时内响应，3天内办结"
        );
        assert_eq!(
            sla_text(30, 5, SlaMode::Calendar, 450),
            "30分钟内响应，5小时内办结"
        );
        // A working day of 7.5 hours: 15 working hours are two working days.
        assert_eq!(
            sla_text(60, 15, SlaMode::Working, 450),
            "1个工作小时内响应，2个工作日内办结"
        );
        assert_eq!(
            sla_text(90, 16, SlaMode::Working, 450),
            "90个工作分钟内响应，16个工作小时内办结"
        );
    }
}
