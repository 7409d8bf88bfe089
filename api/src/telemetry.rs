//! Logging: human-readable in development, JSON lines elsewhere; `RUST_LOG` filters.
use tracing_subscriber::{EnvFilter, fmt};

/// Installs the subscriber, and a panic hook that logs where a panic happened but not its
/// message, which may quote what was being handled (a resident's text, a phone number).
pub fn init(json: bool) {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(%location, "panic");
    }));
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = fmt().with_env_filter(filter);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
