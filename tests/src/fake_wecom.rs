//! A fake 企业微信 on loopback that behaves like the real one where Qiaomen depends on it:
//! `gettoken` checks the corp id and secret and hands out the same token while it is valid;
//! `message/send` checks the token (40014 unknown, 42001 expired), the members (81013 when the
//! only recipient is not in the corp, named in `invaliduser`) and the application's visibility
//! (60011); errors as `{errcode, errmsg}` with HTTP 200; an outage on demand.
use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use poem::{
    EndpointExt, Response, Route, get, handler,
    listener::{Acceptor, Listener, TcpListener},
    post,
    web::{Data, Json, Query},
};
use serde::Deserialize;
use serde_json::{Value, json};

pub const CORPID: &str = "ww-test-corp";
pub const SECRET: &str = "wecom-test-secret";
pub const AGENTID: i64 = 1_000_002;

#[derive(Default)]
pub struct FakeWecom {
    /// Answer every call with HTTP 503.
    pub down: AtomicBool,
    /// Members of the corp, and those the application may not message.
    members: Mutex<HashSet<String>>,
    hidden: Mutex<HashSet<String>>,
    current: Mutex<Option<String>>,
    expired: Mutex<HashSet<String>>,
    minted: AtomicU64,
    calls: Mutex<HashMap<&'static str, u32>>,
    pub sent: Mutex<Vec<Value>>,
}

impl FakeWecom {
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

    pub fn add_member(&self, userid: &str) {
        if let Ok(mut m) = self.members.lock() {
            m.insert(userid.to_owned());
        }
    }

    /// The application's visible range leaves `userid` out: 60011.
    pub fn hide(&self, userid: &str) {
        if let Ok(mut m) = self.hidden.lock() {
            m.insert(userid.to_owned());
        }
    }

    /// The current token expires: calls with it answer 42001; `gettoken` mints another.
    pub fn expire_token(&self) {
        if let (Ok(mut cur), Ok(mut expired)) = (self.current.lock(), self.expired.lock())
            && let Some(t) = cur.take()
        {
            expired.insert(t);
        }
    }

    pub fn sent_to(&self, userid: &str) -> Vec<Value> {
        self.sent
            .lock()
            .map(|s| {
                s.iter()
                    .filter(|m| m["touser"] == userid)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn reply(body: Value) -> Response {
    Response::builder()
        .content_type("application/json")
        .body(body.to_string())
}

fn unavailable() -> Response {
    Response::builder()
        .status(poem::http::StatusCode::SERVICE_UNAVAILABLE)
        .body("down")
}

#[derive(Deserialize)]
struct TokenQuery {
    corpid: String,
    corpsecret: String,
}

#[handler]
async fn gettoken(Query(q): Query<TokenQuery>, fake: Data<&Arc<FakeWecom>>) -> Response {
    fake.count("gettoken");
    if fake.down.load(Ordering::SeqCst) {
        return unavailable();
    }
    if q.corpid != CORPID {
        return reply(json!({"errcode": 40013, "errmsg": "invalid corpid"}));
    }
    if q.corpsecret != SECRET {
        return reply(json!({"errcode": 40001, "errmsg": "invalid credential"}));
    }
    let Ok(mut cur) = fake.current.lock() else {
        return unavailable();
    };
    let token = cur
        .get_or_insert_with(|| {
            format!(
                "wecom-token-{}",
                fake.minted.fetch_add(1, Ordering::SeqCst) + 1
            )
        })
        .clone();
    reply(json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}))
}

#[derive(Deserialize)]
struct SendQuery {
    access_token: String,
}

#[handler]
async fn send(
    Query(q): Query<SendQuery>,
    Json(body): Json<Value>,
    fake: Data<&Arc<FakeWecom>>,
) -> Response {
    fake.count("message_send");
    if fake.down.load(Ordering::SeqCst) {
        return unavailable();
    }
    if fake
        .expired
        .lock()
        .is_ok_and(|e| e.contains(&q.access_token))
    {
        return reply(json!({"errcode": 42001, "errmsg": "access_token expired"}));
    }
    if fake.current.lock().ok().and_then(|c| c.clone()) != Some(q.access_token.clone()) {
        return reply(json!({"errcode": 40014, "errmsg": "invalid access_token"}));
    }
    if body["agentid"] != AGENTID || body["msgtype"] != "textcard" {
        return reply(json!({"errcode": 40056, "errmsg": "invalid agentid"}));
    }
    let to = body["touser"].as_str().unwrap_or_default().to_owned();
    if fake.hidden.lock().is_ok_and(|h| h.contains(&to)) {
        return reply(
            json!({"errcode": 60011, "errmsg": "no privilege to access/modify contact/party/agent"}),
        );
    }
    if !fake.members.lock().is_ok_and(|m| m.contains(&to)) {
        return reply(
            json!({"errcode": 81013, "errmsg": "user & party & tag all invalid", "invaliduser": to}),
        );
    }
    let msgid = match fake.sent.lock() {
        Ok(mut sent) => {
            sent.push(body);
            format!("wecom-msg-{}", sent.len())
        }
        Err(_) => return unavailable(),
    };
    reply(json!({"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": msgid}))
}

pub async fn spawn() -> (Arc<FakeWecom>, String) {
    let fake = Arc::new(FakeWecom::default());
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .expect("bind fake wecom");
    let addr = acceptor.local_addr()[0]
        .as_socket_addr()
        .copied()
        .expect("socket addr");
    let app = Route::new()
        .at("/cgi-bin/gettoken", get(gettoken))
        .at("/cgi-bin/message/send", post(send))
        .data(fake.clone())
        .boxed();
    tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
    });
    (fake, format!("http://{addr}"))
}
