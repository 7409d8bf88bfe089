//! Timelines kept in memory: a ticket's events, ratings and photos, keyed by the ticket's
//! version.
//!
//! Every change to a timeline (an event, a rating, a photo attached) is written in the same
//! transaction as the ticket row with its version raised (`tickets::save`), so a timeline
//! cached under the version just read from the ticket row is that version's timeline or a
//! newer one, never an older one, on this node and on every other node: no invalidation is
//! needed and nothing is shared between nodes. A ticket read shows the ticket row as stored
//! and costs one query when its timeline is cached, four when it is not.
use std::sync::Arc;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::{ServiceResult, attachments};
use entity::{attachment, rating, ticket, ticket_event};

/// What a ticket's page shows beside the ticket row.
pub struct Timeline {
    /// Every event, staff-only ones included (filtered for the viewer when shown).
    pub events: Vec<ticket_event::Model>,
    pub ratings: Vec<rating::Model>,
    pub attachments: Vec<attachment::Model>,
}

/// The timelines last read, a bounded number of them (`database.timeline_cache_entries`; 0
/// turns the cache off).
pub struct TimelineCache {
    entries: Option<quick_cache::sync::Cache<Uuid, (i32, Arc<Timeline>)>>,
}

impl TimelineCache {
    pub fn new(capacity: usize) -> Self {
        TimelineCache {
            entries: (capacity > 0).then(|| quick_cache::sync::Cache::new(capacity)),
        }
    }

    /// The timeline of `t` as of its version, from memory or read from `db`.
    pub async fn get(
        &self,
        db: &impl ConnectionTrait,
        t: &ticket::Model,
    ) -> ServiceResult<Arc<Timeline>> {
        if let Some(entries) = &self.entries
            && let Some((version, timeline)) = entries.get(&t.id)
            && version >= t.version
        {
            return Ok(timeline);
        }
        let timeline = Arc::new(read(db, t.id).await?);
        if let Some(entries) = &self.entries {
            // A slower reader of an older version must not replace a newer entry.
            let newer = entries.get(&t.id).is_some_and(|(v, _)| v > t.version);
            if !newer {
                entries.insert(t.id, (t.version, timeline.clone()));
            }
        }
        Ok(timeline)
    }
}

async fn read(db: &impl ConnectionTrait, ticket_id: Uuid) -> ServiceResult<Timeline> {
    let events = ticket_event::Entity::find()
        .filter(ticket_event::Column::TicketId.eq(ticket_id))
        .order_by_asc(ticket_event::Column::Seq)
        .all(db)
        .await?;
    let ratings = rating::Entity::find()
        .filter(rating::Column::TicketId.eq(ticket_id))
        .order_by_asc(rating::Column::Round)
        .all(db)
        .await?;
    let attachments = attachments::for_ticket(db, ticket_id).await?;
    Ok(Timeline {
        events,
        ratings,
        attachments,
    })
}
