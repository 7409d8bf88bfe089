//! Typed settings, layered: the `config/` files compiled into the binary (so it runs from
//! anywhere) → the same files in `QIAOMEN_CONFIG_DIR` when they are there → `QIAOMEN_*`
//! variables.
use std::path::Path;

use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use serde::Deserialize;

mod environment;
mod sections;

pub use environment::{Environment, Secret};
pub use sections::*;

/// `config/default.toml` as shipped: the base layer, wherever the binary runs.
const SHIPPED_DEFAULTS: &str = include_str!("../../../config/default.toml");
/// `config/work-calendar.toml` as shipped, used when the configuration directory has none.
const SHIPPED_CALENDAR: &str = include_str!("../../../config/work-calendar.toml");

/// `config/privacy.toml` as shipped, used when the configuration directory has none.
const SHIPPED_NOTICE: &str = include_str!("../../../config/privacy.toml");

/// The secret shipped in `config/default.toml`; production refuses to run with it.
pub const DEV_JWT_SECRET: &str = "dev-only-insecure-secret-change-me";
/// The WeChat credentials shipped in `config/default.toml`; production refuses them too.
pub const DEMO_WECHAT_APPID: &str = "wx-demo-appid";
pub const DEMO_WECHAT_SECRET: &str = "wx-demo-secret";

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub env: Environment,
    pub listen: String,
    pub database: DatabaseSettings,
    #[serde(default)]
    pub redis: RedisSettings,
    pub jwt: JwtSettings,
    pub wechat: WechatSettings,
    /// 企业微信 for staff messages; off until configured.
    #[serde(default)]
    pub wecom: WecomSettings,
    pub lifecycle: LifecycleSettings,
    pub routing: RoutingSettings,
    pub limits: LimitSettings,
    pub rate_limits: RateLimitSettings,
    pub media: MediaSettings,
    pub sla: SlaSettings,
    pub content_safety: ContentSafetySettings,
    pub stats: StatsSettings,
    pub open311: Open311Settings,
    pub public: PublicSettings,
    pub duplicates: DuplicateSettings,
    pub notifications: NotificationSettings,
    pub scheduler: SchedulerSettings,
    #[serde(default)]
    pub ops: OpsSettings,
    #[serde(default)]
    pub passwords: PasswordSettings,
    #[serde(default)]
    pub privacy: PrivacySettings,
    #[serde(default)]
    pub console: ConsoleSettings,
    #[serde(default)]
    pub return_visits: ReturnVisitSettings,
    #[serde(default)]
    pub hotspots: HotspotSettings,
    /// The directory the layers were read from (relative files in settings are found there).
    #[serde(skip)]
    pub config_dir: std::path::PathBuf,
}

/// Operations endpoints: who may read `/metrics`, and whether the API documentation is served.

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error(
        "QIAOMEN_ENV must be one of development, test, production or bench (lower case), not `{0}`"
    )]
    UnknownEnvironment(String),
    #[error(
        "refusing to start in production with the default or a weak JWT secret; set QIAOMEN_JWT_SECRET (32+ characters, 16+ of them different)"
    )]
    InsecureJwtSecret,
    #[error(
        "refusing to start in production with the demo WeChat credentials; set QIAOMEN_WECHAT_APPID and QIAOMEN_WECHAT_SECRET"
    )]
    DemoWechatCredentials,
    #[error(
        "refusing to listen on {0} with the shipped development JWT secret (anyone could sign tokens); set QIAOMEN_JWT_SECRET or listen on a loopback address"
    )]
    ShippedSecretExposed(String),
    #[error(
        "rate_limits.trust_forwarded_for is gone (it trusted the client-written first X-Forwarded-For hop): list your load balancers in rate_limits.trusted_proxies instead"
    )]
    TrustForwardedForRemoved,
    #[error("ops.metrics_token must be at least 16 characters in production")]
    WeakMetricsToken,
    #[error("passwords.argon2_* below argon2's defaults (a test cost) in production")]
    WeakPasswordHashing,
    #[error("work calendar: {0}")]
    Calendar(String),
}

/// The work calendar file (see `config/work-calendar.toml`).
#[derive(Debug, Deserialize)]
struct CalendarFile {
    hours: CalendarHours,
    #[serde(default)]
    years: std::collections::BTreeMap<String, CalendarYear>,
}

#[derive(Debug, Deserialize)]
struct CalendarHours {
    periods: Vec<(String, String)>,
}

#[derive(Debug, Deserialize)]
struct CalendarYear {
    #[serde(default)]
    holidays: Vec<chrono::NaiveDate>,
    #[serde(default)]
    workdays: Vec<chrono::NaiveDate>,
    #[serde(default)]
    provisional: bool,
}

/// The privacy notice residents agree to (`config/privacy.toml`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PrivacyNotice {
    pub version: String,
    pub title: String,
    pub text: String,
}

impl Settings {
    /// The privacy notice: `privacy.toml` in the config directory, else the one shipped.
    pub fn privacy_notice(&self) -> Result<PrivacyNotice, ConfigError> {
        let path = self.config_dir.join("privacy.toml");
        let source = if path.is_file() {
            Figment::from(Toml::file(&path))
        } else {
            Figment::from(Toml::string(SHIPPED_NOTICE))
        };
        let mut notice: PrivacyNotice = source.extract().map_err(Box::new)?;
        notice.text = notice.text.trim().to_owned();
        Ok(notice)
    }

    /// Loads the work calendar named by `sla.calendar_file` (relative to the config directory).
    pub fn work_calendar(&self) -> Result<crate::domain::calendar::WorkCalendar, ConfigError> {
        let path = self.config_dir.join(&self.sla.calendar_file);
        let source = if path.is_file() {
            Figment::from(Toml::file(&path))
        } else {
            Figment::from(Toml::string(SHIPPED_CALENDAR))
        };
        let file: CalendarFile = source.extract().map_err(Box::new)?;
        for (year, spec) in &file.years {
            if spec.provisional {
                tracing::warn!(
                    year,
                    "work calendar for this year is provisional: update it from the State Council notice"
                );
            }
        }
        let holidays = file.years.values().flat_map(|y| y.holidays.iter().copied());
        let workdays = file.years.values().flat_map(|y| y.workdays.iter().copied());
        crate::domain::calendar::WorkCalendar::new(holidays, workdays, &file.hours.periods)
            .map_err(|e| ConfigError::Calendar(e.to_string()))
    }
}

/// Whether `listen` (`host:port`) is reachable from this machine only.
fn listens_on_loopback(listen: &str) -> bool {
    let host = listen
        .rsplit_once(':')
        .map_or(listen, |(h, _)| h)
        .trim_start_matches('[')
        .trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Maps the documented flat variable names onto nested keys; anything else uses `__` for nesting.
/// The settings key of an environment variable's name (prefix stripped; figment keeps the
/// variable's case, so `DATABASE_URL` arrives as it was written).
fn env_key(key: &str) -> String {
    let key = key.to_ascii_lowercase();
    match key.as_str() {
        "database_url" => "database.url".into(),
        "redis_url" => "redis.url".into(),
        "jwt_secret" => "jwt.secret".into(),
        "wechat_api_base" => "wechat.api_base".into(),
        "wechat_appid" => "wechat.appid".into(),
        "wechat_secret" => "wechat.secret".into(),
        other => other.replace("__", "."),
    }
}

impl Settings {
    /// Loads the layers from `dir` for the environment named by `QIAOMEN_ENV` (or `env`).
    pub fn load(dir: &Path, env: Option<&str>) -> Result<Self, ConfigError> {
        let raw = env
            .map(str::to_owned)
            .or_else(|| std::env::var("QIAOMEN_ENV").ok())
            .unwrap_or_else(|| Environment::Development.as_str().to_owned());
        let env = Environment::parse(&raw)?;
        // A file missing from `dir` is simply not a layer (figment skips it).
        let mut settings: Settings = Figment::new()
            .merge(Toml::string(SHIPPED_DEFAULTS))
            .merge(Toml::string(env.shipped()))
            .merge(Toml::file(dir.join("default.toml")))
            .merge(Toml::file(dir.join(format!("{}.toml", env.as_str()))))
            .merge(Env::prefixed("QIAOMEN_").map(|k| env_key(k.as_str()).into()))
            .merge(("env", env))
            .extract()
            .map_err(Box::new)?;
        settings.config_dir = dir.to_path_buf();
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.rate_limits.trust_forwarded_for.is_some() {
            return Err(ConfigError::TrustForwardedForRemoved);
        }
        if self.env == Environment::Production {
            return self.check_production();
        }
        // The shipped secret is for a developer's own machine: whatever the environment, a
        // server others can reach must not accept tokens anyone can sign.
        if self.jwt.secret.expose() == DEV_JWT_SECRET && !listens_on_loopback(&self.listen) {
            return Err(ConfigError::ShippedSecretExposed(self.listen.clone()));
        }
        Ok(())
    }

    fn check_production(&self) -> Result<(), ConfigError> {
        let jwt = self.jwt.secret.expose();
        let distinct = jwt.chars().collect::<std::collections::HashSet<_>>().len();
        if jwt == DEV_JWT_SECRET || jwt.chars().count() < 32 || distinct < 16 {
            return Err(ConfigError::InsecureJwtSecret);
        }
        if self.wechat.appid == DEMO_WECHAT_APPID
            || self.wechat.secret.expose() == DEMO_WECHAT_SECRET
            || self.wechat.appid.is_empty()
            || self.wechat.secret.is_empty()
        {
            return Err(ConfigError::DemoWechatCredentials);
        }
        let token = self.ops.metrics_token.expose();
        if !token.is_empty() && token.chars().count() < 16 {
            return Err(ConfigError::WeakMetricsToken);
        }
        if self.passwords.argon2_memory_kib < argon2::Params::DEFAULT_M_COST
            || self.passwords.argon2_iterations < argon2::Params::DEFAULT_T_COST
        {
            return Err(ConfigError::WeakPasswordHashing);
        }
        Ok(())
    }

    pub fn database_url(&self) -> &str {
        self.database.url.expose()
    }

    pub fn redis_url(&self) -> Option<&str> {
        Some(self.redis.url.expose().trim()).filter(|u| !u.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config")
    }

    #[test]
    fn production_refuses_the_shipped_jwt_secret() {
        assert!(matches!(
            Settings::load(&config_dir(), Some("production")),
            Err(ConfigError::InsecureJwtSecret)
        ));
        assert!(Settings::load(&config_dir(), Some("development")).is_ok());
    }

    #[test]
    fn the_binary_runs_without_a_config_directory() {
        let nowhere = std::env::temp_dir().join(format!("qm-no-config-{}", uuid::Uuid::new_v4()));
        for env in ["development", "test", "bench"] {
            let settings = Settings::load(&nowhere, Some(env));
            let settings = match settings {
                Ok(s) => s,
                Err(e) => panic!("{env}: {e}"),
            };
            assert!(settings.database.max_connections > 0);
            assert!(
                settings.work_calendar().is_ok(),
                "{env}: the calendar is built in"
            );
        }
        let test = Settings::load(&nowhere, Some("test")).ok();
        assert_eq!(
            test.map(|s| s.scheduler.enabled),
            Some(false),
            "the environment's own file is built in too"
        );
    }

    #[test]
    fn an_unknown_environment_refuses_to_start() {
        for raw in ["Production", "prod", "", "PRODUCTION"] {
            let err = Settings::load(&config_dir(), Some(raw)).err();
            assert!(
                matches!(&err, Some(ConfigError::UnknownEnvironment(r)) if r == raw),
                "{raw}: {err:?}"
            );
            assert!(
                err.map(|e| e.to_string())
                    .is_some_and(|m| m.contains("development, test, production or bench"))
            );
        }
    }

    fn production(jwt: &str, appid: &str, secret: &str) -> Settings {
        let mut s = Settings::load(&config_dir(), Some("development")).expect("settings");
        s.env = Environment::Production;
        s.jwt.secret = Secret::new(jwt);
        s.wechat.appid = appid.into();
        s.wechat.secret = Secret::new(secret);
        s
    }

    #[test]
    fn production_refuses_weak_secrets_and_demo_credentials() {
        let strong = "k3J9x!Qp2Lr8vZ0tYw4Ns7Bd6Hf1Mc5G";
        assert!(
            production(strong, "wx1234567890abcdef", "a-real-secret")
                .check()
                .is_ok()
        );
        let repetitive = "abababababababababababababababab";
        assert!(matches!(
            production(repetitive, "wx1234567890abcdef", "a-real-secret").check(),
            Err(ConfigError::InsecureJwtSecret)
        ));
        assert!(matches!(
            production(strong, DEMO_WECHAT_APPID, "a-real-secret").check(),
            Err(ConfigError::DemoWechatCredentials)
        ));
        assert!(matches!(
            production(strong, "wx1234567890abcdef", DEMO_WECHAT_SECRET).check(),
            Err(ConfigError::DemoWechatCredentials)
        ));
    }

    #[test]
    fn the_shipped_secret_never_serves_beyond_this_machine() {
        let mut s = Settings::load(&config_dir(), Some("development")).expect("settings");
        assert!(s.check().is_ok(), "127.0.0.1 by default");
        s.listen = "0.0.0.0:8080".into();
        assert!(matches!(
            s.check(),
            Err(ConfigError::ShippedSecretExposed(_))
        ));
        s.listen = "[::1]:8080".into();
        assert!(s.check().is_ok());
        s.rate_limits.trust_forwarded_for = Some(true);
        assert!(matches!(
            s.check(),
            Err(ConfigError::TrustForwardedForRemoved)
        ));
    }

    #[test]
    fn secrets_print_as_stars() {
        let s = production(
            "a-secret-that-must-not-show-up",
            "wx",
            "wechat-secret-value",
        );
        let printed = format!("{s:?} {}", s.jwt.secret);
        assert!(!printed.contains("a-secret-that-must-not-show-up"));
        assert!(!printed.contains("wechat-secret-value"));
        assert!(printed.contains("***"));
    }

    #[test]
    fn documented_variable_names_map_to_nested_keys() {
        assert_eq!(env_key("database_url"), "database.url");
        assert_eq!(env_key("DATABASE_URL"), "database.url");
        assert_eq!(env_key("REDIS__KEY_PREFIX"), "redis.key_prefix");
        assert_eq!(env_key("wechat_api_base"), "wechat.api_base");
        assert_eq!(env_key("listen"), "listen");
        assert_eq!(env_key("lifecycle__max_reopen"), "lifecycle.max_reopen");
    }
}
