//! The statistics figures as every presentation shows them: one row per figure with its API
//! name, its Chinese column title, how to read it from [`Figures`] and its shape. The response
//! body (`schemas::stats::FiguresBody`), the CSV and XLSX exports (`crate::exports`) and the
//! breakdown's `sort` all read this table, so a new figure is a field of [`Figures`], the line
//! that computes it, and a row here.
use super::rates::Figures;

/// How a figure is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A count of tickets or ratings: an integer, never null.
    Count,
    /// A fraction (0.95), null when its denominator is 0; shown as a percentage in exports.
    Rate,
    /// Minutes or a score: a number, null when there is nothing to measure.
    Number,
}

/// One figure.
pub struct Column {
    /// The field in the API (`response_rate`), and what `sort` names.
    pub name: &'static str,
    /// The column title in exports (`响应率`).
    pub zh: &'static str,
    pub shape: Shape,
    /// What it means, for the API description.
    pub about: &'static str,
    /// Written in the CSV and XLSX exports (which keep to the columns offices file).
    pub exported: bool,
    pub read: fn(&Figures) -> Option<f64>,
}

impl Column {
    /// The figure's value in `f` (counts as whole numbers in an `f64`).
    pub fn value(&self, f: &Figures) -> Option<f64> {
        (self.read)(f)
    }
}

macro_rules! count {
    ($field:ident) => {
        |f: &Figures| Some(f.$field as f64)
    };
}

macro_rules! reason {
    ($field:ident) => {
        |f: &Figures| Some(f.reasons.$field as f64)
    };
}

macro_rules! optional {
    ($field:ident) => {
        |f: &Figures| f.$field
    };
}

/// Every figure, in the order responses and exports show them.
#[rustfmt::skip]
pub const COLUMNS: &[Column] = &[
    Column { name: "received", zh: "受理量", shape: Shape::Count, about: "Submitted in the period, less withdrawn and rejected.", exported: true, read: count!(received) },
    Column { name: "withdrawn", zh: "撤回", shape: Shape::Count, about: "Submitted in the period and withdrawn by the resident.", exported: true, read: count!(withdrawn) },
    Column { name: "rejected", zh: "不予受理", shape: Shape::Count, about: "Submitted in the period and rejected (invalid, out of scope, duplicate).", exported: true, read: count!(rejected) },
    Column { name: "praise_received", zh: "表扬", shape: Shape::Count, about: "Praise submitted in the period (in no rate).", exported: true, read: count!(praise_received) },
    Column { name: "appealed_excluded", zh: "甄别剔除", shape: Shape::Count, about: "Submitted in the period and taken out of the rates by an approved appeal.", exported: true, read: count!(appealed_excluded) },
    Column { name: "accepted", zh: "已受理", shape: Shape::Count, about: "Received tickets that were accepted.", exported: false, read: count!(accepted) },
    Column { name: "response_due", zh: "应响应", shape: Shape::Count, about: "Tickets whose response was made or fell due (whichever came first) in the period, up to now.", exported: true, read: count!(response_due) },
    Column { name: "responded_in_time", zh: "按时响应", shape: Shape::Count, about: "Of those, answered (accepted, or resolved or rejected) by their response deadline.", exported: true, read: count!(responded_in_time) },
    Column { name: "response_rate", zh: "响应率", shape: Shape::Rate, about: "responded_in_time / response_due.", exported: true, read: optional!(response_rate) },
    Column { name: "resolved", zh: "办结量", shape: Shape::Count, about: "Received tickets whose resolution stands.", exported: true, read: count!(resolved) },
    Column { name: "resolution_due", zh: "应办结", shape: Shape::Count, about: "Tickets whose resolution was made or fell due (whichever came first) in the period, up to now.", exported: true, read: count!(resolution_due) },
    Column { name: "resolved_in_time", zh: "按时办结", shape: Shape::Count, about: "Of those, resolved by their resolution deadline (a resolution that still stands).", exported: true, read: count!(resolved_in_time) },
    Column { name: "resolution_rate", zh: "解决率", shape: Shape::Rate, about: "resolved_in_time / resolution_due.", exported: true, read: optional!(resolution_rate) },
    Column { name: "rated", zh: "评价数", shape: Shape::Count, about: "Ratings given in the period.", exported: true, read: count!(rated) },
    Column { name: "satisfied", zh: "满意", shape: Shape::Count, about: "Ratings `satisfied`.", exported: true, read: count!(satisfied) },
    Column { name: "basically_satisfied", zh: "基本满意", shape: Shape::Count, about: "Ratings `basically_satisfied`.", exported: true, read: count!(basically_satisfied) },
    Column { name: "unsatisfied", zh: "不满意", shape: Shape::Count, about: "Ratings `unsatisfied`.", exported: true, read: count!(unsatisfied) },
    Column { name: "satisfaction_rate", zh: "满意率", shape: Shape::Rate, about: "(satisfied + w × basically_satisfied) / rated.", exported: true, read: optional!(satisfaction_rate) },
    Column { name: "reason_not_solved", zh: "原因:问题未解决", shape: Shape::Count, about: "Ratings giving the reason `not_solved`.", exported: true, read: reason!(not_solved) },
    Column { name: "reason_too_slow", zh: "原因:办理太慢", shape: Shape::Count, about: "Ratings giving the reason `too_slow`.", exported: true, read: reason!(too_slow) },
    Column { name: "reason_attitude", zh: "原因:态度不好", shape: Shape::Count, about: "Ratings giving the reason `attitude`.", exported: true, read: reason!(attitude) },
    Column { name: "reason_no_contact", zh: "原因:未联系", shape: Shape::Count, about: "Ratings giving the reason `no_contact`.", exported: true, read: reason!(no_contact) },
    Column { name: "reason_disagree_result", zh: "原因:不认可结果", shape: Shape::Count, about: "Ratings giving the reason `disagree_result`.", exported: true, read: reason!(disagree_result) },
    Column { name: "reason_other", zh: "原因:其他", shape: Shape::Count, about: "Ratings giving the reason `other`.", exported: true, read: reason!(other) },
    Column { name: "reopened", zh: "重办量", shape: Shape::Count, about: "Received tickets reopened at least once.", exported: false, read: count!(reopened) },
    Column { name: "reopen_rate", zh: "重办率", shape: Shape::Rate, about: "reopened / received.", exported: true, read: optional!(reopen_rate) },
    Column { name: "overdue_open", zh: "超期未办结", shape: Shape::Count, about: "Open now with a deadline passed.", exported: true, read: count!(overdue_open) },
    Column { name: "composite_score", zh: "综合得分", shape: Shape::Number, about: "100 × (w_response × response_rate + w_resolution × resolution_rate + w_satisfaction × satisfaction_rate).", exported: true, read: optional!(composite_score) },
    Column { name: "median_response_minutes", zh: "响应中位(分钟)", shape: Shape::Number, about: "Median minutes from submission to acceptance.", exported: true, read: optional!(median_response_minutes) },
    Column { name: "p90_response_minutes", zh: "响应P90(分钟)", shape: Shape::Number, about: "90th percentile minutes from submission to acceptance.", exported: false, read: optional!(p90_response_minutes) },
    Column { name: "median_resolution_minutes", zh: "办结中位(分钟)", shape: Shape::Number, about: "Median minutes from submission to resolution.", exported: false, read: optional!(median_resolution_minutes) },
    Column { name: "p90_resolution_minutes", zh: "办结P90(分钟)", shape: Shape::Number, about: "90th percentile minutes from submission to resolution.", exported: false, read: optional!(p90_resolution_minutes) },
];

/// The column named `name`.
pub fn column(name: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|c| c.name == name)
}

/// The columns the exports write, in order.
pub fn exported() -> impl Iterator<Item = &'static Column> {
    COLUMNS.iter().filter(|c| c.exported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_figure_has_one_column_and_reads_its_own_field() {
        let f = Figures {
            received: 7,
            response_rate: Some(0.5),
            overdue_open: 3,
            ..Figures::default()
        };
        assert_eq!(column("received").and_then(|c| c.value(&f)), Some(7.0));
        assert_eq!(column("response_rate").and_then(|c| c.value(&f)), Some(0.5));
        assert_eq!(column("overdue_open").and_then(|c| c.value(&f)), Some(3.0));
        assert_eq!(column("satisfaction_rate").and_then(|c| c.value(&f)), None);
        let mut names: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COLUMNS.len(), "names are unique");
        assert_eq!(exported().count(), 27);
    }
}
