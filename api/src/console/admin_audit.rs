//! 管理 · 审计日志: the audit log (every administrator's action and staff login) and the log of
//! who revealed residents' contact data, newest first, for system administrators, as an auditor
//! reads them (等保 2.0 安全审计, PIPL Art. 51/54).
use maud::{Markup, html};
use poem::{Request, Response, handler, http::StatusCode, web::Query};

use super::{
    admin::{admin_of, after},
    page,
    pages::{Chrome, local_dated},
};
use crate::services;

#[derive(serde::Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    cursor: Option<String>,
}

/// An audit action as an office says it.
fn action_words(action: &str) -> &str {
    match action {
        "login" => "登录",
        "login.failed" => "登录失败",
        "password.change" => "修改密码",
        "password.reset" => "重置密码",
        "staff.create" => "新建账号",
        "staff.status" => "账号状态",
        "staff.assign" => "任命",
        "staff.unassign" => "免去任职",
        "staff.wecom_userid" => "企业微信账号",
        "staff.wechat_bind" => "绑定微信",
        "area.create" => "新建区域",
        "area.update" => "修改区域",
        "area.delete" => "删除区域",
        "area.import" => "导入区域",
        "building.create" => "新建楼栋",
        "category.create" => "新建分类",
        "category.update" => "修改分类",
        "open311_key.create" => "新建 Open311 密钥",
        "open311_key.revoke" => "停用 Open311 密钥",
        "contact.reveal" => "查看居民电话",
        other => other,
    }
}

const FILTERS: [&str; 8] = [
    "login.failed",
    "contact.reveal",
    "password.reset",
    "staff.create",
    "staff.assign",
    "staff.status",
    "category.update",
    "area.import",
];

#[handler]
pub async fn audit(req: &Request, Query(q): Query<AuditQuery>) -> Response {
    let (state, me) = match admin_of(req).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let action = q.action.filter(|a| FILTERS.contains(&a.as_str()));
    let listed = async {
        let before = match q.cursor.as_deref() {
            Some(c) => Some(services::cursors::parse_keyset(c)?),
            None => None,
        };
        let filter = services::audit::Filter {
            action: action.clone(),
            before,
            limit: 51,
            ..Default::default()
        };
        services::audit::list(&state.db, filter).await
    }
    .await;
    match listed {
        Ok(rows) => page(
            StatusCode::OK,
            audit_page(&me.chrome(), &rows, action.as_deref()),
        ),
        Err(e) => after(&me, Err(e), "/console/admin/audit"),
    }
}

fn audit_page(chrome: &Chrome, rows: &[entity::audit_log::Model], action: Option<&str>) -> Markup {
    let shown = &rows[..rows.len().min(50)];
    let next = (rows.len() > 50)
        .then(|| shown.last())
        .flatten()
        .map(|l| services::cursors::keyset_value(l.at, l.id));
    super::admin_pages::admin_layout(
        "审计日志",
        chrome,
        None,
        html! {
            p.hint { "管理员的每项操作、工作人员的每次登录和查看居民电话均记录在此，只能追加，不能修改或删除。" }
            form.filters method="get" action="/console/admin/audit" {
                label { "操作" select name="action" {
                    option value="" { "全部" }
                    @for a in FILTERS { option value=(a) selected[action == Some(a)] { (action_words(a)) } }
                } }
                button type="submit" { "筛选" }
            }
            @if shown.is_empty() { p.empty { "没有记录" } } @else {
                div.scroll { table.grid.text {
                    thead { tr { th { "时间" } th { "账号" } th { "操作" } th { "对象" } th { "内容" } th { "请求编号" } } }
                    tbody { @for r in shown { tr {
                        td { (local_dated(r.at)) }
                        td { (r.actor_login) }
                        td { (action_words(&r.action)) }
                        td { (r.target_kind) " " (r.target_id.as_deref().unwrap_or("")) }
                        td { code { (r.detail) } }
                        td { (r.request_id.as_deref().unwrap_or("—")) }
                    } } }
                } }
            }
            @if let Some(c) = next {
                a href={"/console/admin/audit?cursor=" (c) @if let Some(a) = action { "&action=" (a) }} { "更早的记录" }
            }
        },
    )
}
