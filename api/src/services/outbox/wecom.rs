//! A staff message as a 企业微信 application message: a text card with the inbox's wording,
//! linking to the console's page of the ticket.
use serde_json::Value;

use crate::{
    clients::wecom::TextCard,
    services::{Ctx, ServiceResult, inbox},
};
use entity::notification_outbox as outbox;

/// The member's 企业微信 userid, when 企业微信 is configured and they have one.
pub(super) async fn userid_of(ctx: &Ctx<'_>, row: &outbox::Model) -> ServiceResult<Option<String>> {
    if row.recipient_kind != "staff" || !ctx.wecom.enabled() {
        return Ok(None);
    }
    use sea_orm::EntityTrait;
    Ok(entity::staff::Entity::find_by_id(row.recipient_id)
        .one(ctx.db)
        .await?
        .and_then(|s| s.wecom_userid))
}

/// Sends the card; 企业微信's msgid, or its error.
pub(super) async fn send(
    ctx: &Ctx<'_>,
    row: &outbox::Model,
    userid: &str,
) -> Result<Option<String>, crate::clients::wechat::WechatError> {
    let payload: Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let field = |k: &str| payload[k].as_str().unwrap_or_default().to_owned();
    let (title, body) = inbox::wording(&row.event, true, &field("number"), &field("title"));
    let url = row
        .ticket_id
        .map(|id| ctx.wecom.ticket_url(id))
        .unwrap_or_default();
    ctx.wecom
        .send_card(&TextCard {
            userid,
            title: &title,
            description: &body,
            url: &url,
        })
        .await
}
