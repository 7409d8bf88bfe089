//! 管理: the system administrator's pages — staff and their assignments, categories and their
//! SLAs, Open311 keys, and the checks every 管理 page shares (the areas are in
//! [`super::admin_areas`]). The same
//! service functions as `/api/v1/admin`, behind the same check: a system administrator.
use std::collections::HashMap;

use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Path, Query},
};
use uuid::Uuid;

use super::{Signed, admin_pages as view, page, redirect, session_of, words};
use crate::{
    domain::{StaffRole, StaffStatus, inputs::Text},
    error::Code,
    services::{
        self, ServiceError,
        categories::{CategoryChanges, NewCategory},
        staff::{NewAssignment, NewStaff, Password},
    },
    state::SharedState,
};

/// A system administrator's session, or the page that says why not.
pub(super) async fn admin_of(req: &Request) -> Result<(SharedState, Signed), Response> {
    let (state, me) = session_of(req).await?;
    if !me.scope.is_system_admin() {
        return Err(page(
            StatusCode::FORBIDDEN,
            view::problem(&me.chrome(), "仅系统管理员可用", "/console/work"),
        ));
    }
    Ok((state, me))
}

/// A posted admin form: the session (a system administrator's), its fields and its file,
/// the CSRF token checked.
pub(super) async fn admin_form(
    req: &Request,
    body: poem::Body,
) -> Result<
    (
        SharedState,
        Signed,
        HashMap<String, String>,
        Option<Vec<u8>>,
    ),
    Response,
> {
    let (state, me) = admin_of(req).await?;
    let Ok((form, file)) = super::read_form(req, &mut poem::RequestBody::new(body)).await else {
        return Err(page(
            StatusCode::BAD_REQUEST,
            super::pages::problem(Some(&me.chrome()), "表单格式不正确，或文件过大"),
        ));
    };
    if !me
        .session
        .csrf_ok(form.get("csrf").map(String::as_str).unwrap_or_default())
    {
        return Err(super::csrf_refused());
    }
    Ok((state, me, form, file))
}

/// After a change: back to `to` with a notice, or the problem with a way back.
pub(super) fn after(me: &Signed, done: Result<&str, ServiceError>, to: &str) -> Response {
    match done {
        Ok(notice) => {
            let sep = if to.contains('?') { '&' } else { '?' };
            let notice: String = form_urlencoded::byte_serialize(notice.as_bytes()).collect();
            redirect(&format!("{to}{sep}notice={notice}"))
        }
        Err(ServiceError::NotFound) => page(
            StatusCode::NOT_FOUND,
            view::problem(&me.chrome(), &words(ServiceError::NotFound), to),
        ),
        Err(e) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            view::problem(&me.chrome(), &words(e), to),
        ),
    }
}

pub(super) fn text(
    form: &HashMap<String, String>,
    name: &'static str,
    max: usize,
) -> Result<Text, ServiceError> {
    super::field(form, name, max)
}

pub(super) fn uuid(form: &HashMap<String, String>, name: &'static str) -> Option<Uuid> {
    form.get(name)
        .filter(|s| !s.is_empty())
        .and_then(|s| Uuid::parse_str(s).ok())
}

fn number(form: &HashMap<String, String>, name: &'static str) -> Result<i64, ServiceError> {
    form.get(name)
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| ServiceError::rejected(Code::InvalidField, name, "请填写整数"))
}

#[derive(serde::Deserialize, Default)]
pub struct AdminQuery {
    pub(super) parent: Option<Uuid>,
    pub(super) q: Option<String>,
    pub(super) cursor: Option<String>,
    pub(super) notice: Option<String>,
}

#[handler]
pub async fn home() -> Response {
    redirect("/console/admin/areas")
}

#[handler]
pub async fn staff_list(req: &Request, Query(q): Query<AdminQuery>) -> Response {
    let (state, me) = match admin_of(req).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let ctx = state.ctx();
    let search =
        q.q.as_deref()
            .and_then(|s| Text::parse_opt("q", Some(s), 64).ok().flatten());
    let listed = async {
        let dir = ctx.dir().await?;
        services::people::accounts(
            &ctx,
            &dir,
            search.as_ref().map(Text::as_str),
            None,
            q.cursor.as_deref(),
            50,
        )
        .await
    }
    .await;
    match listed {
        Ok(list) => page(
            StatusCode::OK,
            view::staff_list(
                &me.chrome(),
                &list,
                search.as_ref().map(Text::as_str),
                q.notice.as_deref(),
            ),
        ),
        Err(e) => after(&me, Err(e), "/console/admin/staff"),
    }
}

#[handler]
pub async fn create_staff(req: &Request, body: poem::Body) -> Response {
    let (state, me, form, _) = match admin_form(req, body).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let done = async {
        let new = NewStaff {
            name: text(&form, "name", 50)?,
            login: text(&form, "login", 64)?,
            password: Password::parse(form.get("password").map(String::as_str).unwrap_or(""))?,
            must_change_password: true,
        };
        services::staff::create(&state.db, &state.passwords, new, state.clock.now()).await
    }
    .await;
    match done {
        Ok(staff) => after(
            &me,
            Ok("已新建账号"),
            &format!("/console/admin/staff/{}", staff.id),
        ),
        Err(e) => after(&me, Err(e), "/console/admin/staff"),
    }
}

#[handler]
pub async fn staff_page(
    req: &Request,
    Path(id): Path<Uuid>,
    Query(q): Query<AdminQuery>,
) -> Response {
    let (state, me) = match admin_of(req).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let ctx = state.ctx();
    let found = async {
        let staff = services::staff::get(&state.db, id).await?;
        let assignments = services::staff::assignments(&state.db, id).await?;
        let dir = ctx.dir().await?;
        Ok::<_, ServiceError>((staff, assignments, dir))
    }
    .await;
    match found {
        Ok((staff, assignments, dir)) => page(
            StatusCode::OK,
            view::staff_page(&view::StaffPage {
                chrome: &me.chrome(),
                staff: &staff,
                assignments: &assignments,
                areas: &view::area_choices(&dir.tree),
                tree: &dir.tree,
                notice: q.notice.as_deref(),
            }),
        ),
        Err(e) => after(&me, Err(e), "/console/admin/staff"),
    }
}

#[handler]
pub async fn staff_status(req: &Request, Path(id): Path<Uuid>, body: poem::Body) -> Response {
    let (state, me, form, _) = match admin_form(req, body).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let done = async {
        let status = form
            .get("status")
            .and_then(|s| StaffStatus::parse(s))
            .ok_or_else(|| ServiceError::rejected(Code::InvalidField, "status", "请选择状态"))?;
        services::staff::set_status(&state.db, id, status, state.clock.now()).await?;
        Ok("已保存")
    }
    .await;
    after(&me, done, &format!("/console/admin/staff/{id}"))
}

#[handler]
pub async fn staff_wecom(req: &Request, Path(id): Path<Uuid>, body: poem::Body) -> Response {
    let (state, me, form, _) = match admin_form(req, body).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let done = async {
        let userid = match form.get("wecom_userid").map(|u| u.trim()) {
            None | Some("") => None,
            Some(raw) => Some(services::staff::parse_wecom_userid(raw)?),
        };
        services::staff::set_wecom_userid(&state.db, id, userid, state.clock.now()).await?;
        Ok("已保存企业微信账号")
    }
    .await;
    after(&me, done, &format!("/console/admin/staff/{id}"))
}

#[handler]
pub async fn add_assignment(req: &Request, Path(id): Path<Uuid>, body: poem::Body) -> Response {
    let (state, me, form, _) = match admin_form(req, body).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let done = async {
        let role = form
            .get("role")
            .and_then(|s| StaffRole::parse(s))
            .ok_or_else(|| ServiceError::rejected(Code::InvalidField, "role", "请选择角色"))?;
        // Category codes, separated by commas or spaces.
        let skills: Vec<String> = form
            .get("skills")
            .map_or("", String::as_str)
            .split(|c: char| c == ',' || c == '，' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if skills.len() > 50 || skills.iter().any(|s| s.chars().count() > 32) {
            return Err(ServiceError::rejected(
                Code::InvalidField,
                "skills",
                "最多 50 个分类编码",
            ));
        }
        let new = NewAssignment {
            area_id: uuid(&form, "area_id"),
            role,
            skills,
            department: super::optional(&form, "department", 64)?,
        };
        services::staff::assign(&state.db, id, new, state.clock.now()).await?;
        Ok("已添加职务")
    }
    .await;
    after(&me, done, &format!("/console/admin/staff/{id}"))
}

#[handler]
pub async fn remove_assignment(
    req: &Request,
    Path((id, assignment)): Path<(Uuid, Uuid)>,
    body: poem::Body,
) -> Response {
    let (state, me, _, _) = match admin_form(req, body).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let done = services::staff::unassign(&state.db, id, assignment)
        .await
        .map(|()| "已移除职务");
    after(&me, done, &format!("/console/admin/staff/{id}"))
}

#[handler]
pub async fn reset_password(req: &Request, Path(id): Path<Uuid>, body: poem::Body) -> Response {
    let (state, me, form, _) = match admin_form(req, body).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let done = async {
        let password = Password::parse(form.get("password").map(String::as_str).unwrap_or(""))?;
        let staff = services::staff::get(&state.db, id).await?;
        services::staff::set_password(
            &state.ctx(),
            staff,
            password,
            services::staff::SetBy::Administrator,
            state.clock.now(),
        )
        .await?;
        Ok("已重置密码，请通知本人登录后修改")
    }
    .await;
    after(&me, done, &format!("/console/admin/staff/{id}"))
}

#[handler]
pub async fn categories(req: &Request, Query(q): Query<AdminQuery>) -> Response {
    let (state, me) = match admin_of(req).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    match services::categories::list_all(&state.db).await {
        Ok(list) => page(
            StatusCode::OK,
            view::categories(&me.chrome(), &list, q.notice.as_deref()),
        ),
        Err(e) => after(&me, Err(e), "/console/admin"),
    }
}

#[handler]
pub async fn create_category(req: &Request, body: poem::Body) -> Response {
    let (state, me, form, _) = match admin_form(req, body).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let done = async {
        let (response_minutes, resolution_hours) = NewCategory::check_sla(
            number(&form, "response_minutes")?,
            number(&form, "resolution_hours")?,
        )?;
        let name = text(&form, "name", 50)?;
        let new = NewCategory {
            code: text(&form, "code", 32)?,
            group: super::optional(&form, "group", 50)?.unwrap_or_else(|| name.clone()),
            name,
            handling_level: form
                .get("handling_level")
                .and_then(|l| crate::domain::HandlingLevel::parse(l))
                .unwrap_or(crate::domain::HandlingLevel::Grid),
            response_minutes,
            resolution_hours,
            requires_resolution_photo: form.contains_key("requires_resolution_photo"),
            sla_mode: crate::domain::SlaMode::Calendar,
            description: super::optional(&form, "description", 500)?,
            attributes: vec![],
        };
        services::categories::create(&state.db, new, state.clock.now()).await?;
        Ok("已新建分类")
    }
    .await;
    after(&me, done, "/console/admin/categories")
}

#[handler]
pub async fn update_category(
    req: &Request,
    Path(code): Path<String>,
    body: poem::Body,
) -> Response {
    let (state, me, form, _) = match admin_form(req, body).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let done = async {
        let sla = NewCategory::check_sla(
            number(&form, "response_minutes")?,
            number(&form, "resolution_hours")?,
        )?;
        let changes = CategoryChanges {
            sla: Some(sla),
            active: Some(form.contains_key("active")),
            requires_resolution_photo: Some(form.contains_key("requires_resolution_photo")),
            ..CategoryChanges::default()
        };
        services::categories::update(&state.db, &code, changes, state.clock.now()).await?;
        Ok("已保存，新时限自此后提交的工单起适用")
    }
    .await;
    after(&me, done, "/console/admin/categories")
}

#[handler]
pub async fn open311(req: &Request, Query(q): Query<AdminQuery>) -> Response {
    let (state, me) = match admin_of(req).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let ctx = state.ctx();
    let found = async {
        let keys = services::open311::keys(&state.db).await?;
        let dir = ctx.dir().await?;
        Ok::<_, ServiceError>((keys, dir))
    }
    .await;
    match found {
        Ok((keys, dir)) => page(
            StatusCode::OK,
            view::open311(&me.chrome(), &keys, &dir.tree, None, q.notice.as_deref()),
        ),
        Err(e) => after(&me, Err(e), "/console/admin"),
    }
}

/// A new key, shown once on the page that answers the form (never in a URL or a redirect).
#[handler]
pub async fn create_key(req: &Request, body: poem::Body) -> Response {
    let (state, me, form, _) = match admin_form(req, body).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let ctx = state.ctx();
    let made = async {
        let name = text(&form, "name", 100)?;
        let area_ids: Vec<Uuid> = uuid(&form, "area_id").into_iter().collect();
        let (_, key) =
            services::open311::create_key(&state.db, name.as_str(), &area_ids, state.clock.now())
                .await?;
        let keys = services::open311::keys(&state.db).await?;
        let dir = ctx.dir().await?;
        Ok::<_, ServiceError>((key, keys, dir))
    }
    .await;
    match made {
        Ok((key, keys, dir)) => page(
            StatusCode::OK,
            view::open311(&me.chrome(), &keys, &dir.tree, Some(&key), None),
        ),
        Err(e) => after(&me, Err(e), "/console/admin/open311"),
    }
}

#[handler]
pub async fn revoke_key(req: &Request, Path(id): Path<Uuid>, body: poem::Body) -> Response {
    let (state, me, _, _) = match admin_form(req, body).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let done = services::open311::revoke_key(&state.db, id)
        .await
        .map(|()| "已停用");
    after(&me, done, "/console/admin/open311")
}
