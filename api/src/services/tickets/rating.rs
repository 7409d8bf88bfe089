//! A resident rates a resolved ticket: satisfied closes it; unsatisfied reopens it to the same
//! assignee, or, past the reopen limit, sends it to the community and flags a return visit.
use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
use uuid::Uuid;

use super::{Access, Changing, Decided, TicketView, apply_destination, change};
use crate::{
    domain::{
        AreaKind, DissatisfactionReason, RatingLevel,
        inputs::Text,
        lifecycle::{Action, next},
    },
    error::Code,
    services::{
        Caller, Ctx, ServiceError, ServiceResult,
        routing::{self, Destination},
    },
};
use entity::rating;

pub struct NewRating {
    pub level: RatingLevel,
    pub score: Option<i16>,
    pub comment: Option<Text>,
    /// Why not (fully) satisfied: only with 不满意 or 基本满意.
    pub reasons: Vec<DissatisfactionReason>,
}

/// The reasons as stored (comma-separated, each once, in the list's order), or why not.
fn stored_reasons(
    level: RatingLevel,
    reasons: &[DissatisfactionReason],
) -> ServiceResult<Option<String>> {
    if reasons.is_empty() {
        return Ok(None);
    }
    if level == RatingLevel::Satisfied {
        return Err(ServiceError::rejected(
            Code::InvalidField,
            "reasons",
            crate::error::bi(
                "只有「不满意」或「基本满意」时才能选择原因",
                "reasons go with `unsatisfied` or `basically_satisfied` only",
            ),
        ));
    }
    let codes: Vec<&str> = DissatisfactionReason::ALL
        .iter()
        .filter(|r| reasons.contains(r))
        .map(|r| r.as_str())
        .collect();
    Ok(Some(codes.join(",")))
}

/// The structured reasons a return visit heard, stored as a rating's are: with an outcome
/// short of satisfied only.
pub(super) fn reasons_for(
    outcome: crate::domain::ReturnVisitOutcome,
    reasons: &[DissatisfactionReason],
) -> ServiceResult<Option<String>> {
    use crate::domain::ReturnVisitOutcome as O;
    match outcome {
        O::Satisfied => stored_reasons(RatingLevel::Satisfied, reasons),
        O::BasicallySatisfied => stored_reasons(RatingLevel::BasicallySatisfied, reasons),
        O::Unsatisfied | O::Unreachable => stored_reasons(RatingLevel::Unsatisfied, reasons),
    }
}

/// Rates a resolved ticket (one rating per resolution round).
pub async fn rate(
    ctx: &Ctx<'_>,
    resident_id: Uuid,
    reference: &str,
    new: NewRating,
) -> ServiceResult<TicketView> {
    let caller = Caller::Resident(resident_id);
    let reasons = stored_reasons(new.level, &new.reasons)?;
    change(
        ctx,
        &caller,
        reference,
        Access::Sees,
        async |c: &Changing<'_>| {
            let t = c.ticket;
            let mut am = t.clone().into_active_model();
            let mut action = Action::Rate(new.level);
            next(c.from, action)?;
            let mut note = new.comment.as_ref().map(|c| c.as_str().to_owned());
            match new.level {
                RatingLevel::Satisfied | RatingLevel::BasicallySatisfied => {
                    am.closed_at = Set(Some(c.at));
                    let rate = c.ctx.settings.return_visits.sample_rate;
                    if t.kind == crate::domain::TicketKind::Complaint
                        && !t.return_visit_required
                        && crate::domain::sampling::sampled(t.id, rate)
                    {
                        am.return_visit_required = Set(true);
                        am.return_visit_cause = Set(Some("sample".to_owned()));
                    }
                }
                RatingLevel::Unsatisfied
                    if t.reopen_count < c.ctx.settings.lifecycle.max_reopen =>
                {
                    am.reopen_count = Set(t.reopen_count + 1);
                    am.resolved_at = Set(None);
                }
                RatingLevel::Unsatisfied => {
                    let found = to_the_community(c, &mut am).await?;
                    action = Action::RateEscalate { found };
                    note = Some(format!(
                        "多次不满意，升级社区并安排回访{}",
                        note.map(|n| format!("：{n}")).unwrap_or_default()
                    ));
                }
            }
            rating::ActiveModel {
                id: Set(Uuid::new_v4()),
                ticket_id: Set(t.id),
                round: Set(t.reopen_count),
                resident_id: Set(resident_id),
                level: Set(new.level),
                score: Set(new.score),
                comment: Set(new.comment.map(Text::into_inner)),
                reasons: Set(reasons),
                created_at: Set(c.at),
            }
            .insert(c.txn)
            .await?;
            let mut decided = Decided::transition(c, am, action, note)?;
            decided.rated = true;
            Ok(decided)
        },
    )
    .await
}

/// Past the reopen limit: the ticket goes to its community (or the level above where it is
/// handled) and needs a return visit. Whether someone there took it.
async fn to_the_community(
    c: &Changing<'_>,
    am: &mut entity::ticket::ActiveModel,
) -> ServiceResult<bool> {
    let t = c.ticket;
    let community = t
        .grid_id
        .and_then(|g| c.dir.tree.enclosing(g, AreaKind::Community))
        .map(|a| a.id);
    let target = community.or_else(|| routing::level_above(c.dir, t.handling_area_id, t.grid_id));
    let person = match target {
        Some(area) => routing::person_in(c.txn, c.dir, area, c.category).await?,
        None => None,
    };
    apply_destination(
        am,
        Destination {
            grid_id: t.grid_id,
            handling_area_id: target.or(t.handling_area_id),
            assignee_id: person,
        },
    );
    am.return_visit_required = Set(true);
    am.return_visit_cause = Set(Some("dissatisfied".to_owned()));
    am.return_visit_at = Set(None);
    am.resolved_at = Set(None);
    Ok(person.is_some())
}
