//! Console sessions: an opaque id in an HttpOnly, SameSite=Strict cookie (Secure outside
//! development), the staff member and a CSRF token kept in the shared cache under it, forgotten
//! after `console.idle_minutes` without a request. Every form carries the CSRF token.
use std::time::Duration;

use poem::Request;
use uuid::Uuid;

use crate::{config::Environment, state::SharedState};

pub const COOKIE: &str = "qm_console";

pub struct Session {
    pub id: String,
    pub staff_id: Uuid,
    pub csrf: String,
    /// The staff member's `token_version` when it began: a password change ends it.
    pub version: i32,
}

fn key(id: &str) -> String {
    format!("console:session:{id}")
}

fn idle(state: &SharedState) -> Duration {
    Duration::from_secs(state.settings.console.idle_minutes.max(1) * 60)
}

fn random_token() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// A new session for `member`; its `Set-Cookie` value.
pub async fn start(
    state: &SharedState,
    member: &entity::staff::Model,
) -> Option<(Session, String)> {
    let session = Session {
        id: random_token(),
        staff_id: member.id,
        csrf: random_token(),
        version: member.token_version,
    };
    let value = format!(
        "{}:{}:{}:{}",
        session.staff_id,
        session.csrf,
        chrono::Utc::now().timestamp(),
        session.version
    );
    state
        .cache
        .set(&key(&session.id), &value, idle(state))
        .await
        .ok()?;
    // A browser-session cookie: the server ends it after `idle_minutes` without a request.
    let cookie = cookie(state, &session.id, "");
    Some((session, cookie))
}

fn cookie(state: &SharedState, value: &str, extra: &str) -> String {
    let secure = if state.settings.env == Environment::Development {
        ""
    } else {
        "; Secure"
    };
    format!("{COOKIE}={value}; Path=/console; HttpOnly; SameSite=Strict{extra}{secure}")
}

/// The cookie that ends a session in the browser.
pub fn cleared(state: &SharedState) -> String {
    cookie(state, "", "; Max-Age=0")
}

fn cookie_value(req: &Request) -> Option<String> {
    req.headers()
        .get_all(poem::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .find(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The request's session, its idle time started afresh; `None` without a live one. A session
/// lives at most `jwt.staff_ttl_hours` (as staff tokens do) and ends when the staff member's
/// password changes.
pub async fn current(state: &SharedState, req: &Request) -> Option<Session> {
    let id = cookie_value(req)?;
    let stored = state.cache.get(&key(&id)).await.ok()??;
    let mut parts = stored.splitn(4, ':');
    let (staff, csrf, began, version) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let session = Session {
        staff_id: Uuid::parse_str(staff).ok()?,
        csrf: csrf.to_owned(),
        version: version.parse().ok()?,
        id,
    };
    let began = began.parse::<i64>().ok()?;
    let expired =
        chrono::Utc::now().timestamp() - began > state.settings.jwt.staff_ttl_hours * 3600;
    let current_version = state
        .ctx()
        .dir()
        .await
        .ok()
        .and_then(|dir| dir.person(session.staff_id).map(|p| p.token_version));
    if expired || current_version != Some(session.version) {
        end(state, &session).await;
        return None;
    }
    state
        .cache
        .set(&key(&session.id), &stored, idle(state))
        .await
        .ok()?;
    Some(session)
}

pub async fn end(state: &SharedState, session: &Session) {
    let _ = state.cache.del(&key(&session.id)).await;
}

impl Session {
    /// Whether a form's token is this session's (compared in constant time).
    pub fn csrf_ok(&self, given: &str) -> bool {
        let (a, b) = (self.csrf.as_bytes(), given.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}
