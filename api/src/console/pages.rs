//! The console's pages, rendered on the server (maud), in Simplified Chinese. They show what
//! the service functions return for the signed-in staff member, nothing read around them.
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

use crate::{
    domain::{calendar::beijing, lifecycle::Status},
    services::tickets::TicketView,
};

/// Who is signed in, for the header and every form.
pub struct Chrome<'a> {
    pub name: &'a str,
    pub csrf: &'a str,
    pub admin: bool,
    /// A system administrator: the 管理 pages.
    pub system: bool,
}

pub fn layout(title: &str, chrome: Option<&Chrome>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · 敲门工作台" }
                link rel="stylesheet" href="/console/static/console.css";
                script src="/console/static/console.js" defer {}
            }
            body {
                @if let Some(c) = chrome {
                    header.top {
                        strong { "敲门工作台" }
                        nav {
                            a href="/console/work" { "我的工单" }
                            a href="/console/intake" { "代登记" }
                            @if c.admin {
                                a href="/console/dispatch" { "待派单" }
                                a href="/console/dashboard" { "驾驶舱" }
                                a href="/console/map" { "地图" }
                                a href="/console/topics" { "每月一题" }
                            }
                            @if c.system { a href="/console/admin" { "管理" } }
                        }
                        span.who { (c.name) " " a href="/console/password" { "修改密码" } }
                        form method="post" action="/console/logout" {
                            input type="hidden" name="csrf" value=(c.csrf);
                            button.link type="submit" { "退出" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

pub fn login(error: Option<&str>) -> Markup {
    layout(
        "登录",
        None,
        html! {
            form.card.login method="post" action="/console/login" {
                h1 { "敲门工作台" }
                @if let Some(e) = error { p.error role="alert" { (e) } }
                label { "账号" input name="login" autocomplete="username" required maxlength="64"; }
                label { "密码" input name="password" type="password" autocomplete="current-password" required maxlength="128"; }
                button type="submit" { "登录" }
            }
        },
    )
}

pub fn status_name(s: Status) -> &'static str {
    match s {
        Status::Submitted => "已提交",
        Status::PendingDispatch => "待派单",
        Status::Assigned => "待受理",
        Status::InProgress => "处理中",
        Status::Returned => "已退单待重派",
        Status::Suspended => "挂账中",
        Status::Resolved => "已办结",
        Status::Closed => "已关闭",
        Status::Withdrawn => "已撤回",
        Status::Rejected => "已退回",
    }
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&beijing())
        .format("%m-%d %H:%M")
        .to_string()
}

/// A date input's value: the Beijing day of `t`.
fn day(t: DateTime<Utc>) -> String {
    t.with_timezone(&beijing()).format("%Y-%m-%d").to_string()
}

/// A period's ends with their years, as the dashboard states what it covers.
pub fn local_dated(t: DateTime<Utc>) -> String {
    t.with_timezone(&beijing())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn span_words(minutes: i64) -> String {
    let m = minutes.abs();
    if m >= 24 * 60 {
        format!("{}天{}小时", m / (24 * 60), m % (24 * 60) / 60)
    } else if m >= 60 {
        format!("{}小时{}分", m / 60, m % 60)
    } else {
        format!("{m}分钟")
    }
}

/// The time left to the deadline a ticket is working to, as a coloured badge: green, amber
/// within the last 20 % of the SLA, red once overdue; none when no deadline stands.
pub fn deadline_badge(v: &TicketView, now: DateTime<Utc>) -> Markup {
    let t = &v.ticket;
    if !t.status.is_open() {
        return html! {};
    }
    let (start, due) = match (t.accepted_at, t.response_due_at, t.resolution_due_at) {
        (None, Some(due), _) => (t.submitted_at, due),
        (Some(at), _, Some(due)) => (at, due),
        _ => return html! {},
    };
    let left = (due - now).num_minutes();
    let total = (due - start).num_minutes().max(1);
    let (class, words) = if left < 0 {
        ("badge red", format!("超时{}", span_words(left)))
    } else if left * 5 < total {
        ("badge amber", format!("剩{}", span_words(left)))
    } else {
        ("badge green", format!("剩{}", span_words(left)))
    };
    html! { span class=(class) { (words) } }
}

fn place(v: &TicketView) -> String {
    v.ticket
        .address_text
        .clone()
        .or_else(|| v.grid_name.clone())
        .unwrap_or_default()
}

/// One row of a list: number, category, place, age and time left.
pub fn ticket_row(v: &TicketView, now: DateTime<Utc>) -> Markup {
    let t = &v.ticket;
    let age = span_words((now - t.submitted_at).num_minutes());
    html! {
        li.row {
            a href={ "/console/tickets/" (t.id) } {
                span.number { (t.number) }
                span.category { (v.category.as_ref().map(|c| c.name.as_str()).unwrap_or("")) }
                span.status { (status_name(t.status)) }
                @if t.supervised_until.is_some() && t.status.is_open() { " " span.badge.supervised { "督办" } }
            }
            div.meta {
                span.place { (place(v)) }
                span.age { (age) "前" }
                (deadline_badge(v, now))
            }
        }
    }
}

/// The work list's filters, as the page's form holds them.
#[derive(Default, serde::Deserialize)]
pub struct WorkQuery {
    pub tab: Option<String>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub overdue: Option<String>,
    pub cursor: Option<String>,
}

pub const TABS: [(&str, &str); 4] = [
    ("todo", "待处理"),
    ("doing", "处理中"),
    ("done", "已办结"),
    ("all", "全部"),
];

pub fn work(
    chrome: &Chrome,
    q: &WorkQuery,
    items: &[TicketView],
    next: Option<&str>,
    now: DateTime<Utc>,
) -> Markup {
    let tab = q.tab.as_deref().unwrap_or("todo");
    let search = q.q.as_deref().unwrap_or("");
    let due = q.sort.as_deref() == Some("due");
    let overdue = q.overdue.is_some();
    layout(
        "我的工单",
        Some(chrome),
        html! {
            h1 { "我的工单" }
            nav.tabs {
                @for (key, name) in TABS {
                    a class=(if key == tab { "tab on" } else { "tab" })
                        href={ "/console/work?tab=" (key) } { (name) }
                }
            }
            form.filters method="get" action="/console/work" {
                input type="hidden" name="tab" value=(tab);
                input type="search" name="q" value=(search) placeholder="编号、标题、内容、地址" maxlength="64";
                label { input type="checkbox" name="overdue" value="1" checked[overdue]; "只看超时" }
                label { input type="checkbox" name="sort" value="due" checked[due]; "按期限排序" }
                button type="submit" { "筛选" }
            }
            @if items.is_empty() {
                p.empty { "没有工单" }
            } @else {
                ul.list { @for v in items { (ticket_row(v, now)) } }
            }
            @if let Some(next) = next {
                a.more href={ "/console/work?tab=" (tab) "&q=" (form_urlencoded::byte_serialize(search.as_bytes()).collect::<String>()) (if due { "&sort=due" } else { "" }) (if overdue { "&overdue=1" } else { "" }) "&cursor=" (next) } { "下一页" }
            }
        },
    )
}

/// What the caller may do to the ticket now.
pub struct Actions {
    pub accept: bool,
    pub resolve: bool,
    pub escalate: bool,
    pub reject: bool,
    pub comment: bool,
    pub transfer: bool,
    pub assign: bool,
    pub merge: bool,
    pub return_visit: bool,
    /// The resident's phone may be revealed (its assignee or an administrator over it).
    pub reveal: bool,
    /// Its assignee may send it back to the dispatcher (退单).
    pub send_back: bool,
    /// An administrator over a returned ticket may refuse the return.
    pub refuse_return: bool,
}

/// What the pickers of the ticket page offer: grids and people, each `(id, label)`.
#[derive(Default)]
pub struct Pickers {
    pub grids: Vec<(uuid::Uuid, String)>,
    pub people: Vec<Assignee>,
}

/// The structured reasons of a rating or a return visit, as the console offers them.
const REASON_WORDS: [(&str, &str); 6] = [
    ("not_solved", "问题未解决"),
    ("too_slow", "办理太慢"),
    ("attitude", "服务态度"),
    ("no_contact", "未联系本人"),
    ("disagree_result", "不认可处理结果"),
    ("other", "其他"),
];

fn action_form(id: uuid::Uuid, csrf: &str, action: &str, title: &str, fields: Markup) -> Markup {
    // Forms that may carry a photo are sent as multipart.
    let enctype = if matches!(action, "resolve" | "comment") {
        "multipart/form-data"
    } else {
        "application/x-www-form-urlencoded"
    };
    html! {
        details.action {
            summary { (title) }
            form method="post" enctype=(enctype) action={ "/console/tickets/" (id) "/" (action) } {
                input type="hidden" name="csrf" value=(csrf);
                (fields)
                button type="submit" { (title) }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn ticket(
    chrome: &Chrome,
    v: &TicketView,
    actions: &Actions,
    pickers: &Pickers,
    map: Markup,
    notice: Option<&str>,
    now: DateTime<Utc>,
    command: (Markup, Markup),
) -> Markup {
    let t = &v.ticket;
    let id = t.id;
    let (command_facts, command_forms) = command;
    html! {
        (layout(&t.number, Some(chrome), html! {
            @if let Some(n) = notice { p.notice role="status" { (n) } }
            h1 { (t.number) " " span.status { (status_name(t.status)) } " " (deadline_badge(v, now)) }
            dl.facts {
                dt { "类别" } dd { (v.category.as_ref().map(|c| c.name.as_str()).unwrap_or("")) }
                dt { "地点" } dd { (place(v)) }
                dt { "网格" } dd { (v.grid_name.as_deref().unwrap_or("—")) }
                dt { "经办人" } dd { (v.assignee_name.as_deref().unwrap_or("待派单")) }
                dt { "提交" } dd { (local(t.submitted_at)) }
                (command_facts)
                @if let Some(phone) = &v.contact_phone {
                    dt { "联系电话" }
                    dd {
                        (phone)
                        @if actions.reveal {
                            form.inline method="post" action=(format!("/console/tickets/{id}/reveal-contact")) {
                                input type="hidden" name="csrf" value=(chrome.csrf);
                                input name="reason" required maxlength="200" placeholder="查看理由（如：上门前电话确认）";
                                button type="submit" { "查看完整号码" }
                            }
                        }
                    }
                }
            }
            @if let Some(title) = &t.title { h2 { (title) } }
            p.text { (t.description) }
            div.minimap { (map) }
            @if !v.attachments.is_empty() {
                div.photos {
                    @for a in &v.attachments {
                        @if let Some((full, thumb)) = v.media_urls.get(&a.id) {
                            a href=(full) target="_blank" rel="noopener" { img src=(thumb) alt="照片" loading="lazy"; }
                        }
                    }
                }
            }
            section.actions {
                (command_forms)
                @if actions.accept {
                    form method="post" action={ "/console/tickets/" (id) "/accept" } {
                        input type="hidden" name="csrf" value=(chrome.csrf);
                        button.primary type="submit" { "受理" }
                    }
                }
                @if actions.resolve {
                    (action_form(id, chrome.csrf, "resolve", "办结", html! {
                        label { "办理结果" textarea name="note" required maxlength="1000" {} }
                        label { "整改照片" input type="file" name="photo" accept="image/*"; }
                    }))
                }
                @if actions.comment {
                    (action_form(id, chrome.csrf, "comment", "添加进展", html! {
                        label { "内容" textarea name="text" required maxlength="1000" {} }
                        label { "照片" input type="file" name="photo" accept="image/*"; }
                        label { input type="checkbox" name="internal" value="1"; "仅工作人员可见" }
                    }))
                }
                @if actions.escalate {
                    (action_form(id, chrome.csrf, "escalate", "上报", html! {
                        label { "原因（仅工作人员可见）" textarea name="reason" required maxlength="500" {} }
                        label { "告知居民" input name="public_note" maxlength="200"; }
                    }))
                }
                @if actions.transfer {
                    (action_form(id, chrome.csrf, "transfer", "转派", html! {
                        label { "转到网格" select name="grid_id" {
                            option value="" { "—" }
                            @for (gid, name) in &pickers.grids { option value=(gid) { (name) } }
                        } }
                        label { "或转给" select name="staff_id" {
                            option value="" { "—" }
                            @for p in &pickers.people { option value=(p.id) { (p.label) } }
                        } }
                        label { "原因（仅工作人员可见）" textarea name="reason" required maxlength="500" {} }
                        label { "告知居民" input name="public_note" maxlength="200"; }
                    }))
                }
                @if actions.assign {
                    (action_form(id, chrome.csrf, "assign", "派单", html! {
                        label { "派给" select name="staff_id" required {
                            @for p in &pickers.people { option value=(p.id) { (p.label) } }
                        } }
                    }))
                }
                @if actions.merge {
                    (action_form(id, chrome.csrf, "merge", "合并", html! {
                        label { "合并到（主工单编号）" input name="into" required maxlength="40" placeholder="QM-"; }
                    }))
                }
                @if actions.return_visit {
                    (action_form(id, chrome.csrf, "return-visit", "记录回访", html! {
                        label { "回访结果" select name="outcome" required {
                            option value="satisfied" { "满意" }
                            option value="basically_satisfied" { "基本满意" }
                            option value="unsatisfied" { "不满意" }
                            option value="unreachable" { "未联系上" }
                        } }
                        fieldset.reasons {
                            legend { "不满意之处（可多选，满意时不选）" }
                            @for (code, words) in REASON_WORDS {
                                label { input type="checkbox" name={ "reason_" (code) } value="1"; (words) }
                            }
                        }
                        label { "备注" textarea name="note" maxlength="1000" {} }
                    }))
                }
                @if actions.send_back {
                    (action_form(id, chrome.csrf, "return", "退单", html! {
                        label { "原因" select name="reason_code" required {
                            option value="not_my_grid" { "不属于本网格" }
                            option value="not_my_duty" { "不属于职责范围" }
                            option value="wrong_category" { "类别有误" }
                            option value="other" { "其他" }
                        } }
                        label { "说明（仅工作人员可见）" textarea name="note" required maxlength="500" {} }
                    }))
                }
                @if actions.refuse_return {
                    (action_form(id, chrome.csrf, "refuse-return", "驳回退单", html! {
                        label { "理由（仅工作人员可见）" textarea name="note" required maxlength="500" {} }
                    }))
                }
                @if actions.reject {
                    (action_form(id, chrome.csrf, "reject", "退回", html! {
                        label { "原因（居民可见）" textarea name="reason" required maxlength="500" {} }
                    }))
                }
            }
            h2 { "办理经过" }
            ol.timeline {
                @for e in v.events.iter().flatten() {
                    li class=(if e.visibility == crate::domain::Visibility::Internal { "internal" } else { "" }) {
                        time { (local(e.created_at)) }
                        " "
                        span.who { (actor_words(v, e)) }
                        " "
                        span.what { (action_words(&e.action)) }
                        @if let Some(n) = &e.note { p { (n) } }
                    }
                }
            }
        }))
    }
}

/// A timeline event's action as a service window says it.
fn action_words(action: &str) -> &str {
    match action {
        "submit" => "提交诉求",
        "route" => "分派",
        "accept" => "受理",
        "resolve" => "办结",
        "transfer" => "转派",
        "escalate" => "上报",
        "assign" => "派单",
        "reject" => "退回",
        "withdraw" => "撤回",
        "reopen" => "不满意，重新办理",
        "rate" => "评价",
        "comment" => "进展",
        "response_overdue" => "响应超时",
        "resolution_overdue" => "办理超时",
        "auto_close" => "到期自动关闭",
        "return_visit" => "回访",
        "priority_raised" => "优先级提升",
        "acknowledge" => "收到表扬",
        "appeal" => "申请甄别",
        "appeal_approved" => "甄别通过",
        "appeal_denied" => "甄别未通过",
        "merge" => "合并",
        "follow" => "随主工单",
        "return" => "退单",
        "refuse_return" => "驳回退单",
        "supervise" => "督办",
        "supervision_missed" => "督办超期",
        "extension_requested" => "申请延期/挂账",
        "extension_approved" => "同意延期",
        "extension_refused" => "不同意延期/挂账",
        "suspend" => "挂账",
        "resume" => "恢复办理",
        "recategorise" => "更正类别",
        "relocate" => "更正位置",
        "claim" => "居民认领",
        "personal_data_removed" => "个人信息到期删除",
        "resident_anonymised" => "居民注销，信息已匿名化",
        other => other,
    }
}

fn actor_words(v: &TicketView, e: &entity::ticket_event::Model) -> String {
    use crate::domain::ActorKind;
    match e.actor_kind {
        ActorKind::Resident => "居民".into(),
        ActorKind::System => "系统".into(),
        ActorKind::Staff => e
            .actor_id
            .and_then(|id| v.actors.get(&id))
            .and_then(|a| a.name.clone())
            .unwrap_or_else(|| "工作人员".into()),
    }
}

/// Who a dispatcher may give a ticket to.
pub struct Assignee {
    pub id: uuid::Uuid,
    pub label: String,
}

pub fn dispatch(
    chrome: &Chrome,
    items: &[TicketView],
    people: &[Assignee],
    now: DateTime<Utc>,
) -> Markup {
    layout(
        "待派单",
        Some(chrome),
        html! {
            h1 { "待派单" }
            @if items.is_empty() { p.empty { "没有待派单的工单" } }
            ul.list {
                @for v in items {
                    (ticket_row(v, now))
                    form.assign method="post" action={ "/console/tickets/" (v.ticket.id) "/assign" } {
                        input type="hidden" name="csrf" value=(chrome.csrf);
                        input type="hidden" name="from_queue" value="1";
                        select name="staff_id" required aria-label="派给" {
                            option value="" { "请选择" }
                            @for p in people { option value=(p.id) { (p.label) } }
                        }
                        button type="submit" { "派单" }
                    }
                }
            }
        },
    )
}

pub fn problem(chrome: Option<&Chrome>, message: &str) -> Markup {
    layout(
        "出错了",
        chrome,
        html! { p.error role="alert" { (message) } a href="/console/work" { "返回我的工单" } },
    )
}

/// A rate as a percentage, `—` when nothing was due.
pub fn percent(rate: Option<f64>) -> String {
    rate.map_or("—".into(), |r| format!("{:.1}%", r * 100.0))
}

fn change(now: Option<f64>, then: Option<f64>, scale: f64) -> Markup {
    match (now, then) {
        (Some(a), Some(b)) => {
            let d = (a - b) * scale;
            let class = if d >= 0.0 { "up" } else { "down" };
            html! { span class=(class) { (if d >= 0.0 { "▲" } else { "▼" }) (format!("{:.1}", d.abs())) } }
        }
        _ => html! { span.flat { "—" } },
    }
}

/// A view's link with some query parameters replaced: `(path, [(name, value)])`.
pub type Link<'a> = &'a dyn Fn(&str, &[(&str, &str)]) -> String;

pub struct Dashboard<'a> {
    pub area_name: &'a str,
    pub area_id: Option<uuid::Uuid>,
    /// `this_month`, `last_month`, `this_quarter` or `custom`: the tab shown as chosen.
    pub period_name: &'a str,
    pub ranking: &'a [crate::services::stats::RankedGroup],
    pub period: crate::domain::rates::Period,
    pub now: &'a crate::domain::rates::Figures,
    pub then: &'a crate::domain::rates::Figures,
    pub grids: &'a [(String, crate::domain::rates::Figures)],
    /// The most asked-about categories and their counts.
    pub categories: &'a [(String, u64)],
    pub trend: Markup,
    /// This view's link with some parameters replaced.
    pub link: Link<'a>,
}

pub fn dashboard(chrome: &Chrome, d: &Dashboard) -> Markup {
    let (n, t) = (d.now, d.then);
    let big = [
        (
            "响应率",
            percent(n.response_rate),
            change(n.response_rate, t.response_rate, 100.0),
        ),
        (
            "解决率",
            percent(n.resolution_rate),
            change(n.resolution_rate, t.resolution_rate, 100.0),
        ),
        (
            "满意率",
            percent(n.satisfaction_rate),
            change(n.satisfaction_rate, t.satisfaction_rate, 100.0),
        ),
        (
            "综合得分",
            n.composite_score.map_or("—".into(), |s| format!("{s:.1}")),
            change(n.composite_score, t.composite_score, 1.0),
        ),
    ];
    let link = d.link;
    layout(
        "三率驾驶舱",
        Some(chrome),
        html! {
            h1 { "三率驾驶舱 · " (d.area_name) }
            nav.tabs.periods {
                @for (key, name) in [("this_month", "本月"), ("last_month", "上月"), ("this_quarter", "本季度")] {
                    a.tab.on[d.period_name == key] href=(link("/console/dashboard", &[("period", key), ("from", ""), ("to", "")])) { (name) }
                }
                a.tab.on[d.period_name == "custom"] href="#custom" data-reveal="custom" { "自定义" }
            }
            form.filters.custom.shown[d.period_name == "custom"] id="custom" method="get" action="/console/dashboard" {
                @if let Some(a) = d.area_id { input type="hidden" name="area_id" value=(a); }
                label { "自" input type="date" name="from" required value=(day(d.period.from)); }
                label { "至" input type="date" name="to" required value=(day(d.period.to - chrono::Duration::seconds(1))); }
                button type="submit" { "查看" }
            }
            p.meta { (local_dated(d.period.from)) " 至 " (local_dated(d.period.to)) "（北京时间），与上一同长时段相比" }
            div.big {
                @for (name, value, delta) in big {
                    div.figure { span.name { (name) } strong { (value) } (delta) }
                }
            }
            p.meta {
                "受理 " (n.received) " 件 · 超时未办结 " (n.overdue_open) " 件 · 表扬 " (n.praise_received) " 件"
            }
            h2 { "每日三率" }
            (d.trend)
            h2 { "各网格" }
            div.scroll {
                table.grid {
                    thead { tr {
                        th { "网格" }
                        th { a href=(link("/console/dashboard", &[("sort", "received")])) { "受理" } }
                        th { a href=(link("/console/dashboard", &[("sort", "response")])) { "响应率" } }
                        th { a href=(link("/console/dashboard", &[("sort", "resolution")])) { "解决率" } }
                        th { a href=(link("/console/dashboard", &[("sort", "satisfaction")])) { "满意率" } }
                        th { a href=(link("/console/dashboard", &[("sort", "composite")])) { "综合" } }
                        th { "超时" }
                    } }
                    tbody {
                        @for (name, f) in d.grids {
                            tr {
                                td { (name) } td { (f.received) }
                                td { (percent(f.response_rate)) } td { (percent(f.resolution_rate)) }
                                td { (percent(f.satisfaction_rate)) }
                                td { (f.composite_score.map_or("—".into(), |s| format!("{s:.1}"))) }
                                td { (f.overdue_open) }
                            }
                        }
                    }
                }
            }
            h2 { "网格排名" }
            p.meta { "按综合得分的置信下限排名，样本不足 " (d.ranking.iter().filter(|r| r.insufficient).count()) " 个网格不参与排名。" }
            @if d.ranking.is_empty() { p.empty { "本期没有可排名的网格" } } @else {
                ol.ranking {
                    @for r in d.ranking {
                        li.insufficient[r.insufficient] {
                            span.rank { (r.rank.map_or("—".to_string(), |n| n.to_string())) }
                            span.name { (r.name) }
                            span.meta { (r.rate.map_or("暂无得分".into(), |s| format!("{s:.1} 分"))) " · 样本 " (r.n)
                                @if r.insufficient { " · 样本不足" } }
                        }
                    }
                }
            }
            h2 { "诉求最多的类别" }
            ol { @for (name, n) in d.categories { li { (name) "：" (n) " 件" } } }
            p.exports {
                a.button href=(link("/console/export.xlsx", &[])) { "导出 XLSX" }
                " "
                a.button href=(link("/console/export.csv", &[])) { "导出 CSV" }
                " "
                a href=(link("/console/map", &[])) { "网格地图" }
            }
        },
    )
}

pub fn map(
    chrome: &Chrome,
    area_name: &str,
    svg: Markup,
    measures: &[(String, &str, bool)],
    rows: &[(String, String)],
    hotspots: Markup,
) -> Markup {
    layout(
        "网格地图",
        Some(chrome),
        html! {
            h1 { "网格地图 · " (area_name) }
            nav.tabs {
                @for (href, name, on) in measures {
                    a class=(if *on { "tab on" } else { "tab" }) href=(href) { (name) }
                }
            }
            div.mapbox { (svg) }
            h2 { "热点" span.hint { "（地图上虚线圈出：同类诉求聚集之处）" } }
            (hotspots)
            ul.legend {
                @for (id, label) in rows { li id={ "grid-" (id) } { (label) } }
            }
        },
    )
}
