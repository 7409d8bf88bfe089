//! Hot spots: where tickets of one kind gather. Density-based clustering (DBSCAN) of points in
//! metres: a point with at least `min_points` points within `eps` (itself included) is a core
//! point; core points within `eps` of each other share a cluster; a point within `eps` of a core
//! point joins the cluster of the nearest one; the rest is noise.
//!
//! The points are binned into square cells of side `eps / √2`, so every two points of one cell
//! are within `eps` of each other and a point's neighbours lie in the 5 × 5 cells around its
//! own. A crowded cell is all core at once and is joined to a neighbouring cell by the first
//! close pair found: a street's year of tickets clusters in well under a second.
use std::collections::HashMap;

use geo::{ConvexHull, Coord, Distance, Euclidean, MultiPoint, Point, Polygon};

/// Metres per degree of latitude (and of longitude at the equator).
const METERS_PER_DEGREE: f64 = 111_320.0;

/// A local flat projection around a reference point: exact enough (well under 1 %) across a
/// city district, and cheap.
#[derive(Clone, Copy, Debug)]
pub struct Projection {
    lat0: f64,
    lng0: f64,
    kx: f64,
}

impl Projection {
    pub fn around(lat0: f64, lng0: f64) -> Self {
        Projection {
            lat0,
            lng0,
            kx: lat0.to_radians().cos().max(0.01) * METERS_PER_DEGREE,
        }
    }

    /// Metres east and north of the reference.
    pub fn to_xy(&self, lat: f64, lng: f64) -> [f64; 2] {
        [
            (lng - self.lng0) * self.kx,
            (lat - self.lat0) * METERS_PER_DEGREE,
        ]
    }

    /// (lat, lng) of a point in metres.
    pub fn to_lat_lng(&self, xy: [f64; 2]) -> (f64, f64) {
        (
            self.lat0 + xy[1] / METERS_PER_DEGREE,
            self.lng0 + xy[0] / self.kx,
        )
    }
}

type Cell = (i64, i64);

/// Points binned into cells of a side such that a cell's points are all within `eps`.
struct Bins {
    side: f64,
    cells: HashMap<Cell, Vec<usize>>,
}

impl Bins {
    fn new(points: &[[f64; 2]], eps: f64) -> Self {
        let side = eps / std::f64::consts::SQRT_2;
        let mut cells: HashMap<Cell, Vec<usize>> = HashMap::new();
        for (i, p) in points.iter().enumerate() {
            cells.entry(cell_of(*p, side)).or_default().push(i);
        }
        Bins { side, cells }
    }

    /// The cells that may hold points within `eps` of the cell `c`.
    fn around(&self, c: Cell) -> impl Iterator<Item = (Cell, &Vec<usize>)> {
        (-2..=2)
            .flat_map(move |dx| (-2..=2).map(move |dy| (c.0 + dx, c.1 + dy)))
            .filter_map(|n| self.cells.get(&n).map(|v| (n, v)))
    }
}

fn cell_of(p: [f64; 2], side: f64) -> Cell {
    ((p[0] / side).floor() as i64, (p[1] / side).floor() as i64)
}

fn dist2(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

/// Union-find over cells.
struct Sets {
    parent: Vec<usize>,
}

impl Sets {
    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.parent[a.max(b)] = a.min(b);
        }
    }
}

/// Which points are core: every point of a crowded cell; elsewhere, counted (stopping early).
fn core_points(points: &[[f64; 2]], bins: &Bins, eps2: f64, min_points: usize) -> Vec<bool> {
    let mut core = vec![false; points.len()];
    for (&c, members) in &bins.cells {
        if members.len() >= min_points {
            members.iter().for_each(|&i| core[i] = true);
            continue;
        }
        for &i in members {
            let mut n = 0;
            'count: for (_, others) in bins.around(c) {
                for &j in others {
                    if dist2(points[i], points[j]) <= eps2 {
                        n += 1;
                        if n >= min_points {
                            break 'count;
                        }
                    }
                }
            }
            core[i] = n >= min_points;
        }
    }
    core
}

/// The cells holding core points, and their clusters: a cell's core points are one (they are
/// all within eps), two cells are one when any two of their core points are within eps.
struct CoreCells {
    slot: HashMap<Cell, usize>,
    sets: Sets,
}

impl CoreCells {
    fn join(points: &[[f64; 2]], bins: &Bins, core: &[bool], eps2: f64) -> Self {
        let mut cells: Vec<Cell> = bins
            .cells
            .iter()
            .filter(|(_, m)| m.iter().any(|&i| core[i]))
            .map(|(c, _)| *c)
            .collect();
        cells.sort_unstable();
        let slot: HashMap<Cell, usize> = cells.iter().enumerate().map(|(k, c)| (*c, k)).collect();
        let mut sets = Sets {
            parent: (0..cells.len()).collect(),
        };
        let cores_of = |c: Cell| -> Vec<usize> {
            bins.cells[&c]
                .iter()
                .copied()
                .filter(|&i| core[i])
                .collect()
        };
        for (k, &c) in cells.iter().enumerate() {
            let mine = cores_of(c);
            for (n, _) in bins.around(c) {
                let Some(&other) = slot.get(&n) else { continue };
                if other <= k || sets.find(other) == sets.find(k) {
                    continue;
                }
                let theirs = cores_of(n);
                let close = mine
                    .iter()
                    .any(|&i| theirs.iter().any(|&j| dist2(points[i], points[j]) <= eps2));
                if close {
                    sets.join(k, other);
                }
            }
        }
        CoreCells { slot, sets }
    }

    /// The cluster of the core points in the cell of `p`.
    fn cluster_at(&mut self, p: [f64; 2], side: f64) -> usize {
        let k = self.slot[&cell_of(p, side)];
        self.sets.find(k)
    }
}

/// DBSCAN of `points` (metres): the clusters as indices into `points`, each in ascending
/// order, the largest cluster first (ties by their first index). Noise is left out.
pub fn dbscan(points: &[[f64; 2]], eps: f64, min_points: usize) -> Vec<Vec<usize>> {
    if points.is_empty() || eps <= 0.0 || !eps.is_finite() {
        return vec![];
    }
    let eps2 = eps * eps;
    let bins = Bins::new(points, eps);
    let core = core_points(points, &bins, eps2, min_points.max(1));
    let mut cells = CoreCells::join(points, &bins, &core, eps2);
    // Every point's cluster: a core point its cell's; a border point the nearest core point's.
    let mut clusters: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, p) in points.iter().enumerate() {
        let nearest_core = if core[i] {
            Some(i)
        } else {
            let mut best: Option<(f64, usize)> = None;
            for (_, others) in bins.around(cell_of(*p, bins.side)) {
                for &j in others.iter().filter(|&&j| core[j]) {
                    let d = dist2(*p, points[j]);
                    if d <= eps2 && best.is_none_or(|(bd, bj)| (d, j) < (bd, bj)) {
                        best = Some((d, j));
                    }
                }
            }
            best.map(|(_, j)| j)
        };
        if let Some(j) = nearest_core {
            let cluster = cells.cluster_at(points[j], bins.side);
            clusters.entry(cluster).or_default().push(i);
        }
    }
    let mut out: Vec<Vec<usize>> = clusters.into_values().collect();
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    out
}

/// The outline of a cluster: the convex hull of its points, each widened to a circle of `pad`
/// metres (so two tickets at one door still make an area), in metres.
pub fn outline(points: &[[f64; 2]], pad: f64) -> Polygon<f64> {
    const SIDES: usize = 12;
    let ring: Vec<Point<f64>> = points
        .iter()
        .flat_map(|p| {
            (0..SIDES).map(move |k| {
                let a = std::f64::consts::TAU * k as f64 / SIDES as f64;
                Point::new(p[0] + pad * a.cos(), p[1] + pad * a.sin())
            })
        })
        .collect();
    MultiPoint::new(ring).convex_hull()
}

/// Whether a point (metres) lies within `within` metres of an outline (inside counts as 0).
pub fn near(outline: &Polygon<f64>, p: [f64; 2], within: f64) -> bool {
    Euclidean.distance(&Point::new(p[0], p[1]), outline) <= within
}

/// The outline's ring in (lng, lat), closed, for GeoJSON.
pub fn ring_lng_lat(outline: &Polygon<f64>, proj: &Projection) -> Vec<Vec<f64>> {
    outline
        .exterior()
        .coords()
        .map(|c: &Coord<f64>| {
            let (lat, lng) = proj.to_lat_lng([c.x, c.y]);
            vec![round6(lng), round6(lat)]
        })
        .collect()
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// How a hot spot moved against the period before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trend {
    /// Nothing there before.
    New,
    /// More than a tenth up.
    Rising,
    /// More than a tenth down.
    Falling,
    Steady,
}

impl Trend {
    pub fn of(now: u64, before: u64) -> Trend {
        let (n, b) = (now as f64, before as f64);
        match before {
            0 => Trend::New,
            _ if n > b * 1.1 => Trend::Rising,
            _ if n < b * 0.9 => Trend::Falling,
            _ => Trend::Steady,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Trend::New => "new",
            Trend::Rising => "rising",
            Trend::Falling => "falling",
            Trend::Steady => "steady",
        }
    }
}

/// Which of `texts` is most like the others: the highest summed similarity (the first on a
/// tie); `None` for none.
pub fn most_typical<T>(texts: &[T], similarity: impl Fn(&T, &T) -> f64) -> Option<usize> {
    (0..texts.len())
        .map(|i| {
            let total: f64 = (0..texts.len())
                .filter(|&j| j != i)
                .map(|j| similarity(&texts[i], &texts[j]))
                .sum();
            (i, total)
        })
        .fold(None, |best: Option<(usize, f64)>, (i, t)| match best {
            Some((_, bt)) if bt >= t => best,
            _ => Some((i, t)),
        })
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// DBSCAN as the textbook writes it, every pair compared.
    fn naive(points: &[[f64; 2]], eps: f64, min_points: usize) -> Vec<Vec<usize>> {
        let eps2 = eps * eps;
        let n = points.len();
        let close = |i: usize, j: usize| dist2(points[i], points[j]) <= eps2;
        let core: Vec<bool> = (0..n)
            .map(|i| (0..n).filter(|&j| close(i, j)).count() >= min_points)
            .collect();
        let mut comp: Vec<Option<usize>> = vec![None; n];
        for s in 0..n {
            if !core[s] || comp[s].is_some() {
                continue;
            }
            let mut stack = vec![s];
            comp[s] = Some(s);
            while let Some(i) = stack.pop() {
                for j in 0..n {
                    if core[j] && comp[j].is_none() && close(i, j) {
                        comp[j] = Some(s);
                        stack.push(j);
                    }
                }
            }
        }
        let label: Vec<Option<usize>> = (0..n)
            .map(|i| {
                if core[i] {
                    return comp[i];
                }
                (0..n)
                    .filter(|&j| core[j] && close(i, j))
                    .min_by(|&a, &b| {
                        dist2(points[i], points[a])
                            .total_cmp(&dist2(points[i], points[b]))
                            .then(a.cmp(&b))
                    })
                    .and_then(|j| comp[j])
            })
            .collect();
        let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, l) in label.into_iter().enumerate() {
            if let Some(l) = l {
                groups.entry(l).or_default().push(i);
            }
        }
        let mut out: Vec<Vec<usize>> = groups.into_values().collect();
        out.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
        out
    }

    proptest! {
        #[test]
        fn the_cell_grid_finds_the_clusters_the_textbook_does(
            raw in prop::collection::vec((0.0f64..400.0, 0.0f64..400.0), 0..160),
            eps in 10.0f64..80.0,
            min_points in 1usize..7,
        ) {
            let points: Vec<[f64; 2]> = raw.into_iter().map(|(x, y)| [x, y]).collect();
            prop_assert_eq!(dbscan(&points, eps, min_points), naive(&points, eps, min_points));
        }
    }

    #[test]
    fn two_dense_corners_and_a_stray_point() {
        let proj = Projection::around(39.9, 116.4);
        let mut points = vec![];
        for k in 0..6 {
            // Six tickets within 20 m of one gate, five within 20 m of another 300 m east.
            points.push(proj.to_xy(39.9 + k as f64 * 0.00003, 116.4));
            if k < 5 {
                points.push(proj.to_xy(39.9 + k as f64 * 0.00003, 116.4035));
            }
        }
        points.push(proj.to_xy(39.91, 116.41));
        let clusters = dbscan(&points, 50.0, 5);
        assert_eq!(clusters.len(), 2);
        assert_eq!((clusters[0].len(), clusters[1].len()), (6, 5));
        assert!(!clusters.iter().flatten().any(|&i| i == points.len() - 1));
        // A point inside the first cluster's outline, or just beside it, is near it.
        let first: Vec<[f64; 2]> = clusters[0].iter().map(|&i| points[i]).collect();
        let hull = outline(&first, 25.0);
        assert!(near(&hull, first[2], 0.0));
        assert!(near(&hull, [first[0][0] + 60.0, first[0][1]], 50.0));
        assert!(!near(&hull, [first[0][0] + 200.0, first[0][1]], 50.0));
        // The ring closes and lies around the gate.
        let ring = ring_lng_lat(&hull, &proj);
        assert_eq!(ring.first(), ring.last());
        assert!(ring.iter().all(|c| (c[0] - 116.4).abs() < 0.001));
    }

    #[test]
    fn trends_and_the_most_typical_text() {
        assert_eq!(Trend::of(5, 0), Trend::New);
        assert_eq!(Trend::of(12, 10), Trend::Rising);
        assert_eq!(Trend::of(10, 10), Trend::Steady);
        assert_eq!(Trend::of(5, 10), Trend::Falling);
        let texts: Vec<String> = ["路灯坏了", "路灯不亮了", "路灯坏了不亮", "狗叫"]
            .map(String::from)
            .to_vec();
        let shared = |a: &String, b: &String| a.chars().filter(|c| b.contains(*c)).count() as f64;
        assert_eq!(most_typical(&texts, shared), Some(2));
        assert_eq!(most_typical(&[], shared), None);
    }
}
