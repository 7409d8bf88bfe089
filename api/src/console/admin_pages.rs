//! The 管理 pages' templates: areas and their import preview, staff, categories, Open311 keys.
use std::collections::HashSet;

use maud::{Markup, html};
use uuid::Uuid;

use super::{
    charts,
    pages::{Chrome, layout},
};
use crate::{
    domain::{AreaKind, StaffRole, StaffStatus, areas::AreaTree},
    schemas::places::StaffAccountPage,
    services::{areas::ImportFeature, open311::KeyInfo},
};

pub fn kind_name(k: AreaKind) -> &'static str {
    match k {
        AreaKind::District => "区",
        AreaKind::Street => "街道",
        AreaKind::Community => "社区",
        AreaKind::Grid => "网格",
    }
}

pub fn role_name(r: StaffRole) -> &'static str {
    match r {
        StaffRole::GridWorker => "网格员",
        StaffRole::GridAssistant => "网格协管员",
        StaffRole::CommunityAdmin => "社区管理员",
        StaffRole::StreetAdmin => "街道管理员",
        StaffRole::Department => "职能部门",
        StaffRole::SystemAdmin => "系统管理员",
    }
}

fn status_name(s: StaffStatus) -> &'static str {
    match s {
        StaffStatus::Active => "在岗",
        StaffStatus::OnLeave => "请假",
        StaffStatus::Left => "离职",
    }
}

/// Every area as a choice, named with its ancestors (街道 › 社区 › 网格), in tree order.
pub fn area_choices(tree: &AreaTree) -> Vec<(Uuid, String)> {
    let mut out: Vec<(Uuid, String)> = tree
        .all()
        .map(|n| {
            let mut names: Vec<&str> = tree
                .ancestors_inclusive(n.id)
                .map(|a| a.name.as_str())
                .collect();
            names.reverse();
            (n.id, names.join(" › "))
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

pub(super) fn admin_layout(
    title: &str,
    chrome: &Chrome,
    notice: Option<&str>,
    body: Markup,
) -> Markup {
    layout(
        title,
        Some(chrome),
        html! {
            nav.tabs aria-label="管理" {
                @for (href, name) in [
                    ("/console/admin/areas", "区域"),
                    ("/console/admin/staff", "人员"),
                    ("/console/admin/categories", "分类与时限"),
                    ("/console/admin/open311", "Open311 密钥"),
                    ("/console/admin/audit", "审计日志"),
                ] {
                    a.tab.on[name == title] href=(href) { (name) }
                }
            }
            @if let Some(n) = notice { p.notice role="status" { (n) } }
            (body)
        },
    )
}

fn csrf(chrome: &Chrome) -> Markup {
    html! { input type="hidden" name="csrf" value=(chrome.csrf); }
}

pub fn problem(chrome: &Chrome, message: &str, back: &str) -> Markup {
    layout(
        "出错了",
        Some(chrome),
        html! { p.error role="alert" { (message) } a href=(back) { "返回" } },
    )
}

pub struct AreasPage<'a> {
    pub chrome: &'a Chrome<'a>,
    pub parent: Option<Uuid>,
    pub parent_kind: Option<AreaKind>,
    pub trail: &'a [(Uuid, String)],
    pub children: &'a [entity::area::Model],
    pub notice: Option<&'a str>,
}

pub fn areas(p: &AreasPage) -> Markup {
    let kinds: Vec<AreaKind> = match p.parent_kind {
        None => vec![AreaKind::District, AreaKind::Street],
        Some(k) => AreaKind::ALL
            .iter()
            .copied()
            .filter(|c| c.parent_kinds().contains(&k))
            .collect(),
    };
    admin_layout(
        "区域",
        p.chrome,
        p.notice,
        html! {
            p.trail {
                a href="/console/admin/areas" { "全部" }
                @for (id, name) in p.trail { " › " a href={"/console/admin/areas?parent=" (id)} { (name) } }
            }
            @if p.children.is_empty() { p.empty { "此处还没有下级区域" } } @else {
                div.scroll { table.grid.text {
                    thead { tr { th { "名称" } th { "类型" } th { "编码" } th { "边界" } th {} } }
                    tbody { @for a in p.children { tr {
                        td { a href={"/console/admin/areas?parent=" (a.id)} { (a.name) } }
                        td { (kind_name(a.kind)) }
                        td { (a.code.as_deref().unwrap_or("—")) }
                        td { (if a.boundary.is_some() { "有" } else { "—" }) }
                        td { form method="post" action={"/console/admin/areas/" (a.id) "/delete"} data-confirm={"删除“" (a.name) "”？"} {
                            (csrf(p.chrome))
                            @if let Some(parent) = p.parent { input type="hidden" name="parent_id" value=(parent); }
                            button.link type="submit" { "删除" }
                        } }
                    } } }
                } }
            }
            @if !kinds.is_empty() {
                details.action { summary { "新建下级区域" }
                    form.card method="post" action="/console/admin/areas" {
                        (csrf(p.chrome))
                        @if let Some(parent) = p.parent { input type="hidden" name="parent_id" value=(parent); }
                        label { "类型" select name="kind" required { @for k in &kinds { option value=(k.as_str()) { (kind_name(*k)) } } } }
                        label { "名称" input name="name" required maxlength="100"; }
                        label { "编码" input name="code" maxlength="64"; }
                        label { "边界（GeoJSON Polygon，可空）" textarea name="boundary" rows="3" {} }
                        button type="submit" { "新建" }
                    }
                }
            }
            section.card {
                h2 { "导入 GeoJSON" }
                p.meta { "FeatureCollection；每个要素的 properties 含 kind、name、code、parent_code，按先上级后下级排列。先预览，确认后才保存；已有编码的区域将被更新。" }
                form id="import" method="post" action="/console/admin/areas/import" enctype="multipart/form-data" data-progress="import-progress" {
                    (csrf(p.chrome))
                    label { "文件" input type="file" name="file" accept=".geojson,.json,application/geo+json,application/json" required; }
                    progress id="import-progress" max="100" value="0" hidden {}
                    button type="submit" { "上传并预览" }
                }
            }
        },
    )
}

pub fn import_preview(
    chrome: &Chrome,
    features: &[ImportFeature],
    existing: &HashSet<String>,
) -> Markup {
    let shapes: Vec<charts::MapGrid> = features
        .iter()
        .filter_map(|f| {
            f.boundary.as_ref().map(|(_, shape)| charts::MapGrid {
                shape,
                share: None,
                label: format!("{}（{}）", f.name.as_str(), f.code),
                href: "#".into(),
            })
        })
        .collect();
    let updates = features
        .iter()
        .filter(|f| existing.contains(&f.code))
        .count();
    admin_layout(
        "区域",
        chrome,
        None,
        html! {
            h1 { "导入预览" }
            p { (format!("共 {} 个要素：新建 {}，更新 {}；{} 个带边界。尚未保存。",
                features.len(), features.len() - updates, updates, shapes.len())) }
            @if !shapes.is_empty() { div.map.preview { (charts::map(&shapes, &[])) } }
            div.actions {
                form method="post" action="/console/admin/areas/import/confirm" {
                    (csrf(chrome))
                    button type="submit" { "确认导入" }
                }
                a.button href="/console/admin/areas" { "取消" }
            }
            div.scroll { table.grid.text {
                thead { tr { th { "#" } th { "名称" } th { "类型" } th { "编码" } th { "上级编码" } th { "边界" } th { "结果" } } }
                tbody { @for (i, f) in features.iter().enumerate() { tr {
                    td { (i + 1) }
                    td { (f.name.as_str()) }
                    td { (kind_name(f.kind)) }
                    td { (f.code) }
                    td { (f.parent_code.as_deref().unwrap_or("—")) }
                    td { (if f.boundary.is_some() { "有" } else { "—" }) }
                    td { (if existing.contains(&f.code) { "更新" } else { "新建" }) }
                } } }
            } }
        },
    )
}

pub fn staff_list(
    chrome: &Chrome,
    list: &StaffAccountPage,
    q: Option<&str>,
    notice: Option<&str>,
) -> Markup {
    admin_layout(
        "人员",
        chrome,
        notice,
        html! {
            form.filters method="get" action="/console/admin/staff" {
                label { "查找" input type="search" name="q" value=(q.unwrap_or("")) placeholder="姓名或账号" maxlength="64"; }
                button type="submit" { "查找" }
            }
            div.scroll { table.grid.text {
                thead { tr { th { "姓名" } th { "账号" } th { "状态" } th { "职务" } th { "在办" } } }
                tbody { @for s in &list.items { tr {
                    td { a href={"/console/admin/staff/" (s.person.id)} { (s.person.name) } }
                    td { (s.login) }
                    td { (status_name(s.person.status)) }
                    td { @for r in &s.person.roles {
                        span.meta { (role_name(r.role)) @if let Some(a) = &r.area { "·" (a.name) } } " "
                    } }
                    td { (s.person.open_tickets) }
                } } }
            } }
            @if let Some(next) = &list.next_cursor {
                @let q: String = form_urlencoded::Serializer::new(String::new())
                    .append_pair("q", q.unwrap_or("")).append_pair("cursor", next).finish();
                a.more href={"/console/admin/staff?" (q)} { "下一页" }
            }
            details.action { summary { "新建账号" }
                form.card method="post" action="/console/admin/staff" {
                    (csrf(chrome))
                    label { "姓名" input name="name" required maxlength="50"; }
                    label { "账号" input name="login" required maxlength="64" autocomplete="off"; }
                    label { "初始密码（至少 10 位）" input name="password" type="password" required minlength="10" maxlength="128" autocomplete="new-password"; }
                    button type="submit" { "新建" }
                }
            }
        },
    )
}

pub struct StaffPage<'a> {
    pub chrome: &'a Chrome<'a>,
    pub staff: &'a entity::staff::Model,
    pub assignments: &'a [entity::staff_assignment::Model],
    pub areas: &'a [(Uuid, String)],
    pub tree: &'a AreaTree,
    pub notice: Option<&'a str>,
}

pub fn staff_page(p: &StaffPage) -> Markup {
    let s = p.staff;
    let base = format!("/console/admin/staff/{}", s.id);
    admin_layout(
        "人员",
        p.chrome,
        p.notice,
        html! {
            h1 { (s.name) " " span.meta { (s.login) } }
            form.card method="post" action=(base) {
                (csrf(p.chrome))
                label { "状态" select name="status" {
                    @for st in StaffStatus::ALL { option value=(st.as_str()) selected[*st == s.status] { (status_name(*st)) } }
                } }
                button type="submit" { "保存状态" }
            }
            form.card method="post" action={(base) "/wecom"} {
                (csrf(p.chrome))
                label { "企业微信账号（userid，留空即解除）" input name="wecom_userid" maxlength="64" value=(s.wecom_userid.as_deref().unwrap_or("")); }
                button type="submit" { "保存企业微信账号" }
            }
            h2 { "职务" }
            @if p.assignments.is_empty() { p.empty { "尚无职务" } }
            ul.list { @for a in p.assignments { li.row {
                strong { (role_name(a.role)) }
                " " (a.area_id.and_then(|id| p.tree.get(id)).map(|n| n.name.as_str()).unwrap_or(""))
                @if let Some(d) = &a.department { " · " (d) }
                @let skills: Vec<String> = serde_json::from_str(&a.skills).unwrap_or_default();
                @if !skills.is_empty() { span.meta { " 擅长：" (skills.join("、")) } }
                form method="post" action={(base) "/assignments/" (a.id) "/delete"} data-confirm="移除这项职务？" {
                    (csrf(p.chrome))
                    button.link type="submit" { "移除" }
                }
            } } }
            details.action { summary { "添加职务" }
                form.card method="post" action={(base) "/assignments"} {
                    (csrf(p.chrome))
                    label { "角色" select name="role" required {
                        @for r in StaffRole::ALL { option value=(r.as_str()) { (role_name(*r)) } }
                    } }
                    label { "区域（系统管理员可不选）" select name="area_id" {
                        option value="" { "—" }
                        @for (id, name) in p.areas { option value=(id) { (name) } }
                    } }
                    label { "擅长分类（网格协管员，分类编码以逗号分隔）" input name="skills" maxlength="2000"; }
                    label { "部门（职能部门）" input name="department" maxlength="64"; }
                    button type="submit" { "添加" }
                }
            }
            details.action { summary { "重置密码" }
                form.card method="post" action={(base) "/password"} {
                    (csrf(p.chrome))
                    label { "新密码（至少 10 位）" input name="password" type="password" required minlength="10" maxlength="128" autocomplete="new-password"; }
                    button type="submit" { "重置" }
                }
            }
        },
    )
}

fn level_name(l: crate::domain::HandlingLevel) -> &'static str {
    match l {
        crate::domain::HandlingLevel::Grid => "网格",
        crate::domain::HandlingLevel::Community => "社区",
        crate::domain::HandlingLevel::Street => "街道",
    }
}

pub fn categories(
    chrome: &Chrome,
    list: &[entity::category::Model],
    notice: Option<&str>,
) -> Markup {
    admin_layout(
        "分类与时限",
        chrome,
        notice,
        html! {
            p.meta { "响应时限以分钟计，办结时限以小时计；修改只对此后提交的工单生效。" }
            ul.list { @for c in list { li.row {
                strong { (c.name) } " " span.meta { (c.code) " · " (c.group_name) " · " (level_name(c.handling_level)) "级办理" }
                form.inline method="post" action={"/console/admin/categories/" (c.code)} {
                    (csrf(chrome))
                    label { "响应（分钟）" input type="number" name="response_minutes" min="1" value=(c.response_minutes) required; }
                    label { "办结（小时）" input type="number" name="resolution_hours" min="1" value=(c.resolution_hours) required; }
                    label { input type="checkbox" name="requires_resolution_photo" checked[c.requires_resolution_photo]; "办结须附照片" }
                    label { input type="checkbox" name="active" checked[c.active]; "启用" }
                    button type="submit" { "保存" }
                }
            } } }
            details.action { summary { "新建分类" }
                form.card method="post" action="/console/admin/categories" {
                    (csrf(chrome))
                    label { "编码" input name="code" required maxlength="32" pattern="[a-z0-9_]+"; }
                    label { "名称" input name="name" required maxlength="50"; }
                    label { "大类" input name="group" maxlength="50"; }
                    label { "办理层级" select name="handling_level" {
                        @for l in crate::domain::HandlingLevel::ALL { option value=(l.as_str()) { (level_name(*l)) } }
                    } }
                    label { "响应（分钟）" input type="number" name="response_minutes" min="1" value="60" required; }
                    label { "办结（小时）" input type="number" name="resolution_hours" min="1" value="72" required; }
                    label { input type="checkbox" name="requires_resolution_photo"; "办结须附照片" }
                    label { "说明" textarea name="description" maxlength="500" rows="2" {} }
                    button type="submit" { "新建" }
                }
            }
        },
    )
}

pub fn open311(
    chrome: &Chrome,
    keys: &[KeyInfo],
    tree: &AreaTree,
    shown: Option<&str>,
    notice: Option<&str>,
) -> Markup {
    let areas = area_choices(tree);
    admin_layout(
        "Open311 密钥",
        chrome,
        notice,
        html! {
            @if let Some(key) = shown {
                div.notice role="status" {
                    p { "新密钥如下，只显示这一次，请立即交给对接方妥善保存：" }
                    p { code.key { (key) } }
                }
            }
            @if keys.is_empty() { p.empty { "还没有密钥" } } @else {
                div.scroll { table.grid.text {
                    thead { tr { th { "名称" } th { "可提交的区域" } th { "状态" } th { "创建" } th {} } }
                    tbody { @for k in keys { tr {
                        td { (k.name) }
                        td { @for id in &k.area_ids { (tree.get(*id).map(|n| n.name.as_str()).unwrap_or("（已删除）")) " " } }
                        td { (if k.active { "有效" } else { "已停用" }) }
                        td { (super::pages::local_dated(k.created_at)) }
                        td { @if k.active {
                            form method="post" action={"/console/admin/open311/" (k.id) "/revoke"} data-confirm={"停用“" (k.name) "”？使用它的系统将无法再提交。"} {
                                (csrf(chrome))
                                button.link type="submit" { "停用" }
                            }
                        } }
                    } } }
                } }
            }
            details.action { summary { "新建密钥" }
                form.card method="post" action="/console/admin/open311" {
                    (csrf(chrome))
                    label { "对接方名称" input name="name" required maxlength="100"; }
                    label { "可提交的区域" select name="area_id" required {
                        option value="" { "请选择" }
                        @for (id, name) in &areas { option value=(id) { (name) } }
                    } }
                    button type="submit" { "新建" }
                }
            }
        },
    )
}
