//! 管理 › 区域: the area tree level by level, new areas, deletion, and GeoJSON imports previewed
//! (read, checked and drawn) before they are saved. System administrators only, through the
//! same services as `/api/v1/admin/areas`.
use poem::{
    Request, Response, handler,
    http::StatusCode,
    web::{Path, Query},
};
use uuid::Uuid;

use super::{
    Signed,
    admin::{AdminQuery, admin_form, admin_of, after, text, uuid},
    admin_pages as view, page,
};
use crate::{
    domain::AreaKind,
    error::Code,
    services::{self, ServiceError, areas::NewArea},
};

/// How long an import waits between its preview and its confirmation.
const IMPORT_WAIT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

fn import_key(me: &Signed) -> String {
    format!("console:import:{}", me.session.id)
}

#[handler]
pub async fn areas(req: &Request, Query(q): Query<AdminQuery>) -> Response {
    let (state, me) = match admin_of(req).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let ctx = state.ctx();
    let listed = async {
        let dir = ctx.dir().await?;
        if let Some(p) = q.parent {
            dir.tree.get(p).ok_or(ServiceError::NotFound)?;
        }
        let children = services::areas::list(&state.db, q.parent).await?;
        let trail: Vec<(Uuid, String)> = q
            .parent
            .map(|p| {
                let mut up: Vec<_> = dir
                    .tree
                    .ancestors_inclusive(p)
                    .map(|n| (n.id, n.name.clone()))
                    .collect();
                up.reverse();
                up
            })
            .unwrap_or_default();
        let kind = q.parent.and_then(|p| dir.tree.get(p)).map(|n| n.kind);
        Ok::<_, ServiceError>((children, trail, kind))
    }
    .await;
    match listed {
        Ok((children, trail, kind)) => page(
            StatusCode::OK,
            view::areas(&view::AreasPage {
                chrome: &me.chrome(),
                parent: q.parent,
                parent_kind: kind,
                trail: &trail,
                children: &children,
                notice: q.notice.as_deref(),
            }),
        ),
        Err(e) => after(&me, Err(e), "/console/admin/areas"),
    }
}

#[handler]
pub async fn create_area(req: &Request, body: poem::Body) -> Response {
    let (state, me, form, _) = match admin_form(req, body).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let parent_id = uuid(&form, "parent_id");
    let back = match parent_id {
        Some(p) => format!("/console/admin/areas?parent={p}"),
        None => "/console/admin/areas".into(),
    };
    let done = async {
        let kind = form
            .get("kind")
            .and_then(|k| AreaKind::parse(k))
            .ok_or_else(|| ServiceError::rejected(Code::InvalidField, "kind", "请选择区域类型"))?;
        let boundary = match form
            .get("boundary")
            .map(|b| b.trim())
            .filter(|b| !b.is_empty())
        {
            Some(b) => Some(serde_json::from_str(b).map_err(|_| {
                ServiceError::rejected(Code::InvalidBoundary, "boundary", "边界须为 GeoJSON")
            })?),
            None => None,
        };
        let new = NewArea {
            kind,
            name: text(&form, "name", 100)?,
            parent_id,
            code: super::optional(&form, "code", 64)?,
            boundary,
        };
        services::areas::create(&state.db, new, state.clock.now()).await?;
        Ok("已新建")
    }
    .await;
    after(&me, done, &back)
}

#[handler]
pub async fn delete_area(req: &Request, Path(id): Path<Uuid>, body: poem::Body) -> Response {
    let (state, me, form, _) = match admin_form(req, body).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let back = match uuid(&form, "parent_id") {
        Some(p) => format!("/console/admin/areas?parent={p}"),
        None => "/console/admin/areas".into(),
    };
    let done = services::areas::delete(&state.db, id)
        .await
        .map(|()| "已删除");
    after(&me, done, &back)
}

/// The first step of an import: the file read and checked, its shapes drawn, nothing saved.
/// The file waits in the shared cache for the confirmation (one per session).
#[handler]
pub async fn preview_import(req: &Request, body: poem::Body) -> Response {
    let (state, me, _, file) = match admin_form(req, body).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let back = "/console/admin/areas";
    let read = async {
        let bytes = file.ok_or_else(|| {
            ServiceError::rejected(Code::InvalidBody, "file", "请选择 GeoJSON 文件")
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            ServiceError::rejected(Code::InvalidBody, "file", "文件须为 UTF-8 编码的 GeoJSON")
        })?;
        // Checking shapes takes CPU time: off the request threads.
        let (text, features) = tokio::task::spawn_blocking(move || {
            let features = services::areas::read_import(&text);
            (text, features)
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let features = features?;
        let codes = features.iter().map(|f| f.code.clone()).collect();
        let existing = services::areas::existing_codes(&state.db, codes).await?;
        state
            .cache
            .set(&import_key(&me), &text, IMPORT_WAIT)
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok::<_, ServiceError>((features, existing))
    }
    .await;
    match read {
        Ok((features, existing)) => page(
            StatusCode::OK,
            view::import_preview(&me.chrome(), &features, &existing),
        ),
        Err(e) => {
            // A refused file leaves no earlier preview waiting to be confirmed.
            let _ = state.cache.del(&import_key(&me)).await;
            after(&me, Err(e), back)
        }
    }
}

/// The second step: the previewed file imported, in one transaction.
#[handler]
pub async fn confirm_import(req: &Request, body: poem::Body) -> Response {
    let (state, me, _, _) = match admin_form(req, body).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let key = import_key(&me);
    let Ok(Some(text)) = state.cache.get(&key).await else {
        return after(
            &me,
            Err(ServiceError::rejected(
                Code::InvalidBody,
                "file",
                "预览已过期，请重新选择文件",
            )),
            "/console/admin/areas",
        );
    };
    match services::areas::import_feature_collection(&state.db, &text, state.clock.now()).await {
        Ok((created, updated)) => {
            let _ = state.cache.del(&key).await;
            let notice = format!("导入完成：新建 {created}，更新 {updated}");
            after(&me, Ok(&notice), "/console/admin/areas")
        }
        Err(e) => after(&me, Err(e), "/console/admin/areas"),
    }
}
