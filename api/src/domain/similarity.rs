//! Text similarity for duplicate detection: the Dice coefficient over character bigrams. It needs
//! no word segmenter, so it works for Chinese as well as for mixed text.
use std::collections::HashMap;

fn bigrams(text: &str) -> HashMap<(char, char), u32> {
    let chars: Vec<char> = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect();
    let mut out = HashMap::new();
    for w in chars.windows(2) {
        *out.entry((w[0], w[1])).or_default() += 1;
    }
    out
}

/// 0.0 (nothing shared) to 1.0 (the same bigrams).
pub fn similarity(a: &str, b: &str) -> f64 {
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

    #[test]
    fn similar_chinese_complaints_score_high_different_ones_low() {
        let a = "小区门口的路灯坏了，晚上很黑";
        let b = "小区门口路灯坏了好几天，晚上太黑";
        let c = "楼下垃圾桶满了没人清理";
        assert!(similarity(a, b) > 0.5, "{}", similarity(a, b));
        assert!(similarity(a, c) < 0.15, "{}", similarity(a, c));
        assert_eq!(similarity("", ""), 0.0);
        assert!((similarity(a, a) - 1.0).abs() < 1e-9);
    }
}
