//! Point → grid routing: the R-tree index against a plain scan of the same polygons, over 100,
//! 1,000 and 10,000 grids of realistic size (about 400 m across, 48 vertices each).
//! Run with `cargo bench -p qiaomen-api --bench routing`.
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use geo::{LineString, MultiPolygon, Polygon};
use qiaomen_api::domain::routing::{GridIndex, GridShape};
use uuid::Uuid;

/// A small deterministic generator, so every run measures the same world.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

const CELL: f64 = 0.004; // degrees, about 400 m at Beijing's latitude

/// `n` grids on a square lattice near Beijing, each a wobbly 48-gon filling most of its cell.
fn world(n: usize) -> GridIndex {
    let side = (n as f64).sqrt().ceil() as usize;
    let mut rng = Lcg(42);
    let grids = (0..n)
        .map(|k| {
            let (i, j) = (k % side, k / side);
            let (cx, cy) = (
                116.0 + (i as f64 + 0.5) * CELL,
                39.5 + (j as f64 + 0.5) * CELL,
            );
            let ring: Vec<(f64, f64)> = (0..48)
                .map(|v| {
                    let a = v as f64 / 48.0 * std::f64::consts::TAU;
                    let r = CELL * (0.40 + 0.08 * rng.next());
                    (cx + r * a.cos(), cy + r * a.sin())
                })
                .collect();
            GridShape {
                id: Uuid::new_v4(),
                code: Some(format!("G{k:05}")),
                shape: MultiPolygon(vec![Polygon::new(LineString::from(ring), vec![])]),
            }
        })
        .collect();
    GridIndex::new(grids)
}

fn points(n: usize, count: usize) -> Vec<(f64, f64)> {
    let side = (n as f64).sqrt().ceil() * CELL;
    let mut rng = Lcg(7);
    (0..count)
        .map(|_| (39.5 + rng.next() * side, 116.0 + rng.next() * side))
        .collect()
}

fn routing(c: &mut Criterion) {
    let mut group = c.benchmark_group("point_to_grid");
    for n in [100, 1_000, 10_000] {
        let index = world(n);
        let queries = points(n, 1_024);
        // Both must agree, or the comparison means nothing.
        for &(lat, lng) in queries.iter().take(200) {
            assert_eq!(index.locate(lat, lng), index.locate_by_scan(lat, lng));
        }
        let mut i = 0;
        group.bench_with_input(BenchmarkId::new("rtree", n), &n, |b, _| {
            b.iter(|| {
                let (lat, lng) = queries[i % queries.len()];
                i += 1;
                black_box(index.locate(black_box(lat), black_box(lng)))
            })
        });
        let mut i = 0;
        group.bench_with_input(BenchmarkId::new("scan", n), &n, |b, _| {
            b.iter(|| {
                let (lat, lng) = queries[i % queries.len()];
                i += 1;
                black_box(index.locate_by_scan(black_box(lat), black_box(lng)))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, routing);
criterion_main!(benches);
