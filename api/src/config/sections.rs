//! The sections of the configuration, one struct each (see `config/default.toml` for every
//! setting with its meaning).
use serde::Deserialize;

use super::Secret;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct OpsSettings {
    /// `/metrics` on the API's own address answers only `Authorization: Bearer <this>`; empty
    /// leaves it closed there.
    pub metrics_token: Secret,
    /// A separate `host:port` that serves `/metrics` (and nothing else) without a token, for a
    /// scraper on an internal network; the API's address then does not serve it at all.
    pub metrics_listen: String,
    /// Serve `/docs` and `/openapi.json`.
    pub docs: bool,
}

impl Default for OpsSettings {
    fn default() -> Self {
        OpsSettings {
            metrics_token: Secret::default(),
            metrics_listen: String::new(),
            docs: true,
        }
    }
}

/// Password hashing (argon2, about 19 MB and tens of milliseconds each): at most one hash per
/// core runs at once, a short queue waits, and logins beyond it get `429` at once.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PasswordSettings {
    /// Hashes at once; 0 means one per core.
    pub hashes_at_once: usize,
    /// Logins waiting for a turn before further ones are turned away.
    pub queue: usize,
    /// Failed logins to one account within `lock_minutes` that lock it for `lock_minutes`.
    pub max_failures: u64,
    pub lock_minutes: u64,
    /// argon2id's cost for new hashes: memory (KiB) and passes. Existing hashes carry their own.
    /// The tests lower it (`config/test.toml`); production refuses less than the default.
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
}

impl Default for PasswordSettings {
    fn default() -> Self {
        PasswordSettings {
            hashes_at_once: 0,
            queue: 64,
            max_failures: 10,
            lock_minutes: 15,
            argon2_memory_kib: argon2::Params::DEFAULT_M_COST,
            argon2_iterations: argon2::Params::DEFAULT_T_COST,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct DuplicateSettings {
    /// Open tickets of the same category within this distance…
    pub distance_meters: f64,
    /// …submitted within this many days…
    pub window_days: i64,
    /// …whose words are at least this alike (`domain::terms::Weights::similarity`, 0–1).
    pub min_similarity: f64,
    /// Staff are offered to merge only likely duplicates at least this alike.
    pub merge_similarity: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PublicSettings {
    /// A public suggestion with this many "me too"s goes to high priority.
    pub support_priority_threshold: i32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Open311Settings {
    /// The `jurisdiction_id` this server answers for (requests naming another are refused).
    pub jurisdiction_id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StatsSettings {
    /// Weight of "basically satisfied" in the satisfaction rate (some 12345 assessments use 0.9).
    pub basically_satisfied_weight: f64,
    pub composite_weights: CompositeWeights,
    /// Rankings leave groups with a smaller denominator than this unranked (`insufficient`).
    pub ranking_min_sample: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CompositeWeights {
    pub response: f64,
    pub resolution: f64,
    pub satisfaction: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ContentSafetySettings {
    pub enabled: bool,
    /// The address WeChat fetches residents' photos from for its image check
    /// (`https://<host>`, the one `/api/v1/media/…` is served at); empty: photos are not checked.
    #[serde(default)]
    pub public_base_url: String,
}

/// One subscription-message template: its id and which WeChat field key each value goes to.
#[derive(Debug, Clone, Deserialize)]
pub struct TemplateSettings {
    pub template_id: String,
    /// Our value name (`number`, `title`, `status`, `time`, `note`) → the template's field key
    /// (`character_string1`, `thing2`, `phrase3`, `time4`, …).
    pub fields: std::collections::BTreeMap<String, String>,
    /// A long-term subscription (长期订阅, granted to government-service mini-programs): one
    /// grant lets every later message of the template through.
    #[serde(default)]
    pub long_term: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NotificationSettings {
    pub enabled: bool,
    pub interval_seconds: u64,
    pub batch_size: u64,
    pub max_attempts: i32,
    pub base_backoff_seconds: i64,
    /// `formal`, `trial` or `developer`.
    pub miniprogram_state: String,
    pub lang: String,
    /// The mini-program page a message opens; `{id}` is replaced by the ticket id.
    pub page: String,
    /// How many days a resident message waits for the resident to grant its template
    /// (`waiting_grant`) before it is given up (the inbox keeps it).
    #[serde(default = "seven")]
    pub grant_wait_days: i64,
    /// Per event (`accepted`, `resolved`, `rejected`, `escalated`, `auto_closed`, `assigned`,
    /// `reopened`, `overdue`); an event without a template is not sent.
    #[serde(default)]
    pub templates: std::collections::BTreeMap<String, TemplateSettings>,
}

fn seven() -> i64 {
    7
}

#[derive(Debug, Clone, Deserialize)]
pub struct SlaSettings {
    pub calendar_file: String,
    pub auto_close_days: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SchedulerSettings {
    pub enabled: bool,
    pub interval_seconds: u64,
    pub lease_seconds: u64,
    pub batch_size: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LimitSettings {
    pub json_body_bytes: u64,
    pub json_max_depth: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RateLimitSettings {
    pub resident_tickets_per_hour: u64,
    pub resident_requests_per_minute: u64,
    pub ip_requests_per_minute: u64,
    pub staff_requests_per_minute: u64,
    pub admin_requests_per_minute: u64,
    /// The load balancers and proxies in front of the nodes (CIDRs such as `10.0.0.0/8`). A
    /// request from one of them is counted against the right-most `X-Forwarded-For` hop that is
    /// not one of them; `X-Forwarded-For` from anyone else is ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The setting `trusted_proxies` replaced (it trusted the client-written first hop): a
    /// deployment that still sets it refuses to start rather than silently ignore it.
    #[serde(default)]
    pub trust_forwarded_for: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MediaSettings {
    pub dir: String,
    pub max_bytes: u64,
    pub max_per_ticket: u64,
    /// How long a signed photo URL stays valid.
    #[serde(default = "default_url_ttl")]
    pub url_ttl_seconds: i64,
}

fn default_url_ttl() -> i64 {
    3600
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// May carry a password: printed as `***`.
    pub url: Secret,
    pub max_connections: u32,
    /// Ticket timelines kept in memory (`services::timelines`); 0 turns the cache off.
    #[serde(default)]
    pub timeline_cache_entries: usize,
    /// Tickets of work-list pages kept in memory (`services::work_lists`); 0 turns it off.
    #[serde(default)]
    pub work_list_cache_tickets: usize,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RedisSettings {
    /// May carry a password: printed as `***`.
    #[serde(default)]
    pub url: Secret,
    #[serde(default)]
    pub key_prefix: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct JwtSettings {
    pub secret: Secret,
    /// Residents' tokens.
    pub ttl_hours: i64,
    /// Staff tokens (等保 2.0: a working day; a password change ends them sooner).
    #[serde(default = "default_staff_ttl")]
    pub staff_ttl_hours: i64,
}

fn default_staff_ttl() -> i64 {
    12
}

#[derive(Debug, Clone, Deserialize)]
pub struct WechatSettings {
    pub api_base: String,
    pub appid: String,
    pub secret: Secret,
    pub timeout_ms: u64,
    /// Message push (消息推送): the Token set in the mini-program's console; empty: no push
    /// endpoint (`/wechat/push` answers 404).
    #[serde(default)]
    pub push_token: Secret,
    /// Safe mode's EncodingAESKey (43 characters); empty: plain mode only.
    #[serde(default)]
    pub encoding_aes_key: Secret,
}

/// 企业微信 (or 政务微信, which speaks the same API at its own base URL): the corp, the
/// application staff messages come from, and where its text cards link to.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WecomSettings {
    pub api_base: String,
    /// Empty: staff messages are not sent through 企业微信.
    pub corpid: String,
    /// The application's Secret.
    pub corpsecret: Secret,
    /// The application's AgentId.
    pub agentid: i64,
    /// The console's public address, for the cards' links (`…/console/tickets/{id}`).
    pub console_base_url: String,
    pub timeout_ms: u64,
}

impl Default for WecomSettings {
    fn default() -> Self {
        WecomSettings {
            api_base: "https://qyapi.weixin.qq.com".into(),
            corpid: String::new(),
            corpsecret: Secret::default(),
            agentid: 0,
            console_base_url: "http://127.0.0.1:8080".into(),
            timeout_ms: 5000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct LifecycleSettings {
    pub max_reopen: i32,
    /// Returns (退单) a ticket may take before the street is told of it.
    #[serde(default = "default_max_returns")]
    pub max_returns: i32,
    /// The most an approved extension (延期) moves a resolution deadline, in days.
    #[serde(default = "default_max_extension_days")]
    pub max_extension_days: i64,
    /// The longest a suspension (挂账) may be asked for, in days.
    #[serde(default = "default_max_suspension_days")]
    pub max_suspension_days: i64,
}

fn default_max_returns() -> i32 {
    2
}

fn default_max_extension_days() -> i64 {
    30
}

fn default_max_suspension_days() -> i64 {
    90
}

#[derive(Debug, Clone, Deserialize)]
pub struct RoutingSettings {
    pub nearest_grid_max_meters: f64,
}

/// What residents are shown of the people who work for them.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PrivacySettings {
    /// Residents read the names of the staff acting on their tickets (else their role only).
    pub show_staff_names: bool,
    /// Days between a resident closing their account and its anonymisation (PIPL Art. 47).
    pub deletion_grace_days: i64,
    /// Days after a ticket is closed before its contact phone, exact point, room numbers and
    /// photos are removed (PIPL Art. 19).
    pub retention_days: i64,
    /// Copies of their data (`GET /me/data`) a resident may take per day.
    pub exports_per_day: u64,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        PrivacySettings {
            show_staff_names: true,
            deletion_grace_days: 15,
            retention_days: 3 * 365,
            exports_per_day: 3,
        }
    }
}

/// The staff console (`/console`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ConsoleSettings {
    /// A session ends after this many minutes without a request.
    pub idle_minutes: u64,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings { idle_minutes: 30 }
    }
}

/// Call-backs (回访) beyond repeated dissatisfaction.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ReturnVisitSettings {
    /// The share of complaints closed with a rating that enter the return-visit list (0–1);
    /// every complaint closed without a rating enters it too.
    pub sample_rate: f64,
}

impl Default for ReturnVisitSettings {
    fn default() -> Self {
        ReturnVisitSettings { sample_rate: 0.1 }
    }
}

/// Hot spots (GET /stats/hotspots): tickets of one category within `radius_meters` of each
/// other, at least `min_tickets` of them around a point, make one.
#[derive(Debug, Clone, Deserialize)]
pub struct HotspotSettings {
    pub radius_meters: f64,
    pub min_tickets: usize,
}

impl Default for HotspotSettings {
    fn default() -> Self {
        HotspotSettings {
            radius_meters: 50.0,
            min_tickets: 5,
        }
    }
}
