//! The body of GET /stats/hotspots: a GeoJSON FeatureCollection of hot spots.
use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use uuid::Uuid;

use crate::{
    domain::hotspots::Trend,
    schemas::places::CoordSystem,
    services::{directory::Directory, stats::hotspots::Hotspot},
};

/// How a hot spot moved against the period of the same length before it.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum HotspotTrend {
    /// Nothing there before.
    New,
    /// More than a tenth more tickets.
    Rising,
    /// More than a tenth fewer.
    Falling,
    Steady,
}

impl From<Trend> for HotspotTrend {
    fn from(t: Trend) -> Self {
        match t {
            Trend::New => HotspotTrend::New,
            Trend::Rising => HotspotTrend::Rising,
            Trend::Falling => HotspotTrend::Falling,
            Trend::Steady => HotspotTrend::Steady,
        }
    }
}

/// A GeoJSON Polygon: one ring of [lng, lat] positions, closed.
#[derive(Object, Clone, Debug)]
pub struct PolygonGeometry {
    /// Always `Polygon`.
    #[oai(rename = "type")]
    pub kind: String,
    pub coordinates: Vec<Vec<Vec<f64>>>,
}

/// The ticket most like the others in a hot spot.
#[derive(Object, Clone, Debug)]
pub struct TypicalTicket {
    pub number: String,
    /// Its text, with phones, ID numbers, plates and rooms masked.
    pub text: String,
}

#[derive(Object, Clone, Debug)]
pub struct HotspotProperties {
    /// Names the hot spot: pass it to `POST /api/v1/topics {hotspot}`.
    pub id: String,
    pub category: String,
    pub category_name: String,
    pub ticket_count: u64,
    /// Distinct residents among them (staff-entered tickets without a resident not counted).
    pub resident_count: u64,
    /// "Me too"s the tickets gathered.
    pub support_count: u64,
    /// Tickets of the category within the outline over the period of the same length before.
    pub previous_count: u64,
    pub trend: HotspotTrend,
    /// (ticket_count − previous_count) / previous_count × 100; absent when nothing was there.
    #[oai(skip_serializing_if_is_none)]
    pub change_percent: Option<f64>,
    #[oai(skip_serializing_if_is_none)]
    pub typical: Option<TypicalTicket>,
    /// Up to five ticket numbers, most recent first.
    pub ticket_numbers: Vec<String>,
    /// The members' centre, [lng, lat].
    pub center: Vec<f64>,
    pub first_submitted_at: DateTime<Utc>,
    pub last_submitted_at: DateTime<Utc>,
}

#[derive(Object, Clone, Debug)]
pub struct HotspotFeature {
    /// Always `Feature`.
    #[oai(rename = "type")]
    pub kind: String,
    pub id: String,
    pub geometry: PolygonGeometry,
    pub properties: HotspotProperties,
}

/// Hot spots, the most tickets first.
#[derive(Object, Clone, Debug)]
pub struct HotspotCollection {
    /// Always `FeatureCollection`.
    #[oai(rename = "type")]
    pub kind: String,
    pub area_id: Uuid,
    /// The period clustered (the part of the one asked for that has happened).
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub radius_meters: f64,
    pub min_tickets: u64,
    pub coord_system: CoordSystem,
    pub features: Vec<HotspotFeature>,
}

impl HotspotFeature {
    pub fn new(h: Hotspot, dir: &Directory, coords: CoordSystem) -> Self {
        let category = dir.category(h.category_id);
        let position = |lng: f64, lat: f64| {
            let (lat, lng) = coords.convert(lat, lng);
            vec![round6(lng), round6(lat)]
        };
        let ring: Vec<Vec<f64>> = h.ring.iter().map(|p| position(p[0], p[1])).collect();
        let change_percent = (h.previous_count > 0).then(|| {
            let (now, before) = (h.ticket_count as f64, h.previous_count as f64);
            ((now - before) / before * 1000.0).round() / 10.0
        });
        HotspotFeature {
            kind: "Feature".into(),
            id: h.id.clone(),
            geometry: PolygonGeometry {
                kind: "Polygon".into(),
                coordinates: vec![ring],
            },
            properties: HotspotProperties {
                id: h.id,
                category: category.map(|c| c.code.clone()).unwrap_or_default(),
                category_name: category.map(|c| c.name.clone()).unwrap_or_default(),
                ticket_count: h.ticket_count,
                resident_count: h.resident_count,
                support_count: h.support_count,
                previous_count: h.previous_count,
                trend: h.trend.into(),
                change_percent,
                typical: h
                    .typical
                    .map(|(number, text)| TypicalTicket { number, text }),
                ticket_numbers: h.numbers,
                center: position(h.center.1, h.center.0),
                first_submitted_at: h.first_submitted_at,
                last_submitted_at: h.last_submitted_at,
            },
        }
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}
