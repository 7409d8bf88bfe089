//! The command centre's tools on the console (issue 25): supervision (督办), extensions and
//! suspensions (延期, 挂账) with their decisions, resumption, correcting a ticket's category or
//! point, and intake for a caller (代登记, `/console/intake`). The ticket page shows what stands
//! ([`facts`]) and offers what the signed-in person may do ([`forms`]); [`act`] carries out a
//! posted form through the same services as the API.
use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use maud::{Markup, html};
use poem::{Request, Response, handler, http::StatusCode, web::Form};

use super::{Signed, field, optional, page, pages, posted, session_of, words};
use crate::{
    domain::{
        Channel, ExtensionKind, TicketKind,
        calendar::{beijing, beijing_minute},
        lifecycle::{Action, next},
    },
    error::Code,
    services::{
        self, Ctx, ServiceError,
        tickets::{NewTicket, TicketView, corrections::Correction, extensions::Request as Asked},
    },
};

/// What the ticket page needs beyond the ticket: the request waiting for a decision, and the
/// categories a correction may choose.
pub struct Standing {
    pub pending: Option<entity::ticket_extension::Model>,
    pub categories: Vec<(String, String)>,
}

pub async fn standing(ctx: &Ctx<'_>, v: &TicketView) -> Standing {
    let pending = services::tickets::extensions::pending(ctx.db, v.ticket.id)
        .await
        .ok()
        .flatten();
    Standing {
        pending,
        categories: categories(ctx).await,
    }
}

/// The supervision, suspension and caller of the ticket, as facts of its page.
pub fn facts(v: &TicketView) -> Markup {
    let t = &v.ticket;
    html! {
        @if let Some(deadline) = t.supervised_until {
            dt { "督办" }
            dd.supervised {
                "期限 " (beijing_minute(deadline))
                @if let Some(by) = &v.supervisor_name { "（" (by) "）" }
                @if let Some(note) = &t.supervision_note { "：" (note) }
            }
        }
        @if let Some(since) = t.suspended_at {
            dt { "挂账" }
            dd { "自 " (beijing_minute(since)) @if let Some(u) = t.suspended_until { " 至 " (beijing_minute(u)) } "，办理时限暂停计时" }
        }
        @if let Some(name) = &t.caller_name {
            dt { "来电人" } dd { (name) }
        }
        @if let Some(code) = &t.claim_code {
            dt { "认领码" } dd.claim { (code) " " small { "（居民在小程序输入后可跟进、评价）" } }
        }
    }
}

/// The forms the signed-in person may use on this ticket now.
pub fn forms(
    me: &Signed,
    v: &TicketView,
    tree: &crate::domain::areas::AreaTree,
    s: &Standing,
) -> Markup {
    let t = &v.ticket;
    let id = t.id;
    let csrf = me.session.csrf.as_str();
    let place = v.placement();
    let handles = me.scope.handles(tree, &place);
    let over = me.scope.is_admin_over(tree, &place);
    let mine = t.assignee_id == Some(me.scope.staff_id);
    let correctable = handles
        && next(
            t.status,
            Action::Correct {
                category: true,
                rerouted: None,
            },
        )
        .is_ok();
    html! {
        @if over && next(t.status, Action::Supervise).is_ok() {
            (form(id, csrf, "supervise", "督办", html! {
                label { "办结期限" input type="datetime-local" name="deadline" required; }
                label { "督办意见" textarea name="note" required maxlength="500" {} }
            }))
        }
        @if mine && s.pending.is_none() && next(t.status, Action::RequestExtension).is_ok() {
            (form(id, csrf, "extension", "申请延期或挂账", html! {
                label { "类型" select name="kind" {
                    option value="extension" { "延期（延长办理时限）" }
                    option value="suspension" { "挂账（等待第三方，暂停计时）" }
                } }
                label { "延期至 / 预计恢复时间" input type="datetime-local" name="until"; }
                label { "理由" textarea name="reason" required maxlength="500" {} }
            }))
        }
        @if let Some(p) = s.pending.as_ref().filter(|p| over && p.requested_by != me.scope.staff_id) {
            (form(id, csrf, "extension-decision", "审批延期/挂账申请", html! {
                p {
                    (if p.kind == ExtensionKind::Extension { "申请延期" } else { "申请挂账" })
                    @if let Some(u) = p.until { " 至 " (beijing_minute(u)) }
                    "：" (p.reason)
                }
                input type="hidden" name="extension_id" value=(p.id);
                label { "决定" select name="decision" {
                    option value="approve" { "同意" }
                    option value="refuse" { "不同意" }
                } }
                label { "意见" input name="note" maxlength="500"; }
            }))
        }
        @if handles && next(t.status, Action::Resume).is_ok() {
            (form(id, csrf, "resume", "恢复办理", html! {
                label { "说明" input name="note" maxlength="500"; }
            }))
        }
        @if correctable {
            (form(id, csrf, "correct", "更正类别或位置", html! {
                label { "类别" select name="category" {
                    option value="" { "（不变）" }
                    @for (code, name) in &s.categories { option value=(code) { (name) } }
                } }
                label { "纬度" input name="lat" inputmode="decimal" maxlength="20"; }
                label { "经度" input name="lng" inputmode="decimal" maxlength="20"; }
                label { "地址" input name="address_text" maxlength="200"; }
                label { "原因（居民只看到更正了什么）" textarea name="reason" required maxlength="500" {} }
            }))
        }
    }
}

fn form(id: uuid::Uuid, csrf: &str, action: &str, title: &str, fields: Markup) -> Markup {
    html! {
        details.action {
            summary { (title) }
            form method="post" action={ "/console/tickets/" (id) "/" (action) } {
                input type="hidden" name="csrf" value=(csrf);
                (fields)
                button type="submit" { (title) }
            }
        }
    }
}

/// A `datetime-local` value, read as Beijing time.
fn local_time(
    form: &HashMap<String, String>,
    name: &str,
) -> Result<Option<DateTime<Utc>>, ServiceError> {
    let Some(raw) = form.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|n| beijing().from_local_datetime(&n).single())
        .map(|t| Some(t.with_timezone(&Utc)))
        .ok_or_else(|| ServiceError::rejected(Code::InvalidField, name, "时间格式不正确"))
}

/// A note the form may leave empty, with the words it then says.
fn note_or(
    form: &HashMap<String, String>,
    default: &str,
) -> Result<crate::domain::inputs::Text, ServiceError> {
    match optional(form, "note", 500)? {
        Some(n) => Ok(n),
        None => Ok(crate::domain::inputs::Text::parse("note", default, 500)?),
    }
}

/// Carries out a command-centre form posted to the ticket `id`; `None` when `action` is not one
/// of them.
pub async fn act(
    ctx: &Ctx<'_>,
    me: &Signed,
    id: &str,
    action: &str,
    form: &HashMap<String, String>,
) -> Option<Result<(), ServiceError>> {
    let scope = &me.scope;
    let done = match action {
        "supervise" => {
            async {
                let deadline = local_time(form, "deadline")?.ok_or_else(|| {
                    ServiceError::rejected(Code::InvalidField, "deadline", "请填写办结期限")
                })?;
                let note = field(form, "note", 500)?;
                services::tickets::supervision::supervise(ctx, scope, id, deadline, note).await?;
                Ok(())
            }
            .await
        }
        "extension" => {
            async {
                let kind = form
                    .get("kind")
                    .and_then(|k| ExtensionKind::parse(k))
                    .unwrap_or(ExtensionKind::Extension);
                let asked = Asked {
                    kind,
                    until: local_time(form, "until")?,
                    reason: field(form, "reason", 500)?,
                };
                services::tickets::extensions::request(ctx, scope, id, asked).await?;
                Ok(())
            }
            .await
        }
        "extension-decision" => {
            async {
                let ext = form
                    .get("extension_id")
                    .and_then(|e| uuid::Uuid::parse_str(e).ok())
                    .ok_or(ServiceError::NotFound)?;
                let approve = match form.get("decision").map(String::as_str) {
                    Some("approve") => true,
                    Some("refuse") => false,
                    _ => {
                        return Err(ServiceError::rejected(
                            Code::InvalidField,
                            "decision",
                            "请选择同意或不同意",
                        ));
                    }
                };
                let note = note_or(form, if approve { "同意" } else { "不同意" })?;
                services::tickets::extensions::decide(ctx, scope, ext, approve, note).await?;
                Ok(())
            }
            .await
        }
        "resume" => {
            async {
                let note = note_or(form, "恢复办理")?;
                services::tickets::extensions::resume(ctx, scope, id, note).await?;
                Ok(())
            }
            .await
        }
        "correct" => {
            async {
                let number = |k: &str| form.get(k).and_then(|v| v.trim().parse::<f64>().ok());
                let location = match (number("lat"), number("lng")) {
                    (Some(lat), Some(lng)) => Some(services::areas::location(lat, lng, None)?),
                    _ => None,
                };
                let fix = Correction {
                    category_code: form.get("category").filter(|c| !c.is_empty()).cloned(),
                    location,
                    address_text: optional(form, "address_text", 200)?,
                    reason: field(form, "reason", 500)?,
                };
                services::tickets::corrections::correct(ctx, scope, id, fix).await?;
                Ok(())
            }
            .await
        }
        _ => return None,
    };
    Some(done)
}

fn intake_page(
    chrome: &pages::Chrome,
    categories: &[(String, String)],
    error: Option<&str>,
) -> Markup {
    pages::layout(
        "代登记",
        Some(chrome),
        html! {
            form.card method="post" action="/console/intake" {
                h1 { "代登记（热线来电 / 窗口来访）" }
                @if let Some(e) = error { p.error role="alert" { (e) } }
                input type="hidden" name="csrf" value=(chrome.csrf);
                label { "渠道" select name="channel" {
                    option value="hotline" { "热线来电" }
                    option value="counter" { "窗口来访" }
                } }
                label { "类型" select name="kind" {
                    option value="complaint" { "投诉" }
                    option value="suggestion" { "建议" }
                    option value="consultation" { "咨询" }
                } }
                label { "类别" select name="category" required {
                    @for (code, name) in categories { option value=(code) { (name) } }
                } }
                label { "诉求内容" textarea name="description" required maxlength="2000" {} }
                label { "地址" input name="address_text" maxlength="200"; }
                label { "纬度" input name="lat" inputmode="decimal" maxlength="20"; }
                label { "经度" input name="lng" inputmode="decimal" maxlength="20"; }
                label { "来电人姓名" input name="caller_name" maxlength="30"; }
                label { "回访电话" input name="caller_phone" inputmode="tel" maxlength="20"; }
                button type="submit" { "登记" }
            }
        },
    )
}

async fn categories(ctx: &Ctx<'_>) -> Vec<(String, String)> {
    match ctx.dir().await {
        Ok(dir) => dir
            .categories_listed()
            .into_iter()
            .filter(|c| c.active)
            .map(|c| (c.code.clone(), c.name.clone()))
            .collect(),
        Err(_) => vec![],
    }
}

/// 代登记: the form.
#[handler]
pub async fn intake_form(req: &Request) -> Response {
    let (state, me) = match session_of(req).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let ctx = state.ctx();
    page(
        StatusCode::OK,
        intake_page(&me.chrome(), &categories(&ctx).await, None),
    )
}

/// 代登记: enters the ticket and shows the claim code to read to the caller.
#[handler]
pub async fn intake(req: &Request, Form(form): Form<HashMap<String, String>>) -> Response {
    let (state, me) = match posted(req, &form).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let ctx = state.ctx();
    let entered = async {
        let number = |k: &str| form.get(k).and_then(|v| v.trim().parse::<f64>().ok());
        let location = match (number("lat"), number("lng")) {
            (Some(lat), Some(lng)) => Some(services::areas::location(lat, lng, None)?),
            _ => None,
        };
        let kind = form
            .get("kind")
            .and_then(|k| TicketKind::parse(k))
            .filter(|k| *k != TicketKind::Praise)
            .unwrap_or(TicketKind::Complaint);
        let phone = form
            .get("caller_phone")
            .map(|p| p.trim())
            .filter(|p| !p.is_empty());
        let channel = if form.get("channel").map(String::as_str) == Some("counter") {
            Channel::Counter
        } else {
            Channel::Hotline
        };
        let category = form.get("category").cloned().unwrap_or_default();
        let description = field(&form, "description", 2000)?;
        let new = NewTicket {
            location,
            address_text: optional(&form, "address_text", 200)?,
            contact_phone: phone
                .map(|p| crate::domain::inputs::Phone::parse("caller_phone", p))
                .transpose()?,
            caller_name: optional(&form, "caller_name", 30)?,
            ..NewTicket::told(kind, category, description, channel)
        };
        services::tickets::intake::enter(&ctx, &me.scope, new).await
    }
    .await;
    match entered {
        Ok(e) => {
            let t = &e.ticket_view.ticket;
            page(
                StatusCode::CREATED,
                pages::layout(
                    "已登记",
                    Some(&me.chrome()),
                    html! {
                        h1 { "已登记 " (t.number) }
                        p.notice role="status" {
                            "请告知来电人认领码："
                            strong.claim { (e.claim_code.as_deref().unwrap_or("—")) }
                            "。在“敲门”小程序中输入认领码，即可跟进办理进度并评价。"
                        }
                        p { a href=(format!("/console/tickets/{}", t.id)) { "查看工单" } " · " a href="/console/intake" { "继续登记" } }
                    },
                ),
            )
        }
        Err(err) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            intake_page(&me.chrome(), &categories(&ctx).await, Some(&words(err))),
        ),
    }
}
