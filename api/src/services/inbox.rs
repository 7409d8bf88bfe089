//! The in-app inbox, the channel of record: every notification is an inbox row written in the
//! same transaction as the change (see [`super::notify`]); WeChat and 企业微信 are deliveries of
//! it. A recipient reads their own rows only, newest first, and marks them read.
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, sea_query::Expr,
};
use uuid::Uuid;

use super::{ServiceResult, cursors};
use entity::notification;

/// Who an inbox belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recipient {
    Resident(Uuid),
    Staff(Uuid),
}

impl Recipient {
    pub fn kind(self) -> &'static str {
        match self {
            Recipient::Resident(_) => "resident",
            Recipient::Staff(_) => "staff",
        }
    }

    pub fn id(self) -> Uuid {
        match self {
            Recipient::Resident(id) | Recipient::Staff(id) => id,
        }
    }

    fn mine(self) -> Condition {
        Condition::all()
            .add(notification::Column::RecipientId.eq(self.id()))
            .add(notification::Column::RecipientKind.eq(self.kind()))
    }
}

/// A message's title and body as its recipient reads them.
pub fn wording(event: &str, staff: bool, number: &str, title: &str) -> (String, String) {
    let head = match (event, staff) {
        ("accepted", _) => "您的诉求已受理",
        ("resolved", _) => "您的诉求已办结，请评价",
        ("rejected", _) => "您的诉求未予受理",
        ("escalated", _) => "您的诉求已上报办理",
        ("auto_closed", _) => "您的诉求已关闭",
        ("assigned", _) => "有新工单待您处理",
        ("reopened", _) => "工单被重新打开",
        ("overdue", _) => "工单已超时",
        ("praised", _) => "居民表扬了您",
        ("returned", _) => "有工单被退回，请重新派单",
        ("return_flagged", _) => "工单多次退单，请关注",
        ("supervised", _) => "工单被督办，请按期办结",
        ("supervision_missed", _) => "督办工单超期未办结，已上报",
        ("extension_requested", _) => "有延期或挂账申请待审批",
        ("extension_approved", _) => "您的延期或挂账申请已批准",
        ("extension_refused", _) => "您的延期或挂账申请未获批准",
        ("extended", _) => "您的诉求办理期限已延长",
        ("suspended", _) => "您的诉求需等待相关单位处理，暂缓办理",
        ("resumed", _) => "您的诉求已恢复办理",
        ("corrected", _) => "您的诉求类别或位置已更正",
        ("topic_linked", _) => "您的诉求已纳入每月一题",
        ("topic_update", _) => "每月一题有新进展",
        (_, true) => "工单有更新",
        (_, false) => "您的诉求有更新",
    };
    (head.to_owned(), format!("工单 {number}：{title}"))
}

/// Writes an inbox row (in the caller's transaction).
pub async fn write(
    db: &impl ConnectionTrait,
    to: Recipient,
    event: &str,
    ticket: &entity::ticket::Model,
    title: &str,
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let (head, body) = wording(
        event,
        matches!(to, Recipient::Staff(_)),
        &ticket.number,
        title,
    );
    notification::ActiveModel {
        id: Set(Uuid::new_v4()),
        recipient_kind: Set(to.kind().to_owned()),
        recipient_id: Set(to.id()),
        ticket_id: Set(Some(ticket.id)),
        kind: Set(event.to_owned()),
        title: Set(head),
        body: Set(body),
        created_at: Set(at),
        read_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub struct Page {
    pub items: Vec<notification::Model>,
    pub next_cursor: Option<String>,
    pub unread_count: u64,
}

const CURSOR: &str = "inbox";

/// The recipient's inbox, newest first, `limit` at a time (only unread ones with `unread`).
pub async fn list(
    db: &impl ConnectionTrait,
    to: Recipient,
    unread: bool,
    cursor: Option<&str>,
    limit: u64,
) -> ServiceResult<Page> {
    let mut q = notification::Entity::find().filter(to.mine());
    if unread {
        q = q.filter(notification::Column::ReadAt.is_null());
    }
    // Keyset: after (created_at, id) of the last row shown.
    if let Some(c) = cursor {
        let (at, id) = cursors::parse_keyset(&cursors::decode(CURSOR, c)?)?;
        q = q.filter(
            Condition::any()
                .add(notification::Column::CreatedAt.lt(at))
                .add(
                    Condition::all()
                        .add(notification::Column::CreatedAt.eq(at))
                        .add(notification::Column::Id.lt(id)),
                ),
        );
    }
    let mut items = q
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = items.len() as u64 > limit;
    items.truncate(limit as usize);
    let next_cursor = items
        .last()
        .filter(|_| more)
        .map(|n| cursors::encode(CURSOR, &cursors::keyset_value(n.created_at, n.id)));
    Ok(Page {
        items,
        next_cursor,
        unread_count: unread_count(db, to).await?,
    })
}

pub async fn unread_count(db: &impl ConnectionTrait, to: Recipient) -> ServiceResult<u64> {
    Ok(notification::Entity::find()
        .filter(to.mine())
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// Marks the recipient's rows read: those of `ids` (others' ids are ignored), or all. Returns
/// how many stay unread.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    to: Recipient,
    ids: &[Uuid],
    all: bool,
    at: DateTime<Utc>,
) -> ServiceResult<u64> {
    let mut q = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(at))
        .filter(to.mine())
        .filter(notification::Column::ReadAt.is_null());
    if !all {
        q = q.filter(notification::Column::Id.is_in(ids.iter().copied()));
    }
    q.exec(db).await?;
    unread_count(db, to).await
}
