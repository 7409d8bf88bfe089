//! What reading residents' texts needs kept: how telling each word is in an area's tickets (for
//! duplicates), and the category model (for suggestions and doubts), trained from the
//! deployment's closed tickets and kept in the database so every node serves the newest one.
use std::{
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{Ctx, ServiceError, ServiceResult};
use crate::domain::{
    TicketKind,
    category_model::{CategoryModel, Scored},
    lifecycle::Status,
    terms::{Weights, features},
};
use entity::{category_model, ticket};

/// An area's word weights are read again after this long.
const WEIGHTS_FOR: Duration = Duration::from_secs(600);
/// The newest tickets of an area its word weights come from.
const WEIGHTS_FROM: u64 = 300;
/// How often a node asks the database whether a newer model was trained.
const MODEL_CHECK: Duration = Duration::from_secs(60);
/// The most recent closed tickets a model learns from.
const TRAIN_FROM: u64 = 20_000;
/// Suggestions less likely than this are not shown.
const MIN_SHOWN: f64 = 0.01;
/// Models kept (the newest serves; older ones show the history).
const MODELS_KEPT: usize = 3;

/// Complaints written for the demo categories (tests/data), learnt alongside the deployment's
/// own tickets for the categories whose codes they share, so a new deployment suggests from
/// its first day.
const SEED: &str = include_str!("../../../tests/data/category_texts.jsonl");

struct Loaded {
    id: Uuid,
    checked: Instant,
    model: Arc<CategoryModel>,
}

/// Kept per node; always as the database says within a minute.
pub struct TextModels {
    weights: quick_cache::sync::Cache<Uuid, (Instant, Arc<Weights>)>,
    model: RwLock<Option<Loaded>>,
    training: tokio::sync::Mutex<()>,
}

impl Default for TextModels {
    fn default() -> Self {
        TextModels {
            weights: quick_cache::sync::Cache::new(256),
            model: RwLock::new(None),
            training: tokio::sync::Mutex::new(()),
        }
    }
}

/// A training run's result.
#[derive(Clone, Debug)]
pub struct Trained {
    pub id: Uuid,
    pub trained_at: DateTime<Utc>,
    pub texts: u64,
    pub tickets: u64,
    pub categories: usize,
}

impl From<&category_model::Model> for Trained {
    fn from(m: &category_model::Model) -> Self {
        Trained {
            id: m.id,
            trained_at: m.trained_at,
            texts: u64::try_from(m.texts).unwrap_or(0),
            tickets: u64::try_from(m.tickets).unwrap_or(0),
            categories: usize::try_from(m.categories).unwrap_or(0),
        }
    }
}

/// What a ticket says: its title (if any) and description, as the models read it.
pub(crate) fn text_of(title: Option<String>, description: String) -> String {
    match title {
        Some(t) if !t.is_empty() => format!("{t} {description}"),
        _ => description,
    }
}

/// How telling each word is in the newest tickets of `place` (a grid, or the area a ticket
/// without a grid is handled at).
pub async fn area_weights(ctx: &Ctx<'_>, place: Uuid) -> ServiceResult<Arc<Weights>> {
    if let Some((at, w)) = ctx.texts.weights.get(&place)
        && at.elapsed() < WEIGHTS_FOR
    {
        return Ok(w);
    }
    let rows: Vec<(Option<String>, String)> = ticket::Entity::find()
        .select_only()
        .columns([ticket::Column::Title, ticket::Column::Description])
        .filter(
            sea_orm::Condition::any()
                .add(ticket::Column::GridId.eq(place))
                .add(ticket::Column::HandlingAreaId.eq(place)),
        )
        .order_by_desc(ticket::Column::SubmittedAt)
        .limit(WEIGHTS_FROM)
        .into_tuple()
        .all(ctx.db)
        .await?;
    let split: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(t, d)| features(&text_of(t, d)))
        .collect();
    let w = Arc::new(Weights::from_texts(split.iter().map(Vec::as_slice)));
    ctx.texts.weights.insert(place, (Instant::now(), w.clone()));
    Ok(w)
}

/// The newest model, trained now when there is none yet.
pub async fn model(ctx: &Ctx<'_>) -> ServiceResult<Arc<CategoryModel>> {
    if let Some(m) = served(ctx).await? {
        return Ok(m);
    }
    {
        // Callers that arrive together before the first model wait for one training.
        let _one = ctx.texts.training.lock().await;
        if let Some(m) = served(ctx).await? {
            return Ok(m);
        }
        trained(ctx).await?;
    }
    served(ctx)
        .await?
        .ok_or_else(|| ServiceError::Internal("no category model after training".into()))
}

/// The newest model, if one was trained.
async fn served(ctx: &Ctx<'_>) -> ServiceResult<Option<Arc<CategoryModel>>> {
    if let Ok(guard) = ctx.texts.model.read()
        && let Some(l) = guard.as_ref()
        && l.checked.elapsed() < MODEL_CHECK
    {
        return Ok(Some(l.model.clone()));
    }
    let newest: Option<Uuid> = category_model::Entity::find()
        .select_only()
        .column(category_model::Column::Id)
        .order_by_desc(category_model::Column::TrainedAt)
        .limit(1)
        .into_tuple()
        .one(ctx.db)
        .await?;
    let Some(newest) = newest else {
        return Ok(None);
    };
    if let Ok(mut guard) = ctx.texts.model.write()
        && let Some(l) = guard.as_mut()
        && l.id == newest
    {
        l.checked = Instant::now();
        return Ok(Some(l.model.clone()));
    }
    let row = category_model::Entity::find_by_id(newest)
        .one(ctx.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let model: Arc<CategoryModel> =
        Arc::new(serde_json::from_str(&row.model).map_err(|e| {
            ServiceError::Internal(format!("category model {newest} unreadable: {e}"))
        })?);
    if let Ok(mut guard) = ctx.texts.model.write() {
        *guard = Some(Loaded {
            id: newest,
            checked: Instant::now(),
            model: model.clone(),
        });
    }
    Ok(Some(model))
}

/// The newest model's training, if any.
pub async fn newest(ctx: &Ctx<'_>) -> ServiceResult<Option<Trained>> {
    Ok(category_model::Entity::find()
        .order_by_desc(category_model::Column::TrainedAt)
        .one(ctx.db)
        .await?
        .as_ref()
        .map(Trained::from))
}

/// Trains a model from the most recent closed tickets (their final category, after any
/// correction) and the seed texts of the categories the deployment has, and keeps it.
pub async fn train(ctx: &Ctx<'_>) -> ServiceResult<Trained> {
    let _one = ctx.texts.training.lock().await;
    trained(ctx).await
}

/// [`train`] with the node's training lock held.
async fn trained(ctx: &Ctx<'_>) -> ServiceResult<Trained> {
    let dir = ctx.dir().await?;
    let rows: Vec<(Uuid, Option<String>, String)> = ticket::Entity::find()
        .select_only()
        .columns([
            ticket::Column::CategoryId,
            ticket::Column::Title,
            ticket::Column::Description,
        ])
        .filter(super::ticket_status_in(&[Status::Resolved, Status::Closed]))
        .filter(ticket::Column::Kind.ne(TicketKind::Praise))
        .order_by_desc(ticket::Column::SubmittedAt)
        .limit(TRAIN_FROM)
        .into_tuple()
        .all(ctx.db)
        .await?;
    let mut examples: Vec<(String, String)> = rows
        .into_iter()
        .filter_map(|(c, t, d)| Some((text_of(t, d), dir.category(c)?.code.clone())))
        .collect();
    let tickets = examples.len() as u64;
    #[derive(serde::Deserialize)]
    struct Seed {
        text: String,
        category: String,
    }
    examples.extend(
        SEED.lines()
            .filter_map(|l| serde_json::from_str::<Seed>(l).ok())
            .filter(|s| dir.category_by_code(&s.category).is_some())
            .map(|s| (s.text, s.category)),
    );
    let (model, json) = tokio::task::spawn_blocking(move || {
        let model = CategoryModel::train(examples.iter().map(|(t, c)| (t.as_str(), c.as_str())));
        let json = serde_json::to_string(&model);
        (model, json)
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("training: {e}")))?;
    let json = json.map_err(|e| ServiceError::Internal(format!("model: {e}")))?;
    let row = category_model::ActiveModel {
        id: Set(Uuid::new_v4()),
        trained_at: Set(ctx.now()),
        texts: Set(i64::try_from(model.texts()).unwrap_or(i64::MAX)),
        tickets: Set(i64::try_from(tickets).unwrap_or(i64::MAX)),
        categories: Set(i32::try_from(model.categories()).unwrap_or(i32::MAX)),
        model: Set(json),
    }
    .insert(ctx.db)
    .await?;
    // A handful of rows: the newest kept, the rest (at most a few) deleted.
    let ids: Vec<Uuid> = category_model::Entity::find()
        .select_only()
        .column(category_model::Column::Id)
        .order_by_desc(category_model::Column::TrainedAt)
        .into_tuple()
        .all(ctx.db)
        .await?;
    let older: Vec<Uuid> = ids.into_iter().skip(MODELS_KEPT).collect();
    if !older.is_empty() {
        category_model::Entity::delete_many()
            .filter(category_model::Column::Id.is_in(older))
            .exec(ctx.db)
            .await?;
    }
    if let Ok(mut guard) = ctx.texts.model.write() {
        *guard = Some(Loaded {
            id: row.id,
            checked: Instant::now(),
            model: Arc::new(model),
        });
    }
    Ok(Trained::from(&row))
}

/// Whether the nightly training is due: no model yet, or none since the last 03:00 Beijing.
pub async fn training_due(ctx: &Ctx<'_>) -> ServiceResult<bool> {
    let now = ctx.now();
    let beijing = now.with_timezone(&crate::domain::calendar::beijing());
    let three = beijing
        .date_naive()
        .and_hms_opt(3, 0, 0)
        .and_then(|t| {
            t.and_local_timezone(crate::domain::calendar::beijing())
                .single()
        })
        .map(|t| t.with_timezone(&Utc));
    let Some(mut boundary) = three else {
        return Ok(false);
    };
    if boundary > now {
        boundary -= chrono::Duration::days(1);
    }
    Ok(newest(ctx).await?.is_none_or(|m| m.trained_at < boundary))
}

/// The categories a text suggests among those residents may choose, most likely first, at
/// most three and each at least 1 % likely; near `point`, the categories of tickets told around it weigh a little more.
pub async fn suggest(
    ctx: &Ctx<'_>,
    text: &str,
    point: Option<(f64, f64)>,
) -> ServiceResult<Vec<Scored>> {
    let model = model(ctx).await?;
    let dir = ctx.dir().await?;
    let listed: std::collections::HashSet<String> = dir
        .categories_listed()
        .into_iter()
        .map(|c| c.code.clone())
        .collect();
    let mut scored = model.score(text, Some(&listed));
    if let Some(p) = point {
        let near = nearby_categories(ctx, p).await?;
        let total: f64 = near.values().sum::<f64>().max(1.0);
        for s in &mut scored {
            // At most half as likely again where the neighbours told of it.
            s.score *= 1.0 + 0.5 * near.get(&s.category).copied().unwrap_or(0.0) / total;
        }
        let sum: f64 = scored.iter().map(|s| s.score).sum();
        if sum > 0.0 {
            scored.iter_mut().for_each(|s| s.score /= sum);
        }
        scored.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.category.cmp(&b.category))
        });
    }
    // Naive Bayes is sure of itself: the rest often scores nothing worth showing.
    scored.retain(|s| s.score >= MIN_SHOWN);
    scored.truncate(3);
    Ok(scored)
}

/// The categories of the public tickets told within 200 m over the last 90 days, counted.
async fn nearby_categories(
    ctx: &Ctx<'_>,
    (lat, lng): (f64, f64),
) -> ServiceResult<std::collections::HashMap<String, f64>> {
    const METERS: f64 = 200.0;
    let dlat = METERS / 111_320.0;
    let dlng = METERS / (111_320.0 * lat.to_radians().cos().max(0.01));
    let rows: Vec<Uuid> = ticket::Entity::find()
        .select_only()
        .column(ticket::Column::CategoryId)
        .filter(ticket::Column::SubmittedAt.gte(ctx.now() - chrono::Duration::days(90)))
        // What residents may know of: public tickets, not withdrawn or rejected ones.
        .filter(ticket::Column::Public.eq(true))
        .filter(
            ticket::Column::Status
                .is_not_in([Status::Withdrawn.as_str(), Status::Rejected.as_str()]),
        )
        .filter(ticket::Column::Lat.between(lat - dlat, lat + dlat))
        .filter(ticket::Column::Lng.between(lng - dlng, lng + dlng))
        .order_by_desc(ticket::Column::SubmittedAt)
        .limit(200)
        .into_tuple()
        .all(ctx.db)
        .await?;
    let dir = ctx.dir().await?;
    let mut out = std::collections::HashMap::new();
    for c in rows {
        if let Some(cat) = dir.category(c) {
            *out.entry(cat.code.clone()).or_default() += 1.0;
        }
    }
    Ok(out)
}

/// Staff reading a ticket: the suggestions, when the model doubts its category (another is
/// at least 70 % likely and its own below 30 %). Nothing before a model was trained.
pub async fn doubt(ctx: &Ctx<'_>, t: &ticket::Model) -> ServiceResult<Option<Vec<Scored>>> {
    let dir = ctx.dir().await?;
    let Some(code) = dir.category(t.category_id).map(|c| c.code.clone()) else {
        return Ok(None);
    };
    let Some(model) = served(ctx).await? else {
        return Ok(None);
    };
    let text = text_of(t.title.clone(), t.description.clone());
    Ok(model.doubts(&text, &code, 0.7).map(|mut s| {
        s.retain(|x| x.score >= MIN_SHOWN);
        s.truncate(3);
        s
    }))
}
