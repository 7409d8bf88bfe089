//! The signed-in staff member's own account and the personal data they may reveal: 修改密码
//! (the first thing an account an administrator created or reset sees) and 查看完整号码 on a
//! ticket, logged as the API's reveal is.
use std::collections::HashMap;

use maud::html;
use poem::{
    Request, Response, handler,
    http::{StatusCode, header},
    web::{Form, Path},
};

use super::{csrf_refused, page, pages, redirect, session, session_of, words};
use crate::services::{self, staff::Password};

fn password_page(chrome: &pages::Chrome, first: bool, error: Option<&str>) -> maud::Markup {
    pages::layout(
        "修改密码",
        Some(chrome),
        html! {
            form.card method="post" action="/console/password" {
                h1 { "修改密码" }
                @if first { p.notice role="status" { "这是管理员为您设置的初始密码，请先设置您自己的密码。" } }
                @if let Some(e) = error { p.error role="alert" { (e) } }
                input type="hidden" name="csrf" value=(chrome.csrf);
                label { "原密码" input name="old" type="password" autocomplete="current-password" required maxlength="128"; }
                label { "新密码" input name="new" type="password" autocomplete="new-password" required minlength="10" maxlength="128"; }
                label { "再次输入新密码" input name="again" type="password" autocomplete="new-password" required maxlength="128"; }
                p.hint { "至少 10 位，包含大写字母、小写字母、数字、符号中的三类，且不能与原密码相同。" }
                button type="submit" { "保存" }
            }
        },
    )
}

#[handler]
pub async fn password_form(req: &Request) -> Response {
    let (state, me) = match session_of(req).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let first = state
        .ctx()
        .dir()
        .await
        .ok()
        .and_then(|d| {
            d.person(me.session.staff_id)
                .map(|p| p.must_change_password)
        })
        .unwrap_or(false);
    page(StatusCode::OK, password_page(&me.chrome(), first, None))
}

/// Changes the password; the session that asked goes on as a new one (every other ends).
#[handler]
pub async fn change_password(req: &Request, Form(form): Form<HashMap<String, String>>) -> Response {
    let (state, me) = match session_of(req).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if !me.session.csrf_ok(get("csrf")) {
        return csrf_refused();
    }
    let refuse = |why: &str| {
        page(
            StatusCode::UNPROCESSABLE_ENTITY,
            password_page(&me.chrome(), false, Some(why)),
        )
    };
    if get("new") != get("again") {
        return refuse("两次输入的新密码不一致");
    }
    let ctx = state.ctx();
    let changed = match Password::parse_field("new", get("new")) {
        Ok(new) => {
            services::me::change_password(&ctx, me.session.staff_id, get("old"), new, ctx.now())
                .await
        }
        Err(e) => Err(e),
    };
    let member = match changed {
        Ok(m) => m,
        Err(e) => return refuse(&words(e)),
    };
    session::end(&state, &me.session).await;
    match session::start(&state, &member).await {
        Some((_, cookie)) => {
            let mut resp = redirect("/console/work");
            if let Ok(v) = cookie.parse() {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
        None => redirect("/console/login"),
    }
}

/// 查看完整号码: the resident's contact phone for a stated reason, shown on the ticket's page
/// and logged (`personal_data_access`, `audit_log`).
#[handler]
pub async fn reveal_contact(
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (state, me) = match session_of(req).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if !me.session.csrf_ok(get("csrf")) {
        return csrf_refused();
    }
    let ctx = state.ctx();
    let revealed = services::privacy::reveal_contact(&ctx, &me.scope, &id, get("reason")).await;
    let message = match revealed {
        Ok(r) => html! {
            @if let Some(phone) = &r.contact_phone {
                "联系电话：" a href=(format!("tel:{phone}")) { (phone) }
            } @else {
                "居民未留联系电话"
            }
            @for phone in &r.phones_in_text {
                "；诉求中写的号码：" a href=(format!("tel:{phone}")) { (phone) }
            }
            "（本次查看已记录）"
        },
        Err(e) => {
            return page(
                StatusCode::UNPROCESSABLE_ENTITY,
                pages::problem(Some(&me.chrome()), &words(e)),
            );
        }
    };
    page(
        StatusCode::OK,
        pages::layout(
            "联系电话",
            Some(&me.chrome()),
            html! {
                p.notice role="status" { (message) }
                p { a href=(format!("/console/tickets/{id}")) { "返回工单" } }
            },
        ),
    )
}
