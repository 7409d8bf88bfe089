//! Bodies of the 每月一题 topic endpoints.
use poem_openapi::Object;
use uuid::Uuid;

use crate::{
    schemas::{Time, tickets::Ref},
    services::topics::TopicView,
};
use entity::enums::{Status, TopicStatus};

#[derive(Object)]
pub struct TopicCreate {
    /// At most 100 characters.
    pub title: String,
    /// What the office means to do; at most 2000 characters.
    pub description: String,
    /// Hand-picked tickets (1–1000), each within the owner area; or `hotspot`, not both.
    pub ticket_ids: Option<Vec<Uuid>>,
    /// A hot spot's `id` from `GET /stats/hotspots`: its tickets, and new ones of its category
    /// told near its outline while the topic is open.
    pub hotspot: Option<String>,
    /// The community or street that answers for it: one the caller administers.
    pub owner_area_id: Uuid,
    /// When it is due: a date (the whole Beijing day) or an RFC 3339 instant, within a year.
    pub due: String,
}

#[derive(Object)]
pub struct TopicNote {
    /// At most 2000 characters.
    pub note: String,
}

#[derive(Object)]
pub struct TopicTicket {
    pub id: Uuid,
    pub number: String,
    pub status: Status,
}

#[derive(Object)]
pub struct TopicUpdateBody {
    pub id: Uuid,
    pub note: String,
    pub at: Time,
}

/// The residents' ratings of the topic's tickets (each ticket's latest).
#[derive(Object)]
pub struct TopicSatisfaction {
    pub rated: u64,
    pub satisfied: u64,
    pub basically_satisfied: u64,
    pub unsatisfied: u64,
    /// The mean of the ratings: satisfied 1, basically satisfied
    /// `stats.basically_satisfied_weight`, unsatisfied 0; null before any rating.
    #[oai(nullable)]
    pub mean: Option<f64>,
}

#[derive(Object)]
pub struct CategoryCode {
    pub code: String,
    pub name: String,
}

#[derive(Object)]
pub struct Topic {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    /// open or closed.
    pub status: TopicStatus,
    /// The category of its tickets when they share one.
    #[oai(nullable)]
    pub category: Option<CategoryCode>,
    pub owner_area: Ref,
    pub due_at: Time,
    /// The hot spot it was made from.
    #[oai(nullable)]
    pub hotspot: Option<String>,
    /// Its tickets: every one for staff; a resident reads their own.
    pub ticket_count: u64,
    pub open_count: u64,
    pub tickets: Vec<TopicTicket>,
    pub updates: Vec<TopicUpdateBody>,
    pub satisfaction: TopicSatisfaction,
    pub created_at: Time,
    #[oai(nullable)]
    pub closed_at: Option<Time>,
    #[oai(nullable)]
    pub closing_note: Option<String>,
}

impl From<TopicView> for Topic {
    fn from(v: TopicView) -> Self {
        let t = v.topic;
        let s = v.satisfaction;
        Topic {
            id: t.id,
            title: t.title,
            description: t.description,
            status: t.status,
            category: v.category.map(|(code, name)| CategoryCode { code, name }),
            owner_area: Ref {
                id: t.owner_area_id,
                name: v.owner_name,
            },
            due_at: t.due_at.into(),
            hotspot: t.hotspot,
            ticket_count: v.tickets.len() as u64,
            open_count: v.tickets.iter().filter(|x| x.status.is_open()).count() as u64,
            tickets: v
                .tickets
                .into_iter()
                .map(|x| TopicTicket {
                    id: x.id,
                    number: x.number,
                    status: x.status,
                })
                .collect(),
            updates: v
                .updates
                .into_iter()
                .map(|u| TopicUpdateBody {
                    id: u.id,
                    note: u.note,
                    at: u.created_at.into(),
                })
                .collect(),
            satisfaction: TopicSatisfaction {
                rated: s.rated,
                satisfied: s.satisfied,
                basically_satisfied: s.basically_satisfied,
                unsatisfied: s.unsatisfied,
                mean: s.mean,
            },
            created_at: t.created_at.into(),
            closed_at: t.closed_at.map(Into::into),
            closing_note: t.closing_note,
        }
    }
}
