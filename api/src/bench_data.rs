//! `qiaomen bench-data --tickets N`: fills a database with a street-scale world for benchmarks —
//! the demo street (areas, staff, categories), residents, and N tickets spread over a year with
//! their events and ratings, written in batched multi-row inserts, then the statistics rollups
//! rebuilt. Deterministic for a given seed, so two runs measure the same data.
//!
//! Ticket lives follow what a street office sees: most are accepted well within their response
//! SLA (some late), resolved within hours or days, rated by three in four residents (a few
//! unsatisfied, reopened and resolved again); a few are withdrawn or rejected; the ones whose
//! life has not finished by now stay open.
use std::{collections::BTreeMap, time::Instant};

use chrono::{DateTime, Duration, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::{OnConflict, Query},
};
use uuid::Uuid;

use crate::{
    domain::{
        ActorKind, AreaKind, Channel, HandlingLevel, Priority, RatingLevel, StaffRole, TicketKind,
        Visibility, lifecycle::Status,
    },
    services::{self, ServiceError, ServiceResult, auth::PrincipalKind, rollups},
    state::SharedState,
};
use entity::{area, category, rating, resident, staff_assignment, ticket, ticket_event};

pub struct Options {
    pub tickets: u64,
    pub residents: u64,
    pub days: i64,
    pub seed: u64,
}

/// What a load test needs to drive the API as real users: tokens and ids.
#[derive(serde::Serialize)]
pub struct Handles {
    pub street_id: Uuid,
    pub street_admin_token: String,
    pub resident_tokens: Vec<String>,
    pub worker_tokens: Vec<String>,
    pub ticket_ids: Vec<Uuid>,
    pub points: Vec<(f64, f64)>,
}

/// SplitMix64: small, fast and good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Exponentially distributed with the given mean.
    fn exp(&mut self, mean: f64) -> f64 {
        -(1.0 - self.unit()).ln() * mean
    }
}

struct Grid {
    id: Uuid,
    community: Uuid,
    worker: Uuid,
    centre: (f64, f64),
    buildings: Vec<Uuid>,
}

struct Category {
    id: Uuid,
    level: HandlingLevel,
    response_minutes: i64,
    resolution_hours: i64,
}

struct World {
    street: Uuid,
    street_admin: Uuid,
    department: Uuid,
    community_admins: BTreeMap<Uuid, Uuid>,
    grids: Vec<Grid>,
    categories: Vec<Category>,
}

fn err(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(e.to_string())
}

async fn world(db: &DatabaseConnection) -> ServiceResult<World> {
    services::seed::demo(db, chrono::Utc::now()).await?;
    let areas = area::Entity::find().all(db).await?;
    let street = areas
        .iter()
        .find(|a| a.code.as_deref() == Some(services::seed::DEMO_STREET_CODE))
        .ok_or_else(|| err("the demo street is missing"))?
        .id;
    let assignments = staff_assignment::Entity::find().all(db).await?;
    let holder = |role: StaffRole, area: Uuid| {
        assignments
            .iter()
            .find(|a| a.role == role && a.area_id == Some(area))
            .map(|a| a.staff_id)
    };
    let buildings = entity::building::Entity::find().all(db).await?;
    let mut grids = Vec::new();
    let mut community_admins = BTreeMap::new();
    for a in areas.iter().filter(|a| a.kind == AreaKind::Grid) {
        let community = a.parent_id.ok_or_else(|| err("grid without community"))?;
        let mine: Vec<&entity::building::Model> =
            buildings.iter().filter(|b| b.grid_id == a.id).collect();
        let (lat, lng) = mine
            .iter()
            .filter_map(|b| Some((b.lat?, b.lng?)))
            .next()
            .ok_or_else(|| err("grid without a located building"))?;
        let admin = holder(StaffRole::CommunityAdmin, community)
            .ok_or_else(|| err("community without admin"))?;
        community_admins.insert(community, admin);
        grids.push(Grid {
            id: a.id,
            community,
            worker: holder(StaffRole::GridWorker, a.id)
                .ok_or_else(|| err("grid without worker"))?,
            centre: (lat, lng),
            buildings: mine.iter().map(|b| b.id).collect(),
        });
    }
    let categories = category::Entity::find()
        .filter(category::Column::Active.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|c| Category {
            id: c.id,
            level: c.handling_level,
            response_minutes: i64::from(c.response_minutes),
            resolution_hours: i64::from(c.resolution_hours),
        })
        .collect();
    Ok(World {
        street,
        street_admin: holder(StaffRole::StreetAdmin, street)
            .ok_or_else(|| err("street without admin"))?,
        department: holder(StaffRole::Department, street)
            .ok_or_else(|| err("street without department"))?,
        community_admins,
        grids,
        categories,
    })
}

/// One generated ticket with what it brings along.
struct Life {
    ticket: ticket::ActiveModel,
    events: Vec<ticket_event::ActiveModel>,
    ratings: Vec<rating::ActiveModel>,
}

#[allow(clippy::too_many_arguments)]
fn event(
    ticket: Uuid,
    seq: i32,
    actor: (ActorKind, Option<Uuid>),
    action: &str,
    from: Option<Status>,
    to: Option<Status>,
    note: Option<&str>,
    at: DateTime<Utc>,
) -> ticket_event::ActiveModel {
    ticket_event::ActiveModel {
        public_note: Set(None),
        id: Set(Uuid::new_v4()),
        ticket_id: Set(ticket),
        seq: Set(seq),
        actor_kind: Set(actor.0),
        actor_id: Set(actor.1),
        action: Set(action.to_owned()),
        from_status: Set(from),
        to_status: Set(to),
        note: Set(note.map(str::to_owned)),
        visibility: Set(Visibility::Public),
        created_at: Set(at),
        moderation: Set(None),
        moderation_label: Set(None),
    }
}

const TEXTS: [&str; 8] = [
    "楼道里堆放杂物，影响通行，请尽快清理。",
    "小区东门路灯不亮已经三天了，晚上出行不便。",
    "楼下餐馆油烟和噪音很大，晚上十点后还在营业。",
    "消防通道被私家车长期占用，存在安全隐患。",
    "垃圾桶满溢没有及时清运，气味很大。",
    "绿化带里的树枝断了，悬在人行道上方。",
    "有人在人行道上摆摊，占道经营。",
    "独居老人家里的燃气报警器一直在响，请帮忙看看。",
];

/// A ticket's whole life from its submission, cut off at `now`.
fn life(
    rng: &mut Rng,
    w: &World,
    residents: &[Uuid],
    submitted_at: DateTime<Utc>,
    now: DateTime<Utc>,
    number: String,
) -> Life {
    let id = Uuid::new_v4();
    let grid = &w.grids[rng.below(w.grids.len())];
    let cat = &w.categories[rng.below(w.categories.len())];
    let resident_id = residents[rng.below(residents.len())];
    let (handling, assignee) = match cat.level {
        HandlingLevel::Grid => (grid.id, grid.worker),
        HandlingLevel::Community => (
            grid.community,
            w.community_admins
                .get(&grid.community)
                .copied()
                .unwrap_or(grid.worker),
        ),
        HandlingLevel::Street => (w.street, w.department),
    };
    let response_due = submitted_at + Duration::minutes(cat.response_minutes);
    let resolution_due = submitted_at + Duration::hours(cat.resolution_hours);
    let resident = (ActorKind::Resident, Some(resident_id));
    let worker = (ActorKind::Staff, Some(assignee));
    let mut events = vec![
        event(
            id,
            1,
            resident,
            "submit",
            None,
            Some(Status::Submitted),
            None,
            submitted_at,
        ),
        event(
            id,
            2,
            (ActorKind::System, None),
            "route",
            Some(Status::Submitted),
            Some(Status::Assigned),
            Some("按网格分派"),
            submitted_at,
        ),
    ];
    let mut ratings = Vec::new();
    let mut status = Status::Assigned;
    let (mut accepted_at, mut resolved_at, mut closed_at) = (None, None, None);
    let mut reopen_count = 0;
    let mut at = submitted_at;
    let step = |events: &mut Vec<ticket_event::ActiveModel>,
                when: DateTime<Utc>,
                actor: (ActorKind, Option<Uuid>),
                action: &str,
                from: Status,
                to: Status| {
        let seq = events.len() as i32 + 1;
        events.push(event(
            id,
            seq,
            actor,
            action,
            Some(from),
            Some(to),
            None,
            when,
        ));
    };
    let fate = rng.unit();
    'life: {
        if fate < 0.03 {
            at += Duration::minutes(1 + rng.exp(20.0) as i64);
            if at > now {
                break 'life;
            }
            step(
                &mut events,
                at,
                resident,
                "withdraw",
                Status::Assigned,
                Status::Withdrawn,
            );
            status = Status::Withdrawn;
            closed_at = Some(at);
            break 'life;
        }
        // Acceptance: nine in ten within the response SLA, the rest late.
        let minutes = if rng.chance(0.9) {
            1 + rng.below(cat.response_minutes.max(2) as usize - 1) as i64
        } else {
            cat.response_minutes + 1 + rng.exp(cat.response_minutes as f64 / 2.0) as i64
        };
        at += Duration::minutes(minutes);
        if at > now {
            break 'life;
        }
        if fate < 0.06 {
            step(
                &mut events,
                at,
                worker,
                "reject",
                Status::Assigned,
                Status::Rejected,
            );
            status = Status::Rejected;
            closed_at = Some(at);
            break 'life;
        }
        step(
            &mut events,
            at,
            worker,
            "accept",
            Status::Assigned,
            Status::InProgress,
        );
        status = Status::InProgress;
        accepted_at = Some(at);
        for round in 0..2 {
            let mean = (cat.resolution_hours * 60) as f64 * 0.3;
            at += Duration::minutes(10 + rng.exp(mean) as i64);
            if at > now {
                break 'life;
            }
            step(
                &mut events,
                at,
                worker,
                "resolve",
                Status::InProgress,
                Status::Resolved,
            );
            status = Status::Resolved;
            resolved_at = Some(at);
            if !rng.chance(0.75) {
                break 'life; // never rated (auto-close is the scheduler's, later)
            }
            at += Duration::minutes(5 + rng.exp(600.0) as i64);
            if at > now {
                break 'life;
            }
            let roll = rng.unit();
            let level = if round == 1 || roll < 0.80 {
                RatingLevel::Satisfied
            } else if roll < 0.93 {
                RatingLevel::BasicallySatisfied
            } else {
                RatingLevel::Unsatisfied
            };
            ratings.push(rating::ActiveModel {
                id: Set(Uuid::new_v4()),
                ticket_id: Set(id),
                round: Set(reopen_count),
                resident_id: Set(resident_id),
                level: Set(level),
                score: Set(None),
                comment: Set(None),
                reasons: Set(match level {
                    RatingLevel::Unsatisfied => Some("not_solved".to_owned()),
                    _ => None,
                }),
                created_at: Set(at),
            });
            if level != RatingLevel::Unsatisfied {
                step(
                    &mut events,
                    at,
                    resident,
                    "rate",
                    Status::Resolved,
                    Status::Closed,
                );
                status = Status::Closed;
                closed_at = Some(at);
                break 'life;
            }
            step(
                &mut events,
                at,
                resident,
                "reopen",
                Status::Resolved,
                Status::Assigned,
            );
            reopen_count += 1;
            resolved_at = None;
            at += Duration::minutes(5 + rng.exp(60.0) as i64);
            if at > now {
                status = Status::Assigned;
                break 'life;
            }
            step(
                &mut events,
                at,
                worker,
                "accept",
                Status::Assigned,
                Status::InProgress,
            );
            status = Status::InProgress;
        }
    }
    let (lat, lng) = grid.centre;
    let ticket = ticket::ActiveModel {
        id: Set(id),
        number: Set(number),
        kind: Set(if rng.chance(0.7) {
            TicketKind::Complaint
        } else {
            TicketKind::Suggestion
        }),
        category_id: Set(cat.id),
        title: Set(None),
        description: Set(TEXTS[rng.below(TEXTS.len())].to_owned()),
        lat: Set(Some(lat + (rng.unit() - 0.5) * 0.004)),
        lng: Set(Some(lng + (rng.unit() - 0.5) * 0.004)),
        coord_system: Set(Some("wgs84".to_owned())),
        address_text: Set(None),
        building_id: Set(grid.buildings.get(rng.below(grid.buildings.len())).copied()),
        grid_id: Set(Some(grid.id)),
        handling_area_id: Set(Some(handling)),
        assignee_id: Set(Some(assignee)),
        status: Set(status),
        priority: Set(Priority::Normal),
        anonymous: Set(false),
        contact_phone: Set(None),
        channel: Set(Channel::MiniProgram),
        resident_id: Set(Some(resident_id)),
        created_by_staff_id: Set(None),
        response_due_at: Set(Some(response_due)),
        resolution_due_at: Set(Some(resolution_due)),
        submitted_at: Set(submitted_at),
        accepted_at: Set(accepted_at),
        resolved_at: Set(resolved_at),
        closed_at: Set(closed_at),
        reopen_count: Set(reopen_count),
        return_visit_required: Set(false),
        duplicate_of: Set(None),
        reject_reason: Set((status == Status::Rejected).then(|| "不属于受理范围".to_owned())),
        event_count: Set(events.len() as i32),
        version: Set(events.len() as i32),
        idempotency_key: Set(None),
        request_hash: Set(None),
        next_response_check_at: Set(None),
        resolution_overdue: Set(false),
        return_visit_at: Set(None),
        return_visit_outcome: Set(None),
        return_visit_note: Set(None),
        moderation: Set(None),
        moderation_label: Set(None),
        visit_id: Set(None),
        public: Set(false),
        support_count: Set(0),
        created_at: Set(submitted_at),
        updated_at: Set(at.min(now)),
        response_counted_at: Set(None),
        resolution_counted_at: Set(None),
        excluded_from_rates: Set(false),
        praised_staff_id: Set(None),
        follows_ticket_id: Set(None),
        response_staff_id: Set(Some(assignee)),
        resolution_staff_id: Set(Some(assignee)),
        personal_data_removed_at: Set(None),
        return_count: Set(0),
        supervised_until: Set(None),
        supervised_by: Set(None),
        supervision_note: Set(None),
        suspended_at: Set(None),
        suspended_until: Set(None),
        suspended_due_at: Set(None),
        caller_name: Set(None),
        claim_code: Set(None),
        return_visit_cause: Set(None),
        return_visit_reasons: Set(None),
        topic_id: Set(None),
    };
    let mut ticket = ticket;
    // Generated rows are whole: setting their moments cannot fail.
    let _ = rollups::stamp_moments(None, &mut ticket, now);
    Life {
        ticket,
        events,
        ratings,
    }
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:>10} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} ({per_sec}, ETA {eta})",
    ) {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

async fn write_batch(db: &DatabaseConnection, lives: Vec<Life>) -> ServiceResult<()> {
    let txn = db.begin().await?;
    let mut events = Vec::new();
    let mut ratings = Vec::new();
    let mut tickets = Vec::with_capacity(lives.len());
    for l in lives {
        tickets.push(l.ticket);
        events.extend(l.events);
        ratings.extend(l.ratings);
    }
    insert_chunks(&txn, tickets).await?;
    insert_chunks(&txn, events).await?;
    insert_chunks(&txn, ratings).await?;
    txn.commit().await?;
    Ok(())
}

/// Multi-row inserts of as many rows as stay under SQLite's 32,766 bind parameters (PostgreSQL
/// allows 65,535).
async fn insert_chunks<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> ServiceResult<()>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    use sea_orm::Iterable;
    let per = 32_000 / <A::Entity as EntityTrait>::Column::iter().count().max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per).collect();
        A::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Fills the database; returns handles for load tests.
pub async fn generate(state: &SharedState, opts: Options) -> ServiceResult<Handles> {
    let db = &state.db;
    let started = Instant::now();
    let prefix = format!("bench-{}-", opts.seed);
    let taken = resident::Entity::find()
        .filter(resident::Column::Openid.starts_with(prefix.as_str()))
        .one(db)
        .await?
        .is_some();
    if taken {
        return Err(err(format!(
            "this database already holds bench data of seed {}: use another --seed or a fresh database",
            opts.seed
        )));
    }
    let w = world(db).await?;
    let mut rng = Rng(opts.seed);
    let now = state.clock.now();

    let residents_bar = bar(opts.residents, "residents");
    let mut residents = Vec::with_capacity(opts.residents as usize);
    let mut batch = Vec::new();
    let mut agreed = Vec::new();
    for i in 0..opts.residents {
        let id = Uuid::new_v4();
        residents.push(id);
        // They agreed to the privacy notice when they started, as the mini-program asks.
        agreed.push(entity::privacy_agreement::ActiveModel {
            id: Set(Uuid::new_v4()),
            resident_id: Set(id),
            version: Set(state.notice.version.clone()),
            client: Set(None),
            agreed_at: Set(now - Duration::days(opts.days)),
        });
        batch.push(resident::ActiveModel {
            id: Set(id),
            openid: Set(format!("{prefix}{i:07}")),
            unionid: Set(None),
            phone: Set(None),
            home_building_id: Set(None),
            closed_at: Set(None),
            anonymise_at: Set(None),
            anonymised_at: Set(None),
            token_version: Set(0),
            created_at: Set(now - Duration::days(opts.days)),
            updated_at: Set(now - Duration::days(opts.days)),
        });
        if batch.len() == 5_000 || i + 1 == opts.residents {
            insert_chunks(db, std::mem::take(&mut batch)).await?;
            insert_chunks(db, std::mem::take(&mut agreed)).await?;
            residents_bar.set_position(i + 1);
        }
    }
    residents_bar.finish();
    if residents.is_empty() {
        return Err(err("at least one resident is needed"));
    }

    // Submission instants over the period, sorted, busier by day than by night.
    let start = rollups::day_start(rollups::day_of(now - Duration::days(opts.days)));
    let mut instants: Vec<DateTime<Utc>> = (0..opts.tickets)
        .map(|_| {
            let day = rng.below(opts.days as usize) as i64;
            let hour = if rng.chance(0.85) {
                7.0 + rng.unit() * 14.0
            } else {
                rng.unit() * 24.0
            };
            // Beijing hours: UTC is 8 h behind.
            start + Duration::days(day) + Duration::seconds(((hour - 8.0) * 3600.0) as i64)
        })
        .filter(|t| *t < now)
        .collect();
    instants.sort();

    let tickets_bar = bar(instants.len() as u64, "tickets");
    let mut per_day: BTreeMap<String, i64> = BTreeMap::new();
    let mut sample = Vec::new();
    let mut lives = Vec::with_capacity(5_000);
    for (i, at) in instants.iter().enumerate() {
        let day = rollups::day_of(*at).format("%Y%m%d").to_string();
        let seq = per_day.entry(day.clone()).or_insert(0);
        *seq += 1;
        let l = life(
            &mut rng,
            &w,
            &residents,
            *at,
            now,
            format!("QM-{day}-{seq:06}"),
        );
        if i % 997 == 0
            && let sea_orm::ActiveValue::Set(id) = &l.ticket.id
        {
            sample.push(*id);
        }
        lives.push(l);
        if lives.len() == 5_000 {
            write_batch(db, std::mem::take(&mut lives)).await?;
            tickets_bar.set_position(i as u64 + 1);
        }
    }
    write_batch(db, lives).await?;
    tickets_bar.finish();

    // Numbers drawn later continue after the generated ones.
    for (day, last) in per_day {
        let stmt = Query::insert()
            .into_table("ticket_number_seq")
            .columns(["day", "last"])
            .values_panic([day.into(), last.into()])
            .on_conflict(OnConflict::column("day").update_column("last").to_owned())
            .to_owned();
        db.execute(&stmt).await?;
    }

    let rollup_bar = bar(instants.len() as u64, "rollups");
    rollups::rebuild(db, &|n| rollup_bar.set_position(n)).await?;
    rollup_bar.finish();
    tracing::info!(
        tickets = instants.len(),
        seconds = started.elapsed().as_secs_f64(),
        "bench data written"
    );

    let tokens = &state.tokens;
    Ok(Handles {
        street_id: w.street,
        street_admin_token: tokens.issue(w.street_admin, PrincipalKind::Staff, 0)?,
        resident_tokens: residents
            .iter()
            .take(200)
            .map(|r| tokens.issue(*r, PrincipalKind::Resident, 0))
            .collect::<Result<_, _>>()?,
        worker_tokens: w
            .grids
            .iter()
            .map(|g| tokens.issue(g.worker, PrincipalKind::Staff, 0))
            .collect::<Result<_, _>>()?,
        ticket_ids: sample,
        points: w.grids.iter().map(|g| g.centre).collect(),
    })
}
