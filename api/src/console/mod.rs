//! 工作台: the staff console, served by the same binary at `/console`. Server-rendered pages
//! (maud) over the same service functions as the API, with the same role and scope checks;
//! a session cookie and a CSRF token on every form (see [`session`]).
mod account;
mod admin;
mod admin_areas;
mod admin_audit;
mod admin_pages;
mod charts;
mod command;
mod dashboard;
mod pages;
mod session;
mod topics;

use std::collections::HashMap;

use poem::{
    Request, Response, Route, handler,
    http::{StatusCode, header},
    web::{Form, Path, Query},
};
use uuid::Uuid;

use crate::{
    domain::{
        StaffRole,
        access::StaffScope,
        inputs::Text,
        lifecycle::{Action, Status, next},
    },
    error::{Code, Lang, in_lang},
    services::{
        self, Caller, ServiceError,
        listing::{WorkFilter, WorkSort},
        tickets::StaffCommand,
    },
    state::SharedState,
};
use pages::{Actions, Assignee, Chrome, WorkQuery};

const CSS: &str = include_str!("console.css");
const JS: &str = include_str!("console.js");

pub fn routes() -> Route {
    Route::new()
        .at("/", poem::get(home))
        .at("/login", poem::get(login_form).post(login))
        .at("/logout", poem::post(logout))
        .at(
            "/password",
            poem::get(account::password_form).post(account::change_password),
        )
        .at(
            "/tickets/:id/reveal-contact",
            poem::post(account::reveal_contact),
        )
        .at("/work", poem::get(work))
        .at("/dispatch", poem::get(dispatch))
        .at(
            "/intake",
            poem::get(command::intake_form).post(command::intake),
        )
        .at("/dashboard", poem::get(dashboard::dashboard))
        .at("/map", poem::get(dashboard::map))
        .at("/topics", poem::get(topics::list).post(topics::create))
        .at("/topics/:id", poem::get(topics::show))
        .at("/topics/:id/:action", poem::post(topics::act))
        .at("/export.xlsx", poem::get(dashboard::export))
        .at("/export.csv", poem::get(dashboard::export))
        .at("/tickets/:id", poem::get(ticket))
        .at("/tickets/:id/:action", poem::post(act))
        .at("/admin", poem::get(admin::home))
        .at(
            "/admin/areas",
            poem::get(admin_areas::areas).post(admin_areas::create_area),
        )
        .at(
            "/admin/areas/import",
            poem::post(admin_areas::preview_import),
        )
        .at(
            "/admin/areas/import/confirm",
            poem::post(admin_areas::confirm_import),
        )
        .at(
            "/admin/areas/:id/delete",
            poem::post(admin_areas::delete_area),
        )
        .at(
            "/admin/staff",
            poem::get(admin::staff_list).post(admin::create_staff),
        )
        .at(
            "/admin/staff/:id",
            poem::get(admin::staff_page).post(admin::staff_status),
        )
        .at(
            "/admin/staff/:id/assignments",
            poem::post(admin::add_assignment),
        )
        .at(
            "/admin/staff/:id/assignments/:assignment/delete",
            poem::post(admin::remove_assignment),
        )
        .at(
            "/admin/staff/:id/password",
            poem::post(admin::reset_password),
        )
        .at("/admin/staff/:id/wecom", poem::post(admin::staff_wecom))
        .at(
            "/admin/categories",
            poem::get(admin::categories).post(admin::create_category),
        )
        .at(
            "/admin/categories/:code",
            poem::post(admin::update_category),
        )
        .at(
            "/admin/open311",
            poem::get(admin::open311).post(admin::create_key),
        )
        .at("/admin/open311/:id/revoke", poem::post(admin::revoke_key))
        .at("/admin/audit", poem::get(admin_audit::audit))
        .at("/static/console.css", poem::get(css))
        .at("/static/console.js", poem::get(js))
}

fn state_of(req: &Request) -> Option<SharedState> {
    req.data::<SharedState>().cloned()
}

fn page(status: StatusCode, markup: maud::Markup) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header(
            "content-security-policy",
            "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
        .body(markup.into_string())
}

fn redirect(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .header(header::CACHE_CONTROL, "no-store")
        .finish()
}

/// A problem as a person reads it, in Chinese.
fn words(err: ServiceError) -> String {
    let e = crate::error::ApiError::from(err);
    match e.code {
        Code::NotFound => "不存在，或不在您的范围内".into(),
        code => match &e.detail {
            Some(d) => format!("{}：{}", code.title(Lang::Zh), in_lang(d, Lang::Zh)),
            None => code.title(Lang::Zh).to_owned(),
        },
    }
}

/// The signed-in staff member: their session and scope, or the way to the login page.
struct Signed {
    session: session::Session,
    scope: StaffScope,
    name: String,
}

impl Signed {
    fn chrome(&self) -> Chrome<'_> {
        Chrome {
            name: &self.name,
            csrf: &self.session.csrf,
            admin: self.dispatches(),
            system: self.scope.is_system_admin(),
        }
    }

    /// Holds a role that assigns from a queue.
    fn dispatches(&self) -> bool {
        self.scope.assignments.iter().any(|a| {
            matches!(
                a.role,
                StaffRole::CommunityAdmin | StaffRole::StreetAdmin | StaffRole::SystemAdmin
            )
        })
    }
}

/// The app and the signed-in staff member of a request, or the way to the login page.
async fn session_of(req: &Request) -> Result<(SharedState, Signed), Response> {
    let state = state_of(req).ok_or_else(|| redirect("/console/login"))?;
    let me = signed_in(&state, req).await?;
    Ok((state, me))
}

/// The signed-in person posting `form`, its CSRF token checked.
async fn posted(
    req: &Request,
    form: &HashMap<String, String>,
) -> Result<(SharedState, Signed), Response> {
    let (state, me) = session_of(req).await?;
    if !me
        .session
        .csrf_ok(form.get("csrf").map(String::as_str).unwrap_or_default())
    {
        return Err(csrf_refused());
    }
    Ok((state, me))
}

async fn signed_in(state: &SharedState, req: &Request) -> Result<Signed, Response> {
    let to_login = || redirect("/console/login");
    let session = session::current(state, req).await.ok_or_else(to_login)?;
    let dir = state.ctx().dir().await.map_err(|_| to_login())?;
    if let Some(person) = dir.person(session.staff_id) {
        services::audit::set_actor(session.staff_id, &person.login);
        if person.must_change_password && req.original_uri().path() != "/console/password" {
            return Err(redirect("/console/password"));
        }
    }
    match dir.scope(session.staff_id) {
        Ok(scope) => Ok(Signed {
            name: dir
                .staff_name(session.staff_id)
                .unwrap_or_default()
                .to_owned(),
            scope,
            session,
        }),
        Err(_) => {
            session::end(state, &session).await;
            Err(to_login())
        }
    }
}

#[handler]
async fn home() -> Response {
    redirect("/console/work")
}

#[handler]
async fn css() -> Response {
    Response::builder()
        .content_type("text/css; charset=utf-8")
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .body(CSS)
}

#[handler]
async fn js() -> Response {
    Response::builder()
        .content_type("text/javascript; charset=utf-8")
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .body(JS)
}

#[handler]
async fn login_form() -> Response {
    page(StatusCode::OK, pages::login(None))
}

#[derive(serde::Deserialize)]
struct LoginForm {
    login: String,
    password: String,
}

/// A form posted from another site: the browser says so (`Sec-Fetch-Site: cross-site` or
/// `same-site`), or its `Origin` names another host. Refused, so no page elsewhere can sign a
/// staff member in to an account of its choosing. (Under `Referrer-Policy: no-referrer` a
/// browser sends `Origin: null` for the console's own forms; `Sec-Fetch-Site` tells those.)
fn foreign_origin(req: &Request) -> bool {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site").is_some_and(|site| !matches!(site, "same-origin" | "none")) {
        return true;
    }
    let host = header(header::HOST.as_str()).unwrap_or_default();
    header(header::ORIGIN.as_str())
        .filter(|origin| *origin != "null")
        .is_some_and(|origin| origin.split_once("://").map(|(_, h)| h) != Some(host))
}

#[handler]
async fn login(req: &Request, Form(form): Form<LoginForm>) -> Response {
    let Some(state) = state_of(req) else {
        return page(StatusCode::INTERNAL_SERVER_ERROR, pages::login(None));
    };
    if foreign_origin(req) {
        return csrf_refused();
    }
    let ctx = state.ctx();
    match services::staff::login(&ctx, form.login.trim(), &form.password).await {
        Ok(staff) => match session::start(&state, &staff).await {
            Some((_, cookie)) => {
                let to = if staff.must_change_password {
                    "/console/password"
                } else {
                    "/console/work"
                };
                let mut resp = redirect(to);
                if let Ok(v) = cookie.parse() {
                    resp.headers_mut().append(header::SET_COOKIE, v);
                }
                resp
            }
            None => page(
                StatusCode::SERVICE_UNAVAILABLE,
                pages::login(Some("系统繁忙，请稍后再试")),
            ),
        },
        Err(ServiceError::Throttled { .. }) => page(
            StatusCode::TOO_MANY_REQUESTS,
            pages::login(Some("尝试次数过多，请稍后再试")),
        ),
        Err(_) => page(
            StatusCode::UNAUTHORIZED,
            pages::login(Some("账号或密码错误")),
        ),
    }
}

fn csrf_refused() -> Response {
    page(
        StatusCode::FORBIDDEN,
        pages::problem(None, "页面已过期，请刷新后重试"),
    )
}

#[handler]
async fn logout(req: &Request, Form(form): Form<HashMap<String, String>>) -> Response {
    let Some(state) = state_of(req) else {
        return redirect("/console/login");
    };
    let Some(session) = session::current(&state, req).await else {
        return redirect("/console/login");
    };
    if !session.csrf_ok(form.get("csrf").map(String::as_str).unwrap_or_default()) {
        return csrf_refused();
    }
    session::end(&state, &session).await;
    let mut resp = redirect("/console/login");
    if let Ok(v) = session::cleared(&state).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

fn tab_statuses(tab: &str) -> Vec<Status> {
    match tab {
        "doing" => vec![Status::InProgress],
        "done" => vec![Status::Resolved, Status::Closed],
        "all" => vec![],
        _ => vec![Status::Submitted, Status::PendingDispatch, Status::Assigned],
    }
}

#[handler]
async fn work(req: &Request, Query(q): Query<WorkQuery>) -> Response {
    let (state, me) = match session_of(req).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let ctx = state.ctx();
    let filter = WorkFilter {
        statuses: tab_statuses(q.tab.as_deref().unwrap_or("todo")),
        overdue: q.overdue.as_ref().map(|_| true),
        q: q.q
            .as_deref()
            .and_then(|s| Text::parse_opt("q", Some(s), 64).ok().flatten())
            .map(Text::into_inner),
        sort: if q.sort.as_deref() == Some("due") {
            WorkSort::Due
        } else {
            WorkSort::Newest
        },
        ..WorkFilter::default()
    };
    match services::listing::list_work(&ctx, &me.scope, &filter, q.cursor.as_deref(), 20).await {
        Ok(p) => page(
            StatusCode::OK,
            pages::work(
                &me.chrome(),
                &q,
                &p.items,
                p.next_cursor.as_deref(),
                ctx.now(),
            ),
        ),
        Err(e) => page(
            StatusCode::BAD_REQUEST,
            pages::problem(Some(&me.chrome()), &words(e)),
        ),
    }
}

/// What `me` may do to the ticket in `v` now: the machine's next steps, for who handles it.
fn actions(
    me: &Signed,
    v: &services::tickets::TicketView,
    tree: &crate::domain::areas::AreaTree,
) -> Actions {
    let t = &v.ticket;
    let place = v.placement();
    let handles = me.scope.handles(tree, &place);
    let can = |a: Action| handles && next(t.status, a).is_ok();
    let over = me.scope.is_admin_over(tree, &place);
    Actions {
        accept: can(Action::Accept),
        resolve: can(Action::Resolve),
        escalate: can(Action::Escalate { found: true }),
        reject: can(Action::Reject),
        comment: !t.status.is_terminal(),
        transfer: can(Action::Transfer { found: true }),
        assign: over && next(t.status, Action::Assign).is_ok(),
        merge: handles && !t.status.is_terminal() && t.duplicate_of.is_none(),
        return_visit: over && t.return_visit_required && t.return_visit_at.is_none(),
        reveal: v.contact_phone.is_some() && (t.assignee_id == Some(me.scope.staff_id) || over),
        send_back: t.assignee_id == Some(me.scope.staff_id)
            && next(t.status, Action::Return).is_ok(),
        refuse_return: over && next(t.status, Action::RefuseReturn).is_ok(),
    }
}

/// The grids and people a transfer or an assignment may pick: the grids of the deployment by
/// name, the people in the caller's sight who are active.
async fn pickers(
    ctx: &services::Ctx<'_>,
    me: &Signed,
    dir: &services::directory::Directory,
    actions: &Actions,
) -> pages::Pickers {
    if !(actions.transfer || actions.assign) {
        return pages::Pickers::default();
    }
    let mut grids: Vec<(Uuid, String)> = dir
        .tree
        .all()
        .filter(|n| n.kind == crate::domain::AreaKind::Grid)
        .map(|n| (n.id, n.name.clone()))
        .collect();
    grids.sort_by(|a, b| a.1.cmp(&b.1));
    let people = services::people::in_scope(ctx, dir, &me.scope, None, None, None)
        .await
        .map(|l| l.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.status == crate::domain::StaffStatus::Active)
        .map(|p| Assignee {
            id: p.id,
            label: format!("{}（在办{}）", p.name, p.open_tickets),
        })
        .collect();
    pages::Pickers { grids, people }
}

/// The ticket's grid with its point marked, when it has both.
fn ticket_map(
    dir: &services::directory::Directory,
    v: &services::tickets::TicketView,
) -> maud::Markup {
    let t = &v.ticket;
    let Some(shape) = t.grid_id.and_then(|g| dir.grids.shape(g)) else {
        return maud::html! {};
    };
    let grid = charts::MapGrid {
        shape,
        share: None,
        label: v.grid_name.clone().unwrap_or_default(),
        href: "#".into(),
    };
    let point: Vec<(f64, f64)> = t.lat.zip(t.lng).into_iter().collect();
    charts::map(&[grid], &point)
}

#[derive(serde::Deserialize)]
struct TicketQuery {
    notice: Option<String>,
}

#[handler]
async fn ticket(req: &Request, Path(id): Path<String>, Query(q): Query<TicketQuery>) -> Response {
    let (state, me) = match session_of(req).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let ctx = state.ctx();
    let caller = Caller::Staff(me.scope.clone());
    match services::tickets::get(&ctx, &caller, &id).await {
        Ok(v) => {
            let Ok(dir) = ctx.dir().await else {
                return page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    pages::problem(None, "系统繁忙"),
                );
            };
            let actions = actions(&me, &v, &dir.tree);
            let pickers = pickers(&ctx, &me, &dir, &actions).await;
            let map = ticket_map(&dir, &v);
            let notice = match q.notice.as_deref() {
                Some("conflict") => Some("已被他人处理，已刷新"),
                Some("done") => Some("已完成"),
                _ => None,
            };
            let standing = command::standing(&ctx, &v).await;
            let command = (
                command::facts(&v),
                command::forms(&me, &v, &dir.tree, &standing),
            );
            page(
                StatusCode::OK,
                pages::ticket(
                    &me.chrome(),
                    &v,
                    &actions,
                    &pickers,
                    map,
                    notice,
                    ctx.now(),
                    command,
                ),
            )
        }
        Err(e) => page(
            StatusCode::NOT_FOUND,
            pages::problem(Some(&me.chrome()), &words(e)),
        ),
    }
}

fn field(
    form: &HashMap<String, String>,
    name: &'static str,
    max: usize,
) -> Result<Text, ServiceError> {
    Ok(Text::parse(
        name,
        form.get(name).map(String::as_str).unwrap_or_default(),
        max,
    )?)
}

fn optional(
    form: &HashMap<String, String>,
    name: &'static str,
    max: usize,
) -> Result<Option<Text>, ServiceError> {
    Ok(Text::parse_opt(
        name,
        form.get(name).map(String::as_str),
        max,
    )?)
}

/// A form's fields, and the file of a multipart form (a photo, or an administrator's GeoJSON;
/// one per form, within the upload limit the edge enforces).
async fn read_form(
    req: &Request,
    body: &mut poem::RequestBody,
) -> poem::Result<(HashMap<String, String>, Option<Vec<u8>>)> {
    use poem::FromRequest;
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let Form(form) = Form::<HashMap<String, String>>::from_request(req, body).await?;
        return Ok((form, None));
    }
    let mut parts = poem::web::Multipart::from_request(req, body).await?;
    let (mut form, mut photo) = (HashMap::new(), None);
    while let Some(field) = parts.next_field().await? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "photo" || field.file_name().is_some() {
            let bytes = field.bytes().await?;
            photo = (!bytes.is_empty()).then_some(bytes);
        } else {
            form.insert(name, field.text().await?);
        }
    }
    Ok((form, photo))
}

/// The photo of a form stored as the caller's upload: its id, ready to attach.
async fn uploaded(
    ctx: &services::Ctx<'_>,
    state: &SharedState,
    caller: &Caller,
    reference: &str,
    photo: Option<Vec<u8>>,
) -> Result<Vec<Uuid>, ServiceError> {
    let Some(bytes) = photo else {
        return Ok(vec![]);
    };
    // Nothing is stored for a ticket the caller may not see.
    services::tickets::get(ctx, caller, reference).await?;
    let owner = services::attachments::Owner::of(caller);
    let stored = services::attachments::upload(
        ctx.db,
        state.media.as_ref(),
        state.settings.media.max_bytes,
        owner,
        bytes,
        ctx.now(),
    )
    .await?;
    Ok(vec![stored.id])
}

#[handler]
async fn act(
    req: &Request,
    Path((id, action)): Path<(String, String)>,
    body: poem::Body,
) -> Response {
    // Who asks first: a body is read only for a live session.
    let (state, me) = match session_of(req).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let Ok((form, photo)) = read_form(req, &mut poem::RequestBody::new(body)).await else {
        return page(
            StatusCode::BAD_REQUEST,
            pages::problem(None, "表单格式不正确"),
        );
    };
    if !me
        .session
        .csrf_ok(form.get("csrf").map(String::as_str).unwrap_or_default())
    {
        return csrf_refused();
    }
    let ctx = state.ctx();
    let back = format!("/console/tickets/{id}");
    if let Some(done) = command::act(&ctx, &me, &id, &action, &form).await {
        return after(&me, &back, done, false);
    }
    let done: Result<(), ServiceError> = async {
        let command = match action.as_str() {
            "accept" => StaffCommand::Accept,
            "resolve" => {
                let note = field(&form, "note", 1000)?;
                let caller = Caller::Staff(me.scope.clone());
                StaffCommand::Resolve {
                    note,
                    attachment_ids: uploaded(&ctx, &state, &caller, &id, photo).await?,
                }
            }
            "escalate" => StaffCommand::Escalate {
                reason: field(&form, "reason", 500)?,
                public_note: optional(&form, "public_note", 200)?,
            },
            "reject" => StaffCommand::Reject {
                reason: field(&form, "reason", 500)?,
                duplicate_of: None,
            },
            "assign" => StaffCommand::Assign {
                staff_id: form
                    .get("staff_id")
                    .and_then(|s| Uuid::parse_str(s).ok())
                    .ok_or_else(|| {
                        ServiceError::rejected(Code::UnknownStaff, "staff_id", "请选择派给谁")
                    })?,
            },
            "transfer" => {
                let pick = |name: &str| {
                    form.get(name)
                        .filter(|s| !s.is_empty())
                        .and_then(|s| Uuid::parse_str(s).ok())
                };
                let to = match (pick("grid_id"), pick("staff_id")) {
                    (Some(g), None) => services::tickets::TransferTarget::Grid(g),
                    (None, Some(s)) => services::tickets::TransferTarget::Staff(s),
                    _ => {
                        return Err(ServiceError::rejected(
                            Code::InvalidField,
                            "grid_id",
                            "请选择网格或人员之一",
                        ));
                    }
                };
                StaffCommand::Transfer {
                    to,
                    reason: field(&form, "reason", 500)?,
                    public_note: optional(&form, "public_note", 200)?,
                }
            }
            "return" => {
                let reason = form
                    .get("reason_code")
                    .and_then(|r| crate::domain::ReturnReason::parse(r))
                    .ok_or_else(|| {
                        ServiceError::rejected(Code::InvalidField, "reason_code", "请选择退单原因")
                    })?;
                let note = field(&form, "note", 500)?;
                services::tickets::returns::send_back(&ctx, &me.scope, &id, reason, note).await?;
                return Ok(());
            }
            "refuse-return" => {
                let note = field(&form, "note", 500)?;
                services::tickets::returns::refuse(&ctx, &me.scope, &id, note).await?;
                return Ok(());
            }
            "merge" => {
                let into = field(&form, "into", 40)?;
                services::tickets::merge(&ctx, &me.scope, &id, into.as_str()).await?;
                return Ok(());
            }
            "return-visit" => {
                let outcome = form
                    .get("outcome")
                    .and_then(|o| crate::domain::ReturnVisitOutcome::parse(o))
                    .ok_or_else(|| {
                        ServiceError::rejected(Code::InvalidField, "outcome", "请选择回访结果")
                    })?;
                let note = optional(&form, "note", 1000)?;
                let reasons: Vec<crate::domain::DissatisfactionReason> = form
                    .keys()
                    .filter_map(|k| k.strip_prefix("reason_"))
                    .filter_map(crate::domain::DissatisfactionReason::parse)
                    .collect();
                services::tickets::record_return_visit(
                    &ctx, &me.scope, &id, outcome, note, &reasons,
                )
                .await?;
                return Ok(());
            }
            "comment" => {
                let text = field(&form, "text", 1000)?;
                let internal = form.contains_key("internal");
                let caller = Caller::Staff(me.scope.clone());
                let photos = uploaded(&ctx, &state, &caller, &id, photo).await?;
                services::tickets::comment(&ctx, &caller, &id, text, internal, &photos).await?;
                return Ok(());
            }
            _ => return Err(ServiceError::NotFound),
        };
        services::tickets::act(&ctx, &me.scope, &id, command).await?;
        Ok(())
    }
    .await;
    after(
        &me,
        &back,
        done,
        action == "assign" && form.contains_key("from_queue"),
    )
}

/// Where a posted ticket form leads: back to the ticket with a notice, or to the queue it was
/// dispatched from, or the problem.
fn after(me: &Signed, back: &str, done: Result<(), ServiceError>, to_queue: bool) -> Response {
    match done {
        Ok(()) if to_queue => redirect("/console/dispatch"),
        Ok(()) => redirect(&format!("{back}?notice=done")),
        Err(ServiceError::ConcurrentUpdate | ServiceError::InvalidTransition { .. }) => {
            redirect(&format!("{back}?notice=conflict"))
        }
        Err(ServiceError::NotFound) => page(
            StatusCode::NOT_FOUND,
            pages::problem(Some(&me.chrome()), &words(ServiceError::NotFound)),
        ),
        Err(e) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::problem(Some(&me.chrome()), &words(e)),
        ),
    }
}

#[handler]
async fn dispatch(req: &Request) -> Response {
    let (state, me) = match session_of(req).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let ctx = state.ctx();
    let filter = WorkFilter {
        statuses: vec![Status::PendingDispatch, Status::Returned],
        ..WorkFilter::default()
    };
    let listed = async {
        let queue = services::listing::list_work(&ctx, &me.scope, &filter, None, 100).await?;
        let dir = ctx.dir().await?;
        let people = services::people::in_scope(&ctx, &dir, &me.scope, None, None, None).await?;
        Ok::<_, ServiceError>((queue, people))
    }
    .await;
    match listed {
        Ok((queue, people)) => {
            let people: Vec<Assignee> = people
                .items
                .into_iter()
                .filter(|p| p.status == crate::domain::StaffStatus::Active)
                .map(|p| Assignee {
                    id: p.id,
                    label: format!("{}（在办{}）", p.name, p.open_tickets),
                })
                .collect();
            page(
                StatusCode::OK,
                pages::dispatch(&me.chrome(), &queue.items, &people, ctx.now()),
            )
        }
        Err(e) => page(
            StatusCode::BAD_REQUEST,
            pages::problem(Some(&me.chrome()), &words(e)),
        ),
    }
}
