//! A fake WeChat server on loopback that behaves like the real one where Qiaomen depends on it:
//! errors as `{errcode, errmsg}` with HTTP 200 and a text/plain content type, access tokens that
//! normal-mode `stable_token` hands out again while valid and `force_refresh` replaces (the old
//! one stops working), token checks on every API, and failures on demand.
use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
    time::Duration,
};

use poem::{
    EndpointExt, Response, Route, get, handler,
    listener::{Acceptor, Listener, TcpListener},
    post,
    web::{Data, Json, Query},
};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Default)]
pub struct FakeWechat {
    calls: Mutex<HashMap<&'static str, u32>>,
    tokens: Mutex<Tokens>,
    /// Answer every call with HTTP 503.
    pub down: AtomicBool,
    /// errcode to answer `subscribe/send` with, per openid, for the next N calls (0 = always).
    send_errors: Mutex<HashMap<String, (i64, u32)>>,
    /// Messages accepted by `subscribe/send`.
    pub sent: Mutex<Vec<Value>>,
    pub force_refreshes: AtomicU32,
    /// Token-protected calls answer only after 3 s (longer than the clients wait).
    pub stalled: AtomicBool,
    /// `media_check_async` calls: (trace_id, media_url, HTTP status WeChat got fetching it,
    /// bytes fetched).
    pub media_checks: Mutex<Vec<(String, String, u16, usize)>>,
}

#[derive(Default)]
struct Tokens {
    current: Option<String>,
    valid: HashSet<String>,
    minted: u32,
}

impl FakeWechat {
    fn count(&self, what: &'static str) {
        if let Ok(mut c) = self.calls.lock() {
            *c.entry(what).or_default() += 1;
        }
    }

    pub fn calls(&self, what: &str) -> u32 {
        self.calls
            .lock()
            .map(|c| c.get(what).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// The current token expires: calls with it fail with 42001 and normal mode mints a new one.
    pub fn expire_token(&self) {
        if let Ok(mut t) = self.tokens.lock()
            && let Some(cur) = t.current.take()
        {
            t.valid.remove(&cur);
        }
    }

    /// The current token stops working but normal-mode `stable_token` still hands it out (as
    /// after a secret reset elsewhere): only `force_refresh` gets a working one.
    pub fn revoke_current_token(&self) {
        if let Ok(mut t) = self.tokens.lock()
            && let Some(cur) = t.current.clone()
        {
            t.valid.remove(&cur);
        }
    }

    /// `subscribe/send` to `openid` answers `errcode` the next `times` times (0: until cleared).
    pub fn fail_sends(&self, openid: &str, errcode: i64, times: u32) {
        if let Ok(mut m) = self.send_errors.lock() {
            m.insert(openid.to_owned(), (errcode, times));
        }
    }

    /// The access token handed out last.
    pub fn current_token(&self) -> Option<String> {
        self.tokens.lock().ok().and_then(|t| t.current.clone())
    }

    pub fn sent_to(&self, openid: &str) -> Vec<Value> {
        self.sent
            .lock()
            .map(|s| {
                s.iter()
                    .filter(|m| m["touser"] == openid)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    fn mint(&self, t: &mut Tokens) -> String {
        t.minted += 1;
        // Unique to this fake, so a test can look for it in logs shared with other tests.
        let token = format!("token-{}-{}", std::ptr::from_ref(self) as usize, t.minted);
        t.valid.insert(token.clone());
        t.current = Some(token.clone());
        token
    }

    fn token_ok(&self, token: &str) -> bool {
        self.tokens
            .lock()
            .map(|t| t.valid.contains(token))
            .unwrap_or(false)
    }
}

fn reply(body: Value) -> Response {
    Response::builder()
        .content_type("text/plain")
        .body(body.to_string())
}

fn unavailable() -> Response {
    Response::builder()
        .status(poem::http::StatusCode::SERVICE_UNAVAILABLE)
        .body("down")
}

#[derive(Deserialize)]
struct SessionQuery {
    appid: String,
    secret: String,
    js_code: String,
    grant_type: String,
}

/// Codes steer it: `bad…` → 40029, `busy…` → -1, `limited…` → 45011, `slow…` → answers after 3 s.
#[handler]
async fn jscode2session(Query(q): Query<SessionQuery>, fake: Data<&Arc<FakeWechat>>) -> Response {
    fake.count("jscode2session");
    if fake.down.load(Ordering::SeqCst) {
        return unavailable();
    }
    let body = if q.appid != "wx-test-appid"
        || q.secret != "wx-test-secret"
        || q.grant_type != "authorization_code"
    {
        json!({"errcode": 40013, "errmsg": "invalid appid"})
    } else if q.js_code.starts_with("bad") {
        json!({"errcode": 40029, "errmsg": "invalid code, rid: 1"})
    } else if q.js_code.starts_with("busy") {
        json!({"errcode": -1, "errmsg": "system error"})
    } else if q.js_code.starts_with("limited") {
        json!({"errcode": 45011, "errmsg": "api minute-quota reach limit"})
    } else {
        if q.js_code.starts_with("slow") {
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
        json!({"openid": format!("openid-{}", q.js_code), "session_key": "c2Vzc2lvbg=="})
    };
    reply(body)
}

#[handler]
async fn stable_token(Json(body): Json<Value>, fake: Data<&Arc<FakeWechat>>) -> Response {
    fake.count("stable_token");
    if fake.down.load(Ordering::SeqCst) {
        return unavailable();
    }
    if body["grant_type"] != "client_credential"
        || body["appid"] != "wx-test-appid"
        || body["secret"] != "wx-test-secret"
    {
        return reply(json!({"errcode": 40013, "errmsg": "invalid appid"}));
    }
    let force = body["force_refresh"].as_bool().unwrap_or(false);
    let Ok(mut t) = fake.tokens.lock() else {
        return unavailable();
    };
    let token = match (&t.current, force) {
        (Some(cur), false) => cur.clone(),
        (_, true) => {
            fake.force_refreshes.fetch_add(1, Ordering::SeqCst);
            t.valid.clear();
            fake.mint(&mut t)
        }
        (None, false) => fake.mint(&mut t),
    };
    reply(json!({"access_token": token, "expires_in": 7200}))
}

#[derive(Deserialize)]
struct TokenQuery {
    access_token: String,
}

/// Common checks of a token-protected API: down, bad token.
fn guard(fake: &FakeWechat, token: &str) -> Option<Response> {
    if fake.down.load(Ordering::SeqCst) {
        return Some(unavailable());
    }
    if !fake.token_ok(token) {
        return Some(reply(
            json!({"errcode": 42001, "errmsg": "access_token expired"}),
        ));
    }
    None
}

#[handler]
async fn subscribe_send(
    Query(q): Query<TokenQuery>,
    Json(body): Json<Value>,
    fake: Data<&Arc<FakeWechat>>,
) -> Response {
    fake.count("subscribe_send");
    if fake.stalled.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    if let Some(r) = guard(&fake, &q.access_token) {
        return r;
    }
    let openid = body["touser"].as_str().unwrap_or_default().to_owned();
    let planned = fake.send_errors.lock().ok().and_then(|mut m| {
        let (code, times) = m.get(&openid).copied()?;
        if times == 1 {
            m.remove(&openid);
        } else if times > 1 {
            m.insert(openid.clone(), (code, times - 1));
        }
        Some(code)
    });
    if let Some(code) = planned {
        return reply(json!({"errcode": code, "errmsg": "planned failure"}));
    }
    // WeChat numbers each message it accepts; its later sent event names it.
    let msgid = match fake.sent.lock() {
        Ok(mut sent) => {
            sent.push(body);
            1_700_000_000_000_000_000u64 + sent.len() as u64
        }
        Err(_) => 0,
    };
    reply(json!({"errcode": 0, "errmsg": "ok", "msgid": msgid}))
}

/// Text with `RISKY` is risky (label 20001), with `REVIEW` needs review, with `INACTIVE` gives
/// 61010 (user not active in the last 2 hours); anything else passes.
#[handler]
async fn msg_sec_check(
    Query(q): Query<TokenQuery>,
    Json(body): Json<Value>,
    fake: Data<&Arc<FakeWechat>>,
) -> Response {
    fake.count("msg_sec_check");
    if let Some(r) = guard(&fake, &q.access_token) {
        return r;
    }
    if body["version"] != 2 || body["openid"].as_str().is_none_or(str::is_empty) {
        return reply(json!({"errcode": 47001, "errmsg": "data format error"}));
    }
    let content = body["content"].as_str().unwrap_or_default();
    if content.contains("INACTIVE") {
        return reply(json!({"errcode": 61010, "errmsg": "user is not active"}));
    }
    let (suggest, label) = if content.contains("RISKY") {
        ("risky", 20001)
    } else if content.contains("REVIEW") {
        ("review", 21000)
    } else {
        ("pass", 100)
    };
    reply(
        json!({"errcode": 0, "errmsg": "ok", "result": {"suggest": suggest, "label": label}, "trace_id": "t"}),
    )
}

/// Code `phone-13800001111` gives that number; anything else is 40029.
#[handler]
async fn phone_number(
    Query(q): Query<TokenQuery>,
    Json(body): Json<Value>,
    fake: Data<&Arc<FakeWechat>>,
) -> Response {
    fake.count("getuserphonenumber");
    if let Some(r) = guard(&fake, &q.access_token) {
        return r;
    }
    match body["code"].as_str().and_then(|c| c.strip_prefix("phone-")) {
        Some(number) => reply(json!({"errcode": 0, "errmsg": "ok", "phone_info": {
            "phoneNumber": format!("+86{number}"), "purePhoneNumber": number, "countryCode": "86",
            "watermark": {"timestamp": 1, "appid": "wx-test-appid"}}})),
        None => reply(json!({"errcode": 40029, "errmsg": "invalid code"})),
    }
}

/// Starts the fake; returns it and its base URL.
/// `media_check_async` (version 2): WeChat fetches the image at `media_url` as it would (the
/// answer's status and size are kept) and answers a trace id; its verdict comes later as a
/// `wxa_media_check` push, which the test sends.
#[handler]
async fn media_check_async(
    Query(q): Query<TokenQuery>,
    Json(body): Json<Value>,
    fake: Data<&Arc<FakeWechat>>,
) -> Response {
    fake.count("media_check_async");
    if fake.down.load(Ordering::SeqCst) {
        return unavailable();
    }
    if let Some(r) = guard(&fake, &q.access_token) {
        return r;
    }
    if body["version"] != 2 || body["media_type"] != 2 || body["openid"].as_str().is_none() {
        return reply(json!({"errcode": 47001, "errmsg": "data format error"}));
    }
    let url = body["media_url"].as_str().unwrap_or_default().to_owned();
    let (status, size) = match reqwest::get(&url).await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            (status, resp.bytes().await.map(|b| b.len()).unwrap_or(0))
        }
        Err(_) => (0, 0),
    };
    let trace_id = format!("trace-{}", uuid::Uuid::new_v4().simple());
    if let Ok(mut checks) = fake.media_checks.lock() {
        checks.push((trace_id.clone(), url, status, size));
    }
    reply(json!({"errcode": 0, "errmsg": "ok", "trace_id": trace_id}))
}

pub async fn spawn() -> (Arc<FakeWechat>, String) {
    let fake = Arc::new(FakeWechat::default());
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .expect("bind fake wechat");
    let addr = acceptor.local_addr()[0]
        .as_socket_addr()
        .copied()
        .expect("socket addr");
    let app = Route::new()
        .at("/sns/jscode2session", get(jscode2session))
        .at("/cgi-bin/stable_token", post(stable_token))
        .at("/cgi-bin/message/subscribe/send", post(subscribe_send))
        .at("/wxa/msg_sec_check", post(msg_sec_check))
        .at("/wxa/business/getuserphonenumber", post(phone_number))
        .at("/wxa/media_check_async", post(media_check_async))
        .data(fake.clone())
        .boxed();
    tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
    });
    (fake, format!("http://{addr}"))
}
