//! `qiaomen`: the server binary and its administrative subcommands.
use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use qiaomen_api::{
    config::Settings,
    domain::inputs::Text,
    services::{
        self, ServiceError,
        staff::{NewStaff, Password},
    },
    startup, telemetry,
};

/// mimalloc rather than the system allocator: a request builds and drops many small strings and
/// JSON values, on two threads at once, and glibc's allocator spent a third of the server's
/// time on them under load (docs/performance.md, "Fifth round").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "qiaomen", version, about = "Qiaomen (敲门) API server")]
struct Cli {
    /// Directory holding default.toml and <env>.toml.
    #[arg(
        long,
        env = "QIAOMEN_CONFIG_DIR",
        default_value = "config",
        global = true
    )]
    config_dir: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve {
        /// Seed the demo street first (no-op when it exists).
        #[arg(long)]
        seed_demo: bool,
    },
    /// Apply or inspect migrations.
    Migrate {
        #[arg(value_enum, default_value = "up")]
        direction: MigrateAction,
    },
    /// Create a believable demo street: communities, grids, buildings, staff and categories.
    SeedDemo,
    /// Administrator accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Import areas from a GeoJSON FeatureCollection (properties: kind, name, code, parent_code).
    ImportAreas { file: PathBuf },
    /// Fill the database with a street-scale world for benchmarks: the demo street, residents
    /// and N tickets over a year with their events and ratings (see docs/performance.md).
    BenchData {
        /// How many tickets.
        #[arg(long)]
        tickets: u64,
        /// How many residents (default: one per 20 tickets, at least 1,000).
        #[arg(long)]
        residents: Option<u64>,
        /// Over how many days up to now.
        #[arg(long, default_value_t = 365)]
        days: i64,
        /// The generator's seed; the same seed gives the same lives.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where to write tokens and ids for load tests (JSON).
        #[arg(long, default_value = "target/bench-handles.json")]
        handles: PathBuf,
    },
    /// Rebuild the statistics rollups from the tickets (after a bulk import, or to repair).
    RebuildRollups,
    /// Print the OpenAPI document (as served at /openapi.json) without a database.
    Openapi,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Undo the last applied migration (one step: a data set is never emptied by accident).
    Down,
    Status,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a system administrator; refuses a login that exists.
    Create {
        #[arg(long)]
        login: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value = "系统管理员")]
        name: String,
    },
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Config(#[from] qiaomen_api::config::ConfigError),
    #[error(transparent)]
    Startup(#[from] startup::StartupError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Service(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl From<ServiceError> for CliError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Rejected {
                code,
                field,
                detail,
            } => CliError::Service(format!(
                "{}{}{}",
                code.slug(),
                field.map(|f| format!(" ({f})")).unwrap_or_default(),
                detail.map(|d| format!(": {d}")).unwrap_or_default()
            )),
            other => CliError::Service(other.to_string()),
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let settings = Settings::load(&cli.config_dir, None)?;
    // The document goes to stdout alone.
    if !matches!(cli.command, Some(Command::Openapi)) {
        telemetry::init(settings.env != qiaomen_api::config::Environment::Development);
    }
    match cli.command.unwrap_or(Command::Serve { seed_demo: false }) {
        Command::Serve { seed_demo } => {
            let state = startup::build_state(settings).await?;
            if seed_demo
                || std::env::var("QIAOMEN_SEED_DEMO").is_ok_and(|v| v == "1" || v == "true")
            {
                report_seed(services::seed::demo(&state.db, state.clock.now()).await?);
            }
            startup::serve(
                state,
                |addr| tracing::info!(%addr, "listening; docs at /docs"),
                shutdown_signal(),
            )
            .await?;
        }
        Command::Migrate { direction } => {
            let db = startup::connect(&settings).await?;
            match direction {
                MigrateAction::Up => Migrator::up(&db, None).await?,
                MigrateAction::Down => Migrator::down(&db, Some(1)).await?,
                MigrateAction::Status => Migrator::status(&db).await?,
            }
        }
        Command::SeedDemo => {
            let state = startup::build_state(settings).await?;
            report_seed(services::seed::demo(&state.db, state.clock.now()).await?);
        }
        Command::Admin {
            command:
                AdminCommand::Create {
                    login,
                    password,
                    name,
                },
        } => {
            let state = startup::build_state(settings).await?;
            let new = NewStaff {
                name: Text::parse("name", &name, 50).map_err(ServiceError::from)?,
                login: Text::parse("login", &login, 64).map_err(ServiceError::from)?,
                password: Password::parse(&password)?,
                must_change_password: false,
            };
            let staff =
                services::staff::create_admin(&state.db, &state.passwords, new, state.clock.now())
                    .await?;
            println!("created system admin {} ({})", staff.login, staff.id);
        }
        Command::BenchData {
            tickets,
            residents,
            days,
            seed,
            handles,
        } => {
            if days < 1 {
                return Err(CliError::Service("--days must be at least 1".into()));
            }
            let state = startup::build_state(settings).await?;
            let opts = qiaomen_api::bench_data::Options {
                tickets,
                residents: residents.unwrap_or((tickets / 20).max(1_000)),
                days,
                seed,
            };
            let out = qiaomen_api::bench_data::generate(&state, opts).await?;
            if let Some(dir) = handles.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let json = serde_json::to_vec_pretty(&out)
                .map_err(|e| CliError::Service(format!("handles: {e}")))?;
            std::fs::write(&handles, json)?;
            println!("bench data written; handles in {}", handles.display());
        }
        Command::Openapi => {
            let mut settings = settings;
            settings.database.url = qiaomen_api::config::Secret::new("sqlite::memory:");
            settings.redis.url = qiaomen_api::config::Secret::new("");
            let state = startup::build_state(settings).await?;
            println!("{}", startup::openapi_json(state));
        }
        Command::RebuildRollups => {
            let state = startup::build_state(settings).await?;
            let days = services::rollups::rebuild(&state.db, &|_| {}).await?;
            println!("statistics rollups rebuilt: {days} place-days");
        }
        Command::ImportAreas { file } => {
            let text = std::fs::read_to_string(&file)?;
            let state = startup::build_state(settings).await?;
            let (created, updated) =
                services::areas::import_feature_collection(&state.db, &text, state.clock.now())
                    .await?;
            println!(
                "imported {}: {created} created, {updated} updated",
                file.display()
            );
        }
    }
    Ok(())
}

fn report_seed(outcome: services::seed::Seeded) {
    match outcome {
        services::seed::Seeded::Created { grids, staff } => println!(
            "demo street seeded: {grids} grids, {staff} staff; log in as admin / {pw}, worker gw01 / {pw}",
            pw = services::seed::DEMO_PASSWORD
        ),
        services::seed::Seeded::AlreadyThere => println!("demo street already present"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down; letting requests in flight finish");
}
