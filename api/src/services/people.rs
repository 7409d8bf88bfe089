//! The people in a staff member's scope (for transfer and assignment, with the tickets each
//! holds open), and the staff accounts of the deployment for system administrators.
use std::collections::{HashMap, HashSet};

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{
    Ctx, ServiceError, ServiceResult, contains_pattern, directory::Directory, me::roles,
    ticket_status_in,
};
use crate::{
    domain::{StaffRole, StaffStatus, access::StaffScope, lifecycle::Status},
    schemas::places::{StaffAccount, StaffAccountPage, StaffItem, StaffList},
};

/// At most this many people in one answer of `GET /staff`.
const MAX_PEOPLE: usize = 200;

/// Open tickets held by each of `ids`.
async fn open_counts(db: &impl ConnectionTrait, ids: &[Uuid]) -> ServiceResult<HashMap<Uuid, u64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    use entity::ticket::Column as T;
    let rows: Vec<(Uuid, i64)> = entity::ticket::Entity::find()
        .select_only()
        .column(T::AssigneeId)
        .expr(Expr::col(T::Id).count())
        .filter(T::AssigneeId.is_in(ids.iter().copied()))
        .filter(ticket_status_in(&Status::OPEN))
        .group_by(T::AssigneeId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, u64::try_from(n).unwrap_or(0)))
        .collect())
}

fn matches(text: &str, q: &str) -> bool {
    text.to_lowercase().contains(&q.to_lowercase())
}

/// Staff holding a role in an area the caller sees (within `area`, when given; `404` for an
/// area outside their sight), of `role`, whose name contains `q`; not those who left.
pub async fn in_scope(
    ctx: &Ctx<'_>,
    dir: &Directory,
    scope: &StaffScope,
    area: Option<Uuid>,
    role: Option<StaffRole>,
    q: Option<&str>,
) -> ServiceResult<StaffList> {
    let sight = scope.visible_set(&dir.tree);
    let mut areas: HashSet<Uuid> = if sight.everything {
        dir.tree.all().map(|n| n.id).collect()
    } else {
        let mut set = sight.areas.clone();
        for (subtree, _) in &sight.departments {
            set.extend(subtree.iter().copied());
        }
        set
    };
    let sight_all = areas.clone();
    if let Some(a) = area {
        if !areas.contains(&a) {
            return Err(ServiceError::NotFound);
        }
        let below: HashSet<Uuid> = dir.tree.subtree(a).into_iter().collect();
        areas.retain(|x| below.contains(x));
    }
    let mut people: Vec<(Uuid, &super::directory::Person)> = dir
        .people()
        .filter(|(_, p)| p.status != StaffStatus::Left)
        .filter(|(_, p)| {
            p.roles.iter().any(|r| {
                r.assignment.area_id.is_some_and(|a| areas.contains(&a))
                    && role.is_none_or(|want| r.assignment.role == want)
            })
        })
        // By name: logins are for administrators (`GET /admin/staff`).
        .filter(|(_, p)| q.is_none_or(|q| matches(&p.name, q)))
        .collect();
    people.sort_by(|a, b| (&a.1.name, a.0).cmp(&(&b.1.name, b.0)));
    people.truncate(MAX_PEOPLE);
    let ids: Vec<Uuid> = people.iter().map(|(id, _)| *id).collect();
    let open = open_counts(ctx.db, &ids).await?;
    Ok(StaffList {
        items: people
            .into_iter()
            .map(|(id, p)| StaffItem {
                id,
                name: p.name.clone(),
                status: p.status,
                // The roles the caller may see: those in the areas of their sight.
                roles: roles(dir, p)
                    .into_iter()
                    .filter(|r| r.area.as_ref().is_some_and(|a| sight_all.contains(&a.id)))
                    .collect(),
                open_tickets: open.get(&id).copied().unwrap_or(0),
            })
            .collect(),
    })
}

/// A page of every staff account by login, for system administrators.
pub async fn accounts(
    ctx: &Ctx<'_>,
    dir: &Directory,
    q: Option<&str>,
    status: Option<StaffStatus>,
    cursor: Option<&str>,
    limit: u64,
) -> ServiceResult<StaffAccountPage> {
    use entity::staff::Column as S;
    let mut find = entity::staff::Entity::find();
    if let Some(q) = q {
        find = find.filter(
            Condition::any()
                .add(S::Name.like(contains_pattern(q)))
                .add(S::Login.like(contains_pattern(q))),
        );
    }
    if let Some(status) = status {
        find = find.filter(S::Status.eq(status.as_str()));
    }
    if let Some(after) = cursor {
        let after = super::cursors::decode("login", after)?;
        find = find.filter(S::Login.gt(after));
    }
    let mut rows = find
        .order_by_asc(S::Login)
        .limit(limit + 1)
        .all(ctx.db)
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let open = open_counts(ctx.db, &ids).await?;
    let next_cursor = more
        .then(|| {
            rows.last()
                .map(|r| super::cursors::encode("login", &r.login))
        })
        .flatten();
    Ok(StaffAccountPage {
        items: rows
            .into_iter()
            .map(|s| StaffAccount {
                person: StaffItem {
                    roles: dir.person(s.id).map(|p| roles(dir, p)).unwrap_or_default(),
                    open_tickets: open.get(&s.id).copied().unwrap_or(0),
                    id: s.id,
                    name: s.name,
                    status: s.status,
                },
                login: s.login,
            })
            .collect(),
        next_cursor,
    })
}
