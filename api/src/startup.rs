//! Builds the application from [`Settings`]: database, migrations, state and routes.
use std::{sync::Arc, time::Duration};

use migration::{Migrator, MigratorTrait};
use poem::{
    Endpoint, EndpointExt, Route, get,
    listener::{Acceptor, Listener, TcpListener},
    middleware::CatchPanic,
};
use poem_openapi::OpenApiService;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::{
    clients::wechat::WechatClient,
    config::Settings,
    edge,
    error::{catalogue_markdown, render_errors},
    routes::{
        admin::AdminApi, attachments::AttachmentApi, auth::AuthApi, ops, public::PublicApi,
        tickets::TicketApi,
    },
    services::{
        auth::TokenKeys, directory::DirectoryCache, timelines::TimelineCache,
        work_lists::WorkListCache,
    },
    state::{AppState, SharedState},
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Db(#[from] DbErr),
    #[error("http client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("cache: {0}")]
    Cache(#[from] crate::cache::CacheError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("statistics rollups: {0}")]
    Rollups(#[from] crate::services::ServiceError),
}

/// Opens the database. SQLite gets WAL, foreign keys, a busy timeout and one connection (its
/// writers serialise anyway); PostgreSQL gets the configured pool.
pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    let url = settings.database_url();
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .and_then(|p| p.split('?').next())
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        let _ = std::fs::create_dir_all(dir);
    }
    let mut opts = ConnectOptions::new(url.to_owned());
    let sqlite = url.starts_with("sqlite:");
    opts.max_connections(if sqlite {
        1
    } else {
        settings.database.max_connections
    })
    .min_connections(if sqlite { 1 } else { 2 })
    .connect_timeout(Duration::from_secs(5))
    .acquire_timeout(Duration::from_secs(5))
    .sqlx_logging(false)
    .map_sqlx_sqlite_opts(|o| {
        o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
    });
    Database::connect(opts).await
}

/// How many statistics computations run at once (see `AppState::stats_permits`).
const STATS_AT_ONCE: usize = 3;

pub async fn build_state(settings: Settings) -> Result<SharedState, StartupError> {
    build_state_with_clock(settings, Arc::new(crate::clock::SystemClock)).await
}

/// As [`build_state`], with the clock the tests control.
pub async fn build_state_with_clock(
    settings: Settings,
    clock: Arc<dyn crate::clock::Clock>,
) -> Result<SharedState, StartupError> {
    let calendar = settings.work_calendar()?;
    let notice = settings.privacy_notice()?;
    let db = connect(&settings).await?;
    Migrator::up(&db, None).await?;
    crate::services::rollups::ensure_built(&db).await?;
    let cache = crate::cache::from_url(settings.redis_url(), &settings.redis.key_prefix)?;
    Ok(Arc::new(AppState {
        db,
        wechat: WechatClient::new(&settings.wechat, cache.clone())?,
        wecom: crate::clients::wecom::WecomClient::new(&settings.wecom, cache.clone())?,
        tokens: TokenKeys::new(
            &settings.jwt.secret,
            settings.jwt.ttl_hours,
            settings.jwt.staff_ttl_hours,
        ),
        directory: DirectoryCache::default(),
        timelines: TimelineCache::new(settings.database.timeline_cache_entries),
        work_lists: WorkListCache::new(settings.database.work_list_cache_tickets),
        cache,
        metrics: crate::metrics::Metrics::new()?,
        media: Arc::new(crate::storage::LocalDisk::new(&settings.media.dir)),
        clock,
        calendar,
        notice,
        stats_permits: tokio::sync::Semaphore::new(STATS_AT_ONCE),
        passwords: crate::services::passwords::PasswordHasher::from_settings(&settings.passwords),
        texts: Default::default(),
        settings: Arc::new(settings),
    }))
}

const DESCRIPTION: &str = "Qiaomen (敲门) API: residents hand in suggestions and complaints from a WeChat \
mini-program; each is routed to the right grid worker, tracked through its life and rated.\n\n\
Authenticate with `Authorization: Bearer <token>` from `POST /api/v1/auth/wechat` (residents) or \
`POST /api/v1/auth/staff` (staff). Errors are `application/problem+json` with a stable `code`, a \
`title` in Chinese (English with `Accept-Language: en`) and `status`. A ticket outside the \
caller's scope answers 404.\n\n\
**Statistics** (`/stats/*`, SPEC §7) over an area (grid, community or street, within the caller's \
scope) and a period `[from, to)` (RFC 3339 instants or plain Beijing dates, or `period=this_month|\
last_month|this_quarter|this_year`), counted only up to now. A ticket counts in the response rate \
once, at its *response moment*: when staff answered it (accepted it, or resolved or rejected it) or \
when its response fell due, whichever came first; *response rate* = tickets answered by their \
deadline / tickets whose response moment lies in the period, so an in-time answer counts when \
given and an open ticket counts as a miss only once its deadline has passed; a ticket withdrawn or \
rejected unanswered before its deadline is never counted. *Resolution rate*: the same rule with \
the resolution deadline (a reopened ticket has no standing resolution until resolved again; one \
rejected after acceptance still owes it). \
*received* = tickets submitted in the period less withdrawn and rejected ones, praise and tickets \
excluded by an approved appeal (each counted apart: `withdrawn`, `rejected`, `praise_received`, \
`appealed_excluded`); praise has no deadlines and is in no rate; an approved appeal (甄别) takes a \
ticket out of every rate of every period. *satisfaction rate* = (satisfied + w × basically \
satisfied) / ratings given in the period (w = `stats.basically_satisfied_weight`, default 1.0), \
with the reasons given for 不满意 and 基本满意 counted as `reason_*`; *reopen rate* = received \
tickets reopened at least once / received; *overdue_open* = open tickets past a deadline now; \
median and p90 minutes from submission to acceptance and to resolution; *composite score* = 100 × \
(0.1 × response + 0.5 × resolution + 0.4 × satisfaction) with configurable weights. A rate with a \
zero denominator is null. Rankings (`/stats/ranking`) order groups by the lower bound of the \
Wilson 95 % interval and leave groups below `stats.ranking_min_sample` unranked. \
Breakdowns by day and week use the Beijing date of submission.\n\nCodes:\n\n";

/// The API under `/api/v1`, its handlers and its OpenAPI document.
pub fn api_service(state: SharedState) -> OpenApiService<impl poem_openapi::OpenApi + use<>, ()> {
    OpenApiService::new(
        (
            AuthApi {
                state: state.clone(),
            },
            TicketApi {
                state: state.clone(),
            },
            AttachmentApi {
                state: state.clone(),
            },
            crate::routes::me::MeApi {
                state: state.clone(),
            },
            crate::routes::inbox::InboxApi {
                state: state.clone(),
            },
            crate::routes::privacy::PrivacyApi {
                state: state.clone(),
            },
            crate::routes::stats::StatsApi {
                state: state.clone(),
            },
            crate::routes::returns::ReturnApi {
                state: state.clone(),
            },
            crate::routes::supervision::SupervisionApi {
                state: state.clone(),
            },
            crate::routes::extensions::ExtensionApi {
                state: state.clone(),
            },
            crate::routes::intake::IntakeApi {
                state: state.clone(),
            },
            crate::routes::visits::VisitApi {
                state: state.clone(),
            },
            crate::routes::appeals::AppealApi {
                state: state.clone(),
            },
            crate::routes::places::PlacesApi {
                state: state.clone(),
            },
            (
                crate::routes::categories::CategoryApi {
                    state: state.clone(),
                },
                crate::routes::topics::TopicApi {
                    state: state.clone(),
                },
            ),
            // Tuples nest: poem-openapi implements OpenApi for up to 16 at one level.
            (
                AdminApi {
                    state: state.clone(),
                },
                PublicApi {
                    state: state.clone(),
                },
            ),
        ),
        "Qiaomen API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(format!("{DESCRIPTION}{}", catalogue_markdown()))
    .server("/api/v1")
}

/// The OpenAPI document as served at `/openapi.json` (`qiaomen openapi`; the mini-program's
/// typed client is generated from it).
pub fn openapi_json(state: SharedState) -> String {
    api_service(state).spec()
}

pub fn app(state: SharedState) -> impl Endpoint + use<> {
    let api = api_service(state.clone());
    let spec = api.spec();
    let templates = crate::metrics::RouteTemplates::from_spec(&spec, "/api/v1");
    let operations = edge::Operations::from_spec(&spec, "/api/v1");
    let mut routes = Route::new();
    if state.settings.ops.docs {
        routes = routes
            .at("/openapi.json", api.spec_endpoint())
            .nest("/docs", api.swagger_ui());
    }
    if state.settings.ops.metrics_listen.is_empty() {
        routes = routes.at("/metrics", get(ops::metrics_with_token));
    }
    routes
        .at("/healthz", get(ops::healthz))
        .at("/readyz", get(ops::readyz))
        .nest("/open311/v2", crate::routes::open311::routes())
        .nest("/console", crate::console::routes())
        .nest("/wechat/push", crate::routes::wechat_push::routes())
        .nest("/api/v1", api)
        .around(edge::guard_body)
        .around(edge::known_query)
        .around(edge::rate_limit)
        .around(render_errors)
        .with(CatchPanic::new().with_handler(edge::panic_response))
        .around(edge::observe)
        .data(templates)
        .data(operations)
        .data(state)
}

/// `/metrics` alone, for `ops.metrics_listen`: an internal address that needs no token.
fn metrics_app(state: SharedState) -> impl Endpoint + use<> {
    Route::new().at("/metrics", get(ops::metrics)).data(state)
}

/// Binds `settings.listen` (port 0 picks a free port) and serves until `shutdown` resolves,
/// letting requests in flight finish. Returns the bound address through `on_bound` first.
pub async fn serve(
    state: SharedState,
    on_bound: impl FnOnce(std::net::SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), StartupError> {
    let acceptor = TcpListener::bind(state.settings.listen.clone())
        .into_acceptor()
        .await?;
    if let Some(addr) = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
    {
        on_bound(addr);
    }
    let scheduler = crate::scheduler::Scheduler::spawn(state.clone());
    let (stop_sender, stopping) = tokio::sync::watch::channel(false);
    let sender = crate::scheduler::spawn_sender(state.clone(), stopping);
    let metrics = match state.settings.ops.metrics_listen.as_str() {
        "" => None,
        addr => {
            let acceptor = TcpListener::bind(addr.to_owned()).into_acceptor().await?;
            let app = metrics_app(state.clone());
            Some(tokio::spawn(async move {
                if let Err(e) = poem::Server::new_with_acceptor(acceptor).run(app).await {
                    tracing::error!(error = %e, "metrics listener stopped");
                }
            }))
        }
    };
    poem::Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app(state), shutdown, Some(Duration::from_secs(30)))
        .await?;
    // The sender finishes and marks the message in hand before the process exits, so another
    // node does not send it again.
    let _ = stop_sender.send(true);
    if let Some(sender) = sender
        && tokio::time::timeout(Duration::from_secs(30), sender)
            .await
            .is_err()
    {
        tracing::warn!("the outbox sender did not stop within 30 s");
    }
    for task in [scheduler, metrics].into_iter().flatten() {
        task.abort();
    }
    Ok(())
}
