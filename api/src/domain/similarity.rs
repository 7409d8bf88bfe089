//! Which open tickets a new one likely repeats: ranked by how alike their words are
//! (`domain::terms`: segmented, numbers and personal data gone, near-synonyms folded, rare words
//! weighing more), and the distance between two points.
use super::terms::Weights;

/// The candidates (their words) at least `min` alike to `words`, the most alike first (the
/// earlier on a tie), at most `n`: their indices and scores.
pub fn ranked(
    words: &[String],
    candidates: &[Vec<String>],
    weights: &Weights,
    min: f64,
    n: usize,
) -> Vec<(usize, f64)> {
    let mut scored: Vec<(usize, f64)> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (i, weights.similarity(words, c)))
        .filter(|(_, s)| *s >= min && *s > 0.0)
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.truncate(n);
    scored
}

/// How duplicates were found before words were understood: the Dice coefficient over character
/// bigrams. Kept to measure the word-level ranking against (docs/quality.md).
pub fn surface(a: &str, b: &str) -> f64 {
    use std::collections::HashMap;
    let bigrams = |text: &str| {
        let chars: Vec<char> = text
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        let mut out: HashMap<(char, char), u32> = HashMap::new();
        for w in chars.windows(2) {
            *out.entry((w[0], w[1])).or_default() += 1;
        }
        out
    };
    let (x, y) = (bigrams(a), bigrams(b));
    let total: u32 = x.values().sum::<u32>() + y.values().sum::<u32>();
    if total == 0 {
        return 0.0;
    }
    let shared: u32 = x
        .iter()
        .map(|(k, n)| (*n).min(y.get(k).copied().unwrap_or(0)))
        .sum();
    f64::from(2 * shared) / f64::from(total)
}

/// Great-circle distance in metres between two WGS-84 points.
pub fn meters(a: (f64, f64), b: (f64, f64)) -> f64 {
    use geo::{Distance, Haversine, Point};
    Haversine.distance(Point::new(a.1, a.0), Point::new(b.1, b.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::terms::words;

    #[test]
    fn the_same_problem_told_two_ways_ranks_above_another_at_the_same_door() {
        let new = words("井盖丢了，差点崴脚");
        let nearby: Vec<Vec<String>> = [
            "3号楼门口路灯不亮",
            "下水道盖子没了，晚上很危险，电话13812345678",
            "3号楼门口的单元门关不上",
        ]
        .iter()
        .map(|t| words(t))
        .collect();
        let w = Weights::from_texts(nearby.iter().chain([&new]).map(Vec::as_slice));
        let offered = ranked(&new, &nearby, &w, 0.2, 5);
        assert_eq!(offered.first().map(|o| o.0), Some(1), "{offered:?}");
        assert_eq!(offered.len(), 1, "{offered:?}");
        // The characters alone saw nothing alike.
        assert!(surface("井盖丢了，差点崴脚", "下水道盖子没了，晚上很危险") < 0.05);
        assert!((surface("路灯坏了", "路灯坏了") - 1.0).abs() < 1e-9);
    }
}
