//! The background scheduler: every `scheduler.interval_seconds` it scans for overdue work
//! (`services::sla::scan`), anonymises accounts closed past their grace period and clears
//! tickets past retention (`services::privacy`). Any number of nodes run it; a lease lets one scan at a time (Redis
//! `SET NX PX` when Redis is configured, a row in the `lease` table otherwise), and every action is
//! also guarded by the ticket's version, so nothing happens twice even if leases overlap.
use std::time::Duration;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    services::{ServiceResult, privacy, sla, tickets},
    state::SharedState,
};

const LEASE: &str = "scheduler";

pub struct Scheduler {
    state: SharedState,
    node: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Another node holds the lease.
    Skipped,
    Ran(sla::ScanReport),
}

impl Scheduler {
    pub fn new(state: SharedState) -> Self {
        Scheduler {
            state,
            node: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// One scan, if this node gets the lease.
    pub async fn tick(&self) -> ServiceResult<Tick> {
        if !self.lease().await? {
            return Ok(Tick::Skipped);
        }
        let settings = &self.state.settings;
        let ctx = self.state.ctx();
        let now = ctx.now();
        let batch = settings.scheduler.batch_size;
        let mut report = sla::scan(&ctx, now, settings.sla.auto_close_days, batch).await?;
        report.supervision_missed = tickets::supervision::escalate_missed(&ctx, now, batch).await?;
        report.resumed = tickets::extensions::resume_due(&ctx, now, batch).await?;
        report.anonymised = privacy::account::anonymise_due(&ctx, now, batch).await?;
        report.personal_data_removed = privacy::retention::clear_due(&ctx, now, batch).await?;
        if crate::services::text_models::training_due(&ctx).await? {
            crate::services::text_models::train(&ctx).await?;
            report.models_trained = 1;
        }
        Ok(Tick::Ran(report))
    }

    async fn lease(&self) -> ServiceResult<bool> {
        let ttl = Duration::from_secs(self.state.settings.scheduler.lease_seconds);
        let cache = &self.state.cache;
        if cache.kind() == "redis" {
            let key = format!("lease:{LEASE}");
            match cache.set_nx(&key, &self.node, ttl).await {
                Ok(true) => return Ok(true),
                Ok(false) => {
                    // Ours from the last tick: keep it.
                    if cache.get(&key).await.ok().flatten().as_deref() == Some(self.node.as_str()) {
                        let _ = cache.set(&key, &self.node, ttl).await;
                        return Ok(true);
                    }
                    return Ok(false);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "scheduler lease: Redis unavailable, using the database")
                }
            }
        }
        self.database_lease(ttl).await
    }

    /// Takes or renews the lease row when it is free, expired or already ours.
    async fn database_lease(&self, ttl: Duration) -> ServiceResult<bool> {
        use entity::lease;
        let now = self.state.clock.now();
        let until = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(50));
        let db = &self.state.db;
        let taken = lease::Entity::update_many()
            .col_expr(lease::Column::Holder, Expr::value(self.node.clone()))
            .col_expr(lease::Column::ExpiresAt, Expr::value(until))
            .filter(lease::Column::Name.eq(LEASE))
            .filter(
                lease::Column::Holder
                    .eq(self.node.as_str())
                    .or(lease::Column::ExpiresAt.lt(now)),
            )
            .exec(db)
            .await?;
        if taken.rows_affected == 1 {
            return Ok(true);
        }
        if lease::Entity::find_by_id(LEASE).one(db).await?.is_some() {
            return Ok(false);
        }
        let created = lease::ActiveModel {
            name: Set(LEASE.into()),
            holder: Set(self.node.clone()),
            expires_at: Set(until),
        }
        .insert(db)
        .await;
        // A concurrent first insert by another node loses on the primary key.
        Ok(created.is_ok())
    }

    /// Runs until the process ends.
    pub fn spawn(state: SharedState) -> Option<tokio::task::JoinHandle<()>> {
        if !state.settings.scheduler.enabled {
            return None;
        }
        let every = Duration::from_secs(Ord::max(state.settings.scheduler.interval_seconds, 1));
        let scheduler = Scheduler::new(state);
        Some(tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                match scheduler.tick().await {
                    Ok(Tick::Ran(report)) if report != sla::ScanReport::default() => {
                        tracing::info!(?report, "scheduler scan");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "scheduler scan failed; will retry"),
                }
            }
        }))
    }
}

/// The outbox sender loop: every `notifications.interval_seconds`, on every node (claims keep
/// messages from being sent twice). When `stopping` turns true the loop finishes the message in
/// hand, marks it, and ends; the caller awaits it before the process exits.
pub fn spawn_sender(
    state: SharedState,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    if !state.settings.notifications.enabled {
        return None;
    }
    let every = Duration::from_secs(Ord::max(state.settings.notifications.interval_seconds, 1));
    Some(tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let gone = tokio::select! {
                _ = interval.tick() => false,
                changed = stopping.changed() => changed.is_err(),
            };
            if gone || *stopping.borrow() {
                return;
            }
            let ctx = state.ctx();
            let stop = || *stopping.borrow();
            match crate::services::outbox::drain(&ctx, &stop).await {
                Ok(report) if report != crate::services::outbox::DrainReport::default() => {
                    tracing::info!(?report, "outbox drained");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "outbox drain failed; will retry"),
            }
        }
    }))
}
