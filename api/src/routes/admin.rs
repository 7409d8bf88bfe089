//! System administration: the area tree, buildings, staff and their assignments, categories.
use poem_openapi::{OpenApi, param::Path, param::Query, payload::Json};
use uuid::Uuid;

use super::{ApiResult, Created, Tag, auth::AdminAuth, text, text_opt};
use crate::{
    schemas::admin::*,
    services::{
        self, ServiceError,
        areas::{AreaChanges, NewArea, NewBuilding},
        categories::{CategoryChanges, NewCategory},
        staff::{NewAssignment, NewStaff, Password},
    },
    state::SharedState,
};

pub struct AdminApi {
    pub state: SharedState,
}

impl AdminApi {
    async fn staff_view(&self, staff: entity::staff::Model) -> ApiResult<Staff> {
        let assignments = services::staff::assignments(&self.state.db, staff.id).await?;
        Ok(Staff {
            id: staff.id,
            name: staff.name,
            login: staff.login,
            status: staff.status,
            wecom_userid: staff.wecom_userid,
            assignments: assignments.into_iter().map(Assignment::from).collect(),
        })
    }
}

#[OpenApi(prefix_path = "/admin", tag = "Tag::Admin")]
impl AdminApi {
    /// Creates an area (district, street, community or grid). A grid's `boundary` is a GeoJSON
    /// Polygon or MultiPolygon; the routing index is rebuilt on every node.
    #[oai(path = "/areas", method = "post")]
    async fn create_area(
        &self,
        _auth: AdminAuth,
        body: Json<AreaCreate>,
    ) -> ApiResult<Created<Area>> {
        let body = body.0;
        let new = NewArea {
            kind: body.kind,
            name: text("name", &body.name, 100)?,
            parent_id: body.parent_id,
            code: text_opt("code", body.code.as_deref(), 64)?,
            boundary: body.boundary,
        };
        Ok(Created::Created(Json(
            services::areas::create(&self.state.db, new, self.state.clock.now())
                .await?
                .into(),
        )))
    }

    /// Lists the children of `parent_id`, or the roots without it.
    #[oai(path = "/areas", method = "get")]
    async fn list_areas(
        &self,
        _auth: AdminAuth,
        parent_id: Query<Option<Uuid>>,
    ) -> ApiResult<Json<Vec<Area>>> {
        let rows = services::areas::list(&self.state.db, parent_id.0).await?;
        Ok(Json(rows.into_iter().map(Area::from).collect()))
    }

    #[oai(path = "/areas/:id", method = "get")]
    async fn get_area(&self, _auth: AdminAuth, id: Path<Uuid>) -> ApiResult<Json<Area>> {
        Ok(Json(
            services::areas::get(&self.state.db, id.0).await?.into(),
        ))
    }

    /// Changes an area's name, code, parent or boundary.
    #[oai(path = "/areas/:id", method = "patch")]
    async fn patch_area(
        &self,
        _auth: AdminAuth,
        id: Path<Uuid>,
        body: Json<AreaPatch>,
    ) -> ApiResult<Json<Area>> {
        let body = body.0;
        let changes = AreaChanges {
            name: text_opt("name", body.name.as_deref(), 100)?,
            code: text_opt("code", body.code.as_deref(), 64)?,
            parent_id: body.parent_id,
            boundary: body.boundary,
        };
        Ok(Json(
            services::areas::update(&self.state.db, id.0, changes, self.state.clock.now())
                .await?
                .into(),
        ))
    }

    /// Deletes an area nothing refers to (`409 area_in_use` otherwise).
    #[oai(path = "/areas/:id", method = "delete")]
    async fn delete_area(&self, _auth: AdminAuth, id: Path<Uuid>) -> ApiResult<()> {
        services::areas::delete(&self.state.db, id.0).await?;
        Ok(())
    }

    /// Imports a GeoJSON FeatureCollection; properties: `kind`, `name`, `code`, `parent_code`.
    #[oai(path = "/areas/import", method = "post")]
    async fn import_areas(
        &self,
        _auth: AdminAuth,
        body: Json<serde_json::Value>,
    ) -> ApiResult<Json<ImportReport>> {
        let (created, updated) = services::areas::import_feature_collection(
            &self.state.db,
            &body.0.to_string(),
            self.state.clock.now(),
        )
        .await?;
        Ok(Json(ImportReport {
            created: created as u64,
            updated: updated as u64,
        }))
    }

    /// Creates a building in a grid. A location outside the grid's boundary is refused.
    #[oai(path = "/buildings", method = "post")]
    async fn create_building(
        &self,
        _auth: AdminAuth,
        body: Json<BuildingCreate>,
    ) -> ApiResult<Created<Building>> {
        let body = body.0;
        let location = body
            .location
            .as_ref()
            .map(LocationInput::parse)
            .transpose()?;
        let new = NewBuilding {
            name: text("name", &body.name, 100)?,
            grid_id: body.grid_id,
            address: text_opt("address", body.address.as_deref(), 200)?,
            location,
        };
        Ok(Created::Created(Json(
            services::areas::create_building(&self.state.db, new, self.state.clock.now())
                .await?
                .into(),
        )))
    }

    #[oai(path = "/staff", method = "post")]
    async fn create_staff(
        &self,
        _auth: AdminAuth,
        body: Json<StaffCreate>,
    ) -> ApiResult<Created<Staff>> {
        let new = NewStaff {
            name: text("name", &body.name, 50)?,
            login: text("login", &body.login, 64)?,
            password: Password::parse(&body.password)?,
            must_change_password: true,
        };
        let staff = services::staff::create(
            &self.state.db,
            &self.state.passwords,
            new,
            self.state.clock.now(),
        )
        .await?;
        Ok(Created::Created(Json(self.staff_view(staff).await?)))
    }

    #[oai(path = "/staff/:id", method = "get")]
    async fn get_staff(&self, _auth: AdminAuth, id: Path<Uuid>) -> ApiResult<Json<Staff>> {
        let staff = services::staff::get(&self.state.db, id.0).await?;
        Ok(Json(self.staff_view(staff).await?))
    }

    /// Sets a staff member's status (`active`, `on_leave`: routing skips them, or `left`; the
    /// last active system administrator stays active, `409 last_admin`) and their 企业微信
    /// `wecom_userid` (`""` removes it; one staff member per userid, `409 already_exists`).
    #[oai(path = "/staff/:id", method = "patch")]
    async fn patch_staff(
        &self,
        _auth: AdminAuth,
        id: Path<Uuid>,
        body: Json<StaffPatch>,
    ) -> ApiResult<Json<Staff>> {
        let body = body.0;
        let now = self.state.clock.now();
        let mut staff = services::staff::get(&self.state.db, id.0).await?;
        // Both checked before either is applied, so a refused userid changes no status.
        let userid = match body.wecom_userid.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(raw) => {
                let userid = services::staff::parse_wecom_userid(raw)?;
                services::staff::check_wecom_userid_free(&self.state.db, id.0, &userid).await?;
                Some(Some(userid))
            }
        };
        if let Some(status) = body.status {
            staff = services::staff::set_status(&self.state.db, id.0, status, now).await?;
        }
        if let Some(userid) = userid {
            staff = services::staff::set_wecom_userid(&self.state.db, id.0, userid, now).await?;
        }
        Ok(Json(self.staff_view(staff).await?))
    }

    /// Gives a staff member a role in an area (grid roles in a grid, admins in their community
    /// or street, departments in a street).
    #[oai(path = "/staff/:id/assignments", method = "post")]
    async fn assign(
        &self,
        _auth: AdminAuth,
        id: Path<Uuid>,
        body: Json<AssignmentCreate>,
    ) -> ApiResult<Created<Assignment>> {
        let body = body.0;
        let skills: Vec<String> = body
            .skills
            .unwrap_or_default()
            .into_iter()
            .map(String::from)
            .collect();
        if skills.len() > 50
            || skills
                .iter()
                .any(|s| s.is_empty() || s.chars().count() > 32)
        {
            return Err(ServiceError::rejected(
                crate::error::Code::InvalidField,
                "skills",
                "up to 50 category codes",
            )
            .into());
        }
        let new = NewAssignment {
            area_id: body.area_id,
            role: body.role,
            skills,
            department: text_opt("department", body.department.as_deref(), 64)?,
        };
        let created =
            services::staff::assign(&self.state.db, id.0, new, self.state.clock.now()).await?;
        Ok(Created::Created(Json(created.into())))
    }

    /// Takes a role away from a staff member. The last active system administrator keeps theirs
    /// (`409 last_admin`).
    #[oai(path = "/staff/:id/assignments/:assignment_id", method = "delete")]
    async fn unassign(
        &self,
        _auth: AdminAuth,
        id: Path<Uuid>,
        assignment_id: Path<Uuid>,
    ) -> ApiResult<()> {
        services::staff::unassign(&self.state.db, id.0, assignment_id.0).await?;
        Ok(())
    }

    /// Creates an Open311 API key bound to the areas it may post into. The key is shown once;
    /// only its SHA-256 hash is stored.
    #[oai(path = "/open311-keys", method = "post")]
    async fn open311_key(
        &self,
        _auth: AdminAuth,
        body: Json<Open311KeyCreate>,
    ) -> ApiResult<Created<Open311Key>> {
        let name = text("name", &body.name, 100)?;
        let now = self.state.clock.now();
        let (id, api_key) =
            services::open311::create_key(&self.state.db, name.as_str(), &body.area_ids, now)
                .await?;
        Ok(Created::Created(Json(Open311Key {
            id,
            name: name.into_inner(),
            api_key,
            area_ids: body.0.area_ids,
        })))
    }

    /// The Open311 keys, newest first, without the keys themselves.
    #[oai(path = "/open311-keys", method = "get")]
    async fn open311_keys(&self, _auth: AdminAuth) -> ApiResult<Json<Vec<Open311KeyInfo>>> {
        let keys = services::open311::keys(&self.state.db).await?;
        Ok(Json(keys.into_iter().map(Open311KeyInfo::from).collect()))
    }

    /// Revokes an Open311 key: requests presenting it get 401 from now on.
    #[oai(path = "/open311-keys/:id", method = "delete")]
    async fn revoke_open311_key(&self, _auth: AdminAuth, id: Path<Uuid>) -> ApiResult<()> {
        services::open311::revoke_key(&self.state.db, id.0).await?;
        Ok(())
    }

    /// The notification outbox, newest first, with each message's channel and its answer;
    /// `status` filters, `ticket_id` gives one ticket's messages.
    #[oai(path = "/outbox", method = "get")]
    async fn outbox(
        &self,
        _auth: AdminAuth,
        status: Query<Option<OutboxStatus>>,
        ticket_id: Query<Option<Uuid>>,
        limit: Query<Option<u64>>,
    ) -> ApiResult<Json<Vec<OutboxMessage>>> {
        let rows = services::outbox::list(
            &self.state.db,
            status.0.map(OutboxStatus::as_str),
            ticket_id.0,
            super::page_limit(limit.0),
        )
        .await?;
        Ok(Json(rows.into_iter().map(OutboxMessage::from).collect()))
    }

    #[oai(path = "/categories", method = "post")]
    async fn create_category(
        &self,
        _auth: AdminAuth,
        body: Json<CategoryCreate>,
    ) -> ApiResult<Created<Category>> {
        let body = body.0;
        let (response_minutes, resolution_hours) =
            NewCategory::check_sla(body.response_minutes, body.resolution_hours)?;
        let name = text("name", &body.name, 50)?;
        let new = NewCategory {
            code: text("code", &body.code, 32)?,
            group: text_opt("group", body.group.as_deref(), 50)?.unwrap_or_else(|| name.clone()),
            name,
            handling_level: body.handling_level,
            response_minutes,
            resolution_hours,
            requires_resolution_photo: body.requires_resolution_photo.unwrap_or(false),
            sla_mode: body.sla_mode.unwrap_or(crate::domain::SlaMode::Calendar),
            description: text_opt("description", body.description.as_deref(), 500)?,
            attributes: body.attributes.unwrap_or_default(),
        };
        let created =
            services::categories::create(&self.state.db, new, self.state.clock.now()).await?;
        Ok(Created::Created(Json(Category::of(
            created,
            self.state.calendar.minutes_per_day(),
        ))))
    }

    /// Changes a category: name, group, handling level, SLA (`response_minutes` and
    /// `resolution_hours` together), SLA mode, active, display order, description. New
    /// deadlines apply to tickets submitted from now on.
    #[oai(path = "/categories/:code", method = "patch")]
    async fn patch_category(
        &self,
        _auth: AdminAuth,
        code: Path<String>,
        body: Json<CategoryPatch>,
    ) -> ApiResult<Json<Category>> {
        let b = body.0;
        let sla = match (b.response_minutes, b.resolution_hours) {
            (None, None) => None,
            (Some(r), Some(h)) => Some(NewCategory::check_sla(r, h)?),
            _ => {
                return Err(ServiceError::rejected(
                    crate::error::Code::InvalidField,
                    "resolution_hours",
                    crate::error::bi(
                        "response_minutes 与 resolution_hours 须一并给出",
                        "give response_minutes and resolution_hours together",
                    ),
                )
                .into());
            }
        };
        let changes = CategoryChanges {
            name: text_opt("name", b.name.as_deref(), 50)?,
            group: text_opt("group", b.group.as_deref(), 50)?,
            handling_level: b.handling_level,
            sla,
            sla_mode: b.sla_mode,
            active: b.active,
            display_order: b.display_order,
            description: match b.description.as_deref() {
                None => None,
                Some(d) => Some(text_opt("description", Some(d), 500)?),
            },
            requires_resolution_photo: b.requires_resolution_photo,
        };
        let updated =
            services::categories::update(&self.state.db, &code.0, changes, self.state.clock.now())
                .await?;
        Ok(Json(Category::of(
            updated,
            self.state.calendar.minutes_per_day(),
        )))
    }

    /// Every staff account by login, a page at a time: `q` finds name or login, `status`
    /// filters; pass `next_cursor` back as `cursor`.
    #[oai(path = "/staff", method = "get")]
    async fn list_staff(
        &self,
        _auth: AdminAuth,
        q: Query<Option<String>>,
        status: Query<Option<crate::domain::StaffStatus>>,
        cursor: Query<Option<String>>,
        limit: Query<Option<u64>>,
    ) -> ApiResult<Json<crate::schemas::places::StaffAccountPage>> {
        let q = text_opt("q", q.0.as_deref(), 64)?;
        let ctx = self.state.ctx();
        let dir = ctx.dir().await?;
        Ok(Json(
            services::people::accounts(
                &ctx,
                &dir,
                q.as_ref().map(|t| t.as_str()),
                status.0,
                cursor.0.as_deref(),
                super::page_limit(limit.0),
            )
            .await?,
        ))
    }

    /// Sets a new password for a staff member (who forgot theirs); tell them to change it with
    /// `POST /staff/me/password` after signing in.
    #[oai(path = "/staff/:id/password", method = "post")]
    async fn reset_password(
        &self,
        _auth: AdminAuth,
        id: Path<Uuid>,
        body: Json<crate::schemas::places::PasswordReset>,
    ) -> ApiResult<()> {
        let new = Password::parse_field("new", &body.new)?;
        let ctx = self.state.ctx();
        let staff = services::staff::get(ctx.db, id.0).await?;
        services::staff::set_password(
            &ctx,
            staff,
            new,
            services::staff::SetBy::Administrator,
            ctx.now(),
        )
        .await?;
        Ok(())
    }
}
