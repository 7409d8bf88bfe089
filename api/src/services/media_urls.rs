//! Photo URLs a mini-program's `<image src>` can load without an `Authorization` header: each
//! is signed for one viewer and one photo until an expiry (`media.url_ttl_seconds`), an HMAC
//! (HS256, with a key derived from the token secret, so a media signature is never a bearer
//! token) over the photo, its variant, the viewer and the expiry. A tampered or expired URL is
//! refused, and the viewer must still be allowed to see the photo when it is fetched.
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Caller, auth::PrincipalKind};
use crate::config::Settings;

/// Which bytes a URL serves: the photo, or its thumbnail (longest side 320 px).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Variant {
    Full,
    Thumb,
}

#[derive(Serialize, Deserialize)]
struct Signed {
    /// The attachment.
    a: Uuid,
    v: Variant,
    /// The viewer: none for anyone (a photo of the public board).
    k: Option<PrincipalKind>,
    u: Option<Uuid>,
    exp: i64,
}

/// Who a URL was signed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    Resident(Uuid),
    Staff(Uuid),
    /// Anyone: a photo of the fix of a ticket on the public board.
    Public,
}

impl Viewer {
    pub fn of(caller: &Caller) -> Viewer {
        match caller {
            Caller::Resident(id) => Viewer::Resident(*id),
            Caller::Staff(scope) => Viewer::Staff(scope.staff_id),
        }
    }

    fn parts(self) -> (Option<PrincipalKind>, Option<Uuid>) {
        match self {
            Viewer::Resident(id) => (Some(PrincipalKind::Resident), Some(id)),
            Viewer::Staff(id) => (Some(PrincipalKind::Staff), Some(id)),
            Viewer::Public => (None, None),
        }
    }
}

pub struct MediaUrls {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl_seconds: i64,
}

impl MediaUrls {
    pub fn new(settings: &Settings) -> Self {
        let key = Sha256::new()
            .chain_update(b"qiaomen signed media urls\0")
            .chain_update(settings.jwt.secret.expose().as_bytes())
            .finalize();
        MediaUrls {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            ttl_seconds: settings.media.url_ttl_seconds.max(1),
        }
    }

    /// The URL of `variant` of photo `id` for `viewer`, valid from `now` for the TTL.
    pub fn url(&self, id: Uuid, variant: Variant, viewer: &Viewer, now: DateTime<Utc>) -> String {
        let (k, u) = viewer.parts();
        let claims = Signed {
            a: id,
            v: variant,
            k,
            u,
            exp: now.timestamp() + self.ttl_seconds,
        };
        let sig = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_default();
        let variant = match variant {
            Variant::Full => "full",
            Variant::Thumb => "thumb",
        };
        format!("/api/v1/media/{id}?variant={variant}&sig={sig}")
    }

    /// The viewer a signature was made for, if it is genuine, for this photo and variant, and
    /// not expired at `now` (the deployment's clock, not the library's).
    pub fn check(
        &self,
        id: Uuid,
        variant: Variant,
        sig: &str,
        now: DateTime<Utc>,
    ) -> Option<Viewer> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let signed = jsonwebtoken::decode::<Signed>(sig, &self.decoding, &validation)
            .ok()?
            .claims;
        if signed.a != id || signed.v != variant || now.timestamp() > signed.exp {
            return None;
        }
        match (signed.k, signed.u) {
            (Some(PrincipalKind::Resident), Some(u)) => Some(Viewer::Resident(u)),
            (Some(PrincipalKind::Staff), Some(u)) => Some(Viewer::Staff(u)),
            (None, None) => Some(Viewer::Public),
            _ => None,
        }
    }
}
