//! The public side: the board of public suggestions (no login; a resident's token adds
//! `supported_by_me`) and the categories.
use poem::Request;
use poem_openapi::{OpenApi, param::Path, param::Query, payload::Json};
use uuid::Uuid;

use super::{ApiResult, Tag};
use crate::{
    error::Code,
    schemas::{
        admin::Category,
        places::CoordSystem,
        public::{PublicPage, PublicTicket, PublicTicketDetail},
        tickets::AttachmentRef,
    },
    services::{
        self, ServiceError,
        auth::PrincipalKind,
        board::BoardQuery,
        media_urls::{MediaUrls, Variant, Viewer},
    },
    state::SharedState,
};

#[derive(poem_openapi::Object)]
pub struct PrivacyNoticeBody {
    /// Agree to this version with `POST /me/privacy {version}`.
    pub version: String,
    pub title: String,
    /// The notice in Chinese, plain text with line breaks.
    pub text: String,
}

pub struct PublicApi {
    pub state: SharedState,
}

impl PublicApi {
    /// The resident behind a bearer token, if the request carries a valid one of an open account.
    async fn resident(&self, req: &Request) -> Option<Uuid> {
        let token = req
            .headers()
            .get(poem::http::header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?;
        let claims = self.state.tokens.verify(token)?;
        if claims.kind != PrincipalKind::Resident {
            return None;
        }
        let open = services::privacy::account_open(&self.state.db, claims.sub, claims.ver).await;
        open.ok()?.then_some(claims.sub)
    }
}

#[OpenApi(tag = "Tag::Public")]
impl PublicApi {
    /// Public suggestions, anonymised and redacted, with their "me too" counts: under
    /// `area_id` (a community, say; the whole deployment without it), `sort=newest` (default)
    /// or `support` (most supported first), a page at a time (pass `next_cursor` back as
    /// `cursor`). Withdrawn and rejected ones are left out.
    #[oai(path = "/public/tickets", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn board(
        &self,
        area_id: Query<Option<Uuid>>,
        kind: Query<Option<crate::domain::TicketKind>>,
        status: Query<Option<crate::domain::lifecycle::Status>>,
        sort: Query<Option<String>>,
        cursor: Query<Option<String>>,
        limit: Query<Option<u64>>,
    ) -> ApiResult<Json<PublicPage>> {
        let by_support = match sort.0.as_deref() {
            None | Some("newest") | Some("new") => false,
            Some("support") => true,
            Some(_) => {
                return Err(ServiceError::rejected(
                    Code::InvalidField,
                    "sort",
                    crate::error::bi("须为 newest 或 support", "newest or support"),
                )
                .into());
            }
        };
        let q = BoardQuery {
            area_id: area_id.0,
            kind: kind.0,
            status: status.0,
            by_support,
            cursor: cursor.0,
            limit: super::page_limit(limit.0),
        };
        let page = services::board::board(&self.state.ctx(), q).await?;
        Ok(Json(PublicPage {
            items: page.items.into_iter().map(PublicTicket::from).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// One public suggestion (by id or number): redacted text, its place rounded to about
    /// 100 m, the photos of its fix, its support and, with a resident's token,
    /// `supported_by_me`. Anything not on the board is `404`.
    #[oai(path = "/public/tickets/:id", method = "get")]
    async fn detail(
        &self,
        req: &Request,
        id: Path<String>,
        coord_system: Query<Option<CoordSystem>>,
    ) -> ApiResult<Json<PublicTicketDetail>> {
        let ctx = self.state.ctx();
        let d = services::board::detail(&ctx, &id.0, self.resident(req).await).await?;
        let urls = MediaUrls::new(ctx.settings);
        let coords = CoordSystem::or_default(coord_system.0);
        Ok(Json(PublicTicketDetail {
            location: d.location.map(|(lat, lng)| coords.point(lat, lng)),
            resolution_photos: d
                .resolution_photos
                .into_iter()
                .map(|a| {
                    let url = |v| urls.url(a.id, v, &Viewer::Public, ctx.now());
                    let signed = (url(Variant::Full), url(Variant::Thumb));
                    AttachmentRef::of(a, signed)
                })
                .collect(),
            supported_by_me: d.supported_by_me,
            ticket: d.ticket.into(),
        }))
    }

    /// The privacy notice residents agree to before they submit (`POST /me/privacy`).
    #[oai(path = "/privacy/notice", method = "get")]
    async fn privacy_notice(&self) -> Json<PrivacyNoticeBody> {
        let n = &self.state.notice;
        Json(PrivacyNoticeBody {
            version: n.version.clone(),
            title: n.title.clone(),
            text: n.text.clone(),
        })
    }

    /// Active categories in display order, for the mini-program's picker, each with its
    /// promise to the resident (`sla_text`).
    #[oai(path = "/categories", method = "get")]
    async fn categories(&self) -> ApiResult<Json<Vec<Category>>> {
        let rows = services::categories::list_active(&self.state.db).await?;
        let day = self.state.calendar.minutes_per_day();
        Ok(Json(
            rows.into_iter().map(|c| Category::of(c, day)).collect(),
        ))
    }
}
