//! Routing (SPEC §4 items 1–3): which grid a point lies in, and who in an area takes a ticket.
//!
//! Point lookup goes through an R-tree over the grids' bounding boxes, then an exact
//! point-in-polygon test (holes and MultiPolygons honoured) on the few candidates.
//!
//! **Border rule.** A point inside a grid's interior belongs to that grid. A point exactly on a
//! boundary shared by several grids (or on a vertex where they meet) belongs to the one among
//! them with the smallest `code` (grids without a code sort last, then by id), so the answer never
//! depends on insertion order or floating-point luck.
use std::cmp::Ordering;

use geo::{
    BoundingRect, ClosestPoint, Contains, Distance, Haversine, Intersects, MultiPolygon, Point,
};
use rstar::{AABB, RTree, primitives::GeomWithData, primitives::Rectangle};
use uuid::Uuid;

use super::{HandlingLevel, StaffRole, StaffStatus};

#[derive(Clone, Debug)]
pub struct GridShape {
    pub id: Uuid,
    pub code: Option<String>,
    /// WGS-84, x = longitude, y = latitude.
    pub shape: MultiPolygon<f64>,
}

type Entry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// In-memory spatial index of the grids' boundaries.
#[derive(Default)]
pub struct GridIndex {
    grids: Vec<GridShape>,
    tree: RTree<Entry>,
}

fn border_order(a: &GridShape, b: &GridShape) -> Ordering {
    match (&a.code, &b.code) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
    .then(a.id.cmp(&b.id))
}

impl GridIndex {
    pub fn new(grids: Vec<GridShape>) -> Self {
        let entries = grids
            .iter()
            .enumerate()
            .filter_map(|(i, g)| {
                let rect = g.shape.bounding_rect()?;
                let (min, max) = (rect.min(), rect.max());
                Some(GeomWithData::new(
                    Rectangle::from_corners([min.x, min.y], [max.x, max.y]),
                    i,
                ))
            })
            .collect();
        GridIndex {
            grids,
            tree: RTree::bulk_load(entries),
        }
    }

    pub fn len(&self) -> usize {
        self.grids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.grids.is_empty()
    }

    /// The grid containing the WGS-84 point, by the border rule above.
    pub fn locate(&self, lat: f64, lng: f64) -> Option<Uuid> {
        let point = Point::new(lng, lat);
        let mut on_border: Option<&GridShape> = None;
        for entry in self.tree.locate_all_at_point(&[lng, lat]) {
            let grid = &self.grids[entry.data];
            if grid.shape.contains(&point) {
                return Some(grid.id);
            }
            if grid.shape.intersects(&point)
                && on_border.is_none_or(|best| border_order(grid, best) == Ordering::Less)
            {
                on_border = Some(grid);
            }
        }
        on_border.map(|g| g.id)
    }

    /// The grid nearest to a point outside all grids, if within `max_meters`.
    pub fn nearest(&self, lat: f64, lng: f64, max_meters: f64) -> Option<Uuid> {
        self.nearest_with_distance(lat, lng)
            .filter(|(_, d)| *d <= max_meters)
            .map(|(id, _)| id)
    }

    /// The grid nearest to a point outside all grids and its distance in metres, however far.
    pub fn nearest_with_distance(&self, lat: f64, lng: f64) -> Option<(Uuid, f64)> {
        let point = Point::new(lng, lat);
        let mut best: Option<(f64, Uuid)> = None;
        // Bounding boxes come out nearest first; exact distances of the first few settle it.
        for entry in self.tree.nearest_neighbor_iter(&[lng, lat]).take(8) {
            let grid = &self.grids[entry.data];
            let closest = match grid.shape.closest_point(&point) {
                geo::Closest::Intersection(p) | geo::Closest::SinglePoint(p) => p,
                geo::Closest::Indeterminate => continue,
            };
            let meters = Haversine.distance(point, closest);
            if best.is_none_or(|(d, _)| meters < d) {
                best = Some((meters, grid.id));
            }
        }
        best.map(|(d, id)| (id, d))
    }

    /// The boundary of grid `id`, if it has one.
    pub fn shape(&self, id: Uuid) -> Option<&MultiPolygon<f64>> {
        self.grids.iter().find(|g| g.id == id).map(|g| &g.shape)
    }

    /// Plain scan over every polygon: the baseline the R-tree is measured against.
    pub fn locate_by_scan(&self, lat: f64, lng: f64) -> Option<Uuid> {
        let point = Point::new(lng, lat);
        self.grids
            .iter()
            .filter(|g| g.shape.intersects(&point))
            .min_by(|a, b| {
                b.shape
                    .contains(&point)
                    .cmp(&a.shape.contains(&point))
                    .then(border_order(a, b))
            })
            .map(|g| g.id)
    }

    pub fn envelope(&self) -> Option<AABB<[f64; 2]>> {
        (!self.grids.is_empty()).then(|| self.tree.root().envelope())
    }
}

/// A person who might take a ticket, with what routing needs to know of them.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub staff_id: Uuid,
    pub role: StaffRole,
    pub status: StaffStatus,
    pub skills: Vec<String>,
    pub department: Option<String>,
    pub open_tickets: u64,
}

fn least_loaded<'a>(it: impl Iterator<Item = &'a Candidate>) -> Option<Uuid> {
    it.min_by_key(|c| (c.open_tickets, c.staff_id))
        .map(|c| c.staff_id)
}

/// Who in a grid takes a ticket of `category_code`: an active grid worker; else an active
/// assistant with the category among their skills; ties go to the fewest open tickets.
pub fn choose_in_grid(candidates: &[Candidate], category_code: &str) -> Option<Uuid> {
    let active = || {
        candidates
            .iter()
            .filter(|c| c.status == StaffStatus::Active)
    };
    least_loaded(active().filter(|c| c.role == StaffRole::GridWorker)).or_else(|| {
        least_loaded(active().filter(|c| {
            c.role == StaffRole::GridAssistant && c.skills.iter().any(|s| s == category_code)
        }))
    })
}

/// Who at community or street level takes a ticket: the community's admins; at street level the
/// department named after the category's group.
pub fn choose_at_level(
    level: HandlingLevel,
    candidates: &[Candidate],
    category_group: &str,
) -> Option<Uuid> {
    let active = candidates
        .iter()
        .filter(|c| c.status == StaffStatus::Active);
    match level {
        HandlingLevel::Grid => None,
        HandlingLevel::Community => {
            least_loaded(active.filter(|c| c.role == StaffRole::CommunityAdmin))
        }
        HandlingLevel::Street => least_loaded(active.filter(|c| {
            c.role == StaffRole::Department && c.department.as_deref() == Some(category_group)
        })),
    }
}

#[cfg(test)]
mod tests {
    use geo::{LineString, Polygon, polygon};

    use super::*;

    fn grid(code: &str, shape: Polygon<f64>) -> GridShape {
        GridShape {
            id: Uuid::new_v4(),
            code: Some(code.into()),
            shape: MultiPolygon(vec![shape]),
        }
    }

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
        polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)]
    }

    #[test]
    fn shared_border_goes_to_the_smaller_code_whatever_the_order() {
        let west = grid("G02", square(116.0, 39.0, 116.1, 39.1));
        let east = grid("G01", square(116.1, 39.0, 116.2, 39.1));
        for grids in [
            vec![west.clone(), east.clone()],
            vec![east.clone(), west.clone()],
        ] {
            let index = GridIndex::new(grids);
            assert_eq!(index.locate(39.05, 116.1), Some(east.id));
            assert_eq!(index.locate(39.05, 116.05), Some(west.id));
            assert_eq!(index.locate_by_scan(39.05, 116.1), Some(east.id));
        }
    }

    #[test]
    fn holes_are_not_inside() {
        let outer = LineString::from(vec![
            (0.0, 0.0),
            (10.0, 0.0),
            (10.0, 10.0),
            (0.0, 10.0),
            (0.0, 0.0),
        ]);
        let hole = LineString::from(vec![
            (4.0, 4.0),
            (6.0, 4.0),
            (6.0, 6.0),
            (4.0, 6.0),
            (4.0, 4.0),
        ]);
        let ring = grid("A", Polygon::new(outer, vec![hole]));
        let index = GridIndex::new(vec![ring.clone()]);
        assert_eq!(index.locate(5.0, 5.0), None);
        assert_eq!(index.locate(2.0, 2.0), Some(ring.id));
    }

    fn cand(role: StaffRole, status: StaffStatus, skills: &[&str], open: u64) -> Candidate {
        Candidate {
            staff_id: Uuid::new_v4(),
            role,
            status,
            skills: skills.iter().map(|s| s.to_string()).collect(),
            department: None,
            open_tickets: open,
        }
    }

    #[test]
    fn worker_on_leave_hands_over_to_the_least_loaded_skilled_assistant() {
        let worker = cand(StaffRole::GridWorker, StaffStatus::OnLeave, &[], 0);
        let busy = cand(StaffRole::GridAssistant, StaffStatus::Active, &["noise"], 5);
        let free = cand(StaffRole::GridAssistant, StaffStatus::Active, &["noise"], 1);
        let unskilled = cand(
            StaffRole::GridAssistant,
            StaffStatus::Active,
            &["lighting"],
            0,
        );
        let all = [worker, busy, free.clone(), unskilled];
        assert_eq!(choose_in_grid(&all, "noise"), Some(free.staff_id));
        assert_eq!(choose_in_grid(&all, "greenery"), None);
    }
}
