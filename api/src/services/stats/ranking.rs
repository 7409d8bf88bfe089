//! Rankings of grids or workers (issue 20, part 7), by the lower Wilson bound of a measure
//! (`domain::rates::ranking`), from the same figures as the breakdowns.
use super::{Data, Grouping};
use crate::domain::rates::{
    Weights,
    ranking::{Measure, RankBy, rank, score},
};

/// One group's place in a ranking.
pub struct RankedGroup {
    pub key: String,
    pub name: String,
    /// 1 for the best; `None` when unranked (`insufficient`).
    pub rank: Option<u32>,
    pub rate: Option<f64>,
    pub bound: Option<f64>,
    pub n: u64,
    pub insufficient: bool,
}

/// The groups of `data` (loaded with the grouping `by` asks for) ranked by `measure`; tickets
/// without a grid or an assignee are no group to rank.
pub fn ranking(
    data: &Data,
    by: RankBy,
    measure: Measure,
    weights: Weights,
    min_sample: u64,
) -> Vec<RankedGroup> {
    let grouping = match by {
        RankBy::Grid => Grouping::Grid,
        RankBy::Worker => Grouping::Worker,
    };
    let scored = data
        .breakdown(grouping)
        .into_iter()
        .filter(|g| g.key != "none")
        .map(|g| {
            let s = score(&g.figures, measure, weights);
            ((g.key, g.name), s)
        })
        .collect();
    rank(scored, min_sample)
        .into_iter()
        .map(|r| RankedGroup {
            key: r.key.0,
            name: r.key.1,
            rank: r.rank,
            rate: r.scored.rate,
            bound: r.scored.bound,
            n: r.scored.n,
            insufficient: r.insufficient,
        })
        .collect()
}
