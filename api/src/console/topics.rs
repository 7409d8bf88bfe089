//! 每月一题 on the console: the topics an office sees (`/console/topics`), one topic with its
//! tickets, notes and satisfaction, and the forms that make a topic from a hot spot on the map,
//! add a progress note and close it — through the same services as the API.
use std::collections::HashMap;

use maud::{Markup, html};
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Form, Path},
};
use uuid::Uuid;

use super::{field, page, pages, posted, redirect, session_of, words};
use crate::services::{
    Caller,
    topics::{self, NewTopic, Source, TopicView},
};
use entity::enums::TopicStatus;

fn satisfaction(v: &TopicView) -> String {
    let s = v.satisfaction;
    match s.mean {
        Some(m) => format!("{:.0}%（{} 人评价）", m * 100.0, s.rated),
        None => "尚无评价".into(),
    }
}

fn status_word(s: TopicStatus) -> &'static str {
    match s {
        TopicStatus::Open => "办理中",
        TopicStatus::Closed => "已结束",
    }
}

/// The topics the signed-in person sees, newest first.
#[handler]
pub async fn list(req: &Request) -> Response {
    let (state, me) = match session_of(req).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let ctx = state.ctx();
    let rows = topics::list(&ctx, &Caller::Staff(me.scope.clone()), None)
        .await
        .unwrap_or_default();
    let body = html! {
        h1 { "每月一题" }
        p.hint { "在「地图」的热点列表中把热点设为每月一题；结束时其未办结的工单一并办结，并请居民评价。" }
        @if rows.is_empty() {
            p.empty { "还没有每月一题" }
        } @else {
            table {
                thead { tr { th { "题目" } th { "责任区域" } th { "类别" } th { "期限" } th { "状态" } th { "工单" } th { "满意度" } } }
                tbody {
                    @for v in &rows {
                        tr {
                            td { a href={ "/console/topics/" (v.topic.id) } { (v.topic.title) } }
                            td { (v.owner_name) }
                            td { (v.category.as_ref().map_or("—", |c| c.1.as_str())) }
                            td { (pages::local_dated(v.topic.due_at)) }
                            td { (status_word(v.topic.status)) }
                            td { (v.tickets.iter().filter(|t| t.status.is_open()).count()) " 在办 / " (v.tickets.len()) }
                            td { (satisfaction(v)) }
                        }
                    }
                }
            }
        }
    };
    page(
        StatusCode::OK,
        pages::layout("每月一题", Some(&me.chrome()), body),
    )
}

/// One topic, with its forms for those who run it.
#[handler]
pub async fn show(req: &Request, Path(id): Path<Uuid>) -> Response {
    let (state, me) = match session_of(req).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let ctx = state.ctx();
    let v = match topics::read(&ctx, &Caller::Staff(me.scope.clone()), id).await {
        Ok(v) => v,
        Err(e) => {
            return page(
                StatusCode::NOT_FOUND,
                pages::problem(Some(&me.chrome()), &words(e)),
            );
        }
    };
    let chrome = me.chrome();
    let open = v.topic.status == TopicStatus::Open;
    let body = html! {
        h1 { "每月一题 · " (v.topic.title) }
        p { (v.topic.description) }
        dl.facts {
            dt { "责任区域" } dd { (v.owner_name) }
            dt { "期限" } dd { (pages::local_dated(v.topic.due_at)) }
            dt { "状态" } dd { (status_word(v.topic.status)) }
            dt { "满意度" } dd { (satisfaction(&v)) }
            @if let Some(note) = &v.topic.closing_note { dt { "结束说明" } dd { (note) } }
        }
        h2 { "工单（" (v.tickets.len()) "）" }
        ul {
            @for t in &v.tickets {
                li { a href={ "/console/tickets/" (t.id) } { (t.number) } " " (pages::status_name(t.status)) }
            }
        }
        h2 { "进展" }
        @if v.updates.is_empty() { p.empty { "尚无进展" } }
        ul {
            @for u in &v.updates { li { (pages::local_dated(u.created_at)) "：" (u.note) } }
        }
        @if open && chrome.admin {
            form.card method="post" action={ "/console/topics/" (id) "/updates" } {
                input type="hidden" name="csrf" value=(chrome.csrf);
                label { "进展（发送给每位相关居民）" textarea name="note" required maxlength="2000" {} }
                button type="submit" { "发布进展" }
            }
            form.card method="post" action={ "/console/topics/" (id) "/close" } {
                input type="hidden" name="csrf" value=(chrome.csrf);
                label { "结束说明（作为办结意见）" textarea name="note" required maxlength="2000" {} }
                button.danger type="submit" { "结束并办结全部工单" }
            }
        }
    };
    page(
        StatusCode::OK,
        pages::layout("每月一题", Some(&chrome), body),
    )
}

/// 设为每月一题: makes a topic of a hot spot the map showed.
#[handler]
pub async fn create(req: &Request, Form(form): Form<HashMap<String, String>>) -> Response {
    let (state, me) = match posted(req, &form).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let ctx = state.ctx();
    let made = async {
        let owner = form
            .get("owner_area_id")
            .and_then(|a| Uuid::parse_str(a).ok())
            .ok_or(crate::services::ServiceError::NotFound)?;
        let new = NewTopic {
            title: field(&form, "title", 100)?,
            description: field(&form, "description", 2000)?,
            source: Source::Hotspot(form.get("hotspot").cloned().unwrap_or_default()),
            owner_area_id: owner,
            due: topics::due(form.get("due").map(String::as_str).unwrap_or_default())?,
        };
        topics::create(&ctx, &me.scope, new).await
    }
    .await;
    match made {
        Ok(v) => redirect(&format!("/console/topics/{}", v.topic.id)),
        Err(e) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::problem(Some(&me.chrome()), &words(e)),
        ),
    }
}

/// 发布进展 and 结束: a note, or the closing note.
#[handler]
pub async fn act(
    req: &Request,
    Path((id, action)): Path<(Uuid, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (state, me) = match posted(req, &form).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let ctx = state.ctx();
    let done = async {
        let note = field(&form, "note", 2000)?;
        match action.as_str() {
            "updates" => topics::add_update(&ctx, &me.scope, id, note).await,
            "close" => topics::close(&ctx, &me.scope, id, note).await,
            _ => Err(crate::services::ServiceError::NotFound),
        }
    }
    .await;
    match done {
        Ok(_) => redirect(&format!("/console/topics/{id}")),
        Err(e) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::problem(Some(&me.chrome()), &words(e)),
        ),
    }
}

/// The map's hot spot list, each with 设为每月一题 for administrators over the area shown.
pub fn hotspot_list(
    chrome: &pages::Chrome,
    area: Uuid,
    spots: &[(String, String, String)],
    due: &str,
) -> Markup {
    html! {
        @if spots.is_empty() {
            p.empty { "本期没有热点" }
        } @else {
            ul.legend.hotspots {
                @for (id, label, title) in spots {
                    li {
                        (label)
                        @if chrome.admin {
                            form.inline method="post" action="/console/topics" {
                                input type="hidden" name="csrf" value=(chrome.csrf);
                                input type="hidden" name="hotspot" value=(id);
                                input type="hidden" name="owner_area_id" value=(area);
                                input type="hidden" name="description" value=(label);
                                input name="title" value=(title) maxlength="100" aria-label="题目";
                                input type="date" name="due" value=(due) aria-label="期限";
                                button type="submit" { "设为每月一题" }
                            }
                        }
                    }
                }
            }
        }
    }
}
