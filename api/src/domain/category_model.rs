//! The category a resident's text suggests: a multinomial naive Bayes model over the text's
//! words and their character pairs (`domain::terms::features`: segmented, numbers gone,
//! near-synonyms folded; the pairs survive typos and words the segmenter splits oddly). Trained from labelled
//! texts; kept as JSON so every node serves the same model.
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::terms::features;

/// Additive smoothing: an unseen feature still has a little weight in every category.
const ALPHA: f64 = 0.3;

/// One category's counts.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Class {
    /// Training texts of the category.
    texts: u64,
    /// Features seen, with repeats.
    total: u64,
    counts: HashMap<String, u64>,
}

/// A trained model: per category (by code), how often each feature appeared.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CategoryModel {
    classes: HashMap<String, Class>,
    vocabulary: u64,
}

/// A category and how likely the model finds it (0–1; the scores of all categories sum to 1).
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    pub category: String,
    pub score: f64,
}

impl CategoryModel {
    /// Learns from (text, category code) pairs.
    pub fn train<'a>(examples: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut m = CategoryModel::default();
        let mut vocabulary: HashSet<String> = HashSet::new();
        for (text, category) in examples {
            let class = m.classes.entry(category.to_owned()).or_default();
            class.texts += 1;
            for f in features(text) {
                class.total += 1;
                *class.counts.entry(f.clone()).or_default() += 1;
                vocabulary.insert(f);
            }
        }
        m.vocabulary = vocabulary.len() as u64;
        m
    }

    /// Texts it learnt from.
    pub fn texts(&self) -> u64 {
        self.classes.values().map(|c| c.texts).sum()
    }

    /// Categories it knows.
    pub fn categories(&self) -> usize {
        self.classes.len()
    }

    /// Every category it knows among `allowed` (all when `None`), most likely first, scored.
    /// Empty when the text has nothing the model knows (nothing to go on beyond how common
    /// each category is).
    pub fn score(&self, text: &str, allowed: Option<&HashSet<String>>) -> Vec<Scored> {
        let feats = features(text);
        let known = feats
            .iter()
            .any(|f| self.classes.values().any(|c| c.counts.contains_key(f)));
        if !known {
            return vec![];
        }
        let all = self.texts() as f64;
        let v = self.vocabulary.max(1) as f64;
        let mut logs: Vec<(String, f64)> = self
            .classes
            .iter()
            .filter(|(code, _)| allowed.is_none_or(|a| a.contains(*code)))
            .map(|(code, c)| {
                let prior = (c.texts as f64 / all).ln();
                let denominator = (c.total as f64 + ALPHA * v).ln();
                let likelihood: f64 = feats
                    .iter()
                    .map(|f| {
                        (c.counts.get(f).copied().unwrap_or(0) as f64 + ALPHA).ln() - denominator
                    })
                    .sum();
                (code.clone(), prior + likelihood)
            })
            .collect();
        let top = logs
            .iter()
            .map(|(_, l)| *l)
            .fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = logs.iter().map(|(_, l)| (l - top).exp()).sum();
        logs.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        logs.into_iter()
            .map(|(category, l)| Scored {
                category,
                score: (l - top).exp() / total,
            })
            .collect()
    }

    /// Whether the model doubts that `text` is of `category`: another category is far more
    /// likely (at least `confident`) and this one is unlikely (below `1 − confident`).
    pub fn doubts(&self, text: &str, category: &str, confident: f64) -> Option<Vec<Scored>> {
        let scored = self.score(text, None);
        let top = scored.first()?;
        let mine = scored
            .iter()
            .find(|s| s.category == category)
            .map_or(0.0, |s| s.score);
        (top.category != category && top.score >= confident && mine < 1.0 - confident)
            .then_some(scored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_suggests_the_category_its_words_belong_to() {
        let model = CategoryModel::train([
            ("路灯不亮了，晚上很黑", "lighting"),
            ("楼道灯坏了", "lighting"),
            ("路灯一闪一闪", "lighting"),
            ("垃圾桶满了没人清运", "sanitation"),
            ("楼下贴满了小广告", "sanitation"),
            ("广场舞太吵了", "noise"),
            ("半夜施工噪音扰民", "noise"),
        ]);
        assert_eq!((model.texts(), model.categories()), (7, 3));
        let s = model.score("3号楼门口的路灯坏了，黑乎乎的", None);
        assert_eq!(s[0].category, "lighting");
        assert!((s.iter().map(|x| x.score).sum::<f64>() - 1.0).abs() < 1e-9);
        // Near-synonyms: 牛皮癣 is 小广告.
        assert_eq!(model.score("好多牛皮癣", None)[0].category, "sanitation");
        // Only the categories asked about; nothing known, nothing suggested.
        let only: HashSet<String> = ["noise".to_owned()].into();
        assert_eq!(model.score("路灯不亮", Some(&only)).len(), 1);
        assert!(model.score("12345", None).is_empty());
        // A lighting text filed as noise is doubted; as lighting, not.
        assert!(model.doubts("路灯不亮了", "noise", 0.6).is_some());
        assert!(model.doubts("路灯不亮了", "lighting", 0.6).is_none());
        // The model survives JSON, as it is kept.
        let json = serde_json::to_string(&model).unwrap_or_default();
        let back: CategoryModel = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back.score("路灯不亮", None), model.score("路灯不亮", None));
    }
}
