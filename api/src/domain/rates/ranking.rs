//! Rankings a small group cannot win by luck: groups are ordered by the lower bound of the
//! Wilson score interval (95 %) of their rate, so 3 of 3 (bound 0.44) ranks below 95 of 100
//! (bound 0.89); a group with fewer than the minimum sample in the denominator is marked
//! `insufficient` and left unranked.
//!
//! The composite measure combines the three rates' bounds with the composite weights:
//! 100 × (w_r × bound_response + w_s × bound_resolution + w_t × bound_satisfaction), its n
//! the smallest of the three denominators.
use super::{Figures, Weights, tally::satisfied_weighted};
use crate::domain::string_enum;

string_enum!(
    /// What a ranking ranks.
    RankBy { Grid => "grid", Worker => "worker", }
);

string_enum!(
    /// What a ranking orders by.
    Measure { Response => "response", Resolution => "resolution", Satisfaction => "satisfaction", Composite => "composite", }
);

impl Measure {
    pub fn title_zh(self) -> &'static str {
        match self {
            Measure::Response => "响应率",
            Measure::Resolution => "解决率",
            Measure::Satisfaction => "满意率",
            Measure::Composite => "综合得分",
        }
    }
}

/// z for a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// The lower bound of the Wilson score interval for `successes` of `n` (successes may be
/// fractional: a weighted 基本满意). `None` for n = 0.
pub fn wilson_lower(successes: f64, n: u64) -> Option<f64> {
    if n == 0 {
        return None;
    }
    let n = n as f64;
    let p = (successes / n).clamp(0.0, 1.0);
    let z2 = Z95 * Z95;
    let centre = p + z2 / (2.0 * n);
    let spread = Z95 * ((p * (1.0 - p) + z2 / (4.0 * n)) / n).sqrt();
    Some(((centre - spread) / (1.0 + z2 / n)).max(0.0))
}

/// One measure of one group: its rate, the rate's lower bound and the denominator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scored {
    pub rate: Option<f64>,
    pub bound: Option<f64>,
    pub n: u64,
}

/// `measure` of a group's figures.
pub fn score(f: &Figures, measure: Measure, w: Weights) -> Scored {
    let response = Scored {
        rate: f.response_rate,
        bound: wilson_lower(f.responded_in_time as f64, f.response_due),
        n: f.response_due,
    };
    let resolution = Scored {
        rate: f.resolution_rate,
        bound: wilson_lower(f.resolved_in_time as f64, f.resolution_due),
        n: f.resolution_due,
    };
    let satisfaction = Scored {
        rate: f.satisfaction_rate,
        bound: wilson_lower(satisfied_weighted(f, w), f.rated),
        n: f.rated,
    };
    match measure {
        Measure::Response => response,
        Measure::Resolution => resolution,
        Measure::Satisfaction => satisfaction,
        Measure::Composite => {
            let bound = match (response.bound, resolution.bound, satisfaction.bound) {
                (Some(a), Some(b), Some(c)) => {
                    Some(100.0 * (w.response * a + w.resolution * b + w.satisfaction * c))
                }
                _ => None,
            };
            Scored {
                rate: f.composite_score,
                bound,
                n: response.n.min(resolution.n).min(satisfaction.n),
            }
        }
    }
}

/// A group's place in a ranking.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked<K> {
    pub key: K,
    /// 1 for the best; `None` when the sample is insufficient.
    pub rank: Option<u32>,
    pub scored: Scored,
    pub insufficient: bool,
}

/// Ranks groups by their bound, best first (ties by rate, then as given); groups with fewer
/// than `min_sample` in the denominator follow, unranked and marked.
pub fn rank<K>(groups: Vec<(K, Scored)>, min_sample: u64) -> Vec<Ranked<K>> {
    let (mut ranked, mut small): (Vec<_>, Vec<_>) = groups
        .into_iter()
        .partition(|(_, s)| s.n >= min_sample.max(1) && s.bound.is_some());
    let key = |s: &Scored| (s.bound.unwrap_or(0.0), s.rate.unwrap_or(0.0));
    ranked.sort_by(|(_, a), (_, b)| {
        key(b)
            .partial_cmp(&key(a))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    small.sort_by_key(|(_, s)| std::cmp::Reverse(s.n));
    let mut out: Vec<Ranked<K>> = Vec::with_capacity(ranked.len() + small.len());
    for (i, (k, scored)) in ranked.into_iter().enumerate() {
        out.push(Ranked {
            key: k,
            rank: Some(u32::try_from(i + 1).unwrap_or(u32::MAX)),
            scored,
            insufficient: false,
        });
    }
    out.extend(small.into_iter().map(|(k, scored)| Ranked {
        key: k,
        rank: None,
        scored,
        insufficient: true,
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-3)
    }

    #[test]
    fn wilson_bounds_match_published_values() {
        // 3 of 3: 0.4385; 95 of 100: 0.8882; 0 of 10: 0; 5 of 10: 0.2366.
        assert!(close(wilson_lower(3.0, 3), 0.4385));
        assert!(close(wilson_lower(95.0, 100), 0.8882));
        assert!(close(wilson_lower(0.0, 10), 0.0));
        assert!(close(wilson_lower(5.0, 10), 0.2366));
        assert_eq!(wilson_lower(0.0, 0), None);
    }

    #[test]
    fn a_perfect_small_group_ranks_below_a_large_good_one_and_a_tiny_one_is_unranked() {
        let s = |ok: f64, n: u64| Scored {
            rate: Some(ok / n as f64),
            bound: wilson_lower(ok, n),
            n,
        };
        let ranked = rank(
            vec![
                ("small", s(12.0, 12)),
                ("large", s(190.0, 200)),
                ("tiny", s(3.0, 3)),
            ],
            10,
        );
        let order: Vec<(&str, Option<u32>, bool)> = ranked
            .iter()
            .map(|r| (r.key, r.rank, r.insufficient))
            .collect();
        assert_eq!(
            order,
            vec![
                ("large", Some(1), false),
                ("small", Some(2), false),
                ("tiny", None, true)
            ]
        );
    }
}
