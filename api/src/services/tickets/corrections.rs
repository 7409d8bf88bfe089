//! Recategorising and moving the pin (issue 25): staff who handle a ticket correct its category
//! or its point, with a reason. The ticket is routed again where the new category's level or
//! the new point asks (staying with its holder when that is where it would go anyway), its
//! deadlines stay as promised (more time is an extension, approved above), the resident is told,
//! and the
//! rates read the final category (they group by the ticket's category as it now is).
use sea_orm::{IntoActiveModel, Set};

use super::{Access, Changing, Decided, apply_destination, change};
use crate::{
    domain::{
        access::StaffScope,
        inputs::{GeoPoint, Text},
        lifecycle::Action,
    },
    error::Code,
    services::{Caller, Ctx, ServiceError, ServiceResult, notify, routing},
};

/// What staff correct; at least one of the category and the location.
pub struct Correction {
    pub category_code: Option<String>,
    pub location: Option<GeoPoint>,
    pub address_text: Option<Text>,
    pub reason: Text,
}

pub async fn correct(
    ctx: &Ctx<'_>,
    scope: &StaffScope,
    reference: &str,
    fix: Correction,
) -> ServiceResult<super::TicketView> {
    let caller = Caller::Staff(scope.clone());
    change(
        ctx,
        &caller,
        reference,
        Access::Handles,
        async |c: &Changing<'_>| {
            let t = c.ticket;
            let category = match fix.category_code.as_deref() {
                Some(code) => c
                    .dir
                    .category_by_code(code)
                    .filter(|k| k.active)
                    .ok_or_else(|| {
                        ServiceError::rejected(
                            Code::UnknownCategory,
                            "category",
                            crate::error::bi(
                                format_args!("没有启用的类别「{code}」"),
                                "no such active category",
                            ),
                        )
                    })?,
                None => c.category,
            };
            let recategorised = category.id != t.category_id;
            if !recategorised && fix.location.is_none() {
                return Err(ServiceError::rejected(
                    Code::InvalidField,
                    "category",
                    crate::error::bi("请给出新的类别或位置", "give a new category or location"),
                ));
            }
            let max = c.ctx.settings.routing.nearest_grid_max_meters;
            let (grid, point) = match fix.location {
                Some(p) => {
                    routing::served(c.dir, p, max)?;
                    (routing::find_grid(c.dir, None, Some(p), None), Some(p))
                }
                None => (t.grid_id, stored_point(t)),
            };
            let dest = routing::route(c.txn, c.dir, category, grid, point, max).await?;
            let mut am = t.clone().into_active_model();
            let stays = dest.grid_id == t.grid_id && dest.handling_area_id == t.handling_area_id;
            let rerouted = (!stays).then(|| {
                let found = dest.assignee_id.is_some();
                apply_destination(&mut am, dest);
                found
            });
            let mut words = Vec::new();
            let mut told = Vec::new();
            if recategorised {
                words.push(format!("类别：{} → {}", c.category.name, category.name));
                told.push(format!("工单类别调整为「{}」", category.name));
                // The deadlines stay: they are what the resident was promised (and any extension
                // approved since); more time is asked for, not taken by a correction.
                am.category_id = Set(category.id);
            }
            if let Some(p) = fix.location {
                words.push("位置已更正".to_owned());
                told.push("工单位置已更正".to_owned());
                am.lat = Set(Some(p.lat));
                am.lng = Set(Some(p.lng));
                am.coord_system = Set(Some(p.given_in.as_str().to_owned()));
                am.building_id = Set(None);
                if let Some(a) = &fix.address_text {
                    am.address_text = Set(Some(a.as_str().to_owned()));
                }
            }
            let action = Action::Correct {
                category: recategorised,
                rerouted,
            };
            let note = format!("{}；原因：{}", words.join("；"), fix.reason.as_str());
            let mut decided = Decided::transition(c, am, action, Some(note))?;
            decided.event.public_note = Some(told.join("，"));
            if let Some(r) = t.resident_id {
                notify::resident(c.txn, r, notify::Event::Corrected, t, c.at).await?;
            }
            Ok(decided)
        },
    )
    .await
}

/// The ticket's point as stored (WGS-84).
fn stored_point(t: &entity::ticket::Model) -> Option<GeoPoint> {
    let (lat, lng) = t.lat.zip(t.lng)?;
    Some(GeoPoint {
        lat,
        lng,
        given_in: crate::domain::inputs::CoordSystem::Wgs84,
    })
}
