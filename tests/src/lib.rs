//! Test harness: spawns a Qiaomen server on a free port with its own fresh database and a fake
//! WeChat server on loopback, and offers a small JSON client.
//!
//! Database: SQLite (a new file per test) unless `QIAOMEN_TEST_DATABASE_URL` names a PostgreSQL
//! server, in which case every test gets a new database `qm_test_<uuid>` on it.
use std::{net::SocketAddr, path::Path};

use qiaomen_api::{
    config::Settings,
    domain::inputs::Text,
    services::staff::{NewStaff, Password},
    startup,
};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use uuid::Uuid;

pub use qiaomen_api;

pub mod fake_wechat;
pub mod fake_wecom;
pub mod hostile;
pub mod logs;
pub mod own;
pub mod samples;
pub mod wechat_push;
pub mod world;

pub use own::{OwnPostgres, OwnRedis};
pub use world::*;

/// Whether a test that needs `program` (a server binary a fresh machine lacks) can run. Without
/// it the test is skipped with one printed line, except where `QIAOMEN_TEST_REQUIRE_SERVICES=1`
/// (CI), where a missing program fails the test.
pub fn have(program: &str, found: bool) -> bool {
    if found {
        return true;
    }
    if std::env::var("QIAOMEN_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
        panic!("{program} is required (QIAOMEN_TEST_REQUIRE_SERVICES=1) but not installed");
    }
    // Straight to stderr: the test harness captures `println!` of passing tests.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {program} is not installed (set QIAOMEN_TEST_REQUIRE_SERVICES=1 to fail instead)"
    );
    false
}

/// Runs the futures at once on the calling task (all requests in flight together) and returns
/// their outputs in order.
pub async fn all_at_once<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut results: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for (slot, result) in pending.iter_mut().zip(results.iter_mut()) {
            if let Some(fut) = slot {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(r) => {
                        *result = Some(r);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// The test system administrator's password (`root`).
pub const ROOT_PASSWORD: &str = "Root-password-1";
/// The password an administrator gives a new account in the tests.
pub const FIRST_PASSWORD: &str = "First-login-2026";
/// The password every test staff member chooses at first login.
pub const PASSWORD: &str = "password-123";

pub struct TestApp {
    pub settings: Settings,
    /// The clock every node of this test reads.
    pub clock: std::sync::Arc<qiaomen_api::clock::ManualClock>,
    pub base: String,
    pub http: reqwest::Client,
    pub admin_token: String,
    pub state: qiaomen_api::state::SharedState,
    pub wechat_base: String,
    pub wechat: std::sync::Arc<fake_wechat::FakeWechat>,
    pub wecom: std::sync::Arc<fake_wecom::FakeWecom>,
}

/// The bearer token tests read `/metrics` with.
pub const METRICS_TOKEN: &str = "test-metrics-token";

/// A database URL nobody else uses.
pub async fn fresh_database_url() -> String {
    match std::env::var("QIAOMEN_TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let name = format!("qm_test_{}", Uuid::new_v4().simple());
            let admin = Database::connect(base.as_str())
                .await
                .expect("connect to test PostgreSQL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let (prefix, _) = base.rsplit_once('/').expect("database url with a path");
            format!("{prefix}/{name}")
        }
        _ => {
            let dir = std::env::temp_dir().join("qiaomen-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!("sqlite://{}/{}.db?mode=rwc", dir.display(), Uuid::new_v4())
        }
    }
}

pub fn is_postgres() -> bool {
    std::env::var("QIAOMEN_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

pub async fn test_settings() -> Settings {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
    let mut settings = Settings::load(&dir, Some("test")).expect("test settings");
    settings.env = qiaomen_api::config::Environment::Test;
    settings.listen = "127.0.0.1:0".into();
    settings.database.url = fresh_database_url().await.into();
    settings.database.max_connections = 5;
    settings.redis.url = std::env::var("QIAOMEN_TEST_REDIS_URL")
        .unwrap_or_default()
        .into();
    // Tests share one Redis: each app (and its peers) gets a namespace of its own.
    settings.redis.key_prefix = format!("qm-test:{}:", Uuid::new_v4().simple());
    settings.wechat.appid = "wx-test-appid".into();
    settings.wechat.secret = "wx-test-secret".into();
    settings.ops.metrics_token = METRICS_TOKEN.into();
    settings.wechat.timeout_ms = 1000;
    settings.lifecycle.max_reopen = 2;
    settings.media.dir = std::env::temp_dir()
        .join("qiaomen-tests")
        .join(format!("media-{}", Uuid::new_v4().simple()))
        .display()
        .to_string();
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let (wechat, wechat_base) = fake_wechat::spawn().await;
    let (wecom, wecom_base) = fake_wecom::spawn().await;
    let mut settings = test_settings().await;
    settings.wechat.api_base = wechat_base.clone();
    settings.wecom.api_base = wecom_base;
    settings.wecom.corpid = fake_wecom::CORPID.into();
    settings.wecom.corpsecret = fake_wecom::SECRET.into();
    settings.wecom.agentid = fake_wecom::AGENTID;
    settings.wecom.console_base_url = "https://qiaomen.test".into();
    settings.wecom.timeout_ms = 1000;
    adjust(&mut settings);
    let clock = std::sync::Arc::new(qiaomen_api::clock::ManualClock::starting_now());
    let state = startup::build_state_with_clock(settings.clone(), clock.clone())
        .await
        .expect("build app");
    qiaomen_api::services::staff::create_admin(
        &state.db,
        &state.passwords,
        NewStaff {
            name: Text::parse("name", "测试管理员", 50).expect("name"),
            login: Text::parse("login", "root", 64).expect("login"),
            password: Password::parse(ROOT_PASSWORD).expect("password"),
            must_change_password: false,
        },
        state.clock.now(),
    )
    .await
    .expect("create admin");
    let addr = serve(state.clone()).await;
    let mut app = TestApp {
        settings,
        clock,
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        admin_token: String::new(),
        state,
        wechat_base,
        wechat,
        wecom,
    };
    app.admin_token = app.staff_login("root", ROOT_PASSWORD).await;
    app
}

/// A response: status, JSON body (Null when empty or not JSON) and content type.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub content_type: String,
}

impl Reply {
    /// The problem code of an error response.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        reply(resp).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    /// How many `items` a list endpoint returns.
    pub async fn count(&self, path: &str, token: &str) -> usize {
        let r = self.get(path, token).await;
        assert_eq!(r.status, StatusCode::OK, "GET {path}: {}", r.body);
        r.body["items"].as_array().map(Vec::len).unwrap_or_default()
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    /// `/metrics` as the scraper reads it.
    pub async fn metrics(&self) -> String {
        let resp = self
            .http
            .get(format!("{}/metrics", self.base))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .expect("metrics");
        assert_eq!(resp.status(), StatusCode::OK);
        resp.text().await.expect("text")
    }

    /// A POST without a token (logins, and what anyone may call).
    pub async fn post_anonymous(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, None, Some(body))
            .await
    }

    /// A GET without a token.
    pub async fn get_anonymous(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None, None).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(reqwest::Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.send(reqwest::Method::DELETE, path, Some(token), None)
            .await
    }

    /// A staff action on a ticket: `POST /api/v1/tickets/{id}/{action}`.
    pub async fn act(&self, id: &str, action: &str, by: &Person, body: Value) -> Reply {
        self.post(&format!("/api/v1/tickets/{id}/{action}"), &by.token, body)
            .await
    }

    pub async fn staff_login(&self, login: &str, password: &str) -> String {
        let r = self
            .send(
                reqwest::Method::POST,
                "/api/v1/auth/staff",
                None,
                Some(json!({"login": login, "password": password})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "staff login {login}: {}", r.body);
        r.body["token"].as_str().expect("token").to_owned()
    }

    /// Logs a resident in through the fake WeChat (the same code is the same person) who has
    /// agreed to the current privacy notice, as the mini-program asks at first use.
    pub async fn resident(&self, code: &str) -> String {
        let token = self.resident_without_consent(code).await;
        let version = self.state.notice.version.clone();
        let r = self
            .post("/api/v1/me/privacy", &token, json!({"version": version}))
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "privacy agreement {code}: {}",
            r.body
        );
        token
    }

    /// Logs a resident in who has not (yet) agreed to the privacy notice.
    pub async fn resident_without_consent(&self, code: &str) -> String {
        let r = self
            .send(
                reqwest::Method::POST,
                "/api/v1/auth/wechat",
                None,
                Some(json!({"code": code})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "wechat login {code}: {}", r.body);
        r.body["token"].as_str().expect("token").to_owned()
    }

    /// Creates something through an admin endpoint and returns its id.
    pub async fn create(&self, path: &str, body: Value) -> String {
        let r = self.post(path, &self.admin_token, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "POST {path}: {}", r.body);
        r.body["id"].as_str().expect("id").to_owned()
    }

    /// A resident's complaint of `category` at `point`, submitted; its id.
    pub async fn new_ticket(&self, resident: &str, category: &str, point: (f64, f64)) -> String {
        let r = self
            .post("/api/v1/tickets", resident, complaint_at(category, point))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().expect("id").to_owned()
    }

    /// Creates a staff member with one role, logged in: an administrator creates the account
    /// with a first password, and its holder chooses `password-123` at first login, as the
    /// console and API ask.
    pub async fn staff_with_role(
        &self,
        login: &str,
        area_id: Option<&str>,
        role: &str,
        extra: Value,
    ) -> Person {
        let id = self
            .create(
                "/api/v1/admin/staff",
                json!({"name": login, "login": login, "password": FIRST_PASSWORD}),
            )
            .await;
        let mut body = json!({"area_id": area_id, "role": role});
        if let (Some(obj), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            obj.extend(extra.clone());
        }
        self.create(&format!("/api/v1/admin/staff/{id}/assignments"), body)
            .await;
        let first = self.staff_login(login, FIRST_PASSWORD).await;
        let changed = self
            .post(
                "/api/v1/staff/me/password",
                &first,
                json!({"old": FIRST_PASSWORD, "new": PASSWORD}),
            )
            .await;
        assert_eq!(
            changed.status,
            StatusCode::OK,
            "first password change: {}",
            changed.body
        );
        let token = changed.body["token"].as_str().expect("token").to_owned();
        Person { id, token }
    }
}

pub async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = resp.bytes().await.expect("body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        content_type,
    }
}

async fn serve(state: qiaomen_api::state::SharedState) -> SocketAddr {
    let (tx, rx) = tokio::sync::oneshot::channel::<SocketAddr>();
    tokio::spawn(async move {
        let on_bound = move |addr| {
            let _ = tx.send(addr);
        };
        let _ = startup::serve(state, on_bound, std::future::pending()).await;
    });
    rx.await.expect("server bound")
}

impl TestApp {
    /// A second API node on the same database (and Redis, if any), as behind a load balancer.
    /// It shares no memory with the first.
    pub async fn peer(&self) -> TestApp {
        self.peer_with(|_| {}).await
    }

    /// A peer whose settings differ as `adjust` says (as a node configured apart would).
    pub async fn peer_with(&self, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = self.settings.clone();
        adjust(&mut settings);
        let state = startup::build_state_with_clock(settings.clone(), self.clock.clone())
            .await
            .expect("build peer");
        let addr = serve(state.clone()).await;
        TestApp {
            settings,
            clock: self.clock.clone(),
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            admin_token: self.admin_token.clone(),
            state,
            wechat_base: self.wechat_base.clone(),
            wechat: self.wechat.clone(),
            wecom: self.wecom.clone(),
        }
    }
}

impl TestApp {
    /// One pass of this node's notification sender, as its loop runs it.
    pub async fn send_notifications(&self) -> qiaomen_api::services::outbox::DrainReport {
        let ctx = self.state.ctx();
        qiaomen_api::services::outbox::drain(&ctx, &|| false)
            .await
            .expect("drain")
    }

    /// `GET /api/v1/admin/outbox?{query}` as the administrator.
    pub async fn outbox(&self, query: &str) -> Vec<Value> {
        let r = self
            .get(&format!("/api/v1/admin/outbox?{query}"), &self.admin_token)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body.as_array().cloned().unwrap_or_default()
    }

    /// Uploads a file as `multipart/form-data` field `file`.
    pub async fn upload(
        &self,
        token: &str,
        filename: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Reply {
        let boundary = format!("qm-{}", Uuid::new_v4().simple());
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let resp = self
            .http
            .post(format!("{}/api/v1/attachments", self.base))
            .bearer_auth(token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("upload");
        reply(resp).await
    }

    /// Fetches raw bytes (status, bytes).
    pub async fn fetch_bytes(&self, path: &str, token: &str) -> (StatusCode, Vec<u8>) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("fetch");
        let status = resp.status();
        (
            status,
            resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
        )
    }
}

/// The ids of a page's `items`, in order.
pub fn item_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["id"].as_str().map(str::to_owned))
        .collect()
}

/// One scheduler pass that must run (this test's scheduler holds the lease): what it did to
/// tickets and accounts. Whether it also trained the category model (`models_trained`) depends
/// on the hour of the day the test runs at (nightly, after 03:00 Beijing), so it reads 0 here;
/// tests of the training read the model (`GET /admin/category-model`) instead.
pub async fn tick(
    scheduler: &qiaomen_api::scheduler::Scheduler,
) -> qiaomen_api::services::sla::ScanReport {
    match scheduler.tick().await.expect("tick") {
        qiaomen_api::scheduler::Tick::Ran(report) => qiaomen_api::services::sla::ScanReport {
            models_trained: 0,
            ..report
        },
        qiaomen_api::scheduler::Tick::Skipped => panic!("a lone scheduler takes the lease"),
    }
}

impl TestApp {
    /// The kinds of the notifications in a staff member's inbox, newest first.
    pub async fn staff_inbox_kinds(&self, token: &str) -> Vec<String> {
        self.inbox_kinds("/api/v1/staff/me/notifications", token)
            .await
    }

    /// The kinds of the notifications in a resident's inbox, newest first.
    pub async fn resident_inbox_kinds(&self, token: &str) -> Vec<String> {
        self.inbox_kinds("/api/v1/me/notifications", token).await
    }

    async fn inbox_kinds(&self, path: &str, token: &str) -> Vec<String> {
        let r = self.get(path, token).await;
        r.body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n["kind"].as_str().map(str::to_owned))
            .collect()
    }
}
