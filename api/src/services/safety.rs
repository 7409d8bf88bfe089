//! Content safety (SPEC §8): residents' text goes through WeChat's `msg_sec_check` before it is
//! stored. `risky` is refused; `review` is stored and flagged for staff moderation; when the check
//! cannot run (WeChat down, 61010: the user was not active in the last 2 hours) the text is stored
//! and flagged `unchecked`, so it is neither passed nor refused silently.
use super::{ServiceError, ServiceResult};
use crate::{
    clients::wechat::{WechatClient, WechatError},
    error::Code,
};

/// A flag for staff moderation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moderation {
    /// `review` or `unchecked`.
    pub status: &'static str,
    pub label: Option<i32>,
}

/// `msg_sec_check` scenes.
pub const SCENE_COMMENT: u8 = 2;
pub const SCENE_FORUM: u8 = 3;

/// Checks a resident's text; `Ok(None)` means it passed (or checking is off).
pub async fn screen(
    wechat: &WechatClient,
    enabled: bool,
    text: &str,
    openid: &str,
    scene: u8,
) -> ServiceResult<Option<Moderation>> {
    if !enabled || text.trim().is_empty() {
        return Ok(None);
    }
    // WeChat takes at most 2500 characters.
    let content: String = text.chars().take(2500).collect();
    match wechat.check_text(&content, openid, scene).await {
        Ok(v) if v.suggest == "risky" => Err(ServiceError::rejected(
            Code::ContentRejected,
            "description",
            crate::error::bi(
                format_args!("微信内容安全检测标签 {}", v.label),
                format_args!("WeChat content safety label {}", v.label),
            ),
        )),
        Ok(v) if v.suggest == "pass" => Ok(None),
        Ok(v) => Ok(Some(Moderation {
            status: "review",
            label: i32::try_from(v.label).ok(),
        })),
        Err(e) => {
            match &e {
                WechatError::Api { errcode: 61010, .. } => {
                    tracing::info!("content check skipped: user not active in WeChat")
                }
                other => tracing::warn!(error = %other, "content check failed; stored unchecked"),
            }
            Ok(Some(Moderation {
                status: "unchecked",
                label: None,
            }))
        }
    }
}
