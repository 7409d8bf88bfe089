//! Photos: upload (residents and staff), then reference their ids from a ticket, a comment or a
//! resolution; fetch them where the ticket may be seen.
use poem_openapi::{
    ApiResponse, Multipart, OpenApi,
    param::Path,
    payload::{Binary, Json},
    types::multipart::Upload,
};
use uuid::Uuid;

use super::{ApiResult, Created, Tag, auth::CallerAuth};
use crate::{
    error::{ApiError, Code},
    schemas::tickets::AttachmentRef,
    services::{self, Caller, attachments::Owner},
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
        Ok(Created::Created(Json(created.into())))
    }

    /// A photo's bytes: for its uploader, and once attached for whoever may see the ticket
    /// (a photo of an internal comment for staff only).
    #[oai(path = "/attachments/:id", method = "get")]
    async fn fetch(&self, auth: CallerAuth, id: Path<Uuid>) -> ApiResult<Photo> {
        let ctx = self.state.ctx();
        let caller = auth.caller(&ctx).await?;
        let photo = services::attachments::get(&self.state.db, id.0).await?;
        let owner = Owner::of(&caller);
        let own = photo.owner_kind == owner.kind && photo.owner_id == owner.id;
        if !own {
            let ticket = photo
                .ticket_id
                .ok_or_else(|| ApiError::new(Code::NotFound))?;
            let resident = matches!(caller, Caller::Resident(_));
            if resident && !services::attachments::shown_to_residents(&photo) {
                return Err(ApiError::new(Code::NotFound));
            }
            services::tickets::get(&ctx, &caller, &ticket.to_string()).await?;
        }
        let bytes = self
            .state
            .media
            .get(&photo.storage_key)
            .await
            .map_err(|e| {
                ApiError::from(services::ServiceError::Internal(format!(
                    "media store: {e}"
                )))
            })?;
        let extension = photo.storage_key.rsplit('.').next().unwrap_or("bin");
        Ok(Photo::Ok(
            Binary(bytes),
            photo.content_type,
            "private, max-age=86400".into(),
            format!("inline; filename=\"{}.{extension}\"", photo.id),
        ))
    }
}
