//! A message as a WeChat subscription message: the template's fields filled from the
//! message's payload and cut to WeChat's limits.
use chrono::DateTime;
use serde_json::{Value, json};

use crate::config::NotificationSettings;
use entity::notification_outbox as outbox;

/// A value cut to what a template field of this kind accepts.
pub fn fit_value(key: &str, value: &str) -> String {
    let cut = |n: usize| value.chars().take(n).collect::<String>();
    if key.starts_with("thing") {
        cut(20)
    } else if key.starts_with("phrase") {
        cut(5)
    } else if key.starts_with("character_string")
        || key.starts_with("number")
        || key.starts_with("letter")
    {
        cut(32)
    } else if key.starts_with("name") {
        cut(10)
    } else if key.starts_with("time") || key.starts_with("date") {
        DateTime::parse_from_rfc3339(value)
            .map(|t| {
                t.with_timezone(&crate::domain::calendar::beijing())
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_else(|_| cut(16))
    } else {
        cut(20)
    }
}

fn status_word(event: &str) -> &'static str {
    match event {
        "accepted" => "已受理",
        "resolved" => "已办结",
        "rejected" => "不予受理",
        "escalated" => "已上报",
        "auto_closed" => "已关闭",
        "assigned" => "待处理",
        "reopened" => "重新办理",
        "overdue" => "已超时",
        "praised" => "收到表扬",
        "returned" => "退单待派",
        "return_flagged" => "多次退单",
        "supervised" => "督办",
        "supervision_missed" => "督办超期",
        "extension_requested" => "待审批",
        "extension_approved" => "申请已批准",
        "extension_refused" => "申请未批准",
        "extended" => "办理期限延长",
        "suspended" => "暂缓办理",
        "resumed" => "恢复办理",
        "corrected" => "信息已更正",
        "topic_linked" => "纳入专题",
        "topic_update" => "专题进展",
        _ => "有更新",
    }
}

/// The `subscribe/send` body for a message, or why it cannot be sent.
pub(super) fn message(
    settings: &NotificationSettings,
    row: &outbox::Model,
    openid: &str,
) -> Result<(String, Value), String> {
    let template = settings
        .templates
        .get(&row.event)
        .ok_or_else(|| format!("no template for `{}`", row.event))?;
    let payload: Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let mut data = serde_json::Map::new();
    for (name, key) in &template.fields {
        let value = match name.as_str() {
            "status" => status_word(&row.event).to_owned(),
            "time" => payload["at"].as_str().unwrap_or_default().to_owned(),
            other => payload[other].as_str().unwrap_or_default().to_owned(),
        };
        data.insert(key.clone(), json!({"value": fit_value(key, &value)}));
    }
    let page = settings.page.replace(
        "{id}",
        &row.ticket_id.map(|id| id.to_string()).unwrap_or_default(),
    );
    let body = json!({
        "touser": openid,
        "template_id": template.template_id,
        "page": page,
        "data": data,
        "miniprogram_state": settings.miniprogram_state,
        "lang": settings.lang,
    });
    Ok((template.template_id.clone(), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_cut_to_wechat_field_limits() {
        assert_eq!(fit_value("thing2", &"长".repeat(30)).chars().count(), 20);
        assert_eq!(fit_value("phrase3", "处理中已经完成了"), "处理中已经");
        assert_eq!(fit_value("character_string1", &"9".repeat(40)).len(), 32);
        assert_eq!(
            fit_value("time4", "2026-11-22T02:05:00+00:00"),
            "2026-11-22 10:05"
        );
    }
}
