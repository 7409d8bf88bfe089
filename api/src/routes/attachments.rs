//! Photos: upload (residents and staff), then reference their ids from a ticket, a comment or a
//! resolution; fetch them where the ticket may be seen.
use poem_openapi::{
    ApiResponse, Multipart, OpenApi,
    param::{Path, Query},
    payload::{Binary, Json},
    types::multipart::Upload,
};
use uuid::Uuid;

use super::{ApiResult, Created, Tag, auth::CallerAuth};
use crate::{
    error::{ApiError, Code},
    schemas::tickets::AttachmentRef,
    services::{
        self, Caller,
        attachments::Owner,
        media_urls::{MediaUrls, Variant, Viewer},
    },
    state::SharedState,
};

#[derive(Multipart)]
pub struct UploadForm {
    /// A JPEG, PNG, WebP or HEIC photo (judged by its bytes), at most `media.max_bytes`.
    pub file: Upload,
}

#[derive(ApiResponse)]
pub enum Photo {
    #[oai(status = 200)]
    Ok(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Type")] String,
        #[oai(header = "Cache-Control")] String,
        /// `inline; filename="<id>.<ext>"`: shown, never run as a page (and, as every response,
        /// with `X-Content-Type-Options: nosniff`).
        #[oai(header = "Content-Disposition")]
        String,
    ),
}

pub struct AttachmentApi {
    pub state: SharedState,
}

#[OpenApi(tag = "Tag::Tickets")]
impl AttachmentApi {
    /// Uploads a photo (multipart field `file`). Location, camera and other metadata are removed
    /// before it is stored. Anything but JPEG, PNG, WebP or HEIC is `415 not_an_image`.
    #[oai(path = "/attachments", method = "post")]
    async fn upload(
        &self,
        auth: CallerAuth,
        form: UploadForm,
    ) -> ApiResult<Created<AttachmentRef>> {
        let ctx = self.state.ctx();
        let caller = auth.caller(&ctx).await?;
        let bytes = form
            .file
            .into_vec()
            .await
            .map_err(|e| ApiError::new(Code::InvalidBody).detail(e.to_string()))?;
        let created = services::attachments::upload(
            &self.state.db,
            self.state.media.as_ref(),
            self.state.settings.media.max_bytes,
            Owner::of(&caller),
            bytes,
            ctx.now(),
        )
        .await?;
        // A resident's photo goes to WeChat's image check; its verdict comes by push.
        let created = match services::attachments::send_for_check(&ctx, &created).await? {
            Some(state) => entity::attachment::Model {
                media_check: Some(state),
                ..created
            },
            None => created,
        };
        let urls = MediaUrls::new(ctx.settings);
        let viewer = Viewer::of(&caller);
        let signed = (
            urls.url(created.id, Variant::Full, &viewer, ctx.now()),
            urls.url(created.id, Variant::Thumb, &viewer, ctx.now()),
        );
        Ok(Created::Created(Json(AttachmentRef::of(created, signed))))
    }

    /// A photo's bytes with the bearer token: for its uploader, and once attached for whoever
    /// may see the ticket (a photo of an internal comment for staff only).
    #[oai(path = "/attachments/:id", method = "get")]
    async fn fetch(&self, auth: CallerAuth, id: Path<Uuid>) -> ApiResult<Photo> {
        let ctx = self.state.ctx();
        let caller = auth.caller(&ctx).await?;
        self.serve(&ctx, &caller, id.0, Variant::Full).await
    }

    /// A photo (or its thumbnail, `variant=thumb`) by the signed URL of a response's `url` or
    /// `thumbnail_url`, for `<image src>`: no header. A tampered or expired signature is `403`;
    /// the viewer it was signed for must still be allowed to see the photo.
    #[oai(path = "/media/:id", method = "get")]
    async fn media(
        &self,
        id: Path<Uuid>,
        variant: Query<Variant>,
        sig: Query<String>,
    ) -> ApiResult<Photo> {
        let ctx = self.state.ctx();
        let urls = MediaUrls::new(ctx.settings);
        let viewer = urls
            .check(id.0, variant.0, &sig.0, ctx.now())
            .ok_or_else(|| {
                ApiError::new(Code::Forbidden).detail(crate::error::bi(
                    "链接无效或已过期",
                    "the link is not valid or has expired",
                ))
            })?;
        let caller = match viewer {
            Viewer::Resident(id) => Caller::Resident(id),
            Viewer::Staff(id) => Caller::Staff(
                ctx.dir()
                    .await?
                    .scope(id)
                    .map_err(|_| ApiError::new(Code::Forbidden))?,
            ),
            Viewer::Public => return self.serve_public(&ctx, id.0, variant.0).await,
        };
        self.serve(&ctx, &caller, id.0, variant.0).await
    }
}

impl AttachmentApi {
    /// A photo of the fix of a ticket on the public board, for anyone.
    async fn serve_public(
        &self,
        ctx: &services::Ctx<'_>,
        id: Uuid,
        variant: Variant,
    ) -> ApiResult<Photo> {
        let photo = services::attachments::get(ctx.db, id).await?;
        if !services::board::photo_is_public(ctx.db, &photo).await? {
            return Err(ApiError::new(Code::NotFound));
        }
        self.send(ctx, photo, variant).await
    }

    async fn serve(
        &self,
        ctx: &services::Ctx<'_>,
        caller: &Caller,
        id: Uuid,
        variant: Variant,
    ) -> ApiResult<Photo> {
        let photo = services::attachments::get(ctx.db, id).await?;
        services::attachments::check_visible(ctx, caller, &photo).await?;
        self.send(ctx, photo, variant).await
    }

    async fn send(
        &self,
        ctx: &services::Ctx<'_>,
        photo: entity::attachment::Model,
        variant: Variant,
    ) -> ApiResult<Photo> {
        let (bytes, content_type) =
            services::attachments::bytes_of(ctx.db, self.state.media.as_ref(), &photo, variant)
                .await?;
        let extension = if content_type == photo.content_type {
            photo.storage_key.rsplit('.').next().unwrap_or("bin")
        } else {
            "jpg"
        };
        Ok(Photo::Ok(
            Binary(bytes),
            content_type,
            "private, max-age=3600".into(),
            format!("inline; filename=\"{}.{extension}\"", photo.id),
        ))
    }
}
