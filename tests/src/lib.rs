//! Test harness: spawns a Qiaomen server on a free port with its own fresh database and a fake
//! WeChat server on loopback, and offers a small JSON client.
//!
//! Database: SQLite (a new file per test) unless `QIAOMEN_TEST_DATABASE_URL` names a PostgreSQL
//! server, in which case every test gets a new database `qm_test_<uuid>` on it.
use std::{net::SocketAddr, path::Path, time::Duration};

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
pub mod hostile;
pub mod logs;

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
    let mut settings = test_settings().await;
    settings.wechat.api_base = wechat_base.clone();
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
            password: Password::parse("root-password").expect("password"),
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
    };
    app.admin_token = app.staff_login("root", "root-password").await;
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

    /// Logs a resident in through the fake WeChat; the same code is the same person.
    pub async fn resident(&self, code: &str) -> String {
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

    /// Creates a staff member with one role, logged in.
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
                json!({"name": login, "login": login, "password": "password-123"}),
            )
            .await;
        let mut body = json!({"area_id": area_id, "role": role});
        if let (Some(obj), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            obj.extend(extra.clone());
        }
        self.create(&format!("/api/v1/admin/staff/{id}/assignments"), body)
            .await;
        let token = self.staff_login(login, "password-123").await;
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

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<[f64; 2]> {
    vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
}

/// A small street to test against (WGS-84):
///
/// ```text
///  39.920 ┌──────────────B1──────────────┐
///         │        ┌──B2──┐  (B2 fills    │   community CB: B1 (with a hole) and B2 (the hole)
///  39.910 ┌───A1───┐notch┌─────A2───────┐        │ the hole)│
///         │    ┌───┘     │              │   community CA: A1 (an L, concave) and A2
///  39.900 └────┴─────────┴──────────────┘
///      116.400  116.405 116.410       116.420          116.440
/// ```
pub struct World {
    pub street: String,
    pub ca: String,
    pub cb: String,
    pub a1: String,
    pub a2: String,
    pub b1: String,
    pub b2: String,
    pub building_a2: String,
    pub gw_a1: Person,
    pub ga_a1: Person,
    pub gw_a2: Person,
    pub gw_b1: Person,
    pub ca_admin: Person,
    pub cb_admin: Person,
    pub street_admin: Person,
    pub dept: Person,
}

/// A staff member of a test's world: their id and a token they are logged in with.
#[derive(Clone, Debug)]
pub struct Person {
    pub id: String,
    pub token: String,
}

pub const A1_POINT: (f64, f64) = (39.902, 116.408); // lower arm of the L
pub const NOTCH_POINT: (f64, f64) = (39.908, 116.408); // inside A1's bounding box, outside A1
pub const A2_POINT: (f64, f64) = (39.905, 116.415);
pub const BORDER_A1_A2: (f64, f64) = (39.902, 116.410);
pub const B1_POINT: (f64, f64) = (39.905, 116.425);
pub const HOLE_POINT: (f64, f64) = (39.910, 116.430);

impl World {
    pub async fn build(app: &TestApp) -> World {
        let street = app
            .create(
                "/api/v1/admin/areas",
                json!({"kind": "street", "name": "测试街道", "code": "S"}),
            )
            .await;
        let ca = app
            .create(
                "/api/v1/admin/areas",
                json!({"kind": "community", "name": "甲社区", "parent_id": street, "code": "CA"}),
            )
            .await;
        let cb = app
            .create(
                "/api/v1/admin/areas",
                json!({"kind": "community", "name": "乙社区", "parent_id": street, "code": "CB"}),
            )
            .await;
        let l_shape = vec![
            [116.400, 39.900],
            [116.410, 39.900],
            [116.410, 39.905],
            [116.405, 39.905],
            [116.405, 39.910],
            [116.400, 39.910],
            [116.400, 39.900],
        ];
        let grid = |name: &str, code: &str, parent: &str, rings: Vec<Vec<[f64; 2]>>| json!({"kind": "grid", "name": name, "code": code, "parent_id": parent, "boundary": {"type": "Polygon", "coordinates": rings}});
        let a1 = app
            .create(
                "/api/v1/admin/areas",
                grid("甲一网格", "A1", &ca, vec![l_shape]),
            )
            .await;
        let a2 = app
            .create(
                "/api/v1/admin/areas",
                grid(
                    "甲二网格",
                    "A2",
                    &ca,
                    vec![square(116.410, 39.900, 116.420, 39.910)],
                ),
            )
            .await;
        let b1 = app
            .create(
                "/api/v1/admin/areas",
                grid(
                    "乙一网格",
                    "B1",
                    &cb,
                    vec![
                        square(116.420, 39.900, 116.440, 39.920),
                        square(116.428, 39.908, 116.432, 39.912),
                    ],
                ),
            )
            .await;
        let b2 = app
            .create(
                "/api/v1/admin/areas",
                grid(
                    "乙二网格",
                    "B2",
                    &cb,
                    vec![square(116.428, 39.908, 116.432, 39.912)],
                ),
            )
            .await;
        let building_a2 = app
            .create(
                "/api/v1/admin/buildings",
                json!({"name": "甲二网格3号楼", "grid_id": a2, "address": "测试路3号", "location": {"lat": 39.906, "lng": 116.416, "coord_system": "wgs84"}}),
            )
            .await;
        for (code, name, group, level) in [
            ("noise", "噪音扰民", "环境卫生", "grid"),
            ("sanitation", "环境卫生", "环境卫生", "grid"),
            ("lighting", "路灯照明", "市政设施", "community"),
            ("illegal_construction", "违法建设", "城市管理", "street"),
        ] {
            app.create(
                "/api/v1/admin/categories",
                json!({"code": code, "name": name, "group": group, "handling_level": level, "response_minutes": 60, "resolution_hours": 48}),
            )
            .await;
        }
        let none = json!({});
        World {
            gw_a1: app
                .staff_with_role("gw_a1", Some(&a1), "grid_worker", none.clone())
                .await,
            ga_a1: app
                .staff_with_role(
                    "ga_a1",
                    Some(&a1),
                    "grid_assistant",
                    json!({"skills": ["noise"]}),
                )
                .await,
            gw_a2: app
                .staff_with_role("gw_a2", Some(&a2), "grid_worker", none.clone())
                .await,
            gw_b1: app
                .staff_with_role("gw_b1", Some(&b1), "grid_worker", none.clone())
                .await,
            ca_admin: app
                .staff_with_role("ca_admin", Some(&ca), "community_admin", none.clone())
                .await,
            cb_admin: app
                .staff_with_role("cb_admin", Some(&cb), "community_admin", none.clone())
                .await,
            street_admin: app
                .staff_with_role("street_admin", Some(&street), "street_admin", none.clone())
                .await,
            dept: app
                .staff_with_role(
                    "dept",
                    Some(&street),
                    "department",
                    json!({"department": "城市管理"}),
                )
                .await,
            street,
            ca,
            cb,
            a1,
            a2,
            b1,
            b2,
            building_a2,
        }
    }
}

/// A complaint body at a WGS-84 point.
pub fn complaint_at(category: &str, (lat, lng): (f64, f64)) -> Value {
    json!({
        "kind": "complaint",
        "category": category,
        "description": "楼下夜里施工，噪音很大",
        "location": {"lat": lat, "lng": lng, "coord_system": "wgs84"},
        "contact_phone": "13812341234"
    })
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
        let state = startup::build_state_with_clock(self.settings.clone(), self.clock.clone())
            .await
            .expect("build peer");
        let addr = serve(state.clone()).await;
        TestApp {
            settings: self.settings.clone(),
            clock: self.clock.clone(),
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            admin_token: self.admin_token.clone(),
            state,
            wechat_base: self.wechat_base.clone(),
            wechat: self.wechat.clone(),
        }
    }
}

/// A `redis-server` of the test's own on a free port (never the shared one), stopped on drop.
pub struct OwnRedis {
    pub port: u16,
    child: Option<std::process::Child>,
    dir: std::path::PathBuf,
}

impl OwnRedis {
    /// `None` (the test skips, see [`have`]) when `redis-server` is not installed.
    pub fn start() -> Option<OwnRedis> {
        have("redis-server", on_path("redis-server")).then(OwnRedis::started)
    }

    fn started() -> OwnRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let dir = std::env::temp_dir().join(format!("qm-redis-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("redis dir");
        let mut redis = OwnRedis {
            port,
            child: None,
            dir,
        };
        redis.restart();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// (Re)starts the server and waits until it accepts connections.
    pub fn restart(&mut self) {
        let port = self.port.to_string();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                port.as_str(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .current_dir(&self.dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server on PATH");
        self.child = Some(child);
        for _ in 0..400 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl TestApp {
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

/// Sample images with a fake GPS marker in their metadata.
pub mod samples {
    pub const SECRET: &[u8] = b"GPS-39.9087N-116.3975E";

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, marker];
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// SOI, JFIF, an EXIF APP1 carrying the marker, a quantisation table, a frame, a scan, EOI.
    pub fn jpeg_with_exif() -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8];
        out.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        let mut exif = b"Exif\0\0MM\0*\0\0\0\x08".to_vec();
        exif.extend_from_slice(SECRET);
        out.extend(segment(0xE1, &exif));
        out.extend(segment(0xDB, &[0u8; 65]));
        out.extend(segment(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
        out.extend(segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]));
        out.extend_from_slice(&[0x12, 0x34, 0x56, 0xFF, 0xD9]);
        out
    }

    /// What phones write: a primary image (EXIF-free, with an MPF index in APP2 and an ICC
    /// profile), then a second image (a gain map, say) whose own EXIF carries the marker.
    pub fn jpeg_with_secondary_image() -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8];
        out.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        out.extend(segment(0xE2, b"ICC_PROFILE\0\x01\x01profile"));
        out.extend(segment(0xE2, b"MPF\0MM\0*\0\0\0\x08\0\0"));
        out.extend(segment(0xDB, &[0u8; 65]));
        out.extend(segment(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
        out.extend(segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]));
        out.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xD9]);
        out.extend(jpeg_with_exif());
        out
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        let mut typed = kind.to_vec();
        typed.extend_from_slice(data);
        out.extend_from_slice(&typed);
        out.extend_from_slice(&crc32(&typed).to_be_bytes());
        out
    }

    /// A 1×1 PNG with an eXIf and a tEXt chunk carrying the marker.
    pub fn png_with_metadata() -> Vec<u8> {
        let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        out.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
        let mut exif = b"MM\0*\0\0\0\x08".to_vec();
        exif.extend_from_slice(SECRET);
        out.extend(chunk(b"eXIf", &exif));
        let mut text = b"Comment\0".to_vec();
        text.extend_from_slice(SECRET);
        out.extend(chunk(b"tEXt", &text));
        out.extend(chunk(b"IDAT", &[0x78, 0x9C, 0x63, 0x60, 0, 0, 0, 2, 0, 1]));
        out.extend(chunk(b"IEND", &[]));
        out
    }

    fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(payload);
        out
    }

    /// A HEIF file whose item 1 is an `Exif` item stored in `mdat`, carrying the marker.
    pub fn heic_with_exif() -> Vec<u8> {
        let ftyp = bx(b"ftyp", b"heic\0\0\0\0mif1heic");
        let hdlr = bx(b"hdlr", b"\0\0\0\0\0\0\0\0pict\0\0\0\0\0\0\0\0\0\0\0\0\0");
        let infe = bx(b"infe", b"\x02\0\0\0\0\x01\0\0Exif\0");
        let mut iinf_payload = b"\0\0\0\0\0\x01".to_vec();
        iinf_payload.extend(infe);
        let iinf = bx(b"iinf", &iinf_payload);
        let exif_len = (6 + SECRET.len()) as u32;
        // The iloc needs the absolute offset of the data; build once to learn the layout.
        let build = |offset: u32| {
            let mut iloc = b"\0\0\0\0\x44\0\0\x01\0\x01\0\0\0\x01".to_vec(); // v0, 4-byte offsets/lengths, 1 item
            iloc.extend_from_slice(&offset.to_be_bytes());
            iloc.extend_from_slice(&exif_len.to_be_bytes());
            let mut meta_payload = b"\0\0\0\0".to_vec();
            meta_payload.extend(hdlr.clone());
            meta_payload.extend(iinf.clone());
            meta_payload.extend(bx(b"iloc", &iloc));
            let mut file = ftyp.clone();
            file.extend(bx(b"meta", &meta_payload));
            file
        };
        let head = build(0);
        let offset = (head.len() + 8) as u32;
        let mut file = build(offset);
        let mut data = b"Exif\0\0".to_vec();
        data.extend_from_slice(SECRET);
        file.extend(bx(b"mdat", &data));
        file
    }

    pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }
}

/// A PostgreSQL server of the test's own (initdb in a temp dir, a spare port), never the shared
/// one, so a test can stop and restart it. As root it runs as the `postgres` user.
pub struct OwnPostgres {
    pub port: u16,
    dir: std::path::PathBuf,
    bin: std::path::PathBuf,
}

impl OwnPostgres {
    /// `None` (the test skips, see [`have`]) when no PostgreSQL server binaries are installed.
    pub fn start() -> Option<OwnPostgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|dirs| {
                dirs.filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                    .find(|p| p.join("initdb").exists())
            });
        if !have("initdb (PostgreSQL server)", bin.is_some()) {
            return None;
        }
        let bin = bin?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .ok()?;
        let dir = std::env::temp_dir().join(format!("qm-pg-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("data")).ok()?;
        let pg = OwnPostgres { port, dir, bin };
        if is_root() {
            let ok = std::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&pg.dir)
                .status();
            assert!(ok.is_ok_and(|s| s.success()), "chown the PostgreSQL dir");
        }
        let data = pg.dir.join("data");
        pg.run(
            "initdb",
            &[
                "-D",
                &data.display().to_string(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
        );
        pg.restart();
        Some(pg)
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool).display().to_string();
        let mut cmd = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--", exe.as_str()]);
            c
        } else {
            std::process::Command::new(&exe)
        };
        let out = cmd
            .args(args)
            .current_dir(&self.dir)
            .output()
            .expect("run a PostgreSQL tool");
        assert!(
            out.status.success(),
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn restart(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let data = self.dir.join("data").display().to_string();
        let log = self.dir.join("log").display().to_string();
        self.run(
            "pg_ctl",
            &["-D", &data, "-o", &opts, "-l", &log, "-w", "start"],
        );
    }

    /// Stops it the hard way, as a crash or a network cut would look.
    pub fn stop(&self) {
        let data = self.dir.join("data").display().to_string();
        self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let data = self.dir.join("data").display().to_string();
        let exe = self.bin.join("pg_ctl").display().to_string();
        let mut cmd = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--", exe.as_str()]);
            c
        } else {
            std::process::Command::new(&exe)
        };
        let _ = cmd.args(["-D", &data, "-m", "immediate", "stop"]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}
