//! Orchestration over the database: each function takes a connection (or the app state), uses
//! the pure `domain` modules to decide, and returns a [`ServiceError`] when it must refuse.
pub mod areas;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod board;
pub mod categories;
pub mod context;
pub mod cursors;
pub mod directory;
pub mod duplicates;
pub mod grants;
pub mod inbox;
pub mod listing;
pub mod me;
pub mod media_urls;
pub mod notify;
pub mod open311;
pub mod outbox;
pub mod passwords;
pub mod people;
pub mod places;
pub mod privacy;
pub mod public;
pub mod rollups;
pub mod routing;
pub mod safety;
pub mod seed;
pub mod sla;
pub mod staff;
pub mod stats;
pub mod text_models;
pub mod tickets;
pub mod timelines;
pub mod topics;
pub mod visits;
pub mod wechat_push;
pub mod work_lists;

pub use context::{Caller, Ctx};

use chrono::{DateTime, Utc};

use crate::{
    domain::{
        inputs::{InputError, InputProblem},
        lifecycle::{Action, NotAllowed, Status},
    },
    error::Code,
};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{code:?} {field:?}: {detail:?}")]
    Rejected {
        code: Code,
        field: Option<String>,
        detail: Option<String>,
    },
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("only the assignee or an admin above may act")]
    NotAssignee,
    #[error("`{action}` not allowed from {current}")]
    InvalidTransition {
        current: Status,
        action: &'static str,
    },
    #[error("concurrent update")]
    ConcurrentUpdate,
    /// Try again in `retry_after` seconds (a 429).
    #[error("{code:?}: retry after {retry_after} s")]
    Throttled { code: Code, retry_after: u64 },
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("wechat code invalid")]
    WechatCodeInvalid,
    #[error("wechat unavailable: {0}")]
    WechatUnavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl ServiceError {
    pub fn rejected(code: Code, field: impl Into<String>, detail: impl Into<String>) -> Self {
        ServiceError::Rejected {
            code,
            field: Some(field.into()),
            detail: Some(detail.into()),
        }
    }
}

/// The domain's input messages (written in English, where they are tested) with their Chinese.
pub(crate) fn in_chinese_too(en: &str) -> String {
    let zh = match en {
        "coord_system must be gcj02 or wgs84" => "coord_system 须为 gcj02 或 wgs84",
        "latitude must be within -90..90" => "纬度须在 -90 至 90 之间",
        "longitude must be within -180..180" => "经度须在 -180 至 180 之间",
        "control characters (other than tab and line breaks) are not allowed" => {
            "不允许控制字符（制表符和换行除外）"
        }
        "bidirectional override characters are not allowed" => "不允许双向文字覆盖字符",
        "the text has only invisible characters" => "文字只有不可见字符",
        other => return other.to_owned(),
    };
    crate::error::bi(zh, en)
}

impl From<InputError> for ServiceError {
    fn from(err: InputError) -> Self {
        let (code, detail) = match err.problem {
            InputProblem::Empty => (
                Code::TextEmpty,
                crate::error::bi("不能为空", "must not be empty").to_owned(),
            ),
            InputProblem::TooLong { max } => (
                Code::TextTooLong,
                crate::error::bi(
                    format_args!("最多 {max} 个字"),
                    format_args!("at most {max} characters"),
                ),
            ),
            InputProblem::Phone => (
                Code::InvalidPhone,
                crate::error::bi(
                    "须为 11 位手机号或带区号的固定电话",
                    "a mainland mobile (11 digits) or a landline with area code",
                )
                .to_owned(),
            ),
            InputProblem::Location(why) => (Code::InvalidLocation, in_chinese_too(why)),
            InputProblem::Invalid(why) => (Code::InvalidField, why),
            InputProblem::Unprintable(fault) => {
                (Code::InvalidText, in_chinese_too(fault.describe()))
            }
        };
        ServiceError::rejected(code, err.field, detail)
    }
}

impl From<NotAllowed> for ServiceError {
    fn from(err: NotAllowed) -> Self {
        ServiceError::InvalidTransition {
            current: err.from,
            action: err.action.name(),
        }
    }
}

impl From<(Status, Action)> for ServiceError {
    fn from((current, action): (Status, Action)) -> Self {
        ServiceError::InvalidTransition {
            current,
            action: action.name(),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// Starts a transaction that will write. On SQLite it takes the write lock at `BEGIN IMMEDIATE`,
/// so concurrent writers (several nodes on one file) queue on the busy timeout instead of failing
/// when a read lock cannot be upgraded; PostgreSQL ignores the mode.
pub async fn write_txn(
    db: &sea_orm::DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// `ticket.status IN ('assigned', …)` with the statuses written into the SQL, not bound. They
/// are the domain's own constants; bound, they hide from PostgreSQL how selective a condition
/// is (a year's `closed` against a grid's few `assigned`), so it plans every execution of the
/// prepared statement afresh. Written in, one plan serves every grid and worker, kept per
/// connection (docs/performance.md, third round).
pub(crate) fn ticket_status_in(statuses: &[Status]) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, ExprTrait};
    let literals = statuses
        .iter()
        .map(|s| Expr::cust(format!("'{}'", s.as_str())));
    Expr::col(entity::ticket::Column::Status).is_in(literals)
}

/// Open tickets past their response or resolution deadline at `now`: the condition
/// [`crate::domain::rates::is_overdue_open`] decides for one ticket in memory.
pub(crate) fn overdue_open_at(now: DateTime<Utc>) -> sea_orm::Condition {
    use entity::ticket::Column as T;
    use sea_orm::{ColumnTrait, Condition};
    Condition::all().add(ticket_status_in(&Status::OPEN)).add(
        Condition::any().add(T::ResolutionDueAt.lt(now)).add(
            Condition::all()
                .add(T::AcceptedAt.is_null())
                .add(T::ResponseDueAt.lt(now)),
        ),
    )
}

/// A LIKE pattern finding `text` anywhere, its `%`, `_` and `\` taken literally.
pub fn contains_pattern(text: &str) -> sea_orm::sea_query::LikeExpr {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    sea_orm::sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\')
}
