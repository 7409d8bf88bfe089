//! Hot spots (热点): where an area's tickets of one category gathered over a period, found by
//! density-based clustering (`domain::hotspots`), each with its outline, its counts, how it
//! moved against the period before, its most typical text and a few ticket numbers.
//!
//! A year of a street's tickets streams through as points (about 60 bytes each); the text is
//! read only for the members of the hot spots returned.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{Asked, ask, rollups};
use crate::{
    domain::{
        TicketKind,
        access::StaffScope,
        hotspots::{self, Projection, Trend},
        lifecycle::Status,
        rates::Period,
        redact::redact,
        terms::{Weights, features},
    },
    services::{Ctx, ServiceError, ServiceResult},
};
use entity::ticket;

/// The members whose text is compared to pick the most typical one: the most recent.
const TYPICAL_FROM: usize = 30;
/// Ticket numbers shown per hot spot.
const NUMBERS: usize = 5;

/// One hot spot.
#[derive(Clone, Debug)]
pub struct Hotspot {
    /// Names the hot spot for `POST /topics {hotspot}`: its area, category, period and a member.
    pub id: String,
    pub category_id: Uuid,
    /// The outline's ring, (lng, lat), WGS-84, closed.
    pub ring: Vec<Vec<f64>>,
    /// The members' centre, (lat, lng).
    pub center: (f64, f64),
    pub ticket_count: u64,
    pub resident_count: u64,
    pub support_count: u64,
    /// Tickets of the category within the outline over the period of the same length before.
    pub previous_count: u64,
    pub trend: Trend,
    /// The number and (redacted) text of the ticket most like the others.
    pub typical: Option<(String, String)>,
    /// Up to five, most recent first.
    pub numbers: Vec<String>,
    /// Every member, for a topic made of it.
    pub ticket_ids: Vec<Uuid>,
    pub first_submitted_at: DateTime<Utc>,
    pub last_submitted_at: DateTime<Utc>,
}

/// What a hot spot search asks for.
#[derive(Clone, Debug)]
pub struct Search {
    pub area_id: Uuid,
    pub period: Period,
    pub category: Option<Uuid>,
    /// The most tickets first; at most this many.
    pub limit: usize,
}

#[derive(FromQueryResult)]
struct PointRow {
    id: Uuid,
    category_id: Uuid,
    lat: Option<f64>,
    lng: Option<f64>,
    building_id: Option<Uuid>,
    resident_id: Option<Uuid>,
    support_count: i32,
    submitted_at: DateTime<Utc>,
}

/// A ticket as clustering sees it.
struct Spot {
    id: Uuid,
    xy: [f64; 2],
    resident: Option<Uuid>,
    supports: u32,
    at: DateTime<Utc>,
}

/// The area's tickets of the period and of the one before, per category, as points.
struct Points {
    proj: Projection,
    now: HashMap<Uuid, Vec<Spot>>,
    before: HashMap<Uuid, Vec<[f64; 2]>>,
}

async fn building_points(
    ctx: &Ctx<'_>,
    ids: HashSet<Uuid>,
) -> ServiceResult<HashMap<Uuid, (f64, f64)>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = entity::building::Entity::find()
        .filter(entity::building::Column::Id.is_in(ids))
        .all(ctx.db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|b| Some((b.id, b.lat.zip(b.lng)?)))
        .collect())
}

async fn points(ctx: &Ctx<'_>, asked: &Asked, search: &Search) -> ServiceResult<Points> {
    let Period { from, to } = asked.counted;
    let before_from = from - (to - from);
    let mut query = ticket::Entity::find()
        .select_only()
        .columns([
            ticket::Column::Id,
            ticket::Column::CategoryId,
            ticket::Column::Lat,
            ticket::Column::Lng,
            ticket::Column::BuildingId,
            ticket::Column::ResidentId,
            ticket::Column::SupportCount,
            ticket::Column::SubmittedAt,
        ])
        .filter(rollups::placed_in(&asked.places))
        .filter(ticket::Column::SubmittedAt.gte(before_from))
        .filter(ticket::Column::SubmittedAt.lt(to))
        .filter(ticket::Column::Kind.ne(TicketKind::Praise))
        // Withdrawn and rejected tickets (invalid, out of scope) are no one's problem there.
        .filter(
            ticket::Column::Status
                .is_not_in([Status::Withdrawn.as_str(), Status::Rejected.as_str()]),
        );
    if let Some(c) = search.category {
        query = query.filter(ticket::Column::CategoryId.eq(c));
    }
    let mut rows = query.into_model::<PointRow>().stream(ctx.db).await?;
    let mut out = Points {
        proj: Projection::around(0.0, 0.0),
        now: HashMap::new(),
        before: HashMap::new(),
    };
    let mut projected = false;
    // Tickets placed by their building only (door-knock visits): few, placed after.
    let mut by_building: Vec<PointRow> = Vec::new();
    while let Some(r) = rows.try_next().await? {
        match r.lat.zip(r.lng) {
            Some((lat, lng)) => {
                if !projected {
                    out.proj = Projection::around(lat, lng);
                    projected = true;
                }
                out.add(r, (lat, lng), from);
            }
            None if r.building_id.is_some() => by_building.push(r),
            None => {}
        }
    }
    drop(rows);
    let buildings = building_points(
        ctx,
        by_building.iter().filter_map(|r| r.building_id).collect(),
    )
    .await?;
    for r in by_building {
        if let Some(p) = r.building_id.and_then(|b| buildings.get(&b).copied()) {
            if !projected {
                out.proj = Projection::around(p.0, p.1);
                projected = true;
            }
            out.add(r, p, from);
        }
    }
    Ok(out)
}

impl Points {
    /// Files a ticket under its category, in the period or the one before (`from` divides).
    fn add(&mut self, r: PointRow, (lat, lng): (f64, f64), from: DateTime<Utc>) {
        let xy = self.proj.to_xy(lat, lng);
        if r.submitted_at < from {
            self.before.entry(r.category_id).or_default().push(xy);
        } else {
            self.now.entry(r.category_id).or_default().push(Spot {
                id: r.id,
                xy,
                resident: r.resident_id,
                supports: u32::try_from(r.support_count).unwrap_or(0),
                at: r.submitted_at,
            });
        }
    }
}

/// A cluster found, before its text is read.
struct Found {
    category_id: Uuid,
    members: Vec<usize>,
}

/// The hot spots of an area over a period, the most tickets first.
pub async fn hotspots(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    search: &Search,
) -> ServiceResult<(Asked, Vec<Hotspot>)> {
    let (asked, dir) = ask(ctx, scope, search.area_id, search.period).await?;
    let cfg = &ctx.settings.hotspots;
    let pts = points(ctx, &asked, search).await?;
    let mut found: Vec<Found> = Vec::new();
    for (category_id, spots) in &pts.now {
        let xy: Vec<[f64; 2]> = spots.iter().map(|s| s.xy).collect();
        for members in hotspots::dbscan(&xy, cfg.radius_meters, cfg.min_tickets) {
            found.push(Found {
                category_id: *category_id,
                members,
            });
        }
    }
    found.sort_by(|a, b| {
        b.members
            .len()
            .cmp(&a.members.len())
            .then(a.category_id.cmp(&b.category_id))
    });
    found.truncate(search.limit);
    let mut out: Vec<Hotspot> = found
        .into_iter()
        .map(|f| {
            let code = dir.category(f.category_id).map_or("", |c| c.code.as_str());
            describe(&pts, &asked, code, f, cfg.radius_meters)
        })
        .collect();
    add_texts(ctx, &mut out).await?;
    Ok((asked, out))
}

/// The hot spot `id` names, as it is now (its members may have grown since it was shown);
/// `NotFound` when it is outside the caller's scope or no longer a hot spot.
pub async fn named(ctx: &Ctx<'_>, scope: &StaffScope, id: &str) -> ServiceResult<Hotspot> {
    let named = Named::parse(id).ok_or(ServiceError::NotFound)?;
    let dir = ctx.dir().await?;
    let category = dir
        .category_by_code(&named.category)
        .ok_or(ServiceError::NotFound)?
        .id;
    let search = Search {
        area_id: named.area_id,
        period: named.period,
        category: Some(category),
        limit: usize::MAX,
    };
    let (_, spots) = hotspots(ctx, scope, &search).await?;
    spots
        .into_iter()
        .find(|h| h.ticket_ids.contains(&named.member))
        .ok_or(ServiceError::NotFound)
}

/// What a hot spot's id says: `<area>~<category>~<from>~<to>~<member>`, times in Unix seconds.
struct Named {
    area_id: Uuid,
    category: String,
    period: Period,
    member: Uuid,
}

impl Named {
    /// The period widened to whole seconds (down at its start, up at its end), so reading the
    /// hot spot again takes in every ticket it was made of.
    fn write(area_id: Uuid, category: &str, period: Period, member: Uuid) -> String {
        let end = period.to.timestamp() + i64::from(period.to.timestamp_subsec_nanos() > 0);
        format!(
            "{}~{category}~{}~{end}~{}",
            area_id.simple(),
            period.from.timestamp(),
            member.simple()
        )
    }

    fn parse(id: &str) -> Option<Named> {
        let parts: Vec<&str> = id.split('~').collect();
        let [area, category, from, to, member] = parts.as_slice() else {
            return None;
        };
        let time = |s: &str| DateTime::from_timestamp(s.parse().ok()?, 0);
        let period = Period {
            from: time(from)?,
            to: time(to)?,
        };
        (category.len() <= 64).then_some(())?;
        Some(Named {
            area_id: Uuid::parse_str(area).ok()?,
            category: (*category).to_owned(),
            period,
            member: Uuid::parse_str(member).ok()?,
        })
    }
}

fn describe(pts: &Points, asked: &Asked, code: &str, f: Found, eps: f64) -> Hotspot {
    let spots = &pts.now[&f.category_id];
    let mut members: Vec<&Spot> = f.members.iter().map(|&i| &spots[i]).collect();
    members.sort_by(|a, b| b.at.cmp(&a.at).then(a.id.cmp(&b.id)));
    let xy: Vec<[f64; 2]> = members.iter().map(|s| s.xy).collect();
    let outline = hotspots::outline(&xy, eps / 2.0);
    let previous_count = pts.before.get(&f.category_id).map_or(0, |before| {
        before
            .iter()
            .filter(|p| hotspots::near(&outline, **p, 0.0))
            .count() as u64
    });
    let n = members.len() as f64;
    let (sx, sy) = xy.iter().fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
    let center = pts.proj.to_lat_lng([sx / n, sy / n]);
    let residents: HashSet<Uuid> = members.iter().filter_map(|s| s.resident).collect();
    let seed = members.iter().map(|s| s.id).min().unwrap_or_default();
    let ticket_count = members.len() as u64;
    Hotspot {
        id: Named::write(asked.area_id, code, asked.counted, seed),
        category_id: f.category_id,
        ring: hotspots::ring_lng_lat(&outline, &pts.proj),
        center: (
            (center.0 * 1e6).round() / 1e6,
            (center.1 * 1e6).round() / 1e6,
        ),
        ticket_count,
        resident_count: residents.len() as u64,
        support_count: members.iter().map(|s| u64::from(s.supports)).sum(),
        previous_count,
        trend: Trend::of(ticket_count, previous_count),
        typical: None,
        numbers: vec![],
        ticket_ids: members.iter().map(|s| s.id).collect(),
        first_submitted_at: members.last().map_or(asked.counted.from, |s| s.at),
        last_submitted_at: members.first().map_or(asked.counted.from, |s| s.at),
    }
}

/// Reads the numbers and texts the hot spots show: a few numbers each and the most typical
/// text among the most recent members.
async fn add_texts(ctx: &Ctx<'_>, spots: &mut [Hotspot]) -> ServiceResult<()> {
    let wanted: HashSet<Uuid> = spots
        .iter()
        .flat_map(|h| h.ticket_ids.iter().take(TYPICAL_FROM).copied())
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let mut texts: HashMap<Uuid, (String, String)> = HashMap::new();
    let ids: Vec<Uuid> = wanted.into_iter().collect();
    for chunk in ids.chunks(1000) {
        let rows: Vec<(Uuid, String, Option<String>, String)> = ticket::Entity::find()
            .select_only()
            .columns([
                ticket::Column::Id,
                ticket::Column::Number,
                ticket::Column::Title,
                ticket::Column::Description,
            ])
            .filter(ticket::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(ctx.db)
            .await?;
        for (id, number, title, description) in rows {
            let text = crate::services::text_models::text_of(title, description);
            texts.insert(id, (number, text));
        }
    }
    for h in spots.iter_mut() {
        let recent: Vec<&(String, String)> = h
            .ticket_ids
            .iter()
            .take(TYPICAL_FROM)
            .filter_map(|id| texts.get(id))
            .collect();
        h.numbers = recent
            .iter()
            .take(NUMBERS)
            .map(|(n, _)| n.clone())
            .collect();
        let split: Vec<Vec<String>> = recent.iter().map(|(_, t)| features(t)).collect();
        let weights = Weights::from_texts(split.iter().map(Vec::as_slice));
        let typical = hotspots::most_typical(&split, |a, b| weights.similarity(a, b));
        h.typical = typical.map(|i| (recent[i].0.clone(), redact(&recent[i].1)));
    }
    Ok(())
}
