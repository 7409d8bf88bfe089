//! How well Qiaomen reads residents' texts, measured on the labelled sets in `tests/data`
//! (made by `tests/data/make_labelled.py` from hand-written complaints) with the shipped
//! configuration: duplicates offered before and after words were understood, and the suggested
//! category on a held-out fifth. The figures are in docs/quality.md:
//!
//!     cargo test -p qiaomen-api --lib quality -- --nocapture
use std::collections::BTreeMap;

use serde::Deserialize;

use super::{
    category_model::CategoryModel,
    similarity::{ranked, surface},
    terms::{Weights, features},
};

fn data(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn settings() -> crate::config::Settings {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
    crate::config::Settings::load(&dir, Some("development")).expect("configuration")
}

#[derive(Deserialize)]
struct Pair {
    place: u32,
    a: String,
    b: String,
    same: bool,
}

/// A new ticket and the open tickets told near it, each marked whether it is the same problem.
struct Place {
    a: String,
    told: Vec<(String, bool)>,
}

fn places() -> Vec<Place> {
    let mut by: BTreeMap<u32, Place> = BTreeMap::new();
    for line in data("duplicate_pairs.jsonl").lines() {
        let p: Pair = serde_json::from_str(line).expect("pair");
        by.entry(p.place)
            .or_insert_with(|| Place {
                a: p.a.clone(),
                told: vec![],
            })
            .told
            .push((p.b, p.same));
    }
    by.into_values().collect()
}

#[derive(Debug, Default)]
struct Figures {
    same: u32,
    found_in_three: u32,
    different: u32,
    different_offered: u32,
    merges: u32,
    merges_right: u32,
}

impl Figures {
    fn recall(&self) -> f64 {
        f64::from(self.found_in_three) / f64::from(self.same.max(1))
    }
    fn wrongly_offered(&self) -> f64 {
        f64::from(self.different_offered) / f64::from(self.different.max(1))
    }
    fn merge_precision(&self) -> f64 {
        f64::from(self.merges_right) / f64::from(self.merges.max(1))
    }
    fn row(&self, name: &str) -> String {
        format!(
            "| {name} | {}/{} = {:.1} % | {}/{} = {:.1} % | {}/{} = {:.1} % |",
            self.found_in_three,
            self.same,
            100.0 * self.recall(),
            self.different_offered,
            self.different,
            100.0 * self.wrongly_offered(),
            self.merges_right,
            self.merges,
            100.0 * self.merge_precision()
        )
    }
}

/// Tallies one place: `offered` are the indices into `told` offered, best first; `merged`
/// those staff are offered to merge.
fn tally(f: &mut Figures, told: &[(String, bool)], offered: &[usize], merged: &[usize]) {
    for (i, (_, same)) in told.iter().enumerate() {
        let rank = offered.iter().position(|&o| o == i);
        if *same {
            f.same += 1;
            f.found_in_three += u32::from(rank.is_some_and(|r| r < 3));
        } else {
            f.different += 1;
            f.different_offered += u32::from(rank.is_some());
        }
    }
    for &m in merged {
        f.merges += 1;
        f.merges_right += u32::from(told[m].1);
    }
}

#[test]
fn duplicates_are_offered_as_residents_would_recognise_them() {
    let cfg = settings().duplicates;
    let places = places();
    // Before: Dice over character bigrams, at the old threshold 0.3; staff saw the same list.
    let mut before = Figures::default();
    for p in &places {
        let mut scored: Vec<(usize, f64)> = p
            .told
            .iter()
            .enumerate()
            .map(|(i, (b, _))| (i, surface(&p.a, b)))
            .filter(|(_, s)| *s >= 0.3)
            .collect();
        scored.sort_by(|x, y| y.1.total_cmp(&x.1));
        scored.truncate(5);
        let offered: Vec<usize> = scored.iter().map(|s| s.0).collect();
        tally(&mut before, &p.told, &offered, &offered);
    }
    // After: words, weighted by how rare they are among all the tickets told.
    let split: Vec<(Vec<String>, Vec<Vec<String>>)> = places
        .iter()
        .map(|p| {
            (
                features(&p.a),
                p.told.iter().map(|(b, _)| features(b)).collect(),
            )
        })
        .collect();
    let weights = Weights::from_texts(
        split
            .iter()
            .flat_map(|(a, told)| std::iter::once(a).chain(told))
            .map(Vec::as_slice),
    );
    let mut after = Figures::default();
    for (p, (a, told)) in places.iter().zip(&split) {
        let offered = ranked(a, told, &weights, cfg.min_similarity, 5);
        let merged: Vec<usize> = offered
            .iter()
            .filter(|o| o.1 >= cfg.merge_similarity)
            .map(|o| o.0)
            .collect();
        let offered: Vec<usize> = offered.iter().map(|o| o.0).collect();
        tally(&mut after, &p.told, &offered, &merged);
    }
    println!(
        "| | true duplicate among the first three | different problems offered | staff merge suggestions right |"
    );
    println!("|---|---|---|---|");
    println!("{}", before.row("before (character bigrams, Dice ≥ 0.3)"));
    println!(
        "{}",
        after.row(&format!(
            "after (words and their character pairs, offered ≥ {}, merge ≥ {})",
            cfg.min_similarity, cfg.merge_similarity
        ))
    );
    assert!(after.same >= 100 && after.different >= 100);
    assert!(after.recall() >= 0.75, "{after:?}");
    assert!(
        after.recall() > before.recall() + 0.3,
        "{before:?} {after:?}"
    );
    assert!(after.wrongly_offered() <= 0.2, "{after:?}");
    assert!(after.merge_precision() >= 0.9, "{after:?}");
}

#[derive(Deserialize)]
struct Labelled {
    text: String,
    category: String,
    split: String,
}

#[test]
fn the_suggested_category_is_right_on_texts_it_never_saw() {
    let all: Vec<Labelled> = data("category_texts.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("text"))
        .collect();
    let (test, train): (Vec<&Labelled>, Vec<&Labelled>) =
        all.iter().partition(|l| l.split == "test");
    let model = CategoryModel::train(train.iter().map(|l| (l.text.as_str(), l.category.as_str())));
    let (mut top1, mut top3) = (0u32, 0u32);
    for l in &test {
        let s = model.score(&l.text, None);
        top1 += u32::from(s.first().is_some_and(|s| s.category == l.category));
        top3 += u32::from(s.iter().take(3).any(|s| s.category == l.category));
    }
    let n = test.len() as f64;
    println!(
        "trained on {} texts, tested on {}: top-1 {top1} = {:.1} %, top-3 {top3} = {:.1} %",
        train.len(),
        test.len(),
        100.0 * f64::from(top1) / n,
        100.0 * f64::from(top3) / n
    );
    assert!(all.len() >= 500 && test.len() * 5 >= all.len() - 5);
    assert!(f64::from(top1) / n >= 0.8, "top-1 {top1} of {n}");
    assert!(f64::from(top3) / n >= 0.95, "top-3 {top3} of {n}");
}
