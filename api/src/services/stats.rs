//! Statistics for community and street offices (SPEC §7): the three rates over an area and a
//! period, broken down by grid, community, worker, category, day or week, exported as CSV and
//! XLSX, a per-grid heatmap and the morning view of each worker's load.
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, FixedOffset, Utc};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter,
    sea_query::{ExprTrait, Query},
};
use uuid::Uuid;

use super::{ServiceError, ServiceResult, rollups, tickets::Ctx};
use crate::domain::{
    AreaKind,
    access::StaffScope,
    rates::{self, Figures, RatingRow, TicketRow, Weights},
    string_enum,
};
use entity::{rating, ticket};

string_enum!(
    /// How a breakdown groups tickets. Day and week go by the Beijing date of submission.
    Grouping { Grid => "grid", Community => "community", Worker => "worker", Category => "category", Day => "day", Week => "week", }
);

impl Grouping {
    pub const ALL: [Grouping; 6] = [
        Grouping::Grid,
        Grouping::Community,
        Grouping::Worker,
        Grouping::Category,
        Grouping::Day,
        Grouping::Week,
    ];
}

/// A ticket as statistics see it: where it sits and its timeline.
struct Scoped {
    id: Uuid,
    grid_id: Option<Uuid>,
    assignee_id: Option<Uuid>,
    category_id: Uuid,
    row: TicketRow,
}

pub struct Data {
    pub area_id: Uuid,
    pub area_name: String,
    pub area_kind: AreaKind,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    now: DateTime<Utc>,
    weights: Weights,
    tickets: Vec<Scoped>,
    ratings: Vec<(Uuid, RatingRow)>,
    names: HashMap<Uuid, String>,
    communities: HashMap<Uuid, Uuid>,
}

pub struct Group {
    pub key: String,
    pub name: String,
    pub figures: Figures,
}

fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| unreachable!("a valid offset"))
}

/// The staff member may read figures of this area: it lies within their scope.
fn may_read(scope: &StaffScope, dir: &super::directory::Directory, area_id: Uuid) -> bool {
    let visible = scope.visible_set(&dir.tree);
    visible.everything || visible.areas.contains(&area_id)
}

/// The area an office asks about, checked against the caller's scope and the period.
pub struct Asked {
    pub area_id: Uuid,
    pub area_name: String,
    pub area_kind: AreaKind,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Every area in its subtree: the places its tickets may count at.
    pub places: Vec<Uuid>,
}

async fn ask(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    area_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ServiceResult<(Asked, std::sync::Arc<super::directory::Directory>)> {
    if to <= from || to - from > Duration::days(3 * 366) {
        return Err(ServiceError::rejected(
            crate::error::Code::InvalidField,
            "to",
            "`to` must follow `from`, at most 3 years apart",
        ));
    }
    let dir = ctx.directory.get(ctx.db).await?;
    let area = dir
        .tree
        .get(area_id)
        .filter(|_| may_read(scope, &dir, area_id))
        .ok_or(ServiceError::NotFound)?;
    let asked = Asked {
        area_id,
        area_name: area.name.clone(),
        area_kind: area.kind,
        from,
        to,
        places: dir.tree.subtree(area_id),
    };
    Ok((asked, dir))
}

fn weights(ctx: &Ctx<'_>) -> Weights {
    Weights {
        basically_satisfied: ctx.settings.stats.basically_satisfied_weight,
        response: ctx.settings.stats.composite_weights.response,
        resolution: ctx.settings.stats.composite_weights.resolution,
        satisfaction: ctx.settings.stats.composite_weights.satisfaction,
    }
}

/// The figures of an area over `[from, to)`: whole days from the daily rollups, the ragged
/// ends and the overdue count from the tickets. Same definitions as [`Data::summary`].
pub async fn summary(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    area_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ServiceResult<(Asked, Figures)> {
    let (asked, _) = ask(ctx, scope, area_id, from, to).await?;
    let tally = rollups::tally(ctx.db, &asked.places, from, to).await?;
    let overdue = rollups::overdue_open(ctx.db, &asked.places, ctx.now()).await?;
    Ok((asked, tally.figures(overdue, weights(ctx))))
}

/// Loads what the figures of `area_id` over `[from, to)` need, once.
pub async fn load(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    area_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ServiceResult<Data> {
    let (asked, dir) = ask(ctx, scope, area_id, from, to).await?;
    let placed = rollups::placed_in(&asked.places);
    let relevant = Condition::any()
        .add(
            ticket::Column::SubmittedAt
                .gte(from)
                .and(ticket::Column::SubmittedAt.lt(to)),
        )
        .add(
            ticket::Column::ResponseDueAt
                .gte(from)
                .and(ticket::Column::ResponseDueAt.lt(to)),
        )
        .add(ticket::Column::Status.is_in(rates::OPEN));
    let rows = ticket::Entity::find()
        .filter(placed.clone())
        .filter(relevant)
        .all(ctx.db)
        .await?;
    let in_scope = Query::select()
        .column(ticket::Column::Id)
        .from(ticket::Entity)
        .cond_where(placed)
        .to_owned();
    let rated = rating::Entity::find()
        .filter(rating::Column::CreatedAt.gte(from))
        .filter(rating::Column::CreatedAt.lt(to))
        .filter(rating::Column::TicketId.in_subquery(in_scope))
        .all(ctx.db)
        .await?;
    let mut names: HashMap<Uuid, String> = dir.tree.all().map(|a| (a.id, a.name.clone())).collect();
    let staff_ids: HashSet<Uuid> = rows.iter().filter_map(|t| t.assignee_id).collect();
    for s in entity::staff::Entity::find()
        .filter(entity::staff::Column::Id.is_in(staff_ids))
        .all(ctx.db)
        .await?
    {
        names.insert(s.id, s.name);
    }
    for c in entity::category::Entity::find().all(ctx.db).await? {
        names.insert(c.id, c.name);
    }
    let communities = rows
        .iter()
        .filter_map(|t| {
            let place = t.grid_id.or(t.handling_area_id)?;
            Some((t.id, dir.tree.enclosing(place, AreaKind::Community)?.id))
        })
        .collect();
    Ok(Data {
        area_id,
        area_name: asked.area_name,
        area_kind: asked.area_kind,
        from,
        to,
        now: ctx.now(),
        weights: weights(ctx),
        ratings: rated
            .into_iter()
            .map(|r| {
                (
                    r.ticket_id,
                    RatingRow {
                        level: r.level,
                        at: r.created_at,
                    },
                )
            })
            .collect(),
        tickets: rows
            .into_iter()
            .map(|t| Scoped {
                id: t.id,
                grid_id: t.grid_id,
                assignee_id: t.assignee_id,
                category_id: t.category_id,
                row: TicketRow {
                    status: t.status,
                    submitted_at: t.submitted_at,
                    response_due_at: t.response_due_at,
                    resolution_due_at: t.resolution_due_at,
                    accepted_at: t.accepted_at,
                    resolved_at: t.resolved_at,
                    closed_at: t.closed_at,
                    reopen_count: t.reopen_count,
                },
            })
            .collect(),
        names,
        communities,
    })
}

impl Data {
    pub fn summary(&self) -> Figures {
        let tickets: Vec<&TicketRow> = self.tickets.iter().map(|t| &t.row).collect();
        let ratings: Vec<&RatingRow> = self.ratings.iter().map(|(_, r)| r).collect();
        rates::compute(
            &tickets,
            &ratings,
            self.from,
            self.to,
            self.now,
            self.weights,
        )
    }

    fn key(&self, t: &Scoped, by: Grouping) -> Option<Uuid> {
        match by {
            Grouping::Grid => t.grid_id,
            Grouping::Community => self.communities.get(&t.id).copied(),
            Grouping::Worker => t.assignee_id,
            Grouping::Category => Some(t.category_id),
            Grouping::Day | Grouping::Week => None,
        }
    }

    fn label(&self, t: &Scoped, by: Grouping) -> (String, String) {
        let local = t.row.submitted_at.with_timezone(&beijing());
        match by {
            Grouping::Day => {
                let d = local.format("%Y-%m-%d").to_string();
                (d.clone(), d)
            }
            Grouping::Week => {
                let w = local.iso_week();
                let k = format!("{}-W{:02}", w.year(), w.week());
                (k.clone(), k)
            }
            _ => match self.key(t, by) {
                Some(id) => (
                    id.to_string(),
                    self.names.get(&id).cloned().unwrap_or_default(),
                ),
                None => ("none".to_owned(), "（未分配）".to_owned()),
            },
        }
    }

    /// The same figures per group, in key order.
    pub fn breakdown(&self, by: Grouping) -> Vec<Group> {
        let mut groups: BTreeMap<String, (String, Vec<&Scoped>)> = BTreeMap::new();
        let mut key_of: HashMap<Uuid, String> = HashMap::new();
        for t in &self.tickets {
            let (key, name) = self.label(t, by);
            key_of.insert(t.id, key.clone());
            groups
                .entry(key)
                .or_insert_with(|| (name, Vec::new()))
                .1
                .push(t);
        }
        groups
            .into_iter()
            .map(|(key, (name, members))| {
                let tickets: Vec<&TicketRow> = members.iter().map(|t| &t.row).collect();
                let ratings: Vec<&RatingRow> = self
                    .ratings
                    .iter()
                    .filter(|(id, _)| key_of.get(id) == Some(&key))
                    .map(|(_, r)| r)
                    .collect();
                let figures = rates::compute(
                    &tickets,
                    &ratings,
                    self.from,
                    self.to,
                    self.now,
                    self.weights,
                );
                Group { key, name, figures }
            })
            .filter(|g| g.figures != Figures::default())
            .collect()
    }

    /// Tickets submitted in the period per grid, for a map layer.
    pub fn per_grid_counts(&self) -> HashMap<Uuid, (u64, u64)> {
        let mut counts: HashMap<Uuid, (u64, u64)> = HashMap::new();
        for t in &self.tickets {
            if let Some(g) = t.grid_id
                && t.row.submitted_at >= self.from
                && t.row.submitted_at < self.to
            {
                let entry = counts.entry(g).or_default();
                entry.0 += 1;
                if rates::OPEN.contains(&t.row.status.as_str()) {
                    entry.1 += 1;
                }
            }
        }
        counts
    }

    /// Open load and overdue per current assignee.
    pub fn worker_load(&self) -> HashMap<Uuid, (u64, u64)> {
        let mut load: HashMap<Uuid, (u64, u64)> = HashMap::new();
        for t in &self.tickets {
            let open = ["assigned", "in_progress"].contains(&t.row.status.as_str());
            if let (Some(a), true) = (t.assignee_id, open) {
                let entry = load.entry(a).or_default();
                entry.0 += 1;
                let late_response = t.row.accepted_at.is_none()
                    && t.row.response_due_at.is_some_and(|d| d < self.now);
                let late_resolution = t.row.resolution_due_at.is_some_and(|d| d < self.now);
                if late_response || late_resolution {
                    entry.1 += 1;
                }
            }
        }
        load
    }

    pub fn name_of(&self, id: Uuid) -> String {
        self.names.get(&id).cloned().unwrap_or_default()
    }
}

fn pct(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_default()
}

fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}")).unwrap_or_default()
}

pub const COLUMNS: [&str; 18] = [
    "分组",
    "受理量",
    "撤回",
    "不予受理",
    "应响应",
    "按时响应",
    "响应率",
    "办结量",
    "解决率",
    "评价数",
    "满意",
    "基本满意",
    "不满意",
    "满意率",
    "重办率",
    "超期未办结",
    "综合得分",
    "响应中位(分钟)",
];

fn cells(name: &str, f: &Figures) -> Vec<String> {
    vec![
        name.to_owned(),
        f.received.to_string(),
        f.withdrawn.to_string(),
        f.rejected.to_string(),
        f.response_due.to_string(),
        f.responded_in_time.to_string(),
        pct(f.response_rate),
        f.resolved.to_string(),
        pct(f.resolution_rate),
        f.rated.to_string(),
        f.satisfied.to_string(),
        f.basically_satisfied.to_string(),
        f.unsatisfied.to_string(),
        pct(f.satisfaction_rate),
        pct(f.reopen_rate),
        f.overdue_open.to_string(),
        num(f.composite_score),
        num(f.median_response_minutes),
    ]
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// CSV in UTF-8 with a byte-order mark, so Excel opens the Chinese correctly.
pub fn csv(data: &Data, by: Option<Grouping>) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&format!(
        "# {} {} — {}\r\n",
        data.area_name,
        data.from.to_rfc3339(),
        data.to.to_rfc3339()
    ));
    out.push_str(&COLUMNS.map(csv_field).join(","));
    out.push_str("\r\n");
    let rows: Vec<(String, Figures)> = match by {
        None => vec![(data.area_name.clone(), data.summary())],
        Some(by) => data
            .breakdown(by)
            .into_iter()
            .map(|g| (g.name, g.figures))
            .collect(),
    };
    for (name, f) in rows {
        out.push_str(
            &cells(&name, &f)
                .iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

/// An XLSX workbook: a summary sheet and one sheet per breakdown, rates as percentages.
pub fn xlsx(data: &Data) -> Result<Vec<u8>, ServiceError> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| ServiceError::Internal(format!("xlsx: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    let sheets: Vec<(String, Vec<(String, Figures)>)> = std::iter::once((
        "汇总".to_owned(),
        vec![(data.area_name.clone(), data.summary())],
    ))
    .chain(Grouping::ALL.iter().map(|by| {
        let name = match by {
            Grouping::Grid => "按网格",
            Grouping::Community => "按社区",
            Grouping::Worker => "按人员",
            Grouping::Category => "按类别",
            Grouping::Day => "按日",
            Grouping::Week => "按周",
        };
        (
            name.to_owned(),
            data.breakdown(*by)
                .into_iter()
                .map(|g| (g.name, g.figures))
                .collect(),
        )
    }))
    .collect();
    let period = format!(
        "{}　{} 至 {}",
        data.area_name,
        data.from.with_timezone(&beijing()).format("%Y-%m-%d %H:%M"),
        data.to.with_timezone(&beijing()).format("%Y-%m-%d %H:%M")
    );
    for (title, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(&title).map_err(err)?;
        sheet
            .write_string_with_format(0, 0, &period, &bold)
            .map_err(err)?;
        for (c, h) in COLUMNS.iter().enumerate() {
            sheet
                .write_string_with_format(1, c as u16, *h, &bold)
                .map_err(err)?;
        }
        for (i, (name, f)) in rows.iter().enumerate() {
            let r = (i + 2) as u32;
            sheet.write_string(r, 0, name).map_err(err)?;
            let values: [(u16, Option<f64>, bool); 17] = [
                (1, Some(f.received as f64), false),
                (2, Some(f.withdrawn as f64), false),
                (3, Some(f.rejected as f64), false),
                (4, Some(f.response_due as f64), false),
                (5, Some(f.responded_in_time as f64), false),
                (6, f.response_rate, true),
                (7, Some(f.resolved as f64), false),
                (8, f.resolution_rate, true),
                (9, Some(f.rated as f64), false),
                (10, Some(f.satisfied as f64), false),
                (11, Some(f.basically_satisfied as f64), false),
                (12, Some(f.unsatisfied as f64), false),
                (13, f.satisfaction_rate, true),
                (14, f.reopen_rate, true),
                (15, Some(f.overdue_open as f64), false),
                (16, f.composite_score, false),
                (17, f.median_response_minutes, false),
            ];
            for (c, v, is_pct) in values {
                match (v, is_pct) {
                    (Some(v), true) => sheet
                        .write_number_with_format(r, c, v, &percent)
                        .map_err(err)?,
                    (Some(v), false) => sheet.write_number(r, c, v).map_err(err)?,
                    (None, _) => sheet.write_string(r, c, "").map_err(err)?,
                };
            }
        }
        sheet.set_column_width(0, 24).map_err(err)?;
    }
    book.save_to_buffer().map_err(err)
}

/// The ids of grid workers and assistants under an area, for the morning view.
pub async fn workers_of(
    ctx: &Ctx<'_>,
    area_id: Uuid,
) -> ServiceResult<Vec<(Uuid, String, String)>> {
    let dir = ctx.directory.get(ctx.db).await?;
    let subtree = dir.tree.subtree(area_id);
    let assignments = entity::staff_assignment::Entity::find()
        .filter(entity::staff_assignment::Column::AreaId.is_in(subtree))
        .filter(entity::staff_assignment::Column::Role.is_in([
            "grid_worker",
            "grid_assistant",
            "community_admin",
        ]))
        .all(ctx.db)
        .await?;
    let ids: Vec<Uuid> = assignments.iter().map(|a| a.staff_id).collect();
    let staff: HashMap<Uuid, entity::staff::Model> = entity::staff::Entity::find()
        .filter(entity::staff::Column::Id.is_in(ids))
        .all(ctx.db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let mut out: Vec<(Uuid, String, String)> = assignments
        .into_iter()
        .filter_map(|a| {
            staff
                .get(&a.staff_id)
                .map(|s| (s.id, s.name.clone(), a.role))
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    out.dedup_by_key(|w| w.0);
    Ok(out)
}
