//! Intake on behalf of a resident (代登记, issue 25): staff enter a hotline call or a counter
//! visit (`POST /work/tickets`) as a door-knock visit records suggestions; each such ticket has a
//! short claim code the caller is given, and typing it into the mini-program
//! (`POST /tickets/claim`) makes the ticket theirs to follow and rate. A code works once;
//! a resident gets `CLAIMS_PER_HOUR` tries an hour, so codes cannot be guessed.
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use uuid::Uuid;

use super::{EventDraft, TicketView};
use crate::{
    domain::ActorKind,
    error::Code,
    services::{Caller, Ctx, ServiceError, ServiceResult, write_txn},
};
use entity::ticket;

/// Letters and digits nobody mistakes for another on the phone (no 0/O, 1/I/L, 2/Z, 5/S, 8/B).
const ALPHABET: &[u8] = b"34679ACDEFGHJKMNPQRTUVWXY";
const LENGTH: usize = 8;
const CLAIMS_PER_HOUR: u64 = 10;

/// A fresh claim code: 8 characters of 25, about 1.5 × 10¹¹ codes.
pub fn claim_code() -> String {
    let random = Uuid::new_v4();
    random
        .as_bytes()
        .iter()
        .take(LENGTH)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// A ticket staff entered for a caller, as its maker reads it: with the claim code to read
/// out and the caller's name, wherever it was routed.
pub struct Entered {
    pub ticket_view: TicketView,
    pub claim_code: Option<String>,
    pub caller_name: Option<String>,
}

/// Staff enter a ticket for a caller (hotline, counter): routed as any other.
pub async fn enter(
    ctx: &Ctx<'_>,
    scope: &crate::domain::access::StaffScope,
    new: super::NewTicket,
) -> ServiceResult<Entered> {
    let made = super::create(ctx, super::Reporter::Staff(scope.staff_id), new, None).await?;
    let (claim_code, caller_name) = (made.claim_code.clone(), made.caller_name.clone());
    let dir = ctx.dir().await?;
    let caller = Caller::Staff(scope.clone());
    let ticket_view = super::view::view(ctx, &dir, &caller, made, None, true).await?;
    Ok(Entered {
        ticket_view,
        claim_code,
        caller_name,
    })
}

/// A code as a caller may type it: spaces and dashes dropped, lower case raised.
fn normalised(code: &str) -> Option<String> {
    let code: String = code
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// The resident claims the ticket `code` names: it becomes theirs (they follow and rate it),
/// the code stops working. An unknown, used or malformed code is `404 not_found` alike.
pub async fn claim(ctx: &Ctx<'_>, resident: Uuid, code: &str) -> ServiceResult<TicketView> {
    let key = format!("claim:{resident}");
    let (tries, left) = ctx
        .cache
        .hit(&key, std::time::Duration::from_secs(3600))
        .await
        .map_err(|e| ServiceError::Internal(format!("cache: {e}")))?;
    if tries > CLAIMS_PER_HOUR {
        return Err(ServiceError::Throttled {
            code: Code::RateLimited,
            retry_after: left.as_secs().max(1),
        });
    }
    let not_found = || ServiceError::Rejected {
        code: Code::NotFound,
        field: Some("code".to_owned()),
        detail: Some(crate::error::bi(
            "认领码无效或已被使用",
            "no such claim code",
        )),
    };
    let code = normalised(code).ok_or_else(not_found)?;
    let txn = write_txn(ctx.db).await?;
    let t = ticket::Entity::find()
        .filter(ticket::Column::ClaimCode.eq(code))
        .one(&txn)
        .await?
        .filter(|t| t.resident_id.is_none())
        .ok_or_else(not_found)?;
    let mut am = t.clone().into_active_model();
    am.resident_id = Set(Some(resident));
    am.claim_code = Set(None);
    let event = EventDraft::named(
        "claim",
        t.status,
        t.status,
        Some("居民已在小程序认领此工单".to_owned()),
    );
    let actor = (ActorKind::Resident, Some(resident));
    let saved = super::save(&txn, &t, am, actor, vec![event], ctx.now()).await?;
    txn.commit().await?;
    let dir = ctx.dir().await?;
    super::view::view(ctx, &dir, &Caller::Resident(resident), saved, None, true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_over_the_phone_and_typed_loosely() {
        let code = claim_code();
        assert_eq!(code.len(), LENGTH);
        assert_eq!(normalised(&code), Some(code.clone()));
        let typed = format!("{}-{} ", &code[..4], &code[4..]).to_lowercase();
        assert_eq!(normalised(&typed), Some(code));
        assert_eq!(normalised("ABCD0000"), None, "0 is not in the alphabet");
        assert_eq!(normalised("ACD"), None);
        assert_ne!(claim_code(), claim_code());
    }
}
